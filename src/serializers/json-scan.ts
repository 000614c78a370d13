// Bounds for JSON decoding. V8's JSON.parse is iterative (it does not
// overflow on deep input) and linear, but what runs after it recurses (the
// router, the encoders), and it turns a literal like `1e400` into Infinity,
// which no serializer should carry (JSON itself cannot write it). (JSON
// numbers are doubles: `1e30`, or an integer literal past 2^64, is a float,
// which the others carry as float64; only overflow is refused.) So:
//  - after JSON.parse, one depth-bounded walk over the value refuses nesting
//    deeper than the limit and ±Infinity, and turns binary ("\u0000" +
//    base64 strings) into Buffers: this is what enforces the limit;
//  - before it, a cheap check fails nesting bombs fast, without parsing them
//    (a megabyte of `[` costs JSON.parse some 50 ms). It looks at a bounded
//    prefix only: a full scan costs a third to a half of JSON.parse for
//    bracket-rich messages, and a bomb that hides past the prefix is still
//    refused by the walk, after a parse no costlier than legitimate input's.
import { SerializationError, tooDeep } from './serializer.ts';

// Characters the pre-check scans at most. Bombs are regular, so they show
// within it: 64 levels of `{"a":` take 320 characters.
const PREFIX = 1024;

/**
 * Throws SerializationError if the first PREFIX characters of `text` nest
 * deeper than maxDepth. Invalid JSON is left to JSON.parse, which rejects it.
 */
export function checkJsonDepth(text: string, maxDepth: number): void {
  // Each level takes two characters, and at least one '[' or '{': most messages are settled here.
  if (text.length <= 2 * maxDepth || !moreOpenersThan(text, maxDepth)) return;
  if (nestsDeeper(text, maxDepth, Math.min(text.length, PREFIX))) throw tooDeep('json', maxDepth);
}

/** Are there more than `limit` '[' and '{' in `text` (strings included)? indexOf is native, so this is fast. */
function moreOpenersThan(text: string, limit: number): boolean {
  let count = 0;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) if (++count > limit) return true;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) if (++count > limit) return true;
  return false;
}

/** Do the brackets outside strings in text[0, end) nest deeper than `limit`? */
function nestsDeeper(text: string, limit: number, end: number): boolean {
  let depth = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22)
      i = stringEnd(text, i); // '"'
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true; // '[' or '{'
    } else if (c === 0x5d || c === 0x7d) depth--; // ']' or '}'
  }
  return false;
}

/** Index of the quote closing the string opened at `open`, or the end of the text. */
function stringEnd(text: string, open: number): number {
  for (let i = text.indexOf('"', open + 1); i !== -1; i = text.indexOf('"', i + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(i - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return i; // not escaped
  }
  return text.length;
}

/**
 * One pass over JSON.parse's output: refuses ±Infinity (JSON.parse never
 * yields NaN) and nesting deeper than maxDepth; with `binary`, also turns
 * strings starting with U+0000 into Buffers, in place (the value is ours).
 */
export function checkParsed(value: unknown, maxDepth: number, binary: boolean): unknown {
  if (typeof value === 'object' && value !== null) {
    if (binary) convertBinary(value, maxDepth, maxDepth);
    else checkNumbers(value, maxDepth, maxDepth);
  } else if (typeof value === 'number') {
    if (value - value !== 0) throw infinite();
  } else if (binary && typeof value === 'string' && value.charCodeAt(0) === 0) {
    return toBuffer(value);
  }
  return value;
}

/**
 * The common case, kept lean: n * 0 is 0 for every finite n and NaN for
 * ±Infinity, so one comparison per container tells whether it held one.
 */
function checkNumbers(value: object, depthLeft: number, maxDepth: number): void {
  if (depthLeft === 0) throw tooDeep('json', maxDepth);
  let zero = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'number') zero += item * 0;
      else if (typeof item === 'object' && item !== null) checkNumbers(item, depthLeft - 1, maxDepth);
    }
  } else {
    const obj = value as Record<string, unknown>;
    for (const key in obj) {
      const item = obj[key];
      if (typeof item === 'number') zero += item * 0;
      else if (typeof item === 'object' && item !== null) checkNumbers(item, depthLeft - 1, maxDepth);
    }
  }
  if (zero !== 0) throw infinite();
}

/**
 * checkNumbers, plus binary conversion. Assigning obj[key] is safe for
 * "__proto__" too: JSON.parse made it an own data property, so the
 * assignment never reaches the prototype setter.
 */
function convertBinary(value: object, depthLeft: number, maxDepth: number): void {
  if (depthLeft === 0) throw tooDeep('json', maxDepth);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = convertItem(value[i], depthLeft, maxDepth);
  } else {
    const obj = value as Record<string, unknown>;
    for (const key in obj) obj[key] = convertItem(obj[key], depthLeft, maxDepth);
  }
}

function convertItem(item: unknown, depthLeft: number, maxDepth: number): unknown {
  if (typeof item === 'object') {
    if (item !== null) convertBinary(item, depthLeft - 1, maxDepth);
  } else if (typeof item === 'number') {
    if (item - item !== 0) throw infinite();
  } else if (typeof item === 'string' && item.charCodeAt(0) === 0) {
    return toBuffer(item);
  }
  return item;
}

const INFINITE = 'json: number too large for a double (JSON.parse would make it Infinity)';

function infinite(): SerializationError {
  return new SerializationError(INFINITE);
}

/** Is this checkParsed's refusal of a number too large for a double? */
export function isInfinite(err: unknown): boolean {
  return err instanceof SerializationError && err.message === INFINITE;
}

/**
 * Offset in `text` (valid JSON: JSON.parse took it) of the element `index`
 * of the top-level array, which has more elements than `index`. Skips the
 * elements before it without parsing them: they are the envelope, a few
 * short values.
 */
export function elementStart(text: string, index: number): number {
  let i = skipSpace(text, text.indexOf('[') + 1);
  for (let n = 0; n < index; n++) i = skipSpace(text, text.indexOf(',', skipValue(text, i)) + 1);
  return i;
}

function skipSpace(text: string, i: number): number {
  for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  return i;
}

/** The offset after the value at `i` (a string's closing quote, a container's closing bracket, or a scalar's end). */
function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x22) return stringEnd(text, i) + 1;
  if (c !== 0x5b && c !== 0x7b) return i; // a number or literal ends at the next ',', which the caller looks for
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const d = text.charCodeAt(j);
    if (d === 0x22) j = stringEnd(text, j);
    else if (d === 0x5b || d === 0x7b) depth++;
    else if ((d === 0x5d || d === 0x7d) && --depth === 0) return j + 1;
  }
  return text.length;
}

// WAMP: binary in JSON is "\u0000" followed by base64. Node's decoder skips
// characters outside the alphabet, so this never throws.
function toBuffer(s: string): Buffer {
  return Buffer.from(s.slice(1), 'base64');
}
