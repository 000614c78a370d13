/**
 * The page's state and its session: connecting (anonymously first),
 * asking for a login when the router refuses, refreshing every panel every
 * 2 s and on kreuz.node.on_stats, reconnecting with backoff when the
 * connection drops. Credentials live in this object only (never stored,
 * never logged), for reconnecting.
 */
import {
  Api,
  statsEvent,
  type Health,
  type Outcome,
  type RealmRow,
  type RegistrationRow,
  type SessionRow,
  type SubscriptionRow,
} from './api.ts';
import { History, type Sample } from './history.ts';
import { type Credentials, WampError, WampSession, type Welcome } from './wamp.ts';

export const REFRESH_MS = 2000;
const MAX_BACKOFF_MS = 30_000;
/** An on_stats event this recent feeds the charts; the refresh then adds no sample of its own. */
const STATS_FRESH_MS = 5000;

export interface PageConfig {
  realm: string;
  /** The WebSocket URL, resolved against the page's location. */
  url: string;
}

export type Connection = 'connecting' | 'open' | 'login' | 'closed';
export type Live = 'pending' | 'live' | 'refused' | 'missing';

export interface State {
  config: PageConfig;
  connection: Connection;
  welcome?: Welcome;
  /** What went wrong last (shown with the login form or the connection status). */
  problem?: string;
  /** The realm the tables show: undefined is the session's own. */
  realm?: string;
  health?: Outcome<Health>;
  realms?: Outcome<RealmRow[]>;
  sessions?: Outcome<SessionRow[]>;
  registrations?: Outcome<RegistrationRow[]>;
  subscriptions?: Outcome<SubscriptionRow[]>;
  /** The kreuz.node.on_stats subscription. */
  live: Live;
  updated?: number;
  history: readonly Sample[];
}

const WHY: Readonly<Record<string, string>> = {
  'wamp.error.no_auth_method': 'no login method offered is accepted here',
  'wamp.error.not_authorized': 'not authorized',
  'wamp.error.authentication_failed': 'wrong name or secret',
  'wamp.error.authorization_failed': 'not authorized',
  'wamp.error.no_such_realm': 'the realm does not exist',
  'wamp.error.no_such_role': 'the role given does not exist on this realm',
  'wamp.error.no_such_principal': 'wrong name or secret',
};

/** A refusal in words (the URI stays for whoever looks it up); keys are data, looked up with hasOwn. */
export function reasonOf(err: unknown): string {
  if (err instanceof WampError) return Object.hasOwn(WHY, err.uri) ? `${WHY[err.uri]} (${err.message})` : err.message;
  return err instanceof Error ? err.message : String(err);
}

export class Controller {
  private state: State;
  private readonly listeners = new Set<(s: State) => void>();
  private session: WampSession | undefined;
  private api: Api | undefined;
  private credentials: Credentials = { method: 'anonymous' };
  private timer: ReturnType<typeof setInterval> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private backoff = 1000;
  private refreshing = false;
  private again = false;
  private lastStats = 0;
  private readonly history = new History();
  /** Bumped by every connect and disconnect: answers of an older session are dropped. */
  private generation = 0;

  constructor(config: PageConfig) {
    this.state = { config, connection: 'connecting', live: 'pending', history: [] };
  }

  get current(): State {
    return this.state;
  }

  subscribe(listener: (s: State) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Connects anonymously, as a visitor does first. */
  start(): void {
    void this.connect({ method: 'anonymous' });
  }

  /** Shows the login form (the session stays until a login succeeds). */
  askLogin(problem?: string): void {
    this.set({ connection: 'login', problem });
  }

  cancelLogin(): void {
    if (this.session?.isOpen) this.set({ connection: 'open', problem: undefined });
  }

  login(credentials: Credentials): Promise<void> {
    return this.connect(credentials);
  }

  logout(): Promise<void> {
    return this.connect({ method: 'anonymous' });
  }

  /** Shows another realm's tables (a trusted session), or the own (undefined). */
  selectRealm(realm: string | undefined): void {
    const own = this.state.welcome?.realm;
    const next = realm === own ? undefined : realm;
    if (next === this.state.realm) return;
    this.history.clear();
    this.set({ realm: next, sessions: undefined, registrations: undefined, subscriptions: undefined, history: [] });
    void this.refresh();
  }

  private set(patch: Partial<State>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l(this.state);
  }

  private drop(): void {
    this.generation++;
    clearInterval(this.timer);
    clearTimeout(this.retry);
    this.timer = this.retry = undefined;
    const old = this.session;
    this.session = this.api = undefined;
    if (old) {
      old.onclose = () => {};
      old.close();
    }
  }

  private async connect(credentials: Credentials): Promise<void> {
    const login = credentials.method !== 'anonymous';
    this.drop();
    const generation = this.generation;
    if (!login || this.state.connection !== 'login') this.set({ connection: 'connecting' });
    let session: WampSession;
    try {
      session = await WampSession.open(this.state.config.url, this.state.config.realm, credentials);
    } catch (err) {
      if (generation !== this.generation) return;
      if (err instanceof WampError) {
        // Refused: ask who the visitor is (no retrying a login that cannot succeed).
        const problem = login
          ? `Login refused: ${reasonOf(err)}`
          : `This router does not admit anonymous visitors: ${reasonOf(err)}. Log in.`;
        this.set({ connection: 'login', problem, welcome: undefined });
      } else {
        this.credentials = credentials;
        this.scheduleReconnect(reasonOf(err));
      }
      return;
    }
    if (generation !== this.generation) {
      session.close();
      return;
    }
    this.credentials = credentials;
    this.backoff = 1000;
    this.session = session;
    this.api = new Api(session);
    this.lastStats = 0;
    this.history.clear();
    session.onclose = (reason) => {
      if (generation !== this.generation) return;
      this.session = this.api = undefined;
      clearInterval(this.timer);
      this.scheduleReconnect(`disconnected: ${reason}`);
    };
    this.set({
      connection: 'open',
      welcome: session.welcome,
      problem: undefined,
      realm: undefined,
      health: undefined,
      realms: undefined,
      sessions: undefined,
      registrations: undefined,
      subscriptions: undefined,
      live: 'pending',
      history: [],
    });
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    void this.watch(session, generation);
    await this.refresh();
  }

  private scheduleReconnect(problem: string): void {
    const wait = this.backoff;
    this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff * 2);
    this.set({ connection: 'closed', problem: `${problem}; retrying in ${Math.round(wait / 1000)} s` });
    const generation = this.generation;
    this.retry = setTimeout(() => {
      if (generation === this.generation) void this.connect(this.credentials);
    }, wait);
  }

  /** kreuz.node.on_stats for the charts, and the session meta events for quick table updates (both only when allowed). */
  private async watch(session: WampSession, generation: number): Promise<void> {
    try {
      await session.subscribe('kreuz.node.on_stats', (args) => {
        if (generation === this.generation) this.onStats(args[0]);
      });
      if (generation === this.generation) this.set({ live: 'live' });
    } catch (err) {
      const refused = err instanceof WampError && err.uri === 'wamp.error.not_authorized';
      if (generation === this.generation) this.set({ live: refused ? 'refused' : 'missing' });
    }
    for (const topic of ['wamp.session.on_join', 'wamp.session.on_leave']) {
      session.subscribe(topic, () => generation === this.generation && this.refreshSoon()).catch(() => {});
    }
  }

  private onStats(payload: unknown): void {
    const e = statsEvent(payload);
    // The event is about the session's realm: it feeds the charts while that realm is shown.
    if (this.state.realm !== undefined) return;
    this.lastStats = Date.now();
    this.history.add({
      time: e.time,
      callsPerS: e.callsPerS,
      eventsPerS: e.eventsPerS,
      loopP50: e.health.loop.p50,
      loopP99: e.health.loop.p99,
    });
    this.set({ health: { kind: 'ok', value: e.health, source: 'kreuz' }, history: this.history.all });
  }

  private soon: ReturnType<typeof setTimeout> | undefined;
  /** A refresh shortly (sessions come and go in bursts: one refresh for a burst). */
  private refreshSoon(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.refresh();
    }, 200);
  }

  /** Reads every panel once; a refresh asked for meanwhile runs right after (never two at once). */
  private async refresh(): Promise<void> {
    const api = this.api;
    if (!api) return;
    if (this.refreshing) {
      this.again = true;
      return;
    }
    this.refreshing = true;
    const generation = this.generation;
    const realm = this.state.realm;
    try {
      const [health, realms, sessions, registrations, subscriptions] = await Promise.all([
        api.health(),
        api.realms(),
        api.sessions(realm),
        api.registrations(realm),
        api.subscriptions(realm),
      ]);
      if (generation !== this.generation || realm !== this.state.realm) return;
      const patch: Partial<State> = { health, realms, sessions, registrations, subscriptions, updated: Date.now() };
      if (realm !== undefined || Date.now() - this.lastStats > STATS_FRESH_MS) {
        this.history.add(sampleOf(health, registrations, subscriptions));
        patch.history = this.history.all;
      }
      this.set(patch);
    } finally {
      this.refreshing = false;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    }
  }
}

/** A chart sample from the tables, when no on_stats event gives one: the sums of the rates shown. */
function sampleOf(health: Outcome<Health>, registrations: Outcome<RegistrationRow[]>, subscriptions: Outcome<SubscriptionRow[]>): Sample {
  const loop = health.kind === 'ok' ? health.value.loop : undefined;
  const sum = (xs: Array<number | undefined>) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);
  return {
    time: Date.now(),
    // The meta API has no rates: a table read from it gives the chart nothing (a gap, not 0).
    callsPerS:
      registrations.kind === 'ok' && registrations.source === 'kreuz' ? sum(registrations.value.map((r) => r.callsPerS)) : undefined,
    eventsPerS:
      subscriptions.kind === 'ok' && subscriptions.source === 'kreuz' ? sum(subscriptions.value.map((s) => s.eventsPerS)) : undefined,
    loopP50: loop?.p50,
    loopP99: loop?.p99,
  };
}
