/**
 * The in-process backplane: one `MemoryNetwork` is the engine (a KV bucket
 * with one revision counter, watches, node addresses and broadcast channels),
 * and every `connect(node)` is one node's `Backplane` on it. It behaves like
 * `nats.ts` where the cluster can tell (every delivery is asynchronous, in
 * order per sender and receiver; a broadcast never comes back; a delete
 * writes a marker revision; a key that was deleted can be updated at its
 * marker's revision) and injects the faults a real network has:
 *
 * - `partition(a, b)` / `heal()`: frames between the sides are lost; the
 *   minority side (fewer nodes; ties: `b`) cannot use the KV and its watches
 *   hold their changes until the heal (as clients of servers without quorum);
 * - `disconnect(node)` / `reconnect(node)`: the same for one node, with
 *   `onStatus` events;
 * - `dropFrames(from, to, count)` and `drop(predicate)`: lost frames;
 * - `delay(ms)`, `watchDelay(ms)`, `kvDelay(ms)`: latency;
 * - `skipSuperseded()`: watches skip a revision a later one replaced before
 *   it was delivered (NATS does; see docs of `Backplane.watch`).
 */
import {
  type Backplane,
  BackplaneUnavailable,
  type BackplaneStatus,
  type KvChange,
  type KvEntry,
  KvConflict,
  type KvWatch,
} from './backplane.ts';

/** Keys as `nats.ts` takes them: dot-separated tokens of `[-/_=a-zA-Z0-9]`. */
const KEY = /^[-/_=a-zA-Z0-9]+(?:\.[-/_=a-zA-Z0-9]+)*$/;
/** A string prefix of keys: whole tokens, then maybe the start of one. */
const PREFIX = /^(?:[-/_=a-zA-Z0-9]+\.)*[-/_=a-zA-Z0-9]*$/;
const MAX_KEY = 512;
const NODE = /^[a-z0-9-]{1,64}$/;
/** `node` is the first token of the send subjects in `nats.ts`, so no channel may start with it. */
const CHANNEL = /^(?!node(?:\.|$))[a-z0-9]+(?:\.[a-z0-9]+)*$/;
const MAX_CHANNEL = 128;
const DEFAULT_MAX_FRAME = 1024 * 1024;
/** As in nats.ts: a KV write's headers take part of max_payload, so values get 1 KiB less than frames. */
const VALUE_HEADROOM = 1024;

export interface MemoryNetworkOptions {
  /** The largest frame (default 1 MiB, NATS's default max_payload); values get 1 KiB less. */
  maxFrame?: number;
}

/** A frame on its way, as `drop()` predicates see it. */
export interface MemoryFrame {
  from: string;
  to: string;
  /** undefined for `send`, the channel for `broadcast`. */
  channel: string | undefined;
  frame: Uint8Array;
}

interface Slot {
  /** undefined: deleted (a marker, as NATS keeps one). */
  value: Uint8Array | undefined;
  revision: number;
}

interface Queued {
  to: MemoryBackplane;
  frame: Uint8Array;
  channel: string | undefined;
  due: number;
}

interface Link {
  queue: Queued[];
  scheduled: boolean;
}

export class MemoryNetwork {
  readonly maxFrame: number;
  private readonly kv = new Map<string, Slot>();
  private lastRevision = 0;
  private readonly members = new Map<string, MemoryBackplane>();
  private readonly links = new Map<string, Link>();
  private readonly watches = new Set<MemoryWatch>();
  private readonly dropCounts = new Map<string, number>();
  private readonly dropRules = new Set<(frame: MemoryFrame) => boolean>();
  private sides: Map<string, 'a' | 'b'> | undefined;
  private minority: 'a' | 'b' = 'b';
  private frameDelay = 0;
  /** @internal read by watches */
  changeDelay = 0;
  private writeDelay = 0;
  /** @internal read by watches */
  coalesce = false;

  constructor(options: MemoryNetworkOptions = {}) {
    const maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    if (!Number.isSafeInteger(maxFrame) || maxFrame < 4096) throw new RangeError('maxFrame: an integer of at least 4096');
    this.maxFrame = maxFrame;
  }

  /** A node's backplane; throws if a backplane with that node ID is connected (not closed) already. */
  connect(node: string): Backplane {
    if (!NODE.test(node)) throw new TypeError(`memory backplane: bad node id ${JSON.stringify(node)}`);
    if (this.members.has(node)) throw new Error(`memory backplane: node ${node} is connected already`);
    const backplane = new MemoryBackplane(this, node);
    this.members.set(node, backplane);
    return backplane;
  }

  /** The highest revision written so far. */
  get revision(): number {
    return this.lastRevision;
  }

  /** IDs of the connected nodes. */
  nodes(): string[] {
    return [...this.members.keys()];
  }

  // ---- faults ----

  /**
   * Splits the listed nodes into two sides: frames between them are lost, and
   * the minority (the side with fewer nodes; ties: `b`) can neither read nor
   * write the KV, nor start a watch. Nodes in neither list are not affected.
   * Replaces an earlier partition.
   */
  partition(a: string[], b: string[]): void {
    const sides = new Map<string, 'a' | 'b'>();
    for (const node of a) sides.set(node, 'a');
    for (const node of b) {
      if (sides.get(node) === 'a') throw new Error(`memory backplane: ${node} is on both sides`);
      sides.set(node, 'b');
    }
    this.sides = sides;
    this.minority = a.length < b.length ? 'a' : 'b';
  }

  /** Ends a partition; held watch changes flow again. */
  heal(): void {
    this.sides = undefined;
    this.resumeWatches();
  }

  /** Loses the next `count` frames from `from` to `to` (sends and broadcasts). */
  dropFrames(from: string, to: string, count: number): void {
    if (!(count >= 1)) return;
    const key = linkKey(from, to);
    this.dropCounts.set(key, (this.dropCounts.get(key) ?? 0) + Math.floor(count));
  }

  /** Loses every frame the predicate accepts, until the returned function is called. */
  drop(predicate: (frame: MemoryFrame) => boolean): () => void {
    this.dropRules.add(predicate);
    return () => this.dropRules.delete(predicate);
  }

  /** Frames sent from now on arrive `ms` later (still in order per sender and receiver). */
  delay(ms: number): void {
    this.frameDelay = nonNegative(ms);
  }

  /** Watch changes arrive `ms` after the write. */
  watchDelay(ms: number): void {
    this.changeDelay = nonNegative(ms);
  }

  /** KV operations take effect, and answer, `ms` after the call. */
  kvDelay(ms: number): void {
    this.writeDelay = nonNegative(ms);
  }

  /** Watches skip a change of a key that a later change replaced before it was delivered (as NATS may). */
  skipSuperseded(on = true): void {
    this.coalesce = on;
  }

  /** Cuts one node off (frames lost both ways, KV unusable, watches held); its backplane reports 'disconnected'. */
  disconnect(node: string): void {
    this.member(node).setOnline(false);
  }

  /** Ends `disconnect(node)`: the backplane reports 'reconnected', then held watch changes arrive. */
  reconnect(node: string): void {
    this.member(node).setOnline(true);
    this.resumeWatches();
  }

  private member(node: string): MemoryBackplane {
    const backplane = this.members.get(node);
    if (!backplane) throw new Error(`memory backplane: node ${node} is not connected`);
    return backplane;
  }

  // ---- used by MemoryBackplane and MemoryWatch ----

  /** @internal Why `node` cannot use the KV now, or undefined. */
  kvRefusal(backplane: MemoryBackplane): string | undefined {
    if (backplane.closed) return `memory backplane: ${backplane.node} is closed`;
    if (!backplane.online) return `memory backplane: ${backplane.node} is disconnected`;
    if (this.sides?.get(backplane.node) === this.minority) return `memory backplane: ${backplane.node} is in a partition's minority`;
    return undefined;
  }

  /** @internal */
  async kvCall<T>(backplane: MemoryBackplane, operation: () => T): Promise<T> {
    if (this.writeDelay > 0) await sleep(this.writeDelay);
    const refusal = this.kvRefusal(backplane);
    if (refusal) throw new BackplaneUnavailable(refusal);
    return operation();
  }

  /** @internal */
  read(key: string): KvEntry | undefined {
    const slot = this.kv.get(key);
    return slot?.value ? { key, value: slot.value.slice(), revision: slot.revision } : undefined;
  }

  /** @internal The key's revision, a delete marker's included (0: never written). */
  revisionOf(key: string): number {
    return this.kv.get(key)?.revision ?? 0;
  }

  /** @internal */
  live(key: string): boolean {
    return this.kv.get(key)?.value !== undefined;
  }

  /** @internal Writes (or, with undefined, deletes) a key and tells the watches. */
  write(key: string, value: Uint8Array | undefined): number {
    const revision = ++this.lastRevision;
    const stored = value?.slice();
    this.kv.set(key, { value: stored, revision });
    const change: KvChange = { key, value: stored, revision };
    for (const watch of this.watches) if (key.startsWith(watch.prefix)) watch.push(change, false);
    return revision;
  }

  /** @internal Registers a watch and queues the current state under its prefix, in revision order. */
  addWatch(watch: MemoryWatch): void {
    const current: KvChange[] = [];
    for (const [key, slot] of this.kv) {
      if (slot.value && key.startsWith(watch.prefix)) current.push({ key, value: slot.value, revision: slot.revision });
    }
    current.sort((x, y) => x.revision - y.revision);
    for (const change of current) watch.push(change, true);
    this.watches.add(watch);
  }

  /** @internal */
  removeWatch(watch: MemoryWatch): void {
    this.watches.delete(watch);
  }

  /** @internal */
  left(backplane: MemoryBackplane): void {
    if (this.members.get(backplane.node) === backplane) this.members.delete(backplane.node);
  }

  /** @internal */
  send(from: MemoryBackplane, to: string, frame: Uint8Array): void {
    const receiver = this.members.get(to);
    if (receiver && receiver !== from) this.enqueue(from.node, receiver, frame, undefined);
  }

  /** @internal */
  broadcast(from: MemoryBackplane, channel: string, frame: Uint8Array): void {
    for (const receiver of this.members.values()) {
      if (receiver !== from && receiver.listens(channel)) this.enqueue(from.node, receiver, frame, channel);
    }
  }

  private enqueue(from: string, to: MemoryBackplane, frame: Uint8Array, channel: string | undefined): void {
    if (!this.reachable(from, to.node) || this.dropped({ from, to: to.node, channel, frame })) return;
    const key = linkKey(from, to.node);
    let link = this.links.get(key);
    if (!link) this.links.set(key, (link = { queue: [], scheduled: false }));
    // A copy: the sender may reuse its buffer, as it may after a socket write.
    link.queue.push({ to, frame: frame.slice(), channel, due: Date.now() + this.frameDelay });
    this.schedule(from, key, link);
  }

  private dropped(frame: MemoryFrame): boolean {
    const key = linkKey(frame.from, frame.to);
    const count = this.dropCounts.get(key);
    if (count !== undefined) {
      if (count <= 1) this.dropCounts.delete(key);
      else this.dropCounts.set(key, count - 1);
      return true;
    }
    for (const rule of this.dropRules) if (rule(frame)) return true;
    return false;
  }

  private schedule(from: string, key: string, link: Link): void {
    if (link.scheduled || link.queue.length === 0) return;
    link.scheduled = true;
    const wait = link.queue[0].due - Date.now();
    const run = () => this.flush(from, key, link);
    if (wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  /** Delivers what is due on one link, in order; what handlers send meanwhile waits for the next turn. */
  private flush(from: string, key: string, link: Link): void {
    link.scheduled = false;
    const now = Date.now();
    let n = 0;
    const limit = link.queue.length;
    while (n < limit && link.queue[n].due <= now) {
      const { to, frame, channel } = link.queue[n++];
      if (!to.closed && this.reachable(from, to.node)) to.deliver(frame, channel);
    }
    link.queue.splice(0, n);
    if (link.queue.length === 0) this.links.delete(key);
    else this.schedule(from, key, link);
  }

  private reachable(from: string, to: string): boolean {
    if (this.members.get(from)?.online === false || this.members.get(to)?.online === false) return false;
    const a = this.sides?.get(from);
    const b = this.sides?.get(to);
    return a === undefined || b === undefined || a === b;
  }

  private resumeWatches(): void {
    for (const watch of this.watches) watch.kick();
  }
}

class MemoryBackplane implements Backplane {
  readonly maxFrame: number;
  closed = false;
  online = true;
  private readonly channels = new Set<string>();
  private readonly myWatches = new Set<MemoryWatch>();
  private frameHandler: ((frame: Uint8Array, channel: string | undefined) => void) | undefined;
  private statusHandler: ((status: BackplaneStatus) => void) | undefined;

  constructor(
    private readonly network: MemoryNetwork,
    readonly node: string,
  ) {
    this.maxFrame = network.maxFrame;
  }

  get(key: string): Promise<KvEntry | undefined> {
    return this.kv(key, null, undefined, () => this.network.read(key));
  }

  create(key: string, value: Uint8Array): Promise<number> {
    return this.kv(key, value, undefined, () => {
      if (this.network.live(key)) throw new KvConflict(key, this.network.revisionOf(key));
      return this.network.write(key, value);
    });
  }

  update(key: string, value: Uint8Array, revision: number): Promise<number> {
    return this.kv(key, value, revision, () => {
      const current = this.network.revisionOf(key);
      if (current !== revision) throw new KvConflict(key, current);
      return this.network.write(key, value);
    });
  }

  async delete(key: string, revision?: number): Promise<void> {
    await this.kv(key, null, revision, () => {
      const current = this.network.revisionOf(key);
      if (revision !== undefined && current !== revision) throw new KvConflict(key, current);
      this.network.write(key, undefined);
    });
  }

  put(key: string, value: Uint8Array): Promise<number> {
    return this.kv(key, value, undefined, () => this.network.write(key, value));
  }

  async watch(prefix: string, onChange: (change: KvChange) => void): Promise<KvWatch> {
    if (typeof prefix !== 'string' || prefix.length > MAX_KEY || !PREFIX.test(prefix)) throw new TypeError('kv: bad watch prefix');
    const refusal = this.network.kvRefusal(this);
    if (refusal) throw new BackplaneUnavailable(refusal);
    const watch = new MemoryWatch(this.network, this, prefix, onChange);
    this.myWatches.add(watch);
    await watch.started;
    return { stop: () => this.unwatch(watch) };
  }

  send(node: string, frame: Uint8Array): void {
    if (!NODE.test(node)) throw new TypeError(`send: bad node id ${JSON.stringify(node)}`);
    this.checkFrame(frame);
    if (!this.closed) this.network.send(this, node, frame);
  }

  broadcast(channel: string, frame: Uint8Array): void {
    checkChannel(channel);
    this.checkFrame(frame);
    if (!this.closed) this.network.broadcast(this, channel, frame);
  }

  listen(channel: string): void {
    checkChannel(channel);
    if (!this.closed) this.channels.add(channel);
  }

  onFrame(handler: (frame: Uint8Array, channel: string | undefined) => void): void {
    this.frameHandler = handler;
  }

  onStatus(handler: (status: BackplaneStatus) => void): void {
    this.statusHandler = handler;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    for (const watch of this.myWatches) this.unwatch(watch);
    this.network.left(this);
    // Frames already sent stay queued and arrive: close flushes, as NATS's drain does.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  // ---- used by MemoryNetwork and MemoryWatch ----

  listens(channel: string): boolean {
    return this.channels.has(channel);
  }

  deliver(frame: Uint8Array, channel: string | undefined): void {
    const handler = this.frameHandler;
    if (handler) callHandler(() => handler(frame, channel));
  }

  setOnline(online: boolean): void {
    if (this.online === online) return;
    this.online = online;
    const status: BackplaneStatus = online ? 'reconnected' : 'disconnected';
    const handler = this.statusHandler;
    if (handler) setImmediate(() => callHandler(() => handler(status)));
  }

  private unwatch(watch: MemoryWatch): void {
    this.myWatches.delete(watch);
    watch.stop();
  }

  /** Checks the arguments (`value` null: the operation takes none), then runs `operation` on the network. */
  private kv<T>(key: string, value: Uint8Array | null, revision: number | undefined, operation: () => T): Promise<T> {
    try {
      checkKey(key);
      if (value !== null) this.checkValue(value);
      if (revision !== undefined) checkRevision(revision);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.network.kvCall(this, operation);
  }

  private checkFrame(frame: Uint8Array): void {
    if (!(frame instanceof Uint8Array)) throw new TypeError('frame: a Uint8Array');
    if (frame.length > this.maxFrame) throw new RangeError(`frame: ${frame.length} bytes, over maxFrame ${this.maxFrame}`);
  }

  private checkValue(value: Uint8Array): void {
    if (!(value instanceof Uint8Array)) throw new TypeError('kv: a value is a Uint8Array');
    if (value.length > this.maxFrame - VALUE_HEADROOM) throw new RangeError(`kv: a value of ${value.length} bytes, over maxFrame - 1 KiB`);
  }
}

/** One watch: a queue of changes delivered asynchronously, held while its node cannot reach the KV. */
class MemoryWatch {
  private readonly queue: { change: KvChange; initial: boolean }[] = [];
  private initialLeft = 0;
  private scheduled = false;
  private stopped = false;
  private resolveStarted!: () => void;
  readonly started = new Promise<void>((resolve) => (this.resolveStarted = resolve));

  constructor(
    private readonly network: MemoryNetwork,
    private readonly owner: MemoryBackplane,
    readonly prefix: string,
    private readonly onChange: (change: KvChange) => void,
  ) {
    network.addWatch(this);
    if (this.initialLeft === 0) setImmediate(this.resolveStarted);
  }

  push(change: KvChange, initial: boolean): void {
    if (this.stopped) return;
    if (initial) this.initialLeft++;
    else if (this.network.coalesce) {
      // Only a change no earlier than the initial state may be skipped: `started` promises that state.
      const i = this.queue.findIndex((queued) => !queued.initial && queued.change.key === change.key);
      if (i >= 0) this.queue.splice(i, 1);
    }
    this.queue.push({ change, initial });
    this.kick();
  }

  kick(): void {
    if (this.scheduled || this.stopped || this.queue.length === 0) return;
    this.scheduled = true;
    const delay = this.network.changeDelay;
    if (delay > 0) setTimeout(this.flush, delay);
    else setImmediate(this.flush);
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.network.removeWatch(this);
    this.resolveStarted();
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.network.kvRefusal(this.owner)) return; // held; kicked again on reconnect or heal
    const batch = this.queue.splice(0, this.queue.length);
    for (const { change, initial } of batch) {
      if (this.stopped) return;
      const value = change.value?.slice();
      callHandler(() => this.onChange({ key: change.key, value, revision: change.revision }));
      if (initial && --this.initialLeft === 0) this.resolveStarted();
    }
  };
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length > MAX_KEY || !KEY.test(key)) throw new TypeError(`kv: bad key ${JSON.stringify(key)}`);
}

function checkRevision(revision: number): void {
  if (!Number.isSafeInteger(revision) || revision <= 0) throw new RangeError(`kv: bad revision ${revision}`);
}

function checkChannel(channel: string): void {
  if (typeof channel !== 'string' || channel.length > MAX_CHANNEL || !CHANNEL.test(channel)) {
    throw new TypeError(`bad channel ${JSON.stringify(channel)}`);
  }
}

function linkKey(from: string, to: string): string {
  return `${from} ${to}`;
}

function nonNegative(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A handler's exception is its owner's bug: surface it as uncaught, but keep delivering to the others. */
function callHandler(call: () => void): void {
  try {
    call();
  } catch (err) {
    setImmediate(() => {
      throw err;
    });
  }
}
