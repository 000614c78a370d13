/**
 * Content types by file extension, for the static and archive services.
 * Like Twisted's static.File (which Crossbar serves with), a ".gz" file is
 * sent as its inner type with Content-Encoding gzip ("app.js.gz" is
 * JavaScript); unlike it, an unknown extension is application/octet-stream,
 * not text/html, so a stray file is downloaded rather than rendered.
 */

/** Extensions (lower case, with the dot) and their types: what browsers load from a web server. */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html',
  '.htm': 'text/html',
  '.xhtml': 'application/xhtml+xml',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.cjs': 'text/javascript',
  '.jgz': 'text/javascript',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.log': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.xml': 'text/xml',
  '.rss': 'application/rss+xml',
  '.atom': 'application/atom+xml',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.bmp': 'image/bmp',
  '.ico': 'image/vnd.microsoft.icon',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.eot': 'application/vnd.ms-fontobject',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.wav': 'audio/wav',
  '.flac': 'audio/flac',
  '.m4a': 'audio/mp4',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.webm': 'video/webm',
  '.ogv': 'video/ogg',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.tar': 'application/x-tar',
  '.tgz': 'application/gzip',
  '.bz2': 'application/x-bzip2',
  '.xz': 'application/x-xz',
  '.7z': 'application/x-7z-compressed',
  '.py': 'text/x-python',
  '.sh': 'application/x-sh',
  '.ics': 'text/calendar',
};

/** Extensions that name a compression of the file inside (Twisted's, and Crossbar's ".jgz"). */
const ENCODINGS: Readonly<Record<string, string>> = { '.gz': 'gzip', '.jgz': 'gzip' };

const FALLBACK = 'application/octet-stream';

/** A header-safe MIME type, as a config may add one: "type/subtype" with optional parameters. */
export const MIME_TYPE =
  /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\\\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$/;

export interface TypeAndEncoding {
  type: string;
  encoding?: string;
}

/**
 * The type (and compression) of a file name. `extra` (a config's
 * `mime_types`, keys lower case with their dot) comes first and may name
 * compound extensions (".min.js"); the longest that matches wins. A config
 * that maps ".gz" itself serves such files as they are, uncompressed by
 * nobody.
 */
export function typeAndEncoding(name: string, extra: ReadonlyMap<string, string> = new Map()): TypeAndEncoding {
  const lower = name.toLowerCase();
  const last = lastExtension(lower);
  const encoding = Object.hasOwn(ENCODINGS, last) && (last === '.jgz' || !extra.has(last)) ? ENCODINGS[last] : undefined;
  if (encoding === undefined) return { type: configured(lower, extra) ?? builtIn(lower) };
  // "x.jgz" is JavaScript itself; "x.css.gz" is CSS, compressed.
  if (last === '.jgz') return { type: configured(lower, extra) ?? TYPES['.jgz'], encoding };
  const inner = lower.slice(0, -last.length);
  return { type: configured(inner, extra) ?? builtIn(inner), encoding };
}

function configured(lower: string, extra: ReadonlyMap<string, string>): string | undefined {
  for (let dot = lower.indexOf('.', 1); dot !== -1; dot = lower.indexOf('.', dot + 1)) {
    const type = extra.get(lower.slice(dot));
    if (type !== undefined) return type;
  }
  return undefined;
}

function builtIn(lower: string): string {
  const ext = lastExtension(lower);
  return Object.hasOwn(TYPES, ext) ? TYPES[ext] : FALLBACK;
}

/** ".js" of "app.min.js"; "" for a name without one (a leading dot starts no extension). */
function lastExtension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot) : '';
}

/** A config's `mime_types` as `typeAndEncoding` takes them. */
export function mimeMap(types: Readonly<Record<string, string>> | undefined | null): ReadonlyMap<string, string> {
  return new Map(Object.entries(types ?? {}).map(([ext, type]) => [ext.toLowerCase(), type]));
}
