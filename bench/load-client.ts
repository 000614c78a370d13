/**
 * The load, in its own process so that the server's CPU time is its own.
 * Driven by the orchestrator over IPC (see ipc.ts), one workload at a time:
 *
 *   setup {workload, ...}  open and join sessions, register / subscribe
 *   start                  traffic on
 *   mark                   figures since the previous mark (the first one starts the window)
 *   finish                 traffic off, wait for what is in flight, check, close
 *   idle-open {count}      open (and join) idle sessions, kept until idle-close
 *
 * Workloads: `rpc` (raw ws clients: callers keep `inflight` calls each in
 * flight to `callees` callees), `autobahn-rpc` (the same with Autobahn|JS
 * sessions), `pubsub` (1 publisher, N subscribers, `window` publications in
 * flight counted by delivery). Every loop is closed (bounded in flight) and
 * runs only between start and finish.
 */
import { RawSession, type Role, type Target } from './raw-session.ts';
import { serveRequests, type CpuSample, cpuSample } from './ipc.ts';
import type { SerializerName } from './wire-codecs.ts';

export interface Figures {
  /** Completed calls, or delivered events, in the window. */
  ops: number;
  seconds: number;
  p50ms: number;
  p99ms: number;
  /** The load process's own CPU in the window, percent of one core. */
  loadCpu: number;
}

export interface RpcSpec {
  workload: 'rpc' | 'autobahn-rpc';
  target: Target;
  serializer: SerializerName;
  callers: number;
  callees: number;
  inflight: number;
  /** REGISTER uri and options; calls go to `callUri`. */
  uri: string;
  registerOptions: Record<string, unknown>;
  callUri: string;
  /** Payload sweep: args = [one ASCII string of this many bytes], echoed back by the callee and compared. */
  payloadBytes?: number;
}

export interface PubSubSpec {
  workload: 'pubsub';
  target: Target;
  serializer: SerializerName;
  subscribers: number;
  window: number;
  topic: string;
  /** Payload sweep: args = [one ASCII string of this many bytes], compared on delivery. */
  payloadBytes?: number;
}

interface Workload {
  start(): void;
  /** Traffic off (finish does it too). */
  halt(): void;
  /** Stops the traffic, waits for what is in flight, closes; what was checked. */
  finish(): Promise<Record<string, unknown>>;
}

// ---------------------------------------------------------------- figures

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

/**
 * The sweep's payload: `bytes` ASCII letters and digits (one byte each in
 * UTF-8, nothing JSON must escape), pseudo-random from a fixed seed, so every
 * target and serializer carries the same string.
 */
export function payloadString(bytes: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let x = 0x9e3779b9;
  let out = '';
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += alphabet[(x >>> 0) % alphabet.length];
  }
  return out;
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
let opened: Array<() => Promise<unknown>> = [];

async function open(target: Target, role: Role, serializer: SerializerName): Promise<RawSession> {
  const session = await RawSession.open(target, role, serializer);
  opened.push(() => session.close());
  return session;
}

// ---------------------------------------------------------------- RPC, raw ws

async function rawRpc(spec: RpcSpec): Promise<Workload> {
  const callees = await Promise.all(Array.from({ length: spec.callees }, () => open(spec.target, 'callee', spec.serializer)));
  if (spec.target.kind === 'wamp') for (const c of callees) await c.register(spec.uri, spec.registerOptions);
  const invocations = callees.map(() => 0);
  callees.forEach((callee, i) => {
    callee.onMessage = (m) => {
      // INVOCATION from a router, or the caller's CALL itself through the floor: args at [4] in both.
      if (m[0] === 68 || m[0] === 48) {
        invocations[i]++;
        callee.send([70, m[1], {}, m[4]]);
      }
    };
  });

  const callers = await Promise.all(Array.from({ length: spec.callers }, () => open(spec.target, 'caller', spec.serializer)));
  let running = false;
  let sent = 0;
  let answered = 0;
  let errors = 0;
  let mismatches = 0;
  const payload = spec.payloadBytes === undefined ? undefined : payloadString(spec.payloadBytes);
  const states = callers.map((session, index) => {
    const sentAt = new Float64Array(1024);
    let id = 0;
    const call = () => {
      id++;
      sentAt[id & 1023] = performance.now();
      sent++;
      session.send([48, id, {}, spec.callUri, payload === undefined ? [index, id] : [payload]]);
    };
    // RESULT from a router, or the callee's YIELD through the floor: request at [1], args at [3].
    session.onMessage = (m) => {
      if (m[0] === 50 || m[0] === 70) {
        answered++;
        record(performance.now() - sentAt[(m[1] as number) & 1023]);
        const args = m[3] as unknown[] | undefined;
        if (payload === undefined ? args?.[1] !== m[1] : args?.length !== 1 || args[0] !== payload) mismatches++;
      } else if (m[0] === 8) {
        answered++;
        errors++;
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
      const all = [...callers, ...callees];
      const result = { sent, unanswered: sent - answered, errors, mismatches, perCallee: invocations, failures: failures(all) };
      await Promise.all(all.map((s) => s.close()));
      return result;
    },
  };
}

// ---------------------------------------------------------------- RPC, Autobahn|JS

let autobahnModule: Promise<any> | undefined;

function loadAutobahn(): Promise<any> {
  if (!autobahnModule) {
    // Autobahn|JS warns on every close it did not expect to be final (it binds console.warn when loaded); these closes are ours.
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (!/^(connection closed|auto-reconnect disabled)/.test(String(args[0]))) warn(...args);
    };
    // @ts-expect-error Autobahn|JS ships no types
    autobahnModule = import('autobahn').then((m) => m.default);
  }
  return autobahnModule;
}

async function autobahnRpc(spec: RpcSpec): Promise<Workload> {
  const autobahn = await loadAutobahn();
  const open = () =>
    new Promise<{ session: any; connection: any }>((resolve, reject) => {
      const connection = new autobahn.Connection({
        url: spec.target.url,
        realm: 'realm1',
        serializers: [new autobahn.serializer.JSONSerializer()],
        max_retries: 0,
        retry_if_unreachable: false,
      });
      connection.onopen = (session: any) => {
        opened.push(
          () =>
            new Promise<void>((done) => {
              connection.onclose = () => {
                done();
                return true;
              };
              connection.close();
            }),
        );
        resolve({ session, connection });
      };
      connection.onclose = (reason: string) => {
        reject(new Error(`Autobahn|JS: ${reason}`));
        return true;
      };
      connection.open();
    });
  const callees = await Promise.all(Array.from({ length: spec.callees }, open));
  const invocations = callees.map(() => 0);
  await Promise.all(
    callees.map((c, i) =>
      c.session.register(
        spec.uri,
        (args: unknown[]) => {
          invocations[i]++;
          return args;
        },
        spec.registerOptions,
      ),
    ),
  );
  const callers = await Promise.all(Array.from({ length: spec.callers }, open));
  let running = false;
  let sent = 0;
  let answered = 0;
  let errors = 0;
  const loop = (session: any, index: number) => {
    const t0 = performance.now();
    sent++;
    session.call(spec.callUri, [index, sent]).then(
      () => {
        answered++;
        record(performance.now() - t0);
        if (running) loop(session, index);
      },
      () => {
        answered++;
        errors++;
        if (running) loop(session, index);
      },
    );
  };
  return {
    start() {
      running = true;
      callers.forEach((c, i) => {
        for (let k = 0; k < spec.inflight; k++) loop(c.session, i);
      });
    },
    halt: () => void (running = false),
    async finish() {
      running = false;
      await until(() => answered === sent, 3000);
      const result = { sent, unanswered: sent - answered, errors, perCallee: invocations };
      await Promise.all(
        [...callers, ...callees].map(
          ({ connection }) =>
            new Promise<void>((resolve) => {
              connection.onclose = () => {
                resolve();
                return true;
              };
              connection.close();
            }),
        ),
      );
      return result;
    },
  };
}

// ---------------------------------------------------------------- PubSub

async function pubsub(spec: PubSubSpec): Promise<Workload> {
  const n = spec.subscribers;
  const subscribers = await Promise.all(Array.from({ length: n }, () => open(spec.target, 'sub', spec.serializer)));
  if (spec.target.kind === 'wamp') for (const s of subscribers) await s.subscribe(spec.topic);
  const publisher = await open(spec.target, 'pub', spec.serializer);
  let running = false;
  let published = 0;
  let delivered = 0;
  let mismatches = 0;
  const payload = spec.payloadBytes === undefined ? undefined : payloadString(spec.payloadBytes);
  // With a payload, the send time is kept by publication number: each subscriber gets the events in order.
  const sentAt = new Float64Array(1024);
  const publish = () => {
    while (running && published * n - delivered < spec.window * n) {
      published++;
      const now = performance.now();
      sentAt[published & 1023] = now;
      publisher.send([16, published, {}, spec.topic, payload === undefined ? [now] : [payload]]);
    }
  };
  for (const s of subscribers) {
    let received = 0;
    s.onMessage = (m) => {
      // EVENT from a router, or the PUBLISH itself through the floor: args at [4] in both.
      if (m[0] !== 36 && m[0] !== 16) return;
      delivered++;
      received++;
      const args = m[4] as unknown[];
      if (payload === undefined) record(performance.now() - (args[0] as number));
      else {
        record(performance.now() - sentAt[received & 1023]);
        if (args?.length !== 1 || args[0] !== payload) mismatches++;
      }
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
      await until(() => delivered >= published * n, 3000);
      const all = [publisher, ...subscribers];
      const result = { published, expected: published * n, lost: published * n - delivered, mismatches, failures: failures(all) };
      await Promise.all(all.map((s) => s.close()));
      return result;
    },
  };
}

// ---------------------------------------------------------------- idle sessions

const idle: RawSession[] = [];

async function openIdle(target: Target, count: number): Promise<{ open: number; ms: number }> {
  const t0 = performance.now();
  let started = idle.length;
  const goal = idle.length + count;
  // A hundred handshakes at a time: the server's accept backlog is not the thing measured.
  const worker = async () => {
    while (started < goal) {
      started++;
      idle.push(await RawSession.open(target, 'idle', 'json'));
    }
  };
  await Promise.all(Array.from({ length: 100 }, worker));
  return { open: idle.length, ms: performance.now() - t0 };
}

async function closeIdle(): Promise<{ closed: number; failures: string[] }> {
  const all = idle.splice(0);
  const found = failures(all);
  for (let i = 0; i < all.length; i += 500) await Promise.all(all.slice(i, i + 500).map((s) => s.close()));
  return { closed: all.length, failures: found };
}

// ---------------------------------------------------------------- commands

let current: Workload | undefined;
/** Traffic stops by itself after this long, should the orchestrator never say finish. */
const MAX_TRAFFIC_MS = 120_000;
let haltTimer: NodeJS.Timeout | undefined;

serveRequests({
  async setup(r) {
    const spec = r as unknown as RpcSpec | PubSubSpec;
    opened = [];
    try {
      current = spec.workload === 'pubsub' ? await pubsub(spec) : spec.workload === 'rpc' ? await rawRpc(spec) : await autobahnRpc(spec);
    } catch (err) {
      await Promise.all(opened.map((close) => close().catch(() => {})));
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
  'idle-open': (r) => openIdle(r.target as Target, r.count as number),
  'idle-close': closeIdle,
});
console.log('URL -');
