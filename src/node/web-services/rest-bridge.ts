/**
 * What Crossbar's HTTP bridge services (`publisher`, `caller`, `webhook`)
 * share: their config, reading a POST body within limits, Crossbar's
 * request signing, JSON answers, and the in-process session each service
 * acts through, joined to its realm as its role (so a bridge request is
 * authorized exactly like a WAMP session with that role).
 *
 * Signing (Crossbar's scheme): query parameters `key`, `timestamp`
 * (UTC ISO-8601 with milliseconds, "2011-10-14T16:59:51.123Z"), `seq`,
 * `nonce` (integers) and `signature`, the URL-safe base64 of
 * HMAC-SHA256(secret, key | timestamp | seq | nonce | body). Unlike
 * Crossbar, which leaves replays unchecked, a signature seen within the
 * timestamp window is refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { TLSSocket } from 'node:tls';
import { z } from 'zod';
import { LocalSession } from '../../core/local-session.ts';
import type { Router } from '../../core/router.ts';
import { NOSNIFF } from './web-service.ts';

/** Bodies are read up to this unless `post_body_limit` says less (Crossbar: unlimited). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** A client has this long to send its whole body. */
export const BODY_DEADLINE_MS = 10_000;
/** Signatures remembered against replay; beyond it, signed requests are refused until old ones expire. */
const MAX_REMEMBERED_SIGNATURES = 100_000;

export const signingOptions = {
  key: z.string().min(1).optional().describe('The key signed requests name (with "secret").'),
  secret: z.string().min(1).optional().describe('Signed requests only: the HMAC-SHA256 secret.'),
  post_body_limit: z.number().int().min(0).optional().describe(`Bytes; 0 or none: ${DEFAULT_BODY_LIMIT}.`),
  timestamp_delta_limit: z.number().int().min(0).optional().describe('Seconds a signed request may be off; default 300.'),
  require_ip: z.array(z.string().refine(isNetwork, { error: 'must be an IP address or a network (10.0.0.0/8)' })).optional(),
  require_tls: z.boolean().optional(),
  debug: z.boolean().optional(),
};

/** The keys of a bridge path besides its options. */
export const bridgeTarget = {
  realm: z.string().min(1).describe('The realm it acts on.'),
  role: z.string().min(1).describe('The role it acts as (authorized like a WAMP session with it).'),
  authid: z.string().min(1).optional().describe('Kreuz: the authid its session has; default "rest-bridge".'),
};

function isNetwork(s: string): boolean {
  const [address, bits, more] = s.split('/');
  if (more !== undefined || !isIP(address!)) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n <= (isIP(address!) === 4 ? 32 : 128);
}

export interface GateOptions {
  key?: string;
  secret?: string;
  bodyLimit: number;
  timestampDeltaMs: number;
  requireIp?: string[];
  requireTls: boolean;
}

export function gateOptions(o: {
  key?: string;
  secret?: string;
  post_body_limit?: number;
  timestamp_delta_limit?: number;
  require_ip?: string[];
  require_tls?: boolean;
}): GateOptions {
  return {
    key: o.key,
    secret: o.secret,
    bodyLimit: o.post_body_limit || DEFAULT_BODY_LIMIT,
    timestampDeltaMs: (o.timestamp_delta_limit ?? 300) * 1000,
    requireIp: o.require_ip,
    requireTls: o.require_tls === true,
  };
}

/** A refused request: its status and what the JSON answer says. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function answerJson(response: ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value)}\n`;
  if (response.headersSent) return void response.destroy();
  response
    .writeHead(status, {
      ...NOSNIFF,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      'Cache-Control': 'no-store',
    })
    .end(body);
}

/** Crossbar's error shape: `{"error", "args", "kwargs"}`. */
export function answerError(response: ServerResponse, status: number, error: string, args: unknown[] = [], kwargs: object = {}): void {
  answerJson(response, status, { error, args, kwargs });
}

/** The body, or a Refusal: over the limit (413), a Content-Length it does not match (400), too slow (408). */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = request.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) return reject(new Refusal(413, `the body is over ${limit} bytes`));
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => fail(new Refusal(408, `the body did not arrive within ${BODY_DEADLINE_MS} ms`)), BODY_DEADLINE_MS);
    const fail = (refusal: Refusal) => {
      clearTimeout(timer);
      request.removeAllListeners('data');
      request.resume();
      reject(refusal);
    };
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(new Refusal(413, `the body is over ${limit} bytes`));
      chunks.push(chunk);
    });
    request.on('end', () => {
      clearTimeout(timer);
      const body = Buffer.concat(chunks);
      if (declared !== undefined && Number(declared) !== body.length)
        reject(new Refusal(400, 'the body does not match its Content-Length'));
      else resolve(body);
    });
    request.on('error', () => fail(new Refusal(400, 'the request broke off')));
  });
}

/** The checks before a body is read and after: client address, TLS, signature, replay. */
export class RequestGate {
  private readonly allowed: BlockList | undefined;
  /** Signatures seen, with when they stop counting. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly o: GateOptions) {
    if (o.requireIp) {
      this.allowed = new BlockList();
      for (const net of o.requireIp) {
        const [address, bits] = net.split('/') as [string, string | undefined];
        const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
        if (bits === undefined) this.allowed.addAddress(address, family);
        else this.allowed.addSubnet(address, Number(bits), family);
      }
    }
  }

  get bodyLimit(): number {
    return this.o.bodyLimit;
  }

  /** Before the body: the client's address and TLS. */
  admit(request: IncomingMessage): void {
    if (this.o.requireTls && !(request.socket instanceof TLSSocket)) throw new Refusal(400, 'this service requires TLS (https)');
    if (this.allowed) {
      const raw = request.socket.remoteAddress ?? '';
      const address = raw.startsWith('::ffff:') ? raw.slice(7) : raw;
      const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
      if (!isIP(address) || !this.allowed.check(address, family)) throw new Refusal(400, 'requests from this address are not accepted');
    }
  }

  /** After the body: the signature, when the service has a secret (Crossbar answers a missing field with 400, a wrong one with 401). */
  verify(url: URL, body: Buffer, now = Date.now()): void {
    const { secret, key } = this.o;
    if (secret === undefined) return;
    const q = url.searchParams;
    for (const field of ['key', 'timestamp', 'seq', 'nonce', 'signature'])
      if (q.get(field) === null) throw new Refusal(400, `signed request required, but the "${field}" field is missing`);
    const [k, timestamp, seq, nonce, signature] = ['key', 'timestamp', 'seq', 'nonce', 'signature'].map((f) => q.get(f)!) as [
      string,
      string,
      string,
      string,
      string,
    ];
    const at = parseTimestamp(timestamp);
    if (at === undefined) throw new Refusal(400, `invalid timestamp (must be UTC ISO-8601, e.g. "2011-10-14T16:59:51.123Z")`);
    if (!/^-?\d+$/.test(seq)) throw new Refusal(400, 'invalid sequence number (must be an integer)');
    if (!/^-?\d+$/.test(nonce)) throw new Refusal(400, 'invalid nonce (must be an integer)');
    if (this.o.timestampDeltaMs && Math.abs(now - at) > this.o.timestampDeltaMs)
      throw new Refusal(401, 'the timestamp is outside the accepted window');
    if (!equalText(k, key ?? '')) throw new Refusal(401, 'unknown key in signed request');
    const expected = createHmac('sha256', secret).update(k).update(timestamp).update(seq).update(nonce).update(body).digest('base64url');
    // Crossbar's signatures carry base64 padding; both forms are the same signature.
    if (!equalText(signature.replace(/=+$/, ''), expected)) throw new Refusal(401, 'invalid request signature');
    this.remember(signature.replace(/=+$/, ''), now);
  }

  private remember(signature: string, now: number): void {
    for (const [s, until] of this.seen) {
      if (until > now) break; // insertion order is expiry order
      this.seen.delete(s);
    }
    if (this.seen.has(signature)) throw new Refusal(401, 'this signed request was already received (replay)');
    if (this.seen.size >= MAX_REMEMBERED_SIGNATURES)
      throw new Refusal(503, 'too many signed requests in the timestamp window; retry later');
    this.seen.set(signature, now + Math.max(this.o.timestampDeltaMs, 1000) * 2);
  }
}

function parseTimestamp(s: string): number | undefined {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,6}Z$/.test(s)) return undefined;
  const ms = Date.parse(s.replace(/(\.\d{3})\d+Z$/, '$1Z'));
  return Number.isNaN(ms) ? undefined : ms;
}

/** Constant-time comparison of two strings (their lengths may differ). */
export function equalText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The JSON object of a body, or a Refusal (400; 415 for another content type). */
export function jsonObject(request: IncomingMessage, body: Buffer): Record<string, unknown> {
  const type = (request.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== 'text/plain' && type !== '')
    throw new Refusal(415, 'the body must be JSON (Content-Type: application/json)');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Refusal(400, 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Refusal(400, 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** `args`, `kwargs` and `options` of a request body, checked; absent or null ones empty (as Crossbar takes them). */
export function payloadOf(event: Record<string, unknown>): {
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: Record<string, unknown>;
} {
  const field = <T>(name: string, ok: (v: unknown) => boolean, empty: T, what: string): T => {
    const v = Object.hasOwn(event, name) ? event[name] : undefined;
    if (v === undefined || v === null) return empty;
    if (!ok(v)) throw new Refusal(400, `"${name}" must be ${what}`);
    return v as T;
  };
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  return {
    args: field('args', Array.isArray, [], 'a list'),
    kwargs: field('kwargs', isObject, {}, 'an object'),
    options: field('options', isObject, {}, 'an object'),
  };
}

/** The string field `name` of a body, or a Refusal (400). */
export function uriField(event: Record<string, unknown>, name: string): string {
  const v = Object.hasOwn(event, name) ? event[name] : undefined;
  if (typeof v !== 'string' || v.length === 0) throw new Refusal(400, `"${name}" is required: a URI string`);
  return v;
}

/** One in-process session per service, joined on first use and again after the router ended it. */
export class BridgeSession {
  private session: Promise<LocalSession> | undefined;

  constructor(
    private readonly router: Router,
    readonly realm: string,
    private readonly identity: { authid: string; authrole: string },
  ) {}

  get(): Promise<LocalSession> {
    if (!this.session) {
      const joining = LocalSession.join(this.router, this.realm, this.identity);
      this.session = joining;
      joining.then(
        (s) => s.onClose(() => this.session === joining && (this.session = undefined)),
        () => this.session === joining && (this.session = undefined),
      );
    }
    return this.session;
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.then((l) => l.close()).catch(() => undefined);
  }
}

/** The URL of a request, for its query. */
export function requestUrl(request: IncomingMessage): URL {
  return new URL(request.url ?? '/', 'http://bridge.invalid');
}
