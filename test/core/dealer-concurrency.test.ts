/**
 * Crossbar's REGISTER.Options.concurrency and the call queue behind it
 * (Router option callQueueLimit).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { ERROR, CALL, CANCEL, RESULT, INVOCATION, INTERRUPT, YIELD } from '../helpers/wamp-codes.ts';

const URI = 'com.app.slow';
const MAX = 'crossbar.error.max_concurrency_reached';
const CANCELED = 'wamp.error.canceled';

const CANCELING_CALLEE = { callee: { features: { call_canceling: true } } };
const CANCELING_CALLER = { caller: { features: { call_canceling: true } } };

function setup(callQueueLimit: number) {
  const router = new Router({ realms: [{ name: 'realm1' }], callQueueLimit });
  return { router, callee: MemoryClient.join(router), caller: MemoryClient.join(router) };
}

describe('dealer: concurrency and the call queue', () => {
  it('concurrency 1 without a queue: a second call in flight gets max_concurrency_reached; after the YIELD calls go through', () => {
    const { callee, caller } = setup(0);
    const reg = callee.register(URI, { concurrency: 1 });
    caller.send([CALL, 1, {}, URI, ['one']]);
    assert.deepEqual(callee.take(), [[INVOCATION, 1, reg, {}, ['one']]]);
    caller.send([CALL, 2, {}, URI, ['two']]);
    assert.deepEqual(caller.take()[0].slice(0, 5), [ERROR, CALL, 2, {}, MAX]);
    assert.deepEqual(callee.take(), [], 'the refused call must not reach the callee');

    callee.send([YIELD, 1, {}, ['r1']]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}, ['r1']]]);
    assert.deepEqual(callee.take(), [], 'the refused call is not queued');

    caller.send([CALL, 3, {}, URI, ['three']]);
    assert.deepEqual(callee.take(), [[INVOCATION, 2, reg, {}, ['three']]]);
    callee.send([YIELD, 2, {}, ['r3']]);
    assert.deepEqual(caller.take(), [[RESULT, 3, {}, ['r3']]]);
  });

  it('with callQueueLimit 2, calls 2 and 3 wait and are dispatched in order after a YIELD and after an ERROR; call 4 is refused', () => {
    const { router, callee, caller } = setup(2);
    const [caller2, caller3] = [MemoryClient.join(router), MemoryClient.join(router)];
    const reg = callee.register(URI, { concurrency: 1 });
    caller.send([CALL, 1, {}, URI, ['c1']]);
    caller2.send([CALL, 1, {}, URI, ['c2']]);
    caller3.send([CALL, 1, {}, URI, ['c3']]);
    caller.send([CALL, 2, {}, URI, ['c4']]);
    assert.deepEqual(callee.take(), [[INVOCATION, 1, reg, {}, ['c1']]]);
    assert.deepEqual(caller.take()[0].slice(0, 5), [ERROR, CALL, 2, {}, MAX]);
    assert.deepEqual([caller2.take(), caller3.take()], [[], []]);

    callee.send([YIELD, 1, {}, ['r1']]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}, ['r1']]]);
    assert.deepEqual(callee.take(), [[INVOCATION, 2, reg, {}, ['c2']]]);

    callee.send([ERROR, INVOCATION, 2, {}, 'com.app.error.failed', ['no']]);
    assert.deepEqual(caller2.take(), [[ERROR, CALL, 1, {}, 'com.app.error.failed', ['no']]]);
    assert.deepEqual(callee.take(), [[INVOCATION, 3, reg, {}, ['c3']]]);

    callee.send([YIELD, 3, {}, ['r3']]);
    assert.deepEqual(caller3.take(), [[RESULT, 1, {}, ['r3']]]);
    assert.deepEqual(callee.take(), []);
  });

  it('roundrobin skips a saturated callee', () => {
    const { router, caller } = setup(0);
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    const reg = a.register(URI, { invoke: 'roundrobin', concurrency: 1 });
    b.register(URI, { invoke: 'roundrobin', concurrency: 2 });
    caller.send([CALL, 1, {}, URI]); // A
    caller.send([CALL, 2, {}, URI]); // B
    caller.send([CALL, 3, {}, URI]); // A is full: B
    assert.deepEqual(a.take(), [[INVOCATION, 1, reg, {}]]);
    assert.deepEqual(b.take(), [
      [INVOCATION, 1, reg, {}],
      [INVOCATION, 2, reg, {}],
    ]);
    caller.send([CALL, 4, {}, URI]); // both full
    assert.deepEqual(caller.take()[0].slice(0, 5), [ERROR, CALL, 4, {}, MAX]);
    b.send([YIELD, 1, {}]);
    assert.deepEqual(caller.take(), [[RESULT, 2, {}]]);
    caller.send([CALL, 5, {}, URI]); // A still full: B
    assert.deepEqual(b.take(), [[INVOCATION, 3, reg, {}]]);
    assert.deepEqual(a.take(), []);
  });

  it('a queued call whose caller leaves is dropped from the queue and never invoked', () => {
    const { router, callee, caller } = setup(2);
    const leaver = MemoryClient.join(router);
    const reg = callee.register(URI, { concurrency: 1 });
    caller.send([CALL, 1, {}, URI, ['first']]);
    leaver.send([CALL, 1, {}, URI, ['queued']]);
    assert.deepEqual(callee.take(), [[INVOCATION, 1, reg, {}, ['first']]]);
    leaver.disconnect();
    callee.send([YIELD, 1, {}]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}]]);
    assert.deepEqual(callee.take(), [], 'no INVOCATION for the call of the caller that left');
    // The slot is free and the queue empty.
    caller.send([CALL, 2, {}, URI, ['next']]);
    assert.deepEqual(callee.take(), [[INVOCATION, 2, reg, {}, ['next']]]);
  });

  it('a caller leaving with one call in flight and one queued: the callee gets only the INTERRUPT, never the queued call', () => {
    const router = new Router({ realms: [{ name: 'realm1' }], callQueueLimit: 2 });
    const callee = MemoryClient.join(router, 'realm1', CANCELING_CALLEE);
    const caller = MemoryClient.join(router);
    const reg = callee.register(URI, { concurrency: 1 });
    caller.send([CALL, 1, {}, URI, ['in flight']]);
    caller.send([CALL, 2, {}, URI, ['queued']]);
    assert.deepEqual(callee.take(), [[INVOCATION, 1, reg, {}, ['in flight']]]);
    caller.disconnect();
    const got = callee.take();
    assert.equal(got.length, 1, `expected only the INTERRUPT, got ${JSON.stringify(got)}`);
    assert.deepEqual(got[0].slice(0, 2), [INTERRUPT, 1]);
    assert.equal((got[0][2] as { mode?: string }).mode, 'killnowait');
  });

  it('a queued call canceled by CANCEL gets wamp.error.canceled and is never invoked', () => {
    const { router, callee } = setup(2);
    const caller = MemoryClient.join(router, 'realm1', CANCELING_CALLER);
    const reg = callee.register(URI, { concurrency: 1 });
    caller.send([CALL, 1, {}, URI, ['first']]);
    caller.send([CALL, 2, {}, URI, ['queued']]);
    callee.take();
    caller.send([CANCEL, 2, { mode: 'kill' }]);
    assert.deepEqual(caller.take()[0].slice(0, 5), [ERROR, CALL, 2, {}, CANCELED]);
    assert.deepEqual(callee.take(), [], 'nothing reached a callee: no INTERRUPT');
    callee.send([YIELD, 1, {}]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}]]);
    assert.deepEqual(callee.take(), [], 'the canceled call left the queue');
    caller.send([CALL, 3, {}, URI]);
    assert.deepEqual(callee.take(), [[INVOCATION, 2, reg, {}]]);
  });

  it('when the last callee leaves, the call in flight and every queued call get wamp.error.canceled', () => {
    const { router, callee, caller } = setup(2);
    const [caller2, caller3] = [MemoryClient.join(router), MemoryClient.join(router)];
    callee.register(URI, { concurrency: 1 });
    caller.send([CALL, 1, {}, URI]);
    caller2.send([CALL, 5, {}, URI]);
    caller3.send([CALL, 9, {}, URI]);
    callee.take();
    callee.disconnect();
    for (const [client, request] of [
      [caller, 1],
      [caller2, 5],
      [caller3, 9],
    ] as const) {
      const got = client.take();
      assert.equal(got.length, 1, `caller of request ${request} got ${JSON.stringify(got)}`);
      assert.deepEqual(got[0].slice(0, 5), [ERROR, CALL, request, {}, CANCELED]);
    }
  });

  it('UNREGISTER of the last callee cancels the queued calls; its call in flight still completes', () => {
    const { router, callee, caller } = setup(2);
    const caller2 = MemoryClient.join(router);
    const reg = callee.register(URI, { concurrency: 1 });
    caller.send([CALL, 1, {}, URI]);
    caller2.send([CALL, 1, {}, URI]);
    callee.take();
    callee.send([66, 10, reg]);
    assert.deepEqual(callee.take(), [[67, 10]]);
    assert.deepEqual(
      caller2.take().map((m) => m.slice(0, 5)),
      [[ERROR, CALL, 1, {}, CANCELED]],
    );
    callee.send([YIELD, 1, {}, ['done']]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}, ['done']]]);
    assert.deepEqual(callee.take(), []);
  });

  it('when the busy callee of a shared registration unregisters, a queued call goes at once to a free callee', () => {
    const { router, caller } = setup(2);
    const [a, b] = [MemoryClient.join(router), MemoryClient.join(router)];
    const reg = a.register(URI, { invoke: 'first', concurrency: 1 });
    b.register(URI, { invoke: 'first', concurrency: 1 });
    caller.send([CALL, 1, {}, URI, ['in flight']]);
    caller.send([CALL, 2, {}, URI, ['queued']]);
    a.take();
    a.send([66, 10, reg]);
    assert.deepEqual(a.take(), [[67, 10]]);
    assert.deepEqual(b.take(), [[INVOCATION, 1, reg, {}, ['queued']]], 'B is free and now first');
    a.send([YIELD, 1, {}, ['from A']]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}, ['from A']]]);
  });

  it('when a busy callee of a shared registration leaves, its queued calls go to a remaining callee', () => {
    const { router, caller } = setup(2);
    const [a, b] = [MemoryClient.join(router), MemoryClient.join(router)];
    const reg = a.register(URI, { invoke: 'first', concurrency: 1 });
    b.register(URI, { invoke: 'first', concurrency: 1 });
    caller.send([CALL, 1, {}, URI, ['in flight']]);
    caller.send([CALL, 2, {}, URI, ['queued']]);
    assert.deepEqual(a.take(), [[INVOCATION, 1, reg, {}, ['in flight']]]);
    a.disconnect();
    assert.deepEqual(
      caller.take().map((m) => m.slice(0, 5)),
      [[ERROR, CALL, 1, {}, CANCELED]],
    );
    assert.deepEqual(b.take(), [[INVOCATION, 1, reg, {}, ['queued']]]);
    b.send([YIELD, 1, {}, ['done']]);
    assert.deepEqual(caller.take(), [[RESULT, 2, {}, ['done']]]);
  });
});
