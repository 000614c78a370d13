/**
 * One child process of a worker: started in a process group of its own (so
 * a stop reaches what it started, and a terminal's Ctrl-C reaches Kreuz
 * only, which then stops it in order), its output logged line by line with
 * its id, and stopped with SIGTERM, then SIGKILL after a grace period.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Logger } from '../../core/logger.ts';

export type OutputAction = 'log' | 'drop' | 'close';

export interface ChildSpec {
  /** Names it in every log line: the worker's id, with the component's for a component. */
  fields: Record<string, string>;
  command: string;
  args: readonly string[];
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** Crossbar's guest `stdout`/`stderr`: logged (default), dropped, or closed at once. */
  stdout?: OutputAction;
  stderr?: OutputAction;
  /** What fd 0 is: a pipe (Crossbar leaves a guest's stdin open) or nothing. */
  stdin?: 'pipe' | 'ignore';
  /** Further pipes from fd 3 on. */
  extraPipes?: number;
  logger: Logger;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  error?: Error;
}

/** Longest line logged as one entry; longer output is logged in pieces of this size. */
const MAX_LINE = 64 * 1024;
/** After the exit, how long its pipes may take to deliver what is left in them. */
const DRAIN_MS = 1000;
/** After SIGKILL, how long to wait for the exit before giving up on it. */
const KILL_WAIT_MS = 5000;

export class WorkerChild {
  readonly process: ChildProcess;
  readonly exited: Promise<Exit>;
  /** Set once Kreuz asked it to stop: its exit is expected. */
  stopping = false;
  private exit: Exit | undefined;
  private killed = false;

  constructor(spec: ChildSpec) {
    const output = (action: OutputAction | undefined) => (action === 'drop' ? 'ignore' : 'pipe');
    const stdio: StdioOptions = [
      spec.stdin ?? 'ignore',
      output(spec.stdout),
      output(spec.stderr),
      ...Array.from({ length: spec.extraPipes ?? 0 }, () => 'pipe' as const),
    ];
    this.process = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio, detached: true });
    live.add(this);
    killAtExit();
    this.exited = new Promise((resolve) => {
      this.process.once('error', (error) => {
        // 'error' without a pid: it never ran (no 'exit' follows)
        if (this.process.pid !== undefined) return;
        live.delete(this);
        resolve((this.exit = { code: null, signal: null, error }));
      });
      this.process.once('exit', (code, signal) => {
        live.delete(this);
        this.exit = { code, signal };
        // What it started in its group and left behind goes with it (a process forked as the group was killed too).
        this.signalGroup(this.killed ? 'SIGKILL' : 'SIGTERM');
        // Its last output (and control messages) first, unless something it left holds the pipes open.
        const exit = this.exit;
        const drained = setTimeout(() => resolve(exit), DRAIN_MS);
        this.process.once('close', () => {
          clearTimeout(drained);
          resolve(exit);
        });
      });
    });
    for (const [stream, action, name] of [
      [this.process.stdout, spec.stdout, 'stdout'],
      [this.process.stderr, spec.stderr, 'stderr'],
    ] as const) {
      if (!stream) continue;
      if (action === 'close') stream.destroy();
      else logLines(stream, (line) => spec.logger.info({ ...spec.fields, stream: name }, line));
    }
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** SIGTERM to its group, SIGKILL after `graceMs`; resolves with how it ended. */
  async stop(graceMs: number): Promise<Exit> {
    this.stopping = true;
    if (this.exit) return this.exit;
    this.signalGroup('SIGTERM');
    const kill = setTimeout(() => {
      this.killed = true;
      this.signalGroup('SIGKILL');
    }, graceMs);
    let giveUp: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.exited,
        new Promise<Exit>((resolve) => {
          giveUp = setTimeout(
            () => resolve({ code: null, signal: null, error: new Error('did not exit after SIGKILL') }),
            graceMs + KILL_WAIT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(kill);
      clearTimeout(giveUp);
    }
  }

  /** @internal */
  signalGroup(signal: NodeJS.Signals): void {
    const pid = this.process.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already
    }
  }
}

/** Children still running, and the one exit hook that kills them. */
const live = new Set<WorkerChild>();
let hooked = false;

/**
 * A Kreuz that exits without stopping its workers (a second signal, a crash)
 * leaves no process behind: their groups get SIGKILL as it exits.
 */
function killAtExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const child of live) child.signalGroup('SIGKILL');
  });
}

/** "exit code 1", "signal SIGSEGV". */
export function describeExit(exit: Exit): string {
  if (exit.error) return exit.error.message;
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

/** Calls `onLine` for every non-empty line of `stream` (trailing whitespace trimmed, as Crossbar logs them), in pieces of at most `maxLine`. */
export function logLines(stream: Readable, onLine: (line: string) => void, maxLine = MAX_LINE): void {
  let pending = '';
  const emit = (line: string) => {
    const trimmed = line.trimEnd();
    if (trimmed.trim() !== '') onLine(trimmed);
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      emit(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
    }
    while (pending.length > maxLine) {
      emit(pending.slice(0, maxLine));
      pending = pending.slice(maxLine);
    }
  });
  stream.on('end', () => {
    if (pending) emit(pending);
    pending = '';
  });
  stream.on('error', () => {}); // a closed pipe: the exit says what happened
}
