/**
 * RawSocket transport (WAMP: basic/transport_rawsocket): WAMP over any
 * stream socket — TCP, TLS or a Unix socket — with a 4-byte handshake and a
 * 4-byte header before each frame. All numbers are big-endian.
 *
 * Handshake, client -> router: `0x7F, LLLL SSSS, 0x00, 0x00`: the client
 * accepts messages up to 2^(9+LLLL) bytes and speaks serializer SSSS
 * (1 json, 2 msgpack, 3 cbor). Reply: `0x7F, LLLL SSSS, 0, 0` with our own
 * limit and the serializer echoed, or `0x7F, EEEE 0000, 0, 0` with an error
 * code (`HandshakeError`), after which we close.
 *
 * Frame header: `RRRR XTTT` + 24-bit length (X: the 25th length bit, only for
 * exactly 16 MiB). TTT: 0 WAMP message, 1 PING (answered at once by a PONG
 * with the same payload), 2 PONG. Reserved bits or types, or a frame over our
 * limit, fail the connection (ABORT, then close).
 *
 * Wiring (for the node layer):
 * - `listenRawSocket(router, { host, port } | { path }, options, tls?)`: a
 *   TCP, TLS or Unix-socket listener; resolves with a `Listener`
 *   (`address`, `url` rs:// | rss:// | unix:<path>, `close()`).
 * - `new RawSocketEndpoint(router, options).handleConnection(socket)` for a
 *   socket accepted elsewhere (the universal port does this), or
 *   `attachRawSocket(router, socket, options)` for a one-off socket.
 * Options and their defaults: `RawSocketOptions`, `RAWSOCKET_DEFAULTS`.
 */
import { createServer as createNetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { ErrorUri } from '../wamp/uris.ts';
import type { Router } from '../core/router.ts';
import type { TransportAuth } from '../core/authentication.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { serializerByRawSocketId, serializers as allSerializers, type Serializer } from '../serializers/index.ts';
import { OWN_PIECE_FROM, Pieces, joined, type Encoded } from '../serializers/serializer.ts';
import { Connection, type CloseKind, type MessageEncoder, type Wire } from './connection.ts';
import { encodeCacheFor, type EncodeCache } from './encode-cache.ts';
import { Heartbeat } from './heartbeat.ts';
import { bind, closeServer, stopAccepting, hostPort, trackConnections, type ListenAddress, type Listener } from './listen.ts';
import { corkUntilTickEnd } from './tick-cork.ts';
import { channelIds, secureContextOptions, type TlsOptions } from './tls.ts';

export interface RawSocketOptions {
  /** Serializers accepted (default: json, msgpack, cbor). */
  serializers?: readonly Serializer[];
  /**
   * Largest message accepted from a client, in bytes (default 1 MiB). RawSocket
   * can only announce powers of two from 512 B to 16 MiB, so this is rounded
   * down to one; that announced size is the limit enforced.
   */
  maxMessageSize?: number;
  /**
   * A client that accepts less than this (its handshake's LLLL) is refused
   * with error 2, "maximum message length unacceptable" (default 1024: a
   * WELCOME alone is ~800 bytes, so a 512-byte client could never join).
   */
  minClientMaxMessageSize?: number;
  /** Bytes that may wait in a connection's send buffer before the client is cut off as too slow (default 8 MiB). */
  maxSendBuffer?: number;
  /** ms for the client's 4 handshake bytes to arrive; then the socket is closed (default 10 000). */
  handshakeTimeout?: number;
  /** Open connections per endpoint; one more is refused with error 4 (default 0: no limit). */
  maxConnections?: number;
  /**
   * ms between PING frames to each client (default 0: off). Off by default
   * because RawSocket clients are uneven: Autobahn|Python's Twisted flavour
   * cannot parse a PING and its asyncio flavour fails on one; Autobahn|JS answers.
   */
  autoPingInterval?: number;
  /** ms a client has to answer a PING before it is dropped and its session cleaned up (default 5 000). */
  autoPingTimeout?: number;
  /** Authentication methods offered on this transport (default: the core's anonymous only). */
  auth?: TransportAuth;
  logger?: Logger;
}

export const RAWSOCKET_DEFAULTS = {
  serializers: allSerializers,
  maxMessageSize: 1024 * 1024,
  minClientMaxMessageSize: 1024,
  maxSendBuffer: 8 * 1024 * 1024,
  handshakeTimeout: 10_000,
  maxConnections: 0,
  autoPingInterval: 0,
  autoPingTimeout: 5_000,
} as const;

/** The first byte of every RawSocket handshake; no HTTP request starts with it. */
export const RAWSOCKET_MAGIC = 0x7f;

/** Handshake error codes (the reply's upper nibble). */
export const HandshakeError = {
  SERIALIZER_UNSUPPORTED: 1,
  MAX_LENGTH_UNACCEPTABLE: 2,
  RESERVED_BITS: 3,
  MAX_CONNECTIONS: 4,
} as const;

export const FrameType = { MESSAGE: 0, PING: 1, PONG: 2 } as const;

/** Largest frame RawSocket can express: 2^24 bytes (with the X bit). */
const MAX_FRAME = 0x1000000;
/** How long a closing socket waits for the client to close its side before it is dropped. */
const LINGER_MS = 2000;

/** The length exponent LLLL for a size limit: the largest 2^(9+LLLL) not over it, within 0..15. */
export function lengthExponent(maxMessageSize: number): number {
  const exp = Math.floor(Math.log2(Math.max(1, maxMessageSize))) - 9;
  return Math.min(15, Math.max(0, exp));
}

/** A frame's 4-byte header, written at the start of `out`. */
function writeFrameHeader(out: Buffer, type: number, length: number): void {
  if (length > MAX_FRAME) throw new RangeError(`a RawSocket frame carries at most ${MAX_FRAME} bytes, not ${length}`);
  if (length === MAX_FRAME) out.writeUInt32BE(0x08000000 | (type << 24), 0);
  else out.writeUInt32BE(((type & 0x07) << 24) | length, 0);
}

/** A frame: 4-byte header + payload. */
export function frame(type: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  writeFrameHeader(out, type, payload.length);
  payload.copy(out, 4);
  return out;
}

/** A message frame; a large message stays in pieces after its header (see Pieces). */
function messageFrame(message: Encoded): Buffer | Pieces {
  if (typeof message === 'string') return frame(FrameType.MESSAGE, Buffer.from(message, 'utf8'));
  if (message.length < OWN_PIECE_FROM) return frame(FrameType.MESSAGE, joined(message) as Buffer);
  const header = Buffer.allocUnsafe(4);
  writeFrameHeader(header, FrameType.MESSAGE, message.length);
  return new Pieces(message instanceof Pieces ? [header, ...message.parts] : [header, message]);
}

/**
 * Encoding to whole message frames, remembering the last message: with the
 * shared per-serializer payload cache underneath, a fanned-out EVENT is
 * encoded and framed once per serializer.
 */
class FrameEncoder implements MessageEncoder {
  private lastMessage: unknown[] | undefined;
  private lastFrame: Buffer | Pieces = Buffer.alloc(0);

  constructor(private readonly payloads: EncodeCache) {}

  encode(message: unknown[]): Buffer | Pieces {
    if (message !== this.lastMessage) {
      this.lastFrame = messageFrame(this.payloads.encode(message));
      this.lastMessage = message;
    }
    return this.lastFrame;
  }
}

const frameEncoders = new Map<Serializer, FrameEncoder>();

function frameEncoderFor(serializer: Serializer): FrameEncoder {
  let encoder = frameEncoders.get(serializer);
  if (!encoder) frameEncoders.set(serializer, (encoder = new FrameEncoder(encodeCacheFor(serializer))));
  return encoder;
}

const framePayloadSize = (data: Encoded) => data.length - 4;

type Settings = Required<Omit<RawSocketOptions, 'auth' | 'logger'>> & Pick<RawSocketOptions, 'auth'> & { logger: Logger };

/** Accepts RawSocket connections for one router with one set of options. */
export class RawSocketEndpoint {
  /** The limit we announce and enforce: `maxMessageSize` rounded down to a power of two. */
  readonly maxMessageSize: number;
  /** Our LLLL in the handshake reply. */
  readonly lengthExponent: number;
  /** @internal */
  readonly settings: Settings;
  /** Sockets handed to this endpoint and not closed yet. */
  private readonly sockets = new Set<Socket>();
  /** Connections past their handshake (what `maxConnections` limits). @internal */
  open = 0;

  constructor(
    readonly router: Router,
    options: RawSocketOptions = {},
  ) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.settings = { ...RAWSOCKET_DEFAULTS, logger: silentLogger, ...defined } as Settings;
    this.lengthExponent = lengthExponent(this.settings.maxMessageSize);
    this.maxMessageSize = 2 ** (9 + this.lengthExponent);
  }

  /** Takes over an accepted (or TLS-established) socket; data already read and unshifted is handled too. */
  handleConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    new RawSocketConnection(this, socket);
  }

  /** Connections open or still in their handshake. */
  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Drops every connection (their sessions leave the router). */
  close(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

/** Attaches one socket to the router as a RawSocket connection (no connection limit applies). */
export function attachRawSocket(router: Router, socket: Socket, options: RawSocketOptions = {}): void {
  new RawSocketEndpoint(router, options).handleConnection(socket);
}

/**
 * Listens for RawSocket clients on TCP (`{ host, port }`, host default
 * 127.0.0.1, port 0: a free one) or a Unix socket (`{ path }`; a stale socket
 * file is removed first), over TLS when `tls` is given.
 */
export async function listenRawSocket(
  router: Router,
  address: ListenAddress,
  options: RawSocketOptions = {},
  tls?: TlsOptions,
): Promise<Listener> {
  const endpoint = new RawSocketEndpoint(router, options);
  const log = endpoint.settings.logger;
  const onSocket = (socket: Socket) => endpoint.handleConnection(socket);
  const server = tls
    ? createTlsServer({ ...secureContextOptions(tls), handshakeTimeout: endpoint.settings.handshakeTimeout }, onSocket)
    : createNetServer(onSocket);
  if (tls) server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'rawsocket: TLS handshake failed'));
  const sockets = trackConnections(server);
  const bound = await bind(server, address);
  server.on('error', (err) => log.warn({ err: err.message }, 'rawsocket: listener error'));
  const url = 'path' in bound ? `unix:${bound.path}` : `${tls ? 'rss' : 'rs'}://${hostPort(bound)}`;
  return {
    address: bound,
    url,
    server: server,
    stopAccepting: () => stopAccepting(server),
    close: () => {
      endpoint.close();
      return closeServer(server, sockets);
    },
  };
}

type State = 'handshake' | 'header' | 'payload' | 'closing' | 'closed';

/** One RawSocket connection: handshake, then frames; the `Wire` of its `Connection`. */
class RawSocketConnection implements Wire {
  private state: State = 'handshake';
  /** Received bytes not consumed yet. */
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private frameType = 0;
  private frameLength = 0;
  private connection: Connection | undefined;
  private heartbeat: Heartbeat | undefined;
  /** The handshake deadline, later the linger of a closing socket. */
  private timer: NodeJS.Timeout | undefined;
  private readonly peerName: string;

  constructor(
    private readonly endpoint: RawSocketEndpoint,
    private readonly socket: Socket,
  ) {
    this.peerName = socket.remoteAddress ? `tcp:${socket.remoteAddress}:${socket.remotePort}` : 'unix';
    socket.setNoDelay(true);
    this.timer = setTimeout(() => {
      if (this.state !== 'handshake') return;
      this.log('info', `handshake refused: none within ${endpoint.settings.handshakeTimeout} ms`);
      this.state = 'closed';
      socket.destroy();
    }, endpoint.settings.handshakeTimeout);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.once('close', () => this.onClose());
    // Always followed by 'close'.
    socket.on('error', (err) => this.log('debug', `socket error: ${err.message}`));
    // The universal port paused the socket to look at its first byte.
    socket.resume();
  }

  // --- Wire ---

  get writable(): boolean {
    return (this.state === 'header' || this.state === 'payload') && this.socket.writable;
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  write(data: Encoded): void {
    corkUntilTickEnd(this.socket);
    if (!(data instanceof Pieces)) this.socket.write(data);
    else for (const part of data.parts) this.socket.write(part);
  }

  close(kind: CloseKind, text: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.log('debug', `closing (${kind}): ${text}`);
    if (kind === 'slow-consumer' || kind === 'unresponsive') {
      this.state = 'closed';
      this.socket.destroy();
    } else {
      this.closeGracefully();
    }
  }

  // --- reading ---

  private onData(chunk: Buffer): void {
    if (this.state === 'closing' || this.state === 'closed') return; // read on, so closing sends FIN, not RST
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      const state = this.state;
      if (state === 'payload') {
        if (this.buffered < this.frameLength) return;
        const payload = this.take(this.frameLength);
        this.state = 'header';
        this.onFrame(this.frameType, payload);
      } else if (state === 'header' || state === 'handshake') {
        if (this.buffered < 4) return;
        const head = this.take(4);
        if (state === 'handshake') this.onHandshake(head);
        else this.onHeader(head);
      } else {
        return;
      }
    }
  }

  /** Removes and returns the next `n` buffered bytes (no copy when they lie in one chunk). */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const chunk = this.chunks[0];
      const count = Math.min(chunk.length, n - offset);
      chunk.copy(out, offset, 0, count);
      offset += count;
      if (count === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(count);
    }
    return out;
  }

  private onHandshake(head: Buffer): void {
    const { settings } = this.endpoint;
    if (head[0] !== RAWSOCKET_MAGIC) {
      // Not RawSocket at all: nothing we could say would be understood.
      this.log('info', `handshake refused: not a RawSocket handshake (first byte 0x${head[0].toString(16)})`);
      this.state = 'closed';
      this.socket.destroy();
      return;
    }
    // WAMP: the last two handshake octets are reserved and must be 0.
    if (head[2] !== 0 || head[3] !== 0) return this.refuse(HandshakeError.RESERVED_BITS, 'reserved handshake bits set');
    const serializerId = head[1] & 0x0f;
    const serializer = serializerByRawSocketId(serializerId);
    if (!serializer || !settings.serializers.includes(serializer)) {
      return this.refuse(
        HandshakeError.SERIALIZER_UNSUPPORTED,
        `serializer ${serializerId} not spoken here (speaks ${settings.serializers.map((s) => s.name).join(', ')})`,
      );
    }
    const clientMax = 2 ** (9 + (head[1] >> 4));
    if (clientMax < settings.minClientMaxMessageSize) {
      return this.refuse(
        HandshakeError.MAX_LENGTH_UNACCEPTABLE,
        `client accepts ${clientMax} bytes, less than the ${settings.minClientMaxMessageSize} required`,
      );
    }
    if (settings.maxConnections > 0 && this.endpoint.open >= settings.maxConnections) {
      return this.refuse(HandshakeError.MAX_CONNECTIONS, `${settings.maxConnections} connections open`);
    }
    clearTimeout(this.timer);
    this.endpoint.open++;
    this.socket.write(Buffer.from([RAWSOCKET_MAGIC, (this.endpoint.lengthExponent << 4) | serializerId, 0, 0]));
    this.state = 'header';
    this.connection = new Connection(this.endpoint.router, this, {
      serializer,
      encoder: frameEncoderFor(serializer),
      info: { type: 'rawsocket', serializer: serializer.name, peer: this.peerName, ...channelIds(this.socket) },
      maxSendBuffer: settings.maxSendBuffer,
      auth: settings.auth,
      clientLimit: { bytes: clientMax, payloadSize: framePayloadSize },
    });
    if (settings.autoPingInterval > 0) {
      this.heartbeat = new Heartbeat(
        settings.autoPingInterval,
        settings.autoPingTimeout,
        () => this.writable && this.socket.write(frame(FrameType.PING, Buffer.from(randomBytes(8).toString('hex')))),
        () => this.connection?.fail(ErrorUri.TIMEOUT, `no PONG within ${settings.autoPingTimeout} ms`, 'unresponsive'),
      );
      this.heartbeat.start();
    }
  }

  /** Answers a handshake with an error code, then closes. */
  private refuse(code: number, why: string): void {
    this.log('info', `handshake refused with error ${code}: ${why}`);
    clearTimeout(this.timer);
    this.socket.write(Buffer.from([RAWSOCKET_MAGIC, code << 4, 0, 0]));
    this.closeGracefully();
  }

  private onHeader(head: Buffer): void {
    const connection = this.connection!;
    // WAMP: RRRR must be 0; frame types 3-7 are reserved.
    if (head[0] & 0xf0)
      return connection.fail(ErrorUri.PROTOCOL_VIOLATION, 'reserved bits set in a RawSocket frame header', 'protocol-error');
    const type = head[0] & 0x07;
    if (type > FrameType.PONG)
      return connection.fail(ErrorUri.PROTOCOL_VIOLATION, `reserved RawSocket frame type ${type}`, 'protocol-error');
    const length = (head[0] & 0x08 ? MAX_FRAME : 0) + head.readUIntBE(1, 3);
    if (length > this.endpoint.maxMessageSize) {
      const text = `frame of ${length} bytes over the limit of ${this.endpoint.maxMessageSize} bytes`;
      return connection.fail(ErrorUri.PAYLOAD_SIZE_EXCEEDED, text, 'too-big');
    }
    this.frameType = type;
    this.frameLength = length;
    this.state = 'payload';
  }

  private onFrame(type: number, payload: Buffer): void {
    this.heartbeat?.seen();
    if (type === FrameType.MESSAGE) this.connection!.received(payload);
    // WAMP: a PING is answered at once by exactly one PONG with the same payload.
    // The PONG counts against the send buffer like any message: a client that pings but never reads is cut off.
    else if (type === FrameType.PING) this.connection!.writeControl(frame(FrameType.PONG, payload));
    // A PONG only shows the client is alive.
  }

  // --- closing ---

  /** Ends our side after what was written; the client gets LINGER_MS to close its side. */
  private closeGracefully(): void {
    this.state = 'closing';
    this.heartbeat?.stop();
    clearTimeout(this.timer);
    this.socket.end();
    this.timer = setTimeout(() => this.socket.destroy(), LINGER_MS);
    this.timer.unref();
  }

  private onClose(): void {
    clearTimeout(this.timer);
    this.heartbeat?.stop();
    this.state = 'closed';
    this.chunks.length = 0;
    this.buffered = 0;
    if (this.connection) {
      this.endpoint.open--;
      this.connection.lost();
    }
  }

  private log(level: 'debug' | 'info' | 'warn', message: string): void {
    this.endpoint.settings.logger[level]({ peer: this.peerName }, `rawsocket: ${message}`);
  }
}
