// CBOR input from other encoders: indefinite lengths, tagged Uint8Arrays, non-minimal heads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cborSerializer } from '../../src/serializers/cbor.ts';
import { applyEdits, scanCbor } from '../../src/serializers/cbor-scan.ts';

const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const decode = (s: string) => cborSerializer.decode(h(s));

test('indefinite-length arrays and maps', () => {
  assert.deepEqual(decode('9f 1830 1a00773bf7 bf ff 6161 ff'), [48, 7814135, {}, 'a']);
  assert.deepEqual(decode('bf 6161 9f 01 02 ff 6162 bf 6163 f5 ff ff'), { a: [1, 2], b: { c: true } });
});

test('indefinite-length text and byte strings (cbor-x alone cannot decode them)', () => {
  assert.deepEqual(decode('83 7f 6268 65 636c6c6f ff 5f 420102 41ff ff 6178'), ['hello', Buffer.from([1, 2, 0xff]), 'x']);
  assert.deepEqual(decode('7f ff'), '');
  assert.deepEqual(decode('5f ff'), Buffer.alloc(0));
  // Inside indefinite containers, and longer than a one-byte head.
  const long = 'y'.repeat(300);
  const chunk = (s: string) => '7818' + Buffer.from(s).toString('hex'); // 24-byte text chunks
  const chunks = long
    .match(/.{1,24}/g)!
    .map((c) => (c.length === 24 ? chunk(c) : (0x60 + c.length).toString(16) + Buffer.from(c).toString('hex')));
  assert.deepEqual(decode('9f 7f' + chunks.join('') + 'ff ff'), [long]);
  assert.ok(Buffer.isBuffer((decode('81 5f 4101 ff') as unknown[])[0]));
});

test("tag 64 (Uint8Array, cbor-x's and node-cbor's default) decodes to a Buffer", () => {
  const v = decode('82 d840 43010203 a1 6162 d840 40') as unknown[];
  assert.deepEqual(v, [Buffer.from([1, 2, 3]), { b: Buffer.alloc(0) }]);
  assert.ok(Buffer.isBuffer(v[0]));
  assert.deepEqual(decode('d9 0040 4101'), Buffer.from([1])); // non-minimal tag head
  assert.deepEqual(decode('d840 5f 4101 4102 ff'), Buffer.from([1, 2]));
});

test('non-minimal heads and other number forms', () => {
  assert.deepEqual(decode('98 02 1b0000000000000030 19 0001'), [48, 1]);
  assert.equal(decode('f93e00'), 1.5); // half float
  assert.equal(decode('fa3fc00000'), 1.5); // float32
});

test('tag 55799 (self-described CBOR) is ignored, also around tag 64', () => {
  assert.deepEqual(decode('d9d9f7 82 01 61 61'), [1, 'a']);
  assert.deepEqual(decode('81 d9d9f7 d840 4101'), [Buffer.from([1])]);
  assert.ok(Buffer.isBuffer(decode('d9d9f7 d840 5f 4101 ff')));
});

test('scanCbor records no edits for plain CBOR, and applyEdits rewrites only what it recorded', () => {
  const edits: number[] = [];
  const plain = h('8518301a00773bf7a0616181 6161');
  assert.equal(scanCbor(plain, 64, edits), 0);
  assert.deepEqual(edits, []);
  const mixed = h('83 d840 4101 7f 6161 6162 ff 5f ff');
  scanCbor(mixed, 64, edits);
  assert.deepEqual(edits, [1, 3, 5, 11, 11, 13]);
  assert.equal(applyEdits(mixed, edits).toString('hex'), '83' + '4101' + '626162' + '40');
});
