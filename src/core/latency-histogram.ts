/**
 * Call latencies over the last minute, for the node API's p50/p99: a
 * log-bucket histogram per 15-second slot, four slots in a ring. Recording
 * is one Math.log2 and an increment; quantiles are computed only when asked.
 *
 * Buckets grow by 2^(1/4) (about 19 %) from 0.01 ms, so a quantile is
 * reported within about ±9 % (the bucket's geometric middle); the last
 * bucket holds everything from 168 s on. The window covers the current slot
 * and the three before it: the last 45 to 60 seconds.
 * Times are milliseconds of one monotonic clock (performance.now()).
 */

const SLOT_MS = 15_000;
const SLOTS = 4;
const BUCKETS = 96;
const PER_DOUBLING = 4;
const BASE_MS = 0.01;

export interface Quantiles {
  p50: number;
  p99: number;
}

export class LatencyHistogram {
  /** SLOTS rows of BUCKETS counts. */
  private readonly counts = new Uint32Array(SLOTS * BUCKETS);
  /** The 15-second slot (ms / SLOT_MS, floored) each row counts; -1: none yet. */
  private readonly slotOfRow = new Float64Array(SLOTS).fill(-1);

  /** One call of `ms` that ended at `now`. */
  record(ms: number, now: number): void {
    const slot = Math.floor(now / SLOT_MS);
    const row = slot % SLOTS;
    if (this.slotOfRow[row] !== slot) {
      this.counts.fill(0, row * BUCKETS, (row + 1) * BUCKETS);
      this.slotOfRow[row] = slot;
    }
    this.counts[row * BUCKETS + bucketOf(ms)]++;
  }

  /** The median and 99th percentile of the window ending at `now` (ms), or null when no call ended in it. */
  quantiles(now: number): Quantiles | null {
    const current = Math.floor(now / SLOT_MS);
    const merged = new Float64Array(BUCKETS);
    let total = 0;
    for (let row = 0; row < SLOTS; row++) {
      const slot = this.slotOfRow[row];
      if (slot < 0 || slot > current || current - slot >= SLOTS) continue;
      for (let b = 0; b < BUCKETS; b++) {
        const n = this.counts[row * BUCKETS + b];
        merged[b] += n;
        total += n;
      }
    }
    if (total === 0) return null;
    return { p50: quantile(merged, total, 0.5), p99: quantile(merged, total, 0.99) };
  }
}

function bucketOf(ms: number): number {
  if (!(ms > BASE_MS)) return 0; // NaN and anything under 0.01 ms too
  return Math.min(BUCKETS - 1, Math.floor(Math.log2(ms / BASE_MS) * PER_DOUBLING));
}

/** The value below which `q` of the counts lie: the geometric middle of its bucket, in ms (3 decimals). */
function quantile(buckets: Float64Array, total: number, q: number): number {
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += buckets[b];
    if (seen >= rank) return Math.round(BASE_MS * 2 ** ((b + 0.5) / PER_DOUBLING) * 1000) / 1000;
  }
  return Math.round(BASE_MS * 2 ** (BUCKETS / PER_DOUBLING) * 1000) / 1000;
}
