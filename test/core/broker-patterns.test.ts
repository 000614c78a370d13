/**
 * Pattern-based subscriptions (WAMP: pubsub_pattern_based_subscription): an
 * event reaches every matching subscription, one EVENT per subscription per
 * subscriber, with EVENT.Details.topic for prefix and wildcard subscriptions.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Router } from '../../src/core/router.ts';
import type { Outbound } from '../../src/wamp/messages.ts';
import type { MatchPolicy } from '../../src/wamp/uri-syntax.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { ERROR, PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBE, UNSUBSCRIBED, EVENT } from '../helpers/wamp-codes.ts';

function setup(clients = 2) {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  return { router, clients: Array.from({ length: clients }, () => MemoryClient.join(router)) };
}

function events(messages: Outbound[]): Outbound[] {
  for (const m of messages) assert.equal(m[0], EVENT, `expected only EVENTs, got ${JSON.stringify(m)}`);
  return messages;
}

describe('broker: pattern-based subscriptions', () => {
  it('subscribes with match exact, prefix and wildcard; the same URI under two policies is two subscriptions', () => {
    const {
      clients: [a],
    } = setup(1);
    const exact = a.subscribe('com.app.x', { match: 'exact' });
    const prefix = a.subscribe('com.app.x', { match: 'prefix' });
    const wildcard = a.subscribe('com.app.x', { match: 'wildcard' });
    const noMatch = a.subscribe('com.app.y');
    assert.equal(new Set([exact, prefix, wildcard, noMatch]).size, 4, 'four distinct subscription IDs');
    assert.equal(a.subscribe('com.app.y', { match: 'exact' }), noMatch, 'no match option means exact');
    for (const id of [exact, prefix, wildcard]) assert.ok(Number.isSafeInteger(id) && id > 0, `subscription ID ${id} is a WAMP ID`);
  });

  it('an event reaches every matching subscription: one EVENT each, same publication ID, Details.topic only for non-exact', () => {
    const {
      clients: [pub, sub],
    } = setup(2);
    const exact = sub.subscribe('com.app.x');
    const prefixes = [
      sub.subscribe('com', { match: 'prefix' }),
      sub.subscribe('com.app', { match: 'prefix' }),
      sub.subscribe('com.app.', { match: 'prefix' }),
    ];
    const wildcards = [
      sub.subscribe('com..x', { match: 'wildcard' }),
      sub.subscribe('.app.x', { match: 'wildcard' }),
      sub.subscribe('..', { match: 'wildcard' }),
    ];
    // Not matching: other exact URI, other prefix, wildcard of another length.
    sub.subscribe('com.app.xy');
    sub.subscribe('org', { match: 'prefix' });
    sub.subscribe('com.', { match: 'wildcard' });

    pub.send([PUBLISH, 1, {}, 'com.app.x', ['p'], { k: 1 }]);
    const got = events(sub.take());
    assert.equal(got.length, 7, `one EVENT per matching subscription: ${JSON.stringify(got)}`);
    const publication = got[0][2];
    for (const e of got) assert.equal(e[2], publication, 'every EVENT carries the same publication ID');
    const bySub = new Map(got.map((e) => [e[1] as number, e]));
    assert.equal(bySub.size, 7, 'each subscription got exactly one EVENT');
    assert.deepEqual(bySub.get(exact), [EVENT, exact, publication, {}, ['p'], { k: 1 }]);
    for (const id of [...prefixes, ...wildcards]) {
      assert.deepEqual(bySub.get(id), [EVENT, id, publication, { topic: 'com.app.x' }, ['p'], { k: 1 }]);
    }
  });

  it('a session subscribed by three matching subscriptions gets three EVENTs with one publication ID and the three subscription IDs', () => {
    const {
      clients: [pub, sub],
    } = setup(2);
    const ids = [sub.subscribe('com.a.b'), sub.subscribe('com.a', { match: 'prefix' }), sub.subscribe('com..b', { match: 'wildcard' })];
    pub.send([PUBLISH, 1, { acknowledge: true }, 'com.a.b']);
    const [published] = pub.take();
    assert.deepEqual(published.slice(0, 2), [PUBLISHED, 1]);
    const got = events(sub.take());
    assert.deepEqual(got.map((e) => e[1]).sort(), [...ids].sort(), 'the three subscription IDs');
    assert.deepEqual(new Set(got.map((e) => e[2])), new Set([published[2]]), 'one publication ID, the acknowledged one');
    assert.deepEqual(
      got.map((e) => e.length),
      [4, 4, 4],
      'no payload added',
    );
  });

  it('overlapping patterns from several sessions: each session gets one EVENT per own matching subscription', () => {
    const {
      clients: [pub, a, b, c],
    } = setup(4);
    const aExact = a.subscribe('com.shop.order.new');
    const aPrefix = a.subscribe('com.shop.', { match: 'prefix' });
    const bPrefix = b.subscribe('com.shop.', { match: 'prefix' });
    const bWild = b.subscribe('com.shop..new', { match: 'wildcard' });
    const cWild = c.subscribe('com.shop..new', { match: 'wildcard' });
    const cOther = c.subscribe('com.shop.order.old');
    assert.equal(aPrefix, bPrefix, 'one subscription for the same (uri, match)');
    assert.equal(bWild, cWild, 'one subscription for the same (uri, match)');
    assert.notEqual(cOther, aExact);

    pub.send([PUBLISH, 1, {}, 'com.shop.order.new', [1]]);
    const [ea, eb, ec] = [a, b, c].map((x) => events(x.take()));
    const publication = ea[0][2];
    const shape = (got: Outbound[]) => got.map((e) => [e[1], e[2], e[3], e[4]]).sort((x, y) => (x[0] as number) - (y[0] as number));
    const want = (list: Array<[number, object]>) =>
      list.map(([id, details]) => [id, publication, details, [1]]).sort((x, y) => (x[0] as number) - (y[0] as number));
    assert.deepEqual(
      shape(ea),
      want([
        [aExact, {}],
        [aPrefix, { topic: 'com.shop.order.new' }],
      ]),
    );
    assert.deepEqual(
      shape(eb),
      want([
        [bPrefix, { topic: 'com.shop.order.new' }],
        [bWild, { topic: 'com.shop.order.new' }],
      ]),
    );
    assert.deepEqual(shape(ec), want([[cWild, { topic: 'com.shop.order.new' }]]));

    pub.send([PUBLISH, 2, {}, 'com.shop.order.old']);
    assert.deepEqual(
      a.take().map((e) => e[1]),
      [aPrefix],
    );
    assert.deepEqual(
      b.take().map((e) => e[1]),
      [bPrefix],
    );
    assert.deepEqual(
      c.take().map((e) => e[1]),
      [cOther],
    );
  });

  it('prefix matching is by characters, not URI components', () => {
    const {
      clients: [pub, sub],
    } = setup(2);
    const id = sub.subscribe('com.ex', { match: 'prefix' });
    for (const [request, topic, hit] of [
      [1, 'com.ex', true],
      [2, 'com.example', true],
      [3, 'com.ex.more', true],
      [4, 'com.exa.b', true],
      [5, 'com.e', false],
      [6, 'com.fx', false],
      [7, 'org.com.ex', false],
    ] as const) {
      pub.send([PUBLISH, request, {}, topic]);
      const got = sub.take();
      if (hit)
        assert.deepEqual(
          got.map((e) => [e[0], e[1], e[3]]),
          [[EVENT, id, { topic }]],
          `${topic} matches prefix "com.ex"`,
        );
      else assert.deepEqual(got, [], `${topic} does not match prefix "com.ex"`);
    }
  });

  it('a wildcard matches any one component per empty position, with the same number of components', () => {
    const {
      clients: [pub, sub],
    } = setup(2);
    const id = sub.subscribe('com..update', { match: 'wildcard' });
    for (const [request, topic, hit] of [
      [1, 'com.user.update', true],
      [2, 'com.x.update', true],
      [3, 'com.a.b.update', false],
      [4, 'com.update', false],
      [5, 'com.user.updated', false],
      [6, 'org.user.update', false],
    ] as const) {
      pub.send([PUBLISH, request, {}, topic]);
      const got = sub.take();
      if (hit)
        assert.deepEqual(
          got.map((e) => [e[0], e[1], e[3]]),
          [[EVENT, id, { topic }]],
          `${topic} matches "com..update"`,
        );
      else assert.deepEqual(got, [], `${topic} does not match "com..update"`);
    }
  });

  it('the same session subscribing the same (uri, match) twice gets the same ID and one EVENT per publication', () => {
    const {
      clients: [pub, sub],
    } = setup(2);
    for (const match of ['exact', 'prefix', 'wildcard'] as const) {
      const uri = match === 'wildcard' ? `twice.${match}.` : `twice.${match}`;
      const first = sub.subscribe(uri, { match });
      const second = sub.subscribe(uri, { match });
      assert.equal(second, first, `same ID on a repeated ${match} SUBSCRIBE`);
      const topic = match === 'exact' ? uri : `twice.${match}.x`;
      pub.send([PUBLISH, 1, {}, topic, [match]]);
      const got = events(sub.take());
      assert.equal(got.length, 1, `one EVENT for ${match}: ${JSON.stringify(got)}`);
      assert.equal(got[0][1], first);
      // One UNSUBSCRIBE ends it: the session holds the subscription once.
      sub.send([UNSUBSCRIBE, 9, first]);
      assert.deepEqual(sub.take(), [[UNSUBSCRIBED, 9]]);
      pub.send([PUBLISH, 2, {}, topic]);
      assert.deepEqual(sub.take(), [], 'no EVENT after the single UNSUBSCRIBE');
    }
  });

  it('an invalid pattern for its match policy is answered with wamp.error.invalid_uri', () => {
    const {
      clients: [a],
    } = setup(1);
    for (const [request, uri, match] of [
      [1, 'com..x', 'exact'],
      [2, 'com..x', 'prefix'],
      [3, 'com.x y', 'wildcard'],
      [4, '', 'exact'],
    ] as const) {
      a.send([SUBSCRIBE, request, { match }, uri]);
      const got = a.take();
      assert.equal(got.length, 1, `one reply for ${uri} (${match})`);
      assert.deepEqual(got[0].slice(0, 5), [ERROR, SUBSCRIBE, request, {}, 'wamp.error.invalid_uri']);
    }
  });

  it('property: the (session, subscription) pairs receiving an EVENT equal a reference model over subscribe/unsubscribe/publish sequences', () => {
    const patterns: Array<[string, MatchPolicy]> = [
      ['a.b.c', 'exact'],
      ['a.b', 'exact'],
      ['a', 'prefix'],
      ['a.b', 'prefix'],
      ['a.b.', 'prefix'],
      ['ab', 'prefix'],
      ['a.b.c', 'prefix'],
      ['a..c', 'wildcard'],
      ['..', 'wildcard'],
      ['.b', 'wildcard'],
      ['a.b.c', 'wildcard'],
    ];
    const topics = ['a.b.c', 'a.b.d', 'a.x.c', 'a.b', 'ab.c', 'a', 'b.b'];
    const SESSIONS = 3;

    const matches = ([uri, match]: [string, MatchPolicy], topic: string): boolean => {
      if (match === 'exact') return uri === topic;
      if (match === 'prefix') return topic.startsWith(uri);
      const want = uri.split('.');
      const have = topic.split('.');
      if (want.length !== have.length) return false;
      for (let i = 0; i < want.length; i++) if (want[i] !== '' && want[i] !== have[i]) return false;
      return true;
    };

    type Command =
      | { kind: 'subscribe'; session: number; pattern: number }
      | { kind: 'unsubscribe'; session: number; pattern: number }
      | { kind: 'publish'; session: number; topic: number; excludeMe: boolean };
    const session = fc.integer({ min: 0, max: SESSIONS - 1 });
    const pattern = fc.integer({ min: 0, max: patterns.length - 1 });
    const command: fc.Arbitrary<Command> = fc.oneof(
      fc.record({ kind: fc.constant('subscribe' as const), session, pattern }),
      fc.record({ kind: fc.constant('unsubscribe' as const), session, pattern }),
      fc.record({
        kind: fc.constant('publish' as const),
        session,
        topic: fc.integer({ min: 0, max: topics.length - 1 }),
        excludeMe: fc.boolean(),
      }),
    );

    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 40 }), (commands) => {
        const { clients } = setup(SESSIONS);
        // Reference: the subscribers of each pattern, and the ID the router gave it while it exists.
        const subscribers = patterns.map(() => new Set<number>());
        const liveId = new Map<number, number>();
        const lastId = new Map<number, number>();
        let request = 100;
        for (const c of commands) {
          const client = clients[c.session];
          request++;
          if (c.kind === 'subscribe') {
            const [uri, match] = patterns[c.pattern];
            client.send([SUBSCRIBE, request, { match }, uri]);
            const got = client.take();
            assert.equal(got.length, 1, `one reply to SUBSCRIBE: ${JSON.stringify(got)}`);
            assert.deepEqual(got[0].slice(0, 2), [SUBSCRIBED, request]);
            const id = got[0][2] as number;
            const known = liveId.get(c.pattern);
            if (known !== undefined) assert.equal(id, known, 'an existing subscription keeps its ID');
            else assert.ok(![...liveId.values()].includes(id), 'a new subscription gets an ID not in use');
            liveId.set(c.pattern, id);
            lastId.set(c.pattern, id);
            subscribers[c.pattern].add(c.session);
          } else if (c.kind === 'unsubscribe') {
            const id = lastId.get(c.pattern);
            if (id === undefined) continue;
            client.send([UNSUBSCRIBE, request, id]);
            const got = client.take();
            if (subscribers[c.pattern].has(c.session)) {
              assert.deepEqual(got, [[UNSUBSCRIBED, request]]);
              subscribers[c.pattern].delete(c.session);
              if (subscribers[c.pattern].size === 0) liveId.delete(c.pattern);
            } else {
              assert.equal(got.length, 1, 'one reply to UNSUBSCRIBE');
              assert.deepEqual(got[0].slice(0, 5), [ERROR, UNSUBSCRIBE, request, {}, 'wamp.error.no_such_subscription']);
            }
          } else {
            const topic = topics[c.topic];
            client.send([PUBLISH, request, c.excludeMe ? {} : { exclude_me: false }, topic, [request]]);
            const expected: string[] = [];
            patterns.forEach((p, i) => {
              if (!matches(p, topic)) return;
              for (const s of subscribers[i]) {
                if (s === c.session && c.excludeMe) continue;
                expected.push(`${s}:${liveId.get(i)}:${p[1] === 'exact' ? '-' : topic}`);
              }
            });
            const actual: string[] = [];
            const publications = new Set<unknown>();
            clients.forEach((x, s) => {
              for (const e of x.take()) {
                assert.equal(e[0], EVENT, `only EVENTs after an unacknowledged PUBLISH: ${JSON.stringify(e)}`);
                assert.deepEqual(e.slice(4), [[request]], 'the payload as published');
                publications.add(e[2]);
                actual.push(`${s}:${e[1]}:${(e[3] as { topic?: string }).topic ?? '-'}`);
              }
            });
            assert.ok(publications.size <= 1, 'one publication ID per PUBLISH');
            assert.deepEqual(actual.sort(), expected.sort(), `receivers of ${topic} from session ${c.session}`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
