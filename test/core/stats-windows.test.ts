/** The node API's counters: calls/s from the per-second ring, p50/p99 from the latency histogram, on a hand-driven clock. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatencyHistogram } from '../../src/core/latency-histogram.ts';
import { RATE_WINDOW_S, RateRing } from '../../src/core/rate-ring.ts';

describe('RateRing', () => {
  it('divides by the time since the first event while the ring is young, at least one second', () => {
    const ring = new RateRing(5_000);
    for (let i = 0; i < 10; i++) ring.add(5_000 + i * 10);
    assert.equal(ring.perSecond(5_100), 10, 'a burst within one second is 10/s, not 100/s');
    assert.equal(ring.perSecond(9_000), 2.5, '10 events over 4 s');
  });

  it('counts the last 10 seconds only, and forgets seconds with no events', () => {
    const ring = new RateRing(0);
    // 5 events a second for 30 s.
    for (let s = 0; s < 30; s++) for (let i = 0; i < 5; i++) ring.add(s * 1000 + i * 100);
    // At 29.5 s the window holds seconds 20..29: 50 events over 9.5 s.
    assert.equal(ring.perSecond(29_500), 50 / 9.5);
    // Quiet from then on: half of the window still has events at 35 s...
    assert.equal(ring.perSecond(35_000), (20 / (35_000 - 26_000)) * 1000);
    // ...and nothing after the window passed.
    assert.equal(ring.perSecond(29_000 + RATE_WINDOW_S * 1000 + 1), 0);
    assert.equal(ring.perSecond(500_000), 0);
    // Counting again after a long pause starts from an empty ring.
    ring.add(500_100);
    assert.equal(ring.perSecond(500_200), 1 / ((500_200 - 491_000) / 1000));
  });

  it('a clock that went back changes nothing and throws nothing', () => {
    const ring = new RateRing(10_000);
    ring.add(10_000);
    ring.add(9_000);
    assert.ok(ring.perSecond(9_500) >= 0);
    assert.equal(ring.perSecond(10_500), 2);
  });
});

describe('LatencyHistogram', () => {
  it('p50 and p99 within the bucket precision (±10 %)', () => {
    const h = new LatencyHistogram();
    // 98 calls of 2 ms, 2 of 500 ms: the median is 2 ms, p99 is 500 ms.
    for (let i = 0; i < 98; i++) h.record(2, 1_000);
    h.record(500, 1_000);
    h.record(500, 1_000);
    const q = h.quantiles(1_000)!;
    assert.ok(Math.abs(q.p50 - 2) / 2 < 0.1, `p50 ${q.p50}`);
    assert.ok(Math.abs(q.p99 - 500) / 500 < 0.1, `p99 ${q.p99}`);
  });

  it('every value from 0.01 ms to over two minutes lands within 10 % of itself', () => {
    for (let ms = 0.012; ms < 160_000; ms *= 1.37) {
      const h = new LatencyHistogram();
      h.record(ms, 0);
      const { p50 } = h.quantiles(0)!;
      assert.ok(Math.abs(p50 - ms) / ms < 0.1, `${ms} ms reported as ${p50}`);
    }
    // Below the first bucket, above the last, and nonsense: no exception, a bounded answer.
    const h = new LatencyHistogram();
    for (const odd of [0, -5, Number.NaN, 1e12, Number.POSITIVE_INFINITY]) h.record(odd, 0);
    const q = h.quantiles(0)!;
    assert.ok(q.p50 > 0 && Number.isFinite(q.p99));
  });

  it('the window is the last 45 to 60 s: older calls drop out, none in it is null', () => {
    const h = new LatencyHistogram();
    assert.equal(h.quantiles(0), null);
    h.record(100, 0); // slot 0
    h.record(1, 50_000); // slot 3
    assert.ok(h.quantiles(59_999)!.p99 > 90, 'both calls within the window');
    // At 60 s slot 0 has left the window: only the 1 ms call is left.
    const later = h.quantiles(60_000)!;
    assert.ok(later.p99 < 1.1, `p99 ${later.p99}`);
    assert.equal(h.quantiles(105_000), null);
    // A slot reused for a later period starts empty.
    h.record(10, 120_000); // slot 8 -> row 0 again
    const reused = h.quantiles(120_000)!;
    assert.ok(reused.p50 > 9 && reused.p50 < 11, `p50 ${reused.p50}`);
  });
});
