import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { routerFeatures } from '../../src/wamp/features.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';

const router = () => new Router({ realms: [{ name: 'realm1' }] });

describe('session lifecycle (in-memory peer)', () => {
  it('answers HELLO with WELCOME carrying the session, auth details and implemented roles only', () => {
    const client = new MemoryClient(router());
    client.send([1, 'realm1', { roles: { caller: {} } }]);
    const [welcome] = client.take();
    assert.equal(welcome[0], 2);
    const id = welcome[1] as number;
    assert.ok(Number.isInteger(id) && id >= 1 && id <= 2 ** 53);
    const details = welcome[2] as Record<string, unknown>;
    assert.equal(details.realm, 'realm1');
    assert.equal(details.authrole, 'anonymous');
    assert.equal(details.authmethod, 'anonymous');
    assert.equal(details.authprovider, 'static');
    assert.match(details.authid as string, /^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$/);
    const features = routerFeatures();
    assert.deepEqual(details.roles, { broker: { features: features.broker }, dealer: { features: features.dealer } });
    assert.equal((details.roles as any).dealer.features.call_canceling, true, 'one "l", as Autobahn expects');
    assert.equal(client.session.id, id);
  });

  it('aborts an unknown realm with wamp.error.no_such_realm and closes', () => {
    const client = new MemoryClient(router());
    client.send([1, 'nosuchrealm', { roles: { caller: {} } }]);
    const [abort] = client.take();
    assert.equal(abort.length, 3);
    assert.equal(abort[0], 3);
    assert.equal(abort[2], 'wamp.error.no_such_realm');
    assert.ok(client.peer.closedWith);
  });

  it('aborts a HELLO that offers no allowed authmethod', () => {
    const client = new MemoryClient(router());
    client.send([1, 'realm1', { roles: { caller: {} }, authmethods: ['ticket'] }]);
    const [abort] = client.take();
    assert.deepEqual([abort[0], abort[2]], [3, 'wamp.error.no_auth_method']);
  });

  for (const [name, message] of [
    ['CALL', [48, 1, {}, 'com.example.add']],
    ['GOODBYE', [6, {}, 'wamp.close.normal']],
    ['REGISTER', [64, 1, {}, 'com.example.add']],
  ] as const) {
    it(`treats ${name} before HELLO as a protocol violation`, () => {
      const client = new MemoryClient(router());
      client.send(message);
      const sent = client.take();
      assert.equal(sent.length, 1);
      assert.equal(sent[0].length, 3, 'ABORT has exactly 3 elements');
      assert.deepEqual([sent[0][0], sent[0][2]], [3, 'wamp.error.protocol_violation']);
      assert.ok(client.peer.closedWith);
    });
  }

  it('treats a second HELLO as a protocol violation and drops the session state', () => {
    const r = router();
    const client = MemoryClient.join(r);
    client.register('com.example.add');
    client.send([1, 'realm1', { roles: { caller: {} } }]);
    const [abort] = client.take();
    assert.deepEqual([abort[0], abort[2]], [3, 'wamp.error.protocol_violation']);
    // Its registration is gone: another session may take the URI.
    MemoryClient.join(r).register('com.example.add');
  });

  it('answers GOODBYE with GOODBYE (3 elements) and lets the transport carry a new session', () => {
    const r = router();
    const client = MemoryClient.join(r);
    client.register('com.example.add');
    client.send([6, {}, 'wamp.close.close_realm']);
    assert.deepEqual(client.take(), [[6, {}, 'wamp.close.goodbye_and_out']]);
    assert.equal(client.peer.closedWith, undefined);
    MemoryClient.join(r).register('com.example.add'); // the old registration is gone
    client.send([1, 'realm1', { roles: { caller: {} } }]);
    assert.equal(client.take()[0][0], 2);
  });

  it('sends GOODBYE on router shutdown and completes when the client replies', () => {
    const r = router();
    const client = MemoryClient.join(r);
    r.kill(client.session);
    assert.deepEqual(client.take(), [[6, {}, 'wamp.close.system_shutdown']]);
    client.send([6, {}, 'wamp.close.goodbye_and_out']);
    assert.deepEqual(client.take(), []);
    assert.equal(client.session.state, 'opening');
  });

  for (const [name, message] of [
    ['a non-array', { hello: 1 }],
    ['an empty array', []],
    ['an unknown message code', [999, 1, {}]],
    ['a string code', ['48', 1, {}, 'a.b']],
    ['a WELCOME from a client', [2, 1, {}]],
    ['a CALL with a string request id', [48, 'x', {}, 'a.b']],
    ['a CALL with request id 0', [48, 0, {}, 'a.b']],
    ['a CALL with request id above 2^53', [48, 2 ** 53 + 2, {}, 'a.b']],
    ['a CALL with a list as options', [48, 1, [], 'a.b']],
    ['a CALL with a dict as args', [48, 1, {}, 'a.b', {}]],
    ['a CALL with a list as kwargs', [48, 1, {}, 'a.b', [], []]],
    ['a CALL with too many elements', [48, 1, {}, 'a.b', [], {}, 1]],
    ['a PUBLISH with a numeric topic', [16, 1, {}, 7]],
    ['a PUBLISH whose acknowledge is not a bool', [16, 1, { acknowledge: 1 }, 'a.b']],
    ['a REGISTER with an unknown match policy', [64, 1, { match: 'fuzzy' }, 'a.b']],
    ['an ERROR for a CALL (only INVOCATION errors come from clients)', [8, 48, 1, {}, 'a.b']],
    ['a YIELD without options', [70, 1]],
  ] as const) {
    it(`aborts ${name} with wamp.error.protocol_violation`, () => {
      const client = MemoryClient.join(router());
      client.send(message);
      const sent = client.take();
      assert.equal(sent.length, 1);
      assert.deepEqual([sent[0][0], sent[0].length, sent[0][2]], [3, 3, 'wamp.error.protocol_violation']);
      assert.ok(client.peer.closedWith);
      assert.equal(client.session.state, 'closed');
    });
  }

  it('aborts a HELLO whose feature flags are not booleans', () => {
    const client = new MemoryClient(router());
    client.send([1, 'realm1', { roles: { caller: { features: { call_canceling: 1 } } } }]);
    assert.deepEqual(client.take()[0][2], 'wamp.error.protocol_violation');
  });

  it('ignores everything after the transport closed', () => {
    const client = MemoryClient.join(router());
    client.disconnect();
    client.send([48, 1, {}, 'a.b']);
    assert.deepEqual(client.take(), []);
  });
});
