/**
 * Cluster benchmark: what a call or a publication costs when it crosses from
 * one Kreuz node to another over NATS, against the same load on one node of
 * the same cluster (../shared/CLUSTER.md, section 9).
 *
 * - One nats-server (test/helpers/nats-server.ts: 127.0.0.1, random port,
 *   JetStream in a temporary directory), two Kreuz nodes A and B
 *   (router-process.ts --cluster --node --nats, each its own process, this
 *   checkout's dist/ build), and the load (cluster-load.ts: the raw `ws`
 *   sessions of load-client.ts, each role at the node the row says).
 * - RPC json, 4 callers × 1 and × 16 calls in flight → 1 callee, small
 *   payload ([caller index, request ID], echoed), as rpc1/rpc16 in the main
 *   table. "local": callers and callee on A; "cluster": callers on A, the
 *   callee on B.
 * - PubSub json, 1 publisher on A → 4 subscribers, 16 publications in
 *   flight. "local": all 4 on A; "cluster": 2 on A, 2 on B.
 *
 * Per row: rate, p50/p99, Kreuz CPU per op of A and of B (each child's own
 * process.cpuUsage() over IPC) and their sum, nats-server CPU per op
 * (/proc/<pid>/stat utime + stime), the cluster ÷ local ratio of the summed
 * Kreuz CPU, and for RPC whether it is under the target, 2.5×.
 *
 * Part of `npm run bench` (and `--quick`), after the payload sweep; alone:
 *   npm run bench -- --only cluster [--quick]
 *   node --import tsx bench/cluster.bench.ts [--quick]
 * Without nats-server the part is skipped, with a line saying so.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ClusterLoadSpec } from './cluster-load.ts';
import { startChild, type Child, type CpuSample } from './ipc.ts';
import type { Figures } from './load-client.ts';
import { sweepSourceLines } from './payload-sweep.bench.ts';
import { standaloneReport } from './standalone.ts';
import type { Timing } from './scenarios.ts';

/** A cross-node call may cost at most this many times a local call's Kreuz CPU, summed over both nodes. */
export const CLUSTER_CPU_TARGET = 2.5;

type Placement = 'local' | 'cluster';
const PLACEMENTS: Placement[] = ['local', 'cluster'];

interface ClusterWorkload {
  id: string;
  title: string;
  unit: 'calls/s' | 'events/s';
  /** The load for one placement, node URLs given. */
  spec(urls: { a: string; b: string }, placement: Placement, tag: string): ClusterLoadSpec;
}

const rpc = (inflight: number) => (urls: { a: string; b: string }, placement: Placement, tag: string) =>
  ({
    workload: 'rpc',
    serializer: 'json',
    callerUrl: urls.a,
    calleeUrl: placement === 'cluster' ? urls.b : urls.a,
    callers: 4,
    inflight,
    uri: `bench.cluster.${tag}`,
  }) satisfies ClusterLoadSpec;

export const CLUSTER_WORKLOADS: ClusterWorkload[] = [
  { id: 'rpc1', title: 'RPC json, 4 callers × 1 call in flight → 1 callee', unit: 'calls/s', spec: rpc(1) },
  { id: 'rpc16', title: 'RPC json, 4 callers × 16 in flight → 1 callee', unit: 'calls/s', spec: rpc(16) },
  {
    id: 'pubsub4',
    title: 'PubSub json, 1 publisher → 4 subscribers (16 publications in flight)',
    unit: 'events/s',
    spec: (urls, placement, tag) => ({
      workload: 'pubsub',
      serializer: 'json',
      publisherUrl: urls.a,
      subscriberUrls: placement === 'cluster' ? [urls.a, urls.a, urls.b, urls.b] : [urls.a, urls.a, urls.a, urls.a],
      window: 16,
      topic: `bench.cluster.${tag}`,
    }),
  },
];

export interface ClusterMeasured {
  /** Calls completed or events delivered per second. */
  rate: number;
  p50ms: number;
  p99ms: number;
  /** CPU (user + system) per op, microseconds: Kreuz node A, node B, nats-server. */
  cpuA: number;
  cpuB: number;
  cpuNats: number;
  /** Percent of one core over the window. */
  pctA: number;
  pctB: number;
  pctNats: number;
  pctLoad: number;
  /** Cluster frames node A sent and received, per op. */
  framesOutA: number;
  framesInA: number;
  /** Mean ms from INV to RES of A's cross-node calls in the window (NaN: none). */
  remoteCallMs: number;
  problems: string[];
}

export type ClusterOutcome = ClusterMeasured | { error: string };

export interface ClusterRow {
  workload: string;
  placement: Placement;
  outcome: ClusterOutcome;
  /** Every round's measurement, in the order taken. */
  rounds: ClusterMeasured[];
}

export interface ClusterResults {
  timing: Timing;
  rounds: number;
  rows: ClusterRow[];
  notes: string[];
  /** Why nothing was measured: nats-server is missing. */
  skipped?: string;
  /** What ended the part early: a child that did not start, a cluster that did not form. */
  error?: string;
  /** Clock ticks per second of /proc/<pid>/stat. */
  ticks: number;
}

export interface ClusterBenchOptions {
  quick: boolean;
  log: (line: string) => void;
}

export function clusterTiming(quick: boolean): Timing & { rounds: number } {
  return quick ? { warmupMs: 300, windowMs: 700, rounds: 1 } : { warmupMs: 1000, windowMs: 2000, rounds: 3 };
}

// ---------------------------------------------------------------- measuring

/** CPU time of any process, from /proc/<pid>/stat (utime + stime, in clock ticks), microseconds; NaN where there is no /proc. */
function procCpuUs(pid: number, ticksPerSecond: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / ticksPerSecond;
  } catch {
    return NaN;
  }
}

function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

interface ClusterView {
  node: string;
  incarnation: number;
  nodes: Array<{ node: string; self: boolean }>;
  stats: { framesIn: number; framesOut: number; deadCleanups: number; remoteCalls: number; remoteCallMs: number };
}

interface Nodes {
  a: Child;
  b: Child;
  natsPid: number;
  ticks: number;
}

interface Sample {
  cpuA: CpuSample;
  cpuB: CpuSample;
  viewA: ClusterView;
  viewB: ClusterView;
  natsUs: number;
  natsWallMs: number;
  figures: Figures;
}

async function sample(nodes: Nodes, load: Child): Promise<Sample> {
  const asked = Promise.all([
    nodes.a.request<CpuSample>('cpu'),
    nodes.b.request<CpuSample>('cpu'),
    nodes.a.request<ClusterView>('cluster'),
    nodes.b.request<ClusterView>('cluster'),
    load.request<Figures>('mark'),
  ]);
  // Read while the requests are on their way: the same moment, within a fraction of a millisecond.
  const natsUs = procCpuUs(nodes.natsPid, nodes.ticks);
  const natsWallMs = performance.now();
  const [cpuA, cpuB, viewA, viewB, figures] = await asked;
  return { cpuA, cpuB, viewA, viewB, natsUs, natsWallMs, figures };
}

/** What is wrong with the cluster itself: a node missing from the other's view, a new incarnation, a dead-node cleanup. */
function clusterProblems(s0: Sample, s1: Sample): string[] {
  const problems: string[] = [];
  for (const [name, v0, v1, other] of [
    ['A', s0.viewA, s1.viewA, s1.viewB.node],
    ['B', s0.viewB, s1.viewB, s1.viewA.node],
  ] as const) {
    if (!v1.nodes.some((n) => n.node === other && !n.self)) problems.push(`node ${name} does not see ${other}`);
    if (v1.incarnation !== v0.incarnation) problems.push(`node ${name} got a new incarnation`);
    if (v1.stats.deadCleanups !== v0.stats.deadCleanups) problems.push(`node ${name} cleaned up after a dead node`);
  }
  return problems;
}

function loadProblems(check: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of ['unanswered', 'errors', 'mismatches', 'lost'] as const) {
    const n = check[key] as number | undefined;
    if (n) problems.push(`${n} ${key}`);
  }
  for (const f of (check.failures as string[] | undefined) ?? []) problems.push(f);
  if (check.sent === 0 || check.published === 0) problems.push('nothing was sent');
  return problems;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measureRow(nodes: Nodes, load: Child, spec: ClusterLoadSpec, timing: Timing): Promise<ClusterMeasured> {
  await load.request('setup', spec as unknown as Record<string, unknown>, 30_000);
  await load.request('start');
  try {
    await sleep(timing.warmupMs);
    const s0 = await sample(nodes, load);
    await sleep(timing.windowMs);
    const s1 = await sample(nodes, load);
    const check = await load.request<Record<string, unknown>>('finish');
    const f = s1.figures;
    const rate = f.ops / f.seconds;
    const perSecond = (c0: CpuSample, c1: CpuSample) => (c1.user + c1.system - c0.user - c0.system) / ((c1.wallMs - c0.wallMs) / 1000);
    const usA = perSecond(s0.cpuA, s1.cpuA);
    const usB = perSecond(s0.cpuB, s1.cpuB);
    const usNats = (s1.natsUs - s0.natsUs) / ((s1.natsWallMs - s0.natsWallMs) / 1000);
    const stats0 = s0.viewA.stats;
    const stats1 = s1.viewA.stats;
    const remoteCalls = stats1.remoteCalls - stats0.remoteCalls;
    return {
      rate,
      p50ms: f.p50ms,
      p99ms: f.p99ms,
      cpuA: usA / rate,
      cpuB: usB / rate,
      cpuNats: usNats / rate,
      pctA: usA / 1e4,
      pctB: usB / 1e4,
      pctNats: usNats / 1e4,
      pctLoad: f.loadCpu,
      framesOutA: (stats1.framesOut - stats0.framesOut) / f.ops,
      framesInA: (stats1.framesIn - stats0.framesIn) / f.ops,
      remoteCallMs: remoteCalls > 0 ? (stats1.remoteCallMs - stats0.remoteCallMs) / remoteCalls : NaN,
      problems: [...loadProblems(check), ...clusterProblems(s0, s1)],
    };
  } catch (err) {
    await load.request('finish').catch(() => {});
    throw err;
  }
}

const median = (xs: number[]) => {
  const sorted = [...xs].filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const FIGURES = [
  'rate',
  'p50ms',
  'p99ms',
  'cpuA',
  'cpuB',
  'cpuNats',
  'pctA',
  'pctB',
  'pctNats',
  'pctLoad',
  'framesOutA',
  'framesInA',
  'remoteCallMs',
] as const;

/** Figure by figure, the median of the rounds; the problems of all of them. */
function medianOf(rounds: ClusterMeasured[]): ClusterMeasured {
  const out = { problems: [...new Set(rounds.flatMap((r) => r.problems))] } as ClusterMeasured;
  for (const key of FIGURES) out[key] = median(rounds.map((r) => r[key]));
  return out;
}

const errorOf = (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) });

function summary(o: ClusterOutcome): string {
  if ('error' in o) return `error: ${o.error}`;
  return `${Math.round(o.rate)}/s, A ${o.cpuA.toFixed(1)} + B ${o.cpuB.toFixed(1)} µs/op, nats ${o.cpuNats.toFixed(1)} µs/op${o.problems.length ? `, ${o.problems.join('; ')}` : ''}`;
}

/** Both nodes see each other (bounded). */
async function untilJoined(a: Child, b: Child, ms = 15_000): Promise<void> {
  const end = performance.now() + ms;
  let views: ClusterView[] = [];
  while (performance.now() < end) {
    views = await Promise.all([a.request<ClusterView>('cluster'), b.request<ClusterView>('cluster')]);
    if (views.every((v) => v?.nodes.length === 2)) return;
    await sleep(50);
  }
  throw new Error(`nodes A and B did not see each other within ${ms} ms: ${JSON.stringify(views.map((v) => v?.nodes))}`);
}

function natsVersion(path: string): string {
  try {
    return execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return path;
  }
}

/** The cluster rows against a nats-server, two nodes and a load of their own (started here, stopped at the end). */
export async function runClusterBench(options: ClusterBenchOptions): Promise<ClusterResults> {
  const { rounds, ...timing } = clusterTiming(options.quick);
  const results: ClusterResults = { timing, rounds, rows: [], notes: [], ticks: clockTicks() };
  // Imported here, so that a missing or broken helper ends this part only.
  let helper: typeof import('../test/helpers/nats-server.ts');
  try {
    helper = await import('../test/helpers/nats-server.ts');
  } catch (err) {
    results.error = `cannot load test/helpers/nats-server.ts: ${errorOf(err).error}`;
    options.log(`cluster: error: ${results.error}`);
    return results;
  }
  const binary = helper.natsServerPath();
  if (!binary) {
    results.skipped = 'nats-server not installed (apt-get install nats-server; looked in /usr/sbin, /usr/bin and PATH)';
    options.log(`cluster: skipped: ${results.skipped}`);
    return results;
  }
  results.notes.push(
    `${natsVersion(binary)} (one server, JetStream, 127.0.0.1) · Kreuz nodes A and B: this checkout's dist/, each its own process, heartbeat and dead_after at their defaults · load average at the start of this part: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  const children: Child[] = [];
  let nats: Awaited<ReturnType<typeof helper.startNatsServer>> | undefined;
  try {
    try {
      // dist/ first, if src/ is newer (router-process.ts would, within its start deadline; tsc on a busy machine may take longer).
      options.log('cluster: building dist/ if stale');
      execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url)), '--if-stale'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      nats = await helper.startNatsServer();
      const cluster = `bench-${process.pid}`;
      const node = (id: string) =>
        startChild('./router-process.ts', { args: ['--cluster', cluster, '--node', id, '--nats', nats!.url], startTimeoutMs: 60_000 });
      // One after the other, as a node joins a cluster: each writes its entry to the registry before it listens.
      const a = await node('a');
      children.push(a);
      const b = await node('b');
      children.push(b);
      await untilJoined(a, b);
      const load = await startChild('./cluster-load.ts');
      children.push(load);
      options.log(`cluster: nats-server ${nats.url} (pid ${nats.pid}), node A ${a.url}, node B ${b.url}`);
      await runRows({ a, b, natsPid: nats.pid, ticks: results.ticks }, load, options, results);
    } catch (err) {
      results.error = errorOf(err).error;
      options.log(`cluster: error: ${results.error}`);
    }
  } finally {
    // The load first (its sessions leave), then the nodes (they leave the cluster), then nats-server.
    for (const child of children.reverse()) await child.stop();
    await nats?.stop();
  }
  return results;
}

async function runRows(nodes: Nodes, load: Child, options: ClusterBenchOptions, results: ClusterResults): Promise<void> {
  const { timing, rounds } = results;
  const urls = { a: nodes.a.url, b: nodes.b.url };
  // Warm-up, not recorded: both nodes' code paths for every workload and placement get hot (JIT) first.
  for (const w of CLUSTER_WORKLOADS) {
    for (const placement of PLACEMENTS) {
      const warm = { warmupMs: Math.max(500, timing.warmupMs), windowMs: 200 };
      await measureRow(nodes, load, w.spec(urls, placement, `${w.id}.${placement}.warm`), warm).catch((err) =>
        options.log(`cluster: warm-up ${w.id} ${placement}: ${errorOf(err).error}`),
      );
    }
  }
  options.log(`cluster: warmed up; ${rounds} round(s) of ${timing.warmupMs} + ${timing.windowMs} ms per row`);
  for (const w of CLUSTER_WORKLOADS) {
    const measured = new Map<Placement, ClusterMeasured[]>(PLACEMENTS.map((p) => [p, []]));
    const failed = new Map<Placement, ClusterOutcome>();
    for (let round = 0; round < rounds; round++) {
      // Every other round in reverse order: neither placement always runs first.
      for (const placement of round % 2 ? [...PLACEMENTS].reverse() : PLACEMENTS) {
        if (failed.has(placement)) continue;
        const spec = w.spec(urls, placement, `${w.id}.${placement}.${round}`);
        const outcome: ClusterOutcome = await measureRow(nodes, load, spec, timing).catch(errorOf);
        options.log(`cluster ${w.id} ${placement}${rounds > 1 ? ` (round ${round + 1})` : ''}: ${summary(outcome)}`);
        if ('rate' in outcome) measured.get(placement)!.push(outcome);
        else failed.set(placement, outcome);
      }
    }
    for (const placement of PLACEMENTS) {
      const taken = measured.get(placement)!;
      results.rows.push({ workload: w.id, placement, outcome: failed.get(placement) ?? medianOf(taken), rounds: taken });
    }
  }
}

// ---------------------------------------------------------------- the table

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const times = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '–');
const cells = (row: string[]) => `| ${row.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
const isMeasured = (o: ClusterOutcome | undefined): o is ClusterMeasured => o !== undefined && 'rate' in o;
const sum = (o: ClusterMeasured) => o.cpuA + o.cpuB;
/** " (min–max)" over the rounds, when there were several. */
const range = (xs: number[], format: (n: number) => string) =>
  xs.length < 2 ? '' : ` (${format(Math.min(...xs))}–${format(Math.max(...xs))})`;

/** The ratio cluster ÷ local of the summed Kreuz CPU per op: of the medians, and per round (the two placements of one round side by side). */
export function cpuRatio(local: ClusterRow | undefined, cluster: ClusterRow | undefined): { ratio: number; rounds: number[] } {
  if (!isMeasured(local?.outcome) || !isMeasured(cluster?.outcome)) return { ratio: NaN, rounds: [] };
  const n = Math.min(local.rounds.length, cluster.rounds.length);
  const rounds = Array.from({ length: n }, (_, i) => sum(cluster.rounds[i]!) / sum(local.rounds[i]!));
  return { ratio: sum(cluster.outcome) / sum(local.outcome), rounds };
}

export function renderCluster(results: ClusterResults): string {
  const { timing } = results;
  const title = `## Cluster: two Kreuz nodes over NATS (${timing.warmupMs} ms warm-up + ${timing.windowMs} ms measured, ${results.rounds === 1 ? 'once per row' : `${results.rounds} rounds per row: medians, (min–max)`})`;
  if (results.skipped) return [title, '', `skipped: ${results.skipped}`, ''].join('\n');
  const error = results.error ? [`error: ${results.error}`, ''] : [];
  if (results.rows.length === 0) return [title, '', ...results.notes, '', ...error].join('\n');
  const head = [
    'Workload',
    'Placement',
    'Rate',
    'p50 / p99 ms',
    'Kreuz CPU/op A',
    'B',
    'A + B',
    'nats-server CPU/op',
    'A + B ÷ local',
    `target < ${CLUSTER_CPU_TARGET}×`,
    'p50 − local',
    'CPU % A / B / nats / load',
    'frames/op A out / in',
    'A: INV → RES ms',
  ];
  const lines = [cells(head), cells(head.map((_, i) => (i < 2 ? '---' : '---:')))];
  for (const w of CLUSTER_WORKLOADS) {
    const local = results.rows.find((r) => r.workload === w.id && r.placement === 'local');
    const cluster = results.rows.find((r) => r.workload === w.id && r.placement === 'cluster');
    for (const row of [local, cluster]) {
      if (!row) continue;
      const o = row.outcome;
      const base = [row.placement === 'local' ? w.id : `cluster-${w.id}`, row.placement === 'local' ? 'all on A' : placementText(w.id)];
      if (!isMeasured(o)) {
        lines.push(cells([...base, `error: ${o.error}`, ...head.slice(3).map(() => '')]));
        continue;
      }
      const warn = o.problems.length ? ` ⚠ ${o.problems.join('; ')}` : '';
      const isCluster = row.placement === 'cluster';
      const { ratio, rounds } = isCluster ? cpuRatio(local, cluster) : { ratio: NaN, rounds: [] };
      const target =
        !isCluster || !w.id.startsWith('rpc') ? '' : Number.isFinite(ratio) ? (ratio < CLUSTER_CPU_TARGET ? '✓ meets' : '✗ misses') : '–';
      const localP50 = isMeasured(local?.outcome) ? local.outcome.p50ms : NaN;
      lines.push(
        cells([
          ...base,
          `${int(o.rate)} ${w.unit}${range(
            row.rounds.map((r) => r.rate),
            int,
          )}${warn}`,
          `${fixed(o.p50ms, 2)} / ${fixed(o.p99ms, 2)}`,
          `${fixed(o.cpuA, 1)} µs`,
          `${fixed(o.cpuB, 1)} µs`,
          `${fixed(sum(o), 1)} µs${range(row.rounds.map(sum), (n) => fixed(n, 1))}`,
          `${fixed(o.cpuNats, 1)} µs`,
          isCluster ? `${times(ratio)}${range(rounds, (n) => n.toFixed(2))}` : '',
          target,
          isCluster && Number.isFinite(localP50) ? `${o.p50ms - localP50 >= 0 ? '+' : ''}${fixed(o.p50ms - localP50, 2)} ms` : '',
          `${int(o.pctA)} / ${int(o.pctB)} / ${int(o.pctNats)} / ${int(o.pctLoad)}`,
          `${fixed(o.framesOutA, 2)} / ${fixed(o.framesInA, 2)}`,
          fixed(o.remoteCallMs, 2),
        ]),
      );
    }
  }
  const workloads = CLUSTER_WORKLOADS.map((w) => `${w.id}: ${w.title}`).join('. ');
  return [
    title,
    '',
    ...results.notes,
    ...error,
    `${workloads}. Small payload: args = [caller index, request ID], echoed by the callee; events carry the publish time.`,
    'Placement: local = every session on node A (B idle in the cluster, but it still gets every publication: a publication is broadcast to every node); cluster = callers on A, the callee on B; for PubSub the publisher and 2 subscribers on A, 2 subscribers on B.',
    '',
    lines.join('\n'),
    '',
    results.rounds > 1
      ? `Each row: ${results.rounds} rounds, local and cluster of one workload in turn (every other round in reverse order); each figure is the median of its rounds, in brackets the smallest and largest (for A + B ÷ local: of the ratios within each round).`
      : '',
    "Kreuz CPU/op: each node's own process.cpuUsage() (user + system, read over IPC at the start and end of the window) per second of its wall clock, divided by the rate: calls completed, or events delivered (to all 4 subscribers; per publication it is 4 times as much).",
    `nats-server CPU/op: its utime + stime from /proc/<pid>/stat (clock ticks, ${results.ticks} per second) over the same window, divided by the rate; not part of the ratio.`,
    `A + B ÷ local: the cluster row's summed Kreuz CPU per op over the local row's (whose B figure is what an idle node costs: heartbeats, and the publications it is sent). Target (../shared/CLUSTER.md): a cross-node call costs under ${CLUSTER_CPU_TARGET}× the Kreuz CPU of a local call, summed over both nodes; RPC rows only.`,
    "p50 − local: the cluster row's median latency over the local one's (CLUSTER.md expects +0.3–0.5 ms at 1 call in flight). frames/op: cluster frames node A sent and received per op (view().stats); A: INV → RES ms: the mean of its cross-node calls in the window, from INV sent to the final RES.",
    `CPU %: each process over the window, percent of one core. A, B, nats-server and the load share this machine's ${cpus().length} cores (with whatever else runs on it: see the load average); a cross-node call wakes every one of them in turn, so on a busy machine the cluster rows wait for cores, run slower, and pay more per op (fewer messages per wake-up).`,
    '',
  ].join('\n');
}

function placementText(id: string): string {
  return id.startsWith('rpc') ? 'callers on A, callee on B' : 'publisher + 2 subs on A, 2 subs on B';
}

// ---------------------------------------------------------------- alone

/** `node --import tsx bench/cluster.bench.ts [--quick]`, or `npm run bench -- --only cluster [--quick]`. */
export async function runClusterAlone(quick: boolean): Promise<void> {
  const report = standaloneReport('cluster', `Kreuz cluster benchmark (${quick ? 'quick' : 'full'})`, sweepSourceLines(undefined));
  const results = await runClusterBench({ quick, log: report.log });
  report.finish(renderCluster(results));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runClusterAlone(process.argv.includes('--quick')).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
