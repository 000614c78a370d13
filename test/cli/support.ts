/**
 * Running the `kreuz` command as a user runs it, for the CLI tests: child processes (bin/kreuz.js,
 * which runs dist/) in temporary directories, real ports on 127.0.0.1. Every child is killed and
 * every directory removed when the test file ends.
 */
import { after } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INIT_CONFIG } from '../../src/cli/init.ts';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const bin = fileURLToPath(new URL('../../bin/kreuz.js', import.meta.url));

const dirs: string[] = [];
export const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kreuz-cli-'));
  dirs.push(dir);
  return dir;
}

/** The init config on free ports (0), in `dir`/.kreuz (or `cbdir`), as config.yaml (or `name`). */
export function writeConfig(dir: string, text = INIT_CONFIG, cbdir = '.kreuz', name = 'config.yaml'): string {
  mkdirSync(join(dir, cbdir), { recursive: true });
  const file = join(dir, cbdir, name);
  writeFileSync(file, freePorts(text));
  return file;
}

export function freePorts(text: string): string {
  return text.replace('port: 8080', 'port: 0').replace('port: 8081', 'port: 0');
}

export interface Ran {
  /** The exit code (null when it was killed after 20 s). */
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `env` values of undefined remove the variable. */
function environment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, CROSSBAR_DIR: undefined };
  for (const [k, v] of Object.entries(env)) out[k] = v;
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/** Runs `kreuz ...args` to its end (killed after 20 s). */
export function run(args: string[], cwd = root, env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: environment(env) });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ status: code, stdout, stderr });
    });
  });
}

/** Waits (at most `ms`) until `done()` holds. */
export async function until(done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

export interface Started {
  child: ChildProcess;
  /** The "listening on" log line. */
  line: string;
  urls: string[];
  output(): string;
  exited: Promise<number | null>;
}

/** Spawns `kreuz start ...args` without waiting for anything. */
export function spawnStart(args: string[], cwd = root, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [bin, 'start', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: environment(env) });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, exited, stdout: () => out, output: () => out + err };
}

/** Starts `kreuz start ...args` and resolves once it logged where it listens. */
export function start(args: string[], cwd = root, env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const { child, exited, stdout, output } = spawnStart(args, cwd, env);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kreuz did not start within 15 s: ${output()}`));
    }, 15_000);
    child.stdout!.on('data', () => {
      const line = stdout()
        .split('\n')
        .find((l) => l.includes('listening on'));
      if (!line) return;
      clearTimeout(timer);
      const urls = line.match(/\b(?:ws|rs):\/\/[^\s,]+/g) ?? [];
      resolve({ child, line, urls, output, exited });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`kreuz exited with ${code}: ${output()}`));
    });
  });
}
