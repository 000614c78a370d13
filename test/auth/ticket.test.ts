import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTransportAuth } from '../../src/auth/index.ts';
import { dynamicTicket } from '../../src/auth/ticket.ts';
import {
  NOT_AUTHORIZED,
  applicationError,
  expectChallenge,
  expectDeny,
  expectWelcome,
  fakeCaller,
  request,
  watchTimingSafeEqual,
} from './support.ts';

const ticket = buildTransportAuth({
  ticket: {
    type: 'static',
    principals: {
      joe: { ticket: 'secret!!!', role: 'frontend' },
      moved: { ticket: 't2', role: 'ops', realm: 'realm2', extra: { hello: 'there' } },
    },
  },
}).get('ticket')!;

describe('ticket: static', () => {
  it('CHALLENGE("ticket", {}) then WELCOME for the right ticket', async () => {
    const challenge = await expectChallenge(ticket.start(request({ authid: 'joe' })));
    assert.deepEqual(challenge.extra, {});
    const principal = await expectWelcome(challenge.verify('secret!!!', {}));
    assert.deepEqual(principal, { authid: 'joe', authrole: 'frontend', authprovider: 'static' });
  });

  it('a principal may set realm and extra', async () => {
    const challenge = await expectChallenge(ticket.start(request({ authid: 'moved' })));
    const principal = await expectWelcome(challenge.verify('t2', {}));
    assert.deepEqual(principal, {
      authid: 'moved',
      authrole: 'ops',
      authprovider: 'static',
      realm: 'realm2',
      authextra: { hello: 'there' },
    });
  });

  it('wrong ticket, a prefix of it, or a longer one: not_authorized, the ticket never in the message', async () => {
    for (const wrong of ['secret!!', 'secret!!!!', '', 'SECRET!!!']) {
      const challenge = await expectChallenge(ticket.start(request({ authid: 'joe' })));
      const message = await expectDeny(challenge.verify(wrong, {}), NOT_AUTHORIZED);
      assert.ok(!message.includes('secret'), `message "${message}" shows no ticket`);
    }
  });

  it('unknown authid: challenged, then the same denial as a wrong ticket', async () => {
    const unknown = await expectChallenge(ticket.start(request({ authid: 'mallory' })));
    const known = await expectChallenge(ticket.start(request({ authid: 'joe' })));
    assert.deepEqual(unknown.extra, known.extra);
    const a = await expectDeny(unknown.verify('secret!!!', {}), NOT_AUTHORIZED);
    const b = await expectDeny(known.verify('nope', {}), NOT_AUTHORIZED);
    assert.equal(a, b);
  });

  it('no authid: not_authorized', async () => {
    await expectDeny(ticket.start(request()), NOT_AUTHORIZED, /authid is required/);
  });

  it('compares in constant time, on equal-length digests, for known and unknown principals alike', async () => {
    const known = await expectChallenge(ticket.start(request({ authid: 'joe' })));
    const unknown = await expectChallenge(ticket.start(request({ authid: 'mallory' })));
    const watch = watchTimingSafeEqual();
    try {
      await expectWelcome(known.verify('secret!!!', {}));
      await expectDeny(unknown.verify('x', {}), NOT_AUTHORIZED);
    } finally {
      watch.restore();
    }
    assert.deepEqual(watch.lengths, [
      [32, 32],
      [32, 32],
    ]);
  });
});

describe('ticket: dynamic', () => {
  it('the authenticator gets the ticket as details.ticket, after AUTHENTICATE', async () => {
    const caller = fakeCaller(({ args }) => ((args[2] as { ticket: string }).ticket === 'letmein' ? 'frontend' : { role: 'x' }));
    const a = dynamicTicket({ authenticator: 'com.example.auth', realm: 'authrealm' }, { caller });
    const challenge = await expectChallenge(a.start(request({ authid: 'ann' })));
    assert.equal(caller.calls.length, 0, 'not called before the ticket is known');
    const principal = await expectWelcome(challenge.verify('letmein', {}));
    assert.deepEqual(principal, { authid: 'ann', authrole: 'frontend', authprovider: 'dynamic' });
    const [call] = caller.calls;
    assert.equal(call.realm, 'authrealm', 'called on authenticator-realm');
    assert.deepEqual(call.args.slice(0, 2), ['realm1', 'ann']);
    const details = call.args[2] as Record<string, unknown>;
    assert.equal(details.ticket, 'letmein');
    assert.equal(details.authmethod, 'ticket');
    assert.equal(details.session, 4242);
  });

  it('the authenticator may assign authid, realm and extra', async () => {
    const caller = fakeCaller(() => ({ role: 'r', authid: 'assigned', realm: 'realm9', extra: { a: [1] } }));
    const a = dynamicTicket({ authenticator: 'com.example.auth' }, { caller });
    const challenge = await expectChallenge(a.start(request()));
    const principal = await expectWelcome(challenge.verify('t', {}));
    assert.deepEqual(principal, { authid: 'assigned', authrole: 'r', authprovider: 'dynamic', realm: 'realm9', authextra: { a: [1] } });
  });

  it('ApplicationError from the authenticator: ABORT with its URI', async () => {
    const caller = fakeCaller(() => {
      throw applicationError('com.example.invalid_ticket', 'invalid ticket');
    });
    const a = dynamicTicket({ authenticator: 'com.example.auth' }, { caller });
    const challenge = await expectChallenge(a.start(request({ authid: 'ann' })));
    await expectDeny(challenge.verify('t', {}), 'com.example.invalid_ticket', /^invalid ticket$/);
  });

  it('no authid from client nor authenticator: wamp.error.no_such_principal', async () => {
    const a = dynamicTicket({ authenticator: 'com.example.auth' }, { caller: fakeCaller(() => 'role') });
    const challenge = await expectChallenge(a.start(request()));
    await expectDeny(challenge.verify('t', {}), 'wamp.error.no_such_principal');
  });
});
