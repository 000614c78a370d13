import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthConfigError, buildTransportAuth } from '../../src/auth/index.ts';
import { fakeCaller } from './support.ts';

const KEY = '545efb0a2192db8d43f118e9bf9aee081466e1ef36c708b96ee6f62dddad9122';
const SCRAM = {
  kdf: 'argon2id-13',
  iterations: 4096,
  memory: 512,
  salt: '00112233445566778899aabbccddeeff',
  'stored-key': 'aa'.repeat(32),
  'server-key': 'bb'.repeat(32),
  role: 'user',
};
const caller = fakeCaller(() => 'user');

/** Asserts the config is refused with an AuthConfigError at `path`, whose message matches `problem`. */
function refused(config: unknown, path: string, problem: RegExp, deps: Parameters<typeof buildTransportAuth>[1] = { caller }): string {
  try {
    buildTransportAuth(config, deps);
  } catch (err) {
    assert.ok(err instanceof AuthConfigError, `an AuthConfigError, got ${String(err)}`);
    assert.equal(err.path, path, `path of: ${err.message}`);
    assert.match(err.message, problem);
    assert.ok(err.message.startsWith(`${path}: `), `the message starts with the path: ${err.message}`);
    return err.message;
  }
  assert.fail(`accepted: ${JSON.stringify(config)}`);
}

describe("buildTransportAuth: Crossbar's transport auth dict", () => {
  it('builds every method, SCRAM under both names', () => {
    const auth = buildTransportAuth(
      {
        anonymous: { type: 'static', role: 'public' },
        ticket: { type: 'static', principals: { joe: { ticket: 'secret!!!', role: 'frontend' } } },
        wampcra: {
          type: 'static',
          users: {
            peter: { secret: 'secret2', role: 'frontend' },
            salty: { secret: 's', role: 'r', salt: 'x', iterations: 10, keylen: 16 },
          },
        },
        cryptosign: {
          type: 'static',
          principals: { 'client01@example.com': { realm: 'realm1', role: 'frontend', authorized_keys: [KEY] } },
        },
        scram: { type: 'static', principals: { alice: SCRAM } },
      },
      { caller },
    );
    assert.deepEqual([...auth.keys()].sort(), ['anonymous', 'cryptosign', 'scram', 'ticket', 'wamp-scram', 'wampcra']);
    for (const [name, a] of auth) assert.equal(a.method, name, `the authenticator under "${name}" answers to it`);
  });

  it('"wamp-scram" as the config key works too; dynamic methods with the caller', () => {
    const auth = buildTransportAuth(
      {
        'wamp-scram': { type: 'dynamic', authenticator: 'com.example.auth' },
        ticket: {
          type: 'dynamic',
          authenticator: 'com.example.auth',
          'authenticator-realm': 'auth',
          'authenticator-role': 'authenticator',
        },
        anonymous: { type: 'dynamic', authenticator: 'com.example.auth' },
        wampcra: { type: 'dynamic', authenticator: 'com.example.auth' },
        cryptosign: { type: 'dynamic', authenticator: 'com.example.auth' },
      },
      { caller },
    );
    assert.deepEqual([...auth.keys()].sort(), ['anonymous', 'cryptosign', 'scram', 'ticket', 'wamp-scram', 'wampcra']);
  });

  it('static methods need no caller; empty principal lists are allowed', () => {
    const auth = buildTransportAuth({ ticket: { type: 'static', principals: {} }, wampcra: { type: 'static' } }, {});
    assert.equal(auth.size, 2);
  });

  const cases: Array<[string, unknown, string, RegExp]> = [
    ['not a dict', 'anonymous', 'auth', /must be an object/],
    ['nothing configured', {}, 'auth', /no authentication method/],
    ['an unknown method', { passwordless: { type: 'static' } }, 'auth.passwordless', /not an authentication method/],
    ['cookie (Crossbar, not supported)', { cookie: {} }, 'auth.cookie', /not supported/],
    ['tls', { tls: { type: 'static' } }, 'auth.tls', /not supported/],
    ['a method that is not a dict', { ticket: true }, 'auth.ticket', /must be an object, got true/],
    ['no type', { ticket: { principals: {} } }, 'auth.ticket.type', /"static" or "dynamic", got nothing/],
    ['function type', { ticket: { type: 'function', create: 'a.b' } }, 'auth.ticket.type', /function authenticators are not supported/],
    ['an unknown key', { anonymous: { type: 'static', rol: 'x' } }, 'auth.anonymous.rol', /unknown setting/],
    ['anonymous role not a string', { anonymous: { type: 'static', role: 3 } }, 'auth.anonymous.role', /non-empty string/],
    ['ticket principals not a dict', { ticket: { type: 'static', principals: [] } }, 'auth.ticket.principals', /must be an object/],
    [
      'ticket without ticket',
      { ticket: { type: 'static', principals: { joe: { role: 'r' } } } },
      'auth.ticket.principals.joe.ticket',
      /is required/,
    ],
    [
      'ticket without role',
      { ticket: { type: 'static', principals: { joe: { ticket: 't' } } } },
      'auth.ticket.principals.joe.role',
      /is required/,
    ],
    [
      'realm not a string',
      { ticket: { type: 'static', principals: { joe: { ticket: 't', role: 'r', realm: 1 } } } },
      'auth.ticket.principals.joe.realm',
      /string/,
    ],
    [
      'extra not a dict',
      { ticket: { type: 'static', principals: { joe: { ticket: 't', role: 'r', extra: 'x' } } } },
      'auth.ticket.principals.joe.extra',
      /object/,
    ],
    [
      'wampcra secret not a string',
      { wampcra: { type: 'static', users: { p: { secret: 5, role: 'r' } } } },
      'auth.wampcra.users.p.secret',
      /non-empty string, got a number/,
    ],
    [
      'wampcra iterations without salt',
      { wampcra: { type: 'static', users: { p: { secret: 's', role: 'r', iterations: 5 } } } },
      'auth.wampcra.users.p',
      /need a "salt"/,
    ],
    [
      'wampcra bad keylen',
      { wampcra: { type: 'static', users: { p: { secret: 's', role: 'r', salt: 'x', keylen: 0 } } } },
      'auth.wampcra.users.p.keylen',
      /integer from 1/,
    ],
    [
      'cryptosign without keys',
      { cryptosign: { type: 'static', principals: { c: { role: 'r' } } } },
      'auth.cryptosign.principals.c.authorized_keys',
      /non-empty list/,
    ],
    [
      'cryptosign bad key',
      { cryptosign: { type: 'static', principals: { c: { role: 'r', authorized_keys: [KEY, 'abc'] } } } },
      'auth.cryptosign.principals.c.authorized_keys[1]',
      /64 hex digits/,
    ],
    ['cryptosign trustroots', { cryptosign: { type: 'static', trustroots: {} } }, 'auth.cryptosign.trustroots', /not supported/],
    [
      'scram unknown kdf',
      { scram: { type: 'static', principals: { a: { ...SCRAM, kdf: 'scrypt' } } } },
      'auth.scram.principals.a.kdf',
      /one of argon2id13, argon2id-13, argon2id, pbkdf2/,
    ],
    [
      'scram argon2 without memory',
      { scram: { type: 'static', principals: { a: { ...SCRAM, memory: undefined } } } },
      'auth.scram.principals.a.memory',
      /is required/,
    ],
    [
      'scram pbkdf2 with memory',
      { scram: { type: 'static', principals: { a: { ...SCRAM, kdf: 'pbkdf2' } } } },
      'auth.scram.principals.a.memory',
      /only for Argon2/,
    ],
    [
      'scram short stored-key',
      { scram: { type: 'static', principals: { a: { ...SCRAM, 'stored-key': 'aa' } } } },
      'auth.scram.principals.a.stored-key',
      /32 bytes/,
    ],
    [
      'scram salt not hex',
      { scram: { type: 'static', principals: { a: { ...SCRAM, salt: 'c2FsdHNhbHQ=' } } } },
      'auth.scram.principals.a.salt',
      /hex/,
    ],
    ['scram twice', { scram: { type: 'static' }, 'wamp-scram': { type: 'static' } }, 'auth.wamp-scram', /once/],
    ['dynamic without authenticator', { ticket: { type: 'dynamic' } }, 'auth.ticket.authenticator', /is required/],
    [
      'dynamic with a bad URI',
      { ticket: { type: 'dynamic', authenticator: 'com..x' } },
      'auth.ticket.authenticator',
      /not a valid procedure URI/,
    ],
    [
      'dynamic with an unknown key',
      { ticket: { type: 'dynamic', authenticator: 'a.b', principals: {} } },
      'auth.ticket.principals',
      /unknown setting/,
    ],
  ];
  for (const [what, config, path, problem] of cases) {
    it(`refuses ${what}, naming ${path}`, () => {
      refused(config, path, problem);
    });
  }

  it('checks a principal named "__proto__" like any other (zod leaves such keys out of records)', () => {
    const principals = JSON.parse('{"__proto__": {"role": "r"}}');
    refused({ ticket: { type: 'static', principals } }, 'auth.ticket.principals.__proto__.ticket', /is required/);
    refused(
      { wampcra: { type: 'static', users: JSON.parse('{"__proto__": {"secret": "s", "role": "r", "keylen": 8}}') } },
      'auth.wampcra.users.__proto__',
      /salt/,
    );
  });

  it('a dynamic method without an InternalCaller is refused', () => {
    refused({ ticket: { type: 'dynamic', authenticator: 'com.example.auth' } }, 'auth.ticket', /InternalCaller/, {});
  });

  it('no secret in any error message', () => {
    const secret = 'TOP-SECRET-VALUE';
    const messages = [
      refused(
        { ticket: { type: 'static', principals: { joe: { ticket: secret, role: 7 } } } },
        'auth.ticket.principals.joe.role',
        /string/,
      ),
      refused({ wampcra: { type: 'static', users: { p: { secret, role: 'r', keylen: 3 } } } }, 'auth.wampcra.users.p', /salt/),
      refused(
        { ticket: { type: 'static', principals: { joe: { ticket: [secret], role: 'r' } } } },
        'auth.ticket.principals.joe.ticket',
        /got an array/,
      ),
      refused(
        { wampcra: { type: 'static', users: { p: { secret: { s: secret }, role: 'r' } } } },
        'auth.wampcra.users.p.secret',
        /got an object/,
      ),
    ];
    for (const m of messages) assert.ok(!m.includes(secret), `no secret in "${m}"`);
  });
});
