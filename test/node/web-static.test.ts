/**
 * The "static" web service over real HTTP on 127.0.0.1: Crossbar's keys
 * (directory, enable_directory_listing, mime_types, cache_timeout,
 * default_file), "/" serving what no other path claims, and every way out
 * of the directory refused: "..", percent-encoded and double-encoded, with
 * backslashes and NUL bytes, dot files, symlinks out, overlong paths.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRouter, type RunningNode } from '../../src/index.ts';
import { get, rawRequest } from './web-http.ts';

const SECRET = 'the-secret-outside-the-root';

function tree(): string {
  const base = mkdtempSync(join(tmpdir(), 'kreuz-static-'));
  const web = join(base, 'web');
  const file = (path: string, content: string | Buffer) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
  };
  file(join(base, 'secret.txt'), SECRET);
  file(join(base, '.crossbar', 'config.json'), `{"ticket": "${SECRET}"}`);
  file(join(web, 'index.html'), '<h1>home</h1>');
  file(join(web, 'app.js'), 'console.log(1);');
  file(join(web, 'app.js.gz'), gzipSync('console.log(2);'));
  file(join(web, 'style.css'), 'body{}');
  file(join(web, 'data.unknownext'), 'raw');
  file(join(web, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
  file(join(web, '.env'), SECRET);
  file(join(web, '.well-known', 'acme-challenge', 'token'), 'acme');
  file(join(web, 'docs', 'a.txt'), 'a');
  file(join(web, 'sub', 'index.html'), '<h1>sub</h1>');
  // Under the WebSocket path: never served, the path "ws" is the WebSocket's.
  file(join(web, 'ws', 'x.txt'), 'shadowed');
  file(join(web, 'info', 'x.txt'), 'shadowed');
  symlinkSync(join(base, 'secret.txt'), join(web, 'link-out'));
  symlinkSync(base, join(web, 'link-dir-out'));
  symlinkSync(join(web, 'app.js'), join(web, 'link-in'));
  symlinkSync(join(web, '.env'), join(web, 'link-dot'));
  symlinkSync(join(web, 'nowhere'), join(web, 'link-dangling'));
  file(join(base, 'files', 'readme.txt'), 'read me');
  file(join(base, 'files', 'x.foo'), 'foo');
  file(join(base, 'files', '<b>&"odd\'.txt'), 'odd');
  file(join(base, 'files', '.hidden'), SECRET);
  mkdirSync(join(base, 'files', 'folder'));
  symlinkSync(join(base, 'secret.txt'), join(base, 'files', 'leads-out'));
  file(join(base, 'spa', 'index.html'), '<h1>spa</h1>');
  file(join(base, 'spa', 'assets', 'app.js'), 'spa();');
  return base;
}

describe('the static web service', () => {
  let base: string;
  let node: RunningNode;
  let port: number;
  let socketFile: Server;

  before(async () => {
    base = tree();
    // A Unix socket inside the root: neither a file nor a directory, never opened.
    socketFile = createServer().listen(join(base, 'web', 'sock'));
    node = await createRouter(
      {
        version: 2,
        workers: [
          {
            type: 'router',
            realms: [{ name: 'realm1' }],
            transports: [
              {
                type: 'web',
                endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
                paths: {
                  '/': { type: 'static', directory: 'web' },
                  ws: { type: 'websocket' },
                  info: { type: 'nodeinfo' },
                  files: {
                    type: 'static',
                    directory: 'files',
                    options: { enable_directory_listing: true, mime_types: { '.foo': 'text/x-foo' }, cache_timeout: null },
                  },
                  spa: { type: 'static', directory: 'spa', options: { default_file: 'index.html', cache_timeout: 60 } },
                  missing: { type: 'static', directory: 'not-there' },
                },
              },
            ],
          },
        ],
      },
      { baseDir: base },
    );
    port = node.listeners[0].port;
  });

  after(async () => {
    await node?.close();
    socketFile?.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('serves "/" from the directory, with its index.html, type, caching and CORS headers', async () => {
    const r = await get(port, '/');
    assert.equal(r.status, 200);
    assert.equal(r.text, '<h1>home</h1>');
    assert.equal(r.headers['content-type'], 'text/html');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['cache-control'], 'max-age=43200, public');
    assert.ok(Date.parse(String(r.headers.expires)) > Date.now() + 43_000_000);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['content-length'], '13');
    assert.equal((await get(port, '/index.html')).text, '<h1>home</h1>');
  });

  it('types files by extension; an unknown one is application/octet-stream', async () => {
    assert.equal((await get(port, '/app.js')).headers['content-type'], 'text/javascript');
    assert.equal((await get(port, '/style.css')).headers['content-type'], 'text/css');
    assert.equal((await get(port, '/data.unknownext')).headers['content-type'], 'application/octet-stream');
    const gz = await get(port, '/app.js.gz');
    assert.deepEqual([gz.headers['content-type'], gz.headers['content-encoding']], ['text/javascript', 'gzip']);
    assert.equal((await get(port, '/files/x.foo')).headers['content-type'], 'text/x-foo', 'mime_types');
  });

  it('answers HEAD with the headers only, and other methods with 405', async () => {
    const head = await get(port, '/app.js', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '15');
    assert.equal(head.body.length, 0);
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const r = await get(port, '/app.js', { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
  });

  it('streams a large file whole, and honours one byte range and If-Modified-Since', async () => {
    const big = await get(port, '/big.bin');
    assert.equal(big.status, 200);
    assert.equal(big.body.length, 3 * 1024 * 1024);
    assert.equal(
      createHash('sha256').update(big.body).digest('hex'),
      createHash('sha256')
        .update(Buffer.alloc(3 * 1024 * 1024, 7))
        .digest('hex'),
    );
    const part = await get(port, '/app.js', { headers: { Range: 'bytes=0-6' } });
    assert.deepEqual([part.status, part.text, part.headers['content-range']], [206, 'console', 'bytes 0-6/15']);
    const tail = await get(port, '/app.js', { headers: { Range: 'bytes=-3' } });
    assert.deepEqual([tail.status, tail.text], [206, '1);']);
    const beyond = await get(port, '/app.js', { headers: { Range: 'bytes=100-' } });
    assert.deepEqual([beyond.status, beyond.headers['content-range']], [416, 'bytes */15']);
    const several = await get(port, '/app.js', { headers: { Range: 'bytes=0-1,3-4' } });
    assert.deepEqual([several.status, several.text], [200, 'console.log(1);'], 'several ranges: the whole file');
    utimesSync(join(base, 'web', 'style.css'), new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
    const fresh = await get(port, '/style.css', { headers: { 'If-Modified-Since': new Date('2021-01-01T00:00:00Z').toUTCString() } });
    assert.deepEqual([fresh.status, fresh.body.length], [304, 0]);
    const stale = await get(port, '/style.css', { headers: { 'If-Modified-Since': new Date('2019-01-01T00:00:00Z').toUTCString() } });
    assert.equal(stale.status, 200);
    assert.equal(stale.headers['last-modified'], 'Wed, 01 Jan 2020 00:00:00 GMT');
  });

  it('gives the WebSocket and node-info paths their own subtrees under a static "/"', async () => {
    assert.equal((await get(port, '/ws')).status, 426);
    assert.equal((await get(port, '/ws/x.txt')).status, 404);
    const info = await get(port, '/info');
    assert.equal(info.status, 200);
    assert.equal(JSON.parse(info.text).router, 'kreuz');
    assert.equal((await get(port, '/info/x.txt')).status, 404);
  });

  it('sends a directory without its "/" there, serves its index.html, and lists it only where listing is on', async () => {
    const redirect = await get(port, '/sub?x=1');
    assert.deepEqual([redirect.status, redirect.headers.location], [302, 'sub/?x=1']);
    assert.equal((await get(port, '/sub/')).text, '<h1>sub</h1>');
    assert.equal((await get(port, '/docs/')).status, 404, 'no index, listing off');
    assert.equal((await get(port, '/files')).headers.location, 'files/');
    const listing = await get(port, '/files/');
    assert.equal(listing.status, 200);
    assert.equal(listing.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(String(listing.headers['content-security-policy']), /default-src 'none'/);
    assert.equal(listing.headers['cache-control'], undefined, 'cache_timeout: null');
    assert.match(listing.text, /Directory listing for \/files\//);
    assert.match(listing.text, /<a href="readme.txt">readme.txt<\/a><\/td><td>7B<\/td><td>text\/plain/);
    assert.match(listing.text, /<a href="folder\/">folder\/<\/a>/);
    assert.ok(listing.text.includes('&#60;b&#62;&#38;&#34;odd&#39;.txt'), 'names escaped');
    assert.ok(listing.text.includes(`href="${encodeURIComponent('<b>&"odd\'.txt').replace(/'/g, '&#39;')}"`), 'links encoded');
    assert.ok(!listing.text.includes('<b>'), 'no markup from a name');
    assert.ok(!listing.text.includes('.hidden'), 'dot files are not listed');
    assert.ok(!listing.text.includes('leads-out'), 'nor a symlink that leads out');
    assert.equal((await get(port, `/files/${encodeURIComponent('<b>&"odd\'.txt')}`)).text, 'odd');
  });

  it('serves default_file for a path that names no file, as a single-page app wants', async () => {
    const route = await get(port, '/spa/some/client/route');
    assert.deepEqual([route.status, route.text, route.headers['cache-control']], [200, '<h1>spa</h1>', 'max-age=60, public']);
    assert.equal((await get(port, '/spa/assets/app.js')).text, 'spa();');
    assert.equal((await get(port, '/spa/../secret.txt')).status, 404, 'a refused path is refused, not defaulted');
  });

  it('answers 404 where the directory is missing, and for a file asked for as a directory', async () => {
    assert.equal((await get(port, '/missing/x')).status, 404);
    assert.equal((await get(port, '/app.js/')).status, 404);
    assert.equal((await get(port, '/nothing-here')).status, 404);
  });

  it('follows a symlink that stays inside the directory, and no other', async () => {
    assert.equal((await get(port, '/link-in')).text, 'console.log(1);');
    for (const path of ['/link-out', '/link-dir-out/secret.txt', '/link-dir-out/', '/link-dot', '/link-dangling']) {
      const r = await get(port, path);
      assert.equal(r.status, 404, path);
      assert.ok(!r.text.includes(SECRET), path);
    }
  });

  it('refuses every way out of the directory, and every dot file, with a 404 that names nothing', async () => {
    const attempts = [
      '/../secret.txt',
      '/..',
      '/docs/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/.%2e/secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/..%2fsecret.txt',
      '/..%2Fsecret.txt',
      '/..%5csecret.txt',
      '/..\\secret.txt',
      '/docs\\..\\..\\secret.txt',
      '/%252e%252e/secret.txt',
      '/%252e%252e%252fsecret.txt',
      '/%25252e%25252e/secret.txt',
      '/link-dir-out/.crossbar/config.json',
      '/%2fetc%2fpasswd',
      '//etc/passwd',
      '/docs//a.txt',
      '/./app.js',
      '/%2e/app.js',
      '/.env',
      '/%2eenv',
      '/.crossbar/config.json',
      '/..%00/secret.txt',
      '/app.js%00.txt',
      '/%00',
      '/C:%5cWindows%5cwin.ini',
      '/sock',
      `/${'a'.repeat(300)}`,
      `/${'a/'.repeat(100)}x`,
      'http://127.0.0.1/../secret.txt',
      'http://127.0.0.1/%2e%2e/secret.txt',
    ];
    for (const path of attempts) {
      const r = await get(port, path);
      assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
      assert.ok(!r.text.includes(SECRET), path);
      assert.ok(!r.text.includes(base), `${path}: names no server path`);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
    }
    assert.equal((await get(port, '/%zz')).status, 400, 'malformed percent-encoding');
    assert.equal((await get(port, '/.well-known/acme-challenge/token')).text, 'acme', '.well-known is the one dot directory served');
  });

  it('refuses a raw NUL byte and an overlong request target', async () => {
    const nul = await rawRequest(
      port,
      Buffer.from('GET /app.js\0/../../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1'),
    );
    assert.ok(!nul.includes(SECRET) && !nul.startsWith('HTTP/1.1 200'), nul.slice(0, 40));
    const long = await get(port, `/${'x'.repeat(9000)}`);
    assert.ok(long.status === 404 || long.status === 431 || long.status === 414, String(long.status));
  });
});

describe('static and nodeinfo on other paths and transports', () => {
  let base: string;
  let node: RunningNode;

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'kreuz-static-'));
    mkdirSync(join(base, 'web'));
    writeFileSync(join(base, 'web', 'index.html'), 'universal home');
    node = await createRouter(
      {
        version: 2,
        workers: [
          {
            type: 'router',
            realms: [{ name: 'realm1' }],
            transports: [
              {
                type: 'universal',
                endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
                websocket: { ws: { type: 'websocket' } },
                web: { paths: { '/': { type: 'static', directory: 'web' }, status: { type: 'nodeinfo' } } },
              },
              { type: 'web', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' }, paths: { '/': { type: 'nodeinfo' } } },
              {
                type: 'web',
                endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
                paths: { 'deep/er': { type: 'static', directory: 'web' }, ws: { type: 'websocket' } },
              },
            ],
          },
        ],
      },
      { baseDir: base },
    );
  });

  after(async () => {
    await node?.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('serves web.paths of a universal transport, beside its WebSocket paths', async () => {
    const port = node.listeners[0].port;
    assert.equal((await get(port, '/')).text, 'universal home');
    assert.equal((await get(port, '/ws')).status, 426);
    assert.equal(JSON.parse((await get(port, '/status')).text).router, 'kreuz');
    assert.equal((await get(port, '/../index.html')).status, 404);
  });

  it('serves node info at "/"', async () => {
    const r = await get(node.listeners[1].port, '/');
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).router, 'kreuz');
    assert.equal((await get(node.listeners[1].port, '/other')).status, 404);
  });

  it('serves a static path of several segments, and nothing above it', async () => {
    const port = node.listeners[2].port;
    assert.equal((await get(port, '/deep/er/')).text, 'universal home');
    assert.equal((await get(port, '/deep/er/index.html')).text, 'universal home');
    assert.equal((await get(port, '/deep%2Fer/index.html')).status, 404, 'an encoded "/" is not a separator');
    assert.equal((await get(port, '/deep')).status, 404);
    assert.equal((await get(port, '/')).status, 404);
  });
});
