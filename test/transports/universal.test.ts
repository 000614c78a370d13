/**
 * The universal port: RawSocket, WebSocket and plain HTTP on one TCP (or TLS)
 * port, told apart by the first byte.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { get as httpsGet } from 'node:https';
import type { Router } from '../../src/core/router.ts';
import { listenUniversal, type UniversalListener } from '../../src/transports/universal.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { RawSocketWampClient, WireClient, toHex } from '../helpers/rawsocket-client.ts';
import { makeTestCert, type TestCert } from '../helpers/tls-cert.ts';
import { makeRouter } from '../helpers/transport-router.ts';

let router: Router;
let cert: TestCert;

before(async () => {
  router = makeRouter();
  cert = await makeTestCert();
});
after(() => cert.remove());

/** A callee on one client, a call from the other: the result must come back. */
async function callAcross(callee: { send(m: unknown[]): void; next(): Promise<unknown[]> }, caller: typeof callee, uri: string) {
  callee.send([64, 1, {}, uri]);
  assert.equal((await callee.next())[0], 65, 'REGISTERED');
  caller.send([48, 1, {}, uri, [20, 22]]);
  const invocation = await callee.next();
  assert.equal(invocation[0], 68, 'INVOCATION');
  const [a, b] = invocation[4] as number[];
  callee.send([70, invocation[1], {}, [a + b]]);
  assert.deepEqual(await caller.next(), [50, 1, {}, [42]]);
}

describe('universal port over TCP', () => {
  let listener: UniversalListener;
  let port: number;

  before(async () => {
    listener = await listenUniversal(router, {
      port: 0,
      websocket: [{ path: 'ws' }, { path: '/other', serializers: undefined }],
      rawsocket: { maxMessageSize: 65536 },
      httpHandler: (req, res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`http ${req.method} ${req.url}`),
      handshakeTimeout: 300,
    });
    port = (listener.address as { port: number }).port;
  });
  after(() => listener.close());

  it('reports its URLs', () => {
    assert.deepEqual(listener.websocketUrls, [`ws://127.0.0.1:${port}/ws`, `ws://127.0.0.1:${port}/other`]);
    assert.equal(listener.rawsocketUrl, `rs://127.0.0.1:${port}`);
    assert.equal(listener.url, `ws://127.0.0.1:${port}/ws`);
  });

  it('serves plain HTTP requests through httpHandler, several on one connection', async () => {
    const first = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(await first.text(), 'http GET /metrics');
    const second = await fetch(`http://127.0.0.1:${port}/x?y=1`, { method: 'POST', body: 'data' });
    assert.equal(await second.text(), 'http POST /x?y=1');
  });

  it('routes a call between a WebSocket client and a RawSocket client on the same port', async () => {
    const ws = await RawClient.join(listener.websocketUrls[0], 'msgpack');
    const raw = await RawSocketWampClient.join({ port }, 'cbor');
    // the RawSocket handshake reply carries this endpoint's own limit: 64 KiB = 2^(9+7)
    await callAcross(ws, raw, 'com.example.universal_add');
    await callAcross(raw, ws, 'com.example.universal_add_back');
    const other = await RawClient.join(listener.websocketUrls[1], 'json');
    other.close();
    ws.close();
    raw.close();
  });

  it('answers the RawSocket handshake with the rawsocket options', async () => {
    const client = await WireClient.connect({ port });
    client.write('7f f2 00 00');
    assert.equal(toHex(await client.read(4)), '7f 72 00 00');
    client.destroy();
  });

  it('closes a connection that sends no first byte in time, and one whose HTTP headers never end', async () => {
    const silent = await WireClient.connect({ port });
    const slow = await WireClient.connect({ port });
    slow.socket.write('GET /ws HTTP/1.1\r\nHost: x\r\n');
    assert.ok(await silent.closesWithin(3000), 'silent connection closed');
    assert.ok(await slow.closesWithin(3000), 'slow HTTP connection closed');
  });
});

describe('universal port without RawSocket', () => {
  it('drops a RawSocket client and still serves WebSocket', async () => {
    const listener = await listenUniversal(router, { port: 0, rawsocket: false });
    try {
      assert.equal(listener.rawsocketUrl, undefined);
      const client = await WireClient.connect({ port: (listener.address as { port: number }).port });
      client.write('7f f1 00 00');
      assert.ok(await client.closesWithin(2000), 'closed');
      assert.equal(client.pending().length, 0, 'no reply');
      const ws = await RawClient.join(listener.url, 'json');
      ws.close();
    } finally {
      await listener.close();
    }
  });
});

describe('universal port over TLS', () => {
  it('serves https, wss and rss on one port', async () => {
    const listener = await listenUniversal(router, {
      port: 0,
      tls: { cert: cert.cert, key: cert.keyPath },
      websocket: { path: '/ws' },
      httpHandler: (_req, res) => res.end('secure hello'),
    });
    try {
      const port = (listener.address as { port: number }).port;
      assert.equal(listener.rawsocketUrl, `rss://127.0.0.1:${port}`);
      assert.deepEqual(listener.websocketUrls, [`wss://127.0.0.1:${port}/ws`]);
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpsGet({ host: '127.0.0.1', port, path: '/', ca: cert.cert, servername: 'localhost' }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.setTimeout(2000, () => req.destroy(new Error('https request timed out')));
      });
      assert.equal(body, 'secure hello');
      const ws = await RawClient.open(listener.websocketUrls[0], 'json', { ca: cert.cert });
      ws.send([1, 'realm1', { roles: { callee: {}, caller: {} } }]);
      assert.equal((await ws.next())[0], 2);
      const raw = await RawSocketWampClient.join({ port, tls: { ca: cert.cert } }, 'msgpack');
      await callAcross(ws, raw, 'com.example.tls_universal');
      ws.close();
      raw.close();
    } finally {
      await listener.close();
    }
  });
});
