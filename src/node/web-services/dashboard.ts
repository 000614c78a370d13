/**
 * Kreuz's "dashboard" web service (no Crossbar counterpart; off unless a
 * path names it): the live dashboard page, built into dist/dashboard/ by
 * `npm run build` (web/dashboard/). The page is an ordinary WAMP client:
 * it connects over WebSocket to the transport's first WebSocket path (or
 * `url`), joins `realm` anonymously or with the login given, and sees what
 * that session's role may see. This service only serves its files: from
 * memory (read and gzipped once at start, a few dozen KB), under a strict
 * Content-Security-Policy (scripts and styles of its own origin only,
 * connections only to the page's WebSocket), content-hashed files cached
 * for good, index.html revalidated.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { uri } from '../../config/schema-helpers.ts';
import { normalizePath } from '../../transports/websocket.ts';
import { answerJson } from './json-answer.ts';
import { NOSNIFF, webServiceType, type Report, type WebRequest } from './web-service.ts';

/** Where `npm run build` puts the page: dist/dashboard/ of the package, from src/ (tsx) and from dist/ alike. */
export const DASHBOARD_DIRECTORY = join(fileURLToPath(new URL('../../../', import.meta.url)), 'dist', 'dashboard');
const MANIFEST = 'files.json';
/** What the page's files may weigh together: far above its budget (200 KB gzipped), far below anything that matters. */
const MAX_TOTAL_BYTES = 4 * 1024 * 1024;
const FILE_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9]+)+$/;
/** Where index.html takes the page's settings. */
const SETTINGS_TAG = '<meta name="kreuz-dashboard" content="{}" />';

/** A path on this server ("/ws") or a ws:/wss: URL, written so that it can stand in a CSP header as it is. */
function urlProblem(v: string): string | undefined {
  if (v.startsWith('/')) return /^\/[A-Za-z0-9._~/-]*$/.test(v) ? undefined : 'must be a URL path of letters, digits and "._~-/"';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'must be a ws:// or wss:// URL, or a path on this server ("/ws")';
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return 'must be a ws:// or wss:// URL, or a path on this server ("/ws")';
  if (u.username || u.password || u.hash || u.search) return 'must have no user name, password, query or fragment';
  if (!/^[A-Za-z0-9._~:/[\]-]+$/.test(v))
    return 'must have only letters, digits and "._~-:/[]" (percent-encoding and other characters are refused)';
  return undefined;
}

const schema = z
  .strictObject({
    type: z.literal('dashboard'),
    id: z.string().optional(),
    realm: uri.describe('The realm the page joins; its tables show that realm (a trusted login may look at the others).'),
    url: z
      .string()
      .superRefine((v, ctx) => {
        const problem = urlProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional()
      .describe(
        'The WebSocket the page connects to: "ws://host:port/path", "wss://...", or a path on this server ("/ws"); default: the first WebSocket path of this transport, on the host the page was loaded from.',
      ),
  })
  .meta({ id: 'DashboardService', description: 'Kreuz: the live dashboard page (a WAMP client in the browser).' });

export interface DashboardServiceOptions {
  type: 'dashboard';
  realm: string;
  /** As configured; default the server's first WebSocket path. */
  url?: string;
  /** Where the built page is; default DASHBOARD_DIRECTORY (embedders and tests may point elsewhere). */
  directory?: string;
}

interface PageFile {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
  cache: string;
}

interface Manifest {
  files: Array<{ name: string; immutable: boolean }>;
}

const TYPES: ReadonlyMap<string, string> = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
]);

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** Headers of every answer: what the page is, and what it may do. */
const PAGE_HEADERS = {
  ...NOSNIFF,
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

export const dashboardService = webServiceType({
  schema,
  exact: false,

  toOptions: (c): DashboardServiceOptions => ({ type: 'dashboard', realm: c.realm, ...(c.url === undefined ? {} : { url: c.url }) }),

  check(_c, _baseDir, _problem, note) {
    if (!existsSync(join(DASHBOARD_DIRECTORY, MANIFEST)))
      note([], `the page is not built (${DASHBOARD_DIRECTORY}): this path answers 503 until \`npm run build\` builds it`);
  },

  async start(o, ctx) {
    if (!ctx.router.realms.has(o.realm)) throw new Error(`${ctx.where}: realm "${o.realm}" is not defined on this router`);
    const first = ctx.websocketPaths[0];
    const url = o.url ?? (first === undefined ? undefined : normalizePath(first));
    if (url === undefined)
      throw new Error(`${ctx.where}: this transport has no WebSocket path for the page to connect to: add one, or set "url"`);
    const directory = o.directory ?? DASHBOARD_DIRECTORY;
    let files: Map<string, PageFile> | undefined;
    try {
      files = loadPage(directory, { realm: o.realm, url });
    } catch (err) {
      ctx.logger.warn(
        { directory, err: (err as Error).message },
        `${ctx.where}: the dashboard page is not built (npm run build); answering 503`,
      );
    }
    const connect = connectSources(url);
    return (req, response) => {
      if (!files) return answerError(response, 503, 'not_built', 'The dashboard page is not built on this server: run `npm run build`.');
      serve(files, connect, req, response);
    };
  },
});

/** The page's files from `directory` (as its files.json lists them), index.html with the page's settings written in. */
export function loadPage(directory: string, settings: { realm: string; url: string }): Map<string, PageFile> {
  const manifest = JSON.parse(readFileSync(join(directory, MANIFEST), 'utf8')) as Manifest;
  if (!Array.isArray(manifest.files)) throw new Error(`${MANIFEST} lists no files`);
  const files = new Map<string, PageFile>();
  let total = 0;
  for (const entry of manifest.files) {
    const name = String(entry?.name);
    const ext = name.slice(name.lastIndexOf('.'));
    const type = TYPES.get(ext);
    if (!FILE_NAME.test(name) || type === undefined) throw new Error(`${MANIFEST} lists a file the service does not serve: ${name}`);
    let body: Buffer = readFileSync(join(directory, name));
    total += body.length;
    if (total > MAX_TOTAL_BYTES) throw new Error(`the page's files weigh more than ${MAX_TOTAL_BYTES} bytes`);
    if (name === 'index.html') body = withSettings(body.toString('utf8'), settings);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    files.set(name, { body, gzip: gzipSync(body, { level: 9 }), type, etag, cache: entry.immutable === true ? IMMUTABLE : REVALIDATE });
  }
  if (!files.has('index.html')) throw new Error(`${MANIFEST} lists no index.html`);
  return files;
}

function withSettings(html: string, settings: { realm: string; url: string }): Buffer {
  if (!html.includes(SETTINGS_TAG)) throw new Error(`index.html has no ${SETTINGS_TAG}`);
  const content = escapeAttribute(JSON.stringify(settings));
  return Buffer.from(html.replace(SETTINGS_TAG, `<meta name="kreuz-dashboard" content="${content}" />`));
}

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A Host header as it may stand in a CSP source: a name or IP literal and an optional port, nothing else. */
const HOST = /^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(:\d{1,5})?$/;

/**
 * The CSP connect-src of the page for a request: a configured ws:/wss: URL
 * itself; a path on this server: 'self' (CSP 3 lets it cover ws: and wss: of
 * the page's host) and, where the Host header is plain, that host's ws: and
 * wss: URL of the path, for browsers that read CSP 2.
 */
function connectSources(url: string): (host: string | undefined) => string {
  if (!url.startsWith('/')) return () => url;
  return (host) => (host !== undefined && HOST.test(host) ? `'self' ws://${host}${url} wss://${host}${url}` : `'self'`);
}

function policy(connect: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function serve(
  files: ReadonlyMap<string, PageFile>,
  connect: (host: string | undefined) => string,
  req: WebRequest,
  response: ServerResponse,
) {
  if (req.rest.length === 0 && !req.trailingSlash && req.fullPath.length > 0) return addSlash(req, response);
  const name = req.rest.length === 0 ? 'index.html' : req.rest.length === 1 ? req.rest[0] : undefined;
  // files.json stays private: it is the build's list, not part of the page.
  const file = name === undefined ? undefined : files.get(name);
  if (!file || req.trailingSlash !== (req.rest.length === 0))
    return answerError(response, 404, 'not_found', 'No such file of the dashboard page.');
  const headers: Record<string, string> = {
    ...PAGE_HEADERS,
    'Content-Security-Policy': policy(connect(req.request.headers.host)),
    'Content-Type': file.type,
    'Cache-Control': file.cache,
    ETag: file.etag,
    Vary: 'Accept-Encoding',
  };
  if (etagMatches(req.request.headers['if-none-match'], file.etag)) return void response.writeHead(304, headers).end();
  const gzip = acceptsGzip(req.request.headers['accept-encoding']);
  const body = gzip ? file.gzip : file.body;
  if (gzip) headers['Content-Encoding'] = 'gzip';
  headers['Content-Length'] = String(body.length);
  response.writeHead(200, headers).end(req.head ? undefined : body);
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined || header.length > 4096) return false;
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === etag || t === '*');
}

/** Whether Accept-Encoding takes gzip (with a q above 0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined || header.length > 4096) return false;
  for (const part of header.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding.trim() !== 'gzip' && coding.trim() !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/** The dashboard's path asked for without its "/": sent there, relative to where the client is (the page's files are relative). */
function addSlash(req: WebRequest, response: ServerResponse): void {
  const last = req.fullPath[req.fullPath.length - 1];
  response.writeHead(302, { ...NOSNIFF, Location: `${encodeURIComponent(last)}/`, 'Content-Length': '0' }).end();
}

function answerError(response: ServerResponse, status: number, error: string, message: string): void {
  answerJson(response, status, { error, message });
}

// ---- kreuz check: what the entry alone cannot tell ----

type PathEntries = Record<string, { type: string; realm?: unknown; url?: unknown }>;

/** The paths of a web or universal transport (WebSocket ones first, as the server orders them), at their config paths. */
function pathsOf(transport: { type: string }): Array<{ key: string; entry: PathEntries[string]; at: PropertyKey[] }> {
  const t = transport as { paths?: PathEntries; websocket?: PathEntries; web?: { paths?: PathEntries } };
  if (transport.type === 'web') return Object.entries(t.paths ?? {}).map(([key, entry]) => ({ key, entry, at: ['paths', key] }));
  if (transport.type !== 'universal') return [];
  return [
    ...Object.entries(t.websocket ?? {}).map(([key, entry]) => ({ key, entry: { ...entry, type: 'websocket' }, at: ['websocket', key] })),
    ...Object.entries(t.web?.paths ?? {}).map(([key, entry]) => ({ key, entry, at: ['web', 'paths', key] })),
  ];
}

/**
 * A transport's dashboard paths against the router worker's realms: the
 * realm must be one of them, and without `url` the transport needs a
 * WebSocket path for the page to connect to.
 */
export function checkDashboards(transport: { type: string }, realms: ReadonlySet<string>, problem: Report): void {
  const paths = pathsOf(transport);
  const websocket = paths.some((p) => p.entry.type === 'websocket');
  for (const { entry, at } of paths) {
    if (entry.type !== 'dashboard') continue;
    if (typeof entry.realm === 'string' && !realms.has(entry.realm))
      problem([...at, 'realm'], `realm "${entry.realm}" is not defined by this router worker: the dashboard page joins one of its realms`);
    if (entry.url === undefined && !websocket)
      problem([...at], 'this transport has no WebSocket path for the dashboard page to connect to: add one, or set "url"');
  }
}
