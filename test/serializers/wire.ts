// Hand-made MessagePack and CBOR bytes for the tests: the libraries' encoders
// cannot write most of what hostile peers send (huge tags, ext types, odd heads).
import assert from 'node:assert/strict';
import { SerializationError, type Serializer } from '../../src/serializers/index.ts';

export const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const cat = (parts: readonly Uint8Array[]) => Buffer.concat(parts);

/** Every own name of Object.prototype, and a few other names code tends to look up on objects. */
export const PROTOTYPE_NAMES = [...Object.getOwnPropertyNames(Object.prototype), 'toJSON', 'then', 'prototype', '__proto_'];

/** CBOR (RFC 8949). */
export const cbor = {
  /** The head of major type `major` with argument `n`, in the smallest form, or the width asked for (0: in the initial byte). */
  head(major: number, n: number | bigint, width?: 0 | 1 | 2 | 4 | 8): Buffer {
    const v = BigInt(n);
    const w = width ?? (v < 24n ? 0 : v < 0x100n ? 1 : v < 0x10000n ? 2 : v < 0x100000000n ? 4 : 8);
    if (w === 0) return Buffer.of((major << 5) | Number(v));
    const b = Buffer.alloc(1 + w);
    b[0] = (major << 5) | (24 + Math.log2(w));
    for (let i = 0; i < w; i++) b[w - i] = Number((v >> BigInt(8 * i)) & 0xffn);
    return b;
  },
  uint: (n: number | bigint) => cbor.head(0, n),
  /** -1 - n */
  neg: (n: number | bigint) => cbor.head(1, n),
  text: (s: string) => {
    const b = Buffer.from(s);
    return cat([cbor.head(3, b.length), b]);
  },
  bytes: (u8: Uint8Array) => cat([cbor.head(2, u8.length), u8]),
  array: (items: readonly Uint8Array[]) => cat([cbor.head(4, items.length), ...items]),
  map: (pairs: readonly [Uint8Array, Uint8Array][]) => cat([cbor.head(5, pairs.length), ...pairs.flat()]),
  tag: (n: number | bigint, content: Uint8Array) => cat([cbor.head(6, n), content]),
  /** Indefinite-length array, map (pairs flattened), text or byte string (chunks). */
  open: (major: 2 | 3 | 4 | 5, parts: readonly Uint8Array[]) => cat([Buffer.of((major << 5) | 31), ...parts, Buffer.of(0xff)]),
  false: Buffer.of(0xf4),
  true: Buffer.of(0xf5),
  null: Buffer.of(0xf6),
  undefined: Buffer.of(0xf7),
  double: (x: number) => {
    const b = Buffer.alloc(9);
    b[0] = 0xfb;
    b.writeDoubleBE(x, 1);
    return b;
  },
};

/** MessagePack (https://github.com/msgpack/msgpack/blob/master/spec.md). */
export const msgpack = {
  uint: (n: number) =>
    n < 0x80 ? Buffer.of(n) : n < 0x100 ? Buffer.of(0xcc, n) : n < 0x10000 ? Buffer.of(0xcd, n >> 8, n & 0xff) : u32(0xce, n),
  str: (s: string) => {
    const b = Buffer.from(s);
    const head =
      b.length < 32
        ? Buffer.of(0xa0 | b.length)
        : b.length < 0x100
          ? Buffer.of(0xd9, b.length)
          : b.length < 0x10000
            ? Buffer.of(0xda, b.length >> 8, b.length & 0xff)
            : u32(0xdb, b.length);
    return cat([head, b]);
  },
  bin: (u8: Uint8Array) =>
    cat([
      u8.length < 0x100
        ? Buffer.of(0xc4, u8.length)
        : u8.length < 0x10000
          ? Buffer.of(0xc5, u8.length >> 8, u8.length & 0xff)
          : u32(0xc6, u8.length),
      u8,
    ]),
  array: (items: readonly Uint8Array[]) =>
    cat([
      items.length < 16
        ? Buffer.of(0x90 | items.length)
        : items.length < 0x10000
          ? Buffer.of(0xdc, items.length >> 8, items.length & 0xff)
          : u32(0xdd, items.length),
      ...items,
    ]),
  map: (pairs: readonly [Uint8Array, Uint8Array][]) =>
    cat([
      pairs.length < 16
        ? Buffer.of(0x80 | pairs.length)
        : pairs.length < 0x10000
          ? Buffer.of(0xde, pairs.length >> 8, pairs.length & 0xff)
          : u32(0xdf, pairs.length),
      ...pairs.flat(),
    ]),
  /** An extension of `type` (-128..127) in the smallest form for `data`, or the one asked for. */
  ext(type: number, data: Uint8Array, form?: 'fixext' | 'ext8' | 'ext16' | 'ext32'): Buffer {
    const fixed = [1, 2, 4, 8, 16].indexOf(data.length);
    const f = form ?? (fixed >= 0 ? 'fixext' : data.length < 0x100 ? 'ext8' : data.length < 0x10000 ? 'ext16' : 'ext32');
    const t = type & 0xff;
    if (f === 'fixext') return cat([Buffer.of(0xd4 + fixed, t), data]);
    if (f === 'ext8') return cat([Buffer.of(0xc7, data.length, t), data]);
    if (f === 'ext16') return cat([Buffer.of(0xc8, data.length >> 8, data.length & 0xff, t), data]);
    const h = Buffer.alloc(6);
    h[0] = 0xc9;
    h.writeUInt32BE(data.length, 1);
    h[5] = t;
    return cat([h, data]);
  },
  nil: Buffer.of(0xc0),
  double: (x: number) => {
    const b = Buffer.alloc(9);
    b[0] = 0xcb;
    b.writeDoubleBE(x, 1);
    return b;
  },
  float: (x: number) => {
    const b = Buffer.alloc(5);
    b[0] = 0xca;
    b.writeFloatBE(x, 1);
    return b;
  },
};

function u32(type: number, n: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = type;
  b.writeUInt32BE(n, 1);
  return b;
}

/** Nesting `depth` levels deep in `ser`'s format: arrays, or maps under the key "k" with an array in the middle. */
export function nested(ser: Serializer['name'], depth: number, kind: 'array' | 'map' = 'array'): Buffer | string {
  if (ser === 'json')
    return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"k":'.repeat(depth - 1) + '[]' + '}'.repeat(depth - 1);
  const parts: Uint8Array[] = [];
  for (let i = 1; i < depth; i++) {
    if (kind === 'array') parts.push(Buffer.of(ser === 'msgpack' ? 0x91 : 0x81));
    else parts.push(Buffer.of(ser === 'msgpack' ? 0x81 : 0xa1), ser === 'msgpack' ? msgpack.str('k') : cbor.text('k'));
  }
  parts.push(Buffer.of(ser === 'msgpack' ? 0x90 : 0x80)); // the innermost: an empty array
  return cat(parts);
}

/** Asserts that `decode` throws a SerializationError whose message matches `message`. */
export function refuses(decode: () => unknown, message: RegExp, what = message.source): void {
  assert.throws(
    decode,
    (err: unknown) => {
      assert.ok(err instanceof SerializationError, `${what}: threw ${String(err)} instead of SerializationError`);
      assert.match(err.message, message, what);
      return true;
    },
    what,
  );
}
