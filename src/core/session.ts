import { clientHasFeature, type ClientRole } from '../wamp/features.ts';
import { IdSequence } from '../wamp/ids.ts';
import type { Dict, Outbound } from '../wamp/messages.ts';
import type { Peer } from './peer.ts';
import type { RateLimiter } from './limits.ts';
import type { TransportAuth } from './authentication.ts';
import type { Realm } from './realm.ts';
import type { Invocation } from './invocation.ts';
import type { Registration } from './registration.ts';
import type { Subscription } from './subscription.ts';

/**
 * - `opening`: waiting for HELLO (also again after a GOODBYE handshake: a
 *   transport may carry several sessions one after the other).
 * - `authenticating`: HELLO received, a CHALLENGE or an authenticator's answer is pending.
 * - `joined`: WELCOME sent.
 * - `closing`: the router sent GOODBYE and waits for the client's reply.
 * - `closed`: the transport is gone; nothing more is sent.
 */
export type SessionState = 'opening' | 'authenticating' | 'joined' | 'closing' | 'closed';

/** One client connection and, once joined, its WAMP session and everything it holds. */
export class Session {
  state: SessionState = 'opening';
  /** One of the router's own in-process sessions (meta API): hidden from session lists and events. */
  internal = false;
  /**
   * A session of another node of the cluster, as this node sees it (src/cluster/):
   * its peer turns what the core sends into frames to that node. Never handed
   * to `router.receive`: its own node checked and authorized its messages.
   */
  remote: { readonly node: string } | undefined;
  /** False when the meta API's kill_all ends it: the spec publishes no on_leave or testaments then. */
  announceLeave = true;
  /** WAMP session ID; 0 until joined. */
  id = 0;
  realm: Realm | undefined;
  authid = '';
  authrole = '';
  authmethod = '';
  authprovider = '';
  /** HELLO.Details.roles, to know which features the client announced. */
  clientRoles: Dict = {};
  /** Authentication in progress: the method's check of the next AUTHENTICATE, and which attempt it belongs to. */
  pendingAuth: { realm: Realm; method: string; attempt: number; verify?: (signature: string, extra: Dict) => unknown } | undefined;
  authAttempt = 0;
  authextra: Dict | undefined;
  /**
   * Messages held while an asynchronous decision (a dynamic authorizer, a
   * router extension's gate) is pending, so the session's messages are
   * handled in the order sent.
   */
  backlog: unknown[] | undefined;
  /** Asynchronous decisions (authorizers, gates) holding the backlog; it is released when the last one settles. */
  holds = 0;
  /**
   * Wire size of the message being handled (set by the transport edge before
   * each message; 0 for in-process sessions): what stored copies of it cost.
   */
  inboundBytes = 0;
  /** Counted among the router's connections that have not joined yet. */
  unjoined = false;
  /** The opening handshake deadline's timer, until the session joins or goes. */
  openingTimer: unknown;
  /** Its message rate limiter, made on its first message. */
  rate: RateLimiter | undefined;
  /** Messages received from the client (counted by the node API's inbound tap) and sent to it. */
  messagesIn = 0;
  messagesOut = 0;
  /** When it joined (ms since the epoch; set by the node API's join listener), 0 if unknown. */
  joinedAt = 0;

  // Dealer state, kept here so a leaving session can be cleaned up in one pass.
  readonly registrations = new Set<Registration>();
  /** As callee: invocations in flight, by INVOCATION request ID. */
  readonly invocations = new Map<number, Invocation>();
  /** As caller: calls in flight, by CALL request ID. */
  readonly calls = new Map<number, Invocation>();
  /** INVOCATION request IDs are sequential per callee (WAMP: session scope); a cluster's proxies of one node share one. */
  invocationIds = new IdSequence();
  /**
   * Request IDs of progressive call invocations that ended while the caller
   * could still send chunks: late chunks are ignored (WAMP MUST) until the
   * caller's final chunk. They count against its calls in flight, which bounds them.
   */
  readonly finishedProgressiveCalls = new Set<number>();
  /** As caller: calls canceled with skip (or timed out that way) whose callee has not answered yet. */
  readonly abandonedCalls = new Set<Invocation>();

  // Broker state.
  readonly subscriptions = new Set<Subscription>();

  constructor(
    readonly peer: Peer,
    /** The authentication methods of the transport it came through; none: anonymous only. */
    readonly auth?: TransportAuth,
  ) {}

  send(message: Outbound): void {
    if (this.state === 'closed') return;
    this.messagesOut++;
    this.peer.send(message);
  }

  supports(role: ClientRole, feature: string): boolean {
    return clientHasFeature(this.clientRoles, role, feature);
  }

  /** Fields that identify the session in log lines. */
  get logFields(): { realm?: string; session: number } {
    return { realm: this.realm?.name, session: this.id };
  }
}
