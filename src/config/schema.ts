/**
 * The node configuration: Crossbar.io's config.json shape (version 2) where
 * Kreuz can honour it, plus a Kreuz-only top-level `kreuz` section.
 *
 * Every object is strict: a key Kreuz does not know is an error, and a key or
 * value Crossbar has but Kreuz does not implement is an error that says so
 * ("... is not supported by Kreuz"), never silently ignored.
 *
 * This schema only validates; `toNodeOptions` (to-node-options.ts) maps a
 * valid config to the options `startNode` takes. Keep the two in step, and
 * regenerate schema/kreuz-config.schema.json with `npm run schema`.
 */
import { z } from 'zod';
import { DEFAULT_LIMITS } from '../core/limits.ts';
import { RAWSOCKET_DEFAULTS } from '../transports/rawsocket.ts';
import { DEFAULT_HANDSHAKE_TIMEOUT, WEBSOCKET_DEFAULTS } from '../transports/websocket.ts';
import { isTrustedProxyEntry } from '../transports/trusted-proxies.ts';

// ---- helpers ----

/** A key Crossbar knows and Kreuz does not implement: absent is fine, present is an error naming it. */
function notSupported(key: string, hint?: string) {
  const message = `"${key}" is not supported by Kreuz${hint ? ` (${hint})` : ''}`;
  return z.never({ error: message }).optional().describe(message);
}

function crossbarOnly(keys: readonly string[], hints: Record<string, string> = {}) {
  return Object.fromEntries(keys.map((key) => [key, notSupported(key, hints[key])]));
}

/** One of `values`; a value in `crossbar` is a Crossbar value Kreuz does not support, and is named as such. */
function choice<const T extends readonly [string, ...string[]]>(values: T, crossbar: readonly string[] = [], hint?: string) {
  return z.enum(values, {
    error: (issue) => {
      const got = issue.input;
      if (got === undefined) return 'is required';
      if (typeof got === 'string' && crossbar.includes(got)) return `"${got}" is not supported by Kreuz${hint ? ` (${hint})` : ''}`;
      return `must be one of ${values.map((v) => `"${v}"`).join(', ')}, got ${JSON.stringify(got)}`;
    },
  });
}

type TypedOption = z.ZodObject<{ type: z.ZodLiteral<string> } & z.ZodRawShape>;

/** Objects told apart by their "type" key; Crossbar types Kreuz lacks are named as not supported. */
function byType<const T extends readonly [TypedOption, ...TypedOption[]]>(options: T, crossbar: readonly string[] = []) {
  const known = options.map((o) => [...o.shape.type._zod.def.values][0] as string);
  return z.discriminatedUnion('type', options, {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const type = (issue.input as { type?: unknown } | undefined)?.type;
      if (type === undefined) return `is required (one of ${known.map((k) => `"${k}"`).join(', ')})`;
      if (typeof type === 'string' && crossbar.includes(type)) return `"${type}" is not supported by Kreuz`;
      return `must be one of ${known.map((k) => `"${k}"`).join(', ')}, got ${JSON.stringify(type)}`;
    },
  });
}

const nonEmpty = z.string().min(1);
/** A WAMP URI as Crossbar's loose check has it: dot-separated components without whitespace or "#". */
const uri = z.string().regex(/^[^\s#.]+(\.[^\s#.]+)*$/, { error: 'must be a WAMP URI (dot-separated words without spaces)' });
const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().min(0);
/** Milliseconds. */
const ms = nonNegativeInt;

// ---- realms ----

const matchPolicy = choice(['exact', 'prefix', 'wildcard']);

const permission = z
  .strictObject({
    uri: z.string().describe('URI or pattern; "" with match "prefix" covers everything. Without "match", Crossbar\'s starred URIs apply ("a.b.*" prefix, "a.*.c" wildcard).'),
    match: matchPolicy.optional(),
    allow: z
      .strictObject({
        call: z.boolean().optional(),
        register: z.boolean().optional(),
        publish: z.boolean().optional(),
        subscribe: z.boolean().optional(),
      })
      .optional(),
    disclose: z.strictObject({ caller: z.boolean().optional(), publisher: z.boolean().optional() }).optional(),
    cache: z.boolean().optional(),
    ...crossbarOnly(['validate', 'meta']),
  })
  .meta({ id: 'Permission', description: 'A permission of a role (Crossbar shape).' });

const role = z
  .strictObject({
    name: nonEmpty,
    permissions: z.array(permission).optional(),
    authorizer: uri.optional().describe('A procedure on this realm deciding each action (dynamic authorization).'),
    'allow-by-default': z.boolean().optional(),
  })
  .refine((r) => !(r.permissions && r.authorizer), { error: 'a role has either "permissions" or an "authorizer", not both', path: ['authorizer'] })
  .meta({ id: 'Role', description: 'A realm role (Crossbar shape).' });

const historyEntry = z.strictObject({
  uri,
  match: matchPolicy.optional().describe('Default "exact".'),
  limit: positiveInt.optional().describe('Events kept; default the store\'s "limit".'),
});

const store = z.strictObject({
  type: choice(['memory'], ['cfxdb', 'lmdb']),
  limit: positiveInt.optional().describe('Default event-history limit per entry (default 1000).'),
  'event-history': z.array(historyEntry).optional(),
  ...crossbarOnly(['call-queue', 'maxsize', 'path'], { 'call-queue': 'use kreuz.call_queue_limit, one limit for every registration' }),
}).meta({ id: 'RealmStore' });

const realmOptions = z.strictObject({
  enable_meta_api: z.boolean().optional().describe('The meta API (wamp.session.*, wamp.registration.*, wamp.subscription.*); default true.'),
  uri_check: choice(['loose'], ['strict']).optional(),
  bridge_meta_api: z.literal(false, { error: 'true is not supported by Kreuz (there is no router-to-router link)' }).optional(),
  ...crossbarOnly(['event_dispatching_chunk_size']),
}).meta({ id: 'RealmOptions' });

const realm = z.strictObject({
  name: uri,
  id: z.string().optional(),
  roles: z.array(role).optional().describe('Without roles, every session may do everything (Kreuz default; Crossbar needs roles).'),
  store: store.optional(),
  options: realmOptions.optional(),
}).meta({ id: 'Realm' });

// ---- authentication (Crossbar's transport "auth"; passed on untouched) ----

const principalCommon = {
  role: nonEmpty,
  realm: nonEmpty.optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
};

const dynamicAuth = z.strictObject({
  type: z.literal('dynamic'),
  authenticator: uri.describe('The procedure that authenticates (called with realm, authid, details).'),
  'authenticator-realm': nonEmpty.optional(),
  'authenticator-role': nonEmpty.optional(),
}).meta({ id: 'DynamicAuthenticator' });

function method<T extends TypedOption>(staticShape: T) {
  return byType([staticShape, dynamicAuth], ['function']);
}

const hex = (bytes?: number) =>
  z.string().regex(bytes ? new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`) : /^(?:[0-9a-fA-F]{2})+$/, {
    error: bytes ? `must be ${bytes} bytes as ${bytes * 2} hex digits` : 'must be hex',
  });

const auth = z
  .strictObject({
    anonymous: method(z.strictObject({ type: z.literal('static'), role: nonEmpty.optional().describe('Default "anonymous".') })).optional(),
    ticket: method(
      z.strictObject({
        type: z.literal('static'),
        principals: z.record(z.string(), z.strictObject({ ticket: nonEmpty, ...principalCommon })).optional(),
      }),
    ).optional(),
    wampcra: method(
      z.strictObject({
        type: z.literal('static'),
        users: z
          .record(
            z.string(),
            z.strictObject({
              secret: nonEmpty,
              salt: nonEmpty.optional(),
              iterations: positiveInt.optional(),
              keylen: positiveInt.optional(),
              ...principalCommon,
            }),
          )
          .optional(),
      }),
    ).optional(),
    cryptosign: method(
      z.strictObject({
        type: z.literal('static'),
        principals: z
          .record(z.string(), z.strictObject({ authorized_keys: z.array(hex(32)).min(1), ...principalCommon }))
          .optional(),
        ...crossbarOnly(['trustroots']),
      }),
    ).optional(),
    scram: method(z.strictObject({ type: z.literal('static'), principals: z.record(z.string(), scramPrincipal()).optional() })).optional(),
    'wamp-scram': method(
      z.strictObject({ type: z.literal('static'), principals: z.record(z.string(), scramPrincipal()).optional() }),
    ).optional(),
    ...crossbarOnly(['tls', 'cookie', 'cryptosign-proxy', 'anonymous-proxy']),
  })
  .refine((a) => Object.keys(a).length > 0, { error: 'configures no authentication method' })
  .meta({ id: 'TransportAuth', description: 'Authentication methods offered on this transport (Crossbar shape). Without it: anonymous, role "anonymous".' });

function scramPrincipal() {
  return z.strictObject({
    kdf: choice(['argon2id13', 'argon2id-13', 'argon2id', 'pbkdf2']),
    iterations: positiveInt,
    memory: positiveInt.optional(),
    salt: hex(),
    'stored-key': hex(32),
    'server-key': hex(32),
    ...principalCommon,
  });
}

// ---- transports ----

const serializer = choice(['json', 'msgpack', 'cbor'], ['ubjson', 'flatbuffers']);
const serializers = z.array(serializer).min(1).describe('Default: json, msgpack, cbor.');

const tls = z.strictObject({
  key: nonEmpty.describe('PEM private key: a file (relative to the config file) or the PEM text.'),
  certificate: nonEmpty.describe('PEM certificate: a file (relative to the config file) or the PEM text.'),
  chain_certificates: z.array(nonEmpty).optional().describe('Intermediate certificates, sent after the certificate.'),
  ca_certificates: z.array(nonEmpty).optional(),
  passphrase: nonEmpty.optional().describe('Kreuz: the passphrase of an encrypted key.'),
  ...crossbarOnly(['dhparam', 'ciphers']),
}).meta({ id: 'Tls' });

const tcpEndpoint = z.strictObject({
  type: z.literal('tcp'),
  port: z.number().int().min(0).max(65535).describe('0 picks a free port.'),
  interface: nonEmpty.optional().describe('Default 127.0.0.1 (Crossbar: every interface). "0.0.0.0" or "::" accepts remote clients.'),
  version: z.union([z.literal(4), z.literal(6)]).optional(),
  tls: tls.optional(),
  ...crossbarOnly(['backlog', 'shared', 'user_timeout']),
}).meta({ id: 'TcpEndpoint' });

const unixEndpoint = z.strictObject({
  type: z.literal('unix'),
  path: nonEmpty.describe('Socket file, relative to the config file.'),
}).meta({ id: 'UnixEndpoint' });

const endpoint = byType([tcpEndpoint, unixEndpoint], ['twisted', 'onion']);

const websocketOptions = z.strictObject({
  max_message_size: positiveInt.optional().describe(`Bytes; default ${WEBSOCKET_DEFAULTS.maxMessageSize}. Kreuz has no "0 = unlimited".`),
  auto_ping_interval: ms.optional().describe(`ms between pings; default ${WEBSOCKET_DEFAULTS.autoPingInterval}; 0: off.`),
  auto_ping_timeout: positiveInt.optional().describe(`ms to answer a ping; default ${WEBSOCKET_DEFAULTS.autoPingTimeout}.`),
  compression: z
    .union([z.boolean(), z.strictObject({ deflate: z.strictObject(crossbarOnly(['request_no_context_takeover', 'request_max_window_bits', 'no_context_takeover', 'max_window_bits', 'memory_level'])) })])
    .optional()
    .describe('permessage-deflate; default off.'),
  allowed_origins: z.array(nonEmpty).optional().describe('Browser origins allowed ("*" wildcards); default any.'),
  open_handshake_timeout: positiveInt.optional().describe(`ms for the HTTP request (and TLS handshake); default ${DEFAULT_HANDSHAKE_TIMEOUT}.`),
  require_websocket_subprotocol: z.literal(true, { error: 'false is not supported by Kreuz: a WAMP subprotocol is always required' }).optional(),
  max_send_buffer: positiveInt.optional().describe(`Kreuz: bytes queued for a client before it is cut off as too slow; default ${WEBSOCKET_DEFAULTS.maxSendBuffer}.`),
  trusted_proxies: z
    .array(z.string().refine(isTrustedProxyEntry, { error: 'must be an IP address, a CIDR range (e.g. "10.0.0.0/8") or "unix"' }))
    .optional()
    .describe(
      'Kreuz: reverse proxies / load balancers whose X-Forwarded-For header is believed (IPs, CIDR ranges, "unix" for Unix-socket connections). ' +
        'The client address (shown as the transport peer, and what authentication throttling counts by) is then the right-most X-Forwarded-For hop that is not itself a trusted proxy; ' +
        'from any other address the header is ignored. Default: none.',
    ),
  ...crossbarOnly([
    'auto_ping_size',
    'auto_ping_restart_on_any_traffic',
    'close_handshake_timeout',
    'fail_by_drop',
    'allow_null_origin',
    'enable_webstatus',
    'show_server_version',
    'echo_close_codereason',
    'max_frame_size',
    'utf8validation',
    'tcp_nodelay',
    'trust_x_forwarded_for',
    'external_port',
    'enable_hybi10',
    'enable_rfc6455',
    'apply_mask',
    'mask_server_frames',
    'version',
  ], { trust_x_forwarded_for: 'use "trusted_proxies", a list of the proxies to believe' }),
}).meta({ id: 'WebSocketOptions' });

const rawsocketOptions = z.strictObject({
  max_message_size: z.number().int().min(1024).max(16 * 1024 * 1024).optional().describe(`Bytes, rounded down to a power of two; default ${RAWSOCKET_DEFAULTS.maxMessageSize}.`),
  auto_ping_interval: ms.optional().describe(`Kreuz: ms between RawSocket PINGs; default ${RAWSOCKET_DEFAULTS.autoPingInterval} (0: off; not every client answers them).`),
  auto_ping_timeout: positiveInt.optional().describe(`Kreuz: ms to answer a PING; default ${RAWSOCKET_DEFAULTS.autoPingTimeout}.`),
  max_send_buffer: positiveInt.optional().describe(`Kreuz: default ${RAWSOCKET_DEFAULTS.maxSendBuffer}.`),
  max_connections: nonNegativeInt.optional().describe(`Kreuz: default ${RAWSOCKET_DEFAULTS.maxConnections} (0: no limit).`),
  handshake_timeout: positiveInt.optional().describe(`Kreuz: ms for the 4-byte handshake; default ${RAWSOCKET_DEFAULTS.handshakeTimeout}.`),
}).meta({ id: 'RawSocketOptions' });

const websocketService = z.strictObject({
  type: z.literal('websocket'),
  url: z.string().optional().describe('Public URL; informational.'),
  serializers: serializers.optional(),
  options: websocketOptions.optional(),
  auth: auth.optional(),
  ...crossbarOnly(['cookie', 'debug', 'debug_traffic', 'debug_ping_pong']),
}).meta({ id: 'WebSocketService' });

const nodeinfoService = z.strictObject({ type: z.literal('nodeinfo') }).describe('Kreuz answers JSON: version, uptime, realms, sessions.');

const CROSSBAR_PATH_SERVICES = [
  'static',
  'longpoll',
  'caller',
  'publisher',
  'webhook',
  'json',
  'cgi',
  'wsgi',
  'redirect',
  'reverseproxy',
  'websocket-reverseproxy',
  'path',
  'resource',
  'archive',
  'wap',
  'catalog',
  'none',
  'upload',
  'fileupload',
  'schemadoc',
];

const pathService = byType([websocketService, nodeinfoService], CROSSBAR_PATH_SERVICES);

/** "/" or a URL path below it ("ws", "api/ws"); a leading "/" is allowed. */
const urlPath = z.string().regex(/^(\/|\/?[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*)$/, { error: 'must be "/" or a URL path such as "ws"' });

const paths = z.record(urlPath, pathService).refine((p) => Object.keys(p).length > 0, { error: 'must have at least one path' });

const WEB_OPTIONS = ['access_log', 'display_tracebacks', 'hsts', 'hsts_max_age', 'client_timeout', 'hixie76_aware'];

const websocketTransport = z.strictObject({
  type: z.literal('websocket'),
  id: z.string().optional(),
  endpoint,
  url: z.string().optional().describe('Public URL; its path is where WAMP is served (default "/ws").'),
  serializers: serializers.optional(),
  options: websocketOptions.optional(),
  auth: auth.optional(),
  ...crossbarOnly(['cookie', 'debug', 'debug_traffic', 'debug_ping_pong']),
}).meta({ id: 'WebSocketTransport' });

const rawsocketTransport = z.strictObject({
  type: z.literal('rawsocket'),
  id: z.string().optional(),
  endpoint,
  serializers: serializers.optional(),
  options: rawsocketOptions.optional(),
  auth: auth.optional(),
  ...crossbarOnly(['debug', 'max_message_size'], { max_message_size: 'use options.max_message_size' }),
}).meta({ id: 'RawSocketTransport' });

const webTransport = z.strictObject({
  type: z.literal('web'),
  id: z.string().optional(),
  endpoint,
  paths,
  options: z.strictObject(crossbarOnly(WEB_OPTIONS)).optional(),
}).meta({ id: 'WebTransport' });

const universalTransport = z.strictObject({
  type: z.literal('universal'),
  id: z.string().optional(),
  endpoint: tcpEndpoint,
  rawsocket: z
    .strictObject({ serializers: serializers.optional(), options: rawsocketOptions.optional(), auth: auth.optional(), ...crossbarOnly(['debug']) })
    .optional()
    .describe('RawSocket on this port; without it, RawSocket clients are dropped.'),
  websocket: z
    .record(urlPath, websocketService.omit({ type: true }).extend({ type: z.literal('websocket').optional() }))
    .optional()
    .describe('WebSocket endpoints on this port, by URL path.'),
  web: z.strictObject({ paths, options: z.strictObject(crossbarOnly(WEB_OPTIONS)).optional() }).optional(),
  ...crossbarOnly(['mqtt']),
}).meta({ id: 'UniversalTransport' });

const transport = byType([websocketTransport, rawsocketTransport, webTransport, universalTransport], [
  'mqtt',
  'flashpolicy',
  'websocket.testee',
  'stream.testee',
]);

// ---- workers and the whole file ----

const routerWorker = z.strictObject({
  type: z.literal('router'),
  id: z.string().optional(),
  options: z
    .strictObject({
      title: z.string().optional(),
      ...crossbarOnly(['pythonpath', 'cpu_affinity', 'env', 'reactor', 'expose_controller', 'expose_shared', 'shutdown', 'disabled'], {
        pythonpath: 'there is no Python in Kreuz',
        shutdown: 'use kreuz.shutdown',
      }),
    })
    .optional(),
  realms: z.array(realm).min(1),
  transports: z.array(transport).min(1),
  components: z
    .array(z.unknown())
    .max(0, { error: 'router components are not supported by Kreuz: run them in-process with createRouter(config).session(realm)' })
    .optional(),
  ...crossbarOnly(['connections']),
}).meta({ id: 'RouterWorker' });

const worker = byType([routerWorker], ['container', 'guest', 'proxy', 'websocket-testee', 'xbrmm', 'hub', 'marketmaker']);

const limits = z.strictObject({
  calls_in_flight: positiveInt.optional().describe(`Calls a session may have in flight as caller; default ${DEFAULT_LIMITS.callsInFlight}.`),
  registrations: positiveInt.optional().describe(`Registrations per session; default ${DEFAULT_LIMITS.registrations}.`),
  subscriptions: positiveInt.optional().describe(`Subscriptions per session; default ${DEFAULT_LIMITS.subscriptions}.`),
  message_rate: positiveInt.optional().describe(`Messages per second per session; default ${DEFAULT_LIMITS.messageRate}.`),
  sessions: positiveInt.optional().describe(`Sessions on the whole router; default ${DEFAULT_LIMITS.sessions}.`),
  calls_in_flight_total: positiveInt.optional().describe(`Calls in flight on the whole router; default ${DEFAULT_LIMITS.callsInFlightTotal}.`),
  pending_sessions: positiveInt.optional().describe(`Connections not yet joined (HELLO to WELCOME) on the whole router; default ${DEFAULT_LIMITS.pendingSessions}.`),
  opening_timeout: positiveInt.optional().describe(`ms from connecting to WELCOME (a pending CHALLENGE included); default ${DEFAULT_LIMITS.openingTimeout}.`),
  testaments: positiveInt.optional().describe(`Testaments per session; default ${DEFAULT_LIMITS.testaments}.`),
  testament_bytes: positiveInt.optional().describe(`Bytes of testaments per session; default ${DEFAULT_LIMITS.testamentBytes}.`),
  retained_events: positiveInt.optional().describe(`Retained events per realm; default ${DEFAULT_LIMITS.retainedEvents}.`),
  retained_bytes: positiveInt.optional().describe(`Bytes of retained events per realm; default ${DEFAULT_LIMITS.retainedBytes}.`),
  retained_events_per_session: positiveInt.optional().describe(`Retained events one publishing session may store; default ${DEFAULT_LIMITS.retainedEventsPerSession}.`),
  retained_bytes_per_session: positiveInt.optional().describe(`Bytes of retained events one publishing session may store; default ${DEFAULT_LIMITS.retainedBytesPerSession}.`),
  max_depth: positiveInt.optional().describe(`Nesting depth of a decoded message; default ${DEFAULT_LIMITS.maxDepth}.`),
});

export const LOG_LEVELS = ['none', 'critical', 'error', 'warn', 'info', 'debug', 'trace', 'fatal', 'silent'] as const;

const kreuz = z
  .strictObject({
    metrics: z
      .strictObject({
        enabled: z.boolean().optional().describe('Default false.'),
        path: urlPath.optional().describe('Default "/metrics".'),
        max_procedures: positiveInt.optional().describe('Distinct procedure labels before "other"; default 100.'),
      })
      .optional()
      .describe('Prometheus metrics on every HTTP-speaking transport (websocket, web, universal).'),
    info: z
      .strictObject({ enabled: z.boolean().optional().describe('Default false.'), path: urlPath.optional().describe('Default "/info".') })
      .optional()
      .describe('Health JSON on every HTTP-speaking transport (a web path of type "nodeinfo" serves it too).'),
    shutdown: z.strictObject({ timeout: ms.optional().describe('ms in-flight calls may take to finish on SIGTERM; default 10000.') }).optional(),
    log: z
      .strictObject({
        level: choice(LOG_LEVELS).optional().describe('Default "info". Crossbar names: critical = fatal, none = silent.'),
        format: choice(['text', 'json']).optional().describe('Default "text".'),
      })
      .optional(),
    auth_secret: z
      .string()
      .min(16, { error: 'must be at least 16 characters' })
      .optional()
      .describe(
        'Secret (use ${VAR}) from which challenges for unknown principals are derived, so they look like real ones across restarts; default: random per process.',
      ),
    call_queue_limit: nonNegativeInt.optional().describe('Calls that may wait per registration when every callee is at its concurrency; default 0.'),
    limits: limits.optional(),
  })
  .describe('Kreuz-only settings.');

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(2, { error: 'must be 2 (Crossbar config version 2)' }).optional(),
    controller: z.strictObject(crossbarOnly(['id', 'options', 'extra', 'manhole', 'connections', 'fabric', 'enable_docker'])).optional(),
    workers: z.array(worker).min(1).max(1, { error: 'Kreuz runs one router worker per node' }),
    kreuz: kreuz.optional(),
  })
  .describe('Kreuz node configuration (Crossbar.io config.json shape, version 2).');

export type KreuzConfig = z.infer<typeof configSchema>;
export type RouterWorkerConfig = z.infer<typeof routerWorker>;
export type RealmConfigEntry = z.infer<typeof realm>;
export type TransportConfig = z.infer<typeof transport>;
export type EndpointConfig = z.infer<typeof endpoint>;
export type TcpEndpointConfig = z.infer<typeof tcpEndpoint>;
export type TlsConfig = z.infer<typeof tls>;
export type AuthConfig = z.infer<typeof auth>;
export type RoleConfigEntry = z.infer<typeof role>;
export type WebSocketOptionsConfig = z.infer<typeof websocketOptions>;
export type RawSocketOptionsConfig = z.infer<typeof rawsocketOptions>;
export type PathServiceConfig = z.infer<typeof pathService>;
export type WebSocketServiceConfig = z.infer<typeof websocketService>;
