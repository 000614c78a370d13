/**
 * A registration: all callees of one (URI, match) under one invocation
 * policy, and the choice of callee for each call (WAMP: rpc_shared_registration).
 */
import type { MatchPolicy } from '../wamp/uri-syntax.ts';
import type { Invocation } from './invocation.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import { RateRing } from './rate-ring.ts';
import type { Session } from './session.ts';

export type InvokePolicy = 'single' | 'roundrobin' | 'random' | 'first' | 'last';

/** One session's place in a registration. */
export class Callee {
  /** Invocations in flight on this registration. */
  inFlight = 0;

  constructor(
    readonly session: Session,
    /** Crossbar's `concurrency` option: most invocations in flight at once. */
    readonly concurrency: number,
    readonly discloseCaller: boolean,
  ) {}

  get saturated(): boolean {
    return this.inFlight >= this.concurrency;
  }
}

export class Registration {
  readonly created: Date;
  /** In registration order: `first` is the earliest still connected, `last` the latest. */
  readonly callees: Callee[] = [];
  /** Calls waiting for a callee below its concurrency limit, oldest first. */
  readonly queue: Invocation[] = [];
  /** Round-robin: index of the callee to try next. */
  private cursor = 0;
  /** Calls routed here (node API). */
  calls = 0;
  /** Calls that did not end with a RESULT: ERROR answers, cancels, timeouts, refusals, callees gone (node API). */
  errors = 0;
  /** Calls per second; made with the first call, so an idle registration holds none. */
  callRate: RateRing | undefined;
  /** Latencies of calls their callee answered; made with the first such answer. */
  latency: LatencyHistogram | undefined;

  constructor(
    readonly id: number,
    readonly uri: string,
    readonly match: MatchPolicy,
    readonly invoke: InvokePolicy,
    /** When it was first created; a cluster's registry says so for every node. */
    created?: Date,
  ) {
    this.created = created ?? new Date();
  }

  /** A call was routed here at `now` (ms, performance.now()). */
  called(now: number): void {
    this.calls++;
    (this.callRate ??= new RateRing(now)).add(now);
  }

  /** A call's caller got its final answer: `failed` unless it was a RESULT; `ms` the latency if the callee gave that answer. */
  ended(failed: boolean, ms: number | undefined, now: number): void {
    if (failed) this.errors++;
    if (ms !== undefined) (this.latency ??= new LatencyHistogram()).record(ms, now);
  }

  calleeOf(session: Session): Callee | undefined {
    return this.callees.find((c) => c.session === session);
  }

  add(callee: Callee): void {
    this.callees.push(callee);
  }

  remove(callee: Callee): void {
    const index = this.callees.indexOf(callee);
    if (index < 0) return;
    this.callees.splice(index, 1);
    // Keep round-robin on the callee that was next, so it stays fair as callees come and go.
    if (index < this.cursor) this.cursor--;
    if (this.cursor >= this.callees.length) this.cursor = 0;
  }

  /**
   * Puts the callees in the order `rank` gives (a cluster's registration
   * order; stable for equal ranks), round-robin staying on the callee that was next.
   */
  reorder(rank: (callee: Callee) => number): void {
    const next = this.callees[this.cursor];
    const ranked = this.callees.map((callee, i) => ({ callee, rank: rank(callee), i }));
    ranked.sort((a, b) => a.rank - b.rank || a.i - b.i);
    for (let i = 0; i < ranked.length; i++) this.callees[i] = ranked[i]!.callee;
    if (next) this.cursor = this.callees.indexOf(next);
  }

  /** The callee for the next call under this registration's policy, or undefined when all are saturated. */
  pick(random: () => number): Callee | undefined {
    const callees = this.callees;
    const n = callees.length;
    if (n === 0) return undefined;
    switch (this.invoke) {
      case 'single':
      case 'first':
        return available(callees[0]);
      case 'last':
        return available(callees[n - 1]);
      case 'roundrobin':
        // Saturated callees are skipped (as Crossbar does).
        for (let i = 0; i < n; i++) {
          const callee = callees[(this.cursor + i) % n];
          if (!callee.saturated) {
            this.cursor = (this.cursor + i + 1) % n;
            return callee;
          }
        }
        return undefined;
      case 'random': {
        const open = callees.filter((c) => !c.saturated);
        return open.length === 0 ? undefined : open[Math.floor(random() * open.length)];
      }
    }
  }
}

function available(callee: Callee): Callee | undefined {
  return callee.saturated ? undefined : callee;
}
