import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';

function setup() {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  return { router, callee: MemoryClient.join(router), caller: MemoryClient.join(router) };
}

describe('dealer (in-memory peer)', () => {
  it('routes CALL -> INVOCATION -> YIELD -> RESULT with payload passed exactly', () => {
    const { callee, caller } = setup();
    const reg = callee.register('com.example.add');
    caller.send([48, 7, {}, 'com.example.add', [1, 2], { x: null }]);
    const [invocation] = callee.take();
    assert.deepEqual(invocation, [68, 1, reg, {}, [1, 2], { x: null }]);
    callee.send([70, 1, {}, [3]]);
    assert.deepEqual(caller.take(), [[50, 7, {}, [3]]]);
  });

  it('passes absent args/kwargs as absent, kwargs-only with its [] as sent', () => {
    const { callee, caller } = setup();
    callee.register('com.example.noargs');
    caller.send([48, 1, {}, 'com.example.noargs']);
    assert.equal(callee.take()[0].length, 4);
    callee.send([70, 1, {}]);
    assert.deepEqual(caller.take(), [[50, 1, {}]]);
    caller.send([48, 2, {}, 'com.example.noargs', [], { a: 1 }]);
    assert.deepEqual(callee.take()[0].slice(4), [[], { a: 1 }]);
    callee.send([70, 2, {}, [], { b: 2 }]);
    assert.deepEqual(caller.take(), [[50, 2, {}, [], { b: 2 }]]);
  });

  it('numbers invocations sequentially per callee', () => {
    const { router, callee, caller } = setup();
    const other = MemoryClient.join(router);
    callee.register('com.example.a');
    other.register('com.example.b');
    caller.send([48, 1, {}, 'com.example.a']);
    caller.send([48, 2, {}, 'com.example.b']);
    caller.send([48, 3, {}, 'com.example.a']);
    assert.deepEqual(
      callee.take().map((m) => m[1]),
      [1, 2],
    );
    assert.deepEqual(
      other.take().map((m) => m[1]),
      [1],
    );
  });

  it("passes the callee's error URI, args and kwargs to the caller unchanged", () => {
    const { callee, caller } = setup();
    callee.register('com.example.fail');
    caller.send([48, 3, {}, 'com.example.fail']);
    callee.take();
    callee.send([8, 68, 1, {}, 'com.example.error.bad', ['why', 2], { code: 42 }]);
    assert.deepEqual(caller.take(), [[8, 48, 3, {}, 'com.example.error.bad', ['why', 2], { code: 42 }]]);
  });

  it('answers a call to an unknown procedure with wamp.error.no_such_procedure', () => {
    const { caller } = setup();
    caller.send([48, 1, {}, 'com.example.none']);
    const [err] = caller.take();
    assert.deepEqual(err.slice(0, 5), [8, 48, 1, {}, 'wamp.error.no_such_procedure']);
  });

  it('refuses a second registration of the same URI with procedure_already_exists', () => {
    const { router, callee } = setup();
    callee.register('com.example.once');
    for (const client of [callee, MemoryClient.join(router)]) {
      client.send([64, 99, {}, 'com.example.once']);
      assert.deepEqual(client.take()[0].slice(0, 5), [8, 64, 99, {}, 'wamp.error.procedure_already_exists']);
    }
  });

  for (const [what, uri] of [
    ['a reserved wamp. URI', 'wamp.session.count'],
    ['an empty component', 'com..example'],
    ['whitespace', 'com.exa mple'],
    ['a #', 'com.ex#ample'],
  ]) {
    it(`refuses REGISTER of ${what} with wamp.error.invalid_uri`, () => {
      const { callee } = setup();
      callee.send([64, 5, {}, uri]);
      assert.deepEqual(callee.take()[0].slice(0, 5), [8, 64, 5, {}, 'wamp.error.invalid_uri']);
    });
  }

  it('answers CALL of a malformed URI with wamp.error.invalid_uri', () => {
    const { caller } = setup();
    caller.send([48, 1, {}, 'com.example.']);
    assert.deepEqual(caller.take()[0].slice(0, 5), [8, 48, 1, {}, 'wamp.error.invalid_uri']);
  });

  it('unregisters by registration ID; a second UNREGISTER gets no_such_registration', () => {
    const { callee, caller } = setup();
    const reg = callee.register('com.example.add');
    callee.send([66, 10, reg]);
    assert.deepEqual(callee.take(), [[67, 10]]);
    callee.send([66, 11, reg]);
    assert.deepEqual(callee.take()[0].slice(0, 5), [8, 66, 11, {}, 'wamp.error.no_such_registration']);
    caller.send([48, 1, {}, 'com.example.add']);
    assert.equal(caller.take()[0][4], 'wamp.error.no_such_procedure');
  });

  it("refuses to unregister another session's registration", () => {
    const { callee, caller } = setup();
    const reg = callee.register('com.example.add');
    caller.send([66, 1, reg]);
    assert.equal(caller.take()[0][4], 'wamp.error.no_such_registration');
  });

  it('fails calls in flight with wamp.error.canceled at once when the callee leaves', () => {
    const { router, callee, caller } = setup();
    const caller2 = MemoryClient.join(router);
    callee.register('com.example.slow');
    caller.send([48, 1, {}, 'com.example.slow']);
    caller2.send([48, 1, {}, 'com.example.slow']);
    callee.disconnect();
    for (const c of [caller, caller2]) {
      const [err] = c.take();
      assert.deepEqual(err.slice(0, 5), [8, 48, 1, {}, 'wamp.error.canceled']);
    }
    caller.send([48, 2, {}, 'com.example.slow']);
    assert.equal(caller.take()[0][4], 'wamp.error.no_such_procedure');
  });

  it('discards a YIELD for a caller that has left, and keeps the callee working', () => {
    const { router, callee, caller } = setup();
    callee.register('com.example.add');
    caller.send([48, 1, {}, 'com.example.add']);
    caller.disconnect();
    callee.send([70, 1, {}, [1]]);
    callee.send([70, 12345, {}, [1]]); // never issued: ignored too
    assert.deepEqual(callee.take().slice(1), []);
    assert.equal(callee.session.state, 'joined');
    const other = MemoryClient.join(router);
    other.send([48, 1, {}, 'com.example.add']);
    assert.equal(callee.take()[0][0], 68);
  });

  it('treats a CALL reusing a request ID still in flight as a protocol violation', () => {
    const { callee, caller } = setup();
    callee.register('com.example.add');
    caller.send([48, 1, {}, 'com.example.add']);
    caller.send([48, 1, {}, 'com.example.add']);
    assert.deepEqual(caller.take()[0].slice(0, 3)[2], 'wamp.error.protocol_violation');
  });
});
