/** The embedding API: createRouter(config) and in-process sessions. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, createRouter, Result, WampError, type RunningNode } from '../../src/index.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { ERROR, EVENT, CALL, RESULT, INVOCATION, YIELD } from '../helpers/wamp-codes.ts';

const config = {
  version: 2,
  workers: [
    {
      type: 'router',
      realms: [
        {
          name: 'realm1',
          roles: [
            {
              name: 'anonymous',
              permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }],
            },
            { name: 'reader', permissions: [{ uri: 'com.example.', match: 'prefix', allow: { call: true, subscribe: true } }] },
          ],
        },
      ],
      transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' } }],
    },
  ],
};

describe('createRouter and in-process sessions', () => {
  let node: RunningNode;
  let client: RawClient;

  before(async () => {
    node = await createRouter(config);
    client = await RawClient.join(node.url);
  });
  after(async () => {
    client?.close();
    await node?.close();
  });

  it('calls a procedure registered over WebSocket from an in-process session', async () => {
    client.send([64, 1, {}, 'com.example.add2']);
    assert.equal((await client.next())[0], 65);
    const session = await node.session('realm1');
    const answered = session.call('com.example.add2', [2, 3], { unit: 'apples' });
    const invocation = await client.next();
    assert.equal(invocation[0], INVOCATION);
    assert.deepEqual(invocation[4], [2, 3]);
    assert.deepEqual(invocation[5], { unit: 'apples' });
    client.send([YIELD, invocation[1], {}, [5], { unit: 'apples' }]);
    assert.deepEqual(await answered, { args: [5], kwargs: { unit: 'apples' }, details: {} });
    await session.close();
    assert.equal(session.isOpen, false);
  });

  it('offers procedures to WebSocket clients, with results and WAMP errors', async () => {
    const session = await node.session('realm1');
    await session.register(
      'com.example.greet',
      ([name], kwargs) => new Result([`hello ${String(name)}`], { polite: kwargs.polite === true }),
    );
    await session.register('com.example.fail', () => {
      throw new WampError('com.example.error.nope', ['not today']);
    });
    await session.register('com.example.async', async ([n]) => {
      await new Promise((r) => setTimeout(r, 20));
      return Number(n) * 2;
    });
    client.send([CALL, 10, {}, 'com.example.greet', ['Ada'], { polite: true }]);
    assert.deepEqual(await client.next(), [RESULT, 10, {}, ['hello Ada'], { polite: true }]);
    client.send([CALL, 11, {}, 'com.example.fail', []]);
    assert.deepEqual(await client.next(), [ERROR, CALL, 11, {}, 'com.example.error.nope', ['not today'], {}]);
    client.send([CALL, 12, {}, 'com.example.async', [21]]);
    assert.deepEqual(await client.next(), [RESULT, 12, {}, [42]]);
    await session.close();
    client.send([CALL, 13, {}, 'com.example.greet', []]);
    assert.equal((await client.next())[4], 'wamp.error.no_such_procedure', 'its registrations go with it');
  });

  it('publishes to WebSocket subscribers and receives their events', async () => {
    const session = await node.session('realm1');
    client.send([32, 20, {}, 'com.example.news']);
    const subscribed = await client.next();
    assert.equal(subscribed[0], 33);
    await session.publish('com.example.news', ['from inside'], { n: 1 });
    const event = await client.next();
    assert.equal(event[0], EVENT);
    assert.deepEqual(event.slice(4), [['from inside'], { n: 1 }]);

    const received: unknown[] = [];
    const subscription = await session.subscribe('com.example.chat', (args, kwargs) => received.push([args, kwargs]));
    client.send([16, 21, { acknowledge: true }, 'com.example.chat', ['hi'], { from: 'ws' }]);
    assert.equal((await client.next())[0], 17, 'PUBLISHED');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(received, [[['hi'], { from: 'ws' }]]);
    await subscription.unsubscribe();
    await session.close();
  });

  it('is a session like any other: listed by the meta API, authorized by its role', async () => {
    const session = await node.session('realm1');
    const { args } = await session.call('wamp.session.get', [session.id]);
    assert.equal((args[0] as { authrole: string }).authrole, 'trusted');
    const reader = await node.session('realm1', { authid: 'dashboard', authrole: 'reader' });
    await assert.rejects(
      reader.register('com.example.mine', () => 1),
      (err: unknown) => {
        assert.ok(err instanceof WampError, 'a WampError');
        assert.equal(err.uri, 'wamp.error.not_authorized');
        return true;
      },
    );
    await assert.rejects(node.session('realm1', { authrole: 'nobody' }), /wamp\.error\.no_such_role/);
    await assert.rejects(node.session('nowhere'), /wamp\.error\.no_such_realm/);
    await reader.close();
    await session.close();
  });

  it('ends in-process sessions at shutdown, rejecting what they still wait for', async () => {
    const other = await createRouter(config);
    const session = await other.session('realm1');
    let ended = false;
    session.onClose(() => (ended = true));
    await other.shutdown({ timeout: 500 });
    assert.equal(ended, true, 'onClose ran');
    await assert.rejects(session.call('wamp.session.count'), /closed/);
  });

  it('refuses an invalid config with every problem', async () => {
    await assert.rejects(
      createRouter({ version: 2, workers: [{ type: 'router', realms: [{ name: 'my realm' }], transports: [{ type: 'flashpolicy' }] }] }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, 'a ConfigError');
        assert.deepEqual(
          err.problems.map((p) => `${p.path}: ${p.message}`),
          [
            'workers[0].realms[0].name: must be a WAMP URI (dot-separated words without spaces)',
            'workers[0].transports[0].type: "flashpolicy" is not supported by Kreuz (Kreuz serves no Flash socket policy (no browser runs Flash any more): remove the transport)',
          ],
        );
        return true;
      },
    );
  });
});
