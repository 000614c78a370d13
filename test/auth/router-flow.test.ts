/**
 * The authenticators inside the real Router (in memory): the message flow
 * HELLO -> CHALLENGE -> AUTHENTICATE -> WELCOME/ABORT, and a dynamic
 * authenticator reached through the router's InternalCaller.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { buildTransportAuth } from '../../src/auth/index.ts';
import { InternalCaller } from '../../src/core/internal-caller.ts';
import { Router } from '../../src/core/router.ts';
import type { Outbound } from '../../src/wamp/messages.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';

const ROLES = { caller: {}, callee: {}, publisher: {}, subscriber: {} };

/** Waits (bounded) until the client was sent something, and takes it. */
async function next(client: MemoryClient, within = 2000): Promise<Outbound> {
  const until = Date.now() + within;
  while (client.peer.sent.length === 0) {
    if (Date.now() > until) throw new Error('nothing sent within the time');
    await new Promise((r) => setTimeout(r, 2));
  }
  return client.peer.sent.shift()!;
}

function setup() {
  const router = new Router({ realms: [{ name: 'realm1' }, { name: 'auth' }] });
  const caller = new InternalCaller(router);
  const auth = buildTransportAuth(
    {
      ticket: { type: 'static', principals: { joe: { ticket: 'secret!!!', role: 'frontend' } } },
      wampcra: { type: 'dynamic', authenticator: 'com.example.authenticate', 'authenticator-realm': 'auth' },
      anonymous: { type: 'static', role: 'public' },
    },
    { caller },
  );
  return { router, auth };
}

describe('authentication through the router', () => {
  it('ticket: CHALLENGE, then WELCOME with authid, authrole, authmethod, authprovider', async () => {
    const { router, auth } = setup();
    const client = new MemoryClient(router, auth);
    client.send([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: 'joe' }]);
    assert.deepEqual(await next(client), [4, 'ticket', {}]);
    client.send([5, 'secret!!!', {}]);
    const welcome = await next(client);
    assert.equal(welcome[0], 2);
    const details = welcome[2] as Record<string, unknown>;
    assert.deepEqual(
      {
        authid: details.authid,
        authrole: details.authrole,
        authmethod: details.authmethod,
        authprovider: details.authprovider,
        realm: details.realm,
      },
      { authid: 'joe', authrole: 'frontend', authmethod: 'ticket', authprovider: 'static', realm: 'realm1' },
    );
  });

  it('ticket: wrong ticket -> ABORT wamp.error.not_authorized', async () => {
    const { router, auth } = setup();
    const client = new MemoryClient(router, auth);
    client.send([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: 'joe' }]);
    await next(client);
    client.send([5, 'guess', {}]);
    const abort = await next(client);
    assert.equal(abort[0], 3);
    assert.equal(abort[2], 'wamp.error.not_authorized');
    assert.ok(!JSON.stringify(abort).includes('secret'), 'no ticket in the ABORT');
  });

  it("the client's order of authmethods decides; anonymous gets the configured role", async () => {
    const { router, auth } = setup();
    const client = new MemoryClient(router, auth);
    client.send([1, 'realm1', { roles: ROLES, authmethods: ['cryptosign', 'anonymous', 'ticket'] }]);
    const welcome = await next(client);
    assert.equal(welcome[0], 2);
    assert.deepEqual([(welcome[2] as any).authmethod, (welcome[2] as any).authrole], ['anonymous', 'public']);
  });

  it('dynamic wampcra: the authenticator registered on the authenticator realm answers through the InternalCaller', async () => {
    const { router, auth } = setup();
    // The authenticator: a session on realm "auth" (joined anonymously).
    const authenticator = MemoryClient.join(router, 'auth', ROLES, undefined);
    authenticator.register('com.example.authenticate');
    const client = new MemoryClient(router, auth);
    client.send([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'peter' }]);
    const invocation = await next(authenticator);
    assert.equal(invocation[0], 68);
    const [realm, authid, details] = invocation[4] as [string, string, Record<string, unknown>];
    assert.deepEqual([realm, authid, details.authmethod], ['realm1', 'peter', 'wampcra']);
    assert.equal(details.session, client.session.id);
    authenticator.send([70, invocation[1], {}, [{ secret: 'from-authenticator', role: 'frontend', extra: { via: 'dynamic' } }]]);
    const challenge = await next(client);
    assert.equal(challenge[0], 4);
    const text = (challenge[2] as { challenge: string }).challenge;
    client.send([5, createHmac('sha256', 'from-authenticator').update(text).digest('base64'), {}]);
    const welcome = await next(client);
    assert.equal(welcome[0], 2);
    const d = welcome[2] as Record<string, unknown>;
    assert.deepEqual(
      [d.authid, d.authrole, d.authmethod, d.authprovider, d.authextra],
      ['peter', 'frontend', 'wampcra', 'dynamic', { via: 'dynamic' }],
    );
  });

  it("dynamic: the authenticator's error URI is the ABORT reason", async () => {
    const { router, auth } = setup();
    const authenticator = MemoryClient.join(router, 'auth', ROLES, undefined);
    authenticator.register('com.example.authenticate');
    const client = new MemoryClient(router, auth);
    client.send([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'eve' }]);
    const invocation = await next(authenticator);
    authenticator.send([8, 68, invocation[1], {}, 'com.example.no_such_user', ['no user eve']]);
    const abort = await next(client);
    assert.deepEqual([abort[0], abort[2]], [3, 'com.example.no_such_user']);
  });

  it('dynamic: no authenticator registered -> ABORT wamp.error.no_such_procedure', async () => {
    const { router, auth } = setup();
    const client = new MemoryClient(router, auth);
    client.send([1, 'realm1', { roles: ROLES, authmethods: ['wampcra'], authid: 'eve' }]);
    const abort = await next(client);
    assert.deepEqual([abort[0], abort[2]], [3, 'wamp.error.no_such_procedure']);
  });
});
