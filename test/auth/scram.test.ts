import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { argon2id } from 'hash-wasm';
import { buildTransportAuth } from '../../src/auth/index.ts';
import { authMessages, deriveScramCredential, dynamicScram, saltedPassword, verifyClientProof } from '../../src/auth/scram.ts';
import type { TransportInfo } from '../../src/core/peer.ts';
import type { Dict } from '../../src/wamp/messages.ts';
import {
  AUTHENTICATION_FAILED,
  NOT_AUTHORIZED,
  TRANSPORT,
  applicationError,
  expectChallenge,
  expectDeny,
  expectWelcome,
  fakeCaller,
  request,
  watchTimingSafeEqual,
} from './support.ts';

// ---- an independent SCRAM client, straight from RFC 5802 / the WAMP spec ----

const H = (key: Uint8Array | string, data: string | Uint8Array) => createHmac('sha256', key).update(data).digest();
const xorBytes = (a: Buffer, b: Buffer) => Buffer.from(a.map((v, i) => v ^ b[i]));

async function clientSalted(password: string, extra: Dict, encoding: 'spec' | 'autobahn' = 'spec'): Promise<Buffer> {
  const salt = Buffer.from(extra.salt as string, 'base64');
  if (extra.kdf === 'pbkdf2') return pbkdf2Sync(password, salt, extra.iterations as number, 32, 'sha256');
  const raw = Buffer.from(
    await argon2id({
      password,
      salt,
      iterations: extra.iterations as number,
      memorySize: extra.memory as number,
      parallelism: 1,
      hashLength: 32,
      outputType: 'binary',
    }),
  );
  return encoding === 'autobahn' ? Buffer.from(raw.toString('base64').replace(/=+$/, '')) : raw;
}

interface Final {
  proof: string;
  authMessage: string;
  salted: Buffer;
}

/** ClientProof for `extra` (the CHALLENGE); dialect "spec": c=base64(gs2 header), "crossbar": empty c=. */
async function clientFinal(o: {
  authid: string;
  password: string;
  clientNonce: string;
  extra: Dict;
  dialect?: 'spec' | 'crossbar';
  encoding?: 'spec' | 'autobahn';
  cbind?: Buffer;
}): Promise<Final> {
  const gs2 = o.cbind ? Buffer.concat([Buffer.from('p=tls-unique,,'), o.cbind]) : Buffer.from('n,,');
  const c = o.dialect === 'crossbar' ? '' : gs2.toString('base64');
  const authMessage = `n=${o.authid},r=${o.clientNonce},r=${o.extra.nonce},s=${o.extra.salt},i=${o.extra.iterations},c=${c},r=${o.extra.nonce}`;
  const salted = await clientSalted(o.password, o.extra, o.encoding);
  const clientKey = H(salted, 'Client Key');
  const storedKey = createHash('sha256').update(clientKey).digest();
  return { proof: xorBytes(clientKey, H(storedKey, authMessage)).toString('base64'), authMessage, salted };
}

function expectedServerSignature(f: Final): string {
  return H(H(f.salted, 'Server Key'), f.authMessage).toString('base64');
}

const nonce = () => randomBytes(16).toString('base64');

// ---- fixtures ----

const RFC7677 = {
  authid: 'user',
  password: 'pencil',
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  nonce: 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  iterations: 4096,
  authMessage:
    'n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  proof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverSignature: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

const ARGON = { iterations: 2, memory: 64 }; // small, so the tests are quick

const credentials = {
  pbk: await deriveScramCredential('pencil', { kdf: 'pbkdf2', salt: Buffer.from(RFC7677.salt, 'base64'), iterations: 4096 }),
  argon: await deriveScramCredential('hunter2', { kdf: 'argon2id13', ...ARGON }),
  argonAb: await deriveScramCredential('hunter2', { kdf: 'argon2id-13', ...ARGON, encoding: 'autobahn' }),
  plainArgon: await deriveScramCredential('hunter2', { kdf: 'argon2id', ...ARGON }),
};

const auth = buildTransportAuth({
  scram: {
    type: 'static',
    principals: {
      user: { ...credentials.pbk, role: 'frontend' },
      alice: { ...credentials.argon, role: 'backend', extra: { team: 'a' } },
      abby: { ...credentials.argonAb, role: 'backend' },
      carl: { ...credentials.plainArgon, role: 'backend', realm: 'realm2' },
    },
  },
});
const scram = auth.get('scram')!;
const wampScram = auth.get('wamp-scram')!;

describe('scram: the algorithm', () => {
  it('RFC 7677 test vector: AuthMessage, ClientProof and ServerSignature', async () => {
    const [spec] = authMessages({
      authid: RFC7677.authid,
      clientNonce: RFC7677.clientNonce,
      nonce: RFC7677.nonce,
      salt: RFC7677.salt,
      iterations: RFC7677.iterations,
    });
    assert.equal(spec, RFC7677.authMessage);
    const stored = Buffer.from(credentials.pbk['stored-key'], 'hex');
    const server = Buffer.from(credentials.pbk['server-key'], 'hex');
    const signature = verifyClientProof(Buffer.from(RFC7677.proof, 'base64'), stored, server, [spec]);
    assert.equal(signature?.toString('base64'), RFC7677.serverSignature);
    const wrong = Buffer.from(RFC7677.proof, 'base64');
    wrong[0] ^= 1;
    assert.equal(verifyClientProof(wrong, stored, server, [spec]), undefined);
  });

  it('deriveScramCredential: Crossbar\'s fields; Argon2 "autobahn" encoding hashes the base64 text', async () => {
    assert.deepEqual(Object.keys(credentials.argon).sort(), ['iterations', 'kdf', 'memory', 'salt', 'server-key', 'stored-key']);
    assert.equal(credentials.pbk.memory, undefined);
    const salt = Buffer.from(credentials.argon.salt, 'hex');
    const spec = await saltedPassword('hunter2', { kdf: 'argon2id13', salt, ...ARGON });
    const ab = await saltedPassword('hunter2', { kdf: 'argon2id13', salt, ...ARGON }, 'autobahn');
    assert.equal(spec.length, 32);
    assert.equal(ab.toString('ascii'), spec.toString('base64').replace(/=+$/, ''));
  });
});

describe('scram: static exchange', () => {
  it('"wamp-scram", pbkdf2, spec AuthMessage (c=biws): WELCOME with verifier and scram_server_signature', async () => {
    const clientNonce = nonce();
    const challenge = await expectChallenge(
      wampScram.start(request({ authid: 'user', authextra: { nonce: clientNonce, channel_binding: null } })),
    );
    const { extra } = challenge;
    assert.deepEqual(Object.keys(extra).sort(), ['iterations', 'kdf', 'nonce', 'salt'], 'no memory (nor null) for pbkdf2');
    assert.ok((extra.nonce as string).startsWith(clientNonce), 'the server nonce is appended to the client nonce');
    assert.ok((extra.nonce as string).length > clientNonce.length + 16, 'server nonce of 16 bytes');
    assert.deepEqual([extra.kdf, extra.iterations, extra.salt], ['pbkdf2', 4096, RFC7677.salt]);
    const final = await clientFinal({ authid: 'user', password: 'pencil', clientNonce, extra });
    const principal = await expectWelcome(challenge.verify(final.proof, { nonce: extra.nonce, channel_binding: null, cbind_data: null }));
    const sig = expectedServerSignature(final);
    assert.deepEqual(principal, {
      authid: 'user',
      authrole: 'frontend',
      authprovider: 'static',
      authextra: { verifier: `v=${sig}`, scram_server_signature: sig },
    });
  });

  it('"scram", Argon2 (Autobahn encoding), Crossbar/Autobahn AuthMessage (empty c=), no AUTHENTICATE extra', async () => {
    const clientNonce = nonce();
    const challenge = await expectChallenge(scram.start(request({ authid: 'abby', authextra: { nonce: clientNonce } })));
    assert.equal(challenge.extra.kdf, 'argon2id-13', 'Autobahn|Python\'s spelling for "scram"');
    assert.equal(challenge.extra.memory, 64);
    const final = await clientFinal({
      authid: 'abby',
      password: 'hunter2',
      clientNonce,
      extra: challenge.extra,
      dialect: 'crossbar',
      encoding: 'autobahn',
    });
    const principal = await expectWelcome(challenge.verify(final.proof, {}));
    assert.equal(principal.authextra?.scram_server_signature, expectedServerSignature(final));
  });

  it('kdf name follows the method: "wamp-scram" gets argon2id13, whatever the config spelling', async () => {
    for (const [authid, method, want] of [
      ['alice', wampScram, 'argon2id13'],
      ['abby', wampScram, 'argon2id13'],
      ['carl', scram, 'argon2id-13'],
      ['alice', scram, 'argon2id-13'],
    ] as const) {
      const challenge = await expectChallenge(method.start(request({ authid, authextra: { nonce: nonce() } })));
      assert.equal(challenge.extra.kdf, want, `${authid} via ${method.method}`);
    }
  });

  it('principal extra and realm are kept', async () => {
    const clientNonce = nonce();
    const challenge = await expectChallenge(wampScram.start(request({ authid: 'alice', authextra: { nonce: clientNonce } })));
    const final = await clientFinal({ authid: 'alice', password: 'hunter2', clientNonce, extra: challenge.extra });
    const principal = await expectWelcome(challenge.verify(final.proof, {}));
    assert.equal(principal.authextra?.team, 'a');
    const c2n = nonce();
    const c2 = await expectChallenge(wampScram.start(request({ authid: 'carl', authextra: { nonce: c2n } })));
    const f2 = await clientFinal({ authid: 'carl', password: 'hunter2', clientNonce: c2n, extra: c2.extra });
    assert.equal((await expectWelcome(c2.verify(f2.proof, {}))).realm, 'realm2');
  });

  it('wrong password: not_authorized; proof compared in constant time on 32-byte digests', async () => {
    const clientNonce = nonce();
    const challenge = await expectChallenge(scram.start(request({ authid: 'user', authextra: { nonce: clientNonce } })));
    const final = await clientFinal({ authid: 'user', password: 'pencil!', clientNonce, extra: challenge.extra });
    const watch = watchTimingSafeEqual();
    try {
      await expectDeny(challenge.verify(final.proof, {}), NOT_AUTHORIZED);
    } finally {
      watch.restore();
    }
    assert.ok(watch.lengths.length >= 1, 'timingSafeEqual used');
    assert.ok(
      watch.lengths.every(([a, b]) => a === 32 && b === 32),
      `equal-length digests: ${JSON.stringify(watch.lengths)}`,
    );
  });

  it('unknown authid: a mock challenge (salt stable per authid), then the same denial as a wrong password', async () => {
    const c1 = await expectChallenge(scram.start(request({ authid: 'mallory', authextra: { nonce: nonce() } })));
    const c2 = await expectChallenge(scram.start(request({ authid: 'mallory', authextra: { nonce: nonce() } })));
    const c3 = await expectChallenge(scram.start(request({ authid: 'trudy', authextra: { nonce: nonce() } })));
    assert.equal(c1.extra.salt, c2.extra.salt);
    assert.notEqual(c1.extra.salt, c3.extra.salt);
    assert.deepEqual(Object.keys(c1.extra).sort(), ['iterations', 'kdf', 'nonce', 'salt']);
    const unknown = await expectDeny(c1.verify(randomBytes(32).toString('base64'), {}), NOT_AUTHORIZED);
    const known = await expectChallenge(scram.start(request({ authid: 'user', authextra: { nonce: nonce() } })));
    assert.equal(await expectDeny(known.verify(randomBytes(32).toString('base64'), {}), NOT_AUTHORIZED), unknown);
  });

  it('HELLO without authid: not_authorized; without a base64 nonce: authentication_failed', async () => {
    await expectDeny(scram.start(request({ authextra: { nonce: nonce() } })), NOT_AUTHORIZED, /authid/);
    for (const bad of [undefined, null, 42, 'not base64!', 'abc']) {
      await expectDeny(scram.start(request({ authid: 'user', authextra: { nonce: bad } })), AUTHENTICATION_FAILED, /nonce/);
    }
  });

  it('malformed AUTHENTICATE: authentication_failed', async () => {
    const clientNonce = nonce();
    const challenge = await expectChallenge(scram.start(request({ authid: 'user', authextra: { nonce: clientNonce } })));
    const final = await clientFinal({ authid: 'user', password: 'pencil', clientNonce, extra: challenge.extra });
    await expectDeny(challenge.verify('@@@', {}), AUTHENTICATION_FAILED, /ClientProof/);
    await expectDeny(challenge.verify(randomBytes(16).toString('base64'), {}), AUTHENTICATION_FAILED, /ClientProof/);
    await expectDeny(challenge.verify(final.proof, { nonce: `${challenge.extra.nonce}x` }), AUTHENTICATION_FAILED, /nonce/);
    await expectDeny(challenge.verify(final.proof, { channel_binding: 'tls-unique' }), AUTHENTICATION_FAILED, /channel_binding/);
    await expectDeny(challenge.verify(final.proof, { cbind_data: 'AAAA' }), AUTHENTICATION_FAILED, /cbind_data/);
  });
});

describe('scram: channel binding', () => {
  const channelId = randomBytes(32);
  const tls = { ...TRANSPORT, channelId: { 'tls-unique': channelId } } as TransportInfo;

  it('tls-unique: c= carries "p=tls-unique,," + the channel data, and cbind_data must match', async () => {
    const clientNonce = nonce();
    const start = () =>
      wampScram.start(request({ authid: 'user', authextra: { nonce: clientNonce, channel_binding: 'tls-unique' }, transport: tls }));
    const challenge = await expectChallenge(start());
    const final = await clientFinal({ authid: 'user', password: 'pencil', clientNonce, extra: challenge.extra, cbind: channelId });
    await expectWelcome(
      challenge.verify(final.proof, {
        nonce: challenge.extra.nonce,
        channel_binding: 'tls-unique',
        cbind_data: channelId.toString('base64'),
      }),
    );

    const again = await expectChallenge(start());
    const f2 = await clientFinal({ authid: 'user', password: 'pencil', clientNonce, extra: again.extra, cbind: channelId });
    await expectDeny(
      again.verify(f2.proof, { channel_binding: 'tls-unique', cbind_data: randomBytes(32).toString('base64') }),
      AUTHENTICATION_FAILED,
      /cbind_data/,
    );

    // a client that ignores the binding in its AuthMessage does not get in
    const third = await expectChallenge(start());
    const f3 = await clientFinal({ authid: 'user', password: 'pencil', clientNonce, extra: third.extra });
    await expectDeny(third.verify(f3.proof, { channel_binding: 'tls-unique', cbind_data: channelId.toString('base64') }), NOT_AUTHORIZED);
  });

  it('tls-unique without a TLS channel id: denied, saying why', async () => {
    await expectDeny(
      scram.start(request({ authid: 'user', authextra: { nonce: nonce(), channel_binding: 'tls-unique' } })),
      NOT_AUTHORIZED,
      /no TLS channel id/,
    );
  });
});

describe('scram: dynamic', () => {
  it('the authenticator returns the credential; the exchange follows', async () => {
    const caller = fakeCaller(() => ({ ...credentials.argon, role: 'dyn', authid: 'alice2' }));
    const a = dynamicScram({ authenticator: 'com.example.auth' }, { caller }, 'wamp-scram');
    const clientNonce = nonce();
    const challenge = await expectChallenge(a.start(request({ authid: 'alice', authextra: { nonce: clientNonce } })));
    assert.equal((caller.calls[0].args[2] as Dict).authmethod, 'wamp-scram');
    // The AuthMessage has the authid the client sent, not the one the authenticator assigns.
    const final = await clientFinal({ authid: 'alice', password: 'hunter2', clientNonce, extra: challenge.extra });
    const principal = await expectWelcome(challenge.verify(final.proof, {}));
    assert.equal(principal.authid, 'alice2');
    assert.equal(principal.authprovider, 'dynamic');
  });

  it('an unusable credential: authentication_failed; ApplicationError: its URI', async () => {
    const a = dynamicScram({ authenticator: 'com.example.auth' }, { caller: fakeCaller(() => ({ role: 'r', kdf: 'md5' })) });
    await expectDeny(a.start(request({ authid: 'x', authextra: { nonce: nonce() } })), AUTHENTICATION_FAILED, /kdf/);
    const b = dynamicScram(
      { authenticator: 'com.example.auth' },
      {
        caller: fakeCaller(() => {
          throw applicationError('com.example.nope');
        }),
      },
    );
    await expectDeny(b.start(request({ authid: 'x', authextra: { nonce: nonce() } })), 'com.example.nope');
  });
});
