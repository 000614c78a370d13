/**
 * A validated config as the options `startNode` takes: Crossbar's
 * snake_case settings become the transports' own, relative file paths are
 * resolved against the config's directory, and roles and `auth` blocks are
 * passed on exactly as written.
 */
import type { Limits } from '../core/limits.ts';
import {
  withoutUndefined,
  type NodeOptions,
  type PathService,
  type RawSocketServiceOptions,
  type RealmOptions,
  type TransportOptions,
  type WebSocketServiceOptions,
} from '../node/options.ts';
import type { ListenAddress } from '../transports/listen.ts';
import { pem, type TlsOptions } from '../transports/tls.ts';
import type { ValidatedConfig } from './load.ts';
import { isPem, normalizeUrlPath, resolveFile } from './paths.ts';
import type {
  EndpointConfig,
  KreuzConfig,
  PathServiceConfig,
  RawSocketOptionsConfig,
  RealmConfigEntry,
  TlsConfig,
  TransportConfig,
  WebSocketOptionsConfig,
} from './schema.ts';

/** Default event-history limit when neither the entry nor the store sets one. */
export const DEFAULT_HISTORY_LIMIT = 1000;

export function toNodeOptions({ config, baseDir }: Pick<ValidatedConfig, 'config' | 'baseDir'>): NodeOptions {
  const worker = config.workers[0];
  const k = config.kreuz ?? {};
  const options: NodeOptions = {
    realms: worker.realms.map(realmOptions),
    transports: worker.transports.map((t) => transportOptions(t, baseDir)),
    metrics: k.metrics?.enabled === true ? withoutUndefined({ path: k.metrics.path && normalizeUrlPath(k.metrics.path), maxProcedures: k.metrics.max_procedures }) : false,
    info: k.info?.enabled === true ? withoutUndefined({ path: k.info.path && normalizeUrlPath(k.info.path) }) : false,
  };
  if (k.shutdown?.timeout !== undefined) options.shutdownTimeout = k.shutdown.timeout;
  if (k.call_queue_limit !== undefined) options.callQueueLimit = k.call_queue_limit;
  if (k.auth_secret !== undefined) options.authSecret = k.auth_secret;
  if (k.limits) options.limits = limits(k.limits);
  return options;
}

function realmOptions(realm: RealmConfigEntry): RealmOptions {
  const out: RealmOptions = { name: realm.name, metaApi: realm.options?.enable_meta_api ?? true };
  if (realm.roles) out.roles = realm.roles;
  const history = realm.store?.['event-history'];
  if (history) {
    const fallback = realm.store?.limit ?? DEFAULT_HISTORY_LIMIT;
    out.eventHistory = history.map((h) => ({ uri: h.uri, match: h.match ?? 'exact', limit: h.limit ?? fallback }));
  }
  return out;
}

function transportOptions(t: TransportConfig, baseDir: string): TransportOptions {
  const { tls, endpoint } = listening(t.endpoint, baseDir);
  switch (t.type) {
    case 'websocket': {
      return withoutUndefined({
        type: 'websocket' as const,
        endpoint,
        tls,
        path: t.url ? urlPathOf(t.url) : undefined,
        handshakeTimeout: t.options?.open_handshake_timeout,
        ...websocketService(t),
      });
    }
    case 'rawsocket': {
      return withoutUndefined({ type: 'rawsocket' as const, endpoint, tls, ...rawsocketService(t) });
    }
    case 'web': {
      return withoutUndefined({ type: 'web' as const, endpoint, tls, paths: pathServices(t.paths), handshakeTimeout: handshakeTimeout(t.paths) });
    }
    case 'universal': {
      const websocket = Object.fromEntries(Object.entries(t.websocket ?? {}).map(([p, s]) => [p, { ...s, type: 'websocket' as const }]));
      const all = { ...websocket, ...(t.web?.paths ?? {}) };
      return withoutUndefined({
        type: 'universal' as const,
        endpoint: endpoint as { host: string; port: number },
        tls,
        rawsocket: t.rawsocket ? rawsocketService(t.rawsocket) : false,
        paths: pathServices(all),
        handshakeTimeout: handshakeTimeout(all),
      });
    }
  }
}

function listening(endpoint: EndpointConfig, baseDir: string): { endpoint: ListenAddress; tls?: TlsOptions } {
  if (endpoint.type === 'unix') return { endpoint: { path: resolveFile(baseDir, endpoint.path) } };
  const host = endpoint.interface ?? (endpoint.version === 6 ? '::1' : '127.0.0.1');
  return { endpoint: { host, port: endpoint.port }, tls: endpoint.tls && tlsOptions(endpoint.tls, baseDir) };
}

/** TLS files are read here, once, at startup; a chain is sent after the certificate. */
function tlsOptions(tls: TlsConfig, baseDir: string): TlsOptions {
  const read = (value: string) => (isPem(value) ? value : pem(resolveFile(baseDir, value)));
  const cert = [tls.certificate, ...(tls.chain_certificates ?? [])].map(read).join('\n');
  const out: TlsOptions = { cert, key: read(tls.key) };
  if (tls.ca_certificates?.length) out.ca = tls.ca_certificates.map(read).join('\n');
  if (tls.passphrase !== undefined) out.passphrase = tls.passphrase;
  return out;
}

function websocketService(s: { serializers?: string[]; options?: WebSocketOptionsConfig; auth?: object }): WebSocketServiceOptions {
  const o = s.options ?? {};
  return withoutUndefined({
    serializers: s.serializers as WebSocketServiceOptions['serializers'],
    maxMessageSize: o.max_message_size,
    compression: o.compression === undefined ? undefined : o.compression !== false,
    maxSendBuffer: o.max_send_buffer,
    allowedOrigins: o.allowed_origins,
    autoPingInterval: o.auto_ping_interval,
    autoPingTimeout: o.auto_ping_timeout,
    trustedProxies: o.trusted_proxies,
    auth: s.auth as WebSocketServiceOptions['auth'],
  });
}

function rawsocketService(s: { serializers?: string[]; options?: RawSocketOptionsConfig; auth?: object }): RawSocketServiceOptions {
  const o = s.options ?? {};
  return withoutUndefined({
    serializers: s.serializers as RawSocketServiceOptions['serializers'],
    maxMessageSize: o.max_message_size,
    maxSendBuffer: o.max_send_buffer,
    autoPingInterval: o.auto_ping_interval,
    autoPingTimeout: o.auto_ping_timeout,
    maxConnections: o.max_connections,
    handshakeTimeout: o.handshake_timeout,
    auth: s.auth as RawSocketServiceOptions['auth'],
  });
}

function pathServices(paths: Record<string, PathServiceConfig | ({ type: 'websocket' } & Omit<Extract<PathServiceConfig, { type: 'websocket' }>, 'type'>)>): Record<string, PathService> {
  return Object.fromEntries(
    Object.entries(paths).map(([path, s]): [string, PathService] => [
      normalizeUrlPath(path),
      s.type === 'websocket' ? { type: 'websocket', ...websocketService(s) } : { type: 'nodeinfo' },
    ]),
  );
}

/** One HTTP server has one handshake timeout: the longest its WebSocket paths ask for. */
function handshakeTimeout(paths: Record<string, PathServiceConfig | { type: 'websocket'; options?: WebSocketOptionsConfig }>): number | undefined {
  const values = Object.values(paths).flatMap((s) => (s.type === 'websocket' && s.options?.open_handshake_timeout !== undefined ? [s.options.open_handshake_timeout] : []));
  return values.length ? Math.max(...values) : undefined;
}

/** The path of a standalone WebSocket transport's public `url` ("/ws" when it has none). */
function urlPathOf(url: string): string {
  try {
    const path = new URL(url).pathname;
    return path === '' ? '/' : path;
  } catch {
    return '/ws';
  }
}

function limits(l: NonNullable<NonNullable<KreuzConfig['kreuz']>['limits']>): Partial<Limits> {
  return withoutUndefined({
    callsInFlight: l.calls_in_flight,
    registrations: l.registrations,
    subscriptions: l.subscriptions,
    messageRate: l.message_rate,
    sessions: l.sessions,
    callsInFlightTotal: l.calls_in_flight_total,
    pendingSessions: l.pending_sessions,
    openingTimeout: l.opening_timeout,
    testaments: l.testaments,
    testamentBytes: l.testament_bytes,
    retainedEvents: l.retained_events,
    retainedBytes: l.retained_bytes,
    retainedEventsPerSession: l.retained_events_per_session,
    retainedBytesPerSession: l.retained_bytes_per_session,
    maxDepth: l.max_depth,
  });
}

