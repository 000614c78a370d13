/**
 * The NATS backplane: frames over core subjects, the registry in a JetStream
 * KV bucket (see docs in CLUSTER.md, sections 4 and 7).
 *
 * - one connection per node, named `kreuz/<name>/<node>`, reconnecting for
 *   ever, with `noEcho` so that a broadcast never comes back to its sender;
 * - `send(node)` publishes on `kreuz.<name>.node.<node>`, `broadcast(channel)`
 *   on `kreuz.<name>.<channel>`: one connection and one publisher, so frames
 *   from one node to another keep their order;
 * - the bucket `kreuz_<name>`: history 1, no TTLs (nats-server 2.9 ignores
 *   them), reads from the stream leader (`allow_direct: false`: a direct get
 *   may be stale before 2.9.17, nats-server #4162);
 * - "wrong last sequence: N" becomes `KvConflict` with revision N; a timeout,
 *   no responders or a closed connection becomes `BackplaneUnavailable`;
 * - a watch is an ordered push consumer (R1, on one server). After a
 *   reconnect, or when a periodic check finds its consumer gone (its server
 *   died while we stayed connected elsewhere), it restarts from the revision
 *   after the last it delivered, so no change is lost. The client's own
 *   recovery only notices a gap once a later change arrives, or after 60 s of
 *   missed consumer heartbeats.
 */
import { readFile } from 'node:fs/promises';
import { type KV, type KvWatchEntry, KvWatchInclude, Kvm } from '@nats-io/kv';
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions, type QueuedIterator } from '@nats-io/transport-node';
import {
  type Backplane,
  BackplaneUnavailable,
  type BackplaneStatus,
  type KvChange,
  type KvEntry,
  KvConflict,
  type KvWatch,
} from './backplane.ts';

export interface NatsBackplaneOptions {
  /** The cluster's name, `[a-z0-9-]+`. */
  name: string;
  /** This node's ID, `[a-z0-9-]+`. */
  node: string;
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** A credentials file (JWT + NKey seed). */
  creds?: string;
  /** KV replicas (default 1). */
  replicas?: number;
  /** ms a JetStream request may take (default 1500). */
  timeoutMs?: number;
}

const ID = /^[a-z0-9-]{1,64}$/;
const KEY = /^[-/_=a-zA-Z0-9]+(?:\.[-/_=a-zA-Z0-9]+)*$/;
/** A string prefix of keys: whole tokens, then maybe the start of one. */
const PREFIX = /^(?:[-/_=a-zA-Z0-9]+\.)*[-/_=a-zA-Z0-9]*$/;
const MAX_KEY = 512;
/** `node` is the first token of the send subjects, so no channel may start with it. */
const CHANNEL = /^(?!node(?:\.|$))[a-z0-9]+(?:\.[a-z0-9]+)*$/;
const MAX_CHANNEL = 128;
const DEFAULT_TIMEOUT = 1500;
/** What a KV write's headers (expected revision) take of max_payload beside the value. */
const VALUE_HEADROOM = 1024;
/** ms between checks that each watch's consumer still exists. */
const WATCH_CHECK = 2000;
/** What we believe of a server's max_payload: NATS allows up to 64 MiB. */
const MAX_PAYLOAD_CAP = 64 * 1024 * 1024;

export async function connectNatsBackplane(options: NatsBackplaneOptions): Promise<Backplane> {
  const { name, node } = options;
  if (!ID.test(name)) throw new TypeError(`nats backplane: bad cluster name ${JSON.stringify(name)}`);
  if (!ID.test(node)) throw new TypeError(`nats backplane: bad node id ${JSON.stringify(node)}`);
  const replicas = options.replicas ?? 1;
  if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > 5) throw new RangeError('nats backplane: replicas is 1 to 5');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError('nats backplane: timeoutMs must be positive');
  let nc: NatsConnection;
  try {
    nc = await connect(await connectionOptions(options));
  } catch (err) {
    throw new BackplaneUnavailable(`nats: cannot connect to ${options.servers.join(', ')}: ${describe(err)}`, { cause: err });
  }
  let backplane: NatsBackplane | undefined;
  try {
    const kv = await openBucketPatiently(kvmWithTimeout(nc, timeoutMs), `kreuz_${name}`, replicas);
    backplane = new NatsBackplane(nc, kv, name, node, timeoutMs);
    await nc.flush(); // the server has our subscription: a frame sent to us from now on arrives
    return backplane;
  } catch (err) {
    await (backplane ? backplane.close() : nc.close().catch(() => undefined));
    throw err instanceof BackplaneUnavailable
      ? err
      : new BackplaneUnavailable(`nats: KV bucket kreuz_${name}: ${describe(err)}`, { cause: err });
  }
}

async function connectionOptions(options: NatsBackplaneOptions): Promise<NodeConnectionOptions> {
  return {
    servers: options.servers,
    name: `kreuz/${options.name}/${options.node}`,
    maxReconnectAttempts: -1,
    // Quick retries: while a node is away its heartbeats are lost, and peers call it dead after dead_after (1.5 s).
    reconnectTimeWait: 250,
    noEcho: true,
    user: options.user,
    pass: options.pass,
    token: options.token,
    authenticator: options.creds ? credsAuthenticator(await readFile(options.creds)) : undefined,
  };
}

/**
 * A Kvm whose JetStream requests time out after `timeout` ms: what
 * `jetstream(nc, { timeout })` gives, built from the class of the client Kvm
 * makes itself (with the default 5 s), so @nats-io/jetstream need not be a
 * dependency of ours.
 */
function kvmWithTimeout(nc: NatsConnection, timeout: number): Kvm {
  const JetStreamClient = new Kvm(nc).js.constructor as new (nc: NatsConnection, options: { timeout: number }) => Kvm['js'];
  return new Kvm(new JetStreamClient(nc, { timeout }));
}

/** How long a starting node waits for JetStream: a NATS cluster started at the same time elects its leaders first. */
const OPEN_PATIENCE_MS = 15_000;

/** openBucket, tried again while JetStream answers "not enabled" (no responders yet) or times out. */
async function openBucketPatiently(kvm: Kvm, bucket: string, replicas: number): Promise<KV> {
  const deadline = Date.now() + OPEN_PATIENCE_MS;
  for (;;) {
    try {
      return await openBucket(kvm, bucket, replicas);
    } catch (err) {
      const transient = /not enabled|no responders|timeout|timed out/i.test(describe(err));
      if (!transient || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function openBucket(kvm: Kvm, bucket: string, replicas: number): Promise<KV> {
  try {
    return await kvm.create(bucket, { history: 1, replicas, allow_direct: false });
  } catch (err) {
    // Made before with other settings (replicas): use it as it is.
    if (!/already in use/i.test(describe(err))) throw err;
  }
  return kvm.open(bucket, { allow_direct: false });
}

class NatsBackplane implements Backplane {
  readonly maxFrame: number;
  private readonly base: string;
  private readonly channels = new Set<string>();
  private readonly watches = new Set<NatsWatch>();
  private frameHandler: ((frame: Uint8Array, channel: string | undefined) => void) | undefined;
  private statusHandler: ((status: BackplaneStatus) => void) | undefined;
  private connected = true;
  private closing: Promise<void> | undefined;
  /** Frames of this event-loop turn, [subject, frame] pairs: published together (flushOutgoing). */
  private outgoing: Array<string | Uint8Array> = [];
  private readonly checkTimer: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    name: string,
    readonly node: string,
    private readonly timeoutMs: number,
  ) {
    this.base = `kreuz.${name}`;
    this.maxFrame = maxPayload(nc);
    this.subscribe(`${this.base}.node.${node}`, undefined);
    void this.followStatus();
    this.checkTimer = setInterval(() => this.checkWatches(), WATCH_CHECK);
    this.checkTimer.unref();
  }

  get(key: string): Promise<KvEntry | undefined> {
    return this.kvCall(key, null, undefined, async () => {
      const entry = await this.kv.get(key);
      return entry && entry.operation === 'PUT' ? { key, value: entry.value, revision: entry.revision } : undefined;
    });
  }

  /** As KV.create, but a loser learns the winner's revision (KV.create may name the delete marker's). */
  create(key: string, value: Uint8Array): Promise<number> {
    return this.kvCall(key, value, undefined, async () => {
      try {
        return await this.kv.put(key, value, { previousSeq: 0 });
      } catch (err) {
        if (!(kvError(key, err) instanceof KvConflict)) throw err;
      }
      // The key exists, or existed: a delete marker may be replaced at its revision.
      const current = await this.kv.get(key);
      if (current?.operation === 'PUT') throw new KvConflict(key, current.revision);
      return this.kv.put(key, value, { previousSeq: current?.revision ?? 0 });
    });
  }

  update(key: string, value: Uint8Array, revision: number): Promise<number> {
    return this.kvCall(key, value, revision, () => this.kv.update(key, value, revision));
  }

  delete(key: string, revision?: number): Promise<void> {
    return this.kvCall(key, null, revision, () => this.kv.delete(key, revision === undefined ? undefined : { previousSeq: revision }));
  }

  put(key: string, value: Uint8Array): Promise<number> {
    return this.kvCall(key, value, undefined, () => this.kv.put(key, value));
  }

  async watch(prefix: string, onChange: (change: KvChange) => void): Promise<KvWatch> {
    if (typeof prefix !== 'string' || prefix.length > MAX_KEY || !PREFIX.test(prefix)) throw new TypeError('kv: bad watch prefix');
    if (this.closing) throw new BackplaneUnavailable('nats: backplane closed');
    const watch = new NatsWatch(this.kv, prefix, onChange, this.timeoutMs, () => !this.closing && !this.nc.isClosed());
    this.watches.add(watch);
    try {
      await watch.start();
    } catch (err) {
      this.watches.delete(watch);
      watch.stop();
      throw kvError(prefix, err);
    }
    return {
      stop: () => {
        this.watches.delete(watch);
        watch.stop();
      },
    };
  }

  send(node: string, frame: Uint8Array): void {
    if (!ID.test(node)) throw new TypeError(`send: bad node id ${JSON.stringify(node)}`);
    this.publish(`${this.base}.node.${node}`, frame);
  }

  broadcast(channel: string, frame: Uint8Array): void {
    checkChannel(channel);
    this.publish(`${this.base}.${channel}`, frame);
  }

  listen(channel: string): void {
    checkChannel(channel);
    if (this.closing || this.channels.has(channel)) return;
    this.channels.add(channel);
    this.subscribe(`${this.base}.${channel}`, channel);
  }

  onFrame(handler: (frame: Uint8Array, channel: string | undefined) => void): void {
    this.frameHandler = handler;
  }

  onStatus(handler: (status: BackplaneStatus) => void): void {
    this.statusHandler = handler;
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.flushOutgoing();
    clearInterval(this.checkTimer);
    for (const watch of this.watches) watch.stop();
    this.watches.clear();
    // Drain flushes what was published; without a server it would wait for one.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timeoutMs * 2)));
    await Promise.race([this.nc.drain().catch(() => undefined), late]);
    clearTimeout(timer);
    if (!this.nc.isClosed()) await this.nc.close().catch(() => undefined);
  }

  private publish(subject: string, frame: Uint8Array): void {
    if (!(frame instanceof Uint8Array)) throw new TypeError('frame: a Uint8Array');
    if (frame.length > this.maxFrame) throw new RangeError(`frame: ${frame.length} bytes, over maxFrame ${this.maxFrame}`);
    if (this.closing) return;
    // A copy: the frames wait for the end of this event-loop turn, and the caller may reuse its buffer at once.
    this.outgoing.push(subject, frame.slice());
    if (this.outgoing.length === 2) setImmediate(this.flushOutgoing);
  }

  /**
   * Publishes what this turn of the event loop sent. The client writes to its
   * socket once per microtask checkpoint, i.e. once per socket read that
   * caused frames; handing it every frame of the turn at once makes that one
   * write (measured: the socket writes were a fifth of each node's CPU in
   * cross-node RPC at 16 calls in flight).
   */
  private readonly flushOutgoing = (): void => {
    const outgoing = this.outgoing;
    this.outgoing = [];
    try {
      for (let i = 0; i < outgoing.length; i += 2) this.nc.publish(outgoing[i] as string, outgoing[i + 1] as Uint8Array);
    } catch {
      // Closed or draining: frames may be lost.
    }
  };

  private subscribe(subject: string, channel: string | undefined): void {
    try {
      this.nc.subscribe(subject, {
        callback: (err, msg) => {
          const handler = this.frameHandler;
          if (!err && handler) callHandler(() => handler(msg.data, channel));
        },
      });
    } catch {
      // A closed connection hears nothing, as a closed backplane should.
    }
  }

  private async followStatus(): Promise<void> {
    try {
      for await (const status of this.nc.status()) {
        if (status.type === 'disconnect') this.setConnected(false);
        else if (status.type === 'reconnect') {
          this.setConnected(true);
          for (const watch of this.watches) watch.restart();
        }
      }
    } catch {
      // The connection is gone; close() is the owner's to call.
    }
  }

  /** While connected: a reconnect restarts every watch anyway. */
  private checkWatches(): void {
    if (this.connected && !this.closing) for (const watch of this.watches) void watch.check();
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected || this.closing) return;
    this.connected = connected;
    const handler = this.statusHandler;
    if (handler) callHandler(() => handler(connected ? 'reconnected' : 'disconnected'));
  }

  /** Checks the arguments (`value` null: the operation takes none), runs the operation, maps its errors. */
  private async kvCall<T>(key: string, value: Uint8Array | null, revision: number | undefined, operation: () => Promise<T>): Promise<T> {
    if (typeof key !== 'string' || key.length > MAX_KEY || !KEY.test(key)) throw new TypeError(`kv: bad key ${JSON.stringify(key)}`);
    if (value !== null) {
      if (!(value instanceof Uint8Array)) throw new TypeError('kv: a value is a Uint8Array');
      if (value.length > this.maxFrame - VALUE_HEADROOM)
        throw new RangeError(`kv: a value of ${value.length} bytes, over maxFrame - 1 KiB`);
    }
    if (revision !== undefined && (!Number.isSafeInteger(revision) || revision <= 0)) throw new RangeError(`kv: bad revision ${revision}`);
    if (this.closing) throw new BackplaneUnavailable('nats: backplane closed');
    try {
      return await operation();
    } catch (err) {
      throw kvError(key, err);
    }
  }
}

/**
 * One watch as a series of ordered consumers: the first delivers the current
 * state, each later one (after a reconnect, or when the last is gone) resumes
 * after the last revision delivered. Keys are matched by the longest subject prefix NATS can filter
 * on (whole tokens), then by the string prefix.
 */
class NatsWatch {
  private last = 0;
  private iterator: QueuedIterator<KvWatchEntry> | undefined;
  private generation = 0;
  private stopped = false;
  private restarting = false;
  private again = false;
  private readonly filter: string;
  /** While `start()` waits: the current state is delivered, and an entry arrived. */
  private caughtUp: (() => void) | undefined;
  private progress: (() => void) | undefined;

  constructor(
    private readonly kv: KV,
    private readonly prefix: string,
    private readonly onChange: (change: KvChange) => void,
    private readonly timeoutMs: number,
    /** False once the connection is closing or closed: restarts stop. */
    private readonly alive: () => boolean,
  ) {
    const dot = prefix.lastIndexOf('.');
    this.filter = dot > 0 ? `${prefix.slice(0, dot)}.>` : '>';
  }

  /** Resolves once the current state was delivered; rejects if it stalls. */
  async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let stalled!: (err: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      this.caughtUp = resolve;
      stalled = reject;
    });
    done.catch(() => undefined); // a stall while open() still runs is handled by the await below
    // A stall is no entry for a while (a large bucket may take longer in all).
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => stalled(new BackplaneUnavailable('kv: watch did not deliver the current state in time')),
        this.timeoutMs * 4,
      );
    };
    this.progress = rearm;
    rearm();
    try {
      await this.open();
      await done;
    } finally {
      clearTimeout(timer);
      this.progress = undefined;
      this.caughtUp = undefined;
    }
  }

  /** A new consumer from the revision after the last delivered (retried until it works). */
  restart(): void {
    if (this.stopped || !this.alive()) return;
    if (this.restarting) {
      this.again = true;
      return;
    }
    void this.restartLoop();
  }

  /** Restarts the watch if its consumer is gone (or does not answer). */
  async check(): Promise<void> {
    const iterator = this.iterator;
    if (!iterator || this.restarting || this.stopped) return;
    try {
      await consumerOf(iterator).info(false);
    } catch {
      if (this.iterator === iterator) this.restart();
    }
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.iterator?.stop();
    this.iterator = undefined;
  }

  private async restartLoop(): Promise<void> {
    this.restarting = true;
    for (let attempt = 0; !this.stopped && this.alive(); attempt++) {
      this.again = false;
      try {
        await this.open();
        if (!this.again) break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))));
      }
    }
    this.restarting = false;
  }

  private async open(): Promise<void> {
    const generation = ++this.generation;
    this.iterator?.stop();
    this.iterator = undefined;
    const fresh = this.last === 0;
    const iterator = await this.kv.watch({
      key: this.filter,
      include: KvWatchInclude.LastValue,
      ...(fresh ? {} : { resumeFromRevision: this.last + 1 }),
    });
    if (generation !== this.generation) {
      iterator.stop();
      return;
    }
    this.iterator = iterator;
    const count = await pendingAtStart(iterator);
    if (count === 0) this.caughtUp?.();
    void this.consume(iterator, generation, count, fresh);
  }

  private async consume(iterator: QueuedIterator<KvWatchEntry>, generation: number, count: number, fresh: boolean): Promise<void> {
    let seen = 0;
    try {
      for await (const entry of iterator) {
        if (generation !== this.generation) break;
        // A fresh watch's initial entries are the state: a delete marker there is a key that is not.
        this.deliver(entry, fresh && seen < count);
        this.progress?.();
        if (++seen === count) this.caughtUp?.();
      }
    } catch {
      // The consumer failed: restarted below.
    }
    // Ended without stop() (the client gave the consumer up): a new one, after a pause, not in a tight loop.
    if (generation !== this.generation || this.stopped) return;
    setTimeout(() => generation === this.generation && this.restart(), 500).unref();
  }

  private deliver(entry: KvWatchEntry, initial: boolean): void {
    if (!initial && entry.revision <= this.last) return; // a restarted consumer repeats what was delivered
    this.last = Math.max(this.last, entry.revision);
    const deleted = entry.operation !== 'PUT';
    if ((deleted && initial) || !entry.key.startsWith(this.prefix)) return;
    const change: KvChange = { key: entry.key, value: deleted ? undefined : entry.value, revision: entry.revision };
    callHandler(() => this.onChange(change));
  }
}

/**
 * How many entries a new watch's consumer had pending when made: its initial
 * state. KvWatchEntry.isUpdate is computed from that count, but cannot tell
 * an empty state apart, and watch() resolves before the entries arrive.
 */
async function pendingAtStart(iterator: QueuedIterator<KvWatchEntry>): Promise<number> {
  const pending = (await consumerOf(iterator).info(true)).num_pending;
  if (typeof pending !== 'number' || !Number.isSafeInteger(pending) || pending < 0) throw new Error('@nats-io/kv: bad num_pending');
  return pending;
}

interface WatchConsumer {
  /** `cached`: the info from when it was made; otherwise asks the server (rejects if the consumer is gone). */
  info(cached: boolean): Promise<{ num_pending?: unknown }>;
}

/** The push consumer behind a kv.watch iterator (@nats-io/kv 3.x keeps it as `_data`). */
function consumerOf(iterator: QueuedIterator<KvWatchEntry>): WatchConsumer {
  const consumer = (iterator as unknown as { _data?: Partial<WatchConsumer> })._data;
  if (typeof consumer?.info !== 'function') throw new Error('@nats-io/kv: a watch without its consumer (changed internals?)');
  return consumer as WatchConsumer;
}

function maxPayload(nc: NatsConnection): number {
  const size = nc.info?.max_payload;
  return typeof size === 'number' && Number.isSafeInteger(size) && size > 0 ? Math.min(size, MAX_PAYLOAD_CAP) : 1024 * 1024;
}

/** KvConflict for "wrong last sequence" (with the revision it names), BackplaneUnavailable for the rest. */
function kvError(key: string, err: unknown): Error {
  if (err instanceof KvConflict || err instanceof BackplaneUnavailable) return err;
  const text = describe(err);
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  if (code === 10071 || code === 10164 || /wrong last sequence/i.test(text)) return new KvConflict(key, revisionNamed(text));
  return new BackplaneUnavailable(`kv: ${text}`, { cause: err });
}

function revisionNamed(text: string): number {
  const match = /wrong last sequence: (\d{1,15})\b/i.exec(text);
  return match ? Number(match[1]) : 0;
}

function describe(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function checkChannel(channel: string): void {
  if (typeof channel !== 'string' || channel.length > MAX_CHANNEL || !CHANNEL.test(channel)) {
    throw new TypeError(`bad channel ${JSON.stringify(channel)}`);
  }
}

/** A handler's exception is its owner's bug: surface it as uncaught, but keep delivering. */
function callHandler(call: () => void): void {
  try {
    call();
  } catch (err) {
    setImmediate(() => {
      throw err;
    });
  }
}
