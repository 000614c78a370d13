// The contract between transports and the router: bytes <-> one WAMP message.
// Serializers are pure and do not check message shape; the router does that.
// What they do guarantee: decoding is bounded (nesting depth, linear time and
// size), and whatever one of them decodes, every one of them can encode again
// with the same meaning (see the *-scan.ts files for how each format is held to that).

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
  /**
   * Exactly one value per call; throws SerializationError when undecodable,
   * nested deeper than `maxDepth` (default DEFAULT_MAX_DEPTH), or holding
   * something not every serializer can write (see the serializers).
   */
  decode(data: Buffer | string, maxDepth?: number): unknown;
}

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
    for (const [key, item] of value) setOwn(obj, key as string, mapsToObjects(item));
    return obj;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = mapsToObjects(value[i]);
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

/** obj[key] = value, except that "__proto__" becomes an own property, not a prototype change. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}
