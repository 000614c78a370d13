/**
 * PUBLISH.Options: subscriber black- and whitelisting, publisher exclusion,
 * publisher identification and acknowledgement (WAMP: advanced PubSub).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import type { Outbound } from '../../src/wamp/messages.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { WELCOME, ERROR, PUBLISH, PUBLISHED, EVENT } from '../helpers/wamp-codes.ts';

const TOPIC = 'com.example.news';

interface Joined {
  client: MemoryClient;
  welcome: Outbound;
}

function joinWithWelcome(router: Router): Joined {
  const client = new MemoryClient(router);
  client.send([1, 'realm1', { roles: { publisher: {}, subscriber: {} } }]);
  const [welcome] = client.take();
  assert.equal(welcome?.[0], WELCOME, `expected WELCOME, got ${JSON.stringify(welcome)}`);
  return { client, welcome };
}

/** A publisher and three subscribers (a, b, c), all subscribed to TOPIC. */
function setup() {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  const [pub, a, b, c] = [0, 1, 2, 3].map(() => joinWithWelcome(router).client);
  const sub = a.subscribe(TOPIC);
  b.subscribe(TOPIC);
  c.subscribe(TOPIC);
  pub.subscribe(TOPIC);
  const named = { pub, a, b, c };
  /** Publishes with these options and returns the names of the sessions that got the EVENT. */
  const receivers = (options: object): string[] => {
    pub.send([PUBLISH, 1, options, TOPIC, ['x']]);
    const got: string[] = [];
    for (const [name, client] of Object.entries(named)) {
      const sent = client.take();
      assert.ok(sent.length <= 1, `at most one EVENT for ${name}: ${JSON.stringify(sent)}`);
      if (sent.length === 1) {
        assert.deepEqual([sent[0][0], sent[0][1], sent[0][3], sent[0][4]], [EVENT, sub, {}, ['x']], `EVENT for ${name}`);
        got.push(name);
      }
    }
    return got;
  };
  return { router, pub, a, b, c, receivers };
}

describe('broker: subscriber black- and whitelisting', () => {
  it('an anonymous session has its generated authid in WELCOME.Details and authrole "anonymous"', () => {
    const router = new Router({ realms: [{ name: 'realm1' }] });
    const { client, welcome } = joinWithWelcome(router);
    const details = welcome[2] as Record<string, unknown>;
    assert.equal(welcome[1], client.session.id);
    assert.equal(typeof details.authid, 'string');
    assert.ok((details.authid as string).length > 0, 'a non-empty authid');
    assert.equal(details.authid, client.session.authid);
    assert.equal(details.authrole, 'anonymous');
    const other = joinWithWelcome(router);
    assert.notEqual((other.welcome[2] as Record<string, unknown>).authid, details.authid, 'each anonymous session its own authid');
  });

  it('without lists every subscriber but the publisher receives; exclude_me false includes the publisher', () => {
    const { receivers } = setup();
    assert.deepEqual(receivers({}), ['a', 'b', 'c']);
    assert.deepEqual(receivers({ exclude_me: true }), ['a', 'b', 'c']);
    assert.deepEqual(receivers({ exclude_me: false }), ['pub', 'a', 'b', 'c']);
  });

  it('exclude (session IDs) alone', () => {
    const { a, b, receivers } = setup();
    assert.deepEqual(receivers({ exclude: [a.session.id] }), ['b', 'c']);
    assert.deepEqual(receivers({ exclude: [a.session.id, b.session.id] }), ['c']);
    assert.deepEqual(receivers({ exclude: [a.session.id], exclude_me: false }), ['pub', 'b', 'c']);
    assert.deepEqual(receivers({ exclude: [] }), ['a', 'b', 'c'], 'an empty exclude list excludes no one');
  });

  it('exclude_authid alone', () => {
    const { pub, b, c, receivers } = setup();
    assert.deepEqual(receivers({ exclude_authid: [b.session.authid] }), ['a', 'c']);
    assert.deepEqual(receivers({ exclude_authid: [b.session.authid, c.session.authid] }), ['a']);
    assert.deepEqual(receivers({ exclude_authid: [b.session.authid], exclude_me: false }), ['pub', 'a', 'c']);
    assert.deepEqual(
      receivers({ exclude_authid: [pub.session.authid], exclude_me: false }),
      ['a', 'b', 'c'],
      'exclude_authid applies to the publisher too',
    );
  });

  it('exclude_authrole alone', () => {
    const { receivers } = setup();
    assert.deepEqual(receivers({ exclude_authrole: ['anonymous'] }), [], 'every session here is anonymous');
    assert.deepEqual(receivers({ exclude_authrole: ['admin'] }), ['a', 'b', 'c']);
    assert.deepEqual(receivers({ exclude_authrole: ['anonymous'], exclude_me: false }), []);
  });

  it('eligible (session IDs) alone', () => {
    const { a, c, receivers } = setup();
    assert.deepEqual(receivers({ eligible: [a.session.id] }), ['a']);
    assert.deepEqual(receivers({ eligible: [a.session.id, c.session.id] }), ['a', 'c']);
    assert.deepEqual(receivers({ eligible: [] }), [], 'an empty eligible list admits no one');
    assert.deepEqual(receivers({ eligible: [987654321] }), []);
  });

  it('eligible_authid alone', () => {
    const { b, c, receivers } = setup();
    assert.deepEqual(receivers({ eligible_authid: [c.session.authid] }), ['c']);
    assert.deepEqual(receivers({ eligible_authid: [b.session.authid, c.session.authid] }), ['b', 'c']);
    assert.deepEqual(receivers({ eligible_authid: [] }), []);
  });

  it('eligible_authrole alone', () => {
    const { receivers } = setup();
    assert.deepEqual(receivers({ eligible_authrole: ['anonymous'] }), ['a', 'b', 'c']);
    assert.deepEqual(receivers({ eligible_authrole: ['admin'] }), []);
    assert.deepEqual(receivers({ eligible_authrole: ['anonymous'], exclude_me: false }), ['pub', 'a', 'b', 'c']);
  });

  it('authrole lists tell sessions apart by role', () => {
    const { a, b, receivers } = setup();
    // Kreuz authenticates anonymously only so far: give two sessions other roles directly.
    a.session.authrole = 'admin';
    b.session.authrole = 'user';
    assert.deepEqual(receivers({ eligible_authrole: ['admin'] }), ['a']);
    assert.deepEqual(receivers({ eligible_authrole: ['admin', 'user'] }), ['a', 'b']);
    assert.deepEqual(receivers({ exclude_authrole: ['admin'] }), ['b', 'c']);
    assert.deepEqual(receivers({ exclude_authrole: ['anonymous'], exclude_me: false }), ['a', 'b']);
    assert.deepEqual(receivers({ eligible_authrole: ['admin', 'user'], exclude_authrole: ['user'] }), ['a']);
  });

  it('combined lists: a receiver must be in every given eligible list and in no exclude list', () => {
    const { pub, a, b, c, receivers } = setup();
    const all = [pub, a, b, c];
    assert.deepEqual(receivers({ eligible: [a.session.id, b.session.id], exclude_authid: [b.session.authid] }), ['a']);
    assert.deepEqual(
      receivers({ eligible: all.map((x) => x.session.id), eligible_authid: [b.session.authid, c.session.authid], exclude: [c.session.id] }),
      ['b'],
    );
    assert.deepEqual(
      receivers({ eligible: [a.session.id], eligible_authid: [b.session.authid] }),
      [],
      'intersection of eligible lists is empty',
    );
    assert.deepEqual(
      receivers({ eligible: [a.session.id, b.session.id, c.session.id], eligible_authrole: ['anonymous'], exclude_authrole: ['admin'] }),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(receivers({ eligible_authid: [a.session.authid, b.session.authid], exclude: [a.session.id] }), ['b']);
    assert.deepEqual(receivers({ eligible: [pub.session.id, a.session.id], exclude_me: false, exclude_authid: [a.session.authid] }), [
      'pub',
    ]);
    assert.deepEqual(receivers({ exclude: [a.session.id], exclude_authid: [b.session.authid], exclude_authrole: ['admin'] }), ['c']);
  });

  it('the publisher in eligible is still excluded by the default exclude_me, included with exclude_me false', () => {
    const { pub, a, receivers } = setup();
    assert.deepEqual(receivers({ eligible: [pub.session.id, a.session.id] }), ['a']);
    assert.deepEqual(receivers({ eligible: [pub.session.id] }), []);
    assert.deepEqual(receivers({ eligible_authid: [pub.session.authid] }), []);
    assert.deepEqual(receivers({ eligible: [pub.session.id, a.session.id], exclude_me: false }), ['pub', 'a']);
    assert.deepEqual(receivers({ eligible: [pub.session.id], exclude_me: false }), ['pub']);
  });
});

describe('broker: publisher identification', () => {
  it('disclose_me true puts publisher, publisher_authid and publisher_authrole in EVENT.Details', () => {
    const { pub, a } = setup();
    const prefixSub = a.subscribe('com.example.', { match: 'prefix' });
    pub.send([PUBLISH, 1, { disclose_me: true }, TOPIC, [1]]);
    const got = a.take();
    const disclosed = { publisher: pub.session.id, publisher_authid: pub.session.authid, publisher_authrole: 'anonymous' };
    const exact = got.find((e) => e[1] !== prefixSub)!;
    const prefix = got.find((e) => e[1] === prefixSub)!;
    assert.equal(got.length, 2, 'one EVENT per subscription');
    assert.deepEqual(exact.slice(3), [disclosed, [1]]);
    assert.deepEqual(prefix.slice(3), [{ ...disclosed, topic: TOPIC }, [1]]);
  });

  it('without disclose_me (or with false) EVENT.Details has none of those keys', () => {
    const { pub, a } = setup();
    for (const [request, options] of [
      [1, {}],
      [2, { disclose_me: false }],
    ] as const) {
      pub.send([PUBLISH, request, options, TOPIC]);
      const [event] = a.take();
      const details = event[3] as Record<string, unknown>;
      assert.deepEqual(details, {});
      for (const key of ['publisher', 'publisher_authid', 'publisher_authrole']) {
        assert.ok(!(key in details), `no ${key} without disclose_me`);
      }
    }
  });
});

describe('broker: acknowledged publications', () => {
  it("PUBLISHED [17, request, publication] comes after every EVENT; the publisher's own EVENT precedes its PUBLISHED", () => {
    const { pub, a, b, c } = setup();
    // One log of everything the router sends, across sessions, in order.
    const log: Array<[string, Outbound]> = [];
    for (const [name, client] of Object.entries({ pub, a, b, c })) {
      const peer = client.peer;
      const original = peer.send.bind(peer);
      peer.send = (m: Outbound) => {
        log.push([name, structuredClone(m)]);
        original(m);
      };
    }
    pub.send([PUBLISH, 77, { acknowledge: true, exclude_me: false }, TOPIC, ['z']]);
    // Four EVENTs (in any order among the subscribers), then PUBLISHED last.
    assert.equal(log.length, 5);
    assert.deepEqual(log[4], ['pub', [PUBLISHED, 77, log[0][1][2]]]);
    assert.deepEqual(new Set(log.slice(0, 4).map(([name, m]) => `${name}:${m[0]}`)), new Set(['pub:36', 'a:36', 'b:36', 'c:36']));
    const publication = log[4][1][2];
    for (const [, m] of log.slice(0, 4)) assert.equal(m[2], publication, 'PUBLISHED carries the publication ID of the EVENTs');
    const own = pub.take();
    assert.deepEqual(
      own.map((m) => m[0]),
      [EVENT, PUBLISHED],
    );
  });

  it('PUBLISHED also when nobody is subscribed; no PUBLISHED without acknowledge', () => {
    const { pub, a } = setup();
    pub.send([PUBLISH, 3, { acknowledge: true }, 'com.example.nobody']);
    const [published, ...rest] = pub.take();
    assert.deepEqual(rest, []);
    assert.deepEqual(published.slice(0, 2), [PUBLISHED, 3]);
    assert.ok(Number.isSafeInteger(published[2]) && (published[2] as number) > 0, 'a publication ID');
    pub.send([PUBLISH, 4, {}, TOPIC]);
    pub.send([PUBLISH, 5, { acknowledge: false }, TOPIC]);
    assert.deepEqual(pub.take(), []);
    assert.equal(a.take().length, 2);
  });

  it('an invalid or reserved topic is answered with ERROR wamp.error.invalid_uri only when acknowledged', () => {
    const { pub, a } = setup();
    a.subscribe('wamp.', { match: 'prefix' });
    a.subscribe('com.', { match: 'prefix' });
    let request = 10;
    for (const topic of ['com..bad', 'com.bad topic', '.com.x', 'com.x.', 'wamp.session.on_join', 'wamp.anything']) {
      request++;
      pub.send([PUBLISH, request, { acknowledge: true }, topic, ['never']]);
      const got = pub.take();
      assert.equal(got.length, 1, `one reply for ${topic}`);
      assert.deepEqual(got[0].slice(0, 5), [ERROR, PUBLISH, request, {}, 'wamp.error.invalid_uri'], `reply for ${topic}`);
      pub.send([PUBLISH, request + 100, {}, topic, ['never']]);
      assert.deepEqual(pub.take(), [], `no reply for unacknowledged ${topic}`);
      assert.deepEqual(a.take(), [], `no EVENT for ${topic}`);
    }
  });
});
