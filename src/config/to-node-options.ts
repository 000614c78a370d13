/**
 * A validated config as the options `startNode` takes: Crossbar's
 * snake_case settings become the transports' own (each transport type maps
 * its own entries, see src/node/transport-types/), relative file paths are
 * resolved against the config's directory, and roles and `auth` blocks are
 * passed on exactly as written.
 */
import { existsSync } from 'node:fs';
import type { ClusterOptions } from '../cluster/options.ts';
import type { Limits } from '../core/limits.ts';
import { withoutUndefined, type NodeOptions, type RealmOptions } from '../node/options.ts';
import { transportOptions } from '../node/transport-types/index.ts';
import { ConfigError } from './errors.ts';
import type { ValidatedConfig } from './load.ts';
import { normalizeUrlPath, resolveFile } from './paths.ts';
import { routerWorkerOf, type ClusterConfig, type KreuzConfig, type RealmConfigEntry } from './schema.ts';

/** Default event-history limit when neither the entry nor the store sets one. */
export const DEFAULT_HISTORY_LIMIT = 1000;

export function toNodeOptions({ config, baseDir }: Pick<ValidatedConfig, 'config' | 'baseDir'>): NodeOptions {
  const worker = routerWorkerOf(config);
  const k = config.kreuz ?? {};
  const options: NodeOptions = {
    realms: worker.realms.map(realmOptions),
    transports: worker.transports.map((t) => transportOptions(t, baseDir)),
    metrics:
      k.metrics?.enabled === true
        ? withoutUndefined({ path: k.metrics.path && normalizeUrlPath(k.metrics.path), maxProcedures: k.metrics.max_procedures })
        : false,
    info: k.info?.enabled === true ? withoutUndefined({ path: k.info.path && normalizeUrlPath(k.info.path) }) : false,
  };
  if (k.shutdown?.timeout !== undefined) options.shutdownTimeout = k.shutdown.timeout;
  if (k.call_queue_limit !== undefined) options.callQueueLimit = k.call_queue_limit;
  if (k.auth_secret !== undefined) options.authSecret = k.auth_secret;
  if (k.limits) options.limits = limits(k.limits);
  if (k.cluster) options.cluster = clusterOptions(k.cluster, baseDir);
  return options;
}

/**
 * `kreuz.cluster` as `ClusterOptions`: keys not in the config stay absent
 * (the cluster layer applies CLUSTER_DEFAULTS and the default node ID), the
 * credentials are passed on as written (environment values put in), and the
 * creds file is resolved against the config's directory and must exist.
 */
function clusterOptions(c: ClusterConfig, baseDir: string): ClusterOptions {
  const out: ClusterOptions = withoutUndefined({ name: c.name, node: c.node, heartbeat: c.heartbeat, deadAfter: c.dead_after });
  let creds: string | undefined;
  if (c.nats.creds !== undefined) {
    creds = resolveFile(baseDir, c.nats.creds);
    if (!existsSync(creds)) throw new ConfigError([{ path: 'kreuz.cluster.nats.creds', message: `file not found: ${creds}` }]);
  }
  out.nats = withoutUndefined({ servers: [...c.nats.servers], user: c.nats.user, pass: c.nats.pass, token: c.nats.token, creds });
  if (c.kv?.replicas !== undefined) out.kv = { replicas: c.kv.replicas };
  return out;
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
