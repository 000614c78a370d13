/**
 * Proxy sessions: how a session of another node looks to this node's core.
 * A proxy is a real `Session` (marked `remote`), so matching, policies,
 * queues, cancel, timeouts and the meta API work on it unchanged; its peer
 * turns what the core sends it into frames for the node the session lives on.
 *
 * - `session`: a client session of another node (a callee, a subscriber, a
 *   target of kill or revoke). INVOCATION becomes INV (CHUNK for a later
 *   chunk of the same call), INTERRUPT becomes INT, GOODBYE (a kill) KILL,
 *   and a revocation's UNREGISTERED / UNSUBSCRIBED a REVOKE. EVENTs are
 *   dropped: its own node delivers the publication.
 * - `callers`: every caller of another node whose calls reach this node's
 *   callees. RESULT becomes RES and ERROR becomes ERR, to that node.
 * - `publishers`: the publisher of a publication from another node; it is
 *   sent nothing.
 */
import { MessageType as T } from '../wamp/codes.ts';
import type { Dict, Outbound } from '../wamp/messages.ts';
import type { Peer, TransportInfo } from '../core/peer.ts';
import type { Session } from '../core/session.ts';
import { F, payloadField } from './frames.ts';

export type ProxyKind = 'session' | 'callers' | 'publishers';

/** What a proxy's peer needs of the cluster. */
export interface FrameSink {
  /** Sends a frame of `realm` to `node`. */
  sendTo(node: string, realm: string, type: F, body: unknown[]): void;
  /** A call to the proxy `session` went out as INV `cid`. */
  invoked(cid: number, session: Session): void;
  /** INV `cid` was sent before (the next message for it is a chunk). */
  isInvoked(cid: number): boolean;
  /** The call `cid` is over on this side (killnowait): later frames for it are dropped. */
  forget(cid: number): void;
}

export class RemotePeer implements Peer {
  /** Set once the proxy session exists (it is made with this peer). */
  session: Session | undefined;

  constructor(
    private readonly sink: FrameSink,
    readonly kind: ProxyKind,
    readonly node: string,
    readonly realm: string,
    readonly info: TransportInfo,
  ) {}

  send(message: Outbound): void {
    if (this.kind === 'session') this.toSession(message);
    else if (this.kind === 'callers') this.toCallers(message);
  }

  close(): void {}

  private toSession(m: Outbound): void {
    const session = this.session!;
    switch (m[0]) {
      case T.INVOCATION: {
        const cid = m[1] as number;
        if (this.sink.isInvoked(cid)) return this.frame(F.CHUNK, [cid, m[3], payloadField(m, 4)]);
        this.sink.invoked(cid, session);
        return this.frame(F.INV, [cid, session.id, m[2], m[3], payloadField(m, 4)]);
      }
      case T.INTERRUPT: {
        const mode = (m[2] as Dict).mode;
        if (mode === 'killnowait') this.sink.forget(m[1] as number);
        return this.frame(F.INT, [m[1], mode]);
      }
      case T.GOODBYE:
        return this.frame(F.KILL, [session.id, m[2], (m[1] as Dict).message ?? null]);
      case T.UNREGISTERED:
        if (m[1] === 0) this.frame(F.REVOKE_REG, [session.id, (m[2] as Dict).registration, (m[2] as Dict).reason ?? null]);
        return;
      case T.UNSUBSCRIBED:
        if (m[1] === 0) this.frame(F.REVOKE_SUB, [session.id, (m[2] as Dict).subscription, (m[2] as Dict).reason ?? null]);
        return;
    }
  }

  private toCallers(m: Outbound): void {
    if (m[0] === T.RESULT) return this.frame(F.RES, [m[1], m[2], payloadField(m, 3)]);
    if (m[0] === T.ERROR && m[1] === T.CALL) return this.frame(F.ERR, [m[2], m[3], m[4], payloadField(m, 5)]);
  }

  private frame(type: F, body: unknown[]): void {
    this.sink.sendTo(this.node, this.realm, type, body);
  }
}
