/**
 * The package as a user gets it: `npm pack`, the tarball installed into a new project (offline,
 * from the npm cache the repo's install filled), then used from plain Node (ESM and CommonJS), type-checked from
 * TypeScript with `module: nodenext`, and its `kreuz` command run. Real processes, temporary directories.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const repoLock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));

let dir = '';
let app = '';
let packedFiles: string[] = [];
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(command: string, args: string[], options: SpawnSyncOptions = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000, ...options });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr), error: r.error };
}

function mustRun(command: string, args: string[], options: SpawnSyncOptions = {}) {
  const r = run(command, args, options);
  assert.equal(r.status, 0, `${command} ${args.join(' ')} failed (${r.error?.message ?? r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/**
 * The lock of a project depending on the tarball plus TypeScript and @types/node: the same
 * versions as the repo's lock (whose install put them into the npm cache), so `npm ci --offline`
 * needs no network. Kreuz's own dependencies are the lock's non-dev entries.
 */
function consumerLock(tarball: string, integrity: string, devExtras: string[]) {
  const packages: Record<string, unknown> = {};
  for (const [path, entry] of Object.entries(repoLock.packages as Record<string, Record<string, unknown>>)) {
    if (path !== '' && !entry.dev)
      packages[path] = { ...entry, devOptional: undefined, optional: entry.optional || entry.devOptional || undefined };
  }
  const wanted = [...devExtras];
  while (wanted.length > 0) {
    const name = wanted.pop()!;
    const path = `node_modules/${name}`;
    const entry = repoLock.packages[path];
    assert.ok(entry, `${name} is not in package-lock.json`);
    if (packages[path]) continue;
    packages[path] = { ...entry, dev: undefined };
    wanted.push(...Object.keys(entry.dependencies ?? {}));
  }
  const dependencies = {
    kreuz: `file:${tarball}`,
    ...Object.fromEntries(devExtras.map((n) => [n, repoLock.packages[`node_modules/${n}`].version])),
  };
  packages['node_modules/kreuz'] = {
    version: pkg.version,
    resolved: `file:${tarball}`,
    integrity,
    license: pkg.license,
    dependencies: pkg.dependencies,
    bin: pkg.bin,
    engines: pkg.engines,
  };
  return {
    manifest: { name: 'kreuz-consumer', private: true, type: 'module', dependencies, overrides: pkg.overrides },
    lock: {
      name: 'kreuz-consumer',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name: 'kreuz-consumer', dependencies }, ...packages },
    },
  };
}

describe('the npm package', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kreuz-package-'));
    app = join(dir, 'app');
    // dist/ as the sources are now (what `prepare` does on pack, incrementally here).
    mustRun(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], { cwd: root });
    const packed = mustRun('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root });
    const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    packedFiles = info.files.map((f) => f.path);

    mustRun('mkdir', [app]);
    const tarball = join(app, info.filename);
    writeFileSync(tarball, readFileSync(join(dir, info.filename)));
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    const { manifest, lock } = consumerLock(info.filename, integrity, ['typescript', '@types/node']);
    writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(app, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
    const npmArgs = ['ci', '--no-audit', '--no-fund', '--loglevel=error'];
    let install = run('npm', [...npmArgs, '--offline'], { cwd: app });
    // A cache without one of them (cleaned, or another platform's binaries): the registry fills in.
    if (install.status !== 0) install = run('npm', [...npmArgs, '--prefer-offline'], { cwd: app });
    assert.equal(install.status, 0, `npm ci in the consumer failed:\n${install.stdout}\n${install.stderr}`);
  });

  it('ships dist (.js, .d.ts, source maps), bin, schema, README and package.json, and no tests or sources', () => {
    for (const file of [
      'package.json',
      'README.md',
      'bin/kreuz.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/index.js.map',
      'dist/cli/main.js',
      'schema/kreuz-config.schema.json',
    ]) {
      assert.ok(packedFiles.includes(file), `${file} is not in the tarball`);
    }
    if (existsSync(join(root, 'LICENSE'))) assert.ok(packedFiles.includes('LICENSE'), 'LICENSE is not in the tarball');
    const unwanted = packedFiles.filter(
      (f) =>
        /^(test|src|bench|scripts|\.ci|node_modules)\//.test(f) ||
        /\.test\.|fixtures|\.tsbuildinfo$/.test(f) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')),
    );
    assert.deepEqual(unwanted, []);
    // Every module the package points at is in it.
    for (const target of [pkg.main, pkg.types, pkg.exports['.'].default, pkg.exports['.'].types, ...Object.values(pkg.bin)]) {
      assert.ok(packedFiles.includes(String(target).replace(/^\.\//, '')), `${target} (from package.json) is not in the tarball`);
    }
  });

  it('plain Node imports createRouter and runs a router on port 0 (node app.mjs)', () => {
    writeFileSync(
      join(app, 'app.mjs'),
      `import { createRouter, Result } from 'kreuz';
const node = await createRouter({
  version: 2,
  workers: [{ type: 'router', realms: [{ name: 'realm1' }], transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' } }] }],
});
const session = await node.session('realm1');
await session.register('com.example.add2', ([a, b]) => Number(a) + Number(b));
const { args } = await session.call('com.example.add2', [2, 3]);
console.log(JSON.stringify({ urls: node.urls, args, result: typeof Result }));
await node.shutdown();
`,
    );
    const r = mustRun(process.execPath, ['app.mjs'], { cwd: app, timeout: 20_000 });
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.deepEqual(out.args, [5]);
    assert.match(out.urls[0], /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    assert.doesNotMatch(out.urls[0], /:0\//);
    assert.equal(out.result, 'function');
    // The module the app loaded is the compiled one in the installed package.
    const resolved = mustRun(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('kreuz'))"], { cwd: app });
    assert.match(resolved.stdout.trim(), /\/node_modules\/kreuz\/dist\/index\.js$/);
  });

  it('CommonJS loads it: require() where Node has require(esm), else await import()', () => {
    writeFileSync(
      join(app, 'app.cjs'),
      `const load = process.features.require_module ? async () => require('kreuz') : () => import('kreuz');
load().then((kreuz) => console.log(typeof kreuz.createRouter, typeof kreuz.KREUZ_VERSION, process.features.require_module === true));
`,
    );
    const r = mustRun(process.execPath, ['app.cjs'], { cwd: app, timeout: 20_000 });
    const [createRouter, version, viaRequire] = r.stdout.trim().split(' ');
    assert.equal(createRouter, 'function');
    assert.equal(version, 'string');
    // Node 20.19+ and 22.12+ have require(esm) without a flag; this repo's Node is one of them.
    const [major, minor] = process.versions.node.split('.').map(Number);
    if ((major === 20 && minor! >= 19) || (major === 22 && minor! >= 12) || major! >= 23) assert.equal(viaRequire, 'true');
    assert.doesNotMatch(r.stderr, /ExperimentalWarning|Error/);
  });

  it('a TypeScript consumer (module nodenext, strict, no skipLibCheck) type-checks with zero errors', () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      `${JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, include: ['consumer.ts'] }, null, 2)}\n`,
    );
    writeFileSync(
      join(app, 'consumer.ts'),
      `import { ConfigError, Result, WampError, createLogger, createRouter, startNode, validateConfig, type CallResult, type KreuzConfig, type NodeOptions, type RunningNode } from 'kreuz';

const config: KreuzConfig = validateConfig({ version: 2, workers: [{ type: 'router', realms: [{ name: 'realm1' }], transports: [] }] }).config;
const node: RunningNode = await createRouter(config, { logger: createLogger({ level: 'silent' }) });
const session = await node.session('realm1');
await session.register('com.example.add2', ([a, b]) => Number(a) + Number(b));
await session.register('com.example.fail', () => {
  throw new WampError('com.example.error.nope', ['no']);
});
const called: CallResult = await session.call('com.example.add2', [2, 3]);
const urls: readonly string[] = node.urls;
const twice = new Result([1], { a: 2 });
const options: Partial<NodeOptions> = {};
export { ConfigError, called, options, startNode, twice, urls };
await node.shutdown();
`,
    );
    const r = run(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--listFiles'], {
      cwd: app,
    });
    assert.doesNotMatch(r.stdout + r.stderr, /error TS\d+/, 'tsc reported errors');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // It checked the installed declarations, not the sources.
    assert.match(r.stdout, /node_modules\/kreuz\/dist\/index\.d\.ts/);
    assert.doesNotMatch(r.stdout, /node_modules\/kreuz\/src\//);
  });

  it('the installed kreuz command runs (kreuz version)', () => {
    const r = mustRun(join(app, 'node_modules', '.bin', 'kreuz'), ['version'], { cwd: app, timeout: 20_000 });
    assert.match(r.stdout, new RegExp(`^kreuz ${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(r.stdout, /^ws \d+\.\d+\.\d+$/m);
    assert.equal(r.stderr, '');
  });
});
