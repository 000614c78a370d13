/**
 * The cluster feature suite (../shared/CLUSTER.md), run against every
 * backplane: cluster-memory.test.ts (the in-process network) and
 * cluster-nats.test.ts (a real nats-server). Each describe block starts its
 * own three nodes a, b, c on a fresh engine, and every case puts its clients
 * on different nodes.
 *
 * Propagation is awaited by polling toward a deadline (the caller's node
 * knows a registration once wamp.registration.lookup there names it, or a
 * call stops answering wamp.error.no_such_procedure), never by sleeping.
 * Events need no waiting: a publication goes to every node, so SUBSCRIBED
 * before PUBLISH is enough wherever the publisher is.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { Wampy } from 'wampy';
import { CborSerializer } from 'wampy/CborSerializer.js';
import { JsonSerializer } from 'wampy/JsonSerializer.js';
import { MsgpackSerializer } from 'wampy/MsgpackSerializer.js';
import { autobahn, openAutobahn, within, type AbClient } from '../helpers/autobahn-js.ts';
import { requirePython, runPython } from '../helpers/python.ts';
import {
  CALL,
  CANCEL,
  ERROR,
  EVENT,
  GOODBYE,
  INTERRUPT,
  INVOCATION,
  REGISTERED,
  RESULT,
  UNREGISTERED,
  YIELD,
} from '../helpers/wamp-codes.ts';
import {
  type BackplaneFactory,
  type Client,
  type ClusterOptions,
  type Dict,
  type Msg,
  NODE_IDS,
  type NodeId,
  TestCluster,
  eventually,
  show,
  sortedIds,
} from './helpers.ts';

export type { BackplaneFactory } from './helpers.ts';

/** Steady clusters: a generous dead_after, so that a loaded machine never declares a live node dead. */
const STEADY: ClusterOptions = { heartbeat: 200, deadAfter: 3000 };
/** Failure cases: as fast as the design allows tests to be (CLUSTER.md, section 9). */
const FAST: ClusterOptions = { heartbeat: 100, deadAfter: 300 };
/** CLUSTER.md: a dead node's entries vanish within dead_after + 0.5 s; the tests allow 2 s. */
const GONE_WITHIN = 2000;

const CANCELED = 'wamp.error.canceled';
const NO_SUCH_PROCEDURE = 'wamp.error.no_such_procedure';

const PYTHON_SCRIPT = fileURLToPath(new URL('./cluster_python.py', import.meta.url));

/** The registration ID once `client`'s node knows (uri, match), with `callees` callees when given. */
async function known(client: Client, uri: string, match = 'exact', callees?: number): Promise<number> {
  const id = await eventually(
    () => client.meta('wamp.registration.lookup', [uri, { match }]),
    (value) => value !== null,
    `registration ${uri} (${match}) known on ${client.label}`,
  );
  if (callees !== undefined) {
    await eventually(
      () => client.meta('wamp.registration.count_callees', [id]),
      (n) => n === callees,
      `${callees} callees of ${uri} on ${client.label}`,
    );
  }
  return id;
}

/** The subscription ID once `client`'s node knows (uri, match). */
function knownSubscription(client: Client, uri: string, match = 'exact'): Promise<number> {
  return eventually(
    () => client.meta('wamp.subscription.lookup', [uri, { match }]),
    (value) => value !== null,
    `subscription ${uri} (${match}) known on ${client.label}`,
  );
}

/** The callee answers each INVOCATION of `registration` with [name, Details.procedure or null]. */
function answerAs(callee: Client, registration: number, name: string): void {
  callee.serve(registration, (inv) => [{}, [name, inv[3].procedure ?? null]]);
}

const isError = (reply: Msg, uri: string) => reply[0] === ERROR && reply[4] === uri;

/** Never rejects: the outcome of `promise` and when it came (ms after `since`). */
interface Settled<T> {
  ok: boolean;
  value?: T;
  error?: unknown;
  ms: number;
}
function settle<T>(promise: Promise<T>, since: number): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value, ms: Date.now() - since }),
    (error: unknown) => ({ ok: false, error, ms: Date.now() - since }),
  );
}
function settled<T>(outcome: Settled<T>, what: string): T {
  if (!outcome.ok) throw outcome.error instanceof Error ? outcome.error : new Error(`${what}: ${show(outcome.error)}`);
  assert.ok(outcome.ms <= GONE_WITHIN, `${what}: after ${outcome.ms} ms, over ${GONE_WITHIN} ms`);
  return outcome.value as T;
}

/** Retries `call` while it fails with wamp.error.no_such_procedure (`uriOf` reads a client library's error). */
async function retryUnknown<T>(call: () => Promise<T>, uriOf: (err: any) => unknown, what: string, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  for (let tries = 0; ; tries++) {
    try {
      return await within(call(), 3000, what);
    } catch (err) {
      if (uriOf(err) !== NO_SUCH_PROCEDURE || Date.now() > deadline || tries > 1000) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

export interface SuiteExtras {
  /** The engine can cut a node off (`Backplanes.cut`): the failure cases run that way too. */
  cut?: boolean;
}

export function clusterSuite(label: string, backplanes: BackplaneFactory, extras: SuiteExtras = {}): void {
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  let clusters = 0;
  let uris = 0;
  /** A URI no other case uses. */
  const fresh = (what: string) => `com.kreuz.cluster.${what}.u${++uris}`;

  /** One cluster for the cases of the enclosing describe; their clients are dropped after each. */
  function useCluster(options = STEADY): () => TestCluster {
    let cluster: TestCluster | undefined;
    before(async () => {
      cluster = await TestCluster.start(backplanes, `${slug}-${++clusters}`, options);
    });
    afterEach(() => cluster?.dropClients());
    after(async () => {
      await cluster?.close();
    });
    return () => {
      assert.ok(cluster, 'the cluster did not start');
      return cluster;
    };
  }

  describe(`cluster over ${label}`, () => {
    // ---------------------------------------------------------------- RPC
    describe('RPC across nodes', () => {
      const cluster = useCluster();

      it('a call from A reaches a callee on B: exact, prefix and wildcard registrations', async () => {
        const c = cluster();
        const callee = await c.join('b', { serializer: 'json' });
        const caller = await c.join('a', { serializer: 'msgpack' });
        const base = fresh('match');
        const regs = {
          exact: await callee.register(`${base}.exact`),
          prefix: await callee.register(`${base}.pre`, { match: 'prefix' }),
          wildcard: await callee.register(`${base}..wild`, { match: 'wildcard' }),
        };
        for (const [name, id] of Object.entries(regs)) {
          // The whole INVOCATION.Details come back: nothing of the hop between the nodes may show in them.
          callee.serve(id, (inv) => [{}, [name, inv[3], ...inv[4]], inv[5]]);
        }
        const exact = await caller.callWhenKnown(`${base}.exact`, [1, 'two'], { k: 'v' });
        assert.deepEqual(exact.slice(2), [{}, ['exact', {}, 1, 'two'], { k: 'v' }], show(exact));
        const prefix = await caller.callWhenKnown(`${base}.pre.x.y`, [3]);
        assert.deepEqual(prefix.slice(2), [{}, ['prefix', { procedure: `${base}.pre.x.y` }, 3]], show(prefix));
        const wildcard = await caller.callWhenKnown(`${base}.any.wild`, [4]);
        assert.deepEqual(wildcard.slice(2), [{}, ['wildcard', { procedure: `${base}.any.wild` }, 4]], show(wildcard));
        const missing = await caller.call(`${base}.nothing`);
        assert.ok(isError(missing, NO_SUCH_PROCEDURE), show(missing));
      });

      it('one-node precedence with the registrations on different nodes: exact, then the longest prefix, then a wildcard', async () => {
        const c = cluster();
        const base = fresh('prec');
        const onB = await c.join('b', { serializer: 'cbor' });
        const onC = await c.join('c', { serializer: 'json' });
        const caller = await c.join('a', { serializer: 'msgpack' });
        const exact = await onB.register(`${base}.a.b.c`);
        const long = await onC.register(`${base}.a.b`, { match: 'prefix' });
        const short = await onB.register(`${base}.a`, { match: 'prefix' });
        const wild = await onC.register(`${base}..b.c`, { match: 'wildcard' });
        answerAs(onB, exact, 'exact');
        answerAs(onC, long, 'long');
        answerAs(onB, short, 'short');
        answerAs(onC, wild, 'wildcard');
        await known(caller, `${base}.a.b.c`);
        await known(caller, `${base}.a.b`, 'prefix');
        await known(caller, `${base}.a`, 'prefix');
        await known(caller, `${base}..b.c`, 'wildcard');
        const routed = async (uri: string) => (await caller.result(uri))[3];
        assert.deepEqual(await routed(`${base}.a.b.c`), ['exact', null]);
        assert.deepEqual(await routed(`${base}.a.b.zzz`), ['long', `${base}.a.b.zzz`]);
        assert.deepEqual(await routed(`${base}.a.q`), ['short', `${base}.a.q`]);
        assert.deepEqual(await routed(`${base}.q.b.c`), ['wildcard', `${base}.q.b.c`]);
        // Take the winners away one by one: the next rule decides, on the caller's node too.
        const next = async (uri: string, name: string) =>
          eventually(
            () => caller.call(uri),
            (r) => r[0] === RESULT && r[3][0] === name,
            `${uri} routed to ${name}`,
          );
        await onB.unregister(exact);
        await next(`${base}.a.b.c`, 'long');
        await onC.unregister(long);
        await next(`${base}.a.b.c`, 'short');
        await onB.unregister(short);
        await next(`${base}.a.b.c`, 'wildcard');
      });

      it('single: of two sessions on two nodes registering one URI at the same moment, exactly one gets REGISTERED (50 rounds)', async () => {
        const c = cluster();
        const onA = await c.join('a', { serializer: 'json' });
        const onB = await c.join('b', { serializer: 'msgpack' });
        const third = await c.join('c', { serializer: 'cbor' });
        const winners: Array<[string, number]> = [];
        const wins = { a: 0, b: 0 };
        for (let round = 0; round < 50; round++) {
          const uri = fresh('race');
          // Both REGISTERs leave in the same turn of the event loop.
          const [ra, rb] = await Promise.all([onA.tryRegister(uri), onB.tryRegister(uri)]);
          const ok = [ra, rb].filter((r) => r[0] === REGISTERED);
          const refused = [ra, rb].filter((r) => r[0] === ERROR);
          assert.equal(ok.length, 1, `round ${round}: exactly one REGISTERED: ${show([ra, rb])}`);
          assert.equal(refused.length, 1, `round ${round}: ${show([ra, rb])}`);
          assert.equal(refused[0][4], 'wamp.error.procedure_already_exists', `round ${round}: ${show(refused[0])}`);
          wins[ra[0] === REGISTERED ? 'a' : 'b']++;
          winners.push([uri, ok[0][2]]);
        }
        // Every node agrees on the winner's registration.
        for (const [uri, id] of winners) assert.equal(await known(third, uri), id, `${uri}: the third node sees the winner's ID`);
        assert.equal(wins.a + wins.b, 50);
      });

      for (const invoke of ['roundrobin', 'random'] as const) {
        it(`shared registration, ${invoke}: calls from A use the callees on every node`, async () => {
          const c = cluster();
          const uri = fresh(invoke);
          for (const [i, node] of NODE_IDS.entries()) {
            const callee = await c.join(node, { serializer: (['json', 'msgpack', 'cbor'] as const)[i] });
            answerAs(callee, await callee.register(uri, { invoke }), node);
          }
          const caller = await c.join('a', { serializer: 'cbor' });
          await known(caller, uri, 'exact', 3);
          const seen: string[] = [];
          for (let i = 0; i < (invoke === 'roundrobin' ? 6 : 60); i++) seen.push((await caller.result(uri))[3][0]);
          assert.deepEqual([...new Set(seen)].sort(), ['a', 'b', 'c'], `every node's callee: ${seen.join(',')}`);
          if (invoke === 'roundrobin') {
            // One cycle over the three callees, then the same cycle again.
            assert.deepEqual(seen.slice(3), seen.slice(0, 3), `round robin: ${seen.join(',')}`);
          }
        });
      }

      for (const invoke of ['first', 'last'] as const) {
        it(`shared registration, ${invoke}: follows the cluster-wide registration order, also after that callee leaves`, async () => {
          const c = cluster();
          const uri = fresh(invoke);
          const callees = new Map<NodeId, Client>();
          // One after another: a, then b, then c (each REGISTERED before the next REGISTER).
          for (const node of NODE_IDS) {
            const callee = await c.join(node, { serializer: node === 'b' ? 'msgpack' : 'json' });
            answerAs(callee, await callee.register(uri, { invoke }), node);
            callees.set(node, callee);
          }
          const callers = [await c.join('a', { serializer: 'cbor' }), await c.join('b'), await c.join('c', { serializer: 'msgpack' })];
          for (const caller of callers) await known(caller, uri, 'exact', 3);
          const expected = invoke === 'first' ? 'a' : 'c';
          for (const caller of callers) {
            for (let i = 0; i < 3; i++) assert.equal((await caller.result(uri))[3][0], expected, `${invoke} from ${caller.label}`);
          }
          // That callee goes (first: with GOODBYE; last: its connection drops): b is now at that end everywhere.
          if (invoke === 'first') await callees.get('a')!.goodbye();
          else callees.get('c')!.drop();
          for (const caller of callers) {
            await eventually(
              () => caller.call(uri),
              (r) => r[0] === RESULT && r[3][0] === 'b',
              `${invoke} from ${caller.label} goes to b`,
            );
            await known(caller, uri, 'exact', 2);
            for (let i = 0; i < 3; i++) assert.equal((await caller.result(uri))[3][0], 'b', `${invoke} from ${caller.label}`);
          }
        });
      }

      it('an invocation policy conflict across nodes is refused, wherever the first callee lives', async () => {
        const c = cluster();
        const uri = fresh('policy');
        const onB = await c.join('b', { serializer: 'msgpack' });
        const onC = await c.join('c', { serializer: 'cbor' });
        const onA = await c.join('a');
        const id = await onB.register(uri, { invoke: 'roundrobin' });
        const conflict = await onC.tryRegister(uri, { invoke: 'first' });
        assert.ok(isError(conflict, 'wamp.error.procedure_exists_with_different_invocation_policy'), show(conflict));
        const conflictA = await onA.tryRegister(uri, { invoke: 'single' });
        assert.ok(isError(conflictA, 'wamp.error.procedure_exists_with_different_invocation_policy'), show(conflictA));
        // The same policy joins the registration: one ID on every node.
        assert.equal(await onC.register(uri, { invoke: 'roundrobin' }), id);
        // A `single` registration takes no second callee from any node.
        const single = fresh('policy.single');
        await onA.register(single);
        const taken = await onC.tryRegister(single, { invoke: 'roundrobin' });
        assert.ok(isError(taken, 'wamp.error.procedure_already_exists'), show(taken));
      });

      it('progressive call results from a callee on B reach the caller on A in order', async () => {
        const c = cluster();
        const uri = fresh('progress.results');
        const callee = await c.join('b', { serializer: 'msgpack' });
        const caller = await c.join('a', { serializer: 'json' });
        const reg = await callee.register(uri);
        await known(caller, uri);
        const request = caller.callNoWait(uri, [3], undefined, { receive_progress: true });
        const inv = await callee.invocation(reg);
        assert.equal(inv[3].receive_progress, true, `INVOCATION.Details: ${show(inv[3])}`);
        for (let i = 0; i < 3; i++) callee.send([YIELD, inv[1], { progress: true }, ['chunk', i]]);
        callee.send([YIELD, inv[1], {}, ['done']]);
        for (let i = 0; i < 3; i++) {
          const chunk = await caller.take((m) => m[0] === RESULT && m[1] === request, `progressive RESULT ${i}`);
          assert.deepEqual(chunk.slice(2), [{ progress: true }, ['chunk', i]]);
        }
        const final = await caller.outcome(request);
        assert.deepEqual(final.slice(2), [{}, ['done']]);
      });

      it('progressive call invocations: CALL chunks from A reach the callee on B as INVOCATION chunks, in order', async () => {
        const c = cluster();
        const uri = fresh('progress.invocations');
        const callee = await c.join('b', { serializer: 'cbor' });
        const caller = await c.join('a', { serializer: 'msgpack' });
        const reg = await callee.register(uri);
        await known(caller, uri);
        const request = caller.nextRequest();
        caller.send([CALL, request, { progress: true }, uri, ['c1']]);
        caller.send([CALL, request, { progress: true }, uri, ['c2']]);
        caller.send([CALL, request, {}, uri, ['c3']]);
        const first = await callee.invocation(reg);
        assert.equal(first[3].progress, true, show(first));
        assert.deepEqual(first[4], ['c1']);
        const chunk = (what: string) => callee.take((m) => m[0] === INVOCATION && m[1] === first[1], what);
        const second = await chunk('the second chunk');
        assert.deepEqual([second[2], second[3], second[4]], [reg, { progress: true }, ['c2']], show(second));
        const third = await chunk('the last chunk');
        assert.deepEqual([third[2], third[3], third[4]], [reg, {}, ['c3']], show(third));
        callee.send([YIELD, first[1], {}, ['got', 3]]);
        const result = await caller.outcome(request);
        assert.deepEqual(result.slice(2), [{}, ['got', 3]], show(result));
      });

      /** A call from a caller on A in flight at a callee on B (which announces call_canceling). */
      async function inFlight(c: TestCluster, options: Dict = {}) {
        const uri = fresh('inflight');
        const callee = await c.join('b', { serializer: 'json' });
        const caller = await c.join('a', { serializer: 'cbor' });
        const reg = await callee.register(uri);
        await known(caller, uri);
        const request = caller.callNoWait(uri, ['work'], undefined, options);
        const inv = await callee.invocation(reg);
        const interrupt = () => callee.take((m) => m[0] === INTERRUPT && m[1] === inv[1], 'INTERRUPT');
        return { uri, callee, caller, reg, request, inv, interrupt };
      }

      /** The late answer is dropped: a second call is answered, and the caller sees nothing else for the first. */
      async function lateAnswerDropped(f: Awaited<ReturnType<typeof inFlight>>): Promise<void> {
        f.callee.send([YIELD, f.inv[1], {}, ['late']]);
        const second = f.caller.callNoWait(f.uri, ['again']);
        const inv2 = await f.callee.invocation(f.reg);
        f.callee.send([YIELD, inv2[1], {}, ['second']]);
        assert.deepEqual((await f.caller.outcome(second)).slice(2), [{}, ['second']]);
        assert.deepEqual(
          f.caller.pending((m) => m[1] === f.request || m[2] === f.request),
          [],
          'nothing more for the canceled call',
        );
      }

      it('cancel, mode skip: the caller on A gets wamp.error.canceled at once, the callee on B no INTERRUPT', async () => {
        const f = await inFlight(cluster());
        f.caller.send([CANCEL, f.request, { mode: 'skip' }]);
        const canceled = await f.caller.outcome(f.request);
        assert.ok(isError(canceled, CANCELED), show(canceled));
        await lateAnswerDropped(f);
        // Frames from A to B keep their order: an INTERRUPT would have come before the second INVOCATION.
        assert.deepEqual(
          f.callee.pending((m) => m[0] === INTERRUPT),
          [],
          'skip sends no INTERRUPT',
        );
      });

      it("cancel, mode kill: the callee on B gets INTERRUPT, and its answer ends the caller's call", async () => {
        const f = await inFlight(cluster());
        f.caller.send([CANCEL, f.request, { mode: 'kill' }]);
        const interrupt = await f.interrupt();
        assert.equal(interrupt[2].mode, 'kill', show(interrupt));
        assert.deepEqual(
          f.caller.pending((m) => m[1] === f.request || m[2] === f.request),
          [],
          'kill: the caller waits for the callee',
        );
        f.callee.send([ERROR, INVOCATION, f.inv[1], {}, CANCELED, ['stopped']]);
        const canceled = await f.caller.outcome(f.request);
        assert.ok(isError(canceled, CANCELED), show(canceled));
        assert.deepEqual(canceled[5], ['stopped']);
      });

      it('cancel, mode killnowait: wamp.error.canceled at once, INTERRUPT to the callee on B, its late answer dropped', async () => {
        const f = await inFlight(cluster());
        f.caller.send([CANCEL, f.request, { mode: 'killnowait' }]);
        const canceled = await f.caller.outcome(f.request);
        assert.ok(isError(canceled, CANCELED), show(canceled));
        const interrupt = await f.interrupt();
        assert.equal(interrupt[2].mode, 'killnowait', show(interrupt));
        await lateAnswerDropped(f);
      });

      it('a call timeout (CALL.Options.timeout) ends in wamp.error.canceled, with INTERRUPT to the callee on B', async () => {
        const started = Date.now();
        const f = await inFlight(cluster(), { timeout: 300 });
        const canceled = await f.caller.outcome(f.request, 5000);
        assert.ok(isError(canceled, CANCELED), show(canceled));
        assert.ok(Date.now() - started >= 250, 'not before the timeout');
        const interrupt = await f.interrupt();
        assert.equal(interrupt[2].mode, 'killnowait', show(interrupt));
      });

      it('caller disclosure: disclose_me and disclose_caller give caller, caller_authid and caller_authrole', async () => {
        const c = cluster();
        const plain = fresh('disclose.plain');
        const disclosing = fresh('disclose.callee');
        const callee = await c.join('b', { serializer: 'json' });
        const caller = await c.join('a', { serializer: 'msgpack', authid: 'alice' });
        assert.deepEqual([caller.authid, caller.authrole], ['alice', 'frontend']);
        for (const reg of [await callee.register(plain), await callee.register(disclosing, { disclose_caller: true })]) {
          callee.serve(reg, (inv) => [{}, [inv[3]]]);
        }
        const identity = { caller: caller.session, caller_authid: 'alice', caller_authrole: 'frontend' };
        const pick = (details: Dict) => ({
          caller: details.caller,
          caller_authid: details.caller_authid,
          caller_authrole: details.caller_authrole,
        });
        const asked = await caller.callWhenKnown(plain, [], undefined, { disclose_me: true });
        assert.deepEqual(pick(asked[3][0]), identity, `disclose_me: ${show(asked)}`);
        const byCallee = await caller.callWhenKnown(disclosing);
        assert.deepEqual(pick(byCallee[3][0]), identity, `disclose_caller: ${show(byCallee)}`);
        const hidden = await caller.result(plain);
        assert.equal('caller' in hidden[3][0], false, `no disclosure: ${show(hidden)}`);
      });

      it("concurrency: a callee on B with concurrency 1 takes one call at a time, from any node's callers", async () => {
        const c = cluster();
        const uri = fresh('concurrency');
        const callee = await c.join('b', { serializer: 'cbor' });
        const callerA = await c.join('a', { serializer: 'json' });
        const callerC = await c.join('c', { serializer: 'msgpack' });
        const reg = await callee.register(uri, { concurrency: 1 });
        await known(callerA, uri);
        await known(callerC, uri);
        const first = callerA.callNoWait(uri, [1]);
        const inv = await callee.invocation(reg);
        const fromA = await callerA.call(uri, [2]);
        assert.ok(isError(fromA, 'crossbar.error.max_concurrency_reached'), `from A: ${show(fromA)}`);
        // C's node does not know A's call: the callee's node enforces the limit.
        const fromC = await callerC.call(uri, [3]);
        assert.ok(isError(fromC, 'crossbar.error.max_concurrency_reached'), `from C: ${show(fromC)}`);
        callee.send([YIELD, inv[1], {}, ['one']]);
        assert.deepEqual((await callerA.outcome(first)).slice(2), [{}, ['one']]);
        // The slot is free again.
        const next = callerC.callNoWait(uri, [4]);
        const inv2 = await callee.invocation(reg);
        assert.deepEqual(inv2[4], [4]);
        callee.send([YIELD, inv2[1], {}, ['four']]);
        assert.deepEqual((await callerC.outcome(next)).slice(2), [{}, ['four']]);
      });

      it('a callee on B disconnecting while a call from A is in flight: the caller gets wamp.error.canceled', async () => {
        const f = await inFlight(cluster());
        f.callee.drop();
        const canceled = await f.caller.outcome(f.request);
        assert.ok(isError(canceled, CANCELED), show(canceled));
      });
    });

    // ---------------------------------------------------------------- PubSub
    describe('PubSub across nodes', () => {
      const cluster = useCluster();

      it('events reach subscribers on every node: exact, prefix and wildcard subscriptions, one subscription ID everywhere', async () => {
        const c = cluster();
        const base = fresh('topics');
        const topic = `${base}.x.y`;
        const publisher = await c.join('a', { serializer: 'json' });
        const subscribers = [
          await c.join('a', { serializer: 'msgpack' }),
          await c.join('b', { serializer: 'cbor' }),
          await c.join('c', { serializer: 'json' }),
        ];
        const subs: Array<{ exact: number; prefix: number; wildcard: number }> = [];
        for (const s of subscribers) {
          subs.push({
            exact: await s.subscribe(topic),
            prefix: await s.subscribe(`${base}.x`, { match: 'prefix' }),
            wildcard: await s.subscribe(`${base}..y`, { match: 'wildcard' }),
          });
        }
        for (const ids of subs.slice(1)) assert.deepEqual(ids, subs[0], 'subscription IDs are the same on every node');
        const publication = await publisher.publish(topic, ['hi'], { k: 1 });
        for (const [i, s] of subscribers.entries()) {
          for (const [kind, id] of Object.entries(subs[i])) {
            const event = await s.event(id);
            const details = kind === 'exact' ? {} : { topic };
            assert.deepEqual(event, [EVENT, id, publication, details, ['hi'], { k: 1 }], `${kind} on ${s.label}`);
          }
        }
      });

      it('one publication ID everywhere: PUBLISHED on A names the EVENTs on every node', async () => {
        const c = cluster();
        const topic = fresh('pubid');
        const subscribers = [await c.join('a'), await c.join('b', { serializer: 'msgpack' }), await c.join('c', { serializer: 'cbor' })];
        const ids = [];
        for (const s of subscribers) ids.push(await s.subscribe(topic));
        const publisher = await c.join('a', { serializer: 'cbor' });
        for (let round = 0; round < 3; round++) {
          const publication = await publisher.publish(topic, [round]);
          for (const [i, s] of subscribers.entries()) {
            const event = await s.event(ids[i]);
            assert.equal(event[2], publication, `${s.label}, round ${round}: ${show(event)}`);
          }
        }
      });

      it('exclude / eligible by session ID, authid and authrole reach across nodes', async () => {
        const c = cluster();
        const topic = fresh('lists');
        const s1 = await c.join('a', { authid: 'alice', serializer: 'json' }); // frontend
        const s2 = await c.join('b', { authid: 'bob', serializer: 'msgpack' }); // backend
        const s3 = await c.join('c', { serializer: 'cbor' }); // anonymous
        const subscribers = { s1, s2, s3 };
        const subscriptions = new Map<Client, number>();
        for (const s of Object.values(subscribers)) subscriptions.set(s, await s.subscribe(topic));
        const publisher = await c.join('b', { serializer: 'json' });
        const cases: Array<[Dict, string[]]> = [
          [{ exclude: [s1.session] }, ['s2', 's3']],
          [{ eligible: [s3.session] }, ['s3']],
          [{ eligible: [s1.session, s2.session] }, ['s1', 's2']],
          [{ exclude_authid: ['bob'] }, ['s1', 's3']],
          [{ eligible_authid: ['alice'] }, ['s1']],
          [{ exclude_authrole: ['frontend'] }, ['s2', 's3']],
          [{ eligible_authrole: ['backend', 'anonymous'] }, ['s2', 's3']],
          [{ eligible_authrole: ['anonymous'], exclude: [s3.session] }, []],
        ];
        for (const [i, [options]] of cases.entries()) await publisher.publish(topic, [i], undefined, options);
        // Events from one publisher reach one subscriber in order: the fence comes after all of them.
        await publisher.publish(topic, ['fence']);
        const got = new Map<string, number[]>();
        for (const [name, s] of Object.entries(subscribers)) {
          const events = await s.eventsUntil(subscriptions.get(s)!, 'fence');
          got.set(
            name,
            events.slice(0, -1).map((e) => e[4][0]),
          );
        }
        for (const [i, [options, expected]] of cases.entries()) {
          const reached = [...got].filter(([, indexes]) => indexes.includes(i)).map(([name]) => name);
          assert.deepEqual(reached, expected, `case ${i} ${show(options)}`);
        }
      });

      it('exclude_me: the publisher gets its own event only with exclude_me false; subscribers on other nodes get both', async () => {
        const c = cluster();
        const topic = fresh('excludeme');
        const publisher = await c.join('a', { serializer: 'msgpack' });
        const other = await c.join('c', { serializer: 'json' });
        const own = await publisher.subscribe(topic);
        const theirs = await other.subscribe(topic);
        await publisher.publish(topic, ['default']);
        await publisher.publish(topic, ['included'], undefined, { exclude_me: false });
        await publisher.publish(topic, ['fence'], undefined, { exclude_me: false });
        assert.deepEqual(
          (await publisher.eventsUntil(own, 'fence')).map((e) => e[4][0]),
          ['included', 'fence'],
        );
        assert.deepEqual(
          (await other.eventsUntil(theirs, 'fence')).map((e) => e[4][0]),
          ['default', 'included', 'fence'],
        );
      });

      it('publisher disclosure: disclose_me gives subscribers on other nodes publisher, publisher_authid and publisher_authrole', async () => {
        const c = cluster();
        const topic = fresh('disclosure');
        const publisher = await c.join('a', { authid: 'alice', serializer: 'cbor' });
        const subscribers = [await c.join('b', { serializer: 'json' }), await c.join('c', { serializer: 'msgpack' })];
        const ids = [];
        for (const s of subscribers) ids.push(await s.subscribe(topic));
        await publisher.publish(topic, ['disclosed'], undefined, { disclose_me: true });
        await publisher.publish(topic, ['hidden']);
        for (const [i, s] of subscribers.entries()) {
          const disclosed = await s.event(ids[i]);
          assert.deepEqual(
            disclosed[3],
            { publisher: publisher.session, publisher_authid: 'alice', publisher_authrole: 'frontend' },
            `${s.label}: ${show(disclosed)}`,
          );
          const hidden = await s.event(ids[i]);
          assert.deepEqual([hidden[3], hidden[4]], [{}, ['hidden']], `${s.label}: ${show(hidden)}`);
        }
      });

      it('order is kept from one publisher on A to one subscriber on B and on C (500 events)', async () => {
        const c = cluster();
        const topic = fresh('order');
        const subscribers = [await c.join('b', { serializer: 'msgpack' }), await c.join('c', { serializer: 'cbor' })];
        const ids = [];
        for (const s of subscribers) ids.push(await s.subscribe(topic));
        const publisher = await c.join('a', { serializer: 'json' });
        for (let i = 0; i < 500; i++) publisher.publishNoAck(topic, [i]);
        await publisher.publish(topic, ['end']);
        const expected = [...Array.from({ length: 500 }, (_, i) => i), 'end'];
        for (const [i, s] of subscribers.entries()) {
          const events = await s.eventsUntil(ids[i], 'end', 10_000);
          assert.deepEqual(
            events.map((e) => e[4][0]),
            expected,
            `${s.label} in order`,
          );
        }
      });

      it('retained events: published with retain on A, received with get_retained by a subscriber on C', async () => {
        const c = cluster();
        const topic = fresh('retained');
        // A subscriber on C that sees the publication tells when C has it (and so retains it).
        const sentinel = await c.join('c', { serializer: 'json' });
        const sentinelSub = await sentinel.subscribe(topic);
        const publisher = await c.join('a', { serializer: 'msgpack' });
        const publication = await publisher.publish(topic, ['kept'], { v: 1 }, { retain: true });
        await sentinel.event(sentinelSub);
        const late = await c.join('c', { serializer: 'cbor' });
        const sub = await late.subscribe(topic, { get_retained: true });
        const retained = await late.event(sub);
        assert.deepEqual(retained, [EVENT, sub, publication, { retained: true }, ['kept'], { v: 1 }], show(retained));
        // And with a pattern subscription on B (B had no subscriber when it was published).
        const patterned = await c.join('b', { serializer: 'json' });
        const prefixSub = await patterned.subscribe(topic.slice(0, topic.lastIndexOf('.')), { match: 'prefix', get_retained: true });
        const viaPrefix = await patterned.event(prefixSub);
        assert.deepEqual(viaPrefix, [EVENT, prefixSub, publication, { retained: true, topic }, ['kept'], { v: 1 }], show(viaPrefix));
      });
    });

    // ---------------------------------------------------------------- meta API
    describe('meta API across nodes', () => {
      const cluster = useCluster();

      it('wamp.session.count / list / get reflect the sessions of every node', async () => {
        const c = cluster();
        const carols = [
          await c.join('a', { authid: 'carol', serializer: 'json' }),
          await c.join('b', { authid: 'carol', serializer: 'msgpack' }),
          await c.join('c', { authid: 'carol', serializer: 'cbor' }),
        ];
        const metas = [await c.join('a', { serializer: 'cbor' }), await c.join('b'), await c.join('c', { serializer: 'msgpack' })];
        const everyone = sortedIds([...carols, ...metas].map((s) => s.session));
        const ids = sortedIds(carols.map((s) => s.session));
        const reference = new Map<number, Dict>();
        for (const [i, s] of carols.entries()) reference.set(s.session, await metas[i].meta('wamp.session.get', [s.session]));
        for (const m of metas) {
          await eventually(
            () => m.meta('wamp.session.count', [['counted']]),
            (n) => n === 3,
            `3 counted sessions on ${m.label}`,
          );
          assert.deepEqual(sortedIds(await m.meta('wamp.session.list', [['counted']])), ids, m.label);
          await eventually(
            async () => sortedIds(await m.meta('wamp.session.list')),
            (list) => show(list) === show(everyone),
            `every session of this case in wamp.session.list on ${m.label}`,
          );
          assert.equal(await m.meta('wamp.session.count'), everyone.length, m.label);
          for (const s of carols) {
            const details = await m.meta('wamp.session.get', [s.session]);
            assert.deepEqual(
              { ...details, transport: undefined },
              { ...reference.get(s.session), transport: undefined },
              `wamp.session.get ${s.label} on ${m.label}`,
            );
            assert.deepEqual(
              [details.session, details.realm, details.authid, details.authrole, details.authmethod],
              [s.session, 'realm1', 'carol', 'counted', 'ticket'],
            );
          }
        }
        await carols[1].goodbye();
        for (const m of metas) {
          await eventually(
            () => m.meta('wamp.session.list', [['counted']]),
            (list) => list.length === 2 && !list.includes(carols[1].session),
            `carol on b gone on ${m.label}`,
          );
          const gone = await m.call('wamp.session.get', [carols[1].session]);
          assert.ok(isError(gone, 'wamp.error.no_such_session'), show(gone));
        }
      });

      it('wamp.session.on_join / on_leave on A for sessions joining and leaving on B and C', async () => {
        const c = cluster();
        const watcher = await c.join('a', { serializer: 'cbor' });
        const onJoin = await watcher.subscribe('wamp.session.on_join');
        const onLeave = await watcher.subscribe('wamp.session.on_leave');
        const bob = await c.join('b', { authid: 'bob', serializer: 'msgpack' });
        const joined = await watcher.take(
          (m) => m[0] === EVENT && m[1] === onJoin && m[4]?.[0]?.session === bob.session,
          'on_join of bob on b',
        );
        assert.deepEqual(
          [joined[4][0].realm, joined[4][0].authid, joined[4][0].authrole, joined[4][0].authmethod],
          ['realm1', 'bob', 'backend', 'ticket'],
          show(joined),
        );
        const dropped = await c.join('c', { serializer: 'json' });
        await watcher.take((m) => m[0] === EVENT && m[1] === onJoin && m[4]?.[0]?.session === dropped.session, 'on_join on c');
        await bob.goodbye();
        const left = await watcher.take((m) => m[0] === EVENT && m[1] === onLeave && m[4]?.[0] === bob.session, 'on_leave of bob');
        assert.deepEqual(left[4], [bob.session, 'bob', 'backend']);
        // Without GOODBYE too.
        dropped.drop();
        const gone = await watcher.take(
          (m) => m[0] === EVENT && m[1] === onLeave && m[4]?.[0] === dropped.session,
          'on_leave after a drop',
        );
        assert.deepEqual(gone[4], [dropped.session, dropped.authid, 'anonymous']);
      });

      it('wamp.registration.list / lookup / match / get / list_callees reflect every node, with one registration ID', async () => {
        const c = cluster();
        const base = fresh('regmeta');
        const callee = await c.join('b', { serializer: 'cbor' });
        // Node a learns of the registrations 30 ms late: one creation time everywhere must not be the moment each node heard of it.
        c.delayWatch('a', 30);
        const regs = {
          exact: await callee.register(`${base}.exact`),
          prefix: await callee.register(`${base}.pre`, { match: 'prefix' }),
          wildcard: await callee.register(`${base}..wild`, { match: 'wildcard' }),
        };
        const shared = `${base}.shared`;
        const sharedId = await callee.register(shared, { invoke: 'roundrobin' });
        const second = await c.join('c', { serializer: 'msgpack' });
        assert.equal(await second.register(shared, { invoke: 'roundrobin' }), sharedId);
        const metas = [await c.join('a', { serializer: 'json' }), await c.join('b', { serializer: 'msgpack' }), await c.join('c')];
        const details = [];
        for (const m of metas) {
          assert.equal(await known(m, `${base}.exact`), regs.exact, `lookup exact on ${m.label}`);
          assert.equal(await known(m, `${base}.pre`, 'prefix'), regs.prefix, `lookup prefix on ${m.label}`);
          assert.equal(await known(m, `${base}..wild`, 'wildcard'), regs.wildcard, `lookup wildcard on ${m.label}`);
          await known(m, shared, 'exact', 2);
          assert.equal(await m.meta('wamp.registration.lookup', [`${base}.pre`]), null, 'lookup is by match policy');
          assert.equal(await m.meta('wamp.registration.match', [`${base}.pre.x`]), regs.prefix, `match on ${m.label}`);
          assert.equal(await m.meta('wamp.registration.match', [`${base}.q.wild`]), regs.wildcard, `match on ${m.label}`);
          assert.equal(await m.meta('wamp.registration.match', [`${base}.none`]), null);
          const list = await m.meta('wamp.registration.list');
          assert.ok(list.exact.includes(regs.exact) && list.exact.includes(sharedId), `list on ${m.label}: ${show(list)}`);
          assert.ok(list.prefix.includes(regs.prefix) && list.wildcard.includes(regs.wildcard), `list on ${m.label}: ${show(list)}`);
          assert.deepEqual(await m.meta('wamp.registration.list_callees', [regs.exact]), [callee.session]);
          assert.deepEqual(
            sortedIds(await m.meta('wamp.registration.list_callees', [sharedId])),
            sortedIds([callee.session, second.session]),
            `callees of the shared registration on ${m.label}`,
          );
          const got = await m.meta('wamp.registration.get', [regs.prefix]);
          assert.deepEqual(
            { ...got, created: undefined },
            { id: regs.prefix, uri: `${base}.pre`, match: 'prefix', invoke: 'single', created: undefined },
            show(got),
          );
          assert.match(got.created, /^\d{4}-\d\d-\d\dT/);
          details.push(got);
        }
        c.delayWatch('a', 0);
        // One registration, one creation time: the same details on every node (CLUSTER.md: the record holds `created`).
        assert.deepEqual(details[0], details[1], 'wamp.registration.get on a and b');
        assert.deepEqual(details[0], details[2], 'wamp.registration.get on a and c');
      });

      it('wamp.subscription.list / lookup / get / list_subscribers reflect every node, with one subscription ID', async () => {
        const c = cluster();
        const base = fresh('submeta');
        const topic = `${base}.t`;
        const onB = await c.join('b', { serializer: 'msgpack' });
        const onC = await c.join('c', { serializer: 'cbor' });
        const idB = await onB.subscribe(topic);
        const idC = await onC.subscribe(topic);
        assert.equal(idB, idC, 'one subscription ID on every node');
        const prefixId = await onB.subscribe(base, { match: 'prefix' });
        const metas = [await c.join('a'), await c.join('b', { serializer: 'cbor' }), await c.join('c', { serializer: 'msgpack' })];
        for (const m of metas) {
          assert.equal(await knownSubscription(m, topic), idB, `lookup on ${m.label}`);
          assert.equal(await knownSubscription(m, base, 'prefix'), prefixId, `lookup prefix on ${m.label}`);
          await eventually(
            async () => sortedIds(await m.meta('wamp.subscription.list_subscribers', [idB])),
            (ids) => show(ids) === show(sortedIds([onB.session, onC.session])),
            `both subscribers on ${m.label}`,
          );
          assert.deepEqual(await m.meta('wamp.subscription.list_subscribers', [prefixId]), [onB.session]);
          const list = await m.meta('wamp.subscription.list');
          assert.ok(list.exact.includes(idB) && list.prefix.includes(prefixId), `list on ${m.label}: ${show(list)}`);
          const got = await m.meta('wamp.subscription.get', [idB]);
          assert.deepEqual({ ...got, created: undefined }, { id: idB, uri: topic, match: 'exact', created: undefined }, show(got));
          assert.deepEqual(sortedIds(await m.meta('wamp.subscription.match', [topic])), sortedIds([idB, prefixId]), `match on ${m.label}`);
        }
        await onC.unsubscribe(idC);
        for (const m of metas) {
          await eventually(
            () => m.meta('wamp.subscription.list_subscribers', [idB]),
            (ids) => show(ids) === show([onB.session]),
            `only b's subscriber on ${m.label}`,
          );
        }
      });

      it('wamp.session.kill of a session on another node: the target gets GOODBYE with the reason', async () => {
        const c = cluster();
        const target = await c.join('c', { serializer: 'msgpack' });
        const killer = await c.join('a', { serializer: 'json' });
        await eventually(
          () => killer.meta('wamp.session.list'),
          (list) => list.includes(target.session),
          'the target known on a',
        );
        await killer.meta('wamp.session.kill', [target.session], { reason: 'com.example.kicked', message: 'out you go' });
        const goodbye = await target.take((m) => m[0] === GOODBYE, 'GOODBYE');
        assert.deepEqual([goodbye[2], goodbye[1].message], ['com.example.kicked', 'out you go'], show(goodbye));
        await eventually(
          () => killer.meta('wamp.session.list'),
          (list) => !list.includes(target.session),
          'the target gone on a',
        );
        const unknown = await killer.call('wamp.session.kill', [target.session]);
        assert.ok(isError(unknown, 'wamp.error.no_such_session'), show(unknown));
      });

      it('wamp.session.kill_by_authid and kill_by_authrole reach sessions on the other nodes', async () => {
        const c = cluster();
        const daves = [await c.join('b', { authid: 'dave' }), await c.join('c', { authid: 'dave', serializer: 'cbor' })];
        const doomed = [await c.join('b', { authid: 'erin', serializer: 'msgpack' }), await c.join('c', { authid: 'frank' })];
        const bystander = await c.join('b', { authid: 'bob', serializer: 'cbor' });
        const killer = await c.join('a', { serializer: 'msgpack' });
        await eventually(
          () => killer.meta('wamp.session.list'),
          (list) => [...daves, ...doomed, bystander].every((s) => list.includes(s.session)),
          'every target known on a',
        );
        const killed = await killer.meta('wamp.session.kill_by_authid', ['dave'], { reason: 'com.example.no_daves', message: 'bye dave' });
        assert.deepEqual(sortedIds(killed), sortedIds(daves.map((s) => s.session)), show(killed));
        for (const s of daves) {
          const goodbye = await s.take((m) => m[0] === GOODBYE, 'GOODBYE');
          assert.deepEqual([goodbye[2], goodbye[1].message], ['com.example.no_daves', 'bye dave'], `${s.label}: ${show(goodbye)}`);
        }
        const count = await killer.meta('wamp.session.kill_by_authrole', ['doomed']);
        assert.equal(count, 2);
        for (const s of doomed) {
          const goodbye = await s.take((m) => m[0] === GOODBYE, 'GOODBYE');
          assert.equal(goodbye[2], 'wamp.close.killed', `${s.label}: ${show(goodbye)}`);
        }
        assert.deepEqual(
          bystander.pending((m) => m[0] === GOODBYE),
          [],
          'bob stays',
        );
        assert.equal(bystander.isClosed, false);
        await eventually(
          () => killer.meta('wamp.session.list'),
          (list) => [...daves, ...doomed].every((s) => !list.includes(s.session)) && list.includes(bystander.session),
          'the killed sessions gone on a',
        );
      });

      it('wamp.registration.on_create / on_register / on_unregister / on_delete on A for a registration on B, once each', async () => {
        const c = cluster();
        const uri = fresh('regevents');
        const watcher = await c.join('a', { serializer: 'msgpack' });
        const topics = ['on_create', 'on_register', 'on_unregister', 'on_delete'] as const;
        const subs = new Map<number, string>();
        for (const t of topics) subs.set(await watcher.subscribe(`wamp.registration.${t}`), t);
        const callee = await c.join('b', { serializer: 'cbor' });
        const reg = await callee.register(uri);
        const next = (t: string) =>
          watcher.take((m) => m[0] === EVENT && subs.get(m[1]) === t && (m[4]?.[1] === reg || m[4]?.[1]?.id === reg), `${t} of ${uri}`);
        const created = await next('on_create');
        assert.deepEqual(
          [created[4][0], created[4][1].uri, created[4][1].match, created[4][1].invoke],
          [callee.session, uri, 'exact', 'single'],
        );
        assert.deepEqual((await next('on_register'))[4], [callee.session, reg]);
        await callee.unregister(reg);
        assert.deepEqual((await next('on_unregister'))[4], [callee.session, reg]);
        assert.deepEqual((await next('on_delete'))[4], [callee.session, reg]);
        // One node's meta service tells its subscribers once, however the news reached that node.
        const again = watcher.pending((m) => m[0] === EVENT && (m[4]?.[1] === reg || m[4]?.[1]?.id === reg));
        assert.deepEqual(again, [], 'no meta event twice');
      });

      it('wamp.registration.remove_callee of a callee on another node', async () => {
        const c = cluster();
        const uri = fresh('removecallee');
        const callee = await c.join('b', { serializer: 'json' });
        const reg = await callee.register(uri);
        const admin = await c.join('a', { serializer: 'cbor' });
        const caller = await c.join('c', { serializer: 'msgpack' });
        assert.equal(await known(admin, uri), reg);
        await known(caller, uri);
        await admin.meta('wamp.registration.remove_callee', [reg, callee.session], { reason: 'com.example.revoked' });
        const revoked = await callee.take((m) => m[0] === UNREGISTERED && m[1] === 0, 'UNREGISTERED (revocation)');
        assert.deepEqual(revoked[2], { registration: reg, reason: 'com.example.revoked' }, show(revoked));
        for (const m of [admin, caller]) {
          await eventually(
            () => m.meta('wamp.registration.lookup', [uri]),
            (id) => id === null,
            `registration gone on ${m.label}`,
          );
        }
        const call = await caller.call(uri);
        assert.ok(isError(call, NO_SUCH_PROCEDURE), show(call));
      });
    });

    // ---------------------------------------------------------------- real clients
    describe('real clients on different nodes', () => {
      const cluster = useCluster();

      it('Autobahn|JS: a caller on A, a callee on B and a subscriber on C', async () => {
        // Autobahn|JS 26 uses the global WebSocket, which Node 20 has only with --experimental-websocket.
        (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
        const c = cluster();
        const open: AbClient[] = [];
        try {
          const callee = await openAutobahn(c.url('b'), 'msgpack');
          open.push(callee);
          const caller = await openAutobahn(c.url('a'), 'json');
          open.push(caller);
          const subscriber = await openAutobahn(c.url('c'), 'cbor');
          open.push(subscriber);
          const procedure = fresh('autobahn.add');
          await callee.session.register(
            procedure,
            (args: number[], _kwargs: Dict, details: Dict) => new autobahn.Result([args[0] + args[1]], { caller: details.caller ?? null }),
            { disclose_caller: true },
          );
          const progressive = fresh('autobahn.count');
          await callee.session.register(progressive, (args: number[], _kwargs: Dict, details: any) => {
            for (let i = 0; i < args[0]; i++) details.progress([i]);
            return 'done';
          });
          const result = await retryUnknown<any>(
            () => caller.session.call(procedure, [2, 3]),
            (err) => err?.error,
            'Autobahn|JS call',
          );
          assert.deepEqual(result.args, [5]);
          assert.deepEqual(result.kwargs, { caller: caller.session.id });
          const chunks: unknown[] = [];
          const counted = await retryUnknown(
            () =>
              caller.session.call(progressive, [3], {}, { receive_progress: true }).then(
                (value: unknown) => value,
                undefined,
                (chunk: unknown) => chunks.push(chunk),
              ),
            (err) => err?.error,
            'Autobahn|JS progressive call',
          );
          assert.equal(counted, 'done');
          // Autobahn|JS hands a one-element progress payload over as the element itself.
          assert.deepEqual(chunks, [0, 1, 2]);

          const topic = fresh('autobahn.topic');
          let resolveEvent!: (event: { args: unknown[]; kwargs: Dict; details: Dict }) => void;
          const event = new Promise<{ args: unknown[]; kwargs: Dict; details: Dict }>((resolve) => (resolveEvent = resolve));
          await subscriber.session.subscribe(topic, (args: unknown[], kwargs: Dict, details: Dict) =>
            resolveEvent({ args, kwargs, details }),
          );
          const published = await caller.session.publish(topic, ['hello'], { n: 1 }, { acknowledge: true, disclose_me: true });
          const got = await within(event, 3000, 'Autobahn|JS event on c');
          assert.deepEqual([got.args, got.kwargs], [['hello'], { n: 1 }]);
          assert.equal(got.details.publication, published.id);
          assert.equal(got.details.publisher, caller.session.id);
        } finally {
          for (const client of open) await client.close();
        }
      });

      it('wampy: a caller on B, a callee on C and a subscriber on A', async () => {
        const c = cluster();
        const clients: Wampy[] = [];
        const connect = async (node: NodeId, serializer: 'json' | 'msgpack' | 'cbor') => {
          const make = { json: () => new JsonSerializer(), msgpack: () => new MsgpackSerializer(), cbor: () => new CborSerializer() };
          const client = new Wampy(c.url(node), {
            realm: 'realm1',
            ws: WebSocket as never,
            serializer: make[serializer](),
            autoReconnect: false,
          });
          clients.push(client);
          await within(client.connect(), 5000, `wampy connect to ${node}`);
          return client;
        };
        try {
          const callee = await connect('c', 'cbor');
          const caller = await connect('b', 'json');
          const subscriber = await connect('a', 'msgpack');
          const procedure = fresh('wampy.double');
          await callee.register(procedure, ({ argsList, argsDict }) => ({
            argsList: [(argsList![0] as number) * 2],
            argsDict: { echo: argsDict ?? null },
          }));
          const result = await retryUnknown(
            () => caller.call(procedure, { argsList: [21], argsDict: { k: 'v' } }),
            (err) => err?.errorUri,
            'wampy call',
          );
          assert.deepEqual(result.argsList, [42]);
          assert.deepEqual(result.argsDict, { echo: { k: 'v' } });

          const topic = fresh('wampy.topic');
          let resolveEvent!: (data: { argsList?: unknown[]; argsDict?: Dict }) => void;
          const event = new Promise<{ argsList?: unknown[]; argsDict?: Dict }>((resolve) => (resolveEvent = resolve));
          await subscriber.subscribe(topic, (data) => resolveEvent(data));
          await within(caller.publish(topic, { argsList: ['w'], argsDict: { x: 1 } }), 5000, 'wampy publish');
          const got = await within(event, 3000, 'wampy event on a');
          assert.deepEqual([got.argsList, got.argsDict], [['w'], { x: 1 }]);
        } finally {
          for (const client of clients) {
            await within(client.disconnect(), 3000, 'wampy disconnect').catch(() => undefined);
            (client as unknown as { _ws: WebSocket | null })._ws?.terminate();
          }
        }
      });

      it('Autobahn|Python: a caller on A, callees on B and C, a subscriber on C', async () => {
        await requirePython();
        const c = cluster();
        const prefix = fresh('python');
        const o = await runPython<Dict>(PYTHON_SCRIPT, [c.url('a'), c.url('b'), c.url('c'), prefix], { timeoutMs: 30_000 });
        // Autobahn|Python fills CallDetails.procedure with the registered URI for exact registrations.
        assert.deepEqual(o.added, { sum: 5, procedure: `${prefix}.add` }, show(o));
        assert.deepEqual(o.progress, [[0], [1], [2]], show(o));
        assert.equal(o.counted, 'done');
        assert.deepEqual(o.prefixed, ['c', `${prefix}.pre.x.y`], show(o));
        assert.equal(o.missing, NO_SUCH_PROCEDURE);
        assert.deepEqual(o.event, { args: ['hello'], kwargs: { n: 1 }, publication: o.publication }, show(o));
      });
    });

    // ---------------------------------------------------------------- clean shutdown
    describe('a node that shuts down cleanly', () => {
      const cluster = useCluster();

      it('its registrations and sessions are gone at once (well within dead_after), its `single` URIs free for other nodes', async () => {
        const c = cluster();
        const uri = fresh('shutdown.single');
        const callee = await c.join('c', { serializer: 'msgpack' });
        const reg = await callee.register(uri);
        const watcher = await c.join('a', { serializer: 'json' });
        const onLeave = await watcher.subscribe('wamp.session.on_leave');
        const other = await c.join('b', { serializer: 'cbor' });
        assert.equal(await known(watcher, uri), reg);
        assert.equal(await known(other, uri), reg);
        const t0 = Date.now();
        await c.nodes.get('c')!.shutdown({ timeout: 500 });
        const goodbye = await callee.take((m) => m[0] === GOODBYE, 'GOODBYE at shutdown');
        assert.equal(goodbye[2], 'wamp.close.system_shutdown', show(goodbye));
        const left = await watcher.take((m) => m[0] === EVENT && m[1] === onLeave && m[4]?.[0] === callee.session, 'on_leave on a');
        assert.equal(left[4][0], callee.session);
        for (const m of [watcher, other]) {
          await eventually(
            () => m.meta('wamp.registration.lookup', [uri]),
            (id) => id === null,
            `registration gone on ${m.label}`,
          );
        }
        const taken = await other.register(uri);
        assert.notEqual(taken, reg, 'a new registration');
        // No death to detect: everything came with the BYE, long before dead_after.
        assert.ok(Date.now() - t0 < STEADY.deadAfter, `took ${Date.now() - t0} ms`);
        answerAs(other, taken, 'b');
        assert.deepEqual((await watcher.callWhenKnown(uri))[3], ['b', null]);
      });
    });

    // ---------------------------------------------------------------- failure
    const deaths: Array<['close' | 'cut', string]> = [['close', 'its backplane closed under it']];
    if (extras.cut) deaths.push(['cut', 'cut off the network']);
    for (const [how, what] of deaths) {
      describe(`a node that goes away without BYE (${what})`, () => {
        let c: TestCluster | undefined;
        let outcomes: Record<string, Promise<Settled<any>>> = {};
        const f: Record<string, Client> = {};
        const ids: Dict = {};

        before(async () => {
          c = await TestCluster.start(backplanes, `${slug}-${++clusters}`, FAST);
          const base = fresh('death');
          ids.single = `${base}.single`;
          ids.topic = `${base}.topic`;
          ids.onA = `${base}.on_a`;
          // On b: a callee holding a `single` URI, a subscriber, and a caller whose call to a callee on a is in flight.
          f.bCallee = await c.join('b', { serializer: 'json' });
          ids.bReg = await f.bCallee.register(ids.single);
          f.bSub = await c.join('b', { serializer: 'msgpack' });
          await f.bSub.subscribe(ids.topic);
          f.bCaller = await c.join('b', { serializer: 'cbor' });
          f.aCallee = await c.join('a', { serializer: 'cbor' });
          ids.aReg = await f.aCallee.register(ids.onA);
          // On a and c: a caller, meta clients and on_leave watchers.
          f.aCaller = await c.join('a', { serializer: 'json' });
          f.aWatch = await c.join('a', { serializer: 'msgpack' });
          f.cWatch = await c.join('c', { serializer: 'json' });
          ids.aLeave = await f.aWatch.subscribe('wamp.session.on_leave');
          ids.cLeave = await f.cWatch.subscribe('wamp.session.on_leave');
          f.cCallee = await c.join('c', { serializer: 'cbor' });
          for (const m of [f.aWatch, f.cWatch]) {
            await known(m, ids.single);
            await knownSubscription(m, ids.topic);
            await eventually(
              () => m.meta('wamp.session.list'),
              (list) => [f.bCallee, f.bSub, f.bCaller].every((s) => list.includes(s.session)),
              `b's sessions known on ${m.label}`,
            );
          }
          await known(f.bCaller, ids.onA);
          // Calls in flight both ways across the node that dies.
          ids.aRequest = f.aCaller.callNoWait(ids.single, ['to b']);
          await f.bCallee.invocation(ids.bReg);
          f.bCaller.callNoWait(ids.onA, ['from b']);
          const aInv = await f.aCallee.invocation(ids.aReg);

          const t0 = Date.now();
          await c.kill('b', how);
          const bSessions = [f.bCallee.session, f.bSub.session, f.bCaller.session];
          const leaves = (watcher: Client, subscription: number) =>
            (async () => {
              const left = new Set<number>();
              while (!bSessions.every((id) => left.has(id))) {
                const event = await watcher.event(subscription, 5000);
                left.add(event[4][0]);
              }
              return left;
            })();
          const gone = (m: Client, uri: string, kind: 'registration' | 'subscription') =>
            eventually(
              () => m.meta(`wamp.${kind}.lookup`, [uri]),
              (id) => id === null,
              `${kind} ${uri} gone on ${m.label}`,
              5000,
            );
          const track = <T>(p: Promise<T>) => settle(p, t0);
          const registrationGoneA = track(gone(f.aWatch, ids.single, 'registration'));
          const registrationGoneC = track(gone(f.cWatch, ids.single, 'registration'));
          outcomes = {
            canceled: track(f.aCaller.outcome(ids.aRequest, 5000)),
            interrupted: track(f.aCallee.take((m) => m[0] === INTERRUPT && m[1] === aInv[1], 'INTERRUPT', 5000)),
            registrationGoneA,
            registrationGoneC,
            subscriptionGoneA: track(gone(f.aWatch, ids.topic, 'subscription')),
            subscriptionGoneC: track(gone(f.cWatch, ids.topic, 'subscription')),
            leftA: track(leaves(f.aWatch, ids.aLeave)),
            leftC: track(leaves(f.cWatch, ids.cLeave)),
            sessionsGone: track(
              eventually(
                () => f.aWatch.meta('wamp.session.list'),
                (list) => bSessions.every((id) => !list.includes(id)),
                "b's sessions gone from wamp.session.list on a",
                5000,
              ),
            ),
            // The `single` URI b held: free for a callee on c once b's death is handled. Tried only once the
            // registration is seen gone, or the new one would hide whether b's went.
            reregistered: track(
              Promise.all([registrationGoneA, registrationGoneC]).then(() =>
                eventually(
                  () => f.cCallee.tryRegister(ids.single),
                  (reply) => reply[0] === REGISTERED,
                  `${ids.single} registered on c`,
                  5000,
                ),
              ),
            ),
          };
        });
        after(async () => {
          await c?.close();
        });

        it('a call from A in flight to its callee ends with wamp.error.canceled', async () => {
          const canceled = settled(await outcomes.canceled, 'the call in flight');
          assert.ok(isError(canceled, CANCELED), show(canceled));
        });

        it('a call in flight from its caller to a callee on A is interrupted (INTERRUPT, killnowait)', async () => {
          const interrupt = settled(await outcomes.interrupted, 'the INTERRUPT');
          assert.equal(interrupt[2].mode, 'killnowait', show(interrupt));
        });

        it('its registrations and subscriptions are gone from the other nodes', async () => {
          settled(await outcomes.registrationGoneA, 'the registration on a');
          settled(await outcomes.registrationGoneC, 'the registration on c');
          settled(await outcomes.subscriptionGoneA, 'the subscription on a');
          settled(await outcomes.subscriptionGoneC, 'the subscription on c');
        });

        it('its sessions get on_leave meta events on the other nodes, and leave wamp.session.list', async () => {
          settled(await outcomes.leftA, 'on_leave on a');
          settled(await outcomes.leftC, 'on_leave on c');
          settled(await outcomes.sessionsGone, 'wamp.session.list on a');
        });

        it('a `single` URI it held can then be registered on another node, and calls reach the new callee', async () => {
          const registered = settled<Msg>(await outcomes.reregistered, 'REGISTER on c');
          answerAs(f.cCallee, registered[2], 'c');
          const reply = await f.aCaller.callWhenKnown(ids.single);
          assert.deepEqual(reply[3], ['c', null], show(reply));
        });
      });
    }
  });
}
