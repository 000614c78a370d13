/** The `kreuz` command, run as a user runs it: a child process on a real port. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../helpers/raw-client.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/kreuz.js', import.meta.url));
const pkg = JSON.parse(spawnSync(process.execPath, ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: root, encoding: 'utf8' }).stdout);

/** Starts `kreuz start ...args` and resolves with the process and the line it logged, once it listens. */
function start(args: string[]): Promise<{ child: ReturnType<typeof spawn>; line: string }> {
  const child = spawn(process.execPath, [bin, 'start', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`kreuz did not start within 10 s: ${out} ${err}`));
    }, 10_000);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('listening on'));
      if (line) {
        clearTimeout(timer);
        resolve({ child, line });
      }
    });
    child.on('exit', (code) => reject(new Error(`kreuz exited with ${code}: ${err}`)));
  });
}

function stopped(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('kreuz command', () => {
  it('package.json names the bin "kreuz" and npm start runs it', () => {
    assert.equal(pkg.bin.kreuz, 'bin/kreuz.js');
    assert.match(pkg.scripts.start, /bin\/kreuz\.js start$/);
  });

  it('prints router, Node and ws versions', () => {
    const run = spawnSync(process.execPath, [bin, 'version'], { cwd: root, encoding: 'utf8', timeout: 10_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^kreuz ${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(run.stdout, new RegExp(`^node ${process.versions.node.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(run.stdout, /^ws \d+\.\d+\.\d+$/m);
  });

  it('starts with --host/--port/--realm, logs one line with the URL, serves that realm, stops on SIGTERM', async () => {
    const { child, line } = await start(['--host', '127.0.0.1', '--port', '0', '--realm', 'testrealm']);
    const url = line.match(/ws:\/\/127\.0\.0\.1:\d+\/ws/)?.[0];
    assert.ok(url, line);
    assert.match(line, /testrealm/);
    const client = await RawClient.join(url, 'json', 'testrealm');
    client.close();
    const other = await RawClient.open(url, 'json');
    other.send([1, 'realm1', { roles: { caller: {} } }]);
    assert.equal((await other.next())[2], 'wamp.error.no_such_realm');
    const exit = stopped(child);
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
  });

  it('rejects a bad port with a clear message', () => {
    const run = spawnSync(process.execPath, [bin, 'start', '--port', 'eighty'], { cwd: root, encoding: 'utf8', timeout: 10_000 });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /port/);
  });
});
