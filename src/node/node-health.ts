/**
 * The node's health for `kreuz.node.get_health` and `kreuz.node.on_stats`:
 * version, uptime, memory, event-loop delay and utilization, connections
 * per transport, client sessions, cut-offs, limits reached, cluster view.
 *
 * The event-loop delay monitor runs only while someone reads the health: it
 * starts with the first read (which therefore reports no delay yet) and stops
 * a minute after the last one. The delay covers the time since the window
 * last started (a window starts again once 10 s old, at a read); the
 * utilization that window and the one before it.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import type { Cutoffs } from '../core/counters.ts';
import type { Realm } from '../core/realm.ts';
import type { Router } from '../core/router.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { KREUZ_VERSION } from '../version.ts';
import { clientSessions, type NodeMetrics } from './metrics.ts';

export interface EventLoopHealth {
  delay_p50_ms: number;
  delay_p99_ms: number;
  delay_max_ms: number;
  /** Share of the window the loop was busy, 0 to 1. */
  utilization: number;
}

export interface Health {
  /** The Node.js version (as /info's `node`). */
  node: string;
  /** Kreuz's version. */
  version: string;
  started: string;
  uptime_ms: number;
  memory: { rss: number; heap_used: number; heap_total: number; external: number };
  event_loop: EventLoopHealth;
  /** Open connections by transport type (TCP sockets with metrics on; else joined client sessions by transport). */
  connections: Record<string, number>;
  /** Client sessions: on every realm for the trusted role, else on the caller's realm. */
  sessions: number;
  cutoffs: Cutoffs;
  limits_reached: Record<string, number>;
  cluster: null | { name: string; node: string; leader: boolean; nodes: Array<{ node: string; state: 'alive'; self: boolean }> };
}

export interface HealthSources {
  router: Router;
  started: Date;
  /** The node's metrics, when on: their socket counts are the connections. */
  metrics: NodeMetrics | undefined;
  cluster(): Cluster | undefined;
}

/** Event-loop sampling interval (ms); each sample counts the delay beyond it. */
const RESOLUTION_MS = 20;
const WINDOW_MS = 10_000;
/** The monitor stops this long after the last read. */
const IDLE_MS = 60_000;

/** Event-loop delay and utilization over a window restarted every 10 s, sampled only while read. */
class EventLoopWindow {
  private monitor: IntervalHistogram | undefined;
  private since = 0;
  private busyAtStart: EventLoopUtilization | undefined;
  private busyAtRestart: EventLoopUtilization | undefined;
  private idleTimer: NodeJS.Timeout | undefined;

  read(): EventLoopHealth {
    const now = performance.now();
    this.keepAwake();
    const monitor = this.monitor ?? this.start(now);
    const busy = performance.eventLoopUtilization();
    const delay = (q: number) => ms(Math.max(0, monitor.percentile(q) / 1e6 - RESOLUTION_MS));
    const sampled = monitor.count > 0;
    const result: EventLoopHealth = {
      delay_p50_ms: sampled ? delay(50) : 0,
      delay_p99_ms: sampled ? delay(99) : 0,
      delay_max_ms: sampled ? ms(Math.max(0, monitor.max / 1e6 - RESOLUTION_MS)) : 0,
      utilization: this.utilization(busy, now),
    };
    if (now - this.since >= WINDOW_MS) {
      monitor.reset();
      this.since = now;
      // Utilization keeps the window before too (10 to 20 s), so a read right after a restart has a span to measure.
      this.busyAtStart = this.busyAtRestart ?? this.busyAtStart;
      this.busyAtRestart = busy;
    }
    return result;
  }

  /** Busy share since the window (and the one before it) started; in a first window under a second old, since the process started. */
  private utilization(busy: EventLoopUtilization, now: number): number {
    const share =
      this.busyAtRestart === undefined && now - this.since < 1000
        ? busy.utilization
        : performance.eventLoopUtilization(busy, this.busyAtStart).utilization;
    return Number.isFinite(share) ? Math.round(share * 1000) / 1000 : 0;
  }

  private start(now: number): IntervalHistogram {
    const monitor = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    monitor.enable();
    this.monitor = monitor;
    this.since = now;
    this.busyAtStart = performance.eventLoopUtilization();
    this.busyAtRestart = undefined;
    return monitor;
  }

  /** Stops the monitor a minute after the last read: nobody watching costs nothing. */
  private keepAwake(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), IDLE_MS).unref();
  }

  stop(): void {
    clearTimeout(this.idleTimer);
    this.monitor?.disable();
    this.monitor = undefined;
  }
}

export class NodeHealth {
  private readonly loop = new EventLoopWindow();

  constructor(private readonly sources: HealthSources) {}

  /** The health as a caller sees it: `realm` undefined is the trusted view (sessions of every realm). */
  read(realm: Realm | undefined): Health {
    const { router, started, metrics } = this.sources;
    const memory = process.memoryUsage();
    const cluster = this.sources.cluster()?.view();
    let sessions = 0;
    if (realm) sessions = clientSessions(realm);
    else for (const r of router.realms.values()) sessions += clientSessions(r);
    return {
      node: process.versions.node,
      version: KREUZ_VERSION,
      started: started.toISOString(),
      uptime_ms: Date.now() - started.getTime(),
      memory: { rss: memory.rss, heap_used: memory.heapUsed, heap_total: memory.heapTotal, external: memory.external },
      event_loop: this.loop.read(),
      connections: metrics ? metrics.openConnections() : this.sessionsByTransport(),
      sessions,
      cutoffs: { ...router.counters.cutoffs },
      limits_reached: Object.fromEntries(router.counters.limitReached),
      cluster: cluster
        ? {
            name: cluster.name,
            node: cluster.node,
            leader: cluster.leader,
            nodes: cluster.nodes.map((n) => ({ node: n.node, state: 'alive' as const, self: n.self })),
          }
        : null,
    };
  }

  /** Without metrics no socket is counted: the joined client sessions of this node, by their transport. */
  private sessionsByTransport(): Record<string, number> {
    const counts = new Map<string, number>();
    for (const realm of this.sources.router.realms.values()) {
      for (const session of realm.sessions.values()) {
        if (session.internal || session.remote) continue;
        const type = session.peer.info.type;
        counts.set(type, (counts.get(type) ?? 0) + 1);
      }
    }
    return Object.fromEntries(counts);
  }

  stop(): void {
    this.loop.stop();
  }
}

function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}
