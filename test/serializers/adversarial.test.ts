// A megabyte of adversarial input for each decoder finishes: it throws
// SerializationError or returns. (No wall-clock assertions here: these are
// the inputs whose timings matter, measured outside the test suite.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerializationError, serializers } from '../../src/serializers/index.ts';
import { ADVERSARIAL } from './adversarial-inputs.ts';

for (const ser of serializers) {
  test(`${ser.name}: a megabyte of adversarial input throws SerializationError or returns`, () => {
    for (const [name, make] of Object.entries(ADVERSARIAL[ser.name])) {
      const input = make();
      assert.ok(input.length >= 1000, name);
      try {
        ser.decode(input);
      } catch (err) {
        assert.ok(err instanceof SerializationError, `${name}: ${String(err)}`);
      }
    }
  });
}
