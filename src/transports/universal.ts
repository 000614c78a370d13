/**
 * The universal port (Crossbar's "universal" transport): one TCP listener,
 * optionally TLS, that serves RawSocket, WebSocket and plain HTTP at once.
 * It looks at the first byte a client sends: 0x7F, the RawSocket magic, can
 * never start an HTTP request, so such a connection is RawSocket; anything
 * else goes to the HTTP server (WebSocket upgrades at their paths, other
 * requests to `httpHandler`).
 *
 * Wiring (for the node layer):
 *   const listener = await listenUniversal(router, {
 *     host, port, tls: { cert, key },
 *     websocket: { path: '/ws', ...WebSocketOptions },   // or an array of paths
 *     rawsocket: { ...RawSocketOptions },                // false: no RawSocket
 *     httpHandler: (req, res) => ...,                    // e.g. /metrics
 *   });
 *   listener.websocketUrls, listener.rawsocketUrl; await listener.close();
 */
import { createServer as createNetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Router } from '../core/router.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { bind, closeServer, stopAccepting, hostPort, trackConnections, type Listener } from './listen.ts';
import { RAWSOCKET_MAGIC, RawSocketEndpoint, type RawSocketOptions } from './rawsocket.ts';
import { secureContextOptions, type TlsOptions } from './tls.ts';
import { DEFAULT_HANDSHAKE_TIMEOUT, createWebServer, type WebSocketPathOptions } from './websocket.ts';

export interface UniversalOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Connections the OS queues before they are accepted (default Node's 511). */
  backlog?: number;
  /** TLS for everything on the port (rss:// and wss://, https). */
  tls?: TlsOptions;
  /** WebSocket endpoints, one per URL path (default: one at "/ws" with default options; [] for none, upgrades then get 404). */
  websocket?: WebSocketPathOptions | readonly WebSocketPathOptions[];
  /** RawSocket options (default: enabled with its defaults); false: RawSocket clients are dropped. */
  rawsocket?: RawSocketOptions | false;
  /** Plain HTTP requests. Default: 426 "connect with WebSocket". */
  httpHandler?: RequestListener;
  /**
   * ms for a client's first byte, its TLS handshake and its HTTP request
   * headers each (default 10 000); RawSocket's own handshake timeout applies after the first byte.
   */
  handshakeTimeout?: number;
  logger?: Logger;
}

export interface UniversalListener extends Listener {
  /** ws:// or wss:// URL of each WebSocket path. */
  readonly websocketUrls: readonly string[];
  /** rs:// or rss:// URL; undefined when RawSocket is off. */
  readonly rawsocketUrl: string | undefined;
}

/** Listens on one TCP port for RawSocket, WebSocket and HTTP clients, told apart by their first byte. */
export async function listenUniversal(router: Router, options: UniversalOptions): Promise<UniversalListener> {
  const log = options.logger ?? silentLogger;
  const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  const raw = options.rawsocket === false ? undefined : new RawSocketEndpoint(router, { logger: log, ...options.rawsocket });
  // The HTTP server never listens itself: it is handed the sockets that are not RawSocket (TLS already terminated).
  const web = createWebServer(router, { websocket: options.websocket ?? {}, httpHandler: options.httpHandler, handshakeTimeout: timeout });

  // An HTTP server that does not listen does not enforce headersTimeout: do it here, until the request or upgrade arrives.
  const headerDeadlines = new WeakMap<Socket, NodeJS.Timeout>();
  const headersArrived = (request: IncomingMessage) => {
    const socket = request.socket as Socket;
    clearTimeout(headerDeadlines.get(socket));
    headerDeadlines.delete(socket);
  };
  web.server.prependListener('request', headersArrived);
  web.server.prependListener('upgrade', headersArrived);

  const ignoreError = (err: Error) => log.debug({ err: err.message }, 'universal: socket error before dispatch');
  const onSocket = (socket: Socket) => {
    socket.on('error', ignoreError);
    const firstByteDeadline = setTimeout(() => socket.destroy(), timeout);
    socket.once('close', () => clearTimeout(firstByteDeadline));
    socket.once('data', (first: Buffer) => {
      clearTimeout(firstByteDeadline);
      // Put the bytes back; whoever takes the socket reads them first.
      socket.pause();
      socket.unshift(first);
      socket.off('error', ignoreError);
      if (first[0] === RAWSOCKET_MAGIC) {
        if (raw) raw.handleConnection(socket);
        else socket.destroy();
        return;
      }
      const deadline = setTimeout(() => socket.destroy(), timeout);
      deadline.unref();
      headerDeadlines.set(socket, deadline);
      socket.once('close', () => clearTimeout(deadline));
      web.server.emit('connection', socket);
      socket.resume();
    });
  };

  const server = options.tls
    ? createTlsServer({ ...secureContextOptions(options.tls), handshakeTimeout: timeout }, onSocket)
    : createNetServer(onSocket);
  if (options.tls) server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'universal: TLS handshake failed'));
  const sockets = trackConnections(server);
  const bound = (await bind(server, { host: options.host, port: options.port, backlog: options.backlog })) as {
    host: string;
    port: number;
  };
  server.on('error', (err) => log.warn({ err: err.message }, 'universal: listener error'));

  const secure = options.tls !== undefined;
  const websocketUrls = [...web.endpoints.keys()].map((path) => `${secure ? 'wss' : 'ws'}://${hostPort(bound)}${path}`);
  const rawsocketUrl = raw ? `${secure ? 'rss' : 'rs'}://${hostPort(bound)}` : undefined;
  return {
    address: bound,
    url: websocketUrls[0] ?? rawsocketUrl ?? `${secure ? 'https' : 'http'}://${hostPort(bound)}`,
    websocketUrls,
    rawsocketUrl,
    server: server,
    stopAccepting: () => stopAccepting(server),
    close: () => {
      raw?.close();
      web.closeEndpoints();
      return closeServer(server, sockets);
    },
  };
}
