/**
 * CALL.Options.timeout, in milliseconds (WAMP: rpc_call_timeout): the dealer
 * cancels the call like a killnowait CANCEL and tells the caller with
 * wamp.error.canceled, as Crossbar does. Time is faked: nothing waits.
 */
import { afterEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import type { Timers } from '../../src/core/hooks.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { ERROR, CALL, RESULT, INVOCATION, INTERRUPT, YIELD } from '../helpers/wamp-codes.ts';

const URI = 'com.app.slow';

const CALLER = { caller: { features: { call_canceling: true, progressive_call_results: true } } };
const CANCELING_CALLEE = { callee: { features: { call_canceling: true, progressive_call_results: true } } };
const PLAIN_CALLEE = { callee: { features: { progressive_call_results: true } } };

/** A hand-driven clock implementing the core's Timers. */
class FakeTimers implements Timers {
  private now = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; callback: () => void }>();

  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Timers still set. */
  get size(): number {
    return this.pending.size;
  }

  tick(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.pending) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.pending.delete(next[0]);
      this.now = next[1].at;
      next[1].callback();
    }
    this.now = end;
  }
}

function setup(calleeRoles: object, callQueueLimit = 0) {
  const timers = new FakeTimers();
  const router = new Router({ realms: [{ name: 'realm1' }], timers, callQueueLimit });
  const callee = MemoryClient.join(router, 'realm1', calleeRoles);
  const caller = MemoryClient.join(router, 'realm1', CALLER);
  const reg = callee.register(URI);
  return { timers, router, callee, caller, reg };
}

const TIMED_OUT = (request: number) => [ERROR, CALL, request, {}, 'wamp.error.canceled', ['timeout reached']];

describe('dealer: call timeout', () => {
  it('nothing happens at 999 ms; at 1000 ms the caller gets canceled and a canceling callee INTERRUPT killnowait', () => {
    const { timers, callee, caller, reg } = setup(CANCELING_CALLEE);
    caller.send([CALL, 1, { timeout: 1000 }, URI, ['x']]);
    const [invocation] = callee.take();
    assert.deepEqual(invocation.slice(0, 3), [INVOCATION, 1, reg]);
    timers.tick(999);
    assert.deepEqual([caller.take(), callee.take()], [[], []]);
    timers.tick(1);
    assert.deepEqual(caller.take(), [TIMED_OUT(1)]);
    const interrupts = callee.take();
    assert.equal(interrupts.length, 1, `expected one INTERRUPT, got ${JSON.stringify(interrupts)}`);
    assert.deepEqual(interrupts[0].slice(0, 2), [INTERRUPT, 1]);
    assert.equal((interrupts[0][2] as { mode?: unknown }).mode, 'killnowait');
    // The callee's late answer goes nowhere.
    callee.send([YIELD, 1, {}, ['late']]);
    assert.deepEqual(caller.take(), []);
    assert.equal(timers.size, 0, 'no timer left behind');
  });

  it('a callee without call_canceling gets no INTERRUPT, and its later YIELD is discarded', () => {
    const { timers, callee, caller } = setup(PLAIN_CALLEE);
    caller.send([CALL, 1, { timeout: 1000 }, URI]);
    callee.take();
    timers.tick(1000);
    assert.deepEqual(caller.take(), [TIMED_OUT(1)]);
    assert.deepEqual(callee.take(), []);
    callee.send([YIELD, 1, { progress: true }, ['partial']]);
    callee.send([YIELD, 1, {}, ['late']]);
    assert.deepEqual(caller.take(), []);
    assert.equal(callee.session.state, 'joined');
  });

  it('a YIELD before the timeout clears the timer: ticking on sends nothing', () => {
    const { timers, callee, caller } = setup(CANCELING_CALLEE);
    caller.send([CALL, 1, { timeout: 1000 }, URI]);
    callee.take();
    timers.tick(500);
    callee.send([YIELD, 1, {}, ['in time']]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}, ['in time']]]);
    assert.equal(timers.size, 0, 'the timer is cleared');
    timers.tick(10_000);
    assert.deepEqual([caller.take(), callee.take()], [[], []]);
  });

  it('an ERROR from the callee before the timeout clears the timer too', () => {
    const { timers, callee, caller } = setup(CANCELING_CALLEE);
    caller.send([CALL, 1, { timeout: 1000 }, URI]);
    callee.take();
    callee.send([ERROR, INVOCATION, 1, {}, 'com.app.error.nope']);
    assert.deepEqual(caller.take(), [[ERROR, CALL, 1, {}, 'com.app.error.nope']]);
    timers.tick(10_000);
    assert.deepEqual([caller.take(), callee.take()], [[], []]);
  });

  it('with progressive results, the timeout restarts at each progressive RESULT', () => {
    const { timers, callee, caller } = setup(CANCELING_CALLEE);
    caller.send([CALL, 1, { timeout: 1000, receive_progress: true }, URI]);
    callee.take();
    timers.tick(600);
    callee.send([YIELD, 1, { progress: true }, [1]]);
    assert.deepEqual(caller.take(), [[RESULT, 1, { progress: true }, [1]]]);
    timers.tick(999); // 1599 ms after the CALL, 999 after the last result
    assert.deepEqual([caller.take(), callee.take()], [[], []]);
    callee.send([YIELD, 1, { progress: true }, [2]]);
    assert.deepEqual(caller.take(), [[RESULT, 1, { progress: true }, [2]]]);
    timers.tick(999);
    assert.deepEqual(caller.take(), []);
    timers.tick(1);
    assert.deepEqual(caller.take(), [TIMED_OUT(1)]);
    assert.equal(callee.take()[0]?.[0], INTERRUPT);
  });

  it('timeout 0 means no timeout', () => {
    const { timers, callee, caller } = setup(CANCELING_CALLEE);
    caller.send([CALL, 1, { timeout: 0 }, URI]);
    callee.take();
    assert.equal(timers.size, 0, 'no timer for timeout 0');
    timers.tick(3_600_000);
    assert.deepEqual([caller.take(), callee.take()], [[], []]);
    callee.send([YIELD, 1, {}, ['eventually']]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}, ['eventually']]]);
  });

  it('a call waiting in the queue times out too, and leaves the queue', () => {
    const timers = new FakeTimers();
    const router = new Router({ realms: [{ name: 'realm1' }], timers, callQueueLimit: 1 });
    const callee = MemoryClient.join(router, 'realm1', CANCELING_CALLEE);
    const caller = MemoryClient.join(router, 'realm1', CALLER);
    const reg = callee.register(URI, { concurrency: 1 });
    caller.send([CALL, 1, {}, URI, ['busy']]);
    caller.send([CALL, 2, { timeout: 1000 }, URI, ['queued']]);
    assert.deepEqual(callee.take(), [[INVOCATION, 1, reg, {}, ['busy']]]);
    timers.tick(1000);
    assert.deepEqual(caller.take(), [TIMED_OUT(2)]);
    assert.deepEqual(callee.take(), [], 'nothing reached the callee: no INTERRUPT');
    callee.send([YIELD, 1, {}]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}]]);
    assert.deepEqual(callee.take(), [], 'the timed-out call left the queue');
  });
});

describe('dealer: call timeout with the default timers (node:test mock timers)', () => {
  afterEach(() => mock.timers.reset());

  it('fires at exactly the timeout in milliseconds', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const router = new Router({ realms: [{ name: 'realm1' }] });
    const callee = MemoryClient.join(router, 'realm1', CANCELING_CALLEE);
    const caller = MemoryClient.join(router, 'realm1', CALLER);
    callee.register(URI);
    caller.send([CALL, 1, { timeout: 1000 }, URI]);
    callee.take();
    mock.timers.tick(999);
    assert.deepEqual([caller.take(), callee.take()], [[], []]);
    mock.timers.tick(1);
    assert.deepEqual(caller.take(), [TIMED_OUT(1)]);
    assert.equal(callee.take()[0]?.[0], INTERRUPT);
  });
});
