/**
 * `--only http-bridge`: the HTTP publisher against a plain WAMP publish, on
 * one Kreuz process with one WebSocket subscriber. The same number of
 * publications each way, `IN_FLIGHT` at a time: HTTP POSTs on keep-alive
 * connections to /publish, and acknowledged PUBLISHes from one WebSocket
 * session. Reported: publications per second and the router's CPU per
 * publication, and the HTTP ÷ WAMP ratios, measured in one run.
 */
import { Agent, request } from 'node:http';
import { startChild } from './ipc.ts';
import type { CpuSample } from './ipc.ts';
import { RawSession } from './raw-session.ts';
import { standaloneReport } from './standalone.ts';

const IN_FLIGHT = 16;
const ROUNDS = 3;

interface Row {
  perSecond: number;
  cpuUsPerOp: number;
}

const cpuUs = (a: CpuSample, b: CpuSample) => b.user - a.user + (b.system - a.system);

export async function runHttpBridgeAlone(quick: boolean): Promise<void> {
  const count = quick ? 2000 : 10_000;
  const report = standaloneReport('http-bridge', 'Kreuz HTTP publisher vs WAMP publish', [
    `${count} publications per measurement, ${IN_FLIGHT} in flight, JSON, one WebSocket subscriber; best of ${ROUNDS} rounds each`,
  ]);
  const router = await startChild('./router-process.ts', { args: ['--http-bridge'] });
  try {
    const target = { kind: 'wamp' as const, url: router.url };
    const subscriber = await RawSession.open(target, 'sub', 'json');
    let received = 0;
    await subscriber.subscribe('bench.bridge');
    subscriber.onMessage = () => received++;
    const publisher = await RawSession.open(target, 'pub', 'json');
    const publishUrl = new URL(router.url.replace(/^ws/, 'http').replace(/\/ws$/, '/publish'));
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    const body = JSON.stringify({ topic: 'bench.bridge', args: ['hello'], kwargs: { n: 1 } });

    const post = () =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          publishUrl,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
          (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`POST answered ${res.statusCode}`))));
          },
        );
        req.on('error', reject);
        req.end(body);
      });

    let request_ = 0;
    const waiting = new Map<number, () => void>();
    publisher.onMessage = (m) => {
      if (m[0] === 17) waiting.get(m[1] as number)?.();
      waiting.delete(m[1] as number);
    };
    const publish = () =>
      new Promise<void>((resolve) => {
        const id = ++request_;
        waiting.set(id, resolve);
        publisher.send([16, id, { acknowledge: true }, 'bench.bridge', ['hello'], { n: 1 }]);
      });

    const measure = async (one: () => Promise<void>): Promise<Row> => {
      const before = received;
      let started = 0;
      const cpu0 = await router.request<CpuSample>('cpu');
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (started < count) {
            started++;
            await one();
          }
        }),
      );
      const wallMs = performance.now() - t0;
      const cpu1 = await router.request<CpuSample>('cpu');
      const deadline = Date.now() + 5000;
      while (received - before < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      if (received - before < count) throw new Error(`the subscriber got ${received - before} of ${count} events`);
      return { perSecond: (count / wallMs) * 1000, cpuUsPerOp: cpuUs(cpu0, cpu1) / count };
    };

    const best = (rows: Row[]) => rows.reduce((a, b) => (b.cpuUsPerOp < a.cpuUsPerOp ? b : a));
    const wamp: Row[] = [];
    const http: Row[] = [];
    await measure(publish); // warm-up
    await measure(post);
    for (let round = 1; round <= ROUNDS; round++) {
      report.log(`round ${round}`);
      wamp.push(await measure(publish));
      http.push(await measure(post));
    }
    const w = best(wamp);
    const h = best(http);
    const line = (name: string, r: Row) => `| ${name} | ${Math.round(r.perSecond)} | ${r.cpuUsPerOp.toFixed(1)} |`;
    report.finish(
      [
        '| Publish by | publications/s | router CPU µs per publication |',
        '|---|---|---|',
        line('WAMP PUBLISH (WebSocket, acknowledged)', w),
        line('HTTP POST to the publisher', h),
        `| **HTTP ÷ WAMP** | **${(h.perSecond / w.perSecond).toFixed(2)}×** | **${(h.cpuUsPerOp / w.cpuUsPerOp).toFixed(2)}×** |`,
        '',
        `Every round (CPU µs/op, WAMP then HTTP): ${wamp.map((r, i) => `${r.cpuUsPerOp.toFixed(1)}/${http[i]!.cpuUsPerOp.toFixed(1)}`).join(', ')}`,
      ].join('\n'),
    );
    agent.destroy();
    await publisher.close();
    await subscriber.close();
  } finally {
    await router.stop();
  }
}
