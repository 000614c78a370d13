// Builds the dashboard page (web/dashboard/) into dist/dashboard/, for the "dashboard" web service:
// esbuild bundles src/main.tsx (with Preact) and dashboard.css into files named by their content's
// hash, index.html is written to load them, and files.json lists what was written with each file's
// gzipped size. The page's total gzipped size must stay under BUDGET: over it, the build fails.
// The sources are type-checked first (web/dashboard/tsconfig.json: DOM types, Preact's JSX).
// Called by scripts/build.mjs, and by the browser tests' helper (which skips the type check).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The most the page may weigh, gzipped, all files together. */
export const BUDGET = 200 * 1024;

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
export const OUT = join(root, 'dist', 'dashboard');
export const MANIFEST = join(OUT, 'files.json');

/** esbuild comes with tsx (a dev dependency); an install without dev dependencies has none, and uses the dist/ it got. */
async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch {
    try {
      const fromTsx = createRequire(createRequire(join(root, 'package.json')).resolve('tsx/package.json'));
      return await import(fromTsx.resolve('esbuild'));
    } catch {
      return undefined;
    }
  }
}

/** The newest modification time of the page's sources (directories too: a removed file changes theirs). */
function newestSource() {
  let newest = 0;
  for (const f of ['', ...readdirSync(here, { recursive: true }).map(String)]) newest = Math.max(newest, statSync(join(here, f)).mtimeMs);
  const preact = join(root, 'node_modules', 'preact', 'package.json');
  if (existsSync(preact)) newest = Math.max(newest, statSync(preact).mtimeMs);
  return newest;
}

export function isStale() {
  return !existsSync(MANIFEST) || statSync(MANIFEST).mtimeMs < newestSource();
}

/** Type errors of the page's sources (tsc's output), or undefined when there are none or TypeScript is not installed. */
export function typeErrors() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) return undefined;
  const run = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
  return run.status === 0 ? undefined : `${run.stdout}${run.stderr}`.trim() || `tsc exited with ${run.status}`;
}

/**
 * Builds dist/dashboard/. Options: `ifStale` (only when a source is newer than the last build),
 * `typecheck` (true, the default: type errors fail the build; "report": they are logged and the
 * page is bundled anyway; false: no check), `log` (progress lines). Resolves with
 * { built, gzipTotal } or throws with the reason (type errors, an esbuild error, the budget).
 */
export async function buildDashboard({ ifStale = false, typecheck = true, log = console.log } = {}) {
  if (ifStale && !isStale()) return { built: false, gzipTotal: readManifest().gzipTotal };
  const esbuild = await loadEsbuild();
  if (!esbuild) {
    if (existsSync(MANIFEST)) return { built: false, gzipTotal: readManifest().gzipTotal };
    throw new Error('esbuild (installed with tsx, a dev dependency) is needed to build the dashboard page: run `npm install`');
  }
  if (typecheck) {
    const errors = typeErrors();
    if (errors && typecheck !== 'report') throw new Error(`the dashboard page has type errors:\n${errors}`);
    if (errors) log(`kreuz: the dashboard page has type errors (bundled anyway):\n${errors}`);
  }
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [
      { in: join(here, 'src', 'main.tsx'), out: 'dashboard' },
      { in: join(here, 'dashboard.css'), out: 'dashboard' },
    ],
    entryNames: '[name]-[hash]',
    outdir: OUT,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox113', 'safari16.4'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const outputs = result.outputFiles.map((f) => ({ name: f.path.slice(OUT.length + 1), contents: f.contents }));
  const js = outputs.find((o) => o.name.endsWith('.js'));
  const css = outputs.find((o) => o.name.endsWith('.css'));
  if (!js || !css || outputs.length !== 2) throw new Error(`unexpected esbuild outputs: ${outputs.map((o) => o.name).join(', ')}`);

  const html = readFileSync(join(here, 'index.html'), 'utf8');
  if (!html.includes('src="dashboard.js"') || !html.includes('href="dashboard.css"'))
    throw new Error('web/dashboard/index.html must load "dashboard.js" and "dashboard.css"');
  const index = html.replace('src="dashboard.js"', `src="${js.name}"`).replace('href="dashboard.css"', `href="${css.name}"`);

  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  for (const o of outputs) writeFileSync(join(OUT, o.name), o.contents);
  writeFileSync(join(OUT, 'index.html'), index);
  copyFileSync(join(here, 'icon.svg'), join(OUT, 'icon.svg'));

  const files = [
    { name: 'index.html', immutable: false },
    { name: 'icon.svg', immutable: false },
    { name: js.name, immutable: true },
    { name: css.name, immutable: true },
  ].map((f) => {
    const bytes = readFileSync(join(OUT, f.name));
    return { ...f, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  const gzipTotal = files.reduce((sum, f) => sum + f.gzip, 0);
  if (gzipTotal > BUDGET) {
    rmSync(OUT, { recursive: true, force: true });
    throw new Error(`the dashboard page weighs ${gzipTotal} bytes gzipped, over its budget of ${BUDGET}`);
  }
  // Written last: its time is the build's (isStale compares it with the sources').
  writeFileSync(MANIFEST, `${JSON.stringify({ files, gzipTotal, budget: BUDGET }, null, 2)}\n`);
  log(`dashboard: dist/dashboard/, ${gzipTotal} bytes gzipped (budget ${BUDGET})`);
  return { built: true, gzipTotal };
}

export function readManifest() {
  return JSON.parse(readFileSync(MANIFEST, 'utf8'));
}
