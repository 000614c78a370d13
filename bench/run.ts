/**
 * `npm run bench` (about 3 minutes) and `npm run bench -- --quick` (under
 * one, a smoke run): Kreuz against the floor (a byte relay doing no WAMP,
 * floor-relay.ts) and a peer (fox-wamp), each server in its own process, the
 * load from another (load-client.ts), all on 127.0.0.1. Prints one Markdown
 * table (and the payload sweep's, payload-sweep.bench.ts) and writes them to
 * bench/results/bench-<timestamp>.md.
 *
 * `--only payload`: the payload sweep alone (see payload-sweep.bench.ts);
 * KREUZ_BASELINE_DIR=<checkout> adds its "kreuz (baseline)" rows.
 * `--only http-bridge`: the HTTP publisher against a plain WAMP publish (http-bridge.bench.ts);
 * `--only cluster`: the cluster rows alone (two nodes over one nats-server,
 * see cluster.bench.ts); the full and quick runs include them after the sweep.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startChild, type Child } from './ipc.ts';
import { renderReport, type MemoryOutcome, type Results } from './report.ts';
import type { Target } from './raw-session.ts';
import {
  LOAD_SCENARIOS,
  MATCH_POLICIES,
  MATCH_SIZES,
  matchScenario,
  measure,
  measureMemory,
  type LoadScenario,
  type Outcome,
  type TargetName,
  type Timing,
} from './scenarios.ts';
import { renderSweep, runPayloadSweep, runSweepAlone, sweepSourceLines } from './payload-sweep.bench.ts';
import { renderCluster, runClusterAlone, runClusterBench } from './cluster.bench.ts';
// uri-map.bench.ts and hostile-cost.bench.ts load parts of src/ in this process: imported when used,
// so that `--only payload` and `--only cluster` run whatever state src/ is in (their routers are child processes).

const quick = process.argv.includes('--quick');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
if (only !== undefined && only !== 'payload' && only !== 'cluster' && only !== 'http-bridge') {
  console.error(`--only: unknown part "${only}" (there are: payload, cluster, http-bridge)`);
  process.exit(2);
}
const baselineDir = process.env.KREUZ_BASELINE_DIR || undefined;
const timing: Timing = quick ? { warmupMs: 300, windowMs: 700 } : { warmupMs: 1000, windowMs: 3000 };
const wantedCounts = quick ? [1_000, 5_000] : [1_000, 10_000];
const TARGETS: TargetName[] = ['kreuz', 'floor', 'fox'];
const SERVERS: Record<TargetName, string> = { kreuz: './router-process.ts', floor: './floor-relay.ts', fox: './fox-process.ts' };

const started = performance.now();
const nofile = execFileSync('/bin/sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
// Each idle session is one socket in the server and one in the load client; keep room for the rest.
const maxSessions = nofile === 'unlimited' ? Infinity : Number(nofile) - 200;
const memoryCounts = wantedCounts.filter((count) => count <= maxSessions);
const date = new Date();
const headerLines = [
  `${date.toISOString()} · Node ${process.versions.node} · ${process.platform}/${process.arch} · ${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
  `Load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (figures from a busy machine are only indicative)`,
  `Each load: ${timing.warmupMs} ms warm-up, then ${timing.windowMs} ms measured · open files per process: ${nofile} (hard limit; children raise their soft limit to it)`,
  'Servers and the load client are separate processes on 127.0.0.1; the load client uses raw `ws` and its own codecs, bench/wire-codecs.ts (Autobahn|JS where the row says so).',
  ...wantedCounts
    .filter((count) => count > maxSessions)
    .map((count) => `Memory at ${count} sessions not measured: the open-file limit is ${nofile}.`),
  ...sweepSourceLines(baselineDir),
];

function log(line: string): void {
  console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`);
}

// The peer, fox-wamp, is no dependency of Kreuz: it pulls sqlite3, built from source (minutes).
// Installed here on first use, into bench/.peers/ (ignored by git), where fox-process.ts loads it.
const FOX_WAMP = 'fox-wamp@0.7.28';
const PEERS_DIR = fileURLToPath(new URL('./.peers/', import.meta.url));

function ensureFoxInstalled(): void {
  if (existsSync(`${PEERS_DIR}node_modules/fox-wamp/package.json`)) return;
  log(`installing ${FOX_WAMP} into bench/.peers/ (first run only; sqlite3 builds from source, a few minutes)`);
  mkdirSync(PEERS_DIR, { recursive: true });
  try {
    execFileSync('npm', ['install', '--prefix', PEERS_DIR, '--save-exact', '--no-audit', '--no-fund', FOX_WAMP], {
      stdio: ['ignore', 2, 2],
    });
  } catch (err) {
    log(`could not install ${FOX_WAMP} (${err instanceof Error ? err.message : String(err)}): the fox columns will show the error`);
  }
}

function summary(o: Outcome): string {
  if ('na' in o) return `n/a (${o.na})`;
  if ('error' in o) return `error: ${o.error}`;
  return `${Math.round(o.rate)}/s, ${o.cpuUsPerOp.toFixed(1)} µs/op${o.problems.length ? `, ${o.problems.join('; ')}` : ''}`;
}

const errorOf = (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) });

/** Runs one scenario against the running servers, one target after the other. */
async function runScenario(
  scenario: LoadScenario,
  servers: Partial<Record<TargetName, Child | Error>>,
  load: Child,
): Promise<Record<TargetName, Outcome>> {
  const outcomes = {} as Record<TargetName, Outcome>;
  for (const name of TARGETS) {
    const server = servers[name];
    const na = scenario.na?.[name];
    if (!server && !na) continue; // filled in by the caller
    if (na) outcomes[name] = { na };
    else if (server instanceof Error) outcomes[name] = errorOf(server);
    else if (server) {
      const target: Target = { kind: name === 'floor' ? 'floor' : 'wamp', url: server.url };
      outcomes[name] = await measure(server, load, scenario.spec(target, `${scenario.id}.${name}`), timing).catch(errorOf);
    }
    log(`${scenario.id} ${name}: ${summary(outcomes[name])}`);
  }
  return outcomes;
}

async function startServers(names: TargetName[]): Promise<Partial<Record<TargetName, Child | Error>>> {
  const servers: Partial<Record<TargetName, Child | Error>> = {};
  for (const name of names) servers[name] = await startChild(SERVERS[name]).catch((err: Error) => err);
  return servers;
}

async function stopServers(servers: Partial<Record<TargetName, Child | Error>>): Promise<void> {
  await Promise.all(Object.values(servers).map((s) => (s instanceof Error ? undefined : s?.stop())));
}

async function main(): Promise<void> {
  if (only === 'cluster') return runClusterAlone(quick);
  ensureFoxInstalled();
  if (only === 'payload') return runSweepAlone(quick);
  if (only === 'http-bridge') return (await import('./http-bridge.bench.ts')).runHttpBridgeAlone(quick);
  log(`mode ${quick ? 'quick' : 'full'}; URI map in-process first`);
  const { measureUriMap } = await import('./uri-map.bench.ts');
  const results: Results = {
    load: [],
    memory: {} as Record<TargetName, MemoryOutcome>,
    memoryCounts,
    uriMap: measureUriMap(['prefix', 'wildcard']),
  };
  const load = await startChild('./load-client.ts', { nodeFlags: ['--experimental-websocket', '--no-warnings=ExperimentalWarning'] });
  let sweep: string;
  try {
    // Throughput: the three servers run side by side (idle ones cost nothing), so each scenario meets all three within seconds.
    const servers = await startServers(TARGETS);
    for (const scenario of LOAD_SCENARIOS) results.load.push({ ...scenario, outcomes: await runScenario(scenario, servers, load) });
    await stopServers(servers);

    // Call matching end to end: a fresh router, filled in-process from 10 to 100,000 registrations of each policy.
    const floorRpc = results.load.find((l) => l.id === 'rpc16')?.outcomes.floor;
    const router = await startChild(SERVERS.kreuz);
    for (const size of MATCH_SIZES) {
      for (const match of MATCH_POLICIES) await router.request('fill', { match, count: size });
      for (const match of MATCH_POLICIES) {
        const scenario = matchScenario(match, size);
        const outcomes = await runScenario(scenario, { kreuz: router }, load);
        if (floorRpc) outcomes.floor = floorRpc; // the floor does no matching: its plain RPC figure, same load
        results.load.push({ ...scenario, outcomes });
      }
    }
    await router.stop();

    // Memory per idle session: a fresh server per target, sessions opened cumulatively.
    for (const name of TARGETS) {
      const server = await startChild(SERVERS[name]).catch((err: Error) => err);
      if (server instanceof Error) {
        results.memory[name] = errorOf(server);
        continue;
      }
      const target: Target = { kind: name === 'floor' ? 'floor' : 'wamp', url: server.url };
      results.memory[name] = await measureMemory(server, load, target, memoryCounts).catch(errorOf);
      const m = results.memory[name];
      log(
        `memory ${name}: ${Array.isArray(m) ? m.map((f) => `${f.sessions} → ${(f.rssPerSession / 1024).toFixed(1)} kB`).join(', ') : JSON.stringify(m)}`,
      );
      await server.stop();
    }

    // Payload sizes: servers of its own (Kreuz, the baseline if given, the floor, fox-wamp).
    sweep = renderSweep(await runPayloadSweep(load, { quick, baselineDir, log }));
  } finally {
    await load.stop();
  }

  // Two Kreuz nodes over one nats-server, with a load of their own (skipped, with a line saying so, without nats-server).
  const cluster = renderCluster(await runClusterBench({ quick, log }));

  log('hostile input costs in-process');
  const { runHostileCostBench } = await import('./hostile-cost.bench.ts');
  const hostile = runHostileCostBench();
  const report = [
    renderReport(
      { mode: quick ? 'quick' : 'full', lines: [...headerLines, `Run time: ${((performance.now() - started) / 1000).toFixed(0)} s`] },
      results,
    ),
    sweep,
    cluster,
    hostile,
  ].join('\n');
  console.log(report);
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`bench-${date.toISOString().replace(/[:.]/g, '-')}.md`, dir);
  writeFileSync(file, report);
  console.log(`written to ${file.pathname}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
