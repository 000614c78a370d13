/**
 * What a session can make the router hold is bounded: calls (router-wide,
 * abandoned ones, unclosed progressive ones), retained events, connections
 * that never join. Each limit answers clearly and leaves others unharmed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import type { Timers } from '../../src/core/hooks.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { CALL, ERROR, INVOCATION, RESULT, YIELD, PUBLISH, PUBLISHED, REGISTERED } from '../helpers/wamp-codes.ts';

/** Timers that only fire when told; remembers every delay asked for. */
class ManualTimers implements Timers {
  readonly delays: number[] = [];
  private readonly pending = new Map<number, () => void>();
  private next = 1;
  setTimeout(callback: () => void, ms: number): unknown {
    this.delays.push(ms);
    const id = this.next++;
    this.pending.set(id, callback);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  get count(): number {
    return this.pending.size;
  }
  /** Fires every pending timer once (those they start stay pending). */
  fireAll(): void {
    const due = [...this.pending];
    this.pending.clear();
    for (const [, callback] of due) callback();
  }
}

const NO_CANCELING = { caller: {}, callee: {}, publisher: {}, subscriber: {} };
const PROGRESSIVE = {
  caller: { features: { progressive_call_invocations: true, call_canceling: true } },
  callee: { features: { progressive_call_invocations: true, call_canceling: true } },
};

describe('limits on what sessions make the router hold', () => {
  it('caps calls in flight router-wide, whoever the callers are, and frees the slot when a call ends', () => {
    const router = new Router({ realms: [{ name: 'realm1' }], limits: { callsInFlightTotal: 3 } });
    const callee = MemoryClient.join(router);
    callee.register('com.slow');
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    a.send([CALL, 1, {}, 'com.slow']);
    a.send([CALL, 2, {}, 'com.slow']);
    b.send([CALL, 1, {}, 'com.slow']);
    b.send([CALL, 2, {}, 'com.slow']);
    assert.deepEqual(
      b.take().map((m) => [m[0], m[2], m[4]]),
      [[ERROR, 2, 'kreuz.error.limit_reached']],
    );
    assert.equal(router.counters.callsInFlight, 3);
    assert.equal(router.counters.limitReached.get('callsInFlightTotal'), 1);
    const [first] = callee.take();
    callee.send([YIELD, first[1], {}]);
    assert.equal(router.counters.callsInFlight, 2);
    b.send([CALL, 3, {}, 'com.slow']);
    assert.deepEqual(b.take(), []);
    assert.equal(callee.take().length, 1, 'the next call reached the callee');
  });

  it('keeps a skipped call counted against its caller until the callee answers, holding its ID but not its payload', () => {
    const router = new Router({ realms: [{ name: 'realm1' }], limits: { callsInFlight: 2 } });
    // The callee cannot take INTERRUPT, so every cancel becomes skip (WAMP).
    const callee = MemoryClient.join(router, 'realm1', NO_CANCELING);
    callee.register('com.slow');
    const caller = MemoryClient.join(router);
    const payload = ['x'.repeat(100_000)];
    caller.send([CALL, 1, {}, 'com.slow', payload]);
    caller.send([CALL, 2, {}, 'com.slow', payload]);
    caller.send([49, 1, { mode: 'skip' }]);
    assert.deepEqual(
      caller.take().map((m) => [m[0], m[2], m[4]]),
      [[ERROR, 1, 'wamp.error.canceled']],
    );
    const [held] = [...callee.session.invocations.values()].filter((i) => i.callRequest === 1);
    assert.deepEqual(held.call, [CALL, 1, {}, 'com.slow'], 'only what identifies the call is kept');
    for (const invocation of callee.session.invocations.values()) {
      assert.deepEqual(invocation.call.slice(4), [], 'no call in flight keeps its payload once the callee has it');
    }
    caller.send([CALL, 3, {}, 'com.slow']);
    assert.deepEqual(
      caller.take().map((m) => [m[0], m[2], m[4]]),
      [[ERROR, 3, 'kreuz.error.limit_reached']],
    );
    const invocations = callee.take();
    callee.send([YIELD, invocations[0][1], {}, ['late']]);
    assert.deepEqual(caller.take(), [], 'the skipped call stays answered');
    caller.send([CALL, 4, {}, 'com.slow']);
    assert.deepEqual(caller.take(), []);
    assert.equal(router.counters.callsInFlight, 2);
  });

  it('chains a call timeout longer than a Node timer can wait (2^31 ms) instead of firing it at once', () => {
    const timers = new ManualTimers();
    const router = new Router({ realms: [{ name: 'realm1' }], timers });
    const callee = MemoryClient.join(router);
    callee.register('com.slow');
    const caller = MemoryClient.join(router);
    const before = timers.delays.length;
    caller.send([CALL, 1, { timeout: 2 ** 31 + 5 }, 'com.slow']);
    assert.deepEqual(timers.delays.slice(before), [2 ** 31 - 1]);
    timers.fireAll();
    assert.deepEqual(caller.take(), [], 'not timed out after the first 2^31 - 1 ms');
    assert.deepEqual(timers.delays.slice(before), [2 ** 31 - 1, 6]);
    timers.fireAll();
    assert.deepEqual(
      caller.take().map((m) => [m[0], m[4]]),
      [[ERROR, 'wamp.error.canceled']],
    );
  });

  it('ignores late chunks of a finished progressive call however many calls finished since, until the caller closes it', () => {
    const router = new Router({ realms: [{ name: 'realm1' }] });
    const callee = MemoryClient.join(router, 'realm1', PROGRESSIVE);
    callee.register('com.stream');
    const caller = MemoryClient.join(router, 'realm1', PROGRESSIVE);
    caller.send([CALL, 1, { progress: true }, 'com.stream', [1]]);
    const [invocation] = callee.take();
    callee.send([YIELD, invocation[1], {}, ['done early']]);
    assert.equal(caller.take()[0][0], RESULT);
    for (let request = 2; request < 200; request++) {
      caller.send([CALL, request, {}, 'com.stream']);
      callee.send([YIELD, callee.take()[0][1], {}]);
    }
    caller.take();
    caller.send([CALL, 1, { progress: true }, 'com.stream', [2]]);
    caller.send([CALL, 1, {}, 'com.stream', [3]]);
    assert.deepEqual(callee.take(), [], 'late chunks reach no callee');
    assert.deepEqual(caller.take(), [], 'and start no call');
    // Its final chunk closed the call on the caller's side: the ID is free again.
    caller.send([CALL, 1, {}, 'com.stream', ['new']]);
    assert.deepEqual(
      callee.take().map((m) => [m[0], m[4]]),
      [[INVOCATION, ['new']]],
    );
  });

  it('counts unclosed progressive calls against the caller, which bounds what it makes the router remember', () => {
    const router = new Router({ realms: [{ name: 'realm1' }], limits: { callsInFlight: 2 } });
    const callee = MemoryClient.join(router, 'realm1', PROGRESSIVE);
    callee.register('com.stream');
    const caller = MemoryClient.join(router, 'realm1', PROGRESSIVE);
    for (const request of [1, 2]) {
      caller.send([CALL, request, { progress: true }, 'com.stream']);
      callee.send([YIELD, callee.take()[0][1], {}]);
    }
    caller.take();
    caller.send([CALL, 3, {}, 'com.stream']);
    assert.equal(caller.take()[0][4], 'kreuz.error.limit_reached');
    assert.equal(caller.session.finishedProgressiveCalls.size, 2);
  });

  it('limits retained events per publishing session and per realm, in count and bytes; replacing its own is fine', () => {
    const router = new Router({
      realms: [{ name: 'realm1' }],
      limits: { retainedEventsPerSession: 2, retainedEvents: 3, retainedBytes: 10_000 },
    });
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    const publish = (client: MemoryClient, topic: string, args: unknown[] = []) => {
      const request = client.request();
      client.send([PUBLISH, request, { retain: true, acknowledge: true }, topic, args]);
      const [reply] = client.take();
      return reply[0] === PUBLISHED ? 'published' : reply[4];
    };
    assert.equal(publish(a, 'com.t.1'), 'published');
    assert.equal(publish(a, 'com.t.2'), 'published');
    assert.equal(publish(a, 'com.t.3'), 'kreuz.error.limit_reached', 'a third topic for the same session');
    assert.equal(publish(a, 'com.t.2', ['again']), 'published', 'replacing its own retained event');
    assert.equal(publish(b, 'com.t.4'), 'published');
    assert.equal(publish(b, 'com.t.5'), 'kreuz.error.limit_reached', 'the realm holds 3');
    assert.equal(publish(b, 'com.t.4', ['x'.repeat(20_000)]), 'kreuz.error.limit_reached', 'the realm holds 10,000 bytes');
    assert.deepEqual(router.realms.get('realm1')!.broker.store.retainedUsage.events, 3);
    assert.equal(router.counters.limitReached.get('retainedEvents'), 3);
  });

  it('closes a connection that does not join within the opening timeout, a pending CHALLENGE included', () => {
    const timers = new ManualTimers();
    const router = new Router({ realms: [{ name: 'realm1' }], timers, limits: { openingTimeout: 500 } });
    const silent = new MemoryClient(router);
    const joined = MemoryClient.join(router);
    assert.equal(timers.delays.at(-1), 500);
    timers.fireAll();
    assert.deepEqual(
      silent.take().map((m) => [m[0], m[2]]),
      [[3, 'wamp.error.timeout']],
    );
    assert.equal(silent.peer.closedWith, 'wamp.error.timeout');
    assert.equal(joined.session.state, 'joined', 'a joined session has no deadline');
    assert.equal(router.counters.limitReached.get('openingTimeout'), 1);
  });

  it('caps connections that have not joined; joining or leaving frees a place', () => {
    const router = new Router({ realms: [{ name: 'realm1' }], limits: { pendingSessions: 2 } });
    const a = new MemoryClient(router);
    new MemoryClient(router);
    const refused = new MemoryClient(router);
    assert.deepEqual(
      refused.take().map((m) => [m[0], m[2]]),
      [[3, 'kreuz.error.limit_reached']],
    );
    assert.equal(refused.session.state, 'closed');
    a.send([1, 'realm1', { roles: { caller: {} } }]);
    assert.equal(a.take()[0][0], 2);
    MemoryClient.join(router);
    const again = new MemoryClient(router);
    assert.deepEqual(again.take(), [], 'admitted');
  });

  it("starts with a registration limit below the router's own registrations (its sessions are not limited)", () => {
    const router = new Router({ realms: [{ name: 'realm1' }], limits: { registrations: 1 } });
    const internal = router.joinInternal(
      new (class {
        info = { type: 'memory', serializer: 'none', peer: 'internal' } as const;
        send() {}
        close() {}
      })(),
      'realm1',
      'svc',
    );
    for (let i = 0; i < 30; i++) router.receive(internal, [64, i + 1, {}, `wamp.test.p${i}`]);
    assert.equal(router.realms.get('realm1')!.dealer.match('wamp.test.p29')?.uri, 'wamp.test.p29');
    const client = MemoryClient.join(router);
    client.register('com.one');
    client.send([64, 99, {}, 'com.two']);
    assert.equal(client.take()[0][4], 'kreuz.error.limit_reached');
  });

  it('reserves the whole "wamp" prefix: clients cannot register it, and their catch-all patterns never get wamp.* calls', () => {
    const router = new Router({ realms: [{ name: 'realm1' }] });
    const client = MemoryClient.join(router);
    for (const [uri, match] of [
      ['wamp', 'prefix'],
      ['wamp.', 'prefix'],
      ['wamp..get', 'wildcard'],
      ['wamp.x', 'exact'],
    ]) {
      client.send([64, 1, { match }, uri]);
      assert.equal(client.take()[0][4], 'wamp.error.invalid_uri', `${match} ${uri}`);
    }
    for (const [uri, match] of [
      ['', 'prefix'],
      ['w', 'prefix'],
      ['.session.get', 'wildcard'],
    ]) {
      client.send([64, 2, { match }, uri]);
      assert.equal(client.take()[0][0], REGISTERED, `${match} "${uri}" is an ordinary pattern`);
    }
    const caller = MemoryClient.join(router);
    caller.send([CALL, 1, {}, 'wamp.session.get']);
    assert.deepEqual(
      caller.take().map((m) => [m[0], m[4]]),
      [[ERROR, 'wamp.error.no_such_procedure']],
    );
    assert.deepEqual(client.take(), [], 'no INVOCATION for a wamp.* URI');
    caller.send([CALL, 2, {}, 'com.app.any']);
    assert.equal(client.take()[0][0], INVOCATION, 'the catch-all still gets application calls');
  });
});
