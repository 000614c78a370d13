/**
 * A RawSocket client by hand, for wire tests: plain `net`/`tls` sockets,
 * bytes written as hex, every wait bounded.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { serializerByName, type SerializerName } from '../../src/serializers/index.ts';

/** Bytes from hex, spaces allowed: hex('7f f1 00 00'). */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** "7f f1 00 00" from bytes, for readable assertion messages. */
export function toHex(bytes: Buffer): string {
  return bytes.toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

/** A frame with header RRRR XTTT + 24-bit length, built by hand (no X bit). */
export function rawFrame(type: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(4);
  head.writeUInt32BE(((type & 0xff) << 24) | body.length, 0);
  return Buffer.concat([head, body]);
}

export type Target = { host?: string; port: number; tls?: { ca: string } } | { path: string };

/** A connected socket that buffers what it receives, so tests can wait for exact byte counts. */
export class WireClient {
  private received = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;
  private isClosed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake?.();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  static async connect(target: Target): Promise<WireClient> {
    const socket =
      'path' in target
        ? netConnect(target.path)
        : target.tls
          ? tlsConnect({ host: target.host ?? '127.0.0.1', port: target.port, ca: target.tls.ca, servername: 'localhost' })
          : netConnect(target.port, target.host ?? '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no connection within 2 s')), 2000);
      socket.once(target && 'tls' in target && target.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return new WireClient(socket);
  }

  write(bytes: Buffer | string): void {
    this.socket.write(typeof bytes === 'string' ? hex(bytes) : bytes);
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Exactly `n` bytes (rejects after `ms`, or when the socket closes first). */
  async read(n: number, ms = 2000): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (this.received.length < n) {
      if (this.isClosed) throw new Error(`socket closed after ${this.received.length} of ${n} bytes: ${toHex(this.received)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.received.length} of ${n} bytes within ${ms} ms: ${toHex(this.received)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    const out = this.received.subarray(0, n);
    this.received = this.received.subarray(n);
    return out;
  }

  /** One frame: [type byte, payload]. */
  async readFrame(ms = 2000): Promise<{ head: Buffer; type: number; payload: Buffer }> {
    const head = await this.read(4, ms);
    const length = head.readUIntBE(1, 3) + (head[0] & 0x08 ? 0x1000000 : 0);
    const payload = await this.read(length, ms);
    return { head, type: head[0] & 0x07, payload };
  }

  /** Everything received so far, without waiting. */
  pending(): Buffer {
    return this.received;
  }

  /** Resolves true when the socket closes within `ms`, false otherwise. */
  async closesWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
    clearTimeout(timer);
    return result;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A WAMP client over RawSocket using Kreuz's own serializers. */
export class RawSocketWampClient {
  private readonly serializer;

  private constructor(
    readonly wire: WireClient,
    serializerName: SerializerName,
  ) {
    this.serializer = serializerByName(serializerName);
  }

  /** Connects and completes the handshake announcing 2^(9+lengthExponent) bytes; checks the reply. */
  static async open(target: Target, serializer: SerializerName = 'json', lengthExponent = 15): Promise<RawSocketWampClient> {
    const wire = await WireClient.connect(target);
    const id = serializerByName(serializer).rawSocketId;
    wire.write(Buffer.from([0x7f, (lengthExponent << 4) | id, 0, 0]));
    const reply = await wire.read(4);
    if (reply[0] !== 0x7f || (reply[1] & 0x0f) !== id) throw new Error(`handshake refused: ${toHex(reply)}`);
    return new RawSocketWampClient(wire, serializer);
  }

  /** Opens and joins realm1 with every client role. */
  static async join(target: Target, serializer: SerializerName = 'json', lengthExponent = 15): Promise<RawSocketWampClient> {
    const client = await RawSocketWampClient.open(target, serializer, lengthExponent);
    client.send([1, 'realm1', { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} } }]);
    const welcome = await client.next();
    if (welcome[0] !== 2) throw new Error(`expected WELCOME, got ${JSON.stringify(welcome)}`);
    return client;
  }

  /** The frame bytes of a message. */
  encode(message: unknown[]): Buffer {
    const payload = this.serializer.encode(message);
    return rawFrame(0, typeof payload === 'string' ? Buffer.from(payload) : payload);
  }

  send(message: unknown[]): void {
    this.wire.write(this.encode(message));
  }

  /** The next WAMP message (PING/PONG frames are not expected here). */
  async next(ms = 2000): Promise<unknown[]> {
    const { type, payload } = await this.wire.readFrame(ms);
    if (type !== 0) throw new Error(`expected a message frame, got type ${type}`);
    return this.serializer.decode(payload) as unknown[];
  }

  close(): void {
    this.wire.destroy();
  }
}
