/**
 * What is measured, and how one measurement goes. Each throughput scenario is
 * one load-client workload, run against each target (Kreuz, the floor relay,
 * fox-wamp) unless it cannot run there (then the reason is kept as "n/a").
 *
 * One measurement: set up (connect, join, register/subscribe), start the
 * traffic, let it warm up, then read the server's CPU time and the load's
 * counters at the start and the end of a fixed window, and finish (stop,
 * wait for what is in flight, check that everything arrived).
 */
import type { Child, CpuSample, MemSample } from './ipc.ts';
import type { Figures, PubSubSpec, RpcSpec } from './load-client.ts';
import type { Target } from './raw-session.ts';

export type TargetName = 'kreuz' | 'floor' | 'fox';

export interface Timing {
  warmupMs: number;
  windowMs: number;
}

export interface Measured {
  /** ops per second: completed calls or delivered events. */
  rate: number;
  p50ms: number;
  p99ms: number;
  /** Server CPU (user + system) per op, microseconds. */
  cpuUsPerOp: number;
  /** Server and load CPU over the window, percent of one core. */
  serverCpu: number;
  loadCpu: number;
  /** What the end-of-run checks found wrong, if anything. */
  problems: string[];
  /** Shared registration: invocations per callee in the whole run. */
  perCallee?: number[];
}

export type Outcome = Measured | { na: string } | { error: string };

export interface LoadScenario {
  id: string;
  title: string;
  unit: 'calls/s' | 'events/s';
  /** A reason per target where the scenario cannot run. */
  na?: Partial<Record<TargetName, string>>;
  spec(target: Target, tag: string): RpcSpec | PubSubSpec;
}

const JSON_ONLY = 'fox-wamp speaks wamp.2.json only';
const NO_WAMP = 'Autobahn|JS needs a WAMP router; the floor does no WAMP';
const EXACT_ONLY = 'fox-wamp routes calls by exact URI only (no prefix/wildcard registrations)';

function rpc(target: Target, tag: string, o: Partial<RpcSpec> = {}): RpcSpec {
  return {
    workload: 'rpc',
    target,
    serializer: 'json',
    callers: 4,
    callees: 1,
    inflight: 16,
    uri: `bench.rpc.${tag}`,
    registerOptions: {},
    callUri: `bench.rpc.${tag}`,
    ...o,
  };
}

function pubsub(target: Target, tag: string, subscribers: number): PubSubSpec {
  return { workload: 'pubsub', target, serializer: 'json', subscribers, window: 16, topic: `bench.topic.${tag}` };
}

export const LOAD_SCENARIOS: LoadScenario[] = [
  {
    id: 'rpc1',
    title: 'RPC json, 4 callers × 1 call in flight → 1 callee',
    unit: 'calls/s',
    spec: (t, tag) => rpc(t, tag, { inflight: 1 }),
  },
  { id: 'rpc16', title: 'RPC json, 4 callers × 16 in flight → 1 callee', unit: 'calls/s', spec: (t, tag) => rpc(t, tag) },
  {
    id: 'rpc16-msgpack',
    title: 'RPC msgpack, 4 × 16 in flight → 1 callee',
    unit: 'calls/s',
    na: { fox: JSON_ONLY },
    spec: (t, tag) => rpc(t, tag, { serializer: 'msgpack' }),
  },
  {
    id: 'rpc16-cbor',
    title: 'RPC cbor, 4 × 16 in flight → 1 callee',
    unit: 'calls/s',
    na: { fox: JSON_ONLY },
    spec: (t, tag) => rpc(t, tag, { serializer: 'cbor' }),
  },
  {
    id: 'rpc16-autobahn',
    title: 'RPC Autobahn|JS json, 4 × 16 in flight → 1 callee',
    unit: 'calls/s',
    na: { floor: NO_WAMP },
    spec: (t, tag) => ({ ...rpc(t, tag), workload: 'autobahn-rpc' }),
  },
  {
    id: 'shared',
    title: 'RPC shared registration, 4 × 16 in flight → 4 callees roundrobin',
    unit: 'calls/s',
    spec: (t, tag) => rpc(t, tag, { callees: 4, registerOptions: { invoke: 'roundrobin' } }),
  },
  {
    id: 'pubsub4',
    title: 'PubSub json, 1 publisher → 4 subscribers (16 publications in flight)',
    unit: 'events/s',
    spec: (t, tag) => pubsub(t, tag, 4),
  },
  {
    id: 'pubsub100',
    title: 'PubSub json, 1 publisher → 100 subscribers (16 in flight)',
    unit: 'events/s',
    spec: (t, tag) => pubsub(t, tag, 100),
  },
];

/**
 * Call matching end to end: the RPC 4 × 16 load, the callee registered with a
 * pattern among `n` filler registrations of each policy (router-process.ts
 * adds them in-process). Kreuz only; the floor's figure is its plain RPC one.
 */
export const MATCH_SIZES = [10, 100_000] as const;
export const MATCH_POLICIES = ['prefix', 'wildcard'] as const;
export type MatchPolicy = (typeof MATCH_POLICIES)[number];

export function matchScenario(match: MatchPolicy, registrations: number): LoadScenario {
  const [uri, callUri] = match === 'prefix' ? ['com.app7.bench', 'com.app7.bench.op'] : ['com.app7..bench.op', 'com.app7.any.bench.op'];
  return {
    id: `match-${match}-${registrations}`,
    title: `RPC json 4 × 16, ${match} registration among ${registrations.toLocaleString('en-US')} ${match} + ${registrations.toLocaleString('en-US')} ${match === 'prefix' ? 'wildcard' : 'prefix'}`,
    unit: 'calls/s',
    na: { fox: EXACT_ONLY },
    spec: (t) => rpc(t, '', { uri, callUri, registerOptions: { match } }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One load scenario against one running server. */
export async function measure(server: Child, load: Child, spec: RpcSpec | PubSubSpec, timing: Timing): Promise<Measured> {
  await load.request('setup', spec as unknown as Record<string, unknown>);
  await load.request('start');
  try {
    await sleep(timing.warmupMs);
    const [cpu0] = await Promise.all([server.request<CpuSample>('cpu'), load.request<Figures>('mark')]);
    await sleep(timing.windowMs);
    const [cpu1, figures] = await Promise.all([server.request<CpuSample>('cpu'), load.request<Figures>('mark')]);
    const check = await load.request<Record<string, unknown>>('finish');
    const serverSeconds = (cpu1.wallMs - cpu0.wallMs) / 1000;
    const serverCpuUs = cpu1.user + cpu1.system - cpu0.user - cpu0.system;
    const rate = figures.ops / figures.seconds;
    return {
      rate,
      p50ms: figures.p50ms,
      p99ms: figures.p99ms,
      cpuUsPerOp: serverCpuUs / serverSeconds / rate,
      serverCpu: serverCpuUs / serverSeconds / 1e4,
      loadCpu: figures.loadCpu,
      problems: problemsOf(check),
      perCallee: check.perCallee as number[] | undefined,
    };
  } catch (err) {
    await load.request('finish').catch(() => {});
    throw err;
  }
}

function problemsOf(check: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of ['unanswered', 'errors', 'mismatches', 'lost'] as const) {
    const n = check[key] as number | undefined;
    if (n) problems.push(`${n} ${key}`);
  }
  for (const f of (check.failures as string[] | undefined) ?? []) problems.push(f);
  if (check.sent === 0 || check.published === 0) problems.push('nothing was sent');
  return problems;
}

export interface MemoryFigures {
  sessions: number;
  /** Growth over the empty server, divided by the sessions, bytes. */
  rssPerSession: number;
  heapPerSession: number;
  openMs: number;
}

/** Memory per idle session at each count, sessions opened cumulatively on one fresh server. */
export async function measureMemory(server: Child, load: Child, target: Target, counts: number[]): Promise<MemoryFigures[]> {
  const base = await server.request<MemSample>('mem');
  const out: MemoryFigures[] = [];
  try {
    let open = 0;
    for (const count of counts) {
      const opened = await load.request<{ open: number; ms: number }>('idle-open', { target, count: count - open }, 300_000);
      open = opened.open;
      await sleep(300); // let the last handshakes settle
      const m = await server.request<MemSample>('mem');
      out.push({
        sessions: open,
        rssPerSession: (m.rss - base.rss) / open,
        heapPerSession: (m.heapUsed + m.external - base.heapUsed - base.external) / open,
        openMs: opened.ms,
      });
    }
  } finally {
    await load.request('idle-close', {}, 300_000);
  }
  return out;
}
