// The exact JSON codec for payload elements (see src/wamp/payload.ts for the
// value model). JSON.parse cannot be used to read them: it makes every
// number a double, so 2^53 + 1 would lose its last digit and 2.0 would turn
// into the integer 2. So this is a parser of its own, one linear pass that
// tells integer tokens (exact, bigints beyond 2^53) from float ones (a '.',
// 'e' or 'E': floats, 2.0 as a WampFloat). Binary is WAMP's "\u0000" +
// base64 string, at any depth. Writing is the reverse: integers as digits,
// floats always with a '.' or an exponent, so they read back as floats.
// Both directions recurse once per container level, checking the depth first.
import { isUtf8 } from 'node:buffer';
import { WampFloat } from '../wamp/payload.ts';
import { MAX_DIGITS, checkDict, checkFloat, describeInteger, withinDigits } from './exact-buffer.ts';
import { SerializationError, asBuffer, checkMaxDepth, tooDeep } from './serializer.ts';

// Integer tokens of at most this many digits are exact as doubles, so they are read without a BigInt.
const DOUBLE_DIGITS = 15;
// How JSON spells U+0000, the mark of binary ('0' has no case, so it is the only spelling).
const NUL_ESCAPE = '\\u0000';
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters JSON requires escaped in strings
const CONTROL = /[\u0000-\u001f]/;

// State of the decode under way (decoding calls no code of others, so it never nests).
let text = '';
let pos = 0;
let limit = 0;

/** Decodes the comma-separated JSON values in `data` (the payload region of a message: no enclosing array) into the value model of src/wamp/payload.ts. */
export function decodeItems(data: Buffer | string, maxDepth: number): unknown[] {
  if (typeof data !== 'string') {
    if (!(data instanceof Uint8Array)) throw new SerializationError(`json: expected text, got ${typeof data}`);
    if (!isUtf8(data)) throw new SerializationError('json: text is not valid UTF-8');
    data = asBuffer(data).toString('utf8');
  }
  limit = checkMaxDepth(maxDepth);
  text = data;
  pos = 0;
  try {
    const items: unknown[] = [];
    skipSpace();
    if (pos === text.length) return items;
    for (;;) {
      items.push(value(maxDepth));
      skipSpace();
      if (pos === text.length) return items;
      expect(0x2c); // ','
      skipSpace();
    }
  } finally {
    text = ''; // not kept alive by the module
  }
}

function skipSpace(): void {
  for (;;) {
    const c = text.charCodeAt(pos);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
    pos++;
  }
}

/** The value at `pos` (no space before it), within `depthLeft` more container levels. */
function value(depthLeft: number): unknown {
  const c = text.charCodeAt(pos);
  switch (c) {
    case 0x22: // '"'
      return stringValue();
    case 0x7b: // '{'
      if (depthLeft === 0) throw tooDeep('json', limit);
      return object(depthLeft - 1);
    case 0x5b: // '['
      if (depthLeft === 0) throw tooDeep('json', limit);
      return array(depthLeft - 1);
    case 0x74: // 't'
      return literal('true', true);
    case 0x66: // 'f'
      return literal('false', false);
    case 0x6e: // 'n'
      return literal('null', null);
    default:
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number(); // '-', digit
      throw unexpected();
  }
}

function array(depthLeft: number): unknown[] {
  pos++; // '['
  const out: unknown[] = [];
  skipSpace();
  if (text.charCodeAt(pos) === 0x5d) {
    pos++;
    return out;
  }
  for (;;) {
    out.push(value(depthLeft));
    skipSpace();
    const c = text.charCodeAt(pos++);
    if (c === 0x5d) return out; // ']'
    if (c !== 0x2c) throw unexpected(pos - 1);
    skipSpace();
  }
}

function object(depthLeft: number): Record<string, unknown> {
  pos++; // '{'
  const out: Record<string, unknown> = {};
  skipSpace();
  if (text.charCodeAt(pos) === 0x7d) {
    pos++;
    return out;
  }
  for (;;) {
    if (text.charCodeAt(pos) !== 0x22) throw unexpected();
    const k = key();
    skipSpace();
    expect(0x3a); // ':'
    skipSpace();
    const v = value(depthLeft);
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
    else out[k] = v; // a later duplicate wins, as in JSON.parse
    skipSpace();
    const c = text.charCodeAt(pos++);
    if (c === 0x7d) return out; // '}'
    if (c !== 0x2c) throw unexpected(pos - 1);
    skipSpace();
  }
}

// Recent keys by a hash of their characters. Payloads repeat their keys, and
// a string sliced afresh must be allocated and then looked up in V8's table
// of property names each time it keys an object; a cached one already is one.
const KEYS: (string | undefined)[] = new Array(4096).fill(undefined);
const MAX_CACHED_KEY = 16;

/** A key, whose opening quote is at `pos` (never binary): a short one without escapes from the cache. */
function key(): string {
  const start = pos + 1;
  const end = Math.min(text.length, start + MAX_CACHED_KEY + 1);
  let h = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      pos = i + 1;
      const slot = (h ^ (h >>> 12) ^ (i - start)) & 4095;
      const hit = KEYS[slot];
      if (hit !== undefined && hit.length === i - start && text.startsWith(hit, start)) return hit;
      const k = text.slice(start, i);
      KEYS[slot] = k;
      return k;
    }
    if (c === 0x5c || c < 0x20) break; // escapes and errors: string() has them
    h = (h * 31 + c) | 0;
  }
  return string();
}

/** A string value: binary when it starts with U+0000 (WAMP: "\u0000" + base64). */
function stringValue(): string | Buffer {
  // The common spelling, "\u0000" and plain base64, decoded without JSON.parse.
  if (text.startsWith(NUL_ESCAPE, pos + 1)) {
    const start = pos + 1 + NUL_ESCAPE.length;
    const base64 = plainUpTo(start, text.indexOf('"', start));
    if (base64 !== undefined) return Buffer.from(base64, 'base64');
  }
  const s = string();
  // Node's base64 decoder skips characters outside the alphabet, as json.ts has it.
  return s.charCodeAt(0) === 0 ? Buffer.from(s.slice(1), 'base64') : s;
}

/**
 * The string whose opening quote is at `pos`. The first characters are
 * looked at here; the end of a longer one is found natively and its text
 * checked for a backslash and raw control characters (which JSON requires
 * escaped) the same way: faster than a loop over its characters.
 */
function string(): string {
  const start = pos + 1;
  const stop = Math.min(text.length, start + 24);
  let i = start;
  for (; i < stop; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      pos = i + 1;
      return text.slice(start, i);
    }
    if (c === 0x5c || c < 0x20) return escapedString(start);
  }
  return plainUpTo(start, text.indexOf('"', i)) ?? escapedString(start);
}

/** The text from `start` to the quote at `end` (-1: none found), if it has no backslash or control character; `pos` then past the quote. */
function plainUpTo(start: number, end: number): string | undefined {
  if (end === -1) return undefined;
  const s = text.slice(start, end);
  if (s.includes('\\') || CONTROL.test(s)) return undefined;
  pos = end + 1;
  return s;
}

/** The string starting at `start` (after its quote) the slow way: character by character, then JSON.parse for the escapes. */
function escapedString(start: number): string {
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      pos = i + 1;
      try {
        return JSON.parse(text.slice(start - 1, pos)) as string;
      } catch {
        throw new SerializationError(`json: invalid escape in the string at ${start - 1}`);
      }
    }
    if (c === 0x5c) {
      i++; // the escaped character, which may be a quote
    } else if (c < 0x20) {
      throw new SerializationError(`json: unescaped control character in the string at ${start - 1}`);
    }
  }
  throw new SerializationError(`json: unterminated string at ${start - 1}`);
}

function literal(word: string, v: boolean | null): boolean | null {
  if (!text.startsWith(word, pos)) throw unexpected();
  pos += word.length;
  return v;
}

/**
 * The number token at `pos` (RFC 8259 §6): an integer unless it has a
 * fraction or an exponent. Integers of up to 15 digits are summed as they
 * are scanned; longer ones go through BigInt, and are numbers again when safe.
 */
function number(): number | bigint | WampFloat {
  const start = pos;
  const negative = text.charCodeAt(pos) === 0x2d;
  if (negative) pos++;
  const first = pos;
  let n = 0;
  let c = text.charCodeAt(pos);
  if (c === 0x30) {
    pos++; // a leading zero stands alone
  } else if (c >= 0x31 && c <= 0x39) {
    do {
      n = n * 10 + (c - 0x30);
      c = text.charCodeAt(++pos);
    } while (c >= 0x30 && c <= 0x39);
  } else {
    throw unexpected();
  }
  const digits = pos - first;
  c = text.charCodeAt(pos);
  if (c === 0x2e || c === 0x65 || c === 0x45) return float(start); // '.', 'e', 'E'
  if (digits <= DOUBLE_DIGITS) return negative ? 0 - n : n; // "-0" is the integer 0
  if (digits > MAX_DIGITS) {
    throw new SerializationError(`json: integer of ${digits} digits is too long (at most ${MAX_DIGITS}; see MAX_DIGITS)`);
  }
  const big = BigInt(text.slice(start, pos));
  return big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
}

/** The rest of a float token that began at `start`, where `pos` is after its integer part. */
function float(start: number): number | WampFloat {
  if (text.charCodeAt(pos) === 0x2e) {
    pos++;
    if (!skipDigits()) throw unexpected();
  }
  const c = text.charCodeAt(pos);
  if (c === 0x65 || c === 0x45) {
    pos++;
    const sign = text.charCodeAt(pos);
    if (sign === 0x2b || sign === 0x2d) pos++;
    if (!skipDigits()) throw unexpected();
  }
  const v = Number(text.slice(start, pos));
  if (!Number.isFinite(v)) throw new SerializationError(`json: number ${ellipsis(start)} is too large for a double`);
  return Number.isInteger(v) ? new WampFloat(v) : v; // -0 included: Number.isInteger(-0)
}

/** Skips digits at `pos`; false if there were none. */
function skipDigits(): boolean {
  const from = pos;
  for (let c = text.charCodeAt(pos); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++pos));
  return pos > from;
}

function expect(c: number): void {
  if (text.charCodeAt(pos) !== c) throw unexpected();
  pos++;
}

function unexpected(at = pos): SerializationError {
  if (at >= text.length) return new SerializationError('json: unexpected end of text');
  return new SerializationError(`json: unexpected ${JSON.stringify(text[at])} at ${at}`);
}

function ellipsis(start: number): string {
  return pos - start <= 40 ? text.slice(start, pos) : `${text.slice(start, start + 40)}...`;
}

/** Encodes `items` comma-separated (no brackets). Throws SerializationError where JSON cannot carry a value. */
export function encodeItems(items: readonly unknown[], maxDepth: number): string {
  checkMaxDepth(maxDepth);
  let out = '';
  for (let i = 0; i < items.length; i++) {
    if (i !== 0) out += ',';
    out += write(items[i], maxDepth, maxDepth);
  }
  return out;
}

/** `v` as JSON text, within `depthLeft` more container levels. */
function write(v: unknown, depthLeft: number, maxDepth: number): string {
  switch (typeof v) {
    case 'string':
      // WAMP's JSON reserves a leading U+0000 for binary: the string would come back as bytes.
      if (v.charCodeAt(0) === 0) throw new SerializationError('json: cannot carry a string starting with U+0000 (it would read as binary)');
      return quote(v);
    case 'number':
      return writeNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return writeBigInt(v);
    case 'undefined': // null, as JSON.stringify has it in an array
      return 'null';
    case 'object':
      if (v === null) return 'null';
      if (Array.isArray(v)) return writeArray(v, depthLeft, maxDepth);
      if (v instanceof Uint8Array) return `"\\u0000${asBuffer(v).toString('base64')}"`;
      if (v instanceof WampFloat) return writeFloat(v.value);
      return writeObject(checkDict('json', v), depthLeft, maxDepth);
    default:
      throw new SerializationError(`json: cannot encode a ${typeof v}`);
  }
}

/** `s` as a JSON string literal. Short ones that need no escape are quoted here: cheaper than the call into JSON.stringify. */
function quote(s: string): string {
  if (s.length > 32) return JSON.stringify(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Control characters, '"', '\\', and surrogates (JSON.stringify escapes lone ones).
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c < 0xe000)) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

function writeNumber(v: number): string {
  if (Number.isSafeInteger(v)) {
    if (v !== 0 || 1 / v > 0) return String(v);
    // -0 is the float -0.0
  } else if (Number.isInteger(v)) {
    if (v >= -(2 ** 63) && v < 2 ** 64) return BigInt(v).toString(); // integral beyond 2^53: an integer within what every format carries
  } else if (v - v === 0) {
    return String(v); // not integral, finite: always with a '.' or an exponent
  }
  return writeFloat(v);
}

function writeBigInt(v: bigint): string {
  if (!withinDigits(v)) {
    throw new SerializationError(`json: cannot carry ${describeInteger(v)} (integers are read up to ${MAX_DIGITS} digits)`);
  }
  return v.toString();
}

/** A float literal that reads back as a float: a '.' or an exponent, always (2.0, not 2). */
function writeFloat(v: number): string {
  checkFloat('json', v);
  if (v === 0) return 1 / v > 0 ? '0.0' : '-0.0'; // String(-0) is "0"
  const s = String(v); // JSON.stringify's digits for finite numbers
  return s.includes('.') || s.includes('e') ? s : s + '.0';
}

function writeArray(v: readonly unknown[], depthLeft: number, maxDepth: number): string {
  if (depthLeft === 0) throw tooDeep('json', maxDepth);
  let out = '[';
  for (let i = 0; i < v.length; i++) {
    if (i !== 0) out += ',';
    out += write(v[i], depthLeft - 1, maxDepth);
  }
  return out + ']';
}

function writeObject(obj: Record<string, unknown>, depthLeft: number, maxDepth: number): string {
  if (depthLeft === 0) throw tooDeep('json', maxDepth);
  let out = '{';
  for (const k of Object.keys(obj)) {
    const item = obj[k];
    if (item === undefined) continue; // absent, as JSON.stringify has it
    if (out.length > 1) out += ',';
    out += quote(k) + ':' + write(item, depthLeft - 1, maxDepth);
  }
  return out + '}';
}
