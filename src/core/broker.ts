/**
 * The broker: subscriptions and publications (WAMP: basic/pubsub.md).
 */
import { MessageType as T } from '../wamp/codes.ts';
import { randomId } from '../wamp/ids.ts';
import { error, withPayload, type Publish, type Subscribe, type Unsubscribe } from '../wamp/messages.ts';
import { isReservedUri, isValidPattern, isValidUri, type MatchPolicy } from '../wamp/uri-syntax.ts';
import { ErrorUri } from '../wamp/uris.ts';
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

export class Broker {
  private readonly exact = new Map<string, Subscription>();
  private readonly byId = new Map<number, Subscription>();

  subscribe(session: Session, [, request, options, uri]: Subscribe): void {
    const match = (options.match as MatchPolicy | undefined) ?? 'exact';
    if (match !== 'exact') {
      session.send(error(T.SUBSCRIBE, request, ErrorUri.INVALID_ARGUMENT, [`match policy "${match}" is not supported yet`]));
      return;
    }
    if (!isValidPattern(uri, match)) {
      session.send(error(T.SUBSCRIBE, request, ErrorUri.INVALID_URI, [`invalid topic URI "${uri}"`]));
      return;
    }
    let subscription = this.exact.get(uri);
    if (!subscription) {
      subscription = new Subscription(this.newSubscriptionId(), uri, match);
      this.exact.set(uri, subscription);
      this.byId.set(subscription.id, subscription);
    }
    subscription.subscribers.add(session);
    session.subscriptions.add(subscription);
    session.send([T.SUBSCRIBED, request, subscription.id]);
  }

  unsubscribe(session: Session, [, request, subscriptionId]: Unsubscribe): void {
    const subscription = this.byId.get(subscriptionId);
    if (!subscription || !subscription.subscribers.has(session)) {
      session.send(error(T.UNSUBSCRIBE, request, ErrorUri.NO_SUCH_SUBSCRIPTION));
      return;
    }
    this.removeSubscriber(subscription, session);
    session.send([T.UNSUBSCRIBED, request]);
  }

  publish(publisher: Session, msg: Publish): void {
    const [, request, options, uri] = msg;
    const acknowledge = options.acknowledge === true;
    // WAMP: errors of an unacknowledged publication are not reported.
    // WAMP: "wamp." topics are the router's own; only its trusted sessions publish there.
    if (!isValidUri(uri) || (isReservedUri(uri) && publisher.authrole !== 'trusted')) {
      if (acknowledge) publisher.send(error(T.PUBLISH, request, ErrorUri.INVALID_URI, [`invalid topic URI "${uri}"`]));
      return;
    }
    const publication = randomId();
    const subscription = this.exact.get(uri);
    if (subscription) {
      const excludeMe = options.exclude_me !== false; // WAMP: the publisher is excluded by default
      for (const subscriber of subscription.subscribers) {
        if (excludeMe && subscriber === publisher) continue;
        subscriber.send(withPayload([T.EVENT, subscription.id, publication, {}], msg, 4));
      }
    }
    // PUBLISHED goes out after the events are dispatched.
    if (acknowledge) publisher.send([T.PUBLISHED, request, publication]);
  }

  detach(session: Session): void {
    for (const subscription of [...session.subscriptions]) this.removeSubscriber(subscription, session);
  }

  private removeSubscriber(subscription: Subscription, session: Session): void {
    subscription.subscribers.delete(session);
    session.subscriptions.delete(subscription);
    if (subscription.subscribers.size === 0) {
      this.exact.delete(subscription.uri);
      this.byId.delete(subscription.id);
    }
  }

  private newSubscriptionId(): number {
    let id = randomId();
    while (this.byId.has(id)) id = randomId();
    return id;
  }
}
