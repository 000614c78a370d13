/**
 * A 30-second soak in `npm test` (`npm run soak` runs 10 minutes): mixed RPC
 * and PubSub with session churn. Memory growth stays under a stated bound,
 * and no session, timer or socket is left behind.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useRouter } from '../helpers/node.ts';
import { soak } from './soak-load.ts';
import { settle, snapshot } from './process-state.ts';

const router = useRouter();
const SECONDS = Number(process.env.KREUZ_SOAK_SECONDS ?? 30);
/** Heap growth allowed over the run (router and load share this process). */
const HEAP_BOUND_MB = 20;

/** Sessions on realm1 other than the router's own. */
const clientSessions = () => [...router.node.router.realms.get('realm1')!.sessions.values()].filter((s) => !s.internal).length;

describe('soak', () => {
  it(`runs ${SECONDS} s of mixed load with churn and leaves nothing behind`, async () => {
    await soak(router.url, 2000); // warm-up: code paths, caches
    const before = await snapshot();
    const stats = await soak(router.url, SECONDS * 1000);
    await settle(() => clientSessions() === 0); // the router's own sessions (meta API, node API) stay
    const after = await snapshot();
    const growth = (after.heapUsed - before.heapUsed) / 2 ** 20;
    console.log(
      `soak: ${JSON.stringify(stats)}; heap ${(before.heapUsed / 2 ** 20).toFixed(1)} -> ${(after.heapUsed / 2 ** 20).toFixed(1)} MB` +
        ` (growth ${growth.toFixed(1)} MB, bound ${HEAP_BOUND_MB}); handles ${before.handles} -> ${after.handles}`,
    );
    assert.ok(stats.calls > 1000 && stats.events > 1000 && stats.churnSessions > 50, `load ran: ${JSON.stringify(stats)}`);
    assert.equal(stats.callErrors, 0, 'steady calls never failed');
    assert.equal(clientSessions(), 0, "only the router's own sessions are left");
    assert.ok(growth < HEAP_BOUND_MB, `heap grew by ${growth.toFixed(1)} MB`);
    assert.ok(after.handles <= before.handles, `handles (sockets, timers) left behind: ${before.handles} -> ${after.handles}`);
  });
});
