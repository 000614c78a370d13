/**
 * The `kreuz` command, run as a user runs it: child processes in a temporary directory, real ports on 127.0.0.1.
 * Each start of the command costs a Node process loading dist/ (bin/kreuz.js), so the tests of a
 * suite run at the same time (each in its own directory), and so do independent commands of one test.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INIT_CONFIG } from '../../src/cli/init.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { bin, children, root, run, start, tempDir, until, writeConfig } from './support.ts';

const crossbarExample = fileURLToPath(new URL('../config/fixtures/crossbar-docs-example.json', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

describe('kreuz command', { concurrency: true }, () => {
  it('package.json names the bin "kreuz" and npm start runs it', () => {
    assert.equal(pkg.bin.kreuz, 'bin/kreuz.js');
    assert.match(pkg.scripts.start, /bin\/kreuz\.js start$/);
  });

  it('prints router, Node and ws versions', async () => {
    const r = await run(['version']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^kreuz ${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(r.stdout, new RegExp(`^node ${process.versions.node.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(r.stdout, /^ws \d+\.\d+\.\d+$/m);
  });

  it('starts with --host/--port/--realm, logs one line with the URL, serves that realm, stops on SIGTERM', async () => {
    const node = await start(['--host', '127.0.0.1', '--port', '0', '--realm', 'testrealm'], tempDir());
    const url = node.line.match(/ws:\/\/127\.0\.0\.1:\d+\/ws/)?.[0];
    assert.ok(url, node.line);
    assert.match(node.line, /testrealm/);
    assert.equal(
      node
        .output()
        .split('\n')
        .filter((l) => l.trim()).length,
      1,
      `one log line: ${node.output()}`,
    );
    const client = await RawClient.join(url, 'json', 'testrealm');
    client.close();
    const other = await RawClient.open(url, 'json');
    other.send([1, 'realm1', { roles: { caller: {} } }]);
    assert.equal((await other.next())[2], 'wamp.error.no_such_realm');
    node.child.kill('SIGTERM');
    assert.equal(await node.exited, 0);
  });

  it('rejects a bad port and a bad log level with a clear message', async () => {
    const [port, level] = await Promise.all([run(['start', '--port', 'eighty']), run(['start', '--loglevel', 'loud'])]);
    assert.notEqual(port.status, 0);
    assert.match(port.stderr, /port/);
    assert.notEqual(level.status, 0);
    assert.match(level.stderr, /none, critical, error, warn, info, debug, trace/);
  });
});

describe('kreuz init and check', { concurrency: true }, () => {
  it('init writes a commented .kreuz/config.yaml and refuses to overwrite it', async () => {
    const dir = tempDir();
    const first = await run(['init'], dir);
    assert.equal(first.status, 0, first.stderr);
    const file = join(dir, '.kreuz', 'config.yaml');
    assert.match(first.stdout, /wrote \.kreuz\/config\.yaml/);
    const text = readFileSync(file, 'utf8');
    assert.equal(text, INIT_CONFIG);
    assert.match(text, /^# /m, 'commented');
    writeFileSync(file, `${text}# my change\n`);
    const [second, elsewhere] = await Promise.all([run(['init'], dir), run(['init', '--cbdir', 'node1'], dir)]);
    assert.equal(second.status, 1);
    assert.match(second.stderr, /config\.yaml already exists: not overwritten/);
    assert.match(readFileSync(file, 'utf8'), /# my change\n$/, 'the existing file is untouched');
    assert.equal(elsewhere.status, 0, elsewhere.stderr);
    assert.ok(existsSync(join(dir, 'node1', 'config.yaml')), 'written into --cbdir');
  });

  it('check says ok for the init config, and names each broken field with the reason', async () => {
    const dir = tempDir();
    assert.equal((await run(['init'], dir)).status, 0);
    const ok = await run(['check'], dir);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /config\.yaml: ok \(1 realm, 2 transports\)/);

    const file = join(dir, '.kreuz', 'config.yaml');
    const broken = readFileSync(file, 'utf8')
      .replace('port: 8081', 'port: eighty')
      .replace('          info:\n            type: nodeinfo', '          "/":\n            type: cgi')
      .replace('max_message_size: 1048576     # bytes', 'max_mesage_size: 1048576');
    writeFileSync(file, broken);
    const bad = await run(['check'], dir);
    assert.equal(bad.status, 1);
    assert.deepEqual(bad.stdout.trim().split('\n'), [
      'error: workers[0].transports[0].paths.ws.options.max_mesage_size: unknown key (known here: max_message_size, max_frame_size, auto_fragment_size, auto_ping_interval, auto_ping_timeout, auto_ping_size, auto_ping_restart_on_any_traffic, compression, allowed_origins, allow_null_origin, open_handshake_timeout, close_handshake_timeout, fail_by_drop, require_websocket_subprotocol, enable_hybi10, enable_rfc6455, tcp_nodelay, max_send_buffer, trusted_proxies, enable_webstatus, show_server_version, echo_close_codereason, validate_utf8, require_masked_client_frames, apply_mask, external_port, enable_flash_policy, flash_policy, mask_server_frames)',
      'error: workers[0].transports[0].paths./.type: "cgi" is not supported by Kreuz (Kreuz runs no CGI programs: serve it with its own server and put a reverse proxy (nginx, Caddy) in front of both)',
      'error: workers[0].transports[1].endpoint.port: must be a number, got a string',
      `${file}: 3 errors`,
    ]);
  });

  it("check names every key of Crossbar's documentation example that Kreuz does not support, and notes what it accepts", async () => {
    const r = await run(['check', '--config', crossbarExample], tempDir());
    assert.equal(r.status, 1);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines.at(-1) ?? '', new RegExp(`^${crossbarExample.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ errors, 2 notes$`));
    assert.ok(!lines.some((line) => line.includes('.paths.lp')), `the longpoll path is served: ${r.stdout}`);
    assert.ok(
      lines.includes(
        'note: workers[0].transports[0].paths.ws.cookie: accepted: Kreuz sets no tracking cookie (cbtid): nothing else depends on it, and cookie authentication is not supported by Kreuz',
      ),
      r.stdout,
    );
  });

  it('check and start say where they looked when there is no config', async () => {
    const dir = tempDir();
    const [r, s] = await Promise.all([run(['check'], dir), run(['start', '--cbdir', 'missing'], dir)]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /no config in .*\.kreuz or .*\.crossbar \(looked for config\.yaml, config\.yml, config\.json\); create one with: kreuz init/,
    );
    assert.equal(s.status, 1);
    assert.match(s.stderr, /no config in .*missing/);
  });
});

describe('kreuz start, status and stop', { concurrency: true }, () => {
  it('runs the config of the node directory; status and stop find it by its pid file', async () => {
    const dir = tempDir();
    writeConfig(dir);
    const notRunning = await run(['status'], dir);
    assert.equal(notRunning.status, 3);
    assert.match(notRunning.stdout, /kreuz is not running from .*\.kreuz/);

    const node = await start([], dir);
    assert.match(node.line, /listening on ws:\/\/127\.0\.0\.1:\d+\/ws, rs:\/\/127\.0\.0\.1:\d+ \(realm realm1; config .*config\.yaml\)/);
    const client = await RawClient.join(node.urls[0]);
    client.close();

    const status = await run(['status'], dir);
    assert.equal(status.status, 0, status.stdout + status.stderr);
    assert.match(status.stdout, new RegExp(`kreuz is running from .*\\.kreuz \\(pid ${node.child.pid}, since .*\\), listening on ws://`));
    const again = await run(['start'], dir);
    assert.equal(again.status, 1);
    assert.match(again.stderr, new RegExp(`a node is already running from .* \\(pid ${node.child.pid}\\)`));

    const stop = await run(['stop'], dir);
    assert.equal(stop.status, 0, stop.stdout + stop.stderr);
    assert.match(stop.stdout, new RegExp(`kreuz stopped \\(pid ${node.child.pid}\\)`));
    assert.equal(await node.exited, 0, 'exits 0 after SIGTERM');
    assert.match(node.output(), /INFO {2}stopping signal=SIGTERM/);
    assert.ok(!existsSync(join(dir, '.kreuz', 'node.pid')), 'the pid file is removed');
    const [statusAfter, stopAgain] = await Promise.all([run(['status'], dir), run(['stop'], dir)]);
    assert.equal(statusAfter.status, 3);
    assert.equal(stopAgain.status, 3);
    assert.match(stopAgain.stdout, /not running/);
  });

  it('takes ${VAR} values from the environment, and names a variable that is not set', async () => {
    const dir = tempDir();
    writeConfig(dir, INIT_CONFIG.replace('- name: realm1', '- name: ${KREUZ_TEST_REALM}'));
    const missing = await run(['start'], dir, { KREUZ_TEST_REALM: undefined });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^workers\[0\]\.realms\[0\]\.name: environment variable KREUZ_TEST_REALM is not set$/m);
    assert.match(missing.stderr, /nothing started/);
    const node = await start([], dir, { KREUZ_TEST_REALM: 'com.example.envrealm' });
    assert.match(node.line, /\(realm com\.example\.envrealm;/);
    const client = await RawClient.join(node.urls[0], 'json', 'com.example.envrealm');
    client.close();
    node.child.kill('SIGTERM');
    assert.equal(await node.exited, 0);
  });

  it('--loglevel takes Crossbar level names: debug shows session lines, critical hides the info line', async () => {
    const dir = tempDir();
    writeConfig(dir);
    const debug = await start(['--loglevel', 'debug', '--logformat', 'json'], dir);
    const client = await RawClient.join(debug.urls[0]);
    client.close();
    const deadline = Date.now() + 5000;
    while (!debug.output().includes('"msg":"session joined"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const joined = debug
      .output()
      .split('\n')
      .find((l) => l.includes('"msg":"session joined"'));
    assert.ok(joined, debug.output());
    const entry = JSON.parse(joined);
    assert.deepEqual([entry.level, entry.realm, typeof entry.session], [20, 'realm1', 'number']);
    debug.child.kill('SIGTERM');
    assert.equal(await debug.exited, 0);

    const quiet = spawn(process.execPath, [bin, 'start', '--loglevel', 'critical'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(quiet);
    let output = '';
    quiet.stdout!.on('data', (d) => (output += d));
    const quietExit = new Promise<number | null>((resolve) => quiet.once('exit', resolve));
    // It logs nothing to wait for: wait for its pid file (cheap), then ask `status` (until it says running).
    await until(() => existsSync(join(dir, '.kreuz', 'node.pid')));
    let status = await run(['status'], dir);
    for (let i = 0; i < 100 && status.status !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await run(['status'], dir);
    }
    assert.equal(status.status, 0, 'running');
    assert.equal((await run(['stop'], dir)).status, 0);
    assert.equal(await quietExit, 0);
    assert.equal(output, '', 'nothing below critical was logged');
  });

  it('on SIGTERM lets a call in flight finish: the caller gets its RESULT, then GOODBYE system_shutdown', async () => {
    const dir = tempDir();
    writeConfig(dir);
    const node = await start([], dir);
    const callee = await RawClient.join(node.urls[0]);
    const caller = await RawClient.join(node.urls[0]);
    callee.send([64, 1, {}, 'com.example.slow']);
    assert.equal((await callee.next())[0], 65);
    caller.send([48, 2, {}, 'com.example.slow', [1]]);
    const invocation = await callee.next();
    assert.equal(invocation[0], 68);
    node.child.kill('SIGTERM');
    setTimeout(() => callee.send([70, invocation[1], {}, ['done after 300 ms']]), 300);
    assert.deepEqual(await caller.next(3000), [50, 2, {}, ['done after 300 ms']]);
    assert.deepEqual(await caller.next(3000), [6, { message: 'the router is shutting down' }, 'wamp.close.system_shutdown']);
    caller.send([6, {}, 'wamp.close.goodbye_and_out']);
    callee.send([6, {}, 'wamp.close.goodbye_and_out']);
    assert.equal(await node.exited, 0);
  });

  it('a second SIGTERM stops at once (exit 1), without waiting for the call in flight or the shutdown timeout', {
    timeout: 30_000,
  }, async () => {
    const dir = tempDir();
    writeConfig(dir, INIT_CONFIG.replace(/^ {4}timeout: 10000/m, '    timeout: 600000'));
    // Not as under npm (npm test sets npm_lifecycle_event): there, a second signal within 500 ms
    // counts as the doubled Ctrl-C of a terminal and is ignored.
    const node = await start([], dir, { npm_lifecycle_event: undefined });
    const callee = await RawClient.join(node.urls[0]);
    const caller = await RawClient.join(node.urls[0]);
    callee.send([64, 1, {}, 'com.example.never']);
    assert.equal((await callee.next())[0], 65);
    caller.send([48, 2, {}, 'com.example.never']);
    assert.equal((await callee.next())[0], 68);
    node.child.kill('SIGTERM');
    // The second signal only once the first was handled: two sent before the process runs again
    // would arrive as one (a fixed 200 ms was not always enough on a busy machine).
    await until(() => /stopping signal=SIGTERM/.test(node.output()));
    node.child.kill('SIGTERM');
    assert.equal(await node.exited, 1);
    assert.match(node.output(), /second signal: stopping at once/);
    await Promise.all([callee.closed, caller.closed]);
  });
});

describe('kreuz keygen', () => {
  it('prints a new Ed25519 key pair for cryptosign as hex: a 32-byte seed and its 32-byte public key', async () => {
    const [r, other] = await Promise.all([run(['keygen']), run(['keygen'])]);
    assert.equal(r.status, 0, r.stderr);
    const seed = r.stdout.match(/^private key: ([0-9a-f]{64})$/m)?.[1];
    const pub = r.stdout.match(/^public key: {2}([0-9a-f]{64})$/m)?.[1];
    assert.ok(seed && pub, r.stdout);
    const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
    const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64(seed), x: b64(pub) }, format: 'jwk' });
    assert.equal(
      Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url').toString('hex'),
      pub,
      'the public key belongs to the seed',
    );
    const message = Buffer.from('challenge');
    assert.ok(
      verify(
        null,
        message,
        createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64(pub) }, format: 'jwk' }),
        sign(null, message, privateKey),
      ),
      'signs and verifies',
    );
    assert.notEqual(other.stdout, r.stdout, 'a new pair each time');
  });
});
