/**
 * The "dashboard" path type in a config: what `kreuz check` refuses (an
 * unknown realm, no WebSocket to connect to, a URL that is no ws:/wss: URL
 * or path), and what a node answers when it runs: the page on a universal
 * transport, and 503 with a JSON body where the page is not built.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigFile } from '../../src/config/check.ts';
import { createRouter, startNode } from '../../src/index.ts';
import { ensureDashboardBuilt } from '../helpers/browser.ts';
import { get } from '../node/web-http.ts';

const endpoint = { type: 'tcp', port: 0, interface: '127.0.0.1' };

function routerConfig(transport: Record<string, unknown>) {
  return { version: 2, workers: [{ type: 'router', realms: [{ name: 'realm1' }], transports: [transport] }] };
}

const web = (paths: Record<string, unknown>) => routerConfig({ type: 'web', endpoint, paths });

describe('the dashboard path type in a config', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kreuz-dashboard-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function errors(config: unknown): string[] {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    return checkConfigFile(file).errors.map((p) => `${p.path}: ${p.message}`);
  }

  it('accepts a dashboard on a web transport with a WebSocket path, or with a url', () => {
    assert.deepEqual(errors(web({ ws: { type: 'websocket' }, dashboard: { type: 'dashboard', realm: 'realm1' } })), []);
    assert.deepEqual(errors(web({ dashboard: { type: 'dashboard', realm: 'realm1', url: 'wss://router.example.com/ws' } })), []);
    assert.deepEqual(errors(web({ dashboard: { type: 'dashboard', realm: 'realm1', url: '/elsewhere' } })), []);
  });

  it('refuses a realm the router worker does not define', () => {
    assert.deepEqual(errors(web({ ws: { type: 'websocket' }, dashboard: { type: 'dashboard', realm: 'realm9' } })), [
      'workers[0].transports[0].paths.dashboard.realm: realm "realm9" is not defined by this router worker: the dashboard page joins one of its realms',
    ]);
  });

  it('refuses a dashboard with nothing to connect to (no WebSocket path on its transport, no url)', () => {
    const [problem, ...more] = errors(
      routerConfig({ type: 'universal', endpoint, web: { paths: { dash: { type: 'dashboard', realm: 'realm1' } } } }),
    );
    assert.deepEqual(more, []);
    assert.match(problem, /^workers\[0\]\.transports\[0\]\.web\.paths\.dash: this transport has no WebSocket path/);
    // Its WebSocket paths under "websocket" count.
    assert.deepEqual(
      errors(
        routerConfig({
          type: 'universal',
          endpoint,
          websocket: { ws: {} },
          web: { paths: { dash: { type: 'dashboard', realm: 'realm1' } } },
        }),
      ),
      [],
    );
  });

  it('refuses a url that is no ws:/wss: URL or path, or that could not stand in the Content-Security-Policy as it is', () => {
    for (const url of [
      'http://router/ws',
      'ws://user:pw@router/ws',
      'ws://router/ws?x=1',
      'ws://router/ws#x',
      '/a b',
      'ws://router/a;b',
      "ws://r/'x'",
      'ws',
    ]) {
      const found = errors(web({ dashboard: { type: 'dashboard', realm: 'realm1', url } }));
      assert.equal(found.length, 1, `${url}: ${found.join('; ')}`);
      assert.match(found[0], /^workers\[0\]\.transports\[0\]\.paths\.dashboard\.url: must /, url);
    }
    const unknown = errors(web({ ws: { type: 'websocket' }, dashboard: { type: 'dashboard', realm: 'realm1', theme: 'dark' } }));
    assert.equal(unknown.length, 1);
    assert.match(unknown[0], /theme/);
    assert.match(errors(web({ dashboard: { type: 'dashboard' } }))[0], /paths\.dashboard\.realm/);
  });
});

describe('a node serving the dashboard', () => {
  before(() => ensureDashboardBuilt());

  it('serves the page on a universal transport, connecting to its first WebSocket path', async () => {
    const node = await createRouter(
      routerConfig({
        type: 'universal',
        endpoint,
        websocket: { 'api/ws': {} },
        web: { paths: { '/': { type: 'dashboard', realm: 'realm1' } } },
      }),
    );
    try {
      const r = await get(node.listeners[0].port, '/');
      assert.equal(r.status, 200);
      assert.match(r.text, /&#34;url&#34;:&#34;\/api\/ws&#34;/);
      assert.match(String(r.headers['content-security-policy']), /ws:\/\/127\.0\.0\.1:\d+\/api\/ws /);
    } finally {
      await node.close();
    }
  });

  it('answers 503 with a JSON body where the page is not built, and refuses to start for an unknown realm', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'kreuz-dashboard-empty-'));
    const paths = (realm: string) => ({
      ws: { type: 'websocket' as const },
      dash: { type: 'dashboard' as const, realm, directory: empty },
    });
    const node = await startNode({
      realms: [{ name: 'realm1' }],
      transports: [{ type: 'web', endpoint: { host: '127.0.0.1', port: 0 }, paths: paths('realm1') }],
    });
    try {
      const r = await get(node.listeners[0].port, '/dash/');
      assert.equal(r.status, 503);
      assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(JSON.parse(r.text).error, 'not_built');
    } finally {
      await node.close();
      rmSync(empty, { recursive: true, force: true });
    }
    await assert.rejects(
      startNode({
        realms: [{ name: 'realm1' }],
        transports: [{ type: 'web', endpoint: { host: '127.0.0.1', port: 0 }, paths: paths('nope') }],
      }),
      /realm "nope" is not defined on this router/,
    );
  });
});
