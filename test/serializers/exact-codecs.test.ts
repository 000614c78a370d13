// The exact payload codecs (src/serializers/exact-*.ts): hand-written byte
// vectors from the specs (MessagePack spec, RFC 8949 Appendix A, RFC 8259),
// cross-checks against msgpackr and cbor-x where those are exact, refusals,
// and round trips through every (from, to) pair of formats.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Decoder as CborDecoder, Encoder as CborEncoder } from 'cbor-x';
import { Packr } from 'msgpackr';
import * as cbor from '../../src/serializers/exact-cbor.ts';
import * as json from '../../src/serializers/exact-json.ts';
import * as msgpack from '../../src/serializers/exact-msgpack.ts';
import { SerializationError } from '../../src/serializers/serializer.ts';
import { WampFloat } from '../../src/wamp/payload.ts';

const DEPTH = 16;
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const toHex = (b: Buffer | string): string => (typeof b === 'string' ? b : b.toString('hex'));
const f = (v: number): WampFloat => new WampFloat(v);

/** Where a and b differ in the value model (WampFloat vs number, bigint vs number, -0 vs 0 all count), or undefined. */
function difference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (a instanceof WampFloat || b instanceof WampFloat) {
    if (!(a instanceof WampFloat && b instanceof WampFloat)) return `${path}: ${show(a)} vs ${show(b)} (float vs not)`;
    return Object.is(a.value, b.value) ? undefined : `${path}: float ${show(a.value)} vs ${show(b.value)}`;
  }
  if (typeof a !== typeof b) return `${path}: ${typeof a} ${show(a)} vs ${typeof b} ${show(b)}`;
  if (typeof a !== 'object' || a === null || b === null) return Object.is(a, b) ? undefined : `${path}: ${show(a)} vs ${show(b)}`;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array)) return `${path}: binary vs not`;
    return Buffer.from(a).equals(Buffer.from(b))
      ? undefined
      : `${path}: bytes ${Buffer.from(a).toString('hex')} vs ${Buffer.from(b).toString('hex')}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs not`;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return `${path}: length ${a.length} vs ${bb.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = difference(a[i], bb[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: prototypes differ`;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b as object).sort();
  if (ka.join('\u0001') !== kb.join('\u0001')) return `${path}: keys ${JSON.stringify(ka)} vs ${JSON.stringify(kb)}`;
  for (const k of ka) {
    const da = Object.getOwnPropertyDescriptor(a, k)!;
    const db = Object.getOwnPropertyDescriptor(b, k)!;
    if (!('value' in da) || !('value' in db)) return `${path}.${k}: not a data property`;
    const d = difference(da.value, db.value, `${path}.${JSON.stringify(k)}`);
    if (d) return d;
  }
  return undefined;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (Object.is(v, -0)) return '-0';
  if (v instanceof WampFloat) return `WampFloat(${show(v.value)})`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function assertModel(actual: unknown, expected: unknown): void {
  const d = difference(actual, expected);
  assert.equal(d, undefined, d);
}

function assertRefused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof SerializationError && message.test(err.message));
}

/** An object with "__proto__" as an own data property, as the decoders make it. */
function withProto(value: unknown, rest: Record<string, unknown> = {}): Record<string, unknown> {
  const obj: Record<string, unknown> = { ...rest };
  Object.defineProperty(obj, '__proto__', { value, writable: true, enumerable: true, configurable: true });
  return obj;
}

const codecs = { msgpack, cbor, json } as const;
type Format = keyof typeof codecs;
const FORMATS = Object.keys(codecs) as Format[];

test('the model comparison tells apart what it must', () => {
  assert.ok(difference(f(2), 2));
  assert.ok(difference(2n, 2));
  assert.ok(difference(f(0), f(-0)));
  assert.ok(difference(0, -0));
  assert.ok(difference({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(difference(Buffer.from([1]), [1]));
  assert.ok(difference(withProto(1), {}));
  assert.equal(difference([f(2), 2n, { a: Buffer.from([1]) }], [f(2), 2n, { a: Buffer.from([1]) }]), undefined);
});

describe('msgpack decode: spec vectors', () => {
  const cases: [string, unknown][] = [
    ['00', 0],
    ['7f', 127],
    ['e0', -32],
    ['ff', -1],
    ['cc ff', 255],
    ['cd ff ff', 65535],
    ['ce ff ff ff ff', 4294967295],
    ['cf 00 1f ff ff ff ff ff ff', 2 ** 53 - 1],
    ['cf 00 20 00 00 00 00 00 00', 2n ** 53n],
    ['cf 00 20 00 00 00 00 00 01', 2n ** 53n + 1n],
    ['cf ff ff ff ff ff ff ff ff', 2n ** 64n - 1n],
    ['d0 80', -128],
    ['d1 80 00', -32768],
    ['d2 80 00 00 00', -(2 ** 31)],
    ['d3 ff e0 00 00 00 00 00 01', -(2 ** 53 - 1)],
    ['d3 ff e0 00 00 00 00 00 00', -(2n ** 53n)],
    ['d3 ff df ff ff ff ff ff ff', -(2n ** 53n) - 1n],
    ['d3 80 00 00 00 00 00 00 00', -(2n ** 63n)],
    ['d3 7f ff ff ff ff ff ff ff', 2n ** 63n - 1n],
    ['d3 00 00 00 00 00 00 00 05', 5],
    ['ca 3f 80 00 00', f(1)],
    ['ca 3f c0 00 00', 1.5],
    ['cb 3f f0 00 00 00 00 00 00', f(1)],
    ['cb 40 00 00 00 00 00 00 00', f(2)],
    ['cb 80 00 00 00 00 00 00 00', f(-0)],
    ['cb 3f b9 99 99 99 99 99 9a', 0.1],
    ['cb 7e 37 e4 3c 88 00 75 9c', f(1e300)],
    ['c0', null],
    ['c2', false],
    ['c3', true],
    ['a0', ''],
    ['a3 61 62 63', 'abc'],
    ['a4 f0 9d 84 9e', '𝄞'],
    ['a2 c3 a9', 'é'],
    ['d9 20' + '61'.repeat(32), 'a'.repeat(32)],
    ['da 00 03 61 62 63', 'abc'],
    ['db 00 00 00 01 7a', 'z'],
    ['c4 00', Buffer.alloc(0)],
    ['c4 03 01 02 03', Buffer.from([1, 2, 3])],
    ['c5 00 01 ff', Buffer.from([255])],
    ['c6 00 00 00 01 ff', Buffer.from([255])],
    ['90', []],
    ['80', {}],
    ['91 90', [[]]],
    ['91 80', [{}]],
    ['dc 00 02 01 02', [1, 2]],
    ['dd 00 00 00 01 c0', [null]],
    ['de 00 01 a1 61 01', { a: 1 }],
    ['df 00 00 00 01 a1 61 90', { a: [] }],
    ['81 a2 00 61 01', { '\u0000a': 1 }],
    ['82 a1 61 01 a1 61 02', { a: 2 }],
    ['81 d9 01 6b c3', { k: true }],
    ['81 a4 f0 9d 84 9e 01', { '𝄞': 1 }],
  ];
  for (const [bytes, expected] of cases) {
    test(`${bytes} → ${show(expected)}`, () => assertModel(msgpack.decodeItems(hex(bytes), DEPTH), [expected]));
  }

  test('items back to back; no data is no items', () => {
    assertModel(msgpack.decodeItems(hex('01 02 a1 61 90'), DEPTH), [1, 2, 'a', []]);
    assertModel(msgpack.decodeItems(Buffer.alloc(0), DEPTH), []);
    assertModel(msgpack.decodeItems(new Uint8Array([0x2a]) as Buffer, DEPTH), [42]);
  });

  test("msgpackr's undefined (d4 00 00): null in an array or at the top, absent in a map", () => {
    assertModel(msgpack.decodeItems(hex('d4 00 00'), DEPTH), [null]);
    assertModel(msgpack.decodeItems(hex('92 01 d4 00 00'), DEPTH), [[1, null]]);
    assertModel(msgpack.decodeItems(hex('82 a1 61 01 a1 62 d4 00 00'), DEPTH), [{ a: 1 }]);
    assertModel(msgpack.decodeItems(hex('82 a1 61 01 a1 61 d4 00 00'), DEPTH), [{}]); // the later duplicate wins
  });

  test('binary is a Buffer of its own, not a view into the data', () => {
    const data = hex('c4 02 01 02');
    const [bin] = msgpack.decodeItems(data, DEPTH) as [Buffer];
    assert.ok(Buffer.isBuffer(bin));
    data[2] = 9;
    assert.deepEqual([...bin], [1, 2]);
  });
});

describe('msgpack decode: refusals', () => {
  const cases: [string, string, RegExp][] = [
    ['never-used byte', 'c1', /0xc1/],
    ['extension type 1', 'd4 01 00', /extension type 1 /],
    ['fixext 1 type 0 with data 1', 'd4 00 01', /extension type 0/],
    ['timestamp', 'd6 ff 00 00 00 00', /timestamp/],
    ['ext 8', 'c7 01 05 00', /extension type 5/],
    ['float32 NaN', 'ca 7f c0 00 00', /NaN/],
    ['float64 Infinity', 'cb 7f f0 00 00 00 00 00 00', /NaN and Infinity/],
    ['float64 -Infinity', 'cb ff f0 00 00 00 00 00 00', /NaN and Infinity/],
    ['integer key', '81 01 01', /key must be a string/],
    ['binary key', '81 c4 01 61 01', /key must be a string/],
    ['invalid UTF-8', 'a2 c3 28', /UTF-8/],
    ['overlong UTF-8', 'a2 c0 80', /UTF-8/],
    ['UTF-8 surrogate', 'a3 ed a0 80', /UTF-8/],
    ['long invalid UTF-8', 'd9 20' + '61'.repeat(31) + 'ff', /UTF-8/],
    ['forged array32', 'dd ff ff ff ff', /end of data/],
    ['forged map32', 'df 7f ff ff ff 01', /end of data/],
    ['forged str32', 'db 00 00 10 00 61', /end of data/],
    ['forged bin32', 'c6 ff ff ff ff 00', /end of data/],
    ['truncated uint64', 'cf 00 01', /end of data/],
    ['truncated int8', 'd0', /end of data/],
    ['truncated float', 'cb 3f f0', /end of data/],
    ['truncated str', 'a5 61', /end of data/],
    ['truncated array', '92 01', /end of data/],
    ['truncated map', '81 a1 61', /end of data/],
  ];
  for (const [name, bytes, message] of cases) test(name, () => assertRefused(() => msgpack.decodeItems(hex(bytes), DEPTH), message));

  test('text input', () => assertRefused(() => msgpack.decodeItems('00', DEPTH), /binary/));

  test('depth: a list is a level, its children the next', () => {
    assertModel(msgpack.decodeItems(hex('91 91 91 c0'), 3), [[[[null]]]]);
    assertRefused(() => msgpack.decodeItems(hex('91 91 91 c0'), 2), /deeper than 2/);
    assertRefused(() => msgpack.decodeItems(hex('81 a1 61 81 a1 61 80'), 2), /deeper than 2/);
    assertModel(msgpack.decodeItems(hex('01 90 90'), 1), [1, [], []]);
    assertRefused(() => msgpack.decodeItems(Buffer.alloc(100_000, 0x91), 64), /deeper than 64/);
  });
});

describe('msgpack encode: spec vectors', () => {
  const cases: [unknown, string][] = [
    [0, '00'],
    [127, '7f'],
    [128, 'cc 80'],
    [255, 'cc ff'],
    [256, 'cd 01 00'],
    [65535, 'cd ff ff'],
    [65536, 'ce 00 01 00 00'],
    [2 ** 32 - 1, 'ce ff ff ff ff'],
    [2 ** 32, 'cf 00 00 00 01 00 00 00 00'],
    [2 ** 53 - 1, 'cf 00 1f ff ff ff ff ff ff'],
    [-1, 'ff'],
    [-32, 'e0'],
    [-33, 'd0 df'],
    [-128, 'd0 80'],
    [-129, 'd1 ff 7f'],
    [-32768, 'd1 80 00'],
    [-32769, 'd2 ff ff 7f ff'],
    [-(2 ** 31), 'd2 80 00 00 00'],
    [-(2 ** 31) - 1, 'd3 ff ff ff ff 7f ff ff ff'],
    [-(2 ** 53 - 1), 'd3 ff e0 00 00 00 00 00 01'],
    [5n, '05'],
    [-5n, 'fb'],
    [2n ** 53n + 1n, 'cf 00 20 00 00 00 00 00 01'],
    [2n ** 64n - 1n, 'cf ff ff ff ff ff ff ff ff'],
    [-(2n ** 63n), 'd3 80 00 00 00 00 00 00 00'],
    [-(2n ** 53n) - 1n, 'd3 ff df ff ff ff ff ff ff'],
    [2 ** 53, 'cf 00 20 00 00 00 00 00 00'], // integral JS numbers beyond 2^53: integers ...
    [2 ** 63, 'cf 80 00 00 00 00 00 00 00'],
    [-(2 ** 63), 'd3 80 00 00 00 00 00 00 00'],
    [2 ** 64, 'cb 43 f0 00 00 00 00 00 00'], // ... floats beyond [-2^63, 2^64)
    [-(2 ** 64), 'cb c3 f0 00 00 00 00 00 00'],
    [1e300, 'cb 7e 37 e4 3c 88 00 75 9c'],
    [f(2), 'cb 40 00 00 00 00 00 00 00'],
    [f(1e300), 'cb 7e 37 e4 3c 88 00 75 9c'],
    [-0, 'cb 80 00 00 00 00 00 00 00'],
    [f(-0), 'cb 80 00 00 00 00 00 00 00'],
    [0.1, 'cb 3f b9 99 99 99 99 99 9a'],
    [1.5, 'cb 3f f8 00 00 00 00 00 00'],
    [null, 'c0'],
    [undefined, 'c0'],
    [false, 'c2'],
    [true, 'c3'],
    ['', 'a0'],
    ['abc', 'a3 61 62 63'],
    ['𝄞', 'a4 f0 9d 84 9e'],
    ['a'.repeat(31), 'bf' + '61'.repeat(31)],
    ['a'.repeat(32), 'd9 20' + '61'.repeat(32)],
    ['é'.repeat(16), 'd9 20' + 'c3a9'.repeat(16)], // 16 characters, 32 bytes
    ['a'.repeat(256), 'da 01 00' + '61'.repeat(256)],
    ['a'.repeat(65536), 'db 00 01 00 00' + '61'.repeat(65536)],
    [Buffer.alloc(0), 'c4 00'],
    [new Uint8Array([1, 2, 3]), 'c4 03 01 02 03'],
    [Buffer.alloc(256, 7), 'c5 01 00' + '07'.repeat(256)],
    [Buffer.alloc(65536, 7), 'c6 00 01 00 00' + '07'.repeat(65536)],
    [[], '90'],
    [{}, '80'],
    [[[]], '91 90'],
    [[{}], '91 80'],
    [Array(15).fill(1), '9f' + '01'.repeat(15)],
    [Array(16).fill(1), 'dc 00 10' + '01'.repeat(16)],
    [Array(65536).fill(1), 'dd 00 01 00 00' + '01'.repeat(65536)],
    [
      Object.fromEntries(Array.from({ length: 16 }, (_, i) => [String.fromCharCode(97 + i), 1])),
      'de 00 10' + Array.from({ length: 16 }, (_, i) => `a1${(97 + i).toString(16)}01`).join(''),
    ],
    [[undefined, 1], '92 c0 01'],
    [{ a: undefined, b: 1 }, '81 a1 62 01'],
    [{ '\u0000a': 1 }, '81 a2 00 61 01'],
    [withProto(1), '81 a9 5f 5f 70 72 6f 74 6f 5f 5f 01'],
    [Object.assign(Object.create(null), { a: 1 }), '81 a1 61 01'],
  ];
  for (const [value, bytes] of cases) {
    const label = `${show(value)}`.slice(0, 60);
    test(`${label} → ${bytes.slice(0, 40)}`, () => assert.equal(toHex(msgpack.encodeItems([value], DEPTH)), toHex(hex(bytes))));
  }

  test('items back to back; no items is no bytes', () => {
    assert.equal(toHex(msgpack.encodeItems([1, 'a', []], DEPTH)), '01a16190');
    assert.equal(msgpack.encodeItems([], DEPTH).length, 0);
  });
});

test('msgpack and cbor: a map head shrinks when undefined entries drop out, also across buffer growth', () => {
  const big = 'z'.repeat(20000);
  const obj: Record<string, unknown> = { gone: undefined };
  for (let i = 0; i < 23; i++) obj[`k${String.fromCharCode(97 + i)}`] = i === 22 ? big : i;
  const entries = (strHead: (n: number) => string, int: (i: number) => string) =>
    Array.from(
      { length: 23 },
      (_, i) => strHead(2) + '6b' + (97 + i).toString(16) + (i === 22 ? strHead(20000) + '7a'.repeat(20000) : int(i)),
    ).join('');
  // msgpack: 24 keys would take a map16 head, 23 present take a map16 too; 16 keys, 15 present: a fixmap.
  const mpStr = (n: number) => (n < 32 ? (0xa0 | n).toString(16) : `da${n.toString(16).padStart(4, '0')}`);
  assert.equal(toHex(msgpack.encodeItems([obj], DEPTH)), 'de0017' + entries(mpStr, (i) => i.toString(16).padStart(2, '0')));
  const small: Record<string, unknown> = { gone: undefined };
  for (let i = 0; i < 15; i++) small[`k${String.fromCharCode(97 + i)}`] = big;
  const smallEntries = (strHead: (n: number) => string) =>
    Array.from({ length: 15 }, (_, i) => strHead(2) + '6b' + (97 + i).toString(16) + strHead(20000) + '7a'.repeat(20000)).join('');
  assert.equal(toHex(msgpack.encodeItems([small], DEPTH)), '8f' + smallEntries(mpStr));
  // cbor: 24 keys would take a 2-byte head, 23 present take a 1-byte one.
  const cbStr = (n: number) => (n < 24 ? (0x60 | n).toString(16) : `79${n.toString(16).padStart(4, '0')}`);
  const cbInt = (i: number) => (i < 24 ? i.toString(16).padStart(2, '0') : `18${i.toString(16)}`);
  assert.equal(toHex(cbor.encodeItems([obj], DEPTH)), 'b7' + entries(cbStr, cbInt));
  assert.equal(toHex(cbor.encodeItems([[small]], DEPTH)), '81af' + smallEntries(cbStr));
});

describe('msgpack encode: refusals', () => {
  const cases: [string, unknown, RegExp][] = [
    ['2^64', 2n ** 64n, /cannot carry the integer 18446744073709551616 \(beyond 64 bits/],
    ['-2^63 - 1', -(2n ** 63n) - 1n, /cannot carry the integer -9223372036854775809 \(beyond 64 bits/],
    ['-2^64', -(2n ** 64n), /cannot carry the integer -18446744073709551616 /],
    ['2^70', 2n ** 70n, /cannot carry the integer 1180591620717411303424 /],
    ['a huge integer', 2n ** 5000n, /an integer of about 500\d bits/],
    ['NaN', Number.NaN, /NaN/],
    ['Infinity', Number.POSITIVE_INFINITY, /Infinity/],
    ['WampFloat(NaN)', f(Number.NaN), /NaN/],
    ['a lone surrogate', '\ud800', /lone surrogate/],
    ['a lone surrogate in a key', { 'a\udc00': 1 }, /lone surrogate/],
    ['a function', () => 1, /cannot encode a function/],
    ['a symbol', Symbol('s'), /cannot encode a symbol/],
    ['a Date', new Date(0), /cannot encode a Date/],
    ['a Map', new Map(), /cannot encode a Map/],
    ['a Set in an array', [new Set()], /cannot encode a Set/],
    ['a class instance', new (class Point {})(), /cannot encode a Point/],
    ['an Int16Array', new Int16Array(2), /cannot encode a Int16Array/],
  ];
  for (const [name, value, message] of cases) test(name, () => assertRefused(() => msgpack.encodeItems([value], DEPTH), message));

  test('depth, and cyclic input', () => {
    assert.equal(toHex(msgpack.encodeItems([[[[]]]], 3)), '919190');
    assertRefused(() => msgpack.encodeItems([[[[]]]], 2), /deeper than 2/);
    assertRefused(() => msgpack.encodeItems([{ a: { b: {} } }], 2), /deeper than 2/);
    const cycle: unknown[] = [];
    cycle.push(cycle);
    assertRefused(() => msgpack.encodeItems([cycle], 64), /deeper than 64/);
    const obj: Record<string, unknown> = {};
    obj.self = obj;
    assertRefused(() => msgpack.encodeItems([obj], 64), /deeper than 64/);
  });

  test('a failed encode leaves the next one intact', () => {
    assertRefused(() => msgpack.encodeItems(['x'.repeat(100), 2n ** 64n], DEPTH), /beyond 64 bits/);
    assert.equal(toHex(msgpack.encodeItems([1], DEPTH)), '01');
  });
});

describe('msgpack against msgpackr', () => {
  const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });
  // msgpackr is exact for these, but writes integral numbers beyond 2^32 as float64 and reads uint64 as bigint: compared as integers.
  const values: unknown[] = [
    0,
    -1,
    300,
    -40000,
    2n ** 53n + 1n,
    2n ** 64n - 1n,
    -(2n ** 63n),
    0.1,
    -2.5e-300,
    'é𝄞',
    'x'.repeat(70000),
    Buffer.from([0, 255]),
    [1, [2, { k: 'v' }], {}],
    { constructor: 1, toString: 'x', '': null },
  ];
  const asIntegers = (v: unknown): unknown => {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isInteger(v) && !Object.is(v, -0)) return BigInt(v);
    if (v instanceof WampFloat) return BigInt(v.value);
    if (Array.isArray(v)) return v.map(asIntegers);
    if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asIntegers(x)]));
    }
    return v;
  };
  for (const value of values) {
    test(`${show(value).slice(0, 40)}`, () => {
      assertModel(asIntegers(packr.unpack(msgpack.encodeItems([value], DEPTH))), asIntegers(value));
      assertModel(asIntegers(msgpack.decodeItems(packr.pack(value), DEPTH)[0]), asIntegers(value));
    });
  }

  test('msgpackr writes exactly what we write for integers in the small forms and strings', () => {
    for (const v of [
      0,
      1,
      127,
      128,
      255,
      256,
      65535,
      65536,
      2 ** 32 - 1,
      -1,
      -32,
      -33,
      -128,
      -129,
      -32768,
      -32769,
      -(2 ** 31),
      'a'.repeat(40),
      'a'.repeat(300),
    ]) {
      assert.equal(toHex(msgpack.encodeItems([v], DEPTH)), toHex(packr.pack(v)), show(v));
    }
  });
});

describe('cbor decode: RFC 8949 Appendix A and more', () => {
  const cases: [string, unknown][] = [
    ['00', 0],
    ['01', 1],
    ['17', 23],
    ['18 18', 24],
    ['18 64', 100],
    ['19 03 e8', 1000],
    ['1a 00 0f 42 40', 1000000],
    ['1b 00 00 00 e8 d4 a5 10 00', 1000000000000],
    ['1b 00 1f ff ff ff ff ff ff', 2 ** 53 - 1],
    ['1b 00 20 00 00 00 00 00 00', 2n ** 53n],
    ['1b 00 20 00 00 00 00 00 01', 2n ** 53n + 1n],
    ['1b ff ff ff ff ff ff ff ff', 18446744073709551615n],
    ['c2 49 01 00 00 00 00 00 00 00 00', 18446744073709551616n],
    ['3b ff ff ff ff ff ff ff ff', -18446744073709551616n],
    ['c3 49 01 00 00 00 00 00 00 00 00', -18446744073709551617n],
    ['3b 7f ff ff ff ff ff ff ff', -(2n ** 63n)],
    ['3b 00 1f ff ff ff ff ff fe', -(2 ** 53 - 1)],
    ['3b 00 1f ff ff ff ff ff ff', -(2n ** 53n)],
    ['c2 49 40 00 00 00 00 00 00 00 00', 2n ** 70n],
    ['c2 40', 0],
    ['c2 41 01', 1],
    ['c3 40', -1],
    ['c2 48 00 00 00 00 00 00 00 05', 5],
    ['c2 5f 41 01 41 00 ff', 256],
    ['20', -1],
    ['29', -10],
    ['38 63', -100],
    ['39 03 e7', -1000],
    ['f9 00 00', f(0)],
    ['f9 80 00', f(-0)],
    ['f9 3c 00', f(1)],
    ['fb 3f f1 99 99 99 99 99 9a', 1.1],
    ['f9 3e 00', 1.5],
    ['f9 7b ff', f(65504)],
    ['fa 47 c3 50 00', f(100000)],
    ['fa 7f 7f ff ff', f(3.4028234663852886e38)],
    ['fb 7e 37 e4 3c 88 00 75 9c', f(1e300)],
    ['f9 00 01', 2 ** -24], // the smallest subnormal
    ['f9 03 ff', 1023 * 2 ** -24], // the largest subnormal
    ['f9 04 00', 2 ** -14], // the smallest normal
    ['f9 c4 00', f(-4)],
    ['fb c0 10 66 66 66 66 66 66', -4.1],
    ['fb 80 00 00 00 00 00 00 00', f(-0)],
    ['fa 80 00 00 00', f(-0)],
    ['f4', false],
    ['f5', true],
    ['f6', null],
    ['f7', null],
    ['40', Buffer.alloc(0)],
    ['44 01 02 03 04', Buffer.from([1, 2, 3, 4])],
    ['60', ''],
    ['61 61', 'a'],
    ['64 49 45 54 46', 'IETF'],
    ['62 22 5c', '"\\'],
    ['62 c3 bc', 'ü'],
    ['63 e6 b0 b4', '水'],
    ['64 f0 90 85 91', '𐅑'],
    ['64 f0 9d 84 9e', '𝄞'],
    ['78 18' + '61'.repeat(24), 'a'.repeat(24)],
    ['80', []],
    ['83 01 02 03', [1, 2, 3]],
    ['83 01 82 02 03 82 04 05', [1, [2, 3], [4, 5]]],
    ['98 19' + '01'.repeat(25), Array(25).fill(1)],
    ['a0', {}],
    ['a2 61 61 01 61 62 82 02 03', { a: 1, b: [2, 3] }],
    ['82 61 61 a1 61 62 61 63', ['a', { b: 'c' }]],
    ['81 80', [[]]],
    ['81 a0', [{}]],
    ['5f 42 01 02 43 03 04 05 ff', Buffer.from([1, 2, 3, 4, 5])],
    ['5f ff', Buffer.alloc(0)],
    ['7f 65 73 74 72 65 61 64 6d 69 6e 67 ff', 'streaming'],
    ['7f 62 c3 bc 61 61 ff', 'üa'],
    ['9f ff', []],
    ['9f 01 82 02 03 9f 04 05 ff ff', [1, [2, 3], [4, 5]]],
    ['83 01 9f 02 03 ff 82 04 05', [1, [2, 3], [4, 5]]],
    ['bf 61 61 01 61 62 9f 02 03 ff ff', { a: 1, b: [2, 3] }],
    ['bf 63 46 75 6e f5 63 41 6d 74 21 ff', { Fun: true, Amt: -2 }],
    ['a1 7f 61 6b ff 01', { k: 1 }],
    ['a1 62 00 61 01', { '\u0000a': 1 }],
    ['a2 61 61 01 61 61 02', { a: 2 }],
    ['a2 61 61 01 61 62 f7', { a: 1 }],
    ['a2 61 61 01 61 61 f7', {}],
    ['82 f7 01', [null, 1]],
    ['9f f7 ff', [null]],
    ['d8 40 43 01 02 03', Buffer.from([1, 2, 3])],
    ['d8 40 5f 41 01 ff', Buffer.from([1])],
    ['d9 d9 f7 83 01 02 03', [1, 2, 3]],
    ['d9 d9 f7 d9 d9 f7 01', 1],
    ['d9 d9 f7 d8 40 41 01', Buffer.from([1])],
    ['82 d9 d9 f7 01 c2 41 02', [1, 2]],
  ];
  for (const [bytes, expected] of cases) {
    test(`${bytes.slice(0, 50)} → ${show(expected).slice(0, 40)}`, () => assertModel(cbor.decodeItems(hex(bytes), DEPTH), [expected]));
  }

  test('items back to back; no data is no items', () => {
    assertModel(cbor.decodeItems(hex('01 61 61 80 f7'), DEPTH), [1, 'a', [], null]);
    assertModel(cbor.decodeItems(Buffer.alloc(0), DEPTH), []);
  });

  test('bignums up to 4300 decimal digits (1786 bytes)', () => {
    const max = 10n ** 4300n - 1n;
    const content = Buffer.from(max.toString(16).padStart(2 * 1786, '0'), 'hex');
    assert.equal(content.length, 1786);
    assert.notEqual(content[0], 0); // 1786 bytes, no fewer
    assertModel(cbor.decodeItems(Buffer.concat([hex('c2 59 06 fa'), content]), DEPTH), [max]);
    const belowMax = Buffer.from((max - 1n).toString(16), 'hex'); // tag 3: -1 - n
    assertModel(cbor.decodeItems(Buffer.concat([hex('c3 59 06 fa'), belowMax]), DEPTH), [-max]);
    assertRefused(() => cbor.decodeItems(Buffer.concat([hex('c3 59 06 fa'), content]), DEPTH), /more than 4300 decimal digits/);
    const over = Buffer.from((10n ** 4300n).toString(16).padStart(2 * 1786, '0'), 'hex');
    assertRefused(() => cbor.decodeItems(Buffer.concat([hex('c2 59 06 fa'), over]), DEPTH), /more than 4300 decimal digits/);
    assertRefused(() => cbor.decodeItems(Buffer.concat([hex('c2 59 06 fa'), Buffer.alloc(1786, 0xff)]), DEPTH), /more than 4300/);
    assertRefused(() => cbor.decodeItems(Buffer.concat([hex('c2 59 06 fb'), Buffer.alloc(1787, 0)]), DEPTH), /bignum of 1787 bytes/);
  });

  test('many chunks stay linear', () => {
    const chunks = Buffer.concat([hex('7f'), Buffer.alloc(2 * 200_000, 0), hex('ff')]);
    for (let i = 1; i < chunks.length - 1; i += 2) {
      chunks[i] = 0x61;
      chunks[i + 1] = 0x78;
    }
    const [s] = cbor.decodeItems(chunks, DEPTH) as [string];
    assert.equal(s, 'x'.repeat(200_000));
  });
});

describe('cbor decode: refusals', () => {
  const cases: [string, string, RegExp][] = [
    ['half Infinity', 'f9 7c 00', /NaN and Infinity/],
    ['half NaN', 'f9 7e 00', /NaN and Infinity/],
    ['half -Infinity', 'f9 fc 00', /NaN and Infinity/],
    ['single Infinity', 'fa 7f 80 00 00', /NaN and Infinity/],
    ['double NaN', 'fb 7f f8 00 00 00 00 00 00', /NaN and Infinity/],
    ['simple value 16', 'f0', /simple value 16/],
    ['simple value 255', 'f8 ff', /simple value 255/],
    ['tag 0', 'c0 60', /tag 0 \(date\/time string\)/],
    ['tag 1', 'c1 1a 51 4b 67 b0', /tag 1 /],
    ['tag 32', 'd8 20 61 61', /tag 32 /],
    ['tag 55799 around tag 1', 'd9 d9 f7 c1 00', /tag 1 /],
    ['tag 2 around an integer', 'c2 01', /tag 2 must enclose a byte string/],
    ['tag 2 around a text string', 'c2 61 61', /tag 2 must enclose a byte string/],
    ['tag 64 around an integer', 'd8 40 01', /tag 64 must enclose a byte string/],
    ['integer key', 'a1 01 02', /key must be a text string/],
    ['byte string key', 'a1 41 61 01', /key must be a text string/],
    ['tagged key', 'a1 d9 d9 f7 61 61 01', /key must be a text string/],
    ['invalid UTF-8', '62 c3 28', /UTF-8/],
    ['UTF-8 surrogate', '63 ed a0 80', /UTF-8/],
    ['a character split between chunks', '7f 61 c3 61 bc ff', /UTF-8/],
    ['a chunk of the other type', '5f 61 61 ff', /invalid chunk/],
    ['a nested indefinite chunk', '5f 5f ff ff', /invalid chunk/],
    ['forged array', '9a ff ff ff ff', /end of data/],
    ['forged 64-bit array', '9b 00 00 00 01 00 00 00 00 01', /end of data/],
    ['forged map', 'ba 7f ff ff ff 01', /end of data/],
    ['forged byte string', '5a 00 00 10 00 01', /end of data/],
    ['truncated 64-bit integer', '1b 00 01', /end of data/],
    ['truncated argument', '18', /end of data/],
    ['truncated text', '62 61', /end of data/],
    ['unterminated indefinite array', '9f 01', /end of data/],
    ['unterminated indefinite string', '5f 41 01', /end of data/],
    ['truncated half', 'f9 3c', /end of data/],
    ['a break outside', 'ff', /unexpected break/],
    ['a key without a value', 'bf 61 61 ff', /key without a value/],
    ['reserved additional information', '1c', /reserved/],
    ['an indefinite integer', '1f', /indefinite/],
    ['an indefinite tag', 'df 00', /indefinite/],
  ];
  for (const [name, bytes, message] of cases) test(name, () => assertRefused(() => cbor.decodeItems(hex(bytes), DEPTH), message));

  test('text input', () => assertRefused(() => cbor.decodeItems('00', DEPTH), /binary/));

  test('depth, definite and indefinite', () => {
    assertModel(cbor.decodeItems(hex('81 81 81 f6'), 3), [[[[null]]]]);
    assertRefused(() => cbor.decodeItems(hex('81 81 81 f6'), 2), /deeper than 2/);
    assertRefused(() => cbor.decodeItems(hex('9f 9f 9f ff ff ff'), 2), /deeper than 2/);
    assertRefused(() => cbor.decodeItems(hex('a1 61 61 bf 61 61 a0 ff'), 2), /deeper than 2/);
    assertModel(cbor.decodeItems(hex('d9 d9 f7 81 d9 d9 f7 80'), 2), [[[]]]); // tags are no level
    assertRefused(() => cbor.decodeItems(Buffer.alloc(100_000, 0x81), 64), /deeper than 64/);
    // A chain of self-described tags is no recursion either.
    const chain = Buffer.concat([Buffer.alloc(3 * 100_000), hex('01')]);
    for (let i = 0; i < 3 * 100_000; i += 3) hex('d9 d9 f7').copy(chain, i);
    assertModel(cbor.decodeItems(chain, 64), [1]);
  });
});

describe('cbor encode: vectors', () => {
  const cases: [unknown, string][] = [
    [0, '00'],
    [23, '17'],
    [24, '18 18'],
    [255, '18 ff'],
    [256, '19 01 00'],
    [65535, '19 ff ff'],
    [65536, '1a 00 01 00 00'],
    [2 ** 32, '1b 00 00 00 01 00 00 00 00'],
    [2 ** 53 - 1, '1b 00 1f ff ff ff ff ff ff'],
    [-1, '20'],
    [-24, '37'],
    [-25, '38 18'],
    [-1000, '39 03 e7'],
    [-(2 ** 53 - 1), '3b 00 1f ff ff ff ff ff fe'],
    [1n, '01'],
    [-1n, '20'],
    [2n ** 53n + 1n, '1b 00 20 00 00 00 00 00 01'],
    [2n ** 64n - 1n, '1b ff ff ff ff ff ff ff ff'],
    [-(2n ** 63n), '3b 7f ff ff ff ff ff ff ff'],
    [-(2n ** 64n), '3b ff ff ff ff ff ff ff ff'],
    [2n ** 64n, 'c2 49 01 00 00 00 00 00 00 00 00'],
    [-(2n ** 64n) - 1n, 'c3 49 01 00 00 00 00 00 00 00 00'],
    [2n ** 70n, 'c2 49 40 00 00 00 00 00 00 00 00'],
    [2n ** 72n, 'c2 4a 01 00 00 00 00 00 00 00 00 00'],
    [2 ** 53, '1b 00 20 00 00 00 00 00 00'],
    [2 ** 63, '1b 80 00 00 00 00 00 00 00'],
    [-(2 ** 63), '3b 7f ff ff ff ff ff ff ff'],
    [2 ** 64, 'fb 43 f0 00 00 00 00 00 00'],
    [-(2 ** 64), 'fb c3 f0 00 00 00 00 00 00'],
    [f(1), 'fb 3f f0 00 00 00 00 00 00'],
    [f(2), 'fb 40 00 00 00 00 00 00 00'],
    [-0, 'fb 80 00 00 00 00 00 00 00'],
    [f(-0), 'fb 80 00 00 00 00 00 00 00'],
    [f(1e300), 'fb 7e 37 e4 3c 88 00 75 9c'],
    [0.1, 'fb 3f b9 99 99 99 99 99 9a'],
    [-4.1, 'fb c0 10 66 66 66 66 66 66'],
    [false, 'f4'],
    [true, 'f5'],
    [null, 'f6'],
    [undefined, 'f6'],
    ['', '60'],
    ['a', '61 61'],
    ['ü', '62 c3 bc'],
    ['𝄞', '64 f0 9d 84 9e'],
    ['a'.repeat(23), '77' + '61'.repeat(23)],
    ['a'.repeat(24), '78 18' + '61'.repeat(24)],
    ['a'.repeat(256), '79 01 00' + '61'.repeat(256)],
    ['a'.repeat(65536), '7a 00 01 00 00' + '61'.repeat(65536)],
    [Buffer.alloc(0), '40'],
    [new Uint8Array([1, 2, 3, 4]), '44 01 02 03 04'],
    [Buffer.alloc(24, 9), '58 18' + '09'.repeat(24)],
    [[], '80'],
    [{}, 'a0'],
    [[[]], '81 80'],
    [[{}], '81 a0'],
    [[1, [2, 3], [4, 5]], '83 01 82 02 03 82 04 05'],
    [Array(25).fill(1), '98 19' + '01'.repeat(25)],
    [{ a: 1, b: [2, 3] }, 'a2 61 61 01 61 62 82 02 03'],
    [[undefined], '81 f6'],
    [{ a: undefined, b: 1 }, 'a1 61 62 01'],
    [{ '\u0000a': 1 }, 'a1 62 00 61 01'],
    [withProto(1), 'a1 69 5f 5f 70 72 6f 74 6f 5f 5f 01'],
  ];
  for (const [value, bytes] of cases) {
    test(`${show(value).slice(0, 60)} → ${bytes.slice(0, 40)}`, () =>
      assert.equal(toHex(cbor.encodeItems([value], DEPTH)), toHex(hex(bytes))));
  }

  test('refusals', () => {
    assertRefused(
      () => cbor.encodeItems([10n ** 4300n], DEPTH),
      /an integer of about \d+ bits \(integers are read up to 4300 decimal digits\)/,
    );
    assertRefused(() => cbor.encodeItems([-(10n ** 4300n)], DEPTH), /up to 4300 decimal digits/);
    assert.equal(cbor.encodeItems([10n ** 4300n - 1n], DEPTH).length, 1 + 3 + 1786);
    assertRefused(() => cbor.encodeItems([Number.NaN], DEPTH), /NaN/);
    assertRefused(() => cbor.encodeItems([f(Number.NEGATIVE_INFINITY)], DEPTH), /Infinity/);
    assertRefused(() => cbor.encodeItems(['\udfff'], DEPTH), /lone surrogate/);
    assertRefused(() => cbor.encodeItems([new Date(0)], DEPTH), /cannot encode a Date/);
    assertRefused(() => cbor.encodeItems([new Map()], DEPTH), /cannot encode a Map/);
    assertRefused(() => cbor.encodeItems([Symbol.iterator], DEPTH), /symbol/);
    assertRefused(() => cbor.encodeItems([[() => 0]], DEPTH), /function/);
  });

  test('depth, and cyclic input', () => {
    assert.equal(toHex(cbor.encodeItems([[[[]]]], 3)), '818180');
    assertRefused(() => cbor.encodeItems([[[[]]]], 2), /deeper than 2/);
    const cycle: Record<string, unknown> = {};
    cycle.a = [cycle];
    assertRefused(() => cbor.encodeItems([cycle], 64), /deeper than 64/);
  });
});

describe('cbor against cbor-x', () => {
  const encoder = new CborEncoder({ useRecords: false, mapsAsObjects: true });
  const decoder = new CborDecoder({ useRecords: false, mapsAsObjects: true });
  // cbor-x reads every 8-byte integer as a bigint and writes integral numbers beyond 2^32 as floats: compared as integers.
  const asIntegers = (v: unknown): unknown => {
    if (typeof v === 'number' && Number.isInteger(v) && !Object.is(v, -0)) return BigInt(v);
    if (v instanceof WampFloat) return BigInt(v.value);
    if (Array.isArray(v)) return v.map(asIntegers);
    if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && typeof v !== 'bigint') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asIntegers(x)]));
    }
    return v;
  };
  const values: unknown[] = [
    0,
    -1,
    -1000,
    2n ** 53n + 1n,
    2n ** 64n - 1n,
    -(2n ** 64n),
    2n ** 64n,
    2n ** 70n,
    -(2n ** 70n),
    2n ** 200n + 12345n,
    0.1,
    1.5,
    'ü水𝄞',
    'y'.repeat(70000),
    Buffer.from([1, 2, 3]),
    [1, [2, { k: 'v' }], {}],
    { constructor: 'c', valueOf: 2 },
  ];
  for (const value of values) {
    test(`${show(value).slice(0, 40)}`, () => {
      assertModel(asIntegers(decoder.decode(cbor.encodeItems([value], DEPTH))), asIntegers(value));
      assertModel(asIntegers(cbor.decodeItems(encoder.encode(value), DEPTH)[0]), asIntegers(value));
    });
  }

  test('cbor-x writes exactly what we write for small integers, strings and binary', () => {
    for (const v of [
      0,
      23,
      24,
      255,
      256,
      65535,
      65536,
      2 ** 32 - 1,
      -1,
      -24,
      -25,
      -256,
      -257,
      'a'.repeat(30),
      'ü'.repeat(200),
      Buffer.alloc(300, 1),
    ]) {
      assert.equal(toHex(cbor.encodeItems([v], DEPTH)), toHex(encoder.encode(v)), show(v));
    }
  });

  test('half floats as cbor-x reads them', () => {
    for (const h of ['0001', '03ff', '0400', '3555', '3bff', '3c01', '7bff', 'c000', '8001', '5640']) {
      const bytes = hex('f9' + h);
      const [ours] = cbor.decodeItems(bytes, DEPTH);
      const theirs = decoder.decode(bytes) as number;
      assert.ok(Object.is(ours instanceof WampFloat ? ours.value : ours, theirs), h);
      assert.equal(ours instanceof WampFloat, Number.isInteger(theirs), h);
    }
  });
});

describe('json decode', () => {
  const cases: [string, unknown[]][] = [
    ['1', [1]],
    ['1,2', [1, 2]],
    [' 1 ,\t"a" ,\r\n null ', [1, 'a', null]],
    ['', []],
    ['  ', []],
    ['true,false,null', [true, false, null]],
    ['0', [0]],
    ['-0', [0]],
    ['-1', [-1]],
    ['123456789012345', [123456789012345]],
    ['9007199254740991', [9007199254740991]],
    ['-9007199254740991', [-9007199254740991]],
    ['9007199254740992', [2n ** 53n]],
    ['9007199254740993', [2n ** 53n + 1n]],
    ['-9007199254740993', [-(2n ** 53n) - 1n]],
    ['18446744073709551615', [2n ** 64n - 1n]],
    ['-9223372036854775808', [-(2n ** 63n)]],
    ['-18446744073709551616', [-(2n ** 64n)]],
    ['1180591620717411303424', [2n ** 70n]],
    ['2.0', [f(2)]],
    ['-0.0', [f(-0)]],
    ['0.0', [f(0)]],
    ['1e300', [f(1e300)]],
    ['1E2', [f(100)]],
    ['1e+2', [f(100)]],
    ['25e-1', [2.5]],
    ['0.1', [0.1]],
    ['-4.1', [-4.1]],
    ['1e-400', [f(0)]],
    ['18446744073709551616.0', [f(2 ** 64)]],
    ['"abc"', ['abc']],
    ['""', ['']],
    ['"𝄞"', ['𝄞']],
    ['"\\ud834\\udd1e"', ['𝄞']],
    ['"a\\"b\\\\c\\/\\n\\u00e9"', ['a"b\\c/\né']],
    ['"\\u0000AQID"', [Buffer.from([1, 2, 3])]],
    ['"\\u0000AQ\\u003d\\u003d"', [Buffer.from([1])]], // base64 with escapes in it
    [`"${'a'.repeat(30)}"`, ['a'.repeat(30)]],
    [`"${'a'.repeat(30)}\\n"`, [`${'a'.repeat(30)}\n`]],
    [`"${'a'.repeat(30)}\\"b"`, [`${'a'.repeat(30)}"b`]],
    [`"${'é'.repeat(30)}\\\\"`, [`${'é'.repeat(30)}\\`]],
    [`{"${'k'.repeat(20)}":1,"${'k'.repeat(20)}\\t":2}`, [{ ['k'.repeat(20)]: 1, [`${'k'.repeat(20)}\t`]: 2 }]],
    ['"\\u0000"', [Buffer.alloc(0)]],
    ['["\\u0000/w=="]', [[Buffer.from([255])]]],
    ['{"b":{"c":"\\u0000AA=="}}', [{ b: { c: Buffer.from([0]) } }]],
    ['{"\\u0000a":1}', [{ '\u0000a': 1 }]],
    ['[]', [[]]],
    ['{}', [{}]],
    ['[[]]', [[[]]]],
    ['[{}]', [[{}]]],
    ['[ 1 , [ 2 , 3 ] ]', [[1, [2, 3]]]],
    ['{ "a" : 1 , "b" : [ ] }', [{ a: 1, b: [] }]],
    ['{"a":1,"a":2}', [{ a: 2 }]],
    ['{"constructor":1,"toString":2}', [{ constructor: 1, toString: 2 }]],
  ];
  for (const [text, expected] of cases)
    test(`${JSON.stringify(text).slice(0, 50)}`, () => assertModel(json.decodeItems(text, DEPTH), expected));

  test('integers of up to 4300 digits', () => {
    const digits = '9'.repeat(4300);
    assertModel(json.decodeItems(digits, DEPTH), [BigInt(digits)]);
    assertModel(json.decodeItems('-' + digits, DEPTH), [-BigInt(digits)]);
    assertRefused(() => json.decodeItems('1' + '0'.repeat(4300), DEPTH), /4301 digits/);
  });

  test('UTF-8 bytes are text too', () => {
    assertModel(json.decodeItems(Buffer.from('"é",1'), DEPTH), ['é', 1]);
    assertRefused(() => json.decodeItems(hex('22 c3 28 22'), DEPTH), /UTF-8/);
  });

  const invalid = [
    '01',
    '-01',
    '1.',
    '.5',
    '-',
    '+1',
    '1e',
    '1e+',
    '[1,]',
    '[,1]',
    '{"a":1,}',
    '{a:1}',
    "{'a':1}",
    '[1 2]',
    '"abc',
    '"a\nb"',
    '"a\u0001"',
    `"${'a'.repeat(30)}\u0001"`,
    `"${'a'.repeat(30)}`,
    `"${'a'.repeat(30)}\\"`,
    '"\\u0000AQ\u0001"',
    '"\\u0000AQ',
    '"\\x"',
    '"\\u12"',
    'tru',
    'nul',
    'True',
    '1,',
    ',1',
    '1,,2',
    '1 2',
    'NaN',
    'Infinity',
    '-Infinity',
    '[',
    ']',
    '{"a"}',
    '{"a":}',
    '{"a" 1}',
    '{1:2}',
    '[1]]',
    '\u00a01',
  ];
  for (const text of invalid) test(`invalid ${JSON.stringify(text)}`, () => assertRefused(() => json.decodeItems(text, DEPTH), /json: /));

  test('numbers too large for a double', () => {
    assertRefused(() => json.decodeItems('1e400', DEPTH), /1e400 is too large/);
    assertRefused(() => json.decodeItems('[-1.5e999]', DEPTH), /too large/);
  });

  test('"__proto__" is an own key, the prototype untouched', () => {
    const [obj] = json.decodeItems('{"__proto__":{"polluted":true},"a":1}', DEPTH) as [Record<string, unknown>];
    assert.equal(Object.getPrototypeOf(obj), Object.prototype);
    assert.ok(Object.hasOwn(obj, '__proto__'));
    assertModel(obj, withProto({ polluted: true }, { a: 1 }));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('depth', () => {
    assertModel(json.decodeItems('[[[]]]', 3), [[[[]]]]);
    assertRefused(() => json.decodeItems('[[[]]]', 2), /deeper than 2/);
    assertRefused(() => json.decodeItems('{"a":{"b":{}}}', 2), /deeper than 2/);
    assertModel(json.decodeItems('1,[],{}', 1), [1, [], {}]);
    assertRefused(() => json.decodeItems('['.repeat(1_000_000), 64), /deeper than 64/);
  });

  test('long strings and many escapes stay linear', () => {
    const s = 'ab\\n'.repeat(250_000);
    const [out] = json.decodeItems(`"${s}"`, DEPTH) as [string];
    assert.equal(out.length, 750_000);
  });
});

describe('json encode', () => {
  const cases: [unknown, string][] = [
    [0, '0'],
    [-1, '-1'],
    [2 ** 53 - 1, '9007199254740991'],
    [2 ** 53, '9007199254740992'],
    [-(2 ** 63), '-9223372036854775808'],
    [2 ** 64, '18446744073709552000.0'],
    [1e300, '1e+300'],
    [2n ** 70n, '1180591620717411303424'],
    [-(2n ** 64n), '-18446744073709551616'],
    [5n, '5'],
    [f(2), '2.0'],
    [-0, '-0.0'],
    [f(-0), '-0.0'],
    [f(0), '0.0'],
    [f(1e300), '1e+300'],
    [f(1e21), '1e+21'],
    [f(123456789012), '123456789012.0'],
    [0.1, '0.1'],
    [1.5e-7, '1.5e-7'],
    [true, 'true'],
    [null, 'null'],
    [undefined, 'null'],
    ['a"b\\c\n', '"a\\"b\\\\c\\n"'],
    ['𝄞', '"𝄞"'],
    ['\ud800', '"\\ud800"'],
    [Buffer.from([1, 2, 3]), '"\\u0000AQID"'],
    [new Uint8Array(0), '"\\u0000"'],
    [[], '[]'],
    [{}, '{}'],
    [[[]], '[[]]'],
    [[{}], '[{}]'],
    [[undefined, 1], '[null,1]'],
    [{ a: undefined, b: 1 }, '{"b":1}'],
    [{ a: 1, b: undefined }, '{"a":1}'],
    [{ '\u0000a': [Buffer.from([255])] }, '{"\\u0000a":["\\u0000/w=="]}'],
    [withProto(1), '{"__proto__":1}'],
  ];
  for (const [value, text] of cases) {
    test(`${show(value).slice(0, 50)} → ${text.slice(0, 40)}`, () => {
      const out = json.encodeItems([value], DEPTH);
      assert.equal(out, text);
      JSON.parse(`[${out}]`); // valid JSON
    });
  }

  test('items comma-separated', () => {
    assert.equal(json.encodeItems([1, 'a', [], f(1)], DEPTH), '1,"a",[],1.0');
    assert.equal(json.encodeItems([], DEPTH), '');
  });

  test('refusals', () => {
    assertRefused(() => json.encodeItems(['\u0000abc'], DEPTH), /U\+0000/);
    assertRefused(() => json.encodeItems([10n ** 4300n], DEPTH), /4300 digits/);
    assert.equal(json.encodeItems([10n ** 4300n - 1n], DEPTH).length, 4300);
    assertRefused(() => json.encodeItems([Number.NaN], DEPTH), /NaN/);
    assertRefused(() => json.encodeItems([[Number.POSITIVE_INFINITY]], DEPTH), /Infinity/);
    assertRefused(() => json.encodeItems([new Date(0)], DEPTH), /Date/);
    assertRefused(() => json.encodeItems([{ m: new Map() }], DEPTH), /Map/);
    assertRefused(() => json.encodeItems([Symbol('x')], DEPTH), /symbol/);
  });

  test('depth, and cyclic input', () => {
    assert.equal(json.encodeItems([[[[]]]], 3), '[[[]]]');
    assertRefused(() => json.encodeItems([[[[]]]], 2), /deeper than 2/);
    const cycle: unknown[] = [];
    cycle.push({ c: cycle });
    assertRefused(() => json.encodeItems([cycle], 64), /deeper than 64/);
  });
});

describe('keys are data', () => {
  const encoded: Record<Format, Buffer | string> = {
    msgpack: hex('82 a9 5f 5f 70 72 6f 74 6f 5f 5f 81 a8 70 6f 6c 6c 75 74 65 64 c3 ab 63 6f 6e 73 74 72 75 63 74 6f 72 01'),
    cbor: hex('a2 69 5f 5f 70 72 6f 74 6f 5f 5f a1 68 70 6f 6c 6c 75 74 65 64 f5 6b 63 6f 6e 73 74 72 75 63 74 6f 72 01'),
    json: '{"__proto__":{"polluted":true},"constructor":1}',
  };
  for (const format of FORMATS) {
    test(`${format}: "__proto__" and "constructor" are own data properties`, () => {
      const [obj] = codecs[format].decodeItems(encoded[format], DEPTH) as [Record<string, unknown>];
      assert.equal(Object.getPrototypeOf(obj), Object.prototype);
      assert.deepEqual(Object.keys(obj), ['__proto__', 'constructor']);
      const own = Object.getOwnPropertyDescriptor(obj, '__proto__');
      assert.ok(own && 'value' in own && own.enumerable);
      assert.equal((own.value as Record<string, unknown>).polluted, true);
      assert.equal(obj.constructor, 1);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(toHex(codecs[format].encodeItems([obj], DEPTH)), toHex(encoded[format]));
    });
  }
});

describe('round trips through every pair of formats', () => {
  // What all three carry exactly.
  const common: unknown[] = [
    0,
    1,
    -1,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    2n ** 53n,
    2n ** 53n + 1n,
    -(2n ** 53n) - 1n,
    2n ** 63n,
    -(2n ** 63n),
    2n ** 64n - 1n,
    f(2),
    f(-0),
    f(0),
    f(1e300),
    f(-1e300),
    0.1,
    -2.5e-308,
    5e-324,
    f(Number.MAX_VALUE),
    true,
    false,
    null,
    '',
    'plain',
    '𝄞 and é and 水',
    '\u0001 control and "quotes" and \\',
    'a'.repeat(300),
    Buffer.alloc(0),
    Buffer.from([0, 1, 2, 254, 255]),
    Buffer.alloc(70000, 0xab),
    [],
    {},
    [[]],
    [{}],
    [[[1, [2, [3]]]]],
    { '\u0000key': 'NUL-led key', '': 'empty key', '𝄞': [f(1), 2n ** 64n - 1n] },
    withProto({ polluted: true }, { constructor: 'c', toString: 'x' }),
    Array.from({ length: 40 }, (_, i) => ({ i, s: `item ${i}`, f: f(i), b: Buffer.from([i]) })),
  ];
  // What CBOR and JSON carry beyond MessagePack.
  const wide: unknown[] = [
    -(2n ** 64n),
    -(2n ** 63n) - 1n,
    2n ** 64n,
    2n ** 70n,
    -(2n ** 70n),
    2n ** 1000n + 1n,
    10n ** 4300n - 1n,
    1n - 10n ** 4300n,
  ];

  for (const from of FORMATS) {
    for (const to of FORMATS) {
      test(`${from} → ${to}`, () => {
        const values = from === 'msgpack' || to === 'msgpack' ? common : [...common, ...wide];
        const decoded = codecs[from].decodeItems(codecs[from].encodeItems(values, DEPTH), DEPTH);
        assertModel(decoded, values);
        const again = codecs[to].decodeItems(codecs[to].encodeItems(decoded, DEPTH), DEPTH);
        assertModel(again, values);
      });
    }
  }

  test('undefined means the same in every format', () => {
    const input = [undefined, [undefined, 1], { gone: undefined, kept: 2 }];
    for (const format of FORMATS) {
      assertModel(codecs[format].decodeItems(codecs[format].encodeItems(input, DEPTH), DEPTH), [null, [null, 1], { kept: 2 }]);
    }
  });

  test('beyond 64 bits, MessagePack refuses what the others carry', () => {
    for (const from of ['cbor', 'json'] as const) {
      const decoded = codecs[from].decodeItems(codecs[from].encodeItems([2n ** 70n], DEPTH), DEPTH);
      assertModel(decoded, [2n ** 70n]);
      assertRefused(() => msgpack.encodeItems(decoded, DEPTH), /beyond 64 bits/);
    }
  });
});
