/**
 * A request's URL path as segments, decoded exactly once: every byte of it
 * is the client's. What can climb or hide ("." and ".." segments, also
 * percent-encoded; NUL; empty segments inside) is refused here for every
 * service; what names no file (backslashes, "/" from "%2F", dot files) is
 * refused by `fileSegments` for the services that map paths to files.
 */

/** Longer request targets are refused before they are looked at (Node already caps the header block). */
export const MAX_URL_LENGTH = 8192;
const MAX_SEGMENTS = 64;
/** The longest file name most file systems allow (bytes). */
const MAX_NAME_BYTES = 255;

export interface RequestPath {
  /** Decoded segments; "/" is none. */
  segments: string[];
  /** The path ended in "/" ("/" itself too). */
  trailingSlash: boolean;
}

/** "bad": not a URL path at all (400); "refused": a path that tries something (404). */
export type ParsedPath = RequestPath | 'bad' | 'refused';

/** The path of a request target: origin form ("/a/b?q") or absolute form ("http://host/a/b"). */
export function parseRequestPath(target: string): ParsedPath {
  if (target.length > MAX_URL_LENGTH) return 'refused';
  let raw = target;
  if (!raw.startsWith('/')) {
    const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(raw);
    if (!absolute) return 'bad';
    raw = raw.slice(absolute[0].length) || '/';
    if (!raw.startsWith('/')) raw = `/${raw}`;
  }
  const end = raw.search(/[?#]/);
  if (end !== -1) raw = raw.slice(0, end);
  const parts = raw.slice(1).split('/');
  const trailingSlash = parts[parts.length - 1] === '';
  if (trailingSlash) parts.pop();
  if (parts.length > MAX_SEGMENTS) return 'refused';
  const segments: string[] = [];
  for (const part of parts) {
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return 'bad';
    }
    if (segment === '' || segment === '.' || segment === '..' || segment.includes('\0')) return 'refused';
    segments.push(segment);
  }
  return { segments, trailingSlash };
}

/**
 * Whether decoded segments may name a file below a root: no separators of
 * any platform, no drive or stream syntax (":"), no control characters, and
 * no dot files, which hide what is not meant to be served (".git", ".env",
 * the node directory ".crossbar" itself). ".well-known" is the one dot
 * directory the web relies on (RFC 8615).
 */
export function fileSegments(segments: readonly string[]): boolean {
  return segments.every(
    (s) =>
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
      !/[/\\:\u0000-\u001f\u007f]/.test(s) && (!s.startsWith('.') || s === '.well-known') && Buffer.byteLength(s) <= MAX_NAME_BYTES,
  );
}

/** The path of a request as written in a config ("/", "/static/app"), for exact matches. */
export function joinedPath({ segments, trailingSlash }: RequestPath): string {
  return `/${segments.join('/')}${trailingSlash && segments.length > 0 ? '/' : ''}`;
}
