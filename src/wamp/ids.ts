import { randomFillSync } from 'node:crypto';

/** Largest WAMP ID (WAMP: IDs are integers in [1, 2^53]). */
export const MAX_ID = 2 ** 53;

export function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_ID;
}

// Random bytes are drawn in blocks: publication IDs are needed once per PUBLISH.
const pool = new Uint32Array(1024);
let poolIndex = pool.length;

/** Global-scope IDs (session, publication) are drawn uniformly from [1, 2^53]. */
export function randomId(): number {
  if (poolIndex >= pool.length) {
    randomFillSync(pool);
    poolIndex = 0;
  }
  const high = pool[poolIndex++] & 0x1fffff; // 21 bits
  const low = pool[poolIndex++]; // 32 bits
  return high * 2 ** 32 + low + 1;
}

/** Session-scope / router-scope sequential IDs: 1, 2, 3, … wrapping after 2^53. */
export class IdSequence {
  private last = 0;

  next(): number {
    this.last = this.last >= MAX_ID ? 1 : this.last + 1;
    return this.last;
  }
}
