// Undecodable input always throws SerializationError, whatever the library threw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerializationError, serializers } from '../../src/serializers/index.ts';
import { jsonSerializer } from '../../src/serializers/json.ts';
import { msgpackSerializer } from '../../src/serializers/msgpack.ts';
import { cborSerializer } from '../../src/serializers/cbor.ts';

const h = (s: string) => Buffer.from(s, 'hex');

function rejects(decode: () => unknown, what: string): void {
  assert.throws(
    decode,
    (err: unknown) => {
      assert.ok(err instanceof SerializationError, `${what}: threw ${String(err)} instead of SerializationError`);
      assert.equal(err.name, 'SerializationError');
      return true;
    },
    what,
  );
}

const BAD: Record<string, [string, Buffer | string][]> = {
  json: [
    ['empty string', ''],
    ['empty buffer', Buffer.alloc(0)],
    ['whitespace only', '  \n'],
    ['not JSON', 'hello'],
    ['truncated', '[48, 1, {}'],
    ['trailing garbage', '[1] x'],
    ['two values', '[1][2]'],
    ['raw NUL in a string', '["\u0000"]'],
    ['invalid UTF-8', h('5b22ff225d')],
    ['binary garbage', h('9530ce00773bf780')],
  ],
  msgpack: [
    ['empty', Buffer.alloc(0)],
    ['text instead of bytes', '[1]'],
    ['truncated array', h('9530ce0077')],
    ['truncated string', h('92a5616263')],
    ['only an array head', h('95')],
    ['trailing bytes', h('9101ff')],
    ['two items', h('91019102')],
    ['never-used byte 0xc1', h('c1')],
    ['never-used byte 0xc1 nested', h('920191c1')],
    ['reference extension (structured clone)', h('c70469000000019101')],
    ['unknown extension', h('d46400')],
  ],
  cbor: [
    ['empty', Buffer.alloc(0)],
    ['text instead of bytes', '[1]'],
    ['truncated array', h('8518301a0077')],
    ['truncated string', h('82656162')],
    ['only an array head', h('85')],
    ['trailing bytes', h('8101ff')],
    ['two items', h('81018102')],
    ['lone break', h('ff')],
    ['unterminated indefinite array', h('9f0102')],
    ['unterminated indefinite string', h('5f4101')],
    ['bad chunk in indefinite string', h('5f6161ff')],
    ['reserved additional information', h('1c')],
    ['value sharing (cycle)', h('d81c81d81d00')],
    ['shared reference alone', h('81d81d00')],
    ['value sharing with a 16-bit tag head', h('d9001c8101')],
  ],
};

for (const ser of serializers) {
  test(`${ser.name}: undecodable input throws SerializationError`, () => {
    for (const [what, data] of BAD[ser.name]!) rejects(() => ser.decode(data), what);
  });

  test(`${ser.name}: random garbage throws SerializationError or decodes`, () => {
    // Fuzz-ish: any outcome but a foreign exception is fine.
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let i = 0; i < 2000; i++) {
      const data = Buffer.from(Array.from({ length: 1 + (i % 23) }, rnd));
      try {
        ser.decode(data);
      } catch (err) {
        assert.ok(err instanceof SerializationError, `${data.toString('hex')}: ${String(err)}`);
      }
    }
  });

  test(`${ser.name}: truncating a valid message at every byte throws SerializationError`, () => {
    const whole = ser.encode([
      36,
      2 ** 40,
      5,
      { forward_for: [{ session: 2 ** 50 }] },
      ['x'.repeat(40), Buffer.from('ab'), 1.5],
      { k: null },
    ]);
    const bytes = typeof whole === 'string' ? Buffer.from(whole) : whole;
    for (let n = 0; n < bytes.length; n++) rejects(() => ser.decode(bytes.subarray(0, n)), `first ${n} bytes`);
  });
}

test('encode failures are SerializationErrors too', () => {
  const cyclic: unknown[] = [1];
  cyclic.push(cyclic);
  for (const ser of serializers) {
    assert.throws(() => ser.encode(cyclic), SerializationError, ser.name);
    // The library's encoder state survived the failure.
    assert.deepEqual(ser.decode(ser.encode([1, 'two', { three: [3] }])), [1, 'two', { three: [3] }], ser.name);
  }
  assert.throws(() => jsonSerializer.encode([1n]), SerializationError);
});

test("decode returns whatever value is there: shape is the router's business", () => {
  assert.equal(jsonSerializer.decode('42'), 42);
  assert.deepEqual(msgpackSerializer.decode(h('81a161c3')), { a: true });
  assert.equal(cborSerializer.decode(h('6161')), 'a');
});
