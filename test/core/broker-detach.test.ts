/** A session that leaves loses its subscriptions (WAMP: subscriptions are bound to the session). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { SUBSCRIPTION_META_EVENTS, metaCalls, metaRouter, watch } from '../helpers/meta-calls.ts';
import { GOODBYE, PUBLISH, PUBLISHED, EVENT } from '../helpers/wamp-codes.ts';

const { result } = metaCalls();

function setup() {
  const router = metaRouter();
  const watcher = MemoryClient.join(router);
  const events = watch(watcher, SUBSCRIPTION_META_EVENTS);
  return { router, watcher, events };
}

describe('broker: a session leaving', () => {
  for (const [how, leave] of [
    ['its transport closes', (c: MemoryClient) => c.disconnect()],
    ['it says GOODBYE', (c: MemoryClient) => c.send([GOODBYE, {}, 'wamp.close.close_realm'])],
  ] as const) {
    it(`when ${how}, its subscriptions go (on_unsubscribe then on_delete) and a publish reaches no one`, async () => {
      const { router, watcher, events } = setup();
      const leaver = MemoryClient.join(router);
      const exact = leaver.subscribe('com.leave.t');
      const prefix = leaver.subscribe('com.leave.', { match: 'prefix' });
      const wildcard = leaver.subscribe('com..t', { match: 'wildcard' });
      events();
      const id = leaver.session.id;
      leave(leaver);
      assert.deepEqual(events(), [
        ['wamp.subscription.on_unsubscribe', [id, exact]],
        ['wamp.subscription.on_delete', [id, exact]],
        ['wamp.subscription.on_unsubscribe', [id, prefix]],
        ['wamp.subscription.on_delete', [id, prefix]],
        ['wamp.subscription.on_unsubscribe', [id, wildcard]],
        ['wamp.subscription.on_delete', [id, wildcard]],
      ]);
      leaver.take();
      const pub = MemoryClient.join(router);
      pub.send([PUBLISH, 1, { acknowledge: true }, 'com.leave.t', ['anyone?']]);
      assert.deepEqual(
        pub.take().map((m) => m[0]),
        [PUBLISHED],
      );
      assert.deepEqual(leaver.take(), [], 'the session that left gets nothing');
      assert.deepEqual(
        watcher.take().filter((m) => m[0] === EVENT && (m[4] as unknown[])[0] === 'anyone?'),
        [],
      );
      assert.equal(await result(pub, 'wamp.subscription.match', ['com.leave.t']), null);
      assert.deepEqual(await result(pub, 'wamp.subscription.list'), { exact: [], prefix: [], wildcard: [] });
    });
  }

  it('a shared subscription survives its other subscribers: on_unsubscribe only, no on_delete', async () => {
    const { router, events } = setup();
    const stays = MemoryClient.join(router);
    const leaver = MemoryClient.join(router);
    const shared = stays.subscribe('com.leave.t');
    assert.equal(leaver.subscribe('com.leave.t'), shared);
    const own = leaver.subscribe('com.leave.own');
    events();
    const id = leaver.session.id;
    leaver.disconnect();
    assert.deepEqual(events(), [
      ['wamp.subscription.on_unsubscribe', [id, shared]],
      ['wamp.subscription.on_unsubscribe', [id, own]],
      ['wamp.subscription.on_delete', [id, own]],
    ]);
    const pub = MemoryClient.join(router);
    pub.send([PUBLISH, 1, {}, 'com.leave.t', ['still']]);
    assert.deepEqual(
      stays.take().map((m) => [m[0], m[1], m[4]]),
      [[EVENT, shared, ['still']]],
    );
    assert.deepEqual(await result(pub, 'wamp.subscription.list_subscribers', [shared]), [stays.session.id]);
  });
});
