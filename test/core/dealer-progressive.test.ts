/**
 * Progressive call results (WAMP: rpc_progressive_call_results) and
 * progressive call invocations (WAMP: rpc_progressive_call_invocations).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { ABORT, ERROR, CALL, CANCEL, RESULT, INVOCATION, YIELD } from '../helpers/wamp-codes.ts';

const URI = 'com.app.stream';

const CALLER = { caller: { features: { progressive_call_results: true, progressive_call_invocations: true, call_canceling: true } } };
const CALLEE = {
  callee: { features: { progressive_call_results: true, progressive_call_invocations: true, call_canceling: true } },
};
const PLAIN_CALLER = { caller: { features: { call_canceling: true } } };
const PLAIN_CALLEE = { callee: { features: { call_canceling: true } } };

function setup(callerRoles: object = CALLER, calleeRoles: object = CALLEE, callQueueLimit = 0) {
  const router = new Router({ realms: [{ name: 'realm1' }], callQueueLimit });
  const callee = MemoryClient.join(router, 'realm1', calleeRoles);
  const caller = MemoryClient.join(router, 'realm1', callerRoles);
  return { router, callee, caller };
}

describe('dealer: progressive call results', () => {
  it('forwards receive_progress, and sends a progressive RESULT for each progressive YIELD at once, then the final one', () => {
    const { callee, caller } = setup();
    const reg = callee.register(URI);
    caller.send([CALL, 7, { receive_progress: true }, URI, ['go']]);
    assert.deepEqual(callee.take(), [[INVOCATION, 1, reg, { receive_progress: true }, ['go']]]);

    callee.send([YIELD, 1, { progress: true }, [1]]);
    assert.deepEqual(caller.take(), [[RESULT, 7, { progress: true }, [1]]]);
    callee.send([YIELD, 1, { progress: true }, [2], { part: 'b' }]);
    assert.deepEqual(caller.take(), [[RESULT, 7, { progress: true }, [2], { part: 'b' }]]);
    callee.send([YIELD, 1, { progress: true }]);
    assert.deepEqual(caller.take(), [[RESULT, 7, { progress: true }]]);
    callee.send([YIELD, 1, {}, ['done']]);
    assert.deepEqual(caller.take(), [[RESULT, 7, {}, ['done']]]);

    // The call is over: a further YIELD for it goes nowhere.
    callee.send([YIELD, 1, { progress: true }, [3]]);
    callee.send([YIELD, 1, {}, ['again']]);
    assert.deepEqual(caller.take(), []);
  });

  it('receive_progress is not forwarded to a callee that did not announce progressive_call_results', () => {
    const { callee, caller } = setup(CALLER, PLAIN_CALLEE);
    const reg = callee.register(URI);
    caller.send([CALL, 1, { receive_progress: true }, URI]);
    assert.deepEqual(callee.take(), [[INVOCATION, 1, reg, {}]]);
    callee.send([YIELD, 1, {}, ['whole']]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}, ['whole']]]);
  });

  it('a caller that did not ask for progress gets no progressive RESULT, only the final one', () => {
    const { callee, caller } = setup();
    const reg = callee.register(URI);
    caller.send([CALL, 3, {}, URI]);
    assert.deepEqual(callee.take(), [[INVOCATION, 1, reg, {}]]);
    callee.send([YIELD, 1, { progress: true }, [1]]);
    callee.send([YIELD, 1, { progress: true }, [2]]);
    assert.deepEqual(caller.take(), []);
    callee.send([YIELD, 1, {}, ['final']]);
    assert.deepEqual(caller.take(), [[RESULT, 3, {}, ['final']]]);
  });
});

describe('dealer: progressive call invocations', () => {
  it('sends every chunk to the callee as an INVOCATION with the same request ID, progress on all but the last', () => {
    const { callee, caller } = setup();
    const reg = callee.register(URI);
    caller.send([CALL, 4, { progress: true }, URI, ['a'], { n: 1 }]);
    caller.send([CALL, 4, { progress: true }, URI, ['b']]);
    caller.send([CALL, 4, { progress: true }, URI]);
    caller.send([CALL, 4, {}, URI, ['z'], { last: true }]);
    assert.deepEqual(callee.take(), [
      [INVOCATION, 1, reg, { progress: true }, ['a'], { n: 1 }],
      [INVOCATION, 1, reg, { progress: true }, ['b']],
      [INVOCATION, 1, reg, { progress: true }],
      [INVOCATION, 1, reg, {}, ['z'], { last: true }],
    ]);
    callee.send([YIELD, 1, {}, ['sum']]);
    assert.deepEqual(caller.take(), [[RESULT, 4, {}, ['sum']]]);
  });

  it('pins every chunk to the callee the first chunk went to, even under roundrobin', () => {
    const { router, caller } = setup();
    const a = MemoryClient.join(router, 'realm1', CALLEE);
    const b = MemoryClient.join(router, 'realm1', CALLEE);
    const reg = a.register(URI, { invoke: 'roundrobin' });
    b.register(URI, { invoke: 'roundrobin' });
    caller.send([CALL, 1, { progress: true }, URI, [1]]);
    caller.send([CALL, 2, {}, URI, ['other']]); // a new call: B's turn
    caller.send([CALL, 1, { progress: true }, URI, [2]]);
    caller.send([CALL, 1, {}, URI, [3]]);
    assert.deepEqual(a.take(), [
      [INVOCATION, 1, reg, { progress: true }, [1]],
      [INVOCATION, 1, reg, { progress: true }, [2]],
      [INVOCATION, 1, reg, {}, [3]],
    ]);
    assert.deepEqual(b.take(), [[INVOCATION, 1, reg, {}, ['other']]]);
  });

  it('the callee may answer before the last chunk; a chunk after the call finished is ignored', () => {
    const { callee, caller } = setup();
    const reg = callee.register(URI);
    caller.send([CALL, 1, { progress: true }, URI, ['a']]);
    assert.deepEqual(callee.take(), [[INVOCATION, 1, reg, { progress: true }, ['a']]]);
    callee.send([YIELD, 1, {}, ['enough']]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}, ['enough']]]);
    caller.send([CALL, 1, { progress: true }, URI, ['b']]);
    caller.send([CALL, 1, {}, URI, ['c']]);
    assert.deepEqual(callee.take(), [], 'late chunks must not reach the callee');
    assert.deepEqual(caller.take(), [], 'late chunks get no reply');
    assert.equal(caller.session.state, 'joined');
    // A new call still works.
    caller.send([CALL, 2, {}, URI]);
    assert.deepEqual(callee.take(), [[INVOCATION, 2, reg, {}]]);
  });

  it('a chunk after the callee answered with ERROR is ignored too', () => {
    const { callee, caller } = setup();
    callee.register(URI);
    caller.send([CALL, 1, { progress: true }, URI, ['a']]);
    callee.take();
    callee.send([ERROR, INVOCATION, 1, {}, 'com.app.error.too_big']);
    assert.deepEqual(caller.take(), [[ERROR, CALL, 1, {}, 'com.app.error.too_big']]);
    caller.send([CALL, 1, { progress: true }, URI, ['b']]);
    assert.deepEqual(callee.take(), []);
    assert.deepEqual(caller.take(), []);
  });

  it('after a killnowait CANCEL, or the callee leaving, later chunks are ignored', () => {
    const { router, callee, caller } = setup();
    callee.register(URI);
    caller.send([CALL, 1, { progress: true }, URI, ['a']]);
    callee.take();
    caller.send([CANCEL, 1, { mode: 'killnowait' }]);
    assert.deepEqual(
      caller.take().map((m) => m.slice(0, 5)),
      [[ERROR, CALL, 1, {}, 'wamp.error.canceled']],
    );
    assert.equal(callee.take()[0]?.[0], 69, 'the callee gets INTERRUPT');
    caller.send([CALL, 1, { progress: true }, URI, ['b']]);
    caller.send([CALL, 1, {}, URI, ['c']]);
    assert.deepEqual([callee.take(), caller.take()], [[], []]);

    const other = MemoryClient.join(router, 'realm1', CALLEE);
    other.register('com.app.other');
    caller.send([CALL, 2, { progress: true }, 'com.app.other', ['a']]);
    other.take();
    other.disconnect();
    assert.deepEqual(
      caller.take().map((m) => m.slice(0, 5)),
      [[ERROR, CALL, 2, {}, 'wamp.error.canceled']],
    );
    caller.send([CALL, 2, {}, 'com.app.other', ['b']]);
    assert.deepEqual(caller.take(), [], 'a late chunk gets no reply (not even no_such_procedure)');
    assert.equal(caller.session.state, 'joined');
  });

  it('progress: true from a caller that did not announce progressive_call_invocations is a protocol violation (ABORT)', () => {
    const { callee, caller } = setup(PLAIN_CALLER);
    callee.register(URI);
    caller.send([CALL, 1, { progress: true }, URI, ['a']]);
    const got = caller.take();
    assert.equal(got.length, 1, `expected one ABORT, got ${JSON.stringify(got)}`);
    assert.equal(got[0][0], ABORT);
    assert.equal(got[0][2], 'wamp.error.protocol_violation');
    assert.ok(caller.peer.closedWith !== undefined, 'the transport is closed after the ABORT');
    assert.deepEqual(callee.take(), []);
  });

  it('a callee without progressive_call_invocations: the caller gets wamp.error.feature_not_supported, later chunks are ignored', () => {
    const { callee, caller } = setup(CALLER, PLAIN_CALLEE);
    callee.register(URI);
    caller.send([CALL, 1, { progress: true }, URI, ['a']]);
    assert.deepEqual(
      caller.take().map((m) => m.slice(0, 5)),
      [[ERROR, CALL, 1, {}, 'wamp.error.feature_not_supported']],
    );
    assert.deepEqual(callee.take(), []);
    caller.send([CALL, 1, {}, URI, ['b']]);
    assert.deepEqual(callee.take(), [], 'the rest of the refused call is not invoked');
    assert.deepEqual(caller.take(), []);
  });

  it('a callee with progressive_call_invocations but without call_canceling: wamp.error.feature_not_supported (spec MUST)', () => {
    const { callee, caller } = setup(CALLER, { callee: { features: { progressive_call_invocations: true } } });
    callee.register(URI);
    caller.send([CALL, 1, { progress: true }, URI, ['a']]);
    assert.deepEqual(
      caller.take().map((m) => m.slice(0, 5)),
      [[ERROR, CALL, 1, {}, 'wamp.error.feature_not_supported']],
    );
    assert.deepEqual(callee.take(), []);
  });

  it('chunks sent while the call waits in the queue reach the callee in order, with progress on all but the last', () => {
    const { router, callee, caller } = setup(CALLER, CALLEE, 1);
    const other = MemoryClient.join(router);
    const reg = callee.register(URI, { concurrency: 1 });
    other.send([CALL, 1, {}, URI, ['busy']]);
    caller.send([CALL, 1, { progress: true }, URI, ['a']]);
    caller.send([CALL, 1, { progress: true }, URI, ['b']]);
    caller.send([CALL, 1, {}, URI, ['c']]);
    assert.deepEqual(callee.take(), [[INVOCATION, 1, reg, {}, ['busy']]]);
    callee.send([YIELD, 1, {}]);
    assert.deepEqual(callee.take(), [
      [INVOCATION, 2, reg, { progress: true }, ['a']],
      [INVOCATION, 2, reg, { progress: true }, ['b']],
      [INVOCATION, 2, reg, {}, ['c']],
    ]);
  });

  it('a queued progressive call whose last chunk came while queued is still refused by a callee without the feature', () => {
    const { router, callee, caller } = setup(CALLER, PLAIN_CALLEE, 1);
    const other = MemoryClient.join(router);
    const reg = callee.register(URI, { concurrency: 1 });
    other.send([CALL, 1, {}, URI, ['busy']]);
    caller.send([CALL, 1, { progress: true }, URI, ['a']]);
    caller.send([CALL, 1, {}, URI, ['b']]);
    assert.deepEqual(callee.take(), [[INVOCATION, 1, reg, {}, ['busy']]]);
    callee.send([YIELD, 1, {}]);
    assert.deepEqual(callee.take(), [], 'a callee without the feature must never see the chunks');
    assert.deepEqual(
      caller.take().map((m) => m.slice(0, 5)),
      [[ERROR, CALL, 1, {}, 'wamp.error.feature_not_supported']],
    );
  });

  it('a chunk that arrives after the caller canceled the progressive call (skip) is ignored, not a new call', () => {
    const { callee, caller } = setup();
    const reg = callee.register(URI);
    caller.send([CALL, 1, { progress: true }, URI, ['a']]);
    assert.deepEqual(callee.take(), [[INVOCATION, 1, reg, { progress: true }, ['a']]]);
    caller.send([CANCEL, 1, { mode: 'skip' }]);
    assert.deepEqual(
      caller.take().map((m) => m.slice(0, 5)),
      [[ERROR, CALL, 1, {}, 'wamp.error.canceled']],
    );
    // Already on its way when the caller canceled.
    caller.send([CALL, 1, { progress: true }, URI, ['b']]);
    assert.deepEqual(callee.take(), [], 'the late chunk must not become a new INVOCATION');
    assert.deepEqual(caller.take(), []);
  });
});
