/**
 * The dealer: registrations and calls (WAMP: basic/rpc.md).
 * All state changes happen synchronously inside one handler call.
 */
import { MessageType as T } from '../wamp/codes.ts';
import { randomId } from '../wamp/ids.ts';
import { error, withPayload, type Call, type Dict, type ErrorMsg, type Outbound, type Register, type Unregister, type Yield } from '../wamp/messages.ts';
import { isReservedUri, isValidPattern, isValidUri, type MatchPolicy } from '../wamp/uri-syntax.ts';
import { ErrorUri } from '../wamp/uris.ts';
import type { Session } from './session.ts';

export type InvokePolicy = 'single' | 'roundrobin' | 'random' | 'first' | 'last';

/** All callees of one (URI, match) share one registration and its ID. */
export class Registration {
  readonly created = new Date();
  /** In registration order. */
  readonly callees: Session[] = [];

  constructor(
    readonly id: number,
    readonly uri: string,
    readonly match: MatchPolicy,
    readonly invoke: InvokePolicy,
  ) {}
}

/** One call in flight: from a caller's CALL to the callee's final YIELD or ERROR. */
export class Invocation {
  constructor(
    /** INVOCATION request ID, scoped to the callee. */
    readonly id: number,
    readonly caller: Session,
    /** CALL request ID, scoped to the caller. */
    readonly callRequest: number,
    readonly callee: Session,
    readonly registration: Registration,
  ) {}
}

export class Dealer {
  private readonly exact = new Map<string, Registration>();
  private readonly byId = new Map<number, Registration>();

  register(session: Session, [, request, options, uri]: Register): void {
    const match = (options.match as MatchPolicy | undefined) ?? 'exact';
    const invoke = (options.invoke as InvokePolicy | undefined) ?? 'single';
    const fail = (uri: string, text: string) => session.send(error(T.REGISTER, request, uri, [text]));

    if (match !== 'exact') return fail(ErrorUri.INVALID_ARGUMENT, `match policy "${match}" is not supported yet`);
    if (invoke !== 'single') return fail(ErrorUri.INVALID_ARGUMENT, `invocation policy "${invoke}" is not supported yet`);
    if (!isValidPattern(uri, match)) return fail(ErrorUri.INVALID_URI, `invalid procedure URI "${uri}"`);
    // WAMP: application URIs must not start with "wamp.".
    if (isReservedUri(uri)) return fail(ErrorUri.INVALID_URI, `register for restricted procedure URI "${uri}"`);

    if (this.exact.has(uri)) {
      return fail(ErrorUri.PROCEDURE_ALREADY_EXISTS, `register for already registered procedure "${uri}"`);
    }
    const registration = new Registration(this.newRegistrationId(), uri, match, invoke);
    this.exact.set(uri, registration);
    this.byId.set(registration.id, registration);
    registration.callees.push(session);
    session.registrations.add(registration);
    session.send([T.REGISTERED, request, registration.id]);
  }

  unregister(session: Session, [, request, registrationId]: Unregister): void {
    const registration = this.byId.get(registrationId);
    if (!registration || !session.registrations.has(registration)) {
      session.send(error(T.UNREGISTER, request, ErrorUri.NO_SUCH_REGISTRATION));
      return;
    }
    this.removeCallee(registration, session);
    session.send([T.UNREGISTERED, request]);
  }

  call(caller: Session, msg: Call): void {
    const [, request, , uri] = msg;
    if (!isValidUri(uri)) {
      caller.send(error(T.CALL, request, ErrorUri.INVALID_URI, [`invalid procedure URI "${uri}"`]));
      return;
    }
    const registration = this.exact.get(uri);
    if (!registration) {
      caller.send(error(T.CALL, request, ErrorUri.NO_SUCH_PROCEDURE, [`no callee registered for procedure "${uri}"`]));
      return;
    }
    const callee = registration.callees[0];
    const invocation = new Invocation(callee.invocationIds.next(), caller, request, callee, registration);
    callee.invocations.set(invocation.id, invocation);
    caller.calls.set(request, invocation);

    const details: Dict = {};
    callee.send(withPayload([T.INVOCATION, invocation.id, registration.id, details], msg, 4));
  }

  /** YIELD from a callee. A YIELD for an unknown invocation (late, or canceled) is ignored, never fatal. */
  yield(callee: Session, msg: Yield): void {
    const invocation = callee.invocations.get(msg[1]);
    if (!invocation) return;
    this.finish(invocation);
    invocation.caller.send(withPayload([T.RESULT, invocation.callRequest, {}], msg, 3));
  }

  /** ERROR from a callee, passed to the caller with its URI, args and kwargs unchanged. */
  invocationError(callee: Session, msg: ErrorMsg): void {
    const invocation = callee.invocations.get(msg[2]);
    if (!invocation) return;
    this.finish(invocation);
    invocation.caller.send(withPayload([T.ERROR, T.CALL, invocation.callRequest, {}, msg[4]], msg, 5));
  }

  /** Whether the caller has a call in flight under this request ID. */
  hasCall(caller: Session, request: number): boolean {
    return caller.calls.has(request);
  }

  /** Drop everything a leaving session holds in the dealer. */
  detach(session: Session): void {
    for (const registration of [...session.registrations]) this.removeCallee(registration, session);

    // WAMP: a callee leaving fails its callers' calls with wamp.error.canceled.
    for (const invocation of session.invocations.values()) {
      invocation.caller.calls.delete(invocation.callRequest);
      invocation.caller.send(
        error(T.CALL, invocation.callRequest, ErrorUri.CANCELED, ['callee disconnected from in-flight request']),
      );
    }
    session.invocations.clear();

    // A caller leaving: its callees' later replies are discarded.
    for (const invocation of session.calls.values()) invocation.callee.invocations.delete(invocation.id);
    session.calls.clear();
  }

  private finish(invocation: Invocation): void {
    invocation.callee.invocations.delete(invocation.id);
    invocation.caller.calls.delete(invocation.callRequest);
  }

  private removeCallee(registration: Registration, session: Session): void {
    const index = registration.callees.indexOf(session);
    if (index >= 0) registration.callees.splice(index, 1);
    session.registrations.delete(registration);
    if (registration.callees.length === 0) {
      this.exact.delete(registration.uri);
      this.byId.delete(registration.id);
    }
  }

  private newRegistrationId(): number {
    let id = randomId();
    while (this.byId.has(id)) id = randomId();
    return id;
  }
}
