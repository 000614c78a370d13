import { Broker } from './broker.ts';
import type { HistoryConfig } from './event-store.ts';
import type { Limits } from './limits.ts';
import type { RouterCounters } from './counters.ts';
import { allowAll, type Authorizer } from './authorization.ts';
import { Dealer } from './dealer.ts';
import { Hooks, type RealmEvents, type Timers } from './hooks.ts';
import type { Session } from './session.ts';
import { ErrorUri } from '../wamp/uris.ts';

export interface RealmConfig {
  name: string;
  /** Topics whose last events are kept for wamp.subscription.get_events (Crossbar's store "event-history"). */
  eventHistory?: HistoryConfig[];
  /** Decides what sessions may do; none: everything is allowed (the default dev setup). */
  authorizer?: Authorizer;
}

export interface RealmContext {
  timers: Timers;
  callQueueLimit: number;
  limits: Limits;
  counters: RouterCounters;
  protocolViolation(session: Session, reason: string): void;
  /** A hook listener threw (logged; the core carries on). */
  hookFailed(event: string, err: unknown): void;
}

/** A routing namespace: sessions of one realm see only each other. */
export class Realm {
  readonly name: string;
  readonly sessions = new Map<number, Session>();
  readonly hooks: Hooks<RealmEvents>;
  readonly dealer: Dealer;
  readonly broker: Broker;
  /** Replaced by `replaceAuthorizer` when the node reloads its roles. */
  authorizer: Authorizer;
  /** The router's limits, for services that keep state on sessions' behalf (e.g. testaments). */
  readonly limits: Limits;

  constructor(config: RealmConfig, context: RealmContext) {
    this.name = config.name;
    this.limits = context.limits;
    this.hooks = new Hooks<RealmEvents>(context.hookFailed);
    this.dealer = new Dealer({ hooks: this.hooks, ...context });
    this.broker = new Broker({ hooks: this.hooks, eventHistory: config.eventHistory, limits: context.limits, counters: context.counters });
    this.authorizer = config.authorizer ?? allowAll;
  }

  /** Swaps the authorizer (a reload of the roles): every session's next action is decided by the new one. */
  replaceAuthorizer(next: Authorizer): void {
    this.authorizer = next;
  }

  /**
   * Revokes each registration and subscription a client session holds that
   * `refused` says it may hold no longer (after a reload took a permission
   * away: a held subscription would otherwise go on delivering). Returns how many went.
   */
  revokeWhere(refused: (session: Session, uri: string, action: 'register' | 'subscribe', match: string) => boolean): number {
    let revoked = 0;
    for (const session of this.sessions.values()) {
      if (session.internal || session.remote) continue;
      for (const registration of [...session.registrations]) {
        if (
          refused(session, registration.uri, 'register', registration.match) &&
          this.dealer.revoke(registration, session, ErrorUri.NOT_AUTHORIZED)
        )
          revoked++;
      }
      for (const subscription of [...session.subscriptions]) {
        if (
          refused(session, subscription.uri, 'subscribe', subscription.match) &&
          this.broker.revoke(subscription, session, ErrorUri.NOT_AUTHORIZED)
        )
          revoked++;
      }
    }
    return revoked;
  }

  join(session: Session): void {
    this.sessions.set(session.id, session);
    this.hooks.emit('join', session);
  }

  leave(session: Session): void {
    this.dealer.detach(session);
    this.broker.detach(session);
    this.sessions.delete(session.id);
    this.hooks.emit('leave', session);
  }
}
