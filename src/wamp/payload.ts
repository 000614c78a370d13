/**
 * The application payload (Arguments, ArgumentsKw) as the router holds it.
 *
 * A router is a pipe for payloads: it routes on the message code, IDs,
 * options and URI, and forwards the payload as it came. So a serializer
 * decodes a wire message into its envelope and one EncodedPayload standing
 * for every element from the Arguments position on, still encoded; a receiver
 * on the same serializer gets those bytes back, one on another serializer a
 * translation that keeps every value exact, and an in-process session the
 * values (expandPayload).
 *
 * The value model shared by the serializers' exact codecs and in-process
 * sessions: null, booleans, strings, binary (Uint8Array), arrays, dicts
 * (plain objects, keys as own data properties), and numbers:
 *  - an integer is a JS number while it is a safe integer, a bigint beyond;
 *  - a float is a JS number when it is not integral, and a WampFloat when it
 *    is (2.0, 1e300, -0.0), since a JS number cannot say "float" for those.
 * Encoders also take integral JS numbers beyond 2^53 (in-process senders):
 * integers while within [-2^63, 2^64), floats beyond; and -0 as the float -0.0.
 */
import { MessageType as T } from './codes.ts';

/** An integral float value (2.0, -0.0, 1e300) that must stay a float on the wire. */
export class WampFloat {
  constructor(readonly value: number) {}
}

/** Index of the Arguments element by message code, for every message that carries a payload. */
export const PAYLOAD_AT: ReadonlyMap<number, number> = new Map([
  [T.ERROR, 5],
  [T.PUBLISH, 4],
  [T.EVENT, 4],
  [T.CALL, 4],
  [T.RESULT, 3],
  [T.INVOCATION, 4],
  [T.YIELD, 3],
]);

/** What the head of one payload element is, read without decoding it. */
export type ElementKind = 'list' | 'dict' | 'binary' | 'string' | 'other';

/**
 * Payload elements still encoded by the serializer they arrived with.
 * Implemented by the serializers; the core only forwards it, sizes it, and
 * asks for values when an in-process session is the receiver.
 */
export abstract class EncodedPayload {
  /** Serializer name of `data`. */
  abstract readonly format: string;
  /** The elements, encoded back to back (JSON: comma-separated text), without the enclosing array. */
  abstract readonly data: Buffer | string;
  /** The kind of each element: how many there are and whether they have the right shape. */
  abstract readonly kinds: readonly ElementKind[];
  /** The elements decoded to the value model above. Throws SerializationError-like errors. */
  abstract values(): unknown[];
  /** The same payload in memory of its own (not a view into a larger received buffer), for keeping. */
  abstract detached(): EncodedPayload;

  get count(): number {
    return this.kinds.length;
  }

  /** Bytes (JSON: characters) the payload takes. */
  get size(): number {
    return this.data.length;
  }
}

/** Payload elements as values of the model above: an EncodedPayload among them is decoded. */
export function elementValues(elements: readonly unknown[]): unknown[] {
  if (elements.length === 1 && elements[0] instanceof EncodedPayload) return elements[0].values();
  return elements.slice();
}

/**
 * The payload elements of `message` from index `from` on, as plain values
 * (WampFloats as numbers), for receivers that are code, not wire: in-process
 * sessions and the router's own procedures.
 */
export function payloadValues(message: readonly unknown[], from: number): unknown[] {
  return elementValues(message.slice(from)).map(plain);
}

/** `value` with every WampFloat replaced by its number; containers copied only where one was found. */
export function plain(value: unknown): unknown {
  if (value instanceof WampFloat) return value.value;
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = plain(value[i]);
      if (v !== value[i]) (copy ??= value.slice())[i] = v;
    }
    return copy ?? value;
  }
  const obj = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(obj)) {
    const v = plain(obj[key]);
    if (v !== obj[key]) {
      copy ??= { ...obj };
      Object.defineProperty(copy, key, { value: v, writable: true, enumerable: true, configurable: true });
    }
  }
  return copy ?? value;
}

/**
 * Options of payload passthru (PPT, WAMP advanced profile: ppt_*) and of
 * Autobahn's payload transparency (enc_*, what Crossbar speaks). They tell
 * the receiver how to read an opaque payload, so the router forwards them
 * from CALL, YIELD, PUBLISH and ERROR to the INVOCATION, RESULT, EVENT and
 * ERROR it sends, unchanged.
 */
export const PASSTHRU_KEYS = ['ppt_scheme', 'ppt_serializer', 'ppt_cipher', 'ppt_keyid', 'enc_algo', 'enc_key', 'enc_serializer'] as const;

/** `details` with the passthru options of `options` added (own string values only); `details` itself when there are none. */
export function withPassthru(details: Record<string, unknown>, options: Record<string, unknown>): Record<string, unknown> {
  let out = details;
  for (const key of PASSTHRU_KEYS) {
    if (Object.hasOwn(options, key) && typeof options[key] === 'string') {
      if (out === details) out = { ...details };
      out[key] = options[key];
    }
  }
  return out;
}
