/**
 * Keys from the wire are data: option and detail names that are members of
 * Object.prototype never reach code, never change what a message means, and
 * never pollute a prototype. URI checks agree with the spec's loose rule.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkInbound, ShapeError } from '../../src/wamp/inbound.ts';
import { isValidPattern, isValidUri } from '../../src/wamp/uri-syntax.ts';
import { messageName } from '../../src/wamp/codes.ts';

const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);

// Every client message type that has an Options dict, as a valid message with `options` in place.
const WITH_OPTIONS: Array<[string, (options: object) => unknown[]]> = [
  ['PUBLISH', (o) => [16, 1, o, 'com.t']],
  ['SUBSCRIBE', (o) => [32, 1, o, 'com.t']],
  ['CALL', (o) => [48, 1, o, 'com.p']],
  ['CANCEL', (o) => [49, 1, o]],
  ['REGISTER', (o) => [64, 1, o, 'com.p']],
  ['YIELD', (o) => [70, 1, o]],
  ['HELLO', (o) => [1, 'realm1', { roles: { caller: {} }, ...o }]],
];

describe('untrusted keys', () => {
  it('knows the prototype names it guards against', () => {
    for (const name of ['__proto__', 'constructor', 'valueOf', 'hasOwnProperty', 'toString', 'isPrototypeOf'])
      assert.ok(PROTOTYPE_NAMES.includes(name));
  });

  for (const [type, build] of WITH_OPTIONS) {
    it(`${type}: an option named after any Object.prototype member is an unknown option, ignored`, () => {
      for (const name of PROTOTYPE_NAMES) {
        for (const value of [1, 'x', null, {}, [], true]) {
          const options = JSON.parse(`{${JSON.stringify(name)}: ${JSON.stringify(value)}}`);
          const checked = checkInbound(build(options));
          assert.ok(
            !(checked instanceof ShapeError),
            `${type} with option ${name}=${JSON.stringify(value)}: ${(checked as ShapeError).reason}`,
          );
        }
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }

  it('checks known options by own key only: a bad known option is still refused', () => {
    const checked = checkInbound([48, 1, JSON.parse('{"__proto__": {"timeout": -1}, "receive_progress": 5}'), 'com.p']);
    assert.ok(checked instanceof ShapeError);
    assert.match(checked.reason, /receive_progress/);
  });

  it('names a message type from any value without calling into it', () => {
    const hostile = JSON.parse('{"toString": 1, "valueOf": 1}');
    assert.equal(messageName(hostile), 'message type of type object');
    const checked = checkInbound([hostile, 1]);
    assert.ok(checked instanceof ShapeError);
    assert.match(checked.reason, /unexpected message type of type object/);
  });

  it('takes HELLO roles and features named after prototype members as unknown ones, never by crashing', () => {
    for (const name of PROTOTYPE_NAMES) {
      const details = JSON.parse(`{"roles": {${JSON.stringify(name)}: {"features": {${JSON.stringify(name)}: true}}, "caller": {}}}`);
      assert.ok(!(checkInbound([1, 'realm1', details]) instanceof ShapeError), name);
    }
  });
});

// The loose rule of the spec (basic/building_blocks.md), written as regular expressions.
const SPEC = {
  exact: /^([^\s.#]+\.)*([^\s.#]+)$/,
  prefix: /^([^\s.#]+\.)*([^\s.#]*)$/,
  wildcard: /^(([^\s.#]+\.)|\.)*([^\s.#]+)?$/,
} as const;

describe('URI syntax', () => {
  it('agrees with the spec rule on every URI and pattern', () => {
    const piece = fc.constantFrom('a', 'b', '.', '..', '#', ' ', '\t', '\u00a0', '\u2028', 'é', '', 'com', '\u3000', 'x1');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const uri = pieces.join('');
        assert.equal(isValidUri(uri), SPEC.exact.test(uri), `exact ${JSON.stringify(uri)}`);
        for (const match of ['exact', 'prefix', 'wildcard'] as const) {
          assert.equal(isValidPattern(uri, match), SPEC[match].test(uri), `${match} ${JSON.stringify(uri)}`);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
