/**
 * The conformance suite every backplane passes (`memory.ts` and `nats.ts`
 * both, in test/cluster/backplane-conformance.test.ts): what the cluster
 * relies on, asserted with deadlines (poll until true), never with timings.
 *
 * `build()` runs once for the suite; `nodes(id)` connects one node to the
 * same engine. Every case uses its own node IDs, keys and channels, so cases
 * share an engine without seeing each other; the nodes a case opened are
 * closed after it.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type Backplane, BackplaneUnavailable, type KvChange, KvConflict, type KvEntry } from './backplane.ts';

export interface BackplaneEngine {
  /** Connects a node; its ID is `[a-z0-9-]+` and unique among the open nodes. */
  nodes(id: string): Promise<Backplane>;
  close(): Promise<void>;
}

/** How long a case waits for something that should happen. */
const DEADLINE = 5000;

export function backplaneConformance(name: string, build: () => Promise<BackplaneEngine>): void {
  describe(`backplane conformance: ${name}`, () => {
    let engine: BackplaneEngine;
    let open: Backplane[] = [];
    let cases = 0;
    /** A per-case tag: node IDs, keys and channels start with it. */
    let tag = '';

    before(async () => {
      engine = await build();
    });
    after(async () => {
      await engine?.close();
    });
    afterEach(async () => {
      const closing = open;
      open = [];
      await Promise.all(closing.map((node) => node.close().catch(() => undefined)));
    });

    async function node(id: string): Promise<Backplane> {
      const backplane = await engine.nodes(`${tag}-${id}`);
      open.push(backplane);
      return backplane;
    }

    /** Starts a case: a fresh tag. */
    function fresh(): string {
      tag = `c${++cases}${Math.random().toString(36).slice(2, 8)}`;
      return tag;
    }

    it('create is create-only: of two concurrent creates exactly one wins, 20 rounds', async () => {
      const t = fresh();
      const [a, b] = [await node('a'), await node('b')];
      for (let round = 0; round < 20; round++) {
        // Even rounds share one key, deleted after each (from round 2 on a delete marker); odd ones a key never written.
        const key = round % 2 === 0 ? `t.${t}.single` : `t.${t}.r${round}`;
        const results = await Promise.allSettled([a.create(key, bytes(`a${round}`)), b.create(key, bytes(`b${round}`))]);
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, revision: r.value }] : []));
        assert.equal(won.length, 1, `round ${round}: ${won.length} winners`);
        const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        assert.ok(lost.reason instanceof KvConflict, `round ${round}: ${lost.reason}`);
        assert.equal(lost.reason.key, key);
        // The loser learns the revision it lost to: the registry waits until its mirror holds it.
        assert.equal(lost.reason.revision, won[0].revision, `round ${round}: the conflict names the winner's revision`);
        const entry = await a.get(key);
        assert.equal(text(entry?.value), `${won[0].i === 0 ? 'a' : 'b'}${round}`);
        if (round % 2 === 0) await (won[0].i === 0 ? a : b).delete(key, won[0].revision);
      }
    });

    it('create of an existing key is a KvConflict naming its revision', async () => {
      const t = fresh();
      const a = await node('a');
      const key = `t.${t}.k`;
      const revision = await a.create(key, bytes('1'));
      await assert.rejects(a.create(key, bytes('2')), (err) => err instanceof KvConflict && err.key === key && err.revision === revision);
      assert.equal(text((await a.get(key))?.value), '1');
    });

    it('update and delete compare and set: a stale revision is a KvConflict naming the current one', async () => {
      const t = fresh();
      const [a, b] = [await node('a'), await node('b')];
      const key = `t.${t}.cas`;
      const r1 = await a.create(key, bytes('1'));
      const r2 = await b.update(key, bytes('2'), r1);
      assert.ok(r2 > r1);
      await assert.rejects(a.update(key, bytes('x'), r1), (err) => err instanceof KvConflict && err.revision === r2);
      await assert.rejects(a.delete(key, r1), (err) => err instanceof KvConflict && err.revision === r2);
      assert.equal(text((await a.get(key))?.value), '2');
      await b.delete(key, r2);
      assert.equal(await a.get(key), undefined);
      await assert.rejects(a.update(`t.${t}.never`, bytes('x'), r2), KvConflict);
      await assert.rejects(a.update(key, bytes('x'), 0), RangeError);
    });

    it('get returns what was written, with its revision; undefined for an absent or deleted key', async () => {
      const t = fresh();
      const [a, b] = [await node('a'), await node('b')];
      const key = `t.${t}.g`;
      assert.equal(await a.get(key), undefined);
      const r1 = await a.create(key, bytes('one'));
      assert.deepEqual(plain(await b.get(key)), plain({ key, value: bytes('one'), revision: r1 }));
      const r2 = await b.update(key, new Uint8Array([0, 255, 1]), r1);
      assert.deepEqual(plain(await a.get(key)), plain({ key, value: new Uint8Array([0, 255, 1]), revision: r2 }));
      const empty = await a.put(`t.${t}.empty`, new Uint8Array(0));
      assert.deepEqual(plain(await b.get(`t.${t}.empty`)), plain({ key: `t.${t}.empty`, value: new Uint8Array(0), revision: empty }));
      await a.delete(key);
      assert.equal(await b.get(key), undefined);
    });

    it('put writes whatever the key holds; revisions increase', async () => {
      const t = fresh();
      const a = await node('a');
      const key = `t.${t}.p`;
      const r1 = await a.put(key, bytes('1'));
      const r2 = await a.put(key, bytes('2'));
      assert.ok(r2 > r1);
      assert.deepEqual(plain(await a.get(key)), plain({ key, value: bytes('2'), revision: r2 }));
      await a.delete(key);
      const r3 = await a.put(key, bytes('3'));
      assert.ok(r3 > r2);
      assert.equal(text((await a.get(key))?.value), '3');
    });

    it('delete without a revision: an absent key is fine, a present one goes', async () => {
      const t = fresh();
      const a = await node('a');
      await a.delete(`t.${t}.absent`);
      await a.delete(`t.${t}.absent`);
      await a.put(`t.${t}.present`, bytes('x'));
      await a.delete(`t.${t}.present`);
      assert.equal(await a.get(`t.${t}.present`), undefined);
      // A deleted key can be created again.
      assert.ok((await a.create(`t.${t}.present`, bytes('y'))) > 0);
    });

    it('watch delivers the current state before it resolves, then the changes in revision order, deletes as undefined', async () => {
      const t = fresh();
      const [a, b] = [await node('a'), await node('b')];
      const p = `t.${t}.w.`;
      const r1 = await a.put(`${p}one`, bytes('1'));
      const r2 = await a.put(`${p}two`, bytes('2'));
      await a.put(`${p}gone`, bytes('x'));
      await a.delete(`${p}gone`);
      const r1b = await a.update(`${p}one`, bytes('1b'), r1);
      const seen: KvChange[] = [];
      const watch = await b.watch(p, (change) => seen.push(change));
      // The current state, in revision order; the deleted key is not in it.
      assert.deepEqual(seen.map(show), [`${p}two=2@${r2}`, `${p}one=1b@${r1b}`]);
      const r3 = await a.put(`${p}three`, bytes('3'));
      const r4 = await a.update(`${p}two`, bytes('2b'), r2);
      await a.delete(`${p}one`);
      await until(() => seen.length >= 5, 'the three changes');
      assert.deepEqual(seen.slice(2).map(show).slice(0, 2), [`${p}three=3@${r3}`, `${p}two=2b@${r4}`]);
      assert.equal(seen[4].key, `${p}one`);
      assert.equal(seen[4].value, undefined);
      assert.ok(seen[4].revision > r4);
      assert.equal(seen.length, 5);
      watch.stop();
      await a.put(`${p}after-stop`, bytes('x'));
      await b.put(`t.${t}.sync`, bytes('x')); // a later write, and a pause for a change that should not come
      await pause();
      assert.equal(seen.length, 5, 'nothing after stop()');
    });

    it('watch of an empty prefix resolves at once and then sees writes, also its own', async () => {
      const t = fresh();
      const a = await node('a');
      const seen: KvChange[] = [];
      const watch = await a.watch(`t.${t}.`, (change) => seen.push(change));
      assert.equal(seen.length, 0);
      const revision = await a.create(`t.${t}.k`, bytes('v'));
      await until(() => seen.length === 1, 'the change');
      assert.deepEqual(plain(seen[0]), plain({ key: `t.${t}.k`, value: bytes('v'), revision }));
      watch.stop();
    });

    it('watch sees only keys under its prefix (a string prefix, also within a token)', async () => {
      const t = fresh();
      const [a, b] = [await node('a'), await node('b')];
      const dotted: string[] = [];
      const partial: string[] = [];
      const w1 = await b.watch(`t.${t}.x.`, (change) => dotted.push(change.key));
      const w2 = await b.watch(`t.${t}.x`, (change) => partial.push(change.key));
      for (const key of ['x.1', 'xy.2', 'y.3', 'x.deep.4', 'x']) await a.put(`t.${t}.${key}`, bytes(key));
      await a.put(`u.${t}.x.5`, bytes('other'));
      await until(() => partial.length === 4, 'the partial-token watch');
      await until(() => dotted.length === 2, 'the dotted watch');
      await pause();
      assert.deepEqual(dotted, [`t.${t}.x.1`, `t.${t}.x.deep.4`]);
      assert.deepEqual(partial, [`t.${t}.x.1`, `t.${t}.xy.2`, `t.${t}.x.deep.4`, `t.${t}.x`]);
      w1.stop();
      w2.stop();
    });

    it('keys use the whole alphabet [-/_=.a-zA-Z0-9]; other keys are refused', async () => {
      const t = fresh();
      const [a, b] = [await node('a'), await node('b')];
      const key = `t.${t}.ABCXYZ-abcxyz_0189/=.z`;
      const seen: string[] = [];
      const watch = await b.watch(`t.${t}.`, (change) => seen.push(change.key));
      const revision = await a.create(key, bytes('v'));
      assert.deepEqual(plain(await b.get(key)), plain({ key, value: bytes('v'), revision }));
      await until(() => seen.length === 1, 'the change');
      assert.deepEqual(seen, [key]);
      watch.stop();
      for (const bad of ['', 'a b', '.a', 'a.', 'a..b', 'a.*', 'a.>', 'ä', 'a\n', '__proto__ x']) {
        await assert.rejects(a.put(bad, bytes('x')), TypeError, JSON.stringify(bad));
        await assert.rejects(a.get(bad), TypeError, JSON.stringify(bad));
      }
      await assert.rejects(
        a.watch('a..', () => undefined),
        TypeError,
      );
      // Keys are data: names of Object.prototype are keys like any other.
      for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
        assert.equal(await a.get(`t.${t}.${name}`), undefined);
        const r = await a.create(`t.${t}.${name}`, bytes(name));
        assert.deepEqual(plain(await b.get(`t.${t}.${name}`)), plain({ key: `t.${t}.${name}`, value: bytes(name), revision: r }));
      }
    });

    it('send: 500 frames to one node arrive in order, as sent', async () => {
      const t = fresh();
      const [a, b] = [await node('a'), await node('b')];
      const got: { n: number; channel: string | undefined }[] = [];
      b.onFrame((frame, channel) => got.push({ n: new DataView(frame.buffer, frame.byteOffset).getUint32(0), channel }));
      const frame = new Uint8Array(64);
      for (let n = 0; n < 500; n++) {
        new DataView(frame.buffer).setUint32(0, n);
        a.send(`${t}-b`, frame); // the same buffer each time: a backplane may not keep it
      }
      await until(() => got.length === 500, '500 frames');
      assert.deepEqual(
        got.map((g) => g.n),
        Array.from({ length: 500 }, (_, n) => n),
      );
      assert.ok(got.every((g) => g.channel === undefined));
    });

    it('send to oneself or to an unknown node goes nowhere and does not throw; a bad node id throws', async () => {
      const t = fresh();
      const [a, b] = [await node('a'), await node('b')];
      const [inA, inB] = [new Inbox(a), new Inbox(b)];
      a.send(`${t}-a`, bytes('self'));
      a.send(`${t}-nobody`, bytes('nobody'));
      a.send(`${t}-b`, bytes('sync'));
      await until(() => inB.frames.length === 1, 'the frame to b');
      b.send(`${t}-a`, bytes('sync'));
      await until(() => inA.frames.length === 1, 'the frame back');
      assert.deepEqual(inA.texts(), ['-:sync']);
      assert.throws(() => a.send('a.b', bytes('x')), TypeError);
      assert.throws(() => a.send('>', bytes('x')), TypeError);
      assert.throws(() => a.send(`${t}-b`, new Uint8Array(a.maxFrame + 1)), RangeError);
    });

    it('broadcast reaches every other listening node, never the sender', async () => {
      const t = fresh();
      const channel = `c${t}.hb`;
      const [a, b, c] = [await node('a'), await node('b'), await node('c')];
      const [inA, inB, inC] = [new Inbox(a), new Inbox(b), new Inbox(c)];
      for (const n of [a, b, c]) n.listen(channel);
      await settle(a, [inB, inC], channel);
      a.broadcast(channel, bytes('hello'));
      await until(() => inB.frames.length === 1 && inC.frames.length === 1, 'b and c');
      assert.deepEqual(inB.texts(), [`${channel}:hello`]);
      assert.deepEqual(inC.texts(), [`${channel}:hello`]);
      // Round trips from b and c to a, sent after the broadcast reached them; a's own copy would have come first.
      b.send(`${t}-a`, bytes('sync'));
      c.send(`${t}-a`, bytes('sync'));
      await until(() => inA.frames.length === 2, 'the syncs');
      assert.deepEqual(inA.texts(), ['-:sync', '-:sync']);
      assert.equal(inA.probes.size, 0, 'not even the probes came back');
      assert.throws(() => a.broadcast('Bad Channel', bytes('x')), TypeError);
      assert.throws(() => a.broadcast('node.x', bytes('x')), TypeError, 'node.* are the send subjects');
      assert.throws(() => a.listen('a..b'), TypeError);
      assert.throws(() => a.listen('a.>'), TypeError);
    });

    it('listen: a node hears only the channels it listens on', async () => {
      const t = fresh();
      const [a, b] = [await node('a'), await node('b')];
      const inB = new Inbox(b);
      b.listen(`x${t}`);
      b.listen(`x${t}`); // twice is once
      await settle(a, [inB], `x${t}`);
      a.broadcast(`y${t}`, bytes('not for b'));
      a.broadcast(`x${t}.sub`, bytes('not for b either'));
      a.broadcast(`x${t}`, bytes('for b'));
      // Frames from one sender keep their order across channels: once the last is here, the others would be too.
      await until(() => inB.frames.length >= 1, 'the frame for b');
      await pause();
      assert.deepEqual(inB.texts(), [`x${t}:for b`]);
    });

    it('a frame of maxFrame - 1024 bytes arrives whole', async () => {
      const t = fresh();
      const [a, b] = [await node('a'), await node('b')];
      assert.ok(a.maxFrame >= 64 * 1024, `maxFrame ${a.maxFrame}`);
      const frame = new Uint8Array(a.maxFrame - 1024);
      for (let i = 0; i < frame.length; i++) frame[i] = (i * 31) & 0xff;
      const inB = new Inbox(b);
      a.send(`${t}-b`, frame);
      await until(() => inB.frames.length === 1, 'the large frame');
      const [got] = inB.frames;
      assert.equal(got.frame.length, frame.length);
      assert.ok(Buffer.from(got.frame).equals(Buffer.from(frame)));
    });

    it('a value of maxFrame - 1024 bytes is stored whole; a larger one is refused', async () => {
      const t = fresh();
      const [a, b] = [await node('a'), await node('b')];
      const value = new Uint8Array(a.maxFrame - 1024);
      for (let i = 0; i < value.length; i++) value[i] = (i * 7) & 0xff;
      const revision = await a.create(`t.${t}.big`, value);
      const entry = await b.get(`t.${t}.big`);
      assert.equal(entry?.revision, revision);
      assert.ok(entry && Buffer.from(entry.value).equals(Buffer.from(value)));
      await assert.rejects(a.put(`t.${t}.bigger`, new Uint8Array(a.maxFrame - 1023)), RangeError);
    });

    it('close is clean: later calls fail as unavailable or do nothing, the node ID can connect again', async () => {
      const t = fresh();
      const [a, b] = [await node('a'), await node('b')];
      const seen: KvChange[] = [];
      await a.watch(`t.${t}.`, (change) => seen.push(change));
      await a.put(`t.${t}.before`, bytes('x'));
      await until(() => seen.length === 1, 'the change before close');
      await a.close();
      await a.close(); // twice is once
      await assert.rejects(a.get(`t.${t}.k`), BackplaneUnavailable);
      await assert.rejects(a.put(`t.${t}.k`, bytes('x')), BackplaneUnavailable);
      await assert.rejects(
        a.watch(`t.${t}.`, () => undefined),
        BackplaneUnavailable,
      );
      a.send(`${t}-b`, bytes('after close'));
      a.broadcast(`c${t}`, bytes('after close'));
      b.send(`${t}-a`, bytes('to a closed node'));
      await b.put(`t.${t}.after`, bytes('x'));
      const again = await node('a');
      const inAgain = new Inbox(again);
      b.send(`${t}-a`, bytes('to the new a'));
      await until(() => inAgain.frames.length === 1, 'a frame to the new connection');
      assert.deepEqual(inAgain.texts(), ['-:to the new a']);
      assert.equal(seen.length, 1, 'the old watch stopped with close()');
      assert.equal(text((await again.get(`t.${t}.after`))?.value), 'x');
    });
  });
}

/** What reaches a node: frames (rendered `channel:text`, `-` for a send) and, apart, the probes of `settle()`. */
class Inbox {
  readonly frames: { channel: string | undefined; frame: Uint8Array }[] = [];
  readonly probes = new Set<string>();

  constructor(node: Backplane) {
    node.onFrame((frame, channel) => {
      if (frame[0] === 0 && text(frame.subarray(0, PROBE.length)) === PROBE) this.probes.add(text(frame)!);
      else this.frames.push({ channel, frame });
    });
  }

  texts(): string[] {
    return this.frames.map(({ channel, frame }) => `${channel ?? '-'}:${text(frame)}`);
  }
}

const PROBE = '\0probe:';

/**
 * Broadcasts probes on `channel` until each inbox has heard one: a listen
 * takes effect asynchronously (NATS: once the server has the subscription).
 */
async function settle(from: Backplane, to: Inbox[], channel: string): Promise<void> {
  const probe = `${PROBE}${Math.random()}`;
  const deadline = Date.now() + DEADLINE;
  while (!to.every((inbox) => inbox.probes.has(probe))) {
    if (Date.now() > deadline) assert.fail(`not within ${DEADLINE} ms: broadcasts on ${channel} heard`);
    from.broadcast(channel, bytes(probe));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function until(condition: () => boolean, what: string, ms = DEADLINE): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A short wait for something that must not happen. */
function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function text(value: Uint8Array | undefined): string | undefined {
  return value === undefined ? undefined : new TextDecoder().decode(value);
}

/** An entry or change with its bytes as an array: engines may hand out a Buffer or a plain Uint8Array. */
function plain(entry: KvEntry | KvChange | undefined): unknown {
  return entry && { key: entry.key, value: entry.value && [...entry.value], revision: entry.revision };
}

function show(change: KvChange): string {
  return `${change.key}=${text(change.value)}@${change.revision}`;
}
