/**
 * What the broker keeps of past events: the last retained event per topic
 * (WAMP: pubsub_event_retention) and the configured event histories
 * (Crossbar's realm "store" "event-history").
 */
import type { Dict } from '../wamp/messages.ts';
import type { MatchPolicy } from '../wamp/uri-syntax.ts';
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

export class EventStore {
  private readonly retained = new Map<string, StoredEvent>();
  private readonly histories = new UriMap<History>();

  constructor(history: HistoryConfig[] = []) {
    for (const h of history) this.histories.set(h.uri, h.match, new History(h.limit));
  }

  retain(event: StoredEvent): void {
    this.retained.set(event.topic, event);
  }

  /** Retained events of every topic a subscription (uri, match) covers. */
  retainedFor(matches: (topic: string) => boolean): StoredEvent[] {
    return [...this.retained.values()].filter((e) => matches(e.topic));
  }

  retainedOf(topic: string): StoredEvent | undefined {
    return this.retained.get(topic);
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
