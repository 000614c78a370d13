/**
 * WebSocket listeners: allowed origins, auto-ping (stale peers dropped),
 * wss:// with a self-signed certificate, HTTP requests beside the upgrade,
 * a Unix socket, and the slowloris guard on request headers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import WebSocket from 'ws';
import type { Router } from '../../src/core/router.ts';
import { WEBSOCKET_DEFAULTS, listenWebSocket, originMatcher } from '../../src/transports/websocket.ts';
import type { Listener } from '../../src/transports/listen.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { makeTestCert, type TestCert } from '../helpers/tls-cert.ts';
import { eventually, makeRouter, tempDir } from '../helpers/transport-router.ts';

let router: Router;
let cert: TestCert;
let tmp: ReturnType<typeof tempDir>;

before(async () => {
  router = makeRouter();
  cert = await makeTestCert();
  tmp = tempDir();
});

after(() => {
  cert.remove();
  tmp.remove();
});

function registered(uri: string): boolean {
  return router.realms.get('realm1')!.dealer.lookup(uri, 'exact') !== undefined;
}

/** Opens a WebSocket; resolves with 'open' or the HTTP status of a refused handshake. */
function handshake(
  url: string,
  options: WebSocket.ClientOptions = {},
): Promise<{ open: true; ws: WebSocket } | { open: false; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['wamp.2.json'], options);
    const timer = setTimeout(() => reject(new Error('no handshake answer within 2 s')), 2000);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve({ open: true, ws });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ open: false, status: res.statusCode ?? 0, body });
      });
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('allowedOrigins', () => {
  let listener: Listener;
  before(async () => {
    listener = await listenWebSocket(router, { port: 0 }, { allowedOrigins: ['https://app.example.com', 'https://*.trusted.org'] });
  });
  after(() => listener.close());

  it('refuses an Origin not in the list with 403', async () => {
    for (const origin of ['https://evil.example.net', 'http://app.example.com', 'https://app.example.com.evil.net', 'null']) {
      const result = await handshake(listener.url, { origin });
      assert.equal(result.open, false, `${origin} must be refused`);
      if (!result.open) {
        assert.equal(result.status, 403, `status for ${origin}`);
        assert.match(result.body, /not allowed/);
      }
    }
  });

  it('accepts listed origins (exact, wildcard, any case) and clients that send no Origin', async () => {
    for (const origin of ['https://app.example.com', 'https://a.b.trusted.org', 'HTTPS://APP.EXAMPLE.COM', undefined]) {
      const result = await handshake(listener.url, origin === undefined ? {} : { origin });
      assert.equal(result.open, true, `${origin} must be accepted`);
      if (result.open) result.ws.close();
    }
  });

  it('matches patterns literally apart from "*"', () => {
    const allowed = originMatcher(['https://a.example.com', '*://*.dev.local:*']);
    assert.equal(allowed('https://aXexample.com'), false, '"." is not a wildcard');
    assert.equal(allowed('http://x.dev.local:8080'), true);
    assert.equal(originMatcher(['*'])('anything'), true);
  });
});

describe('auto-ping', () => {
  it('is on by default: a ping every 30 s, 10 s to answer', () => {
    assert.equal(WEBSOCKET_DEFAULTS.autoPingInterval, 30_000);
    assert.equal(WEBSOCKET_DEFAULTS.autoPingTimeout, 10_000);
  });

  it('drops a peer that stops answering pings and cleans up its session; a live peer stays', async () => {
    const listener = await listenWebSocket(router, { port: 0 }, { autoPingInterval: 200, autoPingTimeout: 500 });
    try {
      // one peer reads nothing more (so it answers no ping), one has automatic pongs turned off
      const paused = await RawClient.join(listener.url);
      paused.send([64, 1, {}, 'com.example.paused_callee']);
      assert.equal((await paused.next())[0], 65);
      paused.ws.pause();
      const silent = await RawClient.open(listener.url, 'json', { autoPong: false });
      silent.send([1, 'realm1', { roles: { callee: {} } }]);
      assert.equal((await silent.next())[0], 2);
      silent.send([64, 1, {}, 'com.example.stale_callee']);
      assert.equal((await silent.next())[0], 65);
      const live = await RawClient.join(listener.url);
      live.send([64, 1, {}, 'com.example.live_callee']);
      assert.equal((await live.next())[0], 65);
      let pings = 0;
      live.ws.on('ping', () => pings++);

      const closed = await Promise.race([silent.closed, new Promise<undefined>((r) => setTimeout(r, 3000))]);
      assert.ok(closed, 'the peer that does not pong is dropped within 3 s');
      await eventually(() => !registered('com.example.stale_callee'), 'its registration disappears');
      await eventually(() => !registered('com.example.paused_callee'), 'the paused peer is dropped too');
      paused.ws.terminate();
      await eventually(() => pings >= 3, 'the live peer is pinged again and again');
      assert.equal(live.ws.readyState, WebSocket.OPEN, 'the live peer stays');
      assert.equal(registered('com.example.live_callee'), true, 'its registration stays');
      live.close();
    } finally {
      await listener.close();
    }
  });

  it('can be turned off (0)', async () => {
    const listener = await listenWebSocket(router, { port: 0 }, { autoPingInterval: 0, autoPingTimeout: 50 });
    try {
      const silent = await RawClient.open(listener.url, 'json', { autoPong: false });
      let pings = 0;
      silent.ws.on('ping', () => pings++);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(pings, 0, 'no pings');
      assert.equal(silent.ws.readyState, WebSocket.OPEN, 'still open');
      silent.close();
    } finally {
      await listener.close();
    }
  });
});

describe('wss://', () => {
  it('serves WAMP over TLS to a client that trusts the certificate', async () => {
    const listener = await listenWebSocket(router, { port: 0 }, { path: 'wamp' }, { cert: cert.certPath, key: cert.keyPath });
    try {
      assert.match(listener.url, /^wss:\/\/127\.0\.0\.1:\d+\/wamp$/);
      const callee = await RawClient.open(listener.url, 'msgpack', { ca: cert.cert });
      callee.send([1, 'realm1', { roles: { callee: {} } }]);
      assert.equal((await callee.next())[0], 2);
      callee.send([64, 1, {}, 'com.example.tls_echo']);
      assert.equal((await callee.next())[0], 65);
      const caller = await RawClient.open(listener.url, 'cbor', { ca: cert.cert });
      caller.send([1, 'realm1', { roles: { caller: {} } }]);
      assert.equal((await caller.next())[0], 2);
      caller.send([48, 1, {}, 'com.example.tls_echo', ['secret']]);
      const invocation = await callee.next();
      callee.send([70, invocation[1], {}, invocation[4]]);
      assert.deepEqual(await caller.next(), [50, 1, {}, ['secret']]);
      callee.close();
      caller.close();
      await assert.rejects(RawClient.open(listener.url), /self[- ]signed/, 'a client that does not trust it fails');
    } finally {
      await listener.close();
    }
  });
});

describe('the HTTP side of a WebSocket listener', () => {
  it('passes plain requests to httpHandler, answers 426 by default, 404 for upgrades elsewhere', async () => {
    const custom = await listenWebSocket(router, { port: 0 }, { httpHandler: (req, res) => res.end(`metrics at ${req.url}`) });
    const plain = await listenWebSocket(router, { port: 0 });
    try {
      const base = custom.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
      assert.equal(await (await fetch(`${base}/metrics`)).text(), 'metrics at /metrics');
      const response = await fetch(plain.url.replace(/^ws/, 'http'));
      assert.equal(response.status, 426);
      await response.text();
      const wrong = await handshake(plain.url.replace(/\/ws$/, '/other'));
      assert.deepEqual([wrong.open, !wrong.open && wrong.status], [false, 404]);
    } finally {
      await custom.close();
      await plain.close();
    }
  });

  it('listens on a Unix socket (ws+unix: URL)', async () => {
    const path = tmp.path('ws.sock');
    const listener = await listenWebSocket(router, { path }, {});
    try {
      assert.equal(listener.url, `ws+unix:${path}:/ws`);
      const client = await RawClient.join(listener.url, 'cbor');
      client.close();
    } finally {
      await listener.close();
    }
  });

  it('closes a connection whose request headers do not arrive in time (slowloris)', async () => {
    const listener = await listenWebSocket(router, { port: 0 }, { handshakeTimeout: 300 });
    try {
      const { port } = listener.address as { port: number };
      const socket = netConnect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write('GET /ws HTTP/1.1\r\nHost: x\r\n'); // and never the end of the headers
      const started = Date.now();
      const closed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 3000);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      socket.destroy();
      assert.ok(closed, `closed within 3 s (after ${Date.now() - started} ms)`);
    } finally {
      await listener.close();
    }
  });
});
