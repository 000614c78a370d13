/**
 * A callee leaving with calls in flight (WAMP: basic profile, "Callee
 * Leaving During an RPC Invocation"): every caller gets wamp.error.canceled at once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { GOODBYE, ERROR, CALL, RESULT, INVOCATION, YIELD } from '../helpers/wamp-codes.ts';

const CANCELED = 'wamp.error.canceled';

function setup() {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  const callee = MemoryClient.join(router, 'realm1', { callee: { features: { call_canceling: true, progressive_call_results: true } } });
  const callers = [MemoryClient.join(router), MemoryClient.join(router), MemoryClient.join(router)];
  callee.register('com.app.a');
  callee.register('com.app.b');
  // Four calls from three callers, over two registrations.
  callers[0].send([CALL, 1, {}, 'com.app.a']);
  callers[0].send([CALL, 2, { receive_progress: true }, 'com.app.b']);
  callers[1].send([CALL, 7, {}, 'com.app.a']);
  callers[2].send([CALL, 3, {}, 'com.app.b']);
  const invocations = callee.take();
  assert.equal(invocations.length, 4, `expected 4 INVOCATIONs, got ${JSON.stringify(invocations)}`);
  return { router, callee, callers, invocationIds: invocations.map((m) => m[1] as number) };
}

function assertEachCallerCanceled(callers: MemoryClient[]): void {
  const expected = [[1, 2], [7], [3]];
  callers.forEach((caller, i) => {
    const got = caller.take();
    assert.deepEqual(
      got.map((m) => m.slice(0, 5)),
      expected[i].map((request) => [ERROR, CALL, request, {}, CANCELED]),
      `caller ${i}`,
    );
  });
}

describe('dealer: a callee leaving with calls in flight', () => {
  it('each caller gets ERROR canceled at once, once per call, and the procedures are gone', () => {
    const { callee, callers } = setup();
    callee.disconnect();
    assertEachCallerCanceled(callers);
    callers[0].send([CALL, 10, {}, 'com.app.a']);
    assert.deepEqual(callers[0].take()[0].slice(0, 5), [ERROR, CALL, 10, {}, 'wamp.error.no_such_procedure']);
  });

  it('a late YIELD from the departed callee reaches nobody', () => {
    const { callee, callers, invocationIds } = setup();
    callee.disconnect();
    assertEachCallerCanceled(callers);
    for (const id of invocationIds) {
      callee.send([YIELD, id, { progress: true }, ['late']]);
      callee.send([YIELD, id, {}, ['late']]);
      callee.send([ERROR, INVOCATION, id, {}, 'com.app.error.late']);
    }
    for (const caller of callers) assert.deepEqual(caller.take(), []);
  });

  it('a callee leaving with GOODBYE: same, and its later YIELD reaches nobody', () => {
    const { callee, callers, invocationIds } = setup();
    callee.send([GOODBYE, {}, 'wamp.close.close_realm']);
    assert.deepEqual(callee.take(), [[GOODBYE, {}, 'wamp.close.goodbye_and_out']]);
    assertEachCallerCanceled(callers);
    // Outside a session now: the router may ABORT it, but nothing reaches the callers.
    callee.send([YIELD, invocationIds[0], {}, ['late']]);
    for (const caller of callers) assert.deepEqual(caller.take(), []);
  });

  it('a call the caller already canceled (skip) gets no second ERROR when the callee leaves', () => {
    const router = new Router({ realms: [{ name: 'realm1' }] });
    const callee = MemoryClient.join(router, 'realm1', { callee: { features: { call_canceling: true } } });
    const caller = MemoryClient.join(router, 'realm1', { caller: { features: { call_canceling: true } } });
    callee.register('com.app.a');
    caller.send([CALL, 1, {}, 'com.app.a']);
    caller.send([CALL, 2, {}, 'com.app.a']);
    callee.take();
    caller.send([49, 1, { mode: 'skip' }]);
    assert.deepEqual(
      caller.take().map((m) => m.slice(0, 5)),
      [[ERROR, CALL, 1, {}, CANCELED]],
    );
    callee.disconnect();
    assert.deepEqual(
      caller.take().map((m) => m.slice(0, 5)),
      [[ERROR, CALL, 2, {}, CANCELED]],
      'only the call still open is canceled',
    );
  });

  it('the callers can carry on with a new callee', () => {
    const { router, callee, callers } = setup();
    callee.disconnect();
    assertEachCallerCanceled(callers);
    const replacement = MemoryClient.join(router);
    const reg = replacement.register('com.app.a');
    callers[1].send([CALL, 8, {}, 'com.app.a']);
    assert.deepEqual(replacement.take(), [[INVOCATION, 1, reg, {}]]);
    replacement.send([YIELD, 1, {}, ['ok']]);
    assert.deepEqual(callers[1].take(), [[RESULT, 8, {}, ['ok']]]);
  });
});
