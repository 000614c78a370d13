/**
 * The config pieces transport types share (src/node/transport-types/): how
 * serializers, endpoints, TLS, WebSocket and RawSocket services and web
 * paths are written in the config file, and what each becomes in the
 * options `startNode` takes (relative files resolved against the config's
 * directory, Crossbar's snake_case settings as the transports' own).
 */
import { z } from 'zod';
import { transportAuthSchema } from '../auth/transport-auth.ts';
import { withoutUndefined, type PathService, type RawSocketServiceOptions, type WebSocketServiceOptions } from '../node/options.ts';
import { WEB_SERVICE_SCHEMAS, checkWebService, isWebService, webServiceOptions } from '../node/web-services/index.ts';
import type { ListenAddress } from '../transports/listen.ts';
import { RAWSOCKET_DEFAULTS } from '../transports/rawsocket.ts';
import { pem, type TlsOptions } from '../transports/tls.ts';
import { isTrustedProxyEntry } from '../transports/trusted-proxies.ts';
import { DEFAULT_HANDSHAKE_TIMEOUT, WEBSOCKET_DEFAULTS, originMatcher, type DeflateOptions } from '../transports/websocket.ts';
import type { SerializerName } from '../serializers/index.ts';
import { isPem, normalizeUrlPath, resolveFile } from './paths.ts';
import { accepted, byType, crossbarOnly, ms, nonEmpty, nonNegativeInt, notSupported, positiveInt, urlPath } from './schema-helpers.ts';

/** Each authentication method's piece comes from its own module in src/auth (the table: src/auth/transport-auth.ts). */
export const auth = transportAuthSchema;

// ---- schema pieces ----

/** Serializers Crossbar offers and Kreuz does not: accepted in a list beside one Kreuz has, left out of what is offered. */
const CROSSBAR_SERIALIZERS = ['ubjson', 'flatbuffers'] as const;
const KREUZ_SERIALIZERS = ['json', 'msgpack', 'cbor'] as const;
export const serializer = z.enum([...KREUZ_SERIALIZERS, ...CROSSBAR_SERIALIZERS], {
  error: (issue) =>
    issue.input === undefined
      ? 'is required'
      : `must be one of "json", "msgpack", "cbor" (Crossbar's "ubjson" and "flatbuffers" are accepted beside them), got ${JSON.stringify(issue.input)}`,
});
export const serializers = accepted(
  z
    .array(serializer)
    .min(1)
    .refine((list) => list.some((s) => (KREUZ_SERIALIZERS as readonly string[]).includes(s)), {
      error: 'names only serializers Kreuz does not have (ubjson, flatbuffers): add json, msgpack or cbor',
    }),
  (list: string[]) => {
    const missing = list.filter((s) => !(KREUZ_SERIALIZERS as readonly string[]).includes(s));
    return missing.length
      ? `Kreuz has no ${missing.join(' or ')}: not offered here, so a client that speaks only ${missing.length > 1 ? 'those' : 'it'} cannot connect; the others are offered`
      : undefined;
  },
  'Default: json, msgpack, cbor. ubjson and flatbuffers are accepted beside them and left out (Kreuz has neither).',
);

/** The serializers Kreuz offers of a config's list. */
export function offeredSerializers(list: readonly string[] | undefined): SerializerName[] | undefined {
  return list?.filter((s): s is SerializerName => (KREUZ_SERIALIZERS as readonly string[]).includes(s));
}

export const tls = z
  .strictObject({
    key: nonEmpty.describe('PEM private key: a file (relative to the config file) or the PEM text.'),
    certificate: nonEmpty.describe('PEM certificate: a file (relative to the config file) or the PEM text.'),
    chain_certificates: z.array(nonEmpty).optional().describe('Intermediate certificates, sent after the certificate.'),
    ca_certificates: z.array(nonEmpty).optional(),
    passphrase: nonEmpty.optional().describe('Kreuz: the passphrase of an encrypted key.'),
    dhparam: nonEmpty
      .optional()
      .describe('PEM Diffie-Hellman parameters (a file, relative to the config file, or the PEM text), for DHE cipher suites.'),
    ciphers: nonEmpty
      .optional()
      .describe(
        'OpenSSL cipher list for TLS 1.2 and older (e.g. "ECDHE-RSA-AES128-GCM-SHA256:..."); TLS 1.3 suites stay OpenSSL\'s unless the list names TLS_* suites. Default: Node\'s.',
      ),
  })
  .meta({ id: 'Tls' });

const backlog = z
  .number()
  .int()
  .min(1)
  .max(65535)
  .describe("Connections the OS queues before they are accepted (listen's backlog); default Node's 511.");

export const tcpEndpoint = z
  .strictObject({
    type: z.literal('tcp'),
    port: z.number().int().min(0).max(65535).describe('0 picks a free port.'),
    interface: nonEmpty.optional().describe('Default 127.0.0.1 (Crossbar: every interface). "0.0.0.0" or "::" accepts remote clients.'),
    version: z.union([z.literal(4), z.literal(6)]).optional(),
    tls: tls.optional(),
    backlog: backlog.optional(),
    shared: accepted(z.boolean(), (on: boolean) =>
      on
        ? 'Kreuz runs one router worker, so there is no other worker to share the port with; to spread load, run several Kreuz nodes (kreuz.cluster) behind a load balancer'
        : undefined,
    ).optional(),
    user_timeout: accepted(
      z.number().int().min(0).max(65535),
      "Node cannot set TCP_USER_TIMEOUT; Kreuz finds dead peers with the transport's auto_ping_interval and auto_ping_timeout",
    ).optional(),
    ...crossbarOnly(['portrange'], { portrange: 'use "port" (one port; 0 picks a free one)' }),
  })
  .meta({ id: 'TcpEndpoint' });

export const unixEndpoint = z
  .strictObject({
    type: z.literal('unix'),
    path: nonEmpty.describe('Socket file, relative to the config file; its directory must exist.'),
    backlog: backlog.optional(),
  })
  .meta({ id: 'UnixEndpoint' });

export const endpoint = byType([tcpEndpoint, unixEndpoint], {
  twisted: 'Kreuz listens on "tcp" or "unix" endpoints; a Twisted endpoint string has no counterpart',
  onion: 'Kreuz cannot publish a Tor onion service: listen on "tcp" and point a Tor HiddenServicePort at it',
});

const windowBits = z.number().int().min(8).max(15);

/** Crossbar's permessage-deflate parameters, as ws's perMessageDeflate options (websocketServiceOptions). */
const deflate = z
  .strictObject({
    request_no_context_takeover: z
      .boolean()
      .optional()
      .describe('Ask the client not to keep its compression context between messages; default false.'),
    request_max_window_bits: z
      .union([z.literal(0), windowBits])
      .optional()
      .describe(
        "The client's largest compression window, 8-15 bits (only clients that offer to limit it are accepted); default 0: no request.",
      ),
    no_context_takeover: z.boolean().optional().describe('Do not keep the compression context between messages sent; default false.'),
    max_window_bits: windowBits.optional().describe('Largest compression window of messages sent, 8-15 bits; default 15.'),
    memory_level: z.number().int().min(1).max(9).optional().describe("zlib's memory level for messages sent, 1-9; default 8."),
  })
  .meta({ id: 'Deflate' });

const onOnly = (text: string) => (on: boolean) => (on ? text : undefined);
const offOnly = (text: string) => (on: boolean) => (on ? undefined : text);

export const websocketOptions = accepted(
  z.strictObject({
    max_message_size: positiveInt.optional().describe(`Bytes; default ${WEBSOCKET_DEFAULTS.maxMessageSize}. Kreuz has no "0 = unlimited".`),
    max_frame_size: accepted(nonNegativeInt, (n: number) =>
      n > 0
        ? 'ws has no limit per frame: every frame counts towards max_message_size, which bounds what one client can make Kreuz hold'
        : undefined,
    ).optional(),
    auto_fragment_size: nonNegativeInt
      .optional()
      .describe('Bytes: a message to a client is sent in frames of at most this size; default 0 (each message in one frame).'),
    auto_ping_interval: ms.optional().describe(`ms between pings; default ${WEBSOCKET_DEFAULTS.autoPingInterval}; 0: off.`),
    auto_ping_timeout: positiveInt.optional().describe(`ms to answer a ping; default ${WEBSOCKET_DEFAULTS.autoPingTimeout}.`),
    auto_ping_size: z.number().int().min(12).max(125).optional().describe('Bytes of random payload in each ping, 12-125; default none.'),
    auto_ping_restart_on_any_traffic: z
      .boolean()
      .optional()
      .describe('Default true: any message from the client answers a ping as a pong does; false: only a pong does.'),
    compression: z
      .union([z.boolean(), z.strictObject({ deflate })])
      .optional()
      .describe('permessage-deflate: true, or {"deflate": {...}} with its parameters; default off.'),
    allowed_origins: z.array(nonEmpty).optional().describe('Browser origins allowed ("*" wildcards); default any.'),
    allow_null_origin: z
      .boolean()
      .optional()
      .describe(
        'Origin "null" (sandboxed pages, file: URLs): true accepts it, false refuses it; default: like any other origin (accepted without allowed_origins, else only where a pattern matches it).',
      ),
    open_handshake_timeout: positiveInt
      .optional()
      .describe(`ms for the HTTP request (and TLS handshake); default ${DEFAULT_HANDSHAKE_TIMEOUT}.`),
    close_handshake_timeout: ms
      .optional()
      .describe(
        `ms a closing handshake may take before the connection is dropped; default (and 0) ${WEBSOCKET_DEFAULTS.closeHandshakeTimeout}.`,
      ),
    fail_by_drop: z
      .boolean()
      .optional()
      .describe('true: a client that breaks the protocol is dropped without a closing handshake; default false.'),
    require_websocket_subprotocol: z
      .boolean()
      .optional()
      .describe('Default true; false: a client that names no subprotocol is taken to speak wamp.2.json.'),
    enable_hybi10: z.boolean().optional().describe('Sec-WebSocket-Version 8 (a draft of RFC 6455); default true.'),
    enable_rfc6455: z.boolean().optional().describe('Sec-WebSocket-Version 13 (RFC 6455, every current client); default true.'),
    tcp_nodelay: z.boolean().optional().describe("Default true: no Nagle delay on the client's TCP connection."),
    max_send_buffer: positiveInt
      .optional()
      .describe(`Kreuz: bytes queued for a client before it is cut off as too slow; default ${WEBSOCKET_DEFAULTS.maxSendBuffer}.`),
    trusted_proxies: z
      .array(z.string().refine(isTrustedProxyEntry, { error: 'must be an IP address, a CIDR range (e.g. "10.0.0.0/8") or "unix"' }))
      .optional()
      .describe(
        'Kreuz: reverse proxies / load balancers whose X-Forwarded-For header is believed (IPs, CIDR ranges, "unix" for Unix-socket connections). ' +
          'The client address (shown as the transport peer, and what authentication throttling counts by) is then the right-most X-Forwarded-For hop that is not itself a trusted proxy; ' +
          'from any other address the header is ignored. Default: none.',
      ),
    enable_webstatus: accepted(
      z.boolean(),
      onOnly(
        'Kreuz renders no status page: a plain HTTP request to a WebSocket path gets 426 and one line of text (kreuz.info serves health JSON)',
      ),
    ).optional(),
    show_server_version: accepted(z.boolean(), onOnly('Kreuz sends no Server header')).optional(),
    echo_close_codereason: accepted(z.boolean(), offOnly("ws answers a client's close frame with that frame's code and reason")).optional(),
    validate_utf8: accepted(z.boolean(), offOnly('Kreuz always checks that text messages are UTF-8')).optional(),
    require_masked_client_frames: accepted(
      z.boolean(),
      offOnly('ws refuses unmasked client frames, as RFC 6455 requires of every client'),
    ).optional(),
    apply_mask: accepted(z.boolean(), offOnly('ws always applies the masks of client frames')).optional(),
    external_port: accepted(
      z.number().int().min(1).max(65535),
      'Kreuz builds no URLs and compares no Host port: allowed_origins patterns name the ports they allow',
    ).optional(),
    enable_flash_policy: accepted(z.boolean(), onOnly('Kreuz serves no Flash socket policy (no browser runs Flash any more)')).optional(),
    flash_policy: accepted(z.unknown(), 'Kreuz serves no Flash socket policy (no browser runs Flash any more)').optional(),
    mask_server_frames: z
      .literal(false, { error: 'true is not supported by Kreuz: a server sends unmasked frames, as RFC 6455 requires (remove the key)' })
      .optional(),
    trust_x_forwarded_for: notSupported('trust_x_forwarded_for', 'use "trusted_proxies", a list of the proxies to believe'),
  }),
  (o: { allowed_origins?: string[]; allow_null_origin?: boolean }) =>
    o.allowed_origins !== undefined && o.allow_null_origin === undefined && !originMatcher(o.allowed_origins)('null')
      ? 'Origin "null" (sandboxed pages, file: URLs) is refused here, as no allowed_origins pattern matches it; Crossbar accepts it unless allow_null_origin is false: set allow_null_origin: true to accept it'
      : undefined,
  'WebSocket options (Crossbar shape).',
  'WebSocketOptions',
);

export const rawsocketOptions = z
  .strictObject({
    max_message_size: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .optional()
      .describe(`Bytes, rounded down to a power of two; default ${RAWSOCKET_DEFAULTS.maxMessageSize}.`),
    auto_ping_interval: ms
      .optional()
      .describe(
        `Kreuz: ms between RawSocket PINGs; default ${RAWSOCKET_DEFAULTS.autoPingInterval} (0: off; not every client answers them).`,
      ),
    auto_ping_timeout: positiveInt.optional().describe(`Kreuz: ms to answer a PING; default ${RAWSOCKET_DEFAULTS.autoPingTimeout}.`),
    max_send_buffer: positiveInt.optional().describe(`Kreuz: default ${RAWSOCKET_DEFAULTS.maxSendBuffer}.`),
    max_connections: nonNegativeInt.optional().describe(`Kreuz: default ${RAWSOCKET_DEFAULTS.maxConnections} (0: no limit).`),
    handshake_timeout: positiveInt
      .optional()
      .describe(`Kreuz: ms for the 4-byte handshake; default ${RAWSOCKET_DEFAULTS.handshakeTimeout}.`),
  })
  .meta({ id: 'RawSocketOptions' });

export const MQTT =
  'Kreuz has no MQTT bridge: connect MQTT devices to an MQTT broker and bridge it with a WAMP component, or speak WAMP from the device';

/** Crossbar transport types Kreuz lacks, with what to do instead. */
export const CROSSBAR_TRANSPORT_TYPES = {
  mqtt: MQTT,
  flashpolicy: 'Kreuz serves no Flash socket policy (no browser runs Flash any more): remove the transport',
  'websocket.testee': 'Kreuz has no WebSocket testee: run the Autobahn testsuite against a testee of its own',
  'stream.testee': 'Kreuz has no stream testee: remove the transport',
};

const DEBUG = 'Kreuz has no per-transport debug output: run it with --loglevel debug (or kreuz.log.level)';

/** Crossbar's debug switches of a transport or service: accepted, with where Kreuz's debug output is. */
export const debugKeys = (keys: readonly string[]) =>
  Object.fromEntries(keys.map((key) => [key, accepted(z.boolean(), (on: boolean) => (on ? DEBUG : undefined)).optional()]));

/** Crossbar's WebSocket `cookie` tracking: Kreuz has no cookie authentication, which is all it serves. */
export const cookie = accepted(
  z.record(z.string(), z.unknown()),
  'Kreuz sets no tracking cookie (cbtid): nothing else depends on it, and cookie authentication is not supported by Kreuz',
);

export const websocketService = z
  .strictObject({
    type: z.literal('websocket'),
    url: z.string().optional().describe('Public URL; informational.'),
    serializers: serializers.optional(),
    options: websocketOptions.optional(),
    auth: auth.optional(),
    cookie: cookie.optional(),
    ...debugKeys(['debug', 'debug_traffic', 'debug_ping_pong']),
  })
  .meta({ id: 'WebSocketService' });

export const nodeinfoService = z
  .strictObject({ type: z.literal('nodeinfo'), id: z.string().optional() })
  .describe('Kreuz answers JSON: version, uptime, realms, sessions.');

const BEHIND_A_PROXY = 'serve it with its own server and put a reverse proxy (nginx, Caddy) in front of both';

/** Crossbar's web services Kreuz lacks, each with what to do instead (those it has: node/web-services/). */
const CROSSBAR_PATH_SERVICES: Record<string, string> = {
  cgi: `Kreuz runs no CGI programs: ${BEHIND_A_PROXY}`,
  wsgi: `Kreuz runs no Python WSGI apps: ${BEHIND_A_PROXY}`,
  reverseproxy: 'Kreuz proxies no HTTP: put a reverse proxy (nginx, Caddy) in front of Kreuz and the other server',
  'websocket-reverseproxy': 'Kreuz proxies no WebSocket: put a reverse proxy (nginx, Caddy) in front of Kreuz and the other server',
  path: 'nested path trees have no counterpart: write the full path as the key ("api/ws")',
  resource: `Kreuz runs no Python (Twisted) web resources: serve it with a small Python web server of its own (the resource under twisted.web) and put a reverse proxy (nginx, Caddy) in front of both; for files, a JSON value or a redirect use "static", "json" or "redirect"`,
  wap: `Kreuz renders no WAMP application pages: ${BEHIND_A_PROXY}`,
  catalog: 'Kreuz has no catalog service (it belongs to XBR): keep it on Crossbar.io',
  none: 'remove the path: Kreuz answers 404 for paths it does not serve',
  upload: `Kreuz takes no file uploads: ${BEHIND_A_PROXY}`,
  fileupload: `Kreuz takes no file uploads: ${BEHIND_A_PROXY}`,
  schemadoc: 'Kreuz serves no schema documentation: keep it on Crossbar.io',
};

export const pathService = byType([websocketService, nodeinfoService, ...WEB_SERVICE_SCHEMAS], CROSSBAR_PATH_SERVICES);

export const paths = z.record(urlPath, pathService).refine((p) => Object.keys(p).length > 0, { error: 'must have at least one path' });

/** A web server's Crossbar options: HSTS is refused (a security header Kreuz does not send), the rest accepted with what Kreuz does. */
export const webOptions = z.strictObject({
  access_log: accepted(z.boolean(), (on: boolean) =>
    on
      ? 'Kreuz writes no HTTP access log: refused WebSocket handshakes are logged (kreuz.log), or log requests in a reverse proxy'
      : undefined,
  ).optional(),
  display_tracebacks: accepted(z.boolean(), (on: boolean) => (on ? 'Kreuz never shows tracebacks to HTTP clients' : undefined)).optional(),
  client_timeout: accepted(
    z.number().int().min(1).max(86400).nullable(),
    "Kreuz closes idle HTTP keep-alive connections after Node's 5 s, and slow requests after open_handshake_timeout",
  ).optional(),
  hixie76_aware: accepted(z.boolean(), 'Hixie-76 WebSocket clients are long gone; Kreuz speaks RFC 6455').optional(),
  hsts: z
    .literal(false, {
      error:
        'true is not supported by Kreuz: it does not send Strict-Transport-Security; set the header in a reverse proxy in front (e.g. nginx add_header)',
    })
    .optional(),
  hsts_max_age: accepted(z.number().int().min(0), 'only used with "hsts", which Kreuz does not send').optional(),
});

export type EndpointConfig = z.infer<typeof endpoint>;
export type TcpEndpointConfig = z.infer<typeof tcpEndpoint>;
export type TlsConfig = z.infer<typeof tls>;
export type WebSocketOptionsConfig = z.infer<typeof websocketOptions>;
export type RawSocketOptionsConfig = z.infer<typeof rawsocketOptions>;
export type PathServiceConfig = z.infer<typeof pathService>;
export type WebSocketServiceConfig = z.infer<typeof websocketService>;

// ---- as node options ----

/** Where to listen, and the TLS files read (once, at startup). */
export function listening(endpoint: EndpointConfig, baseDir: string): { endpoint: ListenAddress; tls?: TlsOptions } {
  const backlog = endpoint.backlog === undefined ? {} : { backlog: endpoint.backlog };
  if (endpoint.type === 'unix') return { endpoint: { path: resolveFile(baseDir, endpoint.path), ...backlog } };
  const host = endpoint.interface ?? (endpoint.version === 6 ? '::1' : '127.0.0.1');
  return { endpoint: { host, port: endpoint.port, ...backlog }, tls: endpoint.tls && tlsOptions(endpoint.tls, baseDir) };
}

/** TLS files are read here, once, at startup; a chain is sent after the certificate. */
function tlsOptions(tls: TlsConfig, baseDir: string): TlsOptions {
  const read = (value: string) => (isPem(value) ? value : pem(resolveFile(baseDir, value)));
  const cert = [tls.certificate, ...(tls.chain_certificates ?? [])].map(read).join('\n');
  const out: TlsOptions = { cert, key: read(tls.key) };
  if (tls.ca_certificates?.length) out.ca = tls.ca_certificates.map(read).join('\n');
  if (tls.passphrase !== undefined) out.passphrase = tls.passphrase;
  if (tls.dhparam !== undefined) out.dhparam = read(tls.dhparam);
  if (tls.ciphers !== undefined) out.ciphers = tls.ciphers;
  return out;
}

export function websocketServiceOptions(s: {
  serializers?: string[];
  options?: WebSocketOptionsConfig;
  auth?: object;
}): WebSocketServiceOptions {
  const o = s.options ?? {};
  const versions = [...(o.enable_hybi10 === false ? [] : [8 as const]), ...(o.enable_rfc6455 === false ? [] : [13 as const])];
  return withoutUndefined({
    serializers: offeredSerializers(s.serializers),
    maxMessageSize: o.max_message_size,
    compression: o.compression === undefined || typeof o.compression === 'boolean' ? o.compression : deflateOptions(o.compression.deflate),
    maxSendBuffer: o.max_send_buffer,
    allowedOrigins: o.allowed_origins,
    allowNullOrigin: o.allow_null_origin,
    autoPingInterval: o.auto_ping_interval,
    autoPingTimeout: o.auto_ping_timeout,
    autoPingSize: o.auto_ping_size,
    autoPingRestartOnAnyTraffic: o.auto_ping_restart_on_any_traffic,
    autoFragmentSize: o.auto_fragment_size,
    // Crossbar's 0 is "no timeout": ws's own 30 s then still applies.
    closeHandshakeTimeout: o.close_handshake_timeout || undefined,
    failByDrop: o.fail_by_drop,
    requireSubprotocol: o.require_websocket_subprotocol,
    versions: versions.length === 2 ? undefined : versions,
    tcpNoDelay: o.tcp_nodelay,
    trustedProxies: o.trusted_proxies,
    auth: s.auth as WebSocketServiceOptions['auth'],
  });
}

/** Crossbar's deflate parameters as ws names them (request_* ask the client, the others are the router's own). */
function deflateOptions(d: NonNullable<Extract<WebSocketOptionsConfig['compression'], object>>['deflate']): DeflateOptions {
  return withoutUndefined({
    clientNoContextTakeover: d.request_no_context_takeover,
    clientMaxWindowBits: d.request_max_window_bits || undefined,
    serverNoContextTakeover: d.no_context_takeover,
    serverMaxWindowBits: d.max_window_bits,
    memLevel: d.memory_level,
  });
}

export function rawsocketServiceOptions(s: {
  serializers?: string[];
  options?: RawSocketOptionsConfig;
  auth?: object;
}): RawSocketServiceOptions {
  const o = s.options ?? {};
  return withoutUndefined({
    serializers: offeredSerializers(s.serializers),
    maxMessageSize: o.max_message_size,
    maxSendBuffer: o.max_send_buffer,
    autoPingInterval: o.auto_ping_interval,
    autoPingTimeout: o.auto_ping_timeout,
    maxConnections: o.max_connections,
    handshakeTimeout: o.handshake_timeout,
    auth: s.auth as RawSocketServiceOptions['auth'],
  });
}

type WebPaths = Record<string, PathServiceConfig | ({ type: 'websocket' } & Omit<WebSocketServiceConfig, 'type'>)>;

/** Web paths (normalized) and their services; relative files against `baseDir`. */
export function pathServiceOptions(paths: WebPaths, baseDir: string): Record<string, PathService> {
  return Object.fromEntries(
    Object.entries(paths).map(([path, s]): [string, PathService] => [
      normalizeUrlPath(path),
      s.type === 'websocket'
        ? { type: 'websocket', ...websocketServiceOptions(s) }
        : s.type === 'nodeinfo'
          ? { type: 'nodeinfo' }
          : webServiceOptions(s, baseDir),
    ]),
  );
}

/** Paths no request can reach, and what the web services of `paths` find on disk (directories, archives), at `at`. */
export function checkWebPaths(
  paths: Record<string, { type: string }>,
  at: PropertyKey[],
  baseDir: string,
  problem: (path: PropertyKey[], message: string) => void,
  note: (path: PropertyKey[], message: string) => void,
): void {
  for (const [p, service] of Object.entries(paths)) {
    if (
      normalizeUrlPath(p)
        .split('/')
        .some((s) => s === '.' || s === '..')
    )
      problem(
        [...at, p],
        'a "." or ".." segment: no request reaches this path (clients resolve them, Kreuz refuses them); write the path without it',
      );
    if (!isWebService(service.type)) continue;
    const where = (path: PropertyKey[]) => [...at, p, ...path];
    checkWebService(
      service as Parameters<typeof checkWebService>[0],
      baseDir,
      (path, message) => problem(where(path), message),
      (path, message) => note(where(path), message),
    );
  }
}

/** One HTTP server has one handshake timeout: the longest its WebSocket paths ask for. */
export function handshakeTimeout(paths: WebPaths): number | undefined {
  const values = Object.values(paths).flatMap((s) =>
    s.type === 'websocket' && s.options?.open_handshake_timeout !== undefined ? [s.options.open_handshake_timeout] : [],
  );
  return values.length ? Math.max(...values) : undefined;
}

const BRIDGE_TYPES = new Set(['publisher', 'caller', 'webhook']);

/** Where a web server's WebSocket and long-poll paths keep their `auth` (for the config checks), below `base`. */
export function webPathServices(
  paths: Record<string, { type: string; auth?: unknown }>,
  base: PropertyKey[],
): Array<{ auth: unknown; path: PropertyKey[]; bridge?: { realm: string; role: string } }> {
  return Object.entries(paths).flatMap(([p, service]) => {
    if (service.type === 'websocket' || service.type === 'longpoll') return [{ auth: service.auth, path: [...base, p, 'auth'] }];
    // The HTTP bridge's session joins its realm as its role: a grant like a principal's.
    if (BRIDGE_TYPES.has(service.type)) {
      const { realm, role } = service as { realm?: unknown; role?: unknown };
      if (typeof realm === 'string' && typeof role === 'string') return [{ auth: undefined, path: [...base, p], bridge: { realm, role } }];
    }
    return [];
  });
}

/** Paths a server serves twice once normalized ("ws" and "/ws"): reported at the second. */
export function checkPathsOnce(paths: string[], at: PropertyKey[], problem: (path: PropertyKey[], message: string) => void): void {
  const seen = new Map<string, string>();
  for (const p of paths) {
    const normal = normalizeUrlPath(p);
    const first = seen.get(normal);
    if (first !== undefined) problem([...at, p], `path ${normal} is already configured as "${first}"`);
    else seen.set(normal, p);
  }
}
