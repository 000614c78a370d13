import type { Decision } from '../core/authorization.ts';

/** Cached authorizer decisions, bounded: the oldest entry goes when full. */
export class DecisionCache {
  private readonly entries = new Map<string, Decision>();

  constructor(private readonly limit = 10_000) {}

  get(key: string): Decision | undefined {
    return this.entries.get(key);
  }

  set(key: string, decision: Decision): void {
    this.entries.set(key, decision);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
  }
}
