import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTransportAuth } from '../../src/auth/index.ts';
import { callAuthenticator } from '../../src/auth/dynamic.ts';
import { dynamicAnonymous, staticAnonymous } from '../../src/auth/anonymous.ts';
import { AUTHENTICATION_FAILED, applicationError, expectDeny, expectWelcome, fakeCaller, request } from './support.ts';

const config = { authenticator: 'com.example.authenticate' };

describe('anonymous', () => {
  it('static: the configured role and a generated authid (not the one asked for)', async () => {
    const a = buildTransportAuth({ anonymous: { type: 'static', role: 'public' } }).get('anonymous')!;
    const principal = await expectWelcome(a.start(request({ authid: 'i-am-admin' })));
    assert.equal(principal.authrole, 'public');
    assert.equal(principal.authprovider, 'static');
    assert.match(principal.authid, /^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}$/);
  });

  it('static without role: "anonymous"', async () => {
    const principal = await expectWelcome(staticAnonymous().start(request()));
    assert.equal(principal.authrole, 'anonymous');
  });

  it('dynamic: the authenticator decides; authid generated unless it assigns one', async () => {
    const caller = fakeCaller(({ args }) =>
      (args[2] as { authextra: { who?: string } }).authextra.who === 'bot' ? { role: 'bot', authid: 'bot-1' } : 'guest',
    );
    const a = dynamicAnonymous(config, { caller });
    const bot = await expectWelcome(a.start(request({ authextra: { who: 'bot' } })));
    assert.deepEqual(bot, { authid: 'bot-1', authrole: 'bot', authprovider: 'dynamic' });
    const guest = await expectWelcome(a.start(request()));
    assert.equal(guest.authrole, 'guest');
    assert.match(guest.authid, /^[2-9A-Z]{4}-/);
    assert.equal((caller.calls[1].args[2] as { authmethod: string }).authmethod, 'anonymous');
  });
});

describe('dynamic authenticator results', () => {
  const run = (answer: () => unknown, timeoutMs?: number) =>
    callAuthenticator({ caller: fakeCaller(answer), timeoutMs }, config, 'ticket', request({ authid: 'x' }));

  it('a role string or a principal dict', async () => {
    assert.deepEqual(await run(() => 'user'), { role: 'user', fields: {} });
    const dict = { role: 'user', authid: 'y', realm: 'r2', extra: { e: 1 }, secret: 's' };
    assert.deepEqual(await run(() => dict), { role: 'user', authid: 'y', realm: 'r2', extra: { e: 1 }, fields: dict });
  });

  it('null for authid, realm and extra means "not set"', async () => {
    assert.deepEqual(await run(() => ({ role: 'u', authid: null, realm: null, extra: null })), {
      role: 'u',
      fields: { role: 'u', authid: null, realm: null, extra: null },
    });
  });

  it('no role: no_such_role', async () => {
    await expectDeny(run(() => ({ authid: 'y' })) as never, 'wamp.error.no_such_role');
  });

  it('a result of the wrong shape: authentication_failed', async () => {
    for (const bad of [null, 42, [], '', { role: 3 }, { role: 'r', authid: 5 }, { role: 'r', extra: 'x' }]) {
      await expectDeny(run(() => bad) as never, AUTHENTICATION_FAILED, /returned/);
    }
  });

  it('an ApplicationError: its URI and first argument; no argument: a message naming the URI', async () => {
    await expectDeny(
      run(() => {
        throw applicationError('com.example.denied', 'go away');
      }) as never,
      'com.example.denied',
      /^go away$/,
    );
    await expectDeny(
      run(() => {
        throw applicationError('com.example.denied');
      }) as never,
      'com.example.denied',
      /com\.example\.denied/,
    );
  });

  it('a procedure nobody registered: wamp.error.no_such_procedure (as Crossbar forwards it)', async () => {
    await expectDeny(
      run(() => {
        throw applicationError('wamp.error.no_such_procedure');
      }) as never,
      'wamp.error.no_such_procedure',
    );
  });

  it('any other failure (e.g. no such authenticator realm): authentication_failed', async () => {
    await expectDeny(
      run(() => {
        throw new Error('no realm "nope"');
      }) as never,
      AUTHENTICATION_FAILED,
      /no realm/,
    );
  });

  it('an authenticator that never answers: authentication_failed after the timeout', async () => {
    const started = Date.now();
    await expectDeny(run(() => new Promise(() => {}), 50) as never, AUTHENTICATION_FAILED, /did not answer in time/);
    const took = Date.now() - started;
    assert.ok(took >= 45 && took < 2000, `timed out after ${took} ms`);
  });
});
