/**
 * Event retention (WAMP: pubsub_event_retention): PUBLISH.Options.retain keeps
 * the last event of a topic; SUBSCRIBE.Options.get_retained delivers it right
 * after SUBSCRIBED with EVENT.Details.retained = true.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import type { Outbound } from '../../src/wamp/messages.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { PUBLISH, SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBE, UNSUBSCRIBED, EVENT } from '../helpers/wamp-codes.ts';

function setup() {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  return { router, pub: MemoryClient.join(router) };
}

/** Subscribes and returns everything the router answered: SUBSCRIBED and the retained EVENTs. */
function subscribeAll(client: MemoryClient, uri: string, options: object): { id: number; events: Outbound[] } {
  const request = client.request();
  client.send([SUBSCRIBE, request, options, uri]);
  const [subscribed, ...events] = client.take();
  assert.deepEqual(subscribed?.slice(0, 2), [SUBSCRIBED, request], `SUBSCRIBED first: ${JSON.stringify(subscribed)}`);
  for (const e of events) assert.equal(e[0], EVENT, `only EVENTs after SUBSCRIBED: ${JSON.stringify(e)}`);
  return { id: subscribed[2] as number, events };
}

describe('broker: retained events', () => {
  it('get_retained gives the last retained event right after SUBSCRIBED, with Details.retained and the payload as published', () => {
    const { router, pub } = setup();
    pub.send([PUBLISH, 1, { retain: true }, 'com.r.t', ['v1'], { n: 1 }]);
    pub.send([PUBLISH, 2, { retain: true }, 'com.r.t', ['v2'], { n: 2, deep: { list: [1, 'a', null] } }]);
    const sub = MemoryClient.join(router);
    const { id, events } = subscribeAll(sub, 'com.r.t', { get_retained: true });
    assert.equal(events.length, 1, 'only the last retained event');
    const [event] = events;
    assert.deepEqual([event[0], event[1], event[3]], [EVENT, id, { retained: true }]);
    assert.ok(Number.isSafeInteger(event[2]) && (event[2] as number) > 0, 'a publication ID');
    assert.deepEqual(event.slice(4), [['v2'], { n: 2, deep: { list: [1, 'a', null] } }]);
  });

  it('a non-retained publish does not replace the retained event', () => {
    const { router, pub } = setup();
    pub.send([PUBLISH, 1, { retain: true }, 'com.r.t', ['kept']]);
    pub.send([PUBLISH, 2, {}, 'com.r.t', ['not retained']]);
    pub.send([PUBLISH, 3, { retain: false }, 'com.r.t', ['not retained either']]);
    const { events } = subscribeAll(MemoryClient.join(router), 'com.r.t', { get_retained: true });
    assert.deepEqual(
      events.map((e) => e.slice(3)),
      [[{ retained: true }, ['kept']]],
    );
  });

  it('the payload is exactly as published: none, args only, args and kwargs', () => {
    const { router, pub } = setup();
    pub.send([PUBLISH, 1, { retain: true }, 'com.r.none']);
    pub.send([PUBLISH, 2, { retain: true }, 'com.r.args', [1, [2], { three: 3 }]]);
    pub.send([PUBLISH, 3, { retain: true }, 'com.r.both', [], { only: 'kwargs' }]);
    const sub = MemoryClient.join(router);
    assert.deepEqual(
      subscribeAll(sub, 'com.r.none', { get_retained: true }).events.map((e) => e.slice(3)),
      [[{ retained: true }]],
    );
    assert.deepEqual(
      subscribeAll(sub, 'com.r.args', { get_retained: true }).events.map((e) => e.slice(3)),
      [[{ retained: true }, [1, [2], { three: 3 }]]],
    );
    assert.deepEqual(
      subscribeAll(sub, 'com.r.both', { get_retained: true }).events.map((e) => e.slice(3)),
      [[{ retained: true }, [], { only: 'kwargs' }]],
    );
  });

  it('without get_retained (or with false) no retained event is sent', () => {
    const { router, pub } = setup();
    pub.send([PUBLISH, 1, { retain: true }, 'com.r.t', ['v']]);
    const sub = MemoryClient.join(router);
    assert.deepEqual(subscribeAll(sub, 'com.r.t', {}).events, []);
    const other = MemoryClient.join(router);
    assert.deepEqual(subscribeAll(other, 'com.r.t', { get_retained: false }).events, []);
    // Subscribing again with get_retained (same subscription) does send it.
    const again = subscribeAll(other, 'com.r.t', { get_retained: true });
    assert.deepEqual(
      again.events.map((e) => [e[1], e[3], e[4]]),
      [[again.id, { retained: true }, ['v']]],
    );
  });

  it('a retained publish is delivered live as a normal event (no retained flag)', () => {
    const { router, pub } = setup();
    const sub = MemoryClient.join(router);
    const id = sub.subscribe('com.r.t');
    pub.send([PUBLISH, 1, { retain: true }, 'com.r.t', ['live']]);
    assert.deepEqual(
      sub.take().map((e) => [e[0], e[1], e[3], e[4]]),
      [[EVENT, id, {}, ['live']]],
    );
  });

  it('a prefix or wildcard subscription with get_retained gets the retained event of every matching topic, with Details.topic', () => {
    const { router, pub } = setup();
    pub.send([PUBLISH, 1, { retain: true }, 'com.r.a', ['a']]);
    pub.send([PUBLISH, 2, { retain: true }, 'com.r.b', ['b']]);
    pub.send([PUBLISH, 3, { retain: true }, 'com.r.b.deep', ['deep']]);
    pub.send([PUBLISH, 4, { retain: true }, 'org.r.a', ['other']]);
    const sub = MemoryClient.join(router);
    const prefix = subscribeAll(sub, 'com.r.', { match: 'prefix', get_retained: true });
    const sortByTopic = (list: unknown[][]) => list.sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    assert.deepEqual(sortByTopic(prefix.events.map((e) => [(e[3] as { topic: string }).topic, e[1], e[3], e[4]])), [
      ['com.r.a', prefix.id, { retained: true, topic: 'com.r.a' }, ['a']],
      ['com.r.b', prefix.id, { retained: true, topic: 'com.r.b' }, ['b']],
      ['com.r.b.deep', prefix.id, { retained: true, topic: 'com.r.b.deep' }, ['deep']],
    ]);
    const wildcard = subscribeAll(sub, '.r.a', { match: 'wildcard', get_retained: true });
    assert.deepEqual(sortByTopic(wildcard.events.map((e) => [(e[3] as { topic: string }).topic, e[1], e[3], e[4]])), [
      ['com.r.a', wildcard.id, { retained: true, topic: 'com.r.a' }, ['a']],
      ['org.r.a', wildcard.id, { retained: true, topic: 'org.r.a' }, ['other']],
    ]);
    assert.deepEqual(subscribeAll(sub, 'net.', { match: 'prefix', get_retained: true }).events, [], 'no retained event under net.');
  });

  it('a retained event published with eligible [X] goes only to a later subscriber X', () => {
    const { router, pub } = setup();
    const x = MemoryClient.join(router);
    const y = MemoryClient.join(router);
    pub.send([PUBLISH, 1, { retain: true, eligible: [x.session.id] }, 'com.r.private', ['for x']]);
    assert.deepEqual(subscribeAll(y, 'com.r.private', { get_retained: true }).events, [], 'y was not eligible');
    const forX = subscribeAll(x, 'com.r.private', { get_retained: true });
    assert.deepEqual(
      forX.events.map((e) => [e[1], e[3], e[4]]),
      [[forX.id, { retained: true }, ['for x']]],
    );
    // The same for exclude.
    pub.send([PUBLISH, 2, { retain: true, exclude: [y.session.id] }, 'com.r.excluded', ['not for y']]);
    assert.deepEqual(subscribeAll(y, 'com.r.excluded', { get_retained: true }).events, [], 'y was excluded');
    assert.equal(subscribeAll(x, 'com.r.excluded', { get_retained: true }).events.length, 1);
  });

  it('a retained event stays after every subscriber has left', () => {
    const { router, pub } = setup();
    const first = MemoryClient.join(router);
    const firstId = first.subscribe('com.r.t');
    pub.send([PUBLISH, 1, { retain: true }, 'com.r.t', ['still here']]);
    first.take();
    first.send([UNSUBSCRIBE, 9, firstId]);
    assert.deepEqual(first.take(), [[UNSUBSCRIBED, 9]]);
    const second = MemoryClient.join(router);
    second.subscribe('com.r.t');
    second.disconnect();
    pub.send([PUBLISH, 2, { retain: true }, 'com.r.nobody', ['never had a subscriber']]);
    const late = MemoryClient.join(router);
    assert.deepEqual(
      subscribeAll(late, 'com.r.t', { get_retained: true }).events.map((e) => e.slice(3)),
      [[{ retained: true }, ['still here']]],
    );
    assert.deepEqual(
      subscribeAll(late, 'com.r.nobody', { get_retained: true }).events.map((e) => e.slice(3)),
      [[{ retained: true }, ['never had a subscriber']]],
    );
  });

  it('retained events are kept per topic: a retain on one topic does not replace another', () => {
    const { router, pub } = setup();
    pub.send([PUBLISH, 1, { retain: true }, 'com.r.one', [1]]);
    pub.send([PUBLISH, 2, { retain: true }, 'com.r.two', [2]]);
    const sub = MemoryClient.join(router);
    assert.deepEqual(
      subscribeAll(sub, 'com.r.one', { get_retained: true }).events.map((e) => e[4]),
      [[1]],
    );
    assert.deepEqual(
      subscribeAll(sub, 'com.r.two', { get_retained: true }).events.map((e) => e[4]),
      [[2]],
    );
  });
});
