/**
 * Pattern-based SUBSCRIBE and REGISTER over a real WebSocket, with ticket
 * authentication and static roles: a pattern is authorized for every URI it
 * can reach, not for the string it names (issue 11).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RoleConfig } from '../../src/authz/roles.ts';
import type { RunningNode } from '../../src/node/server.ts';
import { login, nextOrNothing, request, startRoleNode } from './ticket-node.ts';

const ROLES: RoleConfig[] = [
  {
    name: 'reader',
    permissions: [
      { uri: 'com.x.news', match: 'exact', allow: { subscribe: true } },
      { uri: 'com.x.add', match: 'exact', allow: { register: true } },
      { uri: 'com.y.*', allow: { subscribe: true } },
      { uri: 'com.y.*.secret', allow: {} },
    ],
  },
  { name: 'backend', 'allow-by-default': true },
];

describe('pattern subscriptions and registrations over WebSocket', () => {
  let node: RunningNode;
  before(async () => {
    node = await startRoleNode(ROLES);
  });
  after(async () => {
    await node?.close();
  });

  it('a prefix subscription on an exactly permitted topic is refused, and receives nothing below it', async () => {
    const reader = await login(node, 'reader');
    const backend = await login(node, 'backend');
    const refused = await request(reader, [32, 1, { match: 'prefix' }, 'com.x.news']);
    assert.deepEqual(refused.slice(0, 5), [8, 32, 1, {}, 'wamp.error.not_authorized']);
    const exact = await request(reader, [32, 2, {}, 'com.x.news']);
    assert.equal(exact[0], 33, 'the exact subscription is allowed');
    assert.equal((await request(backend, [16, 1, { acknowledge: true }, 'com.x.news.secret', ['classified']]))[0], 17);
    assert.equal((await request(backend, [16, 2, { acknowledge: true }, 'com.x.news', ['headline']]))[0], 17);
    const event = await reader.next();
    assert.deepEqual([event[0], event[4]], [36, ['headline']], 'only the exact topic arrives');
    assert.equal(await nextOrNothing(reader), undefined);
    reader.close();
    backend.close();
  });

  it('a prefix registration on an exactly permitted procedure is refused, so no call below it reaches the client', async () => {
    const reader = await login(node, 'reader');
    const backend = await login(node, 'backend');
    const refused = await request(reader, [64, 1, { match: 'prefix' }, 'com.x.add']);
    assert.deepEqual(refused.slice(0, 5), [8, 64, 1, {}, 'wamp.error.not_authorized']);
    const call = await request(backend, [48, 1, {}, 'com.x.add.admin', ['drop everything']]);
    assert.deepEqual([call[0], call[4]], [8, 'wamp.error.no_such_procedure']);
    assert.equal(await nextOrNothing(reader), undefined, 'no INVOCATION');
    reader.close();
    backend.close();
  });

  it('a prefix grant covers patterns below it unless a wildcard deny cuts into them', async () => {
    const reader = await login(node, 'reader');
    assert.equal((await request(reader, [32, 1, { match: 'wildcard' }, 'com.y..news']))[0], 33);
    assert.equal((await request(reader, [32, 2, { match: 'prefix' }, 'com.y.a.b.']))[0], 33);
    const refused = await request(reader, [32, 3, { match: 'prefix' }, 'com.y.a']);
    assert.deepEqual(refused.slice(0, 5), [8, 32, 3, {}, 'wamp.error.not_authorized'], 'com.y.a.secret is denied');
    reader.close();
  });
});
