/**
 * Per-session and per-router limits, each with a safe default. A request
 * over a limit gets an ERROR with KreuzUri.LIMIT_REACHED; a session sending
 * faster than its message rate is closed with ABORT KreuzUri.RATE_LIMITED.
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
  /** Calls in flight on the whole router, all callers together. */
  callsInFlightTotal: number;
  /** Connections that have not completed HELLO -> WELCOME yet, on the whole router. */
  pendingSessions: number;
  /** Milliseconds a connection may take from opening to WELCOME (a pending CHALLENGE included). */
  openingTimeout: number;
  /** Testaments a session may hold (both scopes together). */
  testaments: number;
  /** Bytes of testaments a session may hold (wire size of the add_testament calls). */
  testamentBytes: number;
  /** Retained events per realm (one per topic). */
  retainedEvents: number;
  /** Bytes of retained events per realm (wire size of the PUBLISH messages). */
  retainedBytes: number;
  /** Retained events one publishing session may have stored in a realm. */
  retainedEventsPerSession: number;
  /** Bytes of retained events one publishing session may have stored in a realm. */
  retainedBytesPerSession: number;
  /** Nesting depth of a decoded message (the message array itself is depth 1). */
  maxDepth: number;
}

export const DEFAULT_LIMITS: Limits = {
  callsInFlight: 1_000,
  registrations: 1_000,
  subscriptions: 1_000,
  messageRate: 250_000,
  sessions: 100_000,
  callsInFlightTotal: 100_000,
  pendingSessions: 10_000,
  openingTimeout: 10_000,
  testaments: 64,
  testamentBytes: 256 * 1024,
  retainedEvents: 10_000,
  retainedBytes: 64 * 1024 * 1024,
  retainedEventsPerSession: 1_000,
  retainedBytesPerSession: 8 * 1024 * 1024,
  maxDepth: 64,
};

/** A token bucket: `rate` tokens per second, holding at most `2 * rate`. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    /** Tokens per second (public: the router remakes a limiter whose rate a reload changed). */
    readonly rate: number,
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
