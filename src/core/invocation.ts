import type { Call, Dict } from '../wamp/messages.ts';
import type { Callee, Registration } from './registration.ts';
import type { Session } from './session.ts';

/**
 * One call from CALL to its final RESULT or ERROR. It is queued (no callee
 * yet) while every eligible callee is at its concurrency limit.
 */
export class Invocation {
  /** INVOCATION request ID, scoped to the callee; 0 while queued. */
  id = 0;
  callee: Callee | undefined;
  /** Timeout timer handle, if the caller asked for a timeout. */
  timer: unknown;
  /** Progressive call invocations: more CALL chunks are still to come. */
  inputOpen: boolean;
  /**
   * Canceled with mode "skip" (the callee's reply is discarded) or "kill"
   * (the callee's reply is passed on, and ends the call).
   */
  canceled: 'skip' | 'kill' | undefined;
  /** Chunks received while the call was queued, sent in order on dispatch. */
  readonly pendingChunks: Call[] = [];
  /** Gone from every table (counted out of the router's calls in flight). */
  ended = false;
  /** CALL.Options.timeout in ms, kept apart from the options so they can be dropped. */
  readonly timeout: number | undefined;
  /** When the call was routed (ms, performance.now()): its latency is counted from here. */
  started = 0;
  /** How the callee answered the call in the end (YIELD or ERROR); none: it did not. */
  answer: 'result' | 'error' | undefined;

  constructor(
    readonly caller: Session,
    /** CALL request ID, scoped to the caller. */
    readonly callRequest: number,
    readonly registration: Registration,
    /** The first CALL: its options hold for every chunk (WAMP: options are frozen at the first CALL). */
    public call: Call,
    /** INVOCATION.Details, computed once. */
    readonly details: Dict,
    readonly receiveProgress: boolean,
    /** The caller's role discloses it to callees. */
    readonly discloseCaller: boolean,
  ) {
    this.inputOpen = call[2].progress === true;
    this.timeout = call[2].timeout as number | undefined;
  }

  /** Nobody will get this call's payload or options any more (sent to the callee, or canceled): keep only what identifies it. */
  dropPayload(): void {
    this.call = [this.call[0], this.call[1], {}, this.call[3]];
    this.pendingChunks.length = 0;
  }
}
