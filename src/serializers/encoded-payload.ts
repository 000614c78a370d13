// The serializers' EncodedPayload: the payload elements of a received message
// as they arrived, with the exact codec of their format to read them and to
// translate them into another format when a receiver speaks that one.
import { EncodedPayload, type ElementKind } from '../wamp/payload.ts';
import { ENCODE_MAX_DEPTH, joinedArray, wrapError, type ArrayHeads, type Pieces, type SerializerName } from './serializer.ts';

/** A format's exact codec over payload elements written back to back (see exact-*.ts). */
export interface PayloadCodec {
  readonly name: SerializerName;
  decodeItems(data: Buffer | string, maxDepth: number): unknown[];
  encodeItems(items: readonly unknown[], maxDepth: number): Buffer | string;
}

export class WirePayload extends EncodedPayload {
  /** Translations made so far, by format: an event fanned out to many receivers is translated once per format. */
  private translations: Map<SerializerName, Buffer | string> | undefined;

  constructor(
    private readonly codec: PayloadCodec,
    readonly data: Buffer | string,
    readonly kinds: readonly ElementKind[],
    /** The nesting limit the message was decoded under, for reading it again. */
    private readonly maxDepth: number,
  ) {
    super();
  }

  get format(): SerializerName {
    return this.codec.name;
  }

  values(): unknown[] {
    return this.codec.decodeItems(this.data, this.maxDepth);
  }

  detached(): WirePayload {
    // A string owns its characters; a Buffer may be a view into a larger socket read.
    if (typeof this.data === 'string' || this.data.byteLength === this.data.buffer.byteLength) return this;
    return new WirePayload(this.codec, Buffer.from(this.data), this.kinds, this.maxDepth);
  }

  /** The elements as `target` writes them: the bytes that arrived, or a translation of them (remembered). */
  encodedFor(target: PayloadCodec): Buffer | string {
    if (target.name === this.codec.name) return this.data;
    let data = this.translations?.get(target.name);
    if (data === undefined) {
      data = target.encodeItems(this.values(), this.maxDepth);
      (this.translations ??= new Map()).set(target.name, data);
    }
    return data;
  }
}

/** The payload elements of an outbound message as `target` writes them, and how many there are. */
export function payloadFor(
  message: readonly unknown[],
  at: number,
  target: PayloadCodec,
  maxDepth: number,
): { data: Buffer | string; count: number } {
  const first = message[at];
  if (first instanceof WirePayload && message.length === at + 1) return { data: first.encodedFor(target), count: first.count };
  if (first instanceof EncodedPayload) throw new TypeError('an EncodedPayload from elsewhere cannot be encoded');
  return { data: target.encodeItems(message.slice(at), maxDepth), count: message.length - at };
}

/**
 * A binary format's message with a payload: the envelope (elements before
 * `at`) as `encodeEnvelope` writes it, the payload's elements joining it
 * under one array head. The envelope has at most 5 elements, so its own
 * head is one byte, which is dropped. A large payload is its own piece.
 */
export function encodeWithPayload(
  message: readonly unknown[],
  at: number,
  encodeEnvelope: (envelope: unknown[]) => Buffer,
  codec: PayloadCodec,
  heads: ArrayHeads,
): Buffer | Pieces {
  const envelope = encodeEnvelope(message.slice(0, at));
  let payload: { data: Buffer | string; count: number };
  try {
    payload = payloadFor(message, at, codec, ENCODE_MAX_DEPTH);
  } catch (err) {
    throw wrapError(`${codec.name}: cannot encode the payload`, err);
  }
  return joinedArray(heads, at + payload.count, envelope, payload.data as Buffer);
}

/**
 * The payload bytes to forward: as they came, unless they hold an undefined
 * (not WAMP data; msgpackr and cbor-x clients send it): then written again
 * with the meaning every format gives it (null in a list, absent in a dict),
 * so no receiver gets a value only JavaScript knows.
 */
export function forwardable(codec: PayloadCodec, payload: Buffer, hasUndefined: boolean, maxDepth: number): Buffer {
  return hasUndefined ? (codec.encodeItems(codec.decodeItems(payload, maxDepth), maxDepth) as Buffer) : payload;
}
