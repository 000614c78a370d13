/**
 * Crossbar's "archive" web service: the files of a ZIP archive, below the
 * path it is configured on. As in Crossbar, a missing archive with an
 * `origin` and `download: true` is downloaded at start (checked against
 * `hashes`, SHA-256 in hex, when given), `default_object` answers a path
 * ending in "/", `object_prefix` is put before every name looked up, and
 * `options.default_file` answers a name the archive lacks. Names are looked
 * up, never used as file paths; they still pass the checks every static
 * path passes.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, existsSync, openSync, readSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pipeline as pipe } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { z } from 'zod';
import { resolveFile } from '../../config/paths.ts';
import { accepted, nonEmpty } from '../../config/schema-helpers.ts';
import { mimeMap, typeAndEncoding } from './mime.ts';
import { fileSegments } from './request-path.ts';
import { mimeTypes, relativeFile } from './static.ts';
import { NOSNIFF, notFound, webServiceType, type WebRequest } from './web-service.ts';
import { openEntry, readZipDirectory, ZipError, type ZipEntry } from './zip.ts';

/** What a download may take: an archive of web assets, not a disk image. */
const MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024;
const DOWNLOAD_TIMEOUT = 120_000;

const sha256 = z.string().regex(/^[0-9a-fA-F]{64}$/, { error: 'must be a SHA-256 hash: 64 hex digits' });

const schema = z
  .strictObject({
    type: z.literal('archive'),
    id: z.string().optional(),
    archive: nonEmpty.describe('The ZIP file: absolute, or relative to the config file.'),
    origin: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/i, { error: 'must be an http:// or https:// URL' })
      .optional()
      .describe('Where the archive comes from, when it is not there.'),
    download: z.boolean().optional().describe('Default false; true: a missing archive is downloaded from "origin" at start.'),
    hashes: z
      .array(sha256)
      .optional()
      .describe('SHA-256 hashes (hex), one of which the archive must have; checked at start, downloaded or not.'),
    cache: accepted(z.boolean(), (on: boolean) =>
      on
        ? 'Kreuz reads each file from the archive when it is asked for (the OS keeps the archive file cached); nothing is held in memory'
        : undefined,
    ).optional(),
    default_object: relativeFile.optional().describe('Served for a path ending in "/", e.g. "index.html".'),
    object_prefix: z
      .string()
      .refine((p) => p === '' || (!p.startsWith('/') && !p.split('/').includes('..')), {
        error: 'must be a folder inside the archive, e.g. "dist" (no "..", no leading "/")',
      })
      .optional()
      .describe('A folder inside the archive that this path serves, e.g. "autobahn-js-browser-20.2.1".'),
    mime_types: mimeTypes.optional(),
    options: z
      .strictObject({
        default_file: relativeFile.nullable().optional().describe('Served for a name the archive lacks, e.g. "index.html".'),
      })
      .optional(),
  })
  .meta({ id: 'ArchiveService', description: 'The files of a ZIP archive, below this path.' });

export interface ArchiveServiceOptions {
  type: 'archive';
  /** Absolute. */
  file: string;
  origin?: string;
  download: boolean;
  hashes?: string[];
  defaultObject?: string;
  objectPrefix?: string;
  defaultFile?: string;
  mimeTypes: ReadonlyMap<string, string>;
}

export const archiveService = webServiceType({
  schema,
  exact: false,

  toOptions: (c, baseDir): ArchiveServiceOptions => ({
    type: 'archive',
    file: resolveFile(baseDir, c.archive),
    download: c.download ?? false,
    mimeTypes: mimeMap(c.mime_types),
    ...(c.origin !== undefined && { origin: c.origin }),
    ...(c.hashes !== undefined && { hashes: c.hashes.map((h) => h.toLowerCase()) }),
    ...(c.default_object !== undefined && { defaultObject: c.default_object }),
    ...(c.object_prefix && { objectPrefix: c.object_prefix.replace(/\/+$/, '') }),
    ...(c.options?.default_file && { defaultFile: c.options.default_file }),
  }),

  check(c, baseDir, problem, note) {
    const file = resolveFile(baseDir, c.archive);
    if (!existsSync(file)) {
      if (c.origin === undefined) problem(['archive'], `file not found: ${file} (and no "origin" to download it from)`);
      else if (c.download)
        note(
          ['archive'],
          `not there: Kreuz downloads it from ${c.origin} at start${c.hashes?.length ? ', checked against "hashes"' : ' (no "hashes": unverified)'}`,
        );
      else note(['archive'], `not there, and "download" is off: every request here is answered 404 until it exists`);
      return;
    }
    if (!statSync(file).isFile()) return problem(['archive'], `${file} is not a file`);
    try {
      readZipDirectory(file);
    } catch (err) {
      if (!(err instanceof ZipError)) throw err;
      return problem(['archive'], `${file}: ${err.message}`);
    }
    if (!c.hashes?.length) return;
    const digest = sha256Of(file);
    if (!c.hashes.some((h) => h.toLowerCase() === digest)) problem(['hashes'], `${file} has SHA-256 ${digest}, none of these`);
  },

  async start(o, ctx) {
    if (!existsSync(o.file)) {
      if (!o.origin) throw new Error(`${ctx.where}: archive not found: ${o.file}`);
      if (!o.download) {
        ctx.logger.warn({ archive: o.file }, `${ctx.where}: archive not there and "download" is off: answering 404`);
        return (_req, response) => notFound(response);
      }
      await download(o.origin, o.file, o.hashes, ctx.where);
      ctx.logger.info({ archive: o.file, origin: o.origin }, `${ctx.where}: archive downloaded`);
    } else if (o.hashes?.length && !o.hashes.includes(await hashOf(o.file))) {
      throw new Error(`${ctx.where}: ${o.file} has none of the configured SHA-256 hashes`);
    }
    if (!o.hashes?.length) ctx.logger.warn({ archive: o.file }, `${ctx.where}: archive not verified (no "hashes")`);
    let entries: Map<string, ZipEntry>;
    try {
      entries = readZipDirectory(o.file);
    } catch (err) {
      if (err instanceof ZipError) throw new Error(`${ctx.where}: ${o.file}: ${err.message}`);
      throw err;
    }
    return (req, response) => serve(o, entries, req, response);
  },
});

async function serve(o: ArchiveServiceOptions, entries: Map<string, ZipEntry>, req: WebRequest, response: ServerResponse): Promise<void> {
  if (!fileSegments(req.rest)) return notFound(response);
  let name = req.rest.join('/');
  if ((name === '' || req.trailingSlash) && o.defaultObject) name = name ? `${name}/${o.defaultObject}` : o.defaultObject;
  const find = (n: string) => entries.get(o.objectPrefix ? `${o.objectPrefix}/${n}` : n);
  const entry = find(name) ?? (o.defaultFile ? find(o.defaultFile) : undefined);
  if (!entry) return notFound(response);
  const { type, encoding } = typeAndEncoding(entry.name.slice(entry.name.lastIndexOf('/') + 1), o.mimeTypes);
  const headers: Record<string, string> = { ...NOSNIFF, 'Content-Type': type, 'Content-Length': String(entry.size) };
  if (encoding) headers['Content-Encoding'] = encoding;
  if (req.head) {
    response.writeHead(200, headers).end();
    return;
  }
  const body = await openEntry(o.file, entry);
  if (!body) return notFound(response);
  response.writeHead(200, headers);
  pipe(body, response, () => {});
}

/** For `check`, which is synchronous: read in chunks, never whole. */
function sha256Of(file: string): string {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(1024 * 1024);
  const fd = openSync(file, 'r');
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

async function hashOf(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Into a temporary file beside it, renamed only once complete and verified. */
async function download(origin: string, file: string, hashes: string[] | undefined, where: string): Promise<void> {
  const response = await fetch(origin, { redirect: 'follow', signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT) }).catch((err: Error) => {
    throw new Error(`${where}: downloading ${origin}: ${err.message}`);
  });
  if (!response.ok || !response.body) throw new Error(`${where}: downloading ${origin}: HTTP ${response.status}`);
  const partial = `${file}.${process.pid}.download`;
  const hash = createHash('sha256');
  let size = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > MAX_DOWNLOAD_BYTES) return done(new Error(`larger than ${MAX_DOWNLOAD_BYTES} bytes`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  // A partial file of an earlier start that died is not resumed.
  await rm(partial, { force: true });
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream), counted, createWriteStream(partial, { flags: 'wx' }));
    const digest = hash.digest('hex');
    if (hashes?.length && !hashes.includes(digest)) throw new Error(`has SHA-256 ${digest}, none of the configured "hashes"`);
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    throw new Error(`${where}: downloading ${origin}: ${(err as Error).message}`);
  }
}
