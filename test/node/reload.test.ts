/**
 * `RunningNode.reload`: a real node on 127.0.0.1, reloaded with a changed
 * config while Autobahn|JS clients call and publish. What changes live does
 * (permissions both ways, a new ticket principal, a realm added and one
 * removed with GOODBYE, limits, a dynamic authorizer's cache emptied, a TLS
 * certificate for new connections); what cannot (a port) is refused with its
 * path and the old one still serves; no other session drops.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { createRouter, type RunningNode } from '../../src/index.ts';
import { validateConfig } from '../../src/config/load.ts';
import { toNodeOptions } from '../../src/config/to-node-options.ts';
import { RawClient } from '../helpers/raw-client.ts';
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
} from './reload-support.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(joinPath(tmpdir(), 'kreuz-reload-'));
  dirs.push(dir);
  return dir;
}

const reloadWith = (node: RunningNode, config: Record<string, unknown>, baseDir = process.cwd()) =>
  node.reload(toNodeOptions(validateConfig(config, { baseDir })));

/** realm1 in the first config: com.example.* for everyone, com.locked.proc registered but not callable. */
const REALM1_BEFORE: Permission[] = [
  ...ALL.map((p) => ({ ...p, uri: 'com.example.' })),
  { uri: 'com.locked.proc', allow: { register: true, call: false } },
];
/** ... and after: com.example.later no longer callable, com.locked.proc callable. */
const REALM1_AFTER: Permission[] = [
  ...REALM1_BEFORE.slice(0, 1),
  { uri: 'com.example.later', allow: { register: true, call: false } },
  { uri: 'com.locked.proc', allow: { register: true, call: true } },
];
/** realm2 first lets its users subscribe to com.two.news; afterwards only com.two.other. */
const REALM2_BEFORE: Permission[] = [
  { uri: 'com.two.', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } },
];
const REALM2_AFTER: Permission[] = [
  { uri: 'com.two.', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: false } },
  { uri: 'com.two.other', allow: { subscribe: true, publish: true } },
];

/** The fingerprint of the certificate a TLS listener on `port` serves now. */
function servedBy(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.destroy();
      cert ? resolve(cert.fingerprint256) : reject(new Error('no certificate'));
    });
    socket.once('error', reject);
  });
}

describe('reload of a running node', () => {
  it('applies roles, principals, realms and limits with traffic going on; refuses a port change; no other session drops', async () => {
    const before: ConfigShape = { realms: { realm1: REALM1_BEFORE, realm2: REALM2_BEFORE, old: ALL } };
    const node = await createRouter(nodeConfig(before));
    const clients: Client[] = [];
    try {
      const url = node.url;
      const callee = await join(url, { realm: 'realm1' });
      await callee.session.register('com.example.echo', (args: unknown[]) => args);
      await callee.session.register('com.example.later', () => 'later');
      await callee.session.register('com.locked.proc', () => 'unlocked');
      const callers = await Promise.all([1, 2, 3].map(() => join(url, { realm: 'realm1' })));
      const alice = await join(url, { realm: 'realm1', authid: 'alice', ticket: TICKET });
      const news: unknown[] = [];
      const other: unknown[] = [];
      const reader = await join(url, { realm: 'realm2' });
      await reader.session.subscribe('com.two.news', (args: unknown[]) => news.push(args[0]));
      await reader.session.subscribe('com.two.other', (args: unknown[]) => other.push(args[0]));
      const writer = await join(url, { realm: 'realm2' });
      const leaving = await join(url, { realm: 'old' });
      clients.push(callee, ...callers, alice, reader, writer, leaving);
      const stay = [callee, ...callers, alice, reader, writer];

      assert.equal(await callers[0].session.call('com.example.later'), 'later', 'allowed before');
      assert.equal(await errorOf(callers[0].session.call('com.locked.proc')), 'wamp.error.not_authorized', 'denied before');
      await assert.rejects(
        join(url, { realm: 'realm1', authid: 'bob', ticket: 'bob-ticket-456' }),
        /authentication|not_authorized|no_such/,
      );
      const port = node.port;

      const traffic = new Traffic([...callers, alice], 'com.example.echo', 'com.example.tick').start();
      await eventually(() => traffic.ok >= 20, 'traffic flows before the reload');
      const sessionsBefore = node.info().sessions;

      const result = await reloadWith(
        node,
        nodeConfig({
          port: port === 65535 ? 65534 : port + 1,
          realms: { realm1: REALM1_AFTER, realm2: REALM2_AFTER, fresh: ALL },
          principals: { alice: TICKET, bob: 'bob-ticket-456' },
          limits: { sessions: 50 },
        }),
      );
      const done = result.applied.join('\n');
      assert.match(done, /^realms\[0\]\.roles: realm "realm1" has new roles/m);
      assert.match(done, /^realms\[1\]\.roles: realm "realm2" has new roles; 1 registration or subscription they refuse revoked/m);
      assert.match(done, /^realms\[2\]: realm "fresh" added/m);
      assert.match(done, /^realms\[2\]: realm "old" removed \(1 session closed\)/m);
      assert.match(done, /^transports\[0\]\.paths\.\/ws\.auth: authentication replaced/m);
      assert.match(done, /^limits\.sessions: 100000 -> 50/m);
      assert.deepEqual(
        result.refused.map((r) => r.path),
        ['transports[0].endpoint.port'],
      );
      assert.match(result.refused[0].reason, /restart/);

      // The removed realm's session got GOODBYE close_realm; everyone else is still there.
      assert.equal((await leaving.ended).reason, 'wamp.close.close_realm');
      await eventually(() => traffic.ok >= 40, 'traffic flows after the reload');
      await traffic.stop();
      assert.deepEqual(traffic.failures, [], 'no call or publish failed');
      for (const client of stay) assert.ok(client.isOpen(), 'every other session is still joined');
      assert.equal(node.info().sessions, sessionsBefore - 1);

      // New permissions apply to the next action, both ways.
      assert.equal(await errorOf(callers[1].session.call('com.example.later')), 'wamp.error.not_authorized');
      assert.equal(await callers[1].session.call('com.locked.proc'), 'unlocked');
      // The subscription the new roles refuse was revoked; the one they allow still delivers.
      await writer.session.publish('com.two.news', ['after'], {}, { acknowledge: true });
      await writer.session.publish('com.two.other', ['after'], {}, { acknowledge: true });
      await eventually(() => other.length === 1, 'the allowed subscription delivers');
      assert.deepEqual(news, []);
      assert.equal(await errorOf(reader.session.subscribe('com.two.news', () => {})), 'wamp.error.not_authorized');

      // A new principal logs in, the new realm is joinable, the removed one is not; the old port still serves.
      const bob = await join(url, { realm: 'realm1', authid: 'bob', ticket: 'bob-ticket-456' });
      clients.push(bob);
      assert.equal(bob.details.authid, 'bob');
      const fresh = await join(url, { realm: 'fresh' });
      clients.push(fresh);
      assert.equal(await fresh.session.call('wamp.session.count'), 1, 'the meta API is on the new realm');
      await assert.rejects(join(url, { realm: 'old' }), /wamp\.error\.no_such_realm/);
      assert.equal(node.port, port);
      assert.ok(url.includes(`:${port}/`));
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await node.close();
    }
  });

  it('applies new limits to the next session; those joined stay', async () => {
    const node = await createRouter(nodeConfig({ realms: { realm1: ALL } }));
    try {
      const first = await join(node.url, { realm: 'realm1' });
      const second = await join(node.url, { realm: 'realm1' });
      const result = await reloadWith(node, nodeConfig({ realms: { realm1: ALL }, limits: { sessions: 2 } }));
      assert.deepEqual(result.applied, ['limits.sessions: 100000 -> 2']);
      await assert.rejects(join(node.url, { realm: 'realm1' }), /kreuz\.error\.limit_reached/);
      assert.ok(first.isOpen() && second.isOpen());
      assert.equal(await first.session.call('wamp.session.count'), 2);
      // And back: the default again once the config leaves it out.
      const back = await reloadWith(node, nodeConfig({ realms: { realm1: ALL } }));
      assert.deepEqual(back.applied, ['limits.sessions: 2 -> 100000']);
      const third = await join(node.url, { realm: 'realm1' });
      await Promise.all([first.close(), second.close(), third.close()]);
    } finally {
      await node.close();
    }
  });

  it("empties a dynamic authorizer's cache: cached answers do not outlive a reload", async () => {
    const config = nodeConfig({ realms: { realm1: ALL } });
    const realms = (config.workers as any[])[0].realms;
    realms.push({ name: 'dyn', roles: [{ name: 'user', authorizer: 'com.auth.authorize' }] });
    const node = await createRouter(config);
    try {
      let allow = true;
      let asked = 0;
      const authorizer = await node.session('dyn');
      await authorizer.register('com.auth.authorize', () => {
        asked++;
        return { allow, cache: true };
      });
      await authorizer.register('com.dyn.proc', () => 'ok');
      const user = await join(node.url, { realm: 'dyn' });
      assert.equal(await user.session.call('com.dyn.proc'), 'ok');
      allow = false;
      assert.equal(await user.session.call('com.dyn.proc'), 'ok', 'the cached yes');
      assert.equal(asked, 1);
      const result = await reloadWith(node, config);
      assert.deepEqual(result, { applied: [], refused: [] }, 'nothing changed in the config');
      assert.equal(await errorOf(user.session.call('com.dyn.proc')), 'wamp.error.not_authorized');
      assert.equal(asked, 2);
      assert.ok(user.isOpen());
      await user.close();
    } finally {
      await node.close();
    }
  });

  it('swaps the TLS certificate: a new connection sees the new one, an open wss session goes on', async () => {
    const [a, b] = await Promise.all([makeTestCert(), makeTestCert()]);
    const dir = tempDir();
    copyFileSync(a.certPath, joinPath(dir, 'cert.pem'));
    copyFileSync(a.keyPath, joinPath(dir, 'key.pem'));
    const config = nodeConfig({ realms: { realm1: ALL }, tls: { key: 'key.pem', certificate: 'cert.pem' } });
    const node = await createRouter(config, { baseDir: dir });
    try {
      assert.match(node.url, /^wss:/);
      const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
      const served = () => servedBy(node.port);
      assert.equal(await served(), fingerprint(a.cert));
      const open = await RawClient.open(node.url, 'json', { ca: a.cert });
      open.send([1, 'realm1', { roles: { caller: {} } }]);
      assert.equal((await open.next())[0], 2, 'WELCOME over wss');

      // Renewed files at the same paths, the config itself unchanged.
      copyFileSync(b.certPath, joinPath(dir, 'cert.pem'));
      copyFileSync(b.keyPath, joinPath(dir, 'key.pem'));
      const result = await reloadWith(node, config, dir);
      assert.deepEqual(result.refused, []);
      assert.deepEqual(result.applied, ['transports[0].tls: certificate and key replaced for new connections (open ones keep theirs)']);
      assert.equal(await served(), fingerprint(b.cert));
      open.send([48, 1, {}, 'wamp.session.count', []]);
      assert.deepEqual(await open.next(), [50, 1, {}, [1]], 'the session opened before the swap still answers');
      const renewed = await RawClient.open(node.url, 'json', { ca: b.cert });
      renewed.send([1, 'realm1', { roles: { caller: {} } }]);
      assert.equal((await renewed.next())[0], 2, 'a client trusting only the new certificate joins');
      // The same files again: nothing to do.
      assert.deepEqual(await reloadWith(node, config, dir), { applied: [], refused: [] });
      open.close();
      renewed.close();
    } finally {
      await node.close();
      a.remove();
      b.remove();
    }
  });

  it('swaps the TLS certificate of RawSocket and universal listeners too', async () => {
    const [a, b] = await Promise.all([makeTestCert(), makeTestCert()]);
    const dir = tempDir();
    copyFileSync(a.certPath, joinPath(dir, 'cert.pem'));
    copyFileSync(a.keyPath, joinPath(dir, 'key.pem'));
    const tls = { key: 'key.pem', certificate: 'cert.pem' };
    const anonymous = { anonymous: { type: 'static', role: 'user' } };
    const config = nodeConfig({ realms: { realm1: ALL } }) as any;
    config.workers[0].transports = [
      { type: 'rawsocket', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1', tls }, auth: anonymous },
      { type: 'universal', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1', tls }, rawsocket: { auth: anonymous } },
    ];
    const node = await createRouter(config, { baseDir: dir });
    try {
      const ports = node.listeners.map((l) => l.port);
      for (const port of ports) assert.equal(await servedBy(port), new X509Certificate(a.cert).fingerprint256);
      copyFileSync(b.certPath, joinPath(dir, 'cert.pem'));
      copyFileSync(b.keyPath, joinPath(dir, 'key.pem'));
      const result = await reloadWith(node, config, dir);
      assert.deepEqual(result.refused, []);
      assert.deepEqual(
        result.applied.map((line) => line.split(':')[0]),
        ['transports[0].tls', 'transports[1].tls'],
      );
      for (const port of ports) assert.equal(await servedBy(port), new X509Certificate(b.cert).fingerprint256);
    } finally {
      await node.close();
      a.remove();
      b.remove();
    }
  });

  it('refuses what needs a restart and changes none of it', async () => {
    const config = nodeConfig({ realms: { realm1: ALL } });
    const node = await createRouter(config);
    try {
      const client = await join(node.url, { realm: 'realm1' });
      const changed = structuredClone(config) as any;
      changed.workers[0].transports[0].paths.ws.serializers = ['json'];
      changed.workers[0].transports.push({
        type: 'rawsocket',
        endpoint: { type: 'tcp', port: 0 },
        auth: { anonymous: { type: 'static', role: 'user' } },
      });
      changed.workers[0].realms[0].store = { type: 'memory', 'event-history': [{ uri: 'com.x' }] };
      changed.kreuz.metrics = { enabled: true };
      const result = await reloadWith(node, changed);
      assert.deepEqual(result.applied, []);
      assert.deepEqual(result.refused.map((r) => r.path).sort(), [
        'metrics',
        'realms[0].eventHistory',
        'transports[0].paths./ws.serializers',
        'transports[1]',
      ]);
      for (const r of result.refused) assert.match(r.reason, /only with a restart/);
      assert.equal(node.listeners.length, 1);
      assert.ok(client.isOpen());
      assert.equal(await client.session.call('wamp.session.count'), 1);
      await client.close();
    } finally {
      await node.close();
    }
  });
});
