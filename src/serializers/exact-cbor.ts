// The exact CBOR codec for payload elements (RFC 8949; see src/wamp/payload.ts
// for the value model): integers as sent, over the whole range of major
// types 0 and 1 ([-2^64, 2^64 - 1]) and bignums (tags 2 and 3) beyond; floats
// kept floats (2.0 as a WampFloat, half and single precision widened);
// definite and indefinite lengths; keys as own data properties. Tags other
// than bignums, 64 (a Uint8Array around a byte string: plain binary) and
// 55799 (self-described CBOR) are refused, as are simple values but false,
// true, null and undefined (which has JSON.stringify's meaning), and NaN and
// Infinity. Written: the smallest heads, definite lengths, every float as a
// float64. Both directions recurse once per container level, checking the depth first.
import { isUtf8 } from 'node:buffer';
import { WampFloat } from '../wamp/payload.ts';
import {
  MAX_DIGITS,
  type OutputBuffer,
  encodeAll,
  cachedKey,
  checkDict,
  checkFloat,
  describeInteger,
  readText,
  utf8Length,
  withinDigits,
} from './exact-buffer.ts';
import { SerializationError, asBuffer, checkMaxDepth, tooDeep } from './serializer.ts';

const UNDEFINED = Symbol('undefined'); // 0xf7: null in an array or at the top, absent in a map
const BREAK = 0xff;

const TAG_BIGNUM = 2;
const TAG_NEGATIVE_BIGNUM = 3;
const TAG_UINT8ARRAY = 64; // RFC 8746 §2
const TAG_SELF_DESCRIBED = 55799; // RFC 8949 §3.4.6

// Bignum content beyond this many bytes is refused before it is read: what
// 10^4300 - 1 takes, the largest integer all formats but MessagePack carry
// (see MAX_DIGITS). Within it, the value is checked against that limit.
const MAX_BIGNUM_BYTES = 1786;

const TWO_32 = 2 ** 32;
const TWO_64 = 1n << 64n;

// State of the decode under way (decoding calls no code of others, so it never nests).
const EMPTY = Buffer.alloc(0);
let b: Buffer = EMPTY;
let pos = 0;
let limit = 0;

/** Decodes the items encoded back to back in `data` (the payload region of a message: no enclosing array) into the value model of src/wamp/payload.ts. */
export function decodeItems(data: Buffer | string, maxDepth: number): unknown[] {
  if (!(data instanceof Uint8Array)) throw new SerializationError(`cbor: expected binary data, got ${typeof data}`);
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
  const initial = b[pos++]!;
  const info = initial & 0x1f;
  switch (initial >> 5) {
    case 0:
      return info < 24 ? info : unsigned(info);
    case 1:
      return info < 24 ? -1 - info : negative(info);
    case 2:
      return bytes(info);
    case 3:
      return text(info);
    case 4:
      if (depthLeft === 0) throw tooDeep('cbor', limit);
      return info === 31 ? openArray(depthLeft - 1) : array(argument(info), depthLeft - 1);
    case 5:
      if (depthLeft === 0) throw tooDeep('cbor', limit);
      return info === 31 ? openMap(depthLeft - 1) : map(argument(info), depthLeft - 1);
    case 6:
      return tagged(info, depthLeft);
    default:
      return simpleOrFloat(info);
  }
}

/**
 * The argument of a head whose initial byte is before `pos`, as a number;
 * for lengths and tag numbers, so a 64-bit one only needs to be too large
 * (it is then checked against the data left, or is no tag we know).
 */
function argument(info: number): number {
  if (info < 24) return info;
  switch (info) {
    case 24:
      need(1);
      return b[pos++]!;
    case 25:
      need(2);
      pos += 2;
      return (b[pos - 2]! << 8) | b[pos - 1]!;
    case 26:
      need(4);
      pos += 4;
      return b.readUInt32BE(pos - 4);
    case 27:
      need(8);
      pos += 8;
      return b.readUInt32BE(pos - 8) * TWO_32 + b.readUInt32BE(pos - 4);
    case 31:
      throw new SerializationError('cbor: indefinite length where none is allowed');
    default:
      throw new SerializationError(`cbor: reserved additional information ${info}`);
  }
}

/** Major type 0 beyond the short form: an 8-byte argument may exceed 2^53. */
function unsigned(info: number): number | bigint {
  if (info !== 27) return argument(info);
  need(8);
  const hi = b.readUInt32BE(pos);
  pos += 8;
  if (hi < 0x200000) return hi * TWO_32 + b.readUInt32BE(pos - 4); // below 2^53: exact
  return b.readBigUInt64BE(pos - 8);
}

/** Major type 1 beyond the short form: -1 - n, down to -2^64. */
function negative(info: number): number | bigint {
  const n = unsigned(info);
  if (typeof n === 'number' && n < Number.MAX_SAFE_INTEGER) return -1 - n;
  return -1n - BigInt(n);
}

/** A byte string (major 2) whose initial byte is before `pos`, copied: the value must not alias the received data. */
function bytes(info: number): Buffer {
  if (info === 31) return joinChunks(2);
  const length = argument(info);
  if (length > b.length - pos) throw truncated();
  const out = Buffer.allocUnsafe(length);
  b.copy(out, 0, pos, (pos += length));
  return out;
}

/** A text string (major 3) whose initial byte is before `pos`. */
function text(info: number): string {
  return info === 31 ? joinChunks(3).toString('utf8') : definiteText(argument(info));
}

/** A definite text string of `length` bytes at `pos`. */
function definiteText(length: number): string {
  if (length > b.length - pos) throw truncated();
  return readText(b, pos, (pos += length), 'cbor');
}

/**
 * The bytes of an indefinite-length string of major type `major` (its head
 * is before `pos`): definite chunks of that type up to a break. One pass
 * checks and measures, a second copies: no allocation per chunk. Text must
 * be valid UTF-8 chunk by chunk (RFC 8949 §3.2.3: no character spans two),
 * which is the whole being valid with no chunk starting with a continuation byte.
 */
function joinChunks(major: number): Buffer {
  const first = pos;
  let total = 0;
  for (;;) {
    if (pos >= b.length) throw truncated();
    const initial = b[pos++]!;
    if (initial === BREAK) break;
    if (initial >> 5 !== major || (initial & 0x1f) === 31) throw new SerializationError('cbor: invalid chunk in indefinite-length string');
    const length = argument(initial & 0x1f);
    if (length > b.length - pos) throw truncated();
    if (major === 3 && length !== 0 && (b[pos]! & 0xc0) === 0x80) throw invalidUtf8();
    pos += length;
    total += length;
  }
  const out = Buffer.allocUnsafe(total);
  const end = pos;
  let at = 0;
  pos = first;
  while (b[pos] !== BREAK) {
    const length = argument(b[pos++]! & 0x1f);
    if (length < 16)
      for (let k = 0; k < length; k++) out[at++] = b[pos + k]!; // cheaper than a copy call
    else at += b.copy(out, at, pos, pos + length);
    pos += length;
  }
  pos = end;
  if (major === 3 && !isUtf8(out)) throw invalidUtf8();
  return out;
}

function array(n: number, depthLeft: number): unknown[] {
  if (n > b.length - pos) throw truncated(); // every item takes at least a byte: a forged head allocates nothing
  const out: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const v = item(depthLeft);
    out[i] = v === UNDEFINED ? null : v;
  }
  return out;
}

function openArray(depthLeft: number): unknown[] {
  const out: unknown[] = [];
  while (byteAt() !== BREAK) {
    const v = item(depthLeft);
    out.push(v === UNDEFINED ? null : v);
  }
  pos++;
  return out;
}

function map(n: number, depthLeft: number): Record<string, unknown> {
  if (2 * n > b.length - pos) throw truncated();
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) entry(out, depthLeft);
  return out;
}

function openMap(depthLeft: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (byteAt() !== BREAK) entry(out, depthLeft);
  pos++;
  return out;
}

/** One key/value pair into `out`. Keys are text strings (WAMP dict keys are strings); a later duplicate wins. */
function entry(out: Record<string, unknown>, depthLeft: number): void {
  const initial = byteAt();
  if (initial >> 5 !== 3) {
    throw new SerializationError(`cbor: map key must be a text string (WAMP dict keys are strings), got ${MAJOR_NAMES[initial >> 5]}`);
  }
  pos++;
  const k = key(initial & 0x1f);
  if (byteAt() === BREAK) throw new SerializationError('cbor: map key without a value');
  const v = item(depthLeft);
  if (v === UNDEFINED) {
    if (Object.hasOwn(out, k)) delete out[k];
  } else if (k === '__proto__') {
    Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
  } else {
    out[k] = v;
  }
}

/** A map key, a text string whose initial byte is before `pos`. */
function key(info: number): string {
  if (info === 31) return text(info);
  const length = argument(info);
  if (length > b.length - pos) throw truncated();
  const cached = cachedKey(b, pos, pos + length);
  if (cached === undefined) return definiteText(length);
  pos += length;
  return cached;
}

/** A tag whose initial byte is before `pos`, and its content. Self-described CBOR is skipped in a loop: a chain of them cannot recurse. */
function tagged(info: number, depthLeft: number): unknown {
  let tag = argument(info);
  while (tag === TAG_SELF_DESCRIBED) {
    if (byteAt() >> 5 !== 6) return item(depthLeft);
    tag = argument(b[pos++]! & 0x1f);
  }
  if (tag === TAG_BIGNUM || tag === TAG_NEGATIVE_BIGNUM) return bignum(tag);
  if (tag === TAG_UINT8ARRAY) return bytes(byteString(tag));
  throw new SerializationError(`cbor: tag ${tag}${TAG_NAMES[tag] ? ` (${TAG_NAMES[tag]})` : ''} is not supported`);
}

/** Checks that the content of `tag` (at `pos`) is a byte string; returns its additional information, past its initial byte. */
function byteString(tag: number): number {
  const initial = byteAt();
  if (initial >> 5 !== 2) throw new SerializationError(`cbor: tag ${tag} must enclose a byte string, got ${MAJOR_NAMES[initial >> 5]}`);
  pos++;
  return initial & 0x1f;
}

/** Tag 2 (n) or 3 (-1 - n), n the big-endian bytes of the content; a number when safe, as every integer is. */
function bignum(tag: number): number | bigint {
  const content = bytes(byteString(tag));
  if (content.length > MAX_BIGNUM_BYTES) {
    throw new SerializationError(`cbor: bignum of ${content.length} bytes is too large (at most ${MAX_BIGNUM_BYTES})`);
  }
  const n = content.length === 0 ? 0n : BigInt('0x' + content.toString('hex')); // linear, unlike a byte-by-byte shift
  const v = tag === TAG_BIGNUM ? n : -1n - n;
  if (!withinDigits(v))
    throw new SerializationError(`cbor: bignum of more than ${MAX_DIGITS} decimal digits is too large (see MAX_DIGITS)`);
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** Major type 7 whose initial byte is before `pos`. */
function simpleOrFloat(info: number): unknown {
  switch (info) {
    case 20:
      return false;
    case 21:
      return true;
    case 22:
      return null;
    case 23:
      return UNDEFINED;
    case 25:
      need(2);
      pos += 2;
      return float(half((b[pos - 2]! << 8) | b[pos - 1]!));
    case 26:
      need(4);
      pos += 4;
      return float(b.readFloatBE(pos - 4));
    case 27:
      need(8);
      pos += 8;
      return float(b.readDoubleBE(pos - 8));
    case 31:
      throw new SerializationError('cbor: unexpected break');
    default:
      if (info > 27) throw new SerializationError(`cbor: reserved additional information ${info}`);
      // 0..19 unassigned; 24: a one-byte simple value (32..255 unassigned, below 32 not well-formed)
      throw new SerializationError(`cbor: simple value ${info === 24 ? (b[pos] ?? '?') : info} is not supported`);
  }
}

/** An IEEE 754 half-precision value (RFC 8949 Appendix D). */
function half(h: number): number {
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  const magnitude =
    exponent === 0
      ? mantissa * 2 ** -24 // subnormal
      : exponent === 31
        ? mantissa === 0
          ? Number.POSITIVE_INFINITY
          : Number.NaN
        : (mantissa + 1024) * 2 ** (exponent - 25);
  return h & 0x8000 ? -magnitude : magnitude;
}

function float(v: number): number | WampFloat {
  if (!Number.isFinite(v)) throw new SerializationError('cbor: NaN and Infinity are not supported (JSON cannot carry them)');
  return Number.isInteger(v) ? new WampFloat(v) : v; // -0 included: Number.isInteger(-0)
}

function need(n: number): void {
  if (pos + n > b.length) throw truncated();
}

function byteAt(): number {
  if (pos >= b.length) throw truncated();
  return b[pos]!;
}

const MAJOR_NAMES = ['unsigned integer', 'negative integer', 'byte string', 'text string', 'array', 'map', 'tag', 'simple value or float'];

// Names for the messages (IANA CBOR tags registry), for the tags a peer is likely to send.
const TAG_NAMES: Record<number, string> = {
  0: 'date/time string',
  1: 'epoch date/time',
  4: 'decimal fraction',
  5: 'bigfloat',
  6: 'cbor-x packed reference',
  24: 'embedded CBOR',
  25: 'string reference',
  28: 'shareable value',
  29: 'shared reference',
  32: 'URI',
  51: 'cbor-x packed values',
  256: 'string reference namespace',
  258: 'set',
  259: 'map with object keys',
};

function invalidUtf8(): SerializationError {
  return new SerializationError('cbor: text string is not valid UTF-8');
}

function truncated(): SerializationError {
  return new SerializationError('cbor: unexpected end of data');
}

/** Encodes `items` back to back. Throws SerializationError where CBOR cannot carry a value. */
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
      return out.byte(v ? 0xf5 : 0xf4);
    case 'bigint':
      return writeBigInt(out, v);
    case 'undefined': // null, as JSON.stringify has it in an array
      out.ensure(1);
      return out.byte(0xf6);
    case 'object':
      if (v === null) {
        out.ensure(1);
        return out.byte(0xf6);
      }
      if (Array.isArray(v)) return writeArray(out, v, depthLeft);
      if (v instanceof Uint8Array) {
        head(out, 2, v.length);
        return out.bytes(v);
      }
      if (v instanceof WampFloat) return writeFloat(out, v.value);
      return writeMap(out, checkDict('cbor', v), depthLeft);
    default:
      throw new SerializationError(`cbor: cannot encode a ${typeof v}`);
  }
}

/** The head of major type `major` with argument `n` (a safe integer), in the smallest form. */
function head(out: OutputBuffer, major: number, n: number): void {
  out.ensure(9);
  putHead(out, major, n);
}

/** head() where room is already made. */
function putHead(out: OutputBuffer, major: number, n: number): void {
  const buf = out.buf;
  const at = out.pos;
  const m = major << 5;
  if (n < 24) {
    buf[at] = m | n;
    out.pos += 1;
  } else if (n < 0x100) {
    buf[at] = m | 24;
    buf[at + 1] = n;
    out.pos += 2;
  } else if (n < 0x10000) {
    buf[at] = m | 25;
    buf.writeUInt16BE(n, at + 1);
    out.pos += 3;
  } else if (n < TWO_32) {
    buf[at] = m | 26;
    buf.writeUInt32BE(n, at + 1);
    out.pos += 5;
  } else {
    buf[at] = m | 27;
    buf.writeUInt32BE(Math.floor(n / TWO_32), at + 1);
    buf.writeUInt32BE(n >>> 0, at + 5);
    out.pos += 9;
  }
}

function writeNumber(out: OutputBuffer, v: number): void {
  if (Number.isSafeInteger(v)) {
    if (v > 0 || (v === 0 && 1 / v > 0)) return head(out, 0, v);
    if (v < 0) return head(out, 1, -1 - v); // -1 - v is at most 2^53 - 2: exact
    // -0 is the float -0.0
  } else if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 64) {
    return writeBigInt(out, BigInt(v)); // integral beyond 2^53: an integer within what every format carries
  }
  writeFloat(out, v);
}

/** Major type 0 or 1 while the argument fits 64 bits, a bignum (tag 2 or 3) beyond. */
function writeBigInt(out: OutputBuffer, v: bigint): void {
  const negative = v < 0n;
  const n = negative ? -1n - v : v;
  if (n < TWO_64) {
    if (n <= 9007199254740991n) return head(out, negative ? 1 : 0, Number(n));
    out.ensure(9);
    out.buf[out.pos] = negative ? 0x3b : 0x1b;
    out.buf.writeBigUInt64BE(n, out.pos + 1);
    out.pos += 9;
    return;
  }
  if (!withinDigits(v)) {
    throw new SerializationError(`cbor: cannot carry ${describeInteger(v)} (integers are read up to ${MAX_DIGITS} decimal digits)`);
  }
  let hex = n.toString(16);
  if (hex.length % 2 !== 0) hex = '0' + hex;
  const length = hex.length / 2;
  out.ensure(1);
  out.byte(negative ? 0xc3 : 0xc2);
  head(out, 2, length);
  out.ensure(length);
  out.pos += out.buf.write(hex, out.pos, length, 'hex');
}

/** Every float as float64, so none loses precision (and 2.0 stays a float). */
function writeFloat(out: OutputBuffer, v: number): void {
  checkFloat('cbor', v);
  out.ensure(9);
  out.buf[out.pos] = 0xfb;
  out.buf.writeDoubleBE(v, out.pos + 1);
  out.pos += 9;
}

function writeString(out: OutputBuffer, s: string): void {
  if (s.length < 24 && out.asciiWithHead(s, 0x60)) return; // the length in the initial byte
  const length = utf8Length(s, 'cbor');
  head(out, 3, length);
  out.utf8(s, length);
}

function writeArray(out: OutputBuffer, v: readonly unknown[], depthLeft: number): void {
  if (depthLeft === 0) throw tooDeep('cbor', out.maxDepth);
  const n = v.length;
  head(out, 4, n);
  for (let i = 0; i < n; i++) write(out, v[i], depthLeft - 1);
}

function writeMap(out: OutputBuffer, obj: Record<string, unknown>, depthLeft: number): void {
  if (depthLeft === 0) throw tooDeep('cbor', out.maxDepth);
  const keys = Object.keys(obj);
  // The head is written last: a key holding undefined is absent, as JSON.stringify has it.
  const at = out.pos;
  const room = headSize(keys.length);
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
  const end = out.closeHead(at, room, headSize(n));
  putHead(out, 5, n);
  out.pos = end;
}

/** Bytes of the head with argument `n` (a count: below 2^32). */
function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}
