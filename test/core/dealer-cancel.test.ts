/**
 * Call canceling (WAMP: rpc_call_canceling) and a caller leaving mid-call
 * (WAMP: basic profile, "Caller Leaving During RPC Invocation").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import type { Outbound } from '../../src/wamp/messages.ts';
import { ERROR, CALL, CANCEL, RESULT, INVOCATION, INTERRUPT, YIELD } from '../helpers/wamp-codes.ts';

const URI = 'com.app.long';
const CANCELED = 'wamp.error.canceled';

const CALLER = { caller: { features: { call_canceling: true } } };
const CANCELING_CALLEE = { callee: { features: { call_canceling: true } } };
const PLAIN_CALLEE = { callee: { features: {} } };

function setup(calleeRoles: object) {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  const callee = MemoryClient.join(router, 'realm1', calleeRoles);
  const caller = MemoryClient.join(router, 'realm1', CALLER);
  const reg = callee.register(URI);
  return { router, callee, caller, reg };
}

/** Starts call `request` and returns the INVOCATION request ID the callee got. */
function start(caller: MemoryClient, callee: MemoryClient, request: number): number {
  caller.send([CALL, request, {}, URI, ['work']]);
  const got = callee.take();
  assert.equal(got.length, 1, `expected one INVOCATION, got ${JSON.stringify(got)}`);
  assert.equal(got[0][0], INVOCATION, `expected INVOCATION, got ${JSON.stringify(got[0])}`);
  return got[0][1] as number;
}

function assertCanceledError(got: Outbound[], request: number): void {
  assert.equal(got.length, 1, `expected one ERROR, got ${JSON.stringify(got)}`);
  assert.deepEqual(got[0].slice(0, 5), [ERROR, CALL, request, {}, CANCELED]);
  assert.ok(got[0].length <= 7, `ERROR has too many elements: ${JSON.stringify(got[0])}`);
}

function assertInterrupt(got: Outbound[], invocation: number, mode: string): void {
  assert.equal(got.length, 1, `expected one INTERRUPT, got ${JSON.stringify(got)}`);
  const [msg] = got;
  assert.equal(msg.length, 3, `INTERRUPT must have 3 elements: ${JSON.stringify(msg)}`);
  assert.deepEqual(msg.slice(0, 2), [INTERRUPT, invocation]);
  assert.equal((msg[2] as { mode?: unknown }).mode, mode);
}

describe('dealer: CANCEL to a callee that announced call_canceling', () => {
  it('skip: ERROR canceled to the caller at once, no INTERRUPT, and the later YIELD is discarded', () => {
    const { callee, caller } = setup(CANCELING_CALLEE);
    const inv = start(caller, callee, 1);
    caller.send([CANCEL, 1, { mode: 'skip' }]);
    assertCanceledError(caller.take(), 1);
    assert.deepEqual(callee.take(), [], 'skip sends no INTERRUPT');
    callee.send([YIELD, inv, { progress: true }, ['partial']]);
    callee.send([YIELD, inv, {}, ['late']]);
    assert.deepEqual(caller.take(), [], 'the YIELD after skip is discarded');
    assert.equal(callee.session.state, 'joined');
  });

  it('kill: INTERRUPT with mode kill, nothing to the caller until the callee answers; its ERROR reaches the caller', () => {
    const { callee, caller } = setup(CANCELING_CALLEE);
    const inv = start(caller, callee, 1);
    caller.send([CANCEL, 1, { mode: 'kill' }]);
    assertInterrupt(callee.take(), inv, 'kill');
    assert.deepEqual(caller.take(), [], 'kill waits for the callee');
    callee.send([ERROR, INVOCATION, inv, {}, CANCELED, ['stopped']]);
    assert.deepEqual(caller.take(), [[ERROR, CALL, 1, {}, CANCELED, ['stopped']]]);
    callee.send([YIELD, inv, {}, ['late']]);
    assert.deepEqual(caller.take(), []);
  });

  it('kill: a callee that finished anyway answers with YIELD, and the caller gets that RESULT', () => {
    const { callee, caller } = setup(CANCELING_CALLEE);
    const inv = start(caller, callee, 1);
    caller.send([CANCEL, 1, { mode: 'kill' }]);
    assertInterrupt(callee.take(), inv, 'kill');
    assert.deepEqual(caller.take(), []);
    callee.send([YIELD, inv, {}, ['finished']]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}, ['finished']]]);
  });

  it('killnowait: INTERRUPT with mode killnowait and ERROR canceled at once; the later YIELD is discarded', () => {
    const { callee, caller } = setup(CANCELING_CALLEE);
    const inv = start(caller, callee, 1);
    caller.send([CANCEL, 1, { mode: 'killnowait' }]);
    assertInterrupt(callee.take(), inv, 'killnowait');
    assertCanceledError(caller.take(), 1);
    callee.send([YIELD, inv, {}, ['late']]);
    callee.send([ERROR, INVOCATION, inv, {}, CANCELED]);
    assert.deepEqual(caller.take(), []);
    assert.equal(callee.session.state, 'joined');
  });

  it('no mode: behaves as killnowait', () => {
    const { callee, caller } = setup(CANCELING_CALLEE);
    const inv = start(caller, callee, 1);
    caller.send([CANCEL, 1, {}]);
    assertInterrupt(callee.take(), inv, 'killnowait');
    assertCanceledError(caller.take(), 1);
    callee.send([YIELD, inv, {}, ['late']]);
    assert.deepEqual(caller.take(), []);
  });

  it('a CANCEL for an unknown request, and a repeated CANCEL, are ignored', () => {
    const { callee, caller } = setup(CANCELING_CALLEE);
    caller.send([CANCEL, 42, { mode: 'kill' }]);
    assert.deepEqual([caller.take(), callee.take()], [[], []]);

    const killed = start(caller, callee, 1);
    caller.send([CANCEL, 1, { mode: 'kill' }]);
    assertInterrupt(callee.take(), killed, 'kill');
    caller.send([CANCEL, 1, { mode: 'kill' }]);
    caller.send([CANCEL, 1, { mode: 'killnowait' }]);
    assert.deepEqual([caller.take(), callee.take()], [[], []], 'a second CANCEL during kill changes nothing');
    callee.send([YIELD, killed, {}, ['ok']]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}, ['ok']]]);

    start(caller, callee, 2);
    caller.send([CANCEL, 2, { mode: 'killnowait' }]);
    callee.take();
    assertCanceledError(caller.take(), 2);
    caller.send([CANCEL, 2, { mode: 'killnowait' }]);
    assert.deepEqual([caller.take(), callee.take()], [[], []]);

    start(caller, callee, 3);
    caller.send([CANCEL, 3, { mode: 'skip' }]);
    assertCanceledError(caller.take(), 3);
    caller.send([CANCEL, 3, { mode: 'skip' }]);
    caller.send([CANCEL, 3, { mode: 'kill' }]);
    assert.deepEqual([caller.take(), callee.take()], [[], []]);
    assert.equal(caller.session.state, 'joined');
  });
});

describe('dealer: CANCEL to a callee without call_canceling', () => {
  for (const mode of ['skip', 'kill', 'killnowait', undefined]) {
    it(`mode ${mode ?? '(none)'} behaves as skip: ERROR at once, no INTERRUPT, the later YIELD discarded`, () => {
      const { callee, caller } = setup(PLAIN_CALLEE);
      const inv = start(caller, callee, 1);
      caller.send([CANCEL, 1, mode === undefined ? {} : { mode }]);
      assertCanceledError(caller.take(), 1);
      assert.deepEqual(callee.take(), [], 'no INTERRUPT to a callee without call_canceling');
      callee.send([YIELD, inv, {}, ['late']]);
      assert.deepEqual(caller.take(), []);
      // The callee is free again and keeps working.
      const next = start(caller, callee, 2);
      callee.send([YIELD, next, {}, ['ok']]);
      assert.deepEqual(caller.take(), [[RESULT, 2, {}, ['ok']]]);
    });
  }
});

describe('dealer: a caller leaving mid-call', () => {
  it('a callee with call_canceling gets INTERRUPT killnowait; its later YIELD is ignored and it keeps working', () => {
    const { router, callee, caller } = setup(CANCELING_CALLEE);
    const inv = start(caller, callee, 1);
    caller.disconnect();
    assertInterrupt(callee.take(), inv, 'killnowait');
    callee.send([YIELD, inv, {}, ['late']]);
    callee.send([ERROR, INVOCATION, inv, {}, CANCELED]);
    assert.deepEqual(callee.take(), []);
    assert.equal(callee.session.state, 'joined');
    const other = MemoryClient.join(router, 'realm1', CALLER);
    other.send([CALL, 1, {}, URI]);
    const [invocation] = callee.take();
    assert.equal(invocation[0], INVOCATION);
    callee.send([YIELD, invocation[1], {}, ['fresh']]);
    assert.deepEqual(other.take(), [[RESULT, 1, {}, ['fresh']]]);
  });

  it('a callee without call_canceling gets nothing; its later YIELD is ignored and it keeps working', () => {
    const { router, callee, caller } = setup(PLAIN_CALLEE);
    const inv = start(caller, callee, 1);
    caller.disconnect();
    assert.deepEqual(callee.take(), []);
    callee.send([YIELD, inv, {}, ['late']]);
    assert.deepEqual(callee.take(), []);
    assert.equal(callee.session.state, 'joined');
    const other = MemoryClient.join(router, 'realm1', CALLER);
    other.send([CALL, 1, {}, URI]);
    const [invocation] = callee.take();
    assert.equal(invocation[0], INVOCATION);
    callee.send([YIELD, invocation[1], {}, ['fresh']]);
    assert.deepEqual(other.take(), [[RESULT, 1, {}, ['fresh']]]);
  });

  it('the same holds for a caller that leaves with GOODBYE', () => {
    const { callee, caller } = setup(CANCELING_CALLEE);
    const inv = start(caller, callee, 1);
    caller.send([6, {}, 'wamp.close.close_realm']);
    assert.deepEqual(caller.take(), [[6, {}, 'wamp.close.goodbye_and_out']]);
    assertInterrupt(callee.take(), inv, 'killnowait');
    callee.send([YIELD, inv, {}, ['late']]);
    assert.deepEqual(caller.take(), [], 'nothing after the GOODBYE reply');
  });
});
