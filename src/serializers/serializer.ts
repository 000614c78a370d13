// The contract between transports and the router: bytes <-> one WAMP message.
// Serializers are pure and do not check message shape; the router does that.

export type SerializerName = 'json' | 'msgpack' | 'cbor';

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
  /** Exactly one value per call; throws SerializationError when undecodable. */
  decode(data: Buffer | string): unknown;
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
