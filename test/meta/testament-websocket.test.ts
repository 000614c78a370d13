/**
 * Testaments over a real WebSocket, with ticket authentication and static
 * and dynamic roles: authorized when added as the PUBLISH they will become,
 * and limited per session (count and bytes, flush frees them).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RoleConfig } from '../../src/authz/roles.ts';
import type { RunningNode } from '../../src/node/server.ts';
import type { RawClient } from '../helpers/raw-client.ts';
import { login, nextOrNothing, request, startRoleNode } from '../authz/ticket-node.ts';

const ROLES: RoleConfig[] = [
  {
    name: 'app',
    permissions: [
      { uri: 'wamp.session.', match: 'prefix', allow: { call: true } },
      { uri: 'com.example.', match: 'prefix', allow: { publish: true } },
    ],
  },
  { name: 'listener', 'allow-by-default': true },
  { name: 'authorizer', permissions: [{ uri: 'com.example.authorize', match: 'exact', allow: { register: true } }] },
  { name: 'dynamic', authorizer: 'com.example.authorize' },
];

let requests = 100;
const addTestament = (client: RawClient, topic: string, args: unknown[], kwargs: object = {}) =>
  request(client, [48, ++requests, {}, 'wamp.session.add_testament', [topic, args, {}], kwargs]);

describe('testaments over WebSocket', () => {
  let node: RunningNode;
  before(async () => {
    node = await startRoleNode(ROLES);
  });
  after(async () => {
    await node?.close();
  });

  async function listen(topic: string): Promise<RawClient> {
    const listener = await login(node, 'listener');
    assert.equal((await request(listener, [32, 1, { match: 'prefix' }, topic]))[0], 33);
    return listener;
  }

  it('a testament on a topic the role may not publish to is refused when added; the allowed one fires', async () => {
    const listener = await listen('com.');
    const app = await login(node, 'app');
    const refused = await addTestament(app, 'com.other.gone', ['no']);
    assert.deepEqual([refused[0], refused[4]], [8, 'wamp.error.not_authorized']);
    assert.equal((await addTestament(app, 'com.example.gone', ['yes']))[0], 50);
    app.close(); // no GOODBYE: the destroyed-scope testament fires
    const event = await listener.next();
    assert.deepEqual([event[0], (event[3] as { topic: string }).topic, event[4]], [36, 'com.example.gone', ['yes']]);
    assert.equal(await nextOrNothing(listener), undefined, 'the refused one never fires');
    listener.close();
  });

  it('at most 64 testaments and 256 KiB of them per session; flush frees both', async () => {
    const app = await login(node, 'app');
    for (let i = 0; i < 64; i++) assert.equal((await addTestament(app, 'com.example.t', [i]))[0], 50);
    const full = await addTestament(app, 'com.example.t', [64], { scope: 'detached' });
    assert.deepEqual([full[0], full[4]], [8, 'kreuz.error.limit_reached']);
    const flushed = await request(app, [48, 1, {}, 'wamp.session.flush_testaments', [], {}]);
    assert.deepEqual([flushed[0], flushed[3]], [50, [64]]);
    const big = 'x'.repeat(200 * 1024);
    assert.equal((await addTestament(app, 'com.example.t', [big]))[0], 50);
    const tooMuch = await addTestament(app, 'com.example.t', [big.slice(0, 60 * 1024)]);
    assert.deepEqual([tooMuch[0], tooMuch[4]], [8, 'kreuz.error.limit_reached']);
    assert.match((tooMuch[5] as string[])[0], /at most 262144 bytes/);
    await request(app, [48, 2, {}, 'wamp.session.flush_testaments', [], {}]);
    assert.equal((await addTestament(app, 'com.example.t', [big]))[0], 50, 'room again after the flush');
    app.close();
  });

  it("the node's limits.testaments and limits.testamentBytes apply", async () => {
    const small = await startRoleNode(ROLES, { testaments: 1, testamentBytes: 100 * 1024 });
    try {
      const app = await login(small, 'app');
      assert.equal((await addTestament(app, 'com.example.t', ['one']))[0], 50);
      const full = await addTestament(app, 'com.example.t', ['two']);
      assert.deepEqual([full[0], full[4]], [8, 'kreuz.error.limit_reached']);
      app.close();
    } finally {
      await small.close();
    }
  });

  describe('with a dynamic authorizer', () => {
    /** Registers com.example.authorize over WebSocket, answering every question with `decide`; returns the questions asked. */
    async function authorizer(decide: (uri: string, action: string) => boolean): Promise<{ asked: string[]; client: RawClient }> {
      const client = await login(node, 'authorizer');
      assert.equal((await request(client, [64, 1, {}, 'com.example.authorize']))[0], 65);
      const asked: string[] = [];
      void (async () => {
        for (;;) {
          const m = await client.next(10_000).catch(() => undefined);
          if (!m) return;
          if (m[0] !== 68) continue;
          const [, uri, action] = m[4] as [unknown, string, string];
          asked.push(`${action} ${uri}`);
          client.send([70, m[1], {}, [decide(uri, action)]]);
        }
      })();
      return { asked, client };
    }

    const decide = (uri: string, action: string) =>
      (action === 'call' && uri.startsWith('wamp.session.')) || uri.startsWith('com.example.ok');

    async function until(check: () => boolean): Promise<void> {
      for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(check(), 'in time');
    }

    it('asks it about the PUBLISH each testament will become, and keeps only the allowed ones', async () => {
      const auth = await authorizer(decide);
      const listener = await listen('com.example.');
      const user = await login(node, 'dynamic');
      await addTestament(user, 'com.example.ok', ['allowed']);
      await addTestament(user, 'com.example.no', ['refused']);
      await until(() => auth.asked.length === 4);
      assert.deepEqual(auth.asked, [
        'call wamp.session.add_testament',
        'publish com.example.ok',
        'call wamp.session.add_testament',
        'publish com.example.no',
      ]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      user.close();
      const event = await listener.next();
      assert.deepEqual([(event[3] as { topic: string }).topic, event[4]], ['com.example.ok', ['allowed']]);
      assert.equal(await nextOrNothing(listener), undefined, 'the refused one never fires');
      listener.close();
      auth.client.close();
    });

    it('a refused testament fails the add_testament call with not_authorized', async () => {
      const auth = await authorizer(decide);
      const user = await login(node, 'dynamic');
      const reply = await addTestament(user, 'com.example.no', ['refused']);
      assert.deepEqual([reply[0], reply[4]], [8, 'wamp.error.not_authorized']);
      user.close();
      auth.client.close();
    });
  });
});
