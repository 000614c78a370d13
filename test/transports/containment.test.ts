/**
 * Containment over real sockets: whatever handling one connection's message
 * throws ends that session only; a message one recipient's serializer cannot
 * express fails that delivery only; connections that never join are closed;
 * a RawSocket client that pings without reading is cut off like any slow reader.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import type { Session } from '../../src/core/session.ts';
import type { Logger } from '../../src/core/logger.ts';
import { listenWebSocket } from '../../src/transports/websocket.ts';
import { listenRawSocket } from '../../src/transports/rawsocket.ts';
import type { Listener } from '../../src/transports/listen.ts';
import { staticTicket } from '../../src/auth/ticket.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { WireClient, rawFrame, hex } from '../helpers/rawsocket-client.ts';
import { MemoryClient } from '../helpers/memory-peer.ts';
import { eventually } from '../helpers/transport-router.ts';
import { ABORT, CALL, CHALLENGE, ERROR, EVENT, INVOCATION, PUBLISH, PUBLISHED, RESULT, YIELD } from '../helpers/wamp-codes.ts';

/** Log lines the router wrote, by level. */
function recordingLogger(): Logger & { lines: Array<{ level: string; message: string; fields: object }> } {
  const lines: Array<{ level: string; message: string; fields: object }> = [];
  const at = (level: string) => (fields: object, message: string) => void lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A router with a defect: a CALL to com.bug.crash throws inside the core, as a bug would. */
class RouterWithABug extends Router {
  override receive(session: Session, raw: unknown): void {
    if (Array.isArray(raw) && raw[0] === CALL && raw[3] === 'com.bug.crash') throw new TypeError('a bug in the router');
    super.receive(session, raw);
  }
}

describe('containment at the transport edge', () => {
  const logger = recordingLogger();
  const router = new RouterWithABug({ realms: [{ name: 'realm1' }], logger, limits: { openingTimeout: 300 } });
  let ws: Listener;
  let url: string;

  before(async () => {
    ws = await listenWebSocket(router, { port: 0 });
    url = ws.url;
  });
  after(() => ws.close());

  it('an exception while handling one message ends that session only, with ABORT protocol_violation and a log line', async () => {
    const callee = await RawClient.join(url, 'msgpack');
    callee.send([64, 1, {}, 'com.echo']);
    await callee.next();
    const caller = await RawClient.join(url, 'cbor');
    caller.send([CALL, 1, {}, 'com.echo', ['in flight']]);
    const invocation = await callee.next();
    assert.equal(invocation[0], INVOCATION);

    for (const serializer of ['json', 'msgpack', 'cbor'] as const) {
      const victim = await RawClient.join(url, serializer);
      victim.send([CALL, 1, {}, 'com.bug.crash']);
      const abort = await victim.next();
      assert.deepEqual([abort[0], abort[2]], [ABORT, 'wamp.error.protocol_violation'], serializer);
      await victim.closed;
    }
    assert.ok(
      logger.lines.some((l) => l.level === 'error' && /session ended/.test(l.message)),
      'logged',
    );
    assert.equal(router.counters.sessionsFailed, 3);

    // The bystanders' call in flight completes, and new calls work.
    callee.send([YIELD, invocation[1], {}, ['done']]);
    assert.deepEqual((await caller.next()).slice(0, 4), [RESULT, 1, {}, ['done']]);
    caller.send([CALL, 2, {}, 'com.echo']);
    const second = await callee.next();
    callee.send([YIELD, second[1], {}]);
    assert.equal((await caller.next())[0], RESULT);
    callee.close();
    caller.close();
  });

  it("a value a subscriber's serializer cannot express fails that delivery only; the others get it, and the next event reaches all", async () => {
    const json = await RawClient.join(url, 'json');
    const msgpack = await RawClient.join(url, 'msgpack');
    for (const s of [json, msgpack]) {
      s.send([32, 1, {}, 'com.big']);
      await s.next();
    }
    // An integer beyond 64 bits: JSON writes its digits, MessagePack cannot carry it.
    const publisher = MemoryClient.join(router);
    const before = router.counters.undeliverable.get(EVENT) ?? 0;
    publisher.send([PUBLISH, 1, { acknowledge: true }, 'com.big', [2n ** 70n]]);
    publisher.send([PUBLISH, 2, {}, 'com.big', ['plain']]);
    assert.equal(publisher.take()[0][0], PUBLISHED, 'the publisher is not harmed');
    assert.deepEqual((await json.next())[4], [2n ** 70n]);
    assert.deepEqual((await json.next())[4], ['plain']);
    assert.deepEqual((await msgpack.next())[4], ['plain'], 'the MessagePack subscriber missed only the event it cannot take');
    assert.equal(router.counters.undeliverable.get(EVENT), before + 1);
    assert.ok(logger.lines.some((l) => l.message === 'message not delivered'));
    json.close();
    msgpack.close();
  });

  it("an INVOCATION the callee's serializer cannot express gives the caller an ERROR; the callee stays connected", async () => {
    const callee = await RawClient.join(url, 'msgpack');
    callee.send([64, 1, {}, 'com.json.callee']);
    await callee.next();
    const caller = MemoryClient.join(router);
    caller.send([CALL, 7, {}, 'com.json.callee', [-(2n ** 64n)]]);
    await eventually(() => caller.peer.sent.length > 0, 'the caller is answered');
    const [reply] = caller.take();
    assert.deepEqual([reply[0], reply[2], reply[4]], [ERROR, 7, 'wamp.error.invalid_payload']);
    caller.send([CALL, 8, {}, 'com.json.callee', [1]]);
    const invocation = await callee.next();
    assert.deepEqual(invocation[4], [1], 'the callee still gets calls');
    callee.send([YIELD, invocation[1], {}, [2]]);
    await eventually(() => caller.peer.sent.length > 0, 'the second call is answered');
    assert.deepEqual(caller.take()[0].slice(0, 4), [RESULT, 8, {}, [2]]);
    callee.close();
  });

  it('closes a connection that never sends HELLO within the opening timeout', async () => {
    const silent = await RawClient.open(url);
    const abort = await silent.next(3000);
    assert.deepEqual([abort[0], abort[2]], [ABORT, 'wamp.error.timeout']);
    await silent.closed;
  });
});

describe('opening timeout with a CHALLENGE pending', () => {
  const router = new Router({
    realms: [{ name: 'realm1', authorizer: { authorize: () => ({ allow: true }), hasRole: () => true } }],
    limits: { openingTimeout: 300 },
  });
  let ws: Listener;
  before(async () => {
    ws = await listenWebSocket(
      router,
      { port: 0 },
      { auth: new Map([['ticket', staticTicket(new Map([['joe', { ticket: 'secret', role: 'user' }]]))]]) },
    );
  });
  after(() => ws.close());

  it('closes a connection that leaves its CHALLENGE unanswered', async () => {
    const client = await RawClient.open(ws.url);
    client.send([1, 'realm1', { roles: { caller: {} }, authmethods: ['ticket'], authid: 'joe' }]);
    assert.equal((await client.next())[0], CHALLENGE);
    const abort = await client.next(3000);
    assert.deepEqual([abort[0], abort[2]], [ABORT, 'wamp.error.timeout']);
    await client.closed;
  });
});

describe('RawSocket PONGs count against the send buffer', () => {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  let raw: Listener;
  before(async () => {
    raw = await listenRawSocket(router, { port: 0 }, { maxSendBuffer: 64 * 1024, maxMessageSize: 64 * 1024 });
  });
  after(() => raw.close());

  it('a client that sends PINGs but never reads the PONGs is cut off', { timeout: 20_000 }, async () => {
    const address = raw.address as { port: number };
    const client = await WireClient.connect({ port: address.port });
    client.socket.write(hex('7f f1 00 00')); // json, accepts up to 16 MB
    client.socket.pause(); // never reads again
    const ping = rawFrame(1, Buffer.alloc(60 * 1024, 0x61));
    // Far more than the kernel's socket buffers and the 64 KiB send buffer together; bounded.
    for (let i = 0; i < 2000 && !client.socket.destroyed; i++) {
      if (!client.socket.write(ping)) await new Promise((r) => setTimeout(r, 1));
    }
    await client.closed;
  });
});
