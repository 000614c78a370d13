// wamp.2.cbor on top of cbor-x, restricted to plain CBOR data that every
// serializer can write back (see cbor-scan.ts, which checks each message first).
import { Decoder, Encoder, type Options } from 'cbor-x';
import type { ElementKind } from '../wamp/payload.ts';
import {
  DEFAULT_MAX_DEPTH,
  UNDEFINED,
  binaryInput,
  checkMaxDepth,
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
import { applyEdits, scanCbor } from './cbor-scan.ts';
import { WirePayload, encodeWithPayload, forwardable, type PayloadCodec } from './encoded-payload.ts';
import * as exact from './exact-cbor.ts';

export const payloadCodec: PayloadCodec = { name: 'cbor', decodeItems: exact.decodeItems, encodeItems: exact.encodeItems };
const top = newTopLevel(); // of the message being decoded (decode is synchronous)

const encoder = new Encoder({
  useRecords: false, // records are a cbor-x-private extension
  mapsAsObjects: true,
  variableMapSize: true, // minimal map heads (default is always 16-bit)
  tagUint8Array: false, // plain byte strings; the default wraps Uint8Array in tag 64
  pack: false, // no packed/shared values (tags 51/6)
  bundleStrings: false, // no private string bundles
  useFloat32: 0, // non-integers always float64: no rounding to float32
});

const decodeOptions = {
  useRecords: false,
  // Not BigInt (an option missing from cbor-x's typings): envelopes only, whose
  // IDs stay below 2^53; payloads are read by exact-cbor.ts.
  int64AsNumber: true,
} as Options;
const decoder = new Decoder({ ...decodeOptions, mapsAsObjects: true });
// For messages with a "__proto__" key, which cbor-x would rename (see mapsToObjects).
const mapDecoder = new Decoder({ ...decodeOptions, mapsAsObjects: false });

// Ranges scanCbor wants rewritten; reused (decode is synchronous), empty for most messages.
const edits: number[] = [];

export const cborSerializer: Serializer = {
  name: 'cbor',
  protocol: 'wamp.2.cbor',
  rawSocketId: 3,
  binary: true,

  encode(message: unknown[]): Buffer {
    return joined(cborSerializer.encodeForWire(message)) as Buffer;
  },

  encodeForWire(message: unknown[]): Buffer | Pieces {
    const at = outboundPayloadIndex(message);
    return at === -1 ? encode(message) : encodeWithPayload(message, at, encode, payloadCodec, ARRAY_HEADS);
  },

  decode(data: Buffer | string, maxDepth = DEFAULT_MAX_DEPTH): unknown {
    return withPayloadValues(cborSerializer.decodeRouted(data, maxDepth));
  },

  decodeRouted(data: Buffer | string, maxDepth = DEFAULT_MAX_DEPTH): unknown {
    const bytes = binaryInput('cbor', data);
    checkMaxDepth(maxDepth);
    if (edits.length !== 0) edits.length = 0; // setting length is slow even on an empty array
    try {
      const flags = scanCbor(bytes, maxDepth, edits, top);
      const at = payloadIndex(top);
      if (at !== -1) return split(bytes, at, maxDepth, flags);
      const input = edits.length === 0 ? bytes : applyEdits(bytes, edits);
      return readScanned(input, flags, readOne, readOneWithMaps);
    } catch (err) {
      throw wrapError('cbor: cannot decode', err);
    }
  },
};

function encode(message: unknown[]): Buffer {
  let bytes: Buffer;
  try {
    bytes = encoder.encode(message);
  } catch (err) {
    throw wrapError('cbor: cannot encode', err);
  }
  // Only a message with a float64 head byte can need the fix.
  if (bytes.includes(0xfb)) patchWideInts(bytes);
  return bytes;
}

// Module-level, not closures per message: the hot path allocates none.
const readOne = (b: Buffer): unknown => decoder.decode(b);
const readOneWithMaps = (b: Buffer): unknown => mapDecoder.decode(b);
const readSeveral = (b: Buffer) => decoder.decodeMultiple(b) as unknown[];
const readSeveralWithMaps = (b: Buffer) => mapDecoder.decodeMultiple(b) as unknown[];

/** The envelope (elements before `at`) read by cbor-x; the payload kept as it came. */
function split(bytes: Buffer, at: number, maxDepth: number, flags: number): unknown[] {
  const from = top.starts[1]!;
  const to = top.starts[at]!;
  let envelope = bytes.subarray(from, to);
  // The scan's edits that fall in the envelope, relative to it (those in the payload are exact-cbor's business).
  let n = 0;
  while (n < edits.length && edits[n]! < to) n += 2;
  if (n !== 0)
    envelope = applyEdits(
      envelope,
      edits.slice(0, n).map((offset) => offset - from),
    );
  const message = readScanned(envelope, top.flagsBefore[at]!, readSeveral, readSeveralWithMaps);
  message.unshift(top.code);
  const kinds: ElementKind[] = [];
  for (let i = at; i < top.count; i++) kinds.push(kindOf(bytes, top.starts[i]!));
  message.push(
    new WirePayload(payloadCodec, forwardable(payloadCodec, bytes.subarray(to), (flags & UNDEFINED) !== 0, maxDepth), kinds, maxDepth),
  );
  return message;
}

function kindOf(bytes: Buffer, pos: number): ElementKind {
  const initial = bytes[pos]!;
  switch (initial >> 5) {
    case 4:
      return 'list';
    case 5:
      return 'dict';
    case 2:
      return 'binary';
    case 3:
      return 'string';
    case 6: // tag 64 around a byte string (bignums are integers: other)
      return initial === 0xd8 && bytes[pos + 1] === 64 ? 'binary' : 'other';
    default:
      return 'other';
  }
}

const ARRAY_HEADS: ArrayHeads = { one: 0x80, short: 24, u16: 0x99, u32: 0x9a };

/**
 * Integers written as CBOR integers: [-2^63, 2^64), what every serializer
 * carries (CBOR's negative integers would reach -2^64, but decode refuses
 * those, as MessagePack cannot carry them). Beyond, they stay float64.
 */
function isWideInt(v: number): boolean {
  return Number.isInteger(v) && v < 2 ** 64 && v >= -(2 ** 63);
}

/**
 * cbor-x writes every integer outside [-2^32, 2^32) as a float64, with no
 * option to change that (peers such as Autobahn|Python reject float IDs, and
 * WAMP IDs go up to 2^53). A float64 (0xfb + 8 bytes) has exactly the size of a
 * 64-bit unsigned (0x1b) or negative (0x3b) integer, so such integers are
 * rewritten in place. cbor-x writes integral values in the 32-bit range as
 * ints, so an integral float64 in its output can only be one of these. The walk
 * visits the items in order and skips string payloads, so it never reads data as a head.
 */
function patchWideInts(b: Buffer): void {
  let pos = 0;
  while (pos < b.length) {
    const initial = b[pos]!;
    if (initial === 0xfb) {
      const v = b.readDoubleBE(pos + 1);
      if (isWideInt(v)) {
        // The argument is v, or -1 - v for negatives; written as two exact
        // 32-bit words (BigInt is 3x slower). -v is exact, -1 - v may not be.
        const n = v >= 0 ? v : -v;
        let hi = Math.floor(n / 2 ** 32);
        let lo = n - hi * 2 ** 32;
        if (v < 0) {
          if (lo === 0) {
            hi -= 1;
            lo = 2 ** 32;
          }
          lo -= 1;
        }
        b[pos] = v >= 0 ? 0x1b : 0x3b;
        b.writeUInt32BE(hi, pos + 1);
        b.writeUInt32BE(lo, pos + 5);
      }
      pos += 9;
      continue;
    }
    const major = initial >> 5;
    const info = initial & 0x1f;
    // Argument bytes: none below 24 and for indefinite lengths/break (31); cbor-x never writes 28..30.
    const size = info < 24 || info === 31 ? 0 : 1 << (info - 24);
    let payload = 0;
    if ((major === 2 || major === 3) && info !== 31) {
      payload = size === 0 ? info : size === 1 ? b[pos + 1]! : size === 2 ? b.readUInt16BE(pos + 1) : b.readUInt32BE(pos + 1 + size - 4);
    }
    pos += 1 + size + payload;
  }
}
