/**
 * The wire fuzzer: fast-check cases from the dictionaries (dictionaries.ts),
 * written as raw bytes (wire-model.ts), judged by the oracle (oracle.ts) and
 * the harness's rules (harness.ts), over every listener type and serializer
 * of a router in a child process (router-process.ts).
 *
 * Runs are spread evenly over the endpoint x serializer combinations, each
 * with its own seed (base seed + combination index), so a failure is
 * reproducible from the printed seed alone. Cases run one at a time on fresh
 * connections over one router; liveness and the bystanders are checked after
 * every case, heap, sessions and the locked realm after every BATCH cases and
 * at the end. Cases that could end in a denied login run on the TCP twin of a
 * Unix endpoint (see `mayDenyAuthentication`).
 */
import fc from 'fast-check';
import type { SerializerName } from '../../src/serializers/index.ts';
import { ENDPOINT_NAMES, type EndpointName, type RouterProcess } from '../helpers/router-process.ts';
import { messageArbitrary, scriptMessages } from './dictionaries.ts';
import { type Guard, distinctFaults, mayDenyAuthentication, runCase, tcpTwin, type Case } from './harness.ts';
import { SESSION_STATES, verdict, type SessionState } from './oracle.ts';
import type { Node } from './wire-model.ts';

export const SERIALIZERS: readonly SerializerName[] = ['json', 'msgpack', 'cbor'];
/** Cases between heap/session/locked-realm checks. */
export const BATCH = 25;

export interface FuzzStats {
  cases: number;
  /** Cases whose first message the oracle says must be ABORTed. */
  mustAbort: number;
  /** The same, by session state (the rest got "any answer": well-formed enough to reach the dealer, broker or authenticator). */
  mustAbortByState: Record<SessionState, number>;
  /** Cases moved from a Unix endpoint to its TCP twin. */
  rerouted: number;
  byState: Record<SessionState, number>;
  /** The slowest case, ms from sending to its answer or close. */
  slowestMs: number;
}

export function newStats(): FuzzStats {
  const perState = () => ({ 'before-hello': 0, authenticating: 0, joined: 0, 'after-goodbye': 0 });
  return { cases: 0, mustAbort: 0, mustAbortByState: perState(), rerouted: 0, byState: perState(), slowestMs: 0 };
}

/** One line of numbers for a run. */
export function describeStats(stats: FuzzStats): string {
  const states = Object.keys(stats.byState) as SessionState[];
  const perState = states.map((s) => `${s} ${stats.byState[s]} (${stats.mustAbortByState[s]} ABORT)`).join(', ');
  return `${stats.cases} cases, ${stats.mustAbort} that had to be ABORTed; by state: ${perState}; ${stats.rerouted} moved off the Unix sockets; slowest case ${stats.slowestMs} ms`;
}

/** The case arbitrary: a session state and one to three messages (mostly one: the first decides the verdict), or a little session script. */
export function caseArbitrary(): fc.Arbitrary<{ state: SessionState; messages: Node[] }> {
  const message = messageArbitrary();
  return fc.record({
    // Mostly joined, where the most code runs; the other states refuse most messages early.
    state: fc.oneof(
      { weight: 9, arbitrary: fc.constant<SessionState>('joined') },
      { weight: 11, arbitrary: fc.constantFrom(...SESSION_STATES.filter((s) => s !== 'joined')) },
    ),
    messages: fc.oneof(
      { weight: 8, arbitrary: fc.tuple(message).map((m) => [...m]) },
      { weight: 2, arbitrary: fc.array(message, { minLength: 2, maxLength: 3 }) },
      { weight: 1, arbitrary: scriptMessages },
    ),
  });
}

/**
 * Runs `runs` cases on one endpoint and serializer with `seed`; throws the
 * first failure (fast-check's report: seed, path, counterexample, error).
 */
export async function fuzzCombo(
  router: RouterProcess,
  guard: Guard,
  endpoint: EndpointName,
  serializer: SerializerName,
  runs: number,
  seed: number,
  stats: FuzzStats,
): Promise<void> {
  let sinceBatch = 0;
  await fc.assert(
    fc.asyncProperty(caseArbitrary(), async ({ state, messages }) => {
      let target = endpoint;
      if (tcpTwin(endpoint) !== endpoint && mayDenyAuthentication({ serializer, state, messages })) {
        target = tcpTwin(endpoint);
        stats.rerouted++;
      }
      const c: Case = { endpoint: target, serializer, state, messages };
      stats.cases++;
      stats.byState[state]++;
      if (verdict(messages[0], serializer, state, router.maxMessageSize).abort) {
        stats.mustAbort++;
        stats.mustAbortByState[state]++;
      }
      const inFlight = await guard.bystanders.begin();
      const outcome = await runCase({ router }, c).catch((err: Error) => {
        // The router's uncaught exceptions say most about why a case failed: show them with it.
        const faults = distinctFaults(guard.takeFaults());
        if (faults.length) err.message += `\n${faults.join('\n')}`;
        throw err;
      });
      stats.slowestMs = Math.max(stats.slowestMs, outcome.ms);
      await guard.checkAlive();
      await guard.bystanders.finish(inFlight);
      if (++sinceBatch >= BATCH) {
        sinceBatch = 0;
        await guard.checkBatch();
      }
    }),
    { numRuns: runs, seed, endOnFailure: true, includeErrorInReport: true },
  );
  await guard.checkBatch();
}

/** Every endpoint x serializer combination, runs spread evenly (at least one each). */
export function combos(
  total: number,
  endpoints: readonly EndpointName[] = ENDPOINT_NAMES,
  serializers = SERIALIZERS,
): Array<{ endpoint: EndpointName; serializer: SerializerName; runs: number; index: number }> {
  const list = endpoints.flatMap((endpoint) => serializers.map((serializer) => ({ endpoint, serializer })));
  return list.map((c, index) => ({
    ...c,
    index,
    runs: Math.max(1, Math.floor(total / list.length) + (index < total % list.length ? 1 : 0)),
  }));
}
