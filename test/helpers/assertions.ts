/** Assertions shared by several test files. */
import assert from 'node:assert/strict';

/** A WAMP ID: an integer in [1, 2^53]. */
export function assertId(value: unknown, what: string): asserts value is number {
  assert.ok(
    typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 2 ** 53,
    `${what} must be an integer in [1, 2^53], got ${JSON.stringify(value)}`,
  );
}
