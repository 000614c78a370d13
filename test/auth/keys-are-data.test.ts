/**
 * Keys are data (issue 11): an authid that names an Object.prototype member
 * (constructor, __proto__, toString, valueOf, hasOwnProperty) is an unknown
 * principal like any other, for every method, never a match or a crash; and
 * a principal configured under such a name is an ordinary principal.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { buildTransportAuth, deriveScramCredential } from '../../src/auth/index.ts';
import type { Timers } from '../../src/core/hooks.ts';
import { Router } from '../../src/core/router.ts';
import { listenWebSocket } from '../../src/transports/websocket.ts';
import { NOT_AUTHORIZED, expectChallenge, expectDeny, expectWelcome, request } from './support.ts';
import { ROLES, WsClient, outcomeOf } from './ws-client.ts';

const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'];

const ed25519 = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicHex: publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex') };
};
const ALICE = ed25519();
const scramCredential = await deriveScramCredential('pw', { kdf: 'pbkdf2', iterations: 10, salt: '00112233445566778899aabbccddeeff' });

/** A config as a file has it (JSON.parse: "__proto__" is an own key). */
const CONFIG = JSON.parse(
  JSON.stringify({
    ticket: { type: 'static', principals: { joe: { ticket: 'joe-ticket', role: 'user' } } },
    wampcra: { type: 'static', users: { peter: { secret: 'peter-secret', role: 'user' } } },
    cryptosign: { type: 'static', principals: { alice: { role: 'user', authorized_keys: [ALICE.publicHex] } } },
    scram: { type: 'static', principals: { sam: { ...scramCredential, role: 'user' } } },
  }),
);

/** Per method: HELLO.authextra, and a well-formed (wrong) answer to its CHALLENGE. */
const METHODS: Record<string, { authextra: () => Record<string, unknown>; answer: (extra: Record<string, unknown>) => string }> = {
  ticket: { authextra: () => ({}), answer: () => 'a guess' },
  wampcra: {
    authextra: () => ({}),
    answer: (extra) =>
      createHmac('sha256', 'a guess')
        .update(extra.challenge as string)
        .digest('base64'),
  },
  // A valid signature with a real principal's key: only the authid is wrong.
  cryptosign: {
    authextra: () => ({ pubkey: ALICE.publicHex }),
    answer: (extra) => sign(null, Buffer.from(extra.challenge as string, 'hex'), ALICE.privateKey).toString('hex'),
  },
  scram: { authextra: () => ({ nonce: randomBytes(16).toString('base64') }), answer: () => randomBytes(32).toString('base64') },
  'wamp-scram': { authextra: () => ({ nonce: randomBytes(16).toString('base64') }), answer: () => randomBytes(32).toString('base64') },
};

/** Router timers under which every wait is over at once (the throttle would slow 30 failures from 127.0.0.1 down). */
const instantTimers: Timers = {
  setTimeout: (callback, ms) => (ms >= 1e8 ? undefined : setImmediate(callback)),
  clearTimeout: (handle) => handle && clearImmediate(handle as NodeJS.Immediate),
};

describe('keys are data: prototype names as authids, over sockets', () => {
  it('every method challenges them and denies them with not_authorized, as it does an unknown authid', async () => {
    const router = new Router({ realms: [{ name: 'realm1' }], timers: instantTimers, limits: { openingTimeout: 1e9 } });
    const listener = await listenWebSocket(
      router,
      { host: '127.0.0.1', port: 0 },
      { auth: buildTransportAuth(CONFIG), autoPingInterval: 0 },
    );
    const attempt = async (method: string, authid: string) => {
      const client = await WsClient.open(listener.url);
      try {
        client.send([1, 'realm1', { roles: ROLES, authmethods: [method], authid, authextra: METHODS[method].authextra() }]);
        const challenge = await client.next();
        assert.deepEqual(challenge.slice(0, 2), [4, method], `${method}/${authid}: challenged, got ${JSON.stringify(challenge)}`);
        client.send([5, METHODS[method].answer(challenge[2] as Record<string, unknown>), {}]);
        return await client.next();
      } finally {
        client.close();
      }
    };
    try {
      for (const method of Object.keys(METHODS)) {
        const unknown = await attempt(method, 'nobody');
        assert.equal(outcomeOf(unknown), NOT_AUTHORIZED, method);
        for (const authid of PROTO_NAMES) {
          assert.deepEqual(await attempt(method, authid), unknown, `${method}/${authid}: the same ABORT as for an unknown authid`);
        }
      }
    } finally {
      await listener.close();
    }
  });
});

describe('keys are data: principals configured under prototype names', () => {
  const named = (name: string) =>
    buildTransportAuth(
      JSON.parse(
        JSON.stringify({
          ticket: { type: 'static', principals: { [name]: { ticket: 't', role: 'r' } } },
          wampcra: { type: 'static', users: { [name]: { secret: 's', role: 'r' } } },
          cryptosign: { type: 'static', principals: { [name]: { role: 'r', authorized_keys: [ALICE.publicHex] } } },
        }),
      ),
    );

  for (const name of ['__proto__', 'constructor']) {
    it(`"${name}" is an ordinary principal; the other names still match nothing`, async () => {
      const auth = named(name);
      const ticket = await expectChallenge(auth.get('ticket')!.start(request({ authid: name })));
      assert.equal((await expectWelcome(ticket.verify('t', {}))).authid, name);
      const cra = await expectChallenge(auth.get('wampcra')!.start(request({ authid: name })));
      const signature = createHmac('sha256', 's')
        .update(cra.extra.challenge as string)
        .digest('base64');
      assert.equal((await expectWelcome(cra.verify(signature, {}))).authid, name);
      const cs = await expectChallenge(auth.get('cryptosign')!.start(request({ authextra: { pubkey: ALICE.publicHex } })));
      const csSignature = sign(null, Buffer.from(cs.extra.challenge as string, 'hex'), ALICE.privateKey).toString('hex');
      assert.equal((await expectWelcome(cs.verify(csSignature, {}))).authid, name, 'found by its key without an authid');
      for (const other of PROTO_NAMES.filter((n) => n !== name)) {
        const t = await expectChallenge(auth.get('ticket')!.start(request({ authid: other })));
        await expectDeny(t.verify('t', {}), NOT_AUTHORIZED);
      }
    });
  }
});
