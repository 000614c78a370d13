/**
 * What `startNode` takes. Two ways to describe a node:
 * - the short form (host, port, path, serializers, ...): one WebSocket
 *   endpoint, as `kreuz start --host --port --realm` and most tests use it;
 * - `transports`: any number of listeners, as a config file describes them
 *   (src/config/to-node-options.ts maps a config to this).
 * Realms, limits, metrics and shutdown apply to both.
 */
import type { RoleConfig } from '../authz/roles.ts';
import type { ClusterOptions } from '../cluster/options.ts';
import type { HistoryConfig } from '../core/event-store.ts';
import type { Limits } from '../core/limits.ts';
import type { Logger } from '../core/logger.ts';
import type { SerializerName } from '../serializers/index.ts';
import type { ListenAddress } from '../transports/listen.ts';
import type { TlsOptions } from '../transports/tls.ts';
import type { DeflateOptions } from '../transports/websocket.ts';
import type { TransportOptions } from './transport-types/index.ts';
import type { WebServiceOptions } from './web-services/index.ts';

/**
 * Crossbar's transport `auth` dict, as in the config file, e.g.
 * `{ticket: {type: 'static', principals: {joe: {ticket: '...', role: 'frontend'}}}}`.
 */
export type AuthConfig = Record<string, unknown>;

export interface RealmOptions {
  name: string;
  /** Crossbar-shaped roles; none: every session may do everything. */
  roles?: RoleConfig[];
  /** Topics whose last events are kept for wamp.subscription.get_events. */
  eventHistory?: HistoryConfig[];
  /** The meta API on this realm (default true). */
  metaApi?: boolean;
}

export interface WebSocketServiceOptions {
  serializers?: SerializerName[];
  maxMessageSize?: number;
  /** permessage-deflate: true, or its parameters. */
  compression?: boolean | DeflateOptions;
  maxSendBuffer?: number;
  allowedOrigins?: string[];
  /** Origin "null": true accepts it, false refuses it; default like any other origin. */
  allowNullOrigin?: boolean;
  autoPingInterval?: number;
  autoPingTimeout?: number;
  /** Bytes of random payload in each ping (12-125). */
  autoPingSize?: number;
  /** false: only a pong answers a ping (default: any message does). */
  autoPingRestartOnAnyTraffic?: boolean;
  /** Bytes per frame of messages sent (0: one frame per message). */
  autoFragmentSize?: number;
  /** ms a closing handshake may take before the connection is dropped. */
  closeHandshakeTimeout?: number;
  /** true: a client that breaks the protocol is dropped without a closing handshake. */
  failByDrop?: boolean;
  /** false: a client naming no subprotocol speaks wamp.2.json (default: refused). */
  requireSubprotocol?: boolean;
  /** Sec-WebSocket-Version values accepted (default 8 and 13). */
  versions?: Array<8 | 13>;
  tcpNoDelay?: boolean;
  /** Reverse proxies (IPs, CIDR ranges, "unix") whose X-Forwarded-For names the client; default none. */
  trustedProxies?: string[];
  /** Authentication offered here (Crossbar shape); none: anonymous with role "anonymous". */
  auth?: AuthConfig;
}

export interface RawSocketServiceOptions {
  serializers?: SerializerName[];
  maxMessageSize?: number;
  maxSendBuffer?: number;
  autoPingInterval?: number;
  autoPingTimeout?: number;
  maxConnections?: number;
  handshakeTimeout?: number;
  auth?: AuthConfig;
}

/** A web path: a WebSocket endpoint, the node info JSON, or a web service (static files, JSON, a redirect, an archive). */
export type PathService = ({ type: 'websocket' } & WebSocketServiceOptions) | { type: 'nodeinfo' } | WebServiceOptions;

/** Where a listener binds, and its TLS (none: plain TCP). */
export interface Listening {
  endpoint: ListenAddress;
  tls?: TlsOptions;
}

/** A listener as `startNode` takes it: one of the transport types (each with its options type in transport-types/). */
export type { TransportOptions } from './transport-types/index.ts';

export interface MetricsOptions {
  /** URL path on every HTTP-speaking transport (default "/metrics"). */
  path?: string;
  /** Distinct procedure labels before further ones count as "other" (default 100). */
  maxProcedures?: number;
}

export interface NodeOptions {
  // ---- the short form: one WebSocket endpoint (ignored when `transports` is given) ----
  host?: string;
  port?: number;
  /** URL path of the WebSocket endpoint, without the leading slash. */
  path?: string;
  serializers?: SerializerName[];
  maxMessageSize?: number;
  compression?: boolean;
  /** Bytes that may wait in one connection's send buffer before the client is cut off as too slow. */
  maxSendBuffer?: number;

  /** Listeners; when given, the short-form fields above are not used. */
  transports?: TransportOptions[];

  /** Realm names, or realms with roles and event history (default ["realm1"]). */
  realms?: Array<string | RealmOptions>;
  /** Topics whose last events are kept for wamp.subscription.get_events, on every realm. */
  eventHistory?: HistoryConfig[];
  /** The meta API (wamp.session.*, wamp.registration.*), on by default as in Crossbar. */
  metaApi?: boolean;
  /** Calls that may wait per registration while every callee is at its concurrency limit. */
  callQueueLimit?: number;
  /**
   * What challenges for unknown principals (WAMP-CRA salts, SCRAM parameters)
   * are derived from, so they stay the same across restarts like real ones do.
   * Default: random per process. Never logged.
   */
  authSecret?: string;
  /** Per-session and per-router limits; each one not given keeps its default. */
  limits?: Partial<Limits>;
  logger?: Logger;
  /** Prometheus metrics at /metrics on every HTTP-speaking transport (default off). */
  metrics?: boolean | MetricsOptions;
  /** Health JSON at /info on every HTTP-speaking transport (default off; a "nodeinfo" path serves it too). */
  info?: boolean | { path?: string };
  /** ms in-flight calls may take to finish on shutdown (default 10 000). */
  shutdownTimeout?: number;
  /** Join a cluster of nodes (a config file's `kreuz.cluster`); none: this node runs alone. */
  cluster?: ClusterOptions;
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
  shutdownTimeout: 10_000,
  metricsPath: '/metrics',
  infoPath: '/info',
  maxProcedures: 100,
};

/** The object without its undefined fields, so that defaults spread under it apply. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
