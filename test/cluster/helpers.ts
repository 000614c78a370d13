/**
 * Pieces of the cluster suite (cluster-suite.ts): three Kreuz nodes on one
 * backplane engine, and a raw WAMP client that keeps every message it gets
 * until a test asks for one by its shape, so that several flows (a call in
 * flight, events, meta events) can be followed at once.
 *
 * Every wait is bounded and polls toward a deadline; nothing here sleeps a
 * fixed time to decide an outcome.
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { Backplane, BackplaneStatus, KvChange, KvEntry, KvWatch } from '../../src/cluster/backplane.ts';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import { serializerByName, type Serializer, type SerializerName } from '../../src/serializers/index.ts';
import {
  AUTHENTICATE,
  CALL,
  CHALLENGE,
  ERROR,
  EVENT,
  GOODBYE,
  HELLO,
  INVOCATION,
  PUBLISH,
  PUBLISHED,
  REGISTER,
  REGISTERED,
  SUBSCRIBE,
  SUBSCRIBED,
  UNREGISTER,
  UNREGISTERED,
  UNSUBSCRIBE,
  UNSUBSCRIBED,
  WELCOME,
  YIELD,
} from '../helpers/wamp-codes.ts';

export type Msg = any[];
export type Dict = Record<string, any>;

/** What a suite is run against: one engine per cluster, one backplane per node. */
export interface Backplanes {
  connect(node: string): Promise<Backplane> | Backplane;
  close(): Promise<void>;
  /** Cuts a node off the engine without closing it (the memory network's `disconnect`); optional. */
  cut?(node: string): void | Promise<void>;
}
export type BackplaneFactory = () => Promise<Backplanes>;

export const NODE_IDS = ['a', 'b', 'c'] as const;
export type NodeId = (typeof NODE_IDS)[number];

/** Ticket principals every node knows (ticket `<authid>-ticket`), by authid: their role. */
export const PRINCIPALS = {
  alice: 'frontend',
  bob: 'backend',
  carol: 'counted',
  dave: 'killable',
  erin: 'doomed',
  frank: 'doomed',
} as const;
export type Principal = keyof typeof PRINCIPALS;

/** Anonymous by default (Crossbar's role "anonymous"), ticket for the principals above. */
const AUTH = {
  anonymous: { type: 'static' },
  ticket: {
    type: 'static',
    principals: Object.fromEntries(Object.entries(PRINCIPALS).map(([authid, role]) => [authid, { ticket: `${authid}-ticket`, role }])),
  },
};

/** Every advanced feature a test may need, announced by each raw client. */
export const FULL_ROLES = {
  caller: {
    features: {
      caller_identification: true,
      progressive_call_results: true,
      progressive_call_invocations: true,
      call_canceling: true,
      call_timeout: true,
    },
  },
  callee: {
    features: {
      caller_identification: true,
      pattern_based_registration: true,
      shared_registration: true,
      progressive_call_results: true,
      progressive_call_invocations: true,
      call_canceling: true,
      registration_revocation: true,
    },
  },
  publisher: { features: { publisher_identification: true, subscriber_blackwhite_listing: true, publisher_exclusion: true } },
  subscriber: { features: { publisher_identification: true, pattern_based_subscription: true, subscription_revocation: true } },
};

export const DEADLINE = 3000;

/** Polls `probe` until `ok` holds for what it returns; fails naming `what` after `ms`. Returns the last value. */
export async function eventually<T>(probe: () => T | Promise<T>, ok: (value: T) => boolean, what: string, ms = DEADLINE): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await probe();
  let polls = 0;
  while (!ok(value)) {
    if (Date.now() > deadline || ++polls > 10_000) assert.fail(`not within ${ms} ms: ${what} (last: ${show(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 15));
    value = await probe();
  }
  return value;
}

export function show(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text.length > 600 ? `${text.slice(0, 600)}…` : text;
  } catch {
    return String(value);
  }
}

const sortedIds = (ids: unknown) => [...(ids as number[])].sort((x, y) => x - y);
export { sortedIds };

export interface JoinOptions {
  serializer?: SerializerName;
  /** Ticket login as this principal; default anonymous. */
  authid?: Principal;
  /** HELLO.Details.roles; default FULL_ROLES. */
  roles?: Dict;
}

interface Waiter {
  match: (m: Msg) => boolean;
  resolve: (m: Msg) => void;
}

/** A raw WebSocket WAMP client on one node. */
export class Client {
  session = 0;
  authid = '';
  authrole = '';
  private readonly inbox: Msg[] = [];
  private readonly waiters = new Set<Waiter>();
  /** Take a message before the inbox does (true: consumed), e.g. a callee answering every INVOCATION. */
  private readonly handlers = new Set<(m: Msg) => boolean>();
  private request = 0;
  private leaving = false;
  private closedInfo: { code: number; reason: string } | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly serializer: Serializer;

  private constructor(
    private readonly ws: WebSocket,
    readonly label: string,
    serializer: SerializerName,
  ) {
    this.serializer = serializerByName(serializer);
    ws.on('message', (data: Buffer) => this.received(this.serializer.decode(this.serializer.binary ? data : data.toString('utf8'))));
    ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closedInfo = { code, reason: reason.toString() };
        resolve(this.closedInfo);
      }),
    );
  }

  static async join(url: string, label: string, options: JoinOptions = {}): Promise<Client> {
    const serializer = options.serializer ?? 'json';
    const ws = new WebSocket(url, [`wamp.2.${serializer}`]);
    const client = new Client(ws, `${label}/${serializer}`, serializer);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const details: Dict = { roles: options.roles ?? FULL_ROLES };
    if (options.authid) Object.assign(details, { authmethods: ['ticket'], authid: options.authid });
    client.send([HELLO, 'realm1', details]);
    if (options.authid) {
      const challenge = await client.take(() => true, 'CHALLENGE');
      assert.equal(challenge[0], CHALLENGE, `${client.label}: ${show(challenge)}`);
      client.send([AUTHENTICATE, `${options.authid}-ticket`, {}]);
    }
    const welcome = await client.take(() => true, 'WELCOME');
    assert.equal(welcome[0], WELCOME, `${client.label}: expected WELCOME, got ${show(welcome)}`);
    client.session = welcome[1];
    client.authid = welcome[2].authid;
    client.authrole = welcome[2].authrole;
    return client;
  }

  private received(message: unknown): void {
    const m = message as Msg;
    if (m[0] === GOODBYE && !this.leaving) {
      // The router ended the session (a kill): answer as the spec asks, and keep the GOODBYE for the test.
      this.leaving = true;
      this.send([GOODBYE, {}, 'wamp.close.goodbye_and_out']);
      this.ws.close(); // the transport is the client's to close (the router may wait for another HELLO)
    }
    for (const handler of this.handlers) if (handler(m)) return;
    for (const waiter of this.waiters) {
      if (waiter.match(m)) {
        this.waiters.delete(waiter);
        waiter.resolve(m);
        return;
      }
    }
    this.inbox.push(m);
  }

  get isClosed(): boolean {
    return this.closedInfo !== undefined;
  }

  send(message: unknown[]): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(this.serializer.encode(message));
  }

  nextRequest(): number {
    return ++this.request;
  }

  /** The first message (already received or still to come) that `match` accepts; fails after `ms`. */
  take(match: (m: Msg) => boolean, what: string, ms = DEADLINE): Promise<Msg> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.label}: no ${what} within ${ms} ms; inbox: ${show(this.inbox)}`));
      }, ms);
      this.waiters.add(waiter);
    });
  }

  /** Messages received and not taken that `match` accepts (left in the inbox). */
  pending(match: (m: Msg) => boolean): Msg[] {
    return this.inbox.filter(match);
  }

  /** The reply to request `request` of type `type`: `ok` or an ERROR. */
  reply(type: number, request: number, ok: number, what: string, ms = DEADLINE): Promise<Msg> {
    return this.take((m) => (m[0] === ok && m[1] === request) || (m[0] === ERROR && m[1] === type && m[2] === request), what, ms);
  }

  // ---- caller ----

  /** Sends a CALL; returns its request ID. */
  callNoWait(uri: string, args: unknown[] = [], kwargs?: Dict, options: Dict = {}): number {
    const request = this.nextRequest();
    this.send(kwargs ? [CALL, request, options, uri, args, kwargs] : [CALL, request, options, uri, args]);
    return request;
  }

  /** The final answer to call `request`: RESULT (not a progressive one) or ERROR. */
  outcome(request: number, ms = DEADLINE): Promise<Msg> {
    return this.take(
      (m) => (m[0] === 50 && m[1] === request && m[2]?.progress !== true) || (m[0] === ERROR && m[1] === CALL && m[2] === request),
      `answer to CALL ${request}`,
      ms,
    );
  }

  /** Calls and returns RESULT or ERROR. */
  call(uri: string, args: unknown[] = [], kwargs?: Dict, options: Dict = {}, ms = DEADLINE): Promise<Msg> {
    return this.outcome(this.callNoWait(uri, args, kwargs, options), ms);
  }

  /** Calls and asserts a RESULT; returns it. */
  async result(uri: string, args: unknown[] = [], kwargs?: Dict, options: Dict = {}): Promise<Msg> {
    const reply = await this.call(uri, args, kwargs, options);
    assert.equal(reply[0], 50, `${this.label}: ${uri} failed: ${show(reply)}`);
    return reply;
  }

  /** A meta procedure's result (RESULT.Arguments[0]); fails on an ERROR. */
  async meta(uri: string, args: unknown[] = [], kwargs?: Dict): Promise<any> {
    return (await this.result(uri, args, kwargs))[3]?.[0];
  }

  /**
   * Calls until the answer is no longer wamp.error.no_such_procedure (the
   * registration has reached this node's mirror); returns that answer.
   */
  async callWhenKnown(uri: string, args: unknown[] = [], kwargs?: Dict, options: Dict = {}, ms = DEADLINE): Promise<Msg> {
    return eventually(
      () => this.call(uri, args, kwargs, options),
      (reply) => !(reply[0] === ERROR && reply[4] === 'wamp.error.no_such_procedure'),
      `${uri} callable from ${this.label}`,
      ms,
    );
  }

  // ---- callee ----

  /** REGISTERED or ERROR. */
  tryRegister(uri: string, options: Dict = {}): Promise<Msg> {
    const request = this.nextRequest();
    this.send([REGISTER, request, options, uri]);
    return this.reply(REGISTER, request, REGISTERED, `REGISTERED ${uri}`);
  }

  /** Registers; returns the registration ID. */
  async register(uri: string, options: Dict = {}): Promise<number> {
    const reply = await this.tryRegister(uri, options);
    assert.equal(reply[0], REGISTERED, `${this.label}: REGISTER ${uri} ${show(options)}: ${show(reply)}`);
    return reply[2];
  }

  async unregister(registration: number): Promise<void> {
    const request = this.nextRequest();
    this.send([UNREGISTER, request, registration]);
    const reply = await this.reply(UNREGISTER, request, UNREGISTERED, 'UNREGISTERED');
    assert.equal(reply[0], UNREGISTERED, `${this.label}: ${show(reply)}`);
  }

  /** The next INVOCATION (of `registration`, when given). */
  invocation(registration?: number, ms = DEADLINE): Promise<Msg> {
    return this.take((m) => m[0] === INVOCATION && (registration === undefined || m[2] === registration), 'INVOCATION', ms);
  }

  /** Answers every INVOCATION of `registration` with what `answer` returns (a YIELD's [options, args, kwargs]). */
  serve(registration: number, answer: (invocation: Msg) => [Dict, unknown[], Dict?]): void {
    this.handlers.add((m) => {
      if (m[0] !== INVOCATION || m[2] !== registration) return false;
      const [options, args, kwargs] = answer(m);
      this.send(kwargs ? [YIELD, m[1], options, args, kwargs] : [YIELD, m[1], options, args]);
      return true;
    });
  }

  // ---- pubsub ----

  async subscribe(topic: string, options: Dict = {}): Promise<number> {
    const request = this.nextRequest();
    this.send([SUBSCRIBE, request, options, topic]);
    const reply = await this.reply(SUBSCRIBE, request, SUBSCRIBED, `SUBSCRIBED ${topic}`);
    assert.equal(reply[0], SUBSCRIBED, `${this.label}: SUBSCRIBE ${topic}: ${show(reply)}`);
    return reply[2];
  }

  async unsubscribe(subscription: number): Promise<void> {
    const request = this.nextRequest();
    this.send([UNSUBSCRIBE, request, subscription]);
    const reply = await this.reply(UNSUBSCRIBE, request, UNSUBSCRIBED, 'UNSUBSCRIBED');
    assert.equal(reply[0], UNSUBSCRIBED, `${this.label}: ${show(reply)}`);
  }

  /** Publishes with acknowledge; returns the publication ID. */
  async publish(topic: string, args: unknown[] = [], kwargs?: Dict, options: Dict = {}): Promise<number> {
    const request = this.nextRequest();
    const opts = { ...options, acknowledge: true };
    this.send(kwargs ? [PUBLISH, request, opts, topic, args, kwargs] : [PUBLISH, request, opts, topic, args]);
    const reply = await this.reply(PUBLISH, request, PUBLISHED, `PUBLISHED ${topic}`);
    assert.equal(reply[0], PUBLISHED, `${this.label}: PUBLISH ${topic}: ${show(reply)}`);
    return reply[2];
  }

  publishNoAck(topic: string, args: unknown[] = [], options: Dict = {}): void {
    this.send([PUBLISH, this.nextRequest(), options, topic, args]);
  }

  /** The next EVENT (of `subscription`, when given). */
  event(subscription?: number, ms = DEADLINE): Promise<Msg> {
    return this.take((m) => m[0] === EVENT && (subscription === undefined || m[1] === subscription), 'EVENT', ms);
  }

  /** EVENTs of `subscription` up to and including the first whose Arguments[0] is `last`. */
  async eventsUntil(subscription: number, last: unknown, ms = DEADLINE): Promise<Msg[]> {
    const got: Msg[] = [];
    const deadline = Date.now() + ms;
    for (let i = 0; i < 100_000; i++) {
      const event = await this.event(subscription, Math.max(1, deadline - Date.now()));
      got.push(event);
      if (event[4]?.[0] === last) return got;
    }
    assert.fail(`${this.label}: no event ${show(last)}`);
  }

  // ---- leaving ----

  /** Leaves with GOODBYE and waits for the router's answer and the close. */
  async goodbye(): Promise<void> {
    if (this.isClosed) return;
    this.leaving = true;
    this.send([GOODBYE, {}, 'wamp.close.close_realm']);
    await this.take((m) => m[0] === GOODBYE, 'GOODBYE reply').catch(() => undefined);
    this.ws.close();
    await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, 1000))]);
  }

  /** Drops the connection at once, no GOODBYE. */
  drop(): void {
    this.ws.terminate();
  }
}

/**
 * A node's backplane as the engine made it, with one fault of our own that
 * works on every engine: registry changes reach the node's watch `delay` ms
 * late (in order), so that two nodes learn a change at visibly different times.
 */
class DelayedWatch implements Backplane {
  delay = 0;
  private readonly queue: Array<{ due: number; deliver: () => void }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly inner: Backplane) {}

  get node(): string {
    return this.inner.node;
  }
  get maxFrame(): number {
    return this.inner.maxFrame;
  }
  get(key: string): Promise<KvEntry | undefined> {
    return this.inner.get(key);
  }
  create(key: string, value: Uint8Array): Promise<number> {
    return this.inner.create(key, value);
  }
  update(key: string, value: Uint8Array, revision: number): Promise<number> {
    return this.inner.update(key, value, revision);
  }
  delete(key: string, revision?: number): Promise<void> {
    return this.inner.delete(key, revision);
  }
  put(key: string, value: Uint8Array): Promise<number> {
    return this.inner.put(key, value);
  }
  watch(prefix: string, onChange: (change: KvChange) => void): Promise<KvWatch> {
    return this.inner.watch(prefix, (change) => {
      if (this.delay === 0 && this.queue.length === 0) return onChange(change);
      this.queue.push({ due: Date.now() + this.delay, deliver: () => onChange(change) });
      this.schedule();
    });
  }
  send(node: string, frame: Uint8Array): void {
    this.inner.send(node, frame);
  }
  broadcast(channel: string, frame: Uint8Array): void {
    this.inner.broadcast(channel, frame);
  }
  listen(channel: string): void {
    this.inner.listen(channel);
  }
  onFrame(handler: (frame: Uint8Array, channel: string | undefined) => void): void {
    this.inner.onFrame(handler);
  }
  onStatus(handler: (status: BackplaneStatus) => void): void {
    this.inner.onStatus(handler);
  }
  close(): Promise<void> {
    clearTimeout(this.timer);
    this.queue.length = 0;
    return this.inner.close();
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        while (this.queue.length > 0 && this.queue[0].due <= Date.now()) this.queue.shift()!.deliver();
        this.schedule();
      },
      Math.max(0, this.queue[0].due - Date.now()),
    );
  }
}

export interface ClusterOptions {
  /** ms between heartbeats, and of silence until a node is dead. */
  heartbeat: number;
  deadAfter: number;
}

/** Three nodes a, b, c serving realm1 over one engine; the clients of its tests; how a node is made to die. */
export class TestCluster {
  readonly nodes = new Map<NodeId, RunningNode>();
  readonly backplanes = new Map<NodeId, DelayedWatch>();
  private readonly clients = new Set<Client>();
  private constructor(private readonly engine: Backplanes) {}

  static async start(factory: BackplaneFactory, name: string, options: ClusterOptions): Promise<TestCluster> {
    const cluster = new TestCluster(await factory());
    try {
      for (const id of NODE_IDS) {
        const backplane = new DelayedWatch(await cluster.engine.connect(id));
        cluster.backplanes.set(id, backplane);
        const node = await startNode({
          realms: ['realm1'],
          transports: [{ type: 'websocket', endpoint: { host: '127.0.0.1', port: 0 }, auth: AUTH }],
          cluster: { name, node: id, backplane, heartbeat: options.heartbeat, deadAfter: options.deadAfter },
        });
        cluster.nodes.set(id, node);
      }
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  get canCut(): boolean {
    return this.engine.cut !== undefined;
  }

  url(node: NodeId): string {
    return this.nodes.get(node)!.url;
  }

  async join(node: NodeId, options: JoinOptions = {}): Promise<Client> {
    const client = await Client.join(this.url(node), node, options);
    this.clients.add(client);
    return client;
  }

  /** Drops every client joined so far (between tests). */
  dropClients(): void {
    for (const client of this.clients) client.drop();
    this.clients.clear();
  }

  /** Registry changes reach `node` `ms` late from now on (0: at once again). */
  delayWatch(node: NodeId, ms: number): void {
    this.backplanes.get(node)!.delay = ms;
  }

  /**
   * Node `node` goes away without a BYE: its backplane is closed under it
   * (`close`), or the engine cuts it off (`cut`). Its clients stay connected
   * to it; the node itself keeps running, as a node that lost its network does.
   */
  async kill(node: NodeId, how: 'close' | 'cut'): Promise<void> {
    if (how === 'cut') await this.engine.cut!(node);
    else await this.backplanes.get(node)!.close();
  }

  async close(): Promise<void> {
    this.dropClients();
    for (const node of this.nodes.values()) await node.close();
    this.nodes.clear();
    await this.engine.close();
  }
}
