/**
 * Starting a node's listeners: each transport type's own `start` (the table
 * in transport-types/), and the building blocks they share: an HTTP server
 * with WebSocket and node-info paths (`startWeb`; the node keeps the server,
 * to stop accepting on shutdown and to count bytes), and the transports'
 * options from a service's.
 */
import type { RequestListener, Server } from 'node:http';
import type { SecureContextOptions, Server as TlsServer } from 'node:tls';
import type { TransportAuth } from '../core/authentication.ts';
import type { Logger } from '../core/logger.ts';
import type { Router } from '../core/router.ts';
import { serializerByName, type SerializerName } from '../serializers/index.ts';
import { bind, closeServer, hostPort, trackConnections, type BoundAddress } from '../transports/listen.ts';
import type { RawSocketOptions } from '../transports/rawsocket.ts';
import { createWebServer, normalizePath, type WebSocketPathOptions } from '../transports/websocket.ts';
import type { NodeMetrics } from './metrics.ts';
import {
  withoutUndefined,
  type AuthConfig,
  type Listening,
  type PathService,
  type RawSocketServiceOptions,
  type WebSocketServiceOptions,
} from './options.ts';
import { startTransport, type TransportOptions } from './transport-types/index.ts';
import { startWebServices, type WebMount } from './web-services/index.ts';

export interface RunningListener {
  /** Its transport type, e.g. "websocket". */
  readonly type: string;
  /** ws://, wss://, rs://, rss:// or unix: URLs clients connect to. */
  readonly urls: readonly string[];
  /** TCP port (0 for a Unix socket). */
  readonly port: number;
  /** Stops taking new connections where the listener allows it; open ones carry on. */
  stopAccepting(): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
  /**
   * With TLS: replaces its certificate, key (and CA, DH parameters, ciphers)
   * for the connections accepted from now on; open ones keep theirs. Throws
   * (changing nothing) when OpenSSL refuses them, e.g. a key that does not
   * match the certificate.
   */
  setSecureContext?(options: SecureContextOptions): void;
}

/** `setSecureContext` of a listener on `server`, when it has TLS. */
export function secureContextSwap(server: object, tls: unknown): Pick<RunningListener, 'setSecureContext'> {
  return tls === undefined ? {} : { setSecureContext: (options) => (server as TlsServer).setSecureContext(options) };
}

export interface ListenerContext {
  router: Router;
  logger: Logger;
  metrics: NodeMetrics | undefined;
  /** The authenticators of an `auth` block (undefined: anonymous only). */
  auth(auth: AuthConfig | undefined, where: string): TransportAuth | undefined;
  /** The handler for plain HTTP requests on a server with these WebSocket and node-info paths (and web services). */
  httpHandler(websocketPaths: string[], infoPaths: string[], web?: readonly WebMount[]): RequestListener;
  /** A service's message size limit: the given one (checked against what the node can carry), or its default. */
  maxMessageSize(given: number | undefined, where: string): number | undefined;
}

export function startListener(t: TransportOptions, index: number, ctx: ListenerContext): Promise<RunningListener> {
  return startTransport(t, `transports[${index}]`, ctx);
}

/** What `startWeb` serves: WebSocket and node-info paths on one HTTP(S) server. */
export interface WebServerOptions extends Listening {
  /** The transport type it serves, for its listener and byte counts. */
  type: string;
  paths: Record<string, PathService>;
  handshakeTimeout?: number;
  /** Upgrades at any other path go to the first WebSocket path (Crossbar's standalone websocket transport without `url`). */
  anyPath?: boolean;
}

/**
 * An HTTP(S) server with WebSocket, node-info and web service paths, bound to its endpoint. `authWhere` names a
 * path's `auth` in errors, `serviceWhere` the path's entry.
 */
export async function startWeb(
  ctx: ListenerContext,
  t: WebServerOptions,
  authWhere: (path: string) => string,
  serviceWhere: (path: string) => string = (path) => path,
): Promise<RunningListener> {
  const { websocket, infoPaths } = splitPaths(t.paths, ctx, authWhere);
  const services = await startWebServices(t.paths, ctx, serviceWhere);
  const paths = websocket.map((w) => w.path!);
  const web = createWebServer(
    ctx.router,
    {
      websocket,
      httpHandler: ctx.httpHandler(paths, infoPaths, services.mounts),
      handshakeTimeout: t.handshakeTimeout,
      anyPath: t.anyPath,
    },
    t.tls,
  );
  const server: Server = web.server;
  const sockets = trackConnections(server);
  ctx.metrics?.trackSockets(server, t.type);
  const bound = await bind(server, t.endpoint);
  server.on('error', (err) => ctx.logger.warn({ err: err.message }, `${t.type}: listener error`));
  const secure = t.tls !== undefined;
  const urls = paths.map((p) => ('path' in bound ? `ws+unix:${bound.path}:${p}` : `${secure ? 'wss' : 'ws'}://${hostPort(bound)}${p}`));
  // A web server without WebSocket paths (node info only) is still somewhere.
  if (urls.length === 0) urls.push('path' in bound ? `http+unix:${bound.path}` : `${secure ? 'https' : 'http'}://${hostPort(bound)}`);
  return {
    type: t.type,
    urls,
    port: portOf(bound),
    ...secureContextSwap(server, t.tls),
    stopAccepting: () => {
      if (server.listening) server.close();
    },
    close: async () => {
      web.closeEndpoints();
      await services.close();
      if (server.listening) return closeServer(server, sockets);
      // Already stopped accepting: only the open connections are left.
      for (const socket of sockets) socket.destroy();
    },
  };
}

export function splitPaths(paths: Record<string, PathService>, ctx: ListenerContext, authWhere: (path: string) => string) {
  const websocket: WebSocketPathOptions[] = [];
  const infoPaths: string[] = [];
  for (const [path, service] of Object.entries(paths)) {
    const urlPath = normalizePath(path);
    if (service.type === 'nodeinfo') infoPaths.push(urlPath);
    else if (service.type === 'websocket') websocket.push({ path: urlPath, ...websocketListenerOptions(service, ctx, authWhere(path)) });
  }
  return { websocket, infoPaths };
}

function websocketListenerOptions(s: WebSocketServiceOptions, ctx: ListenerContext, where: string): Omit<WebSocketPathOptions, 'path'> {
  return withoutUndefined({
    serializers: s.serializers && serializersOf(s.serializers),
    maxMessageSize: ctx.maxMessageSize(s.maxMessageSize, where),
    compression: s.compression,
    maxSendBuffer: s.maxSendBuffer,
    allowedOrigins: s.allowedOrigins,
    allowNullOrigin: s.allowNullOrigin,
    autoPingInterval: s.autoPingInterval,
    autoPingTimeout: s.autoPingTimeout,
    autoPingSize: s.autoPingSize,
    autoPingRestartOnAnyTraffic: s.autoPingRestartOnAnyTraffic,
    autoFragmentSize: s.autoFragmentSize,
    closeHandshakeTimeout: s.closeHandshakeTimeout,
    failByDrop: s.failByDrop,
    requireSubprotocol: s.requireSubprotocol,
    versions: s.versions,
    tcpNoDelay: s.tcpNoDelay,
    trustedProxies: s.trustedProxies,
    auth: ctx.auth(s.auth, where),
    logger: ctx.logger,
  });
}

export function rawsocketListenerOptions(s: RawSocketServiceOptions, ctx: ListenerContext, where: string): RawSocketOptions {
  return withoutUndefined({
    serializers: s.serializers && serializersOf(s.serializers),
    maxMessageSize: ctx.maxMessageSize(s.maxMessageSize, where),
    maxSendBuffer: s.maxSendBuffer,
    autoPingInterval: s.autoPingInterval,
    autoPingTimeout: s.autoPingTimeout,
    maxConnections: s.maxConnections,
    handshakeTimeout: s.handshakeTimeout,
    auth: ctx.auth(s.auth, where),
    logger: ctx.logger,
  });
}

function serializersOf(names: SerializerName[]) {
  return names.map((name) => {
    const serializer = serializerByName(name);
    if (!serializer) throw new Error(`unknown serializer "${name}"`);
    return serializer;
  });
}

export function portOf(address: BoundAddress): number {
  return 'port' in address ? address.port : 0;
}
