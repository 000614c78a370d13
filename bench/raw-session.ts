/**
 * The lean load client: one `ws` connection speaking WAMP by hand, with the
 * load's own codecs (wire-codecs.ts: json, msgpack, cbor). Against a router it joins
 * realm1 anonymously; against the floor relay it only connects (the relay
 * does no WAMP) to the path naming its role.
 */
import WebSocket from 'ws';
import { codecByName, type SerializerName, type WireCodec } from './wire-codecs.ts';

export interface Target {
  /** wamp: a router at `url`; floor: the byte relay at `url`, role by path. */
  kind: 'wamp' | 'floor';
  url: string;
}

export type Role = 'caller' | 'callee' | 'pub' | 'sub' | 'idle';

const ROLES = { caller: {}, callee: {}, publisher: {}, subscriber: {} };

export class RawSession {
  /** Replaced by the workload once set up. */
  onMessage: (message: unknown[]) => void = () => {};
  /** Why the server ended the connection, if it did (an ABORT, or an unexpected close). */
  failure: string | undefined;
  private closing = false;
  private nextRequest = 0;
  readonly closed: Promise<void>;

  private constructor(
    readonly ws: WebSocket,
    private readonly serializer: WireCodec,
  ) {
    ws.on('message', (data: Buffer, isBinary) => {
      const message = serializer.decode(isBinary ? data : data.toString()) as unknown[];
      if (message[0] === 3) this.failure = `ABORT ${JSON.stringify(message.slice(1))}`;
      this.onMessage(message);
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        if (!this.closing) this.failure ??= `closed by the server: ${code} ${reason.toString()}`;
        resolve();
      }),
    );
    ws.on('error', (err) => (this.failure ??= err.message));
  }

  /** Connects, and joins realm1 when the target is a router. */
  static async open(target: Target, role: Role, serializer: SerializerName): Promise<RawSession> {
    const url = target.kind === 'floor' ? `${target.url}/${role}` : target.url;
    const ws = new WebSocket(url, [`wamp.2.${serializer}`], { perMessageDeflate: false });
    const session = new RawSession(ws, codecByName(serializer));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    if (target.kind === 'wamp') await session.request([1, 'realm1', { roles: ROLES }], 2);
    return session;
  }

  send(message: unknown[]): void {
    this.ws.send(this.serializer.encode(message));
  }

  /** REGISTER or SUBSCRIBE; resolves with the new ID. */
  async register(uri: string, options: Record<string, unknown> = {}): Promise<number> {
    return (await this.request([64, ++this.nextRequest, options, uri], 65))[2] as number;
  }

  async subscribe(topic: string, options: Record<string, unknown> = {}): Promise<number> {
    return (await this.request([32, ++this.nextRequest, options, topic], 33))[2] as number;
  }

  /** Sends one message and waits for the answer of type `expect` (set-up only: one at a time). */
  private request(message: unknown[], expect: number, ms = 10_000): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer of type ${expect} to ${JSON.stringify(message)} within ${ms} ms`)), ms);
      this.onMessage = (answer) => {
        clearTimeout(timer);
        this.onMessage = () => {};
        if (answer[0] === expect) resolve(answer);
        else reject(new Error(`expected type ${expect}, got ${JSON.stringify(answer)}`));
      };
      this.send(message);
    });
  }

  /** Closes (with the WebSocket close handshake) and waits until the server has let go. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    const timer = setTimeout(() => this.ws.terminate(), 3000);
    await this.closed;
    clearTimeout(timer);
  }
}
