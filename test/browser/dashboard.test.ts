/**
 * The dashboard page in a real browser (chromium, headless, puppeteer-core)
 * against a real node with live traffic from Autobahn|JS clients: what the
 * page shows is compared with what the WAMP meta API says at the same
 * moment; an unprivileged login sees only what its role allows; a session
 * that joins shows up without a reload; the filter narrows the tables; a
 * transport without anonymous access gets the login form, and a trusted
 * WAMP-CRA (salted) login may look at another realm. Also the page's HTTP
 * answers: types, caching, gzip, the Content-Security-Policy.
 * Screenshots: test/helpers/browser.ts (screenshotDir).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Browser, Page } from 'puppeteer-core';
import { createRouter, type RunningNode } from '../../src/index.ts';
import { type AbClient, openAutobahn } from '../helpers/autobahn-js.ts';
import { ensureDashboardBuilt, launchBrowser, openPage, screenshotDir, type PageTroubles } from '../helpers/browser.ts';
import { get } from '../node/web-http.ts';
import { BUDGET, readManifest } from '../../web/dashboard/build.mjs';
import { startTraffic, type Traffic } from './traffic.ts';

const ADMIN_PASSWORD = 'admin-password';
const VIEWER_TICKET = 'viewer-ticket';
const WAIT_MS = 15_000;
/** Chart samples (one per 2 s) before a screenshot: a few in a normal run; more for the README's pictures. */
const SAMPLES = process.env.KREUZ_DASHBOARD_SCREENSHOTS ? 30 : 4;

const allow = (uri: string, actions: Record<string, boolean>, match = 'exact') => ({ uri, match, allow: actions });

function config() {
  const auth = (anonymous: boolean) => ({
    ...(anonymous ? { anonymous: { type: 'static', role: 'anonymous' } } : {}),
    ticket: { type: 'static', principals: { viewer: { ticket: VIEWER_TICKET, role: 'viewer' } } },
    wampcra: {
      type: 'static',
      users: { admin: { secret: ADMIN_PASSWORD, role: 'trusted', salt: 'pepper', iterations: 1000, keylen: 32 } },
    },
  });
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [
          {
            name: 'realm1',
            roles: [
              // As `kreuz init` writes it: anonymous may do everything (but is not trusted: its own realm only).
              { name: 'anonymous', permissions: [allow('', { call: true, register: true, publish: true, subscribe: true }, 'prefix')] },
              // Health, realms and registrations from kreuz.node; subscriptions from the meta API only; no sessions
              // (neither kreuz.node.list_sessions nor wamp.session.*), no live stats.
              {
                name: 'viewer',
                permissions: [
                  allow('kreuz.node.get_health', { call: true }),
                  allow('kreuz.node.list_realms', { call: true }),
                  allow('kreuz.node.list_registrations', { call: true }),
                  allow('wamp.subscription.', { call: true }, 'prefix'),
                ],
              },
            ],
          },
          { name: 'realm2' },
        ],
        transports: [
          {
            type: 'web',
            endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
            paths: {
              ws: { type: 'websocket', serializers: ['json', 'msgpack', 'cbor'], auth: auth(true) },
              members: { type: 'websocket', auth: auth(false) },
              dashboard: { type: 'dashboard', realm: 'realm1' },
              'members-dashboard': { type: 'dashboard', realm: 'realm1', url: '/members' },
              'remote-dashboard': { type: 'dashboard', realm: 'realm1', url: 'wss://kreuz.example.com:8443/ws' },
            },
          },
        ],
      },
    ],
  };
}

// ---- reading the page and the meta API ----

const APP_URI = (uri: string) => !/^(wamp|crossbar|kreuz)\./.test(uri);

interface Registrations {
  [uri: string]: number[];
}

async function pageSessions(page: Page): Promise<number[]> {
  return (await page.$$eval('#sessions tr[data-session]', (rows) => rows.map((r) => Number(r.getAttribute('data-session'))))).sort();
}

async function pageRegistrations(page: Page): Promise<Registrations> {
  const rows = await page.$$eval('#registrations tr[data-registration]', (trs) =>
    trs.map((r) => [r.getAttribute('data-uri') ?? '', r.getAttribute('data-callees') ?? ''] as const),
  );
  return Object.fromEntries(
    rows.filter(([uri]) => APP_URI(uri)).map(([uri, callees]) => [uri, callees.split(' ').filter(Boolean).map(Number).sort()]),
  );
}

async function pageSubscriptions(page: Page): Promise<Record<string, number>> {
  const rows = await page.$$eval('#subscriptions tr[data-subscription]', (trs) =>
    trs.map((r) => [r.getAttribute('data-uri') ?? '', Number(r.getAttribute('data-subscribers'))] as const),
  );
  return Object.fromEntries(rows.filter(([uri]) => APP_URI(uri)));
}

const text = (page: Page, selector: string) => page.$eval(selector, (el) => el.textContent ?? '');

async function metaSessions(meta: AbClient): Promise<number[]> {
  return ((await meta.session.call('wamp.session.list')) as number[]).sort();
}

async function metaRegistrations(meta: AbClient): Promise<Registrations> {
  const list = await meta.session.call('wamp.registration.list');
  const out: Registrations = {};
  for (const id of [...list.exact, ...list.prefix, ...list.wildcard]) {
    const details = await meta.session.call('wamp.registration.get', [id]);
    if (APP_URI(details.uri)) out[details.uri] = ((await meta.session.call('wamp.registration.list_callees', [id])) as number[]).sort();
  }
  return out;
}

async function metaSubscriptions(meta: AbClient): Promise<Record<string, number>> {
  const list = await meta.session.call('wamp.subscription.list');
  const out: Record<string, number> = {};
  for (const id of [...list.exact, ...list.prefix, ...list.wildcard]) {
    const details = await meta.session.call('wamp.subscription.get', [id]);
    if (APP_URI(details.uri)) out[details.uri] = await meta.session.call('wamp.subscription.count_subscribers', [id]);
  }
  return out;
}

/**
 * Reads the page and the meta API one right after the other until they agree (the page refreshes
 * every 2 s, so a change between two refreshes shows for a moment); fails showing both otherwise.
 */
async function agree<T>(what: string, fromPage: () => Promise<T>, fromMeta: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const shown = await fromPage();
    const truth = await fromMeta();
    try {
      assert.deepEqual(shown, truth, `${what}: the page shows ${JSON.stringify(shown)}, the meta API says ${JSON.stringify(truth)}`);
      return truth;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function noTroubles(troubles: PageTroubles): void {
  assert.deepEqual(troubles.violations, [], 'no Content-Security-Policy violations');
  assert.deepEqual(
    troubles.errors.filter((e) => !e.includes('favicon')),
    [],
    'no errors in the page',
  );
}

/** Empties an input as a user does (select all, delete), so the page sees the input events. */
async function clear(page: Page, selector: string): Promise<void> {
  await page.click(selector, { count: 3 });
  await page.keyboard.press('Backspace');
}

async function loginWith(page: Page, method: 'ticket' | 'wampcra', authid: string, secret: string): Promise<void> {
  await page.waitForSelector('#login');
  await page.select('#login-method', method);
  await clear(page, '#login-authid');
  await page.type('#login-authid', authid);
  await page.type('#login-secret', secret);
  await page.click('#login-submit');
}

describe('the dashboard page in chromium', () => {
  let node: RunningNode;
  let port: number;
  let base: string;
  let traffic: Traffic;
  let meta: AbClient;
  let browser: Browser;
  let shots: string;

  before(async () => {
    await ensureDashboardBuilt();
    node = await createRouter(config());
    port = node.listeners[0].port;
    base = `http://127.0.0.1:${port}`;
    traffic = await startTraffic(`ws://127.0.0.1:${port}/ws`);
    meta = await openAutobahn(`ws://127.0.0.1:${port}/ws`, 'json');
    browser = await launchBrowser();
    shots = screenshotDir();
  });

  after(async () => {
    await browser?.close();
    await meta?.close();
    await traffic?.stop();
    await node?.close();
  });

  describe('over HTTP', () => {
    it('serves the page: types, nosniff, a strict CSP, caching by content hash, gzip, 304, JSON errors', async () => {
      const slash = await get(port, '/dashboard');
      assert.deepEqual([slash.status, slash.headers.location], [302, 'dashboard/'], 'the page needs its "/" for its relative files');

      const page = await get(port, '/dashboard/');
      assert.equal(page.status, 200);
      assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(page.headers['x-content-type-options'], 'nosniff');
      assert.equal(page.headers['cache-control'], 'no-cache');
      assert.equal(page.headers['x-frame-options'], 'DENY');
      const csp = String(page.headers['content-security-policy']);
      for (const directive of [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        `connect-src 'self' ws://127.0.0.1:${port}/ws wss://127.0.0.1:${port}/ws`,
        "frame-ancestors 'none'",
      ])
        assert.ok(csp.split('; ').includes(directive), `${directive} in ${csp}`);
      assert.ok(!csp.includes('unsafe'), 'no unsafe-inline or unsafe-eval');
      assert.match(
        page.text,
        /<meta name="kreuz-dashboard" content="\{&#34;realm&#34;:&#34;realm1&#34;,&#34;url&#34;:&#34;\/ws&#34;\}" \/>/,
      );
      assert.doesNotMatch(page.text, /<script>|<script [^>]*>[^<]/, 'no inline script');
      assert.doesNotMatch(page.text, /https?:\/\//, 'nothing from another server (no CDN, no fonts): the page works offline');

      const script = /src="(dashboard-[A-Z0-9]+\.js)"/.exec(page.text)?.[1];
      const style = /href="(dashboard-[A-Z0-9]+\.css)"/.exec(page.text)?.[1];
      assert.ok(script && style, 'hashed file names');
      const js = await get(port, `/dashboard/${script}`, { headers: { 'Accept-Encoding': 'gzip, br' } });
      assert.equal(js.status, 200);
      assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.equal(js.headers['content-encoding'], 'gzip');
      assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.match(gunzipSync(js.body).toString('utf8'), /kreuz\.node\.get_health/);
      const urls = (body: string) => (body.match(/https?:\/\/[^\s"'`)]+/g) ?? []).filter((u) => !u.startsWith('http://www.w3.org/'));
      assert.deepEqual(urls(gunzipSync(js.body).toString('utf8')), [], 'the script loads nothing from elsewhere (XML namespaces aside)');
      const css = await get(port, `/dashboard/${style}`);
      assert.deepEqual(urls(css.text), [], 'no web fonts, no remote images');
      assert.deepEqual(
        [css.status, css.headers['content-type'], css.headers['content-encoding']],
        [200, 'text/css; charset=utf-8', undefined],
      );
      const icon = await get(port, '/dashboard/icon.svg');
      assert.equal(icon.headers['content-type'], 'image/svg+xml');

      const again = await get(port, '/dashboard/', { headers: { 'If-None-Match': String(page.headers.etag) } });
      assert.deepEqual([again.status, again.body.length], [304, 0]);
      const head = await get(port, `/dashboard/${script}`, { method: 'HEAD' });
      assert.deepEqual([head.status, head.body.length], [200, 0]);
      assert.ok(Number(head.headers['content-length']) > Number(js.headers['content-length']), 'HEAD tells the size of the identity body');

      for (const path of [
        '/dashboard/files.json',
        '/dashboard/nope.js',
        '/dashboard/index.html/',
        '/dashboard/a/b',
        '/dashboard/%2e%2e/x',
      ]) {
        const r = await get(port, path);
        assert.equal(r.status, 404, path);
        if (r.headers['content-type']?.includes('json')) assert.equal(JSON.parse(r.text).error, 'not_found', path);
      }
      assert.equal((await get(port, '/dashboard/', { method: 'POST' })).status, 405);
    });

    it('connects where `url` says: a path on this server, or another host (the CSP allows only that one)', async () => {
      const members = await get(port, '/members-dashboard/');
      assert.match(members.text, /&#34;url&#34;:&#34;\/members&#34;/);
      assert.match(
        String(members.headers['content-security-policy']),
        new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${port}/members `),
      );
      const remote = await get(port, '/remote-dashboard/');
      assert.match(String(remote.headers['content-security-policy']), /connect-src wss:\/\/kreuz\.example\.com:8443\/ws;/);
      const odd = await get(port, '/dashboard/', { headers: { Host: 'evil.example;script-src *' } });
      assert.match(String(odd.headers['content-security-policy']), /connect-src 'self';/, 'a Host header that is no host adds nothing');
    });

    it(`weighs less than its budget (${BUDGET / 1024} KB gzipped, all files)`, async () => {
      const manifest = readManifest();
      let total = 0;
      for (const file of manifest.files) {
        const r = await get(port, `/dashboard/${file.name === 'index.html' ? '' : file.name}`, { headers: { 'Accept-Encoding': 'gzip' } });
        assert.equal(r.status, 200, file.name);
        total += r.body.length;
      }
      assert.ok(total > 0 && total < BUDGET, `${total} bytes gzipped, budget ${BUDGET}`);
      assert.ok(manifest.gzipTotal < BUDGET);
    });
  });

  describe('an anonymous visitor (role "anonymous")', () => {
    let page: Page;
    let troubles: PageTroubles;

    before(async () => {
      ({ page, troubles } = await openPage(browser));
      await page.goto(`${base}/dashboard/`);
      await page.waitForSelector('#sessions[data-state="ok"] tr[data-session]', { timeout: WAIT_MS });
      await page.waitForSelector('#registrations[data-state="ok"]', { timeout: WAIT_MS });
      await page.waitForSelector('#subscriptions[data-state="ok"]', { timeout: WAIT_MS });
    });

    after(async () => {
      await page?.close();
    });

    it('shows the sessions of its realm as the meta API lists them, with their details and counts', async () => {
      const ids = await agree(
        'sessions',
        () => pageSessions(page),
        () => metaSessions(meta),
      );
      // The traffic's six clients, the meta client and the page itself.
      assert.equal(ids.length, traffic.realm1.length + 2);
      assert.ok(ids.includes(meta.session.id));
      await agree(
        'session count',
        async () => [
          Number(await text(page, '#sessions .count')),
          Number(await text(page, '#realms tr[data-realm="realm1"] td:nth-child(2)')),
        ],
        async () => {
          const n = await meta.session.call('wamp.session.count');
          return [n, n];
        },
      );
      const row = await page.$$eval(`#sessions tr[data-session="${traffic.realm1[1].session.id}"] td`, (tds) =>
        tds.map((td) => td.textContent),
      );
      const details = await meta.session.call('wamp.session.get', [traffic.realm1[1].session.id]);
      assert.equal(row[1], details.authid);
      assert.deepEqual(row.slice(2, 6), ['anonymous', 'anonymous', 'websocket', 'json']);
      assert.match(String(row[6]), /127\.0\.0\.1/, 'the peer address');
      assert.match(String(row[7]), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(/, 'connected since');
      assert.ok(Number(String(row[8]).replace(/,/g, '')) > 0 && Number(String(row[9]).replace(/,/g, '')) > 0, `messages in/out: ${row}`);
      const calleeRow = await page.$$eval(`#sessions tr[data-session="${traffic.realm1[0].session.id}"] td`, (tds) =>
        tds.map((td) => td.textContent),
      );
      assert.equal(calleeRow[5], 'msgpack');
    });

    it('shows the registrations with their callees, and the subscriptions with their subscribers, as the meta API has them', async () => {
      const registrations = await agree(
        'registrations',
        () => pageRegistrations(page),
        () => metaRegistrations(meta),
      );
      assert.deepEqual(Object.keys(registrations).sort(), ['com.example.add', 'com.example.fail']);
      assert.deepEqual(registrations['com.example.add'], [traffic.realm1[0].session.id]);
      const subscriptions = await agree(
        'subscriptions',
        () => pageSubscriptions(page),
        () => metaSubscriptions(meta),
      );
      assert.deepEqual(subscriptions, { 'com.example.other': 1, 'com.example.tick': 2 });
      assert.equal(
        await page.$('#registrations tr[data-uri^="wamp."], #registrations tr[data-uri^="kreuz."]'),
        null,
        'protected URIs hidden',
      );

      const add = await page.$$eval('#registrations tr[data-uri="com.example.add"] td', (tds) => tds.map((td) => td.textContent));
      assert.deepEqual(add.slice(1, 3), ['exact', 'single']);
      await page.waitForFunction(
        () => {
          const cells = [...document.querySelectorAll('#registrations tr[data-uri="com.example.fail"] td')].map(
            (td) => td.textContent ?? '',
          );
          return Number(cells[8]?.replace(/,/g, '')) > 0;
        },
        { timeout: WAIT_MS },
      );
      await page.waitForFunction(
        () => {
          const cells = [...document.querySelectorAll('#registrations tr[data-uri="com.example.add"] td')].map(
            (td) => td.textContent ?? '',
          );
          // No helper functions in here: tsx would name them with a function the page does not have.
          const [perSecond, calls] = [cells[4], cells[7]].map((c) => Number(c?.replace(/,/g, '')));
          return perSecond > 0 && /ms$/.test(cells[5] ?? '') && calls > 0;
        },
        { timeout: WAIT_MS },
      );
    });

    it('shows the node health and draws the charts from kreuz.node.on_stats', async () => {
      assert.match(await text(page, '#health [data-fact="version"]'), /^Kreuz \d+\.\d+\.\d+/);
      assert.match(await text(page, '#health [data-fact="event-loop"]'), /p99 [\d.]+ ms/);
      assert.match(await text(page, '#health [data-fact="memory"]'), /RSS [\d.]+ MB/);
      assert.equal(await page.$('#live-note'), null, 'live statistics are allowed for this role');
      await page.waitForFunction(
        (n) => Number(document.querySelector('#chart-calls')?.getAttribute('data-samples')) >= n,
        { timeout: WAIT_MS + SAMPLES * 2000 },
        SAMPLES,
      );
      await page.waitForFunction(
        () =>
          Number(document.querySelector('#chart-calls [data-latest]')?.textContent?.replace(/,/g, '')) > 0 &&
          Number(document.querySelector('#chart-events [data-latest]')?.textContent?.replace(/,/g, '')) > 0,
        { timeout: WAIT_MS },
      );
      const pixels = await page.$eval('#chart-calls canvas', (c) => {
        const canvas = c as HTMLCanvasElement;
        const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
        let drawn = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn++;
        return drawn;
      });
      assert.ok(pixels > 100, 'the chart is drawn');
      await page.screenshot({ path: join(shots, 'dashboard-overview.png'), fullPage: true });
    });

    it('updates without a reload: a session that joins appears, one that leaves goes', async () => {
      await page.evaluate(() => {
        (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
      });
      const visitor = await openAutobahn(`ws://127.0.0.1:${port}/ws`, 'cbor');
      const id = visitor.session.id as number;
      await page.waitForSelector(`#sessions tr[data-session="${id}"]`, { timeout: WAIT_MS });
      assert.equal(await text(page, `#sessions tr[data-session="${id}"] td:nth-child(6)`), 'cbor');
      await agree(
        'sessions after a join',
        () => pageSessions(page),
        () => metaSessions(meta),
      );
      await visitor.close();
      await page.waitForFunction((gone) => !document.querySelector(`#sessions tr[data-session="${gone}"]`), { timeout: WAIT_MS }, id);
      assert.equal(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument), true, 'no reload');
    });

    it('filters the tables by the text in the filter box', async () => {
      await page.type('#filter', 'COM.EXAMPLE.ADD');
      await page.waitForFunction(() => document.querySelectorAll('#registrations tr[data-registration]').length === 1);
      assert.equal(await page.$eval('#registrations tr[data-registration]', (r) => r.getAttribute('data-uri')), 'com.example.add');
      assert.equal((await page.$$('#subscriptions tr[data-subscription]')).length, 0);
      assert.match(await text(page, '#subscriptions [data-filtered]'), /^0 of \d+ match the filter$/);
      // A session's authid (any column) finds its row.
      await clear(page, '#filter');
      const authid = (await meta.session.call('wamp.session.get', [traffic.realm1[2].session.id])).authid as string;
      await page.type('#filter', authid);
      await page.waitForFunction(() => document.querySelectorAll('#sessions tr[data-session]').length === 1);
      assert.equal(
        Number(await page.$eval('#sessions tr[data-session]', (r) => r.getAttribute('data-session'))),
        traffic.realm1[2].session.id,
      );
      await clear(page, '#filter');
      await page.waitForFunction(() => document.querySelectorAll('#registrations tr[data-registration]').length === 2);
      const panel = await page.$('#registrations');
      await panel!.screenshot({ path: join(shots, 'dashboard-registrations.png') });
    });

    it('reconnects by itself when the router ends its session', async () => {
      const authid = await page.$eval('.who', (el) => el.getAttribute('data-who') ?? '');
      const ids = await metaSessions(meta);
      const own: number[] = [];
      for (const id of ids) if ((await meta.session.call('wamp.session.get', [id])).authid === authid) own.push(id);
      assert.equal(own.length, 1, 'the page is one session');
      await meta.session.call('wamp.session.kill', [own[0]], { reason: 'com.example.go_away' });
      await page.waitForFunction((old) => document.querySelector('.who')?.getAttribute('data-who') !== old, { timeout: WAIT_MS }, authid);
      await page.waitForSelector('.status[data-connection="open"]', { timeout: WAIT_MS });
      await page.waitForSelector('#sessions[data-state="ok"] tr[data-session]', { timeout: WAIT_MS });
      const after = await agree(
        'sessions after the reconnect',
        () => pageSessions(page),
        () => metaSessions(meta),
      );
      assert.ok(!after.includes(own[0]), 'a new session');
      noTroubles(troubles);
    });
  });

  describe('an unprivileged login (ticket, role "viewer")', () => {
    let page: Page;
    let troubles: PageTroubles;

    before(async () => {
      ({ page, troubles } = await openPage(browser));
      await page.goto(`${base}/dashboard/`);
      await page.waitForSelector('#login-open');
      await page.waitForSelector('#sessions[data-state="ok"]', { timeout: WAIT_MS });
      await page.click('#login-open');
      await loginWith(page, 'ticket', 'viewer', VIEWER_TICKET);
      await page.waitForSelector('.who[data-who="viewer"]', { timeout: WAIT_MS });
      await page.waitForSelector('#registrations[data-state="ok"]', { timeout: WAIT_MS });
    });

    after(async () => {
      await page?.close();
    });

    it('sees the panels its role allows, and "not permitted for your role" in the others', async () => {
      assert.match(await text(page, '.who'), /viewer · viewer · ticket on realm1/);
      await page.waitForSelector('#sessions[data-state="refused"]', { timeout: WAIT_MS });
      assert.match(await text(page, '#sessions .refused'), /^Not permitted for your role/);
      assert.equal(await page.$('#sessions tr'), null);
      assert.deepEqual(Object.keys(await pageRegistrations(page)).sort(), ['com.example.add', 'com.example.fail']);
      // kreuz.node.list_subscriptions is refused, the meta API is not: the table comes from there, and says so.
      await page.waitForSelector('#subscriptions[data-state="ok"] .source', { timeout: WAIT_MS });
      assert.match(await text(page, '#subscriptions .source'), /from the WAMP meta API/);
      await agree(
        'subscriptions from the meta API',
        () => pageSubscriptions(page),
        () => metaSubscriptions(meta),
      );
      assert.match(await text(page, '#live-note'), /not permitted for your role/);
      // Its charts come from the tables it may read: calls from kreuz.node's registrations, no events (the meta API has no rates).
      await page.waitForFunction(() => Number(document.querySelector('#chart-events')?.getAttribute('data-samples')) >= 1, {
        timeout: WAIT_MS,
      });
      assert.match(await text(page, '#chart-events .chart-empty'), /not permitted for your role/, 'no rates in the meta API');
      assert.equal(await text(page, '#chart-events [data-latest]'), '–');
      await page.waitForFunction(() => Number(document.querySelector('#chart-calls [data-latest]')?.textContent) > 0, { timeout: WAIT_MS });
      await page.waitForSelector('#health[data-state="ok"] [data-fact="sessions"]');
      // Its own realm's sessions only (the page's and the test's among them).
      await agree(
        "the health panel's session count",
        async () => Number(await text(page, '#health [data-fact="sessions"]')),
        () => meta.session.call('wamp.session.count'),
      );
    });

    it('sees no other realm: no realm2 row, no realm2 procedure, no realm switch', async () => {
      await page.waitForSelector('#realms[data-state="ok"] tr[data-realm]');
      assert.deepEqual(await page.$$eval('#realms tr[data-realm]', (rows) => rows.map((r) => r.getAttribute('data-realm'))), ['realm1']);
      assert.equal(await page.$('#realms button'), null);
      const all = await page.evaluate(() => document.body.textContent ?? '');
      assert.ok(!all.includes('realm2') && !all.includes('com.realm2'), 'nothing of realm2 anywhere on the page');
      await page.waitForFunction(
        (n) => Number(document.querySelector('#chart-calls')?.getAttribute('data-samples')) >= n,
        { timeout: WAIT_MS + SAMPLES * 2000 },
        SAMPLES,
      );
      await page.screenshot({ path: join(shots, 'dashboard-unprivileged.png'), fullPage: true });
      noTroubles(troubles);
    });

    it('logs out back to anonymous', async () => {
      await page.click('#logout');
      await page.waitForSelector('#sessions[data-state="ok"]', { timeout: WAIT_MS });
      assert.match(await text(page, '.who'), / · anonymous · anonymous on realm1/);
    });
  });

  describe('a transport without anonymous access, and a trusted WAMP-CRA login', () => {
    let page: Page;
    let troubles: PageTroubles;
    let realm2Meta: AbClient;

    before(async () => {
      ({ page, troubles } = await openPage(browser));
      realm2Meta = await openAutobahn(`ws://127.0.0.1:${port}/ws`, 'json', 'realm2');
    });

    after(async () => {
      await page?.close();
      await realm2Meta?.close();
    });

    it('shows the login form when the router refuses anonymous visitors, and says why a login fails', async () => {
      await page.goto(`${base}/members-dashboard/`);
      await page.waitForSelector('#login-problem', { timeout: WAIT_MS });
      assert.match(await text(page, '#login-problem'), /does not admit anonymous visitors/);
      assert.equal(await page.$('#sessions'), null, 'no panels before a login');
      await loginWith(page, 'wampcra', 'admin', 'not-the-password');
      await page.waitForFunction(() => /Login refused/.test(document.querySelector('#login-problem')?.textContent ?? ''), {
        timeout: WAIT_MS,
      });
      assert.match(await text(page, '#login-problem'), /not authorized|wrong name or secret/);
      assert.equal(await page.$eval('#login-secret', (el) => (el as HTMLInputElement).value), '', 'a refused secret is cleared');
    });

    it('logs in with a salted WAMP-CRA secret as trusted, sees every realm, and looks at another', async () => {
      await loginWith(page, 'wampcra', 'admin', ADMIN_PASSWORD);
      await page.waitForSelector('.who[data-who="admin"]', { timeout: WAIT_MS });
      assert.match(await text(page, '.who'), /admin · trusted · wampcra on realm1/);
      await page.waitForSelector('#realms tr[data-realm="realm2"]', { timeout: WAIT_MS });
      await page.click('#realms tr[data-realm="realm2"] button');
      await page.waitForFunction(() => document.querySelector('#sessions h2')?.textContent?.includes('realm2'), { timeout: WAIT_MS });
      await page.waitForSelector('#sessions[data-state="ok"]', { timeout: WAIT_MS });
      await agree(
        'realm2 sessions',
        () => pageSessions(page),
        () => metaSessions(realm2Meta),
      );
      const registrations = await agree(
        'realm2 registrations',
        () => pageRegistrations(page),
        () => metaRegistrations(realm2Meta),
      );
      assert.deepEqual(Object.keys(registrations), ['com.realm2.secret']);
      // The router's own procedures (which a trusted session is answered too) only when asked for.
      assert.equal(await page.$('#registrations tr[data-uri^="kreuz.node."]'), null);
      await page.click('#router-uris');
      await page.waitForSelector('#registrations tr[data-uri="kreuz.node.get_health"]', { timeout: WAIT_MS });
      await page.click('#router-uris');
      assert.deepEqual(
        await agree(
          'realm2 subscriptions',
          () => pageSubscriptions(page),
          () => metaSubscriptions(realm2Meta),
        ),
        {
          'com.realm2.news': 1,
        },
      );
      noTroubles(troubles);
    });
  });
});
