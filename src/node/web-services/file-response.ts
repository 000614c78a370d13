/**
 * Sending one file of the static service: opened without following a
 * symlink (the path is a realpath already; this keeps one from being put in
 * its place meanwhile), checked to be a regular file on the open handle
 * (a FIFO or device is never read), and streamed: never read whole. A
 * single byte range and If-Modified-Since are honoured, as Twisted's
 * static.File does.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { typeAndEncoding } from './mime.ts';
import { NOSNIFF, notFound, type WebRequest } from './web-service.ts';

// O_NOFOLLOW and O_NONBLOCK do not exist on Windows; there the realpath check stands alone.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

export interface FileHeaders {
  /** Extra MIME types (a config's mime_types). */
  mimeTypes: ReadonlyMap<string, string>;
  /** Seconds for Cache-Control/Expires; null: no caching headers. */
  cacheTimeout: number | null;
  /** Access-Control-Allow-Origin: *. */
  cors: boolean;
}

/** Caching and CORS headers of an answer from the static service. */
export function commonHeaders(o: FileHeaders): Record<string, string> {
  const headers: Record<string, string> = { ...NOSNIFF };
  if (o.cacheTimeout !== null) {
    headers['Cache-Control'] = `max-age=${o.cacheTimeout}, public`;
    headers.Expires = new Date(Date.now() + o.cacheTimeout * 1000).toUTCString();
  }
  if (o.cors) headers['Access-Control-Allow-Origin'] = '*';
  return headers;
}

/** Sends the file at `path` (a realpath inside the root), typed by `name`. */
export async function sendFile(path: string, name: string, o: FileHeaders, req: WebRequest, response: ServerResponse): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch {
    return notFound(response);
  }
  let streaming = false;
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return notFound(response);
    const { type, encoding } = typeAndEncoding(name, o.mimeTypes);
    const lastModified = new Date(Math.floor(stats.mtimeMs / 1000) * 1000);
    const headers: Record<string, string> = {
      ...commonHeaders(o),
      'Content-Type': type,
      'Last-Modified': lastModified.toUTCString(),
      'Accept-Ranges': 'bytes',
    };
    if (encoding) headers['Content-Encoding'] = encoding;

    const since = Date.parse(req.request.headers['if-modified-since'] ?? '');
    if (!Number.isNaN(since) && lastModified.getTime() <= since) {
      response.writeHead(304, headers).end();
      return;
    }
    let status = 200;
    let start = 0;
    let end = stats.size - 1;
    const range = rangeOf(req, stats.size, headers['Last-Modified']);
    if (range === 'unsatisfiable') {
      response.writeHead(416, { ...NOSNIFF, 'Content-Range': `bytes */${stats.size}`, 'Content-Length': '0' }).end();
      return;
    }
    if (range) {
      status = 206;
      ({ start, end } = range);
      headers['Content-Range'] = `bytes ${start}-${end}/${stats.size}`;
    }
    headers['Content-Length'] = String(Math.max(0, end - start + 1));
    response.writeHead(status, headers);
    if (req.head || end < start) {
      response.end();
      return;
    }
    streaming = true;
    const stream = handle.createReadStream({ start, end, highWaterMark: 64 * 1024 });
    // pipeline closes the file (autoClose) and destroys the response if either side fails.
    pipeline(stream, response, () => {});
  } finally {
    if (!streaming) await handle.close();
  }
}

/** One byte range ("bytes=0-99", "bytes=100-", "bytes=-100"); several, or a stale If-Range, get the whole file. */
function rangeOf(req: WebRequest, size: number, lastModified: string): { start: number; end: number } | 'unsatisfiable' | undefined {
  const header = req.request.headers.range;
  if (header === undefined) return undefined;
  const ifRange = req.request.headers['if-range'];
  if (ifRange !== undefined && ifRange !== lastModified) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? size - 1 : Number(m[2]);
  if (m[2] !== '' && last < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(last, size - 1) };
}
