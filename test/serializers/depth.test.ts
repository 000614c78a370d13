// Nesting depth is bounded while decoding, before anything recurses: the
// message array is depth 1, so [1, [2]] is depth 2. A megabyte of `[[[[`
// fails with SerializationError, never a RangeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MAX_DEPTH } from '../../src/serializers/serializer.ts';
import { serializers } from '../../src/serializers/index.ts';
import { cborSerializer } from '../../src/serializers/cbor.ts';
import { jsonSerializer } from '../../src/serializers/json.ts';
import { cbor, hex, nested, refuses } from './wire.ts';

const MB = 1 << 20;

test('the default limit is 64', () => {
  assert.equal(DEFAULT_MAX_DEPTH, 64);
});

for (const ser of serializers) {
  const wire = (m: unknown[]) => ser.encode(m);

  test(`${ser.name}: [1, [2]] is depth 2`, () => {
    assert.deepEqual(ser.decode(wire([1, [2]]), 2), [1, [2]]);
    refuses(() => ser.decode(wire([1, [2]]), 1), new RegExp(`^${ser.name}: nesting deeper than 1$`));
    assert.deepEqual(ser.decode(wire([1, {}]), 2), [1, {}]); // empty containers count
    refuses(() => ser.decode(wire([1, {}]), 1), /nesting deeper than 1/);
    assert.deepEqual(ser.decode(wire([7]), 1), [7]);
  });

  for (const kind of ['array', 'map'] as const) {
    test(`${ser.name}: ${kind}s nested exactly to the limit decode, one more level is refused`, () => {
      assert.doesNotThrow(() => ser.decode(nested(ser.name, DEFAULT_MAX_DEPTH, kind)));
      refuses(() => ser.decode(nested(ser.name, DEFAULT_MAX_DEPTH + 1, kind)), /nesting deeper than 64$/);
      assert.doesNotThrow(() => ser.decode(nested(ser.name, 200, kind), 200));
      refuses(() => ser.decode(nested(ser.name, 11, kind), 10), /nesting deeper than 10$/);
    });
  }

  test(`${ser.name}: a megabyte of open arrays fails with SerializationError, not RangeError`, () => {
    const open = ser.name === 'json' ? '['.repeat(MB) : Buffer.alloc(MB, ser.name === 'msgpack' ? 0x91 : 0x81);
    refuses(() => ser.decode(open), /nesting deeper than 64$/);
    // The same, closed (valid); and indefinite-length CBOR arrays.
    refuses(() => ser.decode(nested(ser.name, MB / 2)), /nesting deeper than 64$/);
    if (ser.name === 'cbor') refuses(() => ser.decode(Buffer.alloc(MB, 0x9f)), /nesting deeper than 64$/);
  });

  test(`${ser.name}: maxDepth must be a positive integer`, () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity]) assert.throws(() => ser.decode(wire([1]), bad), RangeError, String(bad));
  });
}

test('json: brackets inside strings do not count, escaped quotes do not end a string', () => {
  const inString = JSON.stringify(['['.repeat(1000), '{'.repeat(1000)]);
  assert.deepEqual(jsonSerializer.decode(inString), ['['.repeat(1000), '{'.repeat(1000)]);
  const tricky = JSON.stringify(['\\"[[[', '\\', '"'.repeat(10) + '['.repeat(100)]);
  assert.deepEqual(jsonSerializer.decode(tricky), JSON.parse(tricky));
  // Deep after a string with escapes: still found.
  refuses(() => jsonSerializer.decode('["\\\\"' + ',['.repeat(65) + ']'.repeat(66)), /nesting deeper than 64$/);
  refuses(() => jsonSerializer.decode('["\\"' + '['.repeat(200) + '"' + ',['.repeat(65) + ']'.repeat(66)), /nesting deeper than 64$/);
});

test('json: many shallow containers are fine (the cheap bracket count is not the limit)', () => {
  const wide = [48, 1, {}, 'a.b', Array.from({ length: 500 }, (_, i) => ({ i, l: [i] }))];
  assert.deepEqual(jsonSerializer.decode(JSON.stringify(wide)), wide);
});

test('cbor: tags do not count as levels; indefinite and definite containers do', () => {
  const deepest = (d: number) => {
    let item: Buffer = cbor.tag(55799, cbor.tag(64, cbor.bytes(Buffer.of(1))));
    for (let i = 0; i < d; i++) item = i % 2 ? cbor.open(4, [item]) : cbor.map([[cbor.text('k'), item]]);
    return item;
  };
  assert.doesNotThrow(() => cborSerializer.decode(deepest(64)));
  refuses(() => cborSerializer.decode(deepest(65)), /nesting deeper than 64$/);
  assert.deepEqual(cborSerializer.decode(hex('81 9f 9f ff ff'), 3), [[[]]]);
  refuses(() => cborSerializer.decode(hex('81 9f 9f ff ff'), 2), /nesting deeper than 2$/);
});

test('json: a bomb past the cheap pre-check is refused by the walk after JSON.parse, which does not recurse', () => {
  const padding = JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ i }))); // bracket-rich, shallow
  const bomb = `[${padding},${'['.repeat(MB / 4)}${']'.repeat(MB / 4)}]`;
  refuses(() => jsonSerializer.decode(bomb), /^json: nesting deeper than 64$/);
  const maps = `[${padding},${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}]`;
  refuses(() => jsonSerializer.decode(maps), /^json: nesting deeper than 64$/);
  // Unterminated, it is invalid JSON, whatever its depth.
  refuses(() => jsonSerializer.decode(`[${padding},${'['.repeat(MB / 4)}`), /^json: invalid JSON/);
  // Exactly at the limit past the prefix: fine.
  assert.doesNotThrow(() => jsonSerializer.decode(`[${padding},${'['.repeat(63)}${']'.repeat(63)}]`));
  refuses(() => jsonSerializer.decode(`[${padding},${'['.repeat(64)}${']'.repeat(64)}]`), /nesting deeper than 64$/);
});
