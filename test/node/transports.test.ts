/** A node from a config: every transport type listening, TLS, Unix sockets, and the auth and roles wired. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRouter, type RunningNode } from '../../src/index.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { RawSocketWampClient } from '../helpers/rawsocket-client.ts';
import { makeTestCert, type TestCert } from '../helpers/tls-cert.ts';
import { httpUrl } from './support.ts';

const ROLES = { caller: {}, callee: {}, publisher: {}, subscriber: {} };
const tcp = (extra: object = {}) => ({ type: 'tcp', port: 0, interface: '127.0.0.1', ...extra });

describe('every transport type from one config', () => {
  let node: RunningNode;
  let cert: TestCert;

  before(async () => {
    cert = await makeTestCert();
    node = await createRouter(
      {
        version: 2,
        workers: [
          {
            type: 'router',
            realms: [{ name: 'realm1' }],
            transports: [
              { type: 'web', endpoint: tcp(), paths: { ws: { type: 'websocket', serializers: ['cbor'] }, info: { type: 'nodeinfo' } } },
              { type: 'rawsocket', endpoint: tcp(), serializers: ['msgpack'] },
              // A Unix socket, named relative to the config's directory too.
              { type: 'rawsocket', endpoint: { type: 'unix', path: 'kreuz.sock' } },
              {
                type: 'universal',
                endpoint: tcp(),
                rawsocket: { serializers: ['json'] },
                websocket: { ws: { type: 'websocket' } },
                web: { paths: { status: { type: 'nodeinfo' } } },
              },
              // TLS files named relative to the config's directory.
              { type: 'websocket', endpoint: tcp({ tls: { key: 'key.pem', certificate: 'cert.pem' } }), url: 'wss://localhost/secure' },
            ],
          },
        ],
      },
      { baseDir: cert.dir },
    );
  });

  after(async () => {
    await node?.close();
    cert?.remove();
  });

  it('lists where it listens', () => {
    const ports = node.listeners.map((l) => l.port);
    assert.deepEqual(node.urls, [
      `ws://127.0.0.1:${ports[0]}/ws`,
      `rs://127.0.0.1:${ports[1]}`,
      `unix:${cert.dir}/kreuz.sock`,
      `ws://127.0.0.1:${ports[3]}/ws`,
      `rs://127.0.0.1:${ports[3]}`,
      `wss://127.0.0.1:${ports[4]}/secure`,
    ]);
    assert.equal(node.url, node.urls[0]);
  });

  it('serves WAMP on each of them', async () => {
    const ws = await RawClient.join(node.urls[0], 'cbor');
    const rs = await RawSocketWampClient.join({ host: '127.0.0.1', port: node.listeners[1].port }, 'msgpack');
    const unix = await RawSocketWampClient.join({ path: `${cert.dir}/kreuz.sock` });
    const universalWs = await RawClient.join(node.urls[3]);
    const universalRs = await RawSocketWampClient.join({ host: '127.0.0.1', port: node.listeners[3].port }, 'json');
    const wss = await RawClient.open(node.urls[5], 'json', { ca: readFileSync(cert.certPath) });
    wss.send([1, 'realm1', { roles: ROLES }]);
    assert.equal((await wss.next())[0], 2, 'WELCOME over wss://');
    assert.equal(node.info().sessions, 6);
    for (const c of [ws, rs, unix, universalWs, universalRs, wss]) c.close();
  });

  it('answers node info on the web and universal HTTP paths', async () => {
    const web = await fetch(httpUrl(node.urls[0], '/info'));
    assert.equal(web.status, 200);
    assert.equal((await web.json()).router, 'kreuz');
    const universal = await fetch(httpUrl(node.urls[3], '/status'));
    assert.equal(universal.status, 200);
    assert.equal((await universal.json()).router, 'kreuz');
  });
});

describe('a Crossbar config, unchanged: ticket authentication and static roles', () => {
  let node: RunningNode;
  const fixture = new URL('../config/fixtures/crossbar-router.json', import.meta.url).pathname;

  before(async () => {
    node = await createRouter(JSON.parse(readFileSync(fixture, 'utf8')), { env: { BACKEND_TICKET: 'b4ck3nd' } });
  });
  after(async () => {
    await node?.close();
  });

  async function ticketLogin(client: RawClient | RawSocketWampClient, authid: string, ticket: string): Promise<unknown[]> {
    client.send([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid }]);
    const challenge = await client.next();
    assert.deepEqual(challenge.slice(0, 2), [4, 'ticket'], `CHALLENGE: ${JSON.stringify(challenge)}`);
    client.send([5, ticket, {}]);
    return client.next();
  }

  it('welcomes a principal with its ticket (the value from the environment) and role, over WebSocket and RawSocket', async () => {
    const ws = await RawClient.open(node.urls[0]);
    const welcome = await ticketLogin(ws, 'backend1', 'b4ck3nd');
    assert.equal(welcome[0], 2, `WELCOME: ${JSON.stringify(welcome)}`);
    assert.equal((welcome[2] as { authrole: string }).authrole, 'backend');
    const rs = await RawSocketWampClient.open({ host: '127.0.0.1', port: node.listeners[1].port }, 'msgpack');
    const welcomeRs = await ticketLogin(rs, 'backend1', 'b4ck3nd');
    assert.equal(welcomeRs[0], 2, `WELCOME over RawSocket: ${JSON.stringify(welcomeRs)}`);
    ws.close();
    rs.close();
  });

  it('refuses a wrong ticket and anonymous clients', async () => {
    const wrong = await RawClient.open(node.urls[0]);
    const abort = await ticketLogin(wrong, 'backend1', 'guess');
    assert.equal(abort[0], 3, 'ABORT');
    const anonymous = await RawClient.open(node.urls[0]);
    anonymous.send([1, 'realm1', { roles: ROLES }]);
    const refused = await anonymous.next();
    assert.deepEqual([refused[0], refused[2]], [3, 'wamp.error.no_auth_method']);
  });

  it("applies the roles' permissions", async () => {
    const browser = await RawClient.open(node.urls[0]);
    assert.equal((await ticketLogin(browser, 'browser', 'browser-secret'))[0], 2);
    browser.send([64, 1, {}, 'com.example.add']);
    const refused = await browser.next();
    assert.deepEqual(refused.slice(0, 5), [8, 64, 1, {}, 'wamp.error.not_authorized'], 'frontend may not register');
    browser.send([32, 2, {}, 'com.example.oncounter']);
    assert.equal((await browser.next())[0], 33, 'frontend may subscribe');
    browser.close();
  });
});
