/**
 * Authentication interop with Autobahn|JS (its own crypto: crypto-js for
 * WAMP-CRA, tweetnacl for cryptosign) against a real router over WebSocket:
 * each method succeeds with the right credentials and fails with wrong ones,
 * WELCOME details as the client sees them, a dynamic authenticator
 * registered by an Autobahn|JS session, and the slow-down of repeated failures.
 *
 * Every test has its own router, so failures of one do not slow the next.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { autobahn } from '../helpers/autobahn-js.ts';
import { withAuthRouter, type AuthRouter } from '../helpers/auth-router.ts';
import { deriveKey } from '../../src/auth/index.ts';

type Joined = { ok: true; details: Record<string, any>; session: any; close: () => Promise<void> };
type Refused = { ok: false; reason: string; message: string; ms: number };

interface ClientOptions {
  authmethods?: string[];
  authid?: string;
  authextra?: Record<string, unknown>;
  onchallenge?: (session: any, method: string, extra: any) => string;
  realm?: string;
  /** A ready Connection (e.g. from auth_cryptosign.create_connection) instead of building one. */
  connection?: any;
}

/** Opens an Autobahn|JS connection; resolves with WELCOME details or the ABORT reason (bounded). */
function open(url: string, o: ClientOptions): Promise<Joined | Refused> {
  const started = Date.now();
  const connection =
    o.connection ??
    new autobahn.Connection({
      url,
      realm: o.realm ?? 'realm1',
      authmethods: o.authmethods,
      authid: o.authid,
      authextra: o.authextra,
      onchallenge: o.onchallenge,
      max_retries: 0,
      retry_if_unreachable: false,
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Autobahn|JS neither joined nor was refused within 8 s')), 8000);
    connection.onopen = (session: any, details: any) => {
      clearTimeout(timer);
      resolve({
        ok: true,
        details,
        session,
        close: () =>
          new Promise<void>((done) => {
            connection.onclose = () => {
              done();
              return true;
            };
            connection.close();
          }),
      });
    };
    connection.onclose = (_reason: string, details: any) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: details?.reason, message: details?.message, ms: Date.now() - started });
      return true; // no retry
    };
    connection.open();
  });
}

function welcomeOf(result: Joined | Refused): Record<string, unknown> {
  assert.ok(result.ok, `expected to join, was refused: ${JSON.stringify(result)}`);
  const d = (result as Joined).details;
  return { authid: d.authid, authrole: d.authrole, authmethod: d.authmethod, authprovider: d.authprovider, authextra: d.authextra };
}

function refusal(result: Joined | Refused): Refused {
  assert.ok(!result.ok, `expected to be refused, joined as ${JSON.stringify((result as Joined).details?.authid)}`);
  return result as Refused;
}

/** Runs `fn` against a fresh router with `auth`, and stops it afterwards. */
async function withRouter(auth: unknown, fn: (r: AuthRouter) => Promise<void>, realms?: string[]): Promise<void> {
  await withAuthRouter({ auth, realms }, fn);
}

const seed = (byte: number) => new Uint8Array(32).fill(byte);
const keyPair = (byte: number) => autobahn.nacl.sign.keyPair.fromSeed(seed(byte));
const ALICE = keyPair(1);
const MALLORY = keyPair(2);

const CONFIG = {
  anonymous: { type: 'static', role: 'public' },
  ticket: { type: 'static', principals: { joe: { ticket: 'secret!!!', role: 'frontend' } } },
  wampcra: {
    type: 'static',
    users: {
      peter: { secret: 'secret2', role: 'frontend' },
      salty: { secret: 'secret1', role: 'backend', salt: 'salt123', iterations: 100, keylen: 16 },
    },
  },
  cryptosign: {
    type: 'static',
    principals: { 'client01@example.com': { role: 'device', authorized_keys: [autobahn.auth_cryptosign.public_key(ALICE)] } },
  },
};

describe('Autobahn|JS: ticket', () => {
  it('right ticket: joined; WELCOME as the client sees it', () =>
    withRouter(CONFIG, async ({ url }) => {
      const r = await open(url, {
        authmethods: ['ticket'],
        authid: 'joe',
        onchallenge: (_s, method) => (method === 'ticket' ? 'secret!!!' : ''),
      });
      assert.deepEqual(welcomeOf(r), {
        authid: 'joe',
        authrole: 'frontend',
        authmethod: 'ticket',
        authprovider: 'static',
        authextra: undefined,
      });
      await (r as Joined).close();
    }));

  it('wrong ticket, or unknown authid: ABORT wamp.error.not_authorized', () =>
    withRouter(CONFIG, async ({ url }) => {
      const wrong = refusal(await open(url, { authmethods: ['ticket'], authid: 'joe', onchallenge: () => 'guess' }));
      assert.equal(wrong.reason, 'wamp.error.not_authorized');
      const unknown = refusal(await open(url, { authmethods: ['ticket'], authid: 'nobody', onchallenge: () => 'secret!!!' }));
      assert.equal(unknown.reason, 'wamp.error.not_authorized');
      assert.equal(unknown.message, wrong.message, 'the same answer: no hint which one was wrong');
    }));
});

describe('Autobahn|JS: wampcra', () => {
  const sign = (secret: string) => (_s: any, method: string, extra: any) => {
    assert.equal(method, 'wampcra');
    const key = extra.salt ? autobahn.auth_cra.derive_key(secret, extra.salt, extra.iterations, extra.keylen) : secret;
    return autobahn.auth_cra.sign(key, extra.challenge);
  };

  it('Autobahn|JS derive_key gives our golden vector', () => {
    assert.equal(autobahn.auth_cra.derive_key('secret1', 'salt123', 100, 16), 'prq7+YkJ1/KlW1X0YczMHw==');
    assert.equal(autobahn.auth_cra.derive_key('secret1', 'salt123', 100, 16), deriveKey('secret1', 'salt123', 100, 16));
  });

  it('plain secret: joined; wrong secret: not_authorized', () =>
    withRouter(CONFIG, async ({ url }) => {
      const ok = await open(url, { authmethods: ['wampcra'], authid: 'peter', onchallenge: sign('secret2') });
      assert.deepEqual(welcomeOf(ok), {
        authid: 'peter',
        authrole: 'frontend',
        authmethod: 'wampcra',
        authprovider: 'static',
        authextra: undefined,
      });
      await (ok as Joined).close();
      const bad = refusal(await open(url, { authmethods: ['wampcra'], authid: 'peter', onchallenge: sign('secret3') }));
      assert.equal(bad.reason, 'wamp.error.not_authorized');
    }));

  it('salted secret (derive_key, base64 text as the HMAC key): joined; wrong password: not_authorized', () =>
    withRouter(CONFIG, async ({ url }) => {
      const ok = await open(url, { authmethods: ['wampcra'], authid: 'salty', onchallenge: sign('secret1') });
      assert.deepEqual(welcomeOf(ok), {
        authid: 'salty',
        authrole: 'backend',
        authmethod: 'wampcra',
        authprovider: 'static',
        authextra: undefined,
      });
      await (ok as Joined).close();
      const bad = refusal(await open(url, { authmethods: ['wampcra'], authid: 'salty', onchallenge: sign('secret2') }));
      assert.equal(bad.reason, 'wamp.error.not_authorized');
    }));
});

describe('Autobahn|JS: cryptosign (tweetnacl)', () => {
  const cryptosignConnection = (url: string, pkey: any, authid?: string) => {
    const connection = autobahn.auth_cryptosign.create_connection({ url, realm: 'realm1', authid, pkey });
    connection._options.max_retries = 0;
    connection._options.retry_if_unreachable = false;
    return connection;
  };

  it('authorized key with authid: joined (Autobahn sends the 96-byte form)', () =>
    withRouter(CONFIG, async ({ url }) => {
      const r = await open(url, { connection: cryptosignConnection(url, ALICE, 'client01@example.com') });
      assert.deepEqual(welcomeOf(r), {
        authid: 'client01@example.com',
        authrole: 'device',
        authmethod: 'cryptosign',
        authprovider: 'static',
        authextra: undefined,
      });
      await (r as Joined).close();
    }));

  it('no authid: the router finds the principal by the public key', () =>
    withRouter(CONFIG, async ({ url }) => {
      const r = await open(url, { connection: cryptosignConnection(url, ALICE) });
      assert.equal(welcomeOf(r).authid, 'client01@example.com');
      await (r as Joined).close();
    }));

  it('another key: not_authorized', () =>
    withRouter(CONFIG, async ({ url }) => {
      const bad = refusal(await open(url, { connection: cryptosignConnection(url, MALLORY, 'client01@example.com') }));
      assert.equal(bad.reason, 'wamp.error.not_authorized');
      // claiming Alice's public key but signing with Mallory's private key
      const forged = refusal(
        await open(url, {
          authmethods: ['cryptosign'],
          authid: 'client01@example.com',
          authextra: { pubkey: autobahn.auth_cryptosign.public_key(ALICE) },
          onchallenge: (_s, _m, extra) => autobahn.auth_cryptosign.sign_challenge(MALLORY, extra),
        }),
      );
      assert.equal(forged.reason, 'wamp.error.not_authorized');
    }));
});

describe('Autobahn|JS: anonymous', () => {
  it('joins with the configured role and a generated authid', () =>
    withRouter(CONFIG, async ({ url }) => {
      const r = await open(url, { authmethods: ['anonymous'] });
      const w = welcomeOf(r);
      assert.deepEqual([w.authrole, w.authmethod, w.authprovider], ['public', 'anonymous', 'static']);
      assert.match(String(w.authid), /^[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$/);
      await (r as Joined).close();
    }));

  it('a transport without anonymous refuses it: no_auth_method', () =>
    withRouter({ ticket: CONFIG.ticket }, async ({ url }) => {
      const r = refusal(await open(url, { authmethods: ['anonymous'] }));
      assert.equal(r.reason, 'wamp.error.no_auth_method');
    }));
});

describe('Autobahn|JS: dynamic authenticator registered by an Autobahn|JS session', () => {
  const DYNAMIC = {
    anonymous: { type: 'static', role: 'authenticator' },
    ticket: { type: 'dynamic', authenticator: 'com.example.authenticate', 'authenticator-realm': 'auth' },
    wampcra: { type: 'dynamic', authenticator: 'com.example.authenticate', 'authenticator-realm': 'auth' },
  };

  it('allows, assigns role/authid/extra, and denies with its own error URI', () =>
    withRouter(
      DYNAMIC,
      async ({ url }) => {
        const seen: any[] = [];
        const backend = await open(url, { realm: 'auth', authmethods: ['anonymous'] });
        assert.ok(backend.ok, 'authenticator session joined');
        const session = (backend as Joined).session;
        await session.register('com.example.authenticate', (args: any[]) => {
          const [realm, authid, details] = args;
          seen.push({ realm, authid, details });
          if (details.authmethod === 'wampcra') return { secret: 'dyn-secret', role: 'frontend', authid: `${authid}@dyn` };
          if (details.ticket === 'open sesame') return { role: 'frontend', authid: 'ali', extra: { greeting: 'hello' } };
          throw new autobahn.Error('com.example.invalid_ticket', ['that ticket is not valid']);
        });

        const ok = await open(url, { authmethods: ['ticket'], authid: 'ali-baba', onchallenge: () => 'open sesame' });
        assert.deepEqual(welcomeOf(ok), {
          authid: 'ali',
          authrole: 'frontend',
          authmethod: 'ticket',
          authprovider: 'dynamic',
          authextra: { greeting: 'hello' },
        });
        await (ok as Joined).close();
        assert.equal(seen[0].realm, 'realm1');
        assert.equal(seen[0].authid, 'ali-baba');
        assert.equal(seen[0].details.authmethod, 'ticket');
        assert.equal(seen[0].details.ticket, 'open sesame');
        assert.equal(typeof seen[0].details.session, 'number');
        assert.match(seen[0].details.transport.peer, /^tcp:127\.0\.0\.1:\d+$/);

        const bad = refusal(await open(url, { authmethods: ['ticket'], authid: 'ali-baba', onchallenge: () => 'open barley' }));
        assert.equal(bad.reason, 'com.example.invalid_ticket');
        assert.equal(bad.message, 'that ticket is not valid');

        const cra = await open(url, {
          authmethods: ['wampcra'],
          authid: 'pat',
          onchallenge: (_s, _m, extra) => autobahn.auth_cra.sign('dyn-secret', extra.challenge),
        });
        assert.deepEqual(welcomeOf(cra), {
          authid: 'pat@dyn',
          authrole: 'frontend',
          authmethod: 'wampcra',
          authprovider: 'dynamic',
          authextra: undefined,
        });
        await (cra as Joined).close();
        const craBad = refusal(
          await open(url, {
            authmethods: ['wampcra'],
            authid: 'pat',
            onchallenge: (_s, _m, extra) => autobahn.auth_cra.sign('other', extra.challenge),
          }),
        );
        assert.equal(craBad.reason, 'wamp.error.not_authorized');
        await (backend as Joined).close();
      },
      ['realm1', 'auth'],
    ));
});

describe('Autobahn|JS: repeated failures from one address are slowed down', () => {
  it('after 3 free failures, each next ABORT comes later (250 ms, then 500 ms)', () =>
    withRouter(CONFIG, async ({ url }) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = refusal(await open(url, { authmethods: ['ticket'], authid: 'joe', onchallenge: () => `wrong-${i}` }));
        assert.equal(r.reason, 'wamp.error.not_authorized');
        times.push(r.ms);
      }
      const [a, b, c, d, e] = times;
      const report = `ABORT after ${times.join(', ')} ms`;
      // The throttle's waits are lower bounds; the first three only need to be clearly quicker (load may slow any).
      assert.ok(d >= 240 && d < 5000, `the 4th waits ~250 ms: ${report}`);
      assert.ok(e >= 490 && e < 6000, `the 5th waits ~500 ms: ${report}`);
      for (const t of [a, b, c]) assert.ok(t < d - 150, `the first three are not delayed, the 4th clearly later: ${report}`);
      assert.ok(e > d, `the 5th later still: ${report}`);
      // a success clears the record
      const ok = await open(url, { authmethods: ['ticket'], authid: 'joe', onchallenge: () => 'secret!!!' });
      assert.ok(ok.ok, 'the right ticket still gets in (after its wait)');
      await (ok as Joined).close();
      const after = refusal(await open(url, { authmethods: ['ticket'], authid: 'joe', onchallenge: () => 'wrong' }));
      assert.ok(after.ms < 240, `after a success, no delay: ${after.ms} ms`);
    }));
});
