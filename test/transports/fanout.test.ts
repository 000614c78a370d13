/** Fan-out cost: one EVENT is encoded once per serializer, however many subscribers it reaches. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useRouter } from '../helpers/node.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { assertEncodedOncePerSerializer } from '../helpers/transport-router.ts';
import { serializerByName } from '../../src/serializers/index.ts';
import { EncodeCache } from '../../src/transports/encode-cache.ts';

const router = useRouter();

describe('fan-out encoding', () => {
  it('encodes one EVENT once per serializer for 60 subscribers over three serializers', async () => {
    const subscribers: RawClient[] = [];
    for (let i = 0; i < 60; i++) {
      const client = await RawClient.join(router.url, (['json', 'msgpack', 'cbor'] as const)[i % 3]);
      client.send([32, 1, {}, 'com.fanout.topic']);
      await client.next();
      subscribers.push(client);
    }
    const publisher = await RawClient.join(router.url, 'json');
    await assertEncodedOncePerSerializer(publisher, subscribers, 'com.fanout.topic');
  });

  it('EncodeCache re-encodes a different message, and the same message only once', () => {
    const json = serializerByName('json');
    const cache = new EncodeCache(json);
    const a = [36, 1, 2, {}, ['a']];
    const b = [36, 1, 3, {}, ['b']];
    assert.equal(cache.encode(a), '[36,1,2,{},["a"]]');
    assert.equal(cache.encode(b), '[36,1,3,{},["b"]]');
    assert.equal(cache.encode(b), '[36,1,3,{},["b"]]');
  });
});
