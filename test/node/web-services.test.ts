/**
 * The "json", "redirect" and "archive" web services over real HTTP on
 * 127.0.0.1, and what `kreuz check` says about web paths: a missing
 * directory or archive, Python packages, keys Crossbar FX writes as null.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { checkConfigFile } from '../../src/config/check.ts';
import { createRouter, type RunningNode } from '../../src/index.ts';
import { get } from './web-http.ts';

interface ZipItem {
  name: string;
  data: string | Buffer;
  deflate?: boolean;
  /** What the directory claims the size is (default: the real one). */
  claimedSize?: number;
}

/** A ZIP archive of `items`, stored or deflated. */
function zip(items: ZipItem[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const item of items) {
    const data = Buffer.from(item.data);
    const body = item.deflate ? deflateRawSync(data) : data;
    const name = Buffer.from(item.name);
    const fields = (b: Buffer, at: number) => {
      b.writeUInt16LE(20, at);
      b.writeUInt16LE(0x800, at + 2);
      b.writeUInt16LE(item.deflate ? 8 : 0, at + 4);
      b.writeUInt32LE(crc32(data), at + 10);
      b.writeUInt32LE(body.length, at + 14);
      b.writeUInt32LE(item.claimedSize ?? data.length, at + 18);
      b.writeUInt16LE(name.length, at + 22);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    fields(local, 4);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    fields(central, 6);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(items.length, 8);
  end.writeUInt16LE(items.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const LIB = zip([
  { name: 'pkg-1.0/lib.min.js', data: 'lib();', deflate: true },
  { name: 'pkg-1.0/readme.txt', data: 'readme' },
]);

function routerConfig(paths: Record<string, unknown>) {
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [{ name: 'realm1' }],
        transports: [{ type: 'web', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' }, paths }],
      },
    ],
  };
}

describe('the json, redirect and archive web services', () => {
  let base: string;
  let origin: Server;
  let originUrl: string;
  let node: RunningNode;
  let port: number;
  const big = Buffer.alloc(2 * 1024 * 1024, 'z');

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'kreuz-web-'));
    writeFileSync(
      join(base, 'home.zip'),
      zip([
        { name: 'index.html', data: '<h1>zip home</h1>', deflate: true },
        { name: 'app.js', data: 'app();' },
        { name: 'big.bin', data: big, deflate: true },
        { name: 'docs/index.html', data: 'docs', deflate: true },
        { name: '../evil.txt', data: 'evil' },
        { name: '.env', data: 'secret' },
        { name: 'bomb.txt', data: 'x'.repeat(100_000), deflate: true, claimedSize: 10 },
      ]),
    );
    origin = createServer((req, res) => {
      if (req.url === '/pkg.zip') res.writeHead(200).end(LIB);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/pkg.zip`;
    node = await createRouter(
      routerConfig({
        '/': { type: 'archive', archive: 'home.zip', default_object: 'index.html', cache: true, options: { default_file: 'index.html' } },
        lib: {
          type: 'archive',
          archive: 'lib.zip',
          origin: originUrl,
          download: true,
          hashes: [sha256(LIB)],
          object_prefix: 'pkg-1.0',
          default_object: 'lib.min.js',
          mime_types: { '.min.js': 'application/x-lib' },
        },
        config: { type: 'json', value: { url: 'ws://localhost:8080/ws', realm: 'realm1', ü: [1, 2.5, null] } },
        pretty: { type: 'json', value: { a: 1 }, options: { prettify: true, allow_cross_origin: false, discourage_caching: true } },
        go: { type: 'redirect', url: 'https://example.com/there' },
        ws: { type: 'websocket' },
      }),
      { baseDir: base },
    );
    port = node.listeners[0].port;
  });

  after(async () => {
    await node?.close();
    origin?.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('serves a fixed JSON value, compact by default, with its options', async () => {
    const r = await get(port, '/config');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.text, '{"url":"ws://localhost:8080/ws","realm":"realm1","ü":[1,2.5,null]}\n');
    const pretty = await get(port, '/pretty');
    assert.equal(pretty.text, '{\n   "a": 1\n}\n');
    assert.equal(pretty.headers['access-control-allow-origin'], undefined);
    assert.match(String(pretty.headers['cache-control']), /no-store/);
    assert.equal((await get(port, '/config/x')).status, 404, 'one resource, nothing below it');
    assert.equal((await get(port, '/config', { method: 'POST' })).status, 405);
    assert.equal((await get(port, '/config', { method: 'HEAD' })).body.length, 0);
  });

  it('redirects its path and everything below it to the fixed URL', async () => {
    for (const path of ['/go', '/go/', '/go/deeper?x=1']) {
      const r = await get(port, path);
      assert.deepEqual([r.status, r.headers.location], [302, 'https://example.com/there'], path);
    }
  });

  it('serves files of a ZIP archive, stored and deflated, with default_object and default_file', async () => {
    const home = await get(port, '/');
    assert.deepEqual([home.status, home.text, home.headers['content-type']], [200, '<h1>zip home</h1>', 'text/html']);
    assert.equal(home.headers['x-content-type-options'], 'nosniff');
    assert.equal((await get(port, '/app.js')).text, 'app();');
    assert.equal((await get(port, '/docs/')).text, 'docs', 'default_object below a folder');
    assert.equal((await get(port, '/no/such/file')).text, '<h1>zip home</h1>', 'default_file');
    const large = await get(port, '/big.bin');
    assert.ok(large.body.equals(big), 'a large deflated entry, streamed');
    const head = await get(port, '/app.js', { method: 'HEAD' });
    assert.deepEqual([head.status, head.headers['content-length'], head.body.length], [200, '6', 0]);
  });

  it('downloads a missing archive from its origin at start, checked against its hashes, and serves its prefix', async () => {
    assert.ok(readFileSync(join(base, 'lib.zip')).equals(LIB));
    const lib = await get(port, '/lib/');
    assert.deepEqual([lib.status, lib.text, lib.headers['content-type']], [200, 'lib();', 'application/x-lib']);
    assert.equal((await get(port, '/lib/readme.txt')).text, 'readme');
  });

  it('refuses names that climb or hide, and an entry larger than the archive says', async () => {
    for (const path of ['/../evil.txt', '/%2e%2e/evil.txt', '/..%2fevil.txt', '/.env', '/%2eenv', '/lib/../app.js', '/lib/..%5capp.js']) {
      const r = await get(port, path);
      assert.ok(r.status === 404 || (r.status === 200 && r.text === '<h1>zip home</h1>'), `${path}: ${r.status} ${r.text}`);
      assert.ok(!r.text.includes('evil') && !r.text.includes('secret'), path);
    }
    const bomb = await get(port, '/bomb.txt').catch((err: Error) => err);
    assert.ok(bomb instanceof Error || bomb.body.length <= 10, 'the connection is cut at the declared size');
  });

  it('refuses to start when an archive has none of its hashes (the config check finds it, or the download)', async () => {
    writeFileSync(join(base, 'other.zip'), LIB);
    await assert.rejects(
      createRouter(routerConfig({ '/': { type: 'archive', archive: 'other.zip', hashes: ['00'.repeat(32)] } }), { baseDir: base }),
      /paths\.\/\.hashes: .*other\.zip has SHA-256 [0-9a-f]{64}, none of these/,
    );
    await assert.rejects(
      createRouter(
        routerConfig({ '/': { type: 'archive', archive: 'fetched.zip', origin: originUrl, download: true, hashes: ['00'.repeat(32)] } }),
        { baseDir: base },
      ),
      /none of the configured "hashes"/,
    );
    assert.ok(!existsSync(join(base, 'fetched.zip')), 'an unverified download is not kept');
  });
});

describe('kreuz check on web paths', () => {
  let base: string;

  before(() => {
    base = mkdtempSync(join(tmpdir(), 'kreuz-web-check-'));
    mkdirSync(join(base, 'web'));
    writeFileSync(join(base, 'notadir'), '');
    writeFileSync(join(base, 'broken.zip'), 'not a zip');
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  function check(paths: Record<string, unknown>) {
    const file = join(base, 'config.json');
    writeFileSync(file, JSON.stringify(routerConfig(paths)));
    const { errors, notes } = checkConfigFile(file);
    const at = (list: typeof errors) => list.filter((p) => p.path.includes('.paths.')).map((p) => `${p.path}: ${p.message}`);
    return { errors: at(errors), notes: at(notes) };
  }

  it("accepts Crossbar's static, json, redirect and archive entries", () => {
    const { errors } = check({
      '/': {
        type: 'static',
        directory: 'web',
        options: { enable_directory_listing: true, mime_types: { '.svg': 'image/svg+xml' }, cache_timeout: 3600 },
      },
      config: { type: 'json', value: [1, 'two'] },
      go: { type: 'redirect', url: '../elsewhere' },
      ws: { type: 'websocket' },
      info: { type: 'nodeinfo', id: 'info1' },
    });
    assert.deepEqual(errors, []);
  });

  it('notes a static directory that is not there, and refuses one that is a file', () => {
    const { errors, notes } = check({ '/': { type: 'static', directory: 'nope' }, file: { type: 'static', directory: 'notadir' } });
    assert.equal(notes.length, 1);
    assert.match(notes[0], /paths\.\/\.directory: not found: .*nope: every request here is answered 404 until it exists/);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /paths\.file\.directory: .*notadir is not a directory/);
  });

  it('refuses a Python package as the source, unsafe default files and MIME types, and bad redirect URLs', () => {
    const { errors } = check({
      a: { type: 'static', package: 'mypkg', resource: 'web' },
      b: { type: 'static', directory: 'web', options: { default_file: '../secret.txt' } },
      c: { type: 'static', directory: 'web', options: { mime_types: { '.x': 'text/html\r\nSet-Cookie: a=b' } } },
      d: { type: 'redirect', url: 'https://example.com/\r\nX: y' },
      e: { type: 'json' },
    });
    const text = errors.join('\n');
    assert.match(text, /paths\.a\.package: "package" is not supported by Kreuz \(Kreuz imports no Python packages: set "directory"/);
    assert.match(text, /paths\.a\.directory: /);
    assert.match(text, /paths\.b\.options\.default_file: must be a file below the directory/);
    assert.match(text, /paths\.c\.options\.mime_types\.\.x: must be a MIME type/);
    assert.match(text, /paths\.d\.url: must be a URL without spaces or control characters/);
    assert.match(text, /paths\.e\.value: is required/);
  });

  it('refuses a missing archive without an origin, notes one it will download, and refuses one that is not a ZIP', () => {
    const { errors, notes } = check({
      a: { type: 'archive', archive: 'missing.zip' },
      b: { type: 'archive', archive: 'later.zip', origin: 'https://example.com/later.zip', download: true },
      c: { type: 'archive', archive: 'broken.zip' },
      d: { type: 'archive', archive: 'skipped.zip', origin: 'https://example.com/x.zip' },
    });
    assert.match(errors.join('\n'), /paths\.a\.archive: file not found: .*missing\.zip \(and no "origin" to download it from\)/);
    assert.match(errors.join('\n'), /paths\.c\.archive: .*broken\.zip: not a ZIP archive/);
    assert.match(
      notes.join('\n'),
      /paths\.b\.archive: not there: Kreuz downloads it from https:\/\/example\.com\/later\.zip at start \(no "hashes": unverified\)/,
    );
    assert.match(notes.join('\n'), /paths\.d\.archive: not there, and "download" is off/);
  });

  it('accepts the archive keys Crossbar FX writes as null on a static entry, with a note', () => {
    const { errors, notes } = check({
      '/': { type: 'static', directory: 'web', archive: null, origin: null, options: { default_file: null } },
      x: { type: 'static', directory: 'web', archive: 'a.zip' },
    });
    assert.deepEqual(
      errors.map((e) => e.replace(/^.*paths\./, '')),
      ['x.archive: "archive" belongs to the "archive" service: a static service takes it only as null'],
    );
    assert.ok(notes.some((n) => /paths\.\/\.archive: accepted: null/.test(n)));
  });

  it('refuses a path no request can reach', () => {
    const { errors } = check({ 'a/../b': { type: 'json', value: 1 }, ws: { type: 'websocket' } });
    assert.match(errors.join('\n'), /paths\.a\/\.\.\/b: a "\." or "\.\." segment: no request reaches this path/);
  });

  it('still refuses the Python resource service, with what to do instead', () => {
    const { errors } = check({ r: { type: 'resource', classname: 'my.Resource' } });
    assert.match(errors.join('\n'), /"resource" is not supported by Kreuz \(Kreuz runs no Python \(Twisted\) web resources: /);
  });
});
