/**
 * WebSocket transport (WAMP: basic/transport_websocket): one WAMP message per
 * WebSocket message, serializer chosen by subprotocol.
 *
 * Wiring (for the node layer):
 * - `listenWebSocket(router, { host, port } | { path }, options, tls?)`: an
 *   HTTP (or, with `tls`, HTTPS: `wss://`) server with one WebSocket path;
 *   other requests go to `options.httpHandler`. Resolves with a `Listener`.
 * - `createWebServer(router, { websocket: [...paths], httpHandler }, tls?)`:
 *   the same server unbound, for several paths or for the universal port.
 * - `new WebSocketEndpoint(router, options).handleUpgrade(request, socket, head)`
 *   for an upgrade routed by an HTTP server of your own.
 * Options and their defaults: `WebSocketOptions`, `WEBSOCKET_DEFAULTS`.
 */
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import type { Socket } from 'node:net';
import { corkUntilTickEnd } from './tick-cork.ts';
import { ErrorUri } from '../wamp/uris.ts';
import type { Router } from '../core/router.ts';
import type { TransportAuth } from '../core/authentication.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { jsonSerializer, serializerByProtocol, serializers as allSerializers, type Serializer } from '../serializers/index.ts';
import { Pieces, type Encoded } from '../serializers/serializer.ts';
import { Connection, type CloseKind, type Wire } from './connection.ts';
import { encodeCacheFor } from './encode-cache.ts';
import { Heartbeat } from './heartbeat.ts';
import { bind, closeServer, stopAccepting, hostPort, trackConnections, type ListenAddress, type Listener } from './listen.ts';
import { channelIds, secureContextOptions, type TlsOptions } from './tls.ts';
import { peerInfo, trustedProxies, type TrustedProxies } from './trusted-proxies.ts';

export interface WebSocketOptions {
  /** Serializers offered, in the router's order of preference (only used to pick among equals). Default: json, msgpack, cbor. */
  serializers?: readonly Serializer[];
  /** Largest message accepted from a client, in bytes; a larger one fails the connection with 1009 (default 1 MiB). */
  maxMessageSize?: number;
  /** permessage-deflate: true, or its parameters (default off). */
  compression?: boolean | DeflateOptions;
  /**
   * Bytes that may wait in a connection's send buffer; a client that reads
   * slower than it is sent to is disconnected past this, rather than grow memory (default 8 MiB).
   */
  maxSendBuffer?: number;
  /**
   * Origins a browser may connect from, e.g. "https://app.example.com";
   * "*" matches any run of characters ("https://*.example.com", "*"); case-insensitive.
   * A handshake whose Origin header is not listed is refused with 403. A
   * handshake without Origin (a non-browser client) is accepted. Default: any origin.
   */
  allowedOrigins?: readonly string[];
  /**
   * The origin "null" (sandboxed pages, file: URLs): true accepts it, false
   * refuses it (403), whatever `allowedOrigins` says. Default: like any other
   * origin (accepted without `allowedOrigins`, else only where a pattern matches it).
   */
  allowNullOrigin?: boolean;
  /** false: a client that names no subprotocol is taken to speak wamp.2.json (default true: it is refused). */
  requireSubprotocol?: boolean;
  /** Sec-WebSocket-Version values accepted: 13 (RFC 6455) and 8 (its draft hybi-10); default both, as ws does. */
  versions?: ReadonlyArray<8 | 13>;
  /**
   * ms between WebSocket pings to each client (default 30 000; 0: off). A
   * client that shows no sign of life within `autoPingTimeout` of a ping is
   * dropped and its session cleaned up: this is how stale sessions are found.
   * 30 s also keeps idle connections open through proxies (nginx drops after 60 s).
   */
  autoPingInterval?: number;
  /** ms a client has to answer a ping (default 10 000). */
  autoPingTimeout?: number;
  /** Bytes of random payload in each ping, 12-125 (default none). */
  autoPingSize?: number;
  /** Whether any message from the client answers a ping as a pong does (default true); false: only a pong. */
  autoPingRestartOnAnyTraffic?: boolean;
  /** Bytes: messages to the client are sent in frames of at most this size (default 0: one frame per message). */
  autoFragmentSize?: number;
  /** ms a closing handshake may take, either side starting it, before the TCP connection is dropped (default 30 000, ws's). */
  closeHandshakeTimeout?: number;
  /** true: a client that breaks the protocol is dropped without a closing handshake (default false: close frame 1002/1007/1009). */
  failByDrop?: boolean;
  /** TCP_NODELAY on the client's socket; default: left as the server made it (on for HTTP servers). */
  tcpNoDelay?: boolean;
  /** Authentication methods offered on this transport (default: the core's anonymous only). */
  auth?: TransportAuth;
  /**
   * Reverse proxies (IPs, CIDR ranges, "unix") whose X-Forwarded-For is
   * believed: the client is then the right-most hop that is not a trusted
   * proxy (see trusted-proxies.ts). Default: none, the header is ignored.
   */
  trustedProxies?: readonly string[];
  logger?: Logger;
}

/** permessage-deflate parameters (RFC 7692), as ws names them. */
export interface DeflateOptions {
  /** Ask the client not to keep its compression context between messages (client_no_context_takeover). */
  clientNoContextTakeover?: boolean;
  /** The client's largest compression window, 8-15 bits (client_max_window_bits); only clients that offer to limit it are accepted. */
  clientMaxWindowBits?: number;
  /** Do not keep the compression context between messages sent (server_no_context_takeover). */
  serverNoContextTakeover?: boolean;
  /** Largest compression window of messages sent, 8-15 bits (server_max_window_bits). */
  serverMaxWindowBits?: number;
  /** zlib's memory level for messages sent, 1-9 (default 8). */
  memLevel?: number;
}

export const WEBSOCKET_DEFAULTS = {
  serializers: allSerializers,
  maxMessageSize: 1024 * 1024,
  compression: false,
  maxSendBuffer: 8 * 1024 * 1024,
  autoPingInterval: 30_000,
  autoPingTimeout: 10_000,
  autoPingRestartOnAnyTraffic: true,
  autoFragmentSize: 0,
  closeHandshakeTimeout: 30_000,
  failByDrop: false,
  requireSubprotocol: true,
} as const;

type Optional = 'allowedOrigins' | 'allowNullOrigin' | 'versions' | 'autoPingSize' | 'tcpNoDelay' | 'auth' | 'trustedProxies' | 'logger';
type Settings = Required<Omit<WebSocketOptions, Optional>> & Pick<WebSocketOptions, Exclude<Optional, 'logger'>> & { logger: Logger };

/** ws's perMessageDeflate option for `compression`. */
function perMessageDeflate(compression: boolean | DeflateOptions): ServerOptions['perMessageDeflate'] {
  if (typeof compression === 'boolean') return compression;
  const { memLevel, ...params } = compression;
  const defined = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
  return { ...defined, ...(memLevel !== undefined && { zlibDeflateOptions: { memLevel } }) };
}

/** Close codes of a client that broke the protocol: with failByDrop, the connection is dropped instead. */
const FAILURE_CODES = new Set([1002, 1003, 1007, 1009, 1010]);

/** Picks the first subprotocol in the client's order that we speak (as Crossbar does). */
export function chooseSubprotocol(offered: Iterable<string>, serializers: readonly Serializer[]): Serializer | undefined {
  for (const protocol of offered) {
    const serializer = serializerByProtocol(protocol);
    if (serializer && serializers.includes(serializer)) return serializer;
  }
  return undefined;
}

/** A matcher for `allowedOrigins` ("*" = any run of characters, case-insensitive). */
export function originMatcher(allowed: readonly string[]): (origin: string) => boolean {
  const patterns = allowed.map(
    (pattern) =>
      new RegExp(
        `^${pattern
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
        'i',
      ),
  );
  return (origin) => patterns.some((pattern) => pattern.test(origin));
}

/** Accepts WebSocket upgrades for one path and attaches each connection to the router. */
export class WebSocketEndpoint {
  private readonly wss: WebSocketServer;
  private readonly settings: Settings;
  private readonly originAllowed: ((origin: string) => boolean) | undefined;
  private readonly trustedProxies: TrustedProxies | undefined;
  /** The serializer of a client that names no subprotocol, where one is not required. */
  private readonly fallback: Serializer | undefined;

  constructor(
    private readonly router: Router,
    options: WebSocketOptions = {},
  ) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    const settings = (this.settings = { ...WEBSOCKET_DEFAULTS, logger: silentLogger, ...defined } as Settings);
    this.originAllowed = settings.allowedOrigins ? originMatcher(settings.allowedOrigins) : undefined;
    this.trustedProxies = options.trustedProxies?.length ? trustedProxies(options.trustedProxies) : undefined;
    this.fallback = settings.requireSubprotocol ? undefined : settings.serializers.find((s) => s === jsonSerializer);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: settings.maxMessageSize,
      perMessageDeflate: perMessageDeflate(settings.compression),
      handleProtocols: (offered) => chooseSubprotocol(offered, settings.serializers)?.protocol ?? false,
      // ws >= 8.19 (its types do not have it yet); older ones keep 30 s, and `attach` drops the connection itself.
      closeTimeout: settings.closeHandshakeTimeout || WEBSOCKET_DEFAULTS.closeHandshakeTimeout,
    } as ServerOptions);
  }

  /** Whether a browser at `origin` may connect. */
  private originOk(origin: string): boolean {
    if (origin === 'null' && this.settings.allowNullOrigin !== undefined) return this.settings.allowNullOrigin;
    return !this.originAllowed || this.originAllowed(origin);
  }

  /** Handles an HTTP upgrade request already routed to this endpoint's path. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const versions = this.settings.versions;
    const version = Number(request.headers['sec-websocket-version']);
    if (versions && !versions.includes(version as 8 | 13)) {
      this.refused(request, `Sec-WebSocket-Version ${headerValue(request.headers['sec-websocket-version']) ?? 'missing'} not accepted`);
      refuse(socket, 400, `This server only speaks Sec-WebSocket-Version ${versions.join(', ')}`, {
        'Sec-WebSocket-Version': versions.join(', '),
      });
      return;
    }
    // hybi-10 (version 8) browsers sent Sec-WebSocket-Origin.
    const origin = request.headers.origin ?? (version === 8 ? headerValue(request.headers['sec-websocket-origin']) : undefined);
    if (origin !== undefined && !this.originOk(origin)) {
      this.refused(request, 'origin not allowed', { origin });
      refuse(socket, 403, `Origin ${origin} is not allowed`);
      return;
    }
    const offered = parseProtocols(request.headers['sec-websocket-protocol']);
    if (!chooseSubprotocol(offered, this.settings.serializers) && !(offered.length === 0 && this.fallback)) {
      const speaks = this.settings.serializers.map((s) => s.protocol).join(', ');
      const why = offered.length ? 'no WebSocket subprotocol it offers is spoken here' : 'no WebSocket subprotocol offered';
      this.refused(request, why, { offered: offered.join(', '), speaks });
      refuse(socket, 400, `This server only speaks WebSocket subprotocols ${speaks}`);
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.attach(ws, request));
  }

  /** A refused handshake, at info with the reason: a client that cannot connect is the first thing to debug. */
  private refused(request: IncomingMessage, reason: string, fields: object = {}): void {
    const { peer } = peerInfo(
      request.socket.remoteAddress,
      request.socket.remotePort,
      request.headers['x-forwarded-for'],
      this.trustedProxies,
    );
    // The path without its query: a query may carry a token.
    this.settings.logger.info({ peer, path: pathOf(request), reason, ...fields }, 'websocket: handshake refused');
  }

  /** Closes every connection. */
  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private attach(ws: WebSocket, request: IncomingMessage): void {
    const settings = this.settings;
    // No subprotocol: handleUpgrade let it through only where there is a fallback.
    const serializer = serializerByProtocol(ws.protocol) ?? this.fallback!;
    if (settings.tcpNoDelay !== undefined) request.socket.setNoDelay(settings.tcpNoDelay);
    // ws fails a message over maxPayload by calling close(1009) with no text; we intercept that below.
    const closeWs = ws.close.bind(ws);
    // Every close goes through here (ws answers a client's close frame with ws.close too): the closing handshake gets its deadline.
    let closeDeadline: NodeJS.Timeout | undefined;
    const closing = (code?: number, data?: string | Buffer) => {
      // A Buffer reason is ws echoing the client's own close frame: that is answered, never dropped.
      if (settings.failByDrop && code !== undefined && FAILURE_CODES.has(code) && !Buffer.isBuffer(data)) return ws.terminate();
      closeWs(code, data);
      if (closeDeadline === undefined && settings.closeHandshakeTimeout > 0) {
        closeDeadline = setTimeout(() => ws.terminate(), settings.closeHandshakeTimeout);
        closeDeadline.unref();
      }
    };
    const connection = new Connection(this.router, new WebSocketWire(ws, closing, settings.autoFragmentSize), {
      serializer,
      encoder: encodeCacheFor(serializer),
      info: {
        type: 'websocket',
        serializer: serializer.name,
        ...peerInfo(request.socket.remoteAddress, request.socket.remotePort, request.headers['x-forwarded-for'], this.trustedProxies),
        ...channelIds(request.socket),
      },
      maxSendBuffer: settings.maxSendBuffer,
      auth: settings.auth,
    });
    ws.close = (code?: number, data?: string | Buffer) => {
      if (code !== 1009 || data !== undefined) return closing(code, data);
      const text = `message larger than the limit of ${settings.maxMessageSize} bytes`;
      connection.fail(ErrorUri.PAYLOAD_SIZE_EXCEEDED, text, 'too-big');
      // ws must close in any case, even when the connection was already failing.
      if (ws.readyState === ws.OPEN) closing(1009, text);
    };
    const pingSize = settings.autoPingSize;
    const heartbeat = new Heartbeat(
      settings.autoPingInterval,
      settings.autoPingTimeout,
      () => ws.readyState === ws.OPEN && ws.ping(pingSize ? randomBytes(pingSize) : undefined),
      () => connection.fail(ErrorUri.TIMEOUT, `no pong within ${settings.autoPingTimeout} ms`, 'unresponsive'),
    );
    const anyTraffic = settings.autoPingRestartOnAnyTraffic;
    ws.on('message', (data: Buffer) => {
      if (anyTraffic) heartbeat.seen();
      // JSON arrives in text frames; the serializer takes the bytes and checks UTF-8 itself.
      connection.received(data);
    });
    ws.on('pong', () => heartbeat.seen());
    ws.on('close', () => {
      clearTimeout(closeDeadline);
      heartbeat.stop();
      connection.lost();
    });
    // Errors (e.g. a message over maxPayload) are followed by 'close'; ws already sent the close frame.
    ws.on('error', () => {});
    heartbeat.start();
  }
}

/** A `ws` connection as a `Wire`. */
class WebSocketWire implements Wire {
  constructor(
    private readonly ws: WebSocket,
    /** Closes through the interceptor's handshake deadline and failByDrop, not its 1009 handling. */
    private readonly closeWs: (code?: number, data?: string | Buffer) => void,
    /** Bytes per frame sent (0: one frame per message). */
    private readonly fragmentSize: number,
  ) {}

  get writable(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  write(data: Encoded): void {
    corkUntilTickEnd((this.ws as unknown as { _socket: Socket })._socket);
    const size = this.fragmentSize;
    if (size > 0 && (typeof data === 'string' ? Buffer.byteLength(data) : data.length) > size) return this.writeFragments(data);
    if (!(data instanceof Pieces)) return this.ws.send(data);
    // One message in continuation frames: the pieces are not copied into one buffer.
    const last = data.parts.length - 1;
    for (let i = 0; i <= last; i++) this.ws.send(data.parts[i]!, { binary: true, fin: i === last });
  }

  /** One message in frames of at most fragmentSize bytes; text stays text (UTF-8 may split between frames, RFC 6455 5.6). */
  private writeFragments(data: Encoded): void {
    const binary = typeof data !== 'string';
    const parts = data instanceof Pieces ? data.parts : [typeof data === 'string' ? Buffer.from(data) : data];
    const size = this.fragmentSize;
    const chunks: Buffer[] = [];
    for (const part of parts) for (let at = 0; at < part.length; at += size) chunks.push(part.subarray(at, at + size));
    const last = chunks.length - 1;
    for (let i = 0; i <= last; i++) this.ws.send(chunks[i]!, { binary, fin: i === last });
  }

  close(kind: CloseKind, text: string): void {
    const reason = closeReason(text);
    switch (kind) {
      case 'slow-consumer':
        // The close frame would wait behind the backlog the client does not read: drop the connection.
        this.closeWs(1008, reason);
        this.ws.terminate();
        return;
      case 'unresponsive':
        this.ws.terminate();
        return;
      case 'too-big':
        return this.closeWs(1009, reason);
      case 'protocol-error':
        return this.closeWs(1002, reason);
      case 'normal':
        return this.closeWs(1000, reason);
    }
  }
}

/** A close reason must fit a control frame: at most 123 bytes of UTF-8, cut at a character boundary. */
function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text;
  let cut = text.slice(0, 123);
  while (Buffer.byteLength(cut) > 123) cut = cut.slice(0, -1);
  return cut;
}

function parseProtocols(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' };

function refuse(socket: Duplex, status: number, text: string, headers: Record<string, string> = {}): void {
  // Nobody else listens on this socket any more: a client that resets it now must not take the process down.
  socket.on('error', () => {});
  const reason = REASONS[status] ?? 'Bad Request';
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n${extra}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

function pathOf(request: IncomingMessage): string {
  try {
    return new URL(request.url ?? '/', 'http://localhost').pathname;
  } catch {
    return '(unparsable)';
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export { refuse as refuseUpgrade };

// --- HTTP(S) servers with WebSocket paths ---

/** One WebSocket endpoint of a web server: its URL path (default "/ws"; a leading "/" is added) and options. */
export interface WebSocketPathOptions extends WebSocketOptions {
  path?: string;
}

export interface WebServerOptions {
  /** WebSocket endpoints, one per URL path. */
  websocket?: WebSocketPathOptions | readonly WebSocketPathOptions[];
  /** Plain HTTP requests (e.g. /metrics later). Default: 426 "connect with WebSocket". */
  httpHandler?: RequestListener;
  /** ms for an HTTP request's headers (and a TLS handshake) to arrive (default 10 000). */
  handshakeTimeout?: number;
  /** Upgrades at a path no endpoint has go to the first endpoint (Crossbar's standalone websocket transport); default false: 404. */
  anyPath?: boolean;
}

export const DEFAULT_WEBSOCKET_PATH = '/ws';
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

export interface WebServer {
  /** An http.Server (https.Server with `tls`), not yet listening. */
  readonly server: Server;
  /** The WebSocket endpoints by URL path ("/ws"). */
  readonly endpoints: ReadonlyMap<string, WebSocketEndpoint>;
  /** Drops every WebSocket connection (the server itself is closed by its owner). */
  closeEndpoints(): void;
}

/** "/ws" from "ws" or "/ws". */
export function normalizePath(path: string | undefined): string {
  const p = path ?? DEFAULT_WEBSOCKET_PATH;
  return p.startsWith('/') ? p : `/${p}`;
}

const defaultHttpHandler =
  (paths: string[]): RequestListener =>
  (_request, response) => {
    const where = paths.length ? ` at ${paths.join(', ')}` : '';
    response.writeHead(426, { 'Content-Type': 'text/plain' }).end(`This is a WAMP router: connect with WebSocket${where}.\n`);
  };

/**
 * An HTTP server (HTTPS with `tls`) whose upgrades go to the WebSocket
 * endpoint of their path (404 elsewhere) and whose plain requests go to
 * `httpHandler`. Not listening: bind it, or hand it sockets with
 * `server.emit('connection', socket)` (the universal port does).
 */
export function createWebServer(router: Router, options: WebServerOptions = {}, tls?: TlsOptions): WebServer {
  const list = options.websocket === undefined ? [] : Array.isArray(options.websocket) ? options.websocket : [options.websocket];
  const endpoints = new Map<string, WebSocketEndpoint>();
  for (const { path, ...wsOptions } of list as WebSocketPathOptions[]) {
    const urlPath = normalizePath(path);
    if (endpoints.has(urlPath)) throw new Error(`two WebSocket endpoints at ${urlPath}`);
    endpoints.set(urlPath, new WebSocketEndpoint(router, wsOptions));
  }
  const handler = options.httpHandler ?? defaultHttpHandler([...endpoints.keys()]);
  const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  // Slowloris: request headers must arrive within `timeout`; Node checks every connectionsCheckingInterval.
  const http = { headersTimeout: timeout, connectionsCheckingInterval: Math.max(50, Math.min(30_000, timeout / 4)) };
  const server: Server = tls
    ? createHttpsServer({ ...secureContextOptions(tls), handshakeTimeout: timeout, ...http }, handler)
    : createHttpServer(http, handler);
  const catchAll = options.anyPath ? endpoints.values().next().value : undefined;
  const log = (list as WebSocketPathOptions[]).find((w) => w.logger)?.logger ?? silentLogger;
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = pathOf(request);
    const endpoint = endpoints.get(path) ?? catchAll;
    if (!endpoint) {
      log.info(
        {
          peer: peerInfo(request.socket.remoteAddress, request.socket.remotePort, undefined, undefined).peer,
          path,
          reason: 'no WebSocket endpoint at this path',
        },
        'websocket: handshake refused',
      );
      return refuse(socket, 404, `No WebSocket endpoint at ${path}`);
    }
    endpoint.handleUpgrade(request, socket, head);
  });
  // A socket error before the upgrade: Node destroys the socket; nothing to do.
  server.on('clientError', (_err, socket: Duplex) => socket.destroy());
  return {
    server,
    endpoints,
    closeEndpoints: () => {
      for (const endpoint of endpoints.values()) endpoint.close();
    },
  };
}

export interface WebSocketListenOptions extends WebSocketPathOptions {
  httpHandler?: RequestListener;
  handshakeTimeout?: number;
}

/**
 * Listens for WebSocket clients at one URL path (default "/ws") on TCP
 * (`{ host, port }`, host default 127.0.0.1) or a Unix socket (`{ path }`),
 * over TLS (`wss://`) when `tls` is given.
 */
export async function listenWebSocket(
  router: Router,
  address: ListenAddress,
  options: WebSocketListenOptions = {},
  tls?: TlsOptions,
): Promise<Listener> {
  const { httpHandler, handshakeTimeout, ...websocket } = options;
  const web = createWebServer(router, { websocket, httpHandler, handshakeTimeout }, tls);
  const sockets = trackConnections(web.server);
  const bound = await bind(web.server, address);
  const log = options.logger ?? silentLogger;
  web.server.on('error', (err) => log.warn({ err: err.message }, 'websocket: listener error'));
  const urlPath = normalizePath(options.path);
  const url = 'path' in bound ? `ws+unix:${bound.path}:${urlPath}` : `${tls ? 'wss' : 'ws'}://${hostPort(bound)}${urlPath}`;
  return {
    address: bound,
    url,
    server: web.server,
    stopAccepting: () => stopAccepting(web.server),
    close: () => {
      web.closeEndpoints();
      return closeServer(web.server, sockets);
    },
  };
}
