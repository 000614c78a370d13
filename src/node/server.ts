/**
 * A running router node: the Router with its realms (roles, event history,
 * meta API), its listeners, metrics, node info, in-process sessions, and a
 * graceful shutdown.
 *
 * Shutdown (`shutdown()`, what SIGTERM does in `kreuz start`):
 * 1. stop accepting: every listener stops taking connections; on those
 *    open, the router admits no new session or call (`router.stopAdmitting()`),
 *    while everything else (YIELDs above all) is still routed;
 * 2. wait until no call is in flight, up to the deadline (default 10 s);
 * 3. send GOODBYE wamp.close.system_shutdown to every session and give the
 *    clients up to a second to answer it;
 * 4. close every listener, dropping what is left.
 *
 * Reload (`reload(options)`, and what SIGHUP and `kreuz reload` do through
 * the config source `kreuz start` sets): see reload.ts for what changes live.
 */
import { CloseUri } from '../wamp/uris.ts';
import { InternalCaller } from '../core/internal-caller.ts';
import { LocalSession, type LocalSessionOptions } from '../core/local-session.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { RealmConfig } from '../core/realm.ts';
import { Router } from '../core/router.ts';
import type { Session } from '../core/session.ts';
import { enableMetaApi } from '../meta/index.ts';
import { KREUZ_VERSION } from '../version.ts';
import { httpHandler } from './http.ts';
import type { WebMount } from './web-services/index.ts';
import { startListener, type RunningListener } from './listeners.ts';
import { NodeMetrics, clientSessions } from './metrics.ts';
import { enableNodeApi } from './node-api.ts';
import { messageTrace, tracing } from './message-trace.ts';
import type { Cluster, ClusterView } from '../cluster/cluster.ts';
import { FRAME_OVERHEAD } from '../cluster/options.ts';
import { DEFAULTS, withoutUndefined, type NodeOptions, type RealmOptions, type TransportOptions } from './options.ts';
import { lateCaller, TransportAuths } from './security.ts';
import { buildAuthorizer, type RoleConfig } from '../authz/roles.ts';
import { NodeReloader, shortFormTransports, type PathNamer, type ReloadResult } from './reload.ts';
import { REALM_EXISTS, attachManagementApi } from './management-api.ts';
import { WampError } from '../wamp/wamp-error.ts';
import { ErrorUri } from '../wamp/uris.ts';

export { DEFAULTS, type NodeOptions } from './options.ts';
export type { ReloadResult } from './reload.ts';

export interface NodeInfo {
  status: 'ok' | 'stopping';
  router: 'kreuz';
  version: string;
  node: string;
  /** Seconds since the node started. */
  uptime: number;
  started: string;
  realms: Array<{ name: string; sessions: number }>;
  /** Client sessions on every realm. */
  sessions: number;
  /** This node's view of its cluster, when it is in one. */
  cluster?: ClusterView;
}

export interface RunningNode {
  router: Router;
  /** The first WebSocket URL (ws://host:port/path), else the first listener's. */
  url: string;
  /** Its TCP port (0 for a Unix socket). */
  port: number;
  /** Every URL the node listens on, in transport order. */
  urls: string[];
  listeners: readonly RunningListener[];
  logger: Logger;
  /** The Prometheus registry, when metrics are on. */
  metrics: NodeMetrics | undefined;
  info(): NodeInfo;
  /** An in-process session on `realm` (see LocalSession). */
  session(realm: string, options?: LocalSessionOptions): Promise<LocalSession>;
  /** Graceful stop: let calls in flight finish (up to `timeout` ms), GOODBYE every session, close. */
  shutdown(options?: { timeout?: number }): Promise<void>;
  /** Immediate stop: every connection is dropped. */
  close(): Promise<void>;
  /** Its cluster membership, when NodeOptions.cluster is given. */
  cluster: Cluster | undefined;
  /**
   * Applies what can change live of `options` (the options the node would be
   * started with now) and refuses the rest with path and reason; sessions stay.
   * `name` names the paths in the result (default: as in NodeOptions, e.g. `transports[0].endpoint.port`).
   */
  reload(options: NodeOptions, name?: PathNamer): Promise<ReloadResult>;
  /**
   * Where `reloadFromSource` (SIGHUP, `kreuz reload`, kreuz.node.reload) gets
   * the result of a reload: `kreuz start` re-reads and checks its config file,
   * then calls `reload`. None: the node has no config to re-read.
   */
  reloadSource: (() => Promise<ReloadResult>) | undefined;
  reloadFromSource(): Promise<ReloadResult>;
  /** Adds a realm while the node runs (kreuz.realm.create); not written to any config. */
  createRealm(name: string, roles?: RoleConfig[]): void;
  /** Removes a realm; its sessions get GOODBYE wamp.close.close_realm. Returns how many client sessions it had. */
  deleteRealm(name: string): number;
}

/** How long clients get to answer the router's GOODBYE at shutdown. */
const GOODBYE_WAIT_MS = 1000;
const POLL_MS = 10;

export async function startNode(options: NodeOptions = {}): Promise<RunningNode> {
  const o = { ...DEFAULTS, ...withoutUndefined(options) };
  const log: Logger = options.logger ?? silentLogger;
  const started = new Date();

  const realms: RealmOptions[] = o.realms.map((r) => (typeof r === 'string' ? { name: r } : r));
  const metaApi = new Set(realms.map((r) => r.metaApi ?? o.metaApi));
  if (metaApi.size > 1) throw new Error('the meta API is on for every realm or for none (enable_meta_api must be the same on every realm)');
  const late = lateCaller();
  const router = new Router({
    realms: realms.map(
      (r): RealmConfig => ({
        name: r.name,
        eventHistory: r.eventHistory ?? o.eventHistory,
        ...(r.roles && { authorizer: buildAuthorizer(r.name, r.roles, late.caller) }),
      }),
    ),
    agent: 'Kreuz',
    callQueueLimit: o.callQueueLimit,
    logger: log,
    limits: o.limits,
  });
  const caller = new InternalCaller(router);
  late.bind(caller);
  // Without realms (a web-only node), realms added later get the meta API if the node's default says so.
  const metaApiOn = realms.length === 0 ? o.metaApi : metaApi.has(true);
  if (metaApiOn) enableMetaApi(router);

  const metricsOptions = o.metrics === true ? {} : o.metrics || undefined;
  const metrics = metricsOptions ? new NodeMetrics(router, metricsOptions.maxProcedures ?? DEFAULTS.maxProcedures) : undefined;
  const metricsPath = metricsOptions?.path ?? DEFAULTS.metricsPath;
  const infoOptions = o.info === true ? {} : o.info || undefined;

  let stopping: Promise<void> | undefined;
  const locals = new Set<LocalSession>();

  const info = (): NodeInfo => {
    const list = [...router.realms.values()].map((realm) => ({ name: realm.name, sessions: clientSessions(realm) }));
    return {
      status: router.admitting ? 'ok' : 'stopping',
      router: 'kreuz',
      version: KREUZ_VERSION,
      node: process.versions.node,
      uptime: Math.round((Date.now() - started.getTime()) / 10) / 100,
      started: started.toISOString(),
      realms: list,
      sessions: list.reduce((n, r) => n + r.sessions, 0),
      ...(cluster && { cluster: cluster.view() }),
    };
  };

  // Before metrics: the metrics' peer wrapper must be the outermost (it finds its peers by class).
  if (tracing(log)) router.use(messageTrace(log));
  if (metrics) router.use(metrics);
  if (metaApi.has(true)) router.use(enableNodeApi(router, { router, started, metrics, cluster: () => cluster, logger: log }));

  const transports: TransportOptions[] = options.transports ?? shortFormTransports(options);
  // Before any listener: a client must not join a node that is not in its cluster yet.
  let cluster: Cluster | undefined;
  if (options.cluster) {
    const { startCluster } = await import('./cluster-node.ts');
    cluster = await startCluster(router, options.cluster, log, router.maxDepth);
    metrics?.observeCluster(cluster);
  }
  const createRealm = (name: string, roles?: RoleConfig[]) => {
    if (cluster)
      throw new WampError(ErrorUri.FEATURE_NOT_SUPPORTED, ['a node in a cluster adds realms only with a restart (of every node)']);
    if (router.realms.has(name)) throw new WampError(REALM_EXISTS, [`realm ${JSON.stringify(name)} exists`]);
    router.addRealm({ name, ...(roles && { authorizer: buildAuthorizer(name, roles, late.caller) }) });
  };
  const deleteRealm = (name: string): number => {
    if (cluster)
      throw new WampError(ErrorUri.FEATURE_NOT_SUPPORTED, ['a node in a cluster removes realms only with a restart (of every node)']);
    const closed = router.removeRealm(name);
    if (closed === undefined) throw new WampError(ErrorUri.NO_SUCH_REALM, [`no realm ${JSON.stringify(name.slice(0, 200))}`]);
    return closed;
  };

  const notReloaded = (reason: string): ReloadResult => ({ applied: [], refused: [{ path: '', reason }] });
  let self: RunningNode | undefined;
  const reloadFromSource = async (): Promise<ReloadResult> => {
    if (!self) return notReloaded('the node is still starting: nothing reloaded');
    if (stopping) return notReloaded('the node is shutting down: nothing reloaded');
    if (!self.reloadSource) return notReloaded('the node was not started from a config file: there is nothing to re-read');
    return self.reloadSource();
  };
  // Before any listener: the procedures are there for the first client.
  if (metaApiOn) attachManagementApi(router, { reload: reloadFromSource, createRealm, deleteRealm }, log);
  const listeners: RunningListener[] = [];
  const auths = new TransportAuths(caller, o.authSecret);
  const context = {
    router,
    logger: log,
    metrics,
    auth: (auth: Record<string, unknown> | undefined, where: string) => auths.build(auth, where),
    httpHandler: (websocketPaths: string[], infoPaths: string[], web?: readonly WebMount[]) =>
      httpHandler({
        metrics: metrics && { path: metricsPath, registry: metrics.registry },
        infoPaths: new Set([...infoPaths, ...(infoOptions ? [infoOptions.path ?? DEFAULTS.infoPath] : [])]),
        info,
        websocketPaths: new Set(websocketPaths),
        web,
        logger: log,
      }),
    maxMessageSize: (given: number | undefined, where: string) => {
      if (!cluster) return given;
      // A message must fit in one cluster frame: a limit above that is refused, the default lowered to it.
      const cap = cluster.maxFrame - FRAME_OVERHEAD;
      if (given === undefined) return Math.min(DEFAULTS.maxMessageSize, cap);
      if (given <= cap) return given;
      throw new Error(
        `${where}: max_message_size ${given} bytes does not fit in one cluster frame (NATS max_payload ${cluster.maxFrame} bytes, ${FRAME_OVERHEAD} of them kept for routing): lower it to at most ${cap}, or raise max_payload in nats-server`,
      );
    },
  };
  try {
    for (const [i, t] of transports.entries()) listeners.push(await startListener(t, i, context));
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    await cluster?.close();
    throw err;
  }

  const urls = listeners.flatMap((l) => l.urls);
  const first = listeners.find((l) => l.urls.some(isWebSocketUrl)) ?? listeners[0];
  const closeAll = async () => {
    router.stopAdmitting();
    for (const local of locals) await local.close();
    await Promise.all(listeners.map((l) => l.close()));
    // After the listeners: the sessions they dropped have left the registry by now.
    await cluster?.close();
  };

  let shutdownTimeout = o.shutdownTimeout;
  const reloader = new NodeReloader(
    {
      router,
      listeners,
      auths,
      caller: late.caller,
      clustered: cluster !== undefined,
      logger: log,
      metaApi: metaApiOn,
      setShutdownTimeout: (ms) => {
        shutdownTimeout = ms;
      },
    },
    options,
  );
  const reload = async (next: NodeOptions, name?: PathNamer): Promise<ReloadResult> =>
    stopping ? notReloaded('the node is shutting down: nothing reloaded') : reloader.reload(next, name);
  const shutdown = (opts: { timeout?: number } = {}): Promise<void> =>
    (stopping ??= (async () => {
      const timeout = opts.timeout ?? shutdownTimeout;
      router.stopAdmitting();
      for (const l of listeners) l.stopAccepting();
      // In a cluster, this node's callees leave the registry first: other nodes stop calling them.
      await cluster?.drain();
      const inFlight = () => router.callsInFlight() + (cluster?.callsInFlight() ?? 0);
      log.info({ callsInFlight: inFlight(), timeout }, 'shutting down');
      if (inFlight() > 0 && !(await until(() => inFlight() === 0, timeout))) {
        log.warn({ callsInFlight: inFlight() }, 'shutdown deadline reached with calls in flight');
      }
      const killed: Session[] = [];
      for (const realm of router.realms.values()) {
        for (const session of realm.sessions.values()) {
          if (!session.internal && !session.remote && session.state === 'joined') killed.push(session);
        }
      }
      // Past the deadline, callers still waiting go first: their calls end with the GOODBYE, not with a
      // "callee disconnected" error from a callee that happened to be told before them.
      killed.sort((a, b) => Number(b.calls.size > 0) - Number(a.calls.size > 0));
      for (const session of killed) router.kill(session, CloseUri.SYSTEM_SHUTDOWN, 'the router is shutting down');
      await until(() => killed.every((s) => s.state !== 'closing'), GOODBYE_WAIT_MS);
      await closeAll();
      log.info({}, 'stopped');
    })());

  self = {
    router,
    url: first?.urls.find(isWebSocketUrl) ?? first?.urls[0] ?? '',
    port: first?.port ?? 0,
    urls,
    listeners,
    logger: log,
    metrics,
    info,
    session: async (realm, sessionOptions) => {
      if (!router.admitting) throw new Error('the node is shutting down');
      const local = await LocalSession.join(router, realm, sessionOptions);
      locals.add(local);
      local.onClose(() => locals.delete(local));
      return local;
    },
    shutdown,
    close: () => (stopping ??= closeAll()),
    get cluster() {
      return cluster;
    },
    reload,
    reloadSource: undefined,
    reloadFromSource,
    createRealm,
    deleteRealm,
  };
  return self;
}

/** Resolves true once `check` holds, false after `ms`. */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return true;
}

function isWebSocketUrl(url: string): boolean {
  return /^wss?:|^ws\+unix:/.test(url);
}
