// A structural pass over one CBOR item, used by the CBOR serializer only when
// cbor-x alone would get something wrong (see cbor.ts):
//  - indefinite-length byte/text strings (cbor-x cannot decode them) are
//    rewritten as definite-length strings;
//  - tag 64 (Uint8Array) around a byte string is dropped, so cbor-x yields a
//    Buffer like for any other byte string;
//  - tags 28/29 (value sharing) are rejected: cbor-x honours them and would
//    hand the router aliased or cyclic structures.
// Everything else is copied unchanged. Returns the input itself if nothing changed.
import { SerializationError } from './serializer.ts';

const TAG_SHAREABLE = 28;
const TAG_SHARED_REF = 29;
const TAG_UINT8ARRAY = 64;
const BREAK = 0xff;

/** Cheap pre-check: could `bytes` contain a tag head for any of `tags` (< 256, any head width)? */
export function mayContainTag(bytes: Buffer, tags: readonly number[]): boolean {
  for (const tag of tags) {
    for (let i = bytes.indexOf(tag, 1); i !== -1; i = bytes.indexOf(tag, i + 1)) {
      if (bytes[i - 1] === 0xd8) return true; // 1-byte tag number; wider heads are 0xd9/da/db + zero padding
      let j = i - 1;
      while (j >= 0 && i - j <= 8 && bytes[j] === 0) j--;
      const zeros = i - 1 - j;
      if (j >= 0 && ((zeros === 1 && bytes[j] === 0xd9) || (zeros === 3 && bytes[j] === 0xda) || (zeros === 7 && bytes[j] === 0xdb))) {
        return true;
      }
    }
  }
  return false;
}

export function rewriteCbor(src: Buffer): Buffer {
  const r = new Rewriter(src);
  r.item();
  if (r.pos !== src.length) throw new SerializationError('cbor: trailing bytes after the message');
  return r.result();
}

class Rewriter {
  pos = 0;
  private copiedTo = 0; // src[0, copiedTo) is already in `out`
  private out: Uint8Array[] = [];

  constructor(private readonly src: Buffer) {}

  result(): Buffer {
    if (this.out.length === 0) return this.src;
    this.out.push(this.src.subarray(this.copiedTo));
    return Buffer.concat(this.out);
  }

  /** Replaces src[start, this.pos) by `replacement` in the output. */
  private replace(start: number, replacement: Uint8Array): void {
    this.out.push(this.src.subarray(this.copiedTo, start), replacement);
    this.copiedTo = this.pos;
  }

  private byte(): number {
    if (this.pos >= this.src.length) throw truncated();
    return this.src[this.pos++]!;
  }

  /** Reads the argument of an initial byte (info 0..27). */
  private argument(info: number): number {
    if (info < 24) return info;
    if (info > 27) throw new SerializationError(`cbor: reserved additional information ${info}`);
    const size = 1 << (info - 24);
    if (this.pos + size > this.src.length) throw truncated();
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + this.src[this.pos++]!;
    return value;
  }

  private skip(length: number): void {
    if (length > this.src.length - this.pos) throw truncated();
    this.pos += length;
  }

  item(): void {
    const start = this.pos;
    const initial = this.byte();
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (info === 31) {
      if (major === 2 || major === 3) return this.indefiniteString(start, major);
      if (major === 4 || major === 5) {
        while (this.src[this.pos] !== BREAK) {
          this.item();
          if (major === 5) this.item();
        }
        this.pos++; // the break; a missing one was reported as truncation by item()
        return;
      }
      throw new SerializationError(`cbor: unexpected ${major === 7 ? 'break' : 'indefinite length'}`);
    }
    const arg = this.argument(info);
    switch (major) {
      case 2:
      case 3:
        return this.skip(arg);
      case 4:
        for (let i = 0; i < arg; i++) this.item();
        return;
      case 5:
        for (let i = 0; i < arg; i++) {
          this.item();
          this.item();
        }
        return;
      case 6:
        if (arg === TAG_SHAREABLE || arg === TAG_SHARED_REF) {
          throw new SerializationError(`cbor: value-sharing tag ${arg} is not supported`);
        }
        if (arg === TAG_UINT8ARRAY && this.pos < this.src.length && this.src[this.pos]! >> 5 === 2) {
          this.out.push(this.src.subarray(this.copiedTo, start));
          this.copiedTo = this.pos; // drop the tag head, keep the byte string
        }
        return this.item();
      default: // 0, 1: integers; 7: simple values and floats, whose bytes `argument` consumed
        return;
    }
  }

  private indefiniteString(start: number, major: number): void {
    const chunks: Buffer[] = [];
    for (;;) {
      const initial = this.byte();
      if (initial === BREAK) break;
      if (initial >> 5 !== major || (initial & 0x1f) === 31) {
        throw new SerializationError('cbor: invalid chunk in indefinite-length string');
      }
      const length = this.argument(initial & 0x1f);
      const chunkStart = this.pos;
      this.skip(length);
      chunks.push(this.src.subarray(chunkStart, this.pos));
    }
    const body = Buffer.concat(chunks);
    this.replace(start, Buffer.concat([head(major, body.length), body]));
  }
}

function head(major: number, length: number): Buffer {
  const m = major << 5;
  if (length < 24) return Buffer.of(m | length);
  if (length < 0x100) return Buffer.of(m | 24, length);
  if (length < 0x10000) return Buffer.of(m | 25, length >> 8, length & 0xff);
  const b = Buffer.allocUnsafe(5);
  b[0] = m | 26;
  b.writeUInt32BE(length, 1);
  return b;
}

function truncated(): SerializationError {
  return new SerializationError('cbor: unexpected end of data');
}
