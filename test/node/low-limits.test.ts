/** A node starts and serves with the smallest per-session limits: its own sessions (the meta API) are not limited. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNode } from '../../src/node/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { CALL, REGISTER, RESULT, ERROR } from '../helpers/wamp-codes.ts';

describe('a node with limits of 1', () => {
  it('starts, answers meta API calls, and limits its clients', async () => {
    const node = await startNode({ host: '127.0.0.1', port: 0, limits: { registrations: 1, subscriptions: 1, callsInFlight: 1 } });
    try {
      const client = await RawClient.join(node.url);
      client.send([CALL, 1, {}, 'wamp.session.count']);
      assert.deepEqual((await client.next()).slice(0, 4), [RESULT, 1, {}, [1]]);
      client.send([REGISTER, 2, {}, 'com.one']);
      assert.equal((await client.next())[0], 65);
      client.send([REGISTER, 3, {}, 'com.two']);
      assert.deepEqual((await client.next()).slice(0, 5), [ERROR, REGISTER, 3, {}, 'kreuz.error.limit_reached']);
      client.close();
    } finally {
      await node.close();
    }
  });
});
