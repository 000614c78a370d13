import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import { MemoryNetwork } from '../../src/cluster/memory.ts';
import { RawClient } from '../helpers/raw-client.ts';

const net = new MemoryNetwork();
const nodes: RunningNode[] = [];
before(async () => {
  for (const id of ['a', 'b', 'c']) {
    nodes.push(
      await startNode({
        port: 0,
        host: '127.0.0.1',
        cluster: { name: 't', node: id, backplane: net.connect(id), heartbeat: 100, deadAfter: 300 },
      }),
    );
  }
});
after(async () => {
  for (const n of nodes) await n.close();
});

describe('smoke', () => {
  it('calls across nodes', async () => {
    const callee = await RawClient.join(nodes[1]!.url, 'json');
    callee.send([64, 1, {}, 'com.x']);
    const reg = await callee.next();
    assert.equal(reg[0], 65, JSON.stringify(reg));
    const caller = await RawClient.join(nodes[0]!.url, 'msgpack');
    await new Promise((r) => setTimeout(r, 100));
    caller.send([48, 7, {}, 'com.x', [1, 2], { k: 'v' }]);
    const inv = await callee.next();
    assert.equal(inv[0], 68, JSON.stringify(inv));
    callee.send([70, inv[1], {}, ['ok'], { n: 1 }]);
    assert.deepEqual(await caller.next(), [50, 7, {}, ['ok'], { n: 1 }]);
    const sub = await RawClient.join(nodes[2]!.url, 'cbor');
    sub.send([32, 1, {}, 'com.t']);
    assert.equal((await sub.next())[0], 33);
    await new Promise((r) => setTimeout(r, 100));
    caller.send([16, 9, { acknowledge: true }, 'com.t', ['hi']]);
    const published = await caller.next();
    assert.equal(published[0], 17);
    const ev = await sub.next();
    assert.deepEqual([ev[0], ev[2], ev[4]], [36, published[2], ['hi']]);
    caller.close();
    callee.close();
    sub.close();
  });
});
