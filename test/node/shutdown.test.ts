/** Graceful shutdown: calls in flight finish, then every session gets GOODBYE wamp.close.system_shutdown. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNode } from '../../src/node/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { RawSocketWampClient } from '../helpers/rawsocket-client.ts';
import { GOODBYE, ERROR, CALL, RESULT, INVOCATION, YIELD } from '../helpers/wamp-codes.ts';

async function registered(callee: RawClient, uri: string): Promise<void> {
  callee.send([64, 1, {}, uri]);
  assert.equal((await callee.next())[0], 65, `REGISTERED ${uri}`);
}

describe('graceful shutdown', () => {
  it('lets a call in flight finish, refuses new calls and connections, then says GOODBYE to everyone', async () => {
    const node = await startNode({ host: '127.0.0.1', port: 0 });
    const callee = await RawClient.join(node.url);
    const caller = await RawClient.join(node.url);
    await registered(callee, 'com.slow');
    caller.send([CALL, 7, {}, 'com.slow', [1]]);
    const invocation = await callee.next();
    assert.equal(invocation[0], INVOCATION);

    const started = Date.now();
    const stopped = node.shutdown({ timeout: 5000 });
    // While draining: a new call is refused, the callee's answer still goes through.
    caller.send([CALL, 8, {}, 'com.slow', [2]]);
    assert.deepEqual(await caller.next(), [ERROR, CALL, 8, {}, 'wamp.error.canceled', ['the router is shutting down']]);
    await assert.rejects(RawClient.open(node.url), 'no new connections');
    setTimeout(() => callee.send([YIELD, invocation[1], {}, ['slow answer']]), 300);

    assert.deepEqual(await caller.next(), [RESULT, 7, {}, ['slow answer']], 'the caller still gets its RESULT');
    const goodbye = await caller.next();
    assert.deepEqual(goodbye, [GOODBYE, { message: 'the router is shutting down' }, 'wamp.close.system_shutdown']);
    assert.deepEqual((await callee.next()).slice(0, 3), goodbye, 'the callee is told too');
    caller.send([GOODBYE, {}, 'wamp.close.goodbye_and_out']);
    callee.send([GOODBYE, {}, 'wamp.close.goodbye_and_out']);
    await stopped;
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 3000, `shutdown took ${took} ms`);
    const closed = await Promise.race([caller.closed, new Promise((r) => setTimeout(() => r('open'), 2000))]);
    assert.notEqual(closed, 'open', 'connections are closed once the node has stopped');
  });

  it('says GOODBYE at the deadline when a callee never answers', async () => {
    const node = await startNode({ host: '127.0.0.1', port: 0, shutdownTimeout: 200 });
    const callee = await RawClient.join(node.url);
    const caller = await RawClient.join(node.url);
    await registered(callee, 'com.never');
    caller.send([CALL, 1, {}, 'com.never', []]);
    assert.equal((await callee.next())[0], INVOCATION);
    const started = Date.now();
    const stopped = node.shutdown();
    const message = await caller.next(3000);
    assert.equal(message[0], GOODBYE, `GOODBYE, not a result: ${JSON.stringify(message)}`);
    assert.equal(message[2], 'wamp.close.system_shutdown');
    const waited = Date.now() - started;
    assert.ok(waited >= 190 && waited < 1500, `GOODBYE after ${waited} ms (deadline 200 ms)`);
    await stopped;
    assert.ok(Date.now() - started < 3000, 'stopped without waiting for the silent clients for long');
  });

  it('stops accepting RawSocket connections, and answers a HELLO on one already open with ABORT system_shutdown', async () => {
    const node = await startNode({
      transports: [
        { type: 'rawsocket', endpoint: { host: '127.0.0.1', port: 0 } },
        { type: 'websocket', endpoint: { host: '127.0.0.1', port: 0 } },
      ],
      shutdownTimeout: 2000,
    });
    const callee = await RawClient.join(node.url);
    const caller = await RawClient.join(node.url);
    await registered(callee, 'com.hold');
    caller.send([CALL, 1, {}, 'com.hold', []]);
    const invocation = await callee.next();
    const early = await RawSocketWampClient.open({ host: '127.0.0.1', port: node.listeners[0].port });
    const stopped = node.shutdown();
    await assert.rejects(RawSocketWampClient.open({ host: '127.0.0.1', port: node.listeners[0].port }), 'new connections are refused');
    early.send([1, 'realm1', { roles: { caller: {} } }]);
    const abort = await early.next();
    assert.deepEqual(abort, [3, { message: 'the router is shutting down' }, 'wamp.close.system_shutdown']);
    callee.send([YIELD, invocation[1], {}, []]);
    assert.equal((await caller.next())[0], RESULT);
    assert.equal((await caller.next())[0], GOODBYE);
    await stopped;
  });

  it('close() stops at once; shutdown after close is the same stop', async () => {
    const node = await startNode({ host: '127.0.0.1', port: 0 });
    const client = await RawClient.join(node.url);
    await node.close();
    const closed = await Promise.race([client.closed, new Promise((r) => setTimeout(() => r('open'), 2000))]);
    assert.notEqual(closed, 'open', 'the connection is dropped');
    await node.shutdown();
  });
});
