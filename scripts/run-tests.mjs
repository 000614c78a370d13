#!/usr/bin/env node
// Runs every test file under test/ with node's test runner.
// Files are named explicitly: `node --test test/` finds no .ts files on Node 20,
// and a run that executes no test must fail loudly rather than pass silently.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);
const files = readdirSync(join(root, 'test'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => join('test', f))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

// bin/kreuz.js runs the compiled code: bring dist/ up to date with src/ first (milliseconds when it is).
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const args = [
  '--experimental-websocket', // Autobahn|JS 26 uses the global WebSocket
  '--no-warnings=ExperimentalWarning',
  '--import', 'tsx',
  '--test',
  '--test-concurrency=2',
  ...files,
];
const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
