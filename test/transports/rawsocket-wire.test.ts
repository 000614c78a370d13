/**
 * RawSocket on the wire (WAMP: basic/transport_rawsocket), byte by byte with
 * plain TCP sockets: handshake and its error codes, frame headers, PING/PONG,
 * size limits, partial and coalesced writes, timeouts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Router } from '../../src/core/router.ts';
import { frame, lengthExponent, listenRawSocket } from '../../src/transports/rawsocket.ts';
import type { Listener } from '../../src/transports/listen.ts';
import { jsonSerializer } from '../../src/serializers/index.ts';
import { RawSocketWampClient, WireClient, hex, rawFrame, toHex } from '../helpers/rawsocket-client.ts';
import { eventually, makeRouter } from '../helpers/transport-router.ts';

const HELLO = [1, 'realm1', { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} } }];

function jsonFrame(message: unknown[]): Buffer {
  return rawFrame(0, jsonSerializer.encode(message) as string);
}

function registered(router: Router, uri: string): boolean {
  return router.realms.get('realm1')!.dealer.lookup(uri, 'exact') !== undefined;
}

function clientSessions(router: Router): number {
  return [...router.realms.get('realm1')!.sessions.values()].filter((s) => !s.internal).length;
}

let router: Router;
/** maxMessageSize 4096 (LLLL 3), handshake timeout 300 ms. */
let listener: Listener;
let port: number;
/** maxConnections 1. */
let limited: Listener;

before(async () => {
  router = makeRouter();
  listener = await listenRawSocket(router, { host: '127.0.0.1', port: 0 }, { maxMessageSize: 4096, handshakeTimeout: 300 });
  port = (listener.address as { port: number }).port;
  limited = await listenRawSocket(router, { port: 0 }, { maxConnections: 1 });
});

after(async () => {
  await listener.close();
  await limited.close();
});

describe('RawSocket handshake', () => {
  it('replies with our length exponent and echoes the serializer (json 1, msgpack 2, cbor 3)', async () => {
    for (const [request, reply] of [
      ['7f f1 00 00', '7f 31 00 00'],
      ['7f f2 00 00', '7f 32 00 00'],
      ['7f 23 00 00', '7f 33 00 00'], // the client's own limit (2 KiB) does not change ours
    ]) {
      const client = await WireClient.connect({ port });
      client.write(request);
      assert.equal(toHex(await client.read(4)), reply, `reply to ${request}`);
      assert.equal(client.isOpen, true, 'the connection stays open after a good handshake');
      client.destroy();
    }
  });

  it('announces maxMessageSize rounded down to a power of two within 512 B..16 MiB', () => {
    assert.equal(lengthExponent(1024 * 1024), 11);
    assert.equal(lengthExponent(1_000_000), 10); // 512 KiB
    assert.equal(lengthExponent(100), 0);
    assert.equal(lengthExponent(64 * 1024 * 1024), 15);
  });

  it('answers error 1 for serializer 0 and for an unsupported serializer (4, UBJSON), then closes', async () => {
    for (const request of ['7f f0 00 00', '7f f4 00 00', '7f ff 00 00']) {
      const client = await WireClient.connect({ port });
      client.write(request);
      assert.equal(toHex(await client.read(4)), '7f 10 00 00', `reply to ${request}`);
      assert.ok(await client.closesWithin(2000), `the router closes after the error reply to ${request}`);
    }
  });

  it('answers error 1 for a serializer this endpoint was configured without', async () => {
    const jsonOnly = await listenRawSocket(router, { port: 0 }, { serializers: [jsonSerializer] });
    try {
      const client = await WireClient.connect({ port: (jsonOnly.address as { port: number }).port });
      client.write('7f f2 00 00');
      assert.equal(toHex(await client.read(4)), '7f 10 00 00');
      assert.ok(await client.closesWithin(2000), 'closed after error 1');
    } finally {
      await jsonOnly.close();
    }
  });

  it('answers error 2 when the client accepts only 512 bytes (a WELCOME would not fit)', async () => {
    const client = await WireClient.connect({ port });
    client.write('7f 01 00 00');
    assert.equal(toHex(await client.read(4)), '7f 20 00 00');
    assert.ok(await client.closesWithin(2000), 'closed after error 2');
  });

  it('answers error 3 when the reserved handshake octets are not zero', async () => {
    for (const request of ['7f f1 01 00', '7f f1 00 80']) {
      const client = await WireClient.connect({ port });
      client.write(request);
      assert.equal(toHex(await client.read(4)), '7f 30 00 00', `reply to ${request}`);
      assert.ok(await client.closesWithin(2000), `closed after error 3 for ${request}`);
    }
  });

  it('answers error 4 past maxConnections, and accepts again once a connection closes', async () => {
    const target = { port: (limited.address as { port: number }).port };
    const first = await RawSocketWampClient.open(target);
    const second = await WireClient.connect(target);
    second.write('7f f1 00 00');
    assert.equal(toHex(await second.read(4)), '7f 40 00 00');
    assert.ok(await second.closesWithin(2000), 'closed after error 4');
    first.close();
    await first.wire.closed;
    // the endpoint sees the close asynchronously
    let third: RawSocketWampClient | undefined;
    for (let i = 0; i < 50 && !third; i++) {
      try {
        third = await RawSocketWampClient.open(target);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    assert.ok(third, 'a new connection is accepted after the first closed');
    third.close();
  });

  it('closes without a reply when the first byte is not the magic 0x7F', async () => {
    const client = await WireClient.connect({ port });
    client.write('47 45 54 20'); // "GET "
    assert.ok(await client.closesWithin(2000), 'closed');
    assert.equal(client.pending().length, 0, 'nothing was sent back');
  });

  it('closes a connection whose handshake does not complete within the timeout (300 ms here)', async () => {
    const started = Date.now();
    const silent = await WireClient.connect({ port });
    const partial = await WireClient.connect({ port });
    partial.write('7f f1'); // half a handshake
    assert.ok(await silent.closesWithin(3000), 'a silent client is closed');
    assert.ok(await partial.closesWithin(3000), 'a client that sent half a handshake is closed');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 2500, `closed after ${elapsed} ms, expected about 300`);
  });

  it('accepts a handshake that arrives one byte at a time', async () => {
    const client = await WireClient.connect({ port });
    for (const byte of ['7f', 'f1', '00', '00']) {
      client.write(byte);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(toHex(await client.read(4)), '7f 31 00 00');
    client.destroy();
  });
});

describe('RawSocket frames', () => {
  it('answers a PING at once with a PONG carrying the same payload', async () => {
    const client = await RawSocketWampClient.open({ port });
    client.wire.write('01 00 00 05 68 65 6c 6c 6f'); // PING "hello"
    assert.equal(toHex(await client.wire.read(9)), '02 00 00 05 68 65 6c 6c 6f');
    client.wire.write('01 00 00 00'); // empty PING
    assert.equal(toHex(await client.wire.read(4)), '02 00 00 00');
    // a PING before the session even joined, and between messages
    client.wire.write(Buffer.concat([hex('01 00 00 02 ab cd'), jsonFrame(HELLO), hex('01 00 00 01 ee')]));
    assert.equal(toHex(await client.wire.read(6)), '02 00 00 02 ab cd');
    const welcome = await client.next();
    assert.equal(welcome[0], 2, 'WELCOME');
    assert.equal(toHex(await client.wire.read(5)), '02 00 00 01 ee');
    client.close();
  });

  it('ignores an unsolicited PONG', async () => {
    const client = await RawSocketWampClient.open({ port });
    client.wire.write('02 00 00 03 01 02 03');
    client.send(HELLO);
    assert.equal((await client.next())[0], 2, 'WELCOME after the PONG');
    client.close();
  });

  it('handles two WAMP messages (and the handshake) in one TCP write', async () => {
    const client = await WireClient.connect({ port });
    client.write(Buffer.concat([hex('7f f1 00 00'), jsonFrame(HELLO), jsonFrame([64, 1, {}, 'com.example.two_in_one'])]));
    assert.equal(toHex(await client.read(4)), '7f 31 00 00');
    const welcome = JSON.parse((await client.readFrame()).payload.toString());
    assert.equal(welcome[0], 2, 'WELCOME');
    const reg = JSON.parse((await client.readFrame()).payload.toString());
    assert.equal(reg[0], 65, 'REGISTERED');
    assert.equal(reg[1], 1);
    client.destroy();
  });

  it('handles one message split over many writes', async () => {
    const client = await RawSocketWampClient.open({ port });
    const bytes = client.encode(HELLO);
    for (let i = 0; i < bytes.length; i += 3) {
      client.wire.write(bytes.subarray(i, i + 3));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal((await client.next())[0], 2, 'WELCOME');
    client.close();
  });

  it('fails a frame over our limit from its header: ABORT wamp.error.payload_size_exceeded, then close', async () => {
    const client = await RawSocketWampClient.join({ port });
    client.send([64, 1, {}, 'com.example.big_sender']);
    assert.equal((await client.next())[0], 65);
    client.wire.write('00 00 10 01'); // 4097 bytes announced, limit 4096: no payload needed
    const abort = await client.next();
    assert.equal(abort[0], 3, `ABORT, got ${JSON.stringify(abort)}`);
    assert.equal(abort[2], 'wamp.error.payload_size_exceeded');
    assert.match(String((abort[1] as { message?: string }).message), /4097 bytes over the limit of 4096/);
    assert.ok(await client.wire.closesWithin(3000), 'closed after the ABORT');
    await eventually(() => !registered(router, 'com.example.big_sender'), 'the registration is gone');
  });

  it('accepts a frame of exactly our limit', async () => {
    const client = await RawSocketWampClient.join({ port });
    const base = client.encode([16, 1, { acknowledge: true }, 'com.example.t', ['']]).length - 4;
    const exact = client.encode([16, 1, { acknowledge: true }, 'com.example.t', ['x'.repeat(4096 - base)]]);
    assert.equal(exact.length - 4, 4096, 'the test builds a 4096-byte message');
    client.wire.write(exact);
    assert.equal((await client.next())[0], 17, 'PUBLISHED');
    client.close();
  });

  it('reads the X bit as the 25th length bit (exactly 16 MiB), over our limit here', async () => {
    const client = await RawSocketWampClient.join({ port });
    client.wire.write('08 00 00 00');
    const abort = await client.next();
    assert.deepEqual([abort[0], abort[2]], [3, 'wamp.error.payload_size_exceeded']);
    assert.match(String((abort[1] as { message?: string }).message), /16777216 bytes/);
    assert.ok(await client.wire.closesWithin(3000), 'closed');
  });

  it('fails a frame header with reserved bits set: ABORT protocol_violation, then close', async () => {
    const client = await RawSocketWampClient.join({ port });
    client.wire.write('10 00 00 02 5b 5d');
    const abort = await client.next();
    assert.deepEqual([abort[0], abort[2]], [3, 'wamp.error.protocol_violation']);
    assert.ok(await client.wire.closesWithin(3000), 'closed');
  });

  it('fails a reserved frame type (3..7): ABORT protocol_violation, then close', async () => {
    for (const type of ['03', '07']) {
      const client = await RawSocketWampClient.join({ port });
      client.wire.write(`${type} 00 00 02 5b 5d`);
      const abort = await client.next();
      assert.deepEqual([abort[0], abort[2]], [3, 'wamp.error.protocol_violation'], `frame type ${type}`);
      assert.ok(await client.wire.closesWithin(3000), `closed after frame type ${type}`);
    }
  });

  it('answers an undecodable message with ABORT protocol_violation', async () => {
    const client = await RawSocketWampClient.open({ port });
    client.wire.write(rawFrame(0, '{not json'));
    const abort = await client.next();
    assert.deepEqual([abort[0], abort[2]], [3, 'wamp.error.protocol_violation']);
    assert.ok(await client.wire.closesWithin(3000), 'closed');
  });

  it('a truncated frame then close: nothing is delivered, the session is cleaned up', async () => {
    const before = clientSessions(router);
    const client = await RawSocketWampClient.join({ port });
    client.send([64, 1, {}, 'com.example.truncated']);
    assert.equal((await client.next())[0], 65);
    assert.equal(clientSessions(router), before + 1, 'joined');
    const call = client.encode([48, 2, {}, 'com.example.truncated', ['never delivered']]);
    client.wire.write(call.subarray(0, call.length - 5));
    client.wire.socket.end();
    await client.wire.closesWithin(3000);
    await eventually(() => !registered(router, 'com.example.truncated'), 'the registration is gone');
    assert.equal(clientSessions(router), before, 'the session left');
  });

  it('the listener close drops every connection and their sessions', async () => {
    const own = await listenRawSocket(router, { port: 0 });
    const target = { port: (own.address as { port: number }).port };
    const client = await RawSocketWampClient.join(target);
    client.send([64, 1, {}, 'com.example.on_close']);
    assert.equal((await client.next())[0], 65);
    await own.close();
    assert.ok(await client.wire.closesWithin(2000), 'the client connection is closed');
    await eventually(() => !registered(router, 'com.example.on_close'), 'the registration is gone');
  });
});

describe('RawSocket sends nothing over the client limit', () => {
  // The client announces 2^(9+1) = 1024 bytes.
  const big = 'y'.repeat(2000);

  it('a RESULT too large becomes ERROR wamp.error.payload_size_exceeded for that call', async () => {
    const callee = await RawSocketWampClient.join({ port });
    const caller = await RawSocketWampClient.join({ port }, 'json', 1);
    callee.send([64, 1, {}, 'com.example.big_result']);
    assert.equal((await callee.next())[0], 65);
    caller.send([48, 7, {}, 'com.example.big_result', []]);
    const invocation = await callee.next();
    callee.send([70, invocation[1], {}, [big]]);
    const reply = await caller.next();
    assert.deepEqual(reply.slice(0, 5), [8, 48, 7, {}, 'wamp.error.payload_size_exceeded']);
    // the caller stays connected and usable
    caller.send([48, 8, {}, 'com.example.big_result', []]);
    const again = await callee.next();
    callee.send([70, again[1], {}, ['small']]);
    assert.deepEqual(await caller.next(), [50, 8, {}, ['small']]);
    callee.close();
    caller.close();
  });

  it('an EVENT too large is not delivered to that subscriber; smaller ones are', async () => {
    const small = await RawSocketWampClient.join({ port }, 'json', 1);
    const large = await RawSocketWampClient.join({ port });
    const publisher = await RawSocketWampClient.join({ port });
    for (const client of [small, large]) {
      client.send([32, 1, {}, 'com.example.sizes']);
      assert.equal((await client.next())[0], 33);
    }
    publisher.send([16, 1, {}, 'com.example.sizes', [big]]);
    publisher.send([16, 2, {}, 'com.example.sizes', ['fits']]);
    assert.deepEqual((await large.next()).slice(4), [[big]]);
    assert.deepEqual((await large.next()).slice(4), [['fits']]);
    assert.deepEqual((await small.next()).slice(4), [['fits']], 'the small client gets only the event that fits');
    for (const client of [small, large, publisher]) client.close();
  });

  it('an INVOCATION too large for the callee: the caller gets ERROR payload_size_exceeded, the callee stays', async () => {
    const callee = await RawSocketWampClient.join({ port }, 'json', 1);
    const caller = await RawSocketWampClient.join({ port });
    callee.send([64, 1, {}, 'com.example.small_callee']);
    assert.equal((await callee.next())[0], 65);
    caller.send([48, 3, {}, 'com.example.small_callee', [big]]);
    const reply = await caller.next();
    assert.deepEqual(reply.slice(0, 5), [8, 48, 3, {}, 'wamp.error.payload_size_exceeded']);
    caller.send([48, 4, {}, 'com.example.small_callee', ['ok']]);
    const invocation = await callee.next();
    assert.deepEqual([invocation[0], invocation[4]], [68, ['ok']], 'the callee still gets calls that fit');
    callee.send([70, invocation[1], {}, ['done']]);
    assert.deepEqual(await caller.next(), [50, 4, {}, ['done']]);
    callee.close();
    caller.close();
  });
});

describe('RawSocket frame()', () => {
  it('sets the X bit for a payload of exactly 16 MiB', () => {
    const out = frame(0, Buffer.alloc(0x1000000));
    assert.equal(toHex(out.subarray(0, 4)), '08 00 00 00');
    assert.equal(toHex(frame(2, Buffer.from('ab')).subarray(0, 4)), '02 00 00 02');
  });
});

describe('RawSocket auto-ping (opt-in)', () => {
  let pinging: Listener;
  let target: { port: number };

  before(async () => {
    pinging = await listenRawSocket(router, { port: 0 }, { autoPingInterval: 200, autoPingTimeout: 500 });
    target = { port: (pinging.address as { port: number }).port };
  });
  after(() => pinging.close());

  it('a client that answers PINGs stays; one that does not is dropped and its registration goes', async () => {
    const silent = await RawSocketWampClient.join(target);
    silent.send([64, 1, {}, 'com.example.silent']);
    assert.equal((await silent.next())[0], 65);
    const answering = await RawSocketWampClient.join(target);
    answering.send([64, 1, {}, 'com.example.answering']);
    assert.equal((await answering.next())[0], 65);

    // answer three PINGs, echoing their payloads
    for (let i = 0; i < 3; i++) {
      const ping = await answering.wire.readFrame();
      assert.equal(ping.type, 1, 'a PING frame');
      assert.ok(ping.payload.length > 0, 'with a payload');
      answering.wire.write(rawFrame(2, ping.payload));
    }
    assert.ok(await silent.wire.closesWithin(2000), 'the silent client is dropped');
    await eventually(() => !registered(router, 'com.example.silent'), 'the silent registration is gone');
    assert.equal(answering.wire.isOpen, true, 'the answering client stays');
    assert.equal(registered(router, 'com.example.answering'), true, 'its registration stays');
    answering.close();
  });
});
