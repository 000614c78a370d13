/**
 * One WAMP client for every listener type, for hostile-input and fuzz tests:
 * WebSocket (ws://, wss://, ws+unix:) and RawSocket (TCP, TLS, Unix socket).
 * It sends messages through Kreuz's serializers or raw payloads exactly as
 * given (one WebSocket message / one RawSocket frame each), and reads the
 * router's messages and the close, every wait bounded.
 *
 * Each TCP connection may come from its own loopback address
 * (`localAddress`, 127.x.y.z): the router throttles HELLOs per address after
 * failed authentications, and cases must not slow each other down.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { serializerByName, type Serializer, type SerializerName } from '../../src/serializers/index.ts';

/** Where a client connects: a WebSocket URL, or a RawSocket TCP/TLS port or Unix socket path. */
export type Endpoint =
  | { name: string; kind: 'websocket'; url: string; ca?: string; unix?: boolean }
  | { name: string; kind: 'rawsocket'; host?: string; port: number; ca?: string }
  | { name: string; kind: 'rawsocket'; path: string };

/** True when every client of the endpoint has the same peer address (Unix sockets): failed logins there slow all of them. */
export function sharesPeerAddress(endpoint: Endpoint): boolean {
  return endpoint.kind === 'websocket' ? endpoint.unix === true : 'path' in endpoint;
}

let nextAddress = Math.floor(Math.random() * 1_000_000);

/** A fresh loopback source address, 127.1.0.1 .. 127.250.255.254, cycling. */
export function freshLoopback(): string {
  const n = nextAddress++;
  return `127.${1 + (Math.floor(n / 65_024) % 250)}.${Math.floor(n / 254) % 256}.${1 + (n % 254)}`;
}

export interface Closed {
  /** WebSocket close code (1006 when the socket just went); undefined for RawSocket. */
  code?: number;
  reason?: string;
}

export interface OpenOptions {
  /** Source address for TCP; default: a fresh loopback address. 'default' lets the OS pick (127.0.0.1). */
  localAddress?: string | 'default';
  /** RawSocket: the length exponent announced (default 15: 16 MiB). */
  lengthExponent?: number;
  /** ms for the connection and handshake (default 3000). */
  timeout?: number;
}

export const ROLES = { caller: {}, callee: {}, publisher: {}, subscriber: {} };

/** The largest RawSocket frame header length: 2^24 - 1 (plus the X bit for exactly 2^24). */
const MAX_FRAME = 0x1000000;

export class WampWireClient {
  private readonly inbox: unknown[][] = [];
  private waiter: (() => void) | undefined;
  private closedInfo: Closed | undefined;
  private decodeError: Error | undefined;
  readonly closed: Promise<Closed>;
  private resolveClosed!: (c: Closed) => void;
  readonly serializer: Serializer;
  /** The last 64 messages received, in order (for failure messages). */
  readonly log: unknown[][] = [];
  /** Sees each message first; returning true consumes it (it never reaches `next`). */
  onMessage: ((message: unknown[]) => boolean) | undefined;

  private constructor(
    readonly endpoint: Endpoint,
    serializer: SerializerName,
    private readonly ws: WebSocket | undefined,
    private readonly socket: Socket | undefined,
  ) {
    this.serializer = serializerByName(serializer);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  static async open(endpoint: Endpoint, serializer: SerializerName = 'json', options: OpenOptions = {}): Promise<WampWireClient> {
    const timeout = options.timeout ?? 3000;
    const localAddress = options.localAddress === 'default' ? undefined : (options.localAddress ?? freshLoopback());
    if (endpoint.kind === 'websocket') {
      const ws = new WebSocket(endpoint.url, [`wamp.2.${serializer}`], {
        ...(endpoint.ca ? { ca: endpoint.ca } : {}),
        ...(endpoint.unix ? {} : { localAddress }),
        handshakeTimeout: timeout,
        maxPayload: 64 * 1024 * 1024,
      });
      const client = new WampWireClient(endpoint, serializer, ws, undefined);
      ws.on('message', (data: Buffer) => client.received(data));
      ws.on('close', (code, reason) => client.gone({ code, reason: reason.toString() }));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', (err) => reject(new Error(`${endpoint.name}: WebSocket did not open: ${err.message}`)));
        ws.once('unexpected-response', (_req, res) => reject(new Error(`${endpoint.name}: HTTP ${res.statusCode} instead of an upgrade`)));
      });
      ws.on('error', () => {});
      if (ws.protocol !== `wamp.2.${serializer}`) throw new Error(`${endpoint.name}: subprotocol ${ws.protocol} chosen`);
      return client;
    }
    const socket =
      'path' in endpoint
        ? netConnect(endpoint.path)
        : endpoint.ca
          ? // tls.connect passes socket options such as localAddress on to net.connect; its typings omit them.
            tlsConnect({
              host: endpoint.host ?? '127.0.0.1',
              port: endpoint.port,
              ca: endpoint.ca,
              servername: 'localhost',
              ...({ localAddress } as object),
            })
          : netConnect({ host: endpoint.host ?? '127.0.0.1', port: endpoint.port, localAddress });
    const client = new WampWireClient(endpoint, serializer, undefined, socket);
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${endpoint.name}: no connection within ${timeout} ms`)), timeout);
      socket.once('path' in endpoint || !endpoint.ca ? 'connect' : 'secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`${endpoint.name}: ${err.message}`));
      });
    });
    socket.on('error', () => {});
    await client.rawSocketHandshake(options.lengthExponent ?? 15, timeout);
    return client;
  }

  /** Opens and joins `realm` anonymously; resolves with the client and its WELCOME. */
  static async join(
    endpoint: Endpoint,
    serializer: SerializerName = 'json',
    options: OpenOptions & { realm?: string } = {},
  ): Promise<WampWireClient> {
    const client = await WampWireClient.open(endpoint, serializer, options);
    client.send([1, options.realm ?? 'realm1', { roles: ROLES }]);
    const welcome = await client.next(options.timeout ?? 3000);
    if (welcome[0] !== 2) throw new Error(`${endpoint.name}: expected WELCOME, got ${JSON.stringify(welcome)}`);
    return client;
  }

  private async rawSocketHandshake(lengthExponent: number, timeout: number): Promise<void> {
    const socket = this.socket!;
    const id = this.serializer.rawSocketId;
    socket.write(Buffer.from([0x7f, (lengthExponent << 4) | id, 0, 0]));
    let buffered = Buffer.alloc(0);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.endpoint.name}: no RawSocket handshake reply within ${timeout} ms`)),
        timeout,
      );
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length < 4) return;
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(buffered);
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error(`${this.endpoint.name}: closed during the RawSocket handshake`)));
    });
    if (reply[0] !== 0x7f || (reply[1] & 0x0f) !== id)
      throw new Error(`${this.endpoint.name}: RawSocket handshake refused: ${reply.subarray(0, 4).toString('hex')}`);
    // Frames: 4-byte header (type in the low 3 bits of the first byte, 24-bit length), then the payload.
    let pending = reply.subarray(4);
    const onFrames = (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 4) {
        const length = (pending[0] & 0x08 ? MAX_FRAME : 0) + pending.readUIntBE(1, 3);
        if (pending.length < 4 + length) break;
        const type = pending[0] & 0x07;
        const payload = pending.subarray(4, 4 + length);
        pending = pending.subarray(4 + length);
        if (type === 0) this.received(payload);
        else if (type === 1) socket.write(Buffer.concat([frameHead(2, payload.length), payload])); // PING: PONG
      }
    };
    socket.on('data', onFrames);
    if (pending.length) onFrames(Buffer.alloc(0));
    socket.once('close', () => this.gone({}));
  }

  private received(data: Buffer): void {
    let message: unknown;
    try {
      message = this.serializer.decode(this.serializer.binary ? data : data.toString('utf8'));
    } catch (err) {
      this.decodeError = new Error(
        `${this.endpoint.name}: the router sent an undecodable ${this.serializer.name} message: ${(err as Error).message}`,
      );
      this.wake();
      return;
    }
    if (!Array.isArray(message)) {
      this.decodeError = new Error(`${this.endpoint.name}: the router sent a non-array: ${JSON.stringify(message)}`);
      this.wake();
      return;
    }
    this.log.push(message);
    if (this.log.length > 64) this.log.splice(0, this.log.length - 64);
    if (this.onMessage?.(message)) return;
    this.inbox.push(message);
    this.wake();
  }

  private gone(info: Closed): void {
    if (this.closedInfo) return;
    this.closedInfo = info;
    this.resolveClosed(info);
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  get isClosed(): boolean {
    return this.closedInfo !== undefined;
  }

  /** How the connection closed, once it has. */
  get closeInfo(): Closed | undefined {
    return this.closedInfo;
  }

  /** Sends one message through Kreuz's serializer. */
  send(message: unknown[]): void {
    const data = this.serializer.encode(message);
    this.sendPayload(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, typeof data === 'string');
  }

  /** Sends one payload as it is: one WebSocket message (a text frame if `text`) or one RawSocket message frame. */
  sendPayload(payload: Buffer, text = false): void {
    if (this.isClosed) return;
    if (this.ws) {
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send(payload, { binary: !text });
      return;
    }
    if (payload.length > MAX_FRAME) throw new Error(`a RawSocket frame holds at most ${MAX_FRAME} bytes`);
    this.socket!.write(Buffer.concat([frameHead(0, payload.length), payload]));
  }

  /** Writes bytes on the socket as they are (RawSocket only: headers, handshakes, garbage). */
  writeRaw(bytes: Buffer): void {
    if (!this.socket) throw new Error('writeRaw is for RawSocket connections');
    if (!this.isClosed) this.socket.write(bytes);
  }

  /** The next message (rejects after `ms`, when the connection closes first, or when the router sent garbage). */
  async next(ms = 3000): Promise<unknown[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.decodeError) throw this.decodeError;
      const queued = this.inbox.shift();
      if (queued) return queued;
      if (this.closedInfo)
        throw new Error(`${this.endpoint.name}: connection closed (${describeClose(this.closedInfo)}) with no further message`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.endpoint.name}: no message within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** The next message, or undefined when the connection closed first (rejects after `ms`). */
  async nextOrClose(ms = 3000): Promise<unknown[] | undefined> {
    try {
      return await this.next(ms);
    } catch (err) {
      if (this.isClosed && this.inbox.length === 0 && !this.decodeError) return undefined;
      throw err;
    }
  }

  /** Resolves true when the connection closes within `ms`. */
  async closesWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
    clearTimeout(timer);
    return closed;
  }

  /** Drops the connection at once. */
  destroy(): void {
    if (this.ws) this.ws.terminate();
    else this.socket!.destroy();
  }
}

export function describeClose(c: Closed): string {
  return c.code === undefined ? 'socket closed' : `WebSocket close ${c.code}${c.reason ? ` "${c.reason}"` : ''}`;
}

function frameHead(type: number, length: number): Buffer {
  const head = Buffer.alloc(4);
  if (length === MAX_FRAME) head.writeUInt32BE(0x08000000 | (type << 24), 0);
  else head.writeUInt32BE(((type & 0x07) << 24) | length, 0);
  return head;
}
