/**
 * Advanced RPC, and the session and registration meta API, with Autobahn|JS
 * (npm `autobahn`) clients against a real router on 127.0.0.1, over JSON and
 * MessagePack. Where Autobahn|JS cannot play a role (a callee that takes
 * INTERRUPT), a raw `ws` client answers by hand.
 *
 * Autobahn|JS hides part of the wire from its handlers (it fills in
 * Invocation.procedure for exact registrations, for example), so some tests
 * also record the INVOCATION messages exactly as the session received them.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { useRouter } from '../helpers/node.ts';
import { autobahn, openAutobahn, rejection, tap, until, within, type AbClient, type AbSerializer } from '../helpers/autobahn-js.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { INVOCATION } from '../helpers/wamp-codes.ts';

const router = useRouter();

const DEALER_FEATURES = [
  'pattern_based_registration',
  'shared_registration',
  'caller_identification',
  'progressive_call_results',
  'progressive_call_invocations',
  'call_canceling',
  'call_timeout',
  'registration_revocation',
  'session_meta_api',
  'registration_meta_api',
  'testament_meta_api', // PubSub issue: session testaments
  'payload_passthru_mode', // payload fidelity issue: opaque payloads with ppt_* / enc_* pass through
  'payload_transparency',
  'payload_encryption_cryptobox',
];

// ---- helpers ----

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Gate<T = unknown> {
  promise: Promise<T>;
  open(value: T): void;
}

function gate<T = unknown>(): Gate<T> {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** Whether a promise has settled (checked after the pending microtasks ran). */
function settledFlag(promise: Promise<unknown>): { readonly settled: boolean } {
  const flag = { settled: false };
  promise.then(
    () => (flag.settled = true),
    () => (flag.settled = true),
  );
  return flag;
}

/** Resolves with the reason and details when the router ends the session (GOODBYE or ABORT). */
function whenLeft(client: AbClient): Promise<{ reason: string; details: any }> {
  return new Promise((resolve) => {
    const original = client.session.onleave;
    client.session.onleave = (reason: string, details: any) => {
      resolve({ reason, details });
      original?.(reason, details);
    };
  });
}

/** A raw client that joins with the given HELLO roles. */
async function rawJoin(url: string, serializer: AbSerializer, roles: object): Promise<{ raw: RawClient; welcome: unknown[] }> {
  const raw = await RawClient.open(url, serializer as 'json' | 'msgpack');
  raw.send([1, 'realm1', { roles }]);
  const welcome = await raw.next(3000);
  assert.equal(welcome[0], 2, `expected WELCOME, got ${JSON.stringify(welcome)}`);
  return { raw, welcome };
}

/**
 * Proves the session still works with a round trip through the router
 * (session.isOpen is only Autobahn|JS's own view of it).
 */
async function assertAlive(c: AbClient, what: string): Promise<void> {
  const id = c.session.id;
  assert.equal(typeof id, 'number', `${what}: Autobahn|JS has ended the session`);
  const details = await within<any>(c.session.call('wamp.session.get', [id]), 2000, `${what}: round trip`);
  assert.equal(details.session, id, what);
}

const CANCELING_CALLEE = { callee: { features: { call_canceling: true } } };

// ---- the tests ----

for (const serializer of ['json', 'msgpack'] as AbSerializer[]) {
  describe(`Autobahn|JS advanced RPC over ${serializer}`, () => {
    const open: AbClient[] = [];
    const raws: RawClient[] = [];
    const client = async () => {
      const c = await openAutobahn(router.url, serializer);
      open.push(c);
      return c;
    };
    const rawCallee = async (roles: object = CANCELING_CALLEE) => {
      const joined = await rawJoin(router.url, serializer, roles);
      raws.push(joined.raw);
      return joined;
    };
    after(async () => {
      await Promise.all(open.map((c) => c.close()));
      for (const raw of raws) raw.close();
    });
    let n = 0;
    const uri = (name: string) => `com.example.abrpc.${serializer}.${name}.${++n}`;
    const meta = (c: AbClient, procedure: string, args?: unknown[], kwargs?: object) =>
      within<any>(c.session.call(procedure, args, kwargs), 3000, procedure);

    it('WELCOME announces exactly the dealer features', async () => {
      const { details } = await client();
      const features = details.roles.dealer.features;
      assert.deepEqual(Object.keys(features).sort(), [...DEALER_FEATURES].sort());
      for (const feature of DEALER_FEATURES) assert.equal(features[feature], true, feature);
    });

    it('routes by precedence: exact, longest prefix, then the wildcard with the earliest literal', async () => {
      const X = uri('prec');
      const caller = await client();
      const registerAs = async (name: string, procedure: string, match?: string) => {
        const c = await client();
        const wire = tap(c.session, INVOCATION);
        const registration = await c.session.register(
          procedure,
          (_args: unknown[], _kwargs: object, details: any) => new autobahn.Result([name, details.procedure]),
          match ? { match } : undefined,
        );
        return { c, wire, registration };
      };
      const exact = await registerAs('exact', `${X}.a.b.c`);
      const prefixAB = await registerAs('prefix X.a.b', `${X}.a.b`, 'prefix');
      const prefixA = await registerAs('prefix X.a', `${X}.a`, 'prefix');
      const wildB = await registerAs('wildcard X..b.c', `${X}..b.c`, 'wildcard');
      const wildA = await registerAs('wildcard X.a..c', `${X}.a..c`, 'wildcard');
      const call = async (procedure: string) => (await within<any>(caller.session.call(procedure), 3000, procedure)).args;

      assert.deepEqual(await call(`${X}.a.b.c`), ['exact', `${X}.a.b.c`]);
      // Autobahn|JS fills Invocation.procedure in itself for exact registrations: on the wire there is none.
      assert.equal(exact.wire.length, 1);
      assert.equal('procedure' in exact.wire[0][3], false, 'exact INVOCATION.Details has no procedure');

      assert.deepEqual(await call(`${X}.a.b.zzz`), ['prefix X.a.b', `${X}.a.b.zzz`]);
      assert.equal(prefixAB.wire.at(-1)![3].procedure, `${X}.a.b.zzz`);
      assert.deepEqual(await call(`${X}.a.q.r`), ['prefix X.a', `${X}.a.q.r`]);
      assert.equal(prefixA.wire.at(-1)![3].procedure, `${X}.a.q.r`);
      assert.deepEqual(await call(`${X}.q.b.c`), ['wildcard X..b.c', `${X}.q.b.c`]);
      assert.equal(wildB.wire.at(-1)![3].procedure, `${X}.q.b.c`);

      // With only the two wildcards left, both match X.a.b.c: the literal first component wins.
      await prefixAB.c.session.unregister(prefixAB.registration);
      await prefixA.c.session.unregister(prefixA.registration);
      assert.deepEqual(await call(`${X}.a.b.c`), ['exact', `${X}.a.b.c`]);
      await exact.c.session.unregister(exact.registration);
      assert.deepEqual(await call(`${X}.a.b.c`), ['wildcard X.a..c', `${X}.a.b.c`]);
      assert.equal(wildA.wire.at(-1)![3].procedure, `${X}.a.b.c`);
      assert.equal(wildB.wire.length, 1, 'X..b.c got only the X.q.b.c call');
      assert.equal(exact.wire.length, 2);
      assert.equal(prefixAB.wire.length, 1);
      assert.equal(prefixA.wire.length, 1);
    });

    const shared = async (procedure: string, invoke: string, name: string) => {
      const c = await client();
      await c.session.register(procedure, () => name, { invoke });
      return c;
    };
    const callMany = async (caller: AbClient, procedure: string, count: number) => {
      const out: string[] = [];
      for (let i = 0; i < count; i++) out.push(await within<string>(caller.session.call(procedure), 3000, `call ${i}`));
      return out;
    };
    /** `seq` walks `order` cyclically, starting anywhere. */
    const assertCycle = (seq: string[], order: string[], what: string) => {
      const start = order.indexOf(seq[0]);
      assert.ok(start >= 0, `${what}: ${seq[0]} is not a callee`);
      assert.deepEqual(
        seq,
        seq.map((_, i) => order[(start + i) % order.length]),
        what,
      );
    };

    it('invoke roundrobin: in registration order, following callees that leave and join', async () => {
      const proc = uri('rr');
      const caller = await client();
      const a = await shared(proc, 'roundrobin', 'A');
      const b = await shared(proc, 'roundrobin', 'B');
      await shared(proc, 'roundrobin', 'C');
      assert.deepEqual(await callMany(caller, proc, 9), ['A', 'B', 'C', 'A', 'B', 'C', 'A', 'B', 'C']);
      await b.close();
      const two = await callMany(caller, proc, 6);
      assertCycle(two, ['A', 'C'], 'after B left');
      await shared(proc, 'roundrobin', 'D');
      const three = await callMany(caller, proc, 9);
      assertCycle(three, ['A', 'C', 'D'], 'after D joined');
      await assertAlive(a, 'A still open');
    });

    it('invoke first: the earliest callee still there', async () => {
      const proc = uri('first');
      const caller = await client();
      const a = await shared(proc, 'first', 'A');
      const b = await shared(proc, 'first', 'B');
      await shared(proc, 'first', 'C');
      assert.deepEqual(await callMany(caller, proc, 4), ['A', 'A', 'A', 'A']);
      await a.close();
      assert.deepEqual(await callMany(caller, proc, 3), ['B', 'B', 'B']);
      await shared(proc, 'first', 'D');
      assert.deepEqual(await callMany(caller, proc, 2), ['B', 'B']);
      await b.close();
      assert.deepEqual(await callMany(caller, proc, 2), ['C', 'C']);
    });

    it('invoke last: the latest callee still there', async () => {
      const proc = uri('last');
      const caller = await client();
      await shared(proc, 'last', 'A');
      const b = await shared(proc, 'last', 'B');
      const c = await shared(proc, 'last', 'C');
      assert.deepEqual(await callMany(caller, proc, 4), ['C', 'C', 'C', 'C']);
      await c.close();
      assert.deepEqual(await callMany(caller, proc, 3), ['B', 'B', 'B']);
      const d = await shared(proc, 'last', 'D');
      assert.deepEqual(await callMany(caller, proc, 2), ['D', 'D']);
      await d.close();
      await b.close();
      assert.deepEqual(await callMany(caller, proc, 2), ['A', 'A']);
    });

    it('invoke random: every callee gets calls', async () => {
      const proc = uri('random');
      const caller = await client();
      for (const name of ['A', 'B', 'C']) await shared(proc, 'random', name);
      const seq = await callMany(caller, proc, 60);
      const counts = { A: 0, B: 0, C: 0 } as Record<string, number>;
      for (const name of seq) counts[name]++;
      assert.equal(counts.A + counts.B + counts.C, 60, `only A, B, C answer: ${JSON.stringify(seq)}`);
      // A callee left out of 60 uniform picks has probability about 3 * (2/3)^60 = 8e-11.
      for (const name of ['A', 'B', 'C']) assert.ok(counts[name] >= 1, `${name} got no call: ${JSON.stringify(counts)}`);
    });

    it('invoke single: one callee only', async () => {
      const proc = uri('single');
      const caller = await client();
      await shared(proc, 'single', 'A');
      const b = await client();
      const err = await rejection(
        b.session.register(proc, () => 'B', { invoke: 'single' }),
        3000,
        'register',
      );
      assert.equal(err.error, 'wamp.error.procedure_already_exists');
      assert.deepEqual(await callMany(caller, proc, 3), ['A', 'A', 'A']);
    });

    it('invocation policy conflicts, and a new policy once every callee left', async () => {
      const caller = await client();
      const single = uri('conflict.single');
      const a = await client();
      await a.session.register(single, () => 'A');
      const b = await client();
      for (const invoke of ['single', 'roundrobin', 'random', 'first', 'last']) {
        const err = await rejection(
          b.session.register(single, () => 'B', { invoke }),
          3000,
          `register ${invoke}`,
        );
        assert.equal(err.error, 'wamp.error.procedure_already_exists', invoke);
      }

      const rr = uri('conflict.rr');
      const r1 = await client();
      const reg1 = await r1.session.register(rr, () => 'R1', { invoke: 'roundrobin' });
      const r2 = await client();
      const reg2 = await r2.session.register(rr, () => 'R2', { invoke: 'roundrobin' });
      assert.equal(reg2.id, reg1.id, 'shared registration, one ID');
      for (const invoke of ['random', 'first', 'last', 'single']) {
        const err = await rejection(
          b.session.register(rr, () => 'B', { invoke }),
          3000,
          `register ${invoke}`,
        );
        assert.equal(err.error, 'wamp.error.procedure_exists_with_different_invocation_policy', invoke);
      }
      // Every callee leaves (one by UNREGISTER, one by leaving the session): the next may pick another policy.
      await r1.session.unregister(reg1);
      await r2.close();
      assert.equal((await rejection(caller.session.call(rr))).error, 'wamp.error.no_such_procedure');
      const fresh = await b.session.register(rr, () => 'B', { invoke: 'random' });
      assert.notEqual(fresh.id, reg1.id);
      assert.equal((await meta(caller, 'wamp.registration.get', [fresh.id])).invoke, 'random');
      assert.equal(await caller.session.call(rr), 'B');
    });

    it('concurrency 1 without a call queue: a second concurrent call is refused', async () => {
      const proc = uri('conc');
      const callee = await client();
      const caller = await client();
      const gates: Gate[] = [];
      await callee.session.register(
        proc,
        (args: number[]) => {
          const g = gate();
          gates.push(g);
          return g.promise.then(() => args[0]);
        },
        { concurrency: 1 },
      );
      const first = caller.session.call(proc, [1]);
      await until(() => gates.length === 1, 3000, 'first invocation');
      const err = await rejection(caller.session.call(proc, [2]));
      assert.equal(err.error, 'crossbar.error.max_concurrency_reached');
      gates[0].open(undefined);
      assert.equal(await within(first, 3000, 'first result'), 1);
      // The slot is free again.
      const third = caller.session.call(proc, [3]);
      await until(() => gates.length === 2, 3000, 'third invocation');
      gates[1].open(undefined);
      assert.equal(await within(third, 3000, 'third result'), 3);
      assert.equal(gates.length, 2, 'the refused call never reached the callee');
    });

    it('force_reregister: the new callee takes over under a new registration ID', async () => {
      const proc = uri('force');
      const a = await client();
      const b = await client();
      const caller = await client();
      const regA = await a.session.register(proc, () => 'A');
      assert.equal(await caller.session.call(proc), 'A');
      const unregisteredA = within<string>(regA.on_unregister, 3000, 'A on_unregister');
      const regB = await b.session.register(proc, () => 'B', { force_reregister: true });
      assert.notEqual(regB.id, regA.id, 'a new registration ID');
      // Autobahn|JS takes UNREGISTERED [67, 0, {registration, reason}] as a revocation.
      assert.equal(await unregisteredA, 'wamp.error.unregistered');
      assert.equal(regA.active, false);
      assert.equal(await caller.session.call(proc), 'B');
      assert.deepEqual(await meta(caller, 'wamp.registration.list_callees', [regB.id]), [b.session.id]);
      assert.equal(await meta(caller, 'wamp.registration.lookup', [proc]), regB.id);
      const gone = await rejection(caller.session.call('wamp.registration.get', [regA.id]));
      assert.equal(gone.error, 'wamp.error.no_such_registration');
      await assertAlive(a, 'A keeps its session');
    });

    it('progressive call results: every chunk in order, then the final result', async () => {
      const proc = uri('progress');
      const callee = await client();
      const wire = tap(callee.session, INVOCATION);
      await callee.session.register(proc, (args: number[], _kwargs: object, details: any) => {
        if (details.progress) for (let i = 0; i < args[0]; i++) details.progress(['chunk', i]);
        return 'final';
      });
      const caller = await client();
      const chunks: unknown[] = [];
      const call = caller.session.call(proc, [4], {}, { receive_progress: true });
      const result = await within<any>(
        call.then(
          (value: unknown) => value,
          undefined,
          (chunk: any) => chunks.push(chunk.args),
        ),
        3000,
        'progressive call',
      );
      assert.equal(result, 'final');
      assert.deepEqual(chunks, [
        ['chunk', 0],
        ['chunk', 1],
        ['chunk', 2],
        ['chunk', 3],
      ]);
      assert.equal(wire.at(-1)![3].receive_progress, true);

      // Without receive_progress: the callee is not offered progress, the caller gets only the result.
      const plain: unknown[] = [];
      const only = await within<any>(
        caller.session.call(proc, [4]).then(
          (value: unknown) => value,
          undefined,
          (chunk: unknown) => plain.push(chunk),
        ),
        3000,
        'plain call',
      );
      assert.equal(only, 'final');
      assert.deepEqual(plain, []);
      assert.equal('receive_progress' in wire.at(-1)![3], false);
    });

    it('cancel (Autobahn|JS callee without call_canceling): the caller gets wamp.error.canceled at once; the late result is dropped', async () => {
      const proc = uri('cancel.skip');
      const callee = await client();
      const caller = await client();
      const gates: Gate[] = [];
      await callee.session.register(proc, (args: string[]) => {
        if (args[0] === 'slow') {
          const g = gate();
          gates.push(g);
          return g.promise.then(() => 'late');
        }
        return 'next';
      });
      const call = caller.session.call(proc, ['slow']);
      await until(() => gates.length === 1, 3000, 'invocation');
      // Autobahn|JS rejects a non-"kill" cancel locally and then fails its own transport on the router's ERROR,
      // so the only mode in which it waits for the router's answer is "kill"; without call_canceling at the
      // callee the router treats any mode as skip.
      const started = Date.now();
      call.cancel({ mode: 'kill' });
      const err = await rejection(call, 1000, 'canceled call');
      assert.equal(err.error, 'wamp.error.canceled');
      assert.ok(Date.now() - started < 500, `canceled promptly (${Date.now() - started} ms)`);
      // The callee answers late: the router must swallow it (a RESULT for a finished call would make
      // Autobahn|JS fail the caller's transport), and the callee keeps working.
      gates[0].open(undefined);
      assert.equal(await within(caller.session.call(proc, ['fast']), 3000, 'next call'), 'next');
      await sleep(50);
      await assertAlive(caller, 'the caller is still open');
      await assertAlive(callee, 'the callee is still open');
    });

    it("cancel mode kill with a callee that takes INTERRUPT: the call ends with the callee's answer", async () => {
      const proc = uri('cancel.kill');
      const { raw } = await rawCallee();
      raw.send([64, 1, {}, proc]);
      const registered = await raw.next(3000);
      assert.equal(registered[0], 65);
      const caller = await client();
      const call = caller.session.call(proc, ['work']);
      const invocation = await raw.next(3000);
      assert.equal(invocation[0], 68);
      assert.equal(invocation[2], registered[2]);
      assert.deepEqual(invocation[4], ['work']);
      const done = settledFlag(call);
      call.cancel({ mode: 'kill' });
      const interrupt = await raw.next(3000);
      assert.equal(interrupt[0], 69);
      assert.equal(interrupt[1], invocation[1]);
      assert.equal((interrupt[2] as any).mode, 'kill');
      await sleep(150);
      assert.equal(done.settled, false, 'kill: the caller waits for the callee');
      raw.send([8, 68, invocation[1], {}, 'wamp.error.canceled', ['stopped']]);
      const err = await rejection(call, 3000, 'killed call');
      assert.equal(err.error, 'wamp.error.canceled');
      assert.deepEqual(err.args, ['stopped']);
      await sleep(50);
      await assertAlive(caller, 'the caller is still open');
    });

    it('timeout: the router cancels the call after CALL.Options.timeout milliseconds', async () => {
      const proc = uri('timeout');
      const callee = await client();
      let invoked = 0;
      await callee.session.register(proc, () => {
        invoked++;
        return new Promise(() => {}); // never answers
      });
      const caller = await client();
      const started = Date.now();
      const err = await rejection(caller.session.call(proc, [], {}, { timeout: 300 }), 3000, 'timed call');
      const elapsed = Date.now() - started;
      assert.equal(err.error, 'wamp.error.canceled');
      assert.ok(elapsed >= 250, `not before the timeout (${elapsed} ms)`);
      assert.ok(elapsed < 2000, `soon after the timeout (${elapsed} ms)`);
      assert.equal(invoked, 1);
      await assertAlive(caller, 'the caller is still open');
    });

    it('timeout: a callee announcing call_canceling gets INTERRUPT killnowait', async () => {
      const proc = uri('timeout.raw');
      const { raw } = await rawCallee();
      raw.send([64, 1, {}, proc]);
      assert.equal((await raw.next(3000))[0], 65);
      const caller = await client();
      const started = Date.now();
      const call = caller.session.call(proc, [], {}, { timeout: 300 });
      const invocation = await raw.next(3000);
      assert.equal(invocation[0], 68);
      const interrupt = await raw.next(3000);
      const elapsed = Date.now() - started;
      assert.equal(interrupt[0], 69);
      assert.equal(interrupt[1], invocation[1]);
      assert.equal((interrupt[2] as any).mode, 'killnowait');
      assert.ok(elapsed >= 250 && elapsed < 2000, `INTERRUPT after the timeout (${elapsed} ms)`);
      const err = await rejection(call, 1000, 'timed call');
      assert.equal(err.error, 'wamp.error.canceled');
      // killnowait: a late answer is discarded.
      raw.send([70, invocation[1], {}, ['late']]);
      await sleep(100);
      await assertAlive(caller, 'the caller is still open');
    });

    it('timeout: a call answered in time is not affected', async () => {
      const proc = uri('timeout.fast');
      const callee = await client();
      await callee.session.register(proc, (args: number[]) => sleep(100).then(() => args[0] * 2));
      const caller = await client();
      assert.equal(await within(caller.session.call(proc, [21], {}, { timeout: 300 }), 3000, 'call'), 42);
      // Past the timeout nothing else arrives (an ERROR for the finished call would fail Autobahn|JS's transport).
      await sleep(400);
      await assertAlive(caller, 'the caller is still open');
      assert.equal(await within(caller.session.call(proc, [1], {}, { timeout: 300 }), 3000, 'second call'), 2);
    });

    it('a callee dying mid-call fails every call in flight with wamp.error.canceled', async () => {
      const proc = uri('dying');
      const callee = await client();
      let invoked = 0;
      await callee.session.register(proc, () => {
        invoked++;
        return new Promise(() => {});
      });
      const callers = [await client(), await client(), await client()];
      const calls = callers.flatMap((c) => [c.session.call(proc, [1]), c.session.call(proc, [2])]);
      await until(() => invoked === 6, 3000, 'six invocations');
      const started = Date.now();
      callee.session._socket.close(1000); // transport gone, no GOODBYE
      const errors = await Promise.all(calls.map((call) => rejection(call, 1000, 'call in flight')));
      assert.ok(Date.now() - started < 1000, 'within a second');
      for (const err of errors) {
        assert.equal(err.error, 'wamp.error.canceled');
        assert.deepEqual(err.args, ['callee disconnected from in-flight request']);
      }
      for (const c of callers) await assertAlive(c, 'callers stay open');
    });

    it('caller disclosure with disclose_me, and none without', async () => {
      const proc = uri('disclose');
      const callee = await client();
      const wire = tap(callee.session, INVOCATION);
      await callee.session.register(
        proc,
        (_args: unknown[], _kwargs: object, details: any) =>
          new autobahn.Result([details.caller ?? null, details.caller_authid ?? null, details.caller_authrole ?? null]),
      );
      const caller = await client();
      const disclosed = await caller.session.call(proc, [], {}, { disclose_me: true });
      assert.deepEqual(disclosed.args, [caller.session.id, caller.details.authid, 'anonymous']);
      assert.equal(typeof caller.details.authid, 'string');
      assert.equal(wire.at(-1)![3].caller, caller.session.id);

      const hidden = await caller.session.call(proc);
      assert.deepEqual(hidden.args, [null, null, null]);
      const details = wire.at(-1)![3];
      for (const key of ['caller', 'caller_authid', 'caller_authrole']) assert.equal(key in details, false, `no ${key}`);
    });

    it('registration meta procedures', async () => {
      const base = uri('regmeta');
      const exactUri = `${base}.exact`;
      const prefixUri = `${base}.pre`;
      const wildUri = `${base}..w`;
      const a = await client();
      const b = await client();
      const caller = await client();
      const before = Date.now();
      const regExact = await a.session.register(exactUri, () => 'exact-A');
      const regPrefixA = await a.session.register(prefixUri, () => 'prefix-A', { match: 'prefix', invoke: 'roundrobin' });
      const regPrefixB = await b.session.register(prefixUri, () => 'prefix-B', { match: 'prefix', invoke: 'roundrobin' });
      const regWild = await b.session.register(wildUri, () => 'wild-B', { match: 'wildcard' });
      assert.equal(regPrefixA.id, regPrefixB.id);

      const list = await meta(caller, 'wamp.registration.list');
      assert.deepEqual(Object.keys(list).sort(), ['exact', 'prefix', 'wildcard']);
      assert.ok(list.exact.includes(regExact.id), 'exact listed');
      assert.ok(list.prefix.includes(regPrefixA.id), 'prefix listed');
      assert.ok(list.wildcard.includes(regWild.id), 'wildcard listed');
      assert.ok(!list.exact.includes(regPrefixA.id) && !list.exact.includes(regWild.id), 'each under its own policy');
      assert.ok(!list.prefix.includes(regExact.id) && !list.wildcard.includes(regExact.id), 'each under its own policy');
      // The router's own wamp.* procedures are not listed.
      const mine = new Set([...list.exact, ...list.prefix, ...list.wildcard]);
      for (const id of mine) {
        const details = await meta(caller, 'wamp.registration.get', [id]);
        assert.ok(!details.uri.startsWith('wamp.'), `listed ${details.uri}`);
      }

      assert.equal(await meta(caller, 'wamp.registration.lookup', [exactUri]), regExact.id);
      assert.equal(await meta(caller, 'wamp.registration.lookup', [exactUri, { match: 'exact' }]), regExact.id);
      assert.equal(await meta(caller, 'wamp.registration.lookup', [prefixUri, { match: 'prefix' }]), regPrefixA.id);
      assert.equal(await meta(caller, 'wamp.registration.lookup', [prefixUri]), null);
      assert.equal(await meta(caller, 'wamp.registration.lookup', [wildUri, { match: 'wildcard' }]), regWild.id);
      assert.equal(await meta(caller, 'wamp.registration.lookup', [exactUri, { match: 'prefix' }]), null);

      assert.equal(await meta(caller, 'wamp.registration.match', [exactUri]), regExact.id);
      assert.equal(await meta(caller, 'wamp.registration.match', [`${prefixUri}.x.y`]), regPrefixA.id);
      assert.equal(await meta(caller, 'wamp.registration.match', [`${base}.zz.w`]), regWild.id);
      assert.equal(await meta(caller, 'wamp.registration.match', [`${base}.nothing`]), null);

      const details = await meta(caller, 'wamp.registration.get', [regExact.id]);
      assert.deepEqual(Object.keys(details).sort(), ['created', 'id', 'invoke', 'match', 'uri']);
      assert.equal(details.id, regExact.id);
      assert.equal(details.uri, exactUri);
      assert.equal(details.match, 'exact');
      assert.equal(details.invoke, 'single');
      assert.match(details.created, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      const created = Date.parse(details.created);
      assert.ok(created >= before - 1000 && created <= Date.now() + 1000, `created ${details.created} is now`);
      const prefixDetails = await meta(caller, 'wamp.registration.get', [regPrefixA.id]);
      assert.deepEqual(
        { ...prefixDetails, created: undefined },
        {
          id: regPrefixA.id,
          created: undefined,
          uri: prefixUri,
          match: 'prefix',
          invoke: 'roundrobin',
        },
      );
      assert.equal((await meta(caller, 'wamp.registration.get', [regWild.id])).match, 'wildcard');
      assert.equal((await rejection(caller.session.call('wamp.registration.get', [1]))).error, 'wamp.error.no_such_registration');

      assert.deepEqual(await meta(caller, 'wamp.registration.list_callees', [regExact.id]), [a.session.id]);
      assert.deepEqual(
        [...(await meta(caller, 'wamp.registration.list_callees', [regPrefixA.id]))].sort(),
        [a.session.id, b.session.id].sort(),
      );
      assert.equal(await meta(caller, 'wamp.registration.count_callees', [regExact.id]), 1);
      assert.equal(await meta(caller, 'wamp.registration.count_callees', [regPrefixA.id]), 2);
      assert.equal((await rejection(caller.session.call('wamp.registration.list_callees', [1]))).error, 'wamp.error.no_such_registration');
      assert.equal((await rejection(caller.session.call('wamp.registration.count_callees', [1]))).error, 'wamp.error.no_such_registration');

      // remove_callee: A keeps its connection; Autobahn|JS sees the revocation (it announces registration_revocation).
      const revokedExact = within<string>(regExact.on_unregister, 3000, 'exact on_unregister');
      assert.equal(await meta(caller, 'wamp.registration.remove_callee', [regExact.id, a.session.id]), null);
      assert.equal(await revokedExact, 'wamp.error.unregistered');
      assert.equal(regExact.active, false);
      await assertAlive(a, 'A keeps its session');
      assert.equal((await rejection(caller.session.call(exactUri))).error, 'wamp.error.no_such_procedure');
      assert.equal((await rejection(caller.session.call('wamp.registration.get', [regExact.id]))).error, 'wamp.error.no_such_registration');
      assert.equal(await meta(caller, 'wamp.registration.lookup', [exactUri]), null);
      assert.equal(await a.session.call(`${prefixUri}.q`).then(() => 'works'), 'works');

      const revokedB = within<string>(regPrefixB.on_unregister, 3000, 'prefix on_unregister');
      await meta(caller, 'wamp.registration.remove_callee', [regPrefixA.id, b.session.id], { reason: 'com.example.revoked' });
      assert.equal(await revokedB, 'com.example.revoked');
      assert.deepEqual(await meta(caller, 'wamp.registration.list_callees', [regPrefixA.id]), [a.session.id]);
      assert.equal(await caller.session.call(`${prefixUri}.x`), 'prefix-A');
      assert.equal(await caller.session.call(`${prefixUri}.x`), 'prefix-A');
      assert.equal(regPrefixA.active, true);

      const notCallee = await rejection(caller.session.call('wamp.registration.remove_callee', [regPrefixA.id, b.session.id]));
      assert.equal(notCallee.error, 'wamp.error.no_such_registration');
      const noSession = await rejection(caller.session.call('wamp.registration.remove_callee', [regPrefixA.id, 1]));
      assert.equal(noSession.error, 'wamp.error.no_such_session');
    });

    it('registration meta events for a register/unregister cycle and for a session leaving', async () => {
      const watcher = await client();
      const events: Array<[string, any[]]> = [];
      for (const topic of ['on_create', 'on_register', 'on_unregister', 'on_delete']) {
        await watcher.session.subscribe(`wamp.registration.${topic}`, (args: any[]) => events.push([topic, args]));
      }
      const proc = uri('regevents');
      const callee = await client();
      const registration = await callee.session.register(proc, () => 1);
      const about = (id: number) => events.filter(([, args]) => (typeof args[1] === 'object' ? args[1].id : args[1]) === id);
      await until(() => about(registration.id).length === 2, 3000, 'on_create and on_register');
      const [create, register] = about(registration.id);
      assert.equal(create[0], 'on_create');
      assert.equal(create[1].length, 2);
      assert.equal(create[1][0], callee.session.id);
      assert.deepEqual(
        { ...create[1][1], created: undefined },
        {
          id: registration.id,
          created: undefined,
          uri: proc,
          match: 'exact',
          invoke: 'single',
        },
      );
      assert.equal(typeof create[1][1].created, 'string');
      assert.deepEqual(register, ['on_register', [callee.session.id, registration.id]]);

      await callee.session.unregister(registration);
      await until(() => about(registration.id).length === 4, 3000, 'on_unregister and on_delete');
      assert.deepEqual(about(registration.id).slice(2), [
        ['on_unregister', [callee.session.id, registration.id]],
        ['on_delete', [callee.session.id, registration.id]],
      ]);

      // A shared registration: the first callee leaving only unregisters; the last one also deletes.
      const sharedUri = uri('regevents.shared');
      const first = await client();
      const second = await client();
      const r1 = await first.session.register(sharedUri, () => 1, { invoke: 'roundrobin' });
      await second.session.register(sharedUri, () => 2, { invoke: 'roundrobin' });
      await until(() => about(r1.id).length === 3, 3000, 'on_create and two on_register');
      assert.deepEqual(
        about(r1.id).map(([topic, args]) => [topic, args[0]]),
        [
          ['on_create', first.session.id],
          ['on_register', first.session.id],
          ['on_register', second.session.id],
        ],
      );
      const firstId = first.session.id;
      const secondId = second.session.id;
      await first.close();
      await until(() => about(r1.id).length === 4, 3000, 'on_unregister of the first');
      assert.deepEqual(about(r1.id)[3], ['on_unregister', [firstId, r1.id]]);
      await second.close();
      await until(() => about(r1.id).length === 6, 3000, 'on_unregister and on_delete of the last');
      assert.deepEqual(about(r1.id).slice(4), [
        ['on_unregister', [secondId, r1.id]],
        ['on_delete', [secondId, r1.id]],
      ]);
      await sleep(50);
      assert.equal(about(r1.id).length, 6, 'nothing more');
      // No events about the router's own wamp.* registrations.
      for (const [, args] of events) {
        if (typeof args[1] === 'object') assert.ok(!args[1].uri.startsWith('wamp.'), 'no wamp.* registration events');
      }
    });

    it('session meta procedures: count, list, get, kill, kill_by_authid; events on_join and on_leave', async () => {
      const watcher = await client();
      const joins: any[] = [];
      const leaves: any[] = [];
      await watcher.session.subscribe('wamp.session.on_join', (args: any[]) => joins.push(args));
      await watcher.session.subscribe('wamp.session.on_leave', (args: any[]) => leaves.push(args));

      const count0 = await meta(watcher, 'wamp.session.count');
      const list0: number[] = await meta(watcher, 'wamp.session.list');
      assert.equal(count0, list0.length);
      assert.ok(list0.includes(watcher.session.id), 'the caller is listed');
      assert.deepEqual([...(await meta(watcher, 'wamp.session.list', [['anonymous']]))].sort(), [...list0].sort());
      assert.equal(await meta(watcher, 'wamp.session.count', [['anonymous']]), count0);
      assert.deepEqual(await meta(watcher, 'wamp.session.list', [['nobody']]), []);
      assert.equal(await meta(watcher, 'wamp.session.count', [['nobody']]), 0);

      const t1 = await client();
      const t2 = await client();
      const t3 = await client();
      const targets = [t1, t2, t3];
      // Autobahn|JS forgets its session ID once the session has ended: keep them.
      const ids = new Map(targets.map((t) => [t, t.session.id as number]));
      assert.equal(await meta(watcher, 'wamp.session.count'), count0 + 3);
      const list1: number[] = await meta(watcher, 'wamp.session.list');
      for (const t of targets) assert.ok(list1.includes(t.session.id), 'new sessions listed');

      await until(() => targets.every((t) => joins.some((j) => j[0].session === t.session.id)), 3000, 'on_join');
      for (const t of targets) {
        const [details] = joins.find((j) => j[0].session === t.session.id);
        assert.equal(details.session, t.session.id);
        assert.equal(details.authid, t.details.authid);
        assert.equal(details.authrole, 'anonymous');
      }

      const got = await meta(watcher, 'wamp.session.get', [t1.session.id]);
      assert.equal(got.session, t1.session.id);
      assert.equal(got.authid, t1.details.authid);
      assert.equal(got.authrole, 'anonymous');
      assert.equal(got.authmethod, 'anonymous');
      assert.equal(got.authmethod, t1.details.authmethod);
      assert.equal(got.authprovider, t1.details.authprovider);
      assert.equal(typeof got.authprovider, 'string');
      assert.equal(got.transport.type, 'websocket');
      assert.equal(got.transport.serializer, serializer);
      assert.match(got.transport.peer, /127\.0\.0\.1/);
      assert.equal((await rejection(watcher.session.call('wamp.session.get', [1]))).error, 'wamp.error.no_such_session');

      // kill with a reason and message
      const left1 = whenLeft(t1);
      assert.equal(await meta(watcher, 'wamp.session.kill', [t1.session.id], { reason: 'com.example.kicked', message: 'go away' }), null);
      const closed1 = await within(left1, 3000, 't1 left');
      assert.equal(closed1.reason, 'com.example.kicked');
      assert.equal(closed1.details.message, 'go away');
      // kill without a reason: wamp.close.killed
      const t2id = t2.session.id;
      const left2 = whenLeft(t2);
      await meta(watcher, 'wamp.session.kill', [t2id]);
      assert.equal((await within(left2, 3000, 't2 left')).reason, 'wamp.close.killed');
      assert.equal((await rejection(watcher.session.call('wamp.session.get', [t2id]))).error, 'wamp.error.no_such_session');
      assert.equal((await rejection(watcher.session.call('wamp.session.kill', [t2id]))).error, 'wamp.error.no_such_session');
      // A session cannot kill itself.
      const self = await rejection(watcher.session.call('wamp.session.kill', [watcher.session.id]));
      assert.equal(self.error, 'wamp.error.no_such_session');
      await assertAlive(watcher, 'the killer is still open');

      // kill_by_authid: a list of the killed session IDs
      const t3id = t3.session.id;
      const left3 = whenLeft(t3);
      assert.deepEqual(await meta(watcher, 'wamp.session.kill_by_authid', [t3.details.authid]), [t3id]);
      assert.equal((await within(left3, 3000, 't3 left')).reason, 'wamp.close.killed');
      assert.deepEqual(await meta(watcher, 'wamp.session.kill_by_authid', ['no-such-authid']), []);
      // kill_by_authid never kills the caller itself.
      assert.deepEqual(await meta(watcher, 'wamp.session.kill_by_authid', [watcher.details.authid]), []);
      await assertAlive(watcher, 'the killer is still open');

      await until(() => targets.every((t) => leaves.some((l) => l[0] === ids.get(t))), 3000, 'on_leave');
      for (const t of targets) {
        const leave = leaves.filter((l) => l[0] === ids.get(t));
        assert.deepEqual(leave, [[ids.get(t), t.details.authid, 'anonymous']]);
      }
      assert.equal(await meta(watcher, 'wamp.session.count'), count0);
    });

    it('session meta kill_by_authrole and kill_all: counts, sparing the caller', async () => {
      // Last in this block: it ends every other session on the router.
      const killer = await client();
      assert.equal(await meta(killer, 'wamp.session.kill_by_authrole', ['nobody']), 0);
      const victims = [await client(), await client()];
      const left = victims.map(whenLeft);
      const before = await meta(killer, 'wamp.session.count');
      assert.ok(before >= 3, `at least killer and victims (${before})`);
      assert.equal(await meta(killer, 'wamp.session.kill_by_authrole', ['anonymous']), before - 1);
      for (const l of left) assert.equal((await within(l, 3000, 'victim left')).reason, 'wamp.close.killed');
      assert.deepEqual(await meta(killer, 'wamp.session.list'), [killer.session.id]);

      const more = [await client(), await client(), await client()];
      const leftMore = more.map(whenLeft);
      assert.equal(await meta(killer, 'wamp.session.kill_all', [], { reason: 'com.example.shutdown' }), 3);
      for (const l of leftMore) assert.equal((await within(l, 3000, 'kill_all victim left')).reason, 'com.example.shutdown');
      assert.deepEqual(await meta(killer, 'wamp.session.list'), [killer.session.id]);
      assert.equal(await meta(killer, 'wamp.session.kill_all'), 0);
      await assertAlive(killer, 'the killer is still open');
    });
  });
}

// ---- with a call queue ----

describe('Autobahn|JS concurrency with a call queue (callQueueLimit 3)', () => {
  const open: AbClient[] = [];
  // Registered before useRouter's own after(), so the clients leave before the router stops.
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
  });
  const queued = useRouter({ callQueueLimit: 3 });

  for (const serializer of ['json', 'msgpack'] as AbSerializer[]) {
    it(`queues up to 3 calls and serves them in order as the callee completes each (${serializer})`, async () => {
      const client = async () => {
        const c = await openAutobahn(queued.url, serializer);
        open.push(c);
        return c;
      };
      const proc = `com.example.abrpc.queue.${serializer}`;
      const callee = await client();
      const caller = await client();
      const invocations: Array<{ arg: number; release: Gate }> = [];
      await callee.session.register(
        proc,
        (args: number[]) => {
          const release = gate();
          invocations.push({ arg: args[0], release });
          return release.promise.then(() => args[0] * 10);
        },
        { concurrency: 1 },
      );
      const calls = [1, 2, 3, 4].map((i) => caller.session.call(proc, [i]) as Promise<number>);
      const flags = calls.map(settledFlag);
      const refused = await rejection(caller.session.call(proc, [5]));
      assert.equal(refused.error, 'crossbar.error.max_concurrency_reached');
      for (let i = 0; i < 4; i++) {
        await until(() => invocations.length === i + 1, 3000, `invocation ${i + 1}`);
        await sleep(30);
        assert.equal(invocations.length, i + 1, 'one invocation at a time');
        assert.equal(invocations[i].arg, i + 1, 'in call order');
        assert.deepEqual(
          flags.map((f) => f.settled),
          [0, 1, 2, 3].map((j) => j < i),
          'earlier calls answered, later ones waiting',
        );
        invocations[i].release.open(undefined);
        assert.equal(await within(calls[i], 3000, `result ${i + 1}`), (i + 1) * 10);
      }
      await sleep(30);
      assert.equal(invocations.length, 4, 'the refused call never reached the callee');
    });
  }
});
