/**
 * An in-process WAMP session for router-side components: register, call,
 * publish and subscribe through the router without a socket or a
 * serializer. It joins like any client (HELLO, WELCOME), so it is visible
 * in the meta API and its role is authorized like any other; by default its
 * role is "trusted" (Crossbar's role for router components: may do anything).
 *
 * Arguments are passed by reference, not copied: treat what a handler
 * receives as read-only (an event's args may be kept as its retained event).
 */
import { MessageType as T } from '../wamp/codes.ts';
import { IdSequence } from '../wamp/ids.ts';
import type { Dict, Outbound } from '../wamp/messages.ts';
import { CloseUri } from '../wamp/uris.ts';
import type { Authenticator } from '../core/authentication.ts';
import type { Peer } from '../core/peer.ts';
import type { Router } from '../core/router.ts';
import type { Session } from '../core/session.ts';

/** A WAMP error: thrown by a procedure to answer with it, and what a failed call or request rejects with. */
export class WampError extends Error {
  constructor(
    readonly uri: string,
    readonly args: unknown[] = [],
    readonly kwargs: Dict = {},
  ) {
    super(typeof args[0] === 'string' ? `${uri}: ${args[0]}` : uri);
    this.name = 'WampError';
  }
}

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

/** A procedure: its return value is the result (a `Result` for several values); throw a WampError to fail. */
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
}

const ROLES = {
  caller: { features: { caller_identification: true } },
  callee: { features: { caller_identification: true, pattern_based_registration: true, shared_registration: true } },
  publisher: { features: { publisher_exclusion: true, publisher_identification: true } },
  subscriber: { features: { publisher_identification: true, pattern_based_subscription: true } },
};

const METHOD = 'local';

interface Waiter {
  resolve(message: Outbound): void;
  reject(error: Error): void;
}

export class LocalSession {
  /** WAMP session ID. */
  id = 0;
  private session!: Session;
  private readonly requests = new IdSequence();
  private readonly waiting = new Map<number, Waiter>();
  private readonly procedures = new Map<number, Procedure>();
  private readonly handlers = new Map<number, Set<EventHandler>>();
  private joined: Waiter | undefined;
  private closing: (() => void) | undefined;
  private ended = false;
  private readonly onEnd: Array<() => void> = [];

  private constructor(
    private readonly router: Router,
    readonly realm: string,
  ) {}

  /** Joins `realm` of `router`; rejects with a WampError if the router refuses (e.g. no such realm). */
  static join(router: Router, realm: string, options: LocalSessionOptions = {}): Promise<LocalSession> {
    const local = new LocalSession(router, realm);
    const principal = { authid: options.authid ?? 'kreuz-local', authrole: options.authrole ?? 'trusted', authprovider: 'local' };
    const authenticator: Authenticator = { method: METHOD, start: () => ({ kind: 'welcome', principal }) };
    const peer: Peer = {
      info: { type: 'memory', serializer: 'none', peer: 'local' },
      send: (message) => local.receive(message),
      close: () => local.end(),
    };
    return new Promise((resolve, reject) => {
      local.joined = { resolve: () => resolve(local), reject };
      local.session = router.connect(peer, new Map([[METHOD, authenticator]]));
      router.receive(local.session, [T.HELLO, realm, { roles: ROLES, authmethods: [METHOD], authid: principal.authid }]);
    });
  }

  /** Whether the session is still joined. */
  get isOpen(): boolean {
    return !this.ended && this.session.state === 'joined';
  }

  /** Calls when the session ends (closed by us, killed by the router, or the router shut down). */
  onClose(listener: () => void): void {
    if (this.ended) listener();
    else this.onEnd.push(listener);
  }

  async register(procedure: string, handler: Procedure, options: Dict = {}): Promise<LocalRegistration> {
    const reply = await this.request((request) => [T.REGISTER, request, options, procedure]);
    const id = reply[2] as number;
    this.procedures.set(id, handler);
    return {
      id,
      unregister: async () => {
        if (!this.procedures.delete(id)) return;
        await this.request((request) => [T.UNREGISTER, request, id]);
      },
    };
  }

  async call(procedure: string, args: unknown[] = [], kwargs: Dict = {}, options: Dict = {}): Promise<CallResult> {
    const reply = await this.request((request) => [T.CALL, request, options, procedure, args, kwargs]);
    return { args: (reply[3] as unknown[]) ?? [], kwargs: (reply[4] as Dict) ?? {}, details: reply[2] as Dict };
  }

  /** Publishes; acknowledged unless `options.acknowledge` is false, so a refused publish rejects. */
  async publish(topic: string, args: unknown[] = [], kwargs: Dict = {}, options: Dict = {}): Promise<void> {
    const opts = { acknowledge: true, ...options };
    if (opts.acknowledge !== true) {
      this.send([T.PUBLISH, this.requests.next(), opts, topic, args, kwargs]);
      return;
    }
    await this.request((request) => [T.PUBLISH, request, opts, topic, args, kwargs]);
  }

  async subscribe(topic: string, handler: EventHandler, options: Dict = {}): Promise<LocalSubscription> {
    const reply = await this.request((request) => [T.SUBSCRIBE, request, options, topic]);
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
        await this.request((request) => [T.UNSUBSCRIBE, request, id]);
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

  private send(message: Outbound): void {
    if (this.ended) throw new WampError('wamp.error.canceled', ['the session is closed']);
    this.router.receive(this.session, message);
  }

  private request(build: (request: number) => Outbound): Promise<Outbound> {
    if (!this.isOpen) return Promise.reject(new WampError('wamp.error.canceled', ['the session is closed']));
    const request = this.requests.next();
    return new Promise((resolve, reject) => {
      this.waiting.set(request, { resolve, reject });
      this.send(build(request));
    });
  }

  private settle(request: number, message: Outbound, error?: WampError): void {
    const waiter = this.waiting.get(request);
    if (!waiter) return;
    this.waiting.delete(request);
    if (error) waiter.reject(error);
    else waiter.resolve(message);
  }

  /** A message from the router. It arrives while the router is still handling something: reply later. */
  private receive(message: Outbound): void {
    switch (message[0]) {
      case T.WELCOME:
        this.id = message[1] as number;
        this.joined?.resolve(message);
        this.joined = undefined;
        return;
      case T.ABORT:
        this.joined?.reject(new WampError(message[2] as string, [(message[1] as Dict).message].filter((m) => m !== undefined)));
        this.joined = undefined;
        return this.end();
      case T.GOODBYE:
        // Our GOODBYE answered, or the router ends the session (shutdown, kill): answer it.
        if (!this.closing) queueMicrotask(() => this.session.state === 'closing' && this.router.receive(this.session, [T.GOODBYE, {}, CloseUri.GOODBYE_AND_OUT]));
        return queueMicrotask(() => this.end());
      case T.REGISTERED:
      case T.UNREGISTERED:
      case T.SUBSCRIBED:
      case T.UNSUBSCRIBED:
      case T.PUBLISHED:
        if (message[1] === 0) return this.revoked(message);
        return this.settle(message[1] as number, message);
      case T.RESULT:
        if ((message[2] as Dict).progress === true) return;
        return this.settle(message[1] as number, message);
      case T.ERROR:
        return this.settle(message[2] as number, message, new WampError(message[4] as string, (message[5] as unknown[]) ?? [], (message[6] as Dict) ?? {}));
      case T.INVOCATION:
        queueMicrotask(() => void this.invoke(message));
        return;
      case T.EVENT:
        queueMicrotask(() => this.event(message));
        return;
    }
  }

  /** UNREGISTERED / UNSUBSCRIBED with request 0: the router took it away. */
  private revoked(message: Outbound): void {
    const details = (message[2] as Dict | undefined) ?? {};
    if (message[0] === T.UNREGISTERED) this.procedures.delete(details.registration as number);
    if (message[0] === T.UNSUBSCRIBED) this.handlers.delete(details.subscription as number);
  }

  private async invoke([, request, registration, details, args, kwargs]: Outbound): Promise<void> {
    const procedure = this.procedures.get(registration as number);
    let reply: Outbound;
    try {
      if (!procedure) throw new WampError('wamp.error.no_such_registration');
      const result = await procedure((args as unknown[]) ?? [], (kwargs as Dict) ?? {}, details as Dict);
      if (result instanceof Result) reply = [T.YIELD, request, {}, result.args, result.kwargs];
      else reply = result === undefined ? [T.YIELD, request, {}] : [T.YIELD, request, {}, [result]];
    } catch (err) {
      reply =
        err instanceof WampError
          ? [T.ERROR, T.INVOCATION, request, {}, err.uri, err.args, err.kwargs]
          : [T.ERROR, T.INVOCATION, request, {}, 'wamp.error.runtime_error', [err instanceof Error ? err.message : String(err)]];
    }
    if (this.isOpen) this.router.receive(this.session, reply);
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
    const closed = new WampError('wamp.error.canceled', ['the session is closed']);
    for (const waiter of this.waiting.values()) waiter.reject(closed);
    this.waiting.clear();
    this.joined?.reject(closed);
    this.closing?.();
    for (const listener of this.onEnd.splice(0)) listener();
  }
}
