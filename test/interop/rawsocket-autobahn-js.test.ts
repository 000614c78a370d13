/**
 * Autobahn|JS 26 over RawSocket (its Node transport `rawsocket`, TCP and Unix
 * socket), over wss://, and the universal port serving an Autobahn|JS
 * WebSocket client and an Autobahn|Python RawSocket client at the same time.
 *
 * Autobahn|JS's RawSocket transport speaks JSON only: it announces serializer
 * 1 and JSON-encodes every frame whatever `serializers` says (see
 * node_modules/autobahn/lib/transport/rawsocket.js), so msgpack over RawSocket
 * cannot be tested with it; Autobahn|Python covers msgpack and cbor.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Router } from '../../src/core/router.ts';
import { listenRawSocket } from '../../src/transports/rawsocket.ts';
import { listenWebSocket } from '../../src/transports/websocket.ts';
import { listenUniversal } from '../../src/transports/universal.ts';
import type { Listener } from '../../src/transports/listen.ts';
import { autobahn, openAutobahn, within } from '../helpers/autobahn-js.ts';
import { requirePython, runPython } from '../helpers/python.ts';
import { makeTestCert, type TestCert } from '../helpers/tls-cert.ts';
import { makeRouter, tempDir } from '../helpers/transport-router.ts';

const PYTHON_SCRIPT = fileURLToPath(new URL('./python/rawsocket_scenarios.py', import.meta.url));
const CHILD = fileURLToPath(new URL('../helpers/autobahn-js-child.mjs', import.meta.url));

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

interface AbRawClient {
  session: any;
  close(): Promise<void>;
}

/** Opens an Autobahn|JS session over its RawSocket transport (`{ host, port }` or `{ path }`). */
function openRawSocket(where: { host: string; port: number } | { path: string }): Promise<AbRawClient> {
  const connection = new autobahn.Connection({
    transports: [{ type: 'rawsocket', ...where }],
    realm: 'realm1',
    max_retries: 0,
    retry_if_unreachable: false,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Autobahn|JS (rawsocket) did not connect within 5 s')), 5000);
    connection.onopen = (session: any) => {
      clearTimeout(timer);
      resolve({
        session,
        close: () =>
          new Promise<void>((done) => {
            if (!connection.isOpen) return done();
            const giveUp = setTimeout(done, 2000);
            connection.onclose = () => {
              clearTimeout(giveUp);
              done();
              return true;
            };
            connection.close();
          }),
      });
    };
    connection.onclose = (reason: string, details: unknown) => {
      clearTimeout(timer);
      reject(new Error(`Autobahn|JS connection closed: ${reason} ${JSON.stringify(details)}`));
      return true;
    };
    connection.open();
  });
}

async function rpcAndPubsub(a: AbRawClient, b: AbRawClient, prefix: string): Promise<void> {
  await a.session.register(`${prefix}.add2`, (args: number[]) => args[0] + args[1]);
  assert.equal(await b.session.call(`${prefix}.add2`, [2, 3]), 5);
  await a.session.register(`${prefix}.echo`, (args: unknown[], kwargs: object) => new autobahn.Result(args, kwargs));
  const big = 'z'.repeat(300_000);
  const echoed = await b.session.call(`${prefix}.echo`, [big, { n: 1 }], { k: [true, null] });
  assert.equal(echoed.args[0].length, big.length, 'a 300 KB argument comes back whole');
  assert.deepEqual(echoed.kwargs, { k: [true, null] });
  let onEvent: (args: unknown[]) => void = () => {};
  const got = new Promise<unknown[]>((resolve) => (onEvent = resolve));
  await b.session.subscribe(`${prefix}.topic`, (args: unknown[]) => onEvent(args));
  await a.session.publish(`${prefix}.topic`, ['hi', 7], {}, { acknowledge: true });
  assert.deepEqual(await within(got, 3000, 'EVENT'), ['hi', 7]);
}

describe('Autobahn|JS over RawSocket (JSON)', () => {
  let tcp: Listener;
  let unix: Listener;
  const path = () => (unix.address as { path: string }).path;

  before(async () => {
    tcp = await listenRawSocket(router, { host: '127.0.0.1', port: 0 });
    unix = await listenRawSocket(router, { path: tmp.path('abjs.sock') });
  });
  after(async () => {
    await tcp.close();
    await unix.close();
  });

  it('TCP: register/call/result and publish/subscribe', { timeout: 15_000 }, async () => {
    const where = tcp.address as { host: string; port: number };
    const a = await openRawSocket(where);
    const b = await openRawSocket(where);
    try {
      assert.equal(a.session._socket.info.type, 'rawsocket');
      const routerSide = router.realms.get('realm1')!.sessions.get(a.session.id)!;
      assert.deepEqual([routerSide.peer.info.type, routerSide.peer.info.serializer], ['rawsocket', 'json']);
      await rpcAndPubsub(a, b, 'com.example.abjs_tcp');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('Unix socket: register/call/result and publish/subscribe', { timeout: 15_000 }, async () => {
    const a = await openRawSocket({ path: path() });
    const b = await openRawSocket({ path: path() });
    try {
      await rpcAndPubsub(a, b, 'com.example.abjs_unix');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('Autobahn|JS over wss://', () => {
  it('joins, calls and publishes with json and msgpack, trusting the certificate via NODE_EXTRA_CA_CERTS', {
    timeout: 30_000,
  }, async () => {
    const listener = await listenWebSocket(router, { port: 0 }, {}, { cert: cert.certPath, key: cert.keyPath });
    try {
      for (const serializer of ['json', 'msgpack']) {
        const output = await new Promise<string>((resolve, reject) => {
          const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', CHILD, listener.url, serializer], {
            env: { ...process.env, NODE_EXTRA_CA_CERTS: cert.certPath },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let stdout = '';
          let stderr = '';
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
          child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
          const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
          child.on('close', (code) => {
            clearTimeout(timer);
            if (code === 0) resolve(stdout.trim());
            else reject(new Error(`Autobahn|JS child (${serializer}) exited with ${code}\nstdout: ${stdout}\nstderr: ${stderr}`));
          });
        });
        assert.deepEqual(JSON.parse(output), { sum: 42, eventArgs: ['hello'], transport: 'websocket' }, serializer);
      }
    } finally {
      await listener.close();
    }
  });
});

describe('universal port: Autobahn|JS over WebSocket and Autobahn|Python over RawSocket at once', () => {
  it('routes calls between them both ways', { timeout: 30_000 }, async () => {
    await requirePython();
    const listener = await listenUniversal(router, { port: 0, websocket: { path: '/ws' } });
    const js = await openAutobahn(listener.websocketUrls[0], 'msgpack');
    try {
      await js.session.register('com.example.js_concat', (args: string[]) => args.join(''));
      const { host, port } = listener.address as { host: string; port: number };
      let called: Promise<unknown> | undefined;
      const observed = await runPython(PYTHON_SCRIPT, ['tcp', `${host}:${port}`, 'cbor', 'serve_once'], {
        timeoutMs: 25_000,
        onLine: (line) => {
          // Python has registered com.example.py_mul over RawSocket: call it from the WebSocket side.
          if (line.ready) called = js.session.call('com.example.py_mul', [6, 7]);
        },
      });
      assert.ok(called, 'the Python client said it was ready');
      assert.equal(await within(called!, 3000, 'py_mul result'), 42);
      assert.deepEqual(observed, { mul_called_with: [6, 7], js_concat: 'python' });
    } finally {
      await js.close();
      await listener.close();
    }
  });
});
