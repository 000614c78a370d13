/**
 * Crossbar's "static" web service: files of a directory, below the path it
 * is configured on ("/" serves everything no other path claims). A request
 * maps to a file only through `fileSegments` (no separators, no dot files)
 * and the file's realpath, which must lie inside the directory's: a symlink
 * that leads out (or to a dot file) is 404. A directory answers with its
 * index.html, else its listing where that is enabled, else 404 (or
 * `default_file`, Crossbar's fallback for single-page apps).
 */
import { existsSync, statSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { isAbsolute, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { resolveFile } from '../../config/paths.ts';
import { accepted, nonEmpty, nonNegativeInt, notSupported } from '../../config/schema-helpers.ts';
import { sendFile, type FileHeaders } from './file-response.ts';
import { sendListing } from './listing.ts';
import { MIME_TYPE, mimeMap } from './mime.ts';
import { fileSegments } from './request-path.ts';
import { NOSNIFF, notFound, webServiceType, type WebRequest } from './web-service.ts';

/** Crossbar's default: 12 hours. */
export const DEFAULT_CACHE_TIMEOUT = 12 * 60 * 60;
const INDEX_NAMES = ['index.html', 'index.htm'];

const PACKAGE =
  'Kreuz imports no Python packages: set "directory" to the directory the package ships, e.g. the output of python3 -c \'import importlib.resources as r; print(r.files("<package>") / "<resource>")\'';

/** A file below the directory, written with "/" ("index.html", "app/index.html"): no "..", no dot files. */
export const relativeFile = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && fileSegments(p.split('/')) && !p.split('/').includes('..') && !p.includes('//'), {
    error: 'must be a file below the directory, e.g. "index.html" (no "..", no leading "/", no dot files)',
  });

export const mimeTypes = z
  .record(
    z.string().regex(/^\.[^/\\\s]+$/, { error: 'must be a file extension with its dot, e.g. ".svg"' }),
    z.string().regex(MIME_TYPE, { error: 'must be a MIME type, e.g. "image/svg+xml"' }),
  )
  .describe('Extra content types by extension, e.g. {".svg": "image/svg+xml"}; compound extensions (".min.js") are matched too.');

/** Keys of the archive service that Crossbar FX writes on every web service, as null. */
const nullKeys = (keys: readonly string[]) =>
  Object.fromEntries(
    keys.map((key) => [
      key,
      accepted(
        z.null({ error: `"${key}" belongs to the "archive" service: a static service takes it only as null` }),
        `null: "${key}" belongs to the "archive" service; nothing to do`,
      ).optional(),
    ]),
  );

const schema = z
  .strictObject({
    type: z.literal('static'),
    id: z.string().optional(),
    directory: nonEmpty.describe('The directory to serve: absolute, or relative to the config file.'),
    package: notSupported('package', PACKAGE),
    resource: notSupported('resource', PACKAGE),
    options: z
      .strictObject({
        enable_directory_listing: z
          .boolean()
          .optional()
          .describe('Default false: a directory without index.html is 404; true lists it (dot files left out).'),
        mime_types: mimeTypes.optional(),
        cache_timeout: nonNegativeInt
          .nullable()
          .optional()
          .describe(`Seconds for Cache-Control max-age and Expires; default ${DEFAULT_CACHE_TIMEOUT}; null: no caching headers.`),
        default_file: relativeFile
          .nullable()
          .optional()
          .describe('Served (200) for a path that names no file, e.g. "index.html" for a single-page app; default none (404).'),
        allow_cross_origin: z.boolean().optional().describe('Default true: Access-Control-Allow-Origin: * on every file.'),
      })
      .optional(),
    ...nullKeys(['archive', 'origin', 'cache', 'download', 'mime_types', 'default_object']),
  })
  .meta({ id: 'StaticService', description: 'Files of a directory, below this path.' });

export interface StaticServiceOptions extends FileHeaders {
  type: 'static';
  /** Absolute. */
  directory: string;
  listing: boolean;
  /** Below the directory, with "/". */
  defaultFile?: string;
}

export const staticService = webServiceType({
  schema,
  exact: false,

  toOptions(c, baseDir): StaticServiceOptions {
    const o = c.options ?? {};
    return {
      type: 'static',
      directory: resolveFile(baseDir, c.directory),
      listing: o.enable_directory_listing ?? false,
      mimeTypes: mimeMap(o.mime_types),
      cacheTimeout: o.cache_timeout === undefined ? DEFAULT_CACHE_TIMEOUT : o.cache_timeout,
      cors: o.allow_cross_origin ?? true,
      ...(o.default_file ? { defaultFile: o.default_file } : {}),
    };
  },

  check(c, baseDir, problem, note) {
    const dir = resolveFile(baseDir, c.directory);
    if (!existsSync(dir)) {
      note(['directory'], `not found: ${dir}: every request here is answered 404 until it exists`);
      return;
    }
    if (!statSync(dir).isDirectory()) problem(['directory'], `${dir} is not a directory`);
    else if (c.options?.default_file && !existsSync(join(dir, c.options.default_file)))
      note(['options', 'default_file'], `not found in ${dir}: paths that name no file are answered 404 until it exists`);
  },

  start: async (o) => (req, response) => serve(o, req, response),
});

async function serve(o: StaticServiceOptions, req: WebRequest, response: ServerResponse): Promise<void> {
  if (!fileSegments(req.rest)) return notFound(response);
  let root: string;
  try {
    root = await realpath(o.directory);
  } catch {
    return notFound(response);
  }
  const found = await inside(root, req.rest);
  if (!found) return fallback(o, root, req, response);
  if (found.directory) {
    if (!req.trailingSlash) return addSlash(req, response);
    for (const index of INDEX_NAMES) {
      const file = await inside(root, [...req.rest, index]);
      if (file && !file.directory) return sendFile(file.path, index, o, req, response);
    }
    if (o.listing) {
      const entryOf = async (name: string) => {
        const entry = fileSegments([name]) ? await inside(root, [...req.rest, name]) : undefined;
        return entry && { name, directory: entry.directory, size: entry.size };
      };
      return sendListing(found.path, entryOf, req, o, response);
    }
    return fallback(o, root, req, response);
  }
  // "file.txt/" names a directory that is not there.
  if (req.trailingSlash) return fallback(o, root, req, response);
  return sendFile(found.path, req.rest[req.rest.length - 1], o, req, response);
}

/** The realpath of `segments` below `root` when it is inside it, names no dot file there, and is a file or directory. */
async function inside(root: string, segments: readonly string[]): Promise<{ path: string; directory: boolean; size: number } | undefined> {
  let real: string;
  try {
    real = await realpath(join(root, ...segments));
  } catch {
    return undefined;
  }
  const rel = relative(root, real);
  if (rel !== '' && (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))) return undefined;
  if (rel !== '' && !fileSegments(rel.split(sep))) return undefined;
  const stats = await stat(real).catch(() => undefined);
  if (!stats || !(stats.isFile() || stats.isDirectory())) return undefined;
  return { path: real, directory: stats.isDirectory(), size: stats.size };
}

async function fallback(o: StaticServiceOptions, root: string, req: WebRequest, response: ServerResponse): Promise<void> {
  if (o.defaultFile === undefined) return notFound(response);
  const segments = o.defaultFile.split('/');
  const file = await inside(root, segments);
  if (!file || file.directory) return notFound(response);
  return sendFile(file.path, segments[segments.length - 1], o, req, response);
}

/** A directory asked for without its "/": sent to it, relative to where the client is (never to another host). */
function addSlash(req: WebRequest, response: ServerResponse): void {
  const last = req.fullPath[req.fullPath.length - 1];
  // The query goes along when it is plain ASCII (what a header may carry).
  const query = /\?[\x21-\x7e]*$/.exec(req.request.url ?? '')?.[0] ?? '';
  response.writeHead(302, { ...NOSNIFF, Location: `${encodeURIComponent(last)}/${query}`, 'Content-Length': '0' }).end();
}
