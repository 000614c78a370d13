// The exact MessagePack codec for payload elements (see src/wamp/payload.ts
// for the value model): every integer as it was sent (uint64/int64 as
// bigints beyond 2^53), floats kept floats (2.0 as a WampFloat), keys as own
// data properties. It reads every standard type (no extension types but
// msgpackr's undefined; no NaN or Infinity, which JSON lacks) and writes
// whatever the other formats' exact codecs decode, or refuses with
// SerializationError what MessagePack cannot carry (integers beyond 64 bits).
// Written: the smallest heads and integer forms, every float as a float64.
// Both directions recurse once per container level, checking the depth
// first. Spec: https://github.com/msgpack/msgpack/blob/master/spec.md
import { WampFloat } from '../wamp/payload.ts';
import { type OutputBuffer, cachedKey, encodeAll, checkDict, checkFloat, describeInteger, readText, utf8Length } from './exact-buffer.ts';
import { SerializationError, asBuffer, checkMaxDepth, tooDeep } from './serializer.ts';

// msgpackr's undefined (fixext 1, type 0, data 0): decoded with JSON.stringify's
// meaning, null in an array or at the top, absent in a map.
const UNDEFINED = Symbol('undefined');

const TWO_32 = 2 ** 32;
const MIN_INT64 = -(2n ** 63n);
const MAX_UINT64 = 2n ** 64n - 1n;

// State of the decode under way (decoding calls no code of others, so it never nests).
const EMPTY = Buffer.alloc(0);
let b: Buffer = EMPTY;
let pos = 0;
let limit = 0;

/** Decodes the items encoded back to back in `data` (the payload region of a message: no enclosing array) into the value model of src/wamp/payload.ts. */
export function decodeItems(data: Buffer | string, maxDepth: number): unknown[] {
  if (!(data instanceof Uint8Array)) throw new SerializationError(`msgpack: expected binary data, got ${typeof data}`);
  limit = checkMaxDepth(maxDepth);
  b = asBuffer(data);
  pos = 0;
  try {
    const items: unknown[] = [];
    while (pos < b.length) {
      const v = item(maxDepth);
      items.push(v === UNDEFINED ? null : v);
    }
    return items;
  } finally {
    b = EMPTY; // the data is not kept alive by the module
  }
}

/** The item at `pos`, within `depthLeft` more container levels; advances `pos` past it. */
function item(depthLeft: number): unknown {
  if (pos >= b.length) throw truncated();
  const t = b[pos++]!;
  if (t < 0x80) return t; // positive fixint
  if (t >= 0xe0) return t - 0x100; // negative fixint
  if (t >= 0xa0) return t < 0xc0 ? text(t & 0x1f) : other(t, depthLeft); // fixstr
  if (t < 0x90) return map(t & 0x0f, depthLeft); // fixmap
  return array(t & 0x0f, depthLeft); // fixarray
}

/** The types with a head byte 0xc0..0xdf; `pos` is past the head byte. */
function other(t: number, depthLeft: number): unknown {
  switch (t) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xcc:
      return uint8();
    case 0xcd:
      return uint16();
    case 0xce:
      return uint32();
    case 0xcf:
      return uint64();
    case 0xd0:
      return (uint8() << 24) >> 24;
    case 0xd1:
      return (uint16() << 16) >> 16;
    case 0xd2:
      return uint32() | 0;
    case 0xd3:
      return int64();
    case 0xca:
      need(4);
      pos += 4;
      return float(b.readFloatBE(pos - 4));
    case 0xcb:
      need(8);
      pos += 8;
      return float(b.readDoubleBE(pos - 8));
    case 0xd9:
      return text(uint8());
    case 0xda:
      return text(uint16());
    case 0xdb:
      return text(uint32());
    case 0xc4:
      return binary(uint8());
    case 0xc5:
      return binary(uint16());
    case 0xc6:
      return binary(uint32());
    case 0xdc:
      return array(uint16(), depthLeft);
    case 0xdd:
      return array(uint32(), depthLeft);
    case 0xde:
      return map(uint16(), depthLeft);
    case 0xdf:
      return map(uint32(), depthLeft);
    case 0xc1:
      throw new SerializationError('msgpack: never-used byte 0xc1');
    case 0xd4:
      if (pos + 2 <= b.length && b[pos] === 0 && b[pos + 1] === 0) {
        pos += 2;
        return UNDEFINED;
      }
      throw extension(t);
    default: // 0xc7..0xc9 ext 8/16/32, 0xd5..0xd8 fixext 2..16
      throw extension(t);
  }
}

function array(n: number, depthLeft: number): unknown[] {
  if (depthLeft === 0) throw tooDeep('msgpack', limit);
  if (n > b.length - pos) throw truncated(); // every item takes at least a byte: a forged head allocates nothing
  const out: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const v = item(depthLeft - 1);
    out[i] = v === UNDEFINED ? null : v;
  }
  return out;
}

function map(n: number, depthLeft: number): Record<string, unknown> {
  if (depthLeft === 0) throw tooDeep('msgpack', limit);
  if (2 * n > b.length - pos) throw truncated();
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const k = key();
    const v = item(depthLeft - 1);
    if (v === UNDEFINED) {
      if (Object.hasOwn(out, k)) delete out[k]; // a later duplicate wins, even when it is absent
    } else if (k === '__proto__') {
      Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** A map key: WAMP dict keys are strings. */
function key(): string {
  if (pos >= b.length) throw truncated();
  const t = b[pos++]!;
  let length: number;
  if (t >= 0xa0 && t < 0xc0) length = t & 0x1f;
  else if (t === 0xd9) length = uint8();
  else if (t === 0xda) length = uint16();
  else if (t === 0xdb) length = uint32();
  else throw new SerializationError(`msgpack: map key must be a string (WAMP dict keys are strings), got type byte 0x${t.toString(16)}`);
  if (length > b.length - pos) throw truncated();
  const cached = cachedKey(b, pos, pos + length);
  if (cached === undefined) return text(length);
  pos += length;
  return cached;
}

/** A string of `length` UTF-8 bytes at `pos`. */
function text(length: number): string {
  if (length > b.length - pos) throw truncated();
  return readText(b, pos, (pos += length), 'msgpack');
}

/** Binary of `length` bytes at `pos`, copied: the value must not alias the received data. */
function binary(length: number): Buffer {
  if (length > b.length - pos) throw truncated();
  const out = Buffer.allocUnsafe(length);
  b.copy(out, 0, pos, (pos += length));
  return out;
}

function float(v: number): number | WampFloat {
  if (!Number.isFinite(v)) throw new SerializationError('msgpack: NaN and Infinity are not supported (JSON cannot carry them)');
  return Number.isInteger(v) ? new WampFloat(v) : v; // -0 included: Number.isInteger(-0)
}

function need(n: number): void {
  if (pos + n > b.length) throw truncated();
}

function uint8(): number {
  if (pos >= b.length) throw truncated();
  return b[pos++]!;
}

function uint16(): number {
  need(2);
  pos += 2;
  return (b[pos - 2]! << 8) | b[pos - 1]!;
}

function uint32(): number {
  need(4);
  pos += 4;
  return b.readUInt32BE(pos - 4);
}

function uint64(): number | bigint {
  need(8);
  const hi = b.readUInt32BE(pos);
  pos += 8;
  if (hi < 0x200000) return hi * TWO_32 + b.readUInt32BE(pos - 4); // below 2^53: exact
  return b.readBigUInt64BE(pos - 8);
}

function int64(): number | bigint {
  need(8);
  const hi = b.readInt32BE(pos);
  pos += 8;
  if (hi >= -0x200000 && hi < 0x200000) {
    const v = hi * TWO_32 + b.readUInt32BE(pos - 4); // within [-2^53, 2^53): exact
    if (v !== -(2 ** 53)) return v;
  }
  return b.readBigInt64BE(pos - 8);
}

function extension(t: number): SerializationError {
  const typeAt = t >= 0xd4 ? pos : pos + (1 << (t - 0xc7)); // fixext, or after the 1/2/4-byte length of ext 8/16/32
  const type = typeAt < b.length ? (b[typeAt]! << 24) >> 24 : undefined; // signed
  const name = type === -1 ? ' (timestamp)' : '';
  return new SerializationError(`msgpack: extension type ${type ?? '?'}${name} is not supported`);
}

function truncated(): SerializationError {
  return new SerializationError('msgpack: unexpected end of data');
}

/** Encodes `items` back to back. Throws SerializationError where MessagePack cannot carry a value. */
export function encodeItems(items: readonly unknown[], maxDepth: number): Buffer {
  return encodeAll(items, maxDepth, write);
}

/** Writes `v` within `depthLeft` more container levels. */
function write(out: OutputBuffer, v: unknown, depthLeft: number): void {
  switch (typeof v) {
    case 'string':
      return writeString(out, v);
    case 'number':
      return writeNumber(out, v);
    case 'boolean':
      out.ensure(1);
      return out.byte(v ? 0xc3 : 0xc2);
    case 'bigint':
      return writeBigInt(out, v);
    case 'undefined': // null, as JSON.stringify has it in an array
      out.ensure(1);
      return out.byte(0xc0);
    case 'object':
      if (v === null) {
        out.ensure(1);
        return out.byte(0xc0);
      }
      if (Array.isArray(v)) return writeArray(out, v, depthLeft);
      if (v instanceof Uint8Array) return writeBinary(out, v);
      if (v instanceof WampFloat) return writeFloat(out, v.value);
      return writeMap(out, checkDict('msgpack', v), depthLeft);
    default:
      throw new SerializationError(`msgpack: cannot encode a ${typeof v}`);
  }
}

function writeNumber(out: OutputBuffer, v: number): void {
  if (Number.isSafeInteger(v)) {
    if (v !== 0 || 1 / v > 0) return writeInt(out, v); // -0 is the float -0.0
  } else if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 64) {
    return writeBigInt(out, BigInt(v)); // integral beyond 2^53: an integer while MessagePack has one
  }
  writeFloat(out, v);
}

/** A safe integer, in the smallest form. */
function writeInt(out: OutputBuffer, v: number): void {
  out.ensure(9);
  const buf = out.buf;
  const at = out.pos;
  if (v >= 0) {
    if (v < 0x80) {
      buf[at] = v;
      out.pos += 1;
    } else if (v < 0x100) {
      buf[at] = 0xcc;
      buf[at + 1] = v;
      out.pos += 2;
    } else if (v < 0x10000) {
      buf[at] = 0xcd;
      buf.writeUInt16BE(v, at + 1);
      out.pos += 3;
    } else if (v < TWO_32) {
      buf[at] = 0xce;
      buf.writeUInt32BE(v, at + 1);
      out.pos += 5;
    } else {
      buf[at] = 0xcf;
      buf.writeUInt32BE(Math.floor(v / TWO_32), at + 1);
      buf.writeUInt32BE(v >>> 0, at + 5);
      out.pos += 9;
    }
  } else if (v >= -0x20) {
    buf[at] = v & 0xff;
    out.pos += 1;
  } else if (v >= -0x80) {
    buf[at] = 0xd0;
    buf[at + 1] = v & 0xff;
    out.pos += 2;
  } else if (v >= -0x8000) {
    buf[at] = 0xd1;
    buf.writeInt16BE(v, at + 1);
    out.pos += 3;
  } else if (v >= -0x80000000) {
    buf[at] = 0xd2;
    buf.writeInt32BE(v, at + 1);
    out.pos += 5;
  } else {
    // Two's complement as a signed high word and an unsigned low one: v = hi * 2^32 + lo.
    const hi = Math.floor(v / TWO_32);
    buf[at] = 0xd3;
    buf.writeInt32BE(hi, at + 1);
    buf.writeUInt32BE(v - hi * TWO_32, at + 5);
    out.pos += 9;
  }
}

function writeBigInt(out: OutputBuffer, v: bigint): void {
  if (v >= -0x80000000n && v < 0x100000000n) return writeInt(out, Number(v));
  if (v < MIN_INT64 || v > MAX_UINT64) {
    throw new SerializationError(
      `msgpack: cannot carry ${describeInteger(v)} (beyond 64 bits: MessagePack integers are within [-2^63, 2^64 - 1])`,
    );
  }
  out.ensure(9);
  if (v >= 0n) {
    out.buf[out.pos] = 0xcf;
    out.buf.writeBigUInt64BE(v, out.pos + 1);
  } else {
    out.buf[out.pos] = 0xd3;
    out.buf.writeBigInt64BE(v, out.pos + 1);
  }
  out.pos += 9;
}

/** Every float as float64, so none loses precision (and 2.0 stays a float). */
function writeFloat(out: OutputBuffer, v: number): void {
  checkFloat('msgpack', v);
  out.ensure(9);
  out.buf[out.pos] = 0xcb;
  out.buf.writeDoubleBE(v, out.pos + 1);
  out.pos += 9;
}

function writeString(out: OutputBuffer, s: string): void {
  if (s.length < 0x20 && out.asciiWithHead(s, 0xa0)) return; // fixstr
  const length = utf8Length(s, 'msgpack');
  out.ensure(5);
  if (length < 0x20) out.byte(0xa0 | length);
  else head(out, length, 0xd9);
  out.utf8(s, length);
}

function writeBinary(out: OutputBuffer, bytes: Uint8Array): void {
  out.ensure(5);
  head(out, bytes.length, 0xc4);
  out.bytes(bytes);
}

function writeArray(out: OutputBuffer, v: readonly unknown[], depthLeft: number): void {
  if (depthLeft === 0) throw tooDeep('msgpack', out.maxDepth);
  const n = v.length;
  out.ensure(5);
  if (n < 0x10) out.byte(0x90 | n);
  else head(out, n, 0, 0xdc);
  for (let i = 0; i < n; i++) write(out, v[i], depthLeft - 1);
}

function writeMap(out: OutputBuffer, obj: Record<string, unknown>, depthLeft: number): void {
  if (depthLeft === 0) throw tooDeep('msgpack', out.maxDepth);
  const keys = Object.keys(obj);
  // The head is written last: a key holding undefined is absent, as JSON.stringify has it.
  const at = out.pos;
  const room = mapHeadSize(keys.length);
  out.ensure(room);
  out.pos += room;
  let n = 0;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const item = obj[k];
    if (item === undefined) continue;
    n++;
    writeString(out, k);
    write(out, item, depthLeft - 1);
  }
  const end = out.closeHead(at, room, mapHeadSize(n));
  if (n < 0x10) out.byte(0x80 | n);
  else head(out, n, 0, 0xde);
  out.pos = end;
}

function mapHeadSize(n: number): number {
  return n < 0x10 ? 1 : n < 0x10000 ? 3 : 5;
}

/**
 * The head of a str/bin (`op8`: its 8-bit form), array or map (`op16`; no
 * 8-bit form) of `n` items or bytes, past its fix form. In each, the 32-bit
 * form follows the 16-bit one, which follows the 8-bit one.
 */
function head(out: OutputBuffer, n: number, op8: number, op16 = op8 + 1): void {
  const buf = out.buf;
  if (op8 !== 0 && n < 0x100) {
    buf[out.pos] = op8;
    buf[out.pos + 1] = n;
    out.pos += 2;
  } else if (n < 0x10000) {
    buf[out.pos] = op16;
    buf.writeUInt16BE(n, out.pos + 1);
    out.pos += 3;
  } else {
    buf[out.pos] = op16 + 1;
    buf.writeUInt32BE(n, out.pos + 1);
    out.pos += 5;
  }
}
