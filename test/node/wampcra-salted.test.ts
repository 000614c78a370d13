/**
 * Salted WAMP-CRA: what a salted user's `secret` means. Crossbar up to 23.1 used it as the derived
 * key (what its docs show); since 25.12 (crossbar#2121) it is the password the router derives the
 * key from. Kreuz takes the password by default, the derived key with `salted_secret: derived_key`,
 * and `kreuz check` notes which at each salt. Over a real WebSocket, the client side computed here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, pbkdf2Sync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dynamicWampCra } from '../../src/auth/wampcra.ts';
import { checkConfigFile } from '../../src/config/check.ts';
import { createRouter } from '../../src/index.ts';
import { expectChallenge, expectDeny, expectWelcome, fakeCaller, request } from '../auth/support.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { ABORT, AUTHENTICATE, CHALLENGE, HELLO, WELCOME } from '../helpers/wamp-codes.ts';

/** Crossbar's documentation example: this is derive_key('secret1', 'salt123', 100, 16). */
const DOCS_SECRET = 'prq7+YkJ1/KlW1X0YczMHw==';
const SALTING = { salt: 'salt123', iterations: 100, keylen: 16 };

/** What Autobahn's client does with its password and the CHALLENGE. */
function clientSignature(password: string, extra: Record<string, unknown>): string {
  const key = extra.salt
    ? pbkdf2Sync(password, extra.salt as string, extra.iterations as number, extra.keylen as number, 'sha256').toString('base64')
    : password;
  return createHmac('sha256', key)
    .update(extra.challenge as string)
    .digest('base64');
}

function config(wampcra: object): object {
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [{ name: 'realm1', roles: [{ name: 'user', permissions: [] }] }],
        transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' }, auth: { wampcra } }],
      },
    ],
  };
}

/** Joins as peter with `password`; the code of the answer to AUTHENTICATE (WELCOME or ABORT). */
async function login(url: string, password: string): Promise<number> {
  const client = await RawClient.open(url);
  try {
    client.send([HELLO, 'realm1', { roles: { caller: {} }, authmethods: ['wampcra'], authid: 'peter' }]);
    const challenge = await client.next();
    assert.equal(challenge[0], CHALLENGE);
    client.send([AUTHENTICATE, clientSignature(password, challenge[2] as Record<string, unknown>), {}]);
    return (await client.next())[0] as number;
  } finally {
    client.close();
  }
}

describe('salted WAMP-CRA secrets', () => {
  it('default: secret is the password (Crossbar 25.12); salted_secret: derived_key takes the derive_key output (Crossbar 23.1)', async () => {
    const [password, derived] = await Promise.all([
      createRouter(config({ type: 'static', users: { peter: { secret: 'secret1', role: 'user', ...SALTING } } })),
      createRouter(
        config({ type: 'static', salted_secret: 'derived_key', users: { peter: { secret: DOCS_SECRET, role: 'user', ...SALTING } } }),
      ),
    ]);
    try {
      // The user types the same password in both cases; only what the config holds differs.
      assert.deepEqual(await Promise.all([login(password.url, 'secret1'), login(derived.url, 'secret1')]), [WELCOME, WELCOME]);
      assert.deepEqual(await Promise.all([login(password.url, DOCS_SECRET), login(derived.url, DOCS_SECRET)]), [ABORT, ABORT]);
    } finally {
      await Promise.all([password.close(), derived.close()]);
    }
  });

  it('refuses a salted_secret that is neither', async () => {
    await assert.rejects(
      createRouter(config({ type: 'static', salted_secret: 'hashed', users: {} })),
      (err: Error & { problems?: Array<{ path: string }> }) =>
        err.problems?.some((p) => p.path === 'workers[0].transports[0].auth.wampcra.salted_secret') === true,
    );
  });

  it("a dynamic authenticator's answer may say salted_secret: derived_key", async () => {
    const answer = (salted?: string) =>
      dynamicWampCra(
        { authenticator: 'com.example.auth' },
        { caller: fakeCaller(() => ({ secret: DOCS_SECRET, role: 'user', ...SALTING, ...(salted && { salted_secret: salted }) })) },
      );
    const derived = await expectChallenge(answer('derived_key').start(request({ authid: 'peter' })));
    await expectWelcome(derived.verify(clientSignature('secret1', derived.extra), {}));
    const asPassword = await expectChallenge(answer().start(request({ authid: 'peter' })));
    await expectDeny(asPassword.verify(clientSignature('secret1', asPassword.extra), {}), 'wamp.error.not_authorized');
    await expectDeny(answer('hashed').start(request({ authid: 'peter' })), 'wamp.error.authentication_failed', /salted_secret/);
  });

  it('kreuz check notes at each salt which meaning Kreuz follows, and what a salt without iterations or keylen does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kreuz-cra-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(
        file,
        JSON.stringify(
          config({
            type: 'static',
            users: {
              peter: { secret: 'secret1', role: 'user', ...SALTING },
              paul: { secret: 'pw', role: 'user', salt: 'NaCl' },
              mary: { secret: 'plain', role: 'user' },
            },
          }),
        ),
      );
      const notes = checkConfigFile(file, { env: {} }).notes.filter((n) => n.path.includes('wampcra'));
      assert.deepEqual(
        notes.map((n) => n.path),
        ['workers[0].transports[0].auth.wampcra.users.peter.salt', 'workers[0].transports[0].auth.wampcra.users.paul.salt'],
      );
      assert.match(notes[0].message, /taken as the password .* Crossbar does since 25\.12.*set salted_secret: derived_key/);
      assert.match(notes[1].message, /without iterations, Kreuz salts with Autobahn's defaults \(1000 iterations, keylen 32\)/);
      writeFileSync(
        file,
        JSON.stringify(
          config({ type: 'static', salted_secret: 'derived_key', users: { peter: { secret: DOCS_SECRET, role: 'user', ...SALTING } } }),
        ),
      );
      const derived = checkConfigFile(file, { env: {} });
      assert.deepEqual(derived.errors, []);
      assert.match(derived.notes.find((n) => n.path.endsWith('peter.salt'))!.message, /taken as the derived key .* Crossbar up to 23\.1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
