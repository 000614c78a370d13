/**
 * Runs Autobahn|Python scenario scripts (Debian's python3-autobahn under
 * /usr/bin/python3) in a child process, asynchronously, so the router in the
 * test process keeps serving. A script prints JSON lines; the last one is its result.
 */
import { execFile, spawn } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

let problem: Promise<string | undefined> | undefined;

/** Why Autobahn|Python cannot be used here (with the install hint), or undefined when it can. Checked once. */
export function pythonProblem(): Promise<string | undefined> {
  problem ??= new Promise((resolve) => {
    execFile(PYTHON, ['-c', 'import autobahn, cbor2, msgpack'], { timeout: 10_000 }, (err, _stdout, stderr) =>
      resolve(
        err
          ? `Autobahn|Python is not usable with ${PYTHON}; install it with ` +
              `"apt-get install -y python3-autobahn python3-cbor2 python3-msgpack".\n${err.message}\n${stderr}`
          : undefined,
      ),
    );
  });
  return problem;
}

export type Observed = Record<string, unknown>;

export interface RunOptions {
  /** Kill the script after this long (its own overall timeout should come first). */
  timeoutMs: number;
  /** Called with each JSON line as it arrives (e.g. a {"ready": true} line). */
  onLine?: (line: Observed) => void;
}

/** Runs `script` with `args`; resolves with its last JSON line, rejects with its output on failure. */
export function runPython(script: string, args: string[], options: RunOptions): Promise<Observed> {
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
      const what = `${script} ${args.join(' ')}`;
      if (code !== 0) {
        const how = signal ? `was killed by ${signal} (timeout ${options.timeoutMs} ms?)` : `exited with ${code}`;
        reject(new Error(`${what} ${how}\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      const lines = stdout.trim().split('\n');
      try {
        resolve(JSON.parse(lines[lines.length - 1]) as Observed);
      } catch {
        reject(new Error(`${what} printed no JSON line\nstdout: ${stdout}\nstderr: ${stderr}`));
      }
    });
  });
}
