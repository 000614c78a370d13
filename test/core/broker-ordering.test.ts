/** Event ordering (WAMP: events of one publisher reach each subscriber in publication order). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { PUBLISH, PUBLISHED, EVENT } from '../helpers/wamp-codes.ts';

describe('broker: ordering', () => {
  it('1000 events from one publisher reach each of 3 subscribers in publish order', () => {
    const router = new Router({ realms: [{ name: 'realm1' }] });
    const pub = MemoryClient.join(router);
    const subs = [0, 1, 2].map(() => MemoryClient.join(router));
    // Different match policies, so the order holds whichever subscription an event comes through.
    const ids = [
      subs[0].subscribe('com.order.t'),
      subs[1].subscribe('com.order.', { match: 'prefix' }),
      subs[2].subscribe('com..t', { match: 'wildcard' }),
    ];
    const N = 1000;
    for (let i = 0; i < N; i++) pub.send([PUBLISH, i + 1, { acknowledge: i % 7 === 0 }, 'com.order.t', [i], { seq: i }]);
    const acks = pub.take();
    assert.equal(acks.length, Math.ceil(N / 7));
    assert.deepEqual(
      acks.map((m) => m[1]),
      Array.from({ length: Math.ceil(N / 7) }, (_, k) => k * 7 + 1),
      'PUBLISHED in order',
    );
    for (const m of acks) assert.equal(m[0], PUBLISHED);
    const expected = Array.from({ length: N }, (_, i) => i);
    const publications = subs.map((sub, s) => {
      const got = sub.take();
      assert.equal(got.length, N, `subscriber ${s} got every event`);
      for (const e of got) assert.equal(e[0], EVENT);
      assert.deepEqual(
        got.map((e) => (e[4] as number[])[0]),
        expected,
        `subscriber ${s}: args in publish order`,
      );
      assert.deepEqual(
        got.map((e) => (e[5] as { seq: number }).seq),
        expected,
        `subscriber ${s}: kwargs in publish order`,
      );
      assert.ok(
        got.every((e) => e[1] === ids[s]),
        `subscriber ${s}: through its subscription`,
      );
      assert.equal(new Set(got.map((e) => e[2])).size, N, `subscriber ${s}: a distinct publication ID per event`);
      return got.map((e) => e[2]);
    });
    assert.deepEqual(publications[1], publications[0], 'the subscribers saw the same publication ID for each event');
    assert.deepEqual(publications[2], publications[0], 'the subscribers saw the same publication ID for each event');
  });

  it("events from two interleaved publishers keep each publisher's order", () => {
    const router = new Router({ realms: [{ name: 'realm1' }] });
    const [p1, p2, sub] = [0, 1, 2].map(() => MemoryClient.join(router));
    sub.subscribe('com.order.t');
    const sent: string[] = [];
    for (let i = 0; i < 200; i++) {
      const [p, name] = i % 3 === 0 ? [p2, 'p2'] : [p1, 'p1'];
      p.send([PUBLISH, i + 1, {}, 'com.order.t', [name, i]]);
      sent.push(`${name}:${i}`);
    }
    const got = sub.take().map((e) => (e[4] as [string, number]).join(':'));
    assert.deepEqual(got, sent, 'same order as the router received them');
  });
});
