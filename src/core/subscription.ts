import type { MatchPolicy } from '../wamp/uri-syntax.ts';
import { RateRing } from './rate-ring.ts';
import type { Session } from './session.ts';

/** All subscribers of one (topic, match) share one subscription and its ID. */
export class Subscription {
  readonly created = new Date();
  readonly subscribers = new Set<Session>();
  /** Publications delivered to at least one subscriber (node API). */
  events = 0;
  /** Those per second; made with the first one, so a quiet subscription holds none. */
  eventRate: RateRing | undefined;

  constructor(
    readonly id: number,
    readonly uri: string,
    readonly match: MatchPolicy,
  ) {}

  /** A publication reached its subscribers at `now` (ms, performance.now()). */
  delivered(now: number): void {
    this.events++;
    (this.eventRate ??= new RateRing(now)).add(now);
  }
}
