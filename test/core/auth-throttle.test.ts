/**
 * AuthThrottle on its own, with a hand-moved clock: one authentication at a
 * time per address, failure records per address and per principal, what a
 * success clears, and the memory bounds.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthThrottle, throttleKeys, type ThrottleKeys, type Turn } from '../../src/core/auth-throttle.ts';
import { Session } from '../../src/core/session.ts';
import { MemoryPeer } from '../helpers/memory-peer.ts';

function setup(options = {}) {
  const clock = { now: 0 };
  const throttle = new AuthThrottle(options, () => clock.now);
  const turns: Array<{ name: string; turn: Turn }> = [];
  /** A HELLO of a new session named `name`; its turn is recorded when it comes. */
  const hello = (name: string, keys: Partial<ThrottleKeys> = {}) => {
    const session = new Session(new MemoryPeer());
    const queued = throttle.enter(session, { address: 'tcp:192.0.2.1', principal: undefined, ...keys }, (turn) =>
      turns.push({ name, turn }),
    );
    return { session, queued };
  };
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  return { clock, throttle, turns, hello, flush };
}

const waitOf = (turn: Turn) => ('wait' in turn ? turn.wait : turn.refused);

describe('AuthThrottle: one authentication at a time per address', () => {
  it('a second HELLO from the address waits until the first ends, then they go in order', async () => {
    const { throttle, turns, hello, flush } = setup();
    const a = hello('a');
    const b = hello('b');
    const c = hello('c');
    const other = hello('other', { address: 'tcp:192.0.2.99' });
    await flush();
    assert.deepEqual(
      turns.map((t) => t.name),
      ['a', 'other'],
      'b and c wait behind a; another address does not',
    );
    throttle.succeeded(a.session);
    await flush();
    assert.deepEqual(
      turns.map((t) => t.name),
      ['a', 'other', 'b'],
    );
    throttle.failed(b.session);
    await flush();
    assert.deepEqual(
      turns.map((t) => t.name),
      ['a', 'other', 'b', 'c'],
    );
    throttle.release(c.session);
    throttle.release(other.session);
    assert.deepEqual(throttle.sizes, { addresses: 1, principals: 0, lines: 0, entries: 0 });
  });

  it('the queue is bounded: beyond maxQueue a HELLO is refused at once', () => {
    const { hello } = setup({ maxQueue: 2 });
    assert.equal(hello('holder').queued, true);
    assert.equal(hello('q1').queued, true);
    assert.equal(hello('q2').queued, true);
    assert.equal(hello('q3').queued, false);
  });

  it('a pending one whose session closes releases the address; so does a queued one leaving', async () => {
    const { throttle, turns, hello, flush } = setup();
    const a = hello('a');
    const b = hello('b');
    hello('c');
    throttle.release(b.session); // b's transport closed while queued
    a.session.state = 'closed';
    throttle.release(a.session); // a's transport closed while its CHALLENGE was pending
    await flush();
    assert.deepEqual(
      turns.map((t) => t.name),
      ['a', 'c'],
    );
  });

  it('a holder that closed without a release does not block its address forever', async () => {
    const { turns, hello, flush } = setup();
    const a = hello('a');
    a.session.state = 'closed'; // nobody called release
    hello('b');
    await flush();
    assert.deepEqual(
      turns.map((t) => t.name),
      ['a', 'b'],
    );
  });

  it('sessions without an address (in-process) are not queued', () => {
    const { turns, hello } = setup();
    hello('x', { address: undefined });
    hello('y', { address: undefined });
    assert.deepEqual(
      turns.map((t) => t.name),
      ['x', 'y'],
    );
  });
});

describe('AuthThrottle: failures per address and per principal', () => {
  it('after 3 free failures from an address each next attempt waits 250 ms, doubling to 10 s', async () => {
    const { throttle, turns, hello, flush, clock } = setup();
    for (let i = 0; i < 10; i++) {
      const { session } = hello(`#${i}`);
      await flush();
      clock.now += waitOf(turns.at(-1)!.turn) as number; // the router waits that long, then authenticates
      throttle.failed(session);
    }
    assert.deepEqual(
      turns.map((t) => waitOf(t.turn)),
      [0, 0, 0, 250, 500, 1000, 2000, 4000, 8000, 10_000],
    );
  });

  it("a success clears the principal's record, never the address's", async () => {
    const { throttle, turns, hello, flush, clock } = setup();
    const joe = { principal: 'ticket joe' };
    for (let i = 0; i < 4; i++) {
      const { session } = hello('joe', joe);
      await flush();
      clock.now += waitOf(turns.at(-1)!.turn) as number;
      throttle.failed(session);
    }
    // An anonymous login (no principal) from the same address: the record stays.
    const anon = hello('anonymous');
    await flush();
    assert.equal(waitOf(turns.at(-1)!.turn), 500, 'the anonymous HELLO waits like any other from the address');
    clock.now += 500;
    throttle.succeeded(anon.session);
    const again = hello('joe again', joe);
    await flush();
    clock.now += waitOf(turns.at(-1)!.turn) as number;
    throttle.failed(again.session);
    const next = hello('joe 6', joe);
    await flush();
    assert.equal(waitOf(turns.at(-1)!.turn), 1000, 'the count went on (5 failures -> 1 s), not reset by the anonymous login');
    clock.now += 1000;
    throttle.succeeded(next.session); // joe's right ticket: his record goes
    assert.equal(throttle.sizes.principals, 0);
    assert.equal(throttle.sizes.addresses, 1, 'the address keeps its failures');
    const after = hello('joe 7', joe);
    await flush();
    clock.now += waitOf(turns.at(-1)!.turn) as number;
    throttle.failed(after.session);
    hello('joe 8', joe);
    await flush();
    assert.equal(waitOf(turns.at(-1)!.turn), 2000, "the address's 6th failure -> 2 s: its count survived joe's success");
  });

  it("a brute force on one authid from many addresses is slowed by the principal's record", async () => {
    const { throttle, turns, hello, flush, clock } = setup();
    for (let i = 0; i < 4; i++) {
      const { session } = hello(`from ${i}`, { address: `tcp:198.51.100.${i}`, principal: 'wampcra peter' });
      await flush();
      clock.now += waitOf(turns.at(-1)!.turn) as number;
      throttle.failed(session);
    }
    assert.deepEqual(
      turns.map((t) => waitOf(t.turn)),
      [0, 0, 0, 250],
    );
    hello('other authid, fresh address', { address: 'tcp:198.51.100.77', principal: 'wampcra paul' });
    await flush();
    assert.equal(waitOf(turns.at(-1)!.turn), 0);
  });

  it('a throttled principal spaces parallel attempts; one that would wait beyond maxMs is refused', async () => {
    const { throttle, turns, hello, flush, clock } = setup();
    for (let i = 0; i < 8; i++) {
      const { session } = hello(`seq ${i}`, { address: `tcp:198.51.100.${i}`, principal: 'ticket joe' });
      await flush();
      clock.now += waitOf(turns.at(-1)!.turn) as number;
      throttle.failed(session);
    }
    turns.length = 0;
    for (let i = 0; i < 4; i++) hello(`par ${i}`, { address: `tcp:203.0.113.${i}`, principal: 'ticket joe' });
    await flush();
    // 8 failures: 8 s after the last one; each start pushes the next one 8 s further.
    assert.equal(waitOf(turns[0].turn), 8000);
    for (const t of turns.slice(1)) assert.match(String(waitOf(t.turn)), /too many failed authentications for this authid/);
  });
});

describe('AuthThrottle: bounded memory', () => {
  it('keeps at most maxRecords addresses and principals, and forgets old records', async () => {
    const { throttle, hello, flush, clock } = setup({ maxRecords: 50, forgetMs: 60_000 });
    for (let i = 0; i < 200; i++) {
      const { session } = hello(String(i), { address: `tcp:10.0.${i >> 8}.${i & 255}`, principal: `ticket user${i}` });
      await flush();
      throttle.failed(session);
    }
    assert.deepEqual(throttle.sizes, { addresses: 50, principals: 50, lines: 0, entries: 0 });
    // A record older than forgetMs counts as none.
    const { session } = hello('late', { address: 'tcp:10.0.0.199' });
    await flush();
    throttle.failed(session);
    clock.now += 60_001;
    const turns: Turn[] = [];
    const fresh = new Session(new MemoryPeer());
    throttle.enter(fresh, { address: 'tcp:10.0.0.199', principal: undefined }, (t) => turns.push(t));
    assert.deepEqual(turns, [{ wait: 0 }]);
  });
});

describe('throttleKeys', () => {
  it('keys by the transport address (the forwarded one behind a trusted proxy) and by method + authid', () => {
    assert.deepEqual(throttleKeys({ type: 'websocket', serializer: 'json', peer: 'tcp:127.0.0.1:5000' }, 'ticket', 'joe'), {
      address: '127.0.0.1',
      principal: 'ticket joe',
    });
    assert.deepEqual(
      throttleKeys(
        { type: 'websocket', serializer: 'json', peer: 'tcp:2001:db8::7', address: '2001:db8::7', via: 'tcp:10.0.0.1:4000' },
        'wampcra',
        undefined,
      ),
      { address: '2001:db8::7', principal: undefined },
    );
    assert.deepEqual(
      throttleKeys({ type: 'rawsocket', serializer: 'json', peer: 'tcp:::ffff:127.0.0.1:5000' }, 'ticket', 'joe').address,
      '127.0.0.1',
      'one key for one client on every transport',
    );
    assert.deepEqual(throttleKeys({ type: 'rawsocket', serializer: 'json', peer: 'unix' }, 'ticket', 'joe').address, 'unix');
    assert.deepEqual(throttleKeys({ type: 'memory', serializer: 'none', peer: 'local' }, 'anonymous', undefined), {
      address: undefined,
      principal: undefined,
    });
  });
});
