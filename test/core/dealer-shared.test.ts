/**
 * Shared registrations (WAMP: rpc_shared_registration): who may join a
 * registration, and which callee each call goes to under each policy.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { ERROR, CALL, RESULT, REGISTER, REGISTERED, UNREGISTER, UNREGISTERED, INVOCATION, YIELD } from '../helpers/wamp-codes.ts';

const URI = 'com.app.shared';

function newRouter() {
  return new Router({ realms: [{ name: 'realm1' }] });
}

/** Clients named for readable call sequences. */
function callees(router: Router, names: string[]): Map<string, MemoryClient> {
  return new Map(names.map((name) => [name, MemoryClient.join(router)]));
}

/**
 * Makes `count` calls, each answered at once by the callee that got it, and
 * returns the names of the callees in call order.
 */
function callSequence(caller: MemoryClient, group: Map<string, MemoryClient>, count: number): string[] {
  const order: string[] = [];
  for (let i = 0; i < count; i++) {
    const request = caller.request();
    caller.send([CALL, request, {}, URI]);
    const got: string[] = [];
    for (const [name, client] of group) {
      for (const msg of client.take()) {
        assert.equal(msg[0], INVOCATION, `${name} got ${JSON.stringify(msg)}`);
        got.push(name);
        client.send([YIELD, msg[1], {}, [name]]);
      }
    }
    assert.equal(got.length, 1, `call ${i + 1}: expected one INVOCATION, got ${got.length}`);
    assert.deepEqual(caller.take(), [[RESULT, request, {}, [got[0]]]]);
    order.push(got[0]);
  }
  return order;
}

describe('dealer: shared registrations', () => {
  it("invoke 'single' (the default) refuses every second REGISTER with procedure_already_exists", () => {
    const router = newRouter();
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    const reg = a.register(URI);
    const attempts: Array<[MemoryClient, object]> = [
      [a, {}], // the same session again
      [a, { invoke: 'roundrobin' }],
      [b, {}],
      [b, { invoke: 'single' }],
      [b, { invoke: 'roundrobin' }],
      [b, { invoke: 'first' }],
    ];
    for (const [client, options] of attempts) {
      const request = client.request();
      client.send([REGISTER, request, options, URI]);
      assert.deepEqual(client.take()[0].slice(0, 5), [ERROR, REGISTER, request, {}, 'wamp.error.procedure_already_exists']);
    }
    // Still the one registration, with its one callee.
    const caller = MemoryClient.join(router);
    caller.send([CALL, 1, {}, URI]);
    assert.deepEqual(a.take(), [[INVOCATION, 1, reg, {}]]);
    assert.deepEqual(b.take(), []);
  });

  it('a REGISTER with another shared policy gets procedure_exists_with_different_invocation_policy', () => {
    const router = newRouter();
    const a = MemoryClient.join(router);
    const b = MemoryClient.join(router);
    a.register(URI, { invoke: 'roundrobin' });
    for (const invoke of ['random', 'first', 'last', 'single']) {
      const request = b.request();
      b.send([REGISTER, request, { invoke }, URI]);
      const [reply] = b.take();
      const expected = [ERROR, REGISTER, request, {}, 'wamp.error.procedure_exists_with_different_invocation_policy'];
      assert.deepEqual(reply.slice(0, 5), expected, `invoke ${invoke}`);
    }
    // Omitting invoke means single, which also differs.
    b.send([REGISTER, 99, {}, URI]);
    assert.deepEqual(b.take()[0].slice(0, 5), [ERROR, REGISTER, 99, {}, 'wamp.error.procedure_exists_with_different_invocation_policy']);
  });

  it('the same session registering a shared URI again gets the same ID and is not added twice', () => {
    const router = newRouter();
    const group = callees(router, ['A', 'B']);
    const a = group.get('A')!;
    const first = a.register(URI, { invoke: 'roundrobin' });
    a.send([REGISTER, 50, { invoke: 'roundrobin' }, URI]);
    assert.deepEqual(a.take(), [[REGISTERED, 50, first]]);
    assert.equal(group.get('B')!.register(URI, { invoke: 'roundrobin' }), first);
    // Were A in the list twice, it would get two calls of every three.
    assert.deepEqual(callSequence(MemoryClient.join(router), group, 6), ['A', 'B', 'A', 'B', 'A', 'B']);
    // One UNREGISTER takes A out for good.
    a.send([UNREGISTER, 51, first]);
    assert.deepEqual(a.take(), [[UNREGISTERED, 51]]);
    assert.deepEqual(callSequence(MemoryClient.join(router), group, 3), ['B', 'B', 'B']);
  });

  it('roundrobin cycles through the callees in registration order', () => {
    const router = newRouter();
    const group = callees(router, ['A', 'B', 'C']);
    const ids = [...group.values()].map((c) => c.register(URI, { invoke: 'roundrobin' }));
    assert.equal(new Set(ids).size, 1, 'every callee joins the one registration');
    assert.deepEqual(callSequence(MemoryClient.join(router), group, 7), ['A', 'B', 'C', 'A', 'B', 'C', 'A']);
  });

  it('roundrobin stays fair when the next callee leaves mid-cycle and another joins', () => {
    const router = newRouter();
    const group = callees(router, ['A', 'B', 'C']);
    for (const c of group.values()) c.register(URI, { invoke: 'roundrobin' });
    const caller = MemoryClient.join(router);
    assert.deepEqual(callSequence(caller, group, 4), ['A', 'B', 'C', 'A']);
    // B was next: its turn passes to C, and nobody is served twice in a row.
    group.get('B')!.disconnect();
    group.delete('B');
    assert.deepEqual(callSequence(caller, group, 2), ['C', 'A']);
    // D joins at the end of the order, right after C.
    const d = MemoryClient.join(router);
    d.register(URI, { invoke: 'roundrobin' });
    group.set('D', d);
    assert.deepEqual(callSequence(caller, group, 6), ['C', 'D', 'A', 'C', 'D', 'A']);
  });

  it('roundrobin stays fair when the callee just served leaves, or an earlier one', () => {
    const router = newRouter();
    const group = callees(router, ['A', 'B', 'C', 'D']);
    for (const c of group.values()) c.register(URI, { invoke: 'roundrobin' });
    const caller = MemoryClient.join(router);
    assert.deepEqual(callSequence(caller, group, 2), ['A', 'B']);
    // B was just served; C is still next.
    group.get('B')!.disconnect();
    group.delete('B');
    assert.deepEqual(callSequence(caller, group, 1), ['C']);
    // A (earlier in the order) leaves; D is still next.
    group.get('A')!.disconnect();
    group.delete('A');
    assert.deepEqual(callSequence(caller, group, 4), ['D', 'C', 'D', 'C']);
  });

  it("'first' goes to the earliest callee still registered, then the next earliest when it leaves", () => {
    const router = newRouter();
    const group = callees(router, ['A', 'B', 'C']);
    for (const c of group.values()) c.register(URI, { invoke: 'first' });
    const caller = MemoryClient.join(router);
    assert.deepEqual(callSequence(caller, group, 3), ['A', 'A', 'A']);
    group.get('A')!.disconnect();
    group.delete('A');
    assert.deepEqual(callSequence(caller, group, 2), ['B', 'B']);
    const d = MemoryClient.join(router);
    d.register(URI, { invoke: 'first' });
    group.set('D', d);
    assert.deepEqual(callSequence(caller, group, 2), ['B', 'B']);
  });

  it("'last' goes to the latest callee still registered, then the previous one when it leaves", () => {
    const router = newRouter();
    const group = callees(router, ['A', 'B', 'C']);
    for (const c of group.values()) c.register(URI, { invoke: 'last' });
    const caller = MemoryClient.join(router);
    assert.deepEqual(callSequence(caller, group, 3), ['C', 'C', 'C']);
    group.get('C')!.disconnect();
    group.delete('C');
    assert.deepEqual(callSequence(caller, group, 2), ['B', 'B']);
    const d = MemoryClient.join(router);
    d.register(URI, { invoke: 'last' });
    group.set('D', d);
    assert.deepEqual(callSequence(caller, group, 2), ['D', 'D']);
  });

  it("'random' spreads 300 calls over 3 callees, every one getting a fair share", () => {
    // DealerOptions.random cannot be set through Router: test the spread.
    // Each count is Binomial(300, 1/3): mean 100, sd 8.2; below 40 is over 7 sd away.
    const router = newRouter();
    const group = callees(router, ['A', 'B', 'C']);
    for (const c of group.values()) c.register(URI, { invoke: 'random' });
    const order = callSequence(MemoryClient.join(router), group, 300);
    for (const name of group.keys()) {
      const count = order.filter((n) => n === name).length;
      assert.ok(count >= 40, `${name} got ${count} of 300 calls`);
    }
  });

  it('the registration is deleted with its last callee, and a new REGISTER may then pick another policy', () => {
    const router = newRouter();
    const [a, b, c] = [MemoryClient.join(router), MemoryClient.join(router), MemoryClient.join(router)];
    const old = a.register(URI, { invoke: 'roundrobin' });
    b.register(URI, { invoke: 'roundrobin' });
    a.disconnect();
    // B still holds it: the policy is still fixed.
    c.send([REGISTER, 1, { invoke: 'first' }, URI]);
    assert.deepEqual(c.take()[0].slice(0, 5), [ERROR, REGISTER, 1, {}, 'wamp.error.procedure_exists_with_different_invocation_policy']);
    b.disconnect();
    const caller = MemoryClient.join(router);
    caller.send([CALL, 1, {}, URI]);
    assert.deepEqual(caller.take()[0].slice(0, 5), [ERROR, CALL, 1, {}, 'wamp.error.no_such_procedure']);

    const fresh = c.register(URI, { invoke: 'first' });
    assert.notEqual(fresh, old, 'a new registration gets a new ID');
    const d = MemoryClient.join(router);
    assert.equal(d.register(URI, { invoke: 'first' }), fresh);
    caller.send([CALL, 2, {}, URI]);
    assert.deepEqual(c.take(), [[INVOCATION, 1, fresh, {}]]);
    assert.deepEqual(d.take(), []);
  });

  it('unregistering one callee of a shared registration by its ID leaves the others serving', () => {
    const router = newRouter();
    const group = callees(router, ['A', 'B', 'C']);
    const [a] = group.values();
    const reg = a.register(URI, { invoke: 'roundrobin' });
    for (const c of [...group.values()].slice(1)) c.register(URI, { invoke: 'roundrobin' });
    a.send([UNREGISTER, 7, reg]);
    assert.deepEqual(a.take(), [[UNREGISTERED, 7]]);
    group.delete('A');
    assert.deepEqual(callSequence(MemoryClient.join(router), group, 4), ['B', 'C', 'B', 'C']);
    // A is no longer a callee of it.
    a.send([UNREGISTER, 8, reg]);
    assert.deepEqual(a.take()[0].slice(0, 5), [ERROR, UNREGISTER, 8, {}, 'wamp.error.no_such_registration']);
  });
});
