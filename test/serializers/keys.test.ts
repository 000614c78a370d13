// Keys are data. A map key "__proto__" (or any Object.prototype member name)
// decodes to an own data property in every serializer, never touching the
// object's prototype or Object.prototype, and survives every decode -> encode
// pair unchanged. msgpackr and cbor-x would rename "__proto__" to "__proto_",
// so such messages take a slower path through Maps (see mapsToObjects).
// Map keys that are not strings are refused: WAMP dict keys MUST be strings,
// and JSON could not write them back with the same meaning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serializers, type Serializer } from '../../src/serializers/index.ts';
import { cborSerializer } from '../../src/serializers/cbor.ts';
import { msgpackSerializer } from '../../src/serializers/msgpack.ts';
import { PROTOTYPE_NAMES, cbor, hex, msgpack, refuses } from './wire.ts';

type Value = null | boolean | number | string | Buffer | Value[] | [string, Value][] | { dict: [string, Value][] };
const dict = (...entries: [string, Value][]) => ({ dict: entries });

/** The wire form of `v` in each format, built by hand (the encoders are under test too). */
function wire(ser: Serializer['name'], v: Value): Buffer | string {
  if (ser === 'json') return json(v);
  const enc = ser === 'msgpack' ? msgpack : cbor;
  const one = (x: Value): Buffer => {
    if (x === null) return ser === 'msgpack' ? msgpack.nil : cbor.null;
    if (typeof x === 'boolean') return Buffer.of(ser === 'msgpack' ? (x ? 0xc3 : 0xc2) : x ? 0xf5 : 0xf4);
    if (typeof x === 'number') return enc.uint(x);
    if (typeof x === 'string') return ser === 'msgpack' ? msgpack.str(x) : cbor.text(x);
    if (Buffer.isBuffer(x)) return ser === 'msgpack' ? msgpack.bin(x) : cbor.bytes(x);
    if (Array.isArray(x)) return enc.array((x as Value[]).map(one));
    return enc.map(x.dict.map(([k, item]) => [one(k), one(item)]));
  };
  return one(v);
}

function json(v: Value): string {
  if (Buffer.isBuffer(v)) return JSON.stringify('\0' + v.toString('base64'));
  if (Array.isArray(v)) return `[${(v as Value[]).map(json).join(',')}]`;
  if (typeof v === 'object' && v !== null) return `{${v.dict.map(([k, item]) => `${JSON.stringify(k)}:${json(item)}`).join(',')}}`;
  return JSON.stringify(v);
}

/** Checks `decoded` against `v`: every dict an own-property plain object with exactly its keys. */
function check(decoded: unknown, v: Value, where: string): void {
  if (Array.isArray(v)) {
    assert.ok(Array.isArray(decoded), where);
    assert.equal(decoded.length, v.length, where);
    for (const [i, item] of v.entries()) check(decoded[i], item as Value, `${where}[${i}]`);
  } else if (typeof v === 'object' && v !== null && !Buffer.isBuffer(v)) {
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype, `${where}: prototype changed`);
    const obj = decoded as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(obj),
      v.dict.map(([k]) => k),
      `${where}: keys`,
    );
    for (const [k, item] of v.dict) {
      const desc = Object.getOwnPropertyDescriptor(obj, k);
      assert.ok(desc && 'value' in desc && desc.enumerable && desc.writable, `${where}.${k}: not an own data property`);
      check(desc.value, item, `${where}.${k}`);
    }
  } else {
    assert.deepEqual(decoded, v, where);
  }
}

const PROTO_BEFORE = Object.getOwnPropertyNames(Object.prototype).sort();
function assertPrototypeClean(where: string): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTO_BEFORE, `${where}: Object.prototype changed`);
  assert.equal(({} as Record<string, unknown>).polluted, undefined, where);
}

const VALUES: Value[] = [1, 'x', null, true, Buffer.from('bin'), [1, 2], dict(['polluted', 1], ['acknowledge', true]), dict()];

/** Messages with `key` as an options key, a kwargs key and a key deep in args. */
function messages(key: string): Value[] {
  return VALUES.flatMap((value) => [
    [16, 1, dict([key, value]), 'com.example.topic'],
    [
      48,
      2,
      dict(['x', 1], [key, value], ['y', Buffer.of(0)]),
      'a.b',
      [dict([key, dict([key, value])])],
      dict([key, value], ['z', [value]]),
    ],
  ]);
}

for (const from of serializers) {
  test(`${from.name}: prototype names as keys decode to own data properties and re-encode in every serializer`, () => {
    for (const key of PROTOTYPE_NAMES) {
      for (const m of messages(key)) {
        const where = `${from.name} key ${key} in ${json(m).slice(0, 60)}`;
        const bytes = wire(from.name, m);
        const decoded = from.decode(bytes);
        check(decoded, m, where);
        assertPrototypeClean(where);
        // Our own encoding of what we decoded is the canonical wire form we built.
        const again = from.encode(decoded as unknown[]);
        assert.equal(Buffer.from(again).toString('hex'), Buffer.from(bytes).toString('hex'), `${where}: re-encoded differently`);
        for (const to of serializers) {
          const there = to.decode(to.encode(decoded as unknown[]));
          check(there, m, `${where} -> ${to.name}`);
          assert.equal(
            Buffer.from(to.encode(decoded as unknown[])).toString('hex'),
            Buffer.from(wire(to.name, m)).toString('hex'),
            `${where} -> ${to.name}: bytes`,
          );
        }
        assertPrototypeClean(where);
      }
    }
  });
}

test('all prototype names in one map, with values of every kind (msgpackr calls toJSON when "constructor" is a key)', () => {
  for (const value of VALUES) {
    for (const m of [
      [1, dict(...PROTOTYPE_NAMES.map((k): [string, Value] => [k, value]))],
      [1, dict(['constructor', value], ['toJSON', value])],
    ] as Value[]) {
      for (const from of serializers) {
        const decoded = from.decode(wire(from.name, m));
        check(decoded, m, from.name);
        for (const to of serializers) {
          assert.equal(
            Buffer.from(to.encode(decoded as unknown[])).toString('hex'),
            Buffer.from(wire(to.name, m)).toString('hex'),
            `${from.name} -> ${to.name}`,
          );
        }
      }
    }
  }
  assertPrototypeClean('all names');
});

test('"__proto__" next to "__proto_" (the name the libraries would rename it to) keeps both', () => {
  const m: Value = [1, dict(['__proto__', 1], ['__proto_', 2])];
  for (const ser of serializers) check(ser.decode(wire(ser.name, m)), m, ser.name);
});

test('cbor: a "__proto__" key in indefinite-length chunks, and in an indefinite-length map', () => {
  const key = cbor.open(3, [cbor.text('__pro'), cbor.text('to__')]);
  check(cborSerializer.decode(cbor.map([[key, cbor.uint(1)]])), dict(['__proto__', 1]), 'chunked key');
  check(
    cborSerializer.decode(cbor.open(5, [cbor.text('__proto__'), cbor.uint(1), cbor.text('b'), cbor.uint(2)])),
    dict(['__proto__', 1], ['b', 2]),
    'open map',
  );
  check(
    cborSerializer.decode(cbor.map([[cbor.open(3, [cbor.text('abcd'), cbor.text('efghi')]), cbor.uint(1)]])),
    dict(['abcdefghi', 1]),
    'chunked 9-byte key',
  );
});

test('msgpack: a "__proto__" key as str8/str16/str32', () => {
  const body = Buffer.from('__proto__');
  for (const head of [Buffer.of(0xd9, 9), Buffer.of(0xda, 0, 9), Buffer.of(0xdb, 0, 0, 0, 9)]) {
    check(
      msgpackSerializer.decode(Buffer.concat([Buffer.of(0x81), head, body, Buffer.of(1)])),
      dict(['__proto__', 1]),
      head.toString('hex'),
    );
  }
});

test('msgpack: map keys that are not strings are refused', () => {
  const keys = ['01', 'ff', 'cc80', 'd0ff', 'c0', 'c2', 'c3', 'cb3ff8000000000000', 'c40161', '90', '80', 'd40001'];
  for (const k of keys)
    refuses(
      () => msgpackSerializer.decode(hex(`92 01 81 ${k} 01`)),
      /^msgpack: map key must be a string \(WAMP dict keys are strings\)/,
      k,
    );
});

test('cbor: map keys that are not text strings are refused', () => {
  const keys = ['01', '20', '4161', '80', 'a0', 'd9d9f76161', 'f4', 'f6', 'f93c00', '5f4161ff'];
  for (const k of keys)
    refuses(() => cborSerializer.decode(hex(`82 01 a1 ${k} 01`)), /^cbor: map key must be a text string \(WAMP dict keys are strings\)/, k);
  assert.deepEqual(cborSerializer.decode(hex('bf 7f 6161 ff 01 ff')), { a: 1 }); // an indefinite-length text key is still text
});
