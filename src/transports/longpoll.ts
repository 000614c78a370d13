/**
 * The long-poll transport (WAMP spec: advanced/transport_http_longpoll; as
 * Crossbar and Autobahn|JS speak it): WAMP over plain HTTP POSTs, for
 * clients that have no WebSocket. Below the endpoint's path:
 *
 * - `POST open` with `{"protocols": ["wamp.2.json", ...]}`: a new transport;
 *   answers `{"transport": <id>, "protocol": <the first one offered we speak>}`;
 * - `POST <id>/send`: a body of one message (or a batch, see longpoll-framing.ts); 204;
 * - `POST <id>/receive`: held until messages are queued (one, or all of them
 *   when batched) or `requestTimeout` passes (then 204, nothing); a second
 *   receive replaces the one held (which gets 204), as Crossbar's does;
 * - `POST <id>/close`: ends the transport; 204.
 *
 * Each transport is one router session (a `Connection`); its `Wire` queues
 * encoded messages for the next receive, and the queued bytes are the send
 * buffer, so a client that stops polling is cut off as a slow consumer, as
 * is one with more than `queueLimitMessages` waiting. A transport nobody
 * polls for `sessionTimeout` ends its session. Ids are 144 random bits and
 * looked up by their SHA-256 (the lookup compares digests, never the id).
 *
 * Wiring: `new LongPollEndpoint(router, options).handle(request, response,
 * method, rest)` from an HTTP server's handler, with `rest` the decoded path
 * segments below the endpoint's path; `close()` at shutdown.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TransportAuth } from '../core/authentication.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { TransportInfo } from '../core/peer.ts';
import type { Router } from '../core/router.ts';
import { serializers as allSerializers, type Serializer } from '../serializers/index.ts';
import type { Encoded } from '../serializers/serializer.ts';
import { ErrorUri, KreuzUri } from '../wamp/uris.ts';
import { Connection, type CloseKind, type Wire } from './connection.ts';
import { encodeCacheFor } from './encode-cache.ts';
import { batchParts, encodedSize, longPollProtocol, spokenProtocols, splitBody, type LongPollProtocol } from './longpoll-framing.ts';
import { answerError, answerNoContent, readBody, standardHeaders, type ErrorAnswer } from './longpoll-http.ts';
import { peerInfo } from './trusted-proxies.ts';

export interface LongPollOptions {
  /** Serializers spoken, each batched or not (default json, msgpack, cbor). */
  serializers?: readonly Serializer[];
  /** ms a receive is held when nothing is queued; then it is answered 204 (default 10 000). Must be > 0. */
  requestTimeout?: number;
  /** ms without a request (and no receive held) after which a transport and its session end (default 30 000). Must be > 0. */
  sessionTimeout?: number;
  /**
   * Bytes queued for a client before it is cut off as too slow (default 128 KiB).
   * Never below `maxMessageSize`: one message of the largest size always fits.
   */
  queueLimitBytes?: number;
  /** Messages queued for a client before it is cut off as too slow (default 100; 0: only the byte limit). */
  queueLimitMessages?: number;
  /** Largest request body (one message, or one batch), in bytes (default 1 MiB); a larger one fails the session. */
  maxMessageSize?: number;
  /** Transports open at once on this endpoint; one more `open` is answered 503 (default 1000). */
  maxTransports?: number;
  /** Authentication methods offered (default: the core's anonymous only). */
  auth?: TransportAuth;
  logger?: Logger;
}

export const LONGPOLL_DEFAULTS = {
  serializers: allSerializers,
  requestTimeout: 10_000,
  sessionTimeout: 30_000,
  queueLimitBytes: 128 * 1024,
  queueLimitMessages: 100,
  maxMessageSize: 1024 * 1024,
  maxTransports: 1000,
} as const;

type Settings = Required<Omit<LongPollOptions, 'auth' | 'logger'>> & Pick<LongPollOptions, 'auth'> & { logger: Logger };

/** The open request is a short JSON object: a list of protocol names. */
const OPEN_BODY_LIMIT = 4096;
const MAX_PROTOCOLS_OFFERED = 32;
/** ms a request body may take to arrive. */
const BODY_TIMEOUT_MS = 30_000;
/** Sends of one transport whose bodies are being read at once; Autobahn|JS posts each message without waiting. */
const MAX_SENDS_IN_FLIGHT = 16;
/** ms a transport the router closed keeps its last messages (ABORT, GOODBYE) for the client to receive, and answers its close. */
const LINGER_MS = 5000;
/** What an id can look like; anything else is not looked up. */
const ID_SHAPE = /^[A-Za-z0-9_-]{1,128}$/;
const OPERATIONS = new Set(['send', 'receive', 'close']);

const NO_SUCH_TRANSPORT: ErrorAnswer = {
  status: 404,
  error: 'no_such_transport',
  message: 'no such long-poll transport (it was closed, timed out, or never opened)',
  close: true,
};
const NOT_LONGPOLL: ErrorAnswer = {
  status: 404,
  error: 'not_found',
  message: 'not a long-poll resource: POST <path>/open, then <path>/<transport>/send, receive or close',
  close: true,
};

const digest = (id: string) => createHash('sha256').update(id).digest('base64');

/** One long-poll endpoint (a `longpoll` path): its open transports and the requests for them. */
export class LongPollEndpoint {
  private readonly settings: Settings;
  /** By the digest of their id. */
  private readonly transports = new Map<string, LongPollTransport>();
  private closed = false;

  constructor(
    private readonly router: Router,
    options: LongPollOptions = {},
  ) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.settings = { ...LONGPOLL_DEFAULTS, logger: silentLogger, ...defined } as Settings;
    for (const key of ['requestTimeout', 'sessionTimeout', 'maxMessageSize', 'maxTransports'] as const) {
      if (!(this.settings[key] > 0)) throw new RangeError(`long-poll ${key} must be > 0`);
    }
  }

  /** Transports open now (those closing and still holding their last messages included). */
  get size(): number {
    return this.transports.size;
  }

  /** Answers one request below the endpoint's path; `rest` is that path's decoded segments. */
  async handle(request: IncomingMessage, response: ServerResponse, method: string, rest: readonly string[]): Promise<void> {
    if (method === 'OPTIONS') return preflight(request, response, rest.length === 0);
    if (rest.length === 0) {
      if (method === 'GET' || method === 'HEAD') return notice(request, response, method === 'HEAD');
      return notAllowed(request, response, 'GET, HEAD, OPTIONS');
    }
    if (rest.length === 1 && rest[0] === 'open') {
      if (method !== 'POST') return notAllowed(request, response, 'POST, OPTIONS');
      return this.open(request, response);
    }
    if (rest.length === 2 && OPERATIONS.has(rest[1]!)) {
      if (method !== 'POST') return notAllowed(request, response, 'POST, OPTIONS');
      const transport = this.find(rest[0]!);
      if (!transport) return answerError(request, response, NO_SUCH_TRANSPORT);
      if (rest[1] === 'send') return transport.send(request, response);
      request.resume();
      if (rest[1] === 'receive') return transport.receive(request, response);
      transport.end('closed by the client', undefined);
      return answerNoContent(request, response);
    }
    answerError(request, response, NOT_LONGPOLL);
  }

  /** Ends every transport and what it holds (node shutdown); opens after this are refused. */
  close(): void {
    this.closed = true;
    for (const transport of [...this.transports.values()]) transport.end('the router is shutting down', 'now');
  }

  private find(id: string): LongPollTransport | undefined {
    return ID_SHAPE.test(id) ? this.transports.get(digest(id)) : undefined;
  }

  private refusedOpen(request: IncomingMessage, response: ServerResponse, answer: ErrorAnswer): void {
    this.settings.logger.debug({ peer: request.socket.remoteAddress, reason: answer.message }, 'longpoll: open refused');
    answerError(request, response, answer);
  }

  private full(): ErrorAnswer | undefined {
    if (this.closed) return { status: 503, error: 'shutting_down', message: 'the router is shutting down', close: true };
    if (this.transports.size < this.settings.maxTransports) return undefined;
    return {
      status: 503,
      error: 'too_many_transports',
      message: `this endpoint holds its maximum of ${this.settings.maxTransports} long-poll transports`,
      headers: { 'Retry-After': String(Math.ceil(this.settings.sessionTimeout / 1000)) },
      close: true,
    };
  }

  private async open(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const full = this.full();
    if (full) return this.refusedOpen(request, response, full);
    const read = await readBody(request, OPEN_BODY_LIMIT, BODY_TIMEOUT_MS);
    if ('refused' in read && read.refused === 'aborted') return;
    if ('refused' in read) return this.refusedOpen(request, response, bodyRefusal(read, OPEN_BODY_LIMIT, 'an open request'));
    const offered = offeredProtocols(read.body);
    if (typeof offered === 'string') return this.refusedOpen(request, response, { status: 400, error: 'bad_request', message: offered });
    const protocol = offered.map((name) => longPollProtocol(name, this.settings.serializers)).find((p) => p !== undefined);
    if (!protocol) {
      const speaks = spokenProtocols(this.settings.serializers).join(', ');
      const message = `no protocol offered is spoken here (this endpoint speaks ${speaks})`;
      return this.refusedOpen(request, response, { status: 400, error: 'unsupported_protocol', message });
    }
    // Reading the body took time: the endpoint may have filled up or closed meanwhile.
    const stillFull = this.full();
    if (stillFull) return this.refusedOpen(request, response, stillFull);

    const id = randomBytes(18).toString('base64url');
    const key = digest(id);
    const info: TransportInfo = {
      type: 'longpoll',
      serializer: protocol.serializer.name,
      ...peerInfo(request.socket.remoteAddress, request.socket.remotePort, undefined, undefined),
    };
    const transport = new LongPollTransport(protocol, this.settings, () => {
      if (this.transports.get(key) === transport) this.transports.delete(key);
    });
    this.transports.set(key, transport);
    transport.attach(this.router, info);
    const body = `${JSON.stringify({ transport: id, protocol: protocol.name })}\n`;
    response
      .writeHead(200, {
        ...standardHeaders(request),
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': String(Buffer.byteLength(body)),
      })
      .end(body);
  }
}

/** The protocol names of an open request's body, or why it is not one. */
function offeredProtocols(body: Buffer): string[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return 'the open request body is not JSON (send {"protocols": ["wamp.2.json"]})';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'the open request body must be a JSON object';
  if (!Object.hasOwn(parsed, 'protocols')) return 'the open request has no "protocols" (send {"protocols": ["wamp.2.json"]})';
  const protocols = (parsed as { protocols: unknown }).protocols;
  if (!Array.isArray(protocols) || protocols.length === 0 || !protocols.every((p) => typeof p === 'string'))
    return '"protocols" must be a non-empty list of protocol names, e.g. ["wamp.2.json"]';
  if (protocols.length > MAX_PROTOCOLS_OFFERED) return `"protocols" lists more than ${MAX_PROTOCOLS_OFFERED} names`;
  return protocols as string[];
}

function bodyRefusal(
  read: { refused: 'too-large'; size: number } | { refused: 'timeout' | 'aborted' },
  limit: number,
  what: string,
): ErrorAnswer {
  if (read.refused === 'too-large')
    return { status: 413, error: 'too_large', message: `${what} of ${read.size} bytes is over the limit of ${limit} bytes`, close: true };
  return { status: 408, error: 'timeout', message: `${what}'s body did not arrive within ${BODY_TIMEOUT_MS} ms`, close: true };
}

function fail(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  error: string,
  message: string,
  more: Partial<ErrorAnswer> = {},
): void {
  answerError(request, response, { status, error, message, ...more });
}

function notAllowed(request: IncomingMessage, response: ServerResponse, allow: string): void {
  request.resume();
  fail(request, response, 405, 'method_not_allowed', `this long-poll resource answers ${allow}`, { headers: { Allow: allow } });
}

/** A CORS preflight: every long-poll request is a POST with a JSON Content-Type, which browsers ask about first. */
function preflight(request: IncomingMessage, response: ServerResponse, root: boolean): void {
  request.resume();
  const methods = root ? 'GET, HEAD, OPTIONS' : 'POST, OPTIONS';
  response
    .writeHead(200, {
      ...standardHeaders(request),
      Allow: methods,
      'Access-Control-Allow-Methods': methods,
      'Access-Control-Max-Age': '600',
      'Content-Length': '0',
    })
    .end();
}

const NOTICE = 'This is a WAMP-over-Longpoll transport: POST {"protocols": ["wamp.2.json"]} to <this path>/open to begin.\n';

function notice(request: IncomingMessage, response: ServerResponse, head: boolean): void {
  response
    .writeHead(200, {
      ...standardHeaders(request),
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(NOTICE)),
    })
    .end(head ? undefined : NOTICE);
}

interface HeldReceive {
  request: IncomingMessage;
  response: ServerResponse;
  timer: NodeJS.Timeout;
}

/**
 * One long-poll transport: the `Wire` of its session's `Connection`, and the
 * requests that carry it. States: open; closed (the router closed it: its
 * last messages wait up to LINGER_MS for a receive, and a close is still
 * answered); gone (removed: its id is unknown from then on).
 */
class LongPollTransport implements Wire {
  private connection: Connection | undefined;
  private state: 'open' | 'closed' | 'gone' = 'open';
  private closeKind: CloseKind | undefined;
  private closeText = '';
  private readonly queue: Encoded[] = [];
  private queued = 0;
  private held: HeldReceive | undefined;
  private idle: NodeJS.Timeout | undefined;
  private linger: NodeJS.Timeout | undefined;
  private flushScheduled = false;
  private lostTold = false;
  private sendsInFlight = 0;

  constructor(
    private readonly protocol: LongPollProtocol,
    private readonly settings: Settings,
    private readonly remove: () => void,
  ) {}

  /** Connects its session to the router (which may answer at once, e.g. ABORT when it holds too many). */
  attach(router: Router, info: TransportInfo): void {
    const serializer = this.protocol.serializer;
    this.connection = new Connection(router, this, {
      serializer,
      encoder: encodeCacheFor(serializer),
      info,
      maxSendBuffer: Math.max(this.settings.queueLimitBytes, this.settings.maxMessageSize),
      auth: this.settings.auth,
    });
    this.idleFromNow();
  }

  // --- Wire ---

  get writable(): boolean {
    return this.state === 'open';
  }

  get bufferedAmount(): number {
    return this.queued;
  }

  write(data: Encoded): void {
    if (this.state !== 'open') return;
    this.queue.push(data);
    this.queued += encodedSize(data);
    const limit = this.settings.queueLimitMessages;
    if (limit > 0 && this.queue.length > limit) {
      const text = `more than ${limit} messages queued: the client does not poll`;
      return this.connection?.fail(KreuzUri.SLOW_CONSUMER, text, 'slow-consumer');
    }
    this.scheduleFlush();
  }

  close(kind: CloseKind, text: string): void {
    if (this.state !== 'open') return;
    this.state = 'closed';
    this.closeKind = kind;
    this.closeText = text;
    clearTimeout(this.idle);
    // Not from inside the router's own close: it learns the transport is gone once this call has returned.
    setImmediate(this.later(() => this.tellLost()));
    if (kind === 'slow-consumer' || kind === 'unresponsive') {
      this.dropQueue();
      return this.end(text, 'gone');
    }
    this.linger = setTimeout(
      this.later(() => this.end(text, 'gone')),
      LINGER_MS,
    );
    this.linger.unref();
    this.scheduleFlush();
  }

  // --- requests ---

  async send(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (this.state !== 'open') {
      request.resume();
      return fail(request, response, 410, 'transport_closed', `the transport is closed: ${this.closeText}`);
    }
    if (this.sendsInFlight >= MAX_SENDS_IN_FLIGHT) {
      return fail(request, response, 429, 'too_many_sends', `more than ${MAX_SENDS_IN_FLIGHT} sends of this transport at once`, {
        close: true,
      });
    }
    this.sendsInFlight++;
    clearTimeout(this.idle);
    const limit = this.settings.maxMessageSize;
    const read = await readBody(request, limit, BODY_TIMEOUT_MS).finally(() => this.sendsInFlight--);
    try {
      if ('refused' in read) {
        if (read.refused === 'aborted') return;
        const answer = bodyRefusal(read, limit, 'a message');
        if (read.refused === 'too-large') this.connection?.fail(ErrorUri.PAYLOAD_SIZE_EXCEEDED, answer.message, 'too-big');
        return answerError(request, response, answer);
      }
      if (this.state !== 'open') return fail(request, response, 410, 'transport_closed', `the transport is closed: ${this.closeText}`);
      const messages = splitBody(this.protocol, read.body);
      if (typeof messages === 'string') {
        this.connection?.fail(ErrorUri.PROTOCOL_VIOLATION, `bad ${this.protocol.name} batch: ${messages}`, 'protocol-error');
        return fail(request, response, 400, 'bad_batch', `not a ${this.protocol.name} batch: ${messages}`);
      }
      for (const message of messages) {
        this.connection?.received(message);
        if (this.state !== 'open') break;
      }
      if (this.state !== 'open' && (this.closeKind === 'protocol-error' || this.closeText === ErrorUri.PROTOCOL_VIOLATION)) {
        const message = `a message was not ${this.protocol.serializer.name} or broke the WAMP protocol: the session is aborted (receive its ABORT)`;
        return fail(request, response, 400, 'protocol_violation', message);
      }
      answerNoContent(request, response);
    } finally {
      this.idleFromNow();
    }
  }

  receive(request: IncomingMessage, response: ServerResponse): void {
    clearTimeout(this.idle);
    // One receive at a time: the newer one is the one the client is waiting on.
    if (this.held) this.releaseHeld();
    if (this.queue.length > 0) {
      this.deliver(request, response);
      return this.idleFromNow();
    }
    const timer = setTimeout(
      this.later(() => this.releaseHeld()),
      this.settings.requestTimeout,
    );
    timer.unref();
    const held: HeldReceive = { request, response, timer };
    this.held = held;
    response.once('close', () => {
      if (this.held !== held) return;
      clearTimeout(held.timer);
      this.held = undefined;
      this.idleFromNow();
    });
  }

  /**
   * Removes the transport: a held receive gets what is still queued, or 410
   * with `text` (`mode` 'gone'), or 204 (a close, by the client or the router
   * at shutdown). The router learns of it now (`mode` 'now') or on the next turn.
   */
  end(text: string, mode: 'gone' | 'now' | undefined): void {
    if (this.state === 'gone') return;
    const wasOpen = this.state === 'open';
    this.state = 'gone';
    if (wasOpen) this.closeText = text;
    clearTimeout(this.idle);
    clearTimeout(this.linger);
    this.remove();
    const held = this.held;
    this.held = undefined;
    if (held) {
      clearTimeout(held.timer);
      if (this.queue.length > 0) this.deliver(held.request, held.response);
      else if (mode === 'gone') fail(held.request, held.response, 410, 'transport_closed', `the transport is closed: ${text}`);
      else answerNoContent(held.request, held.response);
    }
    this.dropQueue();
    if (mode === 'now') this.tellLost();
    else setImmediate(this.later(() => this.tellLost()));
  }

  // --- inside ---

  /** Work on a timer or a later turn: what it throws ends this transport, never the process. */
  private later(work: () => void): () => void {
    return () => {
      try {
        work();
      } catch (err) {
        this.settings.logger.warn({ err: (err as Error)?.message }, 'longpoll: transport failed');
        try {
          if (this.state !== 'gone') this.end('the transport failed', 'gone');
        } catch {
          // Already reported above; the transport is beyond repair.
        }
      }
    };
  }

  private tellLost(): void {
    if (this.lostTold || !this.connection) return;
    this.lostTold = true;
    this.connection.lost();
  }

  private dropQueue(): void {
    this.queue.length = 0;
    this.queued = 0;
  }

  /** A held receive is answered once the current turn has queued all it will: a batch takes them together. */
  private scheduleFlush(): void {
    if (!this.held || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(
      this.later(() => {
        this.flushScheduled = false;
        const held = this.held;
        if (!held || this.queue.length === 0) return;
        this.held = undefined;
        clearTimeout(held.timer);
        this.deliver(held.request, held.response);
        this.idleFromNow();
      }),
    );
  }

  /** Answers a receive with the queued messages: all of them when batched, else the first. */
  private deliver(request: IncomingMessage, response: ServerResponse): void {
    // A client gone before its answer keeps its messages for the next receive.
    if (response.headersSent || response.writableEnded || response.destroyed) return;
    const taken = this.protocol.batched ? this.queue.splice(0) : this.queue.splice(0, 1);
    const parts = batchParts(this.protocol, taken);
    let length = 0;
    for (const part of parts) length += typeof part === 'string' ? Buffer.byteLength(part) : part.length;
    this.queued = Math.max(0, this.queued - taken.reduce((sum, m) => sum + encodedSize(m), 0));
    response.writeHead(200, { ...standardHeaders(request), 'Content-Type': this.protocol.contentType, 'Content-Length': String(length) });
    response.cork();
    for (const part of parts) response.write(part);
    response.end();
    response.uncork();
  }

  /** A held receive answered with nothing: 204, and the client polls again. */
  private releaseHeld(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    clearTimeout(held.timer);
    answerNoContent(held.request, held.response);
    this.idleFromNow();
  }

  /** Starts the session timeout, unless a receive is held (the client is waiting) or the transport is no longer open. */
  private idleFromNow(): void {
    clearTimeout(this.idle);
    if (this.state !== 'open' || this.held || this.sendsInFlight > 0) return;
    const ms = this.settings.sessionTimeout;
    const expired = () => this.connection?.fail(ErrorUri.TIMEOUT, `no long-poll request within ${ms} ms`, 'unresponsive');
    this.idle = setTimeout(this.later(expired), ms);
    this.idle.unref();
  }
}
