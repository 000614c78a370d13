// The serializer registry: identities and lookups used by the transports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cborSerializer,
  jsonSerializer,
  msgpackSerializer,
  serializerByName,
  serializerByProtocol,
  serializerByRawSocketId,
  serializers,
} from '../../src/serializers/index.ts';

test('serializers in preference order, with their protocol names and RawSocket ids', () => {
  assert.deepEqual(
    serializers.map((s) => [s.name, s.protocol, s.rawSocketId, s.binary]),
    [
      ['json', 'wamp.2.json', 1, false],
      ['msgpack', 'wamp.2.msgpack', 2, true],
      ['cbor', 'wamp.2.cbor', 3, true],
    ],
  );
  assert.ok(Object.isFrozen(serializers));
});

test('lookups', () => {
  assert.equal(serializerByProtocol('wamp.2.json'), jsonSerializer);
  assert.equal(serializerByProtocol('wamp.2.msgpack'), msgpackSerializer);
  assert.equal(serializerByProtocol('wamp.2.cbor'), cborSerializer);
  assert.equal(serializerByProtocol('wamp.2.ubjson'), undefined);
  assert.equal(serializerByProtocol('WAMP.2.JSON'), undefined); // subprotocol tokens are case-sensitive
  assert.equal(serializerByRawSocketId(1), jsonSerializer);
  assert.equal(serializerByRawSocketId(2), msgpackSerializer);
  assert.equal(serializerByRawSocketId(3), cborSerializer);
  assert.equal(serializerByRawSocketId(4), undefined);
  assert.equal(serializerByRawSocketId(0), undefined);
  assert.equal(serializerByName('cbor'), cborSerializer);
  assert.equal(serializerByName('yaml'), undefined);
});

test('JSON encodes to a string (text frames), the others to Buffers (binary frames)', () => {
  assert.equal(typeof jsonSerializer.encode([1]), 'string');
  assert.ok(Buffer.isBuffer(msgpackSerializer.encode([1])));
  assert.ok(Buffer.isBuffer(cborSerializer.encode([1])));
});

test('undefined (not WAMP data) never becomes a private extension', () => {
  assert.equal((msgpackSerializer.encode([1, undefined, { a: undefined }]) as Buffer).toString('hex'), '9301c081a161c0');
  assert.equal((cborSerializer.encode([1, undefined]) as Buffer).toString('hex'), '8201f7'); // CBOR's own undefined
  assert.equal(jsonSerializer.encode([1, undefined, { a: undefined }]), '[1,null,{}]');
});
