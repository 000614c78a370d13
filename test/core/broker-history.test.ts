/**
 * Event history (WAMP: pubsub_event_history, as Crossbar offers it): a realm's
 * eventHistory configuration keeps the last events of some topics, read with
 * wamp.subscription.get_events(subscription, limit), newest first.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HistoryConfig } from '../../src/core/event-store.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { metaCalls, metaRouter } from '../helpers/meta-calls.ts';
import { ERROR, PUBLISH, EVENT, CALL, RESULT } from '../helpers/wamp-codes.ts';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const { call } = metaCalls();

function setup(eventHistory: HistoryConfig[] = [{ uri: 'com.h.t', match: 'exact', limit: 3 }]) {
  const router = metaRouter({ eventHistory });
  return { router, pub: MemoryClient.join(router), sub: MemoryClient.join(router) };
}

async function getEvents(client: MemoryClient, args: unknown[]): Promise<Array<Record<string, unknown>>> {
  const reply = await call(client, 'wamp.subscription.get_events', args);
  assert.equal(reply[0], RESULT, `get_events failed: ${JSON.stringify(reply)}`);
  return (reply[3] as unknown[])[0] as Array<Record<string, unknown>>;
}

/** Publishes and returns the publication ID seen by a subscriber. */
function publish(pub: MemoryClient, sub: MemoryClient, topic: string, payload: unknown[], options: object = {}): number {
  pub.send([PUBLISH, pub.request(), options, topic, ...payload]);
  const got = sub.take();
  assert.equal(got.length, 1, `one EVENT for ${topic}: ${JSON.stringify(got)}`);
  assert.equal(got[0][0], EVENT);
  return got[0][2] as number;
}

describe('broker: event history', () => {
  it('get_events returns the newest events first, limited, each {timestamp, subscription, publication, topic, details, args, kwargs}', async () => {
    const { pub, sub } = setup();
    const id = sub.subscribe('com.h.t');
    const publications = [0, 1, 2, 3, 4].map((i) => publish(pub, sub, 'com.h.t', [[i], { n: i }]));
    const two = await getEvents(sub, [id, 2]);
    assert.equal(two.length, 2);
    for (const e of two) assert.match(e.timestamp as string, ISO);
    assert.deepEqual(
      two.map((e) => ({ ...e, timestamp: undefined })),
      [4, 3].map((i) => ({
        timestamp: undefined,
        subscription: id,
        publication: publications[i],
        topic: 'com.h.t',
        details: {},
        args: [i],
        kwargs: { n: i },
      })),
    );
    assert.ok(Date.parse(two[0].timestamp as string) >= Date.parse(two[1].timestamp as string), 'newest first');
    const all = await getEvents(sub, [id, 100]);
    assert.deepEqual(
      all.map((e) => e.publication),
      [publications[4], publications[3], publications[2]],
      'only the configured 3 are kept',
    );
    assert.deepEqual(
      all.map((e) => e.args),
      [[4], [3], [2]],
    );
  });

  it('history is kept whether or not anyone was subscribed at publication time', async () => {
    const { pub, sub } = setup();
    pub.send([PUBLISH, 1, {}, 'com.h.t', ['early']]);
    const id = sub.subscribe('com.h.t');
    const events = await getEvents(sub, [id, 10]);
    assert.deepEqual(
      events.map((e) => [e.topic, e.args, e.kwargs]),
      [['com.h.t', ['early'], {}]],
    );
  });

  it('events without payload list args [] and kwargs {}; disclosed publishers appear in details', async () => {
    const { pub, sub } = setup();
    const id = sub.subscribe('com.h.t');
    publish(pub, sub, 'com.h.t', []);
    publish(pub, sub, 'com.h.t', [[1, 2]], { disclose_me: true });
    const [withPublisher, bare] = await getEvents(sub, [id, 10]);
    assert.deepEqual([bare.args, bare.kwargs, bare.details], [[], {}, {}]);
    assert.deepEqual([withPublisher.args, withPublisher.kwargs], [[1, 2], {}]);
    assert.deepEqual(withPublisher.details, {
      publisher: pub.session.id,
      publisher_authid: pub.session.authid,
      publisher_authrole: 'anonymous',
    });
  });

  it('a subscription without configured history gets wamp.error.history_unavailable', async () => {
    const { pub, sub } = setup();
    const other = sub.subscribe('com.h.other');
    publish(pub, sub, 'com.h.other', [['x']]);
    const reply = await call(sub, 'wamp.subscription.get_events', [other, 5]);
    assert.deepEqual(reply.slice(0, 5), [ERROR, CALL, reply[2], {}, 'wamp.error.history_unavailable']);
    // The configured URI under another match policy is another subscription, without history.
    const prefix = sub.subscribe('com.h.t', { match: 'prefix' });
    const again = await call(sub, 'wamp.subscription.get_events', [prefix, 5]);
    assert.equal(again[4], 'wamp.error.history_unavailable');
    const unknown = await call(sub, 'wamp.subscription.get_events', [123456, 5]);
    assert.equal(unknown[4], 'wamp.error.no_such_subscription');
  });

  it('publications with exclude or eligible session lists are not stored', async () => {
    const { router, pub, sub } = setup();
    const other = MemoryClient.join(router);
    const id = sub.subscribe('com.h.t');
    const kept = publish(pub, sub, 'com.h.t', [['plain']]);
    publish(pub, sub, 'com.h.t', [['listed']], { eligible: [sub.session.id] });
    publish(pub, sub, 'com.h.t', [['excluding']], { exclude: [other.session.id] });
    publish(pub, sub, 'com.h.t', [['both']], { eligible: [sub.session.id], exclude: [other.session.id] });
    const events = await getEvents(sub, [id, 10]);
    assert.deepEqual(
      events.map((e) => [e.publication, e.args]),
      [[kept, ['plain']]],
    );
  });

  it('a prefix history configuration records the events of every topic under it', async () => {
    const { pub, sub } = setup([{ uri: 'com.p.', match: 'prefix', limit: 10 }]);
    const id = sub.subscribe('com.p.', { match: 'prefix' });
    const a = publish(pub, sub, 'com.p.a', [[1]]);
    const b = publish(pub, sub, 'com.p.b.c', [[2]]);
    pub.send([PUBLISH, 99, {}, 'com.q', [3]]);
    const c = publish(pub, sub, 'com.p.a', [[4]]);
    const events = await getEvents(sub, [id, 10]);
    assert.deepEqual(
      events.map((e) => [e.publication, e.topic, e.args, e.subscription]),
      [
        [c, 'com.p.a', [4], id],
        [b, 'com.p.b.c', [2], id],
        [a, 'com.p.a', [1], id],
      ],
    );
  });
});
