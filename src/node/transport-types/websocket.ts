/**
 * Crossbar's standalone "websocket" transport: an HTTP server with one
 * WebSocket endpoint, at the path of its `url`; without `url`, at any path,
 * as Crossbar answers (its URLs are logged with /ws).
 */
import { z } from 'zod';
import {
  auth,
  cookie,
  debugKeys,
  endpoint,
  listening,
  serializers,
  websocketOptions,
  websocketServiceOptions,
} from '../../config/transport-pieces.ts';
import { startWeb } from '../listeners.ts';
import { withoutUndefined, type Listening, type WebSocketServiceOptions } from '../options.ts';
import { transportType } from '../transport-type.ts';

export interface WebSocketTransportOptions extends Listening, WebSocketServiceOptions {
  type: 'websocket';
  /** URL path (default "/ws"). */
  path?: string;
  /** Upgrades at any other path are answered too (default false: 404); what a config transport without `url` gets. */
  anyPath?: boolean;
  /** ms for a request's headers (and TLS handshake) to arrive (default 10 000). */
  handshakeTimeout?: number;
}

export const websocketTransport = transportType({
  schema: z
    .strictObject({
      type: z.literal('websocket'),
      id: z.string().optional(),
      endpoint,
      url: z.string().optional().describe('Public URL; its path is where WAMP is served (without it: any path, as in Crossbar).'),
      serializers: serializers.optional(),
      options: websocketOptions.optional(),
      auth: auth.optional(),
      cookie: cookie.optional(),
      ...debugKeys(['debug', 'debug_traffic', 'debug_ping_pong']),
    })
    .meta({ id: 'WebSocketTransport' }),

  toOptions: (t, baseDir): WebSocketTransportOptions =>
    withoutUndefined({
      type: 'websocket' as const,
      ...listening(t.endpoint, baseDir),
      path: t.url ? urlPathOf(t.url) : undefined,
      anyPath: t.url === undefined ? true : undefined,
      handshakeTimeout: t.options?.open_handshake_timeout,
      ...websocketServiceOptions(t),
    }),

  services: (t) => [{ auth: t.auth, path: ['auth'] }],

  start: ({ type: _type, endpoint, tls, path, handshakeTimeout, anyPath, ...service }, where, ctx) =>
    startWeb(
      ctx,
      { type: 'websocket', endpoint, tls, handshakeTimeout, anyPath, paths: { [path ?? '/ws']: { type: 'websocket', ...service } } },
      () => `${where}.auth`,
    ),
});

/** The path of the transport's public `url` ("/ws" when it has none). */
function urlPathOf(url: string): string {
  try {
    const path = new URL(url).pathname;
    return path === '' ? '/' : path;
  } catch {
    return '/ws';
  }
}
