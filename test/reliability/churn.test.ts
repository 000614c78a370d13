/**
 * Callee churn: 8 callees of a shared registration join and leave at random
 * (some with GOODBYE, some by dropping the socket) while 4 callers keep calls
 * in flight. Every call must end with exactly one RESULT or ERROR; none may hang.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useRouter } from '../helpers/node.ts';
import { RawClient } from '../helpers/raw-client.ts';
import type { SerializerName } from '../../src/serializers/index.ts';

const router = useRouter();
const PROCEDURE = 'com.churn.work';
const CHURN_MS = 3000;
const CALLS_IN_FLIGHT = 8;

/** A small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A callee answering each invocation after a short random delay, until it leaves. */
async function startCallee(url: string, serializer: SerializerName, random: () => number): Promise<RawClient> {
  const client = await RawClient.join(url, serializer);
  client.send([64, 1, { invoke: 'roundrobin' }, PROCEDURE]);
  const registered = await client.next();
  assert.equal(registered[0], 65, `REGISTER failed: ${JSON.stringify(registered)}`);
  void (async () => {
    // Until the callee is gone or 60 s pass without an invocation. Short waits, so that no timer
    // outlives the test (a 60 s one kept the test file's process alive a minute after the test).
    let idleSeconds = 0;
    for (;;) {
      let msg: unknown[];
      try {
        msg = await client.next(1000);
        idleSeconds = 0;
      } catch {
        if (client.ws.readyState !== client.ws.OPEN || ++idleSeconds >= 60) return;
        continue;
      }
      if (msg[0] !== 68) continue;
      setTimeout(
        () => {
          if (client.ws.readyState === client.ws.OPEN) client.send([70, msg[1], {}, msg[4]]);
        },
        Math.floor(random() * 5),
      );
    }
  })();
  return client;
}

describe('callee churn', () => {
  it('ends every call exactly once while 8 callees join and leave at random', async () => {
    const seed = Date.now() % 100_000;
    const random = prng(seed);
    const callees: Array<RawClient | undefined> = [];
    for (let i = 0; i < 8; i++) callees.push(await startCallee(router.url, i % 2 ? 'msgpack' : 'json', random));

    const callers = await Promise.all(
      [0, 1, 2, 3].map((i) => RawClient.join(router.url, (['json', 'msgpack', 'cbor', 'json'] as const)[i])),
    );
    const pending = callers.map(() => new Map<number, number>()); // request -> payload
    const stats = { calls: 0, results: 0, canceled: 0, noCallee: 0, duplicates: 0, wrong: 0 };
    let running = true;

    const issue = (c: number) => {
      const request = ++stats.calls;
      pending[c].set(request, request);
      callers[c].send([48, request, {}, PROCEDURE, [request]]);
    };
    // Each reader ends once every call has ended (checked at least every 100 ms, so the test
    // does not sit out a long wait when the last answer went to another caller), or after 10 s
    // without a message during the churn, 5 s after it.
    const readers = callers.map(async (caller, c) => {
      let idleMs = 0;
      for (;;) {
        if (!running && pending.every((p) => p.size === 0)) return;
        let msg: unknown[];
        try {
          msg = await caller.next(100);
          idleMs = 0;
        } catch {
          idleMs += 100;
          if (idleMs >= (running ? 10_000 : 5_000)) return;
          continue;
        }
        const request = (msg[0] === 50 ? msg[1] : msg[2]) as number;
        if (!pending[c].has(request)) {
          stats.duplicates++;
          continue;
        }
        pending[c].delete(request);
        if (msg[0] === 50) {
          if ((msg[3] as number[])[0] === request) stats.results++;
          else stats.wrong++;
        } else if (msg[4] === 'wamp.error.canceled') stats.canceled++;
        else if (msg[4] === 'wamp.error.no_such_procedure') stats.noCallee++;
        else stats.wrong++;
        if (running) issue(c);
      }
    });
    for (let c = 0; c < callers.length; c++) for (let i = 0; i < CALLS_IN_FLIGHT; i++) issue(c);

    const end = Date.now() + CHURN_MS;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 10 + Math.floor(random() * 20)));
      const slot = Math.floor(random() * callees.length);
      const callee = callees[slot];
      if (callee) {
        if (random() < 0.5)
          callee.ws.terminate(); // gone without GOODBYE
        else callee.send([6, {}, 'wamp.close.close_realm']);
        callees[slot] = undefined;
      } else {
        callees[slot] = await startCallee(router.url, slot % 2 ? 'msgpack' : 'json', random);
      }
    }
    // Stop issuing; make sure someone can still answer; every call must end.
    running = false;
    if (!callees.some(Boolean)) callees[0] = await startCallee(router.url, 'json', random);
    const drained = Promise.all(readers);
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((r) => (deadline = setTimeout(r, 8000)))]);
    clearTimeout(deadline); // or it keeps the file's process alive for the rest of the 8 s

    const hanging = pending.reduce((n, p) => n + p.size, 0);
    console.log(`churn (seed ${seed}): ${JSON.stringify(stats)}, hanging ${hanging}`);
    assert.equal(hanging, 0, `calls that never ended (seed ${seed})`);
    assert.equal(stats.duplicates, 0, `calls answered twice (seed ${seed})`);
    assert.equal(stats.wrong, 0, `calls answered with someone else's result or an unexpected error (seed ${seed})`);
    assert.equal(stats.results + stats.canceled + stats.noCallee, stats.calls, 'every call ended exactly once');
    assert.ok(stats.results > 100, `calls went through during the churn: ${stats.results}`);

    for (const c of [...callers, ...callees]) c?.close();
  });
});
