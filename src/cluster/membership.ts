/**
 * Which nodes are alive: every node broadcasts a heartbeat every `heartbeat`
 * ms; a node not heard from for `deadAfter` ms is dead, and a BYE is death at
 * once. A node that was declared dead and speaks again (it was frozen, or cut
 * off) is told so (FENCE) and its frames are dropped until it comes back
 * under a new incarnation: fencing follows that evidence, never a guess from
 * its own clock (after a NATS outage of the whole cluster nobody was
 * declared dead, and nobody fences). While a node's own backplane connection
 * is down, or its own timers ran late, it declares nobody dead.
 */
import { randomId } from '../wamp/ids.ts';
import type { Backplane } from './backplane.ts';
import { F, encodeFrame } from './frames.ts';

export const HB_CHANNEL = 'hb';

export interface MembershipEvents {
  /** A node (or a new incarnation of it) was heard from for the first time. */
  alive(node: string, incarnation: number): void;
  /** A node is dead: everything of `incarnation` goes. */
  dead(node: string, incarnation: number): void;
  /** This node was declared dead by its peers: it must start again under `incarnation`. */
  fenced(incarnation: number): void;
  /** A node this one declared dead speaks again, and the cluster never recorded its death: alive after all. */
  revived(node: string, incarnation: number): void;
}

/**
 * After this node's own backplane connection comes back, how long its peers
 * get to come back too before silence counts again: after an outage of the
 * NATS server every node reconnects at its own moment.
 */
const RECONNECT_GRACE_MS = 2000;

interface Peer {
  incarnation: number;
  lastHeard: number;
}

export class Membership {
  incarnation = randomId();
  private readonly peers = new Map<string, Peer>();
  /** Every node heard from since start: only the others are judged by the registry sweep. */
  private readonly heardOf = new Set<string>();
  /** Incarnations declared dead, by node: their frames are dropped. */
  private readonly dead = new Map<string, Set<number>>();
  private timer: NodeJS.Timeout | undefined;
  private lastTick = 0;
  private lastBeat = 0;
  /** When the backplane connection was lost (undefined: connected): silence is then ours, not the others'. */
  private disconnectedAt: number | undefined;

  constructor(
    private readonly backplane: Backplane,
    private readonly o: {
      heartbeat: number;
      deadAfter: number;
      now?: () => number;
      /**
       * Whether the cluster recorded `node`'s death (the cleanup leader's
       * `dead.<node>.<incarnation>` key). Only then is a node that speaks
       * again fenced: in a partition both sides declare the other dead, but
       * only the side with a working registry records it.
       */
      confirmedDead: (node: string, incarnation: number) => boolean;
    },
    private readonly events: MembershipEvents,
  ) {}

  private now(): number {
    return this.o.now?.() ?? performance.now();
  }

  start(): void {
    this.backplane.listen(HB_CHANNEL);
    this.lastTick = this.now();
    this.lastBeat = this.lastTick;
    this.beat();
    this.timer = setInterval(() => this.tick(), this.checkEvery);
    this.timer.unref();
  }

  /**
   * How often silence is judged: a tenth of dead_after (at most a heartbeat),
   * so a death is declared within dead_after + that, not dead_after + a
   * whole heartbeat (2 s at the defaults: the limit the cluster promises).
   */
  private get checkEvery(): number {
    return Math.max(10, Math.min(this.o.heartbeat, Math.floor(this.o.deadAfter / 10)));
  }

  /** Stops beating; with `bye`, tells the others this node is gone (a clean exit). */
  stop(bye: boolean): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (bye) this.backplane.broadcast(HB_CHANNEL, encodeFrame(F.BYE, this.backplane.node, this.incarnation, '', []));
  }

  /** Live nodes other than this one. */
  live(): string[] {
    return [...this.peers.keys()];
  }

  /** Whether this node declared that incarnation of `node` dead (and has not taken it back). */
  isDeclaredDead(node: string, incarnation: number): boolean {
    return this.dead.get(node)?.has(incarnation) === true;
  }

  /** A node the registry names but this one never heard (it crashed while nobody watched): dead now. */
  declareGone(node: string, incarnation: number): void {
    if (this.peers.get(node)?.incarnation === incarnation) return;
    this.markDead(node, incarnation);
  }

  /** Whether this node ever heard `node` (any incarnation) since it started. */
  hasHeard(node: string): boolean {
    return this.heardOf.has(node);
  }

  /** This node does the cleanup for the cluster: the lowest ID among the live ones. */
  isLeader(): boolean {
    const self = this.backplane.node;
    for (const node of this.peers.keys()) if (node < self) return false;
    return true;
  }

  /**
   * Every frame from another node passes here first. False: drop it (a dead
   * incarnation; that node is told it was fenced).
   */
  heard(node: string, incarnation: number, type: F): boolean {
    if (node === this.backplane.node) return false;
    if (type === F.FENCE) {
      if (incarnation !== 0 && incarnation === this.incarnation) this.fence();
      return false;
    }
    const declared = this.dead.get(node);
    if (declared?.has(incarnation)) {
      if (this.o.confirmedDead(node, incarnation)) {
        this.backplane.send(node, encodeFrame(F.FENCE, this.backplane.node, incarnation, '', []));
        return false;
      }
      // Only this node thought it dead (it was the one cut off, or the leader could not record it).
      declared.delete(incarnation);
      this.events.revived(node, incarnation);
    }
    this.heardOf.add(node);
    const peer = this.peers.get(node);
    if (type === F.BYE) {
      if (peer?.incarnation === incarnation) this.declareDead(node, peer);
      return false;
    }
    if (peer && peer.incarnation !== incarnation) this.declareDead(node, peer); // it restarted
    if (!peer || peer.incarnation !== incarnation) {
      this.peers.set(node, { incarnation, lastHeard: this.now() });
      this.events.alive(node, incarnation);
    } else peer.lastHeard = this.now();
    return type !== F.HB;
  }

  /** The backplane connection changed. While it is down nobody is declared dead: the silence is ours. */
  connection(status: 'disconnected' | 'reconnected'): void {
    const now = this.now();
    if (status === 'disconnected') {
      this.disconnectedAt ??= now;
      return;
    }
    this.disconnectedAt = undefined;
    for (const peer of this.peers.values()) peer.lastHeard = now + RECONNECT_GRACE_MS;
  }

  private beat(): void {
    this.backplane.broadcast(HB_CHANNEL, encodeFrame(F.HB, this.backplane.node, this.incarnation, '', []));
  }

  private tick(): void {
    const now = this.now();
    const late = now - this.lastTick - this.checkEvery;
    this.lastTick = now;
    if (now - this.lastBeat >= this.o.heartbeat - this.checkEvery / 2) {
      this.lastBeat = now;
      this.beat();
    }
    if (this.disconnectedAt !== undefined) return;
    // Our own timer ran late (frozen, a long pause): what we did not hear may be our fault; judge at the next tick.
    // If the pause was longer than dead_after, the peers' FENCE answers our next heartbeat.
    if (late > this.o.heartbeat) {
      for (const peer of this.peers.values()) peer.lastHeard = Math.max(peer.lastHeard, now - this.o.heartbeat);
      return;
    }
    for (const [node, peer] of this.peers) if (now - peer.lastHeard > this.o.deadAfter) this.declareDead(node, peer);
  }

  private declareDead(node: string, peer: Peer): void {
    if (this.peers.get(node) !== peer) return;
    this.peers.delete(node);
    this.markDead(node, peer.incarnation);
  }

  private markDead(node: string, incarnation: number): void {
    let incarnations = this.dead.get(node);
    if (!incarnations) this.dead.set(node, (incarnations = new Set()));
    incarnations.add(incarnation);
    if (incarnations.size > 64) incarnations.delete(incarnations.values().next().value!);
    this.events.dead(node, incarnation);
  }

  /** The cluster recorded this node's death (its `dead.<node>.<incarnation>` key): start again. */
  fenceIf(incarnation: number): void {
    if (incarnation === this.incarnation) this.fence();
  }

  private fence(): void {
    this.incarnation = randomId();
    const now = this.now();
    for (const peer of this.peers.values()) peer.lastHeard = now;
    // Whom this node declared dead while it was cut off is forgotten: it starts again from the registry.
    this.dead.clear();
    this.events.fenced(this.incarnation);
    this.beat();
  }
}
