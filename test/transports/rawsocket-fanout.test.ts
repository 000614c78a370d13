/**
 * RawSocket on the send side: a fanned-out EVENT is encoded once per
 * serializer across WebSocket and RawSocket subscribers alike, and a
 * subscriber that stops reading is cut off past maxSendBuffer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Router } from '../../src/core/router.ts';
import type { SerializerName } from '../../src/serializers/index.ts';
import { listenRawSocket } from '../../src/transports/rawsocket.ts';
import { listenWebSocket } from '../../src/transports/websocket.ts';
import type { Listener } from '../../src/transports/listen.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { RawSocketWampClient } from '../helpers/rawsocket-client.ts';
import { assertEncodedOncePerSerializer, eventually, makeRouter } from '../helpers/transport-router.ts';

const SERIALIZERS: SerializerName[] = ['json', 'msgpack', 'cbor'];

let router: Router;
let raw: Listener;
let ws: Listener;
let rawPort: number;

before(async () => {
  router = makeRouter();
  raw = await listenRawSocket(router, { port: 0 }, { maxSendBuffer: 256 * 1024 });
  rawPort = (raw.address as { port: number }).port;
  ws = await listenWebSocket(router, { port: 0 });
});

after(async () => {
  await raw.close();
  await ws.close();
});

describe('RawSocket fan-out', () => {
  it('encodes one EVENT once per serializer for WebSocket and RawSocket subscribers together', async () => {
    const subscribers: Array<RawClient | RawSocketWampClient> = [];
    for (let i = 0; i < 30; i++) {
      const serializer = SERIALIZERS[i % 3];
      const client = i % 2 ? await RawClient.join(ws.url, serializer) : await RawSocketWampClient.join({ port: rawPort }, serializer);
      client.send([32, 1, {}, 'com.fanout.mixed']);
      assert.equal((await client.next())[0], 33);
      subscribers.push(client);
    }
    const publisher = await RawSocketWampClient.join({ port: rawPort });
    await assertEncodedOncePerSerializer(publisher, subscribers, 'com.fanout.mixed');
  });
});

describe('RawSocket slow consumer', () => {
  it('cuts off a subscriber that stops reading once its send buffer passes maxSendBuffer', { timeout: 20_000 }, async () => {
    const slow = await RawSocketWampClient.join({ port: rawPort }, 'msgpack');
    slow.send([32, 1, {}, 'com.fanout.flood']);
    assert.equal((await slow.next())[0], 33);
    slow.wire.socket.pause(); // reads nothing more
    const publisher = await RawSocketWampClient.join({ port: rawPort }, 'msgpack');
    const chunk = Buffer.alloc(64 * 1024, 7);
    const sessionsBefore = router.realms.get('realm1')!.sessions.size;
    // Up to 64 MiB: loopback socket buffers hold a few MiB, then our buffer grows past 256 KiB.
    for (let i = 0; i < 1024 && router.realms.get('realm1')!.sessions.size === sessionsBefore; i++) {
      publisher.send([16, i + 1, {}, 'com.fanout.flood', [chunk]]);
      if (i % 16 === 15) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await eventually(() => router.realms.get('realm1')!.sessions.size === sessionsBefore - 1, 'the slow subscriber is cut off', 5000);
    // the publisher is unharmed
    publisher.send([16, 9999, { acknowledge: true }, 'com.fanout.other', []]);
    let reply = await publisher.next();
    while (reply[0] !== 17) reply = await publisher.next();
    assert.equal(reply[1], 9999);
    publisher.close();
    slow.close();
  });
});
