/**
 * What `trace` logs beyond `debug`: every WAMP message a client session sends
 * ("wamp in") or is sent ("wamp out"), one trace line each, as a bounded
 * summary: strings, containers and the whole line cut short, payloads decoded
 * only while small, and values under secret-named keys (logging.ts) and the
 * signature of AUTHENTICATE written as [redacted]. Installed only at trace
 * level, so it costs nothing otherwise.
 */
import type { RouterExtension } from '../core/extensions.ts';
import type { Peer } from '../core/peer.ts';
import { MessageType as T, messageName } from '../wamp/codes.ts';
import type { Outbound } from '../wamp/messages.ts';
import { EncodedPayload, WampFloat } from '../wamp/payload.ts';
import { SECRET_KEY_NAMES } from './logging.ts';

export interface TraceLogger {
  trace(fields: object, message: string): void;
}

export const TRACE_LIMITS = {
  /** Characters of one summary. */
  line: 1000,
  /** Characters of one string value. */
  string: 200,
  /** Elements of one list or dict shown. */
  entries: 20,
  /** Containers inside containers. */
  depth: 6,
  /** A larger payload is shown by its size, not decoded. */
  payloadBytes: 4096,
};

/** The pino logger's level check, where the logger has one. */
export function tracing(log: object): log is TraceLogger {
  const check = (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return typeof check === 'function' && check.call(log, 'trace');
}

export function messageTrace(log: TraceLogger): RouterExtension {
  return {
    wrapPeer: (peer) => new TracedPeer(peer, log),
    inbound: (session, message) =>
      log.trace({ ...session.logFields, peer: session.peer.info.peer }, `wamp in: ${summarize(message, true)}`),
  };
}

class TracedPeer implements Peer {
  constructor(
    private readonly inner: Peer,
    private readonly log: TraceLogger,
  ) {}

  get info() {
    return this.inner.info;
  }

  send(message: Outbound): void {
    this.log.trace({ peer: this.inner.info.peer }, `wamp out: ${summarize(message, false)}`);
    this.inner.send(message);
  }

  close(reason: string): void {
    this.inner.close(reason);
  }
}

/** `NAME [code, ...]`, at most TRACE_LIMITS.line characters. Never throws, whatever a client sent. */
export function summarize(message: unknown, inbound: boolean): string {
  const out = new Summary(TRACE_LIMITS.line);
  try {
    const code = Array.isArray(message) ? message[0] : undefined;
    out.put(`${messageName(code)} `);
    // AUTHENTICATE.Signature is the ticket itself with ticket auth.
    if (inbound && code === T.AUTHENTICATE && Array.isArray(message)) out.value([T.AUTHENTICATE, REDACTED, ...message.slice(2)], 0);
    else out.value(message, 0);
  } catch {
    out.put('<unprintable>');
  }
  return out.text();
}

const REDACTED = Symbol('redacted');

class Summary {
  private readonly parts: string[] = [];
  private left: number;
  private full = false;

  constructor(limit: number) {
    this.left = limit;
  }

  text(): string {
    return this.parts.join('');
  }

  put(s: string): void {
    if (this.full) return;
    if (s.length > this.left) {
      this.parts.push(`${s.slice(0, Math.max(0, this.left))}…`);
      this.full = true;
      return;
    }
    this.parts.push(s);
    this.left -= s.length;
  }

  value(v: unknown, depth: number): void {
    if (this.full) return;
    if (v === REDACTED) return this.put('"[redacted]"');
    if (v === null || typeof v === 'boolean' || typeof v === 'number') return this.put(String(v));
    if (typeof v === 'bigint') return this.put(v.toString());
    if (typeof v === 'string') return this.put(JSON.stringify(v.length > TRACE_LIMITS.string ? `${v.slice(0, TRACE_LIMITS.string)}…` : v));
    if (v instanceof WampFloat) return this.put(String(v.value));
    if (v instanceof Uint8Array) return this.put(`<${v.length} bytes>`);
    if (v instanceof EncodedPayload) return this.payload(v, depth);
    if (typeof v !== 'object') return this.put(`<${typeof v}>`);
    if (depth >= TRACE_LIMITS.depth) return this.put(Array.isArray(v) ? '[…]' : '{…}');
    if (Array.isArray(v)) return this.list(v, depth);
    this.dict(v as Record<string, unknown>, depth);
  }

  /** A payload stands for the elements from Arguments on: shown in their place, without brackets of its own. */
  private payload(p: EncodedPayload, depth: number): void {
    if (p.size > TRACE_LIMITS.payloadBytes) return this.put(`<payload: ${p.count} elements, ${p.size} bytes>`);
    let values: unknown[];
    try {
      values = p.values();
    } catch {
      return this.put('<payload: undecodable>');
    }
    values.forEach((item, i) => {
      if (i > 0) this.put(',');
      this.value(item, depth);
    });
  }

  private list(items: readonly unknown[], depth: number): void {
    this.put('[');
    const shown = Math.min(items.length, TRACE_LIMITS.entries);
    for (let i = 0; i < shown && !this.full; i++) {
      if (i > 0) this.put(',');
      this.value(items[i], depth + 1);
    }
    if (items.length > shown) this.put(`,…+${items.length - shown}`);
    this.put(']');
  }

  private dict(dict: Record<string, unknown>, depth: number): void {
    // Keys from the wire are data: own keys only, read as own properties.
    const keys = Object.keys(dict);
    this.put('{');
    const shown = Math.min(keys.length, TRACE_LIMITS.entries);
    for (let i = 0; i < shown && !this.full; i++) {
      const key = keys[i];
      if (i > 0) this.put(',');
      this.put(`${JSON.stringify(key.length > TRACE_LIMITS.string ? `${key.slice(0, TRACE_LIMITS.string)}…` : key)}:`);
      this.value(SECRET_KEY_NAMES.has(key) ? REDACTED : Object.getOwnPropertyDescriptor(dict, key)?.value, depth + 1);
    }
    if (keys.length > shown) this.put(`,…+${keys.length - shown}`);
    this.put('}');
  }
}
