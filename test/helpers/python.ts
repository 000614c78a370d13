/**
 * Runs Autobahn|Python scenario scripts (Debian's python3-autobahn under
 * /usr/bin/python3) in a child process, asynchronously, so the router in the
 * test process keeps serving. A script prints JSON lines; the last one is its result.
 *
 * runPython starts a process for one scenario. runShared (and scenarioRunner,
 * which uses it) hands the scenario to a long-lived process of the same script
 * in its serving mode (test/interop/python/common.py), so a test file starts
 * Python and imports Autobahn once, not once per scenario; each scenario still
 * gets its own result, failure message and timeout.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

/** What a script needs from the Python installation, and how to get it. */
export interface PythonRequirement {
  /** Python code that fails unless everything needed is importable. */
  check: string;
  /** Debian packages that provide it. */
  packages: string;
  /** Names what is missing in the message (default "Autobahn|Python"). */
  what?: string;
}

/** Autobahn|Python with every serializer (JSON, MessagePack, CBOR). */
export const AUTOBAHN_PYTHON: PythonRequirement = {
  check: 'import autobahn, cbor2, msgpack',
  packages: 'python3-autobahn python3-cbor2 python3-msgpack',
};

const problems = new Map<string, Promise<string | undefined>>();

/**
 * Why Autobahn|Python cannot be used here (with the install hint), or
 * undefined when it can. Checked once per requirement.
 */
export function pythonProblem(requirement: PythonRequirement = AUTOBAHN_PYTHON): Promise<string | undefined> {
  const { check, packages, what = 'Autobahn|Python' } = requirement;
  let problem = problems.get(check);
  if (!problem) {
    problem = new Promise((resolve) => {
      execFile(PYTHON, ['-c', check], { timeout: 10_000 }, (err, _stdout, stderr) =>
        resolve(
          err
            ? `${what} is not usable with ${PYTHON}; install it with ` + `"apt-get install -y ${packages}".\n${err.message}\n${stderr}`
            : undefined,
        ),
      );
    });
    problems.set(check, problem);
  }
  return problem;
}

/**
 * Fails the running test with the install hint if Autobahn|Python is missing
 * (a failing before() hook shows up as "fail 0" in Node 20's summary, so each
 * test checks for itself).
 */
export async function requirePython(requirement: PythonRequirement = AUTOBAHN_PYTHON): Promise<void> {
  const problem = await pythonProblem(requirement);
  if (problem) assert.fail(problem);
}

export type Observed = Record<string, unknown>;

export interface RunOptions {
  /** Kill the script after this long (its own overall timeout should come first). */
  timeoutMs: number;
  /** Called with each JSON line as it arrives (e.g. a {"ready": true} line). */
  onLine?: (line: Observed) => void;
  /** Names the run in failure messages (default: the script and its arguments). */
  label?: string;
  /** Names the run in the "printed no JSON line" message (default: label). */
  noJsonLabel?: string;
  /** Says how the script was killed (default: "was killed by SIGKILL (timeout … ms?)"). */
  killed?: (signal: NodeJS.Signals) => string;
}

/** Runs `script` with `args`; resolves with its last JSON line, rejects with its output on failure. */
export function runPython<T = Observed>(script: string, args: string[], options: RunOptions): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line.startsWith('{') && options.onLine) {
          try {
            options.onLine(JSON.parse(line) as Observed);
          } catch {
            // not JSON after all: only the final line matters then
          }
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const what = options.label ?? `${script} ${args.join(' ')}`;
      if (code !== 0) {
        const how = signal
          ? (options.killed?.(signal) ?? `was killed by ${signal} (timeout ${options.timeoutMs} ms?)`)
          : `exited with ${code}`;
        reject(new Error(`${what} ${how}\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      const lines = stdout.trim().split('\n');
      try {
        resolve(JSON.parse(lines[lines.length - 1]) as T);
      } catch {
        reject(new Error(`${options.noJsonLabel ?? what} printed no JSON line\nstdout: ${stdout}\nstderr: ${stderr}`));
      }
    });
  });
}

/** What a serving process replies to one request (common.py: serve). */
interface Reply {
  kreuz_serve: number;
  ok: boolean;
  observed?: unknown;
  error?: string;
}

interface Request {
  resolve(observed: unknown): void;
  reject(error: Error): void;
  options: RunOptions;
  what: string;
  stdout: string;
  stderr: string;
  timer: NodeJS.Timeout;
}

type Unref = { ref(): void; unref(): void };

/**
 * One `<script> --serve` process: runs the scenarios it is given one at a time.
 * While idle it does not keep the test process alive; it ends at the end of its
 * stdin, so when the test process exits, or when it is retired.
 */
class ServingProcess {
  private readonly child: ChildProcess;
  private request: Request | undefined;
  private nextId = 0;
  private pending = '';
  /** Output before the first request or between requests (normally none). */
  private stray = '';
  alive = true;

  constructor(readonly script: string) {
    this.child = spawn(PYTHON, [script, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.request) this.request.stderr += chunk;
      else this.stray += chunk;
    });
    this.child.stdin!.on('error', () => {}); // a process that died: reported on 'close'
    this.child.on('error', (err) => this.end(() => err));
    this.child.on('close', (code, signal) =>
      this.end((r) => {
        const how = signal
          ? (r.options.killed?.(signal) ?? `was killed by ${signal} (timeout ${r.options.timeoutMs} ms?)`)
          : `exited with ${code}`;
        return new Error(`${r.what} ${how}\nstdout: ${r.stdout}\nstderr: ${r.stderr}${this.stray}`);
      }),
    );
    this.hold(false);
  }

  /** Keeps the test process alive while a scenario runs, and only then. */
  private hold(busy: boolean): void {
    for (const handle of [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as unknown as Unref[]) {
      if (busy) handle.ref();
      else handle.unref();
    }
  }

  run(args: string[], options: RunOptions, what: string): Promise<unknown> {
    assert.equal(this.request, undefined, 'one scenario at a time per serving process');
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), options.timeoutMs);
      this.request = { resolve, reject, options, what, stdout: '', stderr: '', timer };
      this.hold(true);
      this.child.stdin!.write(`${JSON.stringify({ id, args })}\n`);
    });
  }

  /** Ends the process once it is idle (its stdin closes; the script exits). */
  retire(): void {
    this.alive = false;
    this.child.stdin!.end();
  }

  private onStdout(chunk: string): void {
    this.pending += chunk;
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      const raw = this.pending.slice(0, newline + 1);
      const line = raw.trim();
      this.pending = this.pending.slice(newline + 1);
      let parsed: unknown;
      try {
        parsed = line.startsWith('{') ? JSON.parse(line) : undefined;
      } catch {
        parsed = undefined; // not JSON after all
      }
      const r = this.request;
      if (parsed && typeof parsed === 'object' && 'kreuz_serve' in parsed) {
        if (r) this.finish(r, parsed as Reply);
        continue;
      }
      if (!r) {
        this.stray += raw;
        continue;
      }
      r.stdout += raw;
      if (parsed && typeof parsed === 'object') r.options.onLine?.(parsed as Observed);
    }
  }

  private finish(r: Request, reply: Reply): void {
    clearTimeout(r.timer);
    this.request = undefined;
    this.hold(false);
    if (reply.ok) r.resolve(reply.observed);
    else {
      // A scenario that failed may have left anything behind: the next one gets a new process.
      this.retire();
      r.reject(new Error(`${r.what} failed\nstdout: ${r.stdout}\nstderr: ${r.stderr}${reply.error ?? ''}`));
    }
  }

  private end(error: (r: Request) => Error): void {
    this.alive = false;
    const r = this.request;
    if (!r) return;
    clearTimeout(r.timer);
    this.request = undefined;
    this.hold(false);
    r.reject(error(r));
  }
}

/** Idle serving processes, per script. */
const idle = new Map<string, ServingProcess[]>();

/**
 * Like runPython, but in a long-lived serving process of `script` (one that is
 * idle, or a new one: scenarios run at the same time get processes of their
 * own). The result is what the scenario returned; a failure carries its
 * traceback; after a failure or a timeout the process is not used again.
 */
export async function runShared<T = Observed>(script: string, args: string[], options: RunOptions): Promise<T> {
  const free = idle.get(script) ?? [];
  idle.set(script, free);
  let server = free.pop();
  while (server && !server.alive) server = free.pop();
  server ??= new ServingProcess(script);
  try {
    return (await server.run(args, options, options.label ?? `${script} ${args.join(' ')}`)) as T;
  } finally {
    if (server.alive) free.push(server);
  }
}

/**
 * A runner for a scenario script taking `<url> <serializer> <scenario>`: checks
 * for Autobahn|Python first, and names the scenario and serializer in failures.
 * The scenarios of one script share a serving process (runShared).
 */
export function scenarioRunner<T = Observed>(
  script: string,
  timeoutMs: number,
  requirement: PythonRequirement = AUTOBAHN_PYTHON,
): (url: string, serializer: string, scenario: string) => Promise<T> {
  return async (url, serializer, scenario) => {
    await requirePython(requirement);
    return runShared<T>(script, [url, serializer, scenario], {
      timeoutMs,
      label: `scenario ${scenario} over ${serializer}`,
    });
  };
}
