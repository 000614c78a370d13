/**
 * A directory listing of the static service (`enable_directory_listing`):
 * an HTML table of name, size, content type and encoding, the columns of
 * Twisted's listing that Crossbar users know. Every name is escaped (HTML)
 * and percent-encoded (links); only what would be served is listed (no dot
 * files, no symlinks that lead out), and the listing stops after MAX_LISTED
 * entries (or MAX_SCANNED looked at).
 */
import { opendir } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { commonHeaders, type FileHeaders } from './file-response.ts';
import { typeAndEncoding } from './mime.ts';
import type { WebRequest } from './web-service.ts';

const MAX_LISTED = 1000;
const MAX_SCANNED = 10_000;

export interface Entry {
  name: string;
  directory: boolean;
  size: number;
}

/** `entryOf(name)`: the entry as the service would serve it, or undefined for what it would not. */
export async function sendListing(
  dir: string,
  entryOf: (name: string) => Promise<Entry | undefined>,
  req: WebRequest,
  o: FileHeaders,
  response: ServerResponse,
): Promise<void> {
  const entries: Entry[] = [];
  let more = false;
  let scanned = 0;
  for await (const dirent of await opendir(dir)) {
    if (entries.length === MAX_LISTED || ++scanned > MAX_SCANNED) {
      more = true;
      break;
    }
    const entry = await entryOf(dirent.name);
    if (entry) entries.push(entry);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const shown = `/${req.fullPath.join('/')}${req.fullPath.length ? '/' : ''}`;
  const rows = entries.map((e) => {
    const { type, encoding } = e.directory ? { type: '[Directory]', encoding: '' } : typeAndEncoding(e.name, o.mimeTypes);
    const href = `${encodeURIComponent(e.name)}${e.directory ? '/' : ''}`;
    const size = e.directory ? '' : fileSize(e.size);
    return `<tr><td><a href="${escapeHtml(href)}">${escapeHtml(e.name)}${e.directory ? '/' : ''}</a></td><td>${size}</td><td>${escapeHtml(type)}</td><td>${escapeHtml(encoding ?? '')}</td></tr>`;
  });
  const title = `Directory listing for ${escapeHtml(shown)}`;
  const body = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:sans-serif}th,td{text-align:left;padding:0 1em 0 0}</style></head>
<body><h1>${title}</h1>
<table><thead><tr><th>Filename</th><th>Size</th><th>Content type</th><th>Content encoding</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>${more ? '\n<p>Not every entry is listed: there are too many.</p>' : ''}
</body></html>
`;
  response
    .writeHead(200, {
      ...commonHeaders(o),
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      // The page runs nothing: even a name that slipped past escaping could not.
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    })
    .end(req.head ? undefined : body);
}

/** "512B", "3K", "12M", "2G", as Twisted's listing writes sizes. */
function fileSize(bytes: number): string {
  const units = ['B', 'K', 'M', 'G'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${Math.floor(n)}${units[u]}`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
