// Binary values: Buffers in, Buffers out, for every serializer; JSON's "\0"+base64 convention.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serializers } from '../../src/serializers/index.ts';
import { jsonSerializer } from '../../src/serializers/json.ts';
import { msgpackSerializer } from '../../src/serializers/msgpack.ts';
import { cborSerializer } from '../../src/serializers/cbor.ts';

const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff]);
const message = () => [
  48,
  1,
  { blob: Buffer.from('opt') },
  'com.example.proc',
  [bytes, [Buffer.alloc(0), 'text'], { deep: [new Uint8Array([9, 8, 7])] }],
  { key: Buffer.from('kw'), list: [Buffer.from([0x80])] },
];
// Plain Uint8Arrays go out as binary too, but always come back as Buffers.
const expected = [
  48,
  1,
  { blob: Buffer.from('opt') },
  'com.example.proc',
  [bytes, [Buffer.alloc(0), 'text'], { deep: [Buffer.from([9, 8, 7])] }],
  { key: Buffer.from('kw'), list: [Buffer.from([0x80])] },
];

for (const ser of serializers) {
  test(`${ser.name}: Buffers at any depth round-trip as Buffers`, () => {
    const original = message();
    const decoded = ser.decode(ser.encode(original)) as unknown[];
    assert.deepEqual(decoded, expected); // deepEqual (strict) also compares prototypes: Buffer, not Uint8Array
    assert.ok(Buffer.isBuffer((decoded[4] as unknown[])[0]));
    assert.deepEqual(original, message(), 'encode must not modify the message');
  });

  test(`${ser.name}: a binary message at top level and as the only value`, () => {
    assert.deepEqual(ser.decode(ser.encode([bytes])), [bytes]);
  });
}

test('json: binary is "\\u0000" + base64, other strings stay strings', () => {
  assert.equal(jsonSerializer.encode([1, Buffer.from('hello')]), '[1,"\\u0000aGVsbG8="]');
  assert.equal(jsonSerializer.encode([{ a: [new Uint8Array([0xff])] }]), '[{"a":["\\u0000/w=="]}]');
  assert.deepEqual(jsonSerializer.decode('[1,"\\u0000aGVsbG8="]'), [1, Buffer.from('hello')]);
  assert.deepEqual(jsonSerializer.decode('"\\u0000AQI="'), Buffer.from([1, 2]));
  // No NUL first: plain strings, even if they look like base64 or contain NUL later.
  assert.deepEqual(jsonSerializer.decode('["aGVsbG8=","a\\u0000b","\\\\u0000x"]'), ['aGVsbG8=', 'a\u0000b', '\\u0000x']);
  assert.deepEqual(jsonSerializer.decode(Buffer.from('{"k":"\\u0000AA==","s":"x\\u0000"}')), { k: Buffer.from([0]), s: 'x\u0000' });
});

test('json: the Buffer#toJSON form is never produced', () => {
  const text = jsonSerializer.encode([Buffer.from('x')]) as string;
  assert.ok(!text.includes('"type"'), text);
});

test('msgpack: binary is bin, strings are str', () => {
  assert.equal((msgpackSerializer.encode([Buffer.from('ab'), 'ab']) as Buffer).toString('hex'), '92c4026162a26162');
});

test('cbor: binary is an untagged byte string (major type 2), strings are text', () => {
  assert.equal((cborSerializer.encode([Buffer.from('ab'), new Uint8Array([1]), 'ab']) as Buffer).toString('hex'), '834261624101626162');
});
