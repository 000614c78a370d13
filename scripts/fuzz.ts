/**
 * `npm run fuzz -- [runs] [seed]`: the wire fuzzer of test/fuzz with many
 * more cases than `npm test` runs (default 5000), spread over every listener
 * type and serializer of a router in a child process. A failed combination
 * is reported with its seed and fast-check's counterexample, then the run
 * goes on (with fresh bystanders, or a fresh router if it died or froze);
 * the exit code is 1 if any failed. Rerun with the printed base seed to
 * reproduce: `npm run fuzz -- <runs> <seed>`.
 */
import { RouterSession } from '../test/fuzz/harness.ts';
import { combos, describeStats, fuzzCombo, newStats } from '../test/fuzz/wire-fuzzer.ts';

const runs = Number(process.argv[2] ?? 5000);
const seed = process.argv[3] === undefined ? Date.now() % 2 ** 31 : Number(process.argv[3]);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [runs] [seed]');
  process.exit(2);
}

console.log(`fuzz: ${runs} cases, base seed ${seed}`);
const session = new RouterSession();
await session.start();
const stats = newStats();
const failed: string[] = [];
const started = Date.now();
for (const c of combos(runs)) {
  const t0 = Date.now();
  try {
    await fuzzCombo(session.router, session.guard, c.endpoint, c.serializer, c.runs, seed + c.index, stats);
    console.log(
      `  ok   ${c.endpoint} / ${c.serializer}: ${c.runs} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s (seed ${seed + c.index})`,
    );
  } catch (err) {
    failed.push(`${c.endpoint} / ${c.serializer}`);
    console.log(
      `  FAIL ${c.endpoint} / ${c.serializer} (seed ${seed + c.index})\n${String((err as Error).message).replace(/^/gm, '       ')}`,
    );
    await session.recover();
  }
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(
  `fuzz: ${describeStats(stats)}; ${seconds} s (base seed ${seed}); ${session.guard.summary()}; router restarts ${session.restarts}`,
);
if (failed.length) {
  console.log(`fuzz: ${failed.length} of ${combos(runs).length} combinations failed: ${failed.join(', ')}`);
  process.exitCode = 1;
} else {
  console.log('fuzz: every case passed');
}
await session.stop();
