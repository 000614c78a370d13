/**
 * Kreuz cluster nodes as child processes (`node bin/kreuz.js start --config <dir>/config.json`), the
 * nats-server pieces the failure tests need beyond test/helpers/nats-server.ts (restart on the same
 * ports, which server a process is connected to), and a small WAMP client on the raw `ws` client
 * (test/helpers/raw-client.ts) that dispatches by request ID, records events, invocations and the
 * router's GOODBYE.
 *
 * Every child started here is SIGKILLed by `killAllProcesses()` (call it from an `after()` hook) and,
 * as a last resort, when the test process exits.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../helpers/raw-client.ts';
import type { SerializerName } from '../../src/serializers/index.ts';

const bin = fileURLToPath(new URL('../../bin/kreuz.js', import.meta.url));
const children = new Set<ChildProcess>();
const dirs = new Set<string>();

process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` (sync or async; a throw counts as "not yet") every `every` ms until it returns a
 * truthy value, which it returns; fails with `what` (and the last error) once `ms` have passed.
 */
export async function poll<T>(check: () => T | Promise<T>, ms: number, what: string, every = 20): Promise<NonNullable<T>> {
  const deadline = performance.now() + ms;
  let last = '';
  for (let round = 0; round < 1_000_000; round++) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = `last value: ${JSON.stringify(value)}`;
    } catch (err) {
      last = `last error: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (performance.now() > deadline) break;
    await sleep(every);
  }
  assert.fail(`${what}: not within ${ms} ms (${last})`);
}

/** A temporary directory, removed by `killAllProcesses()`. */
export function tempDir(prefix = 'kreuz-failover-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

// ---- Kreuz nodes ----

export interface NodeConfig {
  /** The cluster's name (the same on every node). */
  cluster: string;
  /** The node ID. */
  node: string;
  servers: string[];
  /** Omitted: the defaults (500 / 1500). */
  heartbeat?: number;
  deadAfter?: number;
  replicas?: number;
}

/** A Crossbar-shaped config: one WebSocket transport on 127.0.0.1 (a free port), realm1 open to anonymous, kreuz.cluster. */
export function nodeConfig(c: NodeConfig): unknown {
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [
          {
            name: 'realm1',
            roles: [
              {
                name: 'anonymous',
                permissions: [
                  {
                    uri: '',
                    match: 'prefix',
                    allow: { call: true, register: true, publish: true, subscribe: true },
                    disclose: { caller: false, publisher: false },
                    cache: true,
                  },
                ],
              },
            ],
          },
        ],
        transports: [
          {
            type: 'websocket',
            endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
            serializers: ['json', 'msgpack', 'cbor'],
            auth: { anonymous: { type: 'static', role: 'anonymous' } },
          },
        ],
      },
    ],
    kreuz: {
      log: { level: 'info' },
      cluster: {
        name: c.cluster,
        node: c.node,
        nats: { servers: c.servers },
        ...(c.replicas !== undefined && { kv: { replicas: c.replicas } }),
        ...(c.heartbeat !== undefined && { heartbeat: c.heartbeat }),
        ...(c.deadAfter !== undefined && { dead_after: c.deadAfter }),
      },
    },
  };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One `kreuz start` child process. */
export class KreuzNode {
  /** The WebSocket URL from the "listening on" line. */
  url = '';
  readonly exited: Promise<Exit>;
  private out = '';
  private exit: Exit | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly config: NodeConfig,
    readonly dir: string,
  ) {
    const keep = (chunk: Buffer) => {
      this.out += chunk.toString();
      if (this.out.length > 1_000_000) this.out = this.out.slice(-500_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        children.delete(child);
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  get id(): string {
    return this.config.node;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** stdout and stderr so far. */
  log(): string {
    return this.out;
  }

  /**
   * Writes `dir`/config.json and starts the node in `dir` (its node directory), resolving once it
   * logged where it listens. `dir` may be reused: a restart of the same node.
   */
  static async start(config: NodeConfig, dir = tempDir(`kreuz-${config.node}-`), startupMs = 20_000): Promise<KreuzNode> {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(nodeConfig(config), null, 2));
    const child = spawn(process.execPath, [bin, 'start', '--config', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const node = new KreuzNode(child, config, dir);
    try {
      const line = await node.waitForLog(/listening on/, startupMs);
      const url = line.match(/\bws:\/\/127\.0\.0\.1:\d+[^\s,]*/)?.[0];
      assert.ok(url, `no ws:// URL in: ${line}`);
      node.url = url;
      return node;
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${config.node} did not start: ${(err as Error).message}\n${node.log().slice(-4000)}`);
    }
  }

  /** The first log line matching `re` (waiting up to `ms`); fails if the process exits first. */
  async waitForLog(re: RegExp, ms = 10_000, from = 0): Promise<string> {
    const found = () =>
      this.out
        .slice(from)
        .split('\n')
        .find((l) => re.test(l));
    const deadline = performance.now() + ms;
    while (performance.now() < deadline) {
      const line = found();
      if (line) return line;
      if (this.exit) throw new Error(`${this.id} exited (${JSON.stringify(this.exit)}) before logging ${re}`);
      await sleep(20);
    }
    const line = found();
    if (line) return line;
    throw new Error(`${this.id}: no log line ${re} within ${ms} ms`);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** SIGTERM (after a SIGCONT, in case it is stopped), SIGKILL after `ms`; resolves with how it exited. */
  async stop(ms = 15_000): Promise<Exit> {
    if (!this.alive) return this.exit!;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), ms);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  async kill(): Promise<Exit> {
    this.signal('SIGKILL');
    return this.exited;
  }
}

/** SIGKILLs every child process started here and removes the temporary directories. */
export async function killAllProcesses(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const child of [...children]) {
    if (child.exitCode === null && child.signalCode === null) {
      waits.push(new Promise((resolve) => child.once('exit', resolve)));
      child.kill('SIGKILL');
    }
  }
  await Promise.race([Promise.all(waits), sleep(5000)]);
  children.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

// ---- nats-server ----

/** The command line of a running process (Linux /proc). */
export function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

/** A nats-server started here (again), on the ports and with the store of an earlier one. */
export interface RestartedNats {
  pid: number;
  log(): string;
  kill(signal?: NodeJS.Signals): void;
  stop(): Promise<void>;
}

/**
 * Starts nats-server with the command line `args` (read from the earlier server by `commandLine()`),
 * its random client port (`-p -1`) replaced by `port`: the same name, store directory, cluster port
 * and routes. Resolves once the client port accepts connections.
 */
export async function restartNats(args: string[], port: number): Promise<RestartedNats> {
  const [binary, ...rest] = args;
  const fixed = [...rest];
  const p = fixed.indexOf('-p');
  if (p >= 0) fixed[p + 1] = String(port);
  else fixed.push('-p', String(port));
  const child = spawn(binary!, fixed, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-65536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  await poll(
    () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nats-server exited at restart:\n${log.slice(-2000)}`);
      return /Server is ready/.test(log);
    },
    10_000,
    'restarted nats-server ready',
  );
  return {
    pid: child.pid!,
    log: () => log,
    kill,
    stop: async () => {
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The port of a nats:// URL. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}

/**
 * Which of `ports` (on 127.0.0.1) process `pid` has an established TCP connection to (Linux: its
 * socket inodes in /proc/<pid>/fd, matched against /proc/net/tcp); undefined if none.
 */
export function connectedPort(pid: number, ports: number[]): number | undefined {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '01' || !inodes.has(f[9]!)) continue; // 01: ESTABLISHED
    const remotePort = Number.parseInt(f[2]!.split(':')[1]!, 16);
    if (ports.includes(remotePort)) return remotePort;
  }
  return undefined;
}

// ---- a WAMP client on the raw ws client ----

const HELLO = 1;
const WELCOME = 2;
const ABORT = 3;
const GOODBYE = 6;
const ERROR = 8;
const PUBLISH = 16;
const SUBSCRIBE = 32;
const SUBSCRIBED = 33;
const EVENT = 36;
const CALL = 48;
const RESULT = 50;
const REGISTER = 64;
const REGISTERED = 65;
const INVOCATION = 68;
const INTERRUPT = 69;
const YIELD = 70;

export interface Invocation {
  at: number;
  requestId: number;
  registrationId: number;
  details: Record<string, unknown>;
  args: unknown[];
}

export interface Event {
  /** performance.now() when it arrived. */
  at: number;
  subscriptionId: number;
  publicationId: number;
  details: Record<string, unknown>;
  args: unknown[];
}

/** A CALL's outcome: RESULT or ERROR, as received. */
export interface Outcome {
  ok: boolean;
  /** performance.now() when it arrived. */
  at: number;
  /** ERROR's URI (ok false). */
  error?: string;
  args: unknown[];
  kwargs?: Record<string, unknown>;
  message: unknown[];
}

/** What a registration answers an INVOCATION with: a value to YIELD as args[0], or `HOLD` (no answer). */
export const HOLD = Symbol('hold');
export type Handler = (inv: Invocation) => unknown;

export class WampError extends Error {
  constructor(
    readonly uri: string,
    readonly reply: unknown[],
  ) {
    super(`${uri} ${JSON.stringify(reply)}`);
  }
}

/**
 * A WAMP session over RawClient: requests matched to replies by ID, INVOCATIONs answered by the
 * registration's handler, EVENTs and INTERRUPTs recorded, the router's GOODBYE recorded and answered.
 */
export class WampClient {
  readonly events: Event[] = [];
  readonly invocations: Invocation[] = [];
  readonly interrupts: Array<{ at: number; message: unknown[] }> = [];
  /** The router's GOODBYE (or ABORT), once it came. */
  goodbye: unknown[] | undefined;
  goodbyeAt = 0;
  private readonly pending = new Map<number, { resolve: (m: unknown[]) => void }>();
  private readonly handlers = new Map<number, Handler>();
  private nextId = 1;
  private isClosed = false;

  private constructor(
    readonly raw: RawClient,
    readonly sessionId: number,
    readonly name: string,
  ) {
    raw.ws.on('message', () => this.drain());
    void raw.closed.then(() => this.endSession('test.connection_closed'));
  }

  /** The session is over (GOODBYE, ABORT or the socket closed): requests still waiting end with `uri`. */
  private endSession(uri: string): void {
    this.isClosed = true;
    for (const [id, p] of this.pending) p.resolve([ERROR, 0, id, {}, uri]);
    this.pending.clear();
  }

  static async join(url: string, name: string, serializer: SerializerName = 'json'): Promise<WampClient> {
    const raw = await RawClient.open(url, serializer);
    raw.send([
      HELLO,
      'realm1',
      {
        roles: {
          caller: { features: { call_canceling: true } },
          callee: { features: { call_canceling: true } },
          publisher: {},
          subscriber: {},
        },
      },
    ]);
    const welcome = await raw.next(10_000);
    if (welcome[0] !== WELCOME) {
      raw.close();
      throw new Error(`${name}: expected WELCOME, got ${JSON.stringify(welcome)}`);
    }
    const client = new WampClient(raw, welcome[1] as number, name);
    client.drain();
    return client;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Takes every message RawClient has queued (it queues them when nobody waits in next()). */
  private drain(): void {
    // RawClient's own listener (registered first) has queued the message by now.
    const inbox = (this.raw as unknown as { inbox: unknown[][] }).inbox;
    for (let i = 0; i < 100_000; i++) {
      const queued = inbox.shift();
      if (queued === undefined) return;
      this.dispatch(queued);
    }
  }

  private dispatch(m: unknown[]): void {
    switch (m[0]) {
      case RESULT:
      case REGISTERED:
      case SUBSCRIBED:
      case ERROR: {
        const id = (m[0] === ERROR ? m[2] : m[1]) as number;
        const p = this.pending.get(id);
        if (p) {
          this.pending.delete(id);
          p.resolve(m);
        }
        return;
      }
      case EVENT:
        this.events.push({
          at: performance.now(),
          subscriptionId: m[1] as number,
          publicationId: m[2] as number,
          details: m[3] as Record<string, unknown>,
          args: (m[4] as unknown[]) ?? [],
        });
        return;
      case INVOCATION: {
        const inv: Invocation = {
          at: performance.now(),
          requestId: m[1] as number,
          registrationId: m[2] as number,
          details: m[3] as Record<string, unknown>,
          args: (m[4] as unknown[]) ?? [],
        };
        this.invocations.push(inv);
        const handler = this.handlers.get(inv.registrationId);
        const answer = handler ? handler(inv) : inv.args[0];
        if (answer !== HOLD) this.send([YIELD, inv.requestId, {}, [answer]]);
        return;
      }
      case INTERRUPT:
        this.interrupts.push({ at: performance.now(), message: m });
        return;
      case GOODBYE:
      case ABORT:
        this.goodbye = m;
        this.goodbyeAt = performance.now();
        if (m[0] === GOODBYE) this.send([GOODBYE, {}, 'wamp.close.goodbye_and_out']);
        this.endSession(`test.session_closed: ${m[m.length - 1]}`);
        return;
    }
  }

  send(message: unknown[]): void {
    if (!this.isClosed && this.raw.ws.readyState === this.raw.ws.OPEN) this.raw.send(message);
  }

  private request(build: (id: number) => unknown[], ms: number): Promise<unknown[]> {
    const id = this.nextId++;
    if (this.isClosed) return Promise.resolve([ERROR, 0, id, {}, 'test.connection_closed']);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no reply to request ${id} within ${ms} ms`));
      }, ms);
      this.pending.set(id, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      this.send(build(id));
    });
  }

  /** A CALL; resolves with RESULT or ERROR (rejects if neither comes within `ms`). */
  async call(procedure: string, args: unknown[] = [], options: Record<string, unknown> = {}, ms = 10_000): Promise<Outcome> {
    const m = await this.request((id) => [CALL, id, options, procedure, args], ms);
    const at = performance.now();
    if (m[0] === RESULT) return { ok: true, at, args: (m[3] as unknown[]) ?? [], kwargs: m[4] as Record<string, unknown>, message: m };
    return { ok: false, at, error: m[4] as string, args: (m[5] as unknown[]) ?? [], kwargs: m[6] as Record<string, unknown>, message: m };
  }

  /** A CALL's first result argument; throws WampError on ERROR. */
  async result(procedure: string, args: unknown[] = [], ms = 10_000): Promise<unknown> {
    const outcome = await this.call(procedure, args, {}, ms);
    if (!outcome.ok) throw new WampError(outcome.error!, outcome.message);
    return outcome.args[0];
  }

  /** REGISTER; resolves with the registration ID, throws WampError on ERROR. */
  async register(uri: string, handler?: Handler, options: Record<string, unknown> = {}, ms = 10_000): Promise<number> {
    const m = await this.request((id) => [REGISTER, id, options, uri], ms);
    if (m[0] !== REGISTERED) throw new WampError(m[4] as string, m);
    if (handler) this.handlers.set(m[2] as number, handler);
    return m[2] as number;
  }

  async subscribe(topic: string, options: Record<string, unknown> = {}, ms = 10_000): Promise<number> {
    const m = await this.request((id) => [SUBSCRIBE, id, options, topic], ms);
    if (m[0] !== SUBSCRIBED) throw new WampError(m[4] as string, m);
    return m[2] as number;
  }

  publish(topic: string, args: unknown[] = []): void {
    this.send([PUBLISH, this.nextId++, {}, topic, args]);
  }

  /** Events of one subscription. */
  eventsOf(subscriptionId: number): Event[] {
    return this.events.filter((e) => e.subscriptionId === subscriptionId);
  }

  /** wamp.registration.lookup: the registration ID, or null. */
  async lookupRegistration(uri: string, match = 'exact'): Promise<number | null> {
    return (await this.result('wamp.registration.lookup', [uri, { match }])) as number | null;
  }

  /** wamp.subscription.lookup: the subscription ID, or null. */
  async lookupSubscription(uri: string, match = 'exact'): Promise<number | null> {
    return (await this.result('wamp.subscription.lookup', [uri, { match }])) as number | null;
  }

  /** Leaves (GOODBYE) and closes the socket. */
  close(): void {
    this.send([GOODBYE, {}, 'wamp.close.close_realm']);
    this.raw.close();
  }

  /** Closes the socket without a GOODBYE. */
  drop(): void {
    this.raw.ws.terminate();
  }
}
