/**
 * Caller identification (WAMP: rpc_caller_identification): CALL.Options.disclose_me
 * and REGISTER.Options.disclose_caller put the caller's identity into INVOCATION.Details.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { CALL, INVOCATION } from '../helpers/wamp-codes.ts';

const URI = 'com.app.whoami';
const ROLES = { caller: { features: { caller_identification: true } }, callee: { features: { caller_identification: true } } };

interface Joined {
  client: MemoryClient;
  id: number;
  authid: string;
  authrole: string;
}

/** Joins and keeps what WELCOME said about the session. */
function join(router: Router): Joined {
  const client = new MemoryClient(router);
  client.send([1, 'realm1', { roles: ROLES }]);
  const [welcome] = client.take();
  assert.equal(welcome?.[0], 2, `expected WELCOME, got ${JSON.stringify(welcome)}`);
  const details = welcome[2] as { authid: string; authrole: string };
  return { client, id: welcome[1] as number, authid: details.authid, authrole: details.authrole };
}

function setup() {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  return { router, callee: join(router), caller: join(router) };
}

const IDENTITY_KEYS = ['caller', 'caller_authid', 'caller_authrole'];

describe('dealer: caller disclosure', () => {
  it('disclose_me: true puts caller, caller_authid and caller_authrole into INVOCATION.Details', () => {
    const { callee, caller } = setup();
    const reg = callee.client.register(URI);
    caller.client.send([CALL, 1, { disclose_me: true }, URI, ['x']]);
    assert.equal(caller.authrole, 'anonymous');
    assert.ok(caller.authid.length > 0, 'WELCOME carries an authid');
    assert.deepEqual(callee.client.take(), [
      [INVOCATION, 1, reg, { caller: caller.id, caller_authid: caller.authid, caller_authrole: 'anonymous' }, ['x']],
    ]);
  });

  it('without disclose_me (or with disclose_me: false) none of these keys is present', () => {
    const { callee, caller } = setup();
    const reg = callee.client.register(URI);
    caller.client.send([CALL, 1, {}, URI]);
    caller.client.send([CALL, 2, { disclose_me: false }, URI]);
    const got = callee.client.take();
    assert.deepEqual(got, [
      [INVOCATION, 1, reg, {}],
      [INVOCATION, 2, reg, {}],
    ]);
    for (const msg of got) {
      for (const key of IDENTITY_KEYS) assert.ok(!(key in (msg[3] as object)), `Details must not have ${key}`);
    }
  });

  it('REGISTER disclose_caller: true discloses the caller on every call, asked or not', () => {
    const { router, callee, caller } = setup();
    const other = join(router);
    const reg = callee.client.register(URI, { disclose_caller: true });
    caller.client.send([CALL, 1, {}, URI]);
    other.client.send([CALL, 1, { disclose_me: false }, URI]);
    caller.client.send([CALL, 2, { disclose_me: true }, URI]);
    assert.deepEqual(callee.client.take(), [
      [INVOCATION, 1, reg, { caller: caller.id, caller_authid: caller.authid, caller_authrole: 'anonymous' }],
      [INVOCATION, 2, reg, { caller: other.id, caller_authid: other.authid, caller_authrole: 'anonymous' }],
      [INVOCATION, 3, reg, { caller: caller.id, caller_authid: caller.authid, caller_authrole: 'anonymous' }],
    ]);
  });

  it('disclosure goes together with Details.procedure for a pattern registration', () => {
    const { callee, caller } = setup();
    const reg = callee.client.register('com.app.', { match: 'prefix' });
    caller.client.send([CALL, 1, { disclose_me: true }, 'com.app.run']);
    assert.deepEqual(callee.client.take(), [
      [INVOCATION, 1, reg, { procedure: 'com.app.run', caller: caller.id, caller_authid: caller.authid, caller_authrole: 'anonymous' }],
    ]);
  });
});
