// Property: any WAMP-shaped payload survives every serializer unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { serializers } from '../../src/serializers/index.ts';

// WAMP data is JSON plus binary. Not WAMP data, so left out: undefined, NaN,
// ±Infinity and -0 (JSON cannot carry them), and strings starting with
// U+0000 (binary by WAMP's JSON convention). Keys are any strings,
// Object.prototype's member names included (see keys.test.ts).
const key = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('__proto__', 'constructor', 'toJSON', 'valueOf', 'hasOwnProperty', 'toString'),
);
const text = (unit: 'grapheme' | 'binary', maxLength: number) => fc.string({ unit, maxLength }).filter((s) => !s.startsWith('\0'));
const leaf = fc.oneof(
  fc.maxSafeInteger(),
  fc.integer({ min: -(2 ** 32) - 2, max: 2 ** 32 + 2 }), // both sides of the 32-bit limits
  fc.constantFrom(0, 2 ** 53, -(2 ** 53), 2 ** 32, -(2 ** 31) - 1, -(2 ** 32) - 1),
  // Integral doubles beyond ±2^53 are not exact integers anyway (see integers.test.ts).
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0) && !(Number.isInteger(d) && Math.abs(d) > 2 ** 53)),
  text('grapheme', 40),
  text('binary', 8), // any code point, NUL and astral ones included
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }).map((u8) => Buffer.from(u8)),
);
const { payload } = fc.letrec((tie) => ({
  payload: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('list'), tie('dict')),
  list: fc.array(tie('payload'), { maxLength: 6 }),
  dict: fc.dictionary(key, tie('payload'), { maxKeys: 6, noNullPrototype: true }),
}));
// EVENT-like: big IDs in fixed positions, then arbitrary details/args/kwargs.
const message = fc.tuple(
  fc.constantFrom(36, 48, 50, 68),
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).map((n) => n + 1), // IDs go up to 2^53
  fc.dictionary(key, payload, { maxKeys: 4, noNullPrototype: true }),
  fc.array(payload, { maxLength: 5 }),
  fc.dictionary(key, payload, { maxKeys: 4, noNullPrototype: true }),
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
}
