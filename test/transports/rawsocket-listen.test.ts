/** RawSocket listeners: Unix sockets (stale files, live ones, non-sockets) and TLS. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import type { Router } from '../../src/core/router.ts';
import { listenRawSocket } from '../../src/transports/rawsocket.ts';
import { RawSocketWampClient, toHex } from '../helpers/rawsocket-client.ts';
import { makeTestCert, type TestCert } from '../helpers/tls-cert.ts';
import { makeRouter, tempDir } from '../helpers/transport-router.ts';

let router: Router;
let tmp: ReturnType<typeof tempDir>;
let cert: TestCert;

before(async () => {
  router = makeRouter();
  tmp = tempDir();
  cert = await makeTestCert();
});

after(() => {
  tmp.remove();
  cert.remove();
});

describe('RawSocket over a Unix socket', () => {
  it('serves WAMP, reports unix:<path>, and removes the socket file on close', async () => {
    const path = tmp.path('plain.sock');
    const listener = await listenRawSocket(router, { path });
    try {
      assert.equal(listener.url, `unix:${path}`);
      const a = await RawSocketWampClient.join({ path }, 'msgpack');
      const b = await RawSocketWampClient.join({ path }, 'cbor');
      a.send([64, 1, {}, 'com.example.unix_add']);
      assert.equal((await a.next())[0], 65);
      b.send([48, 1, {}, 'com.example.unix_add', [2, 3]]);
      const invocation = await a.next();
      a.send([70, invocation[1], {}, [5]]);
      assert.deepEqual(await b.next(), [50, 1, {}, [5]]);
      a.close();
      b.close();
    } finally {
      await listener.close();
    }
    assert.equal(existsSync(path), false, 'the socket file is removed');
  });

  it('removes a stale socket file left by a crashed process', async () => {
    const path = tmp.path('stale.sock');
    // A socket file with nobody listening: bound, never listened, process gone.
    execFileSync('/usr/bin/python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`], {
      timeout: 10_000,
    });
    assert.equal(existsSync(path), true, 'the stale file exists before');
    const listener = await listenRawSocket(router, { path });
    try {
      const client = await RawSocketWampClient.join({ path });
      client.close();
    } finally {
      await listener.close();
    }
  });

  it('refuses a path where another server listens, and a path that is not a socket', async () => {
    const path = tmp.path('live.sock');
    const live = await listenRawSocket(router, { path });
    try {
      await assert.rejects(listenRawSocket(router, { path }), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE');
      const client = await RawSocketWampClient.join({ path });
      client.close();
    } finally {
      await live.close();
    }
    const file = tmp.path('not-a-socket');
    writeFileSync(file, 'keep me');
    await assert.rejects(listenRawSocket(router, { path: file }), /not a socket/);
    assert.equal(existsSync(file), true, 'the file is left alone');
  });
});

describe('RawSocket over TLS', () => {
  it('serves WAMP with the certificate given as file paths; rss:// URL', async () => {
    const listener = await listenRawSocket(router, { port: 0 }, {}, { cert: cert.certPath, key: cert.keyPath });
    try {
      assert.match(listener.url, /^rss:\/\/127\.0\.0\.1:\d+$/);
      const port = (listener.address as { port: number }).port;
      const client = await RawSocketWampClient.join({ port, tls: { ca: cert.cert } }, 'cbor');
      client.wire.write('01 00 00 02 aa bb');
      assert.equal(toHex(await client.wire.read(6)), '02 00 00 02 aa bb', 'PONG over TLS');
      client.close();
    } finally {
      await listener.close();
    }
  });

  it('accepts the certificate as PEM text, and a client that does not trust it fails', async () => {
    const listener = await listenRawSocket(router, { port: 0 }, {}, { cert: cert.cert, key: cert.key });
    try {
      const port = (listener.address as { port: number }).port;
      const client = await RawSocketWampClient.join({ port, tls: { ca: cert.cert } });
      client.close();
      await assert.rejects(
        new Promise((resolve, reject) => {
          const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost' }, () => resolve(socket));
          socket.once('error', reject);
        }),
        /self[- ]signed/,
      );
    } finally {
      await listener.close();
    }
  });
});
