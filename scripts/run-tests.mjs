#!/usr/bin/env node
// Runs the test files under test/ with node's test runner.
//
//   node scripts/run-tests.mjs [filter...]          every test file (`npm test`)
//   node scripts/run-tests.mjs --unit [filter...]   the unit set (`npm run test:unit`)
//   node scripts/run-tests.mjs --subprocess [...]   the rest: the subprocess set
//   node scripts/run-tests.mjs --list [...]         which file is in which set, and why; runs nothing
// A filter keeps the files whose path contains it (`node scripts/run-tests.mjs reliability/soak`).
//
// The split, decided from the code, so that a new file lands in its set by itself:
//   A test file is in the SUBPROCESS set when it, or any module of this repository it imports
//   (transitively, following relative imports; `import type` does not count), imports
//   node:child_process: it starts Python, the kreuz command, npm, or a router in a child process.
//   Every other test file is in the UNIT set: it runs in the test process alone (real sockets on
//   127.0.0.1 are fine). The one exception, EXEMPT below: test/helpers/tls-cert.ts runs
//   `openssl req` once to make a throwaway certificate, a few milliseconds of fixture, not a
//   process under test; the TLS tests that use it stay unit tests.
//   The two sets are complements of each other, and a plain run (`npm test`) runs every file in
//   both: no file can be left out of both.
// In the unit set the soak (test/reliability/soak.test.ts, 30 s in `npm test`) runs 10 s, with
// every check it makes, unless KREUZ_SOAK_SECONDS is set: a leak of sessions or handles still
// shows, and test:unit stays well under a minute.
//
// Files are named explicitly: `node --test test/` finds no .ts files on Node 20, and a run that
// executes no test must fail loudly rather than pass silently.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const mode = argv.find((a) => a.startsWith('--'));
if (mode && !['--unit', '--subprocess', '--list'].includes(mode)) {
  console.error(`run-tests: unknown option ${mode} (--unit, --subprocess or --list)`);
  process.exit(2);
}
const only = argv.filter((a) => !a.startsWith('--'));

/** Modules whose child process is a fixture tool, not a process under test (see above). */
const EXEMPT = new Set(['test/helpers/tls-cert.ts']);
/** Long single tests, started first so that they do not run alone at the end. */
const START_FIRST = ['test/reliability/soak.test.ts'];

const CHILD_PROCESS = /^(node:)?child_process$/;
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
// Static imports and re-exports (`import type` / `export type` excluded), side-effect imports,
// and dynamic imports of a literal.
const STATIC = /(?:^|[;\n])\s*(?:import|export)(\s+type\b)?[^'"`;]*?\bfrom\s*(['"])([^'"\n]+)\2/g;
const BARE = /(?:^|[;\n])\s*import\s*(['"])([^'"\n]+)\1/g;
const DYNAMIC = /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g;

function specifiers(text) {
  const found = [];
  for (const m of text.matchAll(STATIC)) if (!m[1]) found.push(m[3]);
  for (const m of text.matchAll(BARE)) found.push(m[2]);
  for (const m of text.matchAll(DYNAMIC)) found.push(m[2]);
  return found;
}

/** A relative specifier as a file of this repository (outside node_modules), or undefined. */
function resolveLocal(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    const rel = relative(root, candidate);
    if (rel.startsWith('..') || rel.split('/').includes('node_modules')) return undefined;
    if (SOURCE.test(candidate) && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const verdicts = new Map(); // absolute path -> the chain to node:child_process, or null
/** How `file` reaches node:child_process (the modules in between), or null when it does not. */
function subprocessChain(file, visiting = new Set()) {
  if (verdicts.has(file)) return verdicts.get(file);
  if (EXEMPT.has(relative(root, file)) || visiting.has(file)) return null; // a cycle adds nothing
  visiting.add(file);
  let chain = null;
  for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
    if (CHILD_PROCESS.test(specifier)) {
      chain = [];
      break;
    }
    const local = resolveLocal(file, specifier);
    const below = local && subprocessChain(local, visiting);
    if (below) {
      chain = [relative(root, local), ...below];
      break;
    }
  }
  visiting.delete(file);
  verdicts.set(file, chain);
  return chain;
}

const all = readdirSync(join(root, 'test'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => join('test', f))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const inSubprocessSet = (f) => subprocessChain(join(root, f)) !== null;

if (mode === '--list') {
  for (const f of all) {
    const chain = subprocessChain(join(root, f));
    console.log(chain === null ? `unit        ${f}` : `subprocess  ${f}  (${[...chain, 'node:child_process'].join(' -> ')})`);
  }
  const units = all.filter((f) => !inSubprocessSet(f)).length;
  console.log(`# ${all.length} files: ${units} unit, ${all.length - units} subprocess`);
  process.exit(0);
}

const files = all
  .filter((f) => (mode === '--unit' ? !inSubprocessSet(f) : mode === '--subprocess' ? inSubprocessSet(f) : true))
  .sort((a, b) => Number(START_FIRST.includes(b)) - Number(START_FIRST.includes(a)));

if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

// bin/kreuz.js runs the compiled code: bring dist/ up to date with src/ first (milliseconds when
// it is). Only tests of the subprocess set run it (the kreuz command, npm, the packed package).
if (files.some(inSubprocessSet)) {
  const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// Test files at a time: one more than the cores, since most files spend part of their time waiting
// on sockets and timers (KREUZ_TEST_CONCURRENCY overrides it).
const concurrency = Number(process.env.KREUZ_TEST_CONCURRENCY) || availableParallelism() + 1;

const env = { ...process.env };
if (mode === '--unit') env.KREUZ_SOAK_SECONDS ??= '10';

const args = [
  '--experimental-websocket', // Autobahn|JS 26 uses the global WebSocket
  '--no-warnings=ExperimentalWarning',
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${concurrency}`,
  ...files,
];
const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env });
process.exit(run.status ?? 1);
