/**
 * A partition, on the in-process backplane: nodes a and b on one side, c on
 * the other (the minority: its registry writes fail). Each side declares the
 * other dead; only the majority records it and frees c's registrations. At
 * the heal, c sees the record of its death and starts again (its sessions
 * closed, its clients reconnect); a's and b's sessions are not touched.
 * Deadlines, never timings.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryNetwork } from '../../src/cluster/memory.ts';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import { serializerByName, type SerializerName } from '../../src/serializers/index.ts';
import { RawClient } from '../helpers/raw-client.ts';

const net = new MemoryNetwork();
const nodes: Record<string, RunningNode> = {};
let request = 1000;

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A call's answer: [RESULT or ERROR code, error URI or args]. */
async function call(client: RawClient, uri: string, args: unknown[] = []): Promise<[number, unknown]> {
  client.send([48, ++request, {}, uri, args]);
  const reply = await client.next(3000);
  return reply[0] === 50 ? [50, reply[3]] : [reply[0] as number, reply[4]];
}

async function register(client: RawClient, uri: string): Promise<unknown[]> {
  client.send([64, ++request, {}, uri]);
  return client.next(3000);
}

/** A callee answering every invocation with its name (read from the socket: no waiting reads left behind). */
function serve(client: RawClient, serializer: SerializerName, name: string): void {
  const codec = serializerByName(serializer);
  client.ws.on('message', (data: Buffer) => {
    const m = codec.decode(data) as unknown[];
    if (m[0] === 68) client.send([70, m[1], {}, [name]]);
  });
}

before(async () => {
  for (const id of ['a', 'b', 'c']) {
    nodes[id] = await startNode({
      host: '127.0.0.1',
      port: 0,
      cluster: { name: 'part', node: id, backplane: net.connect(id), heartbeat: 100, deadAfter: 300 },
    });
  }
});

after(async () => {
  for (const node of Object.values(nodes)) await node.close();
});

describe('partition', () => {
  it('the minority cannot register, the majority frees its URIs, and at the heal only the minority starts again', async () => {
    const calleeA = await RawClient.join(nodes.a!.url, 'json');
    assert.equal((await register(calleeA, 'p.on-a'))[0], 65);
    serve(calleeA, 'json', 'a');
    const calleeC = await RawClient.join(nodes.c!.url, 'msgpack');
    assert.equal((await register(calleeC, 'p.single'))[0], 65);
    serve(calleeC, 'msgpack', 'c');
    const callerB = await RawClient.join(nodes.b!.url, 'cbor');
    const callerC = await RawClient.join(nodes.c!.url, 'json');
    await until('b calls c', async () => ((await call(callerB, 'p.single'))[0] === 50 ? true : undefined));
    await until('c calls a', async () => ((await call(callerC, 'p.on-a'))[0] === 50 ? true : undefined));

    net.partition(['a', 'b'], ['c']);

    // The majority: c's registration is gone, and its single URI may be taken.
    await until('b no longer sees c', async () =>
      (await call(callerB, 'p.single'))[1] === 'wamp.error.no_such_procedure' ? true : undefined,
    );
    const taker = await RawClient.join(nodes.b!.url, 'json');
    assert.equal((await register(taker, 'p.single'))[0], 65, 'freed by the majority');
    serve(taker, 'json', 'b');
    // The minority: REGISTER needs the registry; what it holds locally still works.
    const refused = await register(callerC, 'p.new-on-c');
    assert.deepEqual([refused[0], refused[4]], [8, 'kreuz.error.cluster_unavailable']);
    assert.deepEqual(await call(callerC, 'p.single'), [50, ['c']], 'a local call on the minority side');

    net.heal();

    // c learns that it was declared dead: its sessions are closed.
    const goodbye = await callerC.next(5000);
    assert.deepEqual([goodbye[0], goodbye[2]], [6, 'wamp.close.system_shutdown']);
    callerC.close();
    calleeC.close();
    // It starts again: a new client on c sees the cluster as the majority left it.
    const again = await RawClient.join(nodes.c!.url, 'json');
    await until('c calls a again', async () => ((await call(again, 'p.on-a'))[0] === 50 ? true : undefined));
    await until('c sees the single URI taken on b', async () => {
      const [code, args] = await call(again, 'p.single');
      return code === 50 && (args as unknown[])[0] === 'b' ? true : undefined;
    });
    assert.equal((await register(again, 'p.new-on-c'))[0], 65);
    // The majority's sessions were never touched.
    assert.deepEqual(await call(callerB, 'p.on-a'), [50, ['a']]);
    for (const c of [again, callerB, taker, calleeA]) c.close();
  });
});
