/**
 * WAMP-CRA challenges for unknown authids look like real ones (issue 11):
 * the same challenge fields and value shapes, the role withheld for both,
 * salting made up deterministically per authid from a secret, and the same
 * denial as a wrong secret. Over real sockets, then the rules in detail.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, pbkdf2Sync } from 'node:crypto';
import { buildTransportAuth } from '../../src/auth/index.ts';
import { mimicSalt, staticWampCra, type CraUser } from '../../src/auth/wampcra.ts';
import { Router } from '../../src/core/router.ts';
import { listenWebSocket } from '../../src/transports/websocket.ts';
import { NOT_AUTHORIZED, expectChallenge, expectDeny, request } from './support.ts';
import { ROLES, WsClient, outcomeOf } from './ws-client.ts';

const USERS = {
  alice: { secret: 'alice-pw', role: 'admin', salt: '9f86d081884c7d65', iterations: 4096, keylen: 32 },
  bob: { secret: 'bob-pw', role: 'frontend', salt: '2c26b46b68ffc68f', iterations: 4096, keylen: 32 },
};

function clientSignature(secret: string, extra: Record<string, unknown>): string {
  const key = pbkdf2Sync(secret, extra.salt as string, extra.iterations as number, extra.keylen as number, 'sha256').toString('base64');
  return createHmac('sha256', key)
    .update(extra.challenge as string)
    .digest('base64');
}

/** What a value looks like without what it is: its type, and its length for strings. */
function shape(value: unknown): string {
  return typeof value === 'string' ? `string(${value.length})` : value === null ? 'null' : typeof value;
}

function shapeOf(extra: Record<string, unknown>): Record<string, unknown> {
  const challenge = JSON.parse(extra.challenge as string) as Record<string, unknown>;
  return {
    extraKeys: Object.keys(extra),
    extra: Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, k === 'challenge' ? 'json' : k === 'salt' ? shape(v) : v])),
    challengeKeys: Object.keys(challenge),
    challenge: Object.fromEntries(Object.entries(challenge).map(([k, v]) => [k, k === 'authid' ? v : shape(v)])),
  };
}

describe('wampcra over sockets: an unknown user is challenged like a real one', () => {
  it('same fields, types and lengths; stable per unknown authid; denied like a wrong secret', async () => {
    const router = new Router({ realms: [{ name: 'realm1' }] });
    const auth = buildTransportAuth({ wampcra: { type: 'static', users: USERS } });
    const listener = await listenWebSocket(router, { host: '127.0.0.1', port: 0 }, { auth, autoPingInterval: 0 });
    const challenge = async (authid: string) => {
      const client = await WsClient.open(listener.url);
      client.send([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid }]);
      const message = await client.next();
      assert.deepEqual(message.slice(0, 2), [4, 'wampcra']);
      return { client, extra: message[2] as Record<string, unknown> };
    };
    const leave = (client: WsClient) => {
      client.send([3, {}, 'wamp.close.goodbye_and_out']); // a client ABORT: no failure is counted
      client.close();
    };
    try {
      // One at a time: while a CHALLENGE is pending, the next HELLO from 127.0.0.1 waits its turn.
      const known = await challenge('alice');
      leave(known.client);
      const known2 = await challenge('bob');
      leave(known2.client);
      const unknown = await challenge('mallory');
      leave(unknown.client);
      const again = await challenge('mallory');
      leave(again.client);
      const other = await challenge('eve');
      leave(other.client);

      const expected = {
        extraKeys: ['challenge', 'salt', 'iterations', 'keylen'],
        extra: { challenge: 'json', salt: 'string(16)', iterations: 4096, keylen: 32 },
        challengeKeys: ['authid', 'authrole', 'authmethod', 'authprovider', 'nonce', 'timestamp', 'session'],
        challenge: {
          authrole: 'null',
          authmethod: 'string(7)',
          authprovider: 'string(6)',
          nonce: 'string(64)',
          timestamp: 'string(24)',
          session: 'number',
        },
      };
      for (const [authid, c] of [
        ['alice', known],
        ['bob', known2],
        ['mallory', unknown],
        ['mallory', again],
        ['eve', other],
      ] as const) {
        assert.deepEqual(shapeOf(c.extra), { ...expected, challenge: { authid, ...expected.challenge } }, authid);
        assert.match(c.extra.salt as string, /^[0-9a-f]{16}$/, `${authid}: a hex salt like the configured ones`);
      }
      assert.equal(again.extra.salt, unknown.extra.salt, 'the same unknown authid gets the same salt');
      assert.notEqual(other.extra.salt, unknown.extra.salt, 'another unknown authid another one');

      // Answering: the unknown user is denied exactly like a wrong password.
      const stranger = await challenge('mallory');
      stranger.client.send([5, clientSignature('a guess', stranger.extra), {}]);
      const deniedUnknown = await stranger.client.next();
      const wrong = await challenge('alice');
      wrong.client.send([5, clientSignature('a guess', wrong.extra), {}]);
      const deniedWrong = await wrong.client.next();
      assert.equal(outcomeOf(deniedUnknown), NOT_AUTHORIZED);
      assert.deepEqual(deniedUnknown, deniedWrong, 'the same ABORT, message included');
      const right = await challenge('alice');
      right.client.send([5, clientSignature('alice-pw', right.extra), {}]);
      const welcome = await right.client.next();
      assert.equal(outcomeOf(welcome), 'welcome');
      assert.equal((welcome[2] as Record<string, unknown>).authrole, 'admin', 'the role is told in WELCOME');
      for (const c of [stranger, wrong, right]) c.client.close();
    } finally {
      await listener.close();
    }
  });
});

describe('wampcra: made-up salting for unknown authids', () => {
  const users = (entries: Record<string, CraUser>) => new Map(Object.entries(entries));
  const saltingOf = async (cra: ReturnType<typeof staticWampCra>, authid: string) => {
    const { extra } = await expectChallenge(cra.start(request({ authid })));
    return extra.salt === undefined ? 'unsalted' : { salt: extra.salt, iterations: extra.iterations, keylen: extra.keylen };
  };

  it('a mix of salted and unsalted users: unknown authids are salted or not in about the same proportion', async () => {
    const cra = staticWampCra(
      users({
        a: { secret: 'x', role: 'r' },
        b: { secret: 'x', role: 'r', salting: { salt: 'c2FsdHNhbHQ=', iterations: 1000, keylen: 32 } },
        c: { secret: 'x', role: 'r', salting: { salt: 'bWFyZW1hcmU=', iterations: 1000, keylen: 32 } },
        d: { secret: 'x', role: 'r', salting: { salt: 'cGVwcGVycGU=', iterations: 1000, keylen: 32 } },
      }),
      { secret: Buffer.from('test secret') },
    );
    let salted = 0;
    for (let i = 0; i < 400; i++) {
      const s = await saltingOf(cra, `user${i}`);
      if (s === 'unsalted') continue;
      salted++;
      assert.match(s.salt as string, /^[A-Za-z0-9+/]{11}=$/, 'shaped like the configured base64 salts');
      assert.deepEqual([s.iterations, s.keylen], [1000, 32]);
    }
    assert.ok(salted > 240 && salted < 360, `3 of 4 users are salted; ${salted} of 400 unknown authids were`);
    assert.deepEqual(await saltingOf(cra, 'user7'), await saltingOf(cra, 'user7'), 'stable per authid');
  });

  it('derived from the secret: the same with the same secret (or, without one, in the same process), else different', async () => {
    const config: Record<string, CraUser> = {
      a: { secret: 'x', role: 'r', salting: { salt: '00112233445566778899aabbccddeeff', iterations: 10, keylen: 16 } },
    };
    const one = staticWampCra(users(config), { secret: Buffer.from('one') });
    const sameSecret = staticWampCra(users(config), { secret: Buffer.from('one') });
    const otherSecret = staticWampCra(users(config), { secret: Buffer.from('two') });
    assert.deepEqual(await saltingOf(one, 'nobody'), await saltingOf(sameSecret, 'nobody'));
    assert.notDeepEqual(await saltingOf(one, 'nobody'), await saltingOf(otherSecret, 'nobody'));
    const transportA = staticWampCra(users(config));
    const transportB = staticWampCra(users(config));
    assert.deepEqual(
      await saltingOf(transportA, 'nobody'),
      await saltingOf(transportB, 'nobody'),
      'two transports agree, as on a real user',
    );
    const byConfig = buildTransportAuth(
      { wampcra: { type: 'static', users: { a: { secret: 'x', role: 'r', salt: 'abc', iterations: 10 } } } },
      { secret: 'one' },
    );
    const byHand = staticWampCra(users({ a: { secret: 'x', role: 'r', salting: { salt: 'abc', iterations: 10, keylen: 32 } } }), {
      secret: Buffer.from('one'),
    });
    assert.deepEqual(await saltingOf(byConfig.get('wampcra')!, 'nobody'), await saltingOf(byHand, 'nobody'), 'AuthDeps.secret is used');
  });

  it('no users at all: unsalted challenges, denied', async () => {
    const cra = staticWampCra(new Map());
    const challenge = await expectChallenge(cra.start(request({ authid: 'nobody' })));
    assert.deepEqual(Object.keys(challenge.extra), ['challenge']);
    await expectDeny(challenge.verify('anything', {}), NOT_AUTHORIZED);
  });

  it('mimicSalt keeps length, alphabet and padding', () => {
    const random = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 97 + 13) & 255));
    for (const [like, pattern] of [
      ['0123456789', /^\d{10}$/],
      ['9f86d081884c7d65', /^[0-9a-f]{16}$/],
      ['9F86D081884C7D65', /^[0-9A-F]{16}$/],
      ['salt123', /^[0-9a-z]{7}$/],
      ['SaltPepper42', /^[0-9A-Za-z]{12}$/],
      ['c2FsdA+/', /^[A-Za-z0-9+/]{8}$/],
      ['c2FsdHM=', /^[A-Za-z0-9+/]{7}=$/],
      ['c2-_dHNh', /^[A-Za-z0-9_-]{8}$/],
      ['~~!!~~', /^[!~]{6}$/],
    ] as const) {
      assert.match(mimicSalt(like, random), pattern, like);
    }
  });
});
