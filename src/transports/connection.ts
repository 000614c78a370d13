/**
 * What every transport shares: one client connection becomes one `Peer` of
 * the router. A transport (WebSocket, RawSocket) only frames bytes; this
 * module does the rest, the same way for all of them:
 *
 * - inbound: decode one message (undecodable -> `router.undecodable`, which
 *   answers ABORT wamp.error.protocol_violation) and hand it to `router.receive`;
 * - outbound: encode through a per-serializer cache, so a fanned-out EVENT is
 *   encoded once per serializer, not once per subscriber;
 * - a client that does not read (send buffer over `maxSendBuffer`) is cut off
 *   with `kreuz.error.slow_consumer` rather than let memory grow;
 * - a client that announced the largest message it accepts (RawSocket does)
 *   never gets a larger one: see `Connection.oversize` for what it gets instead;
 * - failures (`fail`) tell the router first, then close the wire.
 *
 * A transport implements `Wire` for its connection and calls `received`,
 * `fail` and `lost`.
 */
import type { Outbound } from '../wamp/messages.ts';
import { MessageType as T, messageName } from '../wamp/codes.ts';
import { ErrorUri, KreuzUri } from '../wamp/uris.ts';
import type { Peer, TransportInfo } from '../core/peer.ts';
import type { Router } from '../core/router.ts';
import type { Session } from '../core/session.ts';
import type { TransportAuth } from '../core/authentication.ts';
import { SerializationError, type Encoded, type Serializer } from '../serializers/serializer.ts';

/**
 * Why a wire is closed; each transport maps it to its own close (WebSocket
 * close codes, or a TCP end / reset for RawSocket).
 * - `normal`: the router closes the session's transport (after ABORT or GOODBYE): flush, then close.
 * - `protocol-error`: the client broke the transport's framing rules: flush the ABORT, then close.
 * - `too-big`: a message over a size limit: flush the ABORT, then close.
 * - `slow-consumer`: the client does not read: drop at once (a close would wait behind the backlog).
 * - `unresponsive`: the client stopped answering pings: drop at once.
 */
export type CloseKind = 'normal' | 'protocol-error' | 'too-big' | 'slow-consumer' | 'unresponsive';

/** One client connection as a transport sees it. */
export interface Wire {
  /** False once the connection is closing or closed: nothing more is written. */
  readonly writable: boolean;
  /** Bytes written but not yet taken by the OS. */
  readonly bufferedAmount: number;
  /** Writes one encoded message (as returned by the connection's encoder): Pieces go out back to back as one message. */
  write(data: Encoded): void;
  close(kind: CloseKind, text: string): void;
}

/** Turns a message into the bytes a wire writes; remembers the last message so fan-out encodes once. */
export interface MessageEncoder {
  encode(message: unknown[]): Encoded;
}

export interface ConnectionOptions {
  serializer: Serializer;
  encoder: MessageEncoder;
  info: TransportInfo;
  /** Bytes that may wait in the send buffer before the client is cut off as too slow. */
  maxSendBuffer: number;
  /** Authentication methods offered on this transport; none: anonymous only (the core's default). */
  auth?: TransportAuth;
  /**
   * The largest message the client said it accepts (RawSocket handshake), and
   * how to measure an encoded message's payload. None: no limit (WebSocket).
   */
  clientLimit?: { bytes: number; payloadSize(data: Encoded): number };
}

/** A client connection attached to the router: the router's `Peer`, the transport's handle. */
export class Connection implements Peer {
  readonly info: TransportInfo;
  readonly session: Session;
  /** Nothing more is written (slow consumer, or the connection failed). */
  private cutOff = false;
  /** Inside `fail`: the ABORT being sent must not fail the connection again. */
  private failing = false;

  constructor(
    private readonly router: Router,
    private readonly wire: Wire,
    private readonly options: ConnectionOptions,
  ) {
    this.info = options.info;
    this.session = router.connect(this, options.auth);
  }

  // --- Peer (called by the core) ---

  send(message: Outbound): void {
    const wire = this.wire;
    if (this.cutOff || !wire.writable) return;
    let data: Encoded;
    try {
      data = this.options.encoder.encode(message);
    } catch (err) {
      // A value this client's serializer cannot express fails this one delivery, nothing else.
      if (!(err instanceof SerializationError)) throw err;
      return this.undeliverable(
        message,
        ErrorUri.INVALID_PAYLOAD,
        `${this.options.serializer.name} cannot encode ${messageName(message[0])}: ${err.message}`,
      );
    }
    const limit = this.options.clientLimit;
    if (limit) {
      const size = limit.payloadSize(data);
      if (size > limit.bytes) {
        const text = `${messageName(message[0])} of ${size} bytes is over the client's limit of ${limit.bytes} bytes`;
        return this.undeliverable(message, ErrorUri.PAYLOAD_SIZE_EXCEEDED, text);
      }
    }
    this.write(data);
  }

  /** Writes bytes the transport itself answers with (e.g. a RawSocket PONG), under the same send-buffer limit. */
  writeControl(data: Buffer): void {
    if (!this.cutOff && this.wire.writable) this.write(data);
  }

  private write(data: Encoded): void {
    const wire = this.wire;
    wire.write(data);
    if (wire.bufferedAmount > this.options.maxSendBuffer) {
      const text = `send buffer over ${this.options.maxSendBuffer} bytes: the client does not keep up`;
      this.fail(KreuzUri.SLOW_CONSUMER, text, 'slow-consumer');
    }
  }

  close(reason: string): void {
    this.wire.close('normal', reason);
  }

  // --- called by the transport ---

  /**
   * One complete message from the client, still encoded. This is the
   * containment boundary: whatever handling the message throws ends this
   * session only (ABORT protocol_violation), never the process.
   */
  received(data: Buffer | string): void {
    let message: unknown;
    try {
      message = this.options.serializer.decodeRouted(data, this.router.maxDepth);
    } catch (err) {
      if (!(err instanceof SerializationError)) return this.router.failed(this.session, err);
      return this.router.undecodable(this.session, err.message);
    }
    // Text length stands in for bytes: exact for ASCII, and never more than 3x off.
    this.session.inboundBytes = data.length;
    this.handle(message);
  }

  private handle(message: unknown): void {
    try {
      this.router.receive(this.session, message);
    } catch (err) {
      this.router.failed(this.session, err);
    }
  }

  /**
   * The transport fails the connection: the router sends ABORT `reason`
   * (unless the client is too slow to read it) and drops the session; then the wire closes.
   */
  fail(reason: string, text: string, kind: CloseKind): void {
    if (this.cutOff || this.failing) return;
    this.failing = true;
    // A slow consumer would get the ABORT only behind the backlog it does not read.
    if (kind === 'slow-consumer' || kind === 'unresponsive') this.cutOff = true;
    try {
      this.router.transportFailed(this.session, reason, text);
    } catch (err) {
      this.router.failed(this.session, err);
    }
    this.cutOff = true;
    this.wire.close(kind, text);
  }

  /** The connection is gone (closed by either side, or lost). */
  lost(): void {
    this.cutOff = true;
    try {
      this.router.transportClosed(this.session);
    } catch (err) {
      this.router.failed(this.session, err);
    }
  }

  /**
   * A message this client cannot take (larger than it accepts, or a value its
   * serializer cannot express) is never sent. Instead, as Crossbar does for
   * oversized events and results:
   * - EVENT: not delivered to this subscriber (counted);
   * - RESULT or ERROR (the answer to this client's request): an ERROR `uri`
   *   for the same request;
   * - INVOCATION: this callee answers, in effect, with that ERROR, so the
   *   caller learns at once and the callee stays connected;
   * - anything else (e.g. WELCOME): the connection fails with that reason.
   */
  private undeliverable(message: Outbound, uri: string, text: string): void {
    if (this.failing) return;
    this.router.undeliverable(this.session, message[0], text);
    switch (message[0]) {
      case T.EVENT:
        return;
      case T.RESULT:
        return this.sendReplacement([T.ERROR, T.CALL, message[1], {}, uri, [text]], uri, text);
      case T.ERROR:
        return this.sendReplacement([T.ERROR, message[1], message[2], {}, uri, [text]], uri, text);
      case T.INVOCATION: {
        const reply = [T.ERROR, T.INVOCATION, message[1], {}, uri, [`callee: ${text}`]];
        // Not from inside the dealer's own send: the router sees it as the callee's next message.
        queueMicrotask(() => this.handle(reply));
        return;
      }
      default:
        return this.fail(uri, text, uri === ErrorUri.PAYLOAD_SIZE_EXCEEDED ? 'too-big' : 'protocol-error');
    }
  }

  private sendReplacement(replacement: Outbound, uri: string, text: string): void {
    const limit = this.options.clientLimit;
    const data = this.options.encoder.encode(replacement);
    if (limit && limit.payloadSize(data) > limit.bytes) return this.fail(uri, text, 'too-big');
    this.write(data);
  }
}
