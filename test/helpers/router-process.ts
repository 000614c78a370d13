/**
 * A Kreuz router in a child process (router-process-child.ts, run with
 * --expose-gc), with every listener type: WebSocket over TCP, TLS and a Unix
 * socket; RawSocket over TCP, TLS and a Unix socket; and the universal port
 * (WebSocket and RawSocket on one TCP port). Every listener offers anonymous
 * and ticket authentication (authids "joe", "joe-0" .. "joe-4095", ticket
 * `TICKET`). Realms: "realm1" (no roles: anyone may do anything) and
 * "locked" (anonymous may only subscribe to com.locked.news and list
 * registrations and subscriptions).
 *
 * The parent asks it over IPC whether it is alive (`ping`: an answer from the
 * child's check phase, so a stalled event loop shows), its heap after a
 * forced GC, and its session counts. Uncaught exceptions in the child are
 * recorded, not fatal: `faults` lists them, so a test can fail the case that
 * caused one and show the stack. If the child dies, `dead` says how.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCert, type TestCert } from './tls-cert.ts';
import type { ChildConfig, ChildEndpoints } from './router-process-child.ts';
import type { Endpoint } from './wamp-wire-client.ts';

/** The ticket of every principal: "joe" and "joe-0" .. "joe-4095" (role "user" on realm1). */
export const TICKET = 'joe-secret-ticket';

let nextPrincipal = Math.floor(Math.random() * 4096);

/** A ticket principal's authid, a different one each time (cycling through 4096). */
export function freshPrincipal(): string {
  return `joe-${nextPrincipal++ % 4096}`;
}

export interface RouterProcessOptions {
  /** Largest message from a client (default 1 MiB, the router's default). */
  maxMessageSize?: number;
  /**
   * Router limits (default: openingTimeout 2000 ms, so that a connection that
   * never joins is closed well within a case's deadline, yet a loaded machine
   * still gets its HELLO through in time).
   */
  limits?: Record<string, number>;
}

export interface Stats {
  /** Client sessions per realm. */
  sessions: Record<string, number>;
  /** Open socket handles in the child, by kind. */
  sockets: Record<string, number>;
  /** Longest event-loop delay since the last stats call. */
  loopDelayMaxMs: number;
  faults: number;
}

/** The names of the endpoints, one per listener type (the universal port twice: WebSocket and RawSocket). */
export const ENDPOINT_NAMES = ['ws', 'wss', 'ws-unix', 'rs', 'rss', 'rs-unix', 'universal-ws', 'universal-rs'] as const;
export type EndpointName = (typeof ENDPOINT_NAMES)[number];

export class RouterProcess {
  readonly faults: string[] = [];
  /** When the last fault was reported (Date.now()). */
  lastFaultAt = 0;
  /** Why the child is gone, once it is. */
  dead: string | undefined;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly endpoints: Record<EndpointName, Endpoint>,
    readonly maxMessageSize: number,
    private readonly cleanup: () => void,
  ) {
    child.on('message', (m: any) => {
      if (m?.event === 'fault') {
        this.faults.push(m.text);
        this.lastFaultAt = Date.now();
      }
      const waiting = m?.id !== undefined ? this.pending.get(m.id) : undefined;
      if (!waiting) return;
      this.pending.delete(m.id);
      if (m.error) waiting.reject(new Error(m.error));
      else waiting.resolve(m);
    });
    child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    child.once('exit', (code, signal) => {
      this.dead = `the router process exited (code ${code}, signal ${signal})${this.stderr ? `; its stderr ended with:\n${this.stderr}` : ''}`;
      for (const p of this.pending.values()) p.reject(new Error(this.dead));
      this.pending.clear();
      this.cleanup();
    });
  }

  static async start(options: RouterProcessOptions = {}): Promise<RouterProcess> {
    const cert: TestCert = await makeTestCert();
    const unixDir = mkdtempSync(join(tmpdir(), 'kreuz-fuzz-'));
    const maxMessageSize = options.maxMessageSize ?? 1024 * 1024;
    const config: ChildConfig = {
      tls: { cert: cert.cert, key: cert.key },
      unixDir,
      maxMessageSize,
      limits: options.limits ?? { openingTimeout: 2000 },
      ticket: TICKET,
    };
    const child = fork(new URL('./router-process-child.ts', import.meta.url).pathname, [], {
      execArgv: ['--expose-gc', '--import', 'tsx', '--no-warnings'],
      // Not a test-runner child itself: without NODE_TEST_CONTEXT it reports nothing to the runner.
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')),
        KREUZ_ROUTER_PROCESS: JSON.stringify(config),
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const ready = await new Promise<ChildEndpoints>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`router process not ready within 20 s\n${stderr}`)), 20_000);
      child.on('message', (m: any) => {
        if (m?.event === 'ready') {
          clearTimeout(timer);
          resolve(m.endpoints);
        } else if (m?.event === 'failed') {
          clearTimeout(timer);
          reject(new Error(`router process failed to start: ${m.text}`));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`router process exited at startup (code ${code}, signal ${signal})\n${stderr}`));
      });
    });
    const ca = cert.cert;
    const e = ready;
    const endpoints: Record<EndpointName, Endpoint> = {
      ws: { name: 'ws', kind: 'websocket', url: e.ws },
      wss: { name: 'wss', kind: 'websocket', url: e.wss, ca },
      'ws-unix': { name: 'ws-unix', kind: 'websocket', url: e.wsUnix, unix: true },
      rs: { name: 'rs', kind: 'rawsocket', port: e.rsPort },
      rss: { name: 'rss', kind: 'rawsocket', port: e.rssPort, ca },
      'rs-unix': { name: 'rs-unix', kind: 'rawsocket', path: e.rsUnix },
      'universal-ws': { name: 'universal-ws', kind: 'websocket', url: e.universalWs },
      'universal-rs': { name: 'universal-rs', kind: 'rawsocket', port: e.universalPort },
    };
    return new RouterProcess(child, endpoints, maxMessageSize, () => {
      cert.remove();
      rmSync(unixDir, { recursive: true, force: true });
    });
  }

  private request<T>(op: string, timeoutMs: number): Promise<T> {
    if (this.dead) return Promise.reject(new Error(this.dead));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the router process did not answer "${op}" within ${timeoutMs} ms: its event loop is stalled`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, op });
    });
  }

  /** Liveness: a round trip through the child's event loop (setImmediate); rejects if it takes over `timeoutMs`. */
  async ping(timeoutMs = 3000): Promise<number> {
    const started = performance.now();
    await this.request('ping', timeoutMs);
    return performance.now() - started;
  }

  /** Heap used after two forced GCs, in bytes. */
  async heap(timeoutMs = 10_000): Promise<number> {
    return (await this.request<{ heapUsed: number }>('heap', timeoutMs)).heapUsed;
  }

  async stats(timeoutMs = 3000): Promise<Stats> {
    return this.request<Stats>('stats', timeoutMs);
  }

  /** Stops the router and the process (killed if it does not stop within 3 s). */
  async close(): Promise<void> {
    if (this.dead) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.request('close', 3000).catch(() => this.child.kill('SIGKILL'));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  /** Kills the process at once (a frozen router). */
  async kill(): Promise<void> {
    if (this.dead) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }
}
