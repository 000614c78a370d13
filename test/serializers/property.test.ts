// Property: any WAMP-shaped payload survives every serializer unchanged, and every translation between them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { serializers } from '../../src/serializers/index.ts';
import { WampFloat } from '../../src/wamp/payload.ts';

// WAMP data is JSON plus binary. Not WAMP data, so left out: undefined, NaN,
// ±Infinity, and strings starting with U+0000 (binary by WAMP's JSON
// convention). Keys are any strings, Object.prototype's member names included
// (see keys.test.ts). Payload values (Arguments, ArgumentsKw) are exact: the
// model of src/wamp/payload.ts, with 64-bit integers as bigints and integral
// floats (-0.0 included) as WampFloats. Envelope values (details) go through
// the libraries, so they hold what those read back: safe integers, non-integral floats.
const key = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('__proto__', 'constructor', 'toJSON', 'valueOf', 'hasOwnProperty', 'toString'),
);
const text = (unit: 'grapheme' | 'binary', maxLength: number) => fc.string({ unit, maxLength }).filter((s) => !s.startsWith('\0'));
const common = [
  fc.maxSafeInteger(),
  fc.integer({ min: -(2 ** 32) - 2, max: 2 ** 32 + 2 }), // both sides of the 32-bit limits
  fc.constantFrom(0, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 32, -(2 ** 31) - 1, -(2 ** 32) - 1),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
  text('grapheme', 40),
  text('binary', 8), // any code point, NUL and astral ones included
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }).map((u8) => Buffer.from(u8)),
];
/** A 64-bit integer as the model holds it: a number while safe, else a bigint. */
const int64 = fc
  .oneof(
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.constantFrom(2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n),
  )
  .map((b) => (Number.isSafeInteger(Number(b)) && BigInt(Number(b)) === b ? Number(b) : b));
const integralFloat = fc
  .oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => Number.isInteger(d)),
    fc.constantFrom(2, -0, 0, 1e300, 2 ** 64),
  )
  .map((d) => new WampFloat(d));
const tree = (leaf: fc.Arbitrary<unknown>) =>
  fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('list'), tie('dict')),
    list: fc.array(tie('value'), { maxLength: 6 }),
    dict: fc.dictionary(key, tie('value'), { maxKeys: 6, noNullPrototype: true }),
  })).value;
const envelopeValue = tree(fc.oneof(...common));
const payloadValue = tree(fc.oneof(...common, int64, integralFloat));
const id = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).map((n) => n + 1); // IDs go up to 2^53
const args = fc.array(payloadValue, { maxLength: 5 });
const kwargs = fc.dictionary(key, payloadValue, { maxKeys: 4, noNullPrototype: true });
const details = fc.dictionary(key, envelopeValue, { maxKeys: 4, noNullPrototype: true });
// EVENT, INVOCATION (Arguments at 4) and RESULT (at 3): big IDs, then arbitrary details, args, kwargs.
const message = fc.oneof(
  fc.tuple(fc.constantFrom(36, 68), id, id, details, args, kwargs),
  fc.tuple(fc.constant(50), id, details, args, kwargs),
  fc.tuple(fc.constant(50), id, details, args),
);

for (const ser of serializers) {
  test(`${ser.name}: arbitrary payloads round-trip`, () => {
    fc.assert(
      fc.property(message, (m) => {
        assert.deepEqual(ser.decode(ser.encode(m)), m);
      }),
      { numRuns: 200 },
    );
  });

  for (const to of serializers) {
    if (to === ser) continue;
    test(`${ser.name} -> ${to.name}: a received payload translates exactly`, () => {
      fc.assert(
        fc.property(message, (m) => {
          // What the router does: decode for routing, encode for a receiver on another serializer.
          assert.deepEqual(to.decode(to.encode(ser.decodeRouted(ser.encode(m)) as unknown[])), m);
        }),
        { numRuns: 100 },
      );
    });
  }
}
