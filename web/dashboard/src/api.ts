/**
 * What the page reads, and from where: the `kreuz.node.*` API first; for
 * the session, registration and subscription tables the WAMP meta API
 * (wamp.session.*, wamp.registration.*, wamp.subscription.*) when the
 * role may not call the kreuz.node procedure or the router has none (a
 * router without it, e.g. Crossbar). Every value the router sends is
 * coerced to the shape the page shows: a field of the wrong type is shown
 * as missing, never trusted as markup (Preact escapes text).
 */
import { WampError, type WampSession } from './wamp.ts';

/** A panel's data, or why there is none. */
export type Outcome<T> =
  | { kind: 'ok'; value: T; source: 'kreuz' | 'meta' }
  | { kind: 'refused'; uri: string }
  | { kind: 'missing'; uri: string }
  | { kind: 'failed'; message: string };

export interface SessionRow {
  session: number;
  authid: string;
  authrole: string;
  authmethod: string;
  authprovider: string;
  transport: string;
  serializer: string;
  peer: string;
  joined: string;
  messagesIn?: number;
  messagesOut?: number;
}

export interface RegistrationRow {
  id: number;
  uri: string;
  match: string;
  invoke: string;
  created: string;
  callees: number[];
  calls?: number;
  errors?: number;
  inFlight?: number;
  queued?: number;
  callsPerS?: number;
  p50?: number;
  p99?: number;
}

export interface SubscriptionRow {
  id: number;
  uri: string;
  match: string;
  created: string;
  subscribers: number;
  events?: number;
  eventsPerS?: number;
}

export interface RealmRow {
  name: string;
  sessions: number;
  registrations: number;
  subscriptions: number;
}

export interface ClusterNode {
  node: string;
  state: string;
  /** This node (the one the page is connected to). */
  self: boolean;
}

export interface Health {
  /** The Node.js version. */
  node: string;
  /** Kreuz's version. */
  version: string;
  started: string;
  uptimeMs: number;
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number };
  loop: { p50: number; p99: number; max: number; utilization: number };
  connections: Array<[string, number]>;
  sessions: number;
  cutoffs: Array<[string, number]>;
  limitsReached: Array<[string, number]>;
  cluster: { name: string; node: string; leader: boolean; nodes: ClusterNode[] } | null;
}

/** One kreuz.node.on_stats event, as the charts take it. */
export interface StatsEvent {
  time: number;
  health: Health;
  realm: string;
  callsPerS: number;
  eventsPerS: number;
}

// ---- coercion: the router's JSON as the page's types ----

type Dict = Record<string, unknown>;
const dict = (v: unknown): Dict => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Dict) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const opt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** A JSON object's entries with numeric values, as the page lists them (keys are data: never looked up). */
const counts = (v: unknown): Array<[string, number]> =>
  Object.entries(dict(v))
    .filter((e): e is [string, number] => typeof e[1] === 'number')
    .sort((a, b) => a[0].localeCompare(b[0]));

/** The peer address of a transport's details: Kreuz's "peer" ("tcp4:1.2.3.4:5"), or Crossbar's peer object. */
function peerOf(t: Dict): string {
  if (typeof t.peer === 'string') return t.peer;
  const p = dict(t.peer);
  if (typeof p.host === 'string') return p.port === undefined ? p.host : `${p.host}:${str(p.port)}`;
  return '';
}

export function sessionRow(v: unknown): SessionRow {
  const s = dict(v);
  const t = dict(s.transport);
  return {
    session: num(s.session),
    authid: str(s.authid),
    authrole: str(s.authrole),
    authmethod: str(s.authmethod),
    authprovider: str(s.authprovider),
    transport: str(t.type),
    serializer: str(t.serializer),
    peer: peerOf(t),
    joined: str(s.joined),
    messagesIn: opt(s.messages_in),
    messagesOut: opt(s.messages_out),
  };
}

export function registrationRow(v: unknown): RegistrationRow {
  const r = dict(v);
  const latency = r.latency_ms === null ? {} : dict(r.latency_ms);
  return {
    id: num(r.id),
    uri: str(r.uri),
    match: str(r.match),
    invoke: str(r.invoke),
    created: str(r.created),
    callees: list(r.callees).map(num),
    calls: opt(r.calls),
    errors: opt(r.errors),
    inFlight: opt(r.in_flight),
    queued: opt(r.queued),
    callsPerS: opt(r.calls_per_s),
    p50: opt(latency.p50),
    p99: opt(latency.p99),
  };
}

export function subscriptionRow(v: unknown): SubscriptionRow {
  const s = dict(v);
  return {
    id: num(s.id),
    uri: str(s.uri),
    match: str(s.match),
    created: str(s.created),
    subscribers: num(s.subscribers),
    events: opt(s.events),
    eventsPerS: opt(s.events_per_s),
  };
}

export function realmRow(v: unknown): RealmRow {
  const r = dict(v);
  return { name: str(r.name), sessions: num(r.sessions), registrations: num(r.registrations), subscriptions: num(r.subscriptions) };
}

export function health(v: unknown): Health {
  const h = dict(v);
  const m = dict(h.memory);
  const l = dict(h.event_loop);
  const c = h.cluster === null || h.cluster === undefined ? null : dict(h.cluster);
  return {
    node: str(h.node),
    version: str(h.version),
    started: str(h.started),
    uptimeMs: num(h.uptime_ms),
    memory: { rss: num(m.rss), heapUsed: num(m.heap_used), heapTotal: num(m.heap_total), external: num(m.external) },
    loop: { p50: num(l.delay_p50_ms), p99: num(l.delay_p99_ms), max: num(l.delay_max_ms), utilization: num(l.utilization) },
    connections: counts(h.connections),
    sessions: num(h.sessions),
    cutoffs: counts(h.cutoffs),
    limitsReached: counts(h.limits_reached),
    cluster: c && {
      name: str(c.name),
      node: str(c.node),
      leader: c.leader === true,
      nodes: list(c.nodes).map((n) => {
        const d = dict(n);
        return { node: str(d.node), state: str(d.state), self: d.self === true };
      }),
    },
  };
}

export function statsEvent(v: unknown): StatsEvent {
  const e = dict(v);
  const r = dict(e.realm);
  const time = Date.parse(str(e.time));
  return {
    time: Number.isNaN(time) ? Date.now() : time,
    health: health(e.health),
    realm: str(r.name),
    callsPerS: num(r.calls_per_s),
    eventsPerS: num(r.events_per_s),
  };
}

// ---- reading ----

const REFUSED = new Set(['wamp.error.not_authorized', 'wamp.error.authorization_failed']);
const MISSING = new Set(['wamp.error.no_such_procedure']);

/** An error as a panel shows it. */
function outcomeOf(err: unknown): Outcome<never> {
  if (err instanceof WampError && REFUSED.has(err.uri)) return { kind: 'refused', uri: err.uri };
  if (err instanceof WampError && MISSING.has(err.uri)) return { kind: 'missing', uri: err.uri };
  return { kind: 'failed', message: err instanceof Error ? err.message : String(err) };
}

/** The meta API fallback reads at most this many items per table (each is one call more per refresh). */
export const META_ITEMS = 100;
/** Detail calls of the meta fallback in flight at once (the client bounds its pending calls). */
const META_PARALLEL = 16;

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export class Api {
  /** Tables whose kreuz.node procedure was refused or missing: read from the meta API until the next reconnect. */
  private readonly viaMeta = new Set<string>();

  constructor(private readonly session: WampSession) {}

  async health(): Promise<Outcome<Health>> {
    return this.one('kreuz.node.get_health', [], health);
  }

  async realms(): Promise<Outcome<RealmRow[]>> {
    return this.one('kreuz.node.list_realms', [], (v) => list(v).map(realmRow));
  }

  /** `realm`: another realm than the session's (only a trusted session may ask). */
  sessions(realm?: string): Promise<Outcome<SessionRow[]>> {
    return this.table(
      'kreuz.node.list_sessions',
      realm,
      (v) => list(v).map(sessionRow),
      () => this.metaSessions(),
    );
  }

  registrations(realm?: string): Promise<Outcome<RegistrationRow[]>> {
    return this.table(
      'kreuz.node.list_registrations',
      realm,
      (v) => list(v).map(registrationRow),
      () => this.metaRegistrations(),
    );
  }

  subscriptions(realm?: string): Promise<Outcome<SubscriptionRow[]>> {
    return this.table(
      'kreuz.node.list_subscriptions',
      realm,
      (v) => list(v).map(subscriptionRow),
      () => this.metaSubscriptions(),
    );
  }

  private async one<T>(procedure: string, args: unknown[], shape: (v: unknown) => T): Promise<Outcome<T>> {
    try {
      const [value] = await this.session.call(procedure, args);
      return { kind: 'ok', value: shape(value), source: 'kreuz' };
    } catch (err) {
      return outcomeOf(err);
    }
  }

  /** A table from kreuz.node, else (own realm only: the meta API knows no other) from the meta API. */
  private async table<T>(
    procedure: string,
    realm: string | undefined,
    shape: (v: unknown) => T,
    meta: () => Promise<T>,
  ): Promise<Outcome<T>> {
    if (realm !== undefined || !this.viaMeta.has(procedure)) {
      const got = await this.one(procedure, realm === undefined ? [] : [realm], shape);
      if (got.kind === 'ok' || realm !== undefined || (got.kind !== 'refused' && got.kind !== 'missing')) return got;
      this.viaMeta.add(procedure);
    }
    try {
      return { kind: 'ok', value: await meta(), source: 'meta' };
    } catch (err) {
      return outcomeOf(err);
    }
  }

  private async first<T>(procedure: string, args: unknown[] = []): Promise<T> {
    return (await this.session.call(procedure, args))[0] as T;
  }

  private async metaSessions(): Promise<SessionRow[]> {
    const ids = list(await this.first('wamp.session.list')).slice(0, META_ITEMS);
    const rows = await mapLimited(ids, META_PARALLEL, (id) => this.first('wamp.session.get', [id]).then(sessionRow, gone));
    return rows.filter((r): r is SessionRow => r !== undefined);
  }

  private async metaRegistrations(): Promise<RegistrationRow[]> {
    const ids = allIds(await this.first('wamp.registration.list'));
    const rows = await mapLimited(ids, META_PARALLEL / 2, async (id) => {
      try {
        const [details, callees] = await Promise.all([
          this.first('wamp.registration.get', [id]),
          this.first('wamp.registration.list_callees', [id]),
        ]);
        return { ...registrationRow(details), callees: list(callees).map(num) };
      } catch (err) {
        return gone(err);
      }
    });
    return rows.filter((r): r is RegistrationRow => r !== undefined);
  }

  private async metaSubscriptions(): Promise<SubscriptionRow[]> {
    const ids = allIds(await this.first('wamp.subscription.list'));
    const rows = await mapLimited(ids, META_PARALLEL / 2, async (id) => {
      try {
        const [details, subscribers] = await Promise.all([
          this.first('wamp.subscription.get', [id]),
          this.first('wamp.subscription.count_subscribers', [id]),
        ]);
        return { ...subscriptionRow(details), subscribers: num(subscribers) };
      } catch (err) {
        return gone(err);
      }
    });
    return rows.filter((r): r is SubscriptionRow => r !== undefined);
  }
}

/** The ids of a wamp.registration.list / wamp.subscription.list answer ({exact, prefix, wildcard}). */
function allIds(v: unknown): unknown[] {
  const d = dict(v);
  return [...list(d.exact), ...list(d.prefix), ...list(d.wildcard)].slice(0, META_ITEMS);
}

/** An item that went away between the list and its details (wamp.error.no_such_session, ...) is left out; any other error is the panel's. */
function gone(err: unknown): undefined {
  if (err instanceof WampError && err.uri.startsWith('wamp.error.no_such_') && !MISSING.has(err.uri)) return undefined;
  throw err;
}
