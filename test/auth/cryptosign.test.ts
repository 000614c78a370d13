import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign as edSign, type KeyObject } from 'node:crypto';
import { buildTransportAuth } from '../../src/auth/index.ts';
import { dynamicCryptosign, ed25519PublicKey, verifyCryptosign } from '../../src/auth/cryptosign.ts';
import type { TransportInfo } from '../../src/core/peer.ts';
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
} from './support.ts';

// WAMP spec, authentication_cryptosign.md, "Test Vectors".
const VECTORS = [
  {
    channel_id: null,
    private_key: '4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510',
    challenge: 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    signature:
      'b32675b221f08593213737bef8240e7c15228b07028e19595294678c90d11c0cae80a357331bfc5cc9fb71081464e6e75013517c2cf067ad566a6b7b728e5d03ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  },
  {
    channel_id: null,
    private_key: 'd511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd',
    challenge: 'b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d',
    signature:
      'd4209ad10d5aff6bfbc009d7e924795de138a63515efc7afc6b01b7fe5201372190374886a70207b042294af5bd64ce725cd8dceb344e6d11c09d1aaaf4d660fb26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d',
  },
  {
    channel_id: null,
    private_key: '6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b',
    challenge: 'b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2',
    signature:
      '7beb282184baadd08f166f16dd683b39cab53816ed81e6955def951cb2ddad1ec184e206746fd82bda075af03711d3d5658fc84a76196b0fa8d1ebc92ef9f30bb05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2',
  },
  {
    channel_id: '62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff',
    private_key: '4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510',
    challenge: 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    signature:
      '9b6f41540c9b95b4b7b281c3042fa9c54cef43c842d62ea3fd6030fcb66e70b3e80d49d44c29d1635da9348d02ec93f3ed1ef227dfb59a07b580095c2b82f80f9d16ca518aa0c2b707f2b2a609edeca73bca8dd59817a633f35574ac6fd80d00',
  },
  {
    channel_id: '62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff',
    private_key: 'd511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd',
    challenge: 'b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d',
    signature:
      '305aaa3ac25e98f651427688b3fc43fe7d8a68a7ec1d7d61c61517c519bd4a427c3015599d83ca28b4c652333920223844ef0725eb5dc2febfd6af7677b73f01d0852a29b460fc92ec943242ac638a053bbacc200512b18b30d15083cbdc9282',
  },
  {
    channel_id: '62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff',
    private_key: '6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b',
    challenge: 'b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2',
    signature:
      'ee3c7644fd8070532bc1fde3d70d742267da545d8c8f03e63bda63f1ad4214f4d2c4bfdb4eb9526def42deeb7e31602a6ff99eba893e0a4ad4d45892ca75e608d2b75e24a189a7f78ca776ba36fc53f6c3e31c32f251f2c524f0a44202f2902d',
  },
];

/** An Ed25519 private key from its 32-byte seed (PKCS#8 DER, RFC 8410). */
function privateKey(seedHex: string): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedHex, 'hex')]),
    format: 'der',
    type: 'pkcs8',
  });
}

function publicHex(priv: KeyObject): string {
  return createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
}

function xorHex(a: string, b: string): Buffer {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return Buffer.from(x.map((v, i) => v ^ y[i]));
}

/** The client's answer: signature + signed message (96 bytes), hex. */
function answer(priv: KeyObject, challengeHex: string, channelIdHex?: string): string {
  const message = channelIdHex ? xorHex(challengeHex, channelIdHex) : Buffer.from(challengeHex, 'hex');
  return Buffer.concat([edSign(null, message, priv), message]).toString('hex');
}

const alice = privateKey('4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510');
const bob = privateKey('d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd');
const shared = privateKey('6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b');
const CHANNEL_ID = '62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff';
const TLS_TRANSPORT = { ...TRANSPORT, channelId: { 'tls-unique': Buffer.from(CHANNEL_ID, 'hex') } } as TransportInfo;

const cs = buildTransportAuth({
  cryptosign: {
    type: 'static',
    principals: {
      'client01@example.com': { realm: 'realm1', role: 'frontend', authorized_keys: [publicHex(alice).toUpperCase()] },
      bob: { role: 'backend', authorized_keys: [publicHex(bob)], extra: { n: 2 } },
      shared1: { role: 'a', authorized_keys: [publicHex(shared)] },
      shared2: { role: 'b', authorized_keys: [publicHex(shared)] },
    },
  },
}).get('cryptosign')!;

describe('cryptosign: spec test vectors', () => {
  for (const [i, v] of VECTORS.entries()) {
    it(`vector ${i + 1}${v.channel_id ? ' (tls-unique channel id)' : ''}: our signing reproduces it and verifyCryptosign accepts it`, () => {
      const priv = privateKey(v.private_key);
      assert.equal(answer(priv, v.challenge, v.channel_id ?? undefined), v.signature);
      const message = v.channel_id ? xorHex(v.challenge, v.channel_id) : Buffer.from(v.challenge, 'hex');
      const key = ed25519PublicKey(Buffer.from(publicHex(priv), 'hex'));
      assert.equal(verifyCryptosign(v.signature, message, key), 'ok');
      assert.equal(verifyCryptosign(v.signature.slice(0, 128), message, key), 'ok', 'the 64-byte form');
      // another challenge, or another key: refused
      const other = Buffer.from(message);
      other[0] ^= 1;
      assert.equal(verifyCryptosign(v.signature, other, key), 'bad');
      assert.equal(verifyCryptosign(v.signature.slice(0, 128), other, key), 'bad');
      const otherKey = ed25519PublicKey(Buffer.from(publicHex(privateKey(VECTORS[(i + 1) % 3].private_key)), 'hex'));
      assert.equal(verifyCryptosign(v.signature, message, otherKey), 'bad');
    });
  }

  it('malformed signatures', () => {
    const key = ed25519PublicKey(Buffer.from(publicHex(alice), 'hex'));
    const msg = Buffer.alloc(32);
    for (const bad of ['', 'zz', 'ab'.repeat(63), 'ab'.repeat(65), 'ab'.repeat(97)]) {
      assert.equal(verifyCryptosign(bad, msg, key), 'malformed', `"${bad.slice(0, 10)}..." is malformed`);
    }
  });
});

describe('cryptosign: static principals', () => {
  it('authid + authorized pubkey: 32-byte hex challenge, channel_binding null, WELCOME for the right signature', async () => {
    const challenge = await expectChallenge(
      cs.start(
        request({
          authid: 'client01@example.com',
          authextra: { pubkey: publicHex(alice), challenge: null, channel_binding: null, trustroot: null },
        }),
      ),
    );
    assert.deepEqual(Object.keys(challenge.extra).sort(), ['challenge', 'channel_binding']);
    assert.match(challenge.extra.challenge as string, /^[0-9a-f]{64}$/);
    assert.equal(challenge.extra.channel_binding, null);
    const principal = await expectWelcome(challenge.verify(answer(alice, challenge.extra.challenge as string), {}));
    assert.deepEqual(principal, { authid: 'client01@example.com', authrole: 'frontend', authprovider: 'static', realm: 'realm1' });
  });

  it('the 64-byte form (signature only) is accepted too', async () => {
    const challenge = await expectChallenge(cs.start(request({ authid: 'bob', authextra: { pubkey: publicHex(bob) } })));
    const principal = await expectWelcome(challenge.verify(answer(bob, challenge.extra.challenge as string).slice(0, 128), {}));
    assert.deepEqual(principal, { authid: 'bob', authrole: 'backend', authprovider: 'static', authextra: { n: 2 } });
  });

  it('no authid: the principal is found by pubkey', async () => {
    const challenge = await expectChallenge(cs.start(request({ authextra: { pubkey: publicHex(bob).toUpperCase() } })));
    const principal = await expectWelcome(challenge.verify(answer(bob, challenge.extra.challenge as string), {}));
    assert.equal(principal.authid, 'bob');
  });

  it('no authid and a key several principals share: denied (cannot identify)', async () => {
    await expectDeny(cs.start(request({ authextra: { pubkey: publicHex(shared) } })), NOT_AUTHORIZED, /several principals/);
  });

  it('signature by another key, or of another challenge: not_authorized', async () => {
    const c1 = await expectChallenge(cs.start(request({ authid: 'bob', authextra: { pubkey: publicHex(bob) } })));
    await expectDeny(c1.verify(answer(alice, c1.extra.challenge as string), {}), NOT_AUTHORIZED);
    const c2 = await expectChallenge(cs.start(request({ authid: 'bob', authextra: { pubkey: publicHex(bob) } })));
    await expectDeny(c2.verify(answer(bob, c1.extra.challenge as string), {}), NOT_AUTHORIZED);
    // a valid signature of the old challenge, claiming (in the last 32 bytes) to be of the new one
    const replay = answer(bob, c1.extra.challenge as string).slice(0, 128) + (c2.extra.challenge as string);
    const c3 = await expectChallenge(cs.start(request({ authid: 'bob', authextra: { pubkey: publicHex(bob) } })));
    await expectDeny(c3.verify(replay, {}), NOT_AUTHORIZED);
  });

  it('unknown authid, unauthorized key, unknown key: challenged, then the same denial', async () => {
    const cases = [
      { authid: 'nobody', authextra: { pubkey: publicHex(alice) } },
      { authid: 'bob', authextra: { pubkey: publicHex(alice) } },
      { authid: undefined, authextra: { pubkey: 'aa'.repeat(32) } },
    ];
    const messages = new Set<string>();
    for (const c of cases) {
      const challenge = await expectChallenge(cs.start(request(c)));
      messages.add(await expectDeny(challenge.verify(answer(alice, challenge.extra.challenge as string), {}), NOT_AUTHORIZED));
    }
    assert.equal(messages.size, 1, `one message for all: ${[...messages].join(' | ')}`);
  });

  it('missing or malformed pubkey: authentication_failed', async () => {
    for (const pubkey of [undefined, null, 'abc', 'zz'.repeat(32), 'aa'.repeat(33), 42]) {
      await expectDeny(cs.start(request({ authid: 'bob', authextra: { pubkey } })), AUTHENTICATION_FAILED, /pubkey/);
    }
  });

  it('malformed AUTHENTICATE signature: authentication_failed', async () => {
    const challenge = await expectChallenge(cs.start(request({ authid: 'bob', authextra: { pubkey: publicHex(bob) } })));
    await expectDeny(challenge.verify('not hex', {}), AUTHENTICATION_FAILED);
  });
});

describe('cryptosign: TLS channel binding', () => {
  it('tls-unique: the signed message is challenge XOR channel id', async () => {
    const challenge = await expectChallenge(
      cs.start(request({ authid: 'bob', authextra: { pubkey: publicHex(bob), channel_binding: 'tls-unique' }, transport: TLS_TRANSPORT })),
    );
    assert.equal(challenge.extra.channel_binding, 'tls-unique');
    await expectWelcome(challenge.verify(answer(bob, challenge.extra.challenge as string, CHANNEL_ID), {}));
  });

  it('tls-unique: signing the bare challenge is refused', async () => {
    const challenge = await expectChallenge(
      cs.start(request({ authid: 'bob', authextra: { pubkey: publicHex(bob), channel_binding: 'tls-unique' }, transport: TLS_TRANSPORT })),
    );
    await expectDeny(challenge.verify(answer(bob, challenge.extra.challenge as string), {}), NOT_AUTHORIZED);
  });

  it('no binding asked on a TLS transport: the bare challenge', async () => {
    const challenge = await expectChallenge(
      cs.start(request({ authid: 'bob', authextra: { pubkey: publicHex(bob) }, transport: TLS_TRANSPORT })),
    );
    assert.equal(challenge.extra.channel_binding, null);
    await expectWelcome(challenge.verify(answer(bob, challenge.extra.challenge as string), {}));
  });

  it('tls-unique over a transport without a channel id: denied, saying why', async () => {
    await expectDeny(
      cs.start(request({ authid: 'bob', authextra: { pubkey: publicHex(bob), channel_binding: 'tls-unique' } })),
      NOT_AUTHORIZED,
      /no TLS channel id/,
    );
  });

  it('another binding type: denied', async () => {
    await expectDeny(
      cs.start(
        request({ authid: 'bob', authextra: { pubkey: publicHex(bob), channel_binding: 'tls-exporter' }, transport: TLS_TRANSPORT }),
      ),
      NOT_AUTHORIZED,
      /unsupported channel binding/,
    );
  });
});

describe('cryptosign: dynamic', () => {
  it('the authenticator returns pubkey and role; the client must sign with that key', async () => {
    const caller = fakeCaller(() => ({ pubkey: publicHex(bob), role: 'device', authid: 'dev-7' }));
    const a = dynamicCryptosign({ authenticator: 'com.example.auth' }, { caller });
    const challenge = await expectChallenge(a.start(request({ authextra: { pubkey: publicHex(bob) } })));
    const details = caller.calls[0].args[2] as Record<string, unknown>;
    assert.equal(details.authmethod, 'cryptosign');
    assert.deepEqual(details.authextra, { pubkey: publicHex(bob) });
    const principal = await expectWelcome(challenge.verify(answer(bob, challenge.extra.challenge as string), {}));
    assert.deepEqual(principal, { authid: 'dev-7', authrole: 'device', authprovider: 'dynamic' });
  });

  it('no authid anywhere: the hex pubkey is the authid', async () => {
    const a = dynamicCryptosign(
      { authenticator: 'com.example.auth' },
      { caller: fakeCaller(() => ({ pubkey: publicHex(bob), role: 'device' })) },
    );
    const challenge = await expectChallenge(a.start(request({ authextra: { pubkey: publicHex(bob) } })));
    assert.equal((await expectWelcome(challenge.verify(answer(bob, challenge.extra.challenge as string), {}))).authid, publicHex(bob));
  });

  it('a key other than the one the authenticator returned: not_authorized', async () => {
    const a = dynamicCryptosign(
      { authenticator: 'com.example.auth' },
      { caller: fakeCaller(() => ({ pubkey: publicHex(bob), role: 'device' })) },
    );
    const challenge = await expectChallenge(a.start(request({ authextra: { pubkey: publicHex(alice) } })));
    await expectDeny(challenge.verify(answer(alice, challenge.extra.challenge as string), {}), NOT_AUTHORIZED);
  });

  it('no pubkey in the answer: authentication_failed; ApplicationError: its URI', async () => {
    const a = dynamicCryptosign({ authenticator: 'com.example.auth' }, { caller: fakeCaller(() => 'device') });
    await expectDeny(a.start(request({ authextra: { pubkey: publicHex(bob) } })), AUTHENTICATION_FAILED, /pubkey/);
    const b = dynamicCryptosign(
      { authenticator: 'com.example.auth' },
      {
        caller: fakeCaller(() => {
          throw applicationError('com.example.unknown_device');
        }),
      },
    );
    await expectDeny(b.start(request({ authextra: { pubkey: publicHex(bob) } })), 'com.example.unknown_device');
  });
});
