/** A raw `ws` client speaking WAMP messages by hand, for hostile-input and wire tests. */
import WebSocket from 'ws';
import { serializerByName, type SerializerName } from '../../src/serializers/index.ts';

export interface Closed {
  code: number;
  reason: string;
}

export class RawClient {
  private readonly inbox: unknown[] = [];
  private waiting: ((message: unknown) => void) | undefined;
  readonly closed: Promise<Closed>;
  private readonly serializer;

  private constructor(
    readonly ws: WebSocket,
    serializer: SerializerName,
  ) {
    this.serializer = serializerByName(serializer);
    ws.on('message', (data: Buffer) => {
      const message = this.serializer.decode(data);
      if (this.waiting) {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(message);
      } else this.inbox.push(message);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async open(url: string, serializer: SerializerName = 'json', options: WebSocket.ClientOptions = {}): Promise<RawClient> {
    const ws = new WebSocket(url, [`wamp.2.${serializer}`], options);
    const client = new RawClient(ws, serializer);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** Opens and joins realm1 with every client role; returns the client and its WELCOME. */
  static async join(url: string, serializer: SerializerName = 'json', realm = 'realm1'): Promise<RawClient> {
    const client = await RawClient.open(url, serializer);
    client.send([1, realm, { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} } }]);
    const welcome = (await client.next()) as unknown[];
    if (welcome[0] !== 2) throw new Error(`expected WELCOME, got ${JSON.stringify(welcome)}`);
    return client;
  }

  send(message: unknown): void {
    this.ws.send(this.serializer.encode(message as unknown[]));
  }

  /** Sends bytes or text as they are, bypassing the serializer. */
  sendRaw(data: string | Buffer, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary });
  }

  /** The next message from the router (rejects after `ms`). */
  next(ms = 2000): Promise<unknown[]> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued as unknown[]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`no message within ${ms} ms`));
      }, ms);
      this.waiting = (message) => {
        clearTimeout(timer);
        resolve(message as unknown[]);
      };
    });
  }

  close(): void {
    this.ws.close();
  }
}
