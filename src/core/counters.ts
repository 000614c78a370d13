/**
 * What the router counts of the trouble it contains, for metrics and logs:
 * requests refused by a limit (by limit name), deliveries that could not be
 * encoded for their recipient, sessions ended by an exception, and sessions
 * cut off (by kind). The core only counts; the node layer exports the figures.
 */
import { ErrorUri, KreuzUri } from '../wamp/uris.ts';
import type { Limits } from './limits.ts';

export type LimitName = keyof Limits;

/** Why a session was cut off (the node API's `cutoffs`). */
export interface Cutoffs {
  /** Its send buffer overflowed: the client did not read. */
  slow_consumer: number;
  /** It sent faster than `limits.messageRate`, or its address had too many authentications waiting. */
  rate_limited: number;
  /** It stopped answering the transport's pings. */
  unresponsive: number;
  /** It sent (or was to be sent) a message over a size limit. */
  too_big: number;
  /** It broke WAMP or the transport's framing. */
  protocol_error: number;
}

export class RouterCounters {
  /** Requests or connections refused because a limit was reached, by limit. */
  readonly limitReached = new Map<LimitName, number>();
  /** Messages that could not be written for one recipient (e.g. a value its serializer cannot express), by message type. */
  readonly undeliverable = new Map<number, number>();
  /** Sessions ended because handling their message threw. */
  sessionsFailed = 0;
  /** Calls in flight on the whole router now (a gauge, against `limits.callsInFlightTotal`). */
  callsInFlight = 0;
  /** Sessions cut off, by kind. */
  readonly cutoffs: Cutoffs = { slow_consumer: 0, rate_limited: 0, unresponsive: 0, too_big: 0, protocol_error: 0 };

  limit(name: LimitName): void {
    this.limitReached.set(name, (this.limitReached.get(name) ?? 0) + 1);
  }

  undelivered(type: number): void {
    this.undeliverable.set(type, (this.undeliverable.get(type) ?? 0) + 1);
  }

  /** A transport failed its connection with ABORT `reason` (Router.transportFailed): every such failure is a cut-off. */
  transportFailed(reason: string): void {
    switch (reason) {
      case KreuzUri.SLOW_CONSUMER:
        return void this.cutoffs.slow_consumer++;
      case ErrorUri.PAYLOAD_SIZE_EXCEEDED:
        return void this.cutoffs.too_big++;
      case ErrorUri.TIMEOUT:
        return void this.cutoffs.unresponsive++;
      default:
        // A framing violation, or a message its serializer cannot express (see Connection).
        return void this.cutoffs.protocol_error++;
    }
  }

  /** The router ABORTed a session with `reason`: protocol violations and rate limits are cut-offs, other refusals are not. */
  aborted(reason: string): void {
    if (reason === ErrorUri.PROTOCOL_VIOLATION) this.cutoffs.protocol_error++;
    else if (reason === KreuzUri.RATE_LIMITED) this.cutoffs.rate_limited++;
  }
}
