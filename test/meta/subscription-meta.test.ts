/**
 * Subscription meta API (WAMP: meta_api_subscriptions, plus Crossbar's
 * remove_subscriber): procedures and events with their exact payloads.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { SUBSCRIPTION_META_EVENTS as META_EVENTS, metaCalls, metaRouter, watch } from '../helpers/meta-calls.ts';
import { PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBE, UNSUBSCRIBED, EVENT } from '../helpers/wamp-codes.ts';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const { result, errorOf } = metaCalls({ keepOthers: true });

const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);

describe('subscription meta API', () => {
  it('announces subscription_meta_api on the broker', () => {
    const client = new MemoryClient(metaRouter());
    client.send([1, 'realm1', { roles: { subscriber: {} } }]);
    const roles = (client.take()[0][2] as { roles: { broker: { features: Record<string, unknown> } } }).roles;
    assert.equal(roles.broker.features.subscription_meta_api, true);
  });

  it('wamp.subscription.list, also for one session; wamp.* subscriptions hidden', async () => {
    const router = metaRouter();
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    const exact = a.subscribe('com.example.t');
    assert.equal(b.subscribe('com.example.t'), exact);
    const exact2 = b.subscribe('com.example.u');
    const prefix = a.subscribe('com.example.', { match: 'prefix' });
    const wildcard = b.subscribe('com..t', { match: 'wildcard' });
    a.subscribe('wamp.session.on_join');
    a.subscribe('wamp.', { match: 'prefix' });
    const all = (await result(a, 'wamp.subscription.list')) as Record<string, number[]>;
    assert.deepEqual(Object.keys(all).sort(), ['exact', 'prefix', 'wildcard']);
    assert.deepEqual(
      { exact: sorted(all.exact), prefix: all.prefix, wildcard: all.wildcard },
      { exact: sorted([exact, exact2]), prefix: [prefix], wildcard: [wildcard] },
    );
    assert.deepEqual(await result(a, 'wamp.subscription.list', [a.session.id]), { exact: [exact], prefix: [prefix], wildcard: [] });
    const ofB = (await result(a, 'wamp.subscription.list', [b.session.id])) as Record<string, number[]>;
    assert.deepEqual({ ...ofB, exact: sorted(ofB.exact) }, { exact: sorted([exact, exact2]), prefix: [], wildcard: [wildcard] });
    const c = MemoryClient.join(router);
    assert.deepEqual(await result(a, 'wamp.subscription.list', [c.session.id]), { exact: [], prefix: [], wildcard: [] });
    assert.equal(await errorOf(a, 'wamp.subscription.list', [4242]), 'wamp.error.no_such_session');
  });

  it('wamp.subscription.lookup finds an identical (uri, match), default exact; null otherwise or for wamp.*', async () => {
    const router = metaRouter();
    const a = MemoryClient.join(router);
    const exact = a.subscribe('com.example.t');
    const prefix = a.subscribe('com.example.t', { match: 'prefix' });
    const wildcard = a.subscribe('com..t', { match: 'wildcard' });
    a.subscribe('wamp.session.on_join');
    assert.equal(await result(a, 'wamp.subscription.lookup', ['com.example.t']), exact);
    assert.equal(await result(a, 'wamp.subscription.lookup', ['com.example.t', {}]), exact);
    assert.equal(await result(a, 'wamp.subscription.lookup', ['com.example.t', { match: 'exact' }]), exact);
    assert.equal(await result(a, 'wamp.subscription.lookup', ['com.example.t', { match: 'prefix' }]), prefix);
    assert.equal(await result(a, 'wamp.subscription.lookup', ['com..t', { match: 'wildcard' }]), wildcard);
    assert.equal(await result(a, 'wamp.subscription.lookup', ['com..t']), null);
    assert.equal(await result(a, 'wamp.subscription.lookup', ['com.example', { match: 'prefix' }]), null);
    assert.equal(await result(a, 'wamp.subscription.lookup', ['wamp.session.on_join']), null, 'wamp.* subscriptions are hidden');
  });

  it('wamp.subscription.match lists every matching subscription ID, or null', async () => {
    const router = metaRouter();
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    const exact = a.subscribe('com.example.t');
    const prefix1 = b.subscribe('com.', { match: 'prefix' });
    const prefix2 = a.subscribe('com.example', { match: 'prefix' });
    const wildcard = b.subscribe('com..t', { match: 'wildcard' });
    const other = a.subscribe('com.example.u');
    a.subscribe('wamp.session.on_join');
    assert.deepEqual(
      sorted((await result(a, 'wamp.subscription.match', ['com.example.t'])) as number[]),
      sorted([exact, prefix1, prefix2, wildcard]),
    );
    assert.deepEqual(
      sorted((await result(a, 'wamp.subscription.match', ['com.example.u'])) as number[]),
      sorted([other, prefix1, prefix2]),
    );
    assert.deepEqual(sorted((await result(a, 'wamp.subscription.match', ['com.x.t'])) as number[]), sorted([prefix1, wildcard]));
    assert.equal(await result(a, 'wamp.subscription.match', ['org.example.t']), null);
    assert.equal(await result(a, 'wamp.subscription.match', ['wamp.session.on_join']), null, 'wamp.* subscriptions are hidden');
  });

  it('wamp.subscription.get, list_subscribers, count_subscribers; unknown IDs get no_such_subscription', async () => {
    const router = metaRouter();
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    const before = Date.now();
    const id = a.subscribe('com.example.', { match: 'prefix' });
    b.subscribe('com.example.', { match: 'prefix' });
    const details = (await result(a, 'wamp.subscription.get', [id])) as Record<string, unknown>;
    assert.deepEqual(Object.keys(details).sort(), ['created', 'id', 'match', 'uri']);
    assert.deepEqual({ ...details, created: undefined }, { id, created: undefined, uri: 'com.example.', match: 'prefix' });
    assert.match(details.created as string, ISO);
    assert.ok(Math.abs(Date.parse(details.created as string) - before) < 5000, 'created is the time of the first SUBSCRIBE');
    assert.deepEqual(
      sorted((await result(a, 'wamp.subscription.list_subscribers', [id])) as number[]),
      sorted([a.session.id, b.session.id]),
    );
    assert.equal(await result(a, 'wamp.subscription.count_subscribers', [id]), 2);
    b.disconnect();
    assert.deepEqual(await result(a, 'wamp.subscription.list_subscribers', [id]), [a.session.id]);
    assert.equal(await result(a, 'wamp.subscription.count_subscribers', [id]), 1);
    for (const uri of ['wamp.subscription.get', 'wamp.subscription.list_subscribers', 'wamp.subscription.count_subscribers']) {
      assert.equal(await errorOf(a, uri, [999]), 'wamp.error.no_such_subscription', uri);
    }
    const hidden = a.subscribe('wamp.session.on_join');
    assert.equal(await errorOf(a, 'wamp.subscription.get', [hidden]), 'wamp.error.no_such_subscription', 'wamp.* subscriptions are hidden');
    assert.equal(await errorOf(a, 'wamp.subscription.get', ['x']), 'wamp.error.invalid_argument');
  });

  it('remove_subscriber: UNSUBSCRIBED [35, 0, {subscription, reason}] only to subscribers announcing subscription_revocation; no events afterwards', async () => {
    const router = metaRouter();
    const admin = MemoryClient.join(router);
    const revocable = MemoryClient.join(router, 'realm1', { publisher: {}, subscriber: { features: { subscription_revocation: true } } });
    const plain = MemoryClient.join(router, 'realm1', { publisher: {}, subscriber: {} });
    const id = revocable.subscribe('com.example.shared');
    plain.subscribe('com.example.shared');
    const events = watch(admin, META_EVENTS);

    assert.equal(
      await result(admin, 'wamp.subscription.remove_subscriber', [id, revocable.session.id], { reason: 'com.example.maintenance' }),
      undefined,
    );
    assert.deepEqual(revocable.take(), [[UNSUBSCRIBED, 0, { subscription: id, reason: 'com.example.maintenance' }]]);
    assert.deepEqual(events(), [['wamp.subscription.on_unsubscribe', [revocable.session.id, id]]]);
    admin.send([PUBLISH, 1, {}, 'com.example.shared', ['after revoke']]);
    assert.deepEqual(revocable.take(), [], 'a revoked subscriber gets no more events');
    assert.deepEqual(
      plain.take().map((m) => [m[0], m[1], m[4]]),
      [[EVENT, id, ['after revoke']]],
    );

    await result(admin, 'wamp.subscription.remove_subscriber', [id, plain.session.id]);
    assert.deepEqual(plain.take(), [], 'no UNSUBSCRIBED without subscription_revocation');
    assert.deepEqual(events(), [
      ['wamp.subscription.on_unsubscribe', [plain.session.id, id]],
      ['wamp.subscription.on_delete', [plain.session.id, id]],
    ]);
    admin.send([PUBLISH, 2, {}, 'com.example.shared']);
    assert.deepEqual(plain.take(), []);
    assert.equal(await result(admin, 'wamp.subscription.lookup', ['com.example.shared']), null, 'the subscription is gone');
    // The revoked session's UNSUBSCRIBE of that ID is now an error.
    revocable.send([UNSUBSCRIBE, 5, id]);
    assert.equal(revocable.take()[0][4], 'wamp.error.no_such_subscription');

    const again = revocable.subscribe('com.example.x');
    assert.equal(await errorOf(admin, 'wamp.subscription.remove_subscriber', [again, plain.session.id]), 'wamp.error.no_such_subscription');
    assert.equal(await errorOf(admin, 'wamp.subscription.remove_subscriber', [again, 4242]), 'wamp.error.no_such_session');
    assert.equal(
      await errorOf(admin, 'wamp.subscription.remove_subscriber', [999, revocable.session.id]),
      'wamp.error.no_such_subscription',
    );
  });

  it('subscription events on_create, on_subscribe, on_unsubscribe, on_delete with the spec payloads', async () => {
    const router = metaRouter();
    const watcher = MemoryClient.join(router);
    const events = watch(watcher, META_EVENTS);
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    const id = a.subscribe('com.example.t', { match: 'prefix' });
    b.subscribe('com.example.t', { match: 'prefix' });
    a.subscribe('com.example.t', { match: 'prefix' }); // already a subscriber: no event
    a.send([UNSUBSCRIBE, 50, id]);
    a.take();
    const bId = b.session.id;
    b.send([UNSUBSCRIBE, 51, id]);
    b.take();
    const seen = events();
    assert.equal(seen[0][0], 'wamp.subscription.on_create');
    const [creator, details] = seen[0][1] as [number, Record<string, unknown>];
    assert.equal(creator, a.session.id);
    assert.deepEqual({ ...details, created: undefined }, { id, created: undefined, uri: 'com.example.t', match: 'prefix' });
    assert.match(details.created as string, ISO);
    assert.deepEqual(seen.slice(1), [
      ['wamp.subscription.on_subscribe', [a.session.id, id]],
      ['wamp.subscription.on_subscribe', [bId, id]],
      ['wamp.subscription.on_unsubscribe', [a.session.id, id]],
      ['wamp.subscription.on_unsubscribe', [bId, id]],
      ['wamp.subscription.on_delete', [bId, id]],
    ]);
  });

  it('the meta events come after the SUBSCRIBED / UNSUBSCRIBED reply', () => {
    const router = metaRouter();
    const a = MemoryClient.join(router);
    const watched = new Map(META_EVENTS.map((topic) => [a.subscribe(topic), topic]));
    a.send([SUBSCRIBE, 100, {}, 'com.example.own']);
    const sent = a.take();
    assert.equal(sent[0][0], SUBSCRIBED);
    assert.deepEqual(
      sent.slice(1).map((m) => [m[0], watched.get(m[1] as number)]),
      [
        [EVENT, 'wamp.subscription.on_create'],
        [EVENT, 'wamp.subscription.on_subscribe'],
      ],
    );
    const id = sent[0][2] as number;
    a.send([UNSUBSCRIBE, 101, id]);
    const after = a.take();
    assert.deepEqual(after[0], [UNSUBSCRIBED, 101]);
    assert.deepEqual(
      after.slice(1).map((m) => [m[0], watched.get(m[1] as number), m[4]]),
      [
        [EVENT, 'wamp.subscription.on_unsubscribe', [a.session.id, id]],
        [EVENT, 'wamp.subscription.on_delete', [a.session.id, id]],
      ],
    );
  });

  it('no meta events for subscriptions to wamp.* topics', () => {
    const router = metaRouter();
    const watcher = MemoryClient.join(router);
    const events = watch(watcher, META_EVENTS);
    const a = MemoryClient.join(router);
    const ids = [
      a.subscribe('wamp.session.on_join'),
      a.subscribe('wamp.', { match: 'prefix' }),
      a.subscribe('wamp..on_join', { match: 'wildcard' }),
    ];
    for (const [i, id] of ids.entries()) {
      a.send([UNSUBSCRIBE, 200 + i, id]);
      assert.deepEqual(a.take(), [[UNSUBSCRIBED, 200 + i]]);
    }
    a.subscribe('wamp.session.on_leave');
    a.disconnect();
    assert.deepEqual(events(), []);
    // The watcher's own subscriptions to wamp.subscription.* raised none either; an application topic does.
    const b = MemoryClient.join(router);
    const id = b.subscribe('com.example.visible');
    assert.deepEqual(
      events().map(([topic]) => topic),
      ['wamp.subscription.on_create', 'wamp.subscription.on_subscribe'],
    );
    b.send([PUBLISH, 1, { acknowledge: true }, 'com.example.visible']);
    assert.deepEqual(
      b.take().map((m) => m[0]),
      [PUBLISHED],
    );
    assert.ok(id > 0, 'a subscription ID');
  });
});
