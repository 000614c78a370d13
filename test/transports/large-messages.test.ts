/**
 * Large payloads leave in pieces (serializer.ts, Pieces): the envelope, then
 * the payload bytes as they arrived, with no joined copy. Over WebSocket that
 * is one message in continuation frames, over RawSocket one frame written in
 * parts. Receivers must see exactly one whole message either way, for every
 * serializer, every transport pair, fan-out included, and a RawSocket client's
 * size limit still holds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Router } from '../../src/core/router.ts';
import { OWN_PIECE_FROM, Pieces, joined } from '../../src/serializers/serializer.ts';
import { serializerByName, type SerializerName } from '../../src/serializers/index.ts';
import { listenRawSocket } from '../../src/transports/rawsocket.ts';
import { listenWebSocket } from '../../src/transports/websocket.ts';
import type { Listener } from '../../src/transports/listen.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { RawSocketWampClient } from '../helpers/rawsocket-client.ts';
import { makeRouter } from '../helpers/transport-router.ts';

const SERIALIZERS: SerializerName[] = ['json', 'msgpack', 'cbor'];
const TRANSPORTS = ['websocket', 'rawsocket'] as const;
type Client = RawClient | RawSocketWampClient;

let router: Router;
let raw: Listener;
let ws: Listener;
let rawPort: number;

before(async () => {
  router = makeRouter();
  raw = await listenRawSocket(router, { port: 0 }, { maxSendBuffer: 16 * 1024 * 1024 });
  rawPort = (raw.address as { port: number }).port;
  ws = await listenWebSocket(router, { port: 0 }, { maxSendBuffer: 16 * 1024 * 1024 });
});

after(async () => {
  await raw.close();
  await ws.close();
});

function join(transport: (typeof TRANSPORTS)[number], serializer: SerializerName): Promise<Client> {
  return transport === 'websocket' ? RawClient.join(ws.url, serializer) : RawSocketWampClient.join({ port: rawPort }, serializer);
}

/** Printable, so JSON carries it as it is; different at every offset, so a misplaced piece shows. */
function text(bytes: number, seed: number): string {
  let s = '';
  for (let i = 0; s.length < bytes; i++) s += `${seed}:${i};`;
  return s.slice(0, bytes);
}

function bytesOf(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

const asBuffer = (v: unknown) => Buffer.from(v as Uint8Array);

describe('large payloads in pieces', () => {
  it('a binary serializer writes a large forwarded payload as its own piece, and joined() is the whole message', () => {
    for (const name of ['msgpack', 'cbor'] as const) {
      const s = serializerByName(name);
      const big = text(OWN_PIECE_FROM * 2, 1);
      const call = s.decodeRouted(s.encode([48, 7, {}, 'com.big', [big], { k: 1 }])) as unknown[];
      const invocation = [68, 9, 3, {}, call[4]];
      const wire = s.encodeForWire(invocation);
      assert.ok(wire instanceof Pieces, `${name}: pieces`);
      assert.equal(wire.parts.length, 2);
      assert.deepEqual(s.decode(joined(wire)), [68, 9, 3, {}, [big], { k: 1 }]);
      assert.deepEqual(s.encode(invocation), joined(wire));
      // Below the threshold it is one buffer.
      const small = s.decodeRouted(s.encode([48, 7, {}, 'com.small', ['x']])) as unknown[];
      assert.ok(Buffer.isBuffer(s.encodeForWire([68, 9, 3, {}, small[4]])));
    }
  });

  for (const callerTransport of TRANSPORTS) {
    for (const calleeTransport of TRANSPORTS) {
      for (const serializer of SERIALIZERS) {
        it(`RPC ${serializer}: caller on ${callerTransport}, callee on ${calleeTransport}, 200 KiB each way`, async () => {
          const uri = `com.large.${callerTransport}.${calleeTransport}.${serializer}`;
          const callee = await join(calleeTransport, serializer);
          const caller = await join(callerTransport, serializer);
          callee.send([64, 1, {}, uri]);
          assert.equal((await callee.next())[0], 65);
          const payload = text(200 * 1024, 2);
          for (let n = 0; n < 3; n++) {
            caller.send([48, 10 + n, {}, uri, [payload, n], { n }]);
            const invocation = await callee.next();
            assert.equal(invocation[0], 68);
            assert.deepEqual(invocation.slice(4), [[payload, n], { n }]);
            callee.send([70, invocation[1], {}, [`${payload}!`, n]]);
            const result = await caller.next();
            assert.deepEqual(result, [50, 10 + n, {}, [`${payload}!`, n]]);
          }
          caller.close();
          callee.close();
        });
      }
    }
  }

  it('one large event fanned out to every transport and serializer arrives whole and exact', async () => {
    const topic = 'com.large.fanout';
    const subscribers: Client[] = [];
    for (const transport of TRANSPORTS) {
      for (const serializer of SERIALIZERS) {
        for (let i = 0; i < 2; i++) {
          const client = await join(transport, serializer);
          client.send([32, 1, {}, topic]);
          assert.equal((await client.next())[0], 33);
          subscribers.push(client);
        }
      }
    }
    const blob = bytesOf(100 * 1024, 3);
    for (const serializer of SERIALIZERS) {
      const publisher = await RawSocketWampClient.join({ port: rawPort }, serializer);
      publisher.send([16, 2, { acknowledge: true }, topic, [blob, text(OWN_PIECE_FROM, 4)]]);
      assert.equal((await publisher.next())[0], 17);
      for (const s of subscribers) {
        const event = await s.next();
        assert.equal(event[0], 36);
        const args = event[4] as unknown[];
        assert.ok(asBuffer(args[0]).equals(blob), `${serializer} publisher: binary arrives exact`);
        assert.equal(args[1], text(OWN_PIECE_FROM, 4));
      }
      publisher.close();
    }
    for (const s of subscribers) s.close();
  });

  it('a RawSocket client that accepts 64 KiB gets an ERROR, not a 200 KiB RESULT in pieces', async () => {
    const callee = await join('websocket', 'msgpack');
    const caller = await RawSocketWampClient.join({ port: rawPort }, 'msgpack', 7); // 2^16 bytes
    callee.send([64, 1, {}, 'com.large.limit']);
    assert.equal((await callee.next())[0], 65);
    caller.send([48, 5, {}, 'com.large.limit', []]);
    const invocation = await callee.next();
    callee.send([70, invocation[1], {}, [text(200 * 1024, 5)]]);
    const answer = await caller.next();
    assert.deepEqual(answer.slice(0, 5), [8, 48, 5, {}, 'wamp.error.payload_size_exceeded']);
    // Still connected: a small call goes through.
    caller.send([48, 6, {}, 'com.large.limit', []]);
    const second = await callee.next();
    callee.send([70, second[1], {}, ['ok']]);
    assert.deepEqual(await caller.next(), [50, 6, {}, ['ok']]);
    caller.close();
    callee.close();
  });
});
