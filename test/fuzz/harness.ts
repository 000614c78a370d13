/**
 * Running hostile cases against the router of router-process.ts, shared by
 * the fuzzer and the hostile-input tests.
 *
 * A case: a fresh connection on one endpoint and serializer, brought into a
 * session state (before HELLO, authenticating with a pending ticket
 * CHALLENGE, joined, after a GOODBYE handshake), sends one or more messages
 * as raw bytes, then a probe CALL. It must end one of two ways within
 * CASE_DEADLINE_MS: an answer to the probe (and to the case, when the case
 * expects replies), or the connection closed (after an
 * ABORT of exactly 3 elements with a Details.message, if any ABORT). A router
 * that leaves the connection open and silent fails the case. What else it
 * must answer is the case's `expect` (by default the oracle's verdict).
 *
 * After every case: the router process is alive, reported no uncaught
 * exception or unhandled rejection, answers a round trip through its event
 * loop within LIVENESS_MS, and the bystanders are unharmed: a call that was in
 * flight while the case ran completes, and a new call, a publication to the
 * bystander topic and its event still work. After every batch
 * (`Guard.checkBatch`: BATCH cases of the fuzzer, GROUPS_PER_BATCH groups of
 * `runGroup`, and the end of every hostile test file): the heap after a
 * forced GC is within HEAP_BOUND of the start, every hostile session is gone,
 * and no session holds anything it may not on the locked realm.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { isUtf8 } from 'node:buffer';
import type { SerializerName } from '../../src/serializers/index.ts';
import { RouterProcess, freshPrincipal, type EndpointName } from '../helpers/router-process.ts';
import { ROLES, WampWireClient } from '../helpers/wamp-wire-client.ts';
import { verdict, type SessionState } from './oracle.ts';
import { encode, show, view, type Node } from './wire-model.ts';

/** A case must get its answer or close within this. */
export const CASE_DEADLINE_MS = 6000;
/** ... or within this of an uncaught exception the router reports meanwhile. */
export const FAULT_GRACE_MS = 1000;
/** A round trip through the router's event loop must take less (a stall, not a speed, check). */
export const LIVENESS_MS = 3000;
/** Heap after GC may grow at most this much over the start. */
export const HEAP_BOUND = 50 * 1024 * 1024;
/** runGroup checks heap, sessions and the locked realm after every this many groups (and tests do at their end). */
export const GROUPS_PER_BATCH = 8;
/** The request ID of the probe CALL sent after every case. */
export const PROBE = 2 ** 52 + 3;
const PROBE_URI = 'com.fuzz.probe.nobody';

/** What a case must answer, besides the general rules. */
export type Expectation =
  /** The oracle decides (oracle.ts). */
  | { oracle: true }
  /** ABORT with this reason, Details.message a string, exactly 3 elements; then the connection closes. */
  | { abort: string }
  /** The first messages after the case pass these checks, in order (each returns what is wrong, or undefined). */
  | { replies: Array<Reply> }
  /** The connection closes with no message (the client sent ABORT). */
  | { closes: true }
  /** Nothing: the first message is the answer to the probe. */
  | { silent: true };

/** A check of one reply: its name for messages, and what is wrong with `m` (undefined: nothing). */
export type Reply = [name: string, check: (m: unknown[]) => string | undefined];

export interface Case {
  endpoint: EndpointName;
  serializer: SerializerName;
  state: SessionState;
  /** Messages (or raw bytes, see wire-model.ts) sent after reaching `state`. */
  messages: Node[];
  expect?: Expectation;
}

export interface Outcome {
  /** Everything the router sent after the case's messages. */
  messages: unknown[][];
  abort?: unknown[];
  closed: boolean;
  answered: boolean;
  /** ms from sending the case to its end (answer or close). */
  ms: number;
}

/** An expectation in words, for test names and failure messages. */
export function describeExpectation(e: Expectation): string {
  if ('abort' in e) return `ABORT ${e.abort}`;
  if ('closes' in e) return 'a close';
  if ('silent' in e) return 'no answer';
  if ('replies' in e) return e.replies.map(([name]) => name).join(', ');
  return "the oracle's verdict";
}

export function describeCase(c: Case): string {
  return `${c.endpoint}/${c.serializer}, ${c.state}: ${c.messages.map(show).join(' then ')}`;
}

const isDict = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** Brings a fresh connection into `state`. */
async function enterState(client: WampWireClient, state: SessionState): Promise<void> {
  if (state === 'before-hello') return;
  if (state === 'authenticating') {
    client.send([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: freshPrincipal() }]);
    const challenge = await client.next();
    assert.deepEqual(challenge.slice(0, 2), [4, 'ticket'], `expected CHALLENGE, got ${JSON.stringify(challenge)}`);
    return;
  }
  client.send([1, 'realm1', { roles: ROLES }]);
  const welcome = await client.next();
  assert.equal(welcome[0], 2, `expected WELCOME, got ${JSON.stringify(welcome)}`);
  if (state === 'after-goodbye') {
    client.send([6, {}, 'wamp.close.close_realm']);
    const goodbye = await client.next();
    assert.deepEqual([goodbye[0], goodbye[2]], [6, 'wamp.close.goodbye_and_out'], `expected GOODBYE, got ${JSON.stringify(goodbye)}`);
  }
}

/** Sends a node's bytes: JSON as a text frame when it is UTF-8 (else binary, so the router's serializer judges it). */
export function sendNode(client: WampWireClient, node: Node): void {
  const bytes = encode(node, client.serializer.name);
  client.sendPayload(bytes, client.serializer.name === 'json' && isUtf8(bytes));
}

const isProbeAnswer = (m: unknown[]) => (m[0] === 8 && m[1] === 48 && m[2] === PROBE) || (m[0] === 50 && m[1] === PROBE);

/**
 * Reads until the probe is answered (and `replies` other messages have
 * arrived: answers that take a detour through a callee may come after the
 * probe's) or the connection closes; answers INVOCATIONs so that calls to
 * itself end.
 */
async function settle(client: WampWireClient, router: RouterProcess, started: number, replies = 0): Promise<Outcome> {
  const outcome: Outcome = { messages: [], closed: false, answered: false, ms: 0 };
  const faultsBefore = router.faults.length;
  let others = 0;
  for (;;) {
    // An uncaught exception in the router while waiting: the answer is probably lost, so wait FAULT_GRACE_MS more, not the whole deadline.
    const faulted = router.faults.length > faultsBefore;
    const deadline = Math.min(started + CASE_DEADLINE_MS, faulted ? router.lastFaultAt + FAULT_GRACE_MS : Infinity);
    const left = deadline - Date.now();
    let m: unknown[] | undefined;
    try {
      m = await client.nextOrClose(Math.max(1, Math.min(left, 250)));
    } catch (err) {
      if (Date.now() < deadline && !client.isClosed) continue;
      const why = faulted ? `within ${FAULT_GRACE_MS} ms of an uncaught exception in the router` : `within ${CASE_DEADLINE_MS} ms`;
      throw new Error(
        `the connection got neither an answer nor a close ${why} (router sent ${JSON.stringify(outcome.messages).slice(0, 500)}; ${(err as Error).message})`,
      );
    }
    if (m === undefined) {
      outcome.closed = true;
      break;
    }
    outcome.messages.push(m);
    if (m[0] === 3) {
      outcome.abort = m;
      outcome.closed = await client.closesWithin(3000);
      assert.ok(outcome.closed, `the connection was not closed within 3 s of ABORT ${JSON.stringify(m)}`);
      break;
    }
    if (m[0] === 68) client.send([8, 68, m[1], {}, 'com.fuzz.refused']);
    if (isProbeAnswer(m)) outcome.answered = true;
    else if (m[0] !== 36) others++;
    if (outcome.answered && others >= replies) break;
  }
  outcome.ms = Date.now() - started;
  return outcome;
}

function checkAbortShape(abort: unknown[]): void {
  assert.equal(abort.length, 3, `ABORT has exactly 3 elements: ${JSON.stringify(abort)}`);
  assert.ok(isDict(abort[1]), `ABORT.Details is a dict: ${JSON.stringify(abort)}`);
  assert.equal(typeof (abort[1] as { message?: unknown }).message, 'string', `ABORT says why in Details.message: ${JSON.stringify(abort)}`);
  assert.equal(typeof abort[2], 'string', `ABORT.Reason is a URI: ${JSON.stringify(abort)}`);
}

function judge(expect: Expectation, outcome: Outcome, why: string): void {
  const seen = JSON.stringify(outcome.messages).slice(0, 600) + (outcome.closed && !outcome.abort ? ' then closed' : '');
  if (outcome.abort) checkAbortShape(outcome.abort);
  if ('abort' in expect) {
    assert.ok(outcome.abort, `expected ABORT ${expect.abort} (${why}), got ${seen}`);
    assert.equal(outcome.abort[2], expect.abort, `expected ABORT ${expect.abort} (${why}), got ${JSON.stringify(outcome.abort)}`);
    assert.equal(outcome.messages[0][0], 3, `expected ABORT ${expect.abort} first, got ${seen}`);
  } else if ('replies' in expect) {
    // EVENTs are left out: other cases running at the same time may publish to what this one subscribed.
    const answers = outcome.messages.filter((m) => !isProbeAnswer(m) && m[0] !== 36);
    expect.replies.forEach(([name, check], i) => {
      const m = answers[i];
      assert.ok(m, `expected ${name} as reply ${i + 1}, got ${seen}`);
      const problem = check(m);
      assert.ok(problem === undefined, `expected ${name} as reply ${i + 1}, got ${JSON.stringify(m).slice(0, 300)}: ${problem}`);
    });
  } else if ('closes' in expect) {
    assert.ok(outcome.closed, `expected the connection to close, got ${seen}`);
    assert.deepEqual(outcome.messages, [], `expected a close without a message, got ${seen}`);
  } else if ('silent' in expect) {
    assert.ok(outcome.answered, `expected no answer to the case (only the probe's), got ${seen}`);
    assert.equal(outcome.messages.length, 1, `expected no answer to the case (only the probe's), got ${seen}`);
  }
}

export interface CaseContext {
  router: RouterProcess;
}

/**
 * Runs one case on its own connection and checks the general rules and its
 * expectation. Throws an Error naming the case on failure.
 */
export async function runCase(ctx: CaseContext, c: Case): Promise<Outcome> {
  const endpoint = ctx.router.endpoints[c.endpoint];
  const expect = c.expect ?? { oracle: true };
  const v = 'oracle' in expect ? verdict(c.messages[0], c.serializer, c.state, ctx.router.maxMessageSize) : undefined;
  const effective: Expectation = v ? (v.abort ? { abort: v.abort } : { oracle: true }) : expect;
  const why = v ? `oracle: ${v.why}` : 'as the test expects';
  let client: WampWireClient | undefined;
  try {
    client = await WampWireClient.open(endpoint, c.serializer);
    await enterState(client, c.state);
    const started = Date.now();
    for (const m of c.messages) sendNode(client, m);
    client.send([48, PROBE, {}, PROBE_URI]);
    const outcome = await settle(client, ctx.router, started, 'replies' in effective ? effective.replies.length : 0);
    judge(effective, outcome, why);
    return outcome;
  } catch (err) {
    const e = err as Error;
    e.message = `${describeCase(c)}\n  expected: ${v ? (v.abort ? `ABORT ${v.abort}` : 'any answer') : describeExpectation(expect)} (${why})\n  ${e.message}`;
    throw e;
  } finally {
    client?.destroy();
  }
}

/**
 * Whether a case might end in a denied authentication (a wrong ticket, ticket
 * without authid): on a Unix socket every client shares one address, and the
 * router rightly throttles an address after three denials for good (a login
 * elsewhere does not clear it), which would slow down every later case there.
 * The fuzzer runs such cases on the TCP twin of a Unix endpoint instead.
 */
export function mayDenyAuthentication(c: Pick<Case, 'serializer' | 'state' | 'messages'>): boolean {
  return c.messages.some((m) => {
    const top = view(m, c.serializer);
    if (top.t === 'lax') return true;
    if (top.t !== 'list' || top.items.length === 0) return false;
    const code = view(top.items[0], c.serializer);
    if (code.t === 'lax') return true;
    if (code.t !== 'num') return false;
    if (code.v === 5) return c.state === 'authenticating';
    if (code.v !== 1) return false;
    const details = top.items[2];
    if (details === undefined || details === null || typeof details !== 'object' || Array.isArray(details) || details instanceof Uint8Array)
      return false;
    if (!('authmethods' in details) || (details as { authmethods?: unknown }).authmethods === undefined) return false;
    const methods = (details as { authmethods: unknown }).authmethods;
    return !(Array.isArray(methods) && methods.every((x) => typeof x === 'string' && x !== 'ticket'));
  });
}

/** The TCP twin of a Unix endpoint. */
export function tcpTwin(name: EndpointName): EndpointName {
  return name === 'ws-unix' ? 'ws' : name === 'rs-unix' ? 'rs' : name;
}

// ---------------------------------------------------------------- bystanders

interface InFlight {
  request: number;
  invocation: number;
}

/**
 * A callee (RawSocket TCP, msgpack), a caller (WebSocket, cbor) with a call
 * in flight during each case, a subscriber (RawSocket over the Unix socket,
 * json), and an observer on the locked realm (universal port, json) that
 * must never see an event nor any registration or foreign subscription there.
 * Calls and events from hostile sessions to the bystander URIs are answered
 * or skipped as they come.
 */
export class Bystanders {
  callee!: WampWireClient;
  caller!: WampWireClient;
  subscriber!: WampWireClient;
  observer!: WampWireClient;
  private subscription = 0;
  private lockedSubscription = 0;
  private request = 1000;
  private readonly ours = new Set<number>();
  private lockedEvents: unknown[][] = [];

  static async start(router: RouterProcess): Promise<Bystanders> {
    const b = new Bystanders();
    const e = router.endpoints;
    b.callee = await WampWireClient.join(e.rs, 'msgpack');
    b.caller = await WampWireClient.join(e.ws, 'cbor');
    b.subscriber = await WampWireClient.join(e['rs-unix'], 'json');
    b.observer = await WampWireClient.join(e['universal-ws'], 'json', { realm: 'locked' });
    b.callee.send([64, 1, {}, 'com.bystander.echo']);
    assert.equal((await b.callee.next())[0], 65, 'bystander registered');
    b.subscriber.send([32, 1, {}, 'com.bystander.news']);
    const subscribed = await b.subscriber.next();
    assert.equal(subscribed[0], 33, 'bystander subscribed');
    b.subscription = subscribed[2] as number;
    b.observer.send([32, 1, {}, 'com.locked.news']);
    const lockedSubscribed = await b.observer.next();
    assert.equal(lockedSubscribed[0], 33, `observer subscribed on the locked realm: ${JSON.stringify(lockedSubscribed)}`);
    b.lockedSubscription = lockedSubscribed[2] as number;
    // Hostile calls to the bystander procedure are echoed at once; hostile events are skipped.
    b.callee.onMessage = (m) => {
      if (m[0] === 68 && !b.ours.has((m[4] as unknown[] | undefined)?.[0] as number)) {
        b.callee.send([70, m[1], {}, ...(m.length > 4 ? [m[4]] : []), ...(m.length > 5 ? [m[5]] : [])]);
        return true;
      }
      return m[0] === 69; // INTERRUPT of a call already answered
    };
    b.subscriber.onMessage = (m) => m[0] === 36 && !b.ours.has((m[4] as unknown[] | undefined)?.[0] as number);
    b.observer.onMessage = (m) => {
      if (m[0] === 36) b.lockedEvents.push(m);
      return m[0] === 36;
    };
    return b;
  }

  /** Starts a call whose INVOCATION the callee holds until `finish`. */
  async begin(): Promise<InFlight> {
    const request = ++this.request;
    this.ours.add(request);
    this.caller.send([48, request, {}, 'com.bystander.echo', [request]]);
    const invocation = await this.callee.next().catch((e: Error) => {
      throw new Error(`bystander callee: ${e.message}`);
    });
    assert.equal(invocation[0], 68, `bystander callee got ${JSON.stringify(invocation)}`);
    assert.deepEqual(invocation[4], [request], `bystander callee got ${JSON.stringify(invocation)}`);
    return { request, invocation: invocation[1] as number };
  }

  /** The call begun before the case completes; a new call, a publication and its event still work. */
  async finish(inFlight: InFlight): Promise<void> {
    this.callee.send([70, inFlight.invocation, {}, [inFlight.request]]);
    const result = await this.caller.next().catch((e: Error) => {
      throw new Error(`bystander caller (call in flight): ${e.message}`);
    });
    assert.deepEqual(result, [50, inFlight.request, {}, [inFlight.request]], 'the bystander call in flight completed');
    this.ours.delete(inFlight.request);
    const again = await this.begin();
    this.callee.send([70, again.invocation, {}, [again.request]]);
    assert.deepEqual(await this.caller.next(), [50, again.request, {}, [again.request]], 'a new bystander call completed');
    this.ours.delete(again.request);
    const publication = ++this.request;
    this.ours.add(publication);
    this.caller.send([16, publication, { acknowledge: true }, 'com.bystander.news', [publication]]);
    const event = await this.subscriber.next().catch((e: Error) => {
      throw new Error(`bystander subscriber: ${e.message}`);
    });
    assert.deepEqual([event[0], event[1], event[4]], [36, this.subscription, [publication]], 'the bystander event arrived');
    assert.equal((await this.caller.next())[0], 17, 'the bystander publication was acknowledged');
    this.ours.delete(publication);
  }

  /** Nobody registered, published or kept a subscription on the locked realm. */
  async checkLocked(): Promise<void> {
    assert.deepEqual(this.lockedEvents, [], 'no session may publish on the locked realm');
    const id = ++this.request;
    this.observer.send([48, id, {}, 'wamp.registration.list']);
    const registrations = await this.observer.next();
    assert.deepEqual(registrations, [50, id, {}, [{ exact: [], prefix: [], wildcard: [] }]], 'no registration on the locked realm');
    this.observer.send([48, id + 1, {}, 'wamp.subscription.list']);
    const subscriptions = await this.observer.next();
    assert.deepEqual(
      subscriptions,
      [50, id + 1, {}, [{ exact: [this.lockedSubscription], prefix: [], wildcard: [] }]],
      'only the observer holds a subscription on the locked realm',
    );
    this.request++;
  }

  stop(): void {
    for (const c of [this.callee, this.caller, this.subscriber, this.observer]) c?.destroy();
  }
}

// ---------------------------------------------------------------- guards

/** What the guards measured, for the report (shared by the guards of one run, across restarts). */
export interface Measures {
  heapStart: number;
  heapMax: number;
  loopDelayMaxMs: number;
  pingMaxMs: number;
}

/** Liveness and the per-batch bounds, with the numbers for the report. */
export class Guard {
  private faultsSeen: number;

  constructor(
    readonly router: RouterProcess,
    readonly bystanders: Bystanders,
    readonly measures: Measures = { heapStart: 0, heapMax: 0, loopDelayMaxMs: 0, pingMaxMs: 0 },
  ) {
    this.faultsSeen = router.faults.length;
  }

  /** The heap at the start, the bound's base (unless the run set one already). */
  async start(): Promise<void> {
    const heap = await this.router.heap();
    if (this.measures.heapStart === 0) this.measures.heapStart = heap;
    this.measures.heapMax = Math.max(this.measures.heapMax, heap);
  }

  /** Uncaught exceptions the router reported since the last call. */
  takeFaults(): string[] {
    const faults = this.router.faults.slice(this.faultsSeen);
    this.faultsSeen = this.router.faults.length;
    return faults;
  }

  /** After every case: alive, no uncaught exception, event loop turning. */
  async checkAlive(): Promise<void> {
    if (this.router.dead) throw new Error(this.router.dead);
    const faults = this.takeFaults();
    if (faults.length) throw new Error(`the router had ${faults.length} uncaught exception(s):\n${faults.join('\n')}`);
    this.measures.pingMaxMs = Math.max(this.measures.pingMaxMs, await this.router.ping(LIVENESS_MS));
  }

  /** After every batch: heap within bounds, hostile sessions gone, the locked realm untouched. */
  async checkBatch(): Promise<void> {
    await this.checkAlive();
    const heap = await this.router.heap();
    const m = this.measures;
    m.heapMax = Math.max(m.heapMax, heap);
    assert.ok(
      heap <= m.heapStart + HEAP_BOUND,
      `heap after GC ${mb(heap)} MB, over ${mb(m.heapStart)} MB at the start + ${mb(HEAP_BOUND)} MB`,
    );
    // Bystanders: callee, caller, subscriber on realm1; the observer on locked.
    await this.waitForBaseline();
    await this.bystanders.checkLocked();
  }

  /** Waits until only the bystanders' sessions are left (hostile connections closed and cleaned up). */
  async waitForBaseline(ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    let stats = await this.router.stats();
    while ((stats.sessions.realm1 !== 3 || stats.sessions.locked !== 1) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      stats = await this.router.stats();
    }
    this.measures.loopDelayMaxMs = Math.max(this.measures.loopDelayMaxMs, stats.loopDelayMaxMs);
    assert.deepEqual(stats.sessions, { realm1: 3, locked: 1 }, 'every hostile session is gone: only the bystanders are left');
  }

  summary(): string {
    const m = this.measures;
    return `heap after GC ${mb(m.heapStart)} -> max ${mb(m.heapMax)} MB (bound +${mb(HEAP_BOUND)} MB); longest event-loop delay ${m.loopDelayMaxMs.toFixed(0)} ms; slowest liveness round trip ${m.pingMaxMs.toFixed(0)} ms`;
  }
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

// ---------------------------------------------------------------- sessions of tests

/** A router, its bystanders and guard; after a failure, fresh bystanders, or a fresh router if it is dead or frozen. */
export class RouterSession {
  router!: RouterProcess;
  bystanders!: Bystanders;
  guard!: Guard;
  restarts = 0;
  /** Groups run by `runGroup`. */
  groups = 0;
  /** Measured over the whole run; the heap base is that of the current router process. */
  readonly measures: Measures = { heapStart: 0, heapMax: 0, loopDelayMaxMs: 0, pingMaxMs: 0 };

  constructor(private readonly startRouter: () => Promise<RouterProcess> = () => RouterProcess.start()) {}

  async start(): Promise<void> {
    this.router = await this.startRouter();
    this.measures.heapStart = 0;
    await this.startBystanders();
  }

  private async startBystanders(): Promise<void> {
    this.bystanders = await Bystanders.start(this.router);
    this.guard = new Guard(this.router, this.bystanders, this.measures);
    await this.guard.start();
  }

  /** After a failure: the bystanders may hold a half-done call, so they start over; the router too unless it is alive and clean. */
  async recover(): Promise<void> {
    this.bystanders.stop();
    let clean = false;
    if (!this.router.dead) {
      try {
        await this.router.ping(2000);
        const deadline = Date.now() + 3000;
        for (;;) {
          const { sessions } = await this.router.stats();
          if (sessions.realm1 === 0 && sessions.locked === 0) {
            clean = true;
            break;
          }
          if (Date.now() > deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } catch {
        clean = false;
      }
    }
    if (clean) return this.startBystanders();
    await this.router.kill();
    this.restarts++;
    await this.start();
  }

  async stop(): Promise<void> {
    this.bystanders?.stop();
    await this.router?.close();
  }
}

/**
 * Runs `cases` on fresh connections, `concurrency` at a time, with one
 * bystander call in flight over the whole group; then checks liveness and
 * the bystanders. Returns one entry per failed case (empty: all passed),
 * followed by the distinct uncaught exceptions the router reported while the
 * group ran. When the router dies or stalls, the cases not run yet are
 * counted and the group ends with an error.
 */
export async function runGroup(session: RouterSession, cases: Case[], concurrency = 32): Promise<string[]> {
  const { router } = session;
  const failures: string[] = [];
  const inFlight = await session.bystanders.begin();
  session.guard.takeFaults();
  let next = 0;
  let broken: string | undefined;
  const worker = async () => {
    while (next < cases.length && !broken) {
      const c = cases[next++];
      await runCase({ router }, c).catch(async (err: Error) => {
        failures.push(err.message.replace(/\n+/g, '\n    '));
        await router.ping(LIVENESS_MS).catch((e: Error) => (broken = e.message));
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, cases.length) }, worker));
  const faults = distinctFaults(session.guard.takeFaults());
  const report = () => [...failures, ...faults];
  if (broken) {
    const notRun = cases.length - next;
    throw new Error(
      `${broken}\n${failures.length} of ${cases.length} cases failed${notRun ? `, ${notRun} not run` : ''}:\n  ${report().join('\n  ')}`,
    );
  }
  try {
    await session.guard.checkAlive();
    await session.bystanders.finish(inFlight);
    // Every GROUPS_PER_BATCH groups: heap, sessions, locked realm.
    if (++session.groups % GROUPS_PER_BATCH === 0) await session.guard.checkBatch();
  } catch (err) {
    const e = err as Error;
    if (report().length) e.message = `${e.message}\n${failures.length} of ${cases.length} cases failed:\n  ${report().join('\n  ')}`;
    throw e;
  }
  return report();
}

/** Uncaught exceptions, one entry per distinct message and top of stack, with a count. */
export function distinctFaults(faults: string[]): string[] {
  const byKey = new Map<string, { text: string; count: number }>();
  for (const f of faults) {
    const key = f.split('\n').slice(0, 4).join('\n');
    const entry = byKey.get(key) ?? { text: f.split('\n').slice(0, 12).join('\n'), count: 0 };
    entry.count++;
    byKey.set(key, entry);
  }
  return [...byKey.values()].map(
    ({ text, count }) => `the router reported ${count} uncaught exception(s):\n    ${text.replace(/\n/g, '\n    ')}`,
  );
}

/** Fails with every failed case listed. */
export function assertNoFailures(report: string[], total: number): void {
  if (report.length === 0) return;
  const failed = report.filter((r) => !r.startsWith('the router reported')).length;
  assert.fail(`${failed} of ${total} cases failed:\n  ${report.join('\n  ')}`);
}

/**
 * node:test wiring: a router process and bystanders for the current file;
 * `test(name, fn)` runs `fn` and, when it fails, gives the next test fresh
 * bystanders (and a fresh router if this one died or froze).
 */
export function useRouterSession(start?: () => Promise<RouterProcess>): {
  session: RouterSession;
  guarded: (fn: () => Promise<void>) => () => Promise<void>;
} {
  const session = new RouterSession(start);
  before(() => session.start());
  after(() => session.stop());
  const guarded = (fn: () => Promise<void>) => async () => {
    try {
      await fn();
    } catch (err) {
      await session.recover();
      throw err;
    }
  };
  return { session, guarded };
}
