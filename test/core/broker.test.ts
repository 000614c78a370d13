import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';

function setup() {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  return { router, a: MemoryClient.join(router), b: MemoryClient.join(router) };
}

describe('broker (in-memory peer)', () => {
  it('delivers EVENT with the payload exactly as published; no PUBLISHED unless acknowledge', () => {
    const { a, b } = setup();
    const sub = b.subscribe('com.example.topic');
    a.send([16, 1, {}, 'com.example.topic', ['x'], { y: [1] }]);
    assert.deepEqual(a.take(), []);
    const [event] = b.take();
    assert.equal(event[0], 36);
    assert.equal(event[1], sub);
    assert.deepEqual(event.slice(3), [{}, ['x'], { y: [1] }]);
  });

  it('sends PUBLISHED with the publication ID of the events when acknowledge is set', () => {
    const { a, b } = setup();
    b.subscribe('com.example.topic');
    a.send([16, 5, { acknowledge: true }, 'com.example.topic']);
    const [published] = a.take();
    const [event] = b.take();
    assert.deepEqual(published.slice(0, 2), [17, 5]);
    assert.equal(published[2], event[2]);
    assert.equal(event.length, 4);
  });

  it('excludes the publisher unless exclude_me is false', () => {
    const { a } = setup();
    const sub = a.subscribe('com.example.topic');
    a.send([16, 1, {}, 'com.example.topic']);
    assert.deepEqual(a.take(), []);
    a.send([16, 2, { exclude_me: false }, 'com.example.topic']);
    const [event] = a.take();
    assert.deepEqual([event[0], event[1]], [36, sub]);
  });

  it('gives every subscriber of a topic the same subscription ID', () => {
    const { router, a, b } = setup();
    const c = MemoryClient.join(router);
    const ids = [a.subscribe('com.example.t'), b.subscribe('com.example.t'), c.subscribe('com.example.t')];
    assert.equal(new Set(ids).size, 1);
    assert.equal(a.subscribe('com.example.t'), ids[0]); // subscribing again returns the same ID
  });

  it('unsubscribes; unknown subscriptions get wamp.error.no_such_subscription', () => {
    const { a, b } = setup();
    const sub = b.subscribe('com.example.t');
    a.send([34, 1, sub]);
    assert.equal(a.take()[0][4], 'wamp.error.no_such_subscription');
    b.send([34, 2, sub]);
    assert.deepEqual(b.take(), [[35, 2]]);
    a.send([16, 1, {}, 'com.example.t']);
    assert.deepEqual(b.take(), []);
  });

  it('answers an acknowledged publish to a bad or reserved URI with invalid_uri, an unacknowledged one with nothing', () => {
    const { a } = setup();
    for (const uri of ['com..bad', 'wamp.session.on_join']) {
      a.send([16, 1, { acknowledge: true }, uri]);
      assert.deepEqual(a.take()[0].slice(0, 5), [8, 16, 1, {}, 'wamp.error.invalid_uri']);
      a.send([16, 2, {}, uri]);
      assert.deepEqual(a.take(), []);
    }
  });

  it('drops the subscriptions of a session that leaves', () => {
    const { router, a, b } = setup();
    const sub = b.subscribe('com.example.t');
    b.disconnect();
    a.send([16, 1, { acknowledge: true }, 'com.example.t']);
    assert.equal(a.take()[0][0], 17);
    const c = MemoryClient.join(router);
    assert.notEqual(c.subscribe('com.example.t'), sub, 'the subscription was deleted with its last subscriber');
  });
});
