/**
 * The router: session lifecycle (WAMP: basic/sessions.md) and dispatch of
 * checked messages to a realm's dealer and broker.
 */
import { MessageType as T, messageName } from '../wamp/codes.ts';
import { routerFeatures } from '../wamp/features.ts';
import { randomId } from '../wamp/ids.ts';
import { ShapeError, checkInbound } from '../wamp/inbound.ts';
import { abort, error, goodbye, type Authenticate, type Dict, type Goodbye, type Hello, type Inbound } from '../wamp/messages.ts';
import { isValidPattern, isValidUri, quoted, type MatchPolicy } from '../wamp/uri-syntax.ts';
import { CloseUri, ErrorUri, KreuzUri } from '../wamp/uris.ts';
import { AuthThrottle, throttleKeys } from './auth-throttle.ts';
import { DEFAULT_LIMITS, RateLimiter, type Limits } from './limits.ts';
import { ANONYMOUS_ONLY, type AuthStep, type Principal, type TransportAuth } from './authentication.ts';
import type { Action, Decision } from './authorization.ts';
import type { GateVerdict, GuardedMessage, Refusal, RouterExtension } from './extensions.ts';
import { realTimers, type RealmEvents, type Timers } from './hooks.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { Peer } from './peer.ts';
import { Realm, type RealmConfig, type RealmContext } from './realm.ts';
import { Session } from './session.ts';
import { RouterCounters } from './counters.ts';

export interface RouterOptions {
  realms: RealmConfig[];
  timers?: Timers;
  /** Calls that may wait per registration when every callee is at its concurrency limit (default 0, as Crossbar without a call queue). */
  callQueueLimit?: number;
  /** Sent as WELCOME.Details.agent. */
  agent?: string;
  logger?: Logger;
  /** Limits; each one not given keeps its default (see limits.ts). */
  limits?: Partial<Limits>;
  /** Milliseconds clock for rate limits; handed in so tests control time. */
  now?: () => number;
}

export class Router {
  readonly realms = new Map<string, Realm>();
  private readonly sessionIds = new Set<number>();
  private readonly features = routerFeatures();
  private readonly agent: string;
  private readonly log: Logger;
  private readonly timers: Timers;
  private readonly throttle = new AuthThrottle({}, () => this.now());
  private readonly limits: Limits;
  private readonly now: () => number;
  private joined = 0;
  /** Connections not yet joined (HELLO -> WELCOME pending), against `limits.pendingSessions`. */
  private pending = 0;
  /** Trouble contained: limits reached, undeliverable messages, failed sessions. */
  readonly counters = new RouterCounters();
  /** What `use()` plugged in, by the point each one serves. */
  private readonly peerWrappers: RouterExtension[] = [];
  private readonly taps: RouterExtension[] = [];
  private readonly gates: RouterExtension[] = [];
  /** Realms' event listeners of the extensions (`use()`), for realms added later too. */
  private readonly realmEvents: Array<Partial<RealmEvents>> = [];
  /** What `onRealm()` runs on every realm, the ones added later included. */
  private readonly realmSetups: Array<(realm: Realm) => void> = [];
  private readonly realmContext: RealmContext;
  /** False once `stopAdmitting()` was called. */
  private admittingNew = true;

  constructor(options: RouterOptions) {
    this.timers = options.timers ?? realTimers;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
    const context: RealmContext = {
      timers: this.timers,
      callQueueLimit: options.callQueueLimit ?? 0,
      limits: this.limits,
      counters: this.counters,
      protocolViolation: (session: Session, reason: string) => this.protocolViolation(session, reason),
      hookFailed: (event: string, err: unknown) => this.extensionFailed(event, err),
    };
    this.realmContext = context;
    for (const realm of options.realms) this.realms.set(realm.name, new Realm(realm, context));
    this.agent = options.agent ?? 'Kreuz';
    this.log = options.logger ?? silentLogger;
  }

  /**
   * A transport opened a connection: the returned session receives its
   * messages. `auth` is the transport's authentication; none means anonymous only.
   */
  connect(peer: Peer, auth?: TransportAuth): Session {
    for (const extension of this.peerWrappers) peer = extension.wrapPeer!(peer);
    const session = new Session(peer, auth);
    this.startOpening(session);
    return session;
  }

  /**
   * Plugs an extension in (see extensions.ts): a peer wrapper, an inbound
   * tap, a gate after authorization, realm event listeners. Each point runs
   * its extensions in the order they were added. Add them before the first
   * connection: a peer is wrapped once, when it connects.
   */
  use(extension: RouterExtension): this {
    if (extension.wrapPeer) this.peerWrappers.push(extension);
    if (extension.inbound) this.taps.push(extension);
    if (extension.gate) this.gates.push(extension);
    if (extension.events) {
      this.realmEvents.push(extension.events);
      for (const realm of this.realms.values()) realm.hooks.add(extension.events);
    }
    return this;
  }

  /** Runs `setup` on every realm now and on each one added later (the router's own services per realm: meta API, ...). */
  onRealm(setup: (realm: Realm) => void): void {
    this.realmSetups.push(setup);
    for (const realm of this.realms.values()) setup(realm);
  }

  /**
   * Adds a realm while the router runs (a reload, kreuz.realm.create): with
   * the extensions' listeners and every `onRealm` setup, as if it had been
   * there from the start. Throws if a realm of that name exists.
   */
  addRealm(config: RealmConfig): Realm {
    if (this.realms.has(config.name)) throw new Error(`realm "${config.name}" exists`);
    const realm = new Realm(config, this.realmContext);
    for (const events of this.realmEvents) realm.hooks.add(events);
    this.realms.set(realm.name, realm);
    for (const setup of this.realmSetups) {
      try {
        setup(realm);
      } catch (err) {
        this.extensionFailed('realm setup', err);
      }
    }
    this.log.info({ realm: realm.name }, 'realm added');
    return realm;
  }

  /**
   * Removes a realm while the router runs: from now on no session joins it
   * (one still authenticating into it is refused with no_such_realm), and
   * right after the current task every session on it is ended: clients get
   * GOODBYE `reason` (wamp.close.close_realm), the router's own sessions on
   * it close. The delay lets an answer already on its way go first (the
   * RESULT of the call that removed the caller's own realm). Returns how
   * many client sessions it had, or undefined when there is no such realm.
   */
  removeRealm(name: string, message = `realm "${name}" was removed`): number | undefined {
    const realm = this.realms.get(name);
    if (!realm) return undefined;
    this.realms.delete(name);
    const clients = [...realm.sessions.values()].filter((s) => !s.internal && !s.remote).length;
    this.timers.setTimeout(() => {
      const sessions = [...realm.sessions.values()].filter((s) => !s.remote);
      // Clients first: the realm's services (meta API) still announce their leaving and fire their testaments.
      for (const session of sessions) if (!session.internal) this.contain(session, () => this.kill(session, CloseUri.CLOSE_REALM, message));
      for (const session of sessions) {
        if (session.internal)
          this.contain(session, () => {
            this.leave(session);
            this.close(session, CloseUri.CLOSE_REALM);
          });
      }
    }, 0);
    this.log.info({ realm: name, sessions: clients }, 'realm removed');
    return clients;
  }

  /**
   * New limits while the router runs (a reload): each one not given goes
   * back to its default. Every reader shares the one object, so the next
   * request, connection or retained event meets the new values; message
   * rate limiters are remade at the next message.
   */
  setLimits(limits: Partial<Limits>): void {
    Object.assign(this.limits, DEFAULT_LIMITS);
    for (const [key, value] of Object.entries(limits)) if (value !== undefined) this.limits[key as keyof Limits] = value;
  }

  /** The limits in force (a copy). */
  get currentLimits(): Limits {
    return { ...this.limits };
  }

  /**
   * The first step of a graceful shutdown: from now on a HELLO is answered
   * with ABORT wamp.close.system_shutdown and a new CALL with ERROR
   * wamp.error.canceled; everything else (YIELDs above all) is still routed.
   * The router's own sessions are not affected.
   */
  stopAdmitting(): void {
    this.admittingNew = false;
  }

  /** False once `stopAdmitting()` was called. */
  get admitting(): boolean {
    return this.admittingNew;
  }

  /**
   * Calls whose callers still wait for their answer, queued ones included:
   * what a graceful shutdown waits for. Calls their callers gave up (canceled
   * with skip, timed out) are not, though a callee may still hold them
   * (`counters.callsInFlight`, the limit's and the metric's count, has those too).
   */
  callsInFlight(): number {
    let n = 0;
    for (const realm of this.realms.values()) for (const session of realm.sessions.values()) n += session.calls.size;
    return n;
  }

  /**
   * A connection without a session (new, or after a GOODBYE handshake) must
   * join within `openingTimeout` (a pending CHALLENGE included), and only so
   * many may wait at once.
   */
  private startOpening(session: Session): void {
    if (this.pending >= this.limits.pendingSessions) {
      this.counters.limit('pendingSessions');
      const text = `the router holds its maximum of ${this.limits.pendingSessions} connections that have not joined`;
      return this.abort(session, KreuzUri.LIMIT_REACHED, text);
    }
    this.pending++;
    session.unjoined = true;
    session.openingTimer = this.timers.setTimeout(() => {
      session.openingTimer = undefined;
      if (!session.unjoined || session.state === 'closed') return;
      this.counters.limit('openingTimeout');
      this.log.info({ peer: session.peer.info.peer }, 'opening handshake timed out');
      this.contain(session, () => this.abort(session, ErrorUri.TIMEOUT, `no session established within ${this.limits.openingTimeout} ms`));
    }, this.limits.openingTimeout);
  }

  /**
   * Handling a message of this session threw: a bug, or input no check
   * foresaw. The session ends (ABORT protocol_violation), nothing else does.
   */
  failed(session: Session, err: unknown): void {
    if (session.internal) {
      // The router's own services stay: one failed answer must not take the meta API down.
      return this.log.error({ ...session.logFields, err }, 'an internal session failed to handle a message');
    }
    this.counters.sessionsFailed++;
    this.log.error({ ...session.logFields, peer: session.peer.info.peer, err }, 'handling a message failed; session ended');
    try {
      this.protocolViolation(session, 'the router could not handle a message of this session');
    } catch {
      // Its state is beyond repair: drop the connection at least.
      session.state = 'closed';
      session.peer.close(ErrorUri.PROTOCOL_VIOLATION);
    }
  }

  /** How deep a decoded client message may nest (`limits.maxDepth`): transports decode with it. */
  get maxDepth(): number {
    return this.limits.maxDepth;
  }

  /** A message could not be written for its recipient (the transport answers for it; see Connection). */
  undeliverable(session: Session, type: number, reason: string): void {
    this.counters.undelivered(type);
    this.log.warn({ ...session.logFields, peer: session.peer.info.peer, type: messageName(type), reason }, 'message not delivered');
  }

  /** An extension or hook listener threw: logged, and the router carries on (a broken metric must not end sessions). */
  private extensionFailed(point: string, err: unknown): void {
    this.log.warn({ event: point, err: err instanceof Error ? err.message : String(err) }, 'hook listener failed');
  }

  /** Runs `fn` for `session` outside a transport's call (timers, promise callbacks) with the same containment. */
  contain(session: Session, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.failed(session, err);
    }
  }

  /** One decoded message from the client. Never throws for bad input. */
  receive(session: Session, raw: unknown): void {
    if (session.state === 'closed') return;
    if (!session.internal) {
      for (const extension of this.taps) {
        try {
          extension.inbound!(session, raw);
        } catch (err) {
          this.extensionFailed('inbound', err);
        }
      }
    }
    this.handle(session, raw);
  }

  /** A message received (or released from the backlog): checked, then handled by the session's state. */
  private handle(session: Session, raw: unknown): void {
    if (session.state === 'closed') return;
    if (session.backlog) return void session.backlog.push(raw);
    if (!session.internal) {
      let rate = session.rate;
      // Made at the first message, and again when a reload changed the rate.
      if (rate?.rate !== this.limits.messageRate) session.rate = rate = new RateLimiter(this.limits.messageRate, this.now);
      if (!rate.take()) {
        this.counters.limit('messageRate');
        return this.abort(session, KreuzUri.RATE_LIMITED, `more than ${this.limits.messageRate} messages per second`);
      }
    }
    const msg = checkInbound(raw);
    if (msg instanceof ShapeError) return this.protocolViolation(session, msg.reason);
    switch (session.state) {
      case 'opening':
        return this.receiveOpening(session, msg);
      case 'authenticating':
        return this.receiveAuthenticating(session, msg);
      case 'joined':
        return this.receiveJoined(session, msg);
      case 'closing':
        // WAMP: after sending GOODBYE, only the GOODBYE reply matters; the transport may then carry a new session.
        if (msg[0] === T.GOODBYE) {
          session.state = 'opening';
          this.startOpening(session);
        }
        return;
    }
  }

  /** The transport is gone (closed by either side, or lost). */
  transportClosed(session: Session): void {
    this.opened(session);
    if (session.state === 'closed') return;
    this.leave(session);
    session.state = 'closed';
  }

  /** The session's opening phase is over (joined or gone): it no longer counts as pending. */
  private opened(session: Session): void {
    this.throttle.release(session);
    if (!session.unjoined) return;
    session.unjoined = false;
    this.pending--;
    if (session.openingTimer !== undefined) this.timers.clearTimeout(session.openingTimer);
    session.openingTimer = undefined;
  }

  /**
   * The transport is failing the connection (e.g. a message over the size
   * limit): tell the client with ABORT, drop the session; the transport closes itself.
   */
  transportFailed(session: Session, reason: string, message: string): void {
    if (session.state === 'closed') return;
    this.log.warn({ ...session.logFields, peer: session.peer.info.peer, reason: message }, 'transport failed');
    this.counters.transportFailed(reason);
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
        if (!this.admittingNew) return this.abort(session, CloseUri.SYSTEM_SHUTDOWN, SHUTTING_DOWN);
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
      case T.SUBSCRIBE:
      case T.PUBLISH:
        return this.guard(session, msg);
      case T.UNREGISTER:
        return realm.dealer.unregister(session, msg);
      case T.CALL:
        // Later chunks of a progressive call were authorized with the first.
        if (session.calls.has(msg[1])) return realm.dealer.call(session, msg);
        if (!this.admittingNew && !session.internal && !session.finishedProgressiveCalls.has(msg[1])) {
          return session.send(error(T.CALL, msg[1], ErrorUri.CANCELED, [SHUTTING_DOWN]));
        }
        return this.guard(session, msg);
      case T.CANCEL:
        return realm.dealer.cancel(session, msg);
      case T.YIELD:
        return realm.dealer.yield(session, msg);
      case T.ERROR:
        return realm.dealer.invocationError(session, msg);
      case T.UNSUBSCRIBE:
        return realm.broker.unsubscribe(session, msg);
      default:
        // HELLO or AUTHENTICATE again.
        return this.protocolViolation(session, `unexpected ${messageName(msg[0])} in an established session`);
    }
  }

  // ---- authentication: HELLO -> [CHALLENGE -> AUTHENTICATE]* -> WELCOME | ABORT ----

  private hello(session: Session, msg: Hello): void {
    // One authentication at a time per client address, later ones queued in order; repeated
    // failures per address and per principal make the next attempts wait (auth-throttle.ts).
    session.state = 'authenticating';
    const attempt = ++session.authAttempt;
    const current = () => session.state === 'authenticating' && session.authAttempt === attempt;
    const start = () => {
      if (!current()) return;
      session.state = 'opening';
      this.startAuthentication(session, msg);
    };
    const details = msg[2];
    const method = ((details.authmethods as string[] | undefined) ?? ['anonymous']).find((m) => (session.auth ?? ANONYMOUS_ONLY).has(m));
    const keys = throttleKeys(session.peer.info, method, details.authid);
    const queued = this.throttle.enter(session, keys, (turn) =>
      this.contain(session, () => {
        if (!current()) return;
        if ('refused' in turn) return this.abort(session, KreuzUri.RATE_LIMITED, turn.refused);
        if (turn.wait > 0) this.timers.setTimeout(() => this.contain(session, start), turn.wait);
        else start();
      }),
    );
    if (!queued)
      this.abort(session, KreuzUri.RATE_LIMITED, `more than ${this.throttle.options.maxQueue} authentications waiting from this address`);
  }

  private startAuthentication(session: Session, [, realmName, details]: Hello): void {
    const realm = this.realms.get(realmName);
    if (!realm) return this.abort(session, ErrorUri.NO_SUCH_REALM, `no realm "${realmName}" exists on this router`);
    const auth = session.auth ?? ANONYMOUS_ONLY;
    // Crossbar: the client's authmethods in its order; the first one this transport offers is used.
    const offered = (details.authmethods as string[] | undefined) ?? ['anonymous'];
    if (this.joined >= this.limits.sessions) {
      this.counters.limit('sessions');
      return this.abort(session, KreuzUri.LIMIT_REACHED, `the router holds its maximum of ${this.limits.sessions} sessions`);
    }
    const method = offered.find((m) => auth.has(m));
    if (!method) {
      return this.abort(
        session,
        ErrorUri.NO_AUTH_METHOD,
        `cannot authenticate using any of the offered authmethods [${offered.join(', ')}]`,
      );
    }
    session.clientRoles = details.roles as Dict;
    session.id = this.newSessionId();
    session.state = 'authenticating';
    const attempt = ++session.authAttempt;
    session.pendingAuth = { realm, method, attempt };
    const step = this.attempt(() =>
      auth.get(method)!.start({
        realm: realmName,
        authid: details.authid as string | undefined,
        authrole: typeof details.authrole === 'string' ? details.authrole : undefined,
        authextra: (details.authextra as Dict | undefined) ?? {},
        session: session.id,
        transport: session.peer.info,
      }),
    );
    this.continueAuthentication(session, attempt, step);
  }

  private receiveAuthenticating(session: Session, msg: Inbound): void {
    switch (msg[0]) {
      case T.AUTHENTICATE:
        return this.authenticate(session, msg);
      case T.ABORT:
        this.releaseSessionId(session);
        return this.close(session, 'client aborted');
      default:
        return this.protocolViolation(session, `${messageName(msg[0])} received while authenticating`);
    }
  }

  private authenticate(session: Session, [, signature, extra]: Authenticate): void {
    const pending = session.pendingAuth;
    const verify = pending?.verify;
    if (!pending || !verify) return this.protocolViolation(session, 'AUTHENTICATE without a CHALLENGE');
    pending.verify = undefined;
    this.continueAuthentication(
      session,
      pending.attempt,
      this.attempt(() => verify(signature, extra) as AuthStep | Promise<AuthStep>),
    );
  }

  /** Runs an authenticator step; an exception is an authentication failure, never a crash. */
  private attempt(step: () => AuthStep | Promise<AuthStep>): AuthStep | Promise<AuthStep> {
    const failed = (err: unknown): AuthStep => {
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'authenticator failed');
      return { kind: 'deny', reason: ErrorUri.AUTHENTICATION_FAILED, message: 'authentication failed' };
    };
    try {
      const result = step();
      return result instanceof Promise ? result.catch(failed) : result;
    } catch (err) {
      return failed(err);
    }
  }

  private continueAuthentication(session: Session, attempt: number, step: AuthStep | Promise<AuthStep>): void {
    if (step instanceof Promise) {
      void step.then((s) =>
        this.contain(session, () => {
          // The session may have gone, or started over, while the authenticator worked.
          if (session.state === 'authenticating' && session.authAttempt === attempt) this.continueAuthentication(session, attempt, s);
        }),
      );
      return;
    }
    const pending = session.pendingAuth!;
    switch (step.kind) {
      case 'challenge':
        pending.verify = step.verify;
        session.send([T.CHALLENGE, pending.method, step.extra]);
        return;
      case 'deny':
        this.throttle.failed(session);
        this.log.info({ peer: session.peer.info.peer, method: pending.method, reason: step.reason }, 'authentication denied');
        this.releaseSessionId(session);
        return this.abort(session, step.reason, step.message);
      case 'welcome':
        return this.welcome(session, pending.method, step.principal);
    }
  }

  private welcome(session: Session, authmethod: string, principal: Principal): void {
    const asked = session.pendingAuth!.realm;
    // The realm asked for may have been removed while the session authenticated.
    const realm =
      principal.realm === undefined ? (this.realms.get(asked.name) === asked ? asked : undefined) : this.realms.get(principal.realm);
    session.pendingAuth = undefined;
    if (!realm) {
      this.releaseSessionId(session);
      return this.abort(session, ErrorUri.NO_SUCH_REALM, `no realm "${principal.realm ?? asked.name}" exists on this router`);
    }
    if (!realm.authorizer.hasRole(principal.authrole)) {
      this.releaseSessionId(session);
      return this.abort(session, ErrorUri.NO_SUCH_ROLE, `no role "${principal.authrole}" on realm "${realm.name}"`);
    }
    this.throttle.succeeded(session);
    session.realm = realm;
    session.authid = principal.authid;
    session.authrole = principal.authrole;
    session.authmethod = authmethod;
    session.authprovider = principal.authprovider;
    session.authextra = principal.authextra;
    session.announceLeave = true;
    session.state = 'joined';
    this.opened(session);
    const details: Dict = {
      realm: realm.name,
      authid: session.authid,
      authrole: session.authrole,
      authmethod: session.authmethod,
      authprovider: session.authprovider,
      roles: { broker: { features: { ...this.features.broker } }, dealer: { features: { ...this.features.dealer } } },
      agent: this.agent,
    };
    if (principal.authextra) details.authextra = principal.authextra;
    session.send([T.WELCOME, session.id, details]);
    this.joined++;
    realm.join(session);
    this.log.debug(
      { ...session.logFields, authid: session.authid, authrole: session.authrole, transport: session.peer.info },
      'session joined',
    );
  }

  // ---- authorization, then the extensions' gates ----

  /**
   * Performs a REGISTER, CALL, SUBSCRIBE or PUBLISH if the realm's authorizer
   * allows it on the message's URI and no extension's gate refuses it;
   * answers not_authorized (for PUBLISH only when acknowledged) if not. A
   * malformed URI skips the checks: the dealer or broker answers invalid_uri,
   * as Crossbar checks the URI before authorizing. The synchronous path
   * makes no closure per message.
   */
  private guard(session: Session, msg: GuardedMessage): void {
    const [type, , options, uri] = msg;
    const wellFormed = type === T.CALL || type === T.PUBLISH ? isValidUri(uri) : isValidPattern(uri, matchOf(options));
    if (session.internal || !wellFormed) return this.perform(session, msg, ALLOWED);
    let decision: Decision | Promise<Decision>;
    try {
      decision = session.realm!.authorizer.authorize(session, uri, ACTIONS[type], options);
    } catch {
      return this.refuse(session, msg, 'failed');
    }
    if (decision instanceof Promise) {
      return this.hold(
        session,
        decision,
        (d) => this.authorized(session, msg, d, 0),
        () => this.refuse(session, msg, 'failed'),
      );
    }
    this.authorized(session, msg, decision, 0);
  }

  /** The authorizer decided: refuse, or pass the gates from `from` on, then perform. */
  private authorized(session: Session, msg: GuardedMessage, decision: Decision, from: number): void {
    if (!decision.allow) return this.refuse(session, msg, decision);
    for (let i = from; i < this.gates.length; i++) {
      let verdict: GateVerdict | Promise<GateVerdict>;
      try {
        verdict = this.gates[i].gate!(session, msg);
      } catch (err) {
        this.extensionFailed('gate', err);
        return this.refuse(session, msg, 'failed');
      }
      if (verdict instanceof Promise) {
        const next = i + 1;
        return this.hold(
          session,
          verdict,
          (v) => (v ? this.refuse(session, msg, v) : this.authorized(session, msg, decision, next)),
          (err) => {
            this.extensionFailed('gate', err);
            this.refuse(session, msg, 'failed');
          },
        );
      }
      if (verdict) return this.refuse(session, msg, verdict);
    }
    this.perform(session, msg, decision);
  }

  /**
   * Holds the session's later messages (`session.backlog`) until `pending`
   * settles, continues with `next` (or `failed`) while the session is still
   * joined, then handles what was held, in order. Holds nest: a step that
   * holds again keeps the backlog until its own decision settles.
   */
  private hold<T>(session: Session, pending: Promise<T>, next: (value: T) => void, failed: (err: unknown) => void): void {
    session.backlog ??= [];
    session.holds++;
    void pending
      .then(
        (value) => this.contain(session, () => session.state === 'joined' && next(value)),
        (err) => this.contain(session, () => session.state === 'joined' && failed(err)),
      )
      .finally(() => this.contain(session, () => --session.holds === 0 && this.releaseBacklog(session)));
  }

  private perform(session: Session, msg: GuardedMessage, decision: Decision): void {
    const realm = session.realm!;
    switch (msg[0]) {
      case T.REGISTER:
        return realm.dealer.register(session, msg, decision.disclose !== false);
      case T.CALL:
        return realm.dealer.call(session, msg, decision.disclose);
      case T.SUBSCRIBE:
        return realm.broker.subscribe(session, msg);
      case T.PUBLISH:
        return realm.broker.publish(session, msg, decision.disclose);
    }
  }

  /** Answers a refused message: by the authorizer (a Decision, or 'failed'), or by a gate (a Refusal). */
  private refuse(session: Session, [type, request, options, uri]: GuardedMessage, refusal: Decision | Refusal | 'failed'): void {
    // The authorizer's denials (a gate's refusal, e.g. a cluster claim, is the gate's to tell).
    if (refusal === 'failed' || !('error' in refusal)) {
      const reason = refusal === 'failed' ? 'the authorizer failed' : 'not permitted for this role';
      const { authid, authrole } = session;
      this.log.info({ ...session.logFields, authid, authrole, action: ACTIONS[type], uri, reason }, 'authorization denied');
    }
    if (type === T.PUBLISH && options.acknowledge !== true) return;
    if (refusal !== 'failed' && 'error' in refusal) return session.send(error(type, request, refusal.error, refusal.args));
    const action = ACTIONS[type];
    const [errorUri, text] =
      refusal === 'failed'
        ? [ErrorUri.AUTHORIZATION_FAILED, `authorization of ${action} on ${quoted(uri)} failed`]
        : [ErrorUri.NOT_AUTHORIZED, `session is not authorized to ${action} ${quoted(uri)} (authrole "${session.authrole}")`];
    session.send(error(type, request, errorUri, [text]));
  }

  private releaseBacklog(session: Session): void {
    const held = session.backlog ?? [];
    session.backlog = undefined;
    while (held.length > 0 && !session.backlog) this.handle(session, held.shift());
    if (held.length > 0) session.backlog!.unshift(...held);
  }

  private goodbyeReceived(session: Session, _msg: Goodbye): void {
    // WAMP: a GOODBYE is answered with GOODBYE; the transport may then carry a new session.
    session.send(goodbye(CloseUri.GOODBYE_AND_OUT));
    this.leave(session);
    this.startOpening(session);
  }

  /** Removes a joined session from its realm; the transport stays as it is. */
  private leave(session: Session): void {
    const realm = session.realm;
    if (realm) {
      if (!session.internal && !session.remote) this.joined--;
      realm.leave(session);
      this.sessionIds.delete(session.id);
      this.log.debug(session.logFields, 'session left');
    }
    session.realm = undefined;
    session.id = 0;
    if (session.state !== 'closed') session.state = 'opening';
  }

  private abort(session: Session, reason: string, message: string): void {
    this.counters.aborted(reason);
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
    this.opened(session);
    session.state = 'closed';
    session.peer.close(reason);
  }

  /** A session ID handed out at HELLO whose session never joined. */
  private releaseSessionId(session: Session): void {
    if (session.realm === undefined && session.id !== 0) this.sessionIds.delete(session.id);
    session.id = 0;
    session.pendingAuth = undefined;
  }

  private newSessionId(): number {
    let id = randomId();
    while (this.sessionIds.has(id)) id = randomId();
    this.sessionIds.add(id);
    return id;
  }
}

const ACTIONS: Record<GuardedMessage[0], Action> = {
  [T.REGISTER]: 'register',
  [T.CALL]: 'call',
  [T.SUBSCRIBE]: 'subscribe',
  [T.PUBLISH]: 'publish',
};

const ALLOWED: Decision = { allow: true };

const SHUTTING_DOWN = 'the router is shutting down';

function matchOf(options: Dict): MatchPolicy {
  return (options.match as MatchPolicy | undefined) ?? 'exact';
}
