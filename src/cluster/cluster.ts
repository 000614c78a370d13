/**
 * One realm across many nodes (docs/clustering.md, ../shared/CLUSTER.md).
 * `attachCluster(router, options)` plugs a node into its cluster through
 * the router's extension surface; the core does not know it exists.
 *
 * - The registry (KV, records.ts) holds registrations with their callees in
 *   cluster order, sessions and subscriptions. Every node watches it and
 *   mirrors what other nodes hold into its own dealer and broker as proxy
 *   sessions (remote-peer.ts), so routing stays local and synchronous.
 * - A REGISTER that would create or join a registration is claimed in KV
 *   first (a gate: the session's later messages wait): create-only for a new
 *   registration, compare-and-set to join one. So `single` is unique
 *   cluster-wide and `first`/`last` follow one order.
 * - A call to a proxy callee is one INV frame to its node, answered by RES /
 *   ERR frames; cancel, progress and timeouts run on the caller's node.
 * - A publication is dispatched locally and broadcast once (PUB) with its ID.
 * - Membership (membership.ts): a dead node's proxies are dropped at once
 *   everywhere (calls to it end with wamp.error.canceled), and the lowest
 *   live node removes its entries from the registry.
 */
import { MessageType as T } from '../wamp/codes.ts';
import { IdSequence, randomId } from '../wamp/ids.ts';
import { PASSTHRU_KEYS } from '../wamp/payload.ts';
import type { Call, Dict } from '../wamp/messages.ts';
import { isReservedPattern, isReservedUri, isValidPattern, type MatchPolicy } from '../wamp/uri-syntax.ts';
import { CloseUri, CrossbarUri, ErrorUri, KreuzUri } from '../wamp/uris.ts';
import type { Publication } from '../core/broker.ts';
import type { GateVerdict, GuardedMessage } from '../core/extensions.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { Realm } from '../core/realm.ts';
import { Callee, type InvokePolicy, type Registration } from '../core/registration.ts';
import type { Router } from '../core/router.ts';
import { Session } from '../core/session.ts';
import type { Subscription } from '../core/subscription.ts';
import { BackplaneUnavailable, KvConflict, type Backplane, type KvChange, type KvWatch } from './backplane.ts';
import { F, decodeFrame, dictOr, encodeFrame, isWampId, payloadElements, payloadField, stringOr } from './frames.ts';
import { HB_CHANNEL, Membership } from './membership.ts';
import { deadKey, hashName, nodeKey, registrationKey, retainedKey, sessionKey, subscriptionId, subscriptionKey } from './names.ts';
import { CLUSTER_DEFAULTS, type ClusterOptions } from './options.ts';
import {
  encodeRecord,
  registrationRecord,
  retainedRecord,
  sessionRecord,
  subscriptionRecord,
  type CalleeEntry,
  type RegistrationRecord,
  type SessionRecord,
  type SubscriptionRecord,
} from './records.ts';
import { RemotePeer, type FrameSink } from './remote-peer.ts';

export const PUB_CHANNEL = 'pub';
/** How long the registry keeps the record of a node's death. */
const DEATH_RECORD_MS = 10 * 60 * 1000;
/** How long a claim waits for its own write to come back through the watch. */
const MIRROR_WAIT_MS = 2000;
const CLAIM_TRIES = 6;

/** What one realm's mirror holds. */
interface RealmState {
  realm: Realm;
  /** Sessions of other nodes, by session ID. */
  proxies: Map<number, Session>;
  /** Per other node: the proxy its callers' calls come from, and the one its publications come from. */
  callers: Map<string, Session>;
  publishers: Map<string, Session>;
  registrations: Map<string, RegistrationRecord>;
  subscriptions: Map<string, SubscriptionRecord>;
  /** The revision each registration key was last applied at: an older one arriving later is ignored. */
  revisions: Map<string, number>;
}

/** Counters for /metrics and /info. */
export interface ClusterStats {
  framesIn: number;
  framesOut: number;
  claimsWon: number;
  claimsLost: number;
  deadCleanups: number;
  /** Cross-node calls answered, and their summed latency (ms) from INV to the final RES/ERR. */
  remoteCalls: number;
  remoteCallMs: number;
}

export interface ClusterView {
  name: string;
  node: string;
  incarnation: number;
  leader: boolean;
  nodes: Array<{ node: string; self: boolean }>;
  stats: ClusterStats;
}

interface PendingCall {
  proxy: Session;
  sent: number;
}

export class Cluster implements FrameSink {
  readonly node: string;
  readonly stats: ClusterStats = {
    framesIn: 0,
    framesOut: 0,
    claimsWon: 0,
    claimsLost: 0,
    deadCleanups: 0,
    remoteCalls: 0,
    remoteCallMs: 0,
  };
  /** Observes latencies of cross-node calls (ms), e.g. a histogram in the node's metrics. */
  onRemoteCall: ((ms: number) => void) | undefined;
  private readonly membership: Membership;
  private readonly realms = new Map<string, RealmState>();
  /** Realms by the hash their keys carry. */
  private readonly realmByHash = new Map<string, RealmState>();
  /** INVOCATION IDs of every proxy callee: (this node, cid) is unique, so one caller proxy per node serves the other side. */
  private readonly cids = new IdSequence();
  private readonly pending = new Map<number, PendingCall>();
  /** The incarnation of its node each proxy session belongs to. */
  private readonly proxyIncarnations = new WeakMap<Session, number>();
  /** The highest registry revision applied, and who waits for one. */
  private revision = 0;
  private waiters: Array<{ revision: number; resolve: () => void }> = [];
  /** Writes in flight, so that close() can wait for them. */
  private readonly writes = new Set<Promise<unknown>>();
  /** Subscription keys whose local subscribers changed, written once per turn. */
  private readonly dirtySubscriptions = new Map<string, { state: RealmState; uri: string; match: MatchPolicy }>();
  private subscriptionFlush: Promise<void> | undefined;
  private watch: KvWatch | undefined;
  private deathWatch: KvWatch | undefined;
  /** Deaths the registry recorded (`dead.<node>.<incarnation>`), by node. */
  private readonly confirmedDead = new Map<string, Set<number>>();
  private closed = false;
  /** The registry's state is being loaded (until the watch has delivered it). */
  private loading = true;

  constructor(
    private readonly router: Router,
    private readonly backplane: Backplane,
    private readonly o: { name: string; heartbeat: number; deadAfter: number; log: Logger; maxDepth: number },
  ) {
    this.node = backplane.node;
    this.membership = new Membership(
      backplane,
      { ...o, confirmedDead: (node, inc) => this.confirmedDead.get(node)?.has(inc) === true },
      {
        alive: (node) => this.o.log.info({ node }, 'cluster: node joined'),
        dead: (node, incarnation) => this.nodeDied(node, incarnation),
        fenced: () => this.fenced(),
        revived: (node) => this.revived(node),
      },
    );
    for (const realm of router.realms.values()) {
      const state: RealmState = {
        realm,
        proxies: new Map(),
        callers: new Map(),
        publishers: new Map(),
        registrations: new Map(),
        subscriptions: new Map(),
        revisions: new Map(),
      };
      this.realms.set(realm.name, state);
      this.realmByHash.set(hashName(realm.name), state);
      realm.dealer.claimed = (uri, match) => {
        const record = state.registrations.get(registrationKey(realm.name, match, uri));
        return record && { id: record.id, created: new Date(record.created) };
      };
      realm.broker.subscriptionId = (uri, match) => subscriptionId(realm.name, match, uri);
    }
  }

  get incarnation(): number {
    return this.membership.incarnation;
  }

  /** The largest frame the backplane carries. */
  get maxFrame(): number {
    return this.backplane.maxFrame;
  }

  /** Loads the registry, announces this node, and starts serving frames. */
  async start(): Promise<void> {
    this.backplane.onFrame((frame) => this.received(frame));
    this.backplane.onStatus((status) => this.statusChanged(status));
    this.backplane.listen(PUB_CHANNEL);
    this.deathWatch = await this.backplane.watch('dead.', (change) => this.deathRecorded(change));
    this.watch = await this.backplane.watch('r.', (change) => this.changed(change));
    this.loading = false;
    // What this node ID left behind in an earlier life is stale: this incarnation starts clean.
    this.cleanUp(this.node, (incarnation) => incarnation !== this.incarnation);
    await this.backplane.put(nodeKey(this.node), encodeRecord({ node: this.node, incarnation: this.incarnation }));
    this.membership.start();
    // Nodes in the registry that are not heard from within dead_after are gone (a crash while nobody watched).
    setTimeout(() => this.sweepSilentNodes(), this.o.deadAfter + this.o.heartbeat).unref();
    this.router.use({ gate: (session, msg) => this.gate(session, msg), events: this.localEvents() });
  }

  /**
   * Shutdown, step 1: this node's callees leave the registry, so other nodes
   * stop sending calls here while the ones in flight finish (callsInFlight).
   */
  async drain(): Promise<void> {
    for (const left of this.leaveRecords(this.node, () => true)) this.write(left);
    await this.settled();
  }

  /** Takes `node`'s callees (of the incarnations `which` selects) out of every registration record the mirror knows. */
  private leaveRecords(node: string, which: (incarnation: number) => boolean): Array<Promise<void>> {
    const writes: Array<Promise<void>> = [];
    for (const state of this.realms.values()) {
      for (const record of state.registrations.values()) {
        for (const c of record.callees) {
          if (c.node === node && which(c.incarnation)) writes.push(this.leaveRecord(state, record.uri, record.match, c.session, node));
        }
      }
    }
    return writes;
  }

  /** Calls from other nodes that this node's callees are working on. */
  callsInFlight(): number {
    let n = 0;
    for (const state of this.realms.values()) for (const caller of state.callers.values()) n += caller.calls.size;
    return n;
  }

  /** Leaves the cluster: this node's entries go, then a BYE. Local sessions are closed by the node first. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.settled();
    this.cleanUp(this.node, () => true);
    await this.settled();
    this.membership.stop(true);
    this.watch?.stop();
    this.deathWatch?.stop();
    await this.backplane.close();
  }

  view(): ClusterView {
    return {
      name: this.o.name,
      node: this.node,
      incarnation: this.incarnation,
      leader: this.membership.isLeader(),
      nodes: [{ node: this.node, self: true }, ...this.membership.live().map((node) => ({ node, self: false }))],
      stats: { ...this.stats },
    };
  }

  // ---- FrameSink (the proxies' peers) ----

  sendTo(node: string, realm: string, type: F, body: unknown[]): void {
    this.stats.framesOut++;
    this.backplane.send(node, encodeFrame(type, this.node, this.incarnation, realm, body));
  }

  invoked(cid: number, session: Session): void {
    this.pending.set(cid, { proxy: session, sent: performance.now() });
  }

  isInvoked(cid: number): boolean {
    return this.pending.has(cid);
  }

  forget(cid: number): void {
    this.pending.delete(cid);
  }

  // ---- this node's sessions ----

  private localEvents() {
    const local = (session: Session) => !session.internal && !session.remote && this.realms.has(session.realm?.name ?? '');
    return {
      join: (session: Session) => {
        if (local(session)) this.write(this.backplane.create(sessionKey(session.realm!.name, session.id), this.sessionValue(session)));
      },
      leave: (session: Session) => {
        if (local(session)) this.write(this.backplane.delete(sessionKey(session.realm!.name, session.id)));
      },
      calleeAdded: (session: Session, registration: Registration) => {
        if (!local(session) || isReservedPattern(registration.uri)) return;
        const state = this.realms.get(session.realm!.name)!;
        const record = state.registrations.get(registrationKey(state.realm.name, registration.match, registration.uri));
        if (record?.callees.some((c) => c.node === this.node && c.session === session.id)) this.reorder(registration, record);
        else this.write(this.claimLate(state, session, registration));
      },
      calleeRemoved: (session: Session, registration: Registration) => {
        if (local(session) && !isReservedPattern(registration.uri)) {
          this.write(this.leaveRecord(this.realms.get(session.realm!.name)!, registration.uri, registration.match, session.id));
        }
      },
      subscriberAdded: (session: Session, subscription: Subscription) => {
        if (local(session)) this.subscriptionChanged(session, subscription);
      },
      subscriberRemoved: (session: Session, subscription: Subscription) => {
        if (local(session)) this.subscriptionChanged(session, subscription);
      },
      published: (p: Publication, id: number) => {
        const publisher = p.publisher;
        if (publisher.remote || (publisher.internal && isReservedUri(p.topic))) return; // meta events: every node has its own
        if (!this.realms.has(publisher.realm?.name ?? '')) return;
        const payload = payloadField(p.source, p.from);
        const body: unknown[] = [id, p.topic, p.options, p.disclose === true, publisher.id, publisher.authid, publisher.authrole, payload];
        this.stats.framesOut++;
        this.backplane.broadcast(PUB_CHANNEL, encodeFrame(F.PUB, this.node, this.incarnation, publisher.realm!.name, body));
        if (p.options.retain === true) this.keepRetained(publisher.realm!, p.topic, id);
      },
    };
  }

  private sessionValue(session: Session): Uint8Array {
    const record: SessionRecord = {
      realm: session.realm!.name,
      node: this.node,
      incarnation: this.incarnation,
      id: session.id,
      authid: session.authid,
      authrole: session.authrole,
      authmethod: session.authmethod,
      authprovider: session.authprovider,
      authextra: session.authextra,
      transport: { ...session.peer.info, channelId: undefined },
      roles: session.clientRoles,
    };
    return encodeRecord(record);
  }

  /** A registry write nobody waits for: failures are logged, close() waits for it. */
  private write(p: Promise<unknown>): void {
    const tracked = p.catch((err) => this.o.log.warn({ err: String(err) }, 'cluster: registry write failed'));
    this.writes.add(tracked);
    void tracked.finally(() => this.writes.delete(tracked));
  }

  private async settled(): Promise<void> {
    while (this.writes.size > 0 || this.subscriptionFlush) {
      await Promise.all([...this.writes, this.subscriptionFlush]);
    }
  }

  // ---- REGISTER: the claim ----

  /**
   * A REGISTER that would create or join a registration is claimed in the
   * registry first; whatever the dealer would refuse at once passes straight
   * to it. After the claim the local mirror holds the record, and the
   * dealer decides on it as on one node.
   */
  private gate(session: Session, msg: GuardedMessage): GateVerdict | Promise<GateVerdict> {
    if (msg[0] !== T.REGISTER || session.remote || session.internal) return undefined;
    const state = this.realms.get(session.realm?.name ?? '');
    const options = msg[2];
    const match = (options.match as MatchPolicy | undefined) ?? 'exact';
    const uri = msg[3];
    if (!state || !isValidPattern(uri, match) || isReservedPattern(uri) || options.force_reregister === true) return undefined;
    if (session.registrations.size >= state.realm.limits.registrations) return undefined;
    const invoke = (options.invoke as InvokePolicy | undefined) ?? 'single';
    const concurrency = typeof options.concurrency === 'number' ? options.concurrency : Infinity;
    return this.claim(state, session, uri, match, invoke, this.entryOf(session, concurrency, options.disclose_caller === true));
  }

  private async claim(
    state: RealmState,
    session: Session,
    uri: string,
    match: MatchPolicy,
    invoke: InvokePolicy,
    me: CalleeEntry,
  ): Promise<GateVerdict> {
    const key = registrationKey(state.realm.name, match, uri);
    try {
      for (let attempt = 0; attempt < CLAIM_TRIES; attempt++) {
        const current = await this.backplane.get(key);
        const record = current ? this.liveRecord(registrationRecord(current.value)) : undefined;
        let next: RegistrationRecord;
        if (!record || record.callees.length === 0) {
          const fresh = { id: record?.id ?? randomId(), created: record?.created ?? new Date().toISOString() };
          next = { realm: state.realm.name, ...fresh, uri, match, invoke, callees: [me] };
        } else if (record.callees.some((c) => c.node === me.node && c.session === me.session)) {
          await this.mirrored(current!.revision);
          return undefined;
        } else if (record.invoke === 'single' || record.invoke !== invoke) {
          // The dealer refuses it from the mirror, once the mirror holds this record.
          await this.mirrored(current!.revision);
          return undefined;
        } else {
          next = { ...record, callees: [...record.callees, me] };
        }
        try {
          const value = encodeRecord(next);
          const revision = current ? await this.backplane.update(key, value, current.revision) : await this.backplane.create(key, value);
          this.stats.claimsWon++;
          // Gone while the claim was in flight: the dealer will never add it, so the record must not keep it.
          if (session.state !== 'joined' || session.id !== me.session) {
            this.write(this.leaveRecord(state, uri, match, me.session));
            return undefined;
          }
          await this.mirrored(revision);
          // The mirror may lag (after a NATS failover): what this claim wrote is the registry's state as of now.
          this.applyRegistration(state, key, next, false, revision);
          return undefined;
        } catch (err) {
          if (!(err instanceof KvConflict)) throw err;
          this.stats.claimsLost++;
        }
      }
    } catch (err) {
      if (!(err instanceof BackplaneUnavailable)) throw err;
      this.o.log.warn({ uri, err: err.message }, 'cluster: registry unavailable for REGISTER');
    }
    return { error: KreuzUri.CLUSTER_UNAVAILABLE, args: [`the cluster's registry cannot be written now; register ${uri} again later`] };
  }

  /** A local session's place in a registration record (no concurrency limit: null). */
  private entryOf(session: Session, concurrency: number, disclose: boolean): CalleeEntry {
    const limit = Number.isFinite(concurrency) ? concurrency : null;
    return { node: this.node, incarnation: this.incarnation, session: session.id, concurrency: limit, disclose };
  }

  /** A record without the callees of nodes known dead; undefined stays undefined. */
  private liveRecord(record: RegistrationRecord | undefined): RegistrationRecord | undefined {
    if (!record) return undefined;
    return { ...record, callees: record.callees.filter((c) => !this.isDead(c.node, c.incarnation)) };
  }

  /** A local callee the registry does not hold yet (the claim was skipped or lost its record): added at the end. */
  private async claimLate(state: RealmState, session: Session, registration: Registration): Promise<void> {
    const callee = registration.calleeOf(session);
    if (!callee) return;
    const me = this.entryOf(session, callee.concurrency, callee.discloseCaller);
    await this.updateRecord(state, registration.uri, registration.match, (record) => {
      if (record?.callees.some((c) => c.node === me.node && c.session === me.session)) return undefined;
      if (!registration.calleeOf(session)) return undefined; // gone meanwhile
      const base = record ?? {
        realm: state.realm.name,
        id: registration.id,
        created: registration.created.toISOString(),
        uri: registration.uri,
        match: registration.match,
        invoke: registration.invoke,
        callees: [],
      };
      return { ...base, callees: [...base.callees, me] };
    });
  }

  /** Removes a local callee from its record, deleting the record with its last callee. */
  private leaveRecord(state: RealmState, uri: string, match: MatchPolicy, session: number, node = this.node): Promise<void> {
    return this.updateRecord(state, uri, match, (record) => {
      if (!record?.callees.some((c) => c.node === node && c.session === session)) return undefined;
      return { ...record, callees: record.callees.filter((c) => !(c.node === node && c.session === session)) };
    });
  }

  /**
   * Compare-and-set of one registration record: `change` gets the current one
   * (undefined: none) and returns the next (no callees: delete it), or undefined for no write.
   */
  private async updateRecord(
    state: RealmState,
    uri: string,
    match: MatchPolicy,
    change: (record: RegistrationRecord | undefined) => RegistrationRecord | undefined,
  ): Promise<void> {
    const key = registrationKey(state.realm.name, match, uri);
    for (let attempt = 0; attempt < CLAIM_TRIES; attempt++) {
      const current = await this.backplane.get(key);
      const next = change(current ? registrationRecord(current.value) : undefined);
      if (!next) return;
      try {
        if (next.callees.length === 0) await this.backplane.delete(key, current?.revision);
        else if (current) await this.backplane.update(key, encodeRecord(next), current.revision);
        else await this.backplane.create(key, encodeRecord(next));
        return;
      } catch (err) {
        if (!(err instanceof KvConflict)) throw err;
      }
    }
    throw new Error(`registry record of ${uri} kept changing: gave up after ${CLAIM_TRIES} tries`);
  }

  /** Resolves once the mirror applied `revision` (or after MIRROR_WAIT_MS: the dealer then decides on what it has). */
  private mirrored(revision: number): Promise<void> {
    if (this.revision >= revision) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = { revision, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      }, MIRROR_WAIT_MS).unref();
    });
  }

  // ---- subscriptions: one record per node and (match, uri) ----

  private subscriptionChanged(session: Session, subscription: Subscription): void {
    const state = this.realms.get(session.realm!.name)!;
    const key = subscriptionKey(state.realm.name, subscription.match, subscription.uri, this.node);
    this.dirtySubscriptions.set(key, { state, uri: subscription.uri, match: subscription.match });
    this.subscriptionFlush ??= Promise.resolve().then(() => this.flushSubscriptions());
  }

  /** Writes each changed subscription record once, with the local subscribers it has now. */
  private async flushSubscriptions(): Promise<void> {
    while (this.dirtySubscriptions.size > 0) {
      const batch = [...this.dirtySubscriptions];
      this.dirtySubscriptions.clear();
      await Promise.all(
        batch.map(async ([key, { state, uri, match }]) => {
          const subscription = state.realm.broker.lookup(uri, match);
          const sessions = subscription ? [...subscription.subscribers].filter((s) => !s.remote && !s.internal).map((s) => s.id) : [];
          try {
            if (sessions.length === 0) await this.backplane.delete(key);
            else {
              const record: SubscriptionRecord = {
                realm: state.realm.name,
                node: this.node,
                incarnation: this.incarnation,
                uri,
                match,
                sessions,
              };
              await this.backplane.put(key, encodeRecord(record));
            }
          } catch (err) {
            this.o.log.warn({ uri, err: String(err) }, 'cluster: subscription record not written');
          }
        }),
      );
    }
    this.subscriptionFlush = undefined;
  }

  // ---- retained events: live nodes keep them from PUB frames; the registry serves nodes that start later ----

  private keepRetained(realm: Realm, topic: string, id: number): void {
    const event = realm.broker.store.retainedOf(topic);
    if (event?.publication !== id) return; // refused (a limit)
    const record = { realm: realm.name, node: this.node, event: { ...event, payload: payloadField(event.payload, 0) } };
    this.write(this.backplane.put(retainedKey(realm.name, topic), encodeRecord(record)));
  }

  /** A retained event from the registry, while it is loaded at start (later ones came as PUB frames). */
  private applyRetained(state: RealmState, value: Uint8Array | undefined): void {
    if (!this.loading || !value) return;
    const stored = retainedRecord(value, this.o.maxDepth);
    if (!stored || stored.realm !== state.realm.name || state.realm.broker.store.retainedOf(stored.event.topic)) return;
    state.realm.broker.store.retain(stored.event, this.nodeProxy(state, stored.node, 'publishers'), stored.bytes);
  }

  // ---- the mirror ----

  private changed(change: KvChange): void {
    try {
      this.apply(change);
    } catch (err) {
      this.o.log.error({ key: change.key, err: String(err) }, 'cluster: registry change not applied');
    }
    if (change.revision > this.revision) this.revision = change.revision;
    if (this.waiters.length > 0) {
      const ready = this.waiters.filter((w) => w.revision <= this.revision);
      this.waiters = this.waiters.filter((w) => w.revision > this.revision);
      for (const w of ready) w.resolve();
    }
  }

  private apply({ key, value, revision }: KvChange): void {
    const parts = key.split('.');
    const state = parts[0] === 'r' ? this.realmByHash.get(parts[1] ?? '') : undefined;
    if (!state) return;
    switch (parts[2]) {
      case 'ses':
        return this.applySession(state, value ? sessionRecord(value) : undefined, Number(parts[3]));
      case 'reg':
        return this.applyRegistration(state, key, value ? registrationRecord(value) : undefined, value === undefined, revision);
      case 'sub':
        return this.applySubscription(state, key, value ? subscriptionRecord(value) : undefined);
      case 'ret':
        return this.applyRetained(state, value);
    }
  }

  private isDead(node: string, incarnation: number): boolean {
    if (node === this.node) return incarnation !== this.incarnation;
    return this.membership.isDeclaredDead(node, incarnation);
  }

  private applySession(state: RealmState, record: SessionRecord | undefined, id: number): void {
    if (!record) return this.dropProxy(state, id);
    if (record.node === this.node || record.realm !== state.realm.name || this.isDead(record.node, record.incarnation)) return;
    if (state.proxies.has(record.id) || state.realm.sessions.has(record.id)) return;
    const peer = new RemotePeer(this, 'session', record.node, state.realm.name, record.transport as never);
    const proxy = this.proxy(state, peer, record.id);
    proxy.authid = record.authid;
    proxy.authrole = record.authrole;
    proxy.authmethod = record.authmethod;
    proxy.authprovider = record.authprovider;
    proxy.authextra = record.authextra;
    proxy.clientRoles = revocable(record.roles);
    this.proxyIncarnations.set(proxy, record.incarnation);
    state.proxies.set(record.id, proxy);
    state.realm.join(proxy);
  }

  private proxy(state: RealmState, peer: RemotePeer, id: number): Session {
    const session = new Session(peer);
    peer.session = session;
    session.remote = { node: peer.node };
    session.id = id;
    session.realm = state.realm;
    session.state = 'joined';
    session.invocationIds = this.cids;
    session.clientRoles = { caller: {}, callee: {}, publisher: {}, subscriber: {} };
    return session;
  }

  /** A session of another node is gone: it leaves this node's realm (its calls end, meta events go out). */
  private dropProxy(state: RealmState, id: number): void {
    const proxy = state.proxies.get(id);
    if (!proxy) return;
    state.proxies.delete(id);
    for (const [cid, call] of this.pending) if (call.proxy === proxy) this.pending.delete(cid);
    if (proxy.state === 'joined') state.realm.leave(proxy);
    proxy.state = 'closed';
  }

  private applyRegistration(
    state: RealmState,
    key: string,
    record: RegistrationRecord | undefined,
    deleted: boolean,
    revision: number,
  ): void {
    const before = state.registrations.get(key);
    if (!record && !deleted) return; // malformed: keep what we have
    if (record && record.realm !== state.realm.name) return;
    if ((state.revisions.get(key) ?? 0) >= revision) return; // applied already (a claim applies its own write)
    state.revisions.set(key, revision);
    if (record) state.registrations.set(key, record);
    else state.registrations.delete(key);
    const shape = record ?? before;
    if (!shape) return;
    const { dealer } = state.realm;
    const wanted = new Map<Session, CalleeEntry>();
    for (const entry of record?.callees ?? []) {
      if (entry.node === this.node || this.isDead(entry.node, entry.incarnation)) continue;
      const proxy = state.proxies.get(entry.session);
      if (proxy?.remote?.node === entry.node) wanted.set(proxy, entry);
    }
    let registration = dealer.lookup(shape.uri, shape.match);
    if (registration && record && registration.id !== record.id) {
      // Another registration holds this URI in the registry (this node missed its change while cut off or frozen):
      // the registry wins, and what this node held under the old ID goes.
      this.o.log.warn({ uri: record.uri, stale: registration.id, id: record.id }, 'cluster: stale registration replaced');
      for (const callee of [...registration.callees]) {
        if (callee.session.remote) dealer.withdraw(registration, callee.session);
        else dealer.revoke(registration, callee.session, ErrorUri.UNREGISTERED);
      }
      registration = dealer.lookup(shape.uri, shape.match);
    }
    if (registration) {
      for (const callee of [...registration.callees]) {
        if (callee.session.remote && !wanted.has(callee.session)) dealer.withdraw(registration, callee.session);
      }
    }
    for (const [proxy, entry] of wanted) {
      if (registration?.calleeOf(proxy)) continue;
      const callee = new Callee(proxy, entry.concurrency ?? Infinity, entry.disclose);
      registration = dealer.attach({ ...record!, created: new Date(record!.created) }, callee);
    }
    registration = dealer.lookup(shape.uri, shape.match);
    if (registration && record) this.reorder(registration, record);
  }

  /** Callees in the record's order; a local callee the record does not hold yet goes last. */
  private reorder(registration: Registration, record: RegistrationRecord): void {
    const rank = new Map<string, number>();
    for (const [i, c] of record.callees.entries()) rank.set(`${c.node}/${c.session}`, i);
    registration.reorder(
      (callee) => rank.get(`${callee.session.remote?.node ?? this.node}/${callee.session.id}`) ?? Number.MAX_SAFE_INTEGER,
    );
  }

  private applySubscription(state: RealmState, key: string, record: SubscriptionRecord | undefined): void {
    const before = state.subscriptions.get(key);
    if (record && (record.node === this.node || record.realm !== state.realm.name || this.isDead(record.node, record.incarnation))) return;
    if (record) state.subscriptions.set(key, record);
    else state.subscriptions.delete(key);
    const shape = record ?? before;
    if (!shape) return;
    const { broker } = state.realm;
    const wanted = new Set((record?.sessions ?? []).map((id) => state.proxies.get(id)).filter((p) => p?.remote?.node === shape.node));
    const subscription = broker.lookup(shape.uri, shape.match);
    if (subscription) {
      for (const s of [...subscription.subscribers]) if (s.remote?.node === shape.node && !wanted.has(s)) broker.withdraw(subscription, s);
    }
    for (const proxy of wanted) broker.attach(proxy!, shape.uri, shape.match);
  }

  // ---- frames from other nodes ----

  private received(bytes: Uint8Array): void {
    const frame = decodeFrame(bytes);
    if (!frame) return;
    this.stats.framesIn++;
    if (!this.membership.heard(frame.node, frame.incarnation, frame.type)) return;
    const state = this.realms.get(frame.realm);
    if (!state) return;
    try {
      this.handle(state, frame.type, frame.node, frame.body);
    } catch (err) {
      this.o.log.error({ node: frame.node, type: frame.type, err: String(err) }, 'cluster: frame failed');
    }
  }

  private handle(state: RealmState, type: F, node: string, b: unknown[]): void {
    const { dealer, broker, sessions } = state.realm;
    switch (type) {
      case F.INV:
        return this.invoke(state, node, b);
      case F.CHUNK: {
        const caller = state.callers.get(node);
        const details = dictOr(b[1]);
        const payload = payloadElements(b[2], this.o.maxDepth);
        if (!caller || !isWampId(b[0]) || !caller.calls.has(b[0]) || !details || !payload) return;
        return dealer.call(caller, [T.CALL, b[0], callOptions(details), '', ...payload] as unknown as Call);
      }
      case F.INT: {
        const caller = state.callers.get(node);
        if (caller && isWampId(b[0]) && typeof b[1] === 'string') dealer.cancel(caller, [T.CANCEL, b[0], { mode: b[1] }]);
        return;
      }
      case F.RES:
      case F.ERR:
        return this.answered(type, b);
      case F.KILL: {
        const session = isWampId(b[0]) ? sessions.get(b[0]) : undefined;
        if (!session || session.remote || session.internal) return;
        return this.router.kill(session, stringOr(b[1], CloseUri.SYSTEM_SHUTDOWN), stringOr(b[2], undefined));
      }
      case F.REVOKE_REG: {
        const session = isWampId(b[0]) ? sessions.get(b[0]) : undefined;
        const registration = isWampId(b[1]) ? dealer.registration(b[1]) : undefined;
        if (session && !session.remote && registration) dealer.revoke(registration, session, stringOr(b[2], ''));
        return;
      }
      case F.REVOKE_SUB: {
        const session = isWampId(b[0]) ? sessions.get(b[0]) : undefined;
        const subscription = isWampId(b[1]) ? broker.subscription(b[1]) : undefined;
        if (session && !session.remote && subscription) broker.revoke(subscription, session, stringOr(b[2], ''));
        return;
      }
      case F.PUB:
        return this.publication(state, node, b);
    }
  }

  /** INV on the callee's node: straight to the callee, or an ERR back. */
  private invoke(state: RealmState, node: string, b: unknown[]): void {
    const [cid, calleeId, registrationId, rawDetails, rawPayload] = b;
    const details = dictOr(rawDetails);
    const payload = payloadElements(rawPayload, this.o.maxDepth);
    if (!isWampId(cid) || !details || !payload) return;
    const fail = (uri: string, text: string) => this.sendTo(node, state.realm.name, F.ERR, [cid, {}, uri, payloadField([[text]], 0)]);
    const session = isWampId(calleeId) ? state.realm.sessions.get(calleeId) : undefined;
    if (!session || session.remote) return fail(ErrorUri.CANCELED, 'callee disconnected from in-flight request');
    const registration = isWampId(registrationId) ? state.realm.dealer.registration(registrationId) : undefined;
    const callee = registration?.calleeOf(session);
    if (!registration || !callee) return fail(ErrorUri.NO_SUCH_PROCEDURE, 'the callee no longer holds this registration');
    const caller = this.nodeProxy(state, node, 'callers');
    const { progress: _progress, receive_progress, ...rest } = details;
    const options: Dict = callOptions(details);
    if (receive_progress === true) options.receive_progress = true;
    const refused = state.realm.dealer.invokeDirect(
      caller,
      [T.CALL, cid, options, registration.uri, ...payload] as unknown as Call,
      registration,
      callee,
      rest,
    );
    if (refused === CrossbarUri.MAX_CONCURRENCY_REACHED)
      return fail(refused, `maximum concurrency reached for procedure ${registration.uri}`);
    if (refused) return fail(refused, 'call ID in use');
  }

  /** RES / ERR on the caller's node: into the dealer as the proxy callee's YIELD / ERROR. */
  private answered(type: F, b: unknown[]): void {
    const cid = b[0];
    const call = isWampId(cid) ? this.pending.get(cid) : undefined;
    if (!call) return;
    const options = dictOr(b[1]);
    const payload = payloadElements(type === F.RES ? b[2] : b[3], this.o.maxDepth);
    if (!options || !payload) return;
    const dealer = call.proxy.realm?.dealer;
    if (!dealer) return;
    const final = type === F.ERR || options.progress !== true;
    if (final) {
      this.pending.delete(cid as number);
      const ms = performance.now() - call.sent;
      this.stats.remoteCalls++;
      this.stats.remoteCallMs += ms;
      this.onRemoteCall?.(ms);
    }
    if (type === F.RES) return dealer.yield(call.proxy, [T.YIELD, cid as number, options, ...payload] as never);
    if (typeof b[2] !== 'string') return;
    dealer.invocationError(call.proxy, [T.ERROR, T.INVOCATION, cid as number, options, b[2], ...payload] as never);
  }

  private publication(state: RealmState, node: string, b: unknown[]): void {
    const [id, topic, rawOptions, disclose, publisherId, authid, authrole, rawPayload] = b;
    const options = dictOr(rawOptions);
    const payload = payloadElements(rawPayload, this.o.maxDepth);
    if (!isWampId(id) || typeof topic !== 'string' || !options || !payload) return;
    const publisher = this.nodeProxy(state, node, 'publishers');
    publisher.id = isWampId(publisherId) ? publisherId : 0;
    publisher.authid = stringOr(authid, '');
    publisher.authrole = stringOr(authrole, '');
    state.realm.broker.dispatch({ topic, options, source: payload, from: 0, publisher, disclose: disclose === true, id });
  }

  /** The proxy another node's callers (or publishers) act through on this node, made on first use. */
  private nodeProxy(state: RealmState, node: string, kind: 'callers' | 'publishers'): Session {
    const proxies = state[kind];
    let proxy = proxies.get(node);
    if (!proxy) {
      const peer = new RemotePeer(this, kind, node, state.realm.name, { type: 'memory', serializer: 'none', peer: `cluster:${node}` });
      proxies.set(node, (proxy = this.proxy(state, peer, 0)));
    }
    return proxy;
  }

  // ---- membership ----

  /**
   * Frames may have been lost while the backplane was down: calls between
   * this node and others end with wamp.error.canceled on both sides, rather
   * than wait for answers that may never come.
   */
  private statusChanged(status: 'disconnected' | 'reconnected'): void {
    this.o.log.warn({ status }, `cluster: backplane ${status}`);
    this.membership.connection(status);
    if (status === 'reconnected') this.cancelCrossNodeCalls();
  }

  private cancelCrossNodeCalls(): void {
    for (const [cid, call] of [...this.pending]) {
      this.pending.delete(cid);
      const canceled = [T.ERROR, T.INVOCATION, cid, {}, ErrorUri.CANCELED, ['the cluster connection was interrupted']];
      call.proxy.realm?.dealer.invocationError(call.proxy, canceled as never);
    }
    for (const state of this.realms.values()) {
      for (const caller of state.callers.values()) state.realm.dealer.detach(caller);
    }
  }

  private nodeDied(node: string, incarnation: number): void {
    this.o.log.warn({ node }, 'cluster: node dead');
    // The leader's cleanup reads the mirror (the dead node's sessions), so it goes before the drop.
    if (this.membership.isLeader()) {
      this.stats.deadCleanups++;
      this.recordDeath(
        node,
        incarnation,
        this.cleanUp(node, (inc) => inc === incarnation),
      );
    }
    this.dropNode(node);
  }

  /**
   * The leader records a death once its cleanup is written: the evidence a
   * node that comes back fences itself on. Two leaders are harmless (create-only).
   */
  private recordDeath(node: string, incarnation: number, cleanedUp: Promise<PromiseSettledResult<unknown>[]>): void {
    const key = deadKey(node, incarnation);
    const mine = this.incarnation;
    const recorded = cleanedUp
      .then((results) => {
        // Only a cleanup that could write is evidence (a partition's minority cannot).
        if (results.some((r) => r.status === 'rejected')) throw new Error('its cleanup did not complete');
        // Its entries are gone: even if it speaks again meanwhile, it must start again (the record fences it).
        if (this.incarnation !== mine) return;
        return this.backplane.create(key, encodeRecord({ by: this.node, at: new Date().toISOString() }));
      })
      .catch((err) => {
        if (!(err instanceof KvConflict)) this.o.log.warn({ node, err: String(err) }, 'cluster: death not recorded');
      });
    this.write(recorded);
    // Kept long enough for a frozen or cut-off node to come back and see it.
    setTimeout(() => this.write(this.backplane.delete(key)), DEATH_RECORD_MS).unref();
  }

  private deathRecorded({ key, value }: KvChange): void {
    const [, node, inc] = key.split('.');
    const incarnation = Number(inc);
    if (!node || !Number.isSafeInteger(incarnation) || !value) return;
    if (node === this.node) return this.membership.fenceIf(incarnation);
    let set = this.confirmedDead.get(node);
    if (!set) this.confirmedDead.set(node, (set = new Set()));
    set.add(incarnation);
    if (set.size > 64) set.delete(set.values().next().value!);
  }

  /** Everything of `node` leaves this node's mirror: its sessions, and the calls and publications that came from it. */
  private dropNode(node: string): void {
    for (const state of this.realms.values()) {
      for (const [id, proxy] of state.proxies) if (proxy.remote?.node === node) this.dropProxy(state, id);
      const caller = state.callers.get(node);
      if (caller) {
        state.callers.delete(node);
        state.realm.dealer.detach(caller); // its calls to our callees are interrupted
      }
      state.publishers.delete(node);
    }
  }

  /**
   * Removes `node`'s entries (of the incarnations `which` selects) from the
   * registry, as far as the mirror knows them; resolves when those writes are done.
   */
  private cleanUp(node: string, which: (incarnation: number) => boolean): Promise<PromiseSettledResult<unknown>[]> {
    const writes: Array<Promise<unknown>> = [];
    const write = (p: Promise<unknown>) => {
      writes.push(p);
      this.write(p);
    };
    for (const left of this.leaveRecords(node, which)) write(left);
    for (const state of this.realms.values()) {
      for (const [key, record] of state.subscriptions)
        if (record.node === node && which(record.incarnation)) write(this.backplane.delete(key));
      for (const proxy of state.proxies.values()) {
        const inc = this.proxyIncarnations.get(proxy) ?? 0;
        if (proxy.remote?.node === node && which(inc)) write(this.backplane.delete(sessionKey(state.realm.name, proxy.id)));
      }
    }
    if (node !== this.node) write(this.backplane.delete(nodeKey(node)));
    return Promise.allSettled(writes);
  }

  /**
   * Nodes the registry names that never spoke since this node started: gone
   * (a crash while nobody watched). A node heard at all is judged by its heartbeats.
   */
  private sweepSilentNodes(): void {
    const named = new Map<string, Set<number>>();
    const note = (node: string, inc: number) => {
      if (node === this.node || this.membership.hasHeard(node)) return;
      if (!named.has(node)) named.set(node, new Set());
      named.get(node)!.add(inc);
    };
    for (const state of this.realms.values()) {
      for (const r of state.registrations.values()) for (const c of r.callees) note(c.node, c.incarnation);
      for (const s of state.subscriptions.values()) note(s.node, s.incarnation);
      for (const p of state.proxies.values()) note(p.remote!.node, this.proxyIncarnations.get(p) ?? 0);
    }
    for (const [node, incs] of named) for (const inc of incs) this.membership.declareGone(node, inc);
  }

  /**
   * Our peers declared this node dead and removed its entries: its sessions
   * are closed (clients reconnect, and register again), and it starts again
   * under a new incarnation from the registry as it is now.
   */
  private fenced(): void {
    this.o.log.error({ node: this.node }, 'cluster: this node was declared dead by its peers; closing its sessions');
    for (const state of this.realms.values()) {
      for (const session of [...state.realm.sessions.values()]) {
        if (!session.remote && !session.internal) this.router.kill(session, CloseUri.SYSTEM_SHUTDOWN, 'this node lost its cluster');
      }
    }
    this.cancelCrossNodeCalls();
    for (const state of this.realms.values()) {
      for (const id of [...state.proxies.keys()]) this.dropProxy(state, id);
      for (const node of [...state.callers.keys()]) this.dropNode(node);
      state.registrations.clear();
      state.subscriptions.clear();
      state.revisions.clear();
    }
    this.reload();
  }

  /** A node this one had declared dead turned out alive: its sessions and registrations come back from the registry. */
  private revived(node: string): void {
    this.o.log.warn({ node }, 'cluster: node alive after all; reloading the registry');
    for (const state of this.realms.values()) {
      state.registrations.clear();
      state.subscriptions.clear();
      state.revisions.clear();
    }
    this.reload();
  }

  /** Applies the registry again from its current state (a new watch). */
  private reload(): void {
    this.watch?.stop();
    this.loading = true;
    this.write(
      this.backplane
        .watch('r.', (change) => this.changed(change))
        .then((watch) => {
          this.watch = watch;
          this.loading = false;
          return this.backplane.put(nodeKey(this.node), encodeRecord({ node: this.node, incarnation: this.incarnation }));
        }),
    );
  }
}

/** CALL options for a call rebuilt from INVOCATION details: progress and the payload passthru keys. */
function callOptions(details: Dict): Dict {
  const options: Dict = {};
  if (details.progress === true) options.progress = true;
  for (const key of PASSTHRU_KEYS) if (Object.hasOwn(details, key)) options[key] = details[key];
  return options;
}

/**
 * A proxy's roles: the client's, plus revocation, so that a revoke on this
 * node (meta API remove_callee / remove_subscriber) reaches the proxy's peer
 * and goes to the session's node, which decides with the real features.
 */
function revocable(roles: Dict): Dict {
  const copy: Dict = {};
  for (const role of ['caller', 'callee', 'publisher', 'subscriber'] as const) {
    if (!Object.hasOwn(roles, role)) continue;
    const r = dictOr(roles[role]) ?? {};
    copy[role] = { ...r, features: { ...(dictOr(r.features) ?? {}) } };
  }
  const callee = (copy.callee ??= { features: {} }) as { features: Dict };
  callee.features.registration_revocation = true;
  const subscriber = (copy.subscriber ??= { features: {} }) as { features: Dict };
  subscriber.features.subscription_revocation = true;
  return copy;
}

export async function attachCluster(
  router: Router,
  options: ClusterOptions,
  backplane: Backplane,
  log: Logger = silentLogger,
  maxDepth = 64,
): Promise<Cluster> {
  const cluster = new Cluster(router, backplane, {
    name: options.name,
    heartbeat: options.heartbeat ?? CLUSTER_DEFAULTS.heartbeat,
    deadAfter: options.deadAfter ?? CLUSTER_DEFAULTS.deadAfter,
    log,
    maxDepth,
  });
  await cluster.start();
  return cluster;
}

export { HB_CHANNEL };
