/**
 * The management procedures kreuz.node.reload, kreuz.realm.create and
 * kreuz.realm.delete, called by Autobahn|JS clients of a real node: the
 * trusted role may, any other is answered wamp.error.not_authorized (even
 * when its permissions let it call the URI); bad arguments are
 * wamp.error.invalid_argument. kreuz.node.reload re-reads the config file
 * (as SIGHUP does): a config with errors changes nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { createLogger, createRouter, loadConfigFile, type RunningNode } from '../../src/index.ts';
import { configReloadSource } from '../../src/cli/reload.ts';
import { ALL, errorOf, join, nodeConfig, type Client } from './reload-support.ts';

const ADMIN = { authid: 'admin', ticket: 'admin-ticket-789' };
const principals = { alice: 'alice-ticket-123', admin: ADMIN.ticket };

describe('management procedures', () => {
  let node: RunningNode;
  let dir: string;
  let file: string;
  const clients: Client[] = [];
  const open = async (realm: string, who?: { authid: string; ticket: string }) => {
    const client = await join(node.url, { realm, ...who });
    clients.push(client);
    return client;
  };
  const write = (config: unknown) => writeFileSync(file, JSON.stringify(config, null, 2));

  before(async () => {
    dir = mkdtempSync(joinPath(tmpdir(), 'kreuz-manage-'));
    file = joinPath(dir, 'config.json');
    const limited = [{ uri: 'com.example.', match: 'prefix', allow: { call: true } }];
    write(nodeConfig({ realms: { realm1: ALL, limited, doomed: ALL }, principals }));
    node = await createRouter(JSON.parse(JSON.stringify(loadConfigFile(file).config)), { baseDir: dir });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses every role but trusted, even one whose permissions allow the call', async () => {
    const user = await open('realm1'); // role "user": may call anything on realm1
    const limited = await open('limited'); // role "user" there: only com.example.*
    for (const client of [user, limited]) {
      assert.equal(await errorOf(client.session.call('kreuz.realm.create', [], { name: 'sneaky' })), 'wamp.error.not_authorized');
      assert.equal(await errorOf(client.session.call('kreuz.realm.delete', [], { name: 'realm1' })), 'wamp.error.not_authorized');
      assert.equal(await errorOf(client.session.call('kreuz.node.reload')), 'wamp.error.not_authorized');
    }
    assert.ok(!node.router.realms.has('sneaky'));
    assert.ok(node.router.realms.has('realm1'));
  });

  it('lets trusted create a realm with roles, which clients then join under those roles', async () => {
    const admin = await open('realm1', ADMIN);
    assert.equal(admin.details.authrole, 'trusted');
    const roles = [
      {
        name: 'user',
        permissions: [
          { uri: 'com.made.', match: 'prefix', allow: { call: true, register: true } },
          { uri: 'wamp.session.count', allow: { call: true } },
        ],
      },
    ];
    assert.deepEqual(await admin.session.call('kreuz.realm.create', [], { name: 'made', roles }), { name: 'made' });
    const user = await open('made');
    await user.session.register('com.made.proc', () => 42);
    assert.equal(await user.session.call('com.made.proc'), 42);
    assert.equal(await errorOf(user.session.publish('com.made.topic', [], {}, { acknowledge: true })), 'wamp.error.not_authorized');
    assert.equal(await user.session.call('wamp.session.count'), 1, 'the meta API is on the new realm');

    assert.equal(await errorOf(admin.session.call('kreuz.realm.create', [], { name: 'made' })), 'kreuz.error.realm_exists');
    for (const bad of [
      { name: 'not a uri!' },
      { name: 42 },
      {},
      { name: 'ok.name', roles: 'everything' },
      { name: 'ok.name', roles: [{ name: 'user', permissions: [{ uri: 'x', allow: { dance: true } }] }] },
      { name: 'ok.name', roles: [{ name: 'user' }, { name: 'user' }] },
      { name: 'ok.name', roles: [{ name: 'user', authorizer: '${HOME}' }] },
      { name: 'ok.name', extra: true },
    ]) {
      assert.equal(await errorOf(admin.session.call('kreuz.realm.create', [], bad)), 'wamp.error.invalid_argument', JSON.stringify(bad));
    }
    assert.equal(await errorOf(admin.session.call('kreuz.realm.create', ['ok.name'])), 'wamp.error.invalid_argument');
    assert.ok(!node.router.realms.has('ok.name'));
  });

  it('lets trusted delete a realm: its sessions get GOODBYE close_realm, the others stay', async () => {
    const admin = await open('realm1', ADMIN);
    await admin.session.call('kreuz.realm.create', [], { name: 'brief' });
    const [a, b] = [await open('brief'), await open('brief')];
    const bystander = await open('realm1');
    const onRealm1 = await bystander.session.call('wamp.session.count');
    assert.deepEqual(await admin.session.call('kreuz.realm.delete', [], { name: 'brief' }), { name: 'brief', sessions_closed: 2 });
    for (const client of [a, b]) assert.equal((await client.ended).reason, 'wamp.close.close_realm');
    assert.ok(bystander.isOpen() && admin.isOpen());
    assert.equal(await bystander.session.call('wamp.session.count'), onRealm1);
    await assert.rejects(open('brief'), /no_such_realm/);
    assert.equal(await errorOf(admin.session.call('kreuz.realm.delete', [], { name: 'brief' })), 'wamp.error.no_such_realm');
  });

  it('answers the caller before closing its own realm', async () => {
    const admin = await open('doomed', ADMIN);
    const other = await open('doomed');
    assert.deepEqual(await admin.session.call('kreuz.realm.delete', [], { name: 'doomed' }), { name: 'doomed', sessions_closed: 2 });
    assert.equal((await admin.ended).reason, 'wamp.close.close_realm');
    assert.equal((await other.ended).reason, 'wamp.close.close_realm');
  });

  it('reloads the config file: applies a valid change, refuses a config with errors whole', async () => {
    const admin = await open('realm1', ADMIN);
    const none = await admin.session.call('kreuz.node.reload');
    assert.deepEqual(none.applied, []);
    assert.match(none.refused[0].reason, /not started from a config file/);

    const logger = createLogger({ level: 'silent' });
    node.reloadSource = configReloadSource({ file, node, logger, started: loadConfigFile(file).config });
    write(nodeConfig({ realms: { realm1: ALL, limited: [], added: ALL }, principals, limits: { subscriptions: 10 } }));
    const result = await admin.session.call('kreuz.node.reload');
    assert.deepEqual(result.refused, []);
    assert.deepEqual(result.applied.sort(), [
      'kreuz.limits.subscriptions: 1000 -> 10',
      'workers[0].realms[1].roles: realm "limited" has new roles',
      'workers[0].realms[2]: realm "added" added',
    ]);
    const joined = await open('added');
    assert.equal(await joined.session.call('wamp.session.count'), 1);

    // Two errors: nothing of the rest (the realm removed, the limit) is applied.
    const broken = nodeConfig({ realms: { realm1: ALL }, principals, limits: { subscriptions: 5 } }) as any;
    broken.workers[0].transports[0].endpoint.port = 'eighty';
    broken.workers[0].realms[0].roles[0].permissions[0].allow.dance = true;
    write(broken);
    const refused = await admin.session.call('kreuz.node.reload');
    assert.deepEqual(refused.applied, []);
    assert.match(refused.refused[0].reason, /the config has 2 errors: nothing was applied/);
    assert.deepEqual(
      refused.refused
        .slice(1)
        .map((r: { path: string }) => r.path)
        .sort(),
      ['workers[0].realms[0].roles[0].permissions[0].allow.dance', 'workers[0].transports[0].endpoint.port'],
    );
    assert.ok(node.router.realms.has('added') && joined.isOpen(), 'the realm and its session are still there');
    assert.equal(node.router.currentLimits.subscriptions, 10);
  });
});
