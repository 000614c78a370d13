/**
 * Slows down the guessing of credentials (issue 11):
 *
 * - Per client address, one authentication at a time: a HELLO while another
 *   from the same address is pending (HELLO received, no WELCOME/ABORT yet)
 *   waits in a bounded queue and starts, in order, when that one ends. So
 *   parallel connections get no more attempts than sequential ones.
 * - Failures are counted per address and per principal (method + authid).
 *   After `free` failures, the next attempt waits `baseMs` after the last
 *   failure, doubling up to `maxMs`. A principal under throttle also spaces
 *   attempts from different addresses by that delay; one that would have to
 *   wait longer than `maxMs` is refused at once.
 * - A success clears that principal's record only: never the address's, so
 *   an anonymous (or own-account) login does not reset a brute force.
 * - Bounded memory: records are forgotten `forgetMs` after their last
 *   failure and the oldest go beyond `maxRecords`; queues hold `maxQueue`.
 *
 * In-process sessions (transport type "memory") have no address: they are
 * throttled per principal only.
 */
import type { TransportInfo } from './peer.ts';
import type { Session } from './session.ts';

export interface ThrottleOptions {
  /** Failures before any delay. */
  free: number;
  /** First delay, ms; doubles with each further failure. */
  baseMs: number;
  /** Largest delay, ms. */
  maxMs: number;
  /** HELLOs that may wait behind the pending one of their address. */
  maxQueue: number;
  /** Addresses (and, separately, principals) remembered at most. */
  maxRecords: number;
  /** ms after its last failure a record is forgotten. */
  forgetMs: number;
}

export const THROTTLE_DEFAULTS: ThrottleOptions = {
  free: 3,
  baseMs: 250,
  maxMs: 10_000,
  maxQueue: 32,
  maxRecords: 10_000,
  forgetMs: 15 * 60_000,
};

/** What a HELLO is throttled by. */
export interface ThrottleKeys {
  /** The client's address; none for in-process sessions. */
  address: string | undefined;
  /** "method authid"; none when the client names no authid. */
  principal: string | undefined;
}

/** When a queued HELLO's turn comes: wait this long and start, or be refused. */
export type Turn = { wait: number } | { refused: string };

/** Failure counts by key, in order of last failure (the oldest is dropped first). */
class FailureRecords {
  private readonly records = new Map<string, { failures: number; next: number; last: number }>();

  constructor(private readonly o: ThrottleOptions) {}

  /** ms until an attempt on `key` may start. */
  wait(key: string, now: number): number {
    const r = this.get(key, now);
    return r ? Math.max(0, r.next - now) : 0;
  }

  /** An attempt starts at `start`: while throttled, the next one must wait a step after it. */
  reserve(key: string, start: number): void {
    const r = this.get(key, start);
    if (r && r.failures >= this.o.free) r.next = Math.max(r.next, start + this.step(r.failures));
  }

  failed(key: string, now: number): void {
    const r = this.get(key, now) ?? { failures: 0, next: 0, last: 0 };
    r.failures++;
    r.last = now;
    if (r.failures >= this.o.free) r.next = Math.max(r.next, now + this.step(r.failures));
    this.records.delete(key); // re-inserted last: the map stays in order of last failure
    this.records.set(key, r);
    if (this.records.size > this.o.maxRecords) this.records.delete(this.records.keys().next().value!);
  }

  clear(key: string): void {
    this.records.delete(key);
  }

  get size(): number {
    return this.records.size;
  }

  private get(key: string, now: number) {
    const r = this.records.get(key);
    if (r && now - r.last > this.o.forgetMs) {
      this.records.delete(key);
      return undefined;
    }
    return r;
  }

  private step(failures: number): number {
    return Math.min(this.o.maxMs, this.o.baseMs * 2 ** (failures - this.o.free));
  }
}

interface Entry {
  session: Session;
  keys: ThrottleKeys;
  onTurn: (turn: Turn) => void;
}

/** The pending authentication of one address and those waiting behind it. */
interface Line {
  holder: Entry;
  waiting: Entry[];
}

export class AuthThrottle {
  readonly options: ThrottleOptions;
  private readonly addresses: FailureRecords;
  private readonly principals: FailureRecords;
  private readonly lines = new Map<string, Line>();
  private readonly entries = new Map<Session, Entry>();

  constructor(
    options: Partial<ThrottleOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...THROTTLE_DEFAULTS, ...options };
    this.addresses = new FailureRecords(this.options);
    this.principals = new FailureRecords(this.options);
  }

  /**
   * A HELLO: `onTurn` is called when it may go (at once if its address has
   * nothing pending, else when the queue reaches it). False: the queue is full.
   */
  enter(session: Session, keys: ThrottleKeys, onTurn: (turn: Turn) => void): boolean {
    this.release(session);
    const entry: Entry = { session, keys, onTurn };
    const address = keys.address;
    const line = this.lineOf(address);
    if (line) {
      if (line.waiting.length >= this.options.maxQueue) return false;
      line.waiting.push(entry);
      this.entries.set(session, entry);
      return true;
    }
    if (address !== undefined) this.lines.set(address, { holder: entry, waiting: [] });
    this.entries.set(session, entry);
    this.begin(entry);
    return true;
  }

  /** The session's authentication was denied: counts against its address and principal. */
  failed(session: Session): void {
    const entry = this.entries.get(session);
    if (!entry) return;
    const now = this.now();
    if (entry.keys.address !== undefined) this.addresses.failed(entry.keys.address, now);
    if (entry.keys.principal !== undefined) this.principals.failed(entry.keys.principal, now);
    this.release(session);
  }

  /** The session was welcomed: its principal's record goes (its address's stays). */
  succeeded(session: Session): void {
    const principal = this.entries.get(session)?.keys.principal;
    if (principal !== undefined) this.principals.clear(principal);
    this.release(session);
  }

  /**
   * The session's authentication is over, however it ended (WELCOME, ABORT,
   * closed transport): the next HELLO of its address may go. Idempotent.
   */
  release(session: Session): void {
    const entry = this.entries.get(session);
    if (!entry) return;
    this.entries.delete(session);
    const address = entry.keys.address;
    const line = address === undefined ? undefined : this.lines.get(address);
    if (!line) return;
    if (line.holder === entry) this.advance(address!, line);
    else line.waiting.splice(line.waiting.indexOf(entry), 1);
  }

  /** For tests and metrics: what is held in memory. */
  get sizes(): { addresses: number; principals: number; lines: number; entries: number } {
    return { addresses: this.addresses.size, principals: this.principals.size, lines: this.lines.size, entries: this.entries.size };
  }

  /** The address's line; a holder whose close was never reported must not block it. */
  private lineOf(address: string | undefined): Line | undefined {
    const line = address === undefined ? undefined : this.lines.get(address);
    if (line?.holder.session.state !== 'closed') return line;
    this.release(line.holder.session);
    return this.lines.get(address!);
  }

  /** The holder is done: hand the address to the next one waiting (skipping closed sessions). */
  private advance(address: string, line: Line): void {
    let next = line.waiting.shift();
    while (next && next.session.state === 'closed') {
      this.entries.delete(next.session);
      next = line.waiting.shift();
    }
    if (!next) {
      this.lines.delete(address);
      return;
    }
    line.holder = next;
    // Started after the current call returns: the ending session finishes its own close first.
    queueMicrotask(() => this.begin(next));
  }

  private begin(entry: Entry): void {
    if (this.entries.get(entry.session) !== entry) return; // released meanwhile
    if (entry.session.state === 'closed') return this.release(entry.session);
    const now = this.now();
    const { address, principal } = entry.keys;
    const principalWait = principal === undefined ? 0 : this.principals.wait(principal, now);
    if (principalWait > this.options.maxMs) {
      entry.onTurn({ refused: 'too many failed authentications for this authid: try again later' });
      return;
    }
    const wait = Math.max(principalWait, address === undefined ? 0 : this.addresses.wait(address, now));
    if (principal !== undefined) this.principals.reserve(principal, now + wait);
    entry.onTurn({ wait });
  }
}

/** What a HELLO is throttled by: the client's address, and the principal it names. */
export function throttleKeys(info: TransportInfo, method: string | undefined, authid: unknown): ThrottleKeys {
  return {
    address: info.type === 'memory' ? undefined : (info.address ?? addressOf(info.peer)),
    principal: method !== undefined && typeof authid === 'string' ? `${method} ${authid}` : undefined,
  };
}

/**
 * The IP of a transport's peer string ("tcp:127.0.0.1:5120" -> "127.0.0.1",
 * as TransportInfo.address has it, so one client is one key on every
 * transport); anything else ("unix") as it is.
 */
export function addressOf(peer: string): string {
  const ip = /^tcp[46]?:(.+):\d+$/.exec(peer)?.[1];
  if (ip === undefined) return peer;
  return ip.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}
