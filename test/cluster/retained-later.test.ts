/**
 * A retained event reaches a subscriber on a node that started after it was
 * published: the publishing node keeps it in the registry, and a starting
 * node loads it with the rest (live nodes got it as a PUB frame).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryNetwork } from '../../src/cluster/memory.ts';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import { RawClient } from '../helpers/raw-client.ts';

const net = new MemoryNetwork();
const nodes: RunningNode[] = [];
const start = async (node: string) => {
  const running = await startNode({
    host: '127.0.0.1',
    port: 0,
    cluster: { name: 'ret', node, backplane: net.connect(node), heartbeat: 100, deadAfter: 300 },
  });
  nodes.push(running);
  return running;
};

after(async () => {
  for (const n of nodes) await n.close();
});

describe('retained events across nodes', () => {
  it('a node started after the publication serves the retained event, with its publication ID and exact payload', async () => {
    const a = await start('a');
    const publisher = await RawClient.join(a.url, 'msgpack');
    publisher.send([16, 1, { acknowledge: true, retain: true }, 'com.ret.state', [{ level: 3 }], { big: 2n ** 63n - 1n }]);
    const published = await publisher.next();
    assert.equal(published[0], 17);

    const b = await start('b');
    const subscriber = await RawClient.join(b.url, 'cbor');
    subscriber.send([32, 1, { get_retained: true }, 'com.ret.state']);
    const subscribed = await subscriber.next();
    assert.equal(subscribed[0], 33);
    const event = await subscriber.next();
    assert.deepEqual(event, [36, subscribed[2], published[2], { retained: true }, [{ level: 3 }], { big: 2n ** 63n - 1n }]);
    publisher.close();
    subscriber.close();
  });
});
