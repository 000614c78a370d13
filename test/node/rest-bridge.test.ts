/**
 * The HTTP bridge into WAMP (publisher, caller, webhook) over real HTTP on
 * 127.0.0.1: fetch and the curl binary, signed and unsigned, right and
 * wrong; Autobahn|JS over WebSocket as subscriber and callee; role denial;
 * body, content type and JSON limits.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { promisify } from 'node:util';
import { createRouter, type RunningNode } from '../../src/index.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigFile } from '../../src/config/check.ts';
import { openAutobahn, type AbClient, until, autobahn } from '../helpers/autobahn-js.ts';

const run = promisify(execFile);
const KEY = 'foo';
const SECRET = 'kkjH68GiuUZ';

const permission = (uri: string, allow: Record<string, boolean>, match = 'prefix') => ({
  uri,
  match,
  allow,
  disclose: { caller: false, publisher: true },
});

function config() {
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [
          {
            name: 'realm1',
            roles: [
              { name: 'anonymous', permissions: [permission('', { call: true, register: true, publish: true, subscribe: true })] },
              { name: 'bridge', permissions: [permission('com.open.', { call: true, publish: true })] },
            ],
          },
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
                options: { key: KEY, secret: SECRET, post_body_limit: 4096, timestamp_delta_limit: 10 },
              },
              'publish-local': { type: 'publisher', realm: 'realm1', role: 'bridge', options: { require_ip: ['10.0.0.0/8'] } },
              call: { type: 'caller', realm: 'realm1', role: 'bridge', options: { timeout: 500 } },
              'call-signed': { type: 'caller', realm: 'realm1', role: 'bridge', options: { key: KEY, secret: SECRET } },
              hook: { type: 'webhook', realm: 'realm1', role: 'bridge', options: { topic: 'com.open.hook', github_secret: 'gh-secret' } },
            },
          },
        ],
      },
    ],
  };
}

/** Crossbar's signature: URL-safe base64 of HMAC-SHA256(secret, key | timestamp | seq | nonce | body). */
function signedQuery(body: string, o: { seq?: number; timestamp?: string; key?: string; secret?: string } = {}): string {
  const key = o.key ?? KEY;
  const timestamp = o.timestamp ?? new Date().toISOString();
  const seq = String(o.seq ?? 1);
  const nonce = String(Math.floor(Math.random() * 2 ** 40));
  const signature = createHmac('sha256', o.secret ?? SECRET)
    .update(key)
    .update(timestamp)
    .update(seq)
    .update(nonce)
    .update(body)
    .digest('base64url');
  return new URLSearchParams({ key, timestamp, seq, nonce, signature }).toString();
}

describe('the HTTP bridge', () => {
  let node: RunningNode;
  let base: string;
  let client: AbClient;
  const events: Array<{ args: unknown[]; kwargs: unknown; details: any }> = [];

  const post = async (path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) => {
    const response = await fetch(`${base}/${path}`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
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

  before(async () => {
    node = await createRouter(config());
    base = node.url.replace(/^ws/, 'http').replace(/\/ws$/, '');
    client = await openAutobahn(node.url, 'json');
    await client.session.subscribe(
      'com.open.',
      (args: unknown[], kwargs: unknown, details: any) => events.push({ args, kwargs, details }),
      { match: 'prefix' },
    );
    await client.session.register('com.open.add', (args: number[]) => args[0]! + args[1]!);
    await client.session.register('com.open.pair', () => new autobahn.Result([1, 2], { sum: 3 }));
    await client.session.register('com.open.fail', () => {
      throw new autobahn.Error('com.example.oops', ['no'], { why: 'because' });
    });
    await client.session.register('com.open.never', () => new Promise(() => {}));
    await client.session.register('com.closed.secret', () => 'secret');
  });
  after(async () => {
    await client.close();
    await node.close();
  });

  it('publishes an unsigned POST as the role, with args, kwargs and options, and answers the publication ID', async () => {
    const before = events.length;
    const r = await post('publish', { topic: 'com.open.news', args: ['hello', 1], kwargs: { a: { b: [true] } } });
    assert.equal(r.status, 200, r.text);
    assert.equal(typeof r.json.id, 'number');
    await until(() => events.length > before, 3000, 'the event over WebSocket');
    const event = events.at(-1)!;
    assert.deepEqual(event.args, ['hello', 1]);
    assert.deepEqual(event.kwargs, { a: { b: [true] } });
    assert.equal(event.details.publication, r.json.id);
    assert.equal(event.details.publisher_authrole, 'bridge', 'the role discloses the publisher: it is the bridge role');
  });

  it('refuses what the role may not do with 403 and wamp.error.not_authorized', async () => {
    const r = await post('publish', { topic: 'com.closed.news' });
    assert.equal(r.status, 403);
    assert.equal(r.json.error, 'wamp.error.not_authorized');
    const c = await post('call', { procedure: 'com.closed.secret' });
    assert.equal(c.status, 403);
    assert.equal(c.json.error, 'wamp.error.not_authorized');
  });

  it('answers bad requests with their status and a JSON error', async () => {
    const cases: Array<[string, unknown, Record<string, string> | undefined, number, RegExp]> = [
      ['publish', '{"topic": ', undefined, 400, /not valid JSON/],
      ['publish', '[1,2]', undefined, 400, /JSON object/],
      ['publish', { args: [] }, undefined, 400, /"topic" is required/],
      ['publish', { topic: 7 }, undefined, 400, /"topic" is required/],
      ['publish', { topic: 'com.open.x', args: {} }, undefined, 400, /"args" must be a list/],
      ['publish', { topic: 'com.open.x', kwargs: [] }, undefined, 400, /"kwargs" must be an object/],
      ['publish', { topic: 'com.open.x', options: { acknowledge: false } }, undefined, 400, /not a publish option/],
      ['publish', { topic: 'com.open.x' }, { 'content-type': 'application/x-www-form-urlencoded' }, 415, /must be JSON/],
      ['publish', { topic: 'com..bad uri' }, undefined, 400, /invalid_uri/],
      ['publish-local', { topic: 'com.open.x' }, undefined, 400, /not accepted/],
      ['publish-signed', 'x'.repeat(5000), undefined, 413, /over 4096 bytes/],
      ['call', { procedure: 'com.open.nobody' }, undefined, 404, /no_such_procedure/],
      ['call', { args: [1] }, undefined, 400, /"procedure" is required/],
    ];
    for (const [path, body, headers, status, error] of cases) {
      const r = await post(path, body, headers ?? { 'content-type': 'application/json' });
      assert.equal(r.status, status, `${path} ${JSON.stringify(body).slice(0, 40)}: ${r.text}`);
      assert.match(r.json.error, error, `${path} ${JSON.stringify(body).slice(0, 40)}`);
      assert.deepEqual(
        [r.json.args, r.json.kwargs].map((v) => typeof v),
        ['object', 'object'],
      );
    }
    const get = await fetch(`${base}/publish`);
    assert.equal(get.status, 405);
    assert.match(get.headers.get('allow') ?? '', /POST/);
    const preflight = await fetch(`${base}/publish`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
  });

  it('takes a signed request once: wrong key, wrong secret, stale timestamp, missing field and replay are refused', async () => {
    const body = JSON.stringify({ topic: 'com.open.signed', args: [1] });
    const ok = await post(`publish-signed?${signedQuery(body)}`, body);
    assert.equal(ok.status, 200, ok.text);
    const query = signedQuery(body, { seq: 2 });
    assert.equal((await post(`publish-signed?${query}`, body)).status, 200);
    const replay = await post(`publish-signed?${query}`, body);
    assert.equal(replay.status, 401);
    assert.match(replay.json.error, /replay/);
    assert.equal((await post(`publish-signed?${signedQuery(body, { key: 'bar' })}`, body)).status, 401);
    assert.equal((await post(`publish-signed?${signedQuery(body, { secret: 'wrong' })}`, body)).status, 401);
    const stale = new Date(Date.now() - 60_000).toISOString();
    assert.equal((await post(`publish-signed?${signedQuery(body, { timestamp: stale })}`, body)).status, 401);
    const tampered = await post(`publish-signed?${signedQuery(body)}`, body.replace('1', '2'));
    assert.equal(tampered.status, 401);
    const unsigned = await post('publish-signed', body);
    assert.equal(unsigned.status, 400);
    assert.match(unsigned.json.error, /"key" field is missing/);
    assert.equal((await post(`publish-signed?${signedQuery(body).replace(/timestamp=[^&]+/, 'timestamp=yesterday')}`, body)).status, 400);
  });

  it('publishes and calls with the curl binary, signed', async () => {
    const body = JSON.stringify({ topic: 'com.open.curl', kwargs: { from: 'curl' } });
    const { stdout } = await run('curl', [
      '-sS',
      '-H',
      'Content-Type: application/json',
      '-d',
      body,
      `${base}/publish-signed?${signedQuery(body, { seq: 9 })}`,
    ]);
    assert.equal(typeof JSON.parse(stdout).id, 'number', stdout);
    const callBody = JSON.stringify({ procedure: 'com.open.add', args: [20, 22] });
    const call = await run('curl', [
      '-sS',
      '-w',
      '\n%{http_code}',
      '-H',
      'Content-Type: application/json',
      '-d',
      callBody,
      `${base}/call-signed?${signedQuery(callBody)}`,
    ]);
    const lines = call.stdout.trim().split('\n');
    const [json, code] = [lines[0], lines.at(-1)];
    assert.equal(code, '200');
    assert.deepEqual(JSON.parse(json!), { args: [42] });
    const refused = await run('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      'Content-Type: application/json',
      '-d',
      callBody,
      `${base}/call-signed`,
    ]);
    assert.equal(refused.stdout, '400');
  });

  it('calls a procedure registered over WebSocket and maps its answers and errors', async () => {
    assert.deepEqual((await post('call', { procedure: 'com.open.add', args: [2, 3] })).json, { args: [5] });
    assert.deepEqual((await post('call', { procedure: 'com.open.pair' })).json, { args: [1, 2], kwargs: { sum: 3 } });
    const failed = await post('call', { procedure: 'com.open.fail' });
    assert.equal(failed.status, 502);
    assert.deepEqual(failed.json, { error: 'com.example.oops', args: ['no'], kwargs: { why: 'because' } });
  });

  it('times a call out: the router cancels it and the answer is 504', async () => {
    const r = await post('call', { procedure: 'com.open.never' });
    assert.equal(r.status, 504, r.text);
    assert.equal(r.json.error, 'wamp.error.canceled');
    const still = await post('call', { procedure: 'com.open.add', args: [1, 1] });
    assert.deepEqual(still.json, { args: [2] }, 'the bridge goes on serving');
  });

  it('turns a GitHub-signed webhook POST into an event with its headers and body; a wrong signature is refused', async () => {
    const before = events.length;
    const body = JSON.stringify({ zen: 'Keep it logically awesome.' });
    const signature = `sha256=${createHmac('sha256', 'gh-secret').update(body).digest('hex')}`;
    const r = await post('hook', body, { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-hub-signature-256': signature });
    assert.equal(r.status, 202);
    assert.equal(r.text, 'OK');
    await until(() => events.length > before, 3000, 'the webhook event');
    const [payload] = events.at(-1)!.args as [{ headers: Record<string, string[]>; body: string }];
    assert.equal(payload.body, body);
    assert.deepEqual(payload.headers['x-github-event'], ['ping']);
    const wrong = await post('hook', body, { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' });
    assert.equal(wrong.status, 400);
    assert.equal((await post('hook', body)).status, 400, 'unsigned');
  });
});

describe('kreuz check on HTTP bridge paths', () => {
  it("accepts Crossbar's publisher, caller and webhook paths, and refuses a key without a secret", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kreuz-bridge-check-'));
    const checkConfigText = (text: string) => {
      writeFileSync(join(dir, 'config.json'), text);
      return checkConfigFile(join(dir, 'config.json'));
    };
    after(() => rmSync(dir, { recursive: true, force: true }));
    const good = checkConfigText(JSON.stringify(config()));
    assert.deepEqual(good.errors, []);
    const c = config();
    (c.workers[0]!.transports[0]!.paths as any).publish.options = { key: 'k' };
    const bad = checkConfigText(JSON.stringify(c));
    assert.ok(
      bad.errors.some((e) => /secret/.test(e.path) && /required with "key"/.test(e.message)),
      JSON.stringify(bad.errors),
    );
  });
});
