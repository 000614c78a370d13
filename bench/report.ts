/**
 * The one Markdown table: per scenario, Kreuz's figures, the floor's and
 * fox-wamp's, the ratios ours/floor and ours/fox, and the targets with a
 * mark saying whether this run meets them (figures from a noisy machine are
 * only indicative).
 */
import type { MemoryFigures, Measured, Outcome, TargetName } from './scenarios.ts';
import type { UriMapRow } from './uri-map.bench.ts';

export interface Header {
  mode: string;
  lines: string[];
}

export type MemoryOutcome = MemoryFigures[] | { na: string } | { error: string };

export interface Results {
  /** Load scenarios: title and unit, then an outcome per target. */
  load: Array<{ id: string; title: string; unit: string; outcomes: Record<TargetName, Outcome> }>;
  memory: Record<TargetName, MemoryOutcome>;
  memoryCounts: number[];
  uriMap: UriMapRow[];
}

const TARGET = { rpcCpuUs: 30, vsFloor: 0.7, vsFox: 1.5, pubsubCpuUs: 4, kbPerSession: 16, matchRatio: 2 };

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const mark = (ok: boolean) => (ok ? '✓' : '✗');
const cells = (row: string[]) => `| ${row.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;

function isMeasured(o: Outcome | undefined): o is Measured {
  return o !== undefined && 'rate' in o;
}

/** A target's cell: the rate and CPU per op, or why there is none. */
function targetCell(o: Outcome | undefined, unit: string): string {
  if (!o) return '–';
  if ('na' in o) return `n/a: ${o.na}`;
  if ('error' in o) return `error: ${o.error}`;
  const warn = o.problems.length ? ` ⚠ ${o.problems.join('; ')}` : '';
  return `${int(o.rate)} ${unit}, ${fixed(o.cpuUsPerOp, 1)} µs/op${warn}`;
}

function ratio(ours: Outcome | undefined, other: Outcome | undefined): number {
  return isMeasured(ours) && isMeasured(other) ? ours.rate / other.rate : NaN;
}

function ratioCell(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : '–';
}

function loadTargets(id: string, ours: Outcome, vsFloor: number, vsFox: number, results: Results): string {
  if (!isMeasured(ours)) return '';
  if (id.startsWith('pubsub')) return `CPU ≤ ${TARGET.pubsubCpuUs} µs/event ${mark(ours.cpuUsPerOp <= TARGET.pubsubCpuUs)}`;
  const marks = [`CPU ≤ ${TARGET.rpcCpuUs} µs/call ${mark(ours.cpuUsPerOp <= TARGET.rpcCpuUs)}`];
  if (Number.isFinite(vsFloor)) marks.push(`≥ ${TARGET.vsFloor}× floor ${mark(vsFloor >= TARGET.vsFloor)}`);
  if (Number.isFinite(vsFox)) marks.push(`≥ ${TARGET.vsFox}× fox ${mark(vsFox >= TARGET.vsFox)}`);
  const big = /^match-(\w+)-(\d+)$/.exec(id);
  if (big && Number(big[2]) > 10) {
    const small = results.load.find((l) => l.id === `match-${big[1]}-10`)?.outcomes.kreuz;
    if (isMeasured(small)) {
      const r = ours.cpuUsPerOp / small.cpuUsPerOp;
      marks.push(
        `vs 10 regs: CPU/call ${r.toFixed(2)}× (≤ ${TARGET.matchRatio}× ${mark(r <= TARGET.matchRatio)}), calls/s ${(ours.rate / small.rate).toFixed(2)}×`,
      );
    }
  }
  if (ours.perCallee && ours.perCallee.length > 1) marks.push(`calls per callee ${ours.perCallee.map(int).join('/')}`);
  return marks.join(' · ');
}

function foxNote(o: Outcome | undefined): string {
  return isMeasured(o) && o.perCallee && o.perCallee.length > 1 ? ` (calls per callee ${o.perCallee.map(int).join('/')})` : '';
}

function memoryCell(m: MemoryOutcome | undefined, i: number): string {
  if (!m) return '–';
  if ('na' in m) return `n/a: ${m.na}`;
  if ('error' in m) return `error: ${m.error}`;
  const f = m[i];
  return f ? `${fixed(f.rssPerSession / 1024, 1)} kB RSS, ${fixed(f.heapPerSession / 1024, 1)} kB heap` : '–';
}

function memoryRatio(a: MemoryOutcome | undefined, b: MemoryOutcome | undefined, i: number): number {
  return Array.isArray(a) && Array.isArray(b) && a[i] && b[i] ? a[i].rssPerSession / b[i].rssPerSession : NaN;
}

export function renderReport(header: Header, results: Results): string {
  const rows = [
    cells([
      'Scenario',
      'Kreuz',
      'p50 / p99 ms',
      'Kreuz CPU/op',
      'CPU % router / load',
      'Floor (ws relay)',
      'ours/floor',
      'fox-wamp',
      'ours/fox',
      'Targets',
    ]),
    cells(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---']),
  ];
  for (const { id, title, unit, outcomes } of results.load) {
    const ours = outcomes.kreuz;
    const vsFloor = ratio(ours, outcomes.floor);
    const vsFox = ratio(ours, outcomes.fox);
    if (isMeasured(ours)) {
      const warn = ours.problems.length ? ` ⚠ ${ours.problems.join('; ')}` : '';
      rows.push(
        cells([
          title,
          `${int(ours.rate)} ${unit}${warn}`,
          `${fixed(ours.p50ms, 2)} / ${fixed(ours.p99ms, 2)}`,
          `${fixed(ours.cpuUsPerOp, 1)} µs`,
          `${int(ours.serverCpu)} / ${int(ours.loadCpu)}`,
          targetCell(outcomes.floor, unit),
          ratioCell(vsFloor),
          targetCell(outcomes.fox, unit) + foxNote(outcomes.fox),
          ratioCell(vsFox),
          loadTargets(id, ours, vsFloor, vsFox, results),
        ]),
      );
    } else {
      rows.push(
        cells([title, targetCell(ours, unit), '', '', '', targetCell(outcomes.floor, unit), '–', targetCell(outcomes.fox, unit), '–', '']),
      );
    }
  }
  results.memoryCounts.forEach((count, i) => {
    const m = results.memory;
    const ours = m.kreuz;
    const f = Array.isArray(ours) ? ours[i] : undefined;
    const goal =
      f && f.sessions >= 10_000
        ? `≤ ${TARGET.kbPerSession} kB/session at 10,000 ${mark(f.rssPerSession / 1024 <= TARGET.kbPerSession)}`
        : '';
    rows.push(
      cells([
        `Memory per idle session, ${int(f?.sessions ?? count)} sessions (growth ÷ sessions)`,
        memoryCell(ours, i),
        f ? `opened in ${fixed(f.openMs / 1000, 1)} s` : '',
        '',
        '',
        memoryCell(m.floor, i),
        ratioCell(memoryRatio(ours, m.floor, i)),
        memoryCell(m.fox, i),
        ratioCell(memoryRatio(ours, m.fox, i)),
        goal,
      ]),
    );
  });
  for (const { kind, small, large } of results.uriMap) {
    rows.push(
      cells([
        `URI map in-process, ${kind} lookup: 10 vs 100,000 registrations per policy`,
        `${fixed(small, 0)} → ${fixed(large, 0)} ns/lookup`,
        '',
        '',
        '',
        'n/a: in-process',
        '–',
        'n/a: in-process',
        '–',
        `ratio ${fixed(large / small, 2)}× (for reference; end to end above)`,
      ]),
    );
  }
  return [
    `# Kreuz benchmarks (${header.mode})`,
    '',
    ...header.lines,
    '',
    rows.join('\n'),
    '',
    'ours/floor and ours/fox: ratio of rates (higher is better) or, for memory, of bytes per session (lower is better).',
    "CPU/op: the server process's user + system CPU time over the measured window, divided by the calls completed or events delivered in it.",
    '',
  ].join('\n');
}
