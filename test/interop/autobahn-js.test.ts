/**
 * Autobahn|JS (npm `autobahn`) against a real router on 127.0.0.1, over each
 * serializer, using Autobahn's own serializers (msgpack5, node-cbor).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { useRouter } from '../helpers/node.ts';
import { autobahn, openAutobahn, rejectionOf, within, type AbClient, type AbSerializer } from '../helpers/autobahn-js.ts';

const router = useRouter();

for (const serializer of ['json', 'msgpack', 'cbor'] as AbSerializer[]) {
  describe(`Autobahn|JS over ${serializer}`, () => {
    const open: AbClient[] = [];
    const client = async () => {
      const c = await openAutobahn(router.url, serializer);
      open.push(c);
      return c;
    };
    after(async () => {
      await Promise.all(open.map((c) => c.close()));
    });
    let n = 0;
    const uri = (name: string) => `com.example.${serializer}.${name}.${++n}`;

    it('joins with WELCOME details and really speaks this serializer', async () => {
      const { session, details } = await client();
      assert.equal(details.realm, 'realm1');
      assert.equal(details.authrole, 'anonymous');
      assert.equal(details.authmethod, 'anonymous');
      assert.ok(Number.isInteger(session.id) && session.id >= 1 && session.id <= 2 ** 53);
      const routerSide = router.node.router.realms.get('realm1')!.sessions.get(session.id)!;
      assert.equal(routerSide.peer.info.serializer, serializer);
    });

    it('registers and calls a procedure', async () => {
      const callee = await client();
      const caller = await client();
      const proc = uri('add2');
      await callee.session.register(proc, (args: number[]) => args[0] + args[1]);
      assert.equal(await caller.session.call(proc, [2, 3]), 5);
    });

    it('passes several args and kwargs both ways exactly', async () => {
      const callee = await client();
      const caller = await client();
      const proc = uri('echo');
      await callee.session.register(proc, (args: unknown[], kwargs: object) => new autobahn.Result(['r', ...args], { got: kwargs }));
      const result = await caller.session.call(proc, [1, 'two', [3], { four: 4 }], { a: null, b: [true, false] });
      assert.deepEqual(result.args, ['r', 1, 'two', [3], { four: 4 }]);
      assert.deepEqual(result.kwargs, { got: { a: null, b: [true, false] } });
      const kwOnly = await caller.session.call(proc, [], { only: 'kw' });
      assert.deepEqual(kwOnly.args, ['r']);
      assert.deepEqual(kwOnly.kwargs, { got: { only: 'kw' } });
    });

    it("passes the callee's error URI, args and kwargs to the caller", async () => {
      const callee = await client();
      const caller = await client();
      const proc = uri('fail');
      await callee.session.register(proc, () => {
        throw new autobahn.Error('com.example.error.bad_input', ['why', 2], { code: 42 });
      });
      const err = await rejectionOf(caller.session.call(proc));
      assert.equal(err.error, 'com.example.error.bad_input');
      assert.deepEqual(err.args, ['why', 2]);
      assert.deepEqual(err.kwargs, { code: 42 });
    });

    it('rejects a call to an unregistered procedure with wamp.error.no_such_procedure', async () => {
      const caller = await client();
      const err = await rejectionOf(caller.session.call(uri('nobody')));
      assert.equal(err.error, 'wamp.error.no_such_procedure');
    });

    it('refuses a duplicate registration with wamp.error.procedure_already_exists', async () => {
      const a = await client();
      const b = await client();
      const proc = uri('once');
      await a.session.register(proc, () => 1);
      const err = await rejectionOf(b.session.register(proc, () => 2));
      assert.equal(err.error, 'wamp.error.procedure_already_exists');
    });

    it('unregisters; the URI is then free', async () => {
      const a = await client();
      const b = await client();
      const proc = uri('temp');
      const registration = await a.session.register(proc, () => 'a');
      assert.equal(await b.session.call(proc), 'a');
      await a.session.unregister(registration);
      assert.equal((await rejectionOf(b.session.call(proc))).error, 'wamp.error.no_such_procedure');
      await b.session.register(proc, () => 'b');
      assert.equal(await a.session.call(proc), 'b');
    });

    it('fails a call at once with wamp.error.canceled when the callee drops mid-call', async () => {
      const callee = await client();
      const caller = await client();
      const proc = uri('hang');
      let invoked!: () => void;
      const wasInvoked = new Promise<void>((resolve) => (invoked = resolve));
      await callee.session.register(proc, () => {
        invoked();
        return new Promise(() => {}); // never answers
      });
      const call = caller.session.call(proc);
      await within(wasInvoked, 3000, 'invocation');
      callee.session._socket.close(1000); // transport gone, no GOODBYE
      const err = await within(rejectionOf(call), 3000, 'caller error');
      assert.equal(err.error, 'wamp.error.canceled');
    });

    it('publishes to subscribers with args and kwargs; PUBLISHED only when acknowledged', async () => {
      const pub = await client();
      const sub = await client();
      const topic = uri('topic');
      const events: unknown[] = [];
      let got!: () => void;
      const received = new Promise<void>((resolve) => (got = resolve));
      await sub.session.subscribe(topic, (args: unknown[], kwargs: object) => {
        events.push({ args, kwargs });
        got();
      });
      assert.equal(pub.session.publish(topic, ['x', 1], { k: 'v' }), undefined);
      await within(received, 3000, 'event');
      assert.deepEqual(events, [{ args: ['x', 1], kwargs: { k: 'v' } }]);
      const publication = await pub.session.publish(topic, [], {}, { acknowledge: true });
      assert.ok(Number.isInteger(publication.id) && publication.id >= 1);
    });

    it('excludes the publisher unless exclude_me is false', async () => {
      const a = await client();
      const topic = uri('self');
      const seen: string[] = [];
      await a.session.subscribe(topic, (args: string[]) => seen.push(args[0]));
      await a.session.publish(topic, ['excluded'], {}, { acknowledge: true });
      await a.session.publish(topic, ['included'], {}, { acknowledge: true, exclude_me: false });
      // The acknowledged round trip below orders after the event (one connection, in order).
      await a.session.publish(uri('flush'), [], {}, { acknowledge: true });
      assert.deepEqual(seen, ['included']);
    });

    it('gives two subscribers of one topic the same subscription ID', async () => {
      const a = await client();
      const b = await client();
      const topic = uri('shared');
      const sa = await a.session.subscribe(topic, () => {});
      const sb = await b.session.subscribe(topic, () => {});
      assert.equal(sa.id, sb.id);
    });

    if (serializer === 'json') {
      it('passes the JSON binary convention string ("\\0"+base64) through unchanged', async () => {
        // Autobahn|JS's JSON serializer has no binary support: it sees the convention's string form.
        const callee = await client();
        const caller = await client();
        const proc = uri('bin');
        const encoded = '\u0000' + randomBytes(64).toString('base64');
        await callee.session.register(proc, (args: string[]) => [args[0] === encoded, args[0]]);
        const [same, echoed] = await caller.session.call(proc, [encoded]);
        assert.equal(same, true);
        assert.equal(echoed, encoded);
      });
    } else {
      it('passes binary payloads as bytes, unchanged', async () => {
        const callee = await client();
        const caller = await client();
        const sub = await client();
        const proc = uri('bin');
        const topic = uri('bintopic');
        const payload = Buffer.concat([Buffer.from([0, 1, 0xfe, 0xff]), randomBytes(1000)]);
        await callee.session.register(proc, (args: Uint8Array[]) => args[0]);
        const echoed = await caller.session.call(proc, [payload]);
        assert.ok(echoed instanceof Uint8Array);
        assert.deepEqual(Buffer.from(echoed), payload);
        let got!: (b: Uint8Array) => void;
        const received = new Promise<Uint8Array>((resolve) => (got = resolve));
        await sub.session.subscribe(topic, (args: Uint8Array[]) => got(args[0]));
        await caller.session.publish(topic, [payload], {}, { acknowledge: true });
        assert.deepEqual(Buffer.from(await within(received, 3000, 'binary event')), payload);
      });
    }
  });
}
