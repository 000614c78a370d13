/**
 * Per-session and per-router limits, each with a safe default. A request
 * over a limit gets an ERROR with LIMIT_REACHED; a session sending faster
 * than its message rate is closed with ABORT RATE_LIMITED.
 */
export interface Limits {
  /** Calls a session may have in flight as caller. */
  callsInFlight: number;
  /** Registrations a session may hold. */
  registrations: number;
  /** Subscriptions a session may hold. */
  subscriptions: number;
  /** Messages per second a session may send, sustained (bursts up to twice that). */
  messageRate: number;
  /** Sessions joined at once on the whole router. */
  sessions: number;
}

export const DEFAULT_LIMITS: Limits = {
  callsInFlight: 1_000,
  registrations: 1_000,
  subscriptions: 1_000,
  messageRate: 250_000,
  sessions: 100_000,
};

export const LIMIT_REACHED = 'kreuz.error.limit_reached';
export const RATE_LIMITED = 'kreuz.error.rate_limited';

/** A token bucket: `rate` tokens per second, holding at most `2 * rate`. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly now: () => number,
  ) {
    this.tokens = 2 * rate;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(2 * this.rate, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
