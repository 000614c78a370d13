/**
 * Registration meta API (WAMP: advanced/meta_api_registrations.md, plus
 * Crossbar's remove_callee). Registrations under "wamp." are the router's
 * own: they are hidden from results and raise no events.
 */
import { isValidUri, isReservedUri, MATCH_POLICIES } from '../wamp/uri-syntax.ts';
import { ErrorUri } from '../wamp/uris.ts';
import { WampError } from '../wamp/wamp-error.ts';
import type { Realm } from '../core/realm.ts';
import type { Registration } from '../core/registration.ts';
import type { Session } from '../core/session.ts';
import { idArg, matchArg, optionalString, stringArg } from './arguments.ts';
import type { ServiceSession } from './service-session.ts';

export function registrationDetails(r: Registration): Record<string, unknown> {
  return { id: r.id, created: r.created.toISOString(), uri: r.uri, match: r.match, invoke: r.invoke };
}

/** The router's own registrations are hidden: "wamp." URIs, and what only its internal sessions hold (e.g. kreuz.node.*). */
const visible = (r: Registration | undefined): r is Registration =>
  r !== undefined && !isReservedUri(r.uri) && !r.callees.every((c) => c.session.internal);

export function attachRegistrationApi(realm: Realm, service: ServiceSession): void {
  const dealer = realm.dealer;

  const get = (id: number): Registration => {
    const registration = dealer.registration(id);
    if (!visible(registration)) throw new WampError(ErrorUri.NO_SUCH_REGISTRATION, [`no registration ${id}`]);
    return registration;
  };

  service.register('wamp.registration.list', (args) => {
    // Crossbar's optional session argument lists only that session's registrations.
    const sessionId = args[0] === undefined || args[0] === null ? undefined : idArg(args, 0, 'session');
    const owner = sessionId === undefined ? undefined : realm.sessions.get(sessionId);
    if (sessionId !== undefined && (!owner || owner.internal)) throw new WampError(ErrorUri.NO_SUCH_SESSION, [`no session ${sessionId}`]);
    const result: Record<string, number[]> = {};
    for (const match of MATCH_POLICIES) {
      result[match] = [...dealer.registrations(match)].filter((r) => visible(r) && (!owner || owner.registrations.has(r))).map((r) => r.id);
    }
    return result;
  });

  service.register('wamp.registration.lookup', (args) => {
    const uri = stringArg(args, 0, 'procedure');
    const match = matchArg(args[1]);
    const registration = dealer.lookup(uri, match);
    return visible(registration) ? registration.id : null;
  });

  service.register('wamp.registration.match', (args) => {
    const uri = stringArg(args, 0, 'procedure');
    if (!isValidUri(uri)) throw new WampError(ErrorUri.INVALID_URI, [`invalid procedure URI "${uri}"`]);
    const registration = dealer.match(uri);
    return visible(registration) ? registration.id : null;
  });

  service.register('wamp.registration.get', (args) => registrationDetails(get(idArg(args, 0, 'registration'))));

  service.register('wamp.registration.list_callees', (args) => get(idArg(args, 0, 'registration')).callees.map((c) => c.session.id));

  service.register('wamp.registration.count_callees', (args) => get(idArg(args, 0, 'registration')).callees.length);

  service.register('wamp.registration.remove_callee', (args, kwargs) => {
    const registration = get(idArg(args, 0, 'registration'));
    const calleeId = idArg(args, 1, 'callee');
    const reason = optionalString(kwargs.reason, 'reason') ?? ErrorUri.UNREGISTERED;
    const callee = realm.sessions.get(calleeId);
    if (!callee || callee.internal) throw new WampError(ErrorUri.NO_SUCH_SESSION, [`no session ${calleeId}`]);
    if (!dealer.revoke(registration, callee, reason)) {
      throw new WampError(ErrorUri.NO_SUCH_REGISTRATION, [`session ${calleeId} is not a callee of registration ${registration.id}`]);
    }
    return undefined;
  });

  // Events, published after the reply that caused them (the dealer emits after replying).
  const publish = (topic: string, args: unknown[], registration: Registration, session: Session) => {
    if (!isReservedUri(registration.uri) && !session.internal) service.publish(topic, args);
  };
  realm.hooks.add({
    registrationCreated: (session, r) => publish('wamp.registration.on_create', [session.id, registrationDetails(r)], r, session),
    calleeAdded: (session, r) => publish('wamp.registration.on_register', [session.id, r.id], r, session),
    calleeRemoved: (session, r) => publish('wamp.registration.on_unregister', [session.id, r.id], r, session),
    registrationDeleted: (session, r) => publish('wamp.registration.on_delete', [session.id, r.id], r, session),
  });
}
