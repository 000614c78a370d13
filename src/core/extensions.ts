/**
 * What a host plugs into the Router (`router.use(extension)`): the node's
 * metrics, and later a cluster backplane. The core calls these at fixed
 * points and never depends on what they do; without extensions each point
 * costs an empty loop.
 */
import type { Call, Publish, Register, Subscribe } from '../wamp/messages.ts';
import type { RealmEvents } from './hooks.ts';
import type { Peer } from './peer.ts';
import type { Session } from './session.ts';

/** The messages the router authorizes: REGISTER, CALL (a new call, not a further chunk), SUBSCRIBE, PUBLISH. */
export type GuardedMessage = Register | Call | Subscribe | Publish;

/** A gate's refusal: the message is answered with ERROR `error` and `args` (an unacknowledged PUBLISH gets no answer). */
export interface Refusal {
  error: string;
  args?: unknown[];
}

/** What a gate decides: nothing (undefined) lets the message through. */
export type GateVerdict = Refusal | undefined;

export interface RouterExtension {
  /**
   * Wraps the peer of each connection the router is handed (`connect`), to
   * see what is sent to it. The router keeps and sends to what this returns.
   */
  wrapPeer?(peer: Peer): Peer;
  /**
   * Each message a client session sends, as the transport hands it over and
   * before any check (once: messages held for a gate or an authorizer are
   * not seen again when released). A tap: it must neither change nor answer
   * the message. The router's own sessions are not tapped.
   */
  inbound?(session: Session, message: unknown): void;
  /**
   * Runs after authorization allowed a message of a client session, before
   * the dealer or broker acts on it. A Promise holds the session's later
   * messages until it settles (`session.backlog`), so their order is kept.
   * A gate that throws or rejects refuses the message as a failed authorization.
   */
  gate?(session: Session, message: GuardedMessage): GateVerdict | Promise<GateVerdict>;
  /** Listeners of every realm's events (a plain object of functions). */
  events?: Partial<RealmEvents>;
}
