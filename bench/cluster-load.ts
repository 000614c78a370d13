/**
 * The cluster benchmark's load (cluster.bench.ts), in its own process: the
 * raw `ws` sessions and codecs of load-client.ts (raw-session.ts,
 * wire-codecs.ts), its closed loops and its commands (setup, start, mark,
 * finish; see load-client.ts), but every role at a router of its own, so
 * that a caller on node A calls a callee on node B, and one publisher's
 * subscribers sit on both nodes. load-client.ts puts all sessions of a
 * workload at one URL, and a PubSub load's flow control and latencies need
 * the publisher and every subscriber in one process: hence this file.
 *
 *   rpc     {callerUrl, calleeUrl, callers, inflight, uri}: `callers` callers keep
 *           `inflight` calls each in flight → 1 callee, which answers with the call's
 *           args (YIELD args = INVOCATION args, [caller index, request ID]).
 *   pubsub  {publisherUrl, subscriberUrls, window, topic}: 1 publisher, one subscriber
 *           per URL, `window` publications in flight, counted by delivery to all.
 *
 * Before setup returns, a probe has gone through end to end (a call answered
 * with RESULT; an event seen by every subscriber), so the callee's node has
 * told the caller's node of the registration, and no measured call meets
 * wamp.error.no_such_procedure. Probes count nowhere.
 */
import { cpuSample, serveRequests, type CpuSample } from './ipc.ts';
import type { Figures } from './load-client.ts';
import { RawSession, type Role, type Target } from './raw-session.ts';
import type { SerializerName } from './wire-codecs.ts';

export interface ClusterRpcSpec {
  workload: 'rpc';
  serializer: SerializerName;
  callerUrl: string;
  calleeUrl: string;
  callers: number;
  inflight: number;
  uri: string;
}

export interface ClusterPubSubSpec {
  workload: 'pubsub';
  serializer: SerializerName;
  publisherUrl: string;
  /** One subscriber at each. */
  subscriberUrls: string[];
  window: number;
  topic: string;
}

export type ClusterLoadSpec = ClusterRpcSpec | ClusterPubSubSpec;

interface Workload {
  start(): void;
  halt(): void;
  finish(): Promise<Record<string, unknown>>;
}

// ---------------------------------------------------------------- figures (as in load-client.ts)

const MAX_SAMPLES = 2_000_000;
let ops = 0;
let latencies: number[] = [];
let since: CpuSample = cpuSample();

function record(ms: number): void {
  ops++;
  if (latencies.length < MAX_SAMPLES) latencies.push(ms);
}

function mark(): Figures {
  const now = cpuSample();
  const seconds = (now.wallMs - since.wallMs) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
  const figures = {
    ops,
    seconds,
    p50ms: at(0.5),
    p99ms: at(0.99),
    loadCpu: (now.user + now.system - since.user - since.system) / 1e4 / seconds,
  };
  ops = 0;
  latencies = [];
  since = now;
  return figures;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(done: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!done() && performance.now() < end) await sleep(5);
  return done();
}

function failures(sessions: RawSession[]): string[] {
  return [...new Set(sessions.map((s) => s.failure).filter((f): f is string => f !== undefined))];
}

/** What a failed set-up must close: every session it opened so far. */
let opened: RawSession[] = [];

async function open(url: string, role: Role, serializer: SerializerName): Promise<RawSession> {
  const target: Target = { kind: 'wamp', url };
  const session = await RawSession.open(target, role, serializer);
  opened.push(session);
  return session;
}

const PROBE_DEADLINE_MS = 10_000;

// ---------------------------------------------------------------- RPC

/** Calls until one is answered with RESULT (each try waits up to 2 s); returns the request IDs used. */
async function probeCall(caller: RawSession, uri: string): Promise<number> {
  const end = performance.now() + PROBE_DEADLINE_MS;
  let id = 0;
  let last = 'no answer';
  while (performance.now() < end) {
    const answer = await new Promise<unknown[] | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 2000);
      caller.onMessage = (m) => {
        if (m[0] !== 50 && m[0] !== 8) return;
        clearTimeout(timer);
        resolve(m);
      };
      caller.send([48, ++id, {}, uri, ['probe']]);
    });
    caller.onMessage = () => {};
    if (answer?.[0] === 50) return id;
    if (answer) last = String(answer[4]);
    await sleep(20);
  }
  throw new Error(`probe call to ${uri} not answered with RESULT within ${PROBE_DEADLINE_MS} ms (last: ${last})`);
}

async function rpc(spec: ClusterRpcSpec): Promise<Workload> {
  const callee = await open(spec.calleeUrl, 'callee', spec.serializer);
  await callee.register(spec.uri);
  let invocations = 0;
  callee.onMessage = (m) => {
    if (m[0] !== 68) return;
    invocations++;
    callee.send([70, m[1], {}, m[4]]);
  };
  const callers = await Promise.all(Array.from({ length: spec.callers }, () => open(spec.callerUrl, 'caller', spec.serializer)));
  const probes = await probeCall(callers[0]!, spec.uri);
  invocations = 0;

  let running = false;
  let sent = 0;
  let answered = 0;
  let errors = 0;
  let mismatches = 0;
  const firstErrors: string[] = [];
  const states = callers.map((session, index) => {
    const sentAt = new Float64Array(1024);
    let id = index === 0 ? probes : 0;
    const call = () => {
      id++;
      sentAt[id & 1023] = performance.now();
      sent++;
      session.send([48, id, {}, spec.uri, [index, id]]);
    };
    session.onMessage = (m) => {
      if (m[0] === 50) {
        answered++;
        record(performance.now() - sentAt[(m[1] as number) & 1023]!);
        if ((m[3] as unknown[] | undefined)?.[1] !== m[1]) mismatches++;
      } else if (m[0] === 8) {
        answered++;
        errors++;
        if (firstErrors.length < 3) firstErrors.push(String(m[4]));
      } else return;
      if (running) call();
    };
    return { call };
  });

  return {
    start() {
      running = true;
      for (const s of states) for (let k = 0; k < spec.inflight; k++) s.call();
    },
    halt: () => void (running = false),
    async finish() {
      running = false;
      await until(() => answered === sent, 3000);
      const all = [...callers, callee];
      const found = failures(all);
      if (errors) found.push(`errors: ${[...new Set(firstErrors)].join(', ')}`);
      const result = { sent, invoked: invocations, unanswered: sent - answered, errors, mismatches, failures: found };
      await Promise.all(all.map((s) => s.close()));
      return result;
    },
  };
}

// ---------------------------------------------------------------- PubSub

async function pubsub(spec: ClusterPubSubSpec): Promise<Workload> {
  const subscribers = await Promise.all(spec.subscriberUrls.map((url) => open(url, 'sub', spec.serializer)));
  for (const s of subscribers) await s.subscribe(spec.topic);
  const publisher = await open(spec.publisherUrl, 'pub', spec.serializer);
  const n = subscribers.length;

  // The probe: publications marked "probe" until every subscriber has seen one.
  const seen = subscribers.map(() => false);
  subscribers.forEach((s, i) => {
    s.onMessage = (m) => {
      if (m[0] === 36 && (m[4] as unknown[] | undefined)?.[0] === 'probe') seen[i] = true;
    };
  });
  let published = 0;
  const probeEnd = performance.now() + PROBE_DEADLINE_MS;
  while (!seen.every(Boolean) && performance.now() < probeEnd) {
    publisher.send([16, ++published, {}, spec.topic, ['probe']]);
    await until(() => seen.every(Boolean), 100);
  }
  if (!seen.every(Boolean)) {
    throw new Error(
      `probe events on ${spec.topic} reached ${seen.filter(Boolean).length} of ${n} subscribers within ${PROBE_DEADLINE_MS} ms`,
    );
  }
  await sleep(50); // probes still on their way arrive now (and are ignored below)
  const probes = published;

  let running = false;
  let delivered = 0;
  const counted = () => published - probes;
  const publish = () => {
    while (running && counted() * n - delivered < spec.window * n) {
      published++;
      publisher.send([16, published, {}, spec.topic, [performance.now()]]);
    }
  };
  for (const s of subscribers) {
    s.onMessage = (m) => {
      if (m[0] !== 36) return;
      const sentAt = (m[4] as unknown[] | undefined)?.[0];
      if (typeof sentAt !== 'number') return; // a late probe
      delivered++;
      record(performance.now() - sentAt);
      publish();
    };
  }
  return {
    start() {
      running = true;
      publish();
    },
    halt: () => void (running = false),
    async finish() {
      running = false;
      await until(() => delivered >= counted() * n, 3000);
      const all = [publisher, ...subscribers];
      const result = { published: counted(), expected: counted() * n, lost: counted() * n - delivered, failures: failures(all) };
      await Promise.all(all.map((s) => s.close()));
      return result;
    },
  };
}

// ---------------------------------------------------------------- commands

let current: Workload | undefined;
/** Traffic stops by itself after this long, should the orchestrator never say finish. */
const MAX_TRAFFIC_MS = 120_000;
let haltTimer: NodeJS.Timeout | undefined;

serveRequests({
  async setup(r) {
    const spec = r as unknown as ClusterLoadSpec;
    opened = [];
    try {
      current = spec.workload === 'rpc' ? await rpc(spec) : await pubsub(spec);
    } catch (err) {
      await Promise.all(opened.map((s) => s.close().catch(() => {})));
      throw err;
    } finally {
      opened = [];
    }
    return {};
  },
  start() {
    if (!current) throw new Error('no workload set up');
    current.start();
    const w = current;
    haltTimer = setTimeout(() => w.halt(), MAX_TRAFFIC_MS);
    return {};
  },
  mark,
  async finish() {
    const w = current;
    current = undefined;
    clearTimeout(haltTimer);
    if (!w) throw new Error('no workload set up');
    return w.finish();
  },
});
console.log('URL -');
