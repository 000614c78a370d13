// One pass over a CBOR message before cbor-x sees it (RFC 8949), enforcing
// what cbor-x cannot be told to enforce, so no superlinear path in it is reachable:
//  - nesting depth of arrays and maps (cbor-x recurses);
//  - no tags but 64 around a byte string (a Uint8Array, cbor-x's and
//    node-cbor's default; dropped, so it decodes like any byte string),
//    55799 (self-described CBOR, RFC 8949 §3.4.6; cbor-x ignores it), and
//    bignums (2/3) of at most MAX_BIGNUM_BYTES within the payload only, which
//    cbor-x never reads (exact-cbor.ts does, in linear time; cbor-x took 84 s
//    for a 256 KB one). Packed values (51/6) and value sharing (28/29) amplify
//    or alias, and dates, sets, typed arrays and the like are nothing JSON or
//    MessagePack can write;
//  - simple values only false, true, null and undefined, which cbor-x
//    clients send (wampy's SUBSCRIBE options hold `get_retained: undefined`)
//    and which is flagged for dropUndefined; floats only finite ones (JSON
//    has no NaN or Infinity);
//  - integers within [-2^63, 2^64 - 1] in the envelope (what cbor-x reads as
//    numbers); the payload may use all of CBOR's [-2^64, 2^64 - 1];
//  - text strings (keys too) are valid UTF-8, since a payload may be
//    forwarded as it came, and a receiver's decoder must not choke on it;
//  - map keys are text strings (WAMP: dict keys MUST be strings);
//  - exactly one item, and every length fits in the data.
// It also records the edits that make the message plain for cbor-x
// (applyEdits): indefinite-length strings, which cbor-x cannot decode, become
// definite ones, and tag 64 heads are dropped.
// The pass recurses once per container level, checking the depth first, so it
// never goes deeper than the limit (tags add at most two calls: see tag()).
import {
  PROTO_KEY,
  SerializationError,
  UNDEFINED,
  beginTop,
  isProtoAt,
  isUtf8Range,
  newTopLevel,
  payloadIndex,
  recordCode,
  recordElement,
  tooDeep,
  type TopLevel,
} from './serializer.ts';

const TAG_BIGNUM = 2; // RFC 8949 §3.4.3
const TAG_NEGATIVE_BIGNUM = 3;
/** Bignum content at most: 4300 decimal digits, CPython's default limit for int <-> str (JSON writes them as digits). */
export const MAX_BIGNUM_BYTES = 1785;
const TAG_UINT8ARRAY = 64; // RFC 8746 §2
const TAG_SELF_DESCRIBED = 55799; // RFC 8949 §3.4.6
const BREAK = 0xff;

// State of the scan under way.
const scratchTop = newTopLevel(); // for callers that do not ask where the elements are
let flags = 0;
let limit = 0; // its maxDepth, for the message
let edits: number[] = [];
let inPayload = false; // scanning the payload elements of the message

/**
 * Throws SerializationError for anything cbor-x must not see; returns flags
 * (PROTO_KEY). Appends [start, end) ranges to rewrite to `rewrites` (see
 * applyEdits). Fills `top` with where the message's elements start.
 */
export function scanCbor(b: Buffer, maxDepth: number, rewrites: number[], top: TopLevel = scratchTop): number {
  flags = 0;
  limit = maxDepth;
  edits = rewrites;
  inPayload = false;
  top.count = -1;
  const initial = b[0]!;
  const end = initial >> 5 === 4 && (initial & 0x1f) < 28 ? topArray(b, top) : item(b, 0, maxDepth);
  if (end > b.length) throw truncated();
  if (end < b.length) throw new SerializationError('cbor: trailing bytes after the message');
  return flags;
}

/** The message array (definite length): as item(), recording where each element starts and the flags before it. */
function topArray(b: Buffer, top: TopLevel): number {
  if (limit === 0) throw tooDeep('cbor', limit);
  const info = b[0]! & 0x1f;
  const n = argument(b, 1, info);
  let pos = headSize(info, 4);
  if (n > b.length - pos) throw truncated();
  beginTop(top, n);
  let at = -1; // the Arguments index where the decode splits (serializer.ts payloadIndex), so cbor-x never reads what only a payload may hold
  for (let i = 0; i < n; i++) {
    recordElement(top, i, pos, flags);
    if (i === 0) {
      // Every WAMP code is a small unsigned integer: one byte, or 0x18 and one byte.
      recordCode(top, b[pos]! < 24 ? b[pos]! : b[pos] === 0x18 && pos + 1 < b.length ? b[pos + 1]! : -1);
      at = payloadIndex(top);
    }
    inPayload = at !== -1 && i >= at;
    pos = item(b, pos, limit - 1);
  }
  inPayload = false;
  return pos;
}

/** Checks the item at `pos`, within `depthLeft` more container levels; returns the position after it. */
function item(b: Buffer, pos: number, depthLeft: number): number {
  if (pos >= b.length) throw truncated();
  const initial = b[pos]!;
  const info = initial & 0x1f;
  switch (initial >> 5) {
    case 0: // unsigned integer: up to 2^64 - 1, fine
      return info < 24 ? pos + 1 : pos + headSize(info, 0);
    case 1: // negative integer -1 - n: below -2^63 when the top bit of a 64-bit n is set
      if (info === 27 && b[pos + 1]! >= 0x80 && !inPayload)
        throw new SerializationError('cbor: negative integer below -2^63 is not supported outside the payload');
      return info < 24 ? pos + 1 : pos + headSize(info, 1);
    case 2: // byte string
      return info < 24 ? pos + 1 + info : string(b, pos, info, false);
    case 3: // text string; WAMP's JSON reserves a leading U+0000 for binary, so JSON could not write it back
      if (info < 24) return info !== 0 && b[pos + 1] === 0 ? nulString() : utf8(b, pos + 1, info);
      return string(b, pos, info, false);
    case 4:
      if (depthLeft === 0) throw tooDeep('cbor', limit);
      return info < 24
        ? array(b, pos + 1, info, depthLeft - 1)
        : info === 31
          ? openArray(b, pos + 1, depthLeft - 1)
          : array(b, pos + headSize(info, 4), argument(b, pos + 1, info), depthLeft - 1);
    case 5:
      if (depthLeft === 0) throw tooDeep('cbor', limit);
      return info < 24
        ? map(b, pos + 1, info, depthLeft - 1)
        : info === 31
          ? openMap(b, pos + 1, depthLeft - 1)
          : map(b, pos + headSize(info, 5), argument(b, pos + 1, info), depthLeft - 1);
    case 6:
      return tag(b, pos, depthLeft, -1);
    default: // 7: simple values and floats
      if (info >= 20 && info <= 22) return pos + 1; // false, true, null
      if (info === 23) {
        flags |= UNDEFINED;
        return pos + 1;
      }
      simpleOrFloat(b, pos, info);
      return pos + headSize(info, 7);
  }
}

/** Bytes of a head with additional information `info` (24..27), for a major type without indefinite length. */
function headSize(info: number, major: number): number {
  if (info < 24) return 1;
  if (info < 28) return 1 + (1 << (info - 24));
  if (info === 31)
    throw new SerializationError(`cbor: ${major === 7 ? 'unexpected break' : `indefinite length for ${MAJOR_NAMES[major]}`}`);
  throw new SerializationError(`cbor: reserved additional information ${info}`);
}

/** A string at `pos` whose head is not a short one (info 24..27, or 31: indefinite length). */
function string(b: Buffer, pos: number, info: number, isKey: boolean): number {
  const major = b[pos]! >> 5;
  if (info === 31) {
    const end = indefiniteString(b, pos + 1, major);
    edits.push(pos, end);
    // Compared no further: the slow path is right for any key.
    if (isKey && chunksLength(b, pos) === 9) flags |= PROTO_KEY;
    if (major === 3 && !isKey && firstChunkByte(b, pos) === 0) nulString();
    return end;
  }
  const start = pos + headSize(info, 2);
  const length = argument(b, pos + 1, info);
  if (length > b.length - start) throw truncated();
  if (isKey) {
    if (length === 9 && isProtoAt(b, start)) flags |= PROTO_KEY;
  } else if (major === 3 && length !== 0 && b[start] === 0) {
    nulString();
  }
  return major === 3 ? utf8(b, start, length) : start + length;
}

/** Checks that the `length` bytes at `start` are UTF-8; returns the position after them. */
function utf8(b: Buffer, start: number, length: number): number {
  const end = start + length;
  if (end > b.length) throw truncated();
  if (!isUtf8Range(b, start, end)) throw notUtf8();
  return end;
}

/** The `n` items of an array whose head ends at `pos`. */
function array(b: Buffer, pos: number, n: number, depthLeft: number): number {
  if (n > b.length - pos) throw truncated(); // every item takes at least one byte
  for (let i = 0; i < n; i++) pos = item(b, pos, depthLeft);
  return pos;
}

/** The `n` key/value pairs of a map whose head ends at `pos`. */
function map(b: Buffer, pos: number, n: number, depthLeft: number): number {
  if (2 * n > b.length - pos) throw truncated();
  for (let i = 0; i < n; i++) pos = item(b, key(b, pos), depthLeft);
  return pos;
}

function openArray(b: Buffer, pos: number, depthLeft: number): number {
  while (byteAt(b, pos) !== BREAK) pos = item(b, pos, depthLeft);
  return pos + 1;
}

function openMap(b: Buffer, pos: number, depthLeft: number): number {
  while (byteAt(b, pos) !== BREAK) {
    pos = key(b, pos);
    if (byteAt(b, pos) === BREAK) throw new SerializationError('cbor: map key without a value');
    pos = item(b, pos, depthLeft);
  }
  return pos + 1;
}

/** A map key at `pos`: must be a text string; "__proto__" sets PROTO_KEY. */
function key(b: Buffer, pos: number): number {
  const initial = byteAt(b, pos);
  if (initial >> 5 !== 3)
    throw new SerializationError(`cbor: map key must be a text string (WAMP dict keys are strings), got ${MAJOR_NAMES[initial >> 5]}`);
  const info = initial & 0x1f;
  if (info >= 24) return string(b, pos, info, true);
  if (info === 9 && isProtoAt(b, pos + 1)) flags |= PROTO_KEY;
  return utf8(b, pos + 1, info);
}

/**
 * A tag at `pos` and its content. Only 64 (around a byte string) and 55799
 * pass, and 55799 may enclose 64 but no other tag, so tags never nest deeper
 * than two. `outer` is the enclosing tag, or -1.
 */
function tag(b: Buffer, pos: number, depthLeft: number, outer: number): number {
  const info = b[pos]! & 0x1f;
  const content = pos + headSize(info, 6);
  const number = argument(b, pos + 1, info);
  if ((number === TAG_BIGNUM || number === TAG_NEGATIVE_BIGNUM) && inPayload && outer === -1) {
    if (content >= b.length || b[content]! >> 5 !== 2 || (b[content]! & 0x1f) === 31)
      throw tagError(number, 'must enclose a definite byte string');
    const length = argument(b, content + 1, b[content]! & 0x1f);
    if (length > MAX_BIGNUM_BYTES) throw tagError(number, `is longer than ${MAX_BIGNUM_BYTES} bytes`);
    return item(b, content, depthLeft);
  }
  if (number === TAG_UINT8ARRAY) {
    if (content >= b.length || b[content]! >> 5 !== 2) throw tagError(number, 'must enclose a byte string');
    edits.push(pos, content);
    return item(b, content, depthLeft);
  }
  if (number !== TAG_SELF_DESCRIBED || outer !== -1)
    throw tagError(number, outer === -1 ? 'is not supported' : `is not supported (inside tag ${outer})`);
  if (content < b.length && b[content]! >> 5 === 6) return tag(b, content, depthLeft, number);
  return item(b, content, depthLeft);
}

const MAJOR_NAMES = ['unsigned integer', 'negative integer', 'byte string', 'text string', 'array', 'map', 'tag', 'simple value or float'];

/** The argument of the head whose initial byte is at pos - 1; 64-bit ones as approximate numbers. */
function argument(b: Buffer, pos: number, info: number): number {
  if (info < 24) return info;
  if (info > 27) throw new SerializationError(`cbor: reserved additional information ${info}`);
  const size = 1 << (info - 24);
  if (pos + size > b.length) throw truncated();
  if (size === 1) return b[pos]!;
  if (size === 2) return (b[pos]! << 8) | b[pos + 1]!;
  if (size === 4) return b.readUInt32BE(pos);
  return b.readUInt32BE(pos) * 2 ** 32 + b.readUInt32BE(pos + 4);
}

function byteAt(b: Buffer, pos: number): number {
  if (pos >= b.length) throw truncated();
  return b[pos]!;
}

/** Major type 7 at `start`: finite floats pass; everything else but false, true, null (handled by item) is refused. */
function simpleOrFloat(b: Buffer, start: number, info: number): void {
  switch (info) {
    case 25: // half: exponent bits all ones is Infinity or NaN
      if ((b[start + 1]! & 0x7c) === 0x7c) throw nonFinite();
      return;
    case 26: // single
      if ((b[start + 1]! & 0x7f) === 0x7f && (b[start + 2]! & 0x80) === 0x80) throw nonFinite();
      return;
    case 27: // double
      if ((b[start + 1]! & 0x7f) === 0x7f && (b[start + 2]! & 0xf0) === 0xf0) throw nonFinite();
      return;
    case 31:
      throw new SerializationError('cbor: unexpected break');
    default:
      if (info > 27) throw new SerializationError(`cbor: reserved additional information ${info}`);
      // 0..19 unassigned; 24: a one-byte simple value (32..255 unassigned, below 32 not well-formed)
      throw new SerializationError(`cbor: simple value ${info === 24 ? b[start + 1] : info} is not supported`);
  }
}

/** Checks the chunks of an indefinite-length string whose head ends at pos; returns the position after its break. */
function indefiniteString(b: Buffer, pos: number, major: number): number {
  for (;;) {
    if (pos >= b.length) throw truncated();
    const initial = b[pos++]!;
    if (initial === BREAK) return pos;
    const info = initial & 0x1f;
    if (initial >> 5 !== major || info === 31) throw new SerializationError('cbor: invalid chunk in indefinite-length string');
    const length = argument(b, pos, info);
    pos += info < 24 ? 0 : 1 << (info - 24);
    if (length > b.length - pos) throw truncated();
    pos = major === 3 ? utf8(b, pos, length) : pos + length; // each chunk is UTF-8 by itself (RFC 8949 §3.2.3)
  }
}

/** The first byte of the indefinite-length string at `start` (already checked), or -1 if it is empty. */
function firstChunkByte(b: Buffer, start: number): number {
  for (let pos = start + 1; b[pos] !== BREAK; ) {
    const info = b[pos++]! & 0x1f;
    const length = argument(b, pos, info);
    pos += info < 24 ? 0 : 1 << (info - 24);
    if (length !== 0) return b[pos]!;
  }
  return -1;
}

/** Total payload length of the indefinite-length string at `start` (already checked). */
function chunksLength(b: Buffer, start: number): number {
  let total = 0;
  for (let pos = start + 1; b[pos] !== BREAK; ) {
    const info = b[pos++]! & 0x1f;
    const length = argument(b, pos, info);
    pos += (info < 24 ? 0 : 1 << (info - 24)) + length;
    total += length;
  }
  return total;
}

/**
 * Copies `b` with the ranges scanCbor recorded rewritten: a tag head
 * (major 6) is dropped, an indefinite-length string becomes one definite
 * string of its chunks' bytes. The ranges are in order and never overlap.
 * Linear, and without an allocation per chunk (a megabyte may hold a million).
 */
export function applyEdits(b: Buffer, edits: readonly number[]): Buffer {
  const totals: number[] = []; // payload length of each string rewritten
  let size = b.length;
  for (let i = 0; i < edits.length; i += 2) {
    const start = edits[i]!;
    size -= edits[i + 1]! - start;
    if (b[start]! >> 5 !== 6) {
      const total = chunksLength(b, start);
      totals.push(total);
      size += headLength(total) + total;
    }
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  let copied = 0;
  for (let i = 0, s = 0; i < edits.length; i += 2) {
    const start = edits[i]!;
    at += b.copy(out, at, copied, start);
    if (b[start]! >> 5 !== 6) at = joinChunks(b, start, totals[s++]!, out, at);
    copied = edits[i + 1]!;
  }
  b.copy(out, at, copied);
  return out;
}

/** Writes the indefinite-length string at `start` into `out` at `at` as one definite string of `total` bytes; returns the end. */
function joinChunks(b: Buffer, start: number, total: number, out: Buffer, at: number): number {
  const major = b[start]! >> 5;
  const h = headLength(total);
  out[at] = (major << 5) | (h === 1 ? total : h === 2 ? 24 : h === 3 ? 25 : 26);
  if (h === 2) out[at + 1] = total;
  else if (h === 3) out.writeUInt16BE(total, at + 1);
  else if (h === 5) out.writeUInt32BE(total, at + 1);
  at += h;
  for (let pos = start + 1; b[pos] !== BREAK; ) {
    const info = b[pos++]! & 0x1f;
    const length = argument(b, pos, info);
    pos += info < 24 ? 0 : 1 << (info - 24);
    if (length < 16)
      for (let k = 0; k < length; k++) out[at++] = b[pos + k]!; // cheaper than a copy call
    else at += b.copy(out, at, pos, pos + length);
    pos += length;
  }
  return at;
}

/** Bytes of the head of a string of `length` bytes (messages are far below 4 GiB). */
function headLength(length: number): number {
  return length < 24 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

// Tag names for the messages (IANA CBOR tags registry), for the tags a peer is likely to send.
const TAG_NAMES: Record<number, string> = {
  0: 'date/time string',
  1: 'epoch date/time',
  2: 'bignum',
  3: 'negative bignum',
  4: 'decimal fraction',
  5: 'bigfloat',
  6: 'cbor-x packed reference',
  21: 'base64url expected',
  22: 'base64 expected',
  23: 'base16 expected',
  24: 'embedded CBOR',
  25: 'string reference',
  28: 'shareable value',
  29: 'shared reference',
  32: 'URI',
  33: 'base64url',
  34: 'base64',
  35: 'regexp',
  36: 'MIME message',
  51: 'cbor-x packed values',
  256: 'string reference namespace',
  258: 'set',
  259: 'map with object keys',
  55799: 'self-described CBOR',
};

function tagError(tag: number, what: string): SerializationError {
  const name = TAG_NAMES[tag] ?? (tag >= 64 && tag <= 87 ? 'typed array' : tag >= 0xe000 && tag <= 0xe0ff ? 'cbor-x record' : undefined);
  return new SerializationError(`cbor: tag ${tag}${name ? ` (${name})` : ''} ${what}`);
}

function nulString(): never {
  throw new SerializationError('cbor: a text string starting with U+0000 is not supported (in JSON it would be binary)');
}

function notUtf8(): SerializationError {
  return new SerializationError('cbor: a text string is not valid UTF-8');
}

function nonFinite(): SerializationError {
  return new SerializationError('cbor: NaN and Infinity are not supported (JSON cannot carry them)');
}

function truncated(): SerializationError {
  return new SerializationError('cbor: unexpected end of data');
}
