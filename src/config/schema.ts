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
import { isValidPattern } from '../wamp/uri-syntax.ts';
import { accepted, byType, choice, crossbarOnly, ms, nonEmpty, nonNegativeInt, positiveInt, uri, urlPath } from './schema-helpers.ts';
import { CROSSBAR_TRANSPORT_TYPES, type auth } from './transport-pieces.ts';
import { CROSSBAR_WORKER_TYPES, containerWorker, guestWorker, routerComponent, routerWorkerOptions } from './workers.ts';

// ---- realms ----

const NO_VALIDATION = 'Kreuz does not check payloads against types: check arguments in the callee or subscriber';

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
    ...crossbarOnly(['validate', 'meta'], {
      validate: NO_VALIDATION,
      meta: 'Kreuz keeps no metadata on permissions: remove it',
    }),
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

const historyEntry = z
  .strictObject({
    uri: z.string().describe('Topic, or a pattern with "match": "" or "com.example." with "prefix", "com..tick" with "wildcard".'),
    match: matchPolicy.optional().describe('Default "exact".'),
    limit: positiveInt.optional().describe('Events kept; default the store\'s "limit".'),
  })
  .superRefine((h, ctx) => {
    const match = h.match ?? 'exact';
    // The same rule as SUBSCRIBE's: wamp.subscription.get_events answers the subscription to exactly this (uri, match).
    if (typeof h.uri === 'string' && (match === 'exact' || match === 'prefix' || match === 'wildcard') && !isValidPattern(h.uri, match)) {
      ctx.addIssue({
        code: 'custom',
        path: ['uri'],
        message:
          match === 'exact'
            ? 'must be a WAMP URI (dot-separated words without spaces); for a prefix or wildcard pattern set "match"'
            : `must be a ${match} pattern (no spaces or "#"${match === 'prefix' ? '; empty components only at the end' : ''})`,
      });
    }
  });

const store = z
  .strictObject({
    type: choice(['memory'], {
      cfxdb: 'Kreuz keeps event history in memory only, lost on restart: use "memory"',
      lmdb: 'Kreuz keeps event history in memory only, lost on restart: use "memory"',
    }),
    limit: positiveInt.optional().describe('Default event-history limit per entry (default 1000).'),
    'event-history': z.array(historyEntry).optional(),
    ...crossbarOnly(['call-queue', 'maxsize', 'path', 'buffer-flush'], {
      'call-queue': 'use kreuz.call_queue_limit, one limit for every registration',
      maxsize: 'only for a database store; Kreuz keeps the store in memory: bound it with "limit"',
      path: 'only for a database store; Kreuz keeps the store in memory',
      'buffer-flush': 'only for a database store; Kreuz keeps the store in memory',
    }),
  })
  .meta({ id: 'RealmStore' });

const realmOptions = z
  .strictObject({
    enable_meta_api: z
      .boolean()
      .optional()
      .describe('The meta API (wamp.session.*, wamp.registration.*, wamp.subscription.*); default true.'),
    uri_check: choice(['loose'], ['strict']).optional(),
    bridge_meta_api: z
      .literal(false, {
        error: 'true is not supported by Kreuz (there is no router-to-router link: kreuz.cluster shares one realm across nodes)',
      })
      .optional(),
    event_dispatching_chunk_size: accepted(
      positiveInt,
      'Kreuz sends an event to all its subscribers at once, its writes batched per tick; there are no chunks to size',
    ).optional(),
  })
  .meta({ id: 'RealmOptions' });

const realm = z
  .strictObject({
    name: uri,
    id: z.string().optional(),
    roles: z.array(role).optional().describe('Without roles, every session may do everything (Kreuz default; Crossbar needs roles).'),
    store: store.optional(),
    options: realmOptions.optional(),
    trace: accepted(z.boolean(), (on: boolean) =>
      on ? 'Kreuz traces no realm of its own: run it with --loglevel trace to log every message' : undefined,
    ).optional(),
    ...crossbarOnly(['rlinks', 'inventory', 'stats'], {
      rlinks:
        'Kreuz has no router-to-router links: run the nodes as one Kreuz cluster (kreuz.cluster), which shares each realm across them',
      inventory: NO_VALIDATION,
      stats: 'Kreuz publishes no realm statistics events: enable kreuz.metrics and scrape it (sessions, messages and bytes per realm)',
    }),
  })
  .meta({ id: 'Realm' });

// ---- transports: each type's piece is in its module (the table: src/node/transport-types/index.ts) ----

const transport = byType(TRANSPORT_SCHEMAS, CROSSBAR_TRANSPORT_TYPES);

// ---- workers and the whole file ----

const MANHOLE = 'Kreuz has no manhole (a Python shell into the process): look inside with the meta API, kreuz.metrics and the log';

const routerWorker = z
  .strictObject({
    type: z.literal('router'),
    id: z.string().optional(),
    options: routerWorkerOptions.optional(),
    realms: z.array(realm).default([]).describe('Without realms, no WAMP client can join (a web-only router).'),
    transports: z.array(transport).default([]).describe('Without transports, nothing listens (only components join).'),
    components: z
      .array(routerComponent)
      .optional()
      .describe('Python components (Autobahn|Python) Kreuz runs beside the router, each joined to one of its realms.'),
    manhole: accepted(z.unknown(), MANHOLE).optional(),
    ...crossbarOnly(['connections'], {
      connections: 'a Kreuz router makes no outgoing connections: join nodes with kreuz.cluster, run clients as guest or container workers',
    }),
  })
  .meta({ id: 'RouterWorker' });

const worker = byType([routerWorker, guestWorker, containerWorker], CROSSBAR_WORKER_TYPES);

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
    python: nonEmpty
      .optional()
      .describe(
        "The Python (with Autobahn|Python) that runs container workers and router components: a path or a command on the PATH; default /usr/bin/python3. A worker's options.python wins.",
      ),
  })
  .describe('Kreuz-only settings.');

// ---- the node controller: Kreuz has none, so its settings are accepted with what Kreuz does instead ----

const NO_MANAGEMENT = 'Kreuz connects to no management service (Crossbar.io Fabric Center / master node): it runs from its config file';

const controller = z
  .strictObject({
    id: accepted(
      z.string(),
      "Kreuz has no node controller, and names nothing after the node ID (in a cluster, kreuz.cluster.node is the node's name)",
    ).optional(),
    options: z
      .strictObject({
        title: accepted(z.string(), 'Kreuz keeps its process title').optional(),
        shutdown: accepted(
          z.union([z.string(), z.array(z.string())]),
          'Kreuz stops on SIGTERM or SIGINT (kreuz stop), after in-flight calls finish (kreuz.shutdown.timeout)',
        ).optional(),
        enable_parallel_worker_start: accepted(z.boolean(), 'Kreuz starts its workers in the order of the config').optional(),
      })
      .optional(),
    extra: z.unknown().optional(),
    manhole: accepted(z.unknown(), MANHOLE).optional(),
    connections: accepted(z.unknown(), NO_MANAGEMENT).optional(),
    fabric: accepted(z.unknown(), NO_MANAGEMENT).optional(),
    'fabric-center': accepted(z.unknown(), NO_MANAGEMENT).optional(),
    enable_docker: accepted(z.boolean(), (on: boolean) =>
      on ? "Kreuz has no Docker control: run containers with Docker's own tools" : undefined,
    ).optional(),
    keyring: accepted(
      z.unknown(),
      'Kreuz has no node key: a node joins a cluster with its NATS credentials (kreuz.cluster.nats)',
    ).optional(),
  })
  .describe("Crossbar's node controller: Kreuz has none, and accepts its settings with a note of what it does instead.");

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(2, { error: 'must be 2 (Crossbar config version 2)' }).optional(),
    controller: controller.optional(),
    workers: z
      .array(worker)
      .default([])
      .describe('One router worker (Kreuz runs one per node), and any guest and container workers beside it.'),
    kreuz: kreuz.optional(),
  })
  .describe('Kreuz node configuration (Crossbar.io config.json shape, version 2).');

/** One worker's schema, for checking the workers of a config that fails as a whole one by one. */
export const workerSchema = worker;

export type KreuzConfig = z.infer<typeof configSchema>;
export type RouterWorkerConfig = z.infer<typeof routerWorker>;
export type WorkerConfig = z.infer<typeof worker>;

/** The node's router worker: the first (the config check refuses a config without one, or with more). */
export function routerWorkerOf(config: KreuzConfig): RouterWorkerConfig {
  const worker = config.workers.find((w): w is RouterWorkerConfig => w.type === 'router');
  if (!worker) throw new Error('the config has no router worker');
  return worker;
}
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
