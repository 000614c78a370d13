/**
 * The router: session lifecycle (WAMP: basic/sessions.md) and dispatch of
 * checked messages to a realm's dealer and broker.
 */
import { randomBytes } from 'node:crypto';
import { MessageType as T, messageName } from '../wamp/codes.ts';
import { routerFeatures } from '../wamp/features.ts';
import { randomId } from '../wamp/ids.ts';
import { ShapeError, checkInbound } from '../wamp/inbound.ts';
import { abort, goodbye, type Goodbye, type Hello, type Inbound } from '../wamp/messages.ts';
import { CloseUri, ErrorUri } from '../wamp/uris.ts';
import { realTimers, type Timers } from './hooks.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { Peer } from './peer.ts';
import { Realm, type RealmConfig } from './realm.ts';
import { Session } from './session.ts';

export interface RouterOptions {
  realms: RealmConfig[];
  timers?: Timers;
  /** Calls that may wait per registration when every callee is at its concurrency limit (default 0, as Crossbar without a call queue). */
  callQueueLimit?: number;
  /** Sent as WELCOME.Details.agent. */
  agent?: string;
  logger?: Logger;
}

export class Router {
  readonly realms = new Map<string, Realm>();
  private readonly sessionIds = new Set<number>();
  private readonly features = routerFeatures();
  private readonly agent: string;
  private readonly log: Logger;

  constructor(options: RouterOptions) {
    const context = {
      timers: options.timers ?? realTimers,
      callQueueLimit: options.callQueueLimit ?? 0,
      protocolViolation: (session: Session, reason: string) => this.protocolViolation(session, reason),
    };
    for (const realm of options.realms) this.realms.set(realm.name, new Realm(realm, context));
    this.agent = options.agent ?? 'Kreuz';
    this.log = options.logger ?? silentLogger;
  }

  /** A transport opened a connection: the returned session receives its messages. */
  connect(peer: Peer): Session {
    return new Session(peer);
  }

  /** One decoded message from the client. Never throws for bad input. */
  receive(session: Session, raw: unknown): void {
    if (session.state === 'closed') return;
    const msg = checkInbound(raw);
    if (msg instanceof ShapeError) return this.protocolViolation(session, msg.reason);
    switch (session.state) {
      case 'opening':
        return this.receiveOpening(session, msg);
      case 'joined':
        return this.receiveJoined(session, msg);
      case 'closing':
        // WAMP: after sending GOODBYE, only the GOODBYE reply matters; the transport may then carry a new session.
        if (msg[0] === T.GOODBYE) session.state = 'opening';
        return;
    }
  }

  /** The transport is gone (closed by either side, or lost). */
  transportClosed(session: Session): void {
    if (session.state === 'closed') return;
    this.leave(session);
    session.state = 'closed';
  }

  /**
   * The transport is failing the connection (e.g. a message over the size
   * limit): tell the client with ABORT, drop the session; the transport closes itself.
   */
  transportFailed(session: Session, reason: string, message: string): void {
    if (session.state === 'closed') return;
    this.log.warn({ ...session.logFields, peer: session.peer.info.peer, reason: message }, 'transport failed');
    session.send(abort(reason, message));
    this.leave(session);
    session.state = 'closed';
  }

  /** Undecodable bytes from the transport: a protocol violation. */
  undecodable(session: Session, reason: string): void {
    this.protocolViolation(session, reason);
  }

  /**
   * Ends a session from the router side with GOODBYE (shutdown, or the meta
   * API's kill). Its registrations and subscriptions go at once; the router
   * then only waits for the client's GOODBYE reply.
   */
  kill(session: Session, reason: string = CloseUri.SYSTEM_SHUTDOWN, message?: string): void {
    if (session.state !== 'joined') return;
    session.send(goodbye(reason, message));
    this.leave(session);
    session.state = 'closing';
  }

  /**
   * Joins an in-process session (the router's own services) to a realm,
   * without HELLO or WELCOME. Its authrole "trusted" may use "wamp." URIs.
   */
  joinInternal(peer: Peer, realmName: string, authid: string): Session {
    const realm = this.realms.get(realmName);
    if (!realm) throw new Error(`no realm "${realmName}"`);
    const session = new Session(peer);
    session.internal = true;
    session.id = this.newSessionId();
    session.realm = realm;
    session.clientRoles = { caller: {}, callee: {}, publisher: {}, subscriber: {} };
    session.authid = authid;
    session.authrole = 'trusted';
    session.authmethod = 'internal';
    session.authprovider = 'internal';
    session.state = 'joined';
    realm.join(session);
    return session;
  }

  /** Announces a router feature in WELCOME (e.g. once the meta API is attached). */
  announce(role: 'broker' | 'dealer', feature: string): void {
    this.features[role][feature] = true;
  }

  private receiveOpening(session: Session, msg: Inbound): void {
    switch (msg[0]) {
      case T.HELLO:
        return this.hello(session, msg);
      case T.ABORT:
        return this.close(session, 'client aborted');
      default:
        return this.protocolViolation(session, `${messageName(msg[0])} received before the session was established`);
    }
  }

  private receiveJoined(session: Session, msg: Inbound): void {
    const realm = session.realm!;
    switch (msg[0]) {
      case T.GOODBYE:
        return this.goodbyeReceived(session, msg);
      case T.ABORT:
        this.leave(session);
        return this.close(session, 'client aborted');
      case T.REGISTER:
        return realm.dealer.register(session, msg);
      case T.UNREGISTER:
        return realm.dealer.unregister(session, msg);
      case T.CALL:
        return realm.dealer.call(session, msg);
      case T.CANCEL:
        return realm.dealer.cancel(session, msg);
      case T.YIELD:
        return realm.dealer.yield(session, msg);
      case T.ERROR:
        return realm.dealer.invocationError(session, msg);
      case T.SUBSCRIBE:
        return realm.broker.subscribe(session, msg);
      case T.UNSUBSCRIBE:
        return realm.broker.unsubscribe(session, msg);
      case T.PUBLISH:
        return realm.broker.publish(session, msg);
      default:
        // HELLO or AUTHENTICATE again.
        return this.protocolViolation(session, `unexpected ${messageName(msg[0])} in an established session`);
    }
  }

  private hello(session: Session, [, realmName, details]: Hello): void {
    const realm = this.realms.get(realmName);
    if (!realm) return this.abort(session, ErrorUri.NO_SUCH_REALM, `no realm "${realmName}" exists on this router`);
    const methods = (details.authmethods as string[] | undefined) ?? ['anonymous'];
    if (!methods.includes('anonymous')) {
      return this.abort(session, ErrorUri.NO_AUTH_METHOD, `no authmethod offered is allowed (allowed: anonymous)`);
    }

    session.id = this.newSessionId();
    session.realm = realm;
    session.clientRoles = details.roles as Record<string, unknown>;
    // Like Crossbar, an anonymous session gets a generated authid; a requested one is not trusted.
    session.authid = anonymousAuthid();
    session.authrole = 'anonymous';
    session.authmethod = 'anonymous';
    session.authprovider = 'static';
    session.state = 'joined';
    session.send([
      T.WELCOME,
      session.id,
      {
        realm: realm.name,
        authid: session.authid,
        authrole: session.authrole,
        authmethod: session.authmethod,
        authprovider: session.authprovider,
        roles: { broker: { features: { ...this.features.broker } }, dealer: { features: { ...this.features.dealer } } },
        agent: this.agent,
      },
    ]);
    realm.join(session);
    this.log.debug({ ...session.logFields, authid: session.authid, transport: session.peer.info }, 'session joined');
  }

  private goodbyeReceived(session: Session, _msg: Goodbye): void {
    // WAMP: a GOODBYE is answered with GOODBYE; the transport may then carry a new session.
    session.send(goodbye(CloseUri.GOODBYE_AND_OUT));
    this.leave(session);
  }

  /** Removes a joined session from its realm; the transport stays as it is. */
  private leave(session: Session): void {
    const realm = session.realm;
    if (realm) {
      realm.leave(session);
      this.sessionIds.delete(session.id);
      this.log.debug(session.logFields, 'session left');
    }
    session.realm = undefined;
    session.id = 0;
    if (session.state !== 'closed') session.state = 'opening';
  }

  private abort(session: Session, reason: string, message: string): void {
    session.send(abort(reason, message));
    this.leave(session);
    this.close(session, reason);
  }

  /** WAMP: a protocol violation is answered with ABORT, the session's state dropped, and the transport closed. */
  private protocolViolation(session: Session, message: string): void {
    this.log.warn({ ...session.logFields, peer: session.peer.info.peer, reason: message }, 'protocol violation');
    this.abort(session, ErrorUri.PROTOCOL_VIOLATION, message);
  }

  private close(session: Session, reason: string): void {
    session.state = 'closed';
    session.peer.close(reason);
  }

  private newSessionId(): number {
    let id = randomId();
    while (this.sessionIds.has(id)) id = randomId();
    this.sessionIds.add(id);
    return id;
  }
}

/** Crossbar-like generated authid for anonymous sessions, e.g. "K3QF-7XRM-YC9P-2JWA". */
function anonymousAuthid(): string {
  const alphabet = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
  const bytes = randomBytes(16);
  let out = '';
  for (let i = 0; i < 16; i++) {
    if (i > 0 && i % 4 === 0) out += '-';
    out += alphabet[bytes[i] % alphabet.length];
  }
  return out;
}
