/**
 * Subscription meta API (WAMP: advanced/meta_api_subscriptions.md, plus
 * Crossbar's remove_subscriber and get_events). Subscriptions to "wamp."
 * topics are hidden from results and raise no events.
 */
import { isReservedUri, isValidUri, MATCH_POLICIES } from '../wamp/uri-syntax.ts';
import { ErrorUri } from '../wamp/uris.ts';
import { WampError } from '../wamp/wamp-error.ts';
import { elementValues } from '../wamp/payload.ts';
import type { Realm } from '../core/realm.ts';
import type { Subscription } from '../core/subscription.ts';
import { idArg, matchArg, optionalString, stringArg } from './arguments.ts';
import type { ServiceSession } from './service-session.ts';

export function subscriptionDetails(s: Subscription): Record<string, unknown> {
  return { id: s.id, created: s.created.toISOString(), uri: s.uri, match: s.match };
}

const visible = (s: Subscription | undefined): s is Subscription => s !== undefined && !isReservedUri(s.uri);

export function attachSubscriptionApi(realm: Realm, service: ServiceSession): void {
  const broker = realm.broker;

  const get = (id: number): Subscription => {
    const subscription = broker.subscription(id);
    if (!visible(subscription)) throw new WampError(ErrorUri.NO_SUCH_SUBSCRIPTION, [`no subscription ${id}`]);
    return subscription;
  };

  service.register('wamp.subscription.list', (args) => {
    const sessionId = args[0] === undefined || args[0] === null ? undefined : idArg(args, 0, 'session');
    const owner = sessionId === undefined ? undefined : realm.sessions.get(sessionId);
    if (sessionId !== undefined && (!owner || owner.internal)) throw new WampError(ErrorUri.NO_SUCH_SESSION, [`no session ${sessionId}`]);
    const result: Record<string, number[]> = {};
    for (const match of MATCH_POLICIES) {
      result[match] = [...broker.subscriptions(match)].filter((s) => visible(s) && (!owner || owner.subscriptions.has(s))).map((s) => s.id);
    }
    return result;
  });

  service.register('wamp.subscription.lookup', (args) => {
    const uri = stringArg(args, 0, 'topic');
    const match = matchArg(args[1]);
    const subscription = broker.lookup(uri, match);
    return visible(subscription) ? subscription.id : null;
  });

  service.register('wamp.subscription.match', (args) => {
    const topic = stringArg(args, 0, 'topic');
    if (!isValidUri(topic)) throw new WampError(ErrorUri.INVALID_URI, [`invalid topic URI "${topic}"`]);
    const ids = broker
      .match(topic)
      .filter(visible)
      .map((s) => s.id);
    return ids.length > 0 ? ids : null;
  });

  service.register('wamp.subscription.get', (args) => subscriptionDetails(get(idArg(args, 0, 'subscription'))));
  service.register('wamp.subscription.list_subscribers', (args) => [...get(idArg(args, 0, 'subscription')).subscribers].map((s) => s.id));
  service.register('wamp.subscription.count_subscribers', (args) => get(idArg(args, 0, 'subscription')).subscribers.size);

  service.register('wamp.subscription.remove_subscriber', (args, kwargs) => {
    const subscription = get(idArg(args, 0, 'subscription'));
    const subscriberId = idArg(args, 1, 'subscriber');
    const reason = optionalString(kwargs.reason, 'reason') ?? ErrorUri.UNSUBSCRIBED;
    const subscriber = realm.sessions.get(subscriberId);
    if (!subscriber || subscriber.internal) throw new WampError(ErrorUri.NO_SUCH_SESSION, [`no session ${subscriberId}`]);
    if (!broker.revoke(subscription, subscriber, reason)) {
      throw new WampError(ErrorUri.NO_SUCH_SUBSCRIPTION, [`session ${subscriberId} is not subscribed to ${subscription.id}`]);
    }
    return undefined;
  });

  // Event history, newest first as Crossbar returns it.
  service.register('wamp.subscription.get_events', (args, kwargs) => {
    const subscription = get(idArg(args, 0, 'subscription'));
    const limitArg = args[1] ?? kwargs.limit ?? 10;
    if (typeof limitArg !== 'number' || !Number.isInteger(limitArg) || limitArg < 0) {
      throw new WampError(ErrorUri.INVALID_ARGUMENT, ['limit must be a non-negative integer']);
    }
    const events = broker.store.history(subscription.uri, subscription.match);
    if (!events)
      throw new WampError(ErrorUri.HISTORY_UNAVAILABLE, [`no event history is configured for ${subscription.uri} (${subscription.match})`]);
    const newest = limitArg === 0 ? [] : events.slice(-limitArg);
    return newest.reverse().map((e) => {
      const [args = [], kwargs = {}] = elementValues(e.payload);
      return {
        timestamp: e.timestamp,
        subscription: subscription.id,
        publication: e.publication,
        topic: e.topic,
        details: e.details,
        args,
        kwargs,
      };
    });
  });

  const publish = (topic: string, args: unknown[], subscription: Subscription) => {
    if (!isReservedUri(subscription.uri)) service.publish(topic, args);
  };
  realm.hooks.add({
    subscriptionCreated: (session, s) => publish('wamp.subscription.on_create', [session.id, subscriptionDetails(s)], s),
    subscriberAdded: (session, s) => publish('wamp.subscription.on_subscribe', [session.id, s.id], s),
    subscriberRemoved: (session, s) => publish('wamp.subscription.on_unsubscribe', [session.id, s.id], s),
    subscriptionDeleted: (session, s) => publish('wamp.subscription.on_delete', [session.id, s.id], s),
  });
}
