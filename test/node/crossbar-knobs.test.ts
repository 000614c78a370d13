/**
 * Crossbar's transport tuning knobs, from a config through to the sockets:
 * each mapped to its ws/net equivalent and seen to take effect on the wire.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Server, connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { createRouter, type RunningNode } from '../../src/index.ts';
import { RawClient } from '../helpers/raw-client.ts';

const tcp = { type: 'tcp', port: 0, interface: '127.0.0.1' };
const nodes: RunningNode[] = [];
after(() => Promise.all(nodes.map((n) => n.close())));

/** A node with one standalone WebSocket transport with these `options`; its ws:// URL. */
async function websocketNode(options: object, extra: object = {}): Promise<string> {
  const node = await createRouter({
    version: 2,
    workers: [{ type: 'router', realms: [{ name: 'realm1' }], transports: [{ type: 'websocket', endpoint: tcp, options, ...extra }] }],
  });
  nodes.push(node);
  return node.urls[0];
}

const HELLO = JSON.stringify([1, 'realm1', { roles: { subscriber: {}, publisher: {}, caller: {}, callee: {} } }]);

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** A WebSocket client by hand, to see single frames (ws reassembles them) and to leave a close frame unanswered. */
class FrameClient {
  private buffer = Buffer.alloc(0);
  private readonly frames: Frame[] = [];
  private wake: (() => void) | undefined;
  readonly ended: Promise<void>;

  private constructor(private readonly socket: Socket) {
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<{ client: FrameClient; status: number }> {
    const { hostname, port, pathname } = new URL(url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const lines = [
      `GET ${pathname} HTTP/1.1`,
      `Host: ${hostname}:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Protocol: wamp.2.json',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    const client = new FrameClient(socket);
    const head = await new Promise<Buffer>((resolve) => {
      let got = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        const end = got.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        client.take(got.subarray(end + 4));
        socket.on('data', (more: Buffer) => client.take(more));
        resolve(got.subarray(0, end));
      };
      socket.on('data', onData);
    });
    return { client, status: Number(/^HTTP\/1\.1 (\d+)/.exec(head.toString())?.[1]) };
  }

  private take(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) break;
      let length = this.buffer[1] & 0x7f;
      let at = 2;
      if (length === 126) {
        if (this.buffer.length < 4) break;
        length = this.buffer.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) break;
        length = Number(this.buffer.readBigUInt64BE(2));
        at = 10;
      }
      if (this.buffer.length < at + length) break;
      this.frames.push({
        fin: (this.buffer[0] & 0x80) !== 0,
        opcode: this.buffer[0] & 0x0f,
        payload: this.buffer.subarray(at, at + length),
      });
      this.buffer = this.buffer.subarray(at + length);
    }
    this.wake?.();
  }

  /** Sends one masked text frame, as a client must. */
  send(text: string): void {
    const payload = Buffer.from(text);
    assert.ok(payload.length < 126);
    const mask = randomBytes(4);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
    this.socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  }

  /** A frame of the reserved opcode 3: a protocol error to any WebSocket server. */
  sendBadFrame(): void {
    this.socket.write(Buffer.concat([Buffer.from([0x83, 0x80]), randomBytes(4)]));
  }

  /** Frames received until one with fin set ends a message (or a control frame arrives). */
  async message(ms = 2000): Promise<Frame[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const end = this.frames.findIndex((f) => f.fin);
      if (end >= 0) return this.frames.splice(0, end + 1);
      if (Date.now() > deadline) throw new Error('no whole message in time');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 20);
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const within = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms))]);

describe('Crossbar listen knobs', () => {
  it('endpoint.backlog is the backlog each listener is started with', async () => {
    const seen: unknown[] = [];
    const listen = Server.prototype.listen;
    Server.prototype.listen = function (this: Server, ...args: unknown[]) {
      if (typeof args[0] === 'object' && args[0] !== null) seen.push((args[0] as { backlog?: number }).backlog);
      return (listen as (...a: unknown[]) => Server).apply(this, args);
    } as typeof listen;
    try {
      const node = await createRouter({
        version: 2,
        workers: [
          {
            type: 'router',
            realms: [{ name: 'realm1' }],
            transports: [
              { type: 'websocket', endpoint: { ...tcp, backlog: 7 } },
              { type: 'rawsocket', endpoint: { ...tcp, backlog: 8 } },
              { type: 'universal', endpoint: { ...tcp, backlog: 9 }, websocket: { ws: {} } },
              { type: 'web', endpoint: tcp, paths: { ws: { type: 'websocket' } } },
            ],
          },
        ],
      });
      nodes.push(node);
      assert.deepEqual(seen, [7, 8, 9, undefined], 'in transport order; the last one has none');
      (await RawClient.join(node.urls[0])).ws.close();
    } finally {
      Server.prototype.listen = listen;
    }
  });
});

describe('Crossbar WebSocket knobs on the wire', { concurrency: true }, () => {
  it('anonymous authentication with a fixed authid gives every anonymous session that authid', async () => {
    const url = await websocketNode(
      {},
      { auth: { anonymous: { type: 'static', role: 'anonymous', authid: 'visitor', realm: 'ignored' } } },
    );
    const client = await RawClient.open(url);
    client.send([1, 'realm1', { roles: { subscriber: {} }, authmethods: ['anonymous'] }]);
    const welcome = await client.next();
    assert.equal(welcome[0], 2);
    assert.equal((welcome[2] as { authid?: string }).authid, 'visitor');
    client.close();
  });

  it('allow_null_origin decides on Origin "null": refused by false, accepted by true beside allowed_origins', async () => {
    const [open, closed, listed, plain] = await Promise.all([
      websocketNode({ allowed_origins: ['https://app.example'], allow_null_origin: true }),
      websocketNode({ allow_null_origin: false }),
      websocketNode({ allowed_origins: ['https://app.example'] }),
      websocketNode({}),
    ]);
    const statusFor = async (url: string, origin: string) => {
      const { client, status } = await FrameClient.open(url, { Origin: origin });
      client.destroy();
      return status;
    };
    assert.equal(await statusFor(open, 'null'), 101, 'true accepts null whatever the list says');
    assert.equal(await statusFor(open, 'https://evil.example'), 403, 'the list still applies to other origins');
    assert.equal(await statusFor(closed, 'null'), 403, 'false refuses null even without a list');
    assert.equal(await statusFor(closed, 'https://any.example'), 101);
    assert.equal(await statusFor(listed, 'null'), 403, 'by default null is an origin like any other: the list does not name it');
    assert.equal(await statusFor(plain, 'null'), 101, 'without a list, any origin');
  });

  it('permessage-deflate parameters are what ws negotiates', async () => {
    const url = await websocketNode({
      compression: {
        deflate: {
          request_no_context_takeover: true,
          request_max_window_bits: 10,
          no_context_takeover: true,
          max_window_bits: 11,
          memory_level: 4,
        },
      },
    });
    const ws = new WebSocket(url, ['wamp.2.json'], { perMessageDeflate: true });
    const opened = new Promise((resolve) => ws.once('open', resolve));
    const extensions = await new Promise<string>((resolve, reject) => {
      ws.once('upgrade', (response) => resolve(String(response.headers['sec-websocket-extensions'])));
      ws.once('error', reject);
    });
    const params = new Set(extensions.split(';').map((p) => p.trim()));
    for (const p of [
      'permessage-deflate',
      'client_no_context_takeover',
      'client_max_window_bits=10',
      'server_no_context_takeover',
      'server_max_window_bits=11',
    ])
      assert.ok(params.has(p), `${p} in ${extensions}`);
    // And messages flow compressed both ways.
    await opened;
    ws.send(HELLO);
    const welcome = await new Promise<unknown[]>((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))));
    assert.equal(welcome[0], 2);
    ws.close();
  });

  it('auto_fragment_size sends a message in frames of at most that size', async () => {
    const url = await websocketNode({ auto_fragment_size: 16 });
    const { client } = await FrameClient.open(url);
    client.send(HELLO);
    const frames = await client.message();
    assert.ok(frames.length > 1, `in ${frames.length} frames`);
    assert.equal(frames[0].opcode, 1, 'a text message');
    for (const f of frames.slice(1)) assert.equal(f.opcode, 0, 'continued');
    for (const f of frames) assert.ok(f.payload.length <= 16, `${f.payload.length} bytes`);
    assert.equal(JSON.parse(Buffer.concat(frames.map((f) => f.payload)).toString())[0], 2, 'a WELCOME when put together');
    client.destroy();

    const whole = await FrameClient.open(await websocketNode({}));
    whole.client.send(HELLO);
    assert.equal((await whole.client.message()).length, 1, 'without it, one frame');
    whole.client.destroy();
  });

  it('auto_ping_size is the payload of each ping', async () => {
    const url = await websocketNode({ auto_ping_interval: 50, auto_ping_size: 40 });
    const ws = new WebSocket(url, ['wamp.2.json']);
    const ping = await within(new Promise<Buffer>((resolve) => ws.once('ping', resolve)), 2000, 'a ping');
    assert.equal(ping.length, 40);
    ws.close();
  });

  it('close_handshake_timeout drops a client that leaves the close frame unanswered', async () => {
    const url = await websocketNode({ close_handshake_timeout: 200 });
    const { client } = await FrameClient.open(url);
    client.send('not WAMP'); // the router answers ABORT and closes: a close frame, then the timeout
    const [abort] = await client.message();
    assert.equal(JSON.parse(abort.payload.toString())[0], 3, 'ABORT');
    const [close] = await client.message();
    assert.equal(close.opcode, 8, 'a close frame');
    const sent = Date.now();
    await within(client.ended, 5000, 'the connection dropped after the timeout (ws alone waits 30 s)');
    assert.ok(Date.now() - sent >= 150, 'not before the timeout');
  });

  it('fail_by_drop drops a client that breaks the protocol, without a closing handshake', async () => {
    const [dropping, closing] = await Promise.all([websocketNode({ fail_by_drop: true }), websocketNode({})]);
    const answer = async (url: string) => {
      const { client } = await FrameClient.open(url);
      client.sendBadFrame();
      const frame = await Promise.race([client.message(3000).then(([f]) => f), client.ended.then(() => undefined)]);
      client.destroy();
      return frame && { opcode: frame.opcode, code: frame.payload.readUInt16BE(0) };
    };
    assert.equal(await answer(dropping), undefined, 'no close frame: dropped');
    assert.deepEqual(await answer(closing), { opcode: 8, code: 1002 }, 'a close frame with 1002');
  });

  it('require_websocket_subprotocol: false takes a client without subprotocol to speak JSON', async () => {
    const [lenient, strict] = await Promise.all([websocketNode({ require_websocket_subprotocol: false }), websocketNode({})]);
    const ws = new WebSocket(lenient);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(HELLO);
    const welcome = await new Promise<unknown[]>((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))));
    assert.equal(welcome[0], 2);
    ws.close();
    const refused = new WebSocket(strict);
    const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    assert.equal(status, 400);
  });

  it('enable_hybi10: false refuses Sec-WebSocket-Version 8', async () => {
    const url = await websocketNode({ enable_hybi10: false });
    const old = new WebSocket(url, ['wamp.2.json'], { protocolVersion: 8 });
    const status = await new Promise<number>((resolve) => old.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    assert.equal(status, 400);
    const current = await RawClient.join(url);
    current.ws.close();
  });

  it('auto_ping_restart_on_any_traffic: false lets only a pong answer a ping', async () => {
    // The client sends messages but never answers pings: with the default it lives on, without it it is dropped.
    const [strict, lenient] = await Promise.all([
      websocketNode({ auto_ping_interval: 100, auto_ping_timeout: 100, auto_ping_restart_on_any_traffic: false }),
      websocketNode({ auto_ping_interval: 100, auto_ping_timeout: 100 }),
    ]);
    const chatty = async (url: string) => {
      const ws = new WebSocket(url, ['wamp.2.json'], { autoPong: false });
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(HELLO);
      let request = 0;
      const timer = setInterval(() => ws.send(JSON.stringify([16, ++request, {}, 'com.x'])), 20);
      const closed = new Promise<boolean>((resolve) => ws.once('close', () => resolve(true)));
      const result = await Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 800))]);
      clearInterval(timer);
      ws.terminate();
      return result;
    };
    const [strictClosed, lenientClosed] = await Promise.all([chatty(strict), chatty(lenient)]);
    assert.equal(strictClosed, true, 'only pongs count: dropped');
    assert.equal(lenientClosed, false, 'any message counts: alive');
  });
});
