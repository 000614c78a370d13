/** Limits: each has a default, is configurable, and answers clearly without harming others. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { DEFAULT_LIMITS, RateLimiter } from '../../src/core/limits.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';

describe('limits', () => {
  it('has safe defaults', () => {
    assert.deepEqual(DEFAULT_LIMITS, {
      callsInFlight: 1000,
      registrations: 1000,
      subscriptions: 1000,
      messageRate: 250_000,
      sessions: 100_000,
      callsInFlightTotal: 100_000,
      pendingSessions: 10_000,
      openingTimeout: 10_000,
      testaments: 64,
      testamentBytes: 256 * 1024,
      retainedEvents: 10_000,
      retainedBytes: 64 * 1024 * 1024,
      retainedEventsPerSession: 1000,
      retainedBytesPerSession: 8 * 1024 * 1024,
      maxDepth: 64,
    });
  });

  it('refuses registrations past the per-session limit, others unaffected', () => {
    const router = new Router({ realms: [{ name: 'realm1' }], limits: { registrations: 2 } });
    const a = MemoryClient.join(router);
    a.register('com.a.1');
    a.register('com.a.2');
    a.send([64, 9, {}, 'com.a.3']);
    assert.deepEqual(a.take()[0].slice(0, 5), [8, 64, 9, {}, 'kreuz.error.limit_reached']);
    MemoryClient.join(router).register('com.b.1');
  });

  it('refuses subscriptions past the per-session limit; subscribing again to one it holds is fine', () => {
    const router = new Router({ realms: [{ name: 'realm1' }], limits: { subscriptions: 1 } });
    const a = MemoryClient.join(router);
    const id = a.subscribe('com.t.1');
    assert.equal(a.subscribe('com.t.1'), id);
    a.send([32, 5, {}, 'com.t.2']);
    assert.equal(a.take()[0][4], 'kreuz.error.limit_reached');
  });

  it('refuses calls past the calls-in-flight limit and accepts again once one finishes', () => {
    const router = new Router({ realms: [{ name: 'realm1' }], limits: { callsInFlight: 2 } });
    const callee = MemoryClient.join(router);
    const caller = MemoryClient.join(router);
    callee.register('com.slow');
    caller.send([48, 1, {}, 'com.slow']);
    caller.send([48, 2, {}, 'com.slow']);
    caller.send([48, 3, {}, 'com.slow']);
    assert.deepEqual(
      caller.take().map((m) => [m[2], m[4]]),
      [[3, 'kreuz.error.limit_reached']],
    );
    const invocations = callee.take();
    assert.equal(invocations.length, 2, 'the first two calls reached the callee');
    callee.send([70, invocations[0][1], {}]);
    caller.send([48, 4, {}, 'com.slow']);
    assert.deepEqual(
      caller.take().map((m) => m[0]),
      [50],
    );
    assert.deepEqual(
      callee.take().map((m) => m[0]),
      [68],
      'the fourth call reached the callee',
    );
  });

  it('refuses a HELLO past the router-wide session limit and admits again when one leaves', () => {
    const router = new Router({ realms: [{ name: 'realm1' }], limits: { sessions: 2 } });
    const a = MemoryClient.join(router);
    MemoryClient.join(router);
    const c = new MemoryClient(router);
    c.send([1, 'realm1', { roles: { caller: {} } }]);
    assert.deepEqual([c.take()[0][0], c.peer.sent.length], [3, 0]);
    a.disconnect();
    MemoryClient.join(router);
  });

  it('closes a session sending faster than its message rate with ABORT rate_limited, others keep working', () => {
    let now = 0;
    const router = new Router({ realms: [{ name: 'realm1' }], limits: { messageRate: 10 }, now: () => now });
    const flood = MemoryClient.join(router);
    const calm = MemoryClient.join(router);
    calm.register('com.calm');
    // The bucket holds 20 (two seconds' worth); HELLO took one.
    for (let i = 0; i < 19; i++) flood.send([16, i + 1, {}, 'com.t']);
    assert.equal(flood.session.state, 'joined');
    flood.send([16, 100, {}, 'com.t']);
    const [abort] = flood.take();
    assert.deepEqual([abort[0], abort[2]], [3, 'kreuz.error.rate_limited']);
    assert.equal(flood.session.state, 'closed');
    now += 1000;
    calm.send([48, 1, {}, 'com.calm']);
    assert.equal(calm.session.state, 'joined');
  });

  it('refills the bucket with time', () => {
    let now = 0;
    const limiter = new RateLimiter(5, () => now);
    for (let i = 0; i < 10; i++) assert.equal(limiter.take(), true);
    assert.equal(limiter.take(), false);
    now += 200; // one more token
    assert.equal(limiter.take(), true);
    assert.equal(limiter.take(), false);
  });
});
