// wamp.2.json. JSON has no binary type, so WAMP sends bytes as the string
// "\u0000" + base64(bytes), at any depth. Both directions stay on the plain
// JSON.parse / JSON.stringify path; decoding adds the bounds of json-scan.ts
// (depth, no Infinity) and converts binary in the same walk.
import { isUtf8 } from 'node:buffer';
import { PAYLOAD_AT, type ElementKind } from '../wamp/payload.ts';
import {
  DEFAULT_MAX_DEPTH,
  ENCODE_MAX_DEPTH,
  SerializationError,
  asBuffer,
  checkMaxDepth,
  outboundPayloadIndex,
  withPayloadValues,
  wrapError,
  type Serializer,
} from './serializer.ts';
import { checkJsonDepth, checkParsed, elementStart, isInfinite } from './json-scan.ts';
import { WirePayload, payloadFor, type PayloadCodec } from './encoded-payload.ts';
import * as exact from './exact-json.ts';

export const payloadCodec: PayloadCodec = { name: 'json', decodeItems: exact.decodeItems, encodeItems: exact.encodeItems };

// JSON text must escape U+0000 inside strings (raw control characters are a
// parse error), and "\u0000" is its only spelling ('0' has no case). So if the
// text lacks this, no decoded string can start with NUL. A hit can be a false
// positive (e.g. an escaped backslash followed by "u0000"): it only costs string checks.
const NUL_ESCAPE = '\\u0000';

export const jsonSerializer: Serializer = {
  name: 'json',
  protocol: 'wamp.2.json',
  rawSocketId: 1,
  binary: false,

  encode(message: unknown[]): string {
    const at = outboundPayloadIndex(message);
    try {
      // Binary is replaced before stringify, so Buffer#toJSON never runs.
      if (at === -1) return JSON.stringify(binaryToText(message));
      const envelope = JSON.stringify(binaryToText(message.slice(0, at)));
      const payload = payloadFor(message, at, payloadCodec, ENCODE_MAX_DEPTH);
      return `${envelope.slice(0, -1)},${payload.data as string}]`;
    } catch (err) {
      throw wrapError('json: cannot encode', err);
    }
  },

  encodeForWire(message: unknown[]): Buffer | string {
    return jsonSerializer.encode(message);
  },

  decode(data: Buffer | string, maxDepth = DEFAULT_MAX_DEPTH): unknown {
    return withPayloadValues(jsonSerializer.decodeRouted(data, maxDepth));
  },

  decodeRouted(data: Buffer | string, maxDepth = DEFAULT_MAX_DEPTH): unknown {
    let text: string;
    if (typeof data === 'string') {
      text = data;
    } else if (data instanceof Uint8Array) {
      if (!isUtf8(data)) throw new SerializationError('json: message is not valid UTF-8');
      text = asBuffer(data).toString('utf8');
    } else {
      throw new SerializationError(`json: expected text or bytes, got ${typeof data}`);
    }
    checkMaxDepth(maxDepth);
    checkJsonDepth(text, maxDepth);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw wrapError('json: invalid JSON', err);
    }
    const binary = text.includes(NUL_ESCAPE);
    try {
      const at = payloadAt(value);
      return at === -1 ? checkParsed(value, maxDepth, binary) : split(text, value as unknown[], at, maxDepth, binary);
    } catch (err) {
      throw wrapError('json: cannot decode', err);
    }
  },
};

/** The Arguments index of a parsed message that carries a payload, else -1. */
function payloadAt(value: unknown): number {
  if (!Array.isArray(value) || typeof value[0] !== 'number') return -1;
  const at = PAYLOAD_AT.get(value[0]) ?? -1;
  return value.length > at ? at : -1;
}

/**
 * The envelope as JSON.parse read it (checked, binary converted); the payload
 * as the text that came, since JSON.parse rounds integers beyond 2^53. Its
 * parse served to validate it: depth and numbers are checked on it too, where
 * a number too large for a double is refused unless it is an integer literal
 * (exact-json.ts reads those exactly, and refuses what it cannot).
 */
function split(text: string, message: unknown[], at: number, maxDepth: number, binary: boolean): unknown[] {
  const data = text.slice(elementStart(text, at), text.lastIndexOf(']'));
  try {
    checkParsed(message, maxDepth, binary);
  } catch (err) {
    if (!isInfinite(err)) throw err;
    checkParsed(message.slice(0, at), maxDepth, binary);
    payloadCodec.decodeItems(data, maxDepth);
  }
  const kinds = message.splice(at).map(kindOf);
  message.push(new WirePayload(payloadCodec, data, kinds, maxDepth));
  return message;
}

function kindOf(value: unknown): ElementKind {
  if (Array.isArray(value)) return 'list';
  if (value instanceof Uint8Array) return 'binary';
  if (typeof value === 'string') return 'string';
  return typeof value === 'object' && value !== null ? 'dict' : 'other';
}

/**
 * Returns `value` itself when it holds no binary (the common case, no
 * allocation); otherwise a copy where only the containers on the way to a
 * Uint8Array are copied. The caller's message is never mutated, since the
 * router may encode the same message for several peers.
 */
function binaryToText(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Uint8Array) return '\0' + asBuffer(value).toString('base64');
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const converted = binaryToText(item);
      if (converted !== item) (copy ??= value.slice())[i] = converted;
    }
    return copy ?? value;
  }
  const obj = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in obj) {
    const item = obj[key];
    const converted = binaryToText(item);
    if (converted !== item) (copy ??= { ...obj })[key] = converted;
  }
  return copy ?? value;
}
