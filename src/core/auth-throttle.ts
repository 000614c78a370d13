/**
 * Slows down repeated authentication failures from one address: after a few
 * failures, each new HELLO from that address waits, doubling up to a cap.
 * Successes clear the record. Bounded in memory.
 */
export class AuthThrottle {
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly options = { free: 3, baseMs: 250, maxMs: 10_000, maxAddresses: 10_000 },
    private readonly now: () => number = Date.now,
  ) {}

  /** How long a HELLO from `address` must wait now, in ms. */
  delay(address: string): number {
    const f = this.failures.get(address);
    return f ? Math.max(0, f.until - this.now()) : 0;
  }

  failed(address: string): void {
    const f = this.failures.get(address) ?? { count: 0, until: 0 };
    f.count++;
    const { free, baseMs, maxMs } = this.options;
    f.until = f.count < free ? 0 : this.now() + Math.min(maxMs, baseMs * 2 ** (f.count - free));
    this.failures.delete(address); // re-insert: the map stays in order of last failure
    this.failures.set(address, f);
    if (this.failures.size > this.options.maxAddresses) this.failures.delete(this.failures.keys().next().value!);
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }
}

/** The address part of a transport's peer string ("tcp:127.0.0.1:5120" -> "tcp:127.0.0.1"). */
export function addressOf(peer: string): string {
  return peer.replace(/:\d+$/, '');
}
