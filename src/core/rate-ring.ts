/**
 * Events per second over the last seconds, for the node API's calls/s and
 * events/s: a ring of per-second counts, moved on lazily when an event is
 * counted or the rate is read, so nothing runs while nobody counts or reads.
 * Times are milliseconds of one monotonic clock (performance.now()).
 */

/** Seconds a rate looks back (the current, partial second included). */
export const RATE_WINDOW_S = 10;

export class RateRing {
  private readonly counts = new Uint32Array(RATE_WINDOW_S);
  /** The second (ms / 1000, floored) the newest slot counts. */
  private second: number;
  /** When the first event was counted: a young ring divides by its age, not by the whole window. */
  private readonly since: number;

  constructor(now: number) {
    this.second = Math.floor(now / 1000);
    this.since = now;
  }

  /** One event at `now`. */
  add(now: number): void {
    const second = Math.floor(now / 1000);
    if (second !== this.second) this.advance(second);
    this.counts[second % RATE_WINDOW_S]++;
  }

  /**
   * Events per second between the start of the window (the oldest of its
   * seconds, or the first event if later) and `now`; spans under a second
   * count as one, so a burst is not blown up into a huge rate.
   */
  perSecond(now: number): number {
    const second = Math.floor(now / 1000);
    if (second !== this.second) this.advance(second);
    let total = 0;
    for (const n of this.counts) total += n;
    const start = Math.max((second - RATE_WINDOW_S + 1) * 1000, this.since);
    return total / Math.max(1, (now - start) / 1000);
  }

  /** Empties the slots of the seconds between the newest one and `second` (none counted then). */
  private advance(second: number): void {
    if (second < this.second) return; // a clock never goes back; ignore it if one did
    if (second - this.second >= RATE_WINDOW_S) this.counts.fill(0);
    else for (let s = this.second + 1; s <= second; s++) this.counts[s % RATE_WINDOW_S] = 0;
    this.second = second;
  }
}
