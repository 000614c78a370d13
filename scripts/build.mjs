#!/usr/bin/env node
// Compiles src/ into dist/ (tsconfig.build.json): .js, .d.ts and source maps, what the package runs.
//   node scripts/build.mjs             from scratch (`npm run build`; `prepack`, before pack and publish)
//   node scripts/build.mjs --if-stale  only when dist/ is missing or older than src/ or the tsconfig
//                                      files, else nothing, in milliseconds (`prepare` on install, so a
//                                      clone or git install builds; before `npm start`; in
//                                      scripts/run-tests.mjs: bin/kreuz.js runs the compiled code);
//                                      type errors are reported, and the files written are used
// Without TypeScript installed (an install with --omit=dev) --if-stale uses an existing dist/ as it is.
// Then the dashboard page (web/dashboard/build.mjs): bundled into dist/dashboard/ within its size
// budget; with --if-stale only when its sources changed (type errors reported, as for src/).
import { cpSync, existsSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join, sep } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const stamp = join(dist, '.tsbuildinfo'); // tsc's incremental build info, written last
const ifStale = process.argv.includes('--if-stale');

function newestInput() {
  let newest = 0;
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'package.json']) {
    if (existsSync(join(root, f))) newest = Math.max(newest, statSync(join(root, f)).mtimeMs);
  }
  // Directories too: their time changes when a file is removed or renamed.
  for (const f of ['', ...readdirSync(join(root, 'src'), { recursive: true })]) {
    newest = Math.max(newest, statSync(join(root, 'src', String(f))).mtimeMs);
  }
  return newest;
}

/** Builds the dashboard page; the exit status of the build. */
async function dashboard() {
  const file = join(root, 'web', 'dashboard', 'build.mjs');
  if (!existsSync(file)) return 0;
  const { buildDashboard } = await import(pathToFileURL(file).href);
  try {
    await buildDashboard({ ifStale, typecheck: ifStale ? 'report' : true });
    return 0;
  } catch (err) {
    console.error(`kreuz: ${err.message}`);
    return 1;
  }
}

const built = existsSync(join(dist, 'cli', 'main.js')) && existsSync(stamp) ? statSync(stamp).mtimeMs : -1;
if (ifStale && built >= 0 && (!existsSync(join(root, 'src')) || built >= newestInput())) process.exit(await dashboard());

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  if (ifStale && built >= 0) {
    console.error('kreuz: dist/ may be older than src/, and TypeScript is not installed to rebuild it; using it as it is');
    process.exit(await dashboard());
  }
  console.error('kreuz: TypeScript is not installed to build dist/: run `npm install` (with dev dependencies)');
  process.exit(1);
}
// From scratch, no file of a removed source is left behind; --if-stale builds incrementally and
// removes what tsc would not: the outputs of sources that are gone.
if (!ifStale) rmSync(dist, { recursive: true, force: true });
else if (existsSync(dist)) {
  for (const f of readdirSync(dist, { recursive: true }).map(String)) {
    if (f === 'dashboard' || f.startsWith(`dashboard${sep}`)) continue; // the page's bundle, not tsc's
    const source = f.replace(/(\.d\.ts|\.js|\.js\.map|\.d\.ts\.map)$/, '.ts');
    if (source !== f && !existsSync(join(root, 'src', source))) rmSync(join(dist, f), { force: true });
  }
}
const startedAt = new Date(); // a source saved while tsc runs is newer than the build
const run = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
// Files the package runs that tsc does not emit: the Python components' runner (src/node/workers/).
if (run.status === 0 || run.status === 2) {
  for (const f of readdirSync(join(root, 'src'), { recursive: true }).map(String)) {
    if (f.endsWith('.py')) cpSync(join(root, 'src', f), join(dist, f));
  }
}
// Exit status 2: type errors, but the files were written. Before a test run or a start in a work
// tree that is being edited, go on with them (`npm test` type-checks first anyway); a build fails.
if (run.status === 2 && ifStale) {
  console.error('kreuz: dist/ was built from sources with type errors (above)');
  process.exit(await dashboard());
}
if (run.status !== 0) process.exit(run.status ?? 1);
// tsc leaves its build info untouched when nothing changed; mark dist/ as built from the sources as
// they were when it started.
utimesSync(stamp, startedAt, startedAt);
process.exit(await dashboard());
