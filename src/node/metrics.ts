/**
 * Prometheus metrics of a node, in a Registry of its own (never the global
 * one, so several nodes in one process do not mix).
 *
 * Where the numbers come from: NodeMetrics is a router extension
 * (`router.use(metrics)`, see core/extensions.ts):
 * - inbound messages and the start of each call: its inbound tap;
 * - outbound messages and call ends: its peer wrapper, `MeteredPeer`;
 * - the registration a call goes to: the realms' `callRouted` event;
 * - sessions per realm, and what the router contains: read at scrape time;
 * - bytes: the TCP sockets each listener accepts, by transport type.
 *
 * Label cardinality is bounded: procedures are labelled by the registration
 * URI (never the URI a caller sent), the first `maxProcedures` of them; later
 * ones count as "other", and calls that reach no registration as "none".
 */
import type { Server, Socket } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { MessageType as T, messageName } from '../wamp/codes.ts';
import type { Dict, Outbound } from '../wamp/messages.ts';
import type { RouterExtension } from '../core/extensions.ts';
import type { RealmEvents } from '../core/hooks.ts';
import type { Peer } from '../core/peer.ts';
import type { Realm } from '../core/realm.ts';
import type { Registration } from '../core/registration.ts';
import type { Router } from '../core/router.ts';
import type { Session } from '../core/session.ts';
import { KREUZ_VERSION } from '../version.ts';
import type { Cluster, ClusterStats } from '../cluster/cluster.ts';

const KNOWN_TYPES = new Set<number>(Object.values(T));

/** Sessions of a realm, not counting the router's own (meta API, internal caller). */
export function clientSessions(realm: Realm): number {
  let n = 0;
  for (const session of realm.sessions.values()) if (!session.internal && !session.remote) n++;
  return n;
}
/** Calls remembered per connection at most, so a client that never hears back cannot grow memory. */
const MAX_PENDING_CALLS = 10_000;

interface PendingCall {
  /** The procedure label, once the call found its registration; none by its end: "none". */
  label: string | undefined;
  start: number;
}

/** A transport's Peer as the router sees it: counts what is sent and times the answers to calls. */
export class MeteredPeer implements Peer {
  /** Calls of this connection's session in flight, by CALL request ID. */
  readonly calls = new Map<number, PendingCall>();

  constructor(
    private readonly inner: Peer,
    private readonly metrics: NodeMetrics,
  ) {}

  get info() {
    return this.inner.info;
  }

  send(message: Outbound): void {
    this.metrics.sent(this, message);
    this.inner.send(message);
  }

  close(reason: string): void {
    this.inner.close(reason);
  }
}

export class NodeMetrics implements RouterExtension {
  readonly registry = new Registry();
  /** Realm events it listens to: the registration each call goes to. */
  readonly events: Partial<RealmEvents> = { callRouted: (caller, request, registration) => this.callRouted(caller, request, registration) };
  private readonly received: Counter<'type'>;
  private readonly sentTotal: Counter<'type'>;
  private readonly receivedByType = new Map<number, Counter.Internal>();
  private readonly sentByType = new Map<number, Counter.Internal>();
  private readonly calls: Counter<'procedure'>;
  private readonly callErrors: Counter<'procedure'>;
  private readonly callDuration: Histogram<'procedure'>;
  private readonly procedures = new Set<string>();
  private readonly sockets = new Map<
    string,
    { live: Set<Socket>; read: number; written: number; reportedRead: number; reportedWritten: number }
  >();

  /**
   * The cluster's gauges and counters, read at scrape time from its view,
   * and cross-node call latency as it happens.
   */
  observeCluster(cluster: Cluster): void {
    const registers = [this.registry];
    new Gauge({
      name: 'kreuz_cluster_nodes',
      help: 'Nodes of the cluster this node sees alive, itself included',
      registers,
      collect() {
        this.set(cluster.view().nodes.length);
      },
    });
    const counter = (name: string, help: string, read: (s: ClusterStats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read(cluster.stats));
        },
      });
    counter('kreuz_cluster_frames_received_total', 'Frames received from other nodes', (s) => s.framesIn);
    counter('kreuz_cluster_frames_sent_total', 'Frames sent to other nodes', (s) => s.framesOut);
    counter('kreuz_cluster_claims_won_total', 'Registrations this node claimed in the registry', (s) => s.claimsWon);
    counter('kreuz_cluster_claims_lost_total', 'Registry claims lost to another node (then decided again)', (s) => s.claimsLost);
    counter('kreuz_cluster_dead_node_cleanups_total', 'Dead nodes whose registry entries this node removed', (s) => s.deadCleanups);
    const latency = new Histogram({
      name: 'kreuz_cluster_call_duration_seconds',
      help: 'Calls to callees on other nodes, from the INVOCATION frame to the final answer',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    cluster.onRemoteCall = (ms) => latency.observe(ms / 1000);
  }

  constructor(
    router: Router,
    private readonly maxProcedures = 100,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: 'kreuz_build_info', help: 'Kreuz version (always 1)', labelNames: ['version'], registers }).set(
      { version: KREUZ_VERSION },
      1,
    );
    new Gauge({
      name: 'kreuz_sessions',
      help: "Sessions joined, per realm (the router's own sessions not counted)",
      labelNames: ['realm'],
      registers,
      collect() {
        for (const realm of router.realms.values()) this.set({ realm: realm.name }, clientSessions(realm));
      },
    });
    this.received = new Counter({
      name: 'kreuz_messages_received_total',
      help: 'WAMP messages received from clients, by type',
      labelNames: ['type'],
      registers,
    });
    this.sentTotal = new Counter({
      name: 'kreuz_messages_sent_total',
      help: 'WAMP messages sent to clients, by type',
      labelNames: ['type'],
      registers,
    });
    this.calls = new Counter({
      name: 'kreuz_calls_total',
      help: 'CALLs received, by registration URI',
      labelNames: ['procedure'],
      registers,
    });
    this.callErrors = new Counter({
      name: 'kreuz_call_errors_total',
      help: 'Calls answered with ERROR, by registration URI',
      labelNames: ['procedure'],
      registers,
    });
    this.callDuration = new Histogram({
      name: 'kreuz_call_duration_seconds',
      help: 'Time from CALL to its final RESULT or ERROR, by registration URI',
      labelNames: ['procedure'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const sockets = this.sockets;
    const byteCounter = (name: string, help: string, direction: 'read' | 'written') =>
      new Counter({
        name,
        help,
        labelNames: ['transport'],
        registers,
        collect() {
          for (const [transport, s] of sockets) {
            let total = s[direction];
            for (const socket of s.live) total += direction === 'read' ? socket.bytesRead : socket.bytesWritten;
            const reported = direction === 'read' ? 'reportedRead' : 'reportedWritten';
            if (total > s[reported]) this.inc({ transport }, total - s[reported]);
            s[reported] = total;
          }
        },
      });
    containmentMetrics(router, registers);
    byteCounter('kreuz_bytes_received_total', 'Bytes received on the connections of each transport', 'read');
    byteCounter('kreuz_bytes_sent_total', 'Bytes sent on the connections of each transport', 'written');
  }

  /** Wraps each connection's peer so what the router sends it is counted. */
  wrapPeer(peer: Peer): Peer {
    return new MeteredPeer(peer, this);
  }

  /** Counts the bytes of every connection `server` accepts, under `transport`. */
  trackSockets(server: Server, transport: string): void {
    let s = this.sockets.get(transport);
    if (!s) this.sockets.set(transport, (s = { live: new Set(), read: 0, written: 0, reportedRead: 0, reportedWritten: 0 }));
    const state = s;
    server.on('connection', (socket: Socket) => {
      state.live.add(socket);
      socket.once('close', () => {
        state.live.delete(socket);
        state.read += socket.bytesRead;
        state.written += socket.bytesWritten;
      });
    });
  }

  /** Connections open now, by transport type (the sockets `trackSockets` counts; the node API's health). */
  openConnections(): Record<string, number> {
    return Object.fromEntries([...this.sockets].map(([transport, s]) => [transport, s.live.size]));
  }

  /** An inbound message of a client session, as it arrives. */
  inbound(session: Session, message: unknown): void {
    if (!Array.isArray(message)) return;
    const type = message[0] as number;
    this.count(this.receivedByType, this.received, type);
    if (type !== T.CALL) return;
    const request = message[1];
    const peer = session.peer;
    // Later chunks of a progressive call belong to the call already counted.
    if (typeof request !== 'number' || session.calls.has(request) || !(peer instanceof MeteredPeer)) return;
    if (peer.calls.size < MAX_PENDING_CALLS) peer.calls.set(request, { label: undefined, start: performance.now() });
  }

  /** A call found its registration: it is counted under the registration's URI. */
  private callRouted(caller: Session, request: number, registration: Registration): void {
    const peer = caller.peer;
    if (!(peer instanceof MeteredPeer)) return;
    const call = peer.calls.get(request);
    if (call?.label !== undefined) return;
    const label = this.procedureLabel(registration.uri);
    if (call) call.label = label;
    this.calls.inc({ procedure: label });
  }

  /** @internal A message the router sends through a MeteredPeer. */
  sent(peer: MeteredPeer, message: Outbound): void {
    const type = message[0];
    this.count(this.sentByType, this.sentTotal, type);
    if (type === T.RESULT) {
      if ((message[2] as Dict | undefined)?.progress !== true) this.callEnded(peer, message[1] as number, false);
    } else if (type === T.ERROR) {
      if (message[1] === T.CALL) this.callEnded(peer, message[2] as number, true);
    } else if (type === T.WELCOME) {
      peer.calls.clear(); // a new session on the same connection starts with no calls
    }
  }

  private callEnded(peer: MeteredPeer, request: number, failed: boolean): void {
    const call = peer.calls.get(request);
    if (!call) return;
    peer.calls.delete(request);
    let label = call.label;
    if (label === undefined) this.calls.inc({ procedure: (label = 'none') }); // it never reached a registration
    if (failed) this.callErrors.inc({ procedure: label });
    this.callDuration.observe({ procedure: label }, (performance.now() - call.start) / 1000);
  }

  private procedureLabel(uri: string): string {
    if (this.procedures.has(uri)) return uri;
    if (this.procedures.size >= this.maxProcedures) return 'other';
    this.procedures.add(uri);
    return uri;
  }

  private count(cache: Map<number, Counter.Internal>, counter: Counter<'type'>, type: number): void {
    const code = KNOWN_TYPES.has(type) ? type : -1;
    let child = cache.get(code);
    if (!child) cache.set(code, (child = counter.labels(code === -1 ? 'other' : messageName(code))));
    child.inc();
  }
}

/**
 * What the router contained, read from its counters at scrape time: limits
 * reached, messages it could not write for a recipient, sessions ended by an
 * exception, and what sessions make it hold (calls in flight, retained events).
 */
function containmentMetrics(router: Router, registers: Registry[]): void {
  const counters = router.counters;
  const fromMap = <K>(name: string, help: string, label: string, map: Map<K, number>, labelOf: (k: K) => string) => {
    const reported = new Map<K, number>();
    new Counter({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        for (const [key, total] of map) {
          const delta = total - (reported.get(key) ?? 0);
          if (delta > 0) this.inc({ [label]: labelOf(key) }, delta);
          reported.set(key, total);
        }
      },
    });
  };
  fromMap(
    'kreuz_limit_reached_total',
    'Requests or connections refused because a limit was reached, by limit',
    'limit',
    counters.limitReached,
    String,
  );
  fromMap(
    'kreuz_undeliverable_total',
    'Messages not written to one recipient (its serializer cannot express them, or they exceed its limit), by type',
    'type',
    counters.undeliverable,
    (t) => messageName(t),
  );
  let failedReported = 0;
  new Counter({
    name: 'kreuz_sessions_failed_total',
    help: 'Sessions ended because handling one of their messages threw',
    registers,
    collect() {
      if (counters.sessionsFailed > failedReported) this.inc(counters.sessionsFailed - failedReported);
      failedReported = counters.sessionsFailed;
    },
  });
  new Gauge({
    name: 'kreuz_calls_in_flight',
    help: 'Calls in flight on the whole router (abandoned ones whose callee has not answered included)',
    registers,
    collect() {
      this.set(counters.callsInFlight);
    },
  });
  new Gauge({
    name: 'kreuz_retained_events',
    help: 'Retained events stored, per realm',
    labelNames: ['realm'],
    registers,
    collect() {
      for (const realm of router.realms.values()) this.set({ realm: realm.name }, realm.broker.store.retainedUsage.events);
    },
  });
  new Gauge({
    name: 'kreuz_retained_bytes',
    help: 'Bytes of retained events stored (wire size of their PUBLISH), per realm',
    labelNames: ['realm'],
    registers,
    collect() {
      for (const realm of router.realms.values()) this.set({ realm: realm.name }, realm.broker.store.retainedUsage.bytes);
    },
  });
}
