/**
 * Session meta API (WAMP: advanced/meta_api_sessions.md). The router's own
 * sessions are never listed, counted, killed or announced.
 */
import { isValidUri } from '../wamp/uri-syntax.ts';
import { CloseUri, ErrorUri } from '../wamp/uris.ts';
import { WampError } from '../wamp/wamp-error.ts';
import type { Realm } from '../core/realm.ts';
import type { Router } from '../core/router.ts';
import type { Session } from '../core/session.ts';
import { idArg, optionalString, optionalStringList, stringArg } from './arguments.ts';
import type { CallerInfo, ServiceSession } from './service-session.ts';
import type { Dict } from '../wamp/messages.ts';

export function sessionDetails(s: Session): Record<string, unknown> {
  return {
    session: s.id,
    realm: s.realm?.name,
    authid: s.authid,
    authrole: s.authrole,
    authmethod: s.authmethod,
    authprovider: s.authprovider,
    transport: { ...s.peer.info },
    // As Crossbar: what the authenticator returned for the session (WELCOME.Details.authextra).
    ...(s.authextra && { authextra: s.authextra }),
  };
}

export function attachSessionApi(router: Router, realm: Realm, service: ServiceSession): void {
  const sessions = (authroles?: string[]) =>
    [...realm.sessions.values()].filter((s) => !s.internal && (!authroles || authroles.includes(s.authrole)));

  const find = (id: number): Session => {
    const session = realm.sessions.get(id);
    if (!session || session.internal) throw new WampError(ErrorUri.NO_SUCH_SESSION, [`no session ${id}`]);
    return session;
  };

  /** kwargs reason (a URI, default wamp.close.killed) and message, as the spec defines them for every kill. */
  const closeReason = (kwargs: Dict): [string, string | undefined] => {
    const reason = optionalString(kwargs.reason, 'reason') ?? CloseUri.KILLED;
    if (!isValidUri(reason)) throw new WampError(ErrorUri.INVALID_URI, [`invalid reason URI "${reason}"`]);
    return [reason, optionalString(kwargs.message, 'message')];
  };

  /** Kills every listed session but the caller; returns their IDs. */
  const killAll = (targets: Session[], caller: CallerInfo, kwargs: Dict, announce = true): number[] => {
    const [reason, message] = closeReason(kwargs);
    const killed = targets.filter((s) => s.id !== caller.session);
    for (const session of killed) session.announceLeave = announce;
    const ids = killed.map((s) => s.id);
    for (const session of killed) router.kill(session, reason, message);
    return ids;
  };

  service.register('wamp.session.count', (args) => sessions(optionalStringList(args[0], 'filter_authroles')).length);
  service.register('wamp.session.list', (args) => sessions(optionalStringList(args[0], 'filter_authroles')).map((s) => s.id));
  service.register('wamp.session.get', (args) => sessionDetails(find(idArg(args, 0, 'session'))));

  service.register('wamp.session.kill', (args, kwargs, caller) => {
    const id = idArg(args, 0, 'session');
    // WAMP: a session cannot kill itself through the meta API.
    if (id === caller.session) throw new WampError(ErrorUri.NO_SUCH_SESSION, ['a session cannot kill itself']);
    killAll([find(id)], caller, kwargs);
    return undefined;
  });
  service.register('wamp.session.kill_by_authid', (args, kwargs, caller) => {
    const authid = stringArg(args, 0, 'authid');
    return killAll(
      sessions().filter((s) => s.authid === authid),
      caller,
      kwargs,
    );
  });
  service.register('wamp.session.kill_by_authrole', (args, kwargs, caller) => {
    const authrole = stringArg(args, 0, 'authrole');
    return killAll(sessions([authrole]), caller, kwargs).length;
  });
  // WAMP: kill_all publishes no on_leave (and fires no testaments).
  service.register('wamp.session.kill_all', (_args, kwargs, caller) => killAll(sessions(), caller, kwargs, false).length);

  realm.hooks.add({
    join: (session) => {
      if (!session.internal) service.publish('wamp.session.on_join', [sessionDetails(session)]);
    },
    leave: (session) => {
      if (!session.internal && session.announceLeave) {
        service.publish('wamp.session.on_leave', [session.id, session.authid, session.authrole]);
      }
    },
  });
}
