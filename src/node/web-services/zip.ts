/**
 * Just enough of the ZIP format to serve files out of an archive, as
 * Crossbar's "archive" service does: the central directory is read once
 * (bounded in size and entries), and each file is streamed from its place
 * in the archive, stored or deflated, its output held to the size the
 * directory declares (a bomb stops there). Encrypted entries, other
 * compression methods and ZIP64 archives are not served.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline, Transform, type Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/** Bounds on what the directory may make Kreuz hold. */
const MAX_DIRECTORY_BYTES = 64 * 1024 * 1024;
const MAX_ENTRIES = 200_000;

export interface ZipEntry {
  name: string;
  method: 0 | 8;
  compressedSize: number;
  size: number;
  /** Offset of its local header. */
  offset: number;
}

export class ZipError extends Error {}

/** The files of a ZIP archive by name (directories left out). Throws ZipError for what is not a ZIP Kreuz can serve. */
export function readZipDirectory(file: string): Map<string, ZipEntry> {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const tailSize = Math.min(size, EOCD_SIZE + MAX_COMMENT);
    const tail = readAt(fd, size - tailSize, tailSize);
    let at = -1;
    for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD && i + EOCD_SIZE + tail.readUInt16LE(i + 20) === tail.length) {
        at = i;
        break;
      }
    }
    if (at === -1) throw new ZipError('not a ZIP archive (no end of central directory)');
    const count = tail.readUInt16LE(at + 10);
    const dirSize = tail.readUInt32LE(at + 12);
    const dirOffset = tail.readUInt32LE(at + 16);
    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff)
      throw new ZipError('a ZIP64 archive: Kreuz serves ZIP archives below 4 GiB and 65535 files');
    if (dirSize > MAX_DIRECTORY_BYTES || count > MAX_ENTRIES) throw new ZipError('its central directory is too large');
    if (dirOffset + dirSize > size) throw new ZipError('its central directory lies outside the file');
    const dir = readAt(fd, dirOffset, dirSize);
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL) throw new ZipError('its central directory is damaged');
      const flags = dir.readUInt16LE(p + 8);
      const method = dir.readUInt16LE(p + 10);
      const compressedSize = dir.readUInt32LE(p + 20);
      const uncompressed = dir.readUInt32LE(p + 24);
      const nameLength = dir.readUInt16LE(p + 28);
      const next = p + 46 + nameLength + dir.readUInt16LE(p + 30) + dir.readUInt16LE(p + 32);
      if (next > dir.length) throw new ZipError('its central directory is damaged');
      const name = dir.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLength);
      const offset = dir.readUInt32LE(p + 42);
      p = next;
      // Encrypted (bit 0), or compressed in a way Kreuz does not inflate: not served.
      if (name.endsWith('/') || flags & 0x1 || (method !== 0 && method !== 8)) continue;
      if (offset + compressedSize > size) throw new ZipError(`"${name}" lies outside the file`);
      entries.set(name, { name, method, compressedSize, size: uncompressed, offset });
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) throw new ZipError('the file ended early');
    done += n;
  }
  return buffer;
}

/**
 * The contents of one entry, as a stream of exactly `entry.size` bytes (it
 * fails otherwise); undefined when its local header does not match (the
 * archive changed since it was read).
 */
export async function openEntry(file: string, entry: ZipEntry): Promise<Readable | undefined> {
  const handle = await open(file, 'r');
  let handed = false;
  try {
    const header = Buffer.alloc(30);
    const { bytesRead } = await handle.read(header, 0, 30, entry.offset);
    if (bytesRead < 30 || header.readUInt32LE(0) !== LOCAL) return undefined;
    const nameLength = header.readUInt16LE(26);
    const name = Buffer.alloc(nameLength);
    await handle.read(name, 0, nameLength, entry.offset + 30);
    if (name.toString('utf8') !== entry.name && name.toString('latin1') !== entry.name) return undefined;
    const start = entry.offset + 30 + nameLength + header.readUInt16LE(28);
    const out = exactly(entry.size);
    if (entry.compressedSize === 0) {
      out.end();
      return out;
    }
    handed = true;
    const raw = handle.createReadStream({ start, end: start + entry.compressedSize - 1 });
    // A failure anywhere destroys `out` with it, and so whatever it is piped into.
    if (entry.method === 8) pipeline(raw, createInflateRaw(), out, () => {});
    else pipeline(raw, out, () => {});
    return out;
  } finally {
    if (!handed) await handle.close();
  }
}

/** Passes `size` bytes on and fails on more or fewer. */
function exactly(size: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(seen > size ? new ZipError('an entry is larger than the archive says') : null, chunk);
    },
    flush(done) {
      done(seen === size ? null : new ZipError('an entry is smaller than the archive says'));
    },
  });
}
