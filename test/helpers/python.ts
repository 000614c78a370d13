/**
 * Runs Autobahn|Python scenario scripts (Debian's python3-autobahn under
 * /usr/bin/python3) in a child process, asynchronously, so the router in the
 * test process keeps serving. A script prints JSON lines; the last one is its result.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';

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
            ? `${what} is not usable with ${PYTHON}; install it with ` +
                `"apt-get install -y ${packages}".\n${err.message}\n${stderr}`
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

/**
 * A runner for a scenario script taking `<url> <serializer> <scenario>`: checks
 * for Autobahn|Python first, and names the scenario and serializer in failures.
 */
export function scenarioRunner<T = Observed>(
  script: string,
  timeoutMs: number,
  requirement: PythonRequirement = AUTOBAHN_PYTHON,
): (url: string, serializer: string, scenario: string) => Promise<T> {
  return async (url, serializer, scenario) => {
    await requirePython(requirement);
    return runPython<T>(script, [url, serializer, scenario], {
      timeoutMs,
      label: `scenario ${scenario} over ${serializer}`,
      noJsonLabel: `scenario ${scenario}`,
    });
  };
}
