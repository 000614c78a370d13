/**
 * `npm start` as a process manager or CI step runs it: SIGTERM or SIGINT sent to the npm process
 * reaches the router, which stops gracefully (its sessions get GOODBYE), npm exits 0, and no
 * router is left behind holding the port. Real processes: npm, the router, a WAMP client.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../helpers/raw-client.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

const groups = new Set<number>();
after(() => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

interface NpmStart {
  npm: ChildProcess;
  url: string;
  port: number;
  marker: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start -- --port 0 --realm <unique>`, in its own process group; resolves once the router listens. */
function npmStart(): Promise<NpmStart> {
  const marker = `signals-${randomBytes(6).toString('hex')}`;
  const npm = spawn('npm', ['start', '--', '--port', '0', '--realm', marker], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  groups.add(npm.pid!);
  let out = '';
  npm.stdout!.on('data', (d) => (out += d));
  npm.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not listen within 30 s:\n${out}`)), 30_000);
    npm.stdout!.on('data', () => {
      const url = /listening on (ws:\/\/127\.0\.0\.1:(\d+)\/ws)/.exec(out);
      if (!url) return;
      clearTimeout(timer);
      resolve({ npm, url: url[1]!, port: Number(url[2]), marker, output: () => out, exited });
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
}

/** The processes whose command line names `marker`. */
function processesWith(marker: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((line) => line.includes(marker));
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

async function stopsGracefully(signal: NodeJS.Signals, target: 'npm' | 'group'): Promise<void> {
  const started = await npmStart();
  // The router runs in npm's process tree: npm → (sh exec'd into) node bin/kreuz.js.
  assert.equal(processesWith(started.marker).filter((l) => l.includes('bin/kreuz.js start')).length, 1, started.output());
  const client = await RawClient.join(started.url, 'json', started.marker);
  if (target === 'npm') process.kill(started.npm.pid!, signal);
  else process.kill(-started.npm.pid!, signal); // as a terminal's Ctrl-C: every process of the group

  const goodbye = (await client.next()) as unknown[];
  assert.equal(goodbye[0], 6, `expected GOODBYE, got ${JSON.stringify(goodbye)}`);
  assert.equal(goodbye[2], 'wamp.close.system_shutdown');
  client.send([6, {}, 'wamp.close.goodbye_and_out']);

  const exit = await Promise.race([started.exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
  assert.deepEqual(exit, { code: 0, signal: null }, started.output());
  assert.match(started.output(), new RegExp(`stopping signal=${signal}`));
  assert.match(started.output(), /\bstopped\b/);
  assert.doesNotMatch(started.output(), /second signal/);
  assert.deepEqual(processesWith(started.marker), [], 'a process of npm start is left');
  assert.equal(await refused(started.port), true, `port ${started.port} still accepts connections`);
  groups.delete(started.npm.pid!);
}

describe('npm start and signals', () => {
  it('SIGTERM to npm stops the router gracefully, npm exits 0, nothing is left on the port', () => stopsGracefully('SIGTERM', 'npm'));

  it('SIGINT to npm stops the router gracefully, npm exits 0, nothing is left on the port', () => stopsGracefully('SIGINT', 'npm'));

  // A terminal's Ctrl-C signals the whole foreground process group: the router gets SIGINT from the
  // terminal and again from npm, which forwards it, and takes the second as "stop at once".
  it('SIGINT to the process group (Ctrl-C in a terminal) stops the router gracefully', () => stopsGracefully('SIGINT', 'group'));
});
