/**
 * What the broker keeps of past events: the last retained event per topic
 * (WAMP: pubsub_event_retention) and the configured event histories
 * (Crossbar's realm "store" "event-history").
 */
import type { Dict } from '../wamp/messages.ts';
import type { MatchPolicy } from '../wamp/uri-syntax.ts';
import type { Limits } from './limits.ts';
import { UriMap } from './uri-map.ts';

/** A published event as stored: enough to deliver it again or list it. */
export interface StoredEvent {
  publication: number;
  topic: string;
  /** ISO-8601 time of publication. */
  timestamp: string;
  /** EVENT.Details as the subscribers got them (publisher disclosure included). */
  details: Dict;
  /** The payload elements exactly as published: [], [args] or [args, kwargs]. */
  payload: unknown[];
  /** PUBLISH.Options, for the eligibility of later subscribers. */
  options: Dict;
}

export interface HistoryConfig {
  uri: string;
  match: MatchPolicy;
  /** Events kept, newest win. */
  limit: number;
}

class History {
  readonly events: StoredEvent[] = [];
  constructor(readonly limit: number) {}

  add(event: StoredEvent): void {
    this.events.push(event);
    if (this.events.length > this.limit) this.events.shift();
  }
}

/** The retained-event limits of a realm. */
export type RetainLimits = Pick<Limits, 'retainedEvents' | 'retainedBytes' | 'retainedEventsPerSession' | 'retainedBytesPerSession'>;

interface Retained {
  event: StoredEvent;
  /** The publishing session (it may have left since): what it stores is bounded too. */
  owner: object;
  bytes: number;
}

interface Usage {
  events: number;
  bytes: number;
}

export class EventStore {
  private readonly retained = new Map<string, Retained>();
  /** Retained events and bytes per publishing session; an entry goes with its last event. */
  private readonly usage = new Map<object, Usage>();
  private readonly total: Usage = { events: 0, bytes: 0 };
  private readonly histories = new UriMap<History>();

  constructor(
    history: HistoryConfig[] = [],
    private readonly limits?: RetainLimits,
  ) {
    for (const h of history) this.histories.set(h.uri, h.match, new History(h.limit));
  }

  /**
   * Why retaining `bytes` more on `topic` for `owner` would pass a limit, or
   * undefined if it would not. The event it replaces is freed first.
   */
  retainRefusal(topic: string, owner: object, bytes: number): string | undefined {
    const l = this.limits;
    if (!l) return undefined;
    const old = this.retained.get(topic);
    const freed = (who: object | undefined): Usage =>
      old && (who === undefined || old.owner === who) ? { events: 1, bytes: old.bytes } : { events: 0, bytes: 0 };
    const all = freed(undefined);
    const own = freed(owner);
    const mine = this.usage.get(owner) ?? { events: 0, bytes: 0 };
    if (this.total.events - all.events + 1 > l.retainedEvents) return `the realm holds its maximum of ${l.retainedEvents} retained events`;
    if (this.total.bytes - all.bytes + bytes > l.retainedBytes)
      return `the realm holds its maximum of ${l.retainedBytes} bytes of retained events`;
    if (mine.events - own.events + 1 > l.retainedEventsPerSession)
      return `a session may have at most ${l.retainedEventsPerSession} retained events stored`;
    if (mine.bytes - own.bytes + bytes > l.retainedBytesPerSession)
      return `a session may have at most ${l.retainedBytesPerSession} bytes of retained events stored`;
    return undefined;
  }

  /** Keeps `event` as its topic's retained event; false (nothing kept) if a limit refuses it. */
  retain(event: StoredEvent, owner: object, bytes: number): boolean {
    if (this.retainRefusal(event.topic, owner, bytes) !== undefined) return false;
    const old = this.retained.get(event.topic);
    if (old) this.account(old.owner, -1, -old.bytes);
    this.retained.set(event.topic, { event, owner, bytes });
    this.account(owner, 1, bytes);
    return true;
  }

  private account(owner: object, events: number, bytes: number): void {
    this.total.events += events;
    this.total.bytes += bytes;
    const u = this.usage.get(owner) ?? { events: 0, bytes: 0 };
    u.events += events;
    u.bytes += bytes;
    if (u.events === 0) this.usage.delete(owner);
    else this.usage.set(owner, u);
  }

  /** Retained events and their bytes on this realm now (for metrics). */
  get retainedUsage(): Readonly<Usage> {
    return this.total;
  }

  /** Retained events of every topic a subscription (uri, match) covers. */
  retainedFor(matches: (topic: string) => boolean): StoredEvent[] {
    const events: StoredEvent[] = [];
    for (const r of this.retained.values()) if (matches(r.event.topic)) events.push(r.event);
    return events;
  }

  retainedOf(topic: string): StoredEvent | undefined {
    return this.retained.get(topic)?.event;
  }

  /** Records the event in every history configured for its topic. */
  record(event: StoredEvent): void {
    for (const history of this.histories.all(event.topic)) history.add(event);
  }

  /** The history configured for exactly this (uri, match), if any. */
  history(uri: string, match: MatchPolicy): StoredEvent[] | undefined {
    return this.histories.get(uri, match)?.events;
  }

  get hasHistory(): boolean {
    return this.histories.size > 0;
  }
}
