/**
 * Mixed load with session churn against a router, for the soak test (30 s in
 * `npm test`) and `npm run soak` (10 minutes): steady callers and a
 * publisher, plus short-lived sessions that register, call, subscribe,
 * publish and leave (half with GOODBYE, half by dropping the socket).
 */
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.ts';

export interface SoakStats {
  seconds: number;
  calls: number;
  callErrors: number;
  events: number;
  churnSessions: number;
}

async function callee(url: string): Promise<RawClient> {
  const c = await RawClient.join(url, 'msgpack');
  c.send([64, 1, { invoke: 'roundrobin' }, 'com.soak.rpc']);
  assert.equal((await c.next())[0], 65);
  void (async () => {
    // Until the callee is closed or 60 s pass without an invocation. Short waits, so that no timer
    // outlives the run (a 60 s one kept the test file's process alive a minute after the test).
    let idleSeconds = 0;
    for (;;) {
      const m = await c.next(1000).catch(() => undefined);
      if (!m) {
        if (c.ws.readyState !== c.ws.OPEN || ++idleSeconds >= 60) return;
        continue;
      }
      idleSeconds = 0;
      if (m[0] === 68 && c.ws.readyState === c.ws.OPEN) c.send([70, m[1], {}, m[4]]);
    }
  })();
  return c;
}

/** One short-lived session doing a bit of everything, then leaving. */
async function churnOnce(url: string, i: number): Promise<void> {
  const c = await RawClient.join(url, (['json', 'msgpack', 'cbor'] as const)[i % 3]);
  c.send([64, 1, {}, `com.soak.temp${i}`]);
  c.send([32, 2, { match: 'prefix' }, 'com.soak.']);
  c.send([48, 3, {}, 'com.soak.rpc', [i]]);
  c.send([16, 4, { acknowledge: true }, 'com.soak.topic', [i]]);
  c.send([48, 5, {}, 'wamp.session.add_testament', ['com.soak.gone', [i], {}]]);
  // Wait for the replies to its own requests (events may interleave).
  let answered = 0;
  while (answered < 5) {
    const m = await c.next(5000);
    if (m[0] !== 36) answered++;
  }
  if (i % 2 === 0) c.send([6, {}, 'wamp.close.close_realm']);
  c.ws.terminate();
}

export async function soak(url: string, durationMs: number): Promise<SoakStats> {
  const stats: SoakStats = { seconds: durationMs / 1000, calls: 0, callErrors: 0, events: 0, churnSessions: 0 };
  const callees = [await callee(url), await callee(url)];
  const subscriber = await RawClient.join(url, 'json');
  subscriber.send([32, 1, {}, 'com.soak.topic']);
  assert.equal((await subscriber.next())[0], 33);
  let running = true;
  void (async () => {
    while (running) {
      const m = await subscriber.next(1000).catch(() => undefined);
      if (m?.[0] === 36) stats.events++;
    }
  })();

  const callers = await Promise.all([0, 1, 2, 3].map(() => RawClient.join(url, 'cbor')));
  const callerLoops = callers.map(async (caller) => {
    let request = 0;
    const inFlight = 4;
    for (let k = 0; k < inFlight; k++) caller.send([48, ++request, {}, 'com.soak.rpc', [request]]);
    while (running) {
      const m = await caller.next(5000);
      if (m[0] === 50) stats.calls++;
      else stats.callErrors++;
      caller.send([48, ++request, {}, 'com.soak.rpc', [request]]);
    }
  });
  const publisher = await RawClient.join(url, 'msgpack');
  const publishLoop = (async () => {
    let n = 0;
    while (running) {
      publisher.send([16, ++n, {}, 'com.soak.topic', [n]]);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const churnLoop = (async () => {
    let i = 0;
    while (running) {
      await churnOnce(url, ++i);
      stats.churnSessions++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  await new Promise((r) => setTimeout(r, durationMs));
  running = false;
  await Promise.all([publishLoop, churnLoop]);
  let deadline: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(callerLoops), new Promise((r) => (deadline = setTimeout(r, 6000)))]);
  clearTimeout(deadline); // or it keeps the process alive for the rest of the 6 s
  for (const c of [...callees, subscriber, ...callers, publisher]) c.close();
  return stats;
}
