/**
 * Feeds random and mutated WAMP messages into a live router over real
 * WebSockets, in each session state, and checks after every case that the
 * router still serves a bystander: its registration, its subscription and a
 * call that was in flight when the case began.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { RawClient } from '../helpers/raw-client.ts';
import { serializerByName, type SerializerName } from '../../src/serializers/index.ts';

export type FuzzState = 'before-hello' | 'joined';

/** Decoded messages of the wire vectors: realistic shapes to mutate. */
export function vectorMessages(): unknown[][] {
  const dir = new URL('../fixtures/wamp-vectors/', import.meta.url);
  const json = serializerByName('json');
  const out: unknown[][] = [];
  for (const file of readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.json'))) {
    const data = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
    for (const sample of data.samples ?? []) {
      for (const rep of sample.serializers?.json ?? []) {
        if (typeof rep.bytes === 'string') out.push(json.decode(rep.bytes) as unknown[]);
      }
    }
  }
  return out;
}

/** Live-traffic shapes a client sends, with valid and invalid variations. */
const liveShapes: unknown[][] = [
  [1, 'realm1', { roles: { caller: {}, callee: {} } }],
  [64, 1, {}, 'com.fuzz.proc'],
  [64, 2, { match: 'prefix', invoke: 'roundrobin' }, 'com.fuzz.'],
  [66, 3, 1],
  [48, 4, {}, 'com.bystander.echo', [1], { a: 1 }],
  [48, 5, { receive_progress: true, timeout: 10 }, 'com.fuzz.proc'],
  [49, 5, { mode: 'kill' }],
  [70, 1, {}, ['r']],
  [70, 1, { progress: true }],
  [8, 68, 1, {}, 'com.fuzz.error', [], {}],
  [32, 6, {}, 'com.bystander.news'],
  [32, 7, { match: 'wildcard', get_retained: true }, 'com..news'],
  [34, 8, 1],
  [16, 9, { acknowledge: true, exclude_me: false, retain: true }, 'com.bystander.news', ['fuzz']],
  [16, 10, { eligible: [1, 2], exclude_authrole: ['x'] }, 'com.fuzz.topic'],
  [6, {}, 'wamp.close.close_realm'],
  [3, {}, 'wamp.error.fuzz'],
  [5, 'signature', {}],
];

const leaf = fc.oneof(
  fc.integer({ min: -5, max: 2 ** 53 + 5 }),
  fc.double(),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('com.bystander.echo', 'wamp.session.count', 'com..x', '', 'a b', 'wamp.'),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 8 }),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 4 })),
})).v;

/** A random message: pure noise, or a known shape with elements replaced, dropped or added. */
export function messageArbitrary(bases: unknown[][]): fc.Arbitrary<unknown> {
  const base = fc.constantFrom(...bases);
  const mutated = fc
    .tuple(base, fc.array(fc.tuple(fc.nat(7), fc.nat(3), value), { maxLength: 3 }))
    .map(([msg, edits]) => {
      const m = structuredClone(msg);
      for (const [pos, kind, v] of edits) {
        if (kind === 0) m[pos % (m.length + 1)] = v; // replace
        else if (kind === 1) m.splice(pos % (m.length + 1), 1); // drop
        else if (kind === 2) m.splice(pos % (m.length + 1), 0, v); // insert
        else m.push(v); // extra trailing element
      }
      return m;
    });
  return fc.oneof({ weight: 1, arbitrary: value }, { weight: 4, arbitrary: mutated }, { weight: 1, arbitrary: base });
}

/** A registration, a subscription and one call in flight that every case must leave intact. */
export class Bystander {
  callee!: RawClient;
  caller!: RawClient;
  subscriber!: RawClient;
  private subscription = 0;
  private request = 1000;

  async start(url: string): Promise<void> {
    this.callee = await RawClient.join(url, 'msgpack');
    this.caller = await RawClient.join(url, 'cbor');
    this.subscriber = await RawClient.join(url, 'json');
    this.callee.send([64, 1, {}, 'com.bystander.echo']);
    assert.equal((await this.callee.next())[0], 65);
    this.subscriber.send([32, 1, {}, 'com.bystander.news']);
    const subscribed = await this.subscriber.next();
    assert.equal(subscribed[0], 33);
    this.subscription = subscribed[2] as number;
  }

  /** Starts a call whose INVOCATION the callee holds until `finish`. */
  async begin(): Promise<{ request: number; invocation: number }> {
    const request = ++this.request;
    this.caller.send([48, request, {}, 'com.bystander.echo', [request]]);
    // Fuzz cases may call the bystander procedure too (and leave): skip their invocations.
    let invocation: unknown[];
    do {
      invocation = await this.callee.next().catch((e: Error) => {
        throw new Error(`bystander callee: ${e.message}`);
      });
      assert.equal(invocation[0], 68, `bystander callee got ${JSON.stringify(invocation)}`);
    } while ((invocation[4] as unknown[] | undefined)?.[0] !== request);
    return { request, invocation: invocation[1] as number };
  }

  /** The call begun before the case completes, and a publication still reaches the subscriber. */
  async finish(inFlight: { request: number; invocation: number }): Promise<void> {
    this.callee.send([70, inFlight.invocation, {}, [inFlight.request]]);
    const result = await this.caller.next().catch((e: Error) => {
      throw new Error(`bystander caller: ${e.message}`);
    });
    assert.deepEqual(result, [50, inFlight.request, {}, [inFlight.request]], 'the bystander call in flight completed');
    this.caller.send([16, ++this.request, { acknowledge: true }, 'com.bystander.news', [this.request]]);
    // Fuzz cases may publish to the bystander topic too: skip their events.
    for (;;) {
      const event = await this.subscriber.next().catch((e: Error) => {
        throw new Error(`bystander subscriber: ${e.message}`);
      });
      assert.equal(event[1], this.subscription);
      if ((event[4] as unknown[] | undefined)?.[0] === this.request) break;
    }
    assert.equal((await this.caller.next())[0], 17);
  }

  stop(): void {
    for (const c of [this.callee, this.caller, this.subscriber]) c.close();
  }
}

/** Codes a client may send a router; any other first element must be refused. */
const CLIENT_CODES = new Set([1, 3, 5, 6, 8, 16, 32, 34, 48, 49, 64, 66, 70]);

/**
 * What the router must do with the first message, judged without the
 * router's own checker: something that is no WAMP client message at all, or
 * anything but HELLO/ABORT before HELLO, gets ABORT and a close.
 */
function mustAbort(state: FuzzState, message: unknown): boolean {
  if (!Array.isArray(message) || message.length === 0 || !CLIENT_CODES.has(message[0] as number)) return true;
  return state === 'before-hello' && message[0] !== 1 && message[0] !== 3;
}

/**
 * One case: a fresh connection in `state` sends `messages`. When the first
 * one must be refused, the router answers ABORT (exactly 3 elements) and
 * closes the connection.
 */
export async function runCase(url: string, serializer: SerializerName, state: FuzzState, messages: unknown[]): Promise<void> {
  const hostile = state === 'joined' ? await RawClient.join(url, serializer) : await RawClient.open(url, serializer);
  for (const m of messages) {
    try {
      hostile.send(m);
    } catch {
      // Not encodable by this serializer: send bytes no serializer decodes as a message.
      hostile.sendRaw(Buffer.from([0xc1]), true);
    }
  }
  if (mustAbort(state, messages[0])) {
    const reply = await hostile.next(2000).catch((e: Error) => {
      throw new Error(`hostile side: ${e.message} (state ${state}, closed: ${hostile.ws.readyState})`);
    });
    assert.equal(reply[0], 3, `expected ABORT for ${JSON.stringify(messages[0])}, got ${JSON.stringify(reply)}`);
    assert.equal(reply.length, 3, 'ABORT has exactly 3 elements');
    await Promise.race([
      hostile.closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('not closed after ABORT')), 2000)),
    ]);
  }
  hostile.close();
}

export interface FuzzStats {
  cases: number;
}

export async function fuzz(url: string, bystander: Bystander, runs: number, seed?: number): Promise<FuzzStats> {
  const bases = [...vectorMessages(), ...liveShapes];
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom<SerializerName>('json', 'msgpack', 'cbor'),
      fc.constantFrom<FuzzState>('before-hello', 'joined'),
      fc.array(messageArbitrary(bases), { minLength: 1, maxLength: 4 }),
      async (serializer, state, messages) => {
        cases++;
        const inFlight = await bystander.begin();
        await runCase(url, serializer, state, messages);
        await bystander.finish(inFlight);
      },
    ),
    { numRuns: runs, seed, endOnFailure: true, includeErrorInReport: true },
  );
  return { cases };
}
