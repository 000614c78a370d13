/** The meta API over the in-memory peer: procedures and events, with exact payloads. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { flush, metaCalls, metaRouter, watch } from '../helpers/meta-calls.ts';

const { result, errorOf } = metaCalls();
describe('meta API', () => {
  it('announces the meta API features in WELCOME', () => {
    const client = new MemoryClient(metaRouter());
    client.send([1, 'realm1', { roles: { caller: {} } }]);
    const roles = (client.take()[0][2] as any).roles;
    assert.equal(roles.dealer.features.session_meta_api, true);
    assert.equal(roles.dealer.features.registration_meta_api, true);
    assert.equal(roles.broker.features.session_meta_api, true);
  });

  it("wamp.session.count / list / get, with authrole filters, hiding the router's own session", async () => {
    const router = metaRouter();
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    assert.equal(await result(a, 'wamp.session.count'), 2);
    assert.deepEqual(((await result(a, 'wamp.session.list')) as number[]).sort(), [a.session.id, b.session.id].sort());
    assert.equal(await result(a, 'wamp.session.count', [['anonymous']]), 2);
    assert.deepEqual(await result(a, 'wamp.session.list', [['nobody']]), []);
    const details = (await result(a, 'wamp.session.get', [b.session.id])) as Record<string, unknown>;
    assert.deepEqual(
      { ...details, transport: undefined },
      {
        session: b.session.id,
        realm: 'realm1',
        authid: b.session.authid,
        authrole: 'anonymous',
        authmethod: 'anonymous',
        authprovider: 'static',
        transport: undefined,
      },
    );
    assert.equal(await errorOf(a, 'wamp.session.get', [12345]), 'wamp.error.no_such_session');
    assert.equal(await errorOf(a, 'wamp.session.get', ['x']), 'wamp.error.invalid_argument');
  });

  it('session details carry the authextra the authenticator gave (wamp.session.get and on_join), as Crossbar', async () => {
    const router = metaRouter();
    const watcher = MemoryClient.join(router);
    const events = watch(watcher, ['wamp.session.on_join']);
    const extra = { tenant: 'acme', scopes: ['read'] };
    const auth = new Map([
      [
        'ticket',
        {
          method: 'ticket',
          start: () => ({
            kind: 'welcome' as const,
            principal: { authid: 'joe', authrole: 'anonymous', authprovider: 'static', authextra: extra },
          }),
        },
      ],
    ]);
    const joe = MemoryClient.join(router, 'realm1', undefined, auth, { authmethods: ['ticket'] });
    const joined = events().map(([, args]) => (args as Array<Record<string, unknown>>)[0]!);
    assert.deepEqual(joined.find((d) => d.session === joe.session.id)?.authextra, extra);
    const details = (await result(watcher, 'wamp.session.get', [joe.session.id])) as Record<string, unknown>;
    assert.deepEqual(details.authextra, extra);
    // No authextra: no key (as before).
    const plain = MemoryClient.join(router);
    assert.equal(Object.hasOwn((await result(watcher, 'wamp.session.get', [plain.session.id])) as object, 'authextra'), false);
  });

  it('wamp.session.on_join and on_leave (with authid and authrole)', async () => {
    const router = metaRouter();
    const watcher = MemoryClient.join(router);
    const events = watch(watcher, ['wamp.session.on_join', 'wamp.session.on_leave']);
    const b = MemoryClient.join(router);
    const { id, authid } = b.session;
    b.disconnect();
    const seen = events();
    assert.equal(seen.length, 2);
    assert.equal(seen[0][0], 'wamp.session.on_join');
    assert.equal((seen[0][1] as any[])[0].session, id);
    assert.equal((seen[0][1] as any[])[0].authid, authid);
    assert.deepEqual(seen[1], ['wamp.session.on_leave', [id, authid, 'anonymous']]);
  });

  it('wamp.session.kill sends GOODBYE (default wamp.close.killed) and refuses to kill the caller', async () => {
    const router = metaRouter();
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    b.register('com.example.b');
    assert.equal(await errorOf(a, 'wamp.session.kill', [a.session.id]), 'wamp.error.no_such_session');
    assert.equal(await result(a, 'wamp.session.kill', [b.session.id], { message: 'bye' }), undefined);
    assert.deepEqual(b.take(), [[6, { message: 'bye' }, 'wamp.close.killed']]);
    assert.equal(await result(a, 'wamp.registration.lookup', ['com.example.b']), null, 'its registration is gone');
    b.send([6, {}, 'wamp.close.goodbye_and_out']);
    assert.equal(b.session.state, 'opening');
    assert.equal(await errorOf(a, 'wamp.session.kill', [b.session.id || 1]), 'wamp.error.no_such_session');
    const c = MemoryClient.join(router);
    assert.equal(await errorOf(a, 'wamp.session.kill', [c.session.id], { reason: 'not a uri' }), 'wamp.error.invalid_uri');
    await result(a, 'wamp.session.kill', [c.session.id], { reason: 'com.example.go_away' });
    assert.deepEqual(c.take(), [[6, {}, 'com.example.go_away']]);
  });

  it('kill_by_authid returns the killed IDs, kill_by_authrole and kill_all the count, never the caller', async () => {
    const router = metaRouter();
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    const c = MemoryClient.join(router);
    const bId = b.session.id;
    assert.deepEqual(await result(a, 'wamp.session.kill_by_authid', [b.session.authid]), [bId]);
    assert.equal(await result(a, 'wamp.session.kill_by_authrole', ['anonymous']), 1);
    assert.equal(c.take()[0][0], 6);
    const d = MemoryClient.join(router);
    const e = MemoryClient.join(router);
    a.subscribe('wamp.session.on_leave');
    a.send([48, a.request(), {}, 'wamp.session.kill_all']);
    await flush();
    const sent = a.take();
    assert.deepEqual(
      sent.map((m) => m[0]),
      [50],
      'a RESULT and no on_leave EVENT (WAMP: kill_all publishes none)',
    );
    assert.deepEqual(sent[0][3], [2]);
    for (const x of [d, e]) assert.deepEqual(x.take(), [[6, {}, 'wamp.close.killed']]);
    assert.equal(await result(a, 'wamp.session.count'), 1);
  });

  it('registration list / lookup / match / get / list_callees / count_callees', async () => {
    const router = metaRouter();
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    const exact = a.register('com.example.proc', { invoke: 'roundrobin' });
    b.register('com.example.proc', { invoke: 'roundrobin' });
    const prefix = a.register('com.example', { match: 'prefix' });
    const wild = a.register('com..proc', { match: 'wildcard' });
    assert.deepEqual(await result(a, 'wamp.registration.list'), { exact: [exact], prefix: [prefix], wildcard: [wild] });
    assert.deepEqual(await result(a, 'wamp.registration.list', [b.session.id]), { exact: [exact], prefix: [], wildcard: [] });
    assert.equal(await result(a, 'wamp.registration.lookup', ['com.example.proc']), exact);
    assert.equal(await result(a, 'wamp.registration.lookup', ['com.example', { match: 'prefix' }]), prefix);
    assert.equal(await result(a, 'wamp.registration.lookup', ['com..proc', { match: 'wildcard' }]), wild);
    assert.equal(await result(a, 'wamp.registration.lookup', ['com.example', { match: 'exact' }]), null);
    assert.equal(await result(a, 'wamp.registration.match', ['com.example.proc']), exact);
    assert.equal(await result(a, 'wamp.registration.match', ['com.example.other']), prefix);
    assert.equal(await result(a, 'wamp.registration.match', ['com.x.proc']), wild);
    assert.equal(await result(a, 'wamp.registration.match', ['org.x.y']), null);
    const details = (await result(a, 'wamp.registration.get', [exact])) as Record<string, unknown>;
    assert.deepEqual(
      { ...details, created: undefined },
      { id: exact, uri: 'com.example.proc', match: 'exact', invoke: 'roundrobin', created: undefined },
    );
    assert.match(details.created as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(await result(a, 'wamp.registration.list_callees', [exact]), [a.session.id, b.session.id]);
    assert.equal(await result(a, 'wamp.registration.count_callees', [exact]), 2);
    assert.equal(await errorOf(a, 'wamp.registration.get', [999]), 'wamp.error.no_such_registration');
    assert.equal(await errorOf(a, 'wamp.registration.count_callees', [999]), 'wamp.error.no_such_registration');
    // The router's own procedures are not listed.
    assert.equal(await result(a, 'wamp.registration.lookup', ['wamp.session.count']), null);
  });

  it('remove_callee revokes (UNREGISTERED only to callees announcing registration_revocation)', async () => {
    const router = metaRouter();
    const admin = MemoryClient.join(router);
    const revocable = MemoryClient.join(router, 'realm1', { callee: { features: { registration_revocation: true } } });
    const plain = MemoryClient.join(router, 'realm1', { callee: {} });
    const reg = revocable.register('com.example.shared', { invoke: 'first' });
    plain.register('com.example.shared', { invoke: 'first' });
    await result(admin, 'wamp.registration.remove_callee', [reg, revocable.session.id], { reason: 'com.example.maintenance' });
    assert.deepEqual(revocable.take(), [[67, 0, { registration: reg, reason: 'com.example.maintenance' }]]);
    await result(admin, 'wamp.registration.remove_callee', [reg, plain.session.id]);
    assert.deepEqual(plain.take(), []);
    assert.equal(await result(admin, 'wamp.registration.lookup', ['com.example.shared']), null);
    const again = revocable.register('com.example.x');
    assert.equal(await errorOf(admin, 'wamp.registration.remove_callee', [again, plain.session.id]), 'wamp.error.no_such_registration');
    assert.equal(await errorOf(admin, 'wamp.registration.remove_callee', [again, 4242]), 'wamp.error.no_such_session');
  });

  it('registration events on_create, on_register, on_unregister, on_delete with the spec payloads, after the reply', async () => {
    const router = metaRouter();
    const watcher = MemoryClient.join(router);
    const events = watch(watcher, [
      'wamp.registration.on_create',
      'wamp.registration.on_register',
      'wamp.registration.on_unregister',
      'wamp.registration.on_delete',
    ]);
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    // The registering session sees REGISTERED before the meta events it caused.
    const aWatch = a.subscribe('wamp.registration.on_create');
    a.send([64, a.request(), { invoke: 'random' }, 'com.example.p']);
    const sent = a.take();
    assert.equal(sent[0][0], 65);
    assert.deepEqual([sent[1][0], sent[1][1]], [36, aWatch]);
    const reg = sent[0][2] as number;
    b.register('com.example.p', { invoke: 'random' });
    const bId = b.session.id;
    a.send([66, a.request(), reg]);
    b.disconnect();
    const seen = events();
    assert.equal(seen[0][0], 'wamp.registration.on_create');
    const [creator, details] = seen[0][1] as [number, Record<string, unknown>];
    assert.equal(creator, a.session.id);
    assert.deepEqual(
      { ...details, created: undefined },
      { id: reg, uri: 'com.example.p', match: 'exact', invoke: 'random', created: undefined },
    );
    assert.deepEqual(seen.slice(1), [
      ['wamp.registration.on_register', [a.session.id, reg]],
      ['wamp.registration.on_register', [bId, reg]],
      ['wamp.registration.on_unregister', [a.session.id, reg]],
      ['wamp.registration.on_unregister', [bId, reg]],
      ['wamp.registration.on_delete', [bId, reg]],
    ]);
  });

  it('meta procedures see the caller; clients cannot register under wamp.', async () => {
    const router = metaRouter();
    const a = MemoryClient.join(router);
    a.send([64, a.request(), {}, 'wamp.session.count']);
    assert.equal(a.take()[0][4], 'wamp.error.invalid_uri');
  });
});
