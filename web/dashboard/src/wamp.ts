/**
 * A small WAMP client for the dashboard page: one WebSocket speaking
 * wamp.2.json, the session opening (HELLO, CHALLENGE/AUTHENTICATE, WELCOME
 * or ABORT), CALL/RESULT/ERROR, SUBSCRIBE/EVENT and GOODBYE. What the router
 * sends is checked for shape before it is used: a malformed message ends the
 * connection, it never throws into the page.
 */
import { signChallenge } from './auth.ts';

const HELLO = 1;
const WELCOME = 2;
const ABORT = 3;
const CHALLENGE = 4;
const AUTHENTICATE = 5;
const GOODBYE = 6;
const ERROR = 8;
const SUBSCRIBE = 32;
const SUBSCRIBED = 33;
const EVENT = 36;
const CALL = 48;
const RESULT = 50;

/** Calls (and subscribes) waiting for their answer at once; more is a bug of the page, refused rather than piled up. */
const MAX_PENDING = 64;
const OPEN_TIMEOUT_MS = 10_000;
const CALL_TIMEOUT_MS = 10_000;

export type Credentials =
  | { method: 'anonymous' }
  | { method: 'ticket'; authid: string; secret: string }
  | { method: 'wampcra'; authid: string; secret: string };

/** An ERROR or ABORT from the router: its URI, and its message when it sent one. */
export class WampError extends Error {
  constructor(
    readonly uri: string,
    message?: string,
  ) {
    super(message ? `${uri}: ${message}` : uri);
  }
}

export interface Welcome {
  session: number;
  realm: string;
  authid: string;
  authrole: string;
  authmethod: string;
}

export type EventHandler = (args: unknown[], kwargs: Record<string, unknown>) => void;

interface Pending {
  resolve(message: unknown[]): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const text = (v: unknown) => (typeof v === 'string' ? v : '');

/** The message of an ERROR or ABORT: its first positional argument or its details' "message", when a string. */
function messageOf(args: unknown, details: unknown): string | undefined {
  if (Array.isArray(args) && typeof args[0] === 'string') return args[0];
  if (isDict(details) && typeof details.message === 'string') return details.message;
  return undefined;
}

export class WampSession {
  /** Called once when the connection ends, with why (a GOODBYE or ABORT reason, or the WebSocket's close). */
  onclose: (reason: string) => void = () => {};
  private nextRequest = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<number, EventHandler[]>();
  private closed = false;
  private leaving = false;

  private constructor(
    private readonly ws: WebSocket,
    readonly welcome: Welcome,
  ) {
    ws.onmessage = (e) => this.receive(e.data);
    ws.onclose = (e) => this.end(this.leaving ? 'closed' : `connection closed (${e.code || 'no code'})`);
    ws.onerror = () => {};
  }

  /** Opens a session on `realm` at the WebSocket `url`; rejects with a WampError when the router ABORTs. */
  static open(url: string, realm: string, credentials: Credentials): Promise<WampSession> {
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url, ['wamp.2.json']);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.onclose = ws.onmessage = ws.onerror = null;
        ws.close();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error('no answer from the router within 10 s')), OPEN_TIMEOUT_MS);
      const send = (message: unknown[]) => ws.send(JSON.stringify(message));
      ws.onerror = () => fail(new Error(`cannot connect to ${url}`));
      ws.onclose = (e) => fail(new Error(`connection closed before the session opened (${e.code || 'no code'})`));
      ws.onopen = () => {
        if (ws.protocol !== 'wamp.2.json') return fail(new Error('the server does not speak WAMP over JSON (wamp.2.json)'));
        const details: Dict = {
          roles: { caller: { features: {} }, subscriber: { features: {} } },
          authmethods: [credentials.method],
          agent: 'kreuz-dashboard',
        };
        if (credentials.method !== 'anonymous') details.authid = credentials.authid;
        send([HELLO, realm, details]);
      };
      ws.onmessage = (e) => {
        const message = parse(e.data);
        if (!message) return fail(new Error('the router sent a malformed message'));
        const [type] = message;
        if (type === WELCOME && isId(message[1]) && isDict(message[2])) {
          settled = true;
          clearTimeout(timer);
          const d = message[2];
          resolve(
            new WampSession(ws, {
              session: message[1],
              realm,
              authid: text(d.authid),
              authrole: text(d.authrole),
              authmethod: text(d.authmethod) || credentials.method,
            }),
          );
        } else if (type === ABORT) {
          fail(new WampError(text(message[2]) || 'wamp.error.unknown', messageOf(undefined, message[1])));
        } else if (type === CHALLENGE && typeof message[1] === 'string' && isDict(message[2])) {
          if (credentials.method === 'anonymous' || message[1] !== credentials.method)
            return fail(new Error(`the router asked for "${message[1]}" authentication`));
          signChallenge(credentials, message[2]).then(
            (signature) => !settled && send([AUTHENTICATE, signature, {}]),
            (err: Error) => fail(err),
          );
        } else {
          fail(new Error('the router sent an unexpected message while opening the session'));
        }
      };
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Calls `procedure`; resolves with the RESULT's positional arguments. */
  async call(procedure: string, args: unknown[] = [], kwargs: Dict = {}): Promise<unknown[]> {
    const result = await this.request((id) => [CALL, id, {}, procedure, args, kwargs]);
    return Array.isArray(result[3]) ? result[3] : [];
  }

  /** Subscribes `handler` to `topic` (exact match). */
  async subscribe(topic: string, handler: EventHandler): Promise<void> {
    const answer = await this.request((id) => [SUBSCRIBE, id, {}, topic]);
    const subscription = answer[2];
    if (!isId(subscription)) throw new Error('malformed SUBSCRIBED');
    const list = this.handlers.get(subscription) ?? [];
    list.push(handler);
    this.handlers.set(subscription, list);
  }

  /** Leaves with GOODBYE; the connection is closed after the router's answer (or 1 s). */
  close(): void {
    if (this.closed || this.leaving) return;
    this.leaving = true;
    this.send([GOODBYE, {}, 'wamp.close.close_realm']);
    setTimeout(() => this.ws.close(), 1000);
  }

  private request(build: (id: number) => unknown[]): Promise<unknown[]> {
    if (this.closed || this.leaving) return Promise.reject(new Error('not connected'));
    if (this.pending.size >= MAX_PENDING) return Promise.reject(new Error('too many requests in flight'));
    const id = this.nextRequest;
    this.nextRequest = id >= Number.MAX_SAFE_INTEGER ? 1 : id + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('no answer within 10 s'));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.send(build(id));
    });
  }

  private settle(id: unknown): Pending | undefined {
    if (!isId(id)) return undefined;
    const p = this.pending.get(id);
    if (p) {
      this.pending.delete(id);
      clearTimeout(p.timer);
    }
    return p;
  }

  private receive(data: unknown): void {
    const message = parse(data);
    if (!message) return this.protocolError();
    switch (message[0]) {
      case RESULT:
      case SUBSCRIBED:
        this.settle(message[1])?.resolve(message);
        return;
      case ERROR:
        this.settle(message[2])?.reject(new WampError(text(message[4]) || 'wamp.error.unknown', messageOf(message[5], message[3])));
        return;
      case EVENT: {
        const handlers = isId(message[1]) ? this.handlers.get(message[1]) : undefined;
        const args = Array.isArray(message[4]) ? message[4] : [];
        const kwargs = isDict(message[5]) ? message[5] : {};
        for (const handler of handlers ?? []) {
          try {
            handler(args, kwargs);
          } catch {
            // A handler's failure is the page's problem, not the session's.
          }
        }
        return;
      }
      case GOODBYE:
        if (!this.leaving) this.send([GOODBYE, {}, 'wamp.close.goodbye_and_out']);
        this.leaving = true;
        this.end(text(message[2]) || 'goodbye');
        this.ws.close();
        return;
      case ABORT:
        this.end(text(message[2]) || 'aborted');
        this.ws.close();
        return;
      default:
        return; // messages of roles the page does not use
    }
  }

  private protocolError(): void {
    this.end('the router sent a malformed message');
    this.ws.close();
  }

  private send(message: unknown[]): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('not connected'));
    }
    this.pending.clear();
    this.handlers.clear();
    this.onclose(reason);
  }
}

/** A WAMP message: a JSON array starting with an integer type; anything else is undefined. */
function parse(data: unknown): unknown[] | undefined {
  if (typeof data !== 'string') return undefined;
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return undefined;
  }
  return Array.isArray(message) && Number.isInteger(message[0]) ? message : undefined;
}
