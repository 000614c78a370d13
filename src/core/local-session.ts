/**
 * The router's one in-process WAMP client: register, call, publish and
 * subscribe through the router without a socket or a serializer. The meta
 * API (src/meta), the calls of dynamic authenticators and authorizers
 * (InternalCaller) and the embedding API (`node.session(realm)`) all use it.
 *
 * Two ways in:
 * - `LocalSession.join`: HELLO and WELCOME like any client, so it is listed
 *   by the meta API and authorized by its role ("trusted" by default,
 *   Crossbar's role for router components: may do anything);
 * - `LocalSession.internal`: one of the router's own sessions, joined at
 *   once, hidden from the meta API, never authorized or limited.
 *
 * Everything the router sends arrives while it is still handling a message:
 * answers, invocations and events are handled on a later microtask.
 * Arguments are passed by reference, not copied: treat what a handler
 * receives as read-only (an event's args may be kept as its retained event).
 */
import { MessageType as T } from '../wamp/codes.ts';
import { IdSequence } from '../wamp/ids.ts';
import { isDict } from '../wamp/inbound.ts';
import type { Dict, Outbound } from '../wamp/messages.ts';
import { EncodedPayload, PAYLOAD_AT, payloadValues } from '../wamp/payload.ts';
import { CloseUri, ErrorUri } from '../wamp/uris.ts';
import { WampError } from '../wamp/wamp-error.ts';
import type { Authenticator } from './authentication.ts';
import type { Peer, TransportInfo } from './peer.ts';
import type { Router } from './router.ts';
import type { Session } from './session.ts';

/** Return this from a procedure to answer with several positional or keyword results. */
export class Result {
  constructor(
    readonly args: unknown[] = [],
    readonly kwargs: Dict = {},
  ) {}
}

export interface CallResult {
  args: unknown[];
  kwargs: Dict;
  details: Dict;
}

/**
 * A procedure: its return value (or what its Promise resolves to) is the
 * result, a `Result` for several values; throw a WampError to answer with
 * that error (any other exception answers wamp.error.runtime_error).
 */
export type Procedure = (args: unknown[], kwargs: Dict, details: Dict) => unknown;
export type EventHandler = (args: unknown[], kwargs: Dict, details: Dict) => void;

export interface LocalRegistration {
  readonly id: number;
  unregister(): Promise<void>;
}

export interface LocalSubscription {
  readonly id: number;
  unsubscribe(): Promise<void>;
}

export interface LocalSessionOptions {
  /** Default "kreuz-local". */
  authid?: string;
  /** Default "trusted". With roles configured, the realm must know it (or it is "trusted"). */
  authrole?: string;
  /** What the meta API shows as its transport (default type "memory", peer "local"): e.g. the HTTP bridge's service. */
  transport?: { type: TransportInfo['type']; peer: string };
}

/** What a joining local session announces (HELLO.Details.roles). */
const ROLES = {
  caller: { features: { caller_identification: true } },
  callee: { features: { caller_identification: true, pattern_based_registration: true, shared_registration: true } },
  publisher: { features: { publisher_exclusion: true, publisher_identification: true } },
  subscriber: { features: { publisher_identification: true, pattern_based_subscription: true } },
};

/** The authentication method of joining local sessions: offered only on their own in-process "transport". */
const METHOD = 'local';

interface Waiter {
  resolve(message: Outbound): void;
  reject(error: Error): void;
}

const closedError = () => new WampError(ErrorUri.CANCELED, ['the session is closed']);

export class LocalSession {
  /** WAMP session ID. */
  id = 0;
  /** The router's side of this session. */
  session!: Session;
  private readonly requests = new IdSequence();
  /** Requests waiting for their answer, by request ID. */
  private readonly waiting = new Map<number, Waiter>();
  /** Procedures by request ID until REGISTERED, so an INVOCATION right after finds its procedure. */
  private readonly registering = new Map<number, Procedure>();
  private readonly procedures = new Map<number, Procedure>();
  private readonly handlers = new Map<number, Set<EventHandler>>();
  private joined: Waiter | undefined;
  private closing: (() => void) | undefined;
  private ended = false;
  private readonly onEnd: Array<() => void> = [];
  /** The peer the router sends this session's messages to. */
  private readonly peer: Peer;

  private constructor(
    private readonly router: Router,
    readonly realm: string,
    transport: { type: TransportInfo['type']; peer: string },
  ) {
    this.peer = {
      info: { type: transport.type, serializer: 'none', peer: transport.peer },
      send: (message) => this.receive(message),
      close: () => this.end(),
    };
  }

  /** Joins `realm` with HELLO like any client; rejects with a WampError if the router refuses (e.g. no such realm). */
  static join(router: Router, realm: string, options: LocalSessionOptions = {}): Promise<LocalSession> {
    const local = new LocalSession(router, realm, options.transport ?? { type: 'memory', peer: 'local' });
    const principal = { authid: options.authid ?? 'kreuz-local', authrole: options.authrole ?? 'trusted', authprovider: 'local' };
    const authenticator: Authenticator = { method: METHOD, start: () => ({ kind: 'welcome', principal }) };
    return new Promise((resolve, reject) => {
      local.joined = { resolve: () => resolve(local), reject };
      local.session = router.connect(local.peer, new Map([[METHOD, authenticator]]));
      local.send([T.HELLO, realm, { roles: ROLES, authmethods: [METHOD], authid: principal.authid }]);
    });
  }

  /** One of the router's own sessions on `realm` (see Router.joinInternal): joined at once. */
  static internal(router: Router, realm: string, authid: string): LocalSession {
    const local = new LocalSession(router, realm, { type: 'memory', peer: 'internal' });
    local.session = router.joinInternal(local.peer, realm, authid);
    local.id = local.session.id;
    return local;
  }

  /** Whether the session is still joined. */
  get isOpen(): boolean {
    return !this.ended && this.session.state === 'joined';
  }

  /** Calls `listener` when the session ends (closed by us, killed by the router, or the router shut down). */
  onClose(listener: () => void): void {
    if (this.ended) listener();
    else this.onEnd.push(listener);
  }

  async register(procedure: string, handler: Procedure, options: Dict = {}): Promise<LocalRegistration> {
    const reply = await this.request((r) => {
      this.registering.set(r, handler);
      return [T.REGISTER, r, options, procedure];
    });
    const id = reply[2] as number;
    return {
      id,
      unregister: async () => {
        if (!this.procedures.delete(id)) return;
        await this.request((r) => [T.UNREGISTER, r, id]);
      },
    };
  }

  /** Calls `procedure`; `options` are CALL.Options (e.g. `timeout` in ms, which the router enforces). */
  async call(procedure: string, args: unknown[] = [], kwargs: Dict = {}, options: Dict = {}): Promise<CallResult> {
    const reply = await this.request((r) => [T.CALL, r, options, procedure, args, kwargs]);
    return { args: (reply[3] as unknown[]) ?? [], kwargs: (reply[4] as Dict) ?? {}, details: reply[2] as Dict };
  }

  /**
   * Publishes; acknowledged unless `options.acknowledge` is false, so a
   * refused publish rejects, and an acknowledged one resolves to its publication ID.
   * `args` and `kwargs` not given stay absent from the PUBLISH.
   */
  async publish(topic: string, args?: unknown[], kwargs?: Dict, options: Dict = {}): Promise<number | undefined> {
    const payload = kwargs === undefined ? (args === undefined ? [] : [args]) : [args ?? [], kwargs];
    if (options.acknowledge === false) {
      if (!this.isOpen) throw closedError();
      const { acknowledge: _, ...unacknowledged } = options;
      this.send([T.PUBLISH, this.requests.next(), unacknowledged, topic, ...payload]);
      return undefined;
    }
    const reply = await this.request((r) => [T.PUBLISH, r, { ...options, acknowledge: true }, topic, ...payload]);
    return reply[2] as number;
  }

  async subscribe(topic: string, handler: EventHandler, options: Dict = {}): Promise<LocalSubscription> {
    const reply = await this.request((r) => [T.SUBSCRIBE, r, options, topic]);
    const id = reply[2] as number;
    let set = this.handlers.get(id);
    if (!set) this.handlers.set(id, (set = new Set()));
    set.add(handler);
    return {
      id,
      unsubscribe: async () => {
        const handlers = this.handlers.get(id);
        if (!handlers?.delete(handler) || handlers.size > 0) return;
        this.handlers.delete(id);
        await this.request((r) => [T.UNSUBSCRIBE, r, id]);
      },
    };
  }

  /** Leaves the realm (GOODBYE). */
  close(): Promise<void> {
    if (!this.isOpen) {
      this.end();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.closing = resolve;
      this.send([T.GOODBYE, {}, CloseUri.CLOSE_REALM]);
    });
  }

  // ---- plumbing ----

  /** Hands a message to the router, which contains what it throws as it would for a transport. */
  private send(message: Outbound): void {
    this.router.contain(this.session, () => this.router.receive(this.session, message));
  }

  private request(build: (request: number) => Outbound): Promise<Outbound> {
    if (!this.isOpen) return Promise.reject(closedError());
    const request = this.requests.next();
    return new Promise((resolve, reject) => {
      this.waiting.set(request, { resolve, reject });
      this.send(build(request));
    });
  }

  /** Settles a waiting request on a later microtask: the router is still inside the message that caused the answer. */
  private settle(request: number, message: Outbound, error?: WampError): void {
    const waiter = this.waiting.get(request);
    if (!waiter) return;
    this.waiting.delete(request);
    queueMicrotask(() => (error ? waiter.reject(error) : waiter.resolve(message)));
  }

  /** A message from the router. */
  private receive(received: Outbound): void {
    const message = this.withValues(received);
    if (!message) return;
    switch (message[0]) {
      case T.WELCOME:
        this.id = message[1] as number;
        this.joined?.resolve(message);
        this.joined = undefined;
        return;
      case T.ABORT:
        this.joined?.reject(
          new WampError(
            message[2] as string,
            [(message[1] as Dict).message].filter((m) => m !== undefined),
          ),
        );
        this.joined = undefined;
        return this.end();
      case T.GOODBYE:
        // Our GOODBYE answered, or the router ends the session (shutdown, kill): answer it.
        if (!this.closing) queueMicrotask(() => this.session.state === 'closing' && this.send([T.GOODBYE, {}, CloseUri.GOODBYE_AND_OUT]));
        return queueMicrotask(() => this.end());
      case T.REGISTERED: {
        const procedure = this.registering.get(message[1] as number);
        this.registering.delete(message[1] as number);
        if (procedure) this.procedures.set(message[2] as number, procedure);
        return this.settle(message[1] as number, message);
      }
      case T.UNREGISTERED:
      case T.SUBSCRIBED:
      case T.UNSUBSCRIBED:
      case T.PUBLISHED:
        if (message[1] === 0) return this.revoked(message);
        return this.settle(message[1] as number, message);
      case T.RESULT:
        if ((message[2] as Dict).progress === true) return; // only the final result counts
        return this.settle(message[1] as number, message);
      case T.ERROR:
        this.registering.delete(message[2] as number);
        return this.settle(
          message[2] as number,
          message,
          new WampError(message[4] as string, (message[5] as unknown[]) ?? [], (message[6] as Dict) ?? {}),
        );
      case T.INVOCATION:
        queueMicrotask(() => this.invoke(message));
        return;
      case T.EVENT:
        queueMicrotask(() => this.event(message));
        return;
    }
  }

  /**
   * The message with its payload as values: one from a wire client still holds
   * it encoded. A payload that cannot be read fails that one delivery (an
   * INVOCATION is answered with ERROR); undefined then.
   */
  private withValues(message: Outbound): Outbound | undefined {
    const at = PAYLOAD_AT.get(message[0] as number);
    if (at === undefined || !(message[at] instanceof EncodedPayload)) return message;
    try {
      return [...message.slice(0, at), ...payloadValues(message, at)] as Outbound;
    } catch (err) {
      const reason = `the payload cannot be read: ${err instanceof Error ? err.message : String(err)}`;
      if (message[0] === T.INVOCATION) this.answer(message[1] as number, { err: new WampError(ErrorUri.INVALID_PAYLOAD, [reason]) });
      return undefined;
    }
  }

  /** UNREGISTERED / UNSUBSCRIBED with request 0: the router took it away. */
  private revoked(message: Outbound): void {
    const details = (message[2] as Dict | undefined) ?? {};
    if (message[0] === T.UNREGISTERED) this.procedures.delete(details.registration as number);
    if (message[0] === T.UNSUBSCRIBED) this.handlers.delete(details.subscription as number);
  }

  private invoke([, request, registration, details, args, kwargs]: Outbound): void {
    const procedure = this.procedures.get(registration as number);
    if (!procedure) return this.answer(request as number, { err: new WampError(ErrorUri.NO_SUCH_REGISTRATION) });
    let result: unknown;
    try {
      result = procedure(Array.isArray(args) ? args : [], isDict(kwargs) ? kwargs : {}, (details as Dict) ?? {});
    } catch (err) {
      return this.answer(request as number, { err });
    }
    // A procedure may answer later (e.g. after a dynamic authorizer): the YIELD goes when it settles.
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => this.answer(request as number, { value }),
        (err: unknown) => this.answer(request as number, { err }),
      );
    } else this.answer(request as number, { value: result });
  }

  private answer(request: number, outcome: { value?: unknown; err?: unknown }): void {
    if (!this.isOpen) return;
    let reply: Outbound;
    if ('err' in outcome) {
      const err = outcome.err;
      reply =
        err instanceof WampError
          ? [T.ERROR, T.INVOCATION, request, {}, err.uri, err.args, err.kwargs]
          : [T.ERROR, T.INVOCATION, request, {}, ErrorUri.RUNTIME_ERROR, [err instanceof Error ? err.message : String(err)]];
    } else if (outcome.value instanceof Result) {
      reply = [T.YIELD, request, {}, outcome.value.args, outcome.value.kwargs];
    } else {
      reply = outcome.value === undefined ? [T.YIELD, request, {}] : [T.YIELD, request, {}, [outcome.value]];
    }
    this.send(reply);
  }

  private event([, subscription, , details, args, kwargs]: Outbound): void {
    for (const handler of this.handlers.get(subscription as number) ?? []) {
      try {
        handler((args as unknown[]) ?? [], (kwargs as Dict) ?? {}, details as Dict);
      } catch {
        // A handler's exception is its own; the other handlers still get the event.
      }
    }
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.session.state !== 'closed') this.router.transportClosed(this.session);
    const closed = closedError();
    for (const waiter of this.waiting.values()) waiter.reject(closed);
    this.waiting.clear();
    this.registering.clear();
    this.joined?.reject(closed);
    this.closing?.();
    for (const listener of this.onEnd.splice(0)) listener();
  }
}
