/**
 * Crossbar's REGISTER.Options.force_reregister: a new callee takes over a
 * registered URI; the old callees are told with UNREGISTERED.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { ERROR, CALL, RESULT, REGISTER, REGISTERED, UNREGISTER, UNREGISTERED, INVOCATION, YIELD } from '../helpers/wamp-codes.ts';

const URI = 'com.app.service';

function setup() {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  const a = MemoryClient.join(router);
  const b = MemoryClient.join(router);
  const caller = MemoryClient.join(router);
  return { router, a, b, caller };
}

describe('dealer: force_reregister', () => {
  it('the old callee gets UNREGISTERED [67, 0, {registration, reason}], the new one a new ID, and calls go to it', () => {
    const { a, b, caller } = setup();
    const old = a.register(URI);
    b.send([REGISTER, 9, { force_reregister: true }, URI]);
    // Sent to A although A did not announce registration_revocation, as Crossbar does.
    assert.deepEqual(a.take(), [[UNREGISTERED, 0, { registration: old, reason: 'wamp.error.unregistered' }]]);
    const [registered] = b.take();
    assert.equal(registered.length, 3, `REGISTERED has 3 elements: ${JSON.stringify(registered)}`);
    assert.deepEqual(registered.slice(0, 2), [REGISTERED, 9]);
    const fresh = registered[2] as number;
    assert.notEqual(fresh, old, 'force_reregister creates a new registration ID');

    caller.send([CALL, 1, {}, URI, ['hi']]);
    assert.deepEqual(b.take(), [[INVOCATION, 1, fresh, {}, ['hi']]]);
    assert.deepEqual(a.take(), []);
    // A no longer holds the old registration.
    a.send([UNREGISTER, 3, old]);
    assert.deepEqual(a.take()[0].slice(0, 5), [ERROR, UNREGISTER, 3, {}, 'wamp.error.no_such_registration']);
  });

  it('every callee of a shared registration is dropped and told', () => {
    const { router, a, b, caller } = setup();
    const a2 = MemoryClient.join(router);
    const old = a.register(URI, { invoke: 'roundrobin' });
    a2.register(URI, { invoke: 'roundrobin' });
    const fresh = b.register(URI, { force_reregister: true });
    for (const client of [a, a2]) {
      assert.deepEqual(client.take(), [[UNREGISTERED, 0, { registration: old, reason: 'wamp.error.unregistered' }]]);
    }
    caller.send([CALL, 1, {}, URI]);
    caller.send([CALL, 2, {}, URI]);
    assert.deepEqual(b.take(), [
      [INVOCATION, 1, fresh, {}],
      [INVOCATION, 2, fresh, {}],
    ]);
  });

  it("the old callee's invocation in flight can still YIELD to its caller", () => {
    const { a, b, caller } = setup();
    const old = a.register(URI);
    caller.send([CALL, 1, {}, URI, ['before']]);
    assert.deepEqual(a.take(), [[INVOCATION, 1, old, {}, ['before']]]);
    const fresh = b.register(URI, { force_reregister: true });
    a.take();
    caller.send([CALL, 2, {}, URI, ['after']]);
    assert.deepEqual(b.take(), [[INVOCATION, 1, fresh, {}, ['after']]]);

    a.send([YIELD, 1, {}, ['from A']]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}, ['from A']]]);
    b.send([YIELD, 1, {}, ['from B']]);
    assert.deepEqual(caller.take(), [[RESULT, 2, {}, ['from B']]]);
  });
});
