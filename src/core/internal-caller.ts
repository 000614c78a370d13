/**
 * Calls WAMP procedures from inside the router (dynamic authenticators and
 * authorizers are procedures registered by some client). One trusted
 * in-process session per realm, made on first use.
 */
import { MessageType as T } from '../wamp/codes.ts';
import { IdSequence } from '../wamp/ids.ts';
import type { Dict, Outbound } from '../wamp/messages.ts';
import type { Router } from './router.ts';
import type { Session } from './session.ts';

export interface CallResult {
  args: unknown[];
  kwargs: Dict;
}

/** A WAMP error answer: `error` is its URI. */
export class CallError extends Error {
  constructor(
    readonly error: string,
    readonly args: unknown[],
    readonly kwargs: Dict,
  ) {
    super(`${error}${args.length > 0 ? `: ${String(args[0])}` : ''}`);
  }
}

export class InternalCaller {
  private readonly sessions = new Map<string, Session>();
  private readonly pending = new Map<number, { resolve: (r: CallResult) => void; reject: (e: unknown) => void }>();
  private readonly requests = new IdSequence();

  constructor(private readonly router: Router) {}

  /**
   * Calls `procedure` on `realm`. The router enforces `timeoutMs` like any
   * call timeout: a procedure that never answers rejects with wamp.error.canceled.
   */
  call(realm: string, procedure: string, args: unknown[] = [], kwargs: Dict = {}, timeoutMs = 10_000): Promise<CallResult> {
    const session = this.sessionFor(realm);
    const request = this.requests.next();
    return new Promise((resolve, reject) => {
      this.pending.set(request, { resolve, reject });
      this.router.receive(session, [T.CALL, request, { timeout: timeoutMs }, procedure, args, kwargs]);
    });
  }

  private sessionFor(realm: string): Session {
    let session = this.sessions.get(realm);
    if (!session) {
      session = this.router.joinInternal(
        { info: { type: 'memory', serializer: 'none', peer: 'internal' }, send: (m) => this.receive(m), close: () => {} },
        realm,
        'kreuz-caller',
      );
      this.sessions.set(realm, session);
    }
    return session;
  }

  private receive(message: Outbound): void {
    const isResult = message[0] === T.RESULT;
    if (!isResult && !(message[0] === T.ERROR && message[1] === T.CALL)) return;
    if (isResult && (message[2] as Dict).progress === true) return; // only the final result counts
    const request = message[isResult ? 1 : 2] as number;
    const waiter = this.pending.get(request);
    if (!waiter) return;
    this.pending.delete(request);
    // Answer on a later microtask: the dealer is still inside the message that caused this.
    queueMicrotask(() => {
      if (isResult) waiter.resolve({ args: (message[3] as unknown[]) ?? [], kwargs: (message[4] as Dict) ?? {} });
      else waiter.reject(new CallError(message[4] as string, (message[5] as unknown[]) ?? [], (message[6] as Dict) ?? {}));
    });
  }
}
