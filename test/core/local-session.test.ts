/** The router's in-process client (LocalSession), both as one of the router's own sessions and joined like a client. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InternalCaller } from '../../src/core/internal-caller.ts';
import { LocalSession, Result } from '../../src/core/local-session.ts';
import { Router } from '../../src/core/router.ts';
import { WampError } from '../../src/wamp/wamp-error.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { CALL, ERROR, EVENT, INVOCATION, RESULT, YIELD } from '../helpers/wamp-codes.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));
// Timers that keep the process alive (the router's default ones do not), so a timeout can fire in a test.
const timers = {
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
};
const newRouter = () => new Router({ realms: [{ name: 'realm1' }], timers });

describe("LocalSession: the router's in-process client", () => {
  it('offers procedures: results, several results, WAMP errors, other exceptions, promises', async () => {
    const router = newRouter();
    const service = LocalSession.internal(router, 'realm1', 'kreuz');
    assert.equal(service.session.internal, true);
    await service.register('com.example.plain', ([n]) => Number(n) + 1);
    await service.register('com.example.several', () => new Result([1, 2], { k: true }));
    await service.register('com.example.fails', () => {
      throw new WampError('com.example.error.nope', ['no'], { why: 'because' });
    });
    await service.register('com.example.breaks', () => {
      throw new TypeError('a bug');
    });
    await service.register('com.example.later', async () => 'later');
    const client = MemoryClient.join(router);
    for (const [i, uri] of ['plain', 'several', 'fails', 'breaks', 'later'].entries())
      client.send([CALL, i + 1, {}, `com.example.${uri}`, [41]]);
    await tick();
    assert.deepEqual(client.take(), [
      [RESULT, 1, {}, [42]],
      [RESULT, 2, {}, [1, 2], { k: true }],
      [ERROR, CALL, 3, {}, 'com.example.error.nope', ['no'], { why: 'because' }],
      [ERROR, CALL, 4, {}, 'wamp.error.runtime_error', ['a bug']],
      [RESULT, 5, {}, ['later']],
    ]);
  });

  it('calls procedures; a WAMP error rejects with a WampError, and the router enforces the timeout', async () => {
    const router = newRouter();
    const callee = MemoryClient.join(router);
    callee.register('com.example.echo');
    const caller = new InternalCaller(router);
    const answer = caller.call('realm1', 'com.example.echo', ['hi'], { k: 1 });
    const [invocation] = callee.take();
    assert.equal(invocation[0], INVOCATION);
    assert.equal((invocation[3] as { timeout?: unknown }).timeout, undefined, 'the timeout stays with the router');
    callee.send([YIELD, invocation[1], {}, ['hi'], { k: 1 }]);
    assert.deepEqual(await answer, { args: ['hi'], kwargs: { k: 1 } });

    const failed = caller.call('realm1', 'com.example.echo');
    callee.send([ERROR, INVOCATION, callee.take()[0][1], {}, 'com.example.error.bad', ['bad input']]);
    await assert.rejects(
      failed,
      (err: unknown) =>
        err instanceof WampError && err.uri === 'com.example.error.bad' && err.message === 'com.example.error.bad: bad input',
    );

    await assert.rejects(
      caller.call('realm1', 'com.example.echo', [], {}, 20),
      (err: unknown) => err instanceof WampError && err.uri === 'wamp.error.canceled',
    );
  });

  it("joins like a client: listed among the realm's sessions, closed by GOODBYE, and told when the router ends it", async () => {
    const router = newRouter();
    const local = await LocalSession.join(router, 'realm1', { authid: 'component' });
    assert.equal(local.session.internal, false);
    assert.equal(router.realms.get('realm1')!.sessions.get(local.id)?.authid, 'component');
    assert.equal(local.session.authrole, 'trusted');
    let closed = false;
    local.onClose(() => (closed = true));
    router.kill(local.session);
    await tick();
    assert.equal(closed, true);
    assert.equal(local.isOpen, false);
    await assert.rejects(local.call('com.example.any'), /the session is closed/);
    await assert.rejects(
      LocalSession.join(router, 'nowhere'),
      (err: unknown) => err instanceof WampError && err.uri === 'wamp.error.no_such_realm',
    );
  });

  it('subscribes and publishes; args and kwargs not given stay absent on the wire', async () => {
    const router = newRouter();
    const local = await LocalSession.join(router, 'realm1');
    const received: unknown[] = [];
    await local.subscribe('com.example.t', (args, kwargs) => received.push([args, kwargs]));
    const client = MemoryClient.join(router);
    client.subscribe('com.example.t');
    await local.publish('com.example.t', ['a']);
    await local.publish('com.example.t');
    await tick();
    assert.deepEqual(
      client
        .take()
        .filter((m) => m[0] === EVENT)
        .map((m) => m.slice(4)),
      [[['a']], []],
      'no kwargs, then no payload at all',
    );
    assert.deepEqual(received, [], 'a publisher is excluded from its own events by default');
    client.send([16, 1, {}, 'com.example.t', ['from client'], { n: 1 }]);
    await tick();
    assert.deepEqual(received, [[['from client'], { n: 1 }]]);
    await local.close();
    assert.equal(local.isOpen, false);
  });
});
