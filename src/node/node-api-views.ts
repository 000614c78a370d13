/**
 * What the `kreuz.node.*` queries answer about one realm, as plain JSON:
 * its sessions, registrations and subscriptions with their counters, and
 * the realm's summary. As in the meta API the router's own sessions are
 * never shown; URIs of the router's namespaces ("wamp.", "crossbar.",
 * "kreuz.") are shown to the trusted role only.
 */
import type { Realm } from '../core/realm.ts';
import type { Registration } from '../core/registration.ts';
import type { Session } from '../core/session.ts';
import type { Subscription } from '../core/subscription.ts';
import { MATCH_POLICIES } from '../wamp/uri-syntax.ts';

/** What a caller may see: everything (trusted) or none of the router's namespaces. */
export interface Viewer {
  trusted: boolean;
}

const ROUTER_NAMESPACES = ['wamp.', 'crossbar.', 'kreuz.'];

function visibleUri(uri: string, viewer: Viewer): boolean {
  return viewer.trusted || !ROUTER_NAMESPACES.some((prefix) => uri.startsWith(prefix));
}

/** The realm's client sessions (the router's own are hidden, as wamp.session.list hides them). */
export function* clientSessionsOf(realm: Realm): Generator<Session> {
  for (const session of realm.sessions.values()) if (!session.internal) yield session;
}

export function* registrationsOf(realm: Realm, viewer: Viewer): Generator<Registration> {
  for (const match of MATCH_POLICIES) {
    for (const registration of realm.dealer.registrations(match)) if (visibleUri(registration.uri, viewer)) yield registration;
  }
}

export function* subscriptionsOf(realm: Realm, viewer: Viewer): Generator<Subscription> {
  for (const match of MATCH_POLICIES) {
    for (const subscription of realm.broker.subscriptions(match)) if (visibleUri(subscription.uri, viewer)) yield subscription;
  }
}

function count(items: Iterable<unknown>): number {
  let n = 0;
  for (const _ of items) n++;
  return n;
}

/** Rates and latencies are shown to 3 decimals. */
function rounded(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export function realmView(realm: Realm, viewer: Viewer) {
  return {
    name: realm.name,
    sessions: count(clientSessionsOf(realm)),
    registrations: count(registrationsOf(realm, viewer)),
    subscriptions: count(subscriptionsOf(realm, viewer)),
  };
}

/** The realm's summary in `kreuz.node.on_stats`: the non-trusted view, with the calls and events per second of what it shows. */
export function realmStats(realm: Realm, now: number) {
  const viewer = { trusted: false };
  let calls = 0;
  let events = 0;
  for (const r of registrationsOf(realm, viewer)) calls += r.callRate?.perSecond(now) ?? 0;
  for (const s of subscriptionsOf(realm, viewer)) events += s.eventRate?.perSecond(now) ?? 0;
  return { ...realmView(realm, viewer), calls_per_s: rounded(calls), events_per_s: rounded(events) };
}

export function sessionView(session: Session) {
  const { type, serializer, peer } = session.peer.info;
  return {
    session: session.id,
    authid: session.authid,
    authrole: session.authrole,
    authmethod: session.authmethod,
    authprovider: session.authprovider,
    transport: { type, serializer, peer },
    joined: session.joinedAt > 0 ? new Date(session.joinedAt).toISOString() : null,
    messages_in: session.messagesIn,
    messages_out: session.messagesOut,
  };
}

/** `now`: performance.now(), the clock the counters use. */
export function registrationView(registration: Registration, now: number) {
  let inFlight = 0;
  const callees: number[] = [];
  for (const callee of registration.callees) {
    inFlight += callee.inFlight;
    if (!callee.session.internal) callees.push(callee.session.id);
  }
  return {
    id: registration.id,
    uri: registration.uri,
    match: registration.match,
    invoke: registration.invoke,
    created: registration.created.toISOString(),
    callees,
    calls: registration.calls,
    errors: registration.errors,
    in_flight: inFlight,
    queued: registration.queue.length,
    calls_per_s: rounded(registration.callRate?.perSecond(now) ?? 0),
    latency_ms: registration.latency?.quantiles(now) ?? null,
  };
}

export function subscriptionView(subscription: Subscription, now: number) {
  return {
    id: subscription.id,
    uri: subscription.uri,
    match: subscription.match,
    created: subscription.created.toISOString(),
    subscribers: subscription.subscribers.size,
    events: subscription.events,
    events_per_s: rounded(subscription.eventRate?.perSecond(now) ?? 0),
  };
}
