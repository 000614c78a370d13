// wamp.2.msgpack on top of msgpackr, restricted to standard MessagePack that
// every serializer can write back (see msgpack-scan.ts, which checks each message first).
import { Packr, Unpackr } from 'msgpackr';
import type { ElementKind } from '../wamp/payload.ts';
import {
  DEFAULT_MAX_DEPTH,
  PROTO_KEY,
  UNDEFINED,
  binaryInput,
  checkMaxDepth,
  dropUndefined,
  mapsToObjects,
  newTopLevel,
  outboundPayloadIndex,
  payloadIndex,
  readScanned,
  withPayloadValues,
  wrapError,
  joined,
  type ArrayHeads,
  type Pieces,
  type Serializer,
} from './serializer.ts';
import { scanMsgpack } from './msgpack-scan.ts';
import { WirePayload, encodeWithPayload, forwardable, type PayloadCodec } from './encoded-payload.ts';
import * as exact from './exact-msgpack.ts';

export const payloadCodec: PayloadCodec = { name: 'msgpack', decodeItems: exact.decodeItems, encodeItems: exact.encodeItems };
const top = newTopLevel(); // of the message being decoded (decode is synchronous)

const packr = new Packr({
  useRecords: false, // records are a msgpackr-private extension
  variableMapSize: true, // fixmap for small maps (the default is always map16), like other encoders
  encodeUndefinedAsNil: true, // not WAMP data, but better nil than msgpackr's private fixext 0
});

const unpackOptions = {
  useRecords: false,
  int64AsType: 'number', // envelopes only (IDs stay below 2^53); payloads are read by exact-msgpack.ts
  structuredClone: false, // no reference extensions (the scan refuses every extension anyway)
} as const;
const unpackr = new Unpackr({ ...unpackOptions, mapsAsObjects: true });
// For messages with a "__proto__" key, which msgpackr would rename (see mapsToObjects).
const mapUnpackr = new Unpackr({ ...unpackOptions, mapsAsObjects: false });

export const msgpackSerializer: Serializer = {
  name: 'msgpack',
  protocol: 'wamp.2.msgpack',
  rawSocketId: 2,
  binary: true,

  encode(message: unknown[]): Buffer {
    return joined(msgpackSerializer.encodeForWire(message)) as Buffer;
  },

  encodeForWire(message: unknown[]): Buffer | Pieces {
    const at = outboundPayloadIndex(message);
    return at === -1 ? pack(message) : encodeWithPayload(message, at, pack, payloadCodec, ARRAY_HEADS);
  },

  decode(data: Buffer | string, maxDepth = DEFAULT_MAX_DEPTH): unknown {
    return withPayloadValues(msgpackSerializer.decodeRouted(data, maxDepth));
  },

  decodeRouted(data: Buffer | string, maxDepth = DEFAULT_MAX_DEPTH): unknown {
    const bytes = binaryInput('msgpack', data);
    checkMaxDepth(maxDepth);
    try {
      const flags = scanMsgpack(bytes, maxDepth, top);
      const at = payloadIndex(top);
      if (at !== -1) return split(bytes, at, maxDepth, flags);
      return readScanned(bytes, flags, readOne, readOneWithMaps);
    } catch (err) {
      throw wrapError('msgpack: cannot decode', err);
    }
  },
};

function pack(message: unknown[]): Buffer {
  let bytes: Buffer;
  try {
    bytes = packr.pack(message);
  } catch (err) {
    bytes = packAgain(message, err);
  }
  // Only a message with a float64 head byte can need the fix.
  if (bytes.includes(0xcb)) patchWideInts(bytes);
  return bytes;
}

// Module-level, not closures per message: the hot path allocates none.
const readOne = (b: Buffer): unknown => unpackr.unpack(b);
const readOneWithMaps = (b: Buffer): unknown => mapUnpackr.unpack(b);

/** The envelope (elements before `at`) read element by element; the payload kept as it came. */
function split(bytes: Buffer, at: number, maxDepth: number, flags: number): unknown[] {
  const envelopeFlags = top.flagsBefore[at]!;
  const message: unknown[] = [top.code];
  for (let i = 1; i < at; i++) message.push(envelopeValue(bytes, top.starts[i]!, top.starts[i + 1]!, envelopeFlags));
  if (envelopeFlags & UNDEFINED) dropUndefined(message);
  const kinds: ElementKind[] = [];
  for (let i = at; i < top.count; i++) kinds.push(kindOf(bytes[top.starts[i]]!));
  message.push(
    new WirePayload(
      payloadCodec,
      forwardable(payloadCodec, bytes.subarray(top.starts[at]), (flags & UNDEFINED) !== 0, maxDepth),
      kinds,
      maxDepth,
    ),
  );
  return message;
}

/**
 * One envelope element in bytes[start, end) (scanned already): the usual
 * ones (IDs, URIs, empty options) read here, the rest by msgpackr within
 * those bounds. Either way no view of the message is made: msgpackr keeps
 * a DataView on the Buffer it reads, so each new view would cost one.
 */
function envelopeValue(bytes: Buffer, start: number, end: number, flags: number): unknown {
  const t = bytes[start]!;
  if (t < 0x80) return t; // positive fixint
  if (t === 0x80) return {}; // empty fixmap
  if (t >= 0xa0 && t < 0xc0) return bytes.toString('utf8', start + 1, end); // fixstr, UTF-8 checked by the scan
  if (t === 0xce) return bytes.readUInt32BE(start + 1);
  if (t === 0xcf) return bytes.readUInt32BE(start + 1) * 2 ** 32 + bytes.readUInt32BE(start + 5); // a JS number, like int64AsType 'number'
  const bounds = { start, end };
  return flags & PROTO_KEY ? mapsToObjects(mapUnpackr.unpack(bytes, bounds)) : unpackr.unpack(bytes, bounds);
}

function kindOf(t: number): ElementKind {
  if ((t >= 0x90 && t <= 0x9f) || t === 0xdc || t === 0xdd) return 'list';
  if ((t >= 0x80 && t <= 0x8f) || t === 0xde || t === 0xdf) return 'dict';
  if (t >= 0xc4 && t <= 0xc6) return 'binary';
  if ((t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb)) return 'string';
  return 'other';
}

const ARRAY_HEADS: ArrayHeads = { one: 0x90, short: 16, u16: 0xdc, u32: 0xdd };

/**
 * Keys are data, but msgpackr takes an object whose `constructor` is not
 * Object for a class instance, and calls its `toJSON` if it has one: a map
 * with keys "constructor" and "toJSON" (both data) makes it throw. Only then
 * (so the common path pays nothing), such objects go to msgpackr as Maps,
 * which it writes with the same bytes.
 */
function packAgain(message: unknown[], err: unknown): Buffer {
  let retry: unknown;
  try {
    retry = constructorKeysAsMaps(message);
  } catch {
    retry = message; // e.g. a cyclic message: report the first error
  }
  if (retry === message) throw wrapError('msgpack: cannot encode', err);
  try {
    return packr.pack(retry);
  } catch (again) {
    throw wrapError('msgpack: cannot encode', again);
  }
}

/** `value` itself if no object in it has an own "constructor" key; else a copy with those objects as Maps. */
function constructorKeysAsMaps(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const converted = constructorKeysAsMaps(value[i]);
      if (converted !== value[i]) (copy ??= value.slice())[i] = converted;
    }
    return copy ?? value;
  }
  const entries = Object.entries(value).map(([k, v]) => [k, constructorKeysAsMaps(v)] as const);
  if (Object.hasOwn(value, 'constructor')) return new Map(entries);
  return entries.some(([k, v]) => v !== (value as Record<string, unknown>)[k]) ? Object.fromEntries(entries) : value;
}

/** Integers that fit MessagePack's uint64/int64. */
function isWideInt(v: number): boolean {
  return Number.isInteger(v) && v < 2 ** 64 && v >= -(2 ** 63);
}

// Head sizes of the fixed-size types 0xc0..0xdf (0 marks the variable-size ones).
// prettier-ignore
const FIXED_SIZE = [
  1,
  1,
  1,
  1,
  0,
  0,
  0,
  0,
  0,
  0,
  5,
  9,
  2,
  3,
  5,
  9, // c0..cf
  2,
  3,
  5,
  9,
  3,
  4,
  6,
  10,
  18,
  0,
  0,
  0,
  3,
  5,
  3,
  5, // d0..df
];

/**
 * msgpackr writes every integer outside [-2^31, 2^32) as a float64, with no
 * option to change that; but Autobahn|Python rejects a float where an ID is
 * expected, and WAMP IDs go up to 2^53. A float64 (0xcb + 8 bytes) has exactly
 * the size of a uint64 (0xcf) or int64 (0xd3), so such integers are rewritten
 * in place. msgpackr writes integral values in the 32-bit range as ints, so an
 * integral float64 in its output can only be one of these. The walk visits the
 * items in order and skips string/binary/extension payloads, so it never reads
 * data as a head.
 */
function patchWideInts(b: Buffer): void {
  let pos = 0;
  while (pos < b.length) {
    const t = b[pos]!;
    if (t < 0xc0)
      pos += t >= 0xa0 ? 1 + (t & 0x1f) : 1; // fixint, fixmap, fixarray, fixstr
    else if (t >= 0xe0)
      pos += 1; // negative fixint
    else if (t === 0xcb) {
      const v = b.readDoubleBE(pos + 1);
      if (isWideInt(v)) {
        // Two 32-bit words, exact for all such v (BigInt is 3x slower); for
        // v < 0 the high word is negative and >>> 0 gives its two's complement.
        const hi = Math.floor(v / 2 ** 32);
        b[pos] = v >= 0 ? 0xcf : 0xd3;
        b.writeUInt32BE(hi >>> 0, pos + 1);
        b.writeUInt32BE(v - hi * 2 ** 32, pos + 5);
      }
      pos += 9;
    } else if (t === 0xc4 || t === 0xd9)
      pos += 2 + b[pos + 1]!; // bin8, str8
    else if (t === 0xc5 || t === 0xda)
      pos += 3 + b.readUInt16BE(pos + 1); // bin16, str16
    else if (t === 0xc6 || t === 0xdb)
      pos += 5 + b.readUInt32BE(pos + 1); // bin32, str32
    else if (t === 0xc7)
      pos += 3 + b[pos + 1]!; // ext8
    else if (t === 0xc8)
      pos += 4 + b.readUInt16BE(pos + 1); // ext16
    else if (t === 0xc9)
      pos += 6 + b.readUInt32BE(pos + 1); // ext32
    else pos += FIXED_SIZE[t - 0xc0]!;
  }
}
