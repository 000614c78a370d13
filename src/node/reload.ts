/**
 * Reloading a running node (`RunningNode.reload`, what SIGHUP, `kreuz
 * reload` and kreuz.node.reload come to): the node's options as they are
 * now against the new ones, and what can change without dropping a session
 * applied, while everything else is refused with its path and why (a
 * restart applies it).
 *
 * Live: realms added (with the meta API and every per-realm service) and
 * removed (their sessions get GOODBYE wamp.close.close_realm), a realm's
 * roles (a new authorizer, with an empty cache of dynamic decisions; what a
 * session holds that the new roles refuse is revoked), every transport
 * `auth` block (principals, keys, secrets, dynamic authenticators), the TLS
 * certificate, key, CA, DH parameters and ciphers of a listener (for
 * connections accepted from then on), the limits, `authSecret` and the
 * shutdown timeout. Not live: what a listener is (type, endpoint, paths,
 * serializers, options; TLS on or off), transports added or removed, a
 * running realm's event history, the meta API, the call queue limit,
 * metrics, node info, the cluster, and, in a cluster, realms added or
 * removed and the message depth limit.
 *
 * Everything is decided and applied synchronously: no message is handled
 * half-way through a reload.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { SecureContextOptions } from 'node:tls';
import { formatPath } from '../config/errors.ts';
import { allowAll } from '../core/authorization.ts';
import type { HistoryConfig } from '../core/event-store.ts';
import { DEFAULT_LIMITS, type Limits } from '../core/limits.ts';
import type { Logger } from '../core/logger.ts';
import type { Realm, RealmConfig } from '../core/realm.ts';
import type { Router } from '../core/router.ts';
import { buildAuthorizer, type ProcedureCaller, type RoleAuthorizer, type RoleConfig } from '../authz/roles.ts';
import { secureContextOptions, type TlsOptions } from '../transports/tls.ts';
import type { RunningListener } from './listeners.ts';
import { DEFAULTS, withoutUndefined, type AuthConfig, type NodeOptions, type RealmOptions, type TransportOptions } from './options.ts';
import type { TransportAuths } from './security.ts';

/** What a reload did: what took effect, and what did not, with why. */
export interface ReloadResult {
  applied: string[];
  refused: Array<{ path: string; reason: string }>;
}

export type ConfigPath = readonly PropertyKey[];

/**
 * How a path in the node's options is named in the result (the CLI names
 * them as in the config file). `realm` is the realm a path under `realms` is about.
 */
export type PathNamer = (path: ConfigPath, realm?: string) => string;

/** A realm as the node runs it: its defaults filled in. */
interface RunningRealm {
  name: string;
  roles?: RoleConfig[];
  eventHistory: HistoryConfig[];
  metaApi: boolean;
}

/** The node's options with their defaults filled in, as a reload compares them. */
export interface NodeSettings {
  realms: RunningRealm[];
  transports: TransportOptions[];
  limits: Limits;
  authSecret: string | undefined;
  shutdownTimeout: number;
  callQueueLimit: number;
  metrics: NodeOptions['metrics'];
  info: NodeOptions['info'];
  cluster: NodeOptions['cluster'];
}

/** The one WebSocket listener of the short form (host, port, path, ...), when `transports` is not given. */
export function shortFormTransports(options: NodeOptions): TransportOptions[] {
  const o = { ...DEFAULTS, ...withoutUndefined(options) };
  return [
    {
      type: 'websocket',
      endpoint: { host: o.host, port: o.port },
      path: o.path,
      serializers: o.serializers,
      maxMessageSize: options.maxMessageSize,
      compression: o.compression,
      maxSendBuffer: o.maxSendBuffer,
    },
  ];
}

export function settingsOf(options: NodeOptions): NodeSettings {
  const o = { ...DEFAULTS, ...withoutUndefined(options) };
  return {
    realms: o.realms.map((r): RunningRealm => {
      const realm: RealmOptions = typeof r === 'string' ? { name: r } : r;
      return {
        name: realm.name,
        ...(realm.roles && { roles: realm.roles }),
        eventHistory: realm.eventHistory ?? options.eventHistory ?? [],
        metaApi: realm.metaApi ?? o.metaApi,
      };
    }),
    transports: options.transports ?? shortFormTransports(options),
    limits: { ...DEFAULT_LIMITS, ...withoutUndefined(options.limits ?? {}) },
    authSecret: options.authSecret,
    shutdownTimeout: o.shutdownTimeout,
    callQueueLimit: o.callQueueLimit,
    metrics: options.metrics ?? false,
    info: options.info ?? false,
    cluster: options.cluster,
  };
}

/** A fingerprint of loaded TLS settings: whether a reload brings new ones (the key material itself is not kept twice). */
export function tlsFingerprint(context: SecureContextOptions): string {
  return createHash('sha256').update(JSON.stringify(context)).digest('hex');
}

/** The fingerprint of TLS settings a listener was just started with; unreadable now: none, so the next readable ones count as new. */
function loadedFingerprint(tls: TlsOptions): string | undefined {
  try {
    return tlsFingerprint(secureContextOptions(tls));
  } catch {
    return undefined;
  }
}

/** What the reload needs of the running node. */
export interface ReloadTarget {
  router: Router;
  listeners: readonly RunningListener[];
  auths: TransportAuths;
  /** Calls dynamic authorizers. */
  caller: ProcedureCaller;
  clustered: boolean;
  logger: Logger;
  /** The meta API (and with it the node and management APIs) on every realm, or on none. */
  metaApi: boolean;
  setShutdownTimeout(ms: number): void;
}

const RESTART = 'a restart applies it';
/** Differences reported per transport before the rest are summed up in one line. */
const MAX_DIFFERENCES = 10;

/**
 * The reloads of one running node: it keeps what the node runs on (the
 * settings, the TLS each listener has loaded) and changes it by each reload.
 */
export class NodeReloader {
  private settings: NodeSettings;
  /** The fingerprint of what each listener's TLS has loaded (undefined: no TLS). */
  private readonly tls: Array<string | undefined>;

  constructor(
    private readonly target: ReloadTarget,
    options: NodeOptions,
  ) {
    this.settings = settingsOf(options);
    this.tls = this.settings.transports.map((t) => (t.tls ? loadedFingerprint(t.tls) : undefined));
  }

  /** Applies what can change live of `next`, refuses the rest; `name` names the paths in the result. */
  reload(next: NodeOptions, name: PathNamer = (path) => formatPath(path)): ReloadResult {
    const run = new ReloadRun(this.target, this.settings, settingsOf(next), this.tls, name);
    this.settings = run.apply();
    const result = run.result();
    const log = this.target.logger;
    for (const line of result.applied) log.info({}, `reload: applied ${line}`);
    for (const r of result.refused) log.warn({}, `reload: refused ${r.path}: ${r.reason}`);
    log.info({ applied: result.applied.length, refused: result.refused.length }, 'reload done');
    return result;
  }

  /** The settings the node runs on now. */
  get current(): NodeSettings {
    return this.settings;
  }
}

/** One reload: compares, applies, and keeps the account. */
class ReloadRun {
  private readonly applied: string[] = [];
  private readonly refused: Array<{ path: string; reason: string }> = [];

  constructor(
    private readonly target: ReloadTarget,
    private readonly now: NodeSettings,
    private readonly next: NodeSettings,
    private readonly tls: Array<string | undefined>,
    private readonly name: PathNamer,
  ) {}

  result(): ReloadResult {
    return { applied: this.applied, refused: this.refused };
  }

  private done(path: ConfigPath, what: string, realm?: string): void {
    this.applied.push(`${this.name(path, realm)}: ${what}`);
  }

  private refuse(path: ConfigPath, reason: string, realm?: string): void {
    this.refused.push({ path: this.name(path, realm), reason });
  }

  /** Applies what it can; returns the settings the node runs on afterwards. */
  apply(): NodeSettings {
    const { now, next } = this;
    const limits = this.limits();
    const secretChanged = now.authSecret !== next.authSecret;
    const transports = this.transports(secretChanged);
    if (secretChanged) this.done(['authSecret'], 'replaced (challenges for unknown principals derive from it)');
    if (now.shutdownTimeout !== next.shutdownTimeout) {
      this.target.setShutdownTimeout(next.shutdownTimeout);
      this.done(['shutdownTimeout'], `${now.shutdownTimeout} -> ${next.shutdownTimeout} ms`);
    }
    for (const key of ['callQueueLimit', 'metrics', 'info'] as const) {
      if (!isDeepStrictEqual(now[key], next[key])) this.refuse([key], `changes only with a restart: ${RESTART}`);
    }
    if (!isDeepStrictEqual(now.cluster, next.cluster)) this.refuse(['cluster'], `cluster settings change only with a restart: ${RESTART}`);
    const realms = this.realms();
    return {
      ...now,
      realms,
      transports,
      limits,
      authSecret: next.authSecret,
      shutdownTimeout: next.shutdownTimeout,
    };
  }

  // ---- limits ----

  private limits(): Limits {
    const { now, next } = this;
    const limits = { ...next.limits };
    if (this.target.clustered && limits.maxDepth !== now.limits.maxDepth) {
      this.refuse(['limits', 'maxDepth'], `in a cluster, the message depth limit changes only with a restart of every node: ${RESTART}`);
      limits.maxDepth = now.limits.maxDepth;
    }
    const changed = (Object.keys(limits) as Array<keyof Limits>).filter((key) => limits[key] !== now.limits[key]);
    if (changed.length === 0) return now.limits;
    this.target.router.setLimits(limits);
    for (const key of changed) this.done(['limits', key], `${now.limits[key]} -> ${limits[key]}`);
    return limits;
  }

  // ---- realms ----

  private realms(): RunningRealm[] {
    const { now, next, target } = this;
    const router = target.router;
    const before = new Map(now.realms.map((r) => [r.name, r]));
    const after = new Set(next.realms.map((r) => r.name));
    const kept: RunningRealm[] = [];
    next.realms.forEach((wanted, index) => {
      const path = ['realms', index];
      const was = before.get(wanted.name);
      if (wanted.metaApi !== target.metaApi) {
        this.refuse(
          [...path, 'metaApi'],
          `the meta API is on for every realm or for none, and turned on or off only with a restart: ${RESTART}`,
          wanted.name,
        );
      }
      const running = router.realms.get(wanted.name);
      if (!running) {
        if (target.clustered) {
          this.refuse(path, `a node in a cluster adds realms only with a restart (of every node): ${RESTART}`, wanted.name);
          if (was) kept.push(was);
          return;
        }
        router.addRealm(this.realmConfig(wanted));
        this.done(path, `realm "${wanted.name}" added`, wanted.name);
        kept.push({ ...wanted, metaApi: target.metaApi });
        return;
      }
      const history = was?.eventHistory ?? [];
      if (!isDeepStrictEqual(history, wanted.eventHistory)) {
        this.refuse(
          [...path, 'eventHistory'],
          `the event history of a running realm changes only with a restart (or remove the realm in one reload and add it in the next): ${RESTART}`,
          wanted.name,
        );
      }
      this.roles(running, path, was?.roles, wanted.roles, was === undefined);
      kept.push({ ...wanted, eventHistory: history, metaApi: target.metaApi });
    });
    now.realms.forEach((gone, index) => {
      if (after.has(gone.name)) return;
      if (target.clustered) {
        this.refuse(
          ['realms'],
          `a node in a cluster removes realms only with a restart (of every node): realm "${gone.name}" stays; ${RESTART}`,
        );
        kept.push(gone);
        return;
      }
      const closed = router.removeRealm(gone.name, `realm "${gone.name}" was removed from the configuration`);
      if (closed !== undefined)
        this.done(['realms', index], `realm "${gone.name}" removed (${plural(closed, 'session')} closed)`, gone.name);
    });
    return kept;
  }

  /**
   * A running realm's roles: a new authorizer when they changed, or when
   * they have a dynamic authorizer (its cached answers go with the old one).
   */
  private roles(realm: Realm, path: ConfigPath, before: RoleConfig[] | undefined, after: RoleConfig[] | undefined, adopted: boolean): void {
    const changed = adopted || !isDeepStrictEqual(before, after);
    const dynamic = after?.some((role) => role.authorizer !== undefined) === true;
    if (!changed && !dynamic) return;
    let authorizer: RoleAuthorizer | undefined;
    try {
      authorizer = after ? buildAuthorizer(realm.name, after, this.target.caller) : undefined;
    } catch (err) {
      return this.refuse([...path, 'roles'], `${message(err)}; the roles in force stay`, realm.name);
    }
    realm.replaceAuthorizer(authorizer ?? allowAll);
    if (!changed) return;
    const revoked = authorizer
      ? realm.revokeWhere((session, uri, action, match) => authorizer.decideNow(session, uri, action, { match })?.allow === false)
      : 0;
    const what = adopted ? 'the configured roles' : after ? 'new roles' : 'no roles (every session may do everything)';
    this.done(
      [...path, 'roles'],
      `realm "${realm.name}" has ${what}${revoked ? `; ${plural(revoked, 'registration or subscription', 'registrations or subscriptions')} they refuse revoked` : ''}`,
      realm.name,
    );
  }

  private realmConfig(realm: RunningRealm): RealmConfig {
    return {
      name: realm.name,
      eventHistory: realm.eventHistory,
      ...(realm.roles && { authorizer: buildAuthorizer(realm.name, realm.roles, this.target.caller) }),
    };
  }

  // ---- transports ----

  private transports(secretChanged: boolean): TransportOptions[] {
    const { now, next } = this;
    const out: TransportOptions[] = [];
    now.transports.forEach((current, index) => {
      const wanted = next.transports[index];
      if (wanted === undefined) {
        this.refuse(['transports', index], `transports are added or removed only with a restart: this one keeps running; ${RESTART}`);
        out.push(current);
      } else if (wanted.type !== current.type) {
        this.refuse(['transports', index, 'type'], `a transport's type changes only with a restart: ${RESTART}`);
        out.push(current);
      } else out.push(this.transport(index, current, wanted, secretChanged));
    });
    for (let index = now.transports.length; index < next.transports.length; index++) {
      this.refuse(['transports', index], `transports are added or removed only with a restart: this one is not started; ${RESTART}`);
    }
    return out;
  }

  /** One transport of the same type: its auth blocks and TLS live, anything else refused. Returns what it runs on afterwards. */
  private transport(index: number, current: TransportOptions, wanted: TransportOptions, secretChanged: boolean): TransportOptions {
    const base = ['transports', index];
    const auths = this.target.auths;
    const blocks: Array<{ path: PropertyKey[]; config: AuthConfig | undefined }> = [];
    const differences: PropertyKey[][] = [];
    const special = (path: PropertyKey[]) => {
      if (path.length === 1 && path[0] === 'tls') return true;
      if (path[path.length - 1] !== 'auth' || !auths.has(formatPath([...base, ...path]))) return false;
      blocks.push({ path, config: valueAt(wanted, path) as AuthConfig | undefined });
      return true;
    };
    differ(current, wanted, [], special, differences);
    for (const path of differences.slice(0, MAX_DIFFERENCES)) {
      this.refuse([...base, ...path], refusalOf(path));
    }
    if (differences.length > MAX_DIFFERENCES) {
      this.refuse(base, `${differences.length - MAX_DIFFERENCES} more settings of this transport differ: they change only with a restart`);
    }
    let running = current;
    for (const { path, config } of blocks) {
      const before = valueAt(current, path);
      if (!secretChanged && isDeepStrictEqual(before, config)) continue;
      const where = formatPath([...base, ...path]);
      try {
        auths.swap(where, config, this.next.authSecret);
      } catch (err) {
        this.refuse([...base, ...path], `${message(err)}; the authentication in force stays`);
        continue;
      }
      running = setAt(running, path, config);
      if (!isDeepStrictEqual(before, config)) this.done([...base, ...path], 'authentication replaced for the next session');
    }
    return this.tlsOf(index, running, wanted);
  }

  private tlsOf(index: number, running: TransportOptions, wanted: TransportOptions): TransportOptions {
    const path = ['transports', index, 'tls'];
    const had = running.tls;
    const wants = wanted.tls;
    if (had === undefined && wants === undefined) return running;
    if (had === undefined || wants === undefined) {
      this.refuse(path, `TLS is turned on or off only with a restart (certificates and keys reload live): ${RESTART}`);
      return running;
    }
    let context: SecureContextOptions;
    try {
      context = secureContextOptions(wants);
    } catch (err) {
      this.refuse(path, `cannot read: ${message(err)}; the certificate in force stays`);
      return running;
    }
    const fingerprint = tlsFingerprint(context);
    if (fingerprint === this.tls[index]) return { ...running, tls: wants };
    const listener = this.target.listeners[index];
    try {
      if (!listener?.setSecureContext) throw new Error('this listener cannot swap its TLS settings');
      listener.setSecureContext(context);
    } catch (err) {
      this.refuse(path, `${message(err)}; the certificate in force stays`);
      return running;
    }
    this.tls[index] = fingerprint;
    this.done(path, 'certificate and key replaced for new connections (open ones keep theirs)');
    return { ...running, tls: wants as TlsOptions };
  }
}

/** Why a difference in a transport is refused. */
function refusalOf(path: readonly PropertyKey[]): string {
  switch (path[0]) {
    case 'endpoint':
      return `the listening address changes only with a restart; the listener keeps serving where it listens: ${RESTART}`;
    case 'paths':
      return `a transport's paths and their services change only with a restart: ${RESTART}`;
    default:
      return `a transport's settings (other than its auth blocks and TLS certificates) change only with a restart: ${RESTART}`;
  }
}

/**
 * The paths where `a` and `b` differ, leaf by leaf through plain objects (a
 * list that differs is one difference); `special(path)` claims a path that
 * is compared elsewhere (auth blocks, TLS).
 */
function differ(a: unknown, b: unknown, path: PropertyKey[], special: (path: PropertyKey[]) => boolean, out: PropertyKey[][]): void {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const at = [...path, key];
      if (special(at)) continue;
      differ(Object.hasOwn(a, key) ? a[key] : undefined, Object.hasOwn(b, key) ? b[key] : undefined, at, special, out);
    }
    return;
  }
  // A block that appears or goes is still an auth block where a transport has one.
  if ((a === undefined && isPlainObject(b)) || (b === undefined && isPlainObject(a))) {
    const present = (a ?? b) as Record<string, unknown>;
    const keys = Object.keys(present).filter((key) => !special([...path, key]));
    if (keys.length > 0) out.push(path);
    return;
  }
  if (!isDeepStrictEqual(a, b)) out.push(path);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at = value;
  for (const key of path) {
    if (!isPlainObject(at) || !Object.hasOwn(at, key)) return undefined;
    at = at[key as string];
  }
  return at;
}

/** `value` with `replacement` at `path`, the objects along it copied (the rest shared). */
function setAt<T>(value: T, path: readonly PropertyKey[], replacement: unknown): T {
  if (path.length === 0) return replacement as T;
  const [head, ...rest] = path;
  const copy: Record<PropertyKey, unknown> = { ...(isPlainObject(value) ? value : {}) };
  copy[head] = setAt(copy[head], rest, replacement);
  if (copy[head] === undefined) delete copy[head];
  return copy as T;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
