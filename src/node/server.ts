/**
 * A running router node: the Router plus its listening transports.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Router } from '../core/router.ts';
import { enableMetaApi } from '../meta/index.ts';
import type { Logger } from '../core/logger.ts';
import type { HistoryConfig } from '../core/event-store.ts';
import { serializerByName, type SerializerName } from '../serializers/index.ts';
import { WebSocketEndpoint, refuseUpgrade } from '../transports/websocket.ts';

export interface NodeOptions {
  host?: string;
  port?: number;
  /** URL path of the WebSocket endpoint, without the leading slash. */
  path?: string;
  realms?: string[];
  serializers?: SerializerName[];
  maxMessageSize?: number;
  compression?: boolean;
  /** Bytes that may wait in one connection's send buffer before the client is cut off as too slow. */
  maxSendBuffer?: number;
  /** Topics whose last events are kept for wamp.subscription.get_events, on every realm. */
  eventHistory?: HistoryConfig[];
  /** The meta API (wamp.session.*, wamp.registration.*), on by default as in Crossbar. */
  metaApi?: boolean;
  /** Calls that may wait per registration while every callee is at its concurrency limit. */
  callQueueLimit?: number;
  logger?: Logger;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  path: 'ws',
  realms: ['realm1'],
  serializers: ['json', 'msgpack', 'cbor'] as SerializerName[],
  maxMessageSize: 1024 * 1024,
  compression: false,
  maxSendBuffer: 8 * 1024 * 1024,
  metaApi: true,
  callQueueLimit: 0,
};

export interface RunningNode {
  router: Router;
  /** ws://host:port/path */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startNode(options: NodeOptions = {}): Promise<RunningNode> {
  const o = { ...DEFAULTS, ...withoutUndefined(options) };
  const router = new Router({
    realms: o.realms.map((name) => ({ name, eventHistory: o.eventHistory })),
    agent: 'Kreuz',
    callQueueLimit: o.callQueueLimit,
    logger: options.logger,
  });
  if (o.metaApi) enableMetaApi(router);
  const endpoint = new WebSocketEndpoint(router, {
    serializers: o.serializers.map((name) => serializerByName(name)),
    maxMessageSize: o.maxMessageSize,
    compression: o.compression,
    maxSendBuffer: o.maxSendBuffer,
  });

  const server: Server = createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain' }).end('This is a WAMP router: connect with WebSocket.\n');
  });
  server.on('upgrade', (request, socket, head) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== `/${o.path}`) return refuseUpgrade(socket, 404, `No WebSocket endpoint at ${path}`);
    endpoint.handleUpgrade(request, socket, head);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    router,
    port,
    url: `ws://${o.host}:${port}/${o.path}`,
    close: () =>
      new Promise<void>((resolve) => {
        endpoint.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
