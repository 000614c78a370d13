/**
 * The fuzzer's message model, and its own writers for wamp.2.json,
 * wamp.2.msgpack and wamp.2.cbor.
 *
 * The writers emit bytes themselves instead of calling the serializer
 * libraries, so they can write what those would never encode: prototype
 * member names as own keys, depth bombs 100,000 deep (written without
 * recursion), any CBOR tag, any msgpack extension, bignums, invalid UTF-8,
 * floats of every width and hand-made heads. `describe` and `view` say what a
 * correct decoder makes of a node; the oracle (oracle.ts) judges by them.
 *
 * A node is JSON-like data (null, boolean, number, string, bigint,
 * Uint8Array, arrays, plain objects with their own enumerable keys) or one of
 * the `Special` classes below.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import type { SerializerName } from '../../src/serializers/index.ts';

export type Node = null | boolean | number | string | bigint | Uint8Array | Node[] | { [key: string]: Node } | Special;

export abstract class Special {
  abstract show(): string;
  /** fast-check prints counterexamples with this. */
  [fc.toStringMethod](): string {
    return this.show();
  }
  toString(): string {
    return this.show();
  }
}

/** A dict with exactly these entries, in order: keys may be "__proto__", duplicates or (binary serializers) not strings at all. */
export class Dict extends Special {
  constructor(readonly entries: ReadonlyArray<readonly [Node, Node]>) {
    super();
  }
  show(): string {
    return `Dict(${this.entries.map(([k, v]) => `${show(k)}: ${show(v)}`).join(', ')})`;
  }
}

/** `depth` containers, one inside the other, around `leaf`: arrays `[[[leaf]]]`, dicts `{"a":{"a":leaf}}` or both in turn. */
export class Nest extends Special {
  constructor(
    readonly depth: number,
    readonly kind: 'array' | 'dict' | 'mixed',
    readonly leaf: Node = 1,
  ) {
    super();
  }
  show(): string {
    return `Nest(${this.depth}, ${this.kind}, ${show(this.leaf)})`;
  }
}

/** A text string made of exactly these bytes (invalid UTF-8, WTF-8 surrogates, overlong forms). */
export class Utf8 extends Special {
  constructor(readonly bytes: Uint8Array) {
    super();
  }
  show(): string {
    return `Utf8(${Buffer.from(this.bytes).toString('hex')})`;
  }
}

/** A number written as a float of this width (16 and 32 exist in CBOR, 32 in msgpack; JSON writes the number). */
export class Float extends Special {
  constructor(
    readonly value: number,
    readonly width: 16 | 32 | 64,
  ) {
    super();
  }
  show(): string {
    return `Float(${Object.is(this.value, -0) ? '-0' : this.value}, ${this.width})`;
  }
}

/** A CBOR tag around `content`; the other serializers write the content alone. */
export class Tag extends Special {
  constructor(
    readonly tag: bigint,
    readonly content: Node,
  ) {
    super();
  }
  show(): string {
    return `Tag(${this.tag}, ${show(this.content)})`;
  }
}

export type ExtForm = 'fixext' | 'ext8' | 'ext16' | 'ext32';

/** A msgpack extension (type -128..127); the other serializers write its data as bytes. */
export class Ext extends Special {
  constructor(
    readonly type: number,
    readonly data: Uint8Array,
    readonly form: ExtForm,
  ) {
    super();
  }
  show(): string {
    return `Ext(${this.type}, ${Buffer.from(this.data.subarray(0, 16)).toString('hex')}${this.data.length > 16 ? `…(${this.data.length})` : ''}, ${this.form})`;
  }
}

/**
 * What a correct decoder makes of hand-written bytes:
 * - 'undecodable': not one well-formed item (truncated, trailing bytes, reserved codes);
 * - 'illegal': well-formed, but outside WAMP's plain data (an extension or tag);
 * - 'lax': well-formed, but the router may take it or refuse it;
 * - { is: node }: the same data as that node.
 */
export type Meaning = 'undecodable' | 'illegal' | 'lax' | { is: Node };

/** Bytes written as they are, per serializer, with what they mean. A serializer without bytes here gets `fallback`. */
export class Raw extends Special {
  constructor(
    readonly label: string,
    readonly bytes: Partial<Record<SerializerName, Uint8Array>>,
    readonly meaning: Partial<Record<SerializerName, Meaning>>,
    readonly fallback: Node = null,
  ) {
    super();
  }
  show(): string {
    return `Raw(${this.label})`;
  }
}

/** CBOR's undefined (0xf7); JSON and msgpack write null. */
export class Undefined extends Special {
  show(): string {
    return 'Undefined';
  }
}

export function show(node: Node): string {
  if (node instanceof Special) return node.show();
  if (typeof node === 'bigint') return `${node}n`;
  if (typeof node === 'number') return Object.is(node, -0) ? '-0' : String(node);
  if (typeof node === 'string')
    return node.length > 80 ? `${JSON.stringify(node.slice(0, 40))}…(${node.length} chars)` : JSON.stringify(node);
  if (node instanceof Uint8Array) return `bytes(${node.length > 16 ? node.length : Buffer.from(node).toString('hex')})`;
  if (Array.isArray(node)) return `[${node.map(show).join(', ')}]`;
  if (node === null || typeof node !== 'object') return String(node);
  return `{${Object.keys(node)
    .map((k) => `${JSON.stringify(k)}: ${show(node[k])}`)
    .join(', ')}}`;
}

/** A plain dict whose own keys are exactly `entries` (even "__proto__"), for messages the libraries can encode too. */
export function ownKeys(entries: ReadonlyArray<readonly [string, Node]>): { [key: string]: Node } {
  const out: { [key: string]: Node } = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

function entriesOf(node: Dict | { [key: string]: Node }): ReadonlyArray<readonly [Node, Node]> {
  return node instanceof Dict ? node.entries : Object.keys(node).map((k) => [k, node[k]] as const);
}

// ---------------------------------------------------------------- writers

class Out {
  private readonly chunks: Buffer[] = [];
  private small: number[] = [];

  byte(...values: number[]): void {
    for (const v of values) this.small.push(v & 0xff);
  }
  bytes(b: Uint8Array): void {
    this.flush();
    this.chunks.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }
  text(s: string): void {
    this.bytes(Buffer.from(s, 'utf8'));
  }
  uint(value: bigint, size: number): void {
    for (let i = size - 1; i >= 0; i--) this.small.push(Number((value >> BigInt(8 * i)) & 0xffn));
  }
  /** A type byte, then `value` as a `size`-byte big-endian unsigned integer. */
  head(code: number, value: bigint, size: number): void {
    this.byte(code);
    this.uint(value, size);
  }
  float(value: number, width: 32 | 64): void {
    const b = Buffer.alloc(width / 8);
    if (width === 32) b.writeFloatBE(value);
    else b.writeDoubleBE(value);
    this.bytes(b);
  }
  private flush(): void {
    if (this.small.length) this.chunks.push(Buffer.from(this.small));
    this.small = [];
  }
  result(): Buffer {
    this.flush();
    return Buffer.concat(this.chunks);
  }
}

/** The bytes of `node` in `serializer` (JSON as UTF-8 text, or not UTF-8 at all when the node says so). */
export function encode(node: Node, serializer: SerializerName): Buffer {
  const out = new Out();
  if (serializer === 'json') writeJson(out, node);
  else if (serializer === 'msgpack') writeMsgpack(out, node);
  else writeCbor(out, node);
  return out.result();
}

function nestKey(kind: Nest['kind'], level: number): 'array' | 'dict' {
  return kind === 'mixed' ? (level % 2 === 0 ? 'array' : 'dict') : kind;
}

function jsonNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN'; // not JSON: undecodable
  if (v === Infinity) return '1e999'; // JSON.parse gives Infinity
  if (v === -Infinity) return '-1e999';
  if (Object.is(v, -0)) return '-0';
  return String(v);
}

function writeJson(out: Out, node: Node): void {
  if (node === null || node instanceof Undefined) return out.text('null');
  if (typeof node === 'boolean') return out.text(String(node));
  if (typeof node === 'number') return out.text(jsonNumber(node));
  if (typeof node === 'bigint') return out.text(node.toString());
  if (typeof node === 'string') return out.text(JSON.stringify(node)); // lone surrogates become \udxxx escapes
  if (node instanceof Uint8Array) return out.text(JSON.stringify(`\0${Buffer.from(node).toString('base64')}`));
  if (Array.isArray(node)) {
    out.text('[');
    node.forEach((item, i) => {
      if (i) out.text(',');
      writeJson(out, item);
    });
    return out.text(']');
  }
  if (node instanceof Nest) {
    for (let i = 0; i < node.depth; i++) out.text(nestKey(node.kind, i) === 'array' ? '[' : '{"a":');
    writeJson(out, node.leaf);
    for (let i = node.depth - 1; i >= 0; i--) out.text(nestKey(node.kind, i) === 'array' ? ']' : '}');
    return;
  }
  if (node instanceof Utf8) {
    out.text('"');
    out.bytes(node.bytes);
    return out.text('"');
  }
  if (node instanceof Float) return out.text(jsonNumber(node.width === 32 ? Math.fround(node.value) : node.value));
  if (node instanceof Tag) return writeJson(out, node.content);
  if (node instanceof Ext) return writeJson(out, node.data);
  if (node instanceof Raw) return node.bytes.json ? out.bytes(node.bytes.json) : writeJson(out, node.fallback);
  // Dict or plain object
  out.text('{');
  entriesOf(node as Dict).forEach(([k, v], i) => {
    if (i) out.text(',');
    out.text(JSON.stringify(typeof k === 'string' ? k : show(k)));
    out.text(':');
    writeJson(out, v);
  });
  out.text('}');
}

function msgpackInt(out: Out, v: bigint): void {
  if (v >= 0n) {
    if (v < 128n) return out.byte(Number(v));
    if (v < 256n) return out.byte(0xcc, Number(v));
    if (v < 65536n) return out.head(0xcd, v, 2);
    if (v < 2n ** 32n) return out.head(0xce, v, 4);
    return out.head(0xcf, v, 8);
  }
  if (v >= -32n) return out.byte(0xe0 | Number(v & 0x1fn));
  if (v >= -128n) return out.byte(0xd0, Number(v & 0xffn));
  if (v >= -32768n) return out.head(0xd1, v & 0xffffn, 2);
  if (v >= -(2n ** 31n)) return out.head(0xd2, v & 0xffffffffn, 4);
  return out.head(0xd3, v & 0xffffffffffffffffn, 8);
}

const inMsgpackRange = (v: bigint) => v >= -(2n ** 63n) && v < 2n ** 64n;

function msgpackSized(out: Out, length: number, fix: number | undefined, fixMax: number, codes: [number, number, number]): void {
  if (fix !== undefined && length <= fixMax) return out.byte(fix | length);
  if (codes[0] !== 0 && length < 256) return out.byte(codes[0], length);
  if (length < 65536) return out.head(codes[1], BigInt(length), 2);
  return out.head(codes[2], BigInt(length), 4);
}

function writeMsgpack(out: Out, node: Node): void {
  if (node === null || node instanceof Undefined) return out.byte(0xc0);
  if (typeof node === 'boolean') return out.byte(node ? 0xc3 : 0xc2);
  if (typeof node === 'number') {
    if (Number.isInteger(node) && !Object.is(node, -0) && inMsgpackRange(BigInt(node))) return msgpackInt(out, BigInt(node));
    out.byte(0xcb);
    return out.float(node, 64);
  }
  if (typeof node === 'bigint') {
    if (inMsgpackRange(node)) return msgpackInt(out, node);
    out.byte(0xcb);
    return out.float(Number(node), 64);
  }
  if (typeof node === 'string' || node instanceof Utf8) {
    const bytes = typeof node === 'string' ? Buffer.from(node, 'utf8') : node.bytes;
    msgpackSized(out, bytes.length, 0xa0, 31, [0xd9, 0xda, 0xdb]);
    return out.bytes(bytes);
  }
  if (node instanceof Uint8Array) {
    msgpackSized(out, node.length, undefined, -1, [0xc4, 0xc5, 0xc6]);
    return out.bytes(node);
  }
  if (Array.isArray(node)) {
    msgpackSized(out, node.length, 0x90, 15, [0, 0xdc, 0xdd]);
    for (const item of node) writeMsgpack(out, item);
    return;
  }
  if (node instanceof Nest) {
    for (let i = 0; i < node.depth; i++) {
      if (nestKey(node.kind, i) === 'array') out.byte(0x91);
      else out.byte(0x81, 0xa1, 0x61); // {"a": ...}
    }
    return writeMsgpack(out, node.leaf);
  }
  if (node instanceof Float) {
    if (node.width === 64) {
      out.byte(0xcb);
      return out.float(node.value, 64);
    }
    out.byte(0xca);
    return out.float(node.value, 32);
  }
  if (node instanceof Tag) return writeMsgpack(out, node.content);
  if (node instanceof Ext) {
    const n = node.data.length;
    const fix = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 }[n];
    if (node.form === 'fixext' && fix !== undefined) out.byte(fix, node.type);
    else if ((node.form === 'fixext' || node.form === 'ext8') && n < 256) out.byte(0xc7, n, node.type);
    else if (node.form !== 'ext32' && n < 65536) {
      out.head(0xc8, BigInt(n), 2);
      out.byte(node.type);
    } else {
      out.head(0xc9, BigInt(n), 4);
      out.byte(node.type);
    }
    return out.bytes(node.data);
  }
  if (node instanceof Raw) return node.bytes.msgpack ? out.bytes(node.bytes.msgpack) : writeMsgpack(out, node.fallback);
  const entries = entriesOf(node as Dict);
  msgpackSized(out, entries.length, 0x80, 15, [0, 0xde, 0xdf]);
  for (const [k, v] of entries) {
    writeMsgpack(out, k);
    writeMsgpack(out, v);
  }
}

/** A CBOR head: major type and argument, in the shortest form. */
export function cborHead(major: number, arg: bigint | number): Buffer {
  const out = new Out();
  cborHeadTo(out, major, BigInt(arg));
  return out.result();
}

function cborHeadTo(out: Out, major: number, arg: bigint): void {
  const m = major << 5;
  if (arg < 24n) return out.byte(m | Number(arg));
  if (arg < 256n) return out.byte(m | 24, Number(arg));
  if (arg < 65536n) return out.head(m | 25, arg, 2);
  if (arg < 2n ** 32n) return out.head(m | 26, arg, 4);
  return out.head(m | 27, arg, 8);
}

function cborInt(out: Out, v: bigint): void {
  if (v >= 0n && v < 2n ** 64n) return cborHeadTo(out, 0, v);
  if (v < 0n && v >= -(2n ** 64n)) return cborHeadTo(out, 1, -1n - v);
  // A bignum: tag 2 (or 3 for -1 - n) around the big-endian magnitude.
  const magnitude = v >= 0n ? v : -1n - v;
  const hex = magnitude.toString(16);
  const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  cborHeadTo(out, 6, v >= 0n ? 2n : 3n);
  cborHeadTo(out, 2, BigInt(bytes.length));
  out.bytes(bytes);
}

function float16(value: number): number | undefined {
  // Only values a half float holds exactly (enough for the fuzzer: 0, -0, small integers, halves, Inf, NaN).
  if (Number.isNaN(value)) return 0x7e00;
  if (value === Infinity) return 0x7c00;
  if (value === -Infinity) return 0xfc00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a === 0) return sign;
  const exp = Math.floor(Math.log2(a));
  if (exp < -14 || exp > 15) return undefined;
  const mantissa = a / 2 ** exp - 1;
  const bits = mantissa * 1024;
  if (!Number.isInteger(bits)) return undefined;
  return sign | ((exp + 15) << 10) | bits;
}

function writeCbor(out: Out, node: Node): void {
  if (node === null) return out.byte(0xf6);
  if (node instanceof Undefined) return out.byte(0xf7);
  if (typeof node === 'boolean') return out.byte(node ? 0xf5 : 0xf4);
  if (typeof node === 'number') {
    if (Number.isInteger(node) && !Object.is(node, -0) && Math.abs(node) <= 2 ** 64) {
      const v = BigInt(node);
      if (v < 2n ** 64n && v >= -(2n ** 64n)) return cborInt(out, v);
    }
    out.byte(0xfb);
    return out.float(node, 64);
  }
  if (typeof node === 'bigint') return cborInt(out, node);
  if (typeof node === 'string' || node instanceof Utf8) {
    const bytes = typeof node === 'string' ? Buffer.from(node, 'utf8') : node.bytes;
    cborHeadTo(out, 3, BigInt(bytes.length));
    return out.bytes(bytes);
  }
  if (node instanceof Uint8Array) {
    cborHeadTo(out, 2, BigInt(node.length));
    return out.bytes(node);
  }
  if (Array.isArray(node)) {
    cborHeadTo(out, 4, BigInt(node.length));
    for (const item of node) writeCbor(out, item);
    return;
  }
  if (node instanceof Nest) {
    for (let i = 0; i < node.depth; i++) {
      if (nestKey(node.kind, i) === 'array') out.byte(0x81);
      else out.byte(0xa1, 0x61, 0x61); // {"a": ...}
    }
    return writeCbor(out, node.leaf);
  }
  if (node instanceof Float) {
    if (node.width === 16) {
      const half = float16(node.value);
      if (half !== undefined) return out.head(0xf9, BigInt(half), 2);
    }
    if (node.width !== 64 && Object.is(Math.fround(node.value), node.value)) {
      out.byte(0xfa);
      return out.float(node.value, 32);
    }
    out.byte(0xfb);
    return out.float(node.value, 64);
  }
  if (node instanceof Tag) {
    cborHeadTo(out, 6, node.tag);
    return writeCbor(out, node.content);
  }
  if (node instanceof Ext) return writeCbor(out, node.data);
  if (node instanceof Raw) return node.bytes.cbor ? out.bytes(node.bytes.cbor) : writeCbor(out, node.fallback);
  const entries = entriesOf(node as Dict);
  cborHeadTo(out, 5, BigInt(entries.length));
  for (const [k, v] of entries) {
    writeCbor(out, k);
    writeCbor(out, v);
  }
}

// ---------------------------------------------------------------- what a correct decoder sees

/** Summary of a node for the oracle: nesting depth, and whether it must be refused or may go either way. */
export interface Description {
  /** Containers on the deepest path (a scalar is 0, `[]` is 1). */
  depth: number;
  /** Why a correct router must refuse the whole message (undecodable, or not plain data), if it must. */
  reject?: string;
  /** True when some part may be taken or refused: the message's answer cannot be predicted. */
  lax: boolean;
}

/**
 * CBOR tags that are plain data: 64 (bytes as Uint8Array) around a byte
 * string, and in a payload bignums (2/3) of at most MAX_BIGNUM_BYTES. 55799
 * (self-described CBOR) may be taken or refused.
 */
function cborTagMeaning(tag: Tag, inPayload: boolean): 'plain' | 'lax' | 'illegal' {
  if (tag.tag === 64n && tag.content instanceof Uint8Array) return 'plain';
  if ((tag.tag === 2n || tag.tag === 3n) && inPayload && tag.content instanceof Uint8Array && tag.content.length <= MAX_BIGNUM_BYTES)
    return 'plain';
  if (tag.tag === 55799n) return 'lax';
  return 'illegal';
}

/** The longest CBOR bignum a payload may hold: 4300 decimal digits, CPython's default limit for int <-> str. */
const MAX_BIGNUM_BYTES = 1785;
/** Where the Arguments element is, by message code: from there on, a message's elements are its payload. */
const PAYLOAD_AT = new Map([
  [8, 5],
  [16, 4],
  [36, 4],
  [48, 4],
  [50, 3],
  [68, 4],
  [70, 3],
]);

function bignumBytes(n: bigint): number {
  const magnitude = n >= 0n ? n : -1n - n;
  return Math.ceil(magnitude.toString(16).length / 2);
}

export function describe(node: Node, serializer: SerializerName): Description {
  const result: Description = { depth: 0, lax: false };
  // CBOR integers beyond the envelope's 64-bit range, and bignums, are data only in a payload.
  const payloadAt = Array.isArray(node) && node.length <= 8 ? PAYLOAD_AT.get(node[0] as number) : undefined;
  let inPayload = false;
  const visit = (n: Node, level: number): void => {
    if (result.reject) return;
    if (n === null || typeof n === 'boolean' || typeof n === 'string') return void (result.depth = Math.max(result.depth, level));
    if (typeof n === 'number') {
      if (serializer === 'json' && Number.isNaN(n)) result.reject = 'NaN is not JSON';
      return void (result.depth = Math.max(result.depth, level));
    }
    if (typeof n === 'bigint') {
      if (serializer === 'cbor' && (n >= 2n ** 64n || n < -(2n ** 64n)) && !(inPayload && bignumBytes(n) <= MAX_BIGNUM_BYTES))
        result.reject = 'a CBOR bignum (tag 2/3) outside a payload, or a long one';
      else if (serializer === 'cbor' && n < -(2n ** 63n) && !inPayload) result.reject = 'a CBOR integer below -2^63 outside a payload';
      return void (result.depth = Math.max(result.depth, level));
    }
    if (n instanceof Uint8Array) return void (result.depth = Math.max(result.depth, level));
    if (Array.isArray(n)) {
      result.depth = Math.max(result.depth, level + 1);
      for (let i = 0; i < n.length; i++) {
        if (n === node) inPayload = payloadAt !== undefined && i >= payloadAt;
        visit(n[i]!, level + 1);
      }
      return;
    }
    if (n instanceof Nest) {
      result.depth = Math.max(result.depth, level + n.depth);
      return visit(n.leaf, level + n.depth);
    }
    if (n instanceof Utf8) {
      const valid = isUtf8(n.bytes);
      if (serializer === 'json' && !valid) result.reject = 'invalid UTF-8 in JSON text';
      else result.lax ||= !valid || serializer === 'json'; // invalid UTF-8 in a binary string: refused or replaced, either is fine
      return void (result.depth = Math.max(result.depth, level));
    }
    if (n instanceof Float) {
      if (serializer === 'json' && Number.isNaN(n.value)) result.reject = 'NaN is not JSON';
      return void (result.depth = Math.max(result.depth, level));
    }
    if (n instanceof Undefined) {
      result.lax ||= serializer === 'cbor';
      return void (result.depth = Math.max(result.depth, level));
    }
    if (n instanceof Tag) {
      if (serializer !== 'cbor') return visit(n.content, level);
      const meaning = cborTagMeaning(n, inPayload);
      if (meaning === 'illegal') result.reject = `CBOR tag ${n.tag}`;
      else if (meaning === 'lax') result.lax = true;
      return visit(n.content, level);
    }
    if (n instanceof Ext) {
      if (serializer === 'msgpack') {
        // fixext 1, type 0, data 0 is msgpackr's (and notepack's) undefined, which wampy sends: Kreuz takes it as undefined on purpose.
        if (isMsgpackrUndefined(n)) result.lax = true;
        else result.reject = `msgpack extension type ${n.type}`;
      }
      return void (result.depth = Math.max(result.depth, level));
    }
    if (n instanceof Raw) {
      const meaning = n.meaning[serializer] ?? (n.bytes[serializer] ? 'lax' : { is: n.fallback });
      if (meaning === 'undecodable') result.reject = `undecodable: ${n.label}`;
      else if (meaning === 'illegal') result.reject = `not plain data: ${n.label}`;
      else if (meaning === 'lax') result.lax = true;
      else visit(meaning.is, level);
      return;
    }
    // Dict or plain object
    result.depth = Math.max(result.depth, level + 1);
    for (const [k, v] of entriesOf(n as Dict)) {
      if (typeof k !== 'string' && serializer !== 'json') {
        result.lax = true; // a map key that is no string
        visit(k, level + 1);
      }
      visit(v, level + 1);
    }
  };
  visit(node, 0);
  return result;
}

/** msgpackr's encoding of undefined: fixext 1 of type 0 holding 0. */
export function isMsgpackrUndefined(ext: Ext): boolean {
  return ext.type === 0 && ext.form === 'fixext' && ext.data.length === 1 && ext.data[0] === 0;
}

/** The type a correct decoder gives a node (shallow), for shape checks. */
export type View =
  | { t: 'list'; items: Node[] }
  | { t: 'dict' }
  | { t: 'num'; v: number }
  | { t: 'str' }
  | { t: 'bytes' }
  | { t: 'bool' }
  | { t: 'null' }
  | { t: 'lax' };

export function view(node: Node, serializer: SerializerName): View {
  if (node === null) return { t: 'null' };
  if (typeof node === 'boolean') return { t: 'bool' };
  if (typeof node === 'number') return { t: 'num', v: node };
  if (typeof node === 'bigint') return { t: 'num', v: Number(node) };
  // WAMP's JSON sends binary as a string starting with NUL.
  if (typeof node === 'string') return serializer === 'json' && node.startsWith('\0') ? { t: 'bytes' } : { t: 'str' };
  if (node instanceof Uint8Array) return { t: 'bytes' };
  if (Array.isArray(node)) return { t: 'list', items: node };
  if (node instanceof Nest) {
    const first = nestKey(node.kind, 0);
    if (first === 'dict') return { t: 'dict' };
    const inner = node.depth > 1 ? new Nest(node.depth - 1, node.kind === 'mixed' ? 'mixed' : node.kind, node.leaf) : node.leaf;
    // A mixed nest continues with a dict level: shift its phase by writing it as an explicit dict.
    if (node.kind === 'mixed' && node.depth > 1)
      return { t: 'list', items: [ownKeys([['a', new Nest(node.depth - 2, 'mixed', node.leaf)]])] };
    return { t: 'list', items: [inner] };
  }
  if (node instanceof Utf8) return isUtf8(node.bytes) && !(serializer === 'json' && node.bytes[0] === 0) ? { t: 'str' } : { t: 'lax' };
  if (node instanceof Float) return { t: 'num', v: node.width === 32 ? Math.fround(node.value) : node.value };
  if (node instanceof Undefined) return serializer === 'cbor' ? { t: 'lax' } : { t: 'null' };
  if (node instanceof Tag) {
    if (serializer !== 'cbor') return view(node.content, serializer);
    return cborTagMeaning(node, false) === 'plain' ? { t: 'bytes' } : { t: 'lax' };
  }
  if (node instanceof Ext) return serializer === 'msgpack' ? { t: 'lax' } : { t: 'bytes' };
  if (node instanceof Raw) {
    const meaning = node.meaning[serializer] ?? (node.bytes[serializer] ? 'lax' : { is: node.fallback });
    return typeof meaning === 'object' ? view(meaning.is, serializer) : { t: 'lax' };
  }
  return { t: 'dict' };
}
