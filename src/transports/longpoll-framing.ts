/**
 * How WAMP messages sit in long-poll request and response bodies (WAMP spec,
 * "HTTP Longpoll Transport"; batching as "Message Batching" defines it for
 * WebSocket):
 *
 * - unbatched (`wamp.2.json`, `wamp.2.msgpack`, `wamp.2.cbor`): a body is one message;
 * - batched JSON (`wamp.2.json.batched`): each message followed by 0x1e (ASCII
 *   record separator, which JSON text never holds unescaped);
 * - batched MessagePack and CBOR: each message preceded by its length as a
 *   32-bit unsigned big-endian integer (the spec's MessagePack scheme, which
 *   Autobahn uses for CBOR too).
 *
 * A batch holds at least one message: an empty one is a protocol violation.
 */
import { serializerByProtocol, serializers as allSerializers, type Serializer } from '../serializers/index.ts';
import { Pieces, type Encoded } from '../serializers/serializer.ts';

/** A protocol a long-poll client may ask for: a serializer, batched or not. */
export interface LongPollProtocol {
  /** As the client names it, e.g. "wamp.2.json.batched". */
  readonly name: string;
  readonly serializer: Serializer;
  readonly batched: boolean;
  /** The Content-Type of a receive's body (Autobahn's MIME types). */
  readonly contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json; charset=utf-8',
  msgpack: 'application/x-msgpack',
  cbor: 'application/cbor',
};

const RECORD_SEPARATOR = 0x1e;
const SEPARATOR = Buffer.from([RECORD_SEPARATOR]);

/** The protocol `name` names among `serializers`, or undefined ("wamp.2.ubjson", "wamp.3.json", anything else). */
export function longPollProtocol(name: string, serializers: readonly Serializer[] = allSerializers): LongPollProtocol | undefined {
  const batched = name.endsWith('.batched');
  const serializer = serializerByProtocol(batched ? name.slice(0, -'.batched'.length) : name);
  if (!serializer || !serializers.includes(serializer)) return undefined;
  return { name, serializer, batched, contentType: CONTENT_TYPES[serializer.name] ?? 'application/octet-stream' };
}

/** The protocols spoken with these serializers, batched first (they carry more per request), as an open error lists them. */
export function spokenProtocols(serializers: readonly Serializer[]): string[] {
  return serializers.flatMap((s) => [`${s.protocol}.batched`, s.protocol]);
}

/** The messages of a request body, still encoded; a string says why the body is not a valid batch. */
export function splitBody(protocol: LongPollProtocol, body: Buffer): Buffer[] | string {
  if (!protocol.batched) return [body];
  return protocol.serializer.binary ? splitLengthPrefixed(body) : splitSeparated(body);
}

function splitSeparated(body: Buffer): Buffer[] | string {
  if (body.length === 0) return 'an empty batch (a batch holds at least one message)';
  if (body[body.length - 1] !== RECORD_SEPARATOR) return 'a JSON batch must end each message with 0x1e';
  const messages: Buffer[] = [];
  let from = 0;
  while (from < body.length) {
    const end = body.indexOf(RECORD_SEPARATOR, from);
    messages.push(body.subarray(from, end));
    from = end + 1;
  }
  return messages;
}

function splitLengthPrefixed(body: Buffer): Buffer[] | string {
  if (body.length === 0) return 'an empty batch (a batch holds at least one message)';
  const messages: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 4) return `${body.length - at} bytes after the last message: too short for a length prefix`;
    const length = body.readUInt32BE(at);
    at += 4;
    if (length > body.length - at) return `a message of ${length} bytes announced, ${body.length - at} bytes left in the body`;
    messages.push(body.subarray(at, at + length));
    at += length;
  }
  return messages;
}

/** Bytes of an encoded message. */
export function encodedSize(data: Encoded): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

/** The parts of a batched response body holding these messages, without copying their bytes. */
export function batchParts(protocol: LongPollProtocol, messages: readonly Encoded[]): Array<Buffer | string> {
  const parts: Array<Buffer | string> = [];
  for (const message of messages) {
    if (protocol.batched && protocol.serializer.binary) {
      const prefix = Buffer.allocUnsafe(4);
      prefix.writeUInt32BE(encodedSize(message), 0);
      parts.push(prefix);
    }
    if (message instanceof Pieces) parts.push(...message.parts);
    else parts.push(message);
    if (protocol.batched && !protocol.serializer.binary) parts.push(SEPARATOR);
  }
  return parts;
}
