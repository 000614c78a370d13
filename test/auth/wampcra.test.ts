import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, pbkdf2Sync } from 'node:crypto';
import { buildTransportAuth } from '../../src/auth/index.ts';
import { deriveKey, dynamicWampCra, sign } from '../../src/auth/wampcra.ts';
import {
  AUTHENTICATION_FAILED,
  NOT_AUTHORIZED,
  applicationError,
  expectChallenge,
  expectDeny,
  expectWelcome,
  fakeCaller,
  request,
  watchTimingSafeEqual,
} from './support.ts';

/** The client's side, computed here from the definition (not with src/auth). */
function clientSignature(secret: string, extra: Record<string, unknown>): string {
  let key = secret;
  if (extra.salt !== undefined) {
    key = pbkdf2Sync(secret, extra.salt as string, extra.iterations as number, extra.keylen as number, 'sha256').toString('base64');
  }
  return createHmac('sha256', key)
    .update(extra.challenge as string)
    .digest('base64');
}

const auth = buildTransportAuth({
  wampcra: {
    type: 'static',
    users: {
      peter: { secret: 'secret2', role: 'frontend' },
      salty: { secret: 'secret1', role: 'backend', salt: 'salt123', iterations: 100, keylen: 16, extra: { team: 'b' } },
      defaults: { secret: 'pw', role: 'frontend', salt: 'NaCl' },
    },
  },
});
const cra = auth.get('wampcra')!;

describe('wampcra: key derivation and signature', () => {
  it('deriveKey matches the golden vector (Autobahn derive_key)', () => {
    assert.equal(deriveKey('secret1', 'salt123', 100, 16), 'prq7+YkJ1/KlW1X0YczMHw==');
  });

  it('deriveKey defaults to 1000 iterations and 32 bytes', () => {
    assert.equal(deriveKey('pw', 'NaCl'), pbkdf2Sync('pw', 'NaCl', 1000, 32, 'sha256').toString('base64'));
  });

  it('sign is base64 HMAC-SHA256 with the key as UTF-8 text', () => {
    assert.equal(sign('key', 'challenge'), createHmac('sha256', Buffer.from('key')).update('challenge').digest('base64'));
  });
});

describe('wampcra: static users', () => {
  it('challenges with a JSON string of the future session, and welcomes the right signature', async () => {
    const challenge = await expectChallenge(cra.start(request({ authid: 'peter', session: 777 })));
    assert.deepEqual(Object.keys(challenge.extra), ['challenge'], 'no salt fields for an unsalted user');
    const parsed = JSON.parse(challenge.extra.challenge as string);
    assert.deepEqual(
      { ...parsed, nonce: typeof parsed.nonce, timestamp: typeof parsed.timestamp },
      {
        authid: 'peter',
        authrole: null,
        authmethod: 'wampcra',
        authprovider: 'static',
        session: 777,
        nonce: 'string',
        timestamp: 'string',
      },
    );
    assert.ok(!Number.isNaN(Date.parse(parsed.timestamp)), 'timestamp is an ISO date');
    assert.ok(parsed.nonce.length >= 32, 'nonce is long');
    const principal = await expectWelcome(challenge.verify(clientSignature('secret2', challenge.extra), {}));
    assert.deepEqual(principal, { authid: 'peter', authrole: 'frontend', authprovider: 'static' });
  });

  it('every challenge is fresh', async () => {
    const a = await expectChallenge(cra.start(request({ authid: 'peter' })));
    const b = await expectChallenge(cra.start(request({ authid: 'peter' })));
    assert.notEqual(a.extra.challenge, b.extra.challenge);
  });

  it('salted user: CHALLENGE carries salt, iterations, keylen; the key is the base64 text of PBKDF2', async () => {
    const challenge = await expectChallenge(cra.start(request({ authid: 'salty' })));
    assert.equal(challenge.extra.salt, 'salt123');
    assert.equal(challenge.extra.iterations, 100);
    assert.equal(challenge.extra.keylen, 16);
    // Explicitly: the HMAC key is the ASCII of "prq7+YkJ1/KlW1X0YczMHw==".
    const expected = createHmac('sha256', 'prq7+YkJ1/KlW1X0YczMHw==')
      .update(challenge.extra.challenge as string)
      .digest('base64');
    const principal = await expectWelcome(challenge.verify(expected, {}));
    assert.deepEqual(principal, { authid: 'salty', authrole: 'backend', authprovider: 'static', authextra: { team: 'b' } });
  });

  it("salted user without iterations/keylen gets Autobahn's defaults sent explicitly", async () => {
    const challenge = await expectChallenge(cra.start(request({ authid: 'defaults' })));
    assert.deepEqual([challenge.extra.salt, challenge.extra.iterations, challenge.extra.keylen], ['NaCl', 1000, 32]);
    await expectWelcome(challenge.verify(clientSignature('pw', challenge.extra), {}));
  });

  it('a signature made with the raw PBKDF2 bytes as key (the other reading) is refused', async () => {
    const challenge = await expectChallenge(cra.start(request({ authid: 'salty' })));
    const rawKey = pbkdf2Sync('secret1', 'salt123', 100, 16, 'sha256');
    const wrong = createHmac('sha256', rawKey)
      .update(challenge.extra.challenge as string)
      .digest('base64');
    await expectDeny(challenge.verify(wrong, {}), NOT_AUTHORIZED);
  });

  it('wrong secret: not_authorized', async () => {
    const challenge = await expectChallenge(cra.start(request({ authid: 'peter' })));
    const message = await expectDeny(challenge.verify(clientSignature('wrong', challenge.extra), {}), NOT_AUTHORIZED);
    assert.ok(!message.includes('secret2'), 'no secret in the message');
  });

  it('unknown authid: challenged alike (stable salting), then the same denial as a wrong secret', async () => {
    const c1 = await expectChallenge(cra.start(request({ authid: 'nobody' })));
    const c2 = await expectChallenge(cra.start(request({ authid: 'nobody' })));
    assert.deepEqual(c1.extra.salt, c2.extra.salt, 'the mock salt (or none) is stable per authid');
    const unknown = await expectDeny(c1.verify(clientSignature('secret2', c1.extra), {}), NOT_AUTHORIZED);
    const known = await expectChallenge(cra.start(request({ authid: 'peter' })));
    const wrong = await expectDeny(known.verify('bm9wZQ==', {}), NOT_AUTHORIZED);
    assert.equal(unknown, wrong, 'same message for unknown principal and wrong secret');
  });

  it('no authid: not_authorized at once', async () => {
    await expectDeny(cra.start(request()), NOT_AUTHORIZED, /authid is required/);
  });

  it('compares signatures in constant time (timingSafeEqual on 32-byte digests)', async () => {
    const challenge = await expectChallenge(cra.start(request({ authid: 'peter' })));
    const watch = watchTimingSafeEqual();
    try {
      await expectDeny(challenge.verify('short', {}), NOT_AUTHORIZED);
    } finally {
      watch.restore();
    }
    assert.deepEqual(watch.lengths, [[32, 32]]);
  });
});

describe('wampcra: dynamic', () => {
  it('calls the authenticator as Crossbar does and challenges with the secret it returns', async () => {
    const caller = fakeCaller(() => ({ secret: 'dyn-secret', role: 'user', extra: { x: 1 } }));
    const a = dynamicWampCra({ authenticator: 'com.example.auth' }, { caller });
    const challenge = await expectChallenge(a.start(request({ authid: 'dora', authextra: { k: 'v' }, session: 99 })));
    assert.equal(caller.calls.length, 1);
    const [{ realm, procedure, args }] = caller.calls;
    assert.equal(realm, 'realm1');
    assert.equal(procedure, 'com.example.auth');
    assert.equal(args[0], 'realm1');
    assert.equal(args[1], 'dora');
    const details = args[2] as Record<string, unknown>;
    assert.equal(details.session, 99);
    assert.equal(details.authmethod, 'wampcra');
    assert.equal(details.authid, 'dora');
    assert.deepEqual(details.authextra, { k: 'v' });
    assert.deepEqual(details.transport, { type: 'websocket', serializer: 'json', peer: 'tcp:127.0.0.1:40000' });
    assert.equal(JSON.parse(challenge.extra.challenge as string).authprovider, 'dynamic');
    const principal = await expectWelcome(challenge.verify(clientSignature('dyn-secret', challenge.extra), {}));
    assert.deepEqual(principal, { authid: 'dora', authrole: 'user', authprovider: 'dynamic', authextra: { x: 1 } });
  });

  it('salted secret from the authenticator', async () => {
    const caller = fakeCaller(() => ({ secret: 'secret1', role: 'user', salt: 'salt123', iterations: 100, keylen: 16 }));
    const a = dynamicWampCra({ authenticator: 'com.example.auth' }, { caller });
    const challenge = await expectChallenge(a.start(request({ authid: 'dora' })));
    assert.equal(challenge.extra.salt, 'salt123');
    await expectWelcome(challenge.verify(clientSignature('secret1', challenge.extra), {}));
  });

  it("the authenticator's ApplicationError denies with its URI", async () => {
    const caller = fakeCaller(() => {
      throw applicationError('com.example.no_such_user', 'no user dora');
    });
    const a = dynamicWampCra({ authenticator: 'com.example.auth' }, { caller });
    await expectDeny(a.start(request({ authid: 'dora' })), 'com.example.no_such_user', /no user dora/);
  });

  it('no secret in the answer: authentication_failed', async () => {
    const a = dynamicWampCra({ authenticator: 'com.example.auth' }, { caller: fakeCaller(() => 'user') });
    await expectDeny(a.start(request({ authid: 'dora' })), AUTHENTICATION_FAILED, /secret/);
  });

  it('wrong signature: not_authorized', async () => {
    const a = dynamicWampCra({ authenticator: 'com.example.auth' }, { caller: fakeCaller(() => ({ secret: 's', role: 'user' })) });
    const challenge = await expectChallenge(a.start(request({ authid: 'dora' })));
    await expectDeny(challenge.verify(clientSignature('not-s', challenge.extra), {}), NOT_AUTHORIZED);
  });
});
