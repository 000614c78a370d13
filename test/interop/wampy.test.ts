/**
 * Interop with Wampy.js (npm "wampy", v8) over WebSocket, once per serializer
 * wampy ships: JSON, MsgPack (msgpackr) and CBOR (cbor-x).
 *
 * Wampy facts these tests rely on (read from node_modules/wampy/dist/esm/wampy.js):
 * - Errors reaching a caller are `Errors.CallError` (or RegisterError, ...) with the
 *   URI in `errorUri` (not `error`), plus `argsList` and `argsDict`.
 * - A callee returns an application error by *throwing* a plain object with
 *   `error`, `argsList`, `argsDict` (and optionally `details`). Throwing one of
 *   wampy's own WampError/CallError objects loses the URI (they carry it in
 *   `errorUri`, which the invocation error path does not read), so the caller
 *   then sees wamp.error.invocation_exception.
 * - publish() always sends `acknowledge: true`, and copies `exclude_me` into the
 *   PUBLISH options only when it is truthy, so `exclude_me: false` never reaches
 *   the router. The exclude_me test rewrites the outgoing PUBLISH itself.
 * - MsgPack and IDs: wampy's MsgpackSerializer calls msgpackr's default unpack, which turns
 *   every uint64 into a BigInt. WAMP IDs (session, registration, subscription, publication)
 *   are random up to 2^53, and the router writes the ones >= 2^32 as MessagePack uint64 (the
 *   standard encoding, as Crossbar's Python msgpack does too), so with msgpack wampy hands
 *   them out as BigInt (e.g. getSessionId() === 1132718194228898n). wampy keeps working
 *   (its maps compare BigInts by value, and packs them back as uint64), but an application
 *   doing arithmetic or JSON.stringify on them breaks. assertId() accepts both types.
 * - autoReconnect defaults to true; it is turned off here so a dropped
 *   connection stays dropped and the process can exit.
 * - Binary with JSON: wampy's JsonSerializer is a bare JSON.stringify/parse and
 *   does NOT implement WAMP's "\0" + base64 convention for byte strings: a
 *   Uint8Array goes out as an object {"0": b0, "1": b1, ...}. The JSON binary
 *   test therefore writes the convention's string by hand.
 */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { afterEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { Errors, Wampy } from 'wampy';
import { CborSerializer } from 'wampy/CborSerializer.js';
import { JsonSerializer } from 'wampy/JsonSerializer.js';
import { MsgpackSerializer } from 'wampy/MsgpackSerializer.js';
import { useRouter } from '../helpers/node.ts';

type SerializerName = 'json' | 'msgpack' | 'cbor';
type WampyOptions = NonNullable<ConstructorParameters<typeof Wampy>[1]>;

const makeSerializer: Record<SerializerName, () => NonNullable<WampyOptions['serializer']>> = {
  json: () => new JsonSerializer(),
  msgpack: () => new MsgpackSerializer(),
  cbor: () => new CborSerializer(),
};

/** The parts of wampy's internals the tests reach into (not in its public types). */
interface WampyInternals {
  _ws: WebSocket | null;
  _send(msg?: unknown[]): void;
}
const internals = (client: Wampy) => client as unknown as WampyInternals;

const router = useRouter();

/** For failure messages: JSON.stringify would throw on BigInt. */
const show = (value: unknown) => inspect(value, { depth: 5, breakLength: Infinity });

/**
 * Asserts a WAMP ID, [1, 2^53], as wampy exposes it: a number, or a BigInt with msgpack
 * (see top of file). Returns it as a number.
 * Every assert.ok here carries a message: without one, Node 20 rebuilds the message from the
 * source at the failing line, which under tsx points into transformed code and was seen to
 * spin forever at 100% CPU instead of failing.
 */
function assertId(value: unknown, what: string): number {
  assert.ok(typeof value === 'number' || typeof value === 'bigint', `${what}: not a number: ${show(value)}`);
  const n = Number(value);
  assert.ok(Number.isInteger(n) && n >= 1 && n <= 2 ** 53, `${what}: not a WAMP ID: ${show(value)}`);
  return n;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rejects if `promise` does not settle within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with the rejection of `promise` (fails if it fulfils or hangs). */
async function rejection(promise: Promise<unknown>, what: string, ms = 5000): Promise<unknown> {
  return within(
    promise.then(
      (value) => {
        throw new assert.AssertionError({ message: `${what}: expected a rejection, got ${show(value)}` });
      },
      (err: unknown) => err,
    ),
    ms,
    what,
  );
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Asserts a wampy error object of the given class with the given URI (and payload, when given). */
function assertWampError(
  err: unknown,
  cls: abstract new (...args: never[]) => InstanceType<typeof Errors.WampError>,
  uri: string,
  payload?: { argsList?: unknown[]; argsDict?: Record<string, unknown> },
): void {
  assert.ok(err instanceof cls, `expected ${cls.name}, got ${show(err)}`);
  assert.equal(err.errorUri, uri);
  if (payload) {
    assert.deepEqual(err.argsList, payload.argsList);
    assert.deepEqual(err.argsDict, payload.argsDict);
  }
}

function bytesOf(value: unknown): Uint8Array {
  assert.ok(value instanceof Uint8Array, `expected bytes, got ${show(value)}`);
  return value;
}

for (const serializer of ['json', 'msgpack', 'cbor'] as const) {
  describe(`wampy over ${serializer}`, () => {
    const open = new Set<Wampy>();
    let uriCounter = 0;
    /** A fresh URI per use, so tests never see each other's registrations or subscriptions. */
    const uri = (name: string) => `com.example.wampy.${serializer}.${name}.n${++uriCounter}`;

    async function connect(): Promise<Wampy> {
      const client = new Wampy(router.url, {
        realm: 'realm1',
        ws: WebSocket as unknown as WampyOptions['ws'],
        serializer: makeSerializer[serializer](),
        autoReconnect: false,
      });
      open.add(client);
      await within(client.connect(), 5000, `wampy (${serializer}) connect`);
      return client;
    }

    /** Leaves with GOODBYE if still joined (bounded), and makes sure the socket is gone either way. */
    async function close(client: Wampy): Promise<void> {
      open.delete(client);
      if (client.getSessionId()) {
        await within(client.disconnect(), 3000, 'wampy disconnect').catch(() => {});
      }
      internals(client)._ws?.terminate();
    }

    afterEach(async () => {
      await Promise.all([...open].map(close));
    });

    it(`negotiates the ${serializer} subprotocol on both ends`, async () => {
      const client = await connect();
      assert.equal(internals(client)._ws?.protocol, `wamp.2.${serializer}`);
      const sessionId = assertId(client.getSessionId(), 'session id');
      const session = router.node.router.realms.get('realm1')!.sessions.get(sessionId);
      assert.ok(session, 'the router knows the session');
      assert.equal(session.peer.info.type, 'websocket');
      assert.equal(session.peer.info.serializer, serializer);
    });

    describe('register / call / result', () => {
      it('adds two numbers', async () => {
        const callee = await connect();
        const caller = await connect();
        const procedure = uri('add2');
        const registered = await callee.register(procedure, ({ argsList }) => ({
          argsList: [(argsList![0] as number) + (argsList![1] as number)],
        }));
        assertId(registered.registrationId, 'registration id');

        const result = await within(caller.call(procedure, [2, 3]), 5000, 'call');
        assert.deepEqual(result.argsList, [5]);
        assert.equal(result.argsDict, undefined);

        const negative = await within(caller.call(procedure, [-40, 1.5]), 5000, 'call');
        assert.deepEqual(negative.argsList, [-38.5]);
      });

      it('passes several positional args and kwargs through both ways exactly', async () => {
        const callee = await connect();
        const caller = await connect();
        const procedure = uri('many');
        const sentArgs = [1, 'two', [3, 'three'], { four: 4 }, null, true, false, -7, 2.25];
        const sentKwargs = { a: 1, text: 'häßlich ✓', nested: { list: [1, 2, { deep: null }] }, empty: {} };
        const replyArgs = ['x', 42, [null, 'y'], { z: [true] }];
        const replyKwargs = { status: 'ok', count: 3, nested: { k: 'v' } };

        const seen = deferred<{ argsList?: unknown[]; argsDict?: Record<string, unknown> }>();
        await callee.register(procedure, ({ argsList, argsDict }) => {
          seen.resolve({ argsList, argsDict });
          return { argsList: replyArgs, argsDict: replyKwargs };
        });

        const result = await within(caller.call(procedure, { argsList: sentArgs, argsDict: sentKwargs }), 5000, 'call');
        const invocation = await seen.promise;
        assert.deepEqual(invocation.argsList, sentArgs);
        assert.deepEqual(invocation.argsDict, sentKwargs);
        assert.deepEqual(result.argsList, replyArgs);
        assert.deepEqual(result.argsDict, replyKwargs);
      });

      it('calls with kwargs only', async () => {
        const callee = await connect();
        const caller = await connect();
        const procedure = uri('kwonly');
        const seen = deferred<{ argsList?: unknown[]; argsDict?: Record<string, unknown> }>();
        await callee.register(procedure, ({ argsList, argsDict }) => {
          seen.resolve({ argsList, argsDict });
          return { argsDict: { greeting: `hello ${String(argsDict?.name)}` } };
        });

        // A plain object payload is sent by wampy as [CALL, id, {}, uri, [], {name, n}].
        const result = await within(caller.call(procedure, { name: 'kreuz', n: 7 }), 5000, 'call');
        const invocation = await seen.promise;
        assert.deepEqual(invocation.argsDict, { name: 'kreuz', n: 7 });
        // The router passes the (empty) Arguments list on exactly as wampy sent it.
        assert.deepEqual(invocation.argsList, []);
        assert.deepEqual(result.argsDict, { greeting: 'hello kreuz' });
        assert.deepEqual(result.argsList, []);
      });
    });

    it('passes a callee error URI, args and kwargs to the caller unchanged', async () => {
      const callee = await connect();
      const caller = await connect();
      const procedure = uri('fails');
      await callee.register(procedure, () => {
        // wampy's documented way to return an application error from a callee.
        throw { error: 'com.example.error.bad_input', argsList: ['why', 2], argsDict: { code: 42 } };
      });
      const err = await rejection(caller.call(procedure, [1]), 'call to a failing procedure');
      assertWampError(err, Errors.CallError, 'com.example.error.bad_input', {
        argsList: ['why', 2],
        argsDict: { code: 42 },
      });
    });

    it('rejects a call to an unregistered procedure with wamp.error.no_such_procedure', async () => {
      const caller = await connect();
      const err = await rejection(caller.call(uri('nobody.home'), [1, 2]), 'call to nothing');
      assertWampError(err, Errors.CallError, 'wamp.error.no_such_procedure');
    });

    it('refuses a second registration of the same URI with wamp.error.procedure_already_exists', async () => {
      const first = await connect();
      const second = await connect();
      const procedure = uri('taken');
      await first.register(procedure, () => ({ argsList: ['first'] }));
      const err = await rejection(
        second.register(procedure, () => ({ argsList: ['second'] })),
        'duplicate register',
      );
      assertWampError(err, Errors.RegisterError, 'wamp.error.procedure_already_exists');

      // The first registration still serves calls.
      const caller = await connect();
      const result = await within(caller.call(procedure), 5000, 'call');
      assert.deepEqual(result.argsList, ['first']);
    });

    it('unregister: calls then fail with no_such_procedure and another client can register the URI', async () => {
      const first = await connect();
      const second = await connect();
      const caller = await connect();
      const procedure = uri('moving');
      await first.register(procedure, () => ({ argsList: ['first'] }));
      assert.deepEqual((await within(caller.call(procedure), 5000, 'call')).argsList, ['first']);

      await within(first.unregister(procedure), 5000, 'unregister');
      const err = await rejection(caller.call(procedure), 'call after unregister');
      assertWampError(err, Errors.CallError, 'wamp.error.no_such_procedure');

      await within(
        second.register(procedure, () => ({ argsList: ['second'] })),
        5000,
        're-register elsewhere',
      );
      assert.deepEqual((await within(caller.call(procedure), 5000, 'call')).argsList, ['second']);
    });

    describe('callee leaves while a call is in flight', () => {
      for (const how of ['terminate', 'close'] as const) {
        const description =
          how === 'terminate'
            ? 'the callee TCP connection is destroyed (no GOODBYE, no close frame)'
            : 'the callee closes its WebSocket (close frame, no GOODBYE)';
        it(`fails the call with wamp.error.canceled when ${description}`, async () => {
          const callee = await connect();
          const caller = await connect();
          const procedure = uri(`hangs.${how}`);
          const invoked = deferred();
          await callee.register(procedure, () => {
            invoked.resolve();
            return new Promise<never>(() => {}); // never answers
          });

          const call = caller.call(procedure, ['anyone?']);
          call.catch(() => {}); // observed below; avoid an unhandled rejection in the meantime
          await within(invoked.promise, 5000, 'invocation reaching the callee');

          const ws = internals(callee)._ws!;
          if (how === 'terminate') ws.terminate();
          else ws.close();

          const err = await rejection(call, 'call whose callee left', 3000);
          assertWampError(err, Errors.CallError, 'wamp.error.canceled');

          // The registration went with the callee.
          const again = await rejection(caller.call(procedure), 'call after the callee left');
          assertWampError(again, Errors.CallError, 'wamp.error.no_such_procedure');
        });
      }
    });

    describe('publish / subscribe', () => {
      it('delivers args and kwargs exactly, and an acknowledged publish resolves with a publication id', async () => {
        const publisher = await connect();
        const subscriber = await connect();
        const topic = uri('news');
        const event = deferred<{ argsList?: unknown[]; argsDict?: Record<string, unknown>; details: Record<string, unknown> }>();
        const subscribed = await subscriber.subscribe(topic, (data) => event.resolve(data));
        assertId(subscribed.subscriptionId, 'subscription id');

        const args = ['headline', 3, [1, 2], { x: null }, true];
        const kwargs = { source: 'wire', tags: ['a', 'b'], meta: { n: 1.5 } };
        // wampy always sets acknowledge: true on PUBLISH.
        const published = await within(publisher.publish(topic, { argsList: args, argsDict: kwargs }), 5000, 'publish');
        assertId(published.publicationId, 'publication id');

        const received = await within(event.promise, 5000, 'event');
        assert.deepEqual(received.argsList, args);
        assert.deepEqual(received.argsDict, kwargs);
      });

      it('excludes the publisher from its own event by default', async () => {
        const client = await connect();
        const other = await connect();
        const topic = uri('echo.default');
        const own: unknown[] = [];
        const otherGot = deferred<unknown[] | undefined>();
        await client.subscribe(topic, (data) => void own.push(data));
        await other.subscribe(topic, (data) => otherGot.resolve(data.argsList));

        await within(client.publish(topic, ['mine']), 5000, 'publish');
        // The event was routed: another subscriber gets it...
        assert.deepEqual(await within(otherGot.promise, 5000, 'event to the other subscriber'), ['mine']);
        // ...and the router sends PUBLISHED after the events, so a short wait is plenty.
        await sleep(200);
        assert.deepEqual(own, []);
      });

      it('delivers the event to the publisher with exclude_me: false', async () => {
        const client = await connect();
        const topic = uri('echo.self');
        const own = deferred<unknown[] | undefined>();
        await client.subscribe(topic, (data) => own.resolve(data.argsList));

        // wampy drops `exclude_me: false` from PUBLISH options (it copies the option only when truthy),
        // so put it on the wire by rewriting this client's outgoing PUBLISH.
        const sent: unknown[][] = [];
        const inner = internals(client)._send.bind(client);
        internals(client)._send = (msg?: unknown[]) => {
          if (msg && msg[0] === 16) {
            msg[2] = { ...(msg[2] as Record<string, unknown>), exclude_me: false };
            sent.push(msg);
          }
          inner(msg);
        };
        await within(client.publish(topic, ['to myself'], { exclude_me: false }), 5000, 'publish');
        assert.equal(sent.length, 1);
        assert.deepEqual(sent[0][2], { acknowledge: true, exclude_me: false });

        assert.deepEqual(await within(own.promise, 5000, 'own event'), ['to myself']);
      });

      it('gives two subscribers of the same topic the same subscription id', async () => {
        const a = await connect();
        const b = await connect();
        const topic = uri('shared');
        const subA = await within(
          a.subscribe(topic, () => {}),
          5000,
          'subscribe A',
        );
        const subB = await within(
          b.subscribe(topic, () => {}),
          5000,
          'subscribe B',
        );
        assert.equal(subB.subscriptionId, subA.subscriptionId);
      });
    });

    describe('binary payload', () => {
      // Every byte value, including 0x00 first and invalid UTF-8.
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);

      if (serializer === 'json') {
        // WAMP's JSON binary convention: a byte string travels as "\0" + base64. wampy does not
        // implement it (see top of file), so the string is built by hand. The router decodes it to
        // bytes and re-encodes it for the JSON callee, which therefore sees the very same string.
        const encoded = '\u0000' + Buffer.from(bytes).toString('base64');

        it('passes a "\\0"+base64 string through a call unchanged (both ways, args and kwargs)', async () => {
          const callee = await connect();
          const caller = await connect();
          const procedure = uri('bytes.echo');
          const seen = deferred<{ argsList?: unknown[]; argsDict?: Record<string, unknown> }>();
          await callee.register(procedure, ({ argsList, argsDict }) => {
            seen.resolve({ argsList, argsDict });
            return { argsList, argsDict };
          });
          const result = await within(caller.call(procedure, { argsList: [encoded, 'plain'], argsDict: { blob: encoded } }), 5000, 'call');
          const invocation = await seen.promise;
          assert.deepEqual(invocation.argsList, [encoded, 'plain']);
          assert.deepEqual(invocation.argsDict, { blob: encoded });
          assert.deepEqual(result.argsList, [encoded, 'plain']);
          assert.deepEqual(result.argsDict, { blob: encoded });
        });

        it('(wampy quirk) a Uint8Array is sent by wampy JSON as a plain object of indexes', async () => {
          const callee = await connect();
          const caller = await connect();
          const procedure = uri('bytes.naive');
          const seen = deferred<unknown>();
          await callee.register(procedure, ({ argsList }) => {
            seen.resolve(argsList?.[0]);
          });
          await within(caller.call(procedure, [Uint8Array.of(0, 1, 255)]), 5000, 'call');
          assert.deepEqual(await seen.promise, { 0: 0, 1: 1, 2: 255 });
        });
      } else {
        it('round-trips a Uint8Array and a Buffer through a call as bytes', async () => {
          const callee = await connect();
          const caller = await connect();
          const procedure = uri('bytes.echo');
          const seen = deferred<{ argsList?: unknown[]; argsDict?: Record<string, unknown> }>();
          await callee.register(procedure, ({ argsList, argsDict }) => {
            seen.resolve({ argsList, argsDict });
            return { argsList, argsDict };
          });
          const result = await within(
            caller.call(procedure, { argsList: [bytes, Buffer.from('kreuz\u0000')], argsDict: { blob: bytes } }),
            5000,
            'call',
          );

          const invocation = await seen.promise;
          assert.equal(invocation.argsList?.length, 2);
          assert.deepEqual(Buffer.from(bytesOf(invocation.argsList![0])), Buffer.from(bytes));
          assert.deepEqual(Buffer.from(bytesOf(invocation.argsList![1])), Buffer.from('kreuz\u0000'));
          assert.deepEqual(Buffer.from(bytesOf(invocation.argsDict?.blob)), Buffer.from(bytes));

          assert.equal(result.argsList?.length, 2);
          assert.deepEqual(Buffer.from(bytesOf(result.argsList![0])), Buffer.from(bytes));
          assert.deepEqual(Buffer.from(bytesOf(result.argsList![1])), Buffer.from('kreuz\u0000'));
          assert.deepEqual(Buffer.from(bytesOf(result.argsDict?.blob)), Buffer.from(bytes));
        });
      }
    });
  });
}
