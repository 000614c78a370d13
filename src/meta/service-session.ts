/**
 * A trusted in-process session that offers procedures and publishes events
 * through the realm's own dealer and broker, like any client would.
 */
import { MessageType as T } from '../wamp/codes.ts';
import { IdSequence } from '../wamp/ids.ts';
import { isDict } from '../wamp/inbound.ts';
import type { Dict, Outbound } from '../wamp/messages.ts';
import { ErrorUri } from '../wamp/uris.ts';
import type { Peer } from '../core/peer.ts';
import type { Router } from '../core/router.ts';
import type { Session } from '../core/session.ts';

/** Who called a service procedure (the router always discloses callers to its own procedures). */
export interface CallerInfo {
  session: number;
  authid: string;
  authrole: string;
}

/** A service procedure: returns its result (or a Promise of it), or throws ServiceError. */
export type Procedure = (args: unknown[], kwargs: Dict, caller: CallerInfo) => unknown;

/** Thrown by a procedure to answer with a WAMP error. */
export class ServiceError extends Error {
  constructor(
    readonly uri: string,
    message: string,
  ) {
    super(message);
  }
}

export class ServiceSession {
  readonly session: Session;
  private readonly requests = new IdSequence();
  /** Procedures by registration ID, once REGISTERED. */
  private readonly procedures = new Map<number, Procedure>();
  private readonly pending = new Map<number, Procedure>();

  constructor(
    private readonly router: Router,
    realm: string,
  ) {
    const peer: Peer = {
      info: { type: 'memory', serializer: 'none', peer: 'internal' },
      send: (message) => this.receive(message),
      close: () => {},
    };
    this.session = router.joinInternal(peer, realm, 'kreuz');
  }

  register(uri: string, procedure: Procedure): void {
    const request = this.requests.next();
    this.pending.set(request, procedure);
    this.router.receive(this.session, [T.REGISTER, request, {}, uri]);
  }

  publish(topic: string, args: unknown[]): void {
    this.router.receive(this.session, [T.PUBLISH, this.requests.next(), {}, topic, args]);
  }

  private receive(message: Outbound): void {
    switch (message[0]) {
      case T.REGISTERED: {
        const procedure = this.pending.get(message[1] as number)!;
        this.pending.delete(message[1] as number);
        this.procedures.set(message[2] as number, procedure);
        return;
      }
      case T.INVOCATION:
        // Answer on a later microtask: the dealer is still inside the CALL that caused this.
        queueMicrotask(() => this.router.contain(this.session, () => this.invoke(message)));
        return;
      case T.ERROR:
        if (message[1] === T.REGISTER) throw new Error(`service procedure not registered: ${String(message[4])}`);
    }
  }

  private invoke([, request, registration, details, args, kwargs]: Outbound): void {
    const procedure = this.procedures.get(registration as number);
    if (!procedure) return;
    const d = details as Dict;
    const caller = { session: d.caller as number, authid: d.caller_authid as string, authrole: d.caller_authrole as string };
    let result: unknown;
    try {
      result = procedure(Array.isArray(args) ? args : [], isDict(kwargs) ? kwargs : {}, caller);
    } catch (err) {
      return this.answer(request as number, { err });
    }
    // A procedure may answer later (e.g. after a dynamic authorizer): the YIELD goes when it settles.
    if (result instanceof Promise) {
      void result.then(
        (value) => this.answer(request as number, { value }),
        (err) => this.answer(request as number, { err }),
      );
    } else this.answer(request as number, { value: result });
  }

  private answer(request: number, outcome: { value?: unknown; err?: unknown }): void {
    let reply: Outbound;
    if ('err' in outcome) {
      const err = outcome.err;
      const [uri, text] =
        err instanceof ServiceError ? [err.uri, err.message] : [ErrorUri.INVALID_ARGUMENT, String((err as Error)?.message ?? err)];
      reply = [T.ERROR, T.INVOCATION, request, {}, uri, [text]];
    } else {
      reply = outcome.value === undefined ? [T.YIELD, request, {}] : [T.YIELD, request, {}, [outcome.value]];
    }
    this.router.contain(this.session, () => this.router.receive(this.session, reply));
  }
}
