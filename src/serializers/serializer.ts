// The contract between transports and the router: bytes <-> one WAMP message.
// Serializers are pure and do not check message shape; the router does that.
// What they do guarantee: decoding is bounded (nesting depth, linear time and
// size), and whatever one of them decodes, every one of them can encode again
// with the same meaning (see the *-scan.ts files for how each format is held
// to that), with one exception: an integer beyond 64 bits (CBOR bignums, JSON
// digits) has no MessagePack form, and encoding it throws SerializationError.
// A message that carries a payload decodes into its envelope (code, IDs,
// options, URI: what routing needs, as JS values) and one EncodedPayload for
// the Arguments and ArgumentsKw, kept as they arrived (see encoded-payload.ts
// and src/wamp/payload.ts). Envelope integers are JS numbers (WAMP IDs stay
// below 2^53); payload values are exact.

import { isUtf8 } from 'node:buffer';
import { EncodedPayload, PAYLOAD_AT } from '../wamp/payload.ts';

export type SerializerName = 'json' | 'msgpack' | 'cbor';

/**
 * Default nesting limit for decode. The message array itself is depth 1, so
 * `[1, [2]]` has depth 2. The libraries (and the router's own passes over a
 * message) recurse, so this also bounds their stack use.
 */
export const DEFAULT_MAX_DEPTH = 64;

export interface Serializer {
  readonly name: SerializerName;
  /** WebSocket subprotocol, e.g. 'wamp.2.json'. */
  readonly protocol: string;
  /** RawSocket serializer id: json 1, msgpack 2, cbor 3. */
  readonly rawSocketId: number;
  /** true: send binary WebSocket frames; false: text frames (JSON). */
  readonly binary: boolean;
  /** JSON returns a string, the binary serializers a Buffer. Throws SerializationError. */
  encode(message: unknown[]): Buffer | string;
  /** As `encode`, but a binary message with a large payload may come in Pieces: what transports write. */
  encodeForWire(message: unknown[]): Encoded;
  /**
   * What the router reads: exactly one message per call, where one with a
   * payload is its envelope plus one EncodedPayload in place of Arguments and
   * ArgumentsKw. Throws SerializationError when undecodable, nested deeper
   * than `maxDepth` (default DEFAULT_MAX_DEPTH), or holding something outside
   * the value model (see the scans).
   */
  decodeRouted(data: Buffer | string, maxDepth?: number): unknown;
  /** The whole message, the payload as values of the exact model (src/wamp/payload.ts): for clients and tools. */
  decode(data: Buffer | string, maxDepth?: number): unknown;
}

/** Where the elements of a message array start, as a scan found them (the first `starts.length` of them). */
export interface TopLevel {
  /** Elements in the message array; -1 when the message is not a plain array. */
  count: number;
  /** The message code, when it is a small unsigned integer (every WAMP code is); else -1. */
  code: number;
  /** Index of the Arguments element for the message's code (PAYLOAD_AT), or -1. */
  payloadAt: number;
  /** Offset of each element. */
  readonly starts: Int32Array;
  /** The scan's flags (PROTO_KEY, UNDEFINED) before each element: those of the envelope are those before the payload. */
  readonly flagsBefore: Uint8Array;
}

/** A scan's result flags: some map key may be "__proto__" (see mapsToObjects); */
export const PROTO_KEY = 1;
/** some value is undefined (see dropUndefined). */
export const UNDEFINED = 2;

/** A library's reading of scanned bytes: through Maps when a key may be "__proto__", and without undefined. */
export function readScanned<T>(bytes: Buffer, flags: number, read: (b: Buffer) => T, readMaps: (b: Buffer) => T): T {
  if (flags === 0) return read(bytes);
  const value = flags & PROTO_KEY ? (mapsToObjects(readMaps(bytes)) as T) : read(bytes);
  return flags & UNDEFINED ? (dropUndefined(value) as T) : value;
}

/** A scan starts on a message array of `count` elements. */
export function beginTop(top: TopLevel, count: number): void {
  top.count = count;
  top.code = -1;
  top.payloadAt = -1;
}

/** A scan reached element `i` at `pos`, with `flags` so far. */
export function recordElement(top: TopLevel, i: number, pos: number, flags: number): void {
  if (i >= top.starts.length) return;
  top.starts[i] = pos;
  top.flagsBefore[i] = flags;
}

/** A scan read the message code (-1: not a small unsigned integer); the Arguments position follows from it. */
export function recordCode(top: TopLevel, code: number): void {
  top.code = code;
  top.payloadAt = PAYLOAD_AT.get(code) ?? -1;
}

export function newTopLevel(): TopLevel {
  return { count: -1, code: -1, payloadAt: -1, starts: new Int32Array(8), flagsBefore: new Uint8Array(8) };
}

/** Does the scanned message split into an envelope and a payload? Then returns the payload's index. */
export function payloadIndex(top: TopLevel): number {
  const k = top.payloadAt;
  return k > 0 && top.count > k && top.count <= top.starts.length ? k : -1;
}

/** The message a serializer is asked to encode: its Arguments index when it has a payload, else -1. */
export function outboundPayloadIndex(message: readonly unknown[]): number {
  if (!Array.isArray(message)) return -1;
  const k = PAYLOAD_AT.get(message[0] as number);
  return k !== undefined && message.length > k ? k : -1;
}

/** decodeRouted's result with its EncodedPayload, if any, read into values. */
export function withPayloadValues(message: unknown): unknown {
  if (!Array.isArray(message) || !(message[message.length - 1] instanceof EncodedPayload)) return message;
  const payload = message.pop() as EncodedPayload;
  message.push(...payload.values());
  return message;
}

/** Nesting allowed when encoding a payload an in-process session built (the wire's was bounded at decode); also stops cycles. */
export const ENCODE_MAX_DEPTH = 512;

export class SerializationError extends Error {
  override name = 'SerializationError';
}

/** Wraps whatever a library threw, so callers only ever see SerializationError. */
export function wrapError(what: string, err: unknown): SerializationError {
  if (err instanceof SerializationError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new SerializationError(`${what}: ${detail}`, { cause: err });
}

export function tooDeep(name: SerializerName, maxDepth: number): SerializationError {
  return new SerializationError(`${name}: nesting deeper than ${maxDepth}`);
}

/** A Buffer view of any Uint8Array (no copy), since the router expects Buffers for binary. */
export function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** Input check shared by the binary serializers: bytes only, and not empty. */
export function binaryInput(name: SerializerName, data: Buffer | string): Buffer {
  if (!(data instanceof Uint8Array)) {
    throw new SerializationError(`${name}: expected binary data, got ${typeof data}`);
  }
  if (data.length === 0) throw new SerializationError(`${name}: empty message`);
  return asBuffer(data);
}

/** Checked once per decode, so a bad limit fails loudly instead of disabling the check. */
export function checkMaxDepth(maxDepth: number): number {
  if (!Number.isInteger(maxDepth) || maxDepth < 1) throw new RangeError(`maxDepth must be a positive integer, got ${maxDepth}`);
  return maxDepth;
}

/**
 * Keys are data: msgpackr and cbor-x rename a map key "__proto__" to
 * "__proto_" (their guard against prototype pollution), which corrupts it.
 * So a message with such a key is decoded into Maps instead, and this turns
 * them into plain objects where every key, "__proto__" included, is an own
 * data property, as JSON.parse makes it. Recursion is bounded by the depth limit.
 */
export function mapsToObjects(value: unknown): unknown {
  if (value instanceof Map) {
    const obj: Record<string, unknown> = {};
    for (const [key, item] of value) {
      const v = typeof item === 'object' && item !== null ? mapsToObjects(item) : item;
      if (key === '__proto__') Object.defineProperty(obj, key, { value: v, writable: true, enumerable: true, configurable: true });
      else obj[key as string] = v;
    }
    return obj;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = mapsToObjects(value[i]);
  }
  return value;
}

/**
 * Undefined is not WAMP data, but clients on msgpackr and cbor-x send it
 * (for an option they leave unset). It gets the meaning JSON.stringify gives
 * it, so every serializer writes the message alike: a map entry holding it
 * is absent, an array element (or the whole message) is null. In place;
 * recursion is bounded by the depth limit.
 */
export function dropUndefined(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = dropUndefined(value[i]);
  } else {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (obj[key] === undefined) delete obj[key];
      else dropUndefined(obj[key]);
    }
  }
  return value;
}

const PROTO = Buffer.from('__proto__');

/** Are the 9 bytes at `start` "__proto__"? Byte by byte, since a subarray would allocate. */
export function isProtoAt(b: Buffer, start: number): boolean {
  if (start + 9 > b.length) return false;
  for (let i = 0; i < 9; i++) if (b[start + i] !== PROTO[i]) return false;
  return true;
}

/**
 * Are the bytes b[start, end) (within b) UTF-8? Short strings go through a
 * loop that stops at the first non-ASCII byte; longer ones, or non-ASCII
 * ones, through the native, vectorized check (making its view costs more
 * than the loop for a few dozen bytes).
 */
export function isUtf8Range(b: Buffer, start: number, end: number): boolean {
  if (end - start <= 64) {
    let i = start;
    while (i < end && b[i]! < 0x80) i++;
    if (i === end) return true;
  }
  return isUtf8(b.subarray(start, end));
}

/** How a binary format writes an array head: one byte (`one` | count) below `short`, else a marker and a 16- or 32-bit count. */
export interface ArrayHeads {
  readonly one: number;
  readonly short: number;
  readonly u16: number;
  readonly u32: number;
}

/**
 * An encoded message in pieces that the transport writes one after another.
 * A large forwarded payload stays the buffer it arrived in: joining it to its
 * envelope costs one new out-of-heap buffer per message, and from about
 * 16 KiB such buffers drove V8 into a major GC every few dozen messages
 * (`--trace-gc`: 30-50 Mark-Compacts in 3 s of MessagePack RPC, against 1).
 */
export class Pieces {
  readonly length: number;

  constructor(readonly parts: readonly Buffer[]) {
    let length = 0;
    for (const part of parts) length += part.length;
    this.length = length;
  }

  joined(): Buffer {
    return Buffer.concat(this.parts as Buffer[], this.length);
  }
}

/** What a transport writes for one message: text (JSON), bytes, or bytes in pieces. */
export type Encoded = Buffer | string | Pieces;

/** A whole message's bytes or text, for callers that want one value (tools, clients). */
export function joined(data: Encoded): Buffer | string {
  return data instanceof Pieces ? data.joined() : data;
}

/** Payloads from this size on are written as their own piece (see Pieces); below it a copy is cheaper than a second write. */
export const OWN_PIECE_FROM = 4096;

/**
 * One array of `count` elements: the envelope's (its one-byte head dropped)
 * and the payload's, in one allocation, or as [head and envelope, payload]
 * when the payload is large. A message has a handful of elements, but any
 * count gets the right head.
 */
export function joinedArray(heads: ArrayHeads, count: number, envelope: Buffer, payload: Buffer): Buffer | Pieces {
  const head = count < heads.short ? 1 : count < 0x10000 ? 3 : 5;
  const own = payload.length >= OWN_PIECE_FROM;
  const out = Buffer.allocUnsafe(head + envelope.length - 1 + (own ? 0 : payload.length));
  if (head === 1) out[0] = heads.one | count;
  else if (head === 3) {
    out[0] = heads.u16;
    out.writeUInt16BE(count, 1);
  } else {
    out[0] = heads.u32;
    out.writeUInt32BE(count, 1);
  }
  envelope.copy(out, head, 1);
  if (own) return new Pieces([out, payload]);
  payload.copy(out, head + envelope.length - 1);
  return out;
}
