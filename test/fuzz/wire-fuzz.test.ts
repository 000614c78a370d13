/**
 * Bounded wire fuzzing in `npm test`: KREUZ_FUZZ_RUNS cases (default 240),
 * spread over every listener type (WebSocket over TCP, TLS and a Unix socket;
 * RawSocket over TCP, TLS and a Unix socket; the universal port's WebSocket
 * and RawSocket) and every serializer, against a router in a child process.
 * Each test names its seed (base seed + its index); rerun a failure with
 *   KREUZ_FUZZ_SEED=<base seed> node --import tsx --test --test-name-pattern='rs / cbor' test/fuzz/wire-fuzz.test.ts
 * `npm run fuzz -- N [seed]` runs many more (scripts/fuzz.ts).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RouterSession } from './harness.ts';
import { combos, describeStats, fuzzCombo, newStats } from './wire-fuzzer.ts';

const RUNS = Number(process.env.KREUZ_FUZZ_RUNS ?? 240);
const SEED = Number(process.env.KREUZ_FUZZ_SEED ?? Date.now() % 2 ** 31);

describe(`wire fuzzing over every listener and serializer (${RUNS} cases, base seed ${SEED})`, () => {
  const session = new RouterSession();
  const stats = newStats();
  const list = combos(RUNS);
  before(() => session.start());
  after(() => session.stop());

  for (const c of list) {
    it(`${c.endpoint} / ${c.serializer}: ${c.runs} cases, seed ${SEED + c.index}; router alive, bystanders unharmed`, async () => {
      try {
        await fuzzCombo(session.router, session.guard, c.endpoint, c.serializer, c.runs, SEED + c.index, stats);
      } catch (err) {
        await session.recover();
        throw err;
      }
    });
  }

  it('ran every case', (t) => {
    t.diagnostic(`${describeStats(stats)}; ${session.guard.summary()}; router restarts ${session.restarts}`);
    assert.equal(
      stats.cases,
      list.reduce((n, c) => n + c.runs, 0),
    );
  });
});
