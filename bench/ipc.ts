/**
 * The benchmark's child processes and how the orchestrator talks to them.
 *
 * Parent side: `startChild(script)` runs a bench script in its own Node
 * process (through `sh`, to raise the open-file limit first), waits for the
 * line `URL <url>` it prints when it listens, and gives `request(cmd)`: a
 * request/answer over the IPC channel. Every child is killed when the
 * orchestrator exits, fails or gets SIGINT/SIGTERM.
 *
 * Child side: `serveRequests(handlers)` answers those requests; `cpu` and
 * `mem` are built in, so every server (router, floor relay, fox-wamp) reports
 * its own CPU time and memory the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface CpuSample {
  /** process.cpuUsage(), microseconds. */
  user: number;
  system: number;
  /** Monotonic wall clock, milliseconds. */
  wallMs: number;
}

export interface MemSample {
  rss: number;
  heapUsed: number;
  external: number;
}

type Handler = (request: Record<string, unknown>) => unknown;

// ---------------------------------------------------------------- child side

/** Answers the parent's requests `{id, cmd, ...}` with `{id, ok, value}` or `{id, ok: false, error}`. */
export function serveRequests(handlers: Record<string, Handler>): void {
  const all: Record<string, Handler> = { cpu: cpuSample, mem: memSample, exit: () => setImmediate(() => process.exit(0)), ...handlers };
  process.on('message', async (message: { id: number; cmd: string }) => {
    try {
      const handler = all[message.cmd];
      if (!handler) throw new Error(`unknown command ${message.cmd}`);
      const value = await handler(message as unknown as Record<string, unknown>);
      process.send?.({ id: message.id, ok: true, value });
    } catch (err) {
      process.send?.({ id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  });
  // The parent is gone: nothing more to do.
  process.on('disconnect', () => process.exit(0));
}

export function cpuSample(): CpuSample {
  const { user, system } = process.cpuUsage();
  return { user, system, wallMs: performance.now() };
}

/** Memory after full garbage collections (the child runs with --expose-gc). */
async function memSample(): Promise<MemSample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

// ---------------------------------------------------------------- parent side

const children = new Set<ChildProcess>();

let cleanupInstalled = false;

function killAll(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

/** In the orchestrator only: no child outlives it, whatever way it ends. */
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the benchmark's child processes`);
      killAll();
      process.exit(130);
    });
  }
}

export interface Child {
  /** What the child printed after "URL " (empty when it listens on nothing). */
  url: string;
  request<T = unknown>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

export interface ChildOptions {
  args?: string[];
  /** Extra node flags, before the script. */
  nodeFlags?: string[];
  /** Wait for a "URL ..." line (servers); a load client only says "URL -". */
  startTimeoutMs?: number;
}

/** The open-file limit a child gets: the hard limit (the shell raises the soft one to it). */
export const RAISE_NOFILE = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"';

export async function startChild(script: string, options: ChildOptions = {}): Promise<Child> {
  installCleanup();
  const path = new URL(script, import.meta.url).pathname;
  const nodeArgs = ['--import', 'tsx', '--expose-gc', ...(options.nodeFlags ?? []), path, ...(options.args ?? [])];
  const child = spawn('/bin/sh', ['-c', RAISE_NOFILE, process.execPath, ...nodeArgs], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  children.add(child);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      children.delete(child);
      for (const p of pending.values()) p.reject(new Error(`${script} exited`));
      pending.clear();
      resolve();
    }),
  );

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(`${script}: ${m.error}`));
  });

  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start within ${options.startTimeoutMs ?? 20_000} ms`)),
      options.startTimeoutMs ?? 20_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before it was ready`));
    });
    lines.on('line', (line) => {
      if (line.startsWith('URL ')) {
        clearTimeout(timer);
        resolve(line.slice(4).trim());
      } else console.log(`[${script}] ${line}`);
    });
  }).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });

  return {
    url,
    request<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`${script} is not running`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${script}: no answer to "${cmd}" within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ ...args, id, cmd });
      });
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exit;
      clearTimeout(timer);
    },
  };
}
