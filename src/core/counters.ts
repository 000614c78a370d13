/**
 * What the router counts of the trouble it contains, for metrics and logs:
 * requests refused by a limit (by limit name), deliveries that could not be
 * encoded for their recipient, and sessions ended by an exception. The core
 * only counts; the node layer exports the figures.
 */
import type { Limits } from './limits.ts';

export type LimitName = keyof Limits;

export class RouterCounters {
  /** Requests or connections refused because a limit was reached, by limit. */
  readonly limitReached = new Map<LimitName, number>();
  /** Messages that could not be written for one recipient (e.g. a value its serializer cannot express), by message type. */
  readonly undeliverable = new Map<number, number>();
  /** Sessions ended because handling their message threw. */
  sessionsFailed = 0;
  /** Calls in flight on the whole router now (a gauge, against `limits.callsInFlightTotal`). */
  callsInFlight = 0;

  limit(name: LimitName): void {
    this.limitReached.set(name, (this.limitReached.get(name) ?? 0) + 1);
  }

  undelivered(type: number): void {
    this.undeliverable.set(type, (this.undeliverable.get(type) ?? 0) + 1);
  }
}
