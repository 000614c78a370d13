import type { MatchPolicy } from '../wamp/uri-syntax.ts';
import type { Session } from './session.ts';

/** All subscribers of one (topic, match) share one subscription and its ID. */
export class Subscription {
  readonly created = new Date();
  readonly subscribers = new Set<Session>();

  constructor(
    readonly id: number,
    readonly uri: string,
    readonly match: MatchPolicy,
  ) {}
}
