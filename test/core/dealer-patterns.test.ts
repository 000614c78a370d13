/**
 * Pattern-based registrations (WAMP: rpc_pattern_based_registration): which
 * registration a CALL goes to, and what INVOCATION.Details.procedure says.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Router } from '../../src/core/router.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { ERROR, CALL, REGISTER, REGISTERED, UNREGISTER, UNREGISTERED, INVOCATION } from '../helpers/wamp-codes.ts';

function setup() {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  return { router, callee: MemoryClient.join(router), caller: MemoryClient.join(router) };
}

/** Calls `uri` and returns the INVOCATION the callee got (asserting there is exactly one). */
function invocationFor(caller: MemoryClient, callee: MemoryClient, uri: string, request: number): unknown[] {
  caller.send([CALL, request, {}, uri]);
  const got = callee.take();
  assert.equal(got.length, 1, `expected one INVOCATION for ${uri}, got ${JSON.stringify(got)}`);
  assert.equal(got[0][0], INVOCATION, `expected INVOCATION for ${uri}, got ${JSON.stringify(got[0])}`);
  return got[0];
}

describe('dealer: pattern-based registrations', () => {
  it('an exact registration is called only by its exact URI', () => {
    const { callee, caller } = setup();
    const reg = callee.register('com.app.add', { match: 'exact' });
    assert.deepEqual(invocationFor(caller, callee, 'com.app.add', 1), [INVOCATION, 1, reg, {}]);
    for (const [request, uri] of [
      [2, 'com.app.add.more'],
      [3, 'com.app.ad'],
      [4, 'com.app.adder'],
    ] as const) {
      caller.send([CALL, request, {}, uri]);
      assert.deepEqual(caller.take()[0].slice(0, 5), [ERROR, CALL, request, {}, 'wamp.error.no_such_procedure']);
    }
    assert.deepEqual(callee.take(), []);
  });

  it('a prefix registration catches every URI starting with it, with Details.procedure = the called URI', () => {
    const { callee, caller } = setup();
    const reg = callee.register('com.app.', { match: 'prefix' });
    assert.deepEqual(invocationFor(caller, callee, 'com.app.x', 1), [INVOCATION, 1, reg, { procedure: 'com.app.x' }]);
    assert.deepEqual(invocationFor(caller, callee, 'com.app.x.y.z', 2), [INVOCATION, 2, reg, { procedure: 'com.app.x.y.z' }]);
    caller.send([CALL, 3, {}, 'com.other.x']);
    assert.deepEqual(caller.take()[0].slice(0, 5), [ERROR, CALL, 3, {}, 'wamp.error.no_such_procedure']);
  });

  it('a wildcard registration matches one component per empty position, and only the same component count', () => {
    const { callee, caller } = setup();
    const reg = callee.register('com..update', { match: 'wildcard' });
    assert.deepEqual(invocationFor(caller, callee, 'com.user.update', 1), [INVOCATION, 1, reg, { procedure: 'com.user.update' }]);
    assert.deepEqual(invocationFor(caller, callee, 'com.x.update', 2), [INVOCATION, 2, reg, { procedure: 'com.x.update' }]);
    for (const [request, uri] of [
      [3, 'com.a.b.update'],
      [4, 'com.update'],
      [5, 'com.user.updated'],
      [6, 'org.user.update'],
    ] as const) {
      caller.send([CALL, request, {}, uri]);
      assert.deepEqual(caller.take()[0].slice(0, 5), [ERROR, CALL, request, {}, 'wamp.error.no_such_procedure'], uri);
    }
  });

  it('the same URI under exact, prefix and wildcard gives three different registrations', () => {
    const { callee } = setup();
    const exact = callee.register('com.app.proc');
    const prefix = callee.register('com.app.proc', { match: 'prefix' });
    const wildcard = callee.register('com.app.proc', { match: 'wildcard' });
    assert.equal(new Set([exact, prefix, wildcard]).size, 3, `expected three IDs, got ${exact}, ${prefix}, ${wildcard}`);
    // And each of them is now taken under its own policy only.
    callee.send([REGISTER, 100, { match: 'prefix' }, 'com.app.proc']);
    assert.deepEqual(callee.take()[0].slice(0, 5), [ERROR, REGISTER, 100, {}, 'wamp.error.procedure_already_exists']);
  });

  it('exact beats prefix and wildcard', () => {
    const { router, caller } = setup();
    const [p, w, e] = [MemoryClient.join(router), MemoryClient.join(router), MemoryClient.join(router)];
    p.register('com.app', { match: 'prefix' });
    w.register('com.app.', { match: 'wildcard' });
    const exact = e.register('com.app.run');
    caller.send([CALL, 1, {}, 'com.app.run']);
    assert.deepEqual(e.take(), [[INVOCATION, 1, exact, {}]]);
    assert.deepEqual(p.take(), []);
    assert.deepEqual(w.take(), []);
  });

  it('the longer prefix beats the shorter one', () => {
    const { router, caller } = setup();
    const [short, long] = [MemoryClient.join(router), MemoryClient.join(router)];
    const shortReg = short.register('com.', { match: 'prefix' });
    const longReg = long.register('com.app.obj', { match: 'prefix' });
    caller.send([CALL, 1, {}, 'com.app.obj.run']);
    assert.deepEqual(long.take(), [[INVOCATION, 1, longReg, { procedure: 'com.app.obj.run' }]]);
    caller.send([CALL, 2, {}, 'com.app.other']);
    assert.deepEqual(short.take(), [[INVOCATION, 1, shortReg, { procedure: 'com.app.other' }]]);
    assert.deepEqual(long.take(), []);
  });

  it('any prefix beats any wildcard, however literal the wildcard', () => {
    const { router, caller } = setup();
    const [p, w] = [MemoryClient.join(router), MemoryClient.join(router)];
    w.register('com.app.obj.', { match: 'wildcard' });
    const prefix = p.register('c', { match: 'prefix' });
    caller.send([CALL, 1, {}, 'com.app.obj.run']);
    assert.deepEqual(p.take(), [[INVOCATION, 1, prefix, { procedure: 'com.app.obj.run' }]]);
    assert.deepEqual(w.take(), []);
  });

  it('among wildcards, a1.b2.c33..e5 beats a1.b2..d4.e5 for a1.b2.c33.d4.e5 (spec example)', () => {
    const { router, caller } = setup();
    const [loser, winner] = [MemoryClient.join(router), MemoryClient.join(router)];
    // Registered loser first, so registration order cannot explain the outcome.
    loser.register('a1.b2..d4.e5', { match: 'wildcard' });
    const reg = winner.register('a1.b2.c33..e5', { match: 'wildcard' });
    caller.send([CALL, 1, {}, 'a1.b2.c33.d4.e5']);
    assert.deepEqual(winner.take(), [[INVOCATION, 1, reg, { procedure: 'a1.b2.c33.d4.e5' }]]);
    assert.deepEqual(loser.take(), []);
  });

  it('among wildcards, a1.b2..d4.e5..g7 beats a1.b2..d4..f6.g7 for a1.b2.c88.d4.e5.f6.g7 (spec example)', () => {
    const { router, caller } = setup();
    const [loser, winner] = [MemoryClient.join(router), MemoryClient.join(router)];
    loser.register('a1.b2..d4..f6.g7', { match: 'wildcard' });
    const reg = winner.register('a1.b2..d4.e5..g7', { match: 'wildcard' });
    caller.send([CALL, 1, {}, 'a1.b2.c88.d4.e5.f6.g7']);
    assert.deepEqual(winner.take(), [[INVOCATION, 1, reg, { procedure: 'a1.b2.c88.d4.e5.f6.g7' }]]);
    assert.deepEqual(loser.take(), []);
  });

  it('prefix matching is by characters: com.app.obj1 catches com.app.obj1-sub and com.app.obj10', () => {
    const { callee, caller } = setup();
    const reg = callee.register('com.app.obj1', { match: 'prefix' });
    assert.deepEqual(invocationFor(caller, callee, 'com.app.obj1-sub', 1), [INVOCATION, 1, reg, { procedure: 'com.app.obj1-sub' }]);
    assert.deepEqual(invocationFor(caller, callee, 'com.app.obj10', 2), [INVOCATION, 2, reg, { procedure: 'com.app.obj10' }]);
    assert.deepEqual(invocationFor(caller, callee, 'com.app.obj1', 3), [INVOCATION, 3, reg, { procedure: 'com.app.obj1' }]);
  });

  it('INVOCATION.Details has no procedure key for an exact registration', () => {
    const { callee, caller } = setup();
    const reg = callee.register('com.app.exact');
    caller.send([CALL, 1, {}, 'com.app.exact', [1]]);
    const [invocation] = callee.take();
    assert.deepEqual(invocation, [INVOCATION, 1, reg, {}, [1]]);
    assert.ok(!('procedure' in (invocation[3] as object)), 'Details must not carry procedure for an exact match');
  });

  it('after the exact registration is unregistered, calls fall to the prefix one, then to the wildcard one', () => {
    const { router, caller } = setup();
    const [e, p, w] = [MemoryClient.join(router), MemoryClient.join(router), MemoryClient.join(router)];
    const exact = e.register('com.app.run');
    const prefix = p.register('com.app.r', { match: 'prefix' });
    const wildcard = w.register('com..run', { match: 'wildcard' });

    caller.send([CALL, 1, {}, 'com.app.run']);
    assert.deepEqual(e.take(), [[INVOCATION, 1, exact, {}]]);

    e.send([UNREGISTER, 50, exact]);
    assert.deepEqual(e.take(), [[UNREGISTERED, 50]]);
    caller.send([CALL, 2, {}, 'com.app.run']);
    assert.deepEqual(p.take(), [[INVOCATION, 1, prefix, { procedure: 'com.app.run' }]]);

    p.send([UNREGISTER, 51, prefix]);
    assert.deepEqual(p.take(), [[UNREGISTERED, 51]]);
    caller.send([CALL, 3, {}, 'com.app.run']);
    assert.deepEqual(w.take(), [[INVOCATION, 1, wildcard, { procedure: 'com.app.run' }]]);
    assert.deepEqual(e.take(), []);
  });

  it('com..x is an invalid exact URI but a valid wildcard; com.x. is a valid prefix but an invalid exact URI', () => {
    const { callee, caller } = setup();
    callee.send([REGISTER, 1, {}, 'com..x']);
    assert.deepEqual(callee.take()[0].slice(0, 5), [ERROR, REGISTER, 1, {}, 'wamp.error.invalid_uri']);
    callee.send([REGISTER, 2, { match: 'exact' }, 'com.x.']);
    assert.deepEqual(callee.take()[0].slice(0, 5), [ERROR, REGISTER, 2, {}, 'wamp.error.invalid_uri']);

    callee.send([REGISTER, 3, { match: 'wildcard' }, 'com..x']);
    const [wildcardReply] = callee.take();
    assert.equal(wildcardReply[0], REGISTERED, `wildcard com..x refused: ${JSON.stringify(wildcardReply)}`);
    callee.send([REGISTER, 4, { match: 'prefix' }, 'com.x.']);
    const [prefixReply] = callee.take();
    assert.equal(prefixReply[0], REGISTERED, `prefix com.x. refused: ${JSON.stringify(prefixReply)}`);

    assert.deepEqual(invocationFor(caller, callee, 'com.y.x', 1), [INVOCATION, 1, wildcardReply[2], { procedure: 'com.y.x' }]);
    assert.deepEqual(invocationFor(caller, callee, 'com.x.y', 2), [INVOCATION, 2, prefixReply[2], { procedure: 'com.x.y' }]);
  });

  it('always routes to the registration a reference model picks (exact, longest prefix, left-most literal wildcard)', () => {
    const component = fc.constantFrom('a', 'b', 'ab');
    const uriArb = fc.array(component, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'));
    // A wildcard pattern: a URI with some components blanked.
    const wildcardArb = fc
      .array(fc.tuple(component, fc.boolean()), { minLength: 1, maxLength: 4 })
      .map((parts) => parts.map(([c, blank]) => (blank ? '' : c)).join('.'));
    const prefixArb = fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 6 }).filter((p) => /^([ab]+\.)*[ab]*$/.test(p));

    fc.assert(
      fc.property(
        fc.uniqueArray(uriArb, { maxLength: 3 }),
        fc.uniqueArray(prefixArb, { maxLength: 4 }),
        fc.uniqueArray(wildcardArb, { maxLength: 6 }),
        uriArb,
        (exacts, prefixes, wildcards, called) => {
          const { callee, caller } = setup();
          const ids = new Map<number, string>();
          for (const uri of exacts) ids.set(callee.register(uri), `exact ${uri}`);
          for (const uri of prefixes) ids.set(callee.register(uri, { match: 'prefix' }), `prefix ${uri}`);
          for (const uri of wildcards) ids.set(callee.register(uri, { match: 'wildcard' }), `wildcard ${uri}`);

          const expected = referenceBest(exacts, prefixes, wildcards, called);
          caller.send([CALL, 1, {}, called]);
          if (expected === undefined) {
            assert.deepEqual(caller.take()[0].slice(0, 5), [ERROR, CALL, 1, {}, 'wamp.error.no_such_procedure']);
            return;
          }
          const [invocation] = callee.take();
          assert.equal(ids.get(invocation[2] as number), expected, `call of ${called}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('still routes like the reference model after some registrations are unregistered', () => {
    const component = fc.constantFrom('a', 'b', 'ab');
    const uriArb = fc.array(component, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.'));
    const wildcardArb = fc
      .array(fc.tuple(component, fc.boolean()), { minLength: 1, maxLength: 3 })
      .map((parts) => parts.map(([c, blank]) => (blank ? '' : c)).join('.'));
    const prefixArb = fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 5 }).filter((p) => /^([ab]+\.)*[ab]*$/.test(p));
    const entryArb = fc.oneof(
      uriArb.map((uri) => ({ uri, match: 'exact' as const })),
      prefixArb.map((uri) => ({ uri, match: 'prefix' as const })),
      wildcardArb.map((uri) => ({ uri, match: 'wildcard' as const })),
    );

    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(entryArb, fc.boolean()), { maxLength: 10, selector: ([e]) => `${e.match} ${e.uri}` }),
        fc.array(uriArb, { minLength: 1, maxLength: 5 }),
        (entries, calls) => {
          const { callee, caller } = setup();
          const ids = new Map<number, string>();
          const kept = { exact: [] as string[], prefix: [] as string[], wildcard: [] as string[] };
          const removed: number[] = [];
          for (const [{ uri, match }, remove] of entries) {
            const id = callee.register(uri, { match });
            ids.set(id, `${match} ${uri}`);
            if (remove) removed.push(id);
            else kept[match].push(uri);
          }
          removed.forEach((id, i) => {
            callee.send([UNREGISTER, 1000 + i, id]);
            assert.deepEqual(callee.take(), [[UNREGISTERED, 1000 + i]]);
          });
          calls.forEach((called, i) => {
            const expected = referenceBest(kept.exact, kept.prefix, kept.wildcard, called);
            caller.send([CALL, i + 1, {}, called]);
            if (expected === undefined) {
              assert.deepEqual(caller.take()[0].slice(0, 5), [ERROR, CALL, i + 1, {}, 'wamp.error.no_such_procedure']);
              return;
            }
            const [invocation] = callee.take();
            assert.equal(ids.get(invocation[2] as number), expected, `call of ${called}`);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** The spec's choice, written independently of the router's trees. */
function referenceBest(exacts: string[], prefixes: string[], wildcards: string[], uri: string): string | undefined {
  if (exacts.includes(uri)) return `exact ${uri}`;
  const matchingPrefixes = prefixes.filter((p) => uri.startsWith(p)).sort((a, b) => b.length - a.length);
  if (matchingPrefixes.length > 0) return `prefix ${matchingPrefixes[0]}`;
  const parts = uri.split('.');
  const matching = wildcards
    .map((w) => w.split('.'))
    .filter((w) => w.length === parts.length && w.every((c, i) => c === '' || c === parts[i]));
  if (matching.length === 0) return undefined;
  // Position by position from the left, a literal component beats an empty one.
  matching.sort((x, y) => {
    for (let i = 0; i < x.length; i++) {
      if ((x[i] === '') !== (y[i] === '')) return x[i] === '' ? 1 : -1;
    }
    return 0;
  });
  return `wildcard ${matching[0].join('.')}`;
}
