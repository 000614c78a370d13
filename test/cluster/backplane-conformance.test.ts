import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type Backplane, BackplaneUnavailable, type BackplaneStatus, type KvChange } from '../../src/cluster/backplane.ts';
import { MemoryNetwork } from '../../src/cluster/memory.ts';
import { connectNatsBackplane } from '../../src/cluster/nats.ts';
import { backplaneConformance } from '../../src/cluster/testing.ts';
import { type NatsServer, skipWithoutNats, startNatsCluster, startNatsServer } from '../helpers/nats-server.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

/** Frames a node received, as text. */
function inbox(node: Backplane): string[] {
  const got: string[] = [];
  node.onFrame((frame, channel) => got.push(`${channel ?? '-'}:${dec(frame)}`));
  return got;
}

function statuses(node: Backplane): BackplaneStatus[] {
  const seen: BackplaneStatus[] = [];
  node.onStatus((status) => seen.push(status));
  return seen;
}

const unique = () => Math.random().toString(36).slice(2, 8);

backplaneConformance('memory', async () => {
  const network = new MemoryNetwork();
  return { nodes: async (id) => network.connect(id), close: async () => undefined };
});

describe('memory backplane faults', () => {
  it('refuses a second connection for a node ID until the first closes', async () => {
    const network = new MemoryNetwork();
    const a = network.connect('a');
    assert.throws(() => network.connect('a'), /connected already/);
    assert.throws(() => network.connect('A'), TypeError);
    await a.close();
    const again = network.connect('a');
    assert.deepEqual(network.nodes(), ['a']);
    await again.close();
  });

  it('delivers asynchronously and in order, also with delays that change', async () => {
    const network = new MemoryNetwork();
    const [a, b] = [network.connect('a'), network.connect('b')];
    const got = inbox(b);
    network.delay(30);
    a.send('b', enc('1'));
    network.delay(0);
    a.send('b', enc('2'));
    assert.deepEqual(got, [], 'nothing within the sender call');
    await until(() => got.length === 2, 'both frames');
    assert.deepEqual(got, ['-:1', '-:2']);
  });

  it('partition: frames between the sides are lost, the minority cannot use the KV and its watch waits; heal restores', async () => {
    const network = new MemoryNetwork();
    const [a, b, c] = [network.connect('a'), network.connect('b'), network.connect('c')];
    const [toA, toC] = [inbox(a), inbox(c)];
    const seenByC: KvChange[] = [];
    await c.watch('k.', (change) => seenByC.push(change));
    network.partition(['a', 'b'], ['c']);
    c.send('a', enc('lost'));
    a.send('c', enc('lost'));
    b.send('a', enc('same side'));
    await assert.rejects(c.put('k.x', enc('minority')), BackplaneUnavailable);
    await assert.rejects(c.create('k.x', enc('minority')), BackplaneUnavailable);
    await assert.rejects(c.get('k.x'), BackplaneUnavailable);
    await assert.rejects(
      c.watch('k.', () => undefined),
      BackplaneUnavailable,
    );
    const revision = await a.create('k.x', enc('majority'));
    await until(() => toA.length === 1, 'the frame within a side');
    await sleep(20);
    assert.deepEqual(toA, ['-:same side']);
    assert.deepEqual(toC, []);
    assert.equal(seenByC.length, 0, "the minority's watch holds the change");

    network.heal();
    await until(() => seenByC.length === 1, 'the held change after the heal');
    assert.equal(seenByC[0].key, 'k.x');
    assert.equal(dec(seenByC[0].value), 'majority');
    assert.equal(seenByC[0].revision, revision);
    assert.equal(dec((await c.get('k.x'))?.value), 'majority');
    c.send('a', enc('after heal'));
    await until(() => toA.length === 2, 'a frame after the heal');
    assert.equal(toA[1], '-:after heal');
  });

  it('partition: on a tie side b is the minority', async () => {
    const network = new MemoryNetwork();
    const [a, b] = [network.connect('a'), network.connect('b')];
    network.partition(['a'], ['b']);
    assert.ok((await a.put('k', enc('1'))) > 0);
    await assert.rejects(b.put('k', enc('2')), BackplaneUnavailable);
    network.heal();
    assert.ok((await b.put('k', enc('2'))) > 0);
  });

  it('disconnect/reconnect: status events, frames lost and KV refused meanwhile, the watch catches up after', async () => {
    const network = new MemoryNetwork();
    const [a, b] = [network.connect('a'), network.connect('b')];
    const status = statuses(b);
    const toB = inbox(b);
    const seen: KvChange[] = [];
    await b.watch('', (change) => seen.push(change));
    network.disconnect('b');
    network.disconnect('b'); // no second event
    await until(() => status.length === 1, 'disconnected');
    assert.deepEqual(status, ['disconnected']);
    a.send('b', enc('lost'));
    await assert.rejects(b.put('k', enc('x')), BackplaneUnavailable);
    await a.put('k', enc('while away'));
    await sleep(20);
    assert.deepEqual(toB, []);
    assert.equal(seen.length, 0);

    network.reconnect('b');
    await until(() => status.length === 2 && seen.length === 1, 'reconnected and caught up');
    assert.deepEqual(status, ['disconnected', 'reconnected']);
    assert.equal(dec(seen[0].value), 'while away');
    a.send('b', enc('back'));
    await until(() => toB.length === 1, 'a frame after reconnect');
    assert.deepEqual(toB, ['-:back']);
    assert.throws(() => network.disconnect('nobody'), /not connected/);
  });

  it('dropFrames loses exactly the next N frames of one link; drop(predicate) until removed', async () => {
    const network = new MemoryNetwork();
    const [a, b, c] = [network.connect('a'), network.connect('b'), network.connect('c')];
    const [toB, toC] = [inbox(b), inbox(c)];
    network.dropFrames('a', 'b', 2);
    for (const n of [1, 2, 3]) a.send('b', enc(`${n}`));
    a.send('c', enc('c1'));
    const stop = network.drop((f) => f.to === 'c' && dec(f.frame) === 'c2');
    a.send('c', enc('c2'));
    stop();
    a.send('c', enc('c2'));
    await until(() => toB.length === 1 && toC.length === 2, 'the frames not dropped');
    assert.deepEqual(toB, ['-:3']);
    assert.deepEqual(toC, ['-:c1', '-:c2']);
  });

  it('skipSuperseded: a watch may miss a replaced revision, never the last one', async () => {
    const network = new MemoryNetwork();
    const a = network.connect('a');
    const seen: string[] = [];
    await a.watch('k.', (change) => seen.push(`${change.key}=${dec(change.value)}`));
    network.skipSuperseded();
    network.watchDelay(20);
    for (let i = 0; i < 10; i++) await a.put('k.one', enc(`${i}`));
    await a.put('k.two', enc('x'));
    await until(() => seen.includes('k.two=x'), 'the last change');
    assert.deepEqual(seen, ['k.one=9', 'k.two=x']);
  });

  it('kvDelay: writes take effect later, in call order', async () => {
    const network = new MemoryNetwork();
    const [a, b] = [network.connect('a'), network.connect('b')];
    network.kvDelay(20);
    const first = a.create('k', enc('a'));
    const second = b.create('k', enc('b'));
    const [r1, r2] = await Promise.allSettled([first, second]);
    assert.equal(r1.status, 'fulfilled');
    assert.equal(r2.status, 'rejected');
  });
});

describe('nats backplane', { skip: skipWithoutNats() }, () => {
  let server: NatsServer;
  before(async () => {
    server = await startNatsServer();
  });
  after(async () => {
    await server?.stop();
  });

  backplaneConformance('nats', async () => {
    const name = `conf-${unique()}`;
    return { nodes: (id) => connectNatsBackplane({ name, node: id, servers: [server.url] }), close: async () => undefined };
  });
});

describe('nats backplane on a 3-server cluster, replicas 3', { skip: skipWithoutNats() }, () => {
  let cluster: Awaited<ReturnType<typeof startNatsCluster>>;
  before(async () => {
    cluster = await startNatsCluster(3);
  });
  after(async () => {
    await cluster?.stopAll();
  });

  it("creates, reads and watches; losing the stream leader's server, clients reconnect, write again, and watches resume", async () => {
    const name = `r3-${unique()}`;
    const stream = `KV_kreuz_${name}`;
    const setup = await connectNatsBackplane({ name, node: 'setup', servers: cluster.urls, replicas: 3 });
    await setup.close();
    const nc = await connect({ servers: cluster.urls });
    const leader = (await jsApi(nc, `STREAM.INFO.${stream}`)).cluster?.leader;
    const victim = cluster.servers.find((s) => s.name === leader);
    assert.ok(victim, `the stream leader ${leader} is one of ours`);
    const other = cluster.servers.find((s) => s !== victim)!;
    // a talks to the leader's server only (it learns the others from it); b to another one.
    const a = await connectNatsBackplane({ name, node: 'a', servers: [victim.url], replicas: 3 });
    const b = await connectNatsBackplane({ name, node: 'b', servers: [other.url], replicas: 3 });
    try {
      const status = statuses(a);
      const [seenA, seenB] = [new Map<string, string | undefined>(), new Map<string, string | undefined>()];
      await a.watch('reg.', (change) => seenA.set(change.key, dec(change.value)));
      // b's watch consumer (R1, placed at random) on the server that dies, while b itself stays connected.
      for (let tries = 0; ; tries++) {
        assert.ok(tries < 40, "b's watch consumer never landed on the victim");
        const before = await consumerHosts(nc, stream);
        const watch = await b.watch('reg.', (change) => seenB.set(change.key, dec(change.value)));
        const added = [...(await consumerHosts(nc, stream))].filter(([consumer]) => !before.has(consumer));
        if (added.length === 1 && added[0][1] === victim.name) break;
        watch.stop();
      }
      const r1 = await a.create('reg.x', enc('a1'));
      await assert.rejects(b.create('reg.x', enc('b1')), (err: any) => err.name === 'KvConflict' && err.revision === r1);
      const entry = await b.get('reg.x');
      assert.equal(dec(entry?.value), 'a1');
      assert.equal(entry?.revision, r1);
      await until(() => seenA.get('reg.x') === 'a1' && seenB.get('reg.x') === 'a1', 'both watches see the create');

      victim.kill('SIGKILL');
      await until(() => status.includes('disconnected') && status.includes('reconnected'), 'a reconnects elsewhere', 15_000);
      await until(() => written(a, 'reg.y', 'after'), 'a write from a after the loss', 20_000);
      await until(() => written(b, 'reg.z', 'after'), 'a write from b after the loss', 20_000);
      await b.delete('reg.x');
      assert.equal(dec((await b.get('reg.y'))?.value), 'after');
      await until(() => seenA.get('reg.z') === 'after', "a's watch (restarted after the reconnect) sees b's write", 20_000);
      await until(() => seenA.has('reg.x') && seenA.get('reg.x') === undefined, "a's watch sees b's delete", 20_000);
      await until(() => seenB.get('reg.y') === 'after', "b's watch (its consumer died with the server) sees a's write", 20_000);
      assert.deepEqual(status, ['disconnected', 'reconnected']);
    } finally {
      await Promise.all([a.close(), b.close(), nc.close()]);
    }
  });
});

/** Whether a put went through (false while the backplane is unavailable). */
async function written(node: Backplane, key: string, value: string): Promise<boolean> {
  try {
    await node.put(key, enc(value));
    return true;
  } catch (err) {
    if (err instanceof BackplaneUnavailable) return false;
    throw err;
  }
}

/** A JetStream API answer over a plain connection. */
async function jsApi(nc: NatsConnection, api: string): Promise<any> {
  // A loaded machine (or an election in progress) can make one request time out: a few tries, bounded.
  let reply: Awaited<ReturnType<NatsConnection['request']>> | undefined;
  for (let tries = 0; reply === undefined; tries++) {
    try {
      reply = await nc.request(`$JS.API.${api}`, '{}', { timeout: 2000 });
    } catch (err) {
      if (tries >= 4 || (err as Error).name !== 'TimeoutError') throw err;
    }
  }
  const answer = reply.json<any>();
  if (answer.error) throw new Error(`${api}: ${answer.error.description}`);
  return answer;
}

/** A stream's consumers and the server each runs on. */
async function consumerHosts(nc: NatsConnection, stream: string): Promise<Map<string, string>> {
  const list = await jsApi(nc, `CONSUMER.LIST.${stream}`);
  return new Map((list.consumers as any[]).map((c) => [c.name, c.cluster?.leader]));
}
