/**
 * Advanced RPC on the wire, with raw `ws` clients that announce exactly the
 * features under test: call canceling in each mode, progressive call
 * invocations (which Autobahn|JS does not implement) and progressive results.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { useRouter } from '../helpers/node.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { ERROR, CALL, CANCEL, RESULT, REGISTER, REGISTERED, INVOCATION, INTERRUPT, YIELD } from '../helpers/wamp-codes.ts';

const router = useRouter();

type Serializer = 'json' | 'msgpack';

/** Asserts that nothing arrives at a raw client for `ms`. */
async function silent(raw: RawClient, ms: number, what: string): Promise<void> {
  const got = await raw.next(ms).catch(() => undefined);
  assert.equal(got, undefined, `${what}: unexpected message ${JSON.stringify(got)}`);
}

for (const serializer of ['json', 'msgpack'] as Serializer[]) {
  describe(`raw clients, advanced RPC over ${serializer}`, () => {
    const raws: RawClient[] = [];
    after(() => {
      for (const raw of raws) raw.close();
    });
    let n = 0;
    const uri = (name: string) => `com.example.rawrpc.${serializer}.${name}.${++n}`;

    /** Opens a raw client and joins realm1 with exactly these HELLO roles. */
    const join = async (roles: object) => {
      const raw = await RawClient.open(router.url, serializer);
      raws.push(raw);
      raw.send([1, 'realm1', { roles }]);
      const welcome = await raw.next(3000);
      assert.equal(welcome[0], 2, `expected WELCOME, got ${JSON.stringify(welcome)}`);
      return raw;
    };
    /** Registers `procedure` and returns the registration ID. */
    const register = async (callee: RawClient, request: number, procedure: string, options: object = {}) => {
      callee.send([REGISTER, request, options, procedure]);
      const registered = await callee.next(3000);
      assert.equal(registered[0], REGISTERED, `REGISTER failed: ${JSON.stringify(registered)}`);
      assert.equal(registered[1], request);
      return registered[2] as number;
    };

    const cancelingCallee = () => join({ callee: { features: { call_canceling: true } } });
    const cancelingCaller = () => join({ caller: { features: { call_canceling: true } } });

    it('cancel killnowait: INTERRUPT to the callee and ERROR to the caller at once; the late answer is dropped', async () => {
      const proc = uri('killnowait');
      const callee = await cancelingCallee();
      const reg = await register(callee, 1, proc);
      const caller = await cancelingCaller();
      caller.send([CALL, 1, {}, proc, ['x']]);
      assert.deepEqual(await callee.next(3000), [INVOCATION, 1, reg, {}, ['x']]);
      caller.send([CANCEL, 1, { mode: 'killnowait' }]);
      const interrupt = await callee.next(3000);
      assert.equal(interrupt[0], INTERRUPT);
      assert.equal(interrupt[1], 1);
      assert.equal((interrupt[2] as any).mode, 'killnowait');
      const err = await caller.next(1000);
      assert.deepEqual(err.slice(0, 5), [ERROR, CALL, 1, {}, 'wamp.error.canceled']);
      callee.send([YIELD, 1, {}, ['late']]);
      await silent(caller, 200, 'late YIELD after killnowait');
      // Both keep working.
      caller.send([CALL, 2, {}, proc, ['y']]);
      assert.deepEqual(await callee.next(3000), [INVOCATION, 2, reg, {}, ['y']]);
      callee.send([YIELD, 2, {}, ['ok']]);
      assert.deepEqual(await caller.next(3000), [RESULT, 2, {}, ['ok']]);
    });

    it('cancel skip: no INTERRUPT, ERROR to the caller at once; the late answer is dropped', async () => {
      const proc = uri('skip');
      const callee = await cancelingCallee();
      const reg = await register(callee, 1, proc);
      const caller = await cancelingCaller();
      caller.send([CALL, 1, {}, proc, ['x']]);
      assert.deepEqual(await callee.next(3000), [INVOCATION, 1, reg, {}, ['x']]);
      caller.send([CANCEL, 1, { mode: 'skip' }]);
      const err = await caller.next(1000);
      assert.deepEqual(err.slice(0, 5), [ERROR, CALL, 1, {}, 'wamp.error.canceled']);
      await silent(callee, 200, 'skip sends no INTERRUPT');
      callee.send([YIELD, 1, {}, ['late']]);
      await silent(caller, 200, 'late YIELD after skip');
      caller.send([CALL, 2, {}, proc, ['y']]);
      assert.deepEqual(await callee.next(3000), [INVOCATION, 2, reg, {}, ['y']]);
      callee.send([YIELD, 2, {}, ['ok']]);
      assert.deepEqual(await caller.next(3000), [RESULT, 2, {}, ['ok']]);
    });

    it("cancel kill: INTERRUPT, and the caller waits for the callee's answer", async () => {
      const proc = uri('kill');
      const callee = await cancelingCallee();
      const reg = await register(callee, 1, proc);
      const caller = await cancelingCaller();
      caller.send([CALL, 1, {}, proc, ['x']]);
      assert.deepEqual(await callee.next(3000), [INVOCATION, 1, reg, {}, ['x']]);
      caller.send([CANCEL, 1, { mode: 'kill' }]);
      const interrupt = await callee.next(3000);
      assert.equal(interrupt[0], INTERRUPT);
      assert.equal(interrupt[1], 1);
      assert.equal((interrupt[2] as any).mode, 'kill');
      await silent(caller, 200, 'kill: nothing before the callee answers');
      // A repeated CANCEL changes nothing.
      caller.send([CANCEL, 1, { mode: 'kill' }]);
      await silent(callee, 100, 'no second INTERRUPT');
      callee.send([ERROR, INVOCATION, 1, {}, 'wamp.error.canceled', ['stopped']]);
      assert.deepEqual(await caller.next(3000), [ERROR, CALL, 1, {}, 'wamp.error.canceled', ['stopped']]);

      // The callee may also finish first: the caller then gets its result.
      caller.send([CALL, 2, {}, proc, ['y']]);
      assert.deepEqual(await callee.next(3000), [INVOCATION, 2, reg, {}, ['y']]);
      caller.send([CANCEL, 2, { mode: 'kill' }]);
      assert.equal((await callee.next(3000))[0], INTERRUPT);
      callee.send([YIELD, 2, {}, ['done anyway']]);
      assert.deepEqual(await caller.next(3000), [RESULT, 2, {}, ['done anyway']]);
    });

    it('cancel with a callee not announcing call_canceling: skip whatever the mode', async () => {
      const proc = uri('nocancel');
      const callee = await join({ callee: {} });
      const reg = await register(callee, 1, proc);
      const caller = await cancelingCaller();
      for (const [request, mode] of [
        [1, 'kill'],
        [2, 'killnowait'],
        [3, 'skip'],
      ] as const) {
        caller.send([CALL, request, {}, proc, [mode]]);
        const invocation = await callee.next(3000);
        assert.deepEqual(invocation, [INVOCATION, request, reg, {}, [mode]]);
        caller.send([CANCEL, request, { mode }]);
        const err = await caller.next(1000);
        assert.deepEqual(err.slice(0, 5), [ERROR, CALL, request, {}, 'wamp.error.canceled'], mode);
        await silent(callee, 100, `${mode}: no INTERRUPT`);
        callee.send([YIELD, request, {}, ['late']]);
        await silent(caller, 100, `${mode}: late YIELD dropped`);
      }
    });

    it('progressive call invocations: three chunks, one INVOCATION ID, one RESULT', async () => {
      const proc = uri('pci');
      const callee = await join({ callee: { features: { progressive_call_invocations: true, call_canceling: true } } });
      const reg = await register(callee, 1, proc);
      const caller = await join({ caller: { features: { progressive_call_invocations: true, call_canceling: true } } });
      caller.send([CALL, 1, { progress: true }, proc, [1]]);
      caller.send([CALL, 1, { progress: true }, proc, [2]]);
      caller.send([CALL, 1, {}, proc, [3]]);
      const chunks = [await callee.next(3000), await callee.next(3000), await callee.next(3000)];
      assert.deepEqual(chunks, [
        [INVOCATION, 1, reg, { progress: true }, [1]],
        [INVOCATION, 1, reg, { progress: true }, [2]],
        [INVOCATION, 1, reg, {}, [3]],
      ]);
      const sum = chunks.reduce((total, chunk) => total + (chunk[4] as number[])[0], 0);
      callee.send([YIELD, 1, {}, [sum]]);
      assert.deepEqual(await caller.next(3000), [RESULT, 1, {}, [6]]);
      await silent(caller, 100, 'one RESULT only');
    });

    it('progressive call invocations to a callee without the feature: wamp.error.feature_not_supported', async () => {
      const proc = uri('pci.unsupported');
      const callee = await join({ callee: { features: { call_canceling: true } } });
      const reg = await register(callee, 1, proc);
      const caller = await join({ caller: { features: { progressive_call_invocations: true, call_canceling: true } } });
      caller.send([CALL, 1, { progress: true }, proc, [1]]);
      const err = await caller.next(3000);
      assert.deepEqual(err.slice(0, 5), [ERROR, CALL, 1, {}, 'wamp.error.feature_not_supported']);
      // The rest of that call is ignored, and the callee never saw any of it.
      caller.send([CALL, 1, { progress: true }, proc, [2]]);
      caller.send([CALL, 1, {}, proc, [3]]);
      await silent(caller, 150, 'late chunks of a failed call');
      caller.send([CALL, 2, {}, proc, [5]]);
      assert.deepEqual(await callee.next(3000), [INVOCATION, 1, reg, {}, [5]]);
      callee.send([YIELD, 1, {}, [50]]);
      assert.deepEqual(await caller.next(3000), [RESULT, 2, {}, [50]]);
    });

    it('progressive call results reach only a caller that asked for them', async () => {
      const proc = uri('pcr');
      const callee = await join({ callee: { features: { progressive_call_results: true, call_canceling: true } } });
      const reg = await register(callee, 1, proc);
      const caller = await join({ caller: { features: { progressive_call_results: true, call_canceling: true } } });

      caller.send([CALL, 1, { receive_progress: true }, proc, []]);
      assert.deepEqual(await callee.next(3000), [INVOCATION, 1, reg, { receive_progress: true }, []]);
      callee.send([YIELD, 1, { progress: true }, ['p1']]);
      callee.send([YIELD, 1, { progress: true }, ['p2']]);
      callee.send([YIELD, 1, {}, ['final']]);
      assert.deepEqual(
        [await caller.next(3000), await caller.next(3000), await caller.next(3000)],
        [
          [RESULT, 1, { progress: true }, ['p1']],
          [RESULT, 1, { progress: true }, ['p2']],
          [RESULT, 1, {}, ['final']],
        ],
      );

      // The callee sends progress anyway: a caller that did not ask gets only the final result.
      caller.send([CALL, 2, {}, proc, []]);
      assert.deepEqual(await callee.next(3000), [INVOCATION, 2, reg, {}, []]);
      callee.send([YIELD, 2, { progress: true }, ['p1']]);
      callee.send([YIELD, 2, {}, ['final']]);
      assert.deepEqual(await caller.next(3000), [RESULT, 2, {}, ['final']]);
      await silent(caller, 100, 'nothing more');
    });
  });
}
