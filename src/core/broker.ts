/**
 * The broker: subscriptions and publications (WAMP: basic/pubsub.md and the
 * advanced PubSub features). All state changes happen synchronously inside one handler.
 */
import { MessageType as T } from '../wamp/codes.ts';
import { randomId } from '../wamp/ids.ts';
import { error, withPayload, type Dict, type Outbound, type Publish, type Subscribe, type Unsubscribe } from '../wamp/messages.ts';
import { EncodedPayload, withPassthru } from '../wamp/payload.ts';
import { isReservedUri, isValidPattern, isValidUri, quoted, type MatchPolicy } from '../wamp/uri-syntax.ts';
import { ErrorUri, KreuzUri } from '../wamp/uris.ts';
import { EventStore, type HistoryConfig, type StoredEvent } from './event-store.ts';
import type { Hooks, RealmEvents } from './hooks.ts';
import type { Limits } from './limits.ts';
import type { RouterCounters } from './counters.ts';
import type { Session } from './session.ts';
import { storedSize } from './stored-size.ts';
import { Subscription } from './subscription.ts';
import { UriMap, patternMatches } from './uri-map.ts';

export interface BrokerOptions {
  hooks: Hooks<RealmEvents>;
  /** Topics whose last events are kept for wamp.subscription.get_events. */
  eventHistory?: HistoryConfig[];
  limits: Limits;
  counters: RouterCounters;
}

/** A publication as it is dispatched: PUBLISH.Options and the publisher's identity. */
export interface Publication {
  topic: string;
  options: Dict;
  /** The payload elements after the topic, exactly as published. */
  source: readonly unknown[];
  from: number;
  publisher: Session;
  /** The publisher's role discloses it to subscribers (Crossbar's permission "disclose.publisher"). */
  disclose?: boolean;
  /** What keeping it as the retained event costs (the PUBLISH's wire size, or an estimate). */
  bytes?: number;
  /** Its publication ID when another node of a cluster published it; none: a new one. */
  id?: number;
}

export class Broker {
  private readonly map = new UriMap<Subscription>();
  private readonly byId = new Map<number, Subscription>();
  readonly store: EventStore;
  /** A cluster's ID for a subscription (the same on every node); none: a random one. */
  subscriptionId: ((uri: string, match: MatchPolicy) => number) | undefined;

  constructor(private readonly o: BrokerOptions) {
    this.store = new EventStore(o.eventHistory, o.limits);
  }

  // ---- queries (meta API) ----

  subscription(id: number): Subscription | undefined {
    return this.byId.get(id);
  }

  lookup(uri: string, match: MatchPolicy): Subscription | undefined {
    return this.map.get(uri, match);
  }

  /** Every subscription an event on `topic` reaches. */
  match(topic: string): Subscription[] {
    return this.map.all(topic);
  }

  subscriptions(match: MatchPolicy): IterableIterator<Subscription> {
    return this.map.values(match);
  }

  // ---- SUBSCRIBE / UNSUBSCRIBE ----

  subscribe(session: Session, [, request, options, uri]: Subscribe): void {
    const match = (options.match as MatchPolicy | undefined) ?? 'exact';
    if (!isValidPattern(uri, match)) {
      session.send(error(T.SUBSCRIBE, request, ErrorUri.INVALID_URI, [`invalid topic URI ${quoted(uri)} for match "${match}"`]));
      return;
    }
    let subscription = this.map.get(uri, match);
    if (!session.internal && !subscription?.subscribers.has(session) && session.subscriptions.size >= this.o.limits.subscriptions) {
      this.o.counters.limit('subscriptions');
      session.send(
        error(T.SUBSCRIBE, request, KreuzUri.LIMIT_REACHED, [`a session may hold at most ${this.o.limits.subscriptions} subscriptions`]),
      );
      return;
    }
    const created = !subscription;
    subscription ??= this.create(uri, match);
    const added = !subscription.subscribers.has(session);
    subscription.subscribers.add(session);
    session.subscriptions.add(subscription);
    session.send([T.SUBSCRIBED, request, subscription.id]);
    // WAMP event retention: the retained events come right after SUBSCRIBED.
    if (options.get_retained === true) this.sendRetained(session, subscription);
    if (created) this.o.hooks.emit('subscriptionCreated', session, subscription);
    if (added) this.o.hooks.emit('subscriberAdded', session, subscription);
  }

  private create(uri: string, match: MatchPolicy): Subscription {
    let id = this.subscriptionId?.(uri, match) ?? randomId();
    while (this.byId.has(id)) id = randomId();
    const subscription = new Subscription(id, uri, match);
    this.map.set(uri, match, subscription);
    this.byId.set(id, subscription);
    return subscription;
  }

  /**
   * A subscriber of another node (a cluster's proxy session), so that the
   * meta API sees it here; events reach it from its own node, so its peer drops them.
   */
  attach(session: Session, uri: string, match: MatchPolicy): Subscription {
    const existing = this.map.get(uri, match);
    const subscription = existing ?? this.create(uri, match);
    if (subscription.subscribers.has(session)) return subscription;
    subscription.subscribers.add(session);
    session.subscriptions.add(subscription);
    if (!existing) this.o.hooks.emit('subscriptionCreated', session, subscription);
    this.o.hooks.emit('subscriberAdded', session, subscription);
    return subscription;
  }

  /** Takes a subscriber out with no message to it (it left on its own node). */
  withdraw(subscription: Subscription, session: Session): boolean {
    if (!subscription.subscribers.has(session)) return false;
    this.removeSubscriber(subscription, session);
    return true;
  }

  unsubscribe(session: Session, [, request, subscriptionId]: Unsubscribe): void {
    const subscription = this.byId.get(subscriptionId);
    if (!subscription?.subscribers.has(session)) {
      session.send(error(T.UNSUBSCRIBE, request, ErrorUri.NO_SUCH_SUBSCRIPTION, [`no subscription ${subscriptionId} for this session`]));
      return;
    }
    session.send([T.UNSUBSCRIBED, request]);
    this.removeSubscriber(subscription, session);
  }

  /**
   * Revokes a subscription from the router side (meta API remove_subscriber).
   * UNSUBSCRIBED goes only to subscribers announcing subscription_revocation.
   */
  revoke(subscription: Subscription, session: Session, reason: string): boolean {
    if (!subscription.subscribers.has(session)) return false;
    if (session.supports('subscriber', 'subscription_revocation')) {
      session.send([T.UNSUBSCRIBED, 0, { subscription: subscription.id, reason }]);
    }
    this.removeSubscriber(subscription, session);
    return true;
  }

  detach(session: Session): void {
    for (const subscription of [...session.subscriptions]) this.removeSubscriber(subscription, session);
  }

  private removeSubscriber(subscription: Subscription, session: Session): void {
    subscription.subscribers.delete(session);
    session.subscriptions.delete(subscription);
    this.o.hooks.emit('subscriberRemoved', session, subscription);
    if (subscription.subscribers.size > 0) return;
    this.map.delete(subscription.uri, subscription.match);
    this.byId.delete(subscription.id);
    this.o.hooks.emit('subscriptionDeleted', session, subscription);
  }

  // ---- PUBLISH ----

  publish(publisher: Session, msg: Publish, disclose = false): void {
    const [, request, options, topic] = msg;
    const acknowledge = options.acknowledge === true;
    // WAMP: "wamp." topics are the router's own; only its trusted sessions publish there.
    if (!isValidUri(topic) || (isReservedUri(topic) && publisher.authrole !== 'trusted')) {
      // WAMP: errors of an unacknowledged publication are not reported.
      if (acknowledge) publisher.send(error(T.PUBLISH, request, ErrorUri.INVALID_URI, [`invalid topic URI ${quoted(topic)}`]));
      return;
    }
    const bytes = publisher.inboundBytes || storedSize(msg);
    if (options.retain === true) {
      // A publication the router could not keep is refused whole, like any request over a limit.
      const refusal = this.store.retainRefusal(topic, publisher, bytes);
      if (refusal !== undefined) {
        this.o.counters.limit('retainedEvents');
        if (acknowledge) publisher.send(error(T.PUBLISH, request, KreuzUri.LIMIT_REACHED, [refusal]));
        return;
      }
    }
    const dispatched: Publication = { topic, options, source: msg, from: 4, publisher, disclose, bytes };
    const publication = this.dispatch(dispatched);
    // PUBLISHED goes out after the events are dispatched.
    if (acknowledge) publisher.send([T.PUBLISHED, request, publication]);
    this.o.hooks.emit('published', dispatched, publication);
  }

  /** Sends the events of one publication and stores it; returns its publication ID. */
  dispatch(p: Publication): number {
    const publication = p.id ?? randomId();
    const { options, publisher } = p;
    let details: Dict = {};
    // WAMP publisher identification: by role, or on the publisher's request.
    if (p.disclose === true || options.disclose_me === true) {
      details.publisher = publisher.id;
      details.publisher_authid = publisher.authid;
      details.publisher_authrole = publisher.authrole;
    }
    details = withPassthru(details, options);
    const receives = eligibility(options, publisher);
    let now: number | undefined;
    for (const subscription of this.map.all(p.topic)) {
      // One EVENT per subscription, shared by its subscribers: transports encode it once per serializer.
      const event = withPayload(
        [T.EVENT, subscription.id, publication, subscription.match === 'exact' ? details : { ...details, topic: p.topic }],
        p.source,
        p.from,
      );
      let sent = false;
      for (const subscriber of subscription.subscribers) {
        if (receives(subscriber)) {
          subscriber.send(event);
          sent = true;
        }
      }
      if (sent) subscription.delivered((now ??= performance.now()));
    }
    if (options.retain === true || this.store.hasHistory) {
      const stored: StoredEvent = {
        publication,
        topic: p.topic,
        timestamp: new Date().toISOString(),
        details,
        // Kept beyond this message: a payload viewing a larger socket read gets memory of its own.
        payload: p.source.slice(p.from).map((e) => (e instanceof EncodedPayload ? e.detached() : e)),
        options,
      };
      if (options.retain === true && !this.store.retain(stored, publisher, p.bytes ?? storedSize(stored.payload))) {
        this.o.counters.limit('retainedEvents');
      }
      // WAMP: events published to listed sessions are not kept in the history.
      if (options.eligible === undefined && options.exclude === undefined) this.store.record(stored);
    }
    return publication;
  }

  private sendRetained(session: Session, subscription: Subscription): void {
    const events =
      subscription.match === 'exact'
        ? [this.store.retainedOf(subscription.uri)].filter((e) => e !== undefined)
        : this.store.retainedFor((topic) => patternMatches(subscription.uri, subscription.match, topic));
    for (const event of events) {
      // Only to a subscriber that would have been eligible for it.
      if (!eligibility(event.options, undefined)(session)) continue;
      const details: Dict = { ...event.details, retained: true };
      if (subscription.match !== 'exact') details.topic = event.topic;
      session.send([T.EVENT, subscription.id, event.publication, details, ...event.payload] as Outbound);
    }
  }
}

/**
 * Who receives a publication (WAMP: subscriber black- and whitelisting and
 * publisher exclusion): in every given eligible list, in no exclude list,
 * and not the publisher unless exclude_me is false.
 */
function eligibility(options: Dict, publisher: Session | undefined): (s: Session) => boolean {
  const excludeMe = publisher !== undefined && options.exclude_me !== false;
  const lists = [
    options.eligible,
    options.eligible_authid,
    options.eligible_authrole,
    options.exclude,
    options.exclude_authid,
    options.exclude_authrole,
  ];
  if (lists.every((l) => l === undefined)) return excludeMe ? (s) => s !== publisher : () => true;
  const set = (l: unknown) => (l === undefined ? undefined : new Set(l as unknown[]));
  const [eligible, eligibleAuthid, eligibleAuthrole, exclude, excludeAuthid, excludeAuthrole] = lists.map(set);
  return (s) =>
    !(excludeMe && s === publisher) &&
    (!eligible || eligible.has(s.id)) &&
    (!eligibleAuthid || eligibleAuthid.has(s.authid)) &&
    (!eligibleAuthrole || eligibleAuthrole.has(s.authrole)) &&
    !exclude?.has(s.id) &&
    !excludeAuthid?.has(s.authid) &&
    !excludeAuthrole?.has(s.authrole);
}
