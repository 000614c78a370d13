/**
 * The fuzzer's own writers and oracle, checked against the libraries
 * directly (JSON.parse, msgpackr, cbor-x with their default options, not
 * Kreuz's serializers): what the generators send is what they claim, so a
 * passing hostile test means the router saw the attack.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder } from 'cbor-x';
import { Unpackr } from 'msgpackr';
import fc from 'fast-check';
import { DEPTHS, PROTOTYPE_NAMES, bomb, messageArbitrary, packedCall, packedLaughs } from './dictionaries.ts';
import { MAX_DEPTH, PAYLOAD_SIZE_EXCEEDED, PROTOCOL_VIOLATION, verdict } from './oracle.ts';
import { Ext, Float, Nest, Tag, Utf8, describe as describeNode, encode, ownKeys, type Node } from './wire-model.ts';

// Maps as Map: cbor-x and msgpackr rename a "__proto__" key of an object they build, which would hide what was written.
const cbor = new Decoder({ mapsAsObjects: false });
const msgpack = new Unpackr({ mapsAsObjects: false, int64AsType: 'bigint' });
const keysOf = (v: unknown) => (v instanceof Map ? [...v.keys()] : Object.keys(v as object));
const get = (v: unknown, k: string) => (v instanceof Map ? v.get(k) : Object.getOwnPropertyDescriptor(v, k)?.value);
const decodeAll = (node: Node) => ({
  json: JSON.parse(encode(node, 'json').toString('utf8')),
  msgpack: msgpack.unpack(encode(node, 'msgpack')),
  cbor: cbor.decode(encode(node, 'cbor')),
});

describe('the fuzzer writes what it claims', () => {
  it('plain messages, with prototype names as own keys, decode as written in every library', () => {
    for (const name of PROTOTYPE_NAMES) {
      const message: Node = [
        48,
        1,
        ownKeys([[name, 1]]),
        `com.${name}`,
        [-1, 0, 2 ** 31, 1.5, 'x', null, true],
        ownKeys([[name, { a: [] }]]),
      ];
      for (const [lib, decoded] of Object.entries(decodeAll(message))) {
        assert.equal(decoded[3], `com.${name}`, lib);
        assert.deepEqual(keysOf(decoded[2]), [name], `${lib}: ${name} is an own key`);
        assert.equal(get(decoded[2], name), 1, `${lib}: ${name}`);
        assert.deepEqual(decoded[4], [-1, 0, 2 ** 31, 1.5, 'x', null, true], lib);
      }
    }
  });

  it('integers at the 64-bit edges are written as integers, exactly', () => {
    const edges = [2n ** 53n + 1n, 2n ** 64n - 1n, -(2n ** 63n)];
    assert.deepEqual(msgpack.unpack(encode(edges, 'msgpack')), edges);
    const head = encode(2n ** 64n - 1n, 'cbor');
    assert.equal(head.toString('hex'), '1bffffffffffffffff');
    assert.equal(encode(-(2n ** 64n), 'cbor').toString('hex'), '3bffffffffffffffff');
    assert.equal(encode(2n ** 64n, 'cbor').toString('hex'), 'c249010000000000000000', 'past 64 bits: a tag-2 bignum');
  });

  it('depth bombs are as deep as they say, 100,000 levels included', () => {
    for (const kind of ['array', 'dict', 'mixed'] as const) {
      const node = new Nest(100, kind);
      for (const decoded of Object.values(decodeAll(node))) {
        let depth = 0;
        let v: unknown = decoded;
        while (typeof v === 'object' && v !== null) {
          depth++;
          v = Array.isArray(v) ? v[0] : get(v, 'a');
        }
        assert.equal(depth, 100, kind);
      }
    }
    const deep = encode([48, 1, {}, 'x', bomb(100_000, 'array')], 'msgpack');
    assert.equal(deep.length, 6 + 99_999 + 1, 'one byte per level');
    assert.equal(describeNode([48, 1, {}, 'x', bomb(100_000, 'dict')], 'cbor').depth, 100_000);
  });

  it('CBOR tags and msgpack extensions reach the bytes (the libraries make objects of them)', () => {
    assert.ok(cbor.decode(encode(new Tag(1n, 0), 'cbor')) instanceof Date, 'tag 1: a Date');
    assert.ok(cbor.decode(encode(new Tag(79n, new Uint8Array(16)), 'cbor')) instanceof BigInt64Array, 'tag 79: a BigInt64Array');
    assert.equal(typeof cbor.decode(encode(new Tag(2n, new Uint8Array(9).fill(1)), 'cbor')), 'bigint', 'tag 2: a bignum');
    assert.deepEqual(cbor.decode(encode(packedCall(), 'cbor')), [48, 1, new Map(), 'com.bystander.echo', [1]], 'tag 51: a packed CALL');
    const laughs = cbor.decode(
      encode(
        packedLaughs(3, (ref) => [48, 1, {}, 'x', [ref]]),
        'cbor',
      ),
    );
    assert.equal(JSON.stringify(laughs[4]).split('laugh').length - 1, 8, '3 levels of laughs stand for 2^3 leaves');
    assert.ok(msgpack.unpack(encode(new Ext(-1, new Uint8Array(4), 'fixext'), 'msgpack')) instanceof Date, 'ext -1: a Date');
    assert.equal(
      typeof msgpack.unpack(encode(new Ext(0x42, new Uint8Array(8).fill(1), 'ext8'), 'msgpack')),
      'bigint',
      'ext 0x42: a BigInt',
    );
    for (const form of ['fixext', 'ext8', 'ext16', 'ext32'] as const) {
      const bytes = encode(new Ext(5, new Uint8Array(4), form), 'msgpack');
      assert.equal(bytes[0], { fixext: 0xd6, ext8: 0xc7, ext16: 0xc8, ext32: 0xc9 }[form], form);
    }
    assert.equal(encode(new Float(1.5, 16), 'cbor').toString('hex'), 'f93e00');
    assert.equal(encode(new Utf8(Uint8Array.of(0xff)), 'cbor').toString('hex'), '61ff');
  });
});

describe('the oracle', () => {
  const json = (text: string) => JSON.parse(text) as Node;

  it('the issue-11 attack before HELLO must be ABORTed protocol_violation', () => {
    assert.equal(verdict(json('[48,1,{"valueOf":1},"x"]'), 'json', 'before-hello', 1 << 20).abort, PROTOCOL_VIOLATION);
    assert.equal(
      verdict(json('[48,1,{"valueOf":1},"x"]'), 'json', 'joined', 1 << 20).abort,
      undefined,
      'joined: unknown options are ignored',
    );
  });

  it('depth: 64 is fine, 65 and more are protocol violations, in every serializer', () => {
    for (const s of ['json', 'msgpack', 'cbor'] as const) {
      for (const d of DEPTHS) {
        const v = verdict([48, 1, {}, 'com.x', bomb(d, 'mixed')], s, 'joined', 1 << 20);
        assert.equal(v.abort, d > MAX_DEPTH ? PROTOCOL_VIOLATION : undefined, `${s} ${d}: ${v.why}`);
      }
    }
  });

  it('states, codes, IDs, tags, extensions, size', () => {
    const v = (m: Node, s: 'json' | 'msgpack' | 'cbor' = 'json', state: Parameters<typeof verdict>[2] = 'joined') =>
      verdict(m, s, state, 1 << 20).abort;
    assert.equal(v([1, 'realm1', { roles: {} }]), PROTOCOL_VIOLATION, 'HELLO when joined');
    assert.equal(v([5, 'x', {}], 'json', 'authenticating'), undefined);
    assert.equal(v([48, 1, {}, 'x'], 'json', 'authenticating'), PROTOCOL_VIOLATION);
    assert.equal(v([4242, 1]), PROTOCOL_VIOLATION);
    assert.equal(v([50, 1, {}]), PROTOCOL_VIOLATION, 'a router-to-client code');
    for (const id of [0, -1, 1.5, 2 ** 64, NaN, -0]) assert.equal(v([48, id, {}, 'x'], 'msgpack'), PROTOCOL_VIOLATION, `ID ${id}`);
    assert.equal(v([48, 2 ** 53, {}, 'x']), undefined, 'ID 2^53 is valid');
    assert.equal(v([48, 2n ** 53n + 1n, {}, 'x']), undefined, '2^53 + 1 decodes to 2^53');
    assert.equal(v([48, 1, {}, 'x', [new Tag(0n, 'x')]], 'cbor'), PROTOCOL_VIOLATION);
    assert.equal(v([48, 1, {}, 'x', [new Tag(64n, new Uint8Array(2))]], 'cbor'), undefined, 'tag 64 around bytes is plain bytes');
    assert.equal(v([48, 1, {}, 'x', [new Tag(0n, 'x')]], 'msgpack'), undefined, 'tags are CBOR only');
    assert.equal(v([48, 1, {}, 'x', [new Ext(1, new Uint8Array(1), 'fixext')]], 'msgpack'), PROTOCOL_VIOLATION);
    assert.equal(v([48, 1, {}, '\0AAAA']), PROTOCOL_VIOLATION, 'JSON: a NUL-led string is binary, not a URI');
    assert.equal(v([16, 1, {}, 'x', ['y'.repeat(1 << 20)]]), PAYLOAD_SIZE_EXCEEDED);
  });

  it('every generated message can be written in every serializer', () => {
    fc.assert(
      fc.property(messageArbitrary(), (m) => {
        for (const s of ['json', 'msgpack', 'cbor'] as const) {
          encode(m, s);
          verdict(m, s, 'joined', 1 << 20);
        }
      }),
      { numRuns: 100 },
    );
  });
});
