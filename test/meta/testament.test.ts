/**
 * Session testaments (WAMP: pubsub_testament): events a session leaves
 * behind, published by the router when the session ends.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Outbound } from '../../src/wamp/messages.ts';
import { anonymousAuthenticator, type TransportAuth } from '../../src/core/authentication.ts';
import type { InternalCaller } from '../../src/core/internal-caller.ts';
import { Router } from '../../src/core/router.ts';
import { buildAuthorizer, type RoleConfig } from '../../src/authz/roles.ts';
import { ServiceSession } from '../../src/meta/service-session.ts';
import { attachTestamentApi } from '../../src/meta/testament-api.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { metaCalls, metaRouter } from '../helpers/meta-calls.ts';
import { GOODBYE, EVENT, RESULT } from '../helpers/wamp-codes.ts';

const { call, result, errorOf } = metaCalls({ keepOthers: true });

const addTestament = (client: MemoryClient, topic: string, args: unknown[], kwargs: object, options?: object) =>
  result(client, 'wamp.session.add_testament', [topic, args, kwargs], options);

/** The EVENTs in what a client was sent, as [subscription, details, ...payload]. */
const eventsOf = (messages: Outbound[]) => messages.filter((m) => m[0] === EVENT).map((m) => [m[1], m[3], ...m.slice(4)]);

describe('testaments', () => {
  it('announces testament_meta_api on the dealer', () => {
    const client = new MemoryClient(metaRouter());
    client.send([1, 'realm1', { roles: { caller: {} } }]);
    const roles = (client.take()[0][2] as { roles: { dealer: { features: Record<string, unknown> } } }).roles;
    assert.equal(roles.dealer.features.testament_meta_api, true);
  });

  it('a testament is published with exactly its args and kwargs when the transport closes', async () => {
    const router = metaRouter();
    const sub = MemoryClient.join(router);
    const id = sub.subscribe('com.example.gone');
    const prefix = sub.subscribe('com.example.', { match: 'prefix' });
    const t = MemoryClient.join(router);
    assert.equal(await addTestament(t, 'com.example.gone', ['bye', 1, { nested: [true, null] }], { why: 'lost', n: 2.5 }), undefined);
    assert.deepEqual(sub.take(), [], 'nothing is published while the session lives');
    t.disconnect();
    const got = sub.take();
    assert.equal(got.length, 2, `one EVENT per matching subscription: ${JSON.stringify(got)}`);
    assert.equal(got[0][2], got[1][2], 'one publication');
    assert.deepEqual(
      eventsOf(got).sort((x, y) => (x[0] === id ? -1 : 1) - (y[0] === id ? -1 : 1)),
      [
        [id, {}, ['bye', 1, { nested: [true, null] }], { why: 'lost', n: 2.5 }],
        [prefix, { topic: 'com.example.gone' }, ['bye', 1, { nested: [true, null] }], { why: 'lost', n: 2.5 }],
      ],
    );
  });

  it('detached-scope testaments are published before destroyed-scope ones, each in the order added', async () => {
    const router = metaRouter();
    const sub = MemoryClient.join(router);
    const id = sub.subscribe('com.example.', { match: 'prefix' });
    const t = MemoryClient.join(router);
    await addTestament(t, 'com.example.d1', ['d1'], {});
    await addTestament(t, 'com.example.x1', ['x1'], {}, { scope: 'detached' });
    await addTestament(t, 'com.example.d2', ['d2'], {}, { scope: 'destroyed' });
    await addTestament(t, 'com.example.x2', ['x2'], {}, { scope: 'detached' });
    await addTestament(t, 'com.example.d1', ['d3'], {});
    t.disconnect();
    assert.deepEqual(eventsOf(sub.take()), [
      [id, { topic: 'com.example.x1' }, ['x1'], {}],
      [id, { topic: 'com.example.x2' }, ['x2'], {}],
      [id, { topic: 'com.example.d1' }, ['d1'], {}],
      [id, { topic: 'com.example.d2' }, ['d2'], {}],
      [id, { topic: 'com.example.d1' }, ['d3'], {}],
    ]);
  });

  it('flush_testaments removes the testaments of a scope (default destroyed) and returns their count', async () => {
    const router = metaRouter();
    const sub = MemoryClient.join(router);
    const id = sub.subscribe('com.example.t');
    const t = MemoryClient.join(router);
    assert.equal(await result(t, 'wamp.session.flush_testaments'), 0, 'nothing to flush yet');
    await addTestament(t, 'com.example.t', ['destroyed 1'], {});
    await addTestament(t, 'com.example.t', ['destroyed 2'], {});
    await addTestament(t, 'com.example.t', ['detached'], {}, { scope: 'detached' });
    assert.equal(await result(t, 'wamp.session.flush_testaments'), 2);
    assert.equal(await result(t, 'wamp.session.flush_testaments', [], { scope: 'destroyed' }), 0);
    await addTestament(t, 'com.example.t', ['destroyed 3'], {});
    assert.equal(await result(t, 'wamp.session.flush_testaments', [], { scope: 'detached' }), 1);
    assert.equal(await result(t, 'wamp.session.flush_testaments', [], { scope: 'detached' }), 0);
    t.disconnect();
    assert.deepEqual(eventsOf(sub.take()), [[id, {}, ['destroyed 3'], {}]], 'only the testament added after the flushes');
  });

  it("flush_testaments affects only the caller's testaments", async () => {
    const router = metaRouter();
    const sub = MemoryClient.join(router);
    const id = sub.subscribe('com.example.t');
    const t1 = MemoryClient.join(router);
    const t2 = MemoryClient.join(router);
    await addTestament(t1, 'com.example.t', ['t1'], {});
    await addTestament(t2, 'com.example.t', ['t2'], {});
    assert.equal(await result(t2, 'wamp.session.flush_testaments'), 1);
    t1.disconnect();
    t2.disconnect();
    assert.deepEqual(eventsOf(sub.take()), [[id, {}, ['t1'], {}]]);
  });

  it('publish_options are honoured (exclusion lists, disclose_me); acknowledge and exclude_me are dropped', async () => {
    const router = metaRouter();
    const s1 = MemoryClient.join(router);
    const s2 = MemoryClient.join(router);
    const id = s1.subscribe('com.example.t');
    s2.subscribe('com.example.t');
    const t = MemoryClient.join(router);
    const { id: tId, authid: tAuthid } = t.session;
    await addTestament(t, 'com.example.t', ['not for s1'], {}, { publish_options: { exclude_authid: [s1.session.authid] } });
    await addTestament(t, 'com.example.t', ['for nobody'], {}, { publish_options: { exclude_authrole: ['anonymous'] } });
    await addTestament(t, 'com.example.t', ['only s1'], {}, { publish_options: { eligible: [s1.session.id] } });
    await addTestament(
      t,
      'com.example.t',
      ['disclosed'],
      { k: 1 },
      { publish_options: { disclose_me: true, acknowledge: true, exclude_me: false } },
    );
    t.disconnect();
    const disclosed = [id, { publisher: tId, publisher_authid: tAuthid, publisher_authrole: 'anonymous' }, ['disclosed'], { k: 1 }];
    assert.deepEqual(eventsOf(s1.take()), [[id, {}, ['only s1'], {}], disclosed]);
    assert.deepEqual(eventsOf(s2.take()), [[id, {}, ['not for s1'], {}], disclosed]);
    assert.deepEqual(
      t.take().filter((m) => m[0] !== RESULT),
      [],
      'the gone session is sent nothing (no PUBLISHED)',
    );
  });

  it('a bad scope is wamp.error.invalid_argument; a bad or reserved topic wamp.error.invalid_uri', async () => {
    const router = metaRouter();
    const sub = MemoryClient.join(router);
    sub.subscribe('com.', { match: 'prefix' });
    const t = MemoryClient.join(router);
    sub.subscribe('wamp.', { match: 'prefix' });
    assert.equal(
      await errorOf(t, 'wamp.session.add_testament', ['com.example.t', [], {}], { scope: 'forever' }),
      'wamp.error.invalid_argument',
    );
    assert.equal(await errorOf(t, 'wamp.session.flush_testaments', [], { scope: 'forever' }), 'wamp.error.invalid_argument');
    for (const topic of ['com..t', 'com.bad topic', 'wamp.session.on_leave']) {
      assert.equal(await errorOf(t, 'wamp.session.add_testament', [topic, [], {}]), 'wamp.error.invalid_uri', topic);
    }
    assert.equal(await result(t, 'wamp.session.flush_testaments', [], { scope: 'destroyed' }), 0, 'none was added');
    assert.equal(await result(t, 'wamp.session.flush_testaments', [], { scope: 'detached' }), 0, 'none was added');
    const { id: tId, authid } = t.session;
    t.disconnect();
    // Only the router's own on_leave reaches the wamp. subscription.
    assert.deepEqual(
      sub.take().map((m) => [(m[3] as { topic: string }).topic, ...m.slice(4)]),
      [['wamp.session.on_leave', [tId, authid, 'anonymous']]],
      'no rejected testament is published',
    );
  });

  it('a session killed by wamp.session.kill_all fires no testaments; one killed by wamp.session.kill does', async () => {
    const router = metaRouter();
    const admin = MemoryClient.join(router);
    const id = admin.subscribe('com.example.t');
    const t1 = MemoryClient.join(router);
    await addTestament(t1, 'com.example.t', ['t1'], {});
    assert.equal(await result(admin, 'wamp.session.kill_all'), 1);
    assert.deepEqual(t1.take(), [[GOODBYE, {}, 'wamp.close.killed']]);
    assert.deepEqual(eventsOf(admin.take()), [], 'kill_all fires no testaments');

    const t2 = MemoryClient.join(router);
    await addTestament(t2, 'com.example.t', ['t2'], { how: 'killed' });
    assert.equal(await result(admin, 'wamp.session.kill', [t2.session.id]), undefined);
    assert.deepEqual(t2.take(), [[GOODBYE, {}, 'wamp.close.killed']]);
    assert.deepEqual(eventsOf(admin.take()), [[id, {}, ['t2'], { how: 'killed' }]]);
  });

  it('a clean GOODBYE fires both scopes, detached first (the session is destroyed too); flush_testaments first fires none', async () => {
    const router = metaRouter();
    const sub = MemoryClient.join(router);
    const id = sub.subscribe('com.example.t');
    const t = MemoryClient.join(router);
    await addTestament(t, 'com.example.t', ['destroyed'], {});
    await addTestament(t, 'com.example.t', ['detached'], {}, { scope: 'detached' });
    t.send([GOODBYE, {}, 'wamp.close.close_realm']);
    assert.deepEqual(t.take(), [[GOODBYE, {}, 'wamp.close.goodbye_and_out']]);
    assert.deepEqual(eventsOf(sub.take()), [
      [id, {}, ['detached'], {}],
      [id, {}, ['destroyed'], {}],
    ]);
    t.disconnect();
    assert.deepEqual(sub.take(), [], 'testaments fire once');

    const quiet = MemoryClient.join(router);
    await addTestament(quiet, 'com.example.t', ['destroyed'], {});
    await addTestament(quiet, 'com.example.t', ['detached'], {}, { scope: 'detached' });
    assert.equal(await result(quiet, 'wamp.session.flush_testaments', [], { scope: 'destroyed' }), 1);
    assert.equal(await result(quiet, 'wamp.session.flush_testaments', [], { scope: 'detached' }), 1);
    quiet.send([GOODBYE, {}, 'wamp.close.close_realm']);
    assert.deepEqual(quiet.take(), [[GOODBYE, {}, 'wamp.close.goodbye_and_out']]);
    assert.deepEqual(sub.take(), [], 'a client that flushed first leaves none');
  });

  it('badly typed publish_options are refused with wamp.error.invalid_argument, as PUBLISH would refuse them', async () => {
    const router = metaRouter();
    const t = MemoryClient.join(router);
    for (const publish_options of [
      { eligible: 5 },
      { exclude: 'x' },
      { eligible_authid: {} },
      { exclude_authrole: 'admin' },
      { disclose_me: 'yes' },
    ]) {
      assert.equal(
        await errorOf(t, 'wamp.session.add_testament', ['com.example.t', ['x'], {}], { publish_options }),
        'wamp.error.invalid_argument',
        JSON.stringify(publish_options),
      );
    }
  });

  it('the end of a session with a testament whose publish_options are badly typed does not throw, and its other testaments fire', async () => {
    const router = metaRouter();
    const sub = MemoryClient.join(router);
    const id = sub.subscribe('com.example.t');
    const t = MemoryClient.join(router);
    await addTestament(t, 'com.example.t', ['good'], {}, { scope: 'detached' });
    // Whether add_testament accepts it or not, the session's end must go through.
    await call(t, 'wamp.session.add_testament', ['com.example.t', ['bad'], {}], { publish_options: { eligible: 5 } });
    await addTestament(t, 'com.example.t', ['good too'], {});
    assert.doesNotThrow(() => t.disconnect(), 'closing the transport must not throw');
    assert.equal(t.session.state, 'closed');
    const got = eventsOf(sub.take()).filter((e) => (e[2] as string[])[0] !== 'bad');
    assert.deepEqual(got, [
      [id, {}, ['good'], {}],
      [id, {}, ['good too'], {}],
    ]);
    assert.equal(await result(sub, 'wamp.session.count'), 1, 'the session is gone from the realm');
  });

  it('a session on the transport of one ended by kill_all fires its testaments when it ends', async () => {
    const router = metaRouter();
    const admin = MemoryClient.join(router);
    const id = admin.subscribe('com.example.t');
    const t = MemoryClient.join(router);
    assert.equal(await result(admin, 'wamp.session.kill_all'), 1);
    assert.deepEqual(t.take(), [[GOODBYE, {}, 'wamp.close.killed']]);
    // The client completes the closing handshake and joins again over the same transport.
    t.send([GOODBYE, {}, 'wamp.close.goodbye_and_out']);
    t.send([1, 'realm1', { roles: { caller: {}, subscriber: {} } }]);
    assert.equal(t.take()[0][0], 2, 'WELCOME for the new session');
    await addTestament(t, 'com.example.t', ['second session'], {});
    t.disconnect();
    assert.deepEqual(eventsOf(admin.take()), [[id, {}, ['second session'], {}]], 'the new session was not killed by kill_all');
  });

  it('testaments of a session that left are not fired again by the next session on the same transport', async () => {
    const router = metaRouter();
    const sub = MemoryClient.join(router);
    sub.subscribe('com.example.t');
    const t = MemoryClient.join(router);
    await addTestament(t, 'com.example.t', ['first session'], {}, { scope: 'detached' });
    t.send([GOODBYE, {}, 'wamp.close.close_realm']);
    t.take();
    assert.equal(sub.take().length, 1);
    t.send([1, 'realm1', { roles: { caller: {} } }]);
    assert.equal(t.take()[0][0], 2, 'a new session on the same transport');
    t.disconnect();
    assert.deepEqual(sub.take(), []);
  });
});

describe('testaments are authorized as the PUBLISH they will become', () => {
  const roles: RoleConfig[] = [
    {
      name: 'app',
      permissions: [
        { uri: 'wamp.session.', match: 'prefix', allow: { call: true } },
        { uri: 'com.example.', match: 'prefix', allow: { publish: true, subscribe: true } },
        { uri: 'com.example..private', match: 'wildcard', allow: { subscribe: true } },
      ],
    },
    {
      name: 'loud',
      permissions: [
        { uri: 'wamp.session.', match: 'prefix', allow: { call: true } },
        { uri: 'com.example.', match: 'prefix', allow: { publish: true }, disclose: { publisher: true } },
      ],
    },
    { name: 'listener', 'allow-by-default': true },
  ];

  /** Test-only authentication: the client names its role in authextra. */
  const roleFromHello: TransportAuth = new Map([
    [
      'anonymous',
      {
        ...anonymousAuthenticator(),
        start: (r) => ({
          kind: 'welcome',
          principal: { authid: r.authid ?? 'x', authrole: r.authextra.role as string, authprovider: 'static' },
        }),
      },
    ],
  ]);
  const setup = () => {
    const router = metaRouter({ authorizer: buildAuthorizer('realm1', roles, {} as InternalCaller) });
    const join = (role: string) => MemoryClient.join(router, 'realm1', undefined, roleFromHello, { authid: role, authextra: { role } });
    return { router, join };
  };

  it('a testament on a topic the role may not publish to fails with wamp.error.not_authorized when added, and never fires', async () => {
    const { join } = setup();
    const listener = join('listener');
    listener.subscribe('com.', { match: 'prefix' });
    const app = join('app');
    for (const topic of ['com.other.t', 'com.example.x.private']) {
      assert.equal(await errorOf(app, 'wamp.session.add_testament', [topic, ['no'], {}]), 'wamp.error.not_authorized', topic);
    }
    assert.equal(await addTestament(app, 'com.example.t', ['yes'], {}), undefined);
    assert.equal(await result(app, 'wamp.session.flush_testaments', [], { scope: 'destroyed' }), 1, 'only the allowed one was kept');
    await addTestament(app, 'com.example.t', ['yes again'], {});
    app.disconnect();
    assert.deepEqual(
      eventsOf(listener.take()).map((e) => e[2]),
      [['yes again']],
    );
  });

  it("the role's disclose.publisher applies to its testaments, as to its publications", async () => {
    const { join } = setup();
    const listener = join('listener');
    listener.subscribe('com.example.t');
    const loud = join('loud');
    const { id, authid } = loud.session;
    await addTestament(loud, 'com.example.t', ['bye'], {});
    loud.disconnect();
    assert.deepEqual(
      eventsOf(listener.take()).map((e) => e[1]),
      [{ publisher: id, publisher_authid: authid, publisher_authrole: 'loud' }],
    );
  });
});

describe('testament limits', () => {
  /** A router whose only meta procedures are the testament ones, with the given limits. */
  const limitedRouter = (limits: { testaments: number; testamentBytes: number }) => {
    const router = new Router({ realms: [{ name: 'realm1' }] });
    attachTestamentApi(router.realms.get('realm1')!, new ServiceSession(router, 'realm1'), limits);
    return router;
  };

  it('a session holds at most limits.testaments testaments, both scopes together (default 64); a flush frees them', async () => {
    const t = MemoryClient.join(metaRouter());
    for (let i = 0; i < 64; i++) await addTestament(t, 'com.example.t', [i], {}, { scope: i % 2 ? 'detached' : 'destroyed' });
    const reply = await call(t, 'wamp.session.add_testament', ['com.example.t', [64], {}]);
    assert.equal(reply[4], 'kreuz.error.limit_reached');
    assert.match((reply[5] as string[])[0], /at most 64 testaments/);
    assert.equal(await result(t, 'wamp.session.flush_testaments', [], { scope: 'detached' }), 32);
    assert.equal(await addTestament(t, 'com.example.t', ['room again'], {}), undefined);
  });

  it('a session holds at most limits.testamentBytes bytes of them (default 256 KiB); a flush frees them', async () => {
    const router = metaRouter();
    const sub = MemoryClient.join(router);
    const id = sub.subscribe('com.example.t');
    const t = MemoryClient.join(router);
    const big = 'x'.repeat(150 * 1024);
    await addTestament(t, 'com.example.t', [big], {});
    const reply = await call(t, 'wamp.session.add_testament', ['com.example.t', [big], {}], { scope: 'detached' });
    assert.equal(reply[4], 'kreuz.error.limit_reached');
    assert.match((reply[5] as string[])[0], /at most 262144 bytes of testaments/);
    await addTestament(t, 'com.example.t', ['small'], {}, { scope: 'detached' });
    assert.equal(await result(t, 'wamp.session.flush_testaments'), 1);
    await addTestament(t, 'com.example.t', [big], {}, { scope: 'detached' });
    t.disconnect();
    assert.deepEqual(
      eventsOf(sub.take()).map((e) => [e[0], (e[2] as string[])[0].length]),
      [
        [id, 5],
        [id, big.length],
      ],
    );
  });

  it('the configured limits apply, and a refused testament costs nothing', async () => {
    const router = limitedRouter({ testaments: 2, testamentBytes: 200 });
    const t = MemoryClient.join(router);
    assert.equal(await errorOf(t, 'wamp.session.add_testament', ['com.example.t', ['y'.repeat(200)], {}]), 'kreuz.error.limit_reached');
    await addTestament(t, 'com.example.t', ['a'], {});
    await addTestament(t, 'com.example.t', ['b'], {}, { scope: 'detached' });
    assert.equal(await errorOf(t, 'wamp.session.add_testament', ['com.example.t', ['c'], {}]), 'kreuz.error.limit_reached');
    assert.equal(await result(t, 'wamp.session.flush_testaments', [], { scope: 'destroyed' }), 1);
    assert.equal(await addTestament(t, 'com.example.t', ['c'], {}), undefined);
  });
});
