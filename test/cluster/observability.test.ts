/**
 * What a clustered node shows and refuses: /metrics gains the cluster's
 * gauges and counters, /info its view of the cluster, and a message limit
 * that cannot fit in one backplane frame is refused at start (a default one
 * is lowered to fit).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryNetwork } from '../../src/cluster/memory.ts';
import { FRAME_OVERHEAD } from '../../src/cluster/options.ts';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import { RawClient } from '../helpers/raw-client.ts';

const http = (node: RunningNode, path: string) => fetch(`http://127.0.0.1:${node.port}${path}`).then((r) => r.text());

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  assert.ok(line, `${name} in /metrics`);
  return Number(line.split(' ').pop());
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 4000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('cluster metrics and node info', () => {
  const net = new MemoryNetwork();
  let a: RunningNode;
  let b: RunningNode;

  before(async () => {
    const start = (node: string) =>
      startNode({
        host: '127.0.0.1',
        port: 0,
        metrics: true,
        info: true,
        cluster: { name: 'obs', node, backplane: net.connect(node), heartbeat: 100, deadAfter: 300 },
      });
    a = await start('a');
    b = await start('b');
  });

  after(async () => {
    await a.close();
    await b?.close();
  });

  it('counts nodes, frames, claims and cross-node calls; /info shows the view; a dead node is cleaned up and counted', async () => {
    const callee = await RawClient.join(b.url, 'json');
    callee.send([64, 1, {}, 'com.obs.echo']);
    assert.equal((await callee.next())[0], 65);
    const caller = await RawClient.join(a.url, 'msgpack');
    // Callable from A once A's mirror has it.
    let request = 100;
    await eventually('A sees the registration', async () => {
      caller.send([48, ++request, {}, 'wamp.registration.lookup', ['com.obs.echo']]);
      const reply = await caller.next();
      return typeof (reply[3] as unknown[])?.[0] === 'number' ? true : undefined;
    });
    caller.send([48, 7, {}, 'com.obs.echo', ['x']]);
    const invocation = await callee.next();
    callee.send([70, invocation[1], {}, ['y']]);
    assert.deepEqual(await caller.next(), [50, 7, {}, ['y']]);

    const onA = await http(a, '/metrics');
    assert.equal(metric(onA, 'kreuz_cluster_nodes'), 2);
    assert.ok(metric(onA, 'kreuz_cluster_frames_sent_total') >= 1);
    assert.ok(metric(onA, 'kreuz_cluster_frames_received_total') >= 1);
    assert.ok(metric(onA, 'kreuz_cluster_call_duration_seconds_count') >= 1);
    assert.equal(metric(onA, 'kreuz_sessions'), 1, "A's own sessions only: the caller");
    assert.equal(metric(await http(b, '/metrics'), 'kreuz_cluster_claims_won_total'), 1);

    const info = JSON.parse(await http(a, '/info'));
    assert.equal(info.cluster.name, 'obs');
    assert.equal(info.cluster.node, 'a');
    assert.deepEqual(info.cluster.nodes.map((n: { node: string }) => n.node).sort(), ['a', 'b']);
    assert.equal(info.cluster.leader, true, 'the lowest live node ID');

    net.disconnect('b'); // silent: no BYE
    await eventually('A counts the cleanup of dead node b', async () => {
      const text = await http(a, '/metrics');
      return metric(text, 'kreuz_cluster_dead_node_cleanups_total') === 1 && metric(text, 'kreuz_cluster_nodes') === 1 ? true : undefined;
    });
    caller.close();
    callee.close();
  });
});

describe('message limits against the frame size', () => {
  it('refuses a max_message_size that cannot fit in one frame, naming what to change; lowers the default to fit', async () => {
    const net = new MemoryNetwork({ maxFrame: 256 * 1024 });
    const cap = 256 * 1024 - FRAME_OVERHEAD;
    const cluster = (node: string) => ({ name: 'lim', node, backplane: net.connect(node) });
    await assert.rejects(
      startNode({ host: '127.0.0.1', port: 0, maxMessageSize: cap + 1, cluster: cluster('x') }),
      (err: Error) => err.message.includes(`max_message_size ${cap + 1} bytes does not fit`) && err.message.includes(`at most ${cap}`),
    );
    const fits = await startNode({ host: '127.0.0.1', port: 0, maxMessageSize: cap, cluster: cluster('y') });
    await fits.close();
    const lowered = await startNode({ host: '127.0.0.1', port: 0, cluster: cluster('z') });
    try {
      const client = await RawClient.join(lowered.url, 'json');
      client.sendRaw(JSON.stringify([16, 1, {}, 'com.big', ['x'.repeat(cap + 100)]]));
      const closed = await client.closed;
      assert.equal(closed.code, 1009, 'over the lowered default: message too big');
    } finally {
      await lowered.close();
    }
  });
});
