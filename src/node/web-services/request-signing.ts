/**
 * Crossbar's signed HTTP bridge requests. Query parameters: `key`,
 * `timestamp` (UTC ISO-8601 with fractional seconds,
 * "2011-10-14T16:59:51.123Z"), `seq` and `nonce` (integers) and
 * `signature`: the URL-safe base64 (Crossbar pads it with "="; either form
 * is taken) of HMAC-SHA256(secret, key | timestamp | seq | nonce | body),
 * the five concatenated.
 *
 * Beyond Crossbar, which leaves `seq` and `nonce` unchecked: a (seq, nonce)
 * pair already taken within the timestamp window is a replay and refused.
 * What is remembered for that is bounded: past MAX_REMEMBERED, signed
 * requests are refused (503) until old ones expire, rather than forgetting
 * pairs a replay could then reuse.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Refusal } from './json-answer.ts';

/** Crossbar's default window, seconds. */
export const DEFAULT_TIMESTAMP_DELTA_S = 300;
/** How long a pair is remembered when the window is 0 (any timestamp accepted): replays older than this go unnoticed. */
export const UNBOUNDED_WINDOW_MEMORY_MS = 3_600_000;
/** (seq, nonce) pairs remembered against replay. */
export const MAX_REMEMBERED = 100_000;

const FIELDS = ['key', 'timestamp', 'seq', 'nonce', 'signature'] as const;

export interface SigningOptions {
  key: string;
  secret: string;
  /** How far a timestamp may be from now; 0: any. */
  timestampDeltaMs: number;
}

export class SignatureChecker {
  /** Pairs taken, with when they stop counting; in insertion order, which is expiry order (one lifetime for all). */
  private readonly seen = new Map<string, number>();
  private readonly lifetimeMs: number;

  constructor(private readonly o: SigningOptions) {
    // A timestamp may lie up to the window ahead of now as well as behind it.
    this.lifetimeMs = o.timestampDeltaMs > 0 ? 2 * o.timestampDeltaMs : UNBOUNDED_WINDOW_MEMORY_MS;
  }

  /**
   * Throws a Refusal unless `query` signs `body`: a missing field, a wrong key
   * or signature, a timestamp outside the window and a replay are 401; a
   * field that is not what Crossbar's scheme says it is, 400.
   */
  verify(query: URLSearchParams, body: Buffer, now = Date.now()): void {
    const given = new Map<string, string>();
    for (const field of FIELDS) {
      const value = query.get(field);
      if (value === null) throw new Refusal(401, `signed request required, but the "${field}" field is missing`);
      given.set(field, value);
    }
    const [key, timestamp, seq, nonce, signature] = FIELDS.map((f) => given.get(f)!) as [string, string, string, string, string];
    const at = parseTimestamp(timestamp);
    if (at === undefined) throw new Refusal(400, 'invalid timestamp (must be UTC ISO-8601, e.g. "2011-10-14T16:59:51.123Z")');
    if (!/^-?\d{1,20}$/.test(seq)) throw new Refusal(400, 'invalid sequence number (must be an integer)');
    if (!/^-?\d{1,20}$/.test(nonce)) throw new Refusal(400, 'invalid nonce (must be an integer)');
    if (!equalText(key, this.o.key)) throw new Refusal(401, 'unknown key in signed request');
    const expected = createHmac('sha256', this.o.secret).update(key).update(timestamp).update(seq).update(nonce).update(body).digest();
    if (!equalBytes(decodeSignature(signature), expected)) throw new Refusal(401, 'invalid request signature');
    // Checked once signed: only the key's holder learns that the clock is off.
    if (this.o.timestampDeltaMs > 0 && Math.abs(now - at) > this.o.timestampDeltaMs)
      throw new Refusal(401, 'the timestamp is outside the accepted window (timestamp_delta_limit)');
    this.take(`${BigInt(seq)} ${BigInt(nonce)}`, now);
  }

  /** Remembers a pair, or refuses it as a replay. */
  private take(pair: string, now: number): void {
    for (const [old, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(old);
    }
    if (this.seen.has(pair)) throw new Refusal(401, 'this seq and nonce were already used (a replayed request)');
    if (this.seen.size >= MAX_REMEMBERED) throw new Refusal(503, 'too many signed requests within the timestamp window; retry later');
    this.seen.set(pair, now + this.lifetimeMs);
  }
}

/** Crossbar's format; Python's %f takes 1 to 6 digits. */
function parseTimestamp(s: string): number | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{1,6})Z$/.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}.${m[2]!.padEnd(3, '0').slice(0, 3)}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The signature's bytes: URL-safe base64, padded or not (what is not base64 decodes to something else, and fails). */
function decodeSignature(text: string): Buffer {
  return /^[A-Za-z0-9_-]*={0,2}$/.test(text) ? Buffer.from(text, 'base64url') : Buffer.alloc(0);
}

function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time comparison of two strings (a length that differs tells only that). */
export function equalText(a: string, b: string): boolean {
  return equalBytes(Buffer.from(a), Buffer.from(b));
}
