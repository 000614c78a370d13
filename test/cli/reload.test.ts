/**
 * `kreuz reload` and SIGHUP against a real `kreuz start` process
 * (bin/kreuz.js), with Autobahn|JS clients calling and publishing through
 * the reload: the config file is edited, the node re-reads it; what changes
 * live takes effect (permissions both ways, a new ticket principal, a realm
 * removed with GOODBYE and one added, the TLS certificate, the log level),
 * a changed port is refused and the old one still serves, a config with
 * errors changes nothing, and no other session drops.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join as joinPath } from 'node:path';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { makeTestCert } from '../helpers/tls-cert.ts';
import {
  ALL,
  TICKET,
  type Permission,
  Traffic,
  errorOf,
  eventually,
  join,
  nodeConfig,
  type Client,
  type ConfigShape,
} from '../node/reload-support.ts';
import { run, start, tempDir } from './support.ts';

const NO_NPM = { npm_lifecycle_event: undefined };

/** The node's config: `nodeConfig`'s ws transport, plus a wss one (TLS files in the node directory). */
function config(shape: ConfigShape, tlsPort = 0): Record<string, unknown> {
  const c = nodeConfig(shape) as any;
  c.workers[0].transports.push({
    type: 'websocket',
    endpoint: { type: 'tcp', port: tlsPort, interface: '127.0.0.1', tls: { key: 'key.pem', certificate: 'cert.pem' } },
    url: 'wss://localhost/secure',
    auth: { anonymous: { type: 'static', role: 'user' } },
  });
  return c;
}

/** A TCP port nobody listens on right now. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function servedCertificate(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.destroy();
      cert ? resolve(cert.fingerprint256) : reject(new Error('no certificate'));
    });
    socket.once('error', reject);
  });
}

const REALM1_BEFORE: Permission[] = [
  { uri: 'com.example.', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } },
  { uri: 'com.locked.proc', allow: { register: true, call: false } },
];
const REALM1_AFTER: Permission[] = [
  REALM1_BEFORE[0],
  { uri: 'com.example.later', allow: { register: true, call: false } },
  { uri: 'com.locked.proc', allow: { register: true, call: true } },
  { uri: 'wamp.session.count', allow: { call: true } },
];

describe('kreuz reload', () => {
  it('applies what changes live with traffic going on, refuses a port change, and refuses a config with errors whole', async () => {
    const dir = tempDir();
    const cbdir = joinPath(dir, '.kreuz');
    mkdirSync(cbdir);
    const [a, b] = await Promise.all([makeTestCert(), makeTestCert()]);
    copyFileSync(a.certPath, joinPath(cbdir, 'cert.pem'));
    copyFileSync(a.keyPath, joinPath(cbdir, 'key.pem'));
    const file = joinPath(cbdir, 'config.json');
    const write = (c: unknown) => writeFileSync(file, JSON.stringify(c, null, 2));
    write(config({ realms: { realm1: REALM1_BEFORE, old: ALL } }));
    const node = await start(['--cbdir', cbdir], dir, NO_NPM);
    const clients: Client[] = [];
    try {
      const url = node.line.match(/ws:\/\/127\.0\.0\.1:\d+\/ws/)?.[0];
      const tlsPort = Number(node.line.match(/wss:\/\/127\.0\.0\.1:(\d+)\/secure/)?.[1]);
      assert.ok(url && tlsPort, node.line);
      assert.equal(await servedCertificate(tlsPort), new X509Certificate(a.cert).fingerprint256);

      const callee = await join(url, { realm: 'realm1' });
      await callee.session.register('com.example.echo', (args: unknown[]) => args);
      await callee.session.register('com.example.later', () => 'later');
      await callee.session.register('com.locked.proc', () => 'unlocked');
      const callers = await Promise.all([1, 2, 3].map(() => join(url, { realm: 'realm1' })));
      const alice = await join(url, { realm: 'realm1', authid: 'alice', ticket: TICKET });
      const leaving = await join(url, { realm: 'old' });
      clients.push(callee, ...callers, alice, leaving);
      const stay = [callee, ...callers, alice];
      assert.equal(await callers[0].session.call('com.example.later'), 'later');
      assert.equal(await errorOf(callers[0].session.call('com.locked.proc')), 'wamp.error.not_authorized');
      await assert.rejects(join(url, { realm: 'realm1', authid: 'bob', ticket: 'bob-ticket-456' }));

      const traffic = new Traffic([...callers, alice], 'com.example.echo', 'com.example.tick').start();
      await eventually(() => traffic.ok >= 20, 'traffic before the reload');

      // The edit: new roles, a new principal, "old" gone and "fresh" new, another port, a renewed certificate, debug logging.
      const otherPort = await unusedPort();
      write(
        config({
          port: otherPort,
          realms: { realm1: REALM1_AFTER, fresh: ALL },
          principals: { alice: TICKET, bob: 'bob-ticket-456' },
          logLevel: 'debug',
        }),
      );
      copyFileSync(b.certPath, joinPath(cbdir, 'cert.pem'));
      copyFileSync(b.keyPath, joinPath(cbdir, 'key.pem'));
      const reloaded = await run(['reload', '--cbdir', cbdir], dir);
      assert.equal(reloaded.status, 2, `some parts refused: ${reloaded.stdout}${reloaded.stderr}`);
      const out = reloaded.stdout;
      assert.match(out, /^applied: kreuz\.log\.level: info -> debug$/m);
      assert.match(out, /^applied: workers\[0\]\.realms\[0\]\.roles: realm "realm1" has new roles$/m);
      assert.match(out, /^applied: workers\[0\]\.realms\[1\]: realm "fresh" added$/m);
      assert.match(out, /^applied: workers\[0\]\.realms\[1\]: realm "old" removed \(1 session closed\)$/m);
      assert.match(out, /^applied: workers\[0\]\.transports\[0\]\.paths\.ws\.auth: authentication replaced/m);
      assert.match(out, /^applied: workers\[0\]\.transports\[1\]\.endpoint\.tls: certificate and key replaced/m);
      assert.match(out, /^refused: workers\[0\]\.transports\[0\]\.endpoint\.port: the listening address changes only with a restart/m);
      assert.match(out, /^kreuz reloaded \(pid \d+\): 6 applied, 1 refused \(a restart applies those\)$/m);
      assert.doesNotMatch(out + node.output(), /bob-ticket-456|BEGIN/, 'no secret in the output or the log');

      assert.equal((await leaving.ended).reason, 'wamp.close.close_realm');
      await eventually(() => traffic.ok >= 40, 'traffic after the reload');
      await traffic.stop();
      assert.deepEqual(traffic.failures, []);
      for (const client of stay) assert.ok(client.isOpen(), 'still joined');
      assert.equal(await callee.session.call('wamp.session.count'), stay.length, 'every session on realm1 is still there');

      assert.equal(
        await errorOf(callers[1].session.call('com.example.later')),
        'wamp.error.not_authorized',
        'allowed before, denied after',
      );
      assert.equal(await callers[1].session.call('com.locked.proc'), 'unlocked', 'denied before, allowed after');
      const bob = await join(url, { realm: 'realm1', authid: 'bob', ticket: 'bob-ticket-456' });
      const fresh = await join(url, { realm: 'fresh' });
      clients.push(bob, fresh);
      await assert.rejects(join(url, { realm: 'old' }), /no_such_realm/);
      assert.equal(
        await servedCertificate(tlsPort),
        new X509Certificate(b.cert).fingerprint256,
        'a new connection sees the new certificate',
      );
      await eventually(() => /DEBUG/.test(node.output()), 'debug lines once the level is debug');

      // A config with errors: nothing applied (the realm it leaves out stays, the principal it drops still logs in).
      const broken = config({ realms: { realm1: REALM1_AFTER }, principals: { alice: TICKET } }) as any;
      broken.workers[0].transports[0].endpoint.port = 'eighty';
      write(broken);
      const refused = await run(['reload', '--cbdir', cbdir], dir);
      assert.equal(refused.status, 1, refused.stdout);
      assert.match(refused.stdout, /^refused: workers\[0\]\.transports\[0\]\.endpoint\.port: /m);
      assert.match(refused.stdout, /did not reload: the config has 1 error: nothing was applied$/m);
      const again = await join(url, { realm: 'fresh' });
      const bobAgain = await join(url, { realm: 'realm1', authid: 'bob', ticket: 'bob-ticket-456' });
      clients.push(again, bobAgain);
      for (const client of [...stay, bob, fresh]) assert.ok(client.isOpen());

      // SIGHUP itself does the same: the realm goes now that the config is valid again.
      write(config({ realms: { realm1: REALM1_AFTER }, principals: { alice: TICKET, bob: 'bob-ticket-456' }, logLevel: 'debug' }, tlsPort));
      const before = readFileSync(joinPath(cbdir, 'node.reload.json'), 'utf8');
      node.child.kill('SIGHUP');
      assert.equal((await fresh.ended).reason, 'wamp.close.close_realm');
      await eventually(() => readFileSync(joinPath(cbdir, 'node.reload.json'), 'utf8') !== before, 'the result file is rewritten');
      const record = JSON.parse(readFileSync(joinPath(cbdir, 'node.reload.json'), 'utf8'));
      assert.deepEqual(record.applied, ['workers[0].realms[1]: realm "fresh" removed (2 sessions closed)']);
      assert.ok(callee.isOpen() && bob.isOpen());
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      node.child.kill('SIGTERM');
      assert.equal(await node.exited, 0);
      a.remove();
      b.remove();
    }
  });

  it('says when no node runs from the directory (exit status 3), and when the node has no config to re-read (1)', async () => {
    const dir = tempDir();
    const idle = await run(['reload', '--cbdir', joinPath(dir, 'nothing')], dir);
    assert.equal(idle.status, 3);
    assert.match(idle.stdout, /kreuz is not running from/);

    const cbdir = joinPath(dir, 'flags');
    const node = await start(['--cbdir', cbdir, '--port', '0'], dir, NO_NPM);
    try {
      const r = await run(['reload', '--cbdir', cbdir], dir);
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stdout, /did not reload: the node was not started from a config file/);
    } finally {
      node.child.kill('SIGTERM');
      assert.equal(await node.exited, 0);
    }
  });
});
