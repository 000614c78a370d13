/**
 * Crossbar example node directories (test/fixtures/crossbar-examples/, unchanged) run with
 * `kreuz start --cbdir .crossbar` from the example's directory, as their READMEs run Crossbar,
 * and real clients use what their workers offer through the router.
 *
 * Each runs from a temporary copy in which port 8080 becomes a free port: in .crossbar/config.json,
 * and in the example's own program where the URL is written in (hello-nodejs's node/hello.js, the
 * ticket example's client.py). Nothing else changes.
 *
 * After each node stops, no process is left in its directory (every worker's process runs there).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openAutobahn, within } from '../helpers/autobahn-js.ts';
import { PYTHON, requirePython } from '../helpers/python.ts';
import { buildDist, freePort, KreuzProcess, processesIn, root, tempDir, until } from './workers-support.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/crossbar-examples/', import.meta.url));

/** A temporary copy of the example, port 8080 replaced by a free one in the config and in `programs`. */
async function example(name: string, programs: string[] = []): Promise<{ dir: string; port: number }> {
  const dir = join(tempDir('kreuz-example-'), name);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  const port = await freePort();
  for (const file of ['.crossbar/config.json', ...programs]) {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    assert.match(text, /8080/, `${file} names port 8080`);
    writeFileSync(path, text.replaceAll('8080', String(port)));
  }
  return { dir, port };
}

async function stopAndCheck(node: KreuzProcess, dir: string): Promise<void> {
  const code = await node.stop();
  assert.equal(code, 0, node.output);
  await until(
    () => processesIn(dir).length === 0,
    3000,
    `processes left in ${dir} after kreuz stopped`,
    () => node.output,
  );
}

/** Runs a Python script of the example to its end (killed after `ms`). */
function runPython(
  script: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  ms = 20_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [script, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('Crossbar examples run end to end', { concurrency: true }, () => {
  before(() => buildDist());

  it('hello/python: the container component (Twisted) serves Autobahn|JS through the router, both ways', async () => {
    await requirePython();
    const { dir, port } = await example('hello-python');
    const node = new KreuzProcess(['--cbdir', '.crossbar'], dir);
    await node.waitFor(/workers started: container worker worker002/);
    const client = await openAutobahn(`ws://127.0.0.1:${port}/ws`, 'json');
    try {
      // The frontend of web/index.html: mul2 for the backend to call, oncounter events, onhello for it.
      const mul2Calls: number[][] = [];
      await client.session.register('com.example.mul2', (args: number[]) => {
        mul2Calls.push(args);
        return args[0] * args[1];
      });
      const counters: number[] = [];
      await client.session.subscribe('com.example.oncounter', (args: number[]) => counters.push(args[0]));
      assert.equal(await within(client.session.call('com.example.add2', [2, 3]), 5000, 'add2'), 5);
      await until(
        () => counters.length >= 2 && mul2Calls.length >= 1,
        10_000,
        'events and calls from the backend',
        () => node.output,
      );
      assert.ok(counters[1] === counters[0] + 1, `counter events in order: ${counters}`);
      await client.session.publish('com.example.onhello', ['Hello from Autobahn|JS'], {}, { acknowledge: true });
      await node.waitFor(/event for 'onhello' received: Hello from Autobahn\|JS .*worker=worker002 component=component001/);
    } finally {
      await client.close();
    }
    await stopAndCheck(node, dir);
  });

  it("authentication/ticket/dynamic: router components as roles 'authenticator' and 'backend'; the example's client authenticates through one, calls the other", async () => {
    await requirePython();
    const { dir } = await example('authentication-ticket-dynamic', ['client.py']);
    // As its Makefile runs it: the authenticator reads client1's ticket from MYTICKET.
    const env = { MYTICKET: 'secret123' };
    const node = new KreuzProcess(['--cbdir', '.crossbar'], dir, env);
    await node.waitFor(/workers started: the components of router worker worker001/);
    assert.match(
      node.output,
      /component component001 \(authenticator\.AuthenticatorSession\) joined realm "realm1".*authrole=authenticator/,
    );
    assert.match(node.output, /component component002 \(backend\.BackendSession\) joined realm "realm1".*authrole=backend/);

    const good = await runPython('client.py', ['client1'], dir, env);
    // Its exit status is 0 only when the router answers its GOODBYE with wamp.close.normal, as Crossbar
    // does; Kreuz answers wamp.close.goodbye_and_out, as the WAMP spec has it. What it did is what counts.
    assert.match(good.output, /Client session joined/, `${good.output}\n${node.output}`);
    assert.match(good.output, /'authrole': 'frontend'/);
    assert.match(good.output, /call result: 5/);
    assert.match(good.output, /registration failed \(this is expected!\)/);
    assert.match(good.output, /ok, event published to topic com\.example\.topic1/);
    assert.match(good.output, /publication to topic com\.example\.topic2 failed \(this is expected!\)/);
    assert.match(good.output, /Client session left: CloseDetails\(reason=<wamp\.close\.(normal|goodbye_and_out)>/);
    await node.waitFor(/add2\(\) called with 2 and 3 .*component=component002/);

    // The README's second run: a wrong ticket is refused by the authenticator.
    const bad = await runPython('client.py', ['client1'], dir, { MYTICKET: 'wrong' });
    assert.equal(bad.code, 1, bad.output);
    assert.match(bad.output, /com\.example\.invalid_ticket/);
    await stopAndCheck(node, dir);
  });

  it('hello/nodejs: the guest (node hello.js) serves Autobahn|JS; a change in its watched directory restarts it', async () => {
    const { dir, port } = await example('hello-nodejs', ['node/hello.js']);
    // hello.js needs Autobahn|JS (its package.json); the copy is outside this repository, so it finds Kreuz's.
    // Autobahn|JS 26 needs Node 20's global WebSocket (--experimental-websocket), as in this repository's tests.
    const node = new KreuzProcess(['--cbdir', '.crossbar'], dir, {
      NODE_PATH: join(root, 'node_modules'),
      NODE_OPTIONS: '--experimental-websocket',
    });
    const started = await node.waitFor(/guest worker worker002 started: \S+node.*pid=(\d+)/);
    await node.waitFor(/procedure add2\(\) registered .*worker=worker002 stream=stdout/);
    const client = await openAutobahn(`ws://127.0.0.1:${port}/ws`, 'json');
    try {
      assert.equal(await within(client.session.call('com.example.add2', [2, 3]), 5000, 'add2'), 15);
      const counters: number[] = [];
      await client.session.subscribe('com.example.oncounter', (args: number[]) => counters.push(args[0]));
      await until(
        () => counters.length >= 1,
        5000,
        'oncounter from the guest',
        () => node.output,
      );

      const touched = new Date();
      utimesSync(join(dir, 'node', 'hello.js'), touched, touched);
      await node.waitFor(
        /hello\.js changed in .*node: restarting in 1000 ms[\s\S]*guest worker worker002 started[\s\S]*procedure add2\(\) registered/,
      );
      const pids = [...node.output.matchAll(/guest worker worker002 started: .*pid=(\d+)/g)].map((m) => m[1]);
      assert.equal(pids.length, 2, node.output);
      assert.equal(pids[0], started[1]);
      assert.notEqual(pids[1], pids[0]);
      assert.equal(await within(client.session.call('com.example.add2', [1, 1]), 5000, 'add2 after the restart'), 12);
    } finally {
      await client.close();
    }
    await stopAndCheck(node, dir);
  });

  it('containers/failures/container/working: the component leaves after 3 s, so its container ends ("shutdown-on-last-component-stopped"), and with it the node', async () => {
    await requirePython();
    const { dir } = await example('containers-failures-container-working');
    const node = new KreuzProcess(['--cbdir', '.crossbar'], dir);
    await node.waitFor(/component component001 \(myapp\.MySession\) joined realm "realm1"/);
    const code = await within(node.exited, 20_000, 'the node stopping by itself');
    assert.equal(code, 0, node.output);
    assert.match(node.output, /sleeping for 3s before leaving/);
    assert.match(node.output, /container worker worker002 ends \(its "shutdown" is "shutdown-on-last-component-stopped"\)/);
    assert.match(node.output, /shutdown trigger "shutdown_on_worker_exit" stops the node/);
    await until(
      () => processesIn(dir).length === 0,
      3000,
      `processes left in ${dir}`,
      () => node.output,
    );
  });
});
