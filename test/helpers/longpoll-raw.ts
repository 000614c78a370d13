/**
 * A long-poll client of our own over fetch, for what Autobahn|JS's long-poll
 * cannot do (it speaks wamp.2.json only, one message per request): MessagePack
 * and CBOR, the batched protocols, and hostile requests. Messages are
 * encoded with JSON.stringify, msgpackr and cbor-x, not with Kreuz's serializers.
 */
import assert from 'node:assert/strict';
import { Decoder, encode as cborEncode } from 'cbor-x';
import { Unpackr, pack } from 'msgpackr';

// WAMP ids are below 2^53: as numbers, however they were encoded.
const msgpack = new Unpackr({ int64AsType: 'number', mapsAsObjects: true });
const cbor = new Decoder({ int64AsNumber: true, mapsAsObjects: true } as ConstructorParameters<typeof Decoder>[0]);

export type Format = 'json' | 'msgpack' | 'cbor';

export interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
}

/** One POST (or another method) to `url`. */
export async function post(
  url: string,
  body?: Buffer | string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const payload = typeof body === 'string' || body === undefined ? body : new Uint8Array(body);
  const response = await fetch(url, { method: init.method ?? 'POST', body: payload, headers: init.headers });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body: bytes, text: bytes.toString('utf8') };
}

/** The JSON error body of an answer. */
export function errorOf(answer: Answer): { error: string; message: string } {
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/, `a JSON error body: ${answer.text}`);
  const parsed = JSON.parse(answer.text);
  assert.equal(typeof parsed.error, 'string');
  assert.equal(typeof parsed.message, 'string');
  return parsed;
}

const encodeOne: Record<Format, (m: unknown[]) => Buffer> = {
  json: (m) => Buffer.from(JSON.stringify(m)),
  msgpack: (m) => pack(m),
  cbor: (m) => Buffer.from(cborEncode(m)),
};
const decodeOne: Record<Format, (b: Buffer) => unknown[]> = {
  json: (b) => JSON.parse(b.toString('utf8')),
  msgpack: (b) => msgpack.unpack(b) as unknown[],
  cbor: (b) => cbor.decode(b) as unknown[],
};

/** Messages as one request body of `protocol` (batched: 0x1e after each JSON message, a 4-byte length before each binary one). */
export function encodeBody(format: Format, batched: boolean, messages: unknown[][]): Buffer {
  if (!batched) {
    assert.equal(messages.length, 1, 'an unbatched body is one message');
    return encodeOne[format](messages[0]!);
  }
  return Buffer.concat(
    messages.map((m) => {
      const bytes = encodeOne[format](m);
      if (format === 'json') return Buffer.concat([bytes, Buffer.from([0x1e])]);
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(bytes.length);
      return Buffer.concat([prefix, bytes]);
    }),
  );
}

/** The messages of a response body. */
export function decodeBody(format: Format, batched: boolean, body: Buffer): unknown[][] {
  if (body.length === 0) return [];
  if (!batched) return [decodeOne[format](body)];
  const out: unknown[][] = [];
  if (format === 'json') {
    assert.equal(body[body.length - 1], 0x1e, 'a JSON batch ends with 0x1e');
    for (const part of body.subarray(0, -1).toString('utf8').split('\x1e')) out.push(JSON.parse(part));
    return out;
  }
  for (let at = 0; at < body.length; ) {
    const length = body.readUInt32BE(at);
    out.push(decodeOne[format](body.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return out;
}

export class LongPollClient {
  /** Messages received and not yet taken. */
  private readonly inbox: unknown[][] = [];

  private constructor(
    readonly base: string,
    readonly transport: string,
    readonly format: Format,
    readonly batched: boolean,
  ) {}

  get url(): string {
    return `${this.base}/${this.transport}`;
  }

  /** Opens a transport speaking `format` (batched or not) at `base` (the long-poll path's URL). */
  static async open(base: string, format: Format, batched = false): Promise<LongPollClient> {
    const protocol = `wamp.2.${format}${batched ? '.batched' : ''}`;
    const r = await post(`${base}/open`, JSON.stringify({ protocols: [protocol] }), { headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 200, r.text);
    const opened = JSON.parse(r.text);
    assert.equal(opened.protocol, protocol);
    return new LongPollClient(base, opened.transport, format, batched);
  }

  /** Opens and joins `realm` (HELLO, WELCOME); the WELCOME. */
  static async join(
    base: string,
    format: Format,
    batched = false,
    realm = 'realm1',
  ): Promise<{ client: LongPollClient; welcome: unknown[] }> {
    const client = await LongPollClient.open(base, format, batched);
    await client.send([1, realm, { roles: { caller: {}, callee: {}, publisher: {}, subscriber: {} } }]);
    const welcome = await client.next();
    assert.equal(welcome[0], 2, `WELCOME, got ${JSON.stringify(welcome)}`);
    return { client, welcome };
  }

  /** Sends messages in one request (several only when batched); the answer. */
  async sendRaw(...messages: unknown[][]): Promise<Answer> {
    return post(`${this.url}/send`, encodeBody(this.format, this.batched, messages));
  }

  async send(...messages: unknown[][]): Promise<void> {
    const r = await this.sendRaw(...messages);
    assert.equal(r.status, 204, r.text);
  }

  /** One receive: the messages it carried (none when it timed out with 204). */
  async receive(): Promise<{ status: number; messages: unknown[][]; answer: Answer }> {
    const answer = await post(`${this.url}/receive`);
    if (answer.status !== 200) return { status: answer.status, messages: [], answer };
    return { status: 200, messages: decodeBody(this.format, this.batched, answer.body), answer };
  }

  /** The next message, polling as long as it takes (bounded by `ms`). */
  async next(ms = 5000): Promise<unknown[]> {
    const deadline = Date.now() + ms;
    while (this.inbox.length === 0) {
      if (Date.now() > deadline) assert.fail(`no message within ${ms} ms`);
      const r = await this.receive();
      assert.ok(r.status === 200 || r.status === 204, `receive: ${r.status} ${r.answer.text}`);
      this.inbox.push(...r.messages);
    }
    return this.inbox.shift()!;
  }

  async close(): Promise<Answer> {
    return post(`${this.url}/close`);
  }
}
