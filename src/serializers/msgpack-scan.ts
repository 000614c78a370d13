// One pass over a MessagePack message before msgpackr sees it, enforcing what
// msgpackr cannot be told to enforce:
//  - nesting depth (msgpackr recurses, so deep input would overflow the stack);
//  - no extension types (fixext, ext 8/16/32, timestamp -1 included) and not
//    the never-used byte 0xc1: no other serializer can write them. The one
//    exception is msgpackr's undefined (d4 00 00), flagged for dropUndefined;
//  - finite floats only (JSON has no NaN or Infinity);
//  - no string value starting with U+0000 (WAMP's JSON marks binary so), and
//    strings (keys too) are valid UTF-8: a payload may be forwarded as it
//    came, and a receiver's decoder must not choke on it;
//  - map keys are strings (WAMP: dict keys MUST be strings);
//  - exactly one item, and every length fits in the data, so a forged
//    array32 head cannot make msgpackr allocate a huge array.
// Integers need no check: uint64/int64 are the widest MessagePack has.
// The pass recurses once per container level, checking the depth first, so
// it never goes deeper than the limit. (Recursion measured faster than an
// explicit stack here.) Spec: https://github.com/msgpack/msgpack/blob/master/spec.md
import {
  PROTO_KEY,
  SerializationError,
  UNDEFINED,
  beginTop,
  isProtoAt,
  isUtf8Range,
  newTopLevel,
  recordCode,
  recordElement,
  tooDeep,
  type TopLevel,
} from './serializer.ts';

// msgpackr's (and notepack's) undefined: fixext 1, type 0, data 0. Clients
// built on msgpackr send it (wampy's SUBSCRIBE options hold `get_retained:
// undefined`), so it is the one extension accepted; JSON drops such values.
const UNDEFINED_EXT = 0xd4;

const scratchTop = newTopLevel(); // for callers that do not ask where the elements are
let flags = 0; // of the scan under way
let limit = 0; // its maxDepth, for the message

/**
 * Throws SerializationError for anything msgpackr must not see; returns flags
 * (PROTO_KEY, UNDEFINED). Fills `top` with where the message's elements start.
 */
export function scanMsgpack(b: Buffer, maxDepth: number, top: TopLevel = scratchTop): number {
  flags = 0;
  limit = maxDepth;
  top.count = -1;
  const t = b[0]!;
  const end =
    t >= 0x90 && t <= 0x9f
      ? topArray(b, 1, t & 0x0f, top)
      : t === 0xdc
        ? topArray(b, 3, uint16At(b, 1), top)
        : t === 0xdd
          ? topArray(b, 5, uint32At(b, 1), top)
          : item(b, 0, maxDepth);
  if (end > b.length) throw truncated();
  if (end < b.length) throw new SerializationError('msgpack: trailing bytes after the message');
  return flags;
}

/** The message array: array(), recording where each element starts and the flags before it. */
function topArray(b: Buffer, pos: number, n: number, top: TopLevel): number {
  if (limit === 0) throw tooDeep('msgpack', limit);
  if (n > b.length - pos) throw truncated();
  beginTop(top, n);
  for (let i = 0; i < n; i++) {
    recordElement(top, i, pos, flags);
    if (i === 0) recordCode(top, b[pos]! < 0x80 ? b[pos]! : -1); // every WAMP code is a positive fixint
    pos = item(b, pos, limit - 1);
  }
  return pos;
}

/** Checks the item at `pos`, within `depthLeft` more container levels; returns the position after it. */
function item(b: Buffer, pos: number, depthLeft: number): number {
  if (pos >= b.length) throw truncated();
  const t = b[pos]!;
  if (t < 0x80) return pos + 1; // positive fixint
  if (t >= 0xa0) {
    if (t < 0xc0) return text(b, pos + 1, t & 0x1f); // fixstr
    if (t >= 0xe0) return pos + 1; // negative fixint
    const size = SCALAR_SIZE[t - 0xc0]!;
    return size !== 0 ? pos + size : other(b, pos, t, depthLeft);
  }
  if (t < 0x90) return map(b, pos + 1, t & 0x0f, depthLeft); // fixmap
  return array(b, pos + 1, t & 0x0f, depthLeft); // fixarray
}

// Sizes of the plain scalars among 0xc0..0xdf (nil, false, true, the ints);
// 0 for the others, which other() handles.
// prettier-ignore
const SCALAR_SIZE = new Uint8Array([
  1,
  0,
  1,
  1,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  2,
  3,
  5,
  9, // c0..cf
  2,
  3,
  5,
  9,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0, // d0..df
]);

/** The other types with a head byte 0xc0..0xdf. */
function other(b: Buffer, pos: number, t: number, depthLeft: number): number {
  switch (t) {
    case 0xc4: // bin 8/16/32
      return pos + 2 + byteAt(b, pos + 1);
    case 0xc5:
      return pos + 3 + uint16At(b, pos + 1);
    case 0xc6:
      return pos + 5 + uint32At(b, pos + 1);
    case 0xd9: // str 8/16/32
      return text(b, pos + 2, byteAt(b, pos + 1));
    case 0xda:
      return text(b, pos + 3, uint16At(b, pos + 1));
    case 0xdb:
      return text(b, pos + 5, uint32At(b, pos + 1));
    case 0xca: // float32: all exponent bits set is Infinity or NaN
      if ((b[pos + 1]! & 0x7f) === 0x7f && (b[pos + 2]! & 0x80) === 0x80) throw nonFinite();
      return pos + 5;
    case 0xcb: // float64
      if ((b[pos + 1]! & 0x7f) === 0x7f && (b[pos + 2]! & 0xf0) === 0xf0) throw nonFinite();
      return pos + 9;
    case 0xdc:
      return array(b, pos + 3, uint16At(b, pos + 1), depthLeft);
    case 0xdd:
      return array(b, pos + 5, uint32At(b, pos + 1), depthLeft);
    case 0xde:
      return map(b, pos + 3, uint16At(b, pos + 1), depthLeft);
    case 0xdf:
      return map(b, pos + 5, uint32At(b, pos + 1), depthLeft);
    case 0xc1:
      throw new SerializationError('msgpack: never-used byte 0xc1');
    case UNDEFINED_EXT:
      if (b[pos + 1] === 0 && b[pos + 2] === 0) {
        flags |= UNDEFINED;
        return pos + 3;
      }
      throw extension(b, pos, t);
    default: // 0xc7..0xc9 ext 8/16/32, 0xd4..0xd8 fixext
      throw extension(b, pos, t);
  }
}

/** The `n` items of an array whose head ends at `pos`. */
function array(b: Buffer, pos: number, n: number, depthLeft: number): number {
  if (depthLeft === 0) throw tooDeep('msgpack', limit);
  if (n > b.length - pos) throw truncated(); // every item takes at least one byte
  for (let i = 0; i < n; i++) {
    const t = b[pos]!; // undefined past the end: item() reports that
    if (t < 0x80 || t >= 0xe0)
      pos += 1; // fixints and fixstrs inline, for speed
    else if (t >= 0xa0 && t < 0xc0) pos = text(b, pos + 1, t & 0x1f);
    else pos = item(b, pos, depthLeft - 1);
  }
  return pos;
}

/** The `n` key/value pairs of a map whose head ends at `pos`. */
function map(b: Buffer, pos: number, n: number, depthLeft: number): number {
  if (depthLeft === 0) throw tooDeep('msgpack', limit);
  if (2 * n > b.length - pos) throw truncated();
  for (let i = 0; i < n; i++) {
    if (pos >= b.length) throw truncated();
    const t = b[pos]!;
    if (t >= 0xa0 && t < 0xc0) {
      // fixstr, nearly every key
      if (t === 0xa9 && isProtoAt(b, pos + 1)) flags |= PROTO_KEY;
      pos = utf8(b, pos + 1, t & 0x1f);
    } else {
      pos = longKey(b, pos, t);
    }
    const v = b[pos]!;
    if (v < 0x80 || v >= 0xe0)
      pos += 1; // as in array()
    else if (v >= 0xa0 && v < 0xc0) pos = text(b, pos + 1, v & 0x1f);
    else pos = item(b, pos, depthLeft - 1);
  }
  return pos;
}

/**
 * A string value of `length` bytes at `start`. WAMP's JSON reserves strings
 * starting with U+0000 for binary, so JSON could not write this one back as
 * a string: refused. (Keys are never binary, so they may start with it.)
 */
function text(b: Buffer, start: number, length: number): number {
  return length !== 0 && b[start] === 0 ? nulString() : utf8(b, start, length);
}

/** Checks that the `length` bytes at `start` are UTF-8; returns the position after them. */
function utf8(b: Buffer, start: number, length: number): number {
  const end = start + length;
  if (end > b.length) throw truncated();
  if (!isUtf8Range(b, start, end)) throw notUtf8();
  return end;
}

/** A map key that is not a fixstr: must be a str 8/16/32. */
function longKey(b: Buffer, pos: number, t: number): number {
  let start: number;
  let length: number;
  if (t === 0xd9) {
    start = pos + 2;
    length = byteAt(b, pos + 1);
  } else if (t === 0xda) {
    start = pos + 3;
    length = uint16At(b, pos + 1);
  } else if (t === 0xdb) {
    start = pos + 5;
    length = uint32At(b, pos + 1);
  } else throw new SerializationError(`msgpack: map key must be a string (WAMP dict keys are strings), got type byte 0x${t.toString(16)}`);
  if (length === 9 && isProtoAt(b, start)) flags |= PROTO_KEY;
  return utf8(b, start, length);
}

// Reads past the end are truncation: the lengths they would give are never trusted.
function byteAt(b: Buffer, pos: number): number {
  if (pos >= b.length) throw truncated();
  return b[pos]!;
}

function uint16At(b: Buffer, pos: number): number {
  if (pos + 2 > b.length) throw truncated();
  return (b[pos]! << 8) | b[pos + 1]!;
}

function uint32At(b: Buffer, pos: number): number {
  if (pos + 4 > b.length) throw truncated();
  return b.readUInt32BE(pos);
}

function extension(b: Buffer, pos: number, t: number): SerializationError {
  const typeAt = t >= 0xd4 ? pos + 1 : pos + 1 + (1 << (t - 0xc7)); // fixext, or after the 1/2/4-byte length of ext 8/16/32
  const type = typeAt < b.length ? (b[typeAt]! << 24) >> 24 : undefined; // signed
  const name = type === -1 ? ' (timestamp)' : '';
  return new SerializationError(`msgpack: extension type ${type ?? '?'}${name} is not supported`);
}

function nulString(): never {
  throw new SerializationError('msgpack: a string starting with U+0000 is not supported (in JSON it would be binary)');
}

function notUtf8(): SerializationError {
  return new SerializationError('msgpack: a string is not valid UTF-8');
}

function nonFinite(): SerializationError {
  return new SerializationError('msgpack: NaN and Infinity are not supported (JSON cannot carry them)');
}

function truncated(): SerializationError {
  return new SerializationError('msgpack: unexpected end of data');
}
