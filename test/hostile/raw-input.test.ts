/**
 * Hostile input over real WebSockets: each bad message gets the answer the
 * spec names, and bystander sessions (a callee with a call in flight, a
 * subscriber) are unharmed.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { useRouter } from '../helpers/node.ts';
import { RawClient } from '../helpers/raw-client.ts';

const MAX = 64 * 1024;
const router = useRouter({ maxMessageSize: MAX });

/** A callee, a caller with a call in flight to it, and a subscriber, over msgpack and cbor. */
class Bystanders {
  callee!: RawClient;
  caller!: RawClient;
  subscriber!: RawClient;
  registration = 0;
  subscription = 0;
  private request = 100;

  async start(url: string): Promise<void> {
    this.callee = await RawClient.join(url, 'msgpack');
    this.caller = await RawClient.join(url, 'cbor');
    this.subscriber = await RawClient.join(url, 'json');
    this.callee.send([64, 1, {}, 'com.bystander.echo']);
    this.registration = (await this.callee.next())[2] as number;
    this.subscriber.send([32, 1, {}, 'com.bystander.news']);
    this.subscription = (await this.subscriber.next())[2] as number;
  }

  /** Starts a call and returns the INVOCATION request ID the callee got. */
  async startCall(): Promise<{ callRequest: number; invocation: number }> {
    const callRequest = ++this.request;
    this.caller.send([48, callRequest, {}, 'com.bystander.echo', [callRequest]]);
    const invocation = await this.callee.next();
    assert.equal(invocation[0], 68);
    assert.deepEqual(invocation[4], [callRequest]);
    return { callRequest, invocation: invocation[1] as number };
  }

  /** The call started before the attack completes, and everything still works. */
  async assertUnharmed(inFlight: { callRequest: number; invocation: number }): Promise<void> {
    this.callee.send([70, inFlight.invocation, {}, ['done', inFlight.callRequest]]);
    assert.deepEqual(await this.caller.next(), [50, inFlight.callRequest, {}, ['done', inFlight.callRequest]]);
    const again = await this.startCall();
    this.callee.send([70, again.invocation, {}, ['ok']]);
    assert.deepEqual(await this.caller.next(), [50, again.callRequest, {}, ['ok']]);
    this.caller.send([16, ++this.request, { acknowledge: true }, 'com.bystander.news', ['still here']]);
    const event = await this.subscriber.next();
    assert.deepEqual([event[0], event[1], event[4]], [36, this.subscription, ['still here']]);
    assert.equal((await this.caller.next())[0], 17);
  }

  stop(): void {
    for (const c of [this.callee, this.caller, this.subscriber]) c.close();
  }
}

async function expectAbort(client: RawClient, reason = 'wamp.error.protocol_violation'): Promise<void> {
  const abort = await client.next();
  assert.equal(abort[0], 3, `expected ABORT, got ${JSON.stringify(abort)}`);
  assert.equal(abort.length, 3, 'ABORT carries exactly 3 elements');
  assert.equal(abort[2], reason);
  assert.equal(typeof (abort[1] as { message?: unknown }).message, 'string', 'ABORT says why in Details.message');
  const closed = await client.closed;
  assert.equal(closed.code, 1000);
}

describe('hostile input over WebSocket', () => {
  const bystanders = new Bystanders();
  before(() => bystanders.start(router.url));
  after(() => bystanders.stop());

  const joinedCases: Array<[string, (c: RawClient) => void]> = [
    ['a JSON object instead of an array', (c) => c.sendRaw('{"not":"a list"}')],
    ['a bare number', (c) => c.sendRaw('48')],
    ['an empty array', (c) => c.sendRaw('[]')],
    ['an unknown message code', (c) => c.send([4242, 1, {}])],
    ['a CALL with a string request ID', (c) => c.send([48, 'one', {}, 'com.bystander.echo'])],
    ['a CALL with a negative request ID', (c) => c.send([48, -1, {}, 'com.bystander.echo'])],
    ['a CALL with a float request ID', (c) => c.send([48, 1.5, {}, 'com.bystander.echo'])],
    ['a CALL with options as a list', (c) => c.send([48, 1, [], 'com.bystander.echo'])],
    ['a CALL with a number as procedure', (c) => c.send([48, 1, {}, 42])],
    ['a REGISTER with a bad invoke option', (c) => c.send([64, 1, { invoke: 7 }, 'com.x'])],
    ['a SUBSCRIBE with null options', (c) => c.send([32, 1, null, 'com.x'])],
    ['a PUBLISH with kwargs as a list', (c) => c.send([16, 1, {}, 'com.x', [], []])],
    ['a second HELLO', (c) => c.send([1, 'realm1', { roles: { caller: {} } }])],
    ['a RESULT from a client', (c) => c.send([50, 1, {}])],
    ['an ERROR naming a CALL as its request type', (c) => c.send([8, 48, 1, {}, 'com.x'])],
    ['invalid JSON text', (c) => c.sendRaw('[48, 1, {}, "com.x"')],
    ['binary garbage on a JSON connection', (c) => c.sendRaw(Buffer.from([0xff, 0x00, 0x13]), true)],
  ];

  for (const [name, attack] of joinedCases) {
    it(`ABORTs ${name} with protocol_violation; bystanders unharmed`, async () => {
      const inFlight = await bystanders.startCall();
      const hostile = await RawClient.join(router.url, 'json');
      attack(hostile);
      await expectAbort(hostile);
      await bystanders.assertUnharmed(inFlight);
    });
  }

  it('ABORTs a message sent before HELLO', async () => {
    const inFlight = await bystanders.startCall();
    const hostile = await RawClient.open(router.url, 'json');
    hostile.send([48, 1, {}, 'com.bystander.echo']);
    await expectAbort(hostile);
    await bystanders.assertUnharmed(inFlight);
  });

  it('ABORTs undecodable msgpack and cbor', async () => {
    for (const serializer of ['msgpack', 'cbor'] as const) {
      const inFlight = await bystanders.startCall();
      const hostile = await RawClient.join(router.url, serializer);
      hostile.sendRaw(Buffer.from([0xc1, 0xc1, 0xc1])); // 0xc1 is never used in msgpack; truncated in cbor
      await expectAbort(hostile);
      await bystanders.assertUnharmed(inFlight);
    }
  });

  it('closes a connection that sends a message over the size limit with 1009', async () => {
    const inFlight = await bystanders.startCall();
    const hostile = await RawClient.join(router.url, 'json');
    hostile.send([16, 1, {}, 'com.bystander.news', ['x'.repeat(MAX + 1)]]);
    const abort = await hostile.next();
    assert.deepEqual([abort[0], abort.length, abort[2]], [3, 3, 'wamp.error.payload_size_exceeded']);
    const closed = await hostile.closed;
    assert.equal(closed.code, 1009);
    assert.equal(closed.reason, `message larger than the limit of ${MAX} bytes`);
    await bystanders.assertUnharmed(inFlight);
  });

  it("cannot answer, unregister or unsubscribe another session's invocation, registration or subscription", async () => {
    const inFlight = await bystanders.startCall();
    const hostile = await RawClient.join(router.url, 'json');
    hostile.send([70, inFlight.invocation, {}, ['forged']]); // not its invocation: ignored
    hostile.send([8, 68, inFlight.invocation, {}, 'com.forged.error']); // likewise
    hostile.send([66, 1, bystanders.registration]);
    assert.deepEqual((await hostile.next()).slice(0, 5), [8, 66, 1, {}, 'wamp.error.no_such_registration']);
    hostile.send([34, 2, bystanders.subscription]);
    assert.deepEqual((await hostile.next()).slice(0, 5), [8, 34, 2, {}, 'wamp.error.no_such_subscription']);
    hostile.send([64, 3, {}, 'com.bystander.echo']);
    assert.deepEqual((await hostile.next()).slice(0, 5), [8, 64, 3, {}, 'wamp.error.procedure_already_exists']);
    await bystanders.assertUnharmed(inFlight);
    hostile.close();
  });

  it('refuses a WebSocket handshake offering no WAMP subprotocol we speak', async () => {
    for (const protocols of [['wamp.2.ubjson'], ['mqtt'], []]) {
      const ws = new WebSocket(router.url, protocols);
      const status = await new Promise<number>((resolve) => {
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
      assert.equal(status, 400, `offered ${JSON.stringify(protocols)}`);
      ws.terminate();
    }
  });

  it("picks the first subprotocol in the client's order that it speaks", async () => {
    for (const [offered, chosen] of [
      [['wamp.2.ubjson', 'wamp.2.cbor', 'wamp.2.json'], 'wamp.2.cbor'],
      [['wamp.2.msgpack', 'wamp.2.json'], 'wamp.2.msgpack'],
      [['wamp.2.json', 'wamp.2.msgpack'], 'wamp.2.json'],
    ] as const) {
      const ws = new WebSocket(router.url, [...offered]);
      await new Promise((resolve) => ws.once('open', resolve));
      assert.equal(ws.protocol, chosen);
      ws.close();
    }
  });

  it('does not negotiate permessage-deflate unless configured', async () => {
    const ws = new WebSocket(router.url, ['wamp.2.json'], { perMessageDeflate: true });
    await new Promise((resolve) => ws.once('open', resolve));
    assert.equal(ws.extensions, '');
    ws.close();
  });

  it('answers 404 for a WebSocket upgrade on another path', async () => {
    const ws = new WebSocket(router.url.replace(/\/ws$/, '/other'), ['wamp.2.json']);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => {});
    });
    assert.equal(status, 404);
    ws.terminate();
  });
});
