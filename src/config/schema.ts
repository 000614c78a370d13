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
import { CLUSTER_DEFAULTS, CLUSTER_ID } from '../cluster/options.ts';
import { DEFAULT_LIMITS } from '../core/limits.ts';
import { TRANSPORT_SCHEMAS } from '../node/transport-types/index.ts';
import { byType, choice, crossbarOnly, ms, nonEmpty, nonNegativeInt, positiveInt, uri, urlPath } from './schema-helpers.ts';
import type { auth } from './transport-pieces.ts';

// ---- realms ----

const matchPolicy = choice(['exact', 'prefix', 'wildcard']);

const permission = z
  .strictObject({
    uri: z
      .string()
      .describe(
        'URI or pattern; "" with match "prefix" covers everything. Without "match", Crossbar\'s starred URIs apply ("a.b.*" prefix, "a.*.c" wildcard).',
      ),
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
  .refine((r) => !(r.permissions && r.authorizer), {
    error: 'a role has either "permissions" or an "authorizer", not both',
    path: ['authorizer'],
  })
  .meta({ id: 'Role', description: 'A realm role (Crossbar shape).' });

const historyEntry = z.strictObject({
  uri,
  match: matchPolicy.optional().describe('Default "exact".'),
  limit: positiveInt.optional().describe('Events kept; default the store\'s "limit".'),
});

const store = z
  .strictObject({
    type: choice(['memory'], ['cfxdb', 'lmdb']),
    limit: positiveInt.optional().describe('Default event-history limit per entry (default 1000).'),
    'event-history': z.array(historyEntry).optional(),
    ...crossbarOnly(['call-queue', 'maxsize', 'path'], { 'call-queue': 'use kreuz.call_queue_limit, one limit for every registration' }),
  })
  .meta({ id: 'RealmStore' });

const realmOptions = z
  .strictObject({
    enable_meta_api: z
      .boolean()
      .optional()
      .describe('The meta API (wamp.session.*, wamp.registration.*, wamp.subscription.*); default true.'),
    uri_check: choice(['loose'], ['strict']).optional(),
    bridge_meta_api: z.literal(false, { error: 'true is not supported by Kreuz (there is no router-to-router link)' }).optional(),
    ...crossbarOnly(['event_dispatching_chunk_size']),
  })
  .meta({ id: 'RealmOptions' });

const realm = z
  .strictObject({
    name: uri,
    id: z.string().optional(),
    roles: z.array(role).optional().describe('Without roles, every session may do everything (Kreuz default; Crossbar needs roles).'),
    store: store.optional(),
    options: realmOptions.optional(),
  })
  .meta({ id: 'Realm' });

// ---- transports: each type's piece is in its module (the table: src/node/transport-types/index.ts) ----

const transport = byType(TRANSPORT_SCHEMAS, ['mqtt', 'flashpolicy', 'websocket.testee', 'stream.testee']);

// ---- workers and the whole file ----

const routerWorker = z
  .strictObject({
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
  })
  .meta({ id: 'RouterWorker' });

const worker = byType([routerWorker], ['container', 'guest', 'proxy', 'websocket-testee', 'xbrmm', 'hub', 'marketmaker']);

const limits = z.strictObject({
  calls_in_flight: positiveInt
    .optional()
    .describe(`Calls a session may have in flight as caller; default ${DEFAULT_LIMITS.callsInFlight}.`),
  registrations: positiveInt.optional().describe(`Registrations per session; default ${DEFAULT_LIMITS.registrations}.`),
  subscriptions: positiveInt.optional().describe(`Subscriptions per session; default ${DEFAULT_LIMITS.subscriptions}.`),
  message_rate: positiveInt.optional().describe(`Messages per second per session; default ${DEFAULT_LIMITS.messageRate}.`),
  sessions: positiveInt.optional().describe(`Sessions on the whole router; default ${DEFAULT_LIMITS.sessions}.`),
  calls_in_flight_total: positiveInt
    .optional()
    .describe(`Calls in flight on the whole router; default ${DEFAULT_LIMITS.callsInFlightTotal}.`),
  pending_sessions: positiveInt
    .optional()
    .describe(`Connections not yet joined (HELLO to WELCOME) on the whole router; default ${DEFAULT_LIMITS.pendingSessions}.`),
  opening_timeout: positiveInt
    .optional()
    .describe(`ms from connecting to WELCOME (a pending CHALLENGE included); default ${DEFAULT_LIMITS.openingTimeout}.`),
  testaments: positiveInt.optional().describe(`Testaments per session; default ${DEFAULT_LIMITS.testaments}.`),
  testament_bytes: positiveInt.optional().describe(`Bytes of testaments per session; default ${DEFAULT_LIMITS.testamentBytes}.`),
  retained_events: positiveInt.optional().describe(`Retained events per realm; default ${DEFAULT_LIMITS.retainedEvents}.`),
  retained_bytes: positiveInt.optional().describe(`Bytes of retained events per realm; default ${DEFAULT_LIMITS.retainedBytes}.`),
  retained_events_per_session: positiveInt
    .optional()
    .describe(`Retained events one publishing session may store; default ${DEFAULT_LIMITS.retainedEventsPerSession}.`),
  retained_bytes_per_session: positiveInt
    .optional()
    .describe(`Bytes of retained events one publishing session may store; default ${DEFAULT_LIMITS.retainedBytesPerSession}.`),
  max_depth: positiveInt.optional().describe(`Nesting depth of a decoded message; default ${DEFAULT_LIMITS.maxDepth}.`),
});

// ---- kreuz.cluster (docs/clustering.md) ----

/** A cluster or node name: NATS subjects, the KV bucket and the node's key derive from it. */
const clusterId = z.string().regex(CLUSTER_ID, { error: 'must be 1 to 64 characters a-z, 0-9 or "-"' });

const NATS_URL_PATTERN = '^(nats|tls)://[^\\s/?#]+/?$';
const NATS_URL = new RegExp(NATS_URL_PATTERN);

/** nats://host:port or tls://host:port; the message never repeats the value (a URL may carry a password). */
const natsServer = z
  .string()
  .refine(
    (url) => {
      if (!NATS_URL.test(url)) return false;
      try {
        return new URL(url).hostname !== '';
      } catch {
        return false; // e.g. a port above 65535
      }
    },
    { error: 'must be a nats:// or tls:// URL with a host, such as "nats://127.0.0.1:4222"' },
  )
  .meta({ pattern: NATS_URL_PATTERN, examples: ['nats://127.0.0.1:4222'] });

const natsCredential = (what: string) =>
  nonEmpty.optional().describe(`${what}; may be a whole-string \${VAR} (from the environment). Never shown in config errors.`);

const nats = z
  .strictObject({
    servers: z
      .array(natsServer)
      .min(1)
      .describe('Every server of the NATS cluster, e.g. ["nats://127.0.0.1:4222"]: nats:// or tls:// URLs.'),
    user: natsCredential('NATS user name, with "pass"'),
    pass: natsCredential('NATS password, with "user"'),
    token: natsCredential('NATS token'),
    creds: nonEmpty
      .optional()
      .describe("NATS credentials file (JWT + NKey seed), relative to the config file's directory; ${VAR} allowed."),
  })
  .superRefine((n, ctx) => {
    // Only key names in these messages, never values.
    if (n.user !== undefined && n.pass === undefined) ctx.addIssue({ code: 'custom', path: ['pass'], message: 'is required with "user"' });
    if (n.pass !== undefined && n.user === undefined) ctx.addIssue({ code: 'custom', path: ['user'], message: 'is required with "pass"' });
    const ways = [
      n.user !== undefined || n.pass !== undefined ? '"user" + "pass"' : undefined,
      n.token !== undefined ? '"token"' : undefined,
      n.creds !== undefined ? '"creds"' : undefined,
    ].filter((w) => w !== undefined);
    if (ways.length > 1) {
      // At the object, not at a key: a key's path would make a numeric ${VAR} value be re-read as a number.
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `${ways.join(' and ')} cannot be combined: give one of "user" + "pass", "token" or "creds"`,
      });
    }
  })
  .describe('How to reach NATS. Credentials: "user" + "pass", "token" or "creds" (at most one), as NATS clients take them.');

const cluster = z
  .strictObject({
    name: clusterId.describe(
      "The cluster's name, [a-z0-9-] (1-64): NATS subjects and the KV bucket derive from it; the same on every node of the cluster.",
    ),
    node: clusterId
      .optional()
      .describe(
        'This node\'s ID, [a-z0-9-] (1-64), unique in the cluster; default: the lower-cased hostname (other characters "-") + "-" + the process ID.',
      ),
    nats,
    kv: z
      .strictObject({
        replicas: z
          .number()
          .int()
          .min(1)
          .max(5)
          .optional()
          .describe(`Replicas of the cluster's KV bucket: 1 for one nats-server, 3 for three; default ${CLUSTER_DEFAULTS.replicas}.`),
      })
      .optional()
      .describe('The JetStream KV bucket the cluster keeps its state in.'),
    heartbeat: positiveInt.optional().describe(`ms between a node's heartbeats; default ${CLUSTER_DEFAULTS.heartbeat}.`),
    dead_after: positiveInt
      .optional()
      .describe(`ms without a heartbeat after which a node counts as dead; at least 2 × heartbeat; default ${CLUSTER_DEFAULTS.deadAfter}.`),
  })
  .superRefine((c, ctx) => {
    const heartbeat = c.heartbeat ?? CLUSTER_DEFAULTS.heartbeat;
    const deadAfter = c.dead_after ?? CLUSTER_DEFAULTS.deadAfter;
    // A heartbeat or dead_after that is itself wrong is reported as such, not compared.
    const valid = (v: number) => Number.isInteger(v) && v > 0;
    if (valid(heartbeat) && valid(deadAfter) && deadAfter < 2 * heartbeat) {
      ctx.addIssue({
        code: 'custom',
        path: ['dead_after'],
        message:
          `must be at least 2 × heartbeat (${2 * heartbeat} ms with heartbeat ${heartbeat}${c.heartbeat === undefined ? ', the default' : ''}), ` +
          `got ${deadAfter}${c.dead_after === undefined ? ' (the default)' : ''}`,
      });
    }
  })
  .describe('Run this node as one of a cluster of Kreuz nodes joined through NATS (docs/clustering.md); without it the node runs alone.');

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
    shutdown: z
      .strictObject({ timeout: ms.optional().describe('ms in-flight calls may take to finish on SIGTERM; default 10000.') })
      .optional(),
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
    call_queue_limit: nonNegativeInt
      .optional()
      .describe('Calls that may wait per registration when every callee is at its concurrency; default 0.'),
    limits: limits.optional(),
    cluster: cluster.optional(),
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
export type AuthConfig = z.infer<typeof auth>;
export type RoleConfigEntry = z.infer<typeof role>;
export type ClusterConfig = z.infer<typeof cluster>;
export type {
  EndpointConfig,
  PathServiceConfig,
  RawSocketOptionsConfig,
  TcpEndpointConfig,
  TlsConfig,
  WebSocketOptionsConfig,
  WebSocketServiceConfig,
} from './transport-pieces.ts';
