// Integers must stay integers on the wire: msgpackr and cbor-x alone write every
// integer beyond 32 bits as a float64, which Autobahn|Python rejects as an ID.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serializers } from '../../src/serializers/index.ts';
import { msgpackSerializer } from '../../src/serializers/msgpack.ts';
import { cborSerializer } from '../../src/serializers/cbor.ts';
import { WampFloat } from '../../src/wamp/payload.ts';

const hex = (b: Buffer | string) => (b as Buffer).toString('hex');
const MAX_ID = 2 ** 53; // 9007199254740992

test('msgpack: IDs above 32 bits are uint64 (0xcf), not float64', () => {
  assert.equal(hex(msgpackSerializer.encode([48, MAX_ID, {}, 'a.b'])), '9430cf002000000000000080a3612e62');
  assert.equal(hex(msgpackSerializer.encode([48, 2 ** 32, {}, 'a.b'])), '9430cf000000010000000080a3612e62');
  // Smaller ones keep the smallest head, like Python's msgpack.
  assert.equal(
    hex(msgpackSerializer.encode([2 ** 32 - 1, 65536, 255, 127, -1, -33, -(2 ** 31)])),
    '97ceffffffffce00010000ccff7fffd0dfd280000000',
  );
  assert.equal(hex(msgpackSerializer.encode([-(2 ** 31) - 1, -(2 ** 53)])), '92d3ffffffff7fffffffd3ffe0000000000000');
});

test('cbor: IDs above 32 bits are unsigned ints (major type 0, 0x1b), not float64', () => {
  assert.equal(hex(cborSerializer.encode([48, MAX_ID, {}, 'a.b'])), '8418301b0020000000000000a063612e62');
  assert.equal(hex(cborSerializer.encode([48, 2 ** 32, {}, 'a.b'])), '8418301b0000000100000000a063612e62');
  assert.equal(
    hex(cborSerializer.encode([2 ** 32 - 1, -(2 ** 32), -(2 ** 32) - 1, -(2 ** 53)])),
    '841affffffff3affffffff3b00000001000000003b001fffffffffffff',
  );
});

for (const ser of serializers) {
  test(`${ser.name}: payload numbers decode to the exact model: safe integers and non-integral floats as numbers`, () => {
    const values = [
      0,
      1,
      23,
      24,
      255,
      256,
      65535,
      65536,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 53 - 1,
      2 ** 53,
      -1,
      -(2 ** 31),
      -(2 ** 31) - 1,
      -(2 ** 53),
      1.5,
      -0.25,
      1e300,
      4294967296.5,
    ];
    const decoded = ser.decode(ser.encode([48, MAX_ID, {}, 'a.b', values])) as unknown[];
    // An integral JS number beyond 2^53 is written as an integer, so it reads back as a bigint; 1e300 is beyond 2^64: a float.
    const expected = values.map((v) => (Number.isSafeInteger(v) || !Number.isInteger(v) ? v : v < 2 ** 64 ? BigInt(v) : new WampFloat(v)));
    assert.deepEqual(decoded, [48, MAX_ID, {}, 'a.b', expected]);
    assert.equal(typeof (decoded[4] as unknown[])[11], 'bigint', '2^53 is not a safe integer');
  });
}

test('float64 stays float64 (no float32 shortening), non-integers are never patched', () => {
  assert.equal(hex(msgpackSerializer.encode([1.5])), '91cb3ff8000000000000');
  assert.equal(hex(cborSerializer.encode([1.5])), '81fb3ff8000000000000');
  // Integral floats beyond 64 bits have no integer encoding: they stay float64.
  assert.equal(hex(msgpackSerializer.encode([2 ** 64])), '91cb43f0000000000000');
  assert.equal(hex(cborSerializer.encode([2 ** 64])), '81fb43f0000000000000');
});

test('wide integers inside strings, binaries and nested containers are found correctly', () => {
  // Bytes that look like a float64 head inside payloads must not be rewritten.
  const tricky = [
    '\u00cb' + 'x'.repeat(40),
    Buffer.from([0xcb, 0xfb, 0x41, 0xf0, 0, 0, 0, 0, 0, 0]),
    { a: [2 ** 40, { b: -(2 ** 40) }], c: 0.5 },
  ];
  for (const ser of [msgpackSerializer, cborSerializer]) {
    assert.deepEqual(ser.decode(ser.encode([36, 2 ** 40, 2 ** 41, {}, tricky])), [36, 2 ** 40, 2 ** 41, {}, tricky]);
  }
});

test('uint64/int64 from other encoders decode to numbers, not BigInt', () => {
  assert.equal(msgpackSerializer.decode(Buffer.from('cf0000000100000000', 'hex')), 2 ** 32);
  assert.equal(msgpackSerializer.decode(Buffer.from('d3ffffffff00000000', 'hex')), -(2 ** 32));
  // A uint64 carrying a small value (non-minimal, but valid).
  assert.equal(msgpackSerializer.decode(Buffer.from('cf0000000000000005', 'hex')), 5);
  assert.equal(cborSerializer.decode(Buffer.from('1b0020000000000000', 'hex')), 2 ** 53);
  assert.equal(cborSerializer.decode(Buffer.from('3b001fffffffffffff', 'hex')), -(2 ** 53));
  // Above 2^53 precision is lost, as with JSON.parse; the router rejects such IDs.
  assert.equal(msgpackSerializer.decode(Buffer.from('cfffffffffffffffff', 'hex')), 2 ** 64);
  assert.equal(cborSerializer.decode(Buffer.from('1bffffffffffffffff', 'hex')), 2 ** 64);
});

test('integers beyond ±2^53 stay integers on the wire but are only approximate in JS', () => {
  for (const ser of serializers) {
    for (const v of [2 ** 60, 1e19, 2 ** 64 - 2048, -(2 ** 60), -(2 ** 63)]) {
      assert.equal((ser.decode(ser.encode([v])) as number[])[0], v, `${ser.name} ${v}`);
    }
  }
  // cbor-x's int64AsNumber computes -1 - (hi * 2^32 + lo), rounding twice, so a
  // negative int below -2^53 can come back a few units off. No WAMP ID is that large.
  const v = -9766821179305790;
  assert.equal(hex(cborSerializer.encode([v])), '813b0022b2df42fa2f3d'); // the wire is exact
  const back = (cborSerializer.decode(cborSerializer.encode([v])) as number[])[0]!;
  assert.ok(Math.abs(back - v) <= 4, String(back));
});

test('cbor writes integers as integers only within [-2^63, 2^64), what it (and MessagePack) decode', () => {
  assert.equal(hex(cborSerializer.encode([-(2 ** 63)])), '813b7fffffffffffffff');
  // The next double below -2^63 is a float64 in both binary serializers, as JSON has it.
  const below = -(2 ** 63) - 2048;
  assert.equal(hex(cborSerializer.encode([below])), '81fbc3e0000000000001');
  assert.equal(hex(msgpackSerializer.encode([below])), '91cbc3e0000000000001');
  for (const ser of serializers) assert.deepEqual(ser.decode(ser.encode([below])), [below], ser.name);
});
