// wamp.2.json. JSON has no binary type, so WAMP sends bytes as the string
// "\u0000" + base64(bytes), at any depth. Both directions stay on the plain
// JSON.parse / JSON.stringify path unless binary is actually present.
import { isUtf8 } from 'node:buffer';
import { SerializationError, asBuffer, wrapError, type Serializer } from './serializer.ts';

// JSON text must escape U+0000 inside strings (raw control characters are a
// parse error), and "\u0000" is its only spelling ('0' has no case). So if the
// text lacks this, no decoded string can start with NUL. A hit can be a false
// positive (e.g. an escaped backslash followed by "u0000"): it only costs a walk.
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

  decode(data: Buffer | string): unknown {
    let text: string;
    if (typeof data === 'string') {
      text = data;
    } else if (data instanceof Uint8Array) {
      if (!isUtf8(data)) throw new SerializationError('json: message is not valid UTF-8');
      text = asBuffer(data).toString('utf8');
    } else {
      throw new SerializationError(`json: expected text or bytes, got ${typeof data}`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw wrapError('json: invalid JSON', err);
    }
    return text.includes(NUL_ESCAPE) ? textToBinary(value) : value;
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

/** In place (JSON.parse output is ours): strings starting with NUL become Buffers. */
function textToBinary(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.charCodeAt(0) === 0 ? Buffer.from(value.slice(1), 'base64') : value;
  }
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = textToBinary(value[i]);
  } else {
    const obj = value as Record<string, unknown>;
    for (const key in obj) obj[key] = textToBinary(obj[key]);
  }
  return value;
}
