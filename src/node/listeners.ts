/**
 * Starts the listeners of a node from its transport options, with the
 * transports' own building blocks: `createWebServer` for websocket and web
 * transports (the node keeps the HTTP server, to stop accepting on shutdown
 * and to count bytes), `listenRawSocket` and `listenUniversal` for the others.
 */
import type { RequestListener, Server } from 'node:http';
import type { TransportAuth } from '../core/authentication.ts';
import type { Logger } from '../core/logger.ts';
import type { Router } from '../core/router.ts';
import { serializerByName, type SerializerName } from '../serializers/index.ts';
import { bind, closeServer, hostPort, trackConnections, type BoundAddress } from '../transports/listen.ts';
import { listenRawSocket, type RawSocketOptions } from '../transports/rawsocket.ts';
import { listenUniversal } from '../transports/universal.ts';
import { createWebServer, normalizePath, type WebSocketPathOptions } from '../transports/websocket.ts';
import type { NodeMetrics } from './metrics.ts';
import { withoutUndefined, type AuthConfig, type PathService, type RawSocketServiceOptions, type TransportOptions, type WebSocketServiceOptions } from './options.ts';

export interface RunningListener {
  readonly type: TransportOptions['type'];
  /** ws://, wss://, rs://, rss:// or unix: URLs clients connect to. */
  readonly urls: readonly string[];
  /** TCP port (0 for a Unix socket). */
  readonly port: number;
  /** Stops taking new connections where the listener allows it; open ones carry on. */
  stopAccepting(): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

export interface ListenerContext {
  router: Router;
  logger: Logger;
  metrics: NodeMetrics | undefined;
  /** The authenticators of an `auth` block (undefined: anonymous only). */
  auth(auth: AuthConfig | undefined, where: string): TransportAuth | undefined;
  /** The handler for plain HTTP requests on a server with these WebSocket and node-info paths. */
  httpHandler(websocketPaths: string[], infoPaths: string[]): RequestListener;
}

export async function startListener(t: TransportOptions, index: number, ctx: ListenerContext): Promise<RunningListener> {
  const where = `transports[${index}]`;
  switch (t.type) {
    case 'websocket': {
      const { type: _type, endpoint, tls, path, handshakeTimeout, ...service } = t;
      return startWeb(ctx, { type: 'websocket', endpoint, tls, handshakeTimeout, paths: { [path ?? '/ws']: { type: 'websocket', ...service } } }, where);
    }
    case 'web':
      return startWeb(ctx, t, where);
    case 'rawsocket': {
      const { type: _type, endpoint, tls, ...service } = t;
      const listener = await listenRawSocket(ctx.router, endpoint, rawsocketOptions(service, ctx, `${where}.auth`), tls);
      ctx.metrics?.trackSockets(listener.server, t.type);
      return { type: t.type, urls: [listener.url], port: portOf(listener.address), stopAccepting: () => listener.stopAccepting(), close: () => listener.close() };
    }
    case 'universal': {
      const { websocket, infoPaths } = splitPaths(t.paths, ctx, (path) => `${where}.paths.${path}.auth`);
      const listener = await listenUniversal(ctx.router, {
        host: t.endpoint.host,
        port: t.endpoint.port,
        tls: t.tls,
        websocket,
        rawsocket: t.rawsocket ? rawsocketOptions(t.rawsocket, ctx, `${where}.rawsocket.auth`) : false,
        httpHandler: ctx.httpHandler(websocket.map((w) => w.path!), infoPaths),
        handshakeTimeout: t.handshakeTimeout,
        logger: ctx.logger,
      });
      ctx.metrics?.trackSockets(listener.server, t.type);
      const urls = [...listener.websocketUrls, ...(listener.rawsocketUrl ? [listener.rawsocketUrl] : [])];
      return { type: t.type, urls, port: portOf(listener.address), stopAccepting: () => listener.stopAccepting(), close: () => listener.close() };
    }
  }
}

/** An HTTP(S) server with WebSocket and node-info paths, bound to its endpoint. */
async function startWeb(
  ctx: ListenerContext,
  t: Extract<TransportOptions, { type: 'web' }> | (Omit<Extract<TransportOptions, { type: 'web' }>, 'type'> & { type: 'websocket' }),
  where: string,
): Promise<RunningListener> {
  const authWhere = (path: string) => (t.type === 'websocket' ? `${where}.auth` : `${where}.paths.${path}.auth`);
  const { websocket, infoPaths } = splitPaths(t.paths, ctx, authWhere);
  const paths = websocket.map((w) => w.path!);
  const web = createWebServer(ctx.router, { websocket, httpHandler: ctx.httpHandler(paths, infoPaths), handshakeTimeout: t.handshakeTimeout }, t.tls);
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
    stopAccepting: () => {
      if (server.listening) server.close();
    },
    close: () => {
      web.closeEndpoints();
      if (server.listening) return closeServer(server, sockets);
      // Already stopped accepting: only the open connections are left.
      for (const socket of sockets) socket.destroy();
      return Promise.resolve();
    },
  };
}

function splitPaths(paths: Record<string, PathService>, ctx: ListenerContext, authWhere: (path: string) => string) {
  const websocket: WebSocketPathOptions[] = [];
  const infoPaths: string[] = [];
  for (const [path, service] of Object.entries(paths)) {
    const urlPath = normalizePath(path);
    if (service.type === 'nodeinfo') infoPaths.push(urlPath);
    else websocket.push({ path: urlPath, ...websocketOptions(service, ctx, authWhere(path)) });
  }
  return { websocket, infoPaths };
}

function websocketOptions(s: WebSocketServiceOptions, ctx: ListenerContext, where: string): Omit<WebSocketPathOptions, 'path'> {
  return withoutUndefined({
    serializers: s.serializers && serializersOf(s.serializers),
    maxMessageSize: s.maxMessageSize,
    compression: s.compression,
    maxSendBuffer: s.maxSendBuffer,
    allowedOrigins: s.allowedOrigins,
    autoPingInterval: s.autoPingInterval,
    autoPingTimeout: s.autoPingTimeout,
    trustedProxies: s.trustedProxies,
    auth: ctx.auth(s.auth, where),
    logger: ctx.logger,
  });
}

function rawsocketOptions(s: RawSocketServiceOptions, ctx: ListenerContext, where: string): RawSocketOptions {
  return withoutUndefined({
    serializers: s.serializers && serializersOf(s.serializers),
    maxMessageSize: s.maxMessageSize,
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

function portOf(address: BoundAddress): number {
  return 'port' in address ? address.port : 0;
}

