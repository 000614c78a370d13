/**
 * `npm run fuzz [runs] [seed]`: the wire fuzzer of test/fuzz with many more
 * cases than `npm test` runs, against a router on 127.0.0.1.
 */
import { startNode } from '../src/node/server.ts';
import { Bystander, fuzz } from '../test/fuzz/wire-fuzzer.ts';

const runs = Number(process.argv[2] ?? 5000);
const seed = process.argv[3] === undefined ? Date.now() % 2 ** 31 : Number(process.argv[3]);
const node = await startNode({ host: '127.0.0.1', port: 0, maxMessageSize: 64 * 1024 });
const bystander = new Bystander();
await bystander.start(node.url);
const started = Date.now();
try {
  const { cases } = await fuzz(node.url, bystander, runs, seed);
  console.log(`fuzz: ${cases} cases passed in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${seed})`);
} catch (err) {
  console.error(`fuzz: failed (seed ${seed})\n${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  bystander.stop();
  await node.close();
}
