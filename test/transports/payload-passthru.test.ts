/**
 * Payload passthru on the wire, with hand-made messages over WebSocket and
 * RawSocket (the router of router-process.ts, in a child process):
 *
 *  - Payload PassThru Mode (WAMP advanced profile): CALL, YIELD, callee ERROR
 *    and PUBLISH with Options ppt_scheme / ppt_serializer / ppt_cipher /
 *    ppt_keyid and Arguments [<one binary>] arrive as INVOCATION, RESULT,
 *    ERROR and EVENT with those Details and the same bytes, for every pair
 *    of serializers.
 *  - Payload transparency as Autobahn and Crossbar do it (WAMP-cryptobox):
 *    Options enc_algo / enc_key / enc_serializer and the binary payload
 *    directly at the Arguments position, not in a list.
 *  - WELCOME announces payload_passthru_mode, payload_transparency and
 *    payload_encryption_cryptobox for the dealer and the broker.
 *  - Without those options a non-list Arguments element is still a protocol
 *    violation.
 *  - Exact values (integers past 2^53, 2^64-1, floats 2.0 and -0.0, ...) go
 *    through unchanged for every serializer pair.
 *
 * The messages are encoded and decoded here, by the small codecs below, not by
 * Kreuz's serializers: the router gets bytes someone else produced, and the
 * test sees what it sent back exactly (a float stays a Float even when it is
 * 2.0, an integer past 2^53 is a bigint, binary is a Buffer; JSON binary is
 * "\u0000" + base64, as WAMP specifies).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { RouterProcess } from '../helpers/router-process.ts';
import type { Endpoint } from '../helpers/wamp-wire-client.ts';
import {
  ABORT,
  CALL,
  ERROR,
  EVENT,
  HELLO,
  INVOCATION,
  PUBLISH,
  PUBLISHED,
  REGISTER,
  REGISTERED,
  RESULT,
  SUBSCRIBE,
  SUBSCRIBED,
  WELCOME,
  YIELD,
} from '../helpers/wamp-codes.ts';

// ---------------------------------------------------------------------------
// values, and codecs for them that are independent of Kreuz
// ---------------------------------------------------------------------------

/** A float on the wire (a JS number cannot say "float" for 2.0 or -0.0). */
class Float {
  constructor(readonly value: number) {}
}

/** Integers are JS numbers while safe, bigints beyond; non-integral JS numbers encode as floats too. */
type Value = null | boolean | number | bigint | string | Buffer | Float | Value[] | { [key: string]: Value };
type Message = Value[];
type Format = 'json' | 'msgpack' | 'cbor';

const FORMATS: Format[] = ['json', 'msgpack', 'cbor'];
const RAWSOCKET_ID: Record<Format, number> = { json: 1, msgpack: 2, cbor: 3 };
const TWO_64 = 2n ** 64n;

/** An integer as the decoders return it: a number while safe, else a bigint. */
function integer(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

function isInteger(v: Value): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v) && !Object.is(v, -0));
}

function floatOf(v: Value): number | undefined {
  if (v instanceof Float) return v.value;
  if (typeof v === 'number' && !isInteger(v)) return v;
  return undefined;
}

function setKey(target: Record<string, Value>, key: string, value: Value): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function bigEndian(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex');
}

class Reader {
  i = 0;
  constructor(readonly b: Buffer) {}
  take(n: number): Buffer {
    if (this.i + n > this.b.length) throw new Error(`truncated at byte ${this.i} (wanted ${n} more)`);
    const out = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0];
  }
  end(what: string): void {
    if (this.i !== this.b.length) throw new Error(`${this.b.length - this.i} bytes after the ${what} message`);
  }
}

// --- MessagePack (https://github.com/msgpack/msgpack/blob/master/spec.md)

function mpEncode(v: Value, out: Buffer[]): void {
  const f = floatOf(v);
  if (v === null) out.push(Buffer.of(0xc0));
  else if (v === false || v === true) out.push(Buffer.of(v ? 0xc3 : 0xc2));
  else if (f !== undefined) {
    const b = Buffer.alloc(9);
    b[0] = 0xcb;
    b.writeDoubleBE(f, 1);
    out.push(b);
  } else if (typeof v === 'number' || typeof v === 'bigint') mpInt(BigInt(v), out);
  else if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    out.push(mpHead(s.length, 0xa0, 32, [0xd9, 0xda, 0xdb]), s);
  } else if (Buffer.isBuffer(v)) out.push(mpHead(v.length, -1, 0, [0xc4, 0xc5, 0xc6]), v);
  else if (Array.isArray(v)) {
    out.push(mpHead(v.length, 0x90, 16, [-1, 0xdc, 0xdd]));
    for (const item of v) mpEncode(item, out);
  } else {
    const entries = Object.entries(v as Record<string, Value>);
    out.push(mpHead(entries.length, 0x80, 16, [-1, 0xde, 0xdf]));
    for (const [key, item] of entries) {
      mpEncode(key, out);
      mpEncode(item, out);
    }
  }
}

/** A length head: the fix form (fixBase | n) below fixLimit, else the 8/16/32-bit form ([code8, code16, code32]; -1: none). */
function mpHead(n: number, fixBase: number, fixLimit: number, codes: number[]): Buffer {
  if (n < fixLimit) return Buffer.of(fixBase | n);
  if (n < 0x100 && codes[0] >= 0) return Buffer.of(codes[0], n);
  if (n < 0x10000) return Buffer.of(codes[1], n >> 8, n & 0xff);
  const b = Buffer.alloc(5);
  b[0] = codes[2];
  b.writeUInt32BE(n, 1);
  return b;
}

function mpInt(n: bigint, out: Buffer[]): void {
  const b = Buffer.alloc(9);
  if (n >= 0n) {
    if (n < 128n) return void out.push(Buffer.of(Number(n)));
    if (n < 0x100n) return void out.push(Buffer.of(0xcc, Number(n)));
    if (n < 0x10000n) return void out.push(Buffer.of(0xcd, Number(n >> 8n), Number(n & 0xffn)));
    if (n < 0x100000000n) {
      b[0] = 0xce;
      b.writeUInt32BE(Number(n), 1);
      return void out.push(b.subarray(0, 5));
    }
    if (n < TWO_64) {
      b[0] = 0xcf;
      b.writeBigUInt64BE(n, 1);
      return void out.push(b);
    }
  } else {
    if (n >= -32n) return void out.push(Buffer.of(0x100 + Number(n)));
    if (n >= -128n) return void out.push(Buffer.of(0xd0, 0x100 + Number(n)));
    if (n >= -0x8000n) {
      b[0] = 0xd1;
      b.writeInt16BE(Number(n), 1);
      return void out.push(b.subarray(0, 3));
    }
    if (n >= -0x80000000n) {
      b[0] = 0xd2;
      b.writeInt32BE(Number(n), 1);
      return void out.push(b.subarray(0, 5));
    }
    if (n >= -(2n ** 63n)) {
      b[0] = 0xd3;
      b.writeBigInt64BE(n, 1);
      return void out.push(b);
    }
  }
  throw new Error(`MessagePack cannot carry the integer ${n}`);
}

function mpDecode(r: Reader): Value {
  const t = r.u8();
  if (t <= 0x7f) return t;
  if (t >= 0xe0) return t - 0x100;
  if ((t & 0xf0) === 0x80) return mpMap(r, t & 0x0f);
  if ((t & 0xf0) === 0x90) return mpArray(r, t & 0x0f);
  if ((t & 0xe0) === 0xa0) return r.take(t & 0x1f).toString('utf8');
  const u = (n: number) => r.take(n).readUIntBE(0, n);
  switch (t) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
    case 0xc5:
    case 0xc6:
      return Buffer.from(r.take(u(1 << (t - 0xc4))));
    case 0xca:
      return new Float(r.take(4).readFloatBE(0));
    case 0xcb:
      return new Float(r.take(8).readDoubleBE(0));
    case 0xcc:
    case 0xcd:
    case 0xce:
      return u(1 << (t - 0xcc));
    case 0xcf:
      return integer(r.take(8).readBigUInt64BE(0));
    case 0xd0:
    case 0xd1:
    case 0xd2: {
      const n = 1 << (t - 0xd0);
      return r.take(n).readIntBE(0, n);
    }
    case 0xd3:
      return integer(r.take(8).readBigInt64BE(0));
    case 0xd9:
    case 0xda:
    case 0xdb:
      return r.take(u(1 << (t - 0xd9))).toString('utf8');
    case 0xdc:
      return mpArray(r, u(2));
    case 0xdd:
      return mpArray(r, u(4));
    case 0xde:
      return mpMap(r, u(2));
    case 0xdf:
      return mpMap(r, u(4));
    default:
      throw new Error(`unexpected MessagePack type byte 0x${t.toString(16)} at ${r.i - 1}`);
  }
}

function mpArray(r: Reader, n: number): Value[] {
  return Array.from({ length: n }, () => mpDecode(r));
}

function mpMap(r: Reader, n: number): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (let i = 0; i < n; i++) {
    const key = mpDecode(r);
    if (typeof key !== 'string') throw new Error(`a MessagePack map key that is not a string: ${String(key)}`);
    setKey(out, key, mpDecode(r));
  }
  return out;
}

// --- CBOR (RFC 8949)

function cbHead(major: number, n: bigint | number): Buffer {
  const v = BigInt(n);
  const m = major << 5;
  if (v < 24n) return Buffer.of(m | Number(v));
  if (v < 0x100n) return Buffer.of(m | 24, Number(v));
  if (v < 0x10000n) return Buffer.of(m | 25, Number(v >> 8n), Number(v & 0xffn));
  const b = Buffer.alloc(9);
  if (v < 0x100000000n) {
    b[0] = m | 26;
    b.writeUInt32BE(Number(v), 1);
    return b.subarray(0, 5);
  }
  b[0] = m | 27;
  b.writeBigUInt64BE(v, 1);
  return b;
}

function cbEncode(v: Value, out: Buffer[]): void {
  const f = floatOf(v);
  if (v === null) out.push(Buffer.of(0xf6));
  else if (v === false || v === true) out.push(Buffer.of(v ? 0xf5 : 0xf4));
  else if (f !== undefined) {
    const b = Buffer.alloc(9);
    b[0] = 0xfb;
    b.writeDoubleBE(f, 1);
    out.push(b);
  } else if (typeof v === 'number' || typeof v === 'bigint') {
    const n = BigInt(v);
    const magnitude = n >= 0n ? n : -1n - n;
    if (magnitude < TWO_64) out.push(cbHead(n >= 0n ? 0 : 1, magnitude));
    else {
      // bignum: tag 2 (unsigned) or 3 (negative, -1 - n) with the big-endian bytes
      const bytes = bigEndian(magnitude);
      out.push(Buffer.of(n >= 0n ? 0xc2 : 0xc3), cbHead(2, bytes.length), bytes);
    }
  } else if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    out.push(cbHead(3, s.length), s);
  } else if (Buffer.isBuffer(v)) out.push(cbHead(2, v.length), v);
  else if (Array.isArray(v)) {
    out.push(cbHead(4, v.length));
    for (const item of v) cbEncode(item, out);
  } else {
    const entries = Object.entries(v as Record<string, Value>);
    out.push(cbHead(5, entries.length));
    for (const [key, item] of entries) {
      cbEncode(key, out);
      cbEncode(item, out);
    }
  }
}

function halfFloat(h: number): number {
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function cbDecode(r: Reader): Value {
  const initial = r.u8();
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (major === 7) {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info === 25) return new Float(halfFloat(r.take(2).readUInt16BE(0)));
    if (info === 26) return new Float(r.take(4).readFloatBE(0));
    if (info === 27) return new Float(r.take(8).readDoubleBE(0));
    throw new Error(`unexpected CBOR simple value ${info} at ${r.i - 1}`);
  }
  let arg: bigint;
  if (info < 24) arg = BigInt(info);
  else if (info <= 27) {
    const n = 1 << (info - 24);
    const b = r.take(n);
    arg = n === 8 ? b.readBigUInt64BE(0) : BigInt(b.readUIntBE(0, n));
  } else throw new Error(`unexpected CBOR additional information ${info} (major ${major}) at ${r.i - 1}`);
  const length = () => {
    if (arg > BigInt(r.b.length)) throw new Error(`CBOR length ${arg} past the message`);
    return Number(arg);
  };
  switch (major) {
    case 0:
      return integer(arg);
    case 1:
      return integer(-1n - arg);
    case 2:
      return Buffer.from(r.take(length()));
    case 3:
      return r.take(length()).toString('utf8');
    case 4:
      return Array.from({ length: length() }, () => cbDecode(r));
    case 5: {
      const out: Record<string, Value> = {};
      for (let i = length(); i > 0; i--) {
        const key = cbDecode(r);
        if (typeof key !== 'string') throw new Error(`a CBOR map key that is not a string: ${String(key)}`);
        setKey(out, key, cbDecode(r));
      }
      return out;
    }
    default: {
      // major 6: a tag; only the bignums (2, 3) are WAMP data
      const content = cbDecode(r);
      if ((arg === 2n || arg === 3n) && Buffer.isBuffer(content)) {
        const magnitude = content.length ? BigInt(`0x${content.toString('hex')}`) : 0n;
        return integer(arg === 2n ? magnitude : -1n - magnitude);
      }
      throw new Error(`unexpected CBOR tag ${arg}`);
    }
  }
}

// --- JSON (RFC 8259; WAMP: binary as a string of "\u0000" + base64)

function floatText(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`JSON cannot carry ${x}`);
  if (Object.is(x, -0)) return '-0.0';
  const s = String(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

function jsonEncode(v: Value): string {
  const f = floatOf(v);
  if (v === null || v === true || v === false) return String(v);
  if (f !== undefined) return floatText(f);
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Buffer.isBuffer(v)) return JSON.stringify(`\u0000${v.toString('base64')}`);
  if (Array.isArray(v)) return `[${v.map(jsonEncode).join(',')}]`;
  return `{${Object.entries(v as Record<string, Value>)
    .map(([key, item]) => `${JSON.stringify(key)}:${jsonEncode(item)}`)
    .join(',')}}`;
}

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
// raw control characters are left to JSON.parse, which refuses them
const JSON_STRING = /"(?:[^"\\]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

function jsonDecode(text: string): Value {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${i} of ${JSON.stringify(text.slice(0, 200))}`);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const match = (re: RegExp) => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return undefined;
    i += m[0].length;
    return m;
  };
  const string = (): string => {
    const m = match(JSON_STRING);
    return m ? (JSON.parse(m[0]) as string) : fail('expected a string');
  };
  const value = (): Value => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, Value> = {};
      space();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        space();
        const key = string();
        space();
        if (text[i++] !== ':') fail('expected ":"');
        setKey(out, key, value());
        space();
        const next = text[i++];
        if (next === '}') return out;
        if (next !== ',') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const out: Value[] = [];
      space();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        space();
        const next = text[i++];
        if (next === ']') return out;
        if (next !== ',') fail('expected "," or "]"');
      }
    }
    if (c === '"') {
      const s = string();
      return s.startsWith('\u0000') ? Buffer.from(s.slice(1), 'base64') : s;
    }
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    const m = match(JSON_NUMBER);
    if (!m) return fail('unexpected character');
    // a fraction or an exponent makes a float (as Python's json reads it); digits alone an integer of any size
    return m[1] !== undefined || m[2] !== undefined ? new Float(Number(m[0])) : integer(BigInt(m[0]));
  };
  const out = value();
  space();
  if (i !== text.length) fail('text after the message');
  return out;
}

function encode(format: Format, message: Message): Buffer {
  if (format === 'json') return Buffer.from(jsonEncode(message), 'utf8');
  const out: Buffer[] = [];
  (format === 'msgpack' ? mpEncode : cbEncode)(message, out);
  return Buffer.concat(out);
}

function decode(format: Format, data: Buffer): Value {
  if (format === 'json') return jsonDecode(data.toString('utf8'));
  const r = new Reader(data);
  const out = format === 'msgpack' ? mpDecode(r) : cbDecode(r);
  r.end(format);
  return out;
}

// ---------------------------------------------------------------------------
// a raw client: WebSocket or RawSocket, these codecs, every wait bounded
// ---------------------------------------------------------------------------

const ROLES = {
  caller: { features: { payload_passthru_mode: true, payload_transparency: true, payload_encryption_cryptobox: true } },
  callee: { features: { payload_passthru_mode: true, payload_transparency: true, payload_encryption_cryptobox: true } },
  publisher: { features: { payload_passthru_mode: true, payload_transparency: true, payload_encryption_cryptobox: true } },
  subscriber: { features: { payload_passthru_mode: true, payload_transparency: true, payload_encryption_cryptobox: true } },
};

class Peer {
  private readonly inbox: Message[] = [];
  private wake: (() => void) | undefined;
  private problem: Error | undefined;
  private gone = false;
  readonly closed: Promise<void>;
  private markClosed!: () => void;
  welcome: Message = [];

  private constructor(
    readonly name: string,
    readonly format: Format,
    private readonly ws: WebSocket | undefined,
    private readonly socket: Socket | undefined,
  ) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  static async open(endpoint: Endpoint, format: Format): Promise<Peer> {
    const name = `${endpoint.name}/${format}`;
    if (endpoint.kind === 'websocket') {
      const ws = new WebSocket(endpoint.url, [`wamp.2.${format}`]);
      const peer = new Peer(name, format, ws, undefined);
      ws.on('message', (data: Buffer) => peer.received(data));
      ws.on('close', () => peer.close());
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', (err) => reject(new Error(`${name}: ${err.message}`)));
      });
      ws.on('error', () => {});
      return peer;
    }
    if (!('port' in endpoint)) throw new Error('TCP RawSocket endpoints only');
    const socket = netConnect({ host: '127.0.0.1', port: endpoint.port });
    socket.setNoDelay(true);
    socket.on('error', () => {});
    const peer = new Peer(name, format, undefined, socket);
    let pending = Buffer.alloc(0);
    let shook = false;
    const handshake = new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        if (!shook) {
          if (pending.length < 4) return;
          if (pending[0] !== 0x7f || (pending[1] & 0x0f) !== RAWSOCKET_ID[format])
            return reject(new Error(`${name}: RawSocket handshake refused: ${pending.subarray(0, 4).toString('hex')}`));
          shook = true;
          pending = pending.subarray(4);
          resolve();
        }
        // frames: RRRR XTTT + 24-bit length (X: 2^24 exactly)
        while (pending.length >= 4) {
          const length = (pending[0] & 0x08 ? 0x1000000 : 0) + pending.readUIntBE(1, 3);
          if (pending.length < 4 + length) break;
          const type = pending[0] & 0x07;
          const payload = pending.subarray(4, 4 + length);
          pending = pending.subarray(4 + length);
          if (type === 0) peer.received(payload);
          else if (type === 1) socket.write(Buffer.concat([Buffer.of(2, length >> 16, (length >> 8) & 0xff, length & 0xff), payload]));
        }
      });
      socket.once('close', () => {
        peer.close();
        reject(new Error(`${name}: closed during the RawSocket handshake`));
      });
    });
    handshake.catch(() => {}); // awaited below, once connected
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', (err) => reject(new Error(`${name}: ${err.message}`)));
    });
    socket.write(Buffer.of(0x7f, 0xf0 | RAWSOCKET_ID[format], 0, 0));
    await handshake;
    return peer;
  }

  /** Opens a connection and joins realm1 announcing every payload passthru feature; the WELCOME is kept. */
  static async join(endpoint: Endpoint, format: Format): Promise<Peer> {
    const peer = await Peer.open(endpoint, format);
    peers.push(peer);
    peer.send([HELLO, 'realm1', { roles: ROLES }]);
    peer.welcome = await peer.next();
    assert.equal(peer.welcome[0], WELCOME, `${peer.name}: expected WELCOME, got ${show(peer.welcome)}`);
    return peer;
  }

  private received(data: Buffer): void {
    let message: Value;
    try {
      message = decode(this.format, data);
    } catch (err) {
      this.problem = new Error(
        `${this.name}: the router sent an undecodable ${this.format} message (${(err as Error).message}): ${data.toString('hex')}`,
      );
      this.wake?.();
      return;
    }
    if (!Array.isArray(message)) this.problem = new Error(`${this.name}: the router sent a non-array: ${show(message)}`);
    else this.inbox.push(message);
    this.wake?.();
  }

  private close(): void {
    this.gone = true;
    this.markClosed();
    this.wake?.();
  }

  send(message: Message): void {
    this.sendBytes(encode(this.format, message));
  }

  /** One WebSocket message (text for JSON) or one RawSocket frame, as given. */
  sendBytes(payload: Buffer): void {
    if (this.ws) this.ws.send(this.format === 'json' ? payload.toString('utf8') : payload, { binary: this.format !== 'json' });
    else
      this.socket!.write(Buffer.concat([Buffer.of(0, payload.length >> 16, (payload.length >> 8) & 0xff, payload.length & 0xff), payload]));
  }

  /** Whether `next` would return or throw at once: a message is queued, the router sent garbage, or the connection is gone. */
  get settled(): boolean {
    return this.inbox.length > 0 || this.problem !== undefined || this.gone;
  }

  async next(ms = 3000): Promise<Message> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.problem) throw this.problem;
      const message = this.inbox.shift();
      if (message) return message;
      if (this.gone) throw new Error(`${this.name}: the connection closed with no further message`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no message within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async closesWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
    clearTimeout(timer);
    return closed;
  }

  destroy(): void {
    if (this.ws) this.ws.terminate();
    else this.socket!.destroy();
  }
}

/**
 * The next message for `receiver`, failing at once (not after the timeout) if
 * one of `others` gets a message or loses its connection first: an ABORT to the
 * sender then shows as the reason the receiver got nothing.
 */
async function receive(receiver: Peer, others: Peer[], ms = 3000): Promise<Message> {
  const deadline = Date.now() + ms;
  while (!receiver.settled && Date.now() < deadline) {
    for (const other of others) {
      if (!other.settled) continue;
      let got: string;
      try {
        got = show(await other.next(0));
      } catch (err) {
        got = (err as Error).message;
      }
      throw new Error(`${receiver.name} got nothing, while ${other.name} got ${got}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return receiver.next(0);
}

/** Every peer opened, to close at the end. */
const peers: Peer[] = [];

/** JSON for failure messages, with bigints, Floats and Buffers readable. */
function show(v: unknown): string {
  return JSON.stringify(v, (_key, x) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (x instanceof Float) return `float(${Object.is(x.value, -0) ? '-0' : x.value})`;
    if (x && typeof x === 'object' && (x as { type?: unknown }).type === 'Buffer' && Array.isArray((x as { data?: unknown }).data))
      return `bytes(${Buffer.from((x as { data: number[] }).data).toString('hex')})`;
    return x;
  });
}

// ---------------------------------------------------------------------------
// the tests
// ---------------------------------------------------------------------------

let router: RouterProcess;
let ws: Endpoint;
let rs: Endpoint;

before(async () => {
  router = await RouterProcess.start();
  ws = router.endpoints.ws;
  rs = router.endpoints.rs;
});

after(async () => {
  for (const peer of peers) peer.destroy();
  await router?.close();
});

let uriCounter = 0;
const uri = (name: string) => `com.example.passthru.${name}.${++uriCounter}`;

/** Payload bytes: every byte value, some that look like MessagePack/CBOR/JSON heads, over 255 bytes (8- and 16-bit lengths). */
const CIPHERTEXT = Buffer.concat([
  Buffer.from([0x00, 0xff, 0xc0, 0xc1, 0x93, 0x9f, 0xa0, 0xf6, 0xfb, 0x22, 0x5b, 0x7b, 0x5c, 0x00]),
  Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff)),
]);
const OTHER_CIPHERTEXT = Buffer.from('8f0011223344556677889900aabbccddeeff', 'hex');
const ERROR_CIPHERTEXT = Buffer.from('00000000ffffffff', 'hex');

const PPT = { ppt_scheme: 'x_custom', ppt_serializer: 'cbor', ppt_cipher: 'xsalsa20poly1305', ppt_keyid: 'key1' };
const PPT_YIELD = { ...PPT, ppt_keyid: 'key2' };
const PPT_ERROR = { ...PPT, ppt_keyid: 'key3' };
const ENC = { enc_algo: 'cryptobox', enc_key: 'OTg3NjU0MzIxMA==', enc_serializer: 'json' };

/** The entries of a Details dict whose keys start with one of the prefixes. */
function picked(details: Value, ...prefixes: string[]): Record<string, Value> {
  assert.ok(
    details && typeof details === 'object' && !Array.isArray(details) && !Buffer.isBuffer(details),
    `Details must be a dict, got ${show(details)}`,
  );
  return Object.fromEntries(Object.entries(details as Record<string, Value>).filter(([key]) => prefixes.some((p) => key.startsWith(p))));
}

function assertMessage(got: Message, want: { type: number; what: string; length: number }): void {
  assert.equal(got[0], want.type, `${want.what}: expected message type ${want.type}, got ${show(got)}`);
  assert.equal(got.length, want.length, `${want.what}: expected ${want.length} elements, got ${show(got)}`);
}

/** A callee and a caller, with `procedure` registered; returns both and the registration ID. */
async function rpcPair(callerAt: Endpoint, callerFormat: Format, calleeAt: Endpoint, calleeFormat: Format, procedure: string) {
  const callee = await Peer.join(calleeAt, calleeFormat);
  callee.send([REGISTER, 1, {}, procedure]);
  const registered = await callee.next();
  assert.equal(registered[0], REGISTERED, `REGISTER: ${show(registered)}`);
  const caller = await Peer.join(callerAt, callerFormat);
  return { caller, callee, registration: registered[2] };
}

/** A subscriber and a publisher, with the subscriber on `topic`; returns both and the subscription ID. */
async function pubSubPair(publisherAt: Endpoint, publisherFormat: Format, subscriberAt: Endpoint, subscriberFormat: Format, topic: string) {
  const subscriber = await Peer.join(subscriberAt, subscriberFormat);
  subscriber.send([SUBSCRIBE, 1, {}, topic]);
  const subscribed = await subscriber.next();
  assert.equal(subscribed[0], SUBSCRIBED, `SUBSCRIBE: ${show(subscribed)}`);
  const publisher = await Peer.join(publisherAt, publisherFormat);
  return { publisher, subscriber, subscription: subscribed[2] };
}

/** Compares [Arguments, ArgumentsKw] element by element; fails with one line per element that differs. */
function assertPayload(what: string, got: Value[], want: [Value[], Record<string, Value>]): void {
  assert.equal(got.length, 2, `${what}: expected Arguments and ArgumentsKw, got ${show(got)}`);
  const [args, kwargs] = got as [Value[], Record<string, Value>];
  assert.ok(Array.isArray(args) && kwargs && typeof kwargs === 'object', `${what}: ${show(got)}`);
  const wrong: string[] = [];
  const compare = (where: string, a: Value, b: Value) => {
    try {
      assert.deepStrictEqual(a, b);
    } catch {
      wrong.push(`  ${where}: want ${show(b)}, got ${show(a)}`);
    }
  };
  for (const [i, v] of want[0].entries()) compare(`Arguments[${i}]`, args[i], v);
  if (args.length !== want[0].length) wrong.push(`  Arguments: ${args.length} elements, want ${want[0].length}`);
  for (const key of new Set([...Object.keys(want[1]), ...Object.keys(kwargs)])) compare(`ArgumentsKw.${key}`, kwargs[key], want[1][key]);
  if (wrong.length) assert.fail(`${what}: not delivered exactly:\n${wrong.join('\n')}`);
}

const PAIRS = FORMATS.flatMap((from) => FORMATS.map((to) => [from, to] as const));

describe('the codecs of this file (a harness check)', () => {
  it('write the bytes the specs give', () => {
    const hex = (format: Format, v: Value) => encode(format, [v]).toString('hex');
    assert.equal(hex('msgpack', 2n ** 64n - 1n), '91cfffffffffffffffff');
    assert.equal(hex('msgpack', -(2n ** 63n)), '91d38000000000000000');
    assert.equal(hex('msgpack', new Float(2)), '91cb4000000000000000');
    assert.equal(hex('msgpack', new Float(-0)), '91cb8000000000000000');
    assert.equal(hex('msgpack', Buffer.of(0, 0xff)), '91c40200ff');
    assert.equal(hex('cbor', 2n ** 64n - 1n), '811bffffffffffffffff');
    assert.equal(hex('cbor', -(2n ** 64n)), '813bffffffffffffffff');
    assert.equal(hex('cbor', 2n ** 70n), '81c249400000000000000000');
    assert.equal(hex('cbor', -(2n ** 64n) - 1n), '81c349010000000000000000');
    assert.equal(hex('cbor', new Float(-0)), '81fb8000000000000000');
    assert.equal(
      encode('json', [2n ** 64n - 1n, new Float(2), new Float(-0), new Float(1e300), Buffer.of(0, 0xff)]).toString(),
      '[18446744073709551615,2.0,-0.0,1e+300,"\\u0000AP8="]',
    );
  });

  it('read back what they write, floats as floats and integers past 2^53 as bigints', () => {
    const v: Message = [
      2n ** 53n + 1n,
      -(2n ** 63n),
      2n ** 64n - 1n,
      new Float(2),
      new Float(-0),
      new Float(0.1),
      Buffer.of(0, 0xff),
      '\u{1d11e}',
      [[]],
      [{}],
      { a: [] },
    ];
    for (const format of FORMATS) assert.deepStrictEqual(decode(format, encode(format, v)), v, format);
    assert.deepStrictEqual(decode('cbor', encode('cbor', [2n ** 70n, -(2n ** 64n) - 1n])), [2n ** 70n, -(2n ** 64n) - 1n]);
    assert.deepStrictEqual(decode('json', Buffer.from('[1e0, 1.0, 1, -0, 12345678901234567890123]')), [
      new Float(1),
      new Float(1),
      1,
      0,
      12345678901234567890123n,
    ]);
  });
});

describe('WELCOME announces payload passthru for the dealer and the broker', () => {
  for (const [endpoint, format] of [
    ['ws', 'json'],
    ['rs', 'msgpack'],
    ['ws', 'cbor'],
  ] as const) {
    it(`over ${endpoint} with ${format}`, async () => {
      const peer = await Peer.join(endpoint === 'ws' ? ws : rs, format);
      const roles = (peer.welcome[2] as { roles?: Record<string, { features?: Record<string, Value> }> }).roles ?? {};
      for (const role of ['dealer', 'broker']) {
        const features = roles[role]?.features ?? {};
        assert.deepEqual(
          picked(features, 'payload_'),
          { payload_passthru_mode: true, payload_transparency: true, payload_encryption_cryptobox: true },
          `WELCOME.Details.roles.${role}.features: ${show(features)}`,
        );
      }
      peer.destroy();
    });
  }
});

describe('Payload PassThru Mode (ppt_* options, Arguments [<binary>])', () => {
  for (const [callerFormat, calleeFormat] of PAIRS) {
    it(`RPC: ${callerFormat} caller over WebSocket → ${calleeFormat} callee over RawSocket: INVOCATION, RESULT and ERROR keep the ppt_* keys and the bytes`, async () => {
      const procedure = uri('ppt');
      const { caller, callee, registration } = await rpcPair(ws, callerFormat, rs, calleeFormat, procedure);

      caller.send([CALL, 7, PPT, procedure, [CIPHERTEXT]]);
      const invocation = await receive(callee, [caller]);
      assertMessage(invocation, { type: INVOCATION, what: 'INVOCATION', length: 5 });
      assert.equal(invocation[2], registration);
      assert.deepStrictEqual(picked(invocation[3], 'ppt_'), PPT, 'INVOCATION.Details');
      assert.deepStrictEqual(invocation[4], [CIPHERTEXT], 'INVOCATION.Arguments');

      callee.send([YIELD, invocation[1], PPT_YIELD, [OTHER_CIPHERTEXT]]);
      const result = await receive(caller, [callee]);
      assertMessage(result, { type: RESULT, what: 'RESULT', length: 4 });
      assert.equal(result[1], 7);
      assert.deepStrictEqual(picked(result[2], 'ppt_'), PPT_YIELD, 'RESULT.Details');
      assert.deepStrictEqual(result[3], [OTHER_CIPHERTEXT], 'RESULT.Arguments');

      caller.send([CALL, 8, PPT, procedure, [CIPHERTEXT]]);
      const second = await receive(callee, [caller]);
      assertMessage(second, { type: INVOCATION, what: 'second INVOCATION', length: 5 });
      callee.send([ERROR, INVOCATION, second[1], PPT_ERROR, 'com.example.ppt_failed', [ERROR_CIPHERTEXT]]);
      const error = await receive(caller, [callee]);
      assertMessage(error, { type: ERROR, what: 'ERROR', length: 6 });
      assert.deepStrictEqual([error[1], error[2], error[4]], [CALL, 8, 'com.example.ppt_failed']);
      assert.deepStrictEqual(picked(error[3], 'ppt_'), PPT_ERROR, 'ERROR.Details');
      assert.deepStrictEqual(error[5], [ERROR_CIPHERTEXT], 'ERROR.Arguments');
      caller.destroy();
      callee.destroy();
    });
  }

  for (const [publisherFormat, subscriberFormat] of PAIRS) {
    it(`PubSub: ${publisherFormat} publisher over RawSocket → ${subscriberFormat} subscriber over WebSocket: EVENT keeps the ppt_* keys and the bytes`, async () => {
      const topic = uri('ppt.topic');
      const { publisher, subscriber, subscription } = await pubSubPair(rs, publisherFormat, ws, subscriberFormat, topic);
      publisher.send([PUBLISH, 3, { ...PPT, acknowledge: true }, topic, [CIPHERTEXT]]);
      const published = await publisher.next();
      assert.deepEqual(published.slice(0, 2), [PUBLISHED, 3], `PUBLISHED: ${show(published)}`);
      const event = await receive(subscriber, [publisher]);
      assertMessage(event, { type: EVENT, what: 'EVENT', length: 5 });
      assert.equal(event[1], subscription);
      assert.equal(event[2], published[2], 'EVENT.Publication is the one PUBLISHED named');
      assert.deepStrictEqual(picked(event[3], 'ppt_'), PPT, 'EVENT.Details');
      assert.deepStrictEqual(event[4], [CIPHERTEXT], 'EVENT.Arguments');
      publisher.destroy();
      subscriber.destroy();
    });
  }
});

describe('payload transparency as Autobahn sends it (enc_* options, the binary payload in place of Arguments)', () => {
  for (const [callerFormat, calleeFormat] of PAIRS) {
    it(`RPC: ${callerFormat} caller over RawSocket → ${calleeFormat} callee over WebSocket: INVOCATION, RESULT and ERROR keep the enc_* keys and the bytes`, async () => {
      const procedure = uri('enc');
      const { caller, callee, registration } = await rpcPair(rs, callerFormat, ws, calleeFormat, procedure);

      caller.send([CALL, 7, ENC, procedure, CIPHERTEXT]);
      const invocation = await receive(callee, [caller]);
      assertMessage(invocation, { type: INVOCATION, what: 'INVOCATION', length: 5 });
      assert.equal(invocation[2], registration);
      assert.deepStrictEqual(picked(invocation[3], 'enc_'), ENC, 'INVOCATION.Details');
      assert.deepStrictEqual(invocation[4], CIPHERTEXT, 'INVOCATION payload');

      callee.send([YIELD, invocation[1], ENC, OTHER_CIPHERTEXT]);
      const result = await receive(caller, [callee]);
      assertMessage(result, { type: RESULT, what: 'RESULT', length: 4 });
      assert.equal(result[1], 7);
      assert.deepStrictEqual(picked(result[2], 'enc_'), ENC, 'RESULT.Details');
      assert.deepStrictEqual(result[3], OTHER_CIPHERTEXT, 'RESULT payload');

      caller.send([CALL, 8, ENC, procedure, CIPHERTEXT]);
      const second = await receive(callee, [caller]);
      assertMessage(second, { type: INVOCATION, what: 'second INVOCATION', length: 5 });
      callee.send([ERROR, INVOCATION, second[1], ENC, 'com.example.e2ee_failed', ERROR_CIPHERTEXT]);
      const error = await receive(caller, [callee]);
      assertMessage(error, { type: ERROR, what: 'ERROR', length: 6 });
      assert.deepStrictEqual([error[1], error[2], error[4]], [CALL, 8, 'com.example.e2ee_failed']);
      assert.deepStrictEqual(picked(error[3], 'enc_'), ENC, 'ERROR.Details');
      assert.deepStrictEqual(error[5], ERROR_CIPHERTEXT, 'ERROR payload');
      caller.destroy();
      callee.destroy();
    });
  }

  for (const [publisherFormat, subscriberFormat] of PAIRS) {
    it(`PubSub: ${publisherFormat} publisher over WebSocket → ${subscriberFormat} subscriber over RawSocket: EVENT keeps the enc_* keys and the bytes`, async () => {
      const topic = uri('enc.topic');
      const { publisher, subscriber, subscription } = await pubSubPair(ws, publisherFormat, rs, subscriberFormat, topic);
      publisher.send([PUBLISH, 3, { ...ENC, acknowledge: true }, topic, CIPHERTEXT]);
      const published = await publisher.next();
      assert.deepEqual(published.slice(0, 2), [PUBLISHED, 3], `PUBLISHED: ${show(published)}`);
      const event = await receive(subscriber, [publisher]);
      assertMessage(event, { type: EVENT, what: 'EVENT', length: 5 });
      assert.equal(event[1], subscription);
      assert.deepStrictEqual(picked(event[3], 'enc_'), ENC, 'EVENT.Details');
      assert.deepStrictEqual(event[4], CIPHERTEXT, 'EVENT payload');
      publisher.destroy();
      subscriber.destroy();
    });
  }

  it('a CALL in this form to a procedure nobody registered is answered no_such_procedure, and the session stays', async () => {
    const caller = await Peer.join(ws, 'msgpack');
    caller.send([CALL, 5, ENC, uri('nobody'), CIPHERTEXT]);
    const reply = await caller.next();
    assert.deepEqual(reply.slice(0, 5), [ERROR, CALL, 5, {}, 'wamp.error.no_such_procedure'], show(reply));
    caller.send([CALL, 6, {}, uri('nobody'), []]);
    assert.deepEqual((await caller.next()).slice(0, 3), [ERROR, CALL, 6], 'the session still answers');
    caller.destroy();
  });
});

describe('without passthru options, an Arguments element that is not a list is a protocol violation', () => {
  const cases: [string, (peer: Peer, procedure: string) => Promise<void>][] = [
    ['CALL with binary Arguments', async (peer, procedure) => peer.send([CALL, 1, {}, procedure, CIPHERTEXT])],
    ['CALL with string Arguments', async (peer, procedure) => peer.send([CALL, 1, {}, procedure, 'not a list'])],
    ['PUBLISH with binary Arguments', async (peer, procedure) => peer.send([PUBLISH, 1, { acknowledge: true }, procedure, CIPHERTEXT])],
    [
      'YIELD with binary Arguments',
      async (peer, procedure) => {
        // the peer is the callee of its own call
        peer.send([REGISTER, 1, {}, procedure]);
        assert.equal((await peer.next())[0], REGISTERED);
        peer.send([CALL, 2, {}, procedure, []]);
        const invocation = await peer.next();
        assert.equal(invocation[0], INVOCATION);
        peer.send([YIELD, invocation[1], {}, CIPHERTEXT]);
      },
    ],
    [
      'callee ERROR with binary Arguments',
      async (peer, procedure) => {
        peer.send([REGISTER, 1, {}, procedure]);
        assert.equal((await peer.next())[0], REGISTERED);
        peer.send([CALL, 2, {}, procedure, []]);
        const invocation = await peer.next();
        assert.equal(invocation[0], INVOCATION);
        peer.send([ERROR, INVOCATION, invocation[1], {}, 'com.example.failed', CIPHERTEXT]);
      },
    ],
  ];
  for (const [endpointName, format] of [
    ['ws', 'json'],
    ['rs', 'cbor'],
  ] as const) {
    for (const [what, act] of cases) {
      it(`${what} over ${endpointName} with ${format}: ABORT wamp.error.protocol_violation`, async () => {
        const peer = await Peer.join(endpointName === 'ws' ? ws : rs, format);
        await act(peer, uri('violation'));
        let reply = await peer.next();
        // a callee that calls itself (request 2) may first get its own call's ERROR (the callee went away); the ABORT is what counts
        while (reply[0] === ERROR && reply[1] === CALL && reply[2] === 2) reply = await peer.next();
        assert.deepEqual([reply[0], reply[2]], [ABORT, 'wamp.error.protocol_violation'], show(reply));
        assert.ok(await peer.closesWithin(3000), 'the router closes the connection after the ABORT');
      });
    }
  }
});

describe('exact values through the router, every serializer pair (raw bytes both ways)', () => {
  const values: Message = [
    2 ** 53 - 1,
    2n ** 53n + 1n,
    -(2n ** 53n) - 1n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    2n ** 64n - 1n,
    new Float(2),
    new Float(-0),
    new Float(1e300),
    new Float(0.1),
    Buffer.alloc(0),
    Buffer.of(0x00, 0xff),
    '\u{1d11e}',
    '\u00fc',
    '\u2028',
    [],
    {},
    [[]],
    [{}],
    { a: [] },
  ];
  const kwargs = {
    big: 2n ** 64n - 1n,
    neg: -(2n ** 63n),
    two: new Float(2),
    zero: new Float(-0),
    bin: Buffer.of(0),
    nested: { a: [[]], b: [{}] },
  };

  for (const [callerFormat, calleeFormat] of PAIRS) {
    it(`${callerFormat} caller → ${calleeFormat} callee and back: INVOCATION and RESULT carry every value exactly`, async () => {
      const procedure = uri('exact');
      const { caller, callee } = await rpcPair(ws, callerFormat, rs, calleeFormat, procedure);
      caller.send([CALL, 1, {}, procedure, values, kwargs]);
      const invocation = await receive(callee, [caller]);
      assert.equal(invocation[0], INVOCATION, show(invocation));
      assertPayload('INVOCATION', invocation.slice(4), [values, kwargs]);
      callee.send([YIELD, invocation[1], {}, values, kwargs]);
      const result = await receive(caller, [callee]);
      assert.equal(result[0], RESULT, show(result));
      assertPayload('RESULT', result.slice(3), [values, kwargs]);
      caller.destroy();
      callee.destroy();
    });
  }
});

describe('the router process', () => {
  it('recorded no uncaught exception', async () => {
    await router.ping();
    assert.deepEqual(router.faults, []);
  });
});
