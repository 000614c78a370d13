/**
 * For the worker tests: `kreuz start` in a child process (bin/kreuz.js, which runs dist/, built
 * first when stale), a logger that keeps what it is given, free ports, and the processes left in a
 * directory (a worker's process runs with its working directory inside the test's temporary one,
 * so a process still there after Kreuz stopped is an orphan).
 *
 * When the test file ends, every Kreuz still running gets SIGTERM (it stops its workers), SIGKILL
 * if it is still there 15 s later, and any process left in a temporary directory gets SIGKILL.
 */
import { after } from 'node:test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../src/core/logger.ts';

export const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin', 'kreuz.js');

const dirs: string[] = [];
const nodes = new Set<KreuzProcess>();

after(async () => {
  await Promise.all([...nodes].map((n) => n.stop(15_000)));
  for (const dir of dirs) {
    for (const pid of processesIn(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

export function tempDir(prefix = 'kreuz-workers-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

let built = false;

/** bin/kreuz.js runs dist/: build it when it is older than src/ (what scripts/run-tests.mjs does first). */
export function buildDist(): void {
  if (built) return;
  const run = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (run.status !== 0) throw new Error(`building dist/ failed:\n${run.stdout}\n${run.stderr}`);
  built = true;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Pids of processes whose working directory is `dir` or below it (Linux: /proc). */
export function processesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd === dir || cwd.startsWith(dir + sep)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** Whether a process with this pid exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits until `check()` holds; fails with `what` and `detail()` after `ms`. */
export async function until(check: () => boolean, ms: number, what: string, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms\n${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export class KreuzProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined;
  private out = '';

  constructor(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [bin, 'start', ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    nodes.add(this);
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        this.exitCode = code;
        nodes.delete(this);
        resolve(code);
      }),
    );
  }

  get output(): string {
    return this.out;
  }

  /** Resolves once the output matches `pattern`; fails (with the output) if Kreuz exits first or after `ms`. */
  async waitFor(pattern: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = this.out.match(pattern);
      if (match) return match;
      if (this.exitCode !== undefined) throw new Error(`kreuz exited (${this.exitCode}) before ${pattern}:\n${this.out}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms:\n${this.out}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** SIGTERM (a graceful stop), SIGKILL after `ms`; resolves with the exit code. */
  async stop(ms = 20_000): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface Entry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A Logger that keeps every entry (debug included). */
export function recordingLogger(): Logger & { entries: Entry[]; text(): string } {
  const entries: Entry[] = [];
  const at =
    (level: Entry['level']) =>
    (fields: object, message: string): void => {
      entries.push({ level, fields: fields as Record<string, unknown>, message });
    };
  return {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    text: () => entries.map((e) => `${e.level} ${e.message} ${JSON.stringify(e.fields)}`).join('\n'),
  };
}
