/** A session that leaves loses its subscriptions (WAMP: subscriptions are bound to the session). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { enableMetaApi } from '../../src/meta/index.ts';
import type { Outbound } from '../../src/wamp/messages.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';

const GOODBYE = 6;
const ERROR = 8;
const PUBLISH = 16;
const PUBLISHED = 17;
const EVENT = 36;
const CALL = 48;
const RESULT = 50;
const META_EVENTS = [
  'wamp.subscription.on_create',
  'wamp.subscription.on_subscribe',
  'wamp.subscription.on_unsubscribe',
  'wamp.subscription.on_delete',
];

const flush = () => new Promise((resolve) => setImmediate(resolve));

function setup() {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  enableMetaApi(router);
  const watcher = MemoryClient.join(router);
  const byId = new Map(META_EVENTS.map((topic) => [watcher.subscribe(topic), topic]));
  const events = () =>
    watcher
      .take()
      .filter((m) => m[0] === EVENT && byId.has(m[1] as number))
      .map((m) => [byId.get(m[1] as number)!, m[4]]);
  return { router, watcher, events };
}

async function result(client: MemoryClient, uri: string, args: unknown[] = []): Promise<unknown> {
  const request = client.request();
  client.send([CALL, request, {}, uri, args]);
  await flush();
  const reply: Outbound | undefined = client.take().find((m) => (m[0] === RESULT && m[1] === request) || (m[0] === ERROR && m[2] === request));
  assert.ok(reply, `no reply to ${uri}`);
  assert.equal(reply[0], RESULT, `${uri} failed: ${JSON.stringify(reply)}`);
  return (reply[3] as unknown[] | undefined)?.[0];
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
      assert.deepEqual(pub.take().map((m) => m[0]), [PUBLISHED]);
      assert.deepEqual(leaver.take(), [], 'the session that left gets nothing');
      assert.deepEqual(watcher.take().filter((m) => m[0] === EVENT && (m[4] as unknown[])[0] === 'anyone?'), []);
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
    assert.deepEqual(stays.take().map((m) => [m[0], m[1], m[4]]), [[EVENT, shared, ['still']]]);
    assert.deepEqual(await result(pub, 'wamp.subscription.list_subscribers', [shared]), [stays.session.id]);
  });
});
