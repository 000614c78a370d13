/**
 * Dictionaries of nasty input, and the fast-check generators built on them.
 * Each dictionary is a plain list (the hostile tests use them directly); the
 * generators put their entries where they hurt: option, detail and kwargs
 * keys, authmethods, authid, authrole, realms, URIs, IDs, match and invoke
 * values, every message type in every position. Binary serializers get raw
 * bytes (wire-model.ts), so malformed CBOR and msgpack reach the decoder.
 */
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { Dict, Ext, Float, Nest, Raw, Tag, Undefined, Utf8, encode, ownKeys, type ExtForm, type Node } from './wire-model.ts';

// ------------------------------------------------------------------ names

/**
 * Names every plain object answers through Object.prototype (and a few that
 * JavaScript treats specially: thenables, toJSON, Function.prototype names).
 * `rules[key]` on a plain object finds these; `obj[key] = v` with
 * "__proto__" replaces a prototype.
 */
export const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'valueOf',
  'toString',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'prototype',
  'then',
  'toJSON',
  'length',
  'call',
  'apply',
  'bind',
] as const;

/** The option names of the spec, each paired below only with values of the wrong type. */
// biome-ignore format: a dictionary reads better as a table
export const OPTION_NAMES = [
  'acknowledge', 'exclude_me', 'disclose_me', 'retain', 'exclude', 'eligible', 'exclude_authid', 'exclude_authrole',
  'eligible_authid', 'eligible_authrole', 'match', 'get_retained', 'timeout', 'receive_progress', 'progress', 'mode',
  'invoke', 'concurrency', 'disclose_caller', 'ppt_scheme', 'ppt_serializer', 'ppt_cipher', 'ppt_keyid', 'enc_algo',
  'enc_key', 'enc_serializer', 'rkey', 'forward_for',
] as const;

// ------------------------------------------------------------------ numbers and IDs

/**
 * IDs and request IDs at and past the edges of [1, 2^53], and numbers that
 * are no integers at all. 2^53 + 1 is a bigint, so it reaches the wire exactly
 * (and decodes to 2^53 with JSON number semantics); 2^64 does not fit uint64.
 */
// biome-ignore format: a dictionary reads better as a table
export const NASTY_IDS: readonly Node[] = [
  0, -1, 1, 2, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2n ** 53n + 1n, 2 ** 63, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, 2 ** 64,
  -(2 ** 53), -(2n ** 63n), -(2n ** 64n), -(2n ** 64n) - 1n, 1.5, 0.5, -0, NaN, Infinity, -Infinity, 1e308, Number.MIN_VALUE,
  new Float(7, 64), new Float(7, 32), new Float(7, 16), new Float(NaN, 16), '1', '', null, true, [], {}, new Uint8Array([1]),
];

/** Message type codes: all of 0..300, and codes past any byte or integer edge. */
// biome-ignore format: a dictionary reads better as a table
export const MESSAGE_CODES: readonly Node[] = [
  ...Array.from({ length: 301 }, (_, i) => i),
  2 ** 16, 2 ** 31, 2 ** 32, 2 ** 53, 2n ** 64n - 1n, -1, -48, 48.5, new Float(48, 64), NaN, '48', null, [48],
];

/** Bignums: past 64 bits (CBOR writes tags 2/3), and at the uint64/int64 edges. */
// biome-ignore format: a dictionary reads better as a table
export const BIG_INTEGERS: readonly Node[] = [
  2n ** 64n, 2n ** 64n + 1n, -(2n ** 64n) - 1n, 2n ** 128n, -(2n ** 200n), 10n ** 300n, 2n ** 64n - 1n, -(2n ** 63n),
];

// ------------------------------------------------------------------ strings and URIs

/** Invalid and borderline UTF-8, as text-string bytes. */
// biome-ignore format: a dictionary reads better as a table
export const BAD_UTF8: readonly Utf8[] = [
  [0xff], [0xfe, 0xff], [0xc0, 0x80] /* overlong NUL */, [0xed, 0xa0, 0x80] /* WTF-8 lone surrogate */,
  [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80] /* past U+10FFFF */, [0xe2, 0x82] /* truncated */, [0x80],
  [0x63, 0x6f, 0x6d, 0x2e, 0xff] /* "com.\xff" */, [0xef, 0xbb, 0xbf, 0x61] /* BOM + a */,
].map((b) => new Utf8(Uint8Array.from(b)));

/** Strings with NUL (WAMP's JSON reads a leading NUL as binary), lone surrogates, control and odd characters. */
// biome-ignore format: a dictionary reads better as a table
export const NASTY_STRINGS: readonly Node[] = [
  '', '\0', '\0AAAA', '\0!!', 'a\0b', 'com.\0.x', '\ud800', '\udfff', 'a\udc00b', '\ud83d', '😀', '\u202e', '\ufeff',
  '\u2028', '\r\n', ' ', '.', '..', '#', 'x'.repeat(65_536), ...BAD_UTF8,
];

/** Prototype names as whole URIs and as URI components, in exact, prefix and wildcard forms. */
export const PROTOTYPE_URIS: readonly string[] = PROTOTYPE_NAMES.flatMap((n) => [
  n,
  `com.${n}`,
  `${n}.x`,
  `com.${n}.${n}`,
  `com..${n}`,
  `${n}.`,
  `wamp.${n}`,
  `com.bystander.${n}`,
]);

/** Well-formed and malformed URIs (the spec answers a bad URI with ERROR invalid_uri, not ABORT). */
// biome-ignore format: a dictionary reads better as a table
export const URIS: readonly string[] = [
  'com.bystander.echo', 'com.bystander.news', 'com.fuzz.proc', 'com.fuzz.topic', 'com.fuzz', 'com.', 'com..x', '.com', 'com.x.',
  'a b', 'com.x#', 'wamp.session.count', 'wamp.registration.list', 'wamp.', 'wamp.x', '', 'com.locked.news',
  ...PROTOTYPE_URIS.slice(0, 40),
];

/** A URI of about `length` characters, all valid components: the router must treat it like any other. */
export function hugeUri(length: number, component = 'abcdefghij'): string {
  const parts = ['com'];
  let size = 3;
  while (size < length) {
    parts.push(component);
    size += component.length + 1;
  }
  return parts.join('.');
}

/** Huge URIs: one long component, many components, up to ~1 MB (under the 1 MiB message limit with the rest). */
export const HUGE_URIS: readonly string[] = [hugeUri(64 * 1024), `com.${'x'.repeat(200_000)}`, hugeUri(1_000_000)];

/** Realm names: prototype names, malformed and huge. */
// biome-ignore format: a dictionary reads better as a table
export const REALMS: readonly Node[] = [
  'realm1', 'locked', ...PROTOTYPE_NAMES, 'realm1.__proto__', '', 'realm1 ', hugeUri(100_000), 42, null, ['realm1'],
];

/** Match and invoke policies: the valid ones, prototype names and wrong types. */
export const MATCH_VALUES: readonly Node[] = ['exact', 'prefix', 'wildcard', ...PROTOTYPE_NAMES, 'EXACT', '', 1, null, ['prefix'], {}];
export const INVOKE_VALUES: readonly Node[] = [
  'single',
  'roundrobin',
  'random',
  'first',
  'last',
  ...PROTOTYPE_NAMES,
  'all',
  '',
  0,
  true,
  {},
];

/** Cancel modes. */
export const CANCEL_MODES: readonly Node[] = ['skip', 'kill', 'killnowait', ...PROTOTYPE_NAMES, '', 1];

// ------------------------------------------------------------------ depth bombs

/** Nesting depths around the decode limit (64, the message array counting as 1) and far past it. */
export const DEPTHS = [63, 64, 65, 1000, 100_000] as const;

/**
 * A depth bomb for the args/kwargs/options position of a message (the
 * message array is level 1 and the bomb starts at level 2), so that the
 * whole message is nested exactly `messageDepth` deep.
 */
export function bomb(messageDepth: number, kind: 'array' | 'dict' | 'mixed', leaf: Node = 1): Nest {
  return new Nest(messageDepth - 1, kind, leaf);
}

// ------------------------------------------------------------------ CBOR

/** Every tag number 0..300, and tag numbers that need 4- and 8-byte heads. */
export const CBOR_TAG_NUMBERS: readonly bigint[] = [
  ...Array.from({ length: 301 }, (_, i) => BigInt(i)),
  2n ** 16n,
  2n ** 32n,
  2n ** 64n - 1n,
  55799n,
  0xd9d9f7n,
];

/** What goes inside a tag: integers, strings, bytes of typed-array lengths and odd lengths, containers, a tag. */
// biome-ignore format: a dictionary reads better as a table
export const CBOR_TAG_CONTENTS: readonly Node[] = [
  0, 1, -1, 2 ** 32, 1.5, 'x', 'com.bystander.echo', '2026-01-01T00:00:00Z', new Uint8Array(0), new Uint8Array(1).fill(1),
  new Uint8Array(7).fill(0xff), new Uint8Array(8).fill(0x80), new Uint8Array(16).fill(1), [], ['RegExp', '(a+)+$'],
  ['Error', 'x'], ['constructor', 1], [0, 1], { a: 1 }, null, true, new Tag(64n, new Uint8Array([1])),
];

/** RFC 8746 typed arrays (tags 64..87) around byte strings: aligned, odd and empty. 79 is little-endian BigInt64Array. */
export const CBOR_TYPED_ARRAYS: readonly Tag[] = Array.from({ length: 24 }, (_, i) => 64 + i).flatMap((tag) =>
  [8, 16, 3, 0].map(
    (n) =>
      new Tag(
        BigInt(tag),
        Uint8Array.from({ length: n }, (_, j) => (j * 37) & 0xff),
      ),
  ),
);

/** A CBOR bignum of `bytes` bytes (tag 2 around a byte string): big ones take quadratic time to convert naively. */
export function cborBignum(bytes: number, negative = false): Tag {
  return new Tag(negative ? 3n : 2n, new Uint8Array(bytes).fill(0xa5));
}

/** A CBOR simple value (0..255) as raw bytes: 0..15 are also cbor-x's packed references. */
export function cborSimple(n: number): Raw {
  return new Raw(`CBOR simple(${n})`, { cbor: n < 24 ? Uint8Array.of(0xe0 | n) : Uint8Array.of(0xf8, n) }, { cbor: 'lax' }, null);
}

/**
 * Value sharing and packing (tags 28/29 and 51/6): a CALL whose procedure is
 * a packed reference, a shared cycle, and a "billion laughs" table where
 * each level refers twice to the one before (a few hundred bytes that stand
 * for 2^levels leaves).
 */
export function packedCall(): Node {
  // tag 51 [ [packed values], [prefixes], [suffixes], rump ]; simple(0) refers to the first packed value.
  return new Tag(51n, [['com.bystander.echo'], [], [], [48, 1, {}, cborSimple(0), [1]]]);
}

export function packedCallByTag6(): Node {
  const values = Array.from({ length: 17 }, (_, i) => `com.packed.${i}`);
  values[16] = 'com.bystander.echo';
  return new Tag(51n, [values, [], [], [48, 1, {}, new Tag(6n, 0), [1]]]);
}

export function packedLaughs(levels: number, rump: (ref: Node) => Node): Node {
  let node = rump(cborSimple(0));
  for (let i = 0; i < levels; i++) node = new Tag(51n, [[[cborSimple(0), cborSimple(0)]], [], [], node]);
  return new Tag(51n, [['laugh'], [], [], node]);
}

export function sharedCycle(): Node {
  // tag 28 marks [ tag 29(0) ]: an array that contains itself.
  return new Tag(28n, [new Tag(29n, 0)]);
}

/** Malformed CBOR: each entry is a whole message's bytes that no correct decoder accepts. */
export const CBOR_MALFORMED: ReadonlyArray<[string, Buffer]> = [
  ['truncated array', Buffer.from([0x84, 0x18, 0x30, 0x01])],
  ['array of 2^64-1 elements', Buffer.from([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
  ['array of 2^32-1 elements', Buffer.from([0x9a, 0xff, 0xff, 0xff, 0xff])],
  ['byte string of 2^32 bytes', Buffer.from([0x5b, 0, 0, 0, 1, 0, 0, 0, 0])],
  ['reserved additional info 28', Buffer.from([0x1c])],
  ['reserved additional info 30 in an array', Buffer.from([0x82, 0x18, 0x30, 0x3e])],
  ['a lone break', Buffer.from([0xff])],
  ['indefinite array without break', Buffer.from([0x9f, 0x18, 0x30, 0x01])],
  ['indefinite text with a byte-string chunk', Buffer.from([0x7f, 0x41, 0x61, 0xff])],
  ['indefinite integer', Buffer.from([0x1f])],
  ['trailing bytes', Buffer.concat([encode([48, 1, {}, 'com.x'], 'cbor'), Buffer.from([0x00])])],
  ['two messages in one', Buffer.concat([encode([48, 1, {}, 'com.x'], 'cbor'), encode([48, 2, {}, 'com.x'], 'cbor')])],
  ['tag without content', Buffer.from([0x82, 0x18, 0x30, 0xc2])],
  ['map with a missing value', Buffer.from([0x84, 0x18, 0x30, 0x01, 0xa1, 0x61, 0x61])],
  ['text string longer than the message', Buffer.from([0x84, 0x18, 0x30, 0x01, 0xa0, 0x7a, 0x00, 0x10, 0x00, 0x00, 0x61])],
  ['a simple value 24 < n < 32 in two bytes', Buffer.from([0x81, 0xf8, 0x10])],
];

// ------------------------------------------------------------------ msgpack

/** Every msgpack extension type, -128..127. */
export const MSGPACK_EXT_TYPES: readonly number[] = Array.from({ length: 256 }, (_, i) => i - 128);
export const EXT_FORMS: readonly ExtForm[] = ['fixext', 'ext8', 'ext16', 'ext32'];

/** Extension payloads: the fixext lengths, empty, odd, and ones that look like msgpack themselves. */
// biome-ignore format: a dictionary reads better as a table
export const EXT_PAYLOADS: readonly Uint8Array[] = [
  new Uint8Array(0), Uint8Array.of(0), Uint8Array.of(1, 2), Uint8Array.of(0, 0, 0, 1), new Uint8Array(8).fill(0xff),
  new Uint8Array(16).fill(7), new Uint8Array(12), Uint8Array.of(3),
  Uint8Array.of(0x92, 0xa6, ...Buffer.from('RegExp'), 0xa6, ...Buffer.from('(a+)+$')) /* ["RegExp", "(a+)+$"] */,
  Uint8Array.of(0x91, 0xab, ...Buffer.from('constructor')), new Uint8Array(300).fill(0x90),
];

/** Malformed msgpack: whole messages no correct decoder accepts. */
export const MSGPACK_MALFORMED: ReadonlyArray<[string, Buffer]> = [
  ['never-used byte 0xc1', Buffer.from([0xc1])],
  ['0xc1 inside an array', Buffer.from([0x94, 0x30, 0x01, 0x80, 0xc1])],
  ['truncated array', Buffer.from([0x94, 0x30, 0x01])],
  ['array32 of 2^32-1 elements', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])],
  ['map32 of 2^32-1 entries', Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff])],
  ['bin32 of 2^32-1 bytes', Buffer.from([0xc6, 0xff, 0xff, 0xff, 0xff])],
  ['str32 of 2^32-1 bytes', Buffer.from([0x94, 0x30, 0x01, 0x80, 0xdb, 0xff, 0xff, 0xff, 0xff])],
  ['ext32 of 2^32-1 bytes', Buffer.from([0xc9, 0xff, 0xff, 0xff, 0xff, 0x01])],
  ['truncated uint64', Buffer.from([0x92, 0x30, 0xcf, 0x00])],
  ['trailing bytes', Buffer.concat([encode([48, 1, {}, 'com.x'], 'msgpack'), Buffer.from([0xc0])])],
  ['two messages in one', Buffer.concat([encode([48, 1, {}, 'com.x'], 'msgpack'), encode([48, 2, {}, 'com.x'], 'msgpack')])],
  ['fixext 1 record definition (0x72)', Buffer.from([0x94, 0x30, 0x01, 0x80, 0xd4, 0x72, 0x40])],
];

// ------------------------------------------------------------------ JSON

/** Malformed JSON text: whole messages JSON.parse must refuse (or that are not UTF-8). */
export const JSON_MALFORMED: ReadonlyArray<[string, Buffer]> = [
  ['unterminated array', Buffer.from('[48, 1, {}, "com.x"')],
  ['trailing comma', Buffer.from('[48, 1, {}, "com.x",]')],
  ['NaN', Buffer.from('[48, NaN, {}, "com.x"]')],
  ['Infinity token', Buffer.from('[48, Infinity, {}, "com.x"]')],
  ['single quotes', Buffer.from("[48, 1, {}, 'com.x']")],
  ['a comment', Buffer.from('[48, 1, {} /* x */, "com.x"]')],
  ['a byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[48, 1, {}, "com.x"]')])],
  ['invalid UTF-8', Buffer.from([0x5b, 0x34, 0x38, 0x2c, 0x22, 0xff, 0x22, 0x5d])],
  ['UTF-16', Buffer.from('[48, 1, {}, "com.x"]', 'utf16le')],
  ['two messages in one', Buffer.from('[48, 1, {}, "com.x"][48, 2, {}, "com.x"]')],
  ['trailing garbage', Buffer.from('[48, 1, {}, "com.x"]x')],
  ['raw control character in a string', Buffer.from('[48, 1, {}, "com.\u0001x"]')],
  ['empty text', Buffer.alloc(0)],
  ['a raw NUL byte', Buffer.from([0x00])],
];

/** A whole message that is undecodable in every serializer, each its own way. */
export function undecodable(index: number): Raw {
  const pick = <T>(list: readonly T[]) => list[index % list.length];
  const [jl, json] = pick(JSON_MALFORMED);
  const [ml, msgpack] = pick(MSGPACK_MALFORMED);
  const [cl, cbor] = pick(CBOR_MALFORMED);
  // The msgpack record definition is well-formed, but an extension: refused all the same.
  return new Raw(
    `json: ${jl}; msgpack: ${ml}; cbor: ${cl}`,
    { json, msgpack, cbor },
    { json: 'undecodable', msgpack: 'undecodable', cbor: 'undecodable' },
  );
}

// ------------------------------------------------------------------ vectors and live shapes

/** Decoded messages of the wire vectors: realistic shapes to mutate. */
export function vectorMessages(): Node[][] {
  const dir = new URL('../fixtures/wamp-vectors/', import.meta.url);
  const out: Node[][] = [];
  for (const file of readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.json'))) {
    const data = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
    for (const sample of data.samples ?? []) {
      for (const rep of sample.serializers?.json ?? []) {
        if (typeof rep.bytes === 'string') out.push(JSON.parse(rep.bytes) as Node[]);
      }
    }
  }
  return out;
}

/** Live-traffic shapes a client sends, with valid and invalid variations. */
export const LIVE_SHAPES: readonly Node[][] = [
  [1, 'realm1', { roles: { caller: {}, callee: {} } }],
  [64, 1, {}, 'com.fuzz.proc'],
  [64, 2, { match: 'prefix', invoke: 'roundrobin' }, 'com.fuzz.'],
  [66, 3, 1],
  [48, 4, {}, 'com.bystander.echo', [1], { a: 1 }],
  [48, 5, { receive_progress: true, timeout: 10 }, 'com.fuzz.proc'],
  [49, 5, { mode: 'kill' }],
  [70, 1, {}, ['r']],
  [70, 1, { progress: true }],
  [8, 68, 1, {}, 'com.fuzz.error', [], {}],
  [32, 6, {}, 'com.bystander.news'],
  [32, 7, { match: 'wildcard', get_retained: true }, 'com..news'],
  [34, 8, 1],
  [16, 9, { acknowledge: true, exclude_me: false, retain: true }, 'com.bystander.news', ['fuzz']],
  [16, 10, { eligible: [1, 2], exclude_authrole: ['x'] }, 'com.fuzz.topic'],
  [6, {}, 'wamp.close.close_realm'],
  [3, {}, 'wamp.error.fuzz'],
  [5, 'signature', {}],
];

// ------------------------------------------------------------------ generators

const pick = <T>(list: readonly T[]) => fc.constantFrom(...list);

const bytesArb = fc.uint8Array({ maxLength: 24 });

/** A scalar from the dictionaries, or a plain random one. */
const nastyScalar: fc.Arbitrary<Node> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.integer({ min: -5, max: 2 ** 53 + 5 }),
      fc.double(),
      fc.string({ maxLength: 12 }),
      fc.boolean(),
      fc.constant(null),
      bytesArb,
    ),
  },
  { weight: 2, arbitrary: pick(NASTY_IDS) },
  { weight: 2, arbitrary: pick(NASTY_STRINGS.filter((s) => typeof s !== 'string' || s.length < 1000)) },
  { weight: 2, arbitrary: pick(PROTOTYPE_NAMES) },
  { weight: 1, arbitrary: pick(BIG_INTEGERS) },
  { weight: 1, arbitrary: pick(URIS) },
  { weight: 1, arbitrary: fc.constant(new Undefined()) },
);

/** A key for a dict: a prototype name most of the time, else a random or known one. */
const nastyKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: pick(PROTOTYPE_NAMES) },
  { weight: 1, arbitrary: pick(OPTION_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: pick(['', '\0', '\ud800', 'a.b', '__proto__ ', 'Constructor']) },
);

/** Binary-only nasties: CBOR tags, bignums, typed arrays, packing, msgpack extensions, odd floats, simple values. */
export const binaryNasty: fc.Arbitrary<Node> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(pick(CBOR_TAG_NUMBERS), pick(CBOR_TAG_CONTENTS)).map(([t, c]) => new Tag(t, c)) },
  { weight: 2, arbitrary: pick(CBOR_TYPED_ARRAYS) },
  // 1785 bytes is the longest bignum a payload may hold (4300 digits), 1786 one past it.
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(8, 64, 1024, 1785, 1786), fc.boolean()).map(([n, negative]) => cborBignum(n, negative)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      sharedCycle(),
      cborSimple(0),
      cborSimple(15),
      cborSimple(19),
      cborSimple(255),
      new Tag(6n, 0),
      new Tag(6n, -1),
    ),
  },
  { weight: 3, arbitrary: fc.tuple(pick(MSGPACK_EXT_TYPES), pick(EXT_PAYLOADS), pick(EXT_FORMS)).map(([t, d, f]) => new Ext(t, d, f)) },
  { weight: 1, arbitrary: fc.tuple(fc.double(), fc.constantFrom<16 | 32 | 64>(16, 32, 64)).map(([v, w]) => new Float(v, w)) },
);

/** Any value, nested a little: the dictionaries' scalars, dicts with prototype keys, binary nasties. */
export const nastyValue: fc.Arbitrary<Node> = fc.letrec<{ v: Node }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: nastyScalar },
    { weight: 2, arbitrary: fc.array(tie('v'), { maxLength: 4 }) },
    { weight: 2, arbitrary: fc.array(fc.tuple(nastyKey, tie('v')), { maxLength: 4 }).map((e) => ownKeys(e)) },
    { weight: 1, arbitrary: binaryNasty },
  ),
})).v;

/** A dict with prototype-named (and other) keys: as options, details, kwargs. */
export const protoDict: fc.Arbitrary<Node> = fc
  .array(fc.tuple(nastyKey, nastyValue), { minLength: 1, maxLength: 4 })
  .map((entries) => ownKeys(entries));

/** Nasty but plain data, valid in every serializer (no tags, extensions, bignums, NaN): reaches the router's deeper code. */
const plainScalar: fc.Arbitrary<Node> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.integer({ min: -(2 ** 53), max: 2 ** 53 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string({ maxLength: 12 }),
      fc.boolean(),
      fc.constant(null),
      bytesArb,
    ),
  },
  { weight: 2, arbitrary: pick(PROTOTYPE_NAMES) },
  { weight: 1, arbitrary: pick(NASTY_STRINGS.filter((x): x is string => typeof x === 'string' && x.length < 1000)) },
  { weight: 1, arbitrary: pick(URIS) },
);

export const plainValue: fc.Arbitrary<Node> = fc.letrec<{ v: Node }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: plainScalar },
    { weight: 2, arbitrary: fc.array(tie('v'), { maxLength: 4 }) },
    { weight: 2, arbitrary: fc.array(fc.tuple(nastyKey, tie('v')), { maxLength: 4 }).map((e) => ownKeys(e)) },
  ),
})).v;

const plainProtoDict: fc.Arbitrary<Node> = fc.array(fc.tuple(nastyKey, plainValue), { minLength: 1, maxLength: 4 }).map((e) => ownKeys(e));

/** An options dict for `code`: mostly fine, sometimes with prototype keys or known options of the wrong type. */
function optionsFor(code: number, wellFormed = false): fc.Arbitrary<Node> {
  const known: Record<number, fc.Arbitrary<Node>> = {
    32: fc.record({ match: pick(MATCH_VALUES) }, { requiredKeys: [] }),
    64: fc.record({ match: pick(MATCH_VALUES), invoke: pick(INVOKE_VALUES) }, { requiredKeys: [] }),
    49: fc.record({ mode: pick(CANCEL_MODES) }, { requiredKeys: [] }),
  };
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant({}) },
    { weight: 3, arbitrary: wellFormed ? plainProtoDict : protoDict },
    { weight: 2, arbitrary: known[code] ?? fc.constant({ acknowledge: true }) },
    // A known option with a value of the wrong type (never a valid one: no force_reregister stealing the bystander's procedure).
    {
      weight: 1,
      arbitrary: fc.tuple(pick(OPTION_NAMES), pick([1.5, 'x', null, [], {}, -1, 2 ** 53 + 2] as Node[])).map(([k, v]) => ownKeys([[k, v]])),
    },
    {
      weight: wellFormed ? 0 : 1,
      arbitrary: pick([
        null,
        [],
        'x',
        0,
        new Dict([[1, 2]]),
        new Dict([
          ['a', 1],
          ['a', 2],
        ]),
      ] as Node[]),
    },
  );
}

const uriArb: fc.Arbitrary<Node> = fc.oneof(
  { weight: 4, arbitrary: pick(URIS) },
  { weight: 4, arbitrary: pick(PROTOTYPE_URIS) },
  { weight: 1, arbitrary: pick(NASTY_STRINGS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: pick(NASTY_IDS) },
);

const idArb: fc.Arbitrary<Node> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 2 ** 53 }) },
  { weight: 2, arbitrary: pick(NASTY_IDS) },
);
const argsArb: fc.Arbitrary<Node> = fc.oneof(
  { weight: 3, arbitrary: fc.array(nastyValue, { maxLength: 3 }) },
  { weight: 1, arbitrary: nastyValue },
);
const kwargsArb: fc.Arbitrary<Node> = fc.oneof({ weight: 3, arbitrary: protoDict }, { weight: 1, arbitrary: nastyValue });

/** Optional trailing args/kwargs. */
function payloadOf(args: fc.Arbitrary<Node>, kwargs: fc.Arbitrary<Node>): fc.Arbitrary<Node[]> {
  return fc.oneof(
    fc.constant([] as Node[]),
    args.map((a) => [a]),
    fc.tuple(args, kwargs).map(([a, k]) => [a, k]),
  );
}

/** HELLO.Details with prototype names as role names, features, authmethods, authid, authrole and authextra keys. */
export const helloDetails: fc.Arbitrary<Node> = fc
  .record(
    {
      roles: fc.oneof(
        fc.constant({ caller: {}, callee: {}, publisher: {}, subscriber: {} } as Node),
        fc
          .array(
            fc.tuple(
              fc.oneof(pick(PROTOTYPE_NAMES), pick(['caller', 'callee', 'publisher', 'subscriber'])),
              fc.oneof(
                fc.constant({} as Node),
                protoDict.map((f) => ({ features: f })),
                nastyValue,
              ),
            ),
            { minLength: 1, maxLength: 3 },
          )
          .map((e) => ownKeys(e)),
        nastyValue,
      ),
      authmethods: fc.oneof(
        fc.array(fc.oneof(pick(PROTOTYPE_NAMES), pick(['ticket', 'anonymous', 'wampcra', 'cryptosign'])), { maxLength: 3 }),
        nastyValue,
      ),
      authid: fc.oneof(pick(PROTOTYPE_NAMES), pick(['joe', '', 'x'.repeat(10_000)]), nastyValue),
      authrole: fc.oneof(pick(PROTOTYPE_NAMES), pick(['trusted', 'user', 'anonymous']), nastyValue),
      authextra: fc.oneof(protoDict, nastyValue),
    },
    { requiredKeys: ['roles'] },
  )
  .chain((d) => fc.option(protoDict).map((extra) => (extra ? ownKeys([...Object.entries(d), ...Object.entries(extra as object)]) : d)));

interface Slots {
  id: fc.Arbitrary<Node>;
  uri: fc.Arbitrary<Node>;
  payload: fc.Arbitrary<Node[]>;
  options: (code: number) => fc.Arbitrary<Node>;
  details: fc.Arbitrary<Node>;
}

/** Every client message type, its slots drawn from `slots`. */
function clientMessages(slots: Slots): fc.Arbitrary<Node> {
  const { id, uri, payload, options, details } = slots;
  return fc.oneof(
    fc.tuple(fc.oneof(pick(REALMS), uri), helloDetails).map(([realm, d]) => [1, realm, d]),
    fc.tuple(details, uri).map(([d, r]) => [3, d, r]),
    fc.tuple(fc.oneof(fc.constant('joe-secret-ticket' as Node), nastyScalar), details).map(([s, e]) => [5, s, e]),
    fc.tuple(details, uri).map(([d, r]) => [6, d, r]),
    fc
      .tuple(fc.oneof(fc.constant(68 as Node), pick(MESSAGE_CODES)), id, options(8), uri, payload)
      .map(([t, i, d, u, p]) => [8, t, i, d, u, ...p]),
    fc.tuple(id, options(16), uri, payload).map(([i, o, u, p]) => [16, i, o, u, ...p]),
    fc.tuple(id, options(32), uri).map(([i, o, u]) => [32, i, o, u]),
    fc.tuple(id, id).map(([i, sub]) => [34, i, sub]),
    fc.tuple(id, options(48), uri, payload).map(([i, o, u, p]) => [48, i, o, u, ...p]),
    fc.tuple(id, options(49)).map(([i, o]) => [49, i, o]),
    fc.tuple(id, options(64), uri).map(([i, o, u]) => [64, i, o, u]),
    fc.tuple(id, id).map(([i, r]) => [66, i, r]),
    fc.tuple(id, options(70), payload).map(([i, o, p]) => [70, i, o, ...p]),
  );
}

/** Every client message type, each slot drawn from the dictionaries: IDs, options, URIs and payloads may all be wrong. */
export const clientMessage: fc.Arbitrary<Node> = clientMessages({
  id: idArb,
  uri: uriArb,
  payload: payloadOf(argsArb, kwargsArb),
  options: (code) => optionsFor(code),
  details: fc.oneof(protoDict, fc.constant({})),
});

/**
 * Well-formed messages with nasty content (prototype names as keys, URIs and
 * values, odd strings and numbers, wrongly typed known options): they pass
 * the shape check and reach the dealer, the broker and the authorizer.
 */
export const wellFormedMessage: fc.Arbitrary<Node> = clientMessages({
  id: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 2 ** 53 }) },
    { weight: 1, arbitrary: fc.constantFrom<Node>(1, 2, 2 ** 53, 2 ** 53 - 1, 2n ** 53n + 1n) },
  ),
  uri: fc.oneof(
    { weight: 4, arbitrary: pick(URIS) },
    { weight: 4, arbitrary: pick(PROTOTYPE_URIS) },
    { weight: 1, arbitrary: pick(NASTY_STRINGS.filter((x): x is string => typeof x === 'string')) },
  ),
  payload: payloadOf(fc.array(plainValue, { maxLength: 3 }), plainProtoDict),
  options: (code) => optionsFor(code, true),
  details: fc.oneof(plainProtoDict, fc.constant({})),
});

/**
 * A little session on one nasty URI (prototype names as the URI or its
 * components): REGISTER it (exact, prefix or wildcard), CALL what it matches,
 * SUBSCRIBE and PUBLISH to it, with nasty options and payloads, then take it
 * all back. The dealer and broker see prototype names as keys of their maps.
 */
export const scriptMessages: fc.Arbitrary<Node[]> = fc
  .tuple(
    fc.oneof(pick(PROTOTYPE_URIS), pick(URIS.filter((u) => u.startsWith('com.') && !u.startsWith('com.bystander')))),
    fc.constantFrom('exact', 'prefix', 'wildcard'),
    fc.tuple(optionsFor(64, true), optionsFor(48, true), optionsFor(32, true), optionsFor(16, true)),
    payloadOf(fc.array(plainValue, { maxLength: 3 }), plainProtoDict),
    fc.integer({ min: 1, max: 2 ** 40 }),
  )
  .map(([uri, match, [ro, co, so, po], payload, id]): Node[] => {
    const concrete =
      match === 'exact'
        ? uri
        : match === 'prefix'
          ? `${uri}.x`
          : uri
              .split('.')
              .map((c) => c || 'a')
              .join('.');
    const withMatch = (o: Node) =>
      o && typeof o === 'object' && !Array.isArray(o) && !(o instanceof Uint8Array) && !(o instanceof Dict)
        ? ownKeys([...Object.entries(o as object), ['match', match]])
        : { match };
    return [
      [64, id, withMatch(ro), uri],
      [48, id + 1, co, concrete, ...payload],
      [32, id + 2, withMatch(so), uri],
      [
        16,
        id + 3,
        ownKeys([
          ...Object.entries(po && typeof po === 'object' && !(po instanceof Dict) ? (po as object) : {}),
          ['acknowledge', true],
          ['exclude_me', false],
        ]),
        concrete,
        ...payload,
      ],
      [34, id + 4, 1],
      [66, id + 5, 1],
    ];
  });

/** Any code 0..300 (and past the edges) with random fields. */
export const anyCodeMessage: fc.Arbitrary<Node> = fc
  .tuple(pick(MESSAGE_CODES), fc.array(fc.oneof(idArb, protoDict, uriArb, nastyValue), { maxLength: 6 }))
  .map(([code, rest]) => [code, ...rest]);

/** A depth bomb in args, kwargs or options (or as the message itself), at a depth from DEPTHS. */
export const depthBombMessage: fc.Arbitrary<Node> = fc
  .tuple(pick(DEPTHS), fc.constantFrom<'array' | 'dict' | 'mixed'>('array', 'dict', 'mixed'), fc.nat(4))
  .map(([depth, kind, where]): Node => {
    switch (where) {
      case 0:
        return [48, 1, {}, 'com.bystander.echo', bomb(depth, kind === 'dict' ? 'mixed' : kind)];
      case 1:
        return [48, 1, {}, 'com.bystander.echo', [], bomb(depth, kind === 'array' ? 'mixed' : kind)];
      case 2:
        return [16, 1, kind === 'array' ? bomb(depth, 'mixed') : bomb(depth, kind), 'com.bystander.news'];
      case 3:
        return [
          1,
          'realm1',
          ownKeys([
            ['roles', { caller: {} }],
            ['authextra', bomb(depth - 1, 'dict')],
          ]),
        ];
      default:
        return new Nest(depth, kind);
    }
  });

/** Binary nasties placed in a message: as an argument, a kwargs value, an option, the URI, the request ID or the code. */
export const binaryMessage: fc.Arbitrary<Node> = fc.tuple(binaryNasty, fc.nat(5)).map(([n, where]): Node => {
  switch (where) {
    case 0:
      return [48, 1, {}, 'com.bystander.echo', [n]];
    case 1:
      return [16, 1, { acknowledge: true }, 'com.bystander.news', [], { k: n }];
    case 2:
      return [32, 1, { match: n }, 'com.fuzz.topic'];
    case 3:
      return [64, 1, {}, n];
    case 4:
      return [48, n, {}, 'com.bystander.echo'];
    default:
      return [n, 1, {}, 'com.x'];
  }
});

/** Packed and shared CBOR (tags 51/6/28/29), billion-laughs tables, big bignums. */
export const packingMessage: fc.Arbitrary<Node> = fc.oneof(
  fc.constant(packedCall()),
  fc.constant(packedCallByTag6()),
  fc.integer({ min: 1, max: 40 }).map((levels) => packedLaughs(levels, (ref) => [16, 1, {}, 'com.bystander.news', [ref]])),
  fc.integer({ min: 1, max: 40 }).map((levels) => packedLaughs(levels, (ref) => [48, 1, {}, 'com.bystander.echo', [ref]])),
  fc.constant([48, 1, {}, 'com.bystander.echo', [sharedCycle()]] as Node),
  fc.constantFrom(1024, 65_536).map((n) => [48, 1, {}, 'com.bystander.echo', [cborBignum(n)]] as Node),
);

/**
 * Payload fidelity (issue 13): opaque payloads at the Arguments position
 * with and without passthru options (and with them of the wrong type, or
 * under prototype names), the values only a payload may hold (bignums up to
 * their limit and one past it, integers at the 64-bit edges, integral and
 * negative-zero floats), and the same values in the envelope, where they
 * are refused.
 */
export const payloadMessage: fc.Arbitrary<Node> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(16, 48),
      pick<Node>([
        {},
        { enc_algo: 'cryptobox', enc_serializer: 'json' },
        { ppt_scheme: 'x_custom', ppt_serializer: 'cbor', ppt_cipher: 'xsalsa20poly1305', ppt_keyid: 'k' },
        { enc_algo: 1 },
        { ppt_scheme: [] },
        { enc_key: 'k' },
        ownKeys([['__proto__', { enc_algo: 'cryptobox' }]]),
        ownKeys([
          ['constructor', 'x'],
          ['enc_algo', 'mqtt'],
        ]),
      ]),
      pick<Node>([new Uint8Array([1, 2, 3]), new Uint8Array(0), 'opaque', '\0AAAA', 1, null, {}, [new Uint8Array(8)]]),
      fc.boolean(),
    )
    .map(([code, options, payload, kwargs]): Node => {
      const uri = code === 16 ? 'com.bystander.news' : 'com.bystander.echo';
      const head: Node[] = [code, 1, code === 16 ? { ...(options as object), acknowledge: true } : options, uri, payload];
      return kwargs ? [...head, {}] : head;
    }),
  fc
    .tuple(
      pick<Node>([...BIG_INTEGERS, new Float(2, 64), new Float(-0, 64), new Float(1e300, 64), new Float(2, 32), new Float(-0, 16)]),
      fc.constantFrom('args', 'kwargs', 'options', 'id'),
    )
    .map(([v, where]): Node => {
      if (where === 'args') return [48, 1, {}, 'com.bystander.echo', [v, [v], { v }]];
      if (where === 'kwargs') return [16, 1, { acknowledge: true }, 'com.bystander.news', [], { v, w: [v] }];
      if (where === 'options') return [48, 1, { timeout: v }, 'com.bystander.echo', [v]];
      return [48, v, {}, 'com.bystander.echo', [v]];
    }),
  fc
    .tuple(fc.constantFrom(1785, 1786), fc.boolean())
    .map(([n, negative]): Node => [70, 1, {}, [cborBignum(n, negative)], { n: cborBignum(8) }]),
  // Payloads either side of the size from which they are written as their own piece (OWN_PIECE_FROM,
  // 4096 bytes: src/serializers/serializer.ts), forwarded to the bystanders (echo, news) in every format.
  fc
    .tuple(fc.constantFrom(4090, 4095, 4096, 4097, 64 * 1024), fc.constantFrom('string', 'binary', 'protoDict'), fc.constantFrom(16, 48))
    .map(([n, kind, code]): Node => {
      const big: Node =
        kind === 'string'
          ? 'x'.repeat(n)
          : kind === 'binary'
            ? new Uint8Array(n).fill(0xab)
            : ownKeys([
                ['__proto__', 'x'.repeat(n)],
                ['constructor', [1, { toString: 'y' }]],
              ]);
      return code === 16 ? [16, 1, { acknowledge: true }, 'com.bystander.news', [big], { big }] : [48, 1, {}, 'com.bystander.echo', [big]];
    }),
);

/** Whole messages that are not one decodable item, per serializer; and random bytes. */
export const rawMessage: fc.Arbitrary<Node> = fc.oneof(
  { weight: 3, arbitrary: fc.nat(1000).map((i) => undecodable(i)) },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .map((b) => new Raw(`random bytes ${Buffer.from(b).toString('hex')}`, { json: b, msgpack: b, cbor: b }, {})),
  },
  {
    weight: 1,
    // A valid CALL head followed by a random tail: decoders go further before failing.
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 32 }).map((b) => {
      const json = Buffer.concat([Buffer.from('[48,1,{},"com.x",'), b]);
      const msgpack = Buffer.concat([Buffer.from([0x95, 0x30, 0x01, 0x80, 0xa5, ...Buffer.from('com.x')]), b]);
      const cbor = Buffer.concat([Buffer.from([0x85, 0x18, 0x30, 0x01, 0xa0, 0x65, ...Buffer.from('com.x')]), b]);
      return new Raw(`CALL head + ${Buffer.from(b).toString('hex')}`, { json, msgpack, cbor }, {});
    }),
  },
);

/** Not an array, or an array that is no message. */
export const nonMessage: fc.Arbitrary<Node> = fc.oneof(
  nastyValue,
  fc.constantFrom<Node>({}, [], [[]], [{}], 'x', 48, null, true, new Uint8Array(4)),
);

/** Huge URIs and strings (up to ~1 MB), kept rare: each costs a megabyte on every transport. */
export const hugeMessage: fc.Arbitrary<Node> = fc.tuple(pick(HUGE_URIS), fc.constantFrom(16, 32, 48, 64, 1)).map(([uri, code]): Node => {
  if (code === 1) return [1, uri, { roles: { caller: {} } }];
  if (code === 16) return [16, 1, { acknowledge: true }, uri];
  return [code, 1, {}, uri];
});

/** A known shape with elements replaced, dropped or added (the first fuzzer's mutations, with the dictionaries' values). */
export function mutatedMessage(bases: readonly Node[][]): fc.Arbitrary<Node> {
  return fc.tuple(pick(bases), fc.array(fc.tuple(fc.nat(7), fc.nat(3), nastyValue), { maxLength: 3 })).map(([msg, edits]) => {
    const m = [...msg];
    for (const [pos, kind, v] of edits) {
      if (kind === 0)
        m[pos % (m.length + 1)] = v; // replace
      else if (kind === 1)
        m.splice(pos % (m.length + 1), 1); // drop
      else if (kind === 2)
        m.splice(pos % (m.length + 1), 0, v); // insert
      else m.push(v); // extra trailing element
    }
    return m;
  });
}

/** One fuzz message: every class of the dictionaries, weighted so that each shows up in a few hundred runs. */
export function messageArbitrary(bases: readonly Node[][] = [...vectorMessages(), ...LIVE_SHAPES]): fc.Arbitrary<Node> {
  return fc.oneof(
    { weight: 8, arbitrary: wellFormedMessage },
    { weight: 6, arbitrary: clientMessage },
    { weight: 3, arbitrary: mutatedMessage(bases) },
    { weight: 2, arbitrary: anyCodeMessage },
    { weight: 2, arbitrary: depthBombMessage },
    { weight: 3, arbitrary: binaryMessage },
    { weight: 1, arbitrary: packingMessage },
    { weight: 2, arbitrary: payloadMessage },
    { weight: 2, arbitrary: rawMessage },
    { weight: 1, arbitrary: nonMessage },
    { weight: 1, arbitrary: fc.constantFrom(...bases) },
    { weight: 1, arbitrary: hugeMessage },
  );
}
