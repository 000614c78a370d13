// wamp.2.json. JSON has no binary type, so WAMP sends bytes as the string
// "\u0000" + base64(bytes), at any depth. Both directions stay on the plain
// JSON.parse / JSON.stringify path; decoding adds the bounds of json-scan.ts
// (depth, no Infinity) and converts binary in the same walk.
import { isUtf8 } from 'node:buffer';
import { DEFAULT_MAX_DEPTH, SerializationError, asBuffer, checkMaxDepth, wrapError, type Serializer } from './serializer.ts';
import { checkJsonDepth, checkParsed } from './json-scan.ts';

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
    try {
      // Binary is replaced before stringify, so Buffer#toJSON never runs.
      return JSON.stringify(binaryToText(message));
    } catch (err) {
      throw wrapError('json: cannot encode', err);
    }
  },

  decode(data: Buffer | string, maxDepth = DEFAULT_MAX_DEPTH): unknown {
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
    try {
      return checkParsed(value, maxDepth, text.includes(NUL_ESCAPE));
    } catch (err) {
      throw wrapError('json: cannot decode', err);
    }
  },
};

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
