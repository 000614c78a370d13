/**
 * Interop with Autobahn|Python 22.7 (asyncio) over RawSocket — TCP, a Unix
 * socket, and TLS with a self-signed certificate the client trusts — and over
 * wss://, with json, msgpack and cbor. Each test runs one scenario of
 * test/interop/python/rawsocket_scenarios.py and checks what it observed; the
 * scenarios run one after another in one Python process (runShared).
 *
 * Note: Autobahn|Python 22.7's asyncio RawSocket client lacks the
 * `transport_details` property its session reads on WELCOME; the script
 * patches that client-side gap (see the script).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Router } from '../../src/core/router.ts';
import { listenRawSocket } from '../../src/transports/rawsocket.ts';
import { listenWebSocket } from '../../src/transports/websocket.ts';
import type { Listener } from '../../src/transports/listen.ts';
import { requirePython, runShared, type Observed } from '../helpers/python.ts';
import { makeTestCert, type TestCert } from '../helpers/tls-cert.ts';
import { makeRouter, tempDir } from '../helpers/transport-router.ts';

const SCRIPT = fileURLToPath(new URL('./python/rawsocket_scenarios.py', import.meta.url));
/** The script bounds itself at 15 s; this is the last resort. */
const SCRIPT_TIMEOUT_MS = 25_000;

type Transport = 'tcp' | 'unix' | 'tls' | 'wss';

let router: Router;
let cert: TestCert;
let tmp: ReturnType<typeof tempDir>;
const listeners: Partial<Record<Transport, Listener>> = {};

before(async () => {
  router = makeRouter();
  cert = await makeTestCert();
  tmp = tempDir();
  listeners.tcp = await listenRawSocket(router, { host: '127.0.0.1', port: 0 });
  listeners.unix = await listenRawSocket(router, { path: tmp.path('kreuz.sock') });
  listeners.tls = await listenRawSocket(router, { port: 0 }, {}, { cert: cert.certPath, key: cert.keyPath });
  listeners.wss = await listenWebSocket(router, { port: 0 }, { path: '/ws' }, { cert: cert.certPath, key: cert.keyPath });
});

after(async () => {
  for (const listener of Object.values(listeners)) await listener.close();
  cert.remove();
  tmp.remove();
});

function target(transport: Transport): string {
  const listener = listeners[transport]!;
  if (transport === 'wss') return listener.url;
  const address = listener.address;
  return 'path' in address ? address.path : `${address.host}:${address.port}`;
}

async function run(transport: Transport, serializer: string, scenario: string): Promise<Observed> {
  await requirePython();
  return runShared(SCRIPT, [transport, target(transport), serializer, scenario, cert.certPath], { timeoutMs: SCRIPT_TIMEOUT_MS });
}

const expected: Record<string, Observed> = {
  rpc: {
    add2: 5,
    multi: { args: ['one', 2], kwargs: { name: 'kreuz', nested: { ok: true } } },
    big_length: 200000,
    bytes: 'fffe0100',
    error: { error: 'com.example.error.bad_input', args: ['why', 2], kwargs: { code: 42 } },
  },
  pubsub: {
    first: { args: [1, 'two'], kwargs: { color: 'red' } },
    publication_matches_ack: true,
    second_length: 100000,
  },
};

const transports: Record<Transport, string> = {
  tcp: 'RawSocket over TCP',
  unix: 'RawSocket over a Unix socket',
  tls: 'RawSocket over TLS',
  wss: 'WebSocket over TLS (wss://)',
};

for (const [transport, title] of Object.entries(transports) as [Transport, string][]) {
  for (const serializer of ['json', 'msgpack', 'cbor']) {
    describe(`Autobahn|Python 22.7, ${title}, ${serializer}`, () => {
      for (const scenario of ['rpc', 'pubsub']) {
        it(scenario, { timeout: SCRIPT_TIMEOUT_MS + 5_000 }, async () => {
          assert.deepEqual(await run(transport, serializer, scenario), expected[scenario]);
        });
      }
    });
  }
}
