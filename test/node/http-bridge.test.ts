/**
 * The HTTP bridge into WAMP (publisher, caller, webhook) over real HTTP on
 * 127.0.0.1, against a node started from a config: fetch, the curl binary
 * and raw sockets (for what fetch cannot send), signed and unsigned, right
 * and wrong; Autobahn|JS over WebSocket as subscriber and callee, a wire
 * client as a callee that sees its invocation canceled; the meta API's view
 * of the bridge's session; role denial; every limit.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { checkConfigFile } from '../../src/config/check.ts';
import { createRouter, type RunningNode } from '../../src/index.ts';
import { startNode } from '../../src/node/server.ts';
import { MAX_REQUESTS_IN_PROGRESS } from '../../src/node/web-services/bridge-service.ts';
import { twistedHeaderName } from '../../src/node/web-services/webhook.ts';
import { autobahn, openAutobahn, until, type AbClient } from '../helpers/autobahn-js.ts';
import { WampWireClient } from '../helpers/wamp-wire-client.ts';

const run = promisify(execFile);
const KEY = 'foo';
const SECRET = 'kkjH68GiuUZ';
const GITHUB_SECRET = 'gh-secret';

const permission = (uri: string, allow: Record<string, boolean>) => ({
  uri,
  match: 'prefix',
  allow,
  disclose: { caller: true, publisher: true },
});

const ALL = { call: true, register: true, publish: true, subscribe: true };

function config() {
  const signed = { key: KEY, secret: SECRET };
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [
          {
            name: 'realm1',
            roles: [
              { name: 'anonymous', permissions: [permission('', ALL)] },
              { name: 'bridge', permissions: [permission('com.open.', { call: true, publish: true })] },
            ],
          },
          // A realm whose bridge role may only subscribe: every publish and call is refused.
          { name: 'realm2', roles: [{ name: 'reader', permissions: [permission('', { subscribe: true })] }] },
        ],
        transports: [
          {
            type: 'web',
            endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
            paths: {
              ws: { type: 'websocket' },
              publish: { type: 'publisher', realm: 'realm1', role: 'bridge' },
              'publish-signed': {
                type: 'publisher',
                realm: 'realm1',
                role: 'bridge',
                options: { ...signed, post_body_limit: 4096, timestamp_delta_limit: 10 },
              },
              'publish-any-time': { type: 'publisher', realm: 'realm1', role: 'bridge', options: { ...signed, timestamp_delta_limit: 0 } },
              'publish-elsewhere': { type: 'publisher', realm: 'realm1', role: 'bridge', options: { require_ip: ['10.0.0.0/8'] } },
              'publish-loopback': {
                type: 'publisher',
                realm: 'realm1',
                role: 'bridge',
                options: { require_ip: ['127.0.0.0/255.0.0.0', '::1'] },
              },
              'publish-tls': { type: 'publisher', realm: 'realm1', role: 'bridge', options: { require_tls: true } },
              'publish-slow': {
                type: 'publisher',
                realm: 'realm1',
                role: 'bridge',
                options: { post_body_limit: 4096, post_body_timeout: 300 },
              },
              'publish-held': { type: 'publisher', realm: 'realm1', role: 'bridge', options: { post_body_timeout: 20_000 } },
              'publish-reader': { type: 'publisher', realm: 'realm2', role: 'reader' },
              call: { type: 'caller', realm: 'realm1', role: 'bridge', options: { timeout: 500 } },
              'call-signed': { type: 'caller', realm: 'realm1', role: 'bridge', options: signed },
              'call-reader': { type: 'caller', realm: 'realm2', role: 'reader' },
              hook: { type: 'webhook', realm: 'realm1', role: 'bridge', options: { topic: 'com.open.hook', github_secret: GITHUB_SECRET } },
              'hook-plain': {
                type: 'webhook',
                realm: 'realm1',
                role: 'bridge',
                options: { topic: 'com.open.plain', success_response: 'thanks', post_body_limit: 100 },
              },
              'hook-refused': {
                type: 'webhook',
                realm: 'realm1',
                role: 'bridge',
                options: { topic: 'com.closed.hook', error_response: 'nope' },
              },
            },
          },
        ],
      },
    ],
  };
}

interface Signing {
  seq?: number | string;
  nonce?: number | string;
  timestamp?: string;
  key?: string;
  secret?: string;
  /** Crossbar's own form: base64 with "=" padding. */
  padded?: boolean;
}

/** Crossbar's signature: URL-safe base64 of HMAC-SHA256(secret, key | timestamp | seq | nonce | body). */
function signedQuery(body: string, o: Signing = {}): string {
  const key = o.key ?? KEY;
  const timestamp = o.timestamp ?? new Date().toISOString();
  const seq = String(o.seq ?? 1);
  const nonce = String(o.nonce ?? Math.floor(Math.random() * 2 ** 53));
  const digest = createHmac('sha256', o.secret ?? SECRET)
    .update(key)
    .update(timestamp)
    .update(seq)
    .update(nonce)
    .update(body)
    .digest();
  const signature = o.padded ? digest.toString('base64').replaceAll('+', '-').replaceAll('/', '_') : digest.toString('base64url');
  return new URLSearchParams({ key, timestamp, seq, nonce, signature }).toString();
}

interface Answer {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** Writes `request` as it is on a fresh connection; resolves with what came back once the server closed it. */
function rawExchange(port: number, request: string | Buffer, ms = 5000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: false });
    }, ms);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: true });
    });
    socket.write(request);
  });
}

describe('the HTTP bridge', () => {
  let node: RunningNode;
  let base: string;
  let port: number;
  let client: AbClient;
  const events: Array<{ args: unknown[]; kwargs: any; details: any }> = [];

  /** POSTs `body` (an object as JSON); a string body without a content-type header goes without Content-Type (fetch's default would be text/plain). */
  const post = async (path: string, body: unknown, headers: Record<string, string> = JSON_TYPE, method = 'POST'): Promise<Answer> => {
    const typed = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
    const response = await fetch(`${base}/${path}`, {
      method,
      headers,
      body: new Blob([typeof body === 'string' || body instanceof Uint8Array ? (body as BlobPart) : JSON.stringify(body)], {
        type: typed ? headers['content-type'] : '',
      }),
    });
    const text = await response.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text, headers: response.headers };
  };

  /** The first event on `topic` among those after the first `count` (an earlier test's event may still be on its way). */
  const eventAfter = async (count: number, topic: string) => {
    const find = () => events.slice(count).find((e) => e.details.topic === topic);
    await until(() => find() !== undefined, 3000, `an event on ${topic} over WebSocket`);
    return find()!;
  };

  before(async () => {
    node = await createRouter(config());
    base = node.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
    port = Number(new URL(base).port);
    client = await openAutobahn(node.url, 'json');
    await client.session.subscribe(
      'com.open.',
      (args: unknown[], kwargs: unknown, details: any) => events.push({ args, kwargs, details }),
      {
        match: 'prefix',
      },
    );
    await client.session.register('com.open.add', (args: number[]) => args[0]! + args[1]!);
    await client.session.register('com.open.pair', () => new autobahn.Result([1, 2], { sum: 3 }));
    await client.session.register('com.open.nothing', () => null);
    await client.session.register('com.open.fail', () => {
      throw new autobahn.Error('com.example.oops', ['no'], { why: 'because' });
    });
    await client.session.register('com.open.crash', () => {
      throw new Error('boom');
    });
    await client.session.register('com.closed.secret', () => 'secret');
  });
  after(async () => {
    await client?.close();
    await node?.close();
  });

  describe('publisher', () => {
    it('publishes as the role, with args and kwargs, and answers the publication ID the subscriber sees', async () => {
      const seen = events.length;
      const r = await post('publish', { topic: 'com.open.news', args: ['hello', 1], kwargs: { a: { b: [true] } } });
      assert.equal(r.status, 200, r.text);
      assert.equal(typeof r.json.id, 'number');
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      const event = await eventAfter(seen, 'com.open.news');
      assert.deepEqual(event.args, ['hello', 1]);
      assert.deepEqual(event.kwargs, { a: { b: [true] } });
      assert.equal(event.details.topic, 'com.open.news');
      assert.equal(event.details.publication, r.json.id);
      assert.equal(event.details.publisher_authrole, 'bridge', "the role's disclosure names the bridge role");
      assert.equal(event.details.publisher_authid, 'rest-bridge');
    });

    it('takes PUT as Crossbar does, and null or absent args and kwargs as empty', async () => {
      const seen = events.length;
      const r = await post('publish', { topic: 'com.open.put', args: null, kwargs: null }, JSON_TYPE, 'PUT');
      assert.equal(r.status, 200, r.text);
      const event = await eventAfter(seen, 'com.open.put');
      assert.deepEqual([event.args, event.kwargs], [[], {}]);
    });

    it('passes the publish options Crossbar passes: exclude_authrole keeps the event from a role', async () => {
      const seen = events.length;
      const r = await post('publish', { topic: 'com.open.excluded', args: [1], options: { exclude_authrole: ['anonymous'] } });
      assert.equal(r.status, 200, r.text);
      const after = await post('publish', { topic: 'com.open.marker' });
      assert.equal(after.status, 200);
      await eventAfter(seen, 'com.open.marker');
      assert.ok(
        events.slice(seen).every((e) => e.details.topic !== 'com.open.excluded'),
        'the excluded event never reached the anonymous subscriber',
      );
    });

    it('shows in the meta API as an "http" session of its role, and joins again after it was killed', async () => {
      const seen = events.length;
      assert.equal((await post('publish', { topic: 'com.open.who' })).status, 200);
      const { details } = await eventAfter(seen, 'com.open.who');
      const info = await client.session.call('wamp.session.get', [details.publisher]);
      assert.equal(info.authrole, 'bridge');
      assert.equal(info.authid, 'rest-bridge');
      assert.equal(info.transport.type, 'http');
      assert.match(info.transport.peer, /^http:transports\[0\]\.paths\.\/?publish$/);

      await client.session.call('wamp.session.kill', [details.publisher], { reason: 'wamp.close.killed' });
      const again = events.length;
      const r = await post('publish', { topic: 'com.open.who' });
      assert.equal(r.status, 200, r.text);
      const next = await eventAfter(again, 'com.open.who');
      assert.notEqual(next.details.publisher, details.publisher, 'a new session');
    });

    it('refuses what the role may not do with 403 and wamp.error.not_authorized', async () => {
      for (const [path, body] of [
        ['publish', { topic: 'com.closed.news' }],
        ['publish-reader', { topic: 'com.open.news' }],
        ['call', { procedure: 'com.closed.secret' }],
        ['call-reader', { procedure: 'com.open.add', args: [1, 2] }],
      ] as const) {
        const r = await post(path, body);
        assert.equal(r.status, 403, `${path}: ${r.text}`);
        assert.deepEqual(r.json, { error: 'wamp.error.not_authorized', args: r.json.args, kwargs: r.json.kwargs });
      }
    });
  });

  describe('bad requests', () => {
    it("answers each with its status and a JSON error in Crossbar's shape", async () => {
      const deep = `{"topic": "com.open.deep", "args": ${'['.repeat(100)}${']'.repeat(100)}}`;
      const cases: Array<[string, string | object | Uint8Array, Record<string, string> | undefined, number, RegExp]> = [
        ['publish', '{"topic": ', undefined, 400, /not valid JSON/],
        ['publish', '', undefined, 400, /not valid JSON/],
        ['publish', '[1,2]', undefined, 400, /JSON object/],
        ['publish', '"com.open.x"', undefined, 400, /JSON object/],
        ['publish', { args: [] }, undefined, 400, /"topic" is required/],
        ['publish', { topic: 7 }, undefined, 400, /"topic" is required/],
        ['publish', { topic: '' }, undefined, 400, /"topic" is required/],
        ['publish', { topic: 'com.open.x', args: {} }, undefined, 400, /"args" must be a list/],
        ['publish', { topic: 'com.open.x', kwargs: [] }, undefined, 400, /"kwargs" must be an object/],
        ['publish', { topic: 'com.open.x', options: 'x' }, undefined, 400, /"options" must be an object/],
        ['publish', { topic: 'com.open.x', options: { acknowledge: false } }, undefined, 400, /not a publish option/],
        ['publish', '{"topic": "com.open.x", "options": {"__proto__": 1}}', undefined, 400, /not a publish option/],
        ['publish', '{"topic": "com.open.x", "args": [1e999]}', undefined, 400, /too large for a double/],
        ['publish', deep, undefined, 400, /deep|nest/i],
        ['publish', new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), undefined, 400, /not valid UTF-8/],
        ['publish', { topic: 'com.open.x' }, { 'content-type': 'application/x-www-form-urlencoded' }, 415, /must be JSON/],
        ['publish', { topic: 'com.open.x' }, { 'content-type': 'text/plain' }, 415, /must be JSON/],
        ['publish', { topic: 'com.open.x' }, { 'content-type': 'application/json; charset=latin-1' }, 415, /UTF-8/],
        ['publish', { topic: 'com..bad uri' }, undefined, 400, /invalid_uri/],
        ['publish-elsewhere', { topic: 'com.open.x' }, undefined, 403, /not accepted \(require_ip\)/],
        ['publish-tls', { topic: 'com.open.x' }, undefined, 403, /TLS/],
        ['publish-signed', 'x'.repeat(5000), undefined, 413, /over 4096 bytes/],
        ['call', { procedure: 'com.open.nobody' }, undefined, 404, /no_such_procedure/],
        ['call', { args: [1] }, undefined, 400, /"procedure" is required/],
        ['call', { procedure: 'com.open.add', args: 'x' }, undefined, 400, /"args" must be a list/],
      ];
      for (const [path, body, headers, status, error] of cases) {
        const what = `${path} ${String(typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 50)} ${JSON.stringify(headers ?? {})}`;
        const r = await post(path, body, headers ?? JSON_TYPE);
        assert.equal(r.status, status, `${what}: ${r.text}`);
        assert.match(r.json?.error ?? '', error, what);
        assert.ok(Array.isArray(r.json.args) && typeof r.json.kwargs === 'object', `${what}: Crossbar's error shape`);
      }
    });

    it('takes a body without Content-Type, and one with charset=utf-8, as JSON', async () => {
      assert.equal((await post('publish', { topic: 'com.open.x' }, {})).status, 200);
      assert.equal((await post('publish', { topic: 'com.open.x' }, { 'content-type': 'Application/JSON; charset="UTF-8"' })).status, 200);
    });

    it('answers other methods 405 naming POST, and CORS preflights as Crossbar does', async () => {
      const get = await fetch(`${base}/publish`);
      assert.equal(get.status, 405);
      assert.match(get.headers.get('allow') ?? '', /POST/);
      const below = await post('publish/more', { topic: 'com.open.x' });
      assert.equal(below.status, 404, 'the service is its own path only');
      const preflight = await fetch(`${base}/publish`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-headers': 'content-type, x-custom' },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type, x-custom');
      assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    });

    it('serves a require_ip list that holds the client (a netmask and an IPv6 address in it)', async () => {
      const r = await post('publish-loopback', { topic: 'com.open.x' });
      assert.equal(r.status, 200, r.text);
    });

    it('refuses a declared body over the limit at once, and closes the connection without reading it', async () => {
      const head = `POST /publish-signed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`;
      const { text, closed } = await rawExchange(port, head);
      assert.match(text, /^HTTP\/1\.1 413 /);
      assert.match(text, /over 4096 bytes/);
      assert.ok(closed, 'the connection is closed');
    });

    it('refuses a chunked body once it grows past the limit', async () => {
      const chunk = 'x'.repeat(5000);
      const head = `POST /publish-signed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
      const { text, closed } = await rawExchange(port, `${head}${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      assert.match(text, /^HTTP\/1\.1 413 /);
      assert.ok(closed);
    });

    it('answers a body that does not arrive within post_body_timeout 408, and closes the connection', async () => {
      const body = '{"topic": "com.open.slow"}';
      const head = `POST /publish-slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      const { text, closed } = await rawExchange(port, head + body.slice(0, 5));
      assert.match(text, /^HTTP\/1\.1 408 /);
      assert.match(text, /did not arrive within 300 ms/);
      assert.ok(closed);
      // The same body sent whole is served.
      assert.equal((await post('publish-slow', body)).status, 200);
    });
  });

  describe('requests in progress', () => {
    it(`serves at most ${MAX_REQUESTS_IN_PROGRESS} at once on a service (503 past it), and serves again once they end`, async () => {
      const held: Socket[] = [];
      try {
        const head = 'POST /publish-held HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"topic"';
        for (let i = 0; i < MAX_REQUESTS_IN_PROGRESS; i++) {
          const socket = connect({ host: '127.0.0.1', port });
          socket.on('error', () => {});
          socket.write(head);
          held.push(socket);
        }
        // The held requests reach the service as their sockets connect: ask until the bound is reached.
        let refused: Answer | undefined;
        const deadline = Date.now() + 5000;
        while (refused?.status !== 503 && Date.now() < deadline) refused = await post('publish-held', { topic: 'com.open.held' });
        assert.equal(refused?.status, 503, refused?.text);
        assert.match(refused!.json.error, /too many requests in progress/);
        const other = await post('publish', { topic: 'com.open.other' });
        assert.equal(other.status, 200, 'another service is not affected');
      } finally {
        for (const socket of held) socket.destroy();
      }
      const deadline = Date.now() + 5000;
      let served: Answer | undefined;
      while (served?.status !== 200 && Date.now() < deadline) served = await post('publish-held', { topic: 'com.open.held' });
      assert.equal(served?.status, 200, served?.text);
    });
  });

  describe('signed requests', () => {
    const body = JSON.stringify({ topic: 'com.open.signed', args: [1] });

    it('takes a right one, in both base64 forms (Crossbar pads with "=")', async () => {
      const seen = events.length;
      const ok = await post(`publish-signed?${signedQuery(body)}`, body);
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual((await eventAfter(seen, 'com.open.signed')).args, [1]);
      const padded = await post(`publish-signed?${signedQuery(body, { padded: true })}`, body);
      assert.equal(padded.status, 200, padded.text);
    });

    it('refuses a replayed seq and nonce with 401, even re-signed with a new timestamp', async () => {
      const query = signedQuery(body, { seq: 2, nonce: 4242 });
      assert.equal((await post(`publish-signed?${query}`, body)).status, 200);
      const replay = await post(`publish-signed?${query}`, body);
      assert.equal(replay.status, 401);
      assert.match(replay.json.error, /replayed/);
      const later = new Date(Date.now() + 5).toISOString();
      const resigned = await post(`publish-signed?${signedQuery(body, { seq: 2, nonce: 4242, timestamp: later })}`, body);
      assert.equal(resigned.status, 401, 'the pair counts, not the signature');
      const written = await post(`publish-signed?${signedQuery(body, { seq: '002', nonce: '04242' })}`, body);
      assert.equal(written.status, 401, 'the same integers, written otherwise');
      assert.equal((await post(`publish-signed?${signedQuery(body, { seq: 2, nonce: 4243 })}`, body)).status, 200, 'a new nonce');
    });

    it('refuses a wrong key, a wrong secret, a stale or future timestamp, a changed body and a missing field with 401', async () => {
      const refused = async (what: string, query: string, sent = body) => {
        const r = await post(`publish-signed?${query}`, sent);
        assert.equal(r.status, 401, `${what}: ${r.text}`);
        assert.ok(typeof r.json.error === 'string' && Array.isArray(r.json.args), what);
        return r.json.error as string;
      };
      assert.match(await refused('wrong key', signedQuery(body, { key: 'bar' })), /unknown key/);
      assert.match(await refused('wrong secret', signedQuery(body, { secret: 'wrong' })), /invalid request signature/);
      assert.match(await refused('stale', signedQuery(body, { timestamp: new Date(Date.now() - 60_000).toISOString() })), /window/);
      assert.match(await refused('future', signedQuery(body, { timestamp: new Date(Date.now() + 60_000).toISOString() })), /window/);
      assert.match(await refused('changed body', signedQuery(body), body.replace('1', '2')), /invalid request signature/);
      assert.match(await refused('not base64', signedQuery(body).replace(/signature=[^&]+/, 'signature=%2B%2F%2B%2F')), /invalid/);
      assert.match(await refused('unsigned', ''), /"key" field is missing/);
      for (const field of ['timestamp', 'seq', 'nonce', 'signature']) {
        const query = new URLSearchParams(signedQuery(body));
        query.delete(field);
        assert.match(await refused(`without ${field}`, query.toString()), new RegExp(`"${field}" field is missing`));
      }
    });

    it('answers fields that are not what the scheme says 400', async () => {
      for (const [field, value] of [
        ['timestamp', 'yesterday'],
        ['timestamp', '2026-12-02T10:00:00Z'],
        ['seq', 'one'],
        ['nonce', '1.5'],
      ] as const) {
        const query = new URLSearchParams(signedQuery(body));
        query.set(field, value);
        const r = await post(`publish-signed?${query}`, body);
        assert.equal(r.status, 400, `${field}=${value}: ${r.text}`);
        assert.match(r.json.error, new RegExp(`invalid ${field === 'seq' ? 'sequence number' : field}`));
      }
    });

    it('takes any timestamp with timestamp_delta_limit 0, and still refuses a replay', async () => {
      const query = signedQuery(body, { timestamp: '2011-10-14T16:59:51.123Z' });
      assert.equal((await post(`publish-any-time?${query}`, body)).status, 200);
      assert.equal((await post(`publish-any-time?${query}`, body)).status, 401);
    });

    it('works with the curl binary: signed publish and call, and unsigned ones refused', async () => {
      const publishBody = JSON.stringify({ topic: 'com.open.curl', kwargs: { from: 'curl' } });
      const seen = events.length;
      const curl = async (path: string, sent: string) => {
        const { stdout } = await run('curl', [
          '-sS',
          '-w',
          '\n%{http_code}',
          '-H',
          'Content-Type: application/json',
          '-d',
          sent,
          `${base}/${path}`,
        ]);
        const lines = stdout.split('\n');
        return { status: Number(lines.at(-1)), json: JSON.parse(lines.slice(0, -1).join('\n')) };
      };
      const published = await curl(`publish-signed?${signedQuery(publishBody, { seq: 9 })}`, publishBody);
      assert.equal(published.status, 200);
      assert.equal(typeof published.json.id, 'number');
      assert.deepEqual((await eventAfter(seen, 'com.open.curl')).kwargs, { from: 'curl' });

      const callBody = JSON.stringify({ procedure: 'com.open.add', args: [20, 22] });
      assert.deepEqual(await curl(`call-signed?${signedQuery(callBody)}`, callBody), { status: 200, json: { args: [42] } });
      const unsigned = await curl('call-signed', callBody);
      assert.equal(unsigned.status, 401);
      assert.match(unsigned.json.error, /field is missing/);
      const wrong = await curl(`call-signed?${signedQuery(callBody, { secret: 'guess' })}`, callBody);
      assert.equal(wrong.status, 401);

      const plain = await curl('publish', JSON.stringify({ topic: 'com.open.curl', args: ['plain'] }));
      assert.equal(plain.status, 200);
      const refused = await curl('publish', JSON.stringify({ topic: 'com.closed.curl' }));
      assert.equal(refused.status, 403);
    });
  });

  describe('caller', () => {
    it('calls a procedure registered over WebSocket and answers its results as Crossbar does', async () => {
      assert.deepEqual((await post('call', { procedure: 'com.open.add', args: [2, 3] })).json, { args: [5] });
      assert.deepEqual((await post('call', { procedure: 'com.open.pair' })).json, { args: [1, 2], kwargs: { sum: 3 } });
      assert.deepEqual((await post('call', { procedure: 'com.open.nothing' })).json, { args: [null] });
    });

    it('maps WAMP errors to statuses, with the error, args and kwargs in the body', async () => {
      const failed = await post('call', { procedure: 'com.open.fail' });
      assert.equal(failed.status, 502);
      assert.deepEqual(failed.json, { error: 'com.example.oops', args: ['no'], kwargs: { why: 'because' } });
      const crashed = await post('call', { procedure: 'com.open.crash' });
      assert.equal(crashed.status, 502);
      assert.equal(crashed.json.error, 'wamp.error.runtime_error');
      const missing = await post('call', { procedure: 'com.open.nobody' });
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error, 'wamp.error.no_such_procedure');
    });

    it('times a call out: the router cancels the invocation (the callee gets INTERRUPT) and the answer is 504', async () => {
      const callee = await WampWireClient.open({ name: 'callee', kind: 'websocket', url: node.url });
      try {
        callee.send([1, 'realm1', { roles: { callee: { features: { call_canceling: true } } } }]);
        assert.equal((await callee.next())[0], 2, 'WELCOME');
        callee.send([64, 1, {}, 'com.open.never']);
        const registered = await callee.next();
        assert.equal(registered[0], 65, 'REGISTERED');

        const answer = post('call', { procedure: 'com.open.never', args: ['wait'] });
        const invocation = await callee.next();
        assert.equal(invocation[0], 68, 'INVOCATION');
        assert.deepEqual(invocation[4], ['wait']);
        const r = await answer;
        assert.equal(r.status, 504, r.text);
        assert.equal(r.json.error, 'wamp.error.canceled');
        const interrupt = await callee.next();
        assert.equal(interrupt[0], 69, 'INTERRUPT');
        assert.equal(interrupt[1], invocation[1], 'for that invocation');
      } finally {
        callee.send([6, {}, 'wamp.close.close_realm']);
      }
      const still = await post('call', { procedure: 'com.open.add', args: [1, 1] });
      assert.deepEqual(still.json, { args: [2] }, 'the bridge goes on serving');
    });
  });

  describe('webhook', () => {
    it("turns a GitHub-signed POST into an event with Crossbar's shape: headers by their names, the body as text", async () => {
      const seen = events.length;
      const body = JSON.stringify({ zen: 'Keep it logically awesome.', ü: 1 });
      const signature = `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`;
      const r = await post('hook', body, {
        'content-type': 'application/json',
        'x-github-event': 'ping',
        'X-GitHub-Delivery': '7e87c300',
        'x-hub-signature-256': signature,
      });
      assert.equal(r.status, 202, r.text);
      assert.equal(r.text, 'OK');
      const event = await eventAfter(seen, 'com.open.hook');
      assert.equal(event.args.length, 1);
      const [payload] = event.args as [{ headers: Record<string, string[]>; body: string }];
      assert.deepEqual(Object.keys(payload).sort(), ['body', 'headers']);
      assert.equal(payload.body, body);
      assert.deepEqual(payload.headers['X-Github-Event'], ['ping']);
      assert.deepEqual(payload.headers['X-Github-Delivery'], ['7e87c300']);
      assert.deepEqual(payload.headers['Content-Type'], ['application/json']);
      assert.deepEqual(payload.headers['X-Hub-Signature-256'], [signature]);
    });

    it('takes the older SHA-1 signature, and refuses a wrong or missing one with 401', async () => {
      const body = 'payload=1';
      const sha1 = `sha1=${createHmac('sha1', GITHUB_SECRET).update(body).digest('hex')}`;
      assert.equal((await post('hook', body, { 'content-type': 'text/plain', 'x-hub-signature': sha1 })).status, 202);
      const wrongKey = `sha256=${createHmac('sha256', 'other').update(body).digest('hex')}`;
      const wrong: Array<Record<string, string>> = [
        { 'x-hub-signature-256': wrongKey },
        { 'x-hub-signature-256': 'sha256=00' },
        { 'x-hub-signature': 'sha1=00' },
        {},
      ];
      for (const headers of wrong) {
        const r = await post('hook', body, headers);
        assert.equal(r.status, 401, JSON.stringify(headers));
        assert.match(r.json.error, /GitHub signature/);
      }
      const both = await post('hook', body, { 'x-hub-signature': sha1, 'x-hub-signature-256': 'sha256=00' });
      assert.equal(both.status, 401, 'the SHA-256 one counts when both are sent');
    });

    it('takes any body that is text, answers success_response, and refuses what is not UTF-8 or over the limit', async () => {
      const seen = events.length;
      const r = await post('hook-plain', 'fresh webhooks!', { 'content-type': 'text/plain', 'x-repeat': 'a' });
      assert.equal(r.status, 202);
      assert.equal(r.text, 'thanks');
      const [payload] = (await eventAfter(seen, 'com.open.plain')).args as [{ headers: Record<string, string[]>; body: string }];
      assert.equal(payload.body, 'fresh webhooks!');
      assert.deepEqual(payload.headers['X-Repeat'], ['a']);
      const bad = await post('hook-plain', new Uint8Array([0xc3, 0x28]), { 'content-type': 'text/plain' });
      assert.equal(bad.status, 400);
      assert.match(bad.json.error, /UTF-8/);
      const large = await post('hook-plain', 'x'.repeat(101), { 'content-type': 'text/plain' });
      assert.equal(large.status, 413);
    });

    it('keeps repeated headers and a header named __proto__ as headers', async () => {
      const seen = events.length;
      const request =
        'POST /hook-plain HTTP/1.1\r\nHost: x\r\nX-Many: one\r\nx-many: two\r\n__proto__: polluted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi';
      const { text } = await rawExchange(port, request);
      assert.match(text, /^HTTP\/1\.1 202 /);
      const [payload] = (await eventAfter(seen, 'com.open.plain')).args as [{ headers: Record<string, string[]> }];
      assert.deepEqual(payload.headers['X-Many'], ['one', 'two']);
      assert.deepEqual(Object.getOwnPropertyDescriptor(payload.headers, '__proto__')?.value, ['polluted']);
    });

    it('answers error_response with 500 when the role may not publish on the topic', async () => {
      const r = await post('hook-refused', 'x', { 'content-type': 'text/plain' });
      assert.equal(r.status, 500);
      assert.equal(r.text, 'nope');
    });

    it('writes header names as Twisted does', () => {
      assert.equal(twistedHeaderName('x-github-event'), 'X-Github-Event');
      assert.equal(twistedHeaderName('CONTENT-TYPE'), 'Content-Type');
      assert.equal(twistedHeaderName('etag'), 'ETag');
      assert.equal(twistedHeaderName('www-authenticate'), 'WWW-Authenticate');
    });
  });
});

describe('the HTTP bridge at start', () => {
  it('refuses a realm the node does not have, and a role its realm does not have, naming the path', async () => {
    const transports = (paths: object) => [{ type: 'web', endpoint: { host: '127.0.0.1', port: 0 }, paths }] as never;
    const gate = { bodyLimit: 1024, timestampDeltaMs: 0, requireTls: false };
    await assert.rejects(
      startNode({
        host: '127.0.0.1',
        port: 0,
        realms: ['realm1'],
        transports: transports({ p: { type: 'publisher', realm: 'nowhere', role: 'trusted', authid: 'x', gate } }),
      }),
      /paths\.p.*realm "nowhere" is not a realm of this node/,
    );
    await assert.rejects(
      startNode({
        host: '127.0.0.1',
        port: 0,
        realms: [{ name: 'realm1', roles: [{ name: 'user', permissions: [] }] }] as never,
        transports: transports({ c: { type: 'caller', realm: 'realm1', role: 'ghost', authid: 'x', gate, timeoutMs: 1000 } }),
      }),
      /paths\.c.*has no role "ghost"/,
    );
  });
});

describe('kreuz check on HTTP bridge paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kreuz-bridge-check-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const check = (c: unknown) => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
    return checkConfigFile(join(dir, 'config.json'));
  };
  const paths = (c: ReturnType<typeof config>) => c.workers[0]!.transports[0]!.paths as Record<string, any>;

  it("accepts Crossbar's publisher, caller and webhook paths, and notes a signed path that takes any timestamp", () => {
    const good = check(config());
    assert.deepEqual(good.errors, []);
    assert.ok(
      good.notes.some((n) => /publish-any-time.*timestamp_delta_limit/.test(n.path) && /replayed request/.test(n.message)),
      JSON.stringify(good.notes),
    );
    // Crossbar's own examples write this; its Python refuses it (host bits set), Kreuz takes the network and says so.
    const c = config();
    paths(c).publish.options = { require_ip: ['192.168.1.1/255.255.255.0', '127.0.0.1'] };
    const noted = check(c);
    assert.deepEqual(noted.errors, []);
    assert.ok(
      noted.notes.some((n) => /paths\.publish\.options\.require_ip\[0\]/.test(n.path) && /host bits/.test(n.message)),
      JSON.stringify(noted.notes),
    );
  });

  it("refuses a key without a secret, an unknown realm or role, a bad network, Crossbar's bounds and a webhook without a topic", () => {
    const cases: Array<[(p: Record<string, any>) => void, RegExp, RegExp]> = [
      [(p) => (p.publish.options = { key: 'k' }), /paths\.publish\.options\.secret/, /required with "key"/],
      [(p) => (p.call.options = { secret: 's' }), /paths\.call\.options\.key/, /required with "secret"/],
      [(p) => (p.publish.realm = 'realm9'), /paths\.publish/, /realm9/],
      [(p) => (p.call.role = 'ghost'), /paths\.call/, /ghost/],
      [(p) => (p.publish.options = { require_ip: ['10.0.0.0/33'] }), /require_ip/, /IP address or a network/],
      [(p) => (p.publish.options = { require_ip: ['10.0.0.0/255.0.255.0'] }), /require_ip/, /IP address or a network/],
      [(p) => (p.publish.options = { post_body_limit: 2 ** 20 + 1 }), /post_body_limit/, /./],
      [(p) => (p.publish.options = { timestamp_delta_limit: 86401 }), /timestamp_delta_limit/, /./],
      [(p) => (p.hook.options = { github_secret: 'x' }), /paths\.hook\.options\.topic/, /required/],
      [(p) => delete p.hook.options, /paths\.hook\.options/, /required/],
      [(p) => delete p.publish.role, /paths\.publish\.role/, /./],
    ];
    for (const [change, where, message] of cases) {
      const c = config();
      change(paths(c));
      const { errors } = check(c);
      assert.ok(
        errors.some((e) => where.test(e.path) && message.test(e.message)),
        `${change.toString()}: ${JSON.stringify(errors)}`,
      );
    }
  });
});
