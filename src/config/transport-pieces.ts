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
import type { ListenAddress } from '../transports/listen.ts';
import { RAWSOCKET_DEFAULTS } from '../transports/rawsocket.ts';
import { pem, type TlsOptions } from '../transports/tls.ts';
import { isTrustedProxyEntry } from '../transports/trusted-proxies.ts';
import { DEFAULT_HANDSHAKE_TIMEOUT, WEBSOCKET_DEFAULTS } from '../transports/websocket.ts';
import { isPem, normalizeUrlPath, resolveFile } from './paths.ts';
import { byType, choice, crossbarOnly, ms, nonEmpty, nonNegativeInt, positiveInt, urlPath } from './schema-helpers.ts';

/** Each authentication method's piece comes from its own module in src/auth (the table: src/auth/transport-auth.ts). */
export const auth = transportAuthSchema;

// ---- schema pieces ----

export const serializer = choice(['json', 'msgpack', 'cbor'], ['ubjson', 'flatbuffers']);
export const serializers = z.array(serializer).min(1).describe('Default: json, msgpack, cbor.');

export const tls = z
  .strictObject({
    key: nonEmpty.describe('PEM private key: a file (relative to the config file) or the PEM text.'),
    certificate: nonEmpty.describe('PEM certificate: a file (relative to the config file) or the PEM text.'),
    chain_certificates: z.array(nonEmpty).optional().describe('Intermediate certificates, sent after the certificate.'),
    ca_certificates: z.array(nonEmpty).optional(),
    passphrase: nonEmpty.optional().describe('Kreuz: the passphrase of an encrypted key.'),
    ...crossbarOnly(['dhparam', 'ciphers']),
  })
  .meta({ id: 'Tls' });

export const tcpEndpoint = z
  .strictObject({
    type: z.literal('tcp'),
    port: z.number().int().min(0).max(65535).describe('0 picks a free port.'),
    interface: nonEmpty.optional().describe('Default 127.0.0.1 (Crossbar: every interface). "0.0.0.0" or "::" accepts remote clients.'),
    version: z.union([z.literal(4), z.literal(6)]).optional(),
    tls: tls.optional(),
    ...crossbarOnly(['backlog', 'shared', 'user_timeout']),
  })
  .meta({ id: 'TcpEndpoint' });

export const unixEndpoint = z
  .strictObject({
    type: z.literal('unix'),
    path: nonEmpty.describe('Socket file, relative to the config file.'),
  })
  .meta({ id: 'UnixEndpoint' });

export const endpoint = byType([tcpEndpoint, unixEndpoint], ['twisted', 'onion']);

export const websocketOptions = z
  .strictObject({
    max_message_size: positiveInt.optional().describe(`Bytes; default ${WEBSOCKET_DEFAULTS.maxMessageSize}. Kreuz has no "0 = unlimited".`),
    auto_ping_interval: ms.optional().describe(`ms between pings; default ${WEBSOCKET_DEFAULTS.autoPingInterval}; 0: off.`),
    auto_ping_timeout: positiveInt.optional().describe(`ms to answer a ping; default ${WEBSOCKET_DEFAULTS.autoPingTimeout}.`),
    compression: z
      .union([
        z.boolean(),
        z.strictObject({
          deflate: z.strictObject(
            crossbarOnly([
              'request_no_context_takeover',
              'request_max_window_bits',
              'no_context_takeover',
              'max_window_bits',
              'memory_level',
            ]),
          ),
        }),
      ])
      .optional()
      .describe('permessage-deflate; default off.'),
    allowed_origins: z.array(nonEmpty).optional().describe('Browser origins allowed ("*" wildcards); default any.'),
    open_handshake_timeout: positiveInt
      .optional()
      .describe(`ms for the HTTP request (and TLS handshake); default ${DEFAULT_HANDSHAKE_TIMEOUT}.`),
    require_websocket_subprotocol: z
      .literal(true, { error: 'false is not supported by Kreuz: a WAMP subprotocol is always required' })
      .optional(),
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
    ...crossbarOnly(
      [
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
      ],
      { trust_x_forwarded_for: 'use "trusted_proxies", a list of the proxies to believe' },
    ),
  })
  .meta({ id: 'WebSocketOptions' });

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

export const websocketService = z
  .strictObject({
    type: z.literal('websocket'),
    url: z.string().optional().describe('Public URL; informational.'),
    serializers: serializers.optional(),
    options: websocketOptions.optional(),
    auth: auth.optional(),
    ...crossbarOnly(['cookie', 'debug', 'debug_traffic', 'debug_ping_pong']),
  })
  .meta({ id: 'WebSocketService' });

export const nodeinfoService = z
  .strictObject({ type: z.literal('nodeinfo') })
  .describe('Kreuz answers JSON: version, uptime, realms, sessions.');

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

export const pathService = byType([websocketService, nodeinfoService], CROSSBAR_PATH_SERVICES);

export const paths = z.record(urlPath, pathService).refine((p) => Object.keys(p).length > 0, { error: 'must have at least one path' });

const WEB_OPTIONS = ['access_log', 'display_tracebacks', 'hsts', 'hsts_max_age', 'client_timeout', 'hixie76_aware'];
/** A web server's Crossbar options: none of them is supported. */
export const webOptions = z.strictObject(crossbarOnly(WEB_OPTIONS));

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

export function websocketServiceOptions(s: {
  serializers?: string[];
  options?: WebSocketOptionsConfig;
  auth?: object;
}): WebSocketServiceOptions {
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

export function rawsocketServiceOptions(s: {
  serializers?: string[];
  options?: RawSocketOptionsConfig;
  auth?: object;
}): RawSocketServiceOptions {
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

type WebPaths = Record<string, PathServiceConfig | ({ type: 'websocket' } & Omit<WebSocketServiceConfig, 'type'>)>;

/** Web paths (normalized) and their services. */
export function pathServiceOptions(paths: WebPaths): Record<string, PathService> {
  return Object.fromEntries(
    Object.entries(paths).map(([path, s]): [string, PathService] => [
      normalizeUrlPath(path),
      s.type === 'websocket' ? { type: 'websocket', ...websocketServiceOptions(s) } : { type: 'nodeinfo' },
    ]),
  );
}

/** One HTTP server has one handshake timeout: the longest its WebSocket paths ask for. */
export function handshakeTimeout(paths: WebPaths): number | undefined {
  const values = Object.values(paths).flatMap((s) =>
    s.type === 'websocket' && s.options?.open_handshake_timeout !== undefined ? [s.options.open_handshake_timeout] : [],
  );
  return values.length ? Math.max(...values) : undefined;
}

/** Where a web server's WebSocket paths keep their `auth` (for the config checks), below `base`. */
export function webPathServices(
  paths: Record<string, { type: string; auth?: unknown }>,
  base: PropertyKey[],
): Array<{ auth: unknown; path: PropertyKey[] }> {
  return Object.entries(paths).flatMap(([p, service]) =>
    service.type === 'websocket' ? [{ auth: service.auth, path: [...base, p, 'auth'] }] : [],
  );
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
