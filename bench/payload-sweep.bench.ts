/**
 * Payload-size sweep: what a payload of 32 B, 1 KiB, 16 KiB and 256 KiB costs
 * a router, against a byte relay that pays only for the bytes (the floor).
 *
 * - RPC: 1 caller × 16 calls in flight → router → 1 callee, which sends the
 *   payload back as the result (YIELD args = the INVOCATION's args).
 * - PubSub: 1 publisher → router → 1 subscriber, 16 publications in flight.
 * - Payload: args = [one string of N bytes] (ASCII letters and digits, see
 *   payloadString in load-client.ts), no kwargs; every answer or event is
 *   compared with what was sent.
 * - json and msgpack, client and callee on the same serializer.
 * - Targets: Kreuz (this checkout's build, dist/, rebuilt when stale), the floor relay
 *   (batched per tick like Kreuz; also uncorked in the full run), fox-wamp
 *   (json only), and with KREUZ_BASELINE_DIR=<another checkout> that
 *   checkout's src/ as "kreuz (baseline)", for a before/after in one run.
 *
 * Per row: rate, router CPU per op (the server process's own
 * process.cpuUsage() over the measured window, over IPC, divided by the ops
 * in it), that CPU relative to the same target's at 32 B, rate ratios to
 * the floor and to fox-wamp, and Kreuz relative to the baseline.
 *
 * Part of `npm run bench` (and `--quick`); alone:
 *   npm run bench -- --only payload [--quick]
 *   node --import tsx bench/payload-sweep.bench.ts [--quick]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, type Child } from './ipc.ts';
import { standaloneReport } from './standalone.ts';
import type { PubSubSpec, RpcSpec } from './load-client.ts';
import type { Target } from './raw-session.ts';
import { measure, type Measured, type Outcome, type Timing } from './scenarios.ts';
import type { SerializerName } from './wire-codecs.ts';

export const SWEEP_SIZES = [32, 1024, 16 * 1024, 256 * 1024] as const;
export const SWEEP_SERIALIZERS: SerializerName[] = ['json', 'msgpack'];
const WORKLOADS = ['rpc', 'pubsub'] as const;
type Workload = (typeof WORKLOADS)[number];
const INFLIGHT = 16;

export type SweepTargetName = 'kreuz' | 'baseline' | 'floor' | 'floor-uncorked' | 'fox';

interface SweepTarget {
  name: SweepTargetName;
  label: string;
  script: string;
  args: string[];
  kind: Target['kind'];
  jsonOnly?: boolean;
}

export interface SweepOptions {
  quick: boolean;
  /** Another checkout whose src/ runs as "kreuz (baseline)". */
  baselineDir?: string;
  log: (line: string) => void;
}

export interface SweepRow {
  workload: Workload;
  serializer: SerializerName;
  bytes: number;
  target: SweepTargetName;
  label: string;
  /** Measured: the median of the rounds, figure by figure. */
  outcome: Outcome;
  /** Every round's measurement, in the order taken. */
  rounds: Measured[];
}

export interface SweepResults {
  timing: Timing;
  /** Each row is measured this many times, the targets in turn (every other round in reverse order). */
  rounds: number;
  targets: SweepTarget[];
  rows: SweepRow[];
  notes: string[];
}

export function sweepTiming(quick: boolean): Timing & { rounds: number } {
  return quick ? { warmupMs: 200, windowMs: 500, rounds: 1 } : { warmupMs: 500, windowMs: 1000, rounds: 3 };
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Figure by figure, the median of the rounds; the problems of all of them. */
function medianOf(rounds: Measured[]): Measured {
  const m = (key: 'rate' | 'p50ms' | 'p99ms' | 'cpuUsPerOp' | 'serverCpu' | 'loadCpu') => median(rounds.map((r) => r[key]));
  return {
    rate: m('rate'),
    p50ms: m('p50ms'),
    p99ms: m('p99ms'),
    cpuUsPerOp: m('cpuUsPerOp'),
    serverCpu: m('serverCpu'),
    loadCpu: m('loadCpu'),
    problems: [...new Set(rounds.flatMap((r) => r.problems))],
  };
}

function sweepTargets(options: SweepOptions): SweepTarget[] {
  const targets: SweepTarget[] = [{ name: 'kreuz', label: 'kreuz', script: './router-process.ts', args: [], kind: 'wamp' }];
  if (options.baselineDir) {
    targets.push({
      name: 'baseline',
      label: 'kreuz (baseline)',
      script: './router-process.ts',
      args: ['--kreuz-dir', resolve(options.baselineDir)],
      kind: 'wamp',
    });
  }
  targets.push({ name: 'floor', label: 'floor', script: './floor-relay.ts', args: [], kind: 'floor' });
  if (!options.quick) {
    targets.push({ name: 'floor-uncorked', label: 'floor (uncorked)', script: './floor-relay.ts', args: ['--uncorked'], kind: 'floor' });
  }
  targets.push({ name: 'fox', label: 'fox-wamp', script: './fox-process.ts', args: [], kind: 'wamp', jsonOnly: true });
  return targets;
}

export function sizeLabel(bytes: number): string {
  return bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

function sweepSpec(workload: Workload, serializer: SerializerName, bytes: number, target: Target, name: string): RpcSpec | PubSubSpec {
  const tag = `bench.sweep.${workload}.${serializer}.${bytes}.${name}`;
  return workload === 'rpc'
    ? {
        workload,
        target,
        serializer,
        callers: 1,
        callees: 1,
        inflight: INFLIGHT,
        uri: tag,
        registerOptions: {},
        callUri: tag,
        payloadBytes: bytes,
      }
    : { workload, target, serializer, subscribers: 1, window: INFLIGHT, topic: tag, payloadBytes: bytes };
}

const errorOf = (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) });

function summary(o: Outcome): string {
  if ('na' in o) return `n/a (${o.na})`;
  if ('error' in o) return `error: ${o.error}`;
  return `${Math.round(o.rate)}/s, ${o.cpuUsPerOp.toFixed(1)} µs/op${o.problems.length ? `, ${o.problems.join('; ')}` : ''}`;
}

/** The sweep against servers of its own (started here, stopped at the end), with the given load client. */
export async function runPayloadSweep(load: Child, options: SweepOptions): Promise<SweepResults> {
  const { rounds, ...timing } = sweepTiming(options.quick);
  const targets = sweepTargets(options);
  const notes: string[] = [];
  const servers = new Map<SweepTargetName, Child | Error>();
  for (const t of targets) {
    if (t.name === 'baseline' && !existsSync(resolve(options.baselineDir!, 'src/node/server.ts'))) {
      servers.set(t.name, new Error(`no src/node/server.ts in ${options.baselineDir}`));
      continue;
    }
    servers.set(t.name, await startChild(t.script, { args: t.args }).catch((err: Error) => err));
  }
  const rows: SweepRow[] = [];
  try {
    // Warm-up, not recorded: each server's code paths for every workload and serializer get hot (JIT)
    // before the first row, so the 32 B rows, measured first, do not pay for it.
    for (const t of targets) {
      const server = servers.get(t.name)!;
      if (server instanceof Error) continue;
      for (const workload of WORKLOADS) {
        for (const serializer of SWEEP_SERIALIZERS) {
          if (t.jsonOnly && serializer !== 'json') continue;
          const spec = sweepSpec(workload, serializer, 1024, { kind: t.kind, url: server.url }, `${t.name}.warm`);
          await measure(server, load, spec, { warmupMs: Math.max(300, timing.warmupMs), windowMs: 100 }).catch(() => {});
        }
      }
    }
    options.log(`payload: servers warmed up; ${rounds} round(s) of ${timing.warmupMs} + ${timing.windowMs} ms per row`);
    // Sizes outside, targets inside: each size meets every target within seconds of the others.
    for (const workload of WORKLOADS) {
      for (const serializer of SWEEP_SERIALIZERS) {
        for (const bytes of SWEEP_SIZES) {
          const measured = new Map<SweepTargetName, Measured[]>(targets.map((t) => [t.name, []]));
          const failed = new Map<SweepTargetName, Outcome>();
          for (let round = 0; round < rounds; round++) {
            for (const t of round % 2 ? [...targets].reverse() : targets) {
              const server = servers.get(t.name)!;
              if (failed.has(t.name)) continue;
              if (t.jsonOnly && serializer !== 'json') {
                failed.set(t.name, { na: 'fox-wamp speaks wamp.2.json only' });
                continue;
              }
              if (server instanceof Error) {
                failed.set(t.name, errorOf(server));
                continue;
              }
              const spec = sweepSpec(workload, serializer, bytes, { kind: t.kind, url: server.url }, t.name);
              const outcome: Outcome = await measure(server, load, spec, timing).catch(errorOf);
              const where = `payload ${workload} ${serializer} ${sizeLabel(bytes)} ${t.label}${rounds > 1 ? ` (round ${round + 1})` : ''}`;
              options.log(`${where}: ${summary(outcome)}`);
              if ('rate' in outcome) measured.get(t.name)!.push(outcome);
              else failed.set(t.name, outcome);
            }
          }
          for (const t of targets) {
            const taken = measured.get(t.name)!;
            const outcome = failed.get(t.name) ?? medianOf(taken);
            rows.push({ workload, serializer, bytes, target: t.name, label: t.label, outcome, rounds: taken });
          }
        }
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((s) => (s instanceof Error ? undefined : s.stop())));
  }
  return { timing, rounds, targets, rows, notes };
}

// ---------------------------------------------------------------- the table

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const times = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '–');
/** " (min–max)" over the rounds, when there were several. */
const range = (xs: number[], digits: number) => {
  if (xs.length < 2) return '';
  const f = (n: number) => (digits === 0 ? int(n) : fixed(n, digits));
  return ` (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
};
const cells = (row: string[]) => `| ${row.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
const isMeasured = (o: Outcome | undefined): o is Measured => o !== undefined && 'rate' in o;

export function renderSweep(results: SweepResults): string {
  const { rows, timing } = results;
  const find = (w: Workload, s: SerializerName, bytes: number, target: SweepTargetName) =>
    rows.find((r) => r.workload === w && r.serializer === s && r.bytes === bytes && r.target === target)?.outcome;
  const hasBaseline = results.targets.some((t) => t.name === 'baseline');
  const head = [
    'Workload',
    'Payload',
    'Target',
    'Rate',
    'p50 / p99 ms',
    'Router CPU/op',
    'CPU/op ÷ 32 B',
    'CPU % router / load',
    '÷ floor',
    '÷ fox',
  ];
  if (hasBaseline) head.push('kreuz ÷ baseline (rate, CPU/op)');
  const lines = [cells(head), cells(head.map((_, i) => (i < 3 ? '---' : '---:')))];
  for (const r of rows) {
    const o = r.outcome;
    if ('na' in o) continue;
    const workload = `${r.workload === 'rpc' ? 'RPC' : 'PubSub'} ${r.serializer}`;
    const unit = r.workload === 'rpc' ? 'calls/s' : 'events/s';
    const base = [workload, sizeLabel(r.bytes), r.label];
    if (!isMeasured(o)) {
      lines.push(cells([...base, `error: ${o.error}`, ...head.slice(4).map(() => '')]));
      continue;
    }
    const at32 = find(r.workload, r.serializer, SWEEP_SIZES[0], r.target);
    const floor = find(r.workload, r.serializer, r.bytes, 'floor');
    const fox = find(r.workload, r.serializer, r.bytes, 'fox');
    const warn = o.problems.length ? ` ⚠ ${o.problems.join('; ')}` : '';
    const row = [
      ...base,
      `${int(o.rate)} ${unit}${range(
        r.rounds.map((x) => x.rate),
        0,
      )}${warn}`,
      `${fixed(o.p50ms, 2)} / ${fixed(o.p99ms, 2)}`,
      `${fixed(o.cpuUsPerOp, 1)} µs${range(
        r.rounds.map((x) => x.cpuUsPerOp),
        1,
      )}`,
      isMeasured(at32) ? times(o.cpuUsPerOp / at32.cpuUsPerOp) : '–',
      `${int(o.serverCpu)} / ${int(o.loadCpu)}`,
      r.target === 'floor' || !isMeasured(floor) ? '–' : times(o.rate / floor.rate),
      r.target === 'fox' || !isMeasured(fox) ? '–' : times(o.rate / fox.rate),
    ];
    if (hasBaseline) {
      const b = find(r.workload, r.serializer, r.bytes, 'baseline');
      row.push(r.target === 'kreuz' && isMeasured(b) ? `${times(o.rate / b.rate)}, ${times(o.cpuUsPerOp / b.cpuUsPerOp)}` : '');
    }
    lines.push(cells(row));
  }
  return [
    `## Payload-size sweep (${timing.warmupMs} ms warm-up + ${timing.windowMs} ms measured, ${results.rounds === 1 ? 'once per row' : `${results.rounds} rounds per row: medians, (min–max)`})`,
    '',
    `RPC: 1 caller × ${INFLIGHT} calls in flight → 1 callee echoing the payload as its result. PubSub: 1 publisher → 1 subscriber, ${INFLIGHT} publications in flight.`,
    'Payload: args = [one ASCII string of the given size], no kwargs; caller, callee, publisher and subscriber on the same serializer; every result and event compared with what was sent.',
    ...results.notes,
    '',
    lines.join('\n'),
    '',
    results.rounds > 1
      ? `Each row: ${results.rounds} rounds, every target of one workload, serializer and size measured in turn (every other round in reverse order); each figure is the median of its rounds, in brackets the smallest and largest.`
      : '',
    "Router CPU/op: the server process's user + system CPU time (its own process.cpuUsage(), read over IPC at the start and end of the window) divided by the calls completed or events delivered in it.",
    "CPU/op ÷ 32 B: that figure over the same target's at 32 B, same workload and serializer. ÷ floor, ÷ fox: ratio of rates (higher is better); the floor is the corked relay.",
    hasBaseline
      ? 'kreuz ÷ baseline: the rate ratio (higher is better) and the CPU/op ratio (lower is better) of this checkout to the baseline checkout.'
      : '',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- alone

function gitLine(dir: string, label: string): string {
  try {
    const rev = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['--no-optional-locks', '-C', dir, 'status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean).length;
    const untracked = execFileSync('git', ['--no-optional-locks', '-C', dir, 'ls-files', '--others', '--exclude-standard', 'src'], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean).length;
    return `${label}: ${dir} at ${rev}${dirty || untracked ? ` + working tree (${dirty} changed tracked files, ${untracked} untracked in src/)` : ' (clean)'}, its dist/ build`;
  } catch {
    return `${label}: ${dir}, its dist/ build`;
  }
}

/** Header lines naming what "kreuz" and "kreuz (baseline)" were. */
export function sweepSourceLines(baselineDir: string | undefined): string[] {
  const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
  const lines = [gitLine(root, 'kreuz')];
  if (baselineDir) lines.push(gitLine(resolve(baselineDir), 'kreuz (baseline)'));
  return lines;
}

/** `node --import tsx bench/payload-sweep.bench.ts [--quick]`, or `npm run bench -- --only payload`. */
export async function runSweepAlone(quick: boolean): Promise<void> {
  const baselineDir = process.env.KREUZ_BASELINE_DIR || undefined;
  const report = standaloneReport(
    'payload',
    `Kreuz payload-size sweep (${quick ? 'quick' : 'full'})`,
    sweepSourceLines(baselineDir),
    'sweep',
  );
  if (!existsSync(fileURLToPath(new URL('./.peers/node_modules/fox-wamp/package.json', import.meta.url)))) {
    report.log('fox-wamp is not installed in bench/.peers/ (npm run bench installs it): its rows will show the error');
  }
  const load = await startChild('./load-client.ts');
  let results: SweepResults;
  try {
    results = await runPayloadSweep(load, { quick, baselineDir, log: report.log });
  } finally {
    await load.stop();
  }
  report.finish(renderSweep(results));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runSweepAlone(process.argv.includes('--quick')).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
