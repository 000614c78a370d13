/**
 * The `kreuz.node.*` statistics API: queries about the node and its realms,
 * and `kreuz.node.on_stats` every 2 s, on every realm with the meta API.
 * The figures come from counters the core keeps (registration.ts,
 * subscription.ts, session.ts, counters.ts); the views are node-api-views.ts,
 * the health node-health.ts.
 *
 * Like the meta API, a router-internal session per realm registers the
 * procedures, so a caller is authorized exactly as for any procedure: its
 * role needs the `call` permission on the URI (`subscribe` for on_stats).
 * Data about another realm than the caller's goes to the trusted role only.
 *
 * A router extension: its inbound tap counts each client message for its
 * session and, at a HELLO, attaches the API to the realm asked for if it has
 * none yet, so realms added while the node runs get it too.
 */
import { MessageType as T } from '../wamp/codes.ts';
import type { Dict } from '../wamp/messages.ts';
import { ErrorUri } from '../wamp/uris.ts';
import { WampError } from '../wamp/wamp-error.ts';
import type { RouterExtension } from '../core/extensions.ts';
import { LocalSession } from '../core/local-session.ts';
import type { Logger } from '../core/logger.ts';
import type { Realm } from '../core/realm.ts';
import type { Router } from '../core/router.ts';
import type { Session } from '../core/session.ts';
import { patternMatches } from '../core/uri-map.ts';
import { TRUSTED_ROLE } from '../authz/roles.ts';
import { NodeHealth, type Health, type HealthSources } from './node-health.ts';
import {
  clientSessionsOf,
  realmStats,
  realmView,
  registrationView,
  registrationsOf,
  sessionView,
  subscriptionView,
  subscriptionsOf,
  type Viewer,
} from './node-api-views.ts';

export const NodeApiUri = {
  GET_HEALTH: 'kreuz.node.get_health',
  LIST_REALMS: 'kreuz.node.list_realms',
  LIST_SESSIONS: 'kreuz.node.list_sessions',
  LIST_REGISTRATIONS: 'kreuz.node.list_registrations',
  LIST_SUBSCRIPTIONS: 'kreuz.node.list_subscriptions',
  ON_STATS: 'kreuz.node.on_stats',
} as const;

const STATS_INTERVAL_MS = 2000;
/** Entries a list answers with unless `limit` says otherwise, and the most it may say. */
const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

export interface NodeApiSources extends HealthSources {
  logger: Logger;
}

/** Who called, as the router disclosed it to its own procedure. */
interface Caller extends Viewer {
  realm: Realm;
}

type Query = (args: unknown[], kwargs: Dict, caller: Caller) => unknown;

export class NodeApi implements RouterExtension {
  private readonly health: NodeHealth;
  /** The router's session on each realm that has the API (by realm object: a realm removed and added again is a new one). */
  private readonly services = new WeakMap<Realm, LocalSession>();
  private statsTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly router: Router,
    private readonly sources: NodeApiSources,
  ) {
    this.health = new NodeHealth(sources);
    for (const realm of router.realms.values()) this.attach(realm);
  }

  /** The inbound tap: one more message from this client; a HELLO to a realm without the API attaches it first. */
  inbound(session: Session, message: unknown): void {
    session.messagesIn++;
    if (session.state !== 'opening' || !Array.isArray(message) || message[0] !== T.HELLO || typeof message[1] !== 'string') return;
    const realm = this.router.realms.get(message[1]);
    if (realm && !this.services.has(realm)) this.attach(realm);
  }

  /** Registers the queries on `realm` (once) and listens to what on_stats needs. */
  attach(realm: Realm): void {
    if (this.services.has(realm)) return;
    const service = LocalSession.internal(this.router, realm.name, 'kreuz');
    this.services.set(realm, service);
    realm.hooks.add({
      join: (session) => {
        session.joinedAt = Date.now();
      },
      subscriberAdded: (_session, subscription) => {
        if (patternMatches(subscription.uri, subscription.match, NodeApiUri.ON_STATS)) this.watchStats();
      },
    });
    const queries: Array<[string, Query]> = [
      [NodeApiUri.GET_HEALTH, (_args, _kwargs, caller) => this.health.read(caller.trusted ? undefined : caller.realm)],
      [NodeApiUri.LIST_REALMS, (_args, kwargs, caller) => page(this.realmsFor(caller), kwargs, (r) => realmView(r, caller))],
      [
        NodeApiUri.LIST_SESSIONS,
        (args, kwargs, caller) => page(clientSessionsOf(this.realmArg(args, kwargs, caller)), kwargs, sessionView),
      ],
      [
        NodeApiUri.LIST_REGISTRATIONS,
        (args, kwargs, caller) => {
          const now = performance.now();
          return page(registrationsOf(this.realmArg(args, kwargs, caller), caller), kwargs, (r) => registrationView(r, now));
        },
      ],
      [
        NodeApiUri.LIST_SUBSCRIPTIONS,
        (args, kwargs, caller) => {
          const now = performance.now();
          return page(subscriptionsOf(this.realmArg(args, kwargs, caller), caller), kwargs, (s) => subscriptionView(s, now));
        },
      ],
    ];
    for (const [uri, query] of queries) this.register(service, realm, uri, query);
  }

  /** Stops the event-loop monitor and the on_stats timer (node shutdown). */
  close(): void {
    clearInterval(this.statsTimer);
    this.statsTimer = undefined;
    this.health.stop();
  }

  private register(service: LocalSession, realm: Realm, uri: string, query: Query): void {
    const log = this.sources.logger;
    service
      .register(uri, (args, kwargs, details) => {
        // The router always tells its own procedures who calls.
        const caller: Caller = { realm, trusted: details.caller_authrole === TRUSTED_ROLE };
        try {
          return query(args, kwargs, caller);
        } catch (err) {
          if (err instanceof WampError) throw err;
          // A bug ends this one answer, with nothing of its insides.
          log.error({ realm: realm.name, procedure: uri, err }, 'node API query failed');
          throw new WampError(ErrorUri.RUNTIME_ERROR, ['the router could not answer this query']);
        }
      })
      .catch((err: unknown) => log.error({ realm: realm.name, procedure: uri, err }, 'node API procedure not registered'));
  }

  private realmsFor(caller: Caller): Realm[] {
    return caller.trusted ? [...this.router.realms.values()] : [caller.realm];
  }

  /**
   * The realm a query is about: the `realm` argument (positional or keyword),
   * default the caller's. Another realm is the trusted role's only; to anyone
   * else it is not_authorized whether it exists or not, so realm names do not leak.
   */
  private realmArg(args: unknown[], kwargs: Dict, caller: Caller): Realm {
    const given = args[0] ?? (Object.hasOwn(kwargs, 'realm') ? kwargs.realm : undefined);
    if (given === undefined || given === null) return caller.realm;
    if (typeof given !== 'string') throw new WampError(ErrorUri.INVALID_ARGUMENT, ['realm must be a string']);
    if (given === caller.realm.name) return caller.realm;
    if (!caller.trusted) {
      throw new WampError(ErrorUri.NOT_AUTHORIZED, ['only the trusted role may query another realm than its own']);
    }
    const realm = this.router.realms.get(given);
    if (!realm) throw new WampError(ErrorUri.NO_SUCH_REALM, [`no realm ${JSON.stringify(given.slice(0, 200))}`]);
    return realm;
  }

  // ---- kreuz.node.on_stats ----

  /** Someone subscribed to on_stats: publish every 2 s from now on, until no realm has a subscriber. */
  private watchStats(): void {
    this.statsTimer ??= setInterval(() => this.publishStats(), STATS_INTERVAL_MS).unref();
  }

  private publishStats(): void {
    const now = performance.now();
    let health: Health | undefined;
    let watched = false;
    for (const realm of this.router.realms.values()) {
      const service = this.services.get(realm);
      const subscriptions = realm.broker.match(NodeApiUri.ON_STATS);
      if (!service?.isOpen || !subscriptions.some((s) => s.subscribers.size > 0)) continue;
      watched = true;
      // The event goes to anyone allowed to subscribe: the realm's own view, like a non-trusted caller's.
      health ??= this.health.read(undefined);
      const summary = realmStats(realm, now);
      const stats = { time: new Date().toISOString(), health: { ...health, sessions: summary.sessions }, realm: summary };
      // Straight to this node's subscribers: each node of a cluster publishes its own.
      realm.broker.dispatch({ topic: NodeApiUri.ON_STATS, options: {}, source: [[stats]], from: 0, publisher: service.session });
    }
    if (!watched) {
      clearInterval(this.statsTimer);
      this.statsTimer = undefined;
    }
  }
}

/**
 * One page of a list: kwargs `offset` (default 0) and `limit` (default
 * 1,000, at most 10,000) bound what one answer holds; list_realms tells the
 * totals. Only the entries of the page are built.
 */
function page<T>(items: Iterable<T>, kwargs: Dict, view: (item: T) => unknown): unknown[] {
  const offset = countArg(kwargs, 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0;
  const limit = countArg(kwargs, 'limit', 0, MAX_PAGE) ?? DEFAULT_PAGE;
  const result: unknown[] = [];
  if (limit === 0) return result;
  let index = 0;
  for (const item of items) {
    if (index++ < offset) continue;
    result.push(view(item));
    if (result.length >= limit) break;
  }
  return result;
}

function countArg(kwargs: Dict, name: string, min: number, max: number): number | undefined {
  if (!Object.hasOwn(kwargs, name) || kwargs[name] === null) return undefined;
  const value = kwargs[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new WampError(ErrorUri.INVALID_ARGUMENT, [`${name} must be an integer from ${min} to ${max}`]);
  }
  return value;
}

/** Attaches the node API to every realm of `router` (and, through its tap, to realms added later); `router.use()` the result. */
export function enableNodeApi(router: Router, sources: NodeApiSources): NodeApi {
  return new NodeApi(router, sources);
}
