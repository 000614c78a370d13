/** Crossbar's "universal" transport: RawSocket, WebSocket and HTTP on one TCP port, told apart by their first bytes. */
import { z } from 'zod';
import { normalizeUrlPath } from '../../config/paths.ts';
import { crossbarOnly, urlPath } from '../../config/schema-helpers.ts';
import {
  auth,
  checkPathsOnce,
  checkWebPaths,
  debugKeys,
  MQTT,
  handshakeTimeout,
  listening,
  pathServiceOptions,
  paths,
  rawsocketOptions,
  rawsocketServiceOptions,
  serializers,
  tcpEndpoint,
  webOptions,
  webPathServices,
  websocketService,
} from '../../config/transport-pieces.ts';
import type { TlsOptions } from '../../transports/tls.ts';
import { listenUniversal } from '../../transports/universal.ts';
import { portOf, rawsocketListenerOptions, secureContextSwap, splitPaths } from '../listeners.ts';
import { startWebServices } from '../web-services/index.ts';
import { withoutUndefined, type PathService, type RawSocketServiceOptions } from '../options.ts';
import { transportType } from '../transport-type.ts';

export interface UniversalTransportOptions {
  type: 'universal';
  endpoint: { host?: string; port: number; backlog?: number };
  tls?: TlsOptions;
  /** RawSocket on this port; false or absent: RawSocket clients are dropped. */
  rawsocket?: RawSocketServiceOptions | false;
  /** HTTP paths: WebSocket endpoints, node info and web services. */
  paths: Record<string, PathService>;
  handshakeTimeout?: number;
}

export const universalTransport = transportType({
  schema: z
    .strictObject({
      type: z.literal('universal'),
      id: z.string().optional(),
      endpoint: tcpEndpoint,
      rawsocket: z
        .strictObject({
          serializers: serializers.optional(),
          options: rawsocketOptions.optional(),
          auth: auth.optional(),
          ...debugKeys(['debug']),
        })
        .optional()
        .describe('RawSocket on this port; without it, RawSocket clients are dropped.'),
      websocket: z
        .record(urlPath, websocketService.omit({ type: true }).extend({ type: z.literal('websocket').optional() }))
        .optional()
        .describe('WebSocket endpoints on this port, by URL path.'),
      web: z.strictObject({ paths, options: webOptions.optional() }).optional(),
      ...crossbarOnly(['mqtt'], { mqtt: MQTT }),
    })
    .meta({ id: 'UniversalTransport' }),

  toOptions(t, baseDir): UniversalTransportOptions {
    const { endpoint, tls } = listening(t.endpoint, baseDir);
    const websocket = Object.fromEntries(Object.entries(t.websocket ?? {}).map(([p, s]) => [p, { ...s, type: 'websocket' as const }]));
    const all = { ...websocket, ...(t.web?.paths ?? {}) };
    return withoutUndefined({
      type: 'universal' as const,
      endpoint: endpoint as { host: string; port: number },
      tls,
      rawsocket: t.rawsocket ? rawsocketServiceOptions(t.rawsocket) : false,
      paths: pathServiceOptions(all, baseDir),
      handshakeTimeout: handshakeTimeout(all),
    });
  },

  services: (t) => [
    ...(t.rawsocket ? [{ auth: t.rawsocket.auth, path: ['rawsocket', 'auth'] }] : []),
    ...Object.entries(t.websocket ?? {}).map(([p, service]) => ({ auth: service.auth, path: ['websocket', p, 'auth'] })),
    ...(t.web ? webPathServices(t.web.paths, ['web', 'paths']) : []),
  ],

  check(t, problem, { note, baseDir }) {
    const ws = Object.keys(t.websocket ?? {});
    checkPathsOnce(ws, ['websocket'], problem);
    const web = Object.keys(t.web?.paths ?? {});
    checkPathsOnce(web, ['web', 'paths'], problem);
    checkWebPaths(t.web?.paths ?? {}, ['web', 'paths'], baseDir, problem, note);
    const wsPaths = new Set(ws.map(normalizeUrlPath));
    for (const p of web)
      if (wsPaths.has(normalizeUrlPath(p)))
        problem(['web', 'paths', p], `path ${normalizeUrlPath(p)} is already a websocket path of this transport`);
  },

  async start(t, where, ctx) {
    const { websocket, infoPaths } = splitPaths(t.paths, ctx, (path) => `${where}.paths.${path}.auth`);
    const services = await startWebServices(t.paths, ctx, (path) => `${where}.paths.${path}`);
    const listener = await listenUniversal(ctx.router, {
      host: t.endpoint.host,
      port: t.endpoint.port,
      backlog: t.endpoint.backlog,
      tls: t.tls,
      websocket,
      rawsocket: t.rawsocket ? rawsocketListenerOptions(t.rawsocket, ctx, `${where}.rawsocket.auth`) : false,
      httpHandler: ctx.httpHandler(
        websocket.map((w) => w.path!),
        infoPaths,
        services.mounts,
      ),
      handshakeTimeout: t.handshakeTimeout,
      logger: ctx.logger,
    });
    ctx.metrics?.trackSockets(listener.server, t.type);
    const urls = [...listener.websocketUrls, ...(listener.rawsocketUrl ? [listener.rawsocketUrl] : [])];
    return {
      type: t.type,
      urls,
      port: portOf(listener.address),
      ...secureContextSwap(listener.server, t.tls),
      stopAccepting: () => listener.stopAccepting(),
      close: async () => {
        await services.close();
        await listener.close();
      },
    };
  },
});
