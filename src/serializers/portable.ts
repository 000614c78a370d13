/**
 * Payloads carried between cluster nodes: the elements as their format's
 * bytes (as they arrived from the client, or written with the exact
 * MessagePack codec for a payload made in process), rebuilt on the other node
 * as the same WirePayload. A receiver there that speaks the sender's
 * serializer gets the client's bytes unchanged.
 */
import { kindOf } from '../wamp/inbound.ts';
import type { ElementKind } from '../wamp/payload.ts';
import { EncodedPayload } from '../wamp/payload.ts';
import { payloadCodec as cborCodec } from './cbor.ts';
import { WirePayload, type PayloadCodec } from './encoded-payload.ts';
import { payloadCodec as jsonCodec } from './json.ts';
import { payloadCodec as msgpackCodec } from './msgpack.ts';
import { ENCODE_MAX_DEPTH, type SerializerName } from './serializer.ts';

export interface PortablePayload {
  format: SerializerName;
  data: Buffer | string;
  kinds: ElementKind[];
}

const CODECS: ReadonlyMap<string, PayloadCodec> = new Map([
  ['json', jsonCodec],
  ['msgpack', msgpackCodec],
  ['cbor', cborCodec],
]);
const KINDS: ReadonlySet<string> = new Set(['list', 'dict', 'binary', 'string', 'other']);

/** The payload elements of a message (`message.slice(at)`) in a form a frame carries; undefined when there are none. */
export function portablePayload(elements: readonly unknown[]): PortablePayload | undefined {
  if (elements.length === 0) return undefined;
  const first = elements[0];
  if (first instanceof WirePayload && elements.length === 1) {
    return { format: first.format, data: first.data, kinds: [...first.kinds] };
  }
  if (first instanceof EncodedPayload) throw new TypeError('an EncodedPayload from elsewhere cannot be carried');
  return { format: 'msgpack', data: msgpackCodec.encodeItems(elements, ENCODE_MAX_DEPTH), kinds: elements.map(kindOf) };
}

/** The payload again, from what another node sent; undefined when the parts are not what portablePayload makes. */
export function rebuiltPayload(format: unknown, data: unknown, kinds: unknown, maxDepth: number): WirePayload | undefined {
  const codec = typeof format === 'string' ? CODECS.get(format) : undefined;
  if (!codec || !Array.isArray(kinds) || kinds.length === 0 || kinds.length > 2) return undefined;
  if (!kinds.every((k) => typeof k === 'string' && KINDS.has(k))) return undefined;
  const textual = codec.name === 'json';
  if (textual ? typeof data !== 'string' : !(data instanceof Uint8Array)) return undefined;
  const bytes = textual ? data : Buffer.from((data as Uint8Array).buffer, (data as Uint8Array).byteOffset, (data as Uint8Array).byteLength);
  return new WirePayload(codec, bytes as Buffer | string, kinds as ElementKind[], maxDepth);
}
