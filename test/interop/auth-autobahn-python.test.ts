/**
 * Authentication interop with Autobahn|Python 22.7 (Debian python3-autobahn;
 * its own crypto: cryptography's PBKDF2, PyNaCl, argon2-cffi): each method
 * succeeds with the right credentials and fails with wrong ones, and the
 * WELCOME details are checked as the client reports them. SCRAM needs
 * python3-argon2 (and python3-passlib); cryptosign with tls-unique channel
 * binding runs over wss with a throw-away certificate made by openssl
 * (test/helpers/tls-cert.ts). The client runs go to one Python process
 * (runShared: auth_client.py --serve), one after another.
 *
 * Each test has its own router, so failures of one do not slow the next.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { deriveScramCredential } from '../../src/auth/index.ts';
import { autobahn } from '../helpers/autobahn-js.ts';
import { withAuthRouter, type AuthRouter, type AuthRouterOptions } from '../helpers/auth-router.ts';
import { pythonProblem, runShared, type PythonRequirement } from '../helpers/python.ts';
import { makeTestCert, type TestCert } from '../helpers/tls-cert.ts';

const SCRIPT = fileURLToPath(new URL('./python/auth_client.py', import.meta.url));
const SCRIPT_TIMEOUT_MS = 25_000; // the script bounds itself at 15 s

type Outcome = Record<string, any>;

const SCRAM_PYTHON: PythonRequirement = {
  check: 'import autobahn, nacl, argon2, passlib; from autobahn.wamp.auth import HAS_ARGON; assert HAS_ARGON',
  packages: 'python3-autobahn python3-nacl python3-argon2 python3-passlib',
  what: 'Autobahn|Python with SCRAM support',
};

interface Authenticator {
  method: string;
  args?: Record<string, unknown>;
}

function runClient(url: string, authenticators: Authenticator[], realm = 'realm1'): Promise<Outcome> {
  const spec = JSON.stringify({ realm, serializer: 'json', authenticators });
  return runShared<Outcome>(SCRIPT, [url, spec], {
    timeoutMs: SCRIPT_TIMEOUT_MS,
    label: 'auth_client.py',
    killed: (signal) => `killed by ${signal}`,
  });
}

async function withRouter(options: AuthRouterOptions, fn: (r: AuthRouter) => Promise<void>): Promise<void> {
  const problem = await pythonProblem(SCRAM_PYTHON);
  assert.equal(problem, undefined, problem);
  await withAuthRouter(options, fn);
}

function joined(o: Outcome): Outcome {
  assert.equal(o.joined, true, `expected to join: ${JSON.stringify(o)}`);
  const { authid, authrole, authmethod, authprovider, authextra, realm } = o;
  return { authid, authrole, authmethod, authprovider, authextra, realm };
}

function refused(o: Outcome, reason: string): void {
  assert.equal(o.joined, false, `expected to be refused: ${JSON.stringify(o)}`);
  assert.equal(o.reason, reason, `ABORT reason (message: ${o.message})`);
}

/** An Ed25519 key from a seed: private seed hex (for Autobahn|Python) and public key hex. */
function ed25519(seedByte: number): { privkey: string; pubkey: string } {
  const seed = Buffer.alloc(32, seedByte);
  const key = createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
    format: 'der',
    type: 'pkcs8',
  });
  return {
    privkey: seed.toString('hex'),
    pubkey: createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex'),
  };
}

const ALICE = ed25519(7);
const MALLORY = ed25519(8);
const ARGON = { iterations: 3, memory: 1024 };
const SCRAM_ALICE = await deriveScramCredential('correct horse', { kdf: 'argon2id-13', ...ARGON, encoding: 'autobahn' });
const SCRAM_SPEC = await deriveScramCredential('correct horse', { kdf: 'argon2id13', ...ARGON, encoding: 'spec' });

const CONFIG = {
  anonymous: { type: 'static', role: 'public' },
  ticket: { type: 'static', principals: { joe: { ticket: 'secret!!!', role: 'frontend' } } },
  wampcra: {
    type: 'static',
    users: {
      peter: { secret: 'secret2', role: 'frontend' },
      salty: { secret: 'secret1', role: 'backend', salt: 'salt123', iterations: 100, keylen: 16, extra: { tier: 'gold' } },
    },
  },
  cryptosign: { type: 'static', principals: { 'client01@example.com': { role: 'device', authorized_keys: [ALICE.pubkey] } } },
  scram: {
    type: 'static',
    principals: {
      alice: { ...SCRAM_ALICE, role: 'backend' },
      // a credential made the spec's way (raw Argon2 bytes): Autobahn|Python cannot log in with it
      spec: { ...SCRAM_SPEC, role: 'backend' },
    },
  },
};

describe('Autobahn|Python: ticket', () => {
  it('right ticket: joined; wrong ticket: not_authorized', () =>
    withRouter({ auth: CONFIG }, async ({ url }) => {
      const ok = await runClient(url, [{ method: 'ticket', args: { authid: 'joe', ticket: 'secret!!!' } }]);
      assert.deepEqual(joined(ok), {
        authid: 'joe',
        authrole: 'frontend',
        authmethod: 'ticket',
        authprovider: 'static',
        authextra: null,
        realm: 'realm1',
      });
      refused(await runClient(url, [{ method: 'ticket', args: { authid: 'joe', ticket: 'secret!!' } }]), 'wamp.error.not_authorized');
    }));
});

describe('Autobahn|Python: wampcra', () => {
  it('plain secret: joined; wrong: not_authorized', () =>
    withRouter({ auth: CONFIG }, async ({ url }) => {
      const ok = await runClient(url, [{ method: 'wampcra', args: { authid: 'peter', secret: 'secret2' } }]);
      assert.deepEqual(joined(ok), {
        authid: 'peter',
        authrole: 'frontend',
        authmethod: 'wampcra',
        authprovider: 'static',
        authextra: null,
        realm: 'realm1',
      });
      refused(await runClient(url, [{ method: 'wampcra', args: { authid: 'peter', secret: 'secret3' } }]), 'wamp.error.not_authorized');
    }));

  it('salted secret (Autobahn derive_key): joined with extra; wrong password: not_authorized', () =>
    withRouter({ auth: CONFIG }, async ({ url }) => {
      const ok = await runClient(url, [{ method: 'wampcra', args: { authid: 'salty', secret: 'secret1' } }]);
      assert.deepEqual(joined(ok), {
        authid: 'salty',
        authrole: 'backend',
        authmethod: 'wampcra',
        authprovider: 'static',
        authextra: { tier: 'gold' },
        realm: 'realm1',
      });
      refused(await runClient(url, [{ method: 'wampcra', args: { authid: 'salty', secret: 'secret2' } }]), 'wamp.error.not_authorized');
    }));
});

describe('Autobahn|Python: cryptosign (PyNaCl)', () => {
  it('authorized key: joined (with and without authid); another key: not_authorized', () =>
    withRouter({ auth: CONFIG }, async ({ url }) => {
      const ok = await runClient(url, [{ method: 'cryptosign', args: { authid: 'client01@example.com', privkey: ALICE.privkey } }]);
      assert.deepEqual(joined(ok), {
        authid: 'client01@example.com',
        authrole: 'device',
        authmethod: 'cryptosign',
        authprovider: 'static',
        authextra: null,
        realm: 'realm1',
      });
      const byKey = await runClient(url, [{ method: 'cryptosign', args: { privkey: ALICE.privkey } }]);
      assert.equal(joined(byKey).authid, 'client01@example.com');
      refused(
        await runClient(url, [{ method: 'cryptosign', args: { authid: 'client01@example.com', privkey: MALLORY.privkey } }]),
        'wamp.error.not_authorized',
      );
    }));

  it('tls-unique asked over plain ws: refused, saying the transport has no TLS channel id', () =>
    withRouter({ auth: CONFIG }, async ({ url }) => {
      const o = await runClient(url, [
        {
          method: 'cryptosign',
          args: { authid: 'client01@example.com', privkey: ALICE.privkey, authextra: { channel_binding: 'tls-unique' } },
        },
      ]);
      refused(o, 'wamp.error.not_authorized');
      assert.match(o.message, /no TLS channel id/);
    }));

  describe('over wss (TLS 1.2) with tls-unique channel binding', () => {
    let cert: TestCert | undefined;
    let tls: { key: string; cert: string } | undefined;
    before(async () => {
      cert = await makeTestCert();
      tls = { key: cert.key, cert: cert.cert };
    });
    after(() => cert?.remove());

    it('the client signs challenge XOR its channel id: joined; another key: refused', () =>
      withRouter({ auth: CONFIG, tls }, async ({ url, connections }) => {
        assert.match(url, /^wss:/);
        const ok = await runClient(url, [
          {
            method: 'cryptosign',
            args: { authid: 'client01@example.com', privkey: ALICE.privkey, authextra: { channel_binding: 'tls-unique' } },
          },
        ]);
        assert.equal(joined(ok).authmethod, 'cryptosign');
        assert.ok(
          connections.at(-1) && (connections.at(-1) as any).channelId?.['tls-unique']?.length === 32,
          'the listener saw a tls-unique channel id',
        );
        // without binding over the same kind of connection: also fine
        joined(await runClient(url, [{ method: 'cryptosign', args: { authid: 'client01@example.com', privkey: ALICE.privkey } }]));
        refused(
          await runClient(url, [
            {
              method: 'cryptosign',
              args: { authid: 'client01@example.com', privkey: MALLORY.privkey, authextra: { channel_binding: 'tls-unique' } },
            },
          ]),
          'wamp.error.not_authorized',
        );
      }));
  });
});

describe('Autobahn|Python: scram (argon2id-13)', () => {
  it("right password: joined, the client verified scram_server_signature; WELCOME authextra carries it and the spec's verifier", () =>
    withRouter({ auth: CONFIG }, async ({ url }) => {
      const ok = await runClient(url, [{ method: 'scram', args: { authid: 'alice', password: 'correct horse' } }]);
      const w = joined(ok);
      assert.deepEqual(
        { ...w, authextra: undefined },
        { authid: 'alice', authrole: 'backend', authmethod: 'scram', authprovider: 'static', authextra: undefined, realm: 'realm1' },
      );
      assert.match(w.authextra.scram_server_signature, /^[A-Za-z0-9+/]{43}=$/);
      assert.equal(w.authextra.verifier, `v=${w.authextra.scram_server_signature}`);
    }));

  it('wrong password, unknown user: not_authorized', () =>
    withRouter({ auth: CONFIG }, async ({ url }) => {
      refused(
        await runClient(url, [{ method: 'scram', args: { authid: 'alice', password: 'battery staple' } }]),
        'wamp.error.not_authorized',
      );
      refused(
        await runClient(url, [{ method: 'scram', args: { authid: 'nobody', password: 'correct horse' } }]),
        'wamp.error.not_authorized',
      );
    }));

  it("a credential derived the spec's way (raw Argon2 SaltedPassword) does not match Autobahn|Python's (base64 text) derivation", () =>
    withRouter({ auth: CONFIG }, async ({ url }) => {
      refused(
        await runClient(url, [{ method: 'scram', args: { authid: 'spec', password: 'correct horse' } }]),
        'wamp.error.not_authorized',
      );
    }));
});

describe('Autobahn|Python: anonymous', () => {
  it('joins with the configured role', () =>
    withRouter({ auth: CONFIG }, async ({ url }) => {
      const w = joined(await runClient(url, [{ method: 'anonymous' }]));
      assert.deepEqual([w.authrole, w.authmethod, w.authprovider], ['public', 'anonymous', 'static']);
      assert.match(w.authid, /^[2-9A-Z]{4}(-[2-9A-Z]{4}){3}$/);
    }));
});

describe('Autobahn|Python: dynamic SCRAM and ticket, authenticator registered by an Autobahn|JS session', () => {
  it('the authenticator returns the SCRAM credential; allows and denies', () =>
    withRouter(
      {
        auth: {
          anonymous: { type: 'static', role: 'authenticator' },
          scram: { type: 'dynamic', authenticator: 'com.example.authenticate', 'authenticator-realm': 'auth' },
          ticket: { type: 'dynamic', authenticator: 'com.example.authenticate', 'authenticator-realm': 'auth' },
        },
        realms: ['realm1', 'auth'],
      },
      async ({ url }) => {
        const connection = new autobahn.Connection({
          url,
          realm: 'auth',
          authmethods: ['anonymous'],
          max_retries: 0,
          retry_if_unreachable: false,
        });
        const session: any = await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('authenticator session did not join in 5 s')), 5000);
          connection.onopen = (s: any) => {
            clearTimeout(timer);
            resolve(s);
          };
          connection.onclose = () => {
            clearTimeout(timer);
            reject(new Error('authenticator session refused'));
            return true;
          };
          connection.open();
        });
        try {
          await session.register('com.example.authenticate', (args: any[]) => {
            const [, authid, details] = args;
            if (details.authmethod === 'ticket') {
              if (details.ticket === 'py-ticket') return 'frontend';
              throw new autobahn.Error('com.example.bad_ticket', ['no']);
            }
            if (authid === 'dyn-alice') return { ...SCRAM_ALICE, role: 'backend', extra: { source: 'dynamic' } };
            throw new autobahn.Error('com.example.no_such_user', [`unknown user ${authid}`]);
          });
          const ok = joined(await runClient(url, [{ method: 'scram', args: { authid: 'dyn-alice', password: 'correct horse' } }]));
          assert.deepEqual(
            [ok.authid, ok.authrole, ok.authmethod, ok.authprovider, ok.authextra.source],
            ['dyn-alice', 'backend', 'scram', 'dynamic', 'dynamic'],
          );
          refused(
            await runClient(url, [{ method: 'scram', args: { authid: 'dyn-alice', password: 'nope' } }]),
            'wamp.error.not_authorized',
          );
          const unknown = await runClient(url, [{ method: 'scram', args: { authid: 'bob', password: 'x' } }]);
          refused(unknown, 'com.example.no_such_user');
          assert.equal(unknown.message, 'unknown user bob');
          assert.equal(
            joined(await runClient(url, [{ method: 'ticket', args: { authid: 'pyt', ticket: 'py-ticket' } }])).authprovider,
            'dynamic',
          );
          refused(await runClient(url, [{ method: 'ticket', args: { authid: 'pyt', ticket: 'other' } }]), 'com.example.bad_ticket');
        } finally {
          await new Promise<void>((done) => {
            connection.onclose = () => {
              done();
              return true;
            };
            connection.close();
          });
        }
      },
    ));
});
