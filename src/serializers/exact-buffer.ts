// What the exact codecs (exact-msgpack.ts, exact-cbor.ts, exact-json.ts)
// share. Foremost the binary encoders' output: one Buffer grown by
// doubling, written in place, and copied out once at the end; it is kept
// between encodes, so a steady stream of payloads allocates only its
// results. Then the checks every encoder makes alike, and the binary
// decoders' string reading.
import { isUtf8 } from 'node:buffer';
import { SerializationError, checkMaxDepth } from './serializer.ts';

const INITIAL = 8192;
// A scratch buffer grown past this by one huge payload is not kept.
const KEEP = 1 << 20;

let scratch: Buffer | undefined = Buffer.allocUnsafe(INITIAL);

/**
 * Bytes written so far in `buf[0, pos)`. Writers call ensure() before each
 * write, with the most the write can take, and then write at `pos` directly.
 */
export class OutputBuffer {
  buf: Buffer;
  pos = 0;

  /** `maxDepth`: the limit of the encode, for its error message. */
  constructor(readonly maxDepth: number) {
    // An encode nested in another (a getter on the input calling encodeItems) takes a buffer of its own.
    this.buf = scratch ?? Buffer.allocUnsafe(INITIAL);
    scratch = undefined;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Writes one byte (room ensured by the caller). */
  byte(v: number): void {
    this.buf[this.pos++] = v;
  }

  /** Writes `bytes` (room ensured here). */
  bytes(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /**
   * Writes `s` after the one-byte head `head | s.length` if it is ASCII
   * (callers keep s.length within the head's range), else nothing: false.
   * Short strings are nearly all ASCII, and a byte loop beats the calls
   * into C++ (Buffer.byteLength, Buffer#write) for them.
   */
  asciiWithHead(s: string, head: number): boolean {
    const length = s.length;
    this.ensure(1 + length);
    const buf = this.buf;
    const at = this.pos + 1;
    for (let i = 0; i < length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return false;
      buf[at + i] = c;
    }
    buf[this.pos] = head | length;
    this.pos = at + length;
    return true;
  }

  /** Writes `s` as UTF-8 of `length` bytes (from utf8Length; room ensured here). */
  utf8(s: string, length: number): void {
    this.ensure(length);
    this.pos += this.buf.write(s, this.pos);
  }

  /**
   * For a head written after its content: `room` bytes were left for it at
   * `at`, and it takes `size` (no more). Moves the content to follow it;
   * returns the end of the content, and leaves `pos` at `at` for the head.
   */
  closeHead(at: number, room: number, size: number): number {
    if (size !== room) {
      this.buf.copyWithin(at + size, at + room, this.pos);
      this.pos -= room - size;
    }
    const end = this.pos;
    this.pos = at;
    return end;
  }

  /** The bytes written, in a Buffer of their own; the scratch buffer is handed back for the next encode. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.release();
    return out;
  }

  /** Hands the scratch buffer back without a result (the encode failed). */
  release(): void {
    if (this.buf.length <= KEEP) scratch = this.buf;
  }
}

/** `items` written back to back by a format's `write` (each within `maxDepth` container levels), in a Buffer of their own. */
export function encodeAll(
  items: readonly unknown[],
  maxDepth: number,
  write: (out: OutputBuffer, value: unknown, depthLeft: number) => void,
): Buffer {
  const out = new OutputBuffer(checkMaxDepth(maxDepth));
  try {
    for (let i = 0; i < items.length; i++) write(out, items[i], maxDepth);
  } catch (err) {
    out.release();
    throw err;
  }
  return out.finish();
}

/**
 * UTF-8 length of `s`. Refuses lone surrogates: UTF-8 cannot carry them
 * (Buffer#write would put U+FFFD in their place). Only a string with a
 * non-ASCII character can hold one, and only then is its byte length other
 * than its length, so ASCII strings cost one native call.
 */
export function utf8Length(s: string, format: string): number {
  const length = Buffer.byteLength(s);
  if (length !== s.length && !(s as unknown as WellFormed).isWellFormed()) {
    throw new SerializationError(`${format}: a string with a lone surrogate (not Unicode text) cannot be written as UTF-8`);
  }
  return length;
}

// String#isWellFormed is in Node 20 (V8 11.3) but not in the ES2022 library typings.
interface WellFormed {
  isWellFormed(): boolean;
}

/**
 * `v` (an object that is none of the other types) as a dict: a plain
 * object, or one without a prototype. Class instances (Date, Map, ...) are
 * refused rather than written as their own enumerable properties.
 */
export function checkDict(format: string, v: object): Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    const name = typeof proto?.constructor === 'function' && proto.constructor.name ? proto.constructor.name : 'non-plain object';
    throw new SerializationError(`${format}: cannot encode a ${name} (a dict must be a plain object)`);
  }
  return v as Record<string, unknown>;
}

/**
 * Integers every format but MessagePack carries, whatever their size: below
 * 10^4300 in magnitude, so of at most 4300 decimal digits, CPython's default
 * int_max_str_digits. JSON writes integers as digits, and the limit keeps
 * turning digits into a bigint cheap (that is superlinear). CBOR bignums of
 * such integers take at most 1786 bytes. Decoders refuse what is beyond, and
 * encoders refuse to write it, so what one format decodes the others can write.
 */
export const MAX_DIGITS = 4300;
/** The first magnitude beyond MAX_DIGITS. */
export const INTEGER_LIMIT = 10n ** BigInt(MAX_DIGITS);

/** Within INTEGER_LIMIT? */
export function withinDigits(v: bigint): boolean {
  return v < INTEGER_LIMIT && v > -INTEGER_LIMIT;
}

/** Floats the formats can all carry: finite ones (JSON has no NaN or Infinity). */
export function checkFloat(format: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new SerializationError(`${format}: cannot encode the float ${String(v)} (only finite floats: JSON has no NaN or Infinity)`);
  }
}

/** An integer for an error message: its digits, unless there are too many to be of use. */
export function describeInteger(v: bigint): string {
  const bits = (v < 0n ? -v : v).toString(16).length * 4;
  return bits <= 256 ? `the integer ${v}` : `an integer of about ${bits} bits`;
}

// Recent map keys by a hash of their bytes. Payloads repeat their keys, and
// a string read afresh must be allocated and then looked up in V8's table
// of property names each time it keys an object; a cached one already is one.
const KEYS: (string | undefined)[] = new Array(4096).fill(undefined);
const MAX_CACHED_KEY = 16;

/** The map key in `b[start, end)` if it is short and ASCII, from the cache; undefined otherwise. */
export function cachedKey(b: Buffer, start: number, end: number): string | undefined {
  const length = end - start;
  if (length > MAX_CACHED_KEY) return undefined;
  let h = length;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c >= 0x80) return undefined;
    h = (h * 31 + c) | 0;
  }
  const slot = (h ^ (h >>> 12)) & 4095;
  const hit = KEYS[slot];
  if (hit !== undefined && hit.length === length) {
    let i = 0;
    while (i < length && hit.charCodeAt(i) === b[start + i]) i++;
    if (i === length) return hit;
  }
  const key = b.toString('latin1', start, end); // ASCII, so latin1 is UTF-8
  KEYS[slot] = key;
  return key;
}

/**
 * The UTF-8 text in `b[start, end)`; SerializationError if it is not valid
 * UTF-8. Short strings are nearly all ASCII, which needs no validation, and
 * the shortest are built here, cheaper than the call into C++.
 */
export function readText(b: Buffer, start: number, end: number, format: string): string {
  if (end - start <= 64) {
    let i = start;
    while (i < end && b[i]! < 0x80) i++;
    if (i === end) {
      if (end - start >= 10) return b.toString('latin1', start, end); // ASCII, so latin1 is UTF-8
      let s = '';
      for (let k = start; k < end; k++) s += String.fromCharCode(b[k]!);
      return s;
    }
  }
  if (!isUtf8(b.subarray(start, end))) throw new SerializationError(`${format}: string is not valid UTF-8`);
  return b.toString('utf8', start, end);
}
