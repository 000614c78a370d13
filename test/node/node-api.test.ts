/**
 * The `kreuz.node.*` statistics API on a real node: Autobahn|JS and raw
 * WebSocket clients make traffic over 127.0.0.1, and each query's numbers are
 * checked against what the test did and against the WAMP meta API read at
 * the same moment. Authorization: a role's `call` permission, another realm's
 * data for the trusted role only, the router's namespaces hidden from others.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { RoleConfig } from '../../src/authz/roles.ts';
import { realTimers } from '../../src/core/hooks.ts';
import { DEFAULT_LIMITS } from '../../src/core/limits.ts';
import { LocalSession } from '../../src/core/local-session.ts';
import { Realm } from '../../src/core/realm.ts';
import { MemoryNetwork } from '../../src/cluster/memory.ts';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import { KREUZ_VERSION } from '../../src/version.ts';
import { autobahn, rejection, within } from '../helpers/autobahn-js.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { eventually } from './support.ts';

const ALL = { call: true, register: true, publish: true, subscribe: true };
const ROLES: RoleConfig[] = [
  { name: 'app', permissions: [{ uri: '', match: 'prefix', allow: ALL }] },
  // May use com.* only: every kreuz.node.* query and the on_stats topic are refused.
  { name: 'limited', permissions: [{ uri: 'com.', match: 'prefix', allow: ALL }] },
];
const PRINCIPALS = {
  app: { ticket: 'app-secret', role: 'app' },
  app2: { ticket: 'app2-secret', role: 'app' },
  limited: { ticket: 'limited-secret', role: 'limited' },
  admin: { ticket: 'admin-secret', role: 'trusted' },
};
type Principal = keyof typeof PRINCIPALS;

interface Client {
  session: any;
  id: number;
  close(): Promise<void>;
}

/** An Autobahn|JS session logged in with a ticket. */
function login(url: string, authid: Principal, realm = 'realm1', serializer: 'json' | 'msgpack' | 'cbor' = 'json'): Promise<Client> {
  const serializers = {
    json: () => new autobahn.serializer.JSONSerializer(),
    msgpack: () => new autobahn.serializer.MsgpackSerializer(),
    cbor: () => new autobahn.serializer.CBORSerializer(),
  };
  const connection = new autobahn.Connection({
    url,
    realm,
    authmethods: ['ticket'],
    authid,
    onchallenge: () => PRINCIPALS[authid].ticket,
    serializers: [serializers[serializer]()],
    max_retries: 0,
    retry_if_unreachable: false,
  });
  return within(
    new Promise<Client>((resolve, reject) => {
      connection.onopen = (session: any) =>
        resolve({
          session,
          id: session.id,
          close: () =>
            new Promise<void>((done) => {
              if (!connection.isOpen) return done();
              connection.onclose = () => {
                done();
                return true;
              };
              connection.close();
            }),
        });
      connection.onclose = (reason: string, details: unknown) => {
        reject(new Error(`login as ${authid} failed: ${reason} ${JSON.stringify(details)}`));
        return true;
      };
      connection.open();
    }),
    5000,
    `login as ${authid}`,
  );
}

const call = (c: Client, uri: string, args: unknown[] = [], kwargs?: object): Promise<any> =>
  within(c.session.call(uri, args, kwargs), 5000, uri);
const errorOf = async (c: Client, uri: string, args: unknown[] = [], kwargs?: object): Promise<string> =>
  (await rejection(c.session.call(uri, args, kwargs), 5000, uri)).error;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isIso = (value: unknown) => typeof value === 'string' && new Date(value).toISOString() === value;

function ticketNode(extra: Parameters<typeof startNode>[0] = {}): Promise<RunningNode> {
  return startNode({
    realms: [
      { name: 'realm1', roles: ROLES },
      { name: 'realm2', roles: ROLES },
    ],
    transports: [
      { type: 'websocket', endpoint: { host: '127.0.0.1', port: 0 }, auth: { ticket: { type: 'static', principals: PRINCIPALS } } },
    ],
    callQueueLimit: 5,
    metrics: true,
    ...extra,
  });
}

/** A raw WebSocket client that logs in with a ticket: it sends exactly HELLO and AUTHENTICATE, and gets CHALLENGE and WELCOME. */
async function rawLogin(url: string, authid: Principal): Promise<{ client: RawClient; id: number }> {
  const client = await RawClient.open(url);
  client.send([1, 'realm1', { roles: { publisher: {}, subscriber: {} }, authmethods: ['ticket'], authid }]);
  assert.equal((await client.next())[0], 4, 'CHALLENGE');
  client.send([5, PRINCIPALS[authid].ticket, {}]);
  const welcome = await client.next();
  assert.equal(welcome[0], 2, `WELCOME: ${JSON.stringify(welcome)}`);
  return { client, id: welcome[1] as number };
}

describe('kreuz.node.* queries on a node with roles and two realms', () => {
  let node: RunningNode;
  let app: Client;
  let admin: Client;
  let callee: Client;
  let other: Client;
  const open: Client[] = [];

  before(async () => {
    node = await ticketNode();
    app = await login(node.url, 'app');
    admin = await login(node.url, 'admin');
    callee = await login(node.url, 'app2', 'realm1', 'msgpack');
    other = await login(node.url, 'app', 'realm2', 'cbor');
    open.push(app, admin, callee, other);
  });

  after(async () => {
    for (const c of open) await c.close();
    await node.close();
  });

  it('get_health: version, uptime, memory, event loop, connections, sessions, no cut-offs, no cluster', async () => {
    const health = await call(app, 'kreuz.node.get_health');
    assert.equal(health.version, KREUZ_VERSION);
    assert.equal(health.node, process.versions.node);
    assert.ok(isIso(health.started));
    assert.ok(Number.isInteger(health.uptime_ms) && health.uptime_ms >= 0);
    for (const key of ['rss', 'heap_used', 'heap_total', 'external']) assert.ok(health.memory[key] > 0, `memory.${key}`);
    for (const key of ['delay_p50_ms', 'delay_p99_ms', 'delay_max_ms']) assert.ok(health.event_loop[key] >= 0, `event_loop.${key}`);
    assert.ok(health.event_loop.utilization >= 0 && health.event_loop.utilization <= 1);
    // Four Autobahn|JS connections are open; the metrics count the sockets (other connections may come and go).
    assert.ok(health.connections.websocket >= 4, JSON.stringify(health.connections));
    // A non-trusted caller counts its own realm's client sessions; the trusted one every realm's.
    assert.equal(health.sessions, await call(app, 'wamp.session.count'));
    const all = await call(admin, 'kreuz.node.get_health');
    assert.equal(all.sessions, (await call(app, 'wamp.session.count')) + (await call(other, 'wamp.session.count')));
    assert.deepEqual(health.cutoffs, { slow_consumer: 0, rate_limited: 0, unresponsive: 0, too_big: 0, protocol_error: 0 });
    assert.deepEqual(health.limits_reached, {});
    assert.equal(health.cluster, null);
    // The event loop monitor runs once read: a second read has samples.
    await sleep(150);
    const later = await call(app, 'kreuz.node.get_health');
    assert.ok(later.uptime_ms >= health.uptime_ms);
  });

  it('list_sessions: the meta API sessions, their details, and the messages each one sent and got', async () => {
    const { client: raw, id: rawId } = await rawLogin(node.url, 'app');
    try {
      for (let i = 1; i <= 3; i++) {
        raw.send([16, i, { acknowledge: true }, 'com.count.me', [i]]);
        assert.equal((await raw.next())[0], 17, 'PUBLISHED');
      }
      const sessions: any[] = await call(app, 'kreuz.node.list_sessions');
      const ids: number[] = await call(app, 'wamp.session.list');
      assert.deepEqual(sessions.map((s) => s.session).sort(), [...ids].sort());
      for (const s of sessions) {
        const meta = await call(app, 'wamp.session.get', [s.session]);
        assert.deepEqual(
          { authid: s.authid, authrole: s.authrole, authmethod: s.authmethod, authprovider: s.authprovider, transport: s.transport },
          {
            authid: meta.authid,
            authrole: meta.authrole,
            authmethod: meta.authmethod,
            authprovider: meta.authprovider,
            transport: { type: meta.transport.type, serializer: meta.transport.serializer, peer: meta.transport.peer },
          },
        );
        assert.ok(isIso(s.joined), `joined ${s.joined}`);
      }
      const mine = sessions.find((s) => s.session === rawId);
      // HELLO, AUTHENTICATE and 3 PUBLISH in; CHALLENGE, WELCOME and 3 PUBLISHED out.
      assert.equal(mine.messages_in, 5);
      assert.equal(mine.messages_out, 5);
      assert.equal(mine.authrole, 'app');
      assert.equal(mine.transport.serializer, 'json');
      assert.equal(sessions.find((s) => s.session === callee.id).transport.serializer, 'msgpack');
    } finally {
      raw.close();
    }
  });

  it('list_registrations: the meta API registrations and callees; calls, errors and latency of a fast, a slow and a failing callee', async () => {
    const SLOW_MS = 300;
    const regs = [
      await callee.session.register('com.test.add', (args: number[]) => args[0] + args[1]),
      await callee.session.register('com.test.slow', () => new Promise((resolve) => setTimeout(() => resolve('late'), SLOW_MS))),
      await callee.session.register('com.test.fail', () => {
        throw new autobahn.Error('com.test.oops', ['refused']);
      }),
    ];
    try {
      const started = performance.now();
      for (let i = 0; i < 7; i++) assert.equal(await call(app, 'com.test.add', [i, 1]), i + 1);
      for (let i = 0; i < 3; i++) assert.equal(await call(app, 'com.test.slow'), 'late');
      for (let i = 0; i < 4; i++) assert.equal((await rejection(app.session.call('com.test.fail'))).error, 'com.test.oops');
      // A call that times out: canceled by the router (an error), though the callee still answers later.
      const timedOut = await rejection(app.session.call('com.test.slow', [], {}, { timeout: 20 }));
      assert.equal(timedOut.error, 'wamp.error.canceled');

      const list: any[] = await call(app, 'kreuz.node.list_registrations');
      const elapsed = (performance.now() - started) / 1000;
      const byUri = new Map(list.map((r) => [r.uri, r]));
      const add = byUri.get('com.test.add');
      const slow = byUri.get('com.test.slow');
      const fail = byUri.get('com.test.fail');
      assert.deepEqual([add.calls, add.errors], [7, 0]);
      assert.deepEqual([slow.calls, slow.errors], [4, 1]);
      assert.deepEqual([fail.calls, fail.errors], [4, 4]);
      // Latency of the answered calls: the slow one's median is its delay (buckets are within ±9 %).
      assert.ok(slow.latency_ms.p50 >= SLOW_MS * 0.9, `slow p50 ${slow.latency_ms.p50} ms`);
      assert.ok(slow.latency_ms.p99 >= slow.latency_ms.p50);
      assert.ok(add.latency_ms.p50 > 0 && add.latency_ms.p50 < slow.latency_ms.p50, `add p50 ${add.latency_ms.p50} ms`);
      assert.ok(fail.latency_ms !== null, 'ERROR answers have a latency too');
      // All 7 calls in the last `elapsed` seconds (at least one second counts).
      assert.ok(add.calls_per_s >= 7 / Math.max(1, elapsed) - 0.01 && add.calls_per_s <= 7, `add ${add.calls_per_s}/s in ${elapsed} s`);
      // The timed-out call is still with its callee until it answers.
      assert.equal(slow.in_flight, 1);
      assert.equal(add.in_flight, 0);
      assert.equal(add.queued, 0);
      assert.equal(add.invoke, 'single');
      assert.equal(add.match, 'exact');
      assert.ok(isIso(add.created));

      // Against the meta API, read at the same moment.
      const meta = await call(app, 'wamp.registration.list');
      assert.deepEqual(list.map((r) => r.id).sort(), [...meta.exact, ...meta.prefix, ...meta.wildcard].sort());
      for (const r of list) {
        assert.deepEqual(r.callees, await call(app, 'wamp.registration.list_callees', [r.id]));
        const details = await call(app, 'wamp.registration.get', [r.id]);
        assert.deepEqual([r.uri, r.match, r.invoke, r.created], [details.uri, details.match, details.invoke, details.created]);
      }
      assert.deepEqual(add.callees, [callee.id]);
      await eventually(
        async () => (await call(app, 'kreuz.node.list_registrations')).find((r: any) => r.uri === 'com.test.slow').in_flight === 0,
        'the late answer',
      );
    } finally {
      for (const r of regs) await callee.session.unregister(r);
    }
  });

  it('list_registrations: calls in flight and calls waiting in the call queue', async () => {
    const pending: Array<() => void> = [];
    const reg = await callee.session.register('com.test.one', () => new Promise((resolve) => pending.push(() => resolve('ok'))), {
      concurrency: 1,
    });
    try {
      const calls = [0, 1, 2].map(() => app.session.call('com.test.one'));
      await eventually(() => pending.length === 1, 'the first call reached the callee');
      const one = (await call(app, 'kreuz.node.list_registrations')).find((r: any) => r.uri === 'com.test.one');
      assert.deepEqual([one.calls, one.in_flight, one.queued, one.errors, one.latency_ms], [3, 1, 2, 0, null]);
      // Each answer lets the next queued call through.
      for (let i = 0; i < 3; i++) {
        await eventually(() => pending.length === i + 1, `call ${i + 1} reached the callee`);
        pending[i]!();
      }
      assert.deepEqual(await within(Promise.all(calls), 5000, 'queued calls'), ['ok', 'ok', 'ok']);
      const done = (await call(app, 'kreuz.node.list_registrations')).find((r: any) => r.uri === 'com.test.one');
      assert.deepEqual([done.calls, done.in_flight, done.queued, done.errors], [3, 0, 0, 0]);
      assert.ok(done.latency_ms.p50 > 0);
    } finally {
      await callee.session.unregister(reg);
    }
  });

  it('list_subscriptions: the meta API subscriptions and subscriber counts; publications delivered', async () => {
    const seen: number[] = [];
    const subs = [
      await callee.session.subscribe('com.test.news', (args: number[]) => seen.push(args[0])),
      await admin.session.subscribe('com.test.news', () => {}),
      await callee.session.subscribe('com.test', () => {}, { match: 'prefix' }),
      await callee.session.subscribe('com.test.quiet', () => {}),
    ];
    try {
      const started = performance.now();
      for (let i = 0; i < 6; i++) await app.session.publish('com.test.news', [i], {}, { acknowledge: true });
      // Published only to the publisher, which is excluded: delivered to no one, so not counted.
      await app.session.publish('com.test.quiet', [0], {}, { acknowledge: true, eligible: [app.id] });
      await eventually(() => seen.length === 6, 'six events');
      const list: any[] = await call(app, 'kreuz.node.list_subscriptions');
      const elapsed = (performance.now() - started) / 1000;
      const news = list.find((s) => s.uri === 'com.test.news');
      const prefix = list.find((s) => s.uri === 'com.test');
      const quiet = list.find((s) => s.uri === 'com.test.quiet');
      assert.deepEqual([news.subscribers, news.events, news.match], [2, 6, 'exact']);
      // The prefix subscription got the news; the quiet publication reached no one (only its excluded publisher was eligible).
      assert.deepEqual([prefix.subscribers, prefix.events, prefix.match], [1, 6, 'prefix']);
      assert.deepEqual([quiet.events, quiet.events_per_s], [0, 0]);
      assert.ok(news.events_per_s >= 6 / Math.max(1, elapsed) - 0.01 && news.events_per_s <= 6, `${news.events_per_s}/s`);
      const meta = await call(app, 'wamp.subscription.list');
      assert.deepEqual(list.map((s) => s.id).sort(), [...meta.exact, ...meta.prefix, ...meta.wildcard].sort());
      for (const s of list) {
        assert.equal(s.subscribers, await call(app, 'wamp.subscription.count_subscribers', [s.id]));
        const details = await call(app, 'wamp.subscription.get', [s.id]);
        assert.deepEqual([s.uri, s.match, s.created], [details.uri, details.match, details.created]);
      }
    } finally {
      for (const s of subs) await s.session.unsubscribe(s);
    }
  });

  it('list_realms: own realm only, every realm for trusted; the counts match the lists', async () => {
    assert.deepEqual(
      (await call(app, 'kreuz.node.list_realms')).map((r: any) => r.name),
      ['realm1'],
    );
    const realms: any[] = await call(admin, 'kreuz.node.list_realms');
    assert.deepEqual(realms.map((r) => r.name).sort(), ['realm1', 'realm2']);
    const [mine] = await call(app, 'kreuz.node.list_realms');
    assert.equal(mine.sessions, await call(app, 'wamp.session.count'));
    assert.equal(mine.registrations, (await call(app, 'kreuz.node.list_registrations')).length);
    assert.equal(mine.subscriptions, (await call(app, 'kreuz.node.list_subscriptions')).length);
    const realm2 = realms.find((r) => r.name === 'realm2');
    assert.equal(realm2.sessions, await call(other, 'wamp.session.count'));
  });

  it("another realm's data: refused to a non-trusted role (existing or not), given to trusted", async () => {
    const reg = await other.session.register('com.other.proc', () => 1);
    try {
      for (const uri of ['kreuz.node.list_sessions', 'kreuz.node.list_registrations', 'kreuz.node.list_subscriptions']) {
        assert.equal(await errorOf(app, uri, ['realm2']), 'wamp.error.not_authorized', uri);
        assert.equal(await errorOf(app, uri, ['no-such-realm']), 'wamp.error.not_authorized', uri);
        assert.equal(await errorOf(admin, uri, ['no-such-realm']), 'wamp.error.no_such_realm', uri);
        // Naming its own realm is fine.
        assert.ok(Array.isArray(await call(app, uri, ['realm1'])));
      }
      const sessions: any[] = await call(admin, 'kreuz.node.list_sessions', ['realm2']);
      assert.deepEqual(
        sessions.map((s) => s.session),
        await call(other, 'wamp.session.list'),
      );
      assert.equal(sessions[0].transport.serializer, 'cbor');
      // The keyword form of the argument.
      assert.deepEqual(
        await call(admin, 'kreuz.node.list_sessions', [], { realm: 'realm2' }),
        await call(admin, 'kreuz.node.list_sessions', ['realm2']),
      );
      const regs: any[] = await call(admin, 'kreuz.node.list_registrations', ['realm2']);
      assert.deepEqual(
        regs.filter((r) => r.uri === 'com.other.proc').map((r) => r.callees),
        [[other.id]],
      );
      assert.equal(
        (await call(app, 'kreuz.node.list_registrations')).find((r: any) => r.uri === 'com.other.proc'),
        undefined,
      );
    } finally {
      await other.session.unregister(reg);
    }
  });

  it('hides wamp., crossbar. and kreuz. URIs and the router-internal sessions unless trusted', async () => {
    const regs = [await callee.session.register('kreuz.app.proc', () => 1), await callee.session.register('crossbar.app.proc', () => 1)];
    const sub = await callee.session.subscribe('kreuz.app.topic', () => {});
    try {
      const shown: any[] = await call(app, 'kreuz.node.list_registrations');
      assert.deepEqual(
        shown.filter((r) => /^(wamp|crossbar|kreuz)\./.test(r.uri)),
        [],
      );
      assert.equal(
        (await call(app, 'kreuz.node.list_subscriptions')).find((s: any) => s.uri === 'kreuz.app.topic'),
        undefined,
      );
      const all: any[] = await call(admin, 'kreuz.node.list_registrations');
      const uris = new Set(all.map((r) => r.uri));
      for (const uri of ['kreuz.app.proc', 'crossbar.app.proc', 'kreuz.node.get_health', 'wamp.session.list'])
        assert.ok(uris.has(uri), uri);
      // The router's own registrations: no client callee.
      assert.deepEqual(all.find((r) => r.uri === 'kreuz.node.get_health').callees, []);
      assert.ok((await call(admin, 'kreuz.node.list_subscriptions')).some((s: any) => s.uri === 'kreuz.app.topic'));
      // The router's own sessions are in no list.
      const sessions: any[] = await call(admin, 'kreuz.node.list_sessions');
      assert.deepEqual(sessions.map((s) => s.session).sort(), [...(await call(app, 'wamp.session.list'))].sort());
      // The meta API does not list the router's kreuz.node.* registrations either.
      assert.equal(await call(app, 'wamp.registration.lookup', ['kreuz.node.get_health']), null);
    } finally {
      for (const r of regs) await callee.session.unregister(r);
      await callee.session.unsubscribe(sub);
    }
  });

  it('a role without the permission gets wamp.error.not_authorized, for each query and for on_stats', async () => {
    const limited = await login(node.url, 'limited');
    try {
      for (const uri of [
        'kreuz.node.get_health',
        'kreuz.node.list_realms',
        'kreuz.node.list_sessions',
        'kreuz.node.list_registrations',
        'kreuz.node.list_subscriptions',
      ]) {
        assert.equal(await errorOf(limited, uri), 'wamp.error.not_authorized', uri);
      }
      const refused = await rejection(limited.session.subscribe('kreuz.node.on_stats', () => {}));
      assert.equal(refused.error, 'wamp.error.not_authorized');
    } finally {
      await limited.close();
    }
  });

  it('bad arguments are wamp.error.invalid_argument; offset and limit page a list', async () => {
    assert.equal(await errorOf(app, 'kreuz.node.list_sessions', [42]), 'wamp.error.invalid_argument');
    assert.equal(await errorOf(app, 'kreuz.node.list_sessions', [{ realm: 'realm1' }]), 'wamp.error.invalid_argument');
    for (const bad of [-1, 1.5, '2', 10_001]) {
      assert.equal(await errorOf(app, 'kreuz.node.list_sessions', [], { limit: bad }), 'wamp.error.invalid_argument', `limit ${bad}`);
    }
    assert.equal(await errorOf(app, 'kreuz.node.list_sessions', [], { offset: -1 }), 'wamp.error.invalid_argument');
    const all: any[] = await call(app, 'kreuz.node.list_sessions');
    assert.ok(all.length >= 3);
    const pages = [
      ...(await call(app, 'kreuz.node.list_sessions', [], { limit: 2 })),
      ...(await call(app, 'kreuz.node.list_sessions', [], { offset: 2, limit: 2 })),
      ...(await call(app, 'kreuz.node.list_sessions', [], { offset: 4 })),
    ];
    assert.deepEqual(
      pages.map((s) => s.session),
      all.map((s) => s.session),
    );
    assert.deepEqual(await call(app, 'kreuz.node.list_sessions', [], { limit: 0 }), []);
    // A prototype-named key is data, not a lookup.
    assert.ok(Array.isArray(await call(app, 'kreuz.node.list_sessions', [], { constructor: 1, __proto__: 2 })));
  });

  it('kreuz.node.on_stats arrives every 2 s while subscribed, with the health and the realm summary', async () => {
    const events: any[] = [];
    const sub = await app.session.subscribe('kreuz.node.on_stats', (args: any[]) => events.push(args[0]));
    try {
      await eventually(() => events.length >= 2, 'two on_stats events', 7000);
      const [first, second] = events;
      assert.ok(isIso(first.time) && Date.parse(second.time) - Date.parse(first.time) >= 1500, `${first.time} -> ${second.time}`);
      assert.equal(first.health.version, KREUZ_VERSION);
      assert.equal(first.health.cluster, null);
      const [summary] = await call(app, 'kreuz.node.list_realms');
      assert.deepEqual(
        {
          name: second.realm.name,
          sessions: second.realm.sessions,
          registrations: second.realm.registrations,
          subscriptions: second.realm.subscriptions,
        },
        summary,
      );
      assert.equal(second.health.sessions, summary.sessions, "the realm's own session count");
      assert.equal(typeof second.realm.calls_per_s, 'number');
      assert.equal(typeof second.realm.events_per_s, 'number');
    } finally {
      await app.session.unsubscribe(sub);
    }
    // No subscriber left: no more events (to a new subscriber on the other realm neither, which gets its own).
    const count = events.length;
    await sleep(2500);
    assert.equal(events.length, count);
  });

  it("on_stats on realm2 tells realm2's summary", async () => {
    const events: any[] = [];
    const sub = await other.session.subscribe('kreuz.node', (args: any[]) => events.push(args[0]), { match: 'prefix' });
    try {
      await eventually(() => events.length >= 1, 'an on_stats event on realm2', 5000);
      assert.equal(events[0].realm.name, 'realm2');
      assert.equal(events[0].health.sessions, await call(other, 'wamp.session.count'));
    } finally {
      await other.session.unsubscribe(sub);
    }
  });
});

describe('kreuz.node.get_health counts cut-offs by kind', () => {
  let node: RunningNode;
  const MAX_MESSAGE = 64 * 1024;

  before(async () => {
    node = await startNode({
      realms: ['realm1'],
      transports: [
        {
          type: 'websocket',
          endpoint: { host: '127.0.0.1', port: 0 },
          maxMessageSize: MAX_MESSAGE,
          maxSendBuffer: 256 * 1024,
          autoPingInterval: 150,
          autoPingTimeout: 150,
        },
      ],
      limits: { messageRate: 100 },
    });
  });
  after(() => node.close());

  const health = async () => {
    const observer = await RawClient.join(node.url);
    observer.send([48, 1, {}, 'kreuz.node.get_health']);
    const reply = await observer.next();
    observer.close();
    assert.equal(reply[0], 50, JSON.stringify(reply));
    return (reply[3] as any[])[0];
  };
  const abortOf = async (client: RawClient) => {
    const abort = await client.next(5000);
    assert.equal(abort[0], 3, `ABORT: ${JSON.stringify(abort)}`);
    return abort[2];
  };

  it('protocol error, too big, rate limited, unresponsive, slow consumer', { timeout: 60_000 }, async () => {
    const before = (await health()).cutoffs;
    assert.deepEqual(before, { slow_consumer: 0, rate_limited: 0, unresponsive: 0, too_big: 0, protocol_error: 0 });

    const garbled = await RawClient.join(node.url);
    garbled.sendRaw('[not json');
    assert.equal(await abortOf(garbled), 'wamp.error.protocol_violation');

    const big = await RawClient.join(node.url);
    big.send([16, 1, {}, 'com.big', ['x'.repeat(MAX_MESSAGE + 1)]]);
    assert.equal(await abortOf(big), 'wamp.error.payload_size_exceeded');

    const flood = await RawClient.join(node.url);
    for (let i = 1; i <= 400; i++) flood.send([16, i, {}, 'com.flood', [i]]);
    assert.equal(await abortOf(flood), 'kreuz.error.rate_limited');

    // Joined, then never answers a ping.
    const silent = new WebSocket(node.url, ['wamp.2.json'], { autoPong: false });
    await new Promise((resolve) => silent.once('open', resolve));
    silent.send(JSON.stringify([1, 'realm1', { roles: { subscriber: {} } }]));
    await within(new Promise((resolve) => silent.once('close', resolve)), 5000, 'the silent client dropped');

    // Subscribes, then stops reading while the router's own session publishes 16 KiB events (no rate limit applies to it).
    const slow = await RawClient.join(node.url);
    slow.send([32, 1, {}, 'com.slow']);
    assert.equal((await slow.next())[0], 33);
    (slow.ws as unknown as { _socket: Socket })._socket.pause();
    const publisher = LocalSession.internal(node.router, 'realm1', 'test-publisher');
    const payload = 'p'.repeat(16 * 1024);
    for (let i = 0; i < 4000 && (await health()).cutoffs.slow_consumer === 0; i++) {
      for (let j = 0; j < 50; j++) await publisher.publish('com.slow', [payload], undefined, { acknowledge: false });
    }

    const after = await health();
    assert.deepEqual(after.cutoffs, { slow_consumer: 1, rate_limited: 1, unresponsive: 1, too_big: 1, protocol_error: 1 });
    assert.equal(after.limits_reached.messageRate, 1);
    slow.close();
  });
});

describe('kreuz.node.* in a cluster (in-process backplane)', () => {
  const net = new MemoryNetwork();
  let a: RunningNode;
  let b: RunningNode;

  before(async () => {
    const start = (id: string) =>
      startNode({
        host: '127.0.0.1',
        port: 0,
        cluster: { name: 'stats', node: id, backplane: net.connect(id), heartbeat: 100, deadAfter: 300 },
      });
    a = await start('a');
    b = await start('b');
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  it("health shows the cluster view; on_stats is each node's own", async () => {
    const onA = await RawClient.join(a.url);
    const onB = await RawClient.join(b.url);
    try {
      let request = 0;
      await eventually(async () => {
        onA.send([48, ++request, {}, 'kreuz.node.get_health']);
        const cluster = ((await onA.next())[3] as any[])[0].cluster;
        return cluster?.nodes.length === 2;
      }, 'A sees B');
      onA.send([48, ++request, {}, 'kreuz.node.get_health']);
      const { cluster } = ((await onA.next())[3] as any[])[0];
      assert.equal(cluster.name, 'stats');
      assert.equal(cluster.node, 'a');
      assert.deepEqual(cluster.nodes.map((n: any) => [n.node, n.state, n.self]).sort(), [
        ['a', 'alive', true],
        ['b', 'alive', false],
      ]);
      // Subscribed on both nodes: each gets only its own node's stats.
      onA.send([32, 1, {}, 'kreuz.node.on_stats']);
      onB.send([32, 1, {}, 'kreuz.node.on_stats']);
      assert.equal((await onA.next())[0], 33);
      assert.equal((await onB.next())[0], 33);
      const nodesOf = async (client: RawClient) => {
        const seen = new Set<string>();
        for (let i = 0; i < 3; i++) {
          const event = await client.next(5000);
          assert.equal(event[0], 36, JSON.stringify(event).slice(0, 200));
          seen.add((event[4] as any[])[0].health.cluster.node);
        }
        return [...seen];
      };
      const [seenA, seenB] = await Promise.all([nodesOf(onA), nodesOf(onB)]);
      assert.deepEqual(seenA, ['a']);
      assert.deepEqual(seenB, ['b']);
    } finally {
      onA.close();
      onB.close();
    }
  });
});

describe('a realm added while the node runs', () => {
  let node: RunningNode;
  before(async () => {
    node = await startNode({ host: '127.0.0.1', port: 0 });
  });
  after(() => node.close());

  it('gets the node API with its first HELLO', async () => {
    // Added behind the router's back, as a reload would add it: nothing was attached to it at start.
    const router = node.router;
    const late = new Realm(
      { name: 'late' },
      {
        timers: realTimers,
        callQueueLimit: 0,
        limits: DEFAULT_LIMITS,
        counters: router.counters,
        protocolViolation: () => {},
        hookFailed: () => {},
      },
    );
    router.realms.set('late', late);
    assert.equal(late.dealer.lookup('kreuz.node.list_sessions', 'exact'), undefined);
    const client = await RawClient.join(node.url, 'json', 'late');
    try {
      client.send([48, 1, {}, 'kreuz.node.list_sessions']);
      const reply = await client.next();
      assert.equal(reply[0], 50, JSON.stringify(reply));
      const [sessions] = reply[3] as any[][];
      assert.equal(sessions.length, 1);
      assert.ok(isIso(sessions[0].joined), 'its join was seen');
      assert.deepEqual([sessions[0].messages_in, sessions[0].messages_out], [2, 1]);
    } finally {
      client.close();
    }
  });
});

describe('without the meta API', () => {
  let node: RunningNode;
  before(async () => {
    node = await startNode({ host: '127.0.0.1', port: 0, metaApi: false });
  });
  after(() => node.close());

  it('no kreuz.node.* procedure exists', async () => {
    const client = await RawClient.join(node.url);
    client.send([48, 1, {}, 'kreuz.node.get_health']);
    const reply = await client.next();
    assert.deepEqual(reply.slice(0, 5), [8, 48, 1, {}, 'wamp.error.no_such_procedure']);
    client.close();
  });
});
