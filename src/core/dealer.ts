/**
 * The dealer: registrations and calls (WAMP: basic/rpc.md and the advanced
 * RPC features). All state changes happen synchronously inside one handler.
 */
import { MessageType as T } from '../wamp/codes.ts';
import { randomId } from '../wamp/ids.ts';
import { withPassthru } from '../wamp/payload.ts';
import {
  error,
  withPayload,
  type Call,
  type Cancel,
  type Dict,
  type ErrorMsg,
  type Register,
  type Unregister,
  type Yield,
} from '../wamp/messages.ts';
import { isReservedPattern, isReservedUri, isValidPattern, isValidUri, quoted, type MatchPolicy } from '../wamp/uri-syntax.ts';
import { CrossbarUri, ErrorUri, KreuzUri } from '../wamp/uris.ts';
import type { Hooks, RealmEvents, Timers } from './hooks.ts';
import { Invocation } from './invocation.ts';
import type { Limits } from './limits.ts';
import type { RouterCounters } from './counters.ts';
import { Callee, Registration, type InvokePolicy } from './registration.ts';
import type { Session } from './session.ts';
import { UriMap } from './uri-map.ts';

export type CancelMode = 'skip' | 'kill' | 'killnowait';

/** The longest delay a Node timer takes; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DealerOptions {
  hooks: Hooks<RealmEvents>;
  timers: Timers;
  /**
   * Calls that may wait per registration while every callee is at its
   * `concurrency` limit; 0 fails them at once (Crossbar without a call queue).
   */
  callQueueLimit: number;
  limits: Limits;
  /** Router-wide: calls in flight on every realm (against `limits.callsInFlightTotal`), limits reached. */
  counters: RouterCounters;
  /** Reports a protocol violation (the router ABORTs the session). */
  protocolViolation(session: Session, reason: string): void;
  random?: () => number;
}

/** What a registration is called in a cluster's registry (src/cluster/): the same on every node. */
export interface RegistrationInfo {
  id: number;
  uri: string;
  match: MatchPolicy;
  invoke: InvokePolicy;
  created: Date;
}

export class Dealer {
  private readonly map = new UriMap<Registration>();
  private readonly byId = new Map<number, Registration>();
  private readonly random: () => number;
  /** A cluster's ID and creation time for a registration it has claimed (the registry's); none: a random ID, now. */
  claimed: ((uri: string, match: MatchPolicy) => { id: number; created: Date } | undefined) | undefined;

  constructor(private readonly o: DealerOptions) {
    this.random = o.random ?? Math.random;
  }

  // ---- queries (meta API) ----

  registration(id: number): Registration | undefined {
    return this.byId.get(id);
  }

  lookup(uri: string, match: MatchPolicy): Registration | undefined {
    return this.map.get(uri, match);
  }

  /** The registration a call to `uri` would go to. */
  match(uri: string): Registration | undefined {
    return this.route(uri);
  }

  registrations(match: MatchPolicy): IterableIterator<Registration> {
    return this.map.values(match);
  }

  // ---- REGISTER / UNREGISTER ----

  /** `mayDisclose`: the callee's role allows REGISTER.disclose_caller (crossbar#447); otherwise the option is ignored. */
  register(session: Session, [, request, options, uri]: Register, mayDisclose = true): void {
    const match = (options.match as MatchPolicy | undefined) ?? 'exact';
    const invoke = (options.invoke as InvokePolicy | undefined) ?? 'single';
    const fail = (errorUri: string, text: string) => session.send(error(T.REGISTER, request, errorUri, [text]));

    if (!isValidPattern(uri, match)) return fail(ErrorUri.INVALID_URI, `invalid procedure URI ${quoted(uri)} for match "${match}"`);
    // WAMP: application URIs must not start with "wamp."; only the router's own sessions may.
    if (isReservedPattern(uri) && session.authrole !== 'trusted') {
      return fail(ErrorUri.INVALID_URI, `register for restricted procedure URI ${quoted(uri)}`);
    }
    // The router's own sessions are not limited: they register what the node needs.
    if (!session.internal && session.registrations.size >= this.o.limits.registrations) {
      this.o.counters.limit('registrations');
      return fail(KreuzUri.LIMIT_REACHED, `a session may hold at most ${this.o.limits.registrations} registrations`);
    }
    const callee = new Callee(
      session,
      (options.concurrency as number | undefined) ?? Infinity,
      options.disclose_caller === true && mayDisclose,
    );
    const existing = this.map.get(uri, match);

    if (existing && options.force_reregister === true) return this.forceReregister(existing, callee, request, invoke);
    if (existing) {
      // WAMP: the first registration fixes the policy.
      if (existing.invoke === 'single') {
        return fail(ErrorUri.PROCEDURE_ALREADY_EXISTS, `register for already registered procedure ${quoted(uri)}`);
      }
      if (existing.invoke !== invoke) {
        return fail(
          ErrorUri.PROCEDURE_EXISTS_WITH_DIFFERENT_INVOCATION_POLICY,
          `register for already registered procedure ${quoted(uri)} with conflicting invocation policy (has ${existing.invoke} and ${invoke} was requested)`,
        );
      }
      // The same session registering again gets the registration it has (as Crossbar does).
      if (existing.calleeOf(session)) return session.send([T.REGISTERED, request, existing.id]);
      session.send([T.REGISTERED, request, existing.id]);
      return this.join(existing, callee);
    }
    const registration = this.create(uri, match, invoke, callee, this.claimed?.(uri, match));
    session.send([T.REGISTERED, request, registration.id]);
    this.o.hooks.emit('registrationCreated', session, registration);
    this.o.hooks.emit('calleeAdded', session, registration);
  }

  /**
   * A callee of another node (a cluster's proxy session) joins the
   * registration of `info`, which is created with that ID when this node has
   * none yet. Its node checked the REGISTER; the registry decided it.
   */
  attach(info: RegistrationInfo, callee: Callee): Registration {
    const session = callee.session;
    const existing = this.map.get(info.uri, info.match);
    if (existing?.calleeOf(session)) return existing;
    if (existing) {
      this.join(existing, callee);
      return existing;
    }
    const registration = this.create(info.uri, info.match, info.invoke, callee, info);
    this.o.hooks.emit('registrationCreated', session, registration);
    this.o.hooks.emit('calleeAdded', session, registration);
    return registration;
  }

  /** A callee joins a registration that exists: its calls waiting in the queue may go to it at once. */
  private join(registration: Registration, callee: Callee): void {
    registration.add(callee);
    callee.session.registrations.add(registration);
    this.o.hooks.emit('calleeAdded', callee.session, registration);
    this.drain(registration);
  }

  /** Takes a callee out with no message to it (it left the registration on its own node); its calls in flight go on. */
  withdraw(registration: Registration, session: Session): boolean {
    const callee = registration.calleeOf(session);
    if (!callee) return false;
    this.removeCallee(registration, callee);
    return true;
  }

  unregister(session: Session, [, request, registrationId]: Unregister): void {
    const registration = this.byId.get(registrationId);
    const callee = registration?.calleeOf(session);
    if (!registration || !callee) {
      session.send(error(T.UNREGISTER, request, ErrorUri.NO_SUCH_REGISTRATION, [`no registration ${registrationId} for this session`]));
      return;
    }
    session.send([T.UNREGISTERED, request]);
    this.removeCallee(registration, callee);
  }

  /**
   * Revokes a callee's registration from the router side (meta API
   * remove_callee). UNREGISTERED goes only to callees that announced
   * registration_revocation (WAMP: rpc_registration_revocation).
   */
  revoke(registration: Registration, session: Session, reason: string): boolean {
    const callee = registration.calleeOf(session);
    if (!callee) return false;
    if (session.supports('callee', 'registration_revocation')) {
      session.send([T.UNREGISTERED, 0, { registration: registration.id, reason }]);
    }
    this.removeCallee(registration, callee);
    return true;
  }

  /** Crossbar's force_reregister: the existing callees are dropped and a new registration takes the URI. */
  private forceReregister(old: Registration, callee: Callee, request: number, invoke: InvokePolicy): void {
    const dropped = [...old.callees];
    for (const c of dropped) {
      this.detachCallee(old, c);
      // Sent whether or not the callee announced registration_revocation, as Crossbar does.
      c.session.send([T.UNREGISTERED, 0, { registration: old.id, reason: ErrorUri.UNREGISTERED }]);
    }
    this.byId.delete(old.id);
    this.map.delete(old.uri, old.match);
    const registration = this.create(old.uri, old.match, invoke, callee);
    this.failQueue(old, 'registration replaced by force_reregister');
    callee.session.send([T.REGISTERED, request, registration.id]);
    for (const c of dropped) this.o.hooks.emit('calleeRemoved', c.session, old);
    this.o.hooks.emit('registrationDeleted', dropped[dropped.length - 1]?.session ?? callee.session, old);
    this.o.hooks.emit('registrationCreated', callee.session, registration);
    this.o.hooks.emit('calleeAdded', callee.session, registration);
  }

  private create(
    uri: string,
    match: MatchPolicy,
    invoke: InvokePolicy,
    callee: Callee,
    given?: { id: number; created: Date },
  ): Registration {
    let id = given?.id ?? randomId();
    while (given === undefined && this.byId.has(id)) id = randomId();
    const registration = new Registration(id, uri, match, invoke, given?.created);
    registration.add(callee);
    this.map.set(uri, match, registration);
    this.byId.set(id, registration);
    callee.session.registrations.add(registration);
    return registration;
  }

  private removeCallee(registration: Registration, callee: Callee): void {
    this.detachCallee(registration, callee);
    this.calleeRemoved(registration, callee.session);
  }

  /** Takes the callee out of the registration, so no call can reach it any more. */
  private detachCallee(registration: Registration, callee: Callee): void {
    registration.remove(callee);
    callee.session.registrations.delete(registration);
  }

  /** After a callee was detached: meta events, and the registration deleted with its last callee or its queue served by the others. */
  private calleeRemoved(registration: Registration, session: Session): void {
    this.o.hooks.emit('calleeRemoved', session, registration);
    if (registration.callees.length > 0) return this.drain(registration);
    this.map.delete(registration.uri, registration.match);
    this.byId.delete(registration.id);
    this.failQueue(registration, 'no callee left for the queued call');
    this.o.hooks.emit('registrationDeleted', session, registration);
  }

  // ---- CALL ----

  /** The registration a call to `uri` goes to: a "wamp." URI only ever reaches the router's own registrations. */
  private route(uri: string): Registration | undefined {
    const registration = this.map.best(uri);
    return registration && isReservedUri(uri) && !isReservedPattern(registration.uri) ? undefined : registration;
  }

  /** `disclose`: the caller's role says its identity goes to the callee (Crossbar's permission "disclose.caller"). */
  call(caller: Session, msg: Call, disclose = false): void {
    const [, request, options, uri] = msg;
    const inFlight = caller.calls.get(request);
    if (inFlight) return this.continueCall(inFlight, msg);
    // A late chunk of a progressive call the callee already finished: ignored (WAMP MUST),
    // until the caller's final chunk closes its side.
    if (caller.finishedProgressiveCalls.has(request)) {
      if (options.progress !== true) caller.finishedProgressiveCalls.delete(request);
      return;
    }

    const progressive = options.progress === true;
    if (progressive && !caller.supports('caller', 'progressive_call_invocations')) {
      return this.o.protocolViolation(caller, 'CALL with progress: true, but the caller did not announce progressive_call_invocations');
    }
    if (!isValidUri(uri)) {
      return caller.send(error(T.CALL, request, ErrorUri.INVALID_URI, [`invalid procedure URI ${quoted(uri)}`]));
    }
    // Calls the caller abandoned (canceled with skip, timed out) and progressive calls it has not closed yet still count.
    if (
      !caller.internal &&
      caller.calls.size + caller.abandonedCalls.size + caller.finishedProgressiveCalls.size >= this.o.limits.callsInFlight
    ) {
      this.o.counters.limit('callsInFlight');
      return caller.send(
        error(T.CALL, request, KreuzUri.LIMIT_REACHED, [`a session may have at most ${this.o.limits.callsInFlight} calls in flight`]),
      );
    }
    if (this.o.counters.callsInFlight >= this.o.limits.callsInFlightTotal) {
      this.o.counters.limit('callsInFlightTotal');
      return caller.send(
        error(T.CALL, request, KreuzUri.LIMIT_REACHED, [
          `the router holds its maximum of ${this.o.limits.callsInFlightTotal} calls in flight`,
        ]),
      );
    }
    const registration = this.route(uri);
    if (!registration) {
      return caller.send(error(T.CALL, request, ErrorUri.NO_SUCH_PROCEDURE, [`no callee registered for procedure ${quoted(uri)}`]));
    }
    this.o.hooks.emit('callRouted', caller, request, registration);
    const now = performance.now();
    registration.called(now);

    const details: Dict = {};
    // WAMP: INVOCATION.Details.procedure carries the called URI for pattern registrations.
    if (registration.match !== 'exact') details.procedure = uri;
    const invocation = new Invocation(caller, request, registration, msg, details, options.receive_progress === true, disclose);
    invocation.started = now;

    const callee = registration.pick(this.random);
    if (!callee) {
      if (registration.queue.length >= this.o.callQueueLimit) {
        registration.ended(true, undefined, now);
        return caller.send(
          error(T.CALL, request, CrossbarUri.MAX_CONCURRENCY_REACHED, [
            `maximum concurrency reached for procedure ${quoted(registration.uri)}`,
          ]),
        );
      }
      registration.queue.push(invocation);
    }
    this.o.counters.callsInFlight++;
    caller.calls.set(request, invocation);
    if (invocation.timeout) this.startTimer(invocation, invocation.timeout);
    if (callee) this.dispatch(invocation, callee);
  }

  /** Another chunk of a progressive call invocation, to the callee the first chunk went to. */
  private continueCall(invocation: Invocation, chunk: Call): void {
    if (!invocation.inputOpen) {
      return this.o.protocolViolation(invocation.caller, `CALL request ID ${chunk[1]} is already in use by a call in flight`);
    }
    invocation.inputOpen = chunk[2].progress === true;
    if (invocation.canceled) return;
    if (!invocation.callee) return void invocation.pendingChunks.push(chunk);
    this.sendChunk(invocation, chunk);
  }

  private sendChunk(invocation: Invocation, chunk: Call): void {
    // Later chunks carry only `progress` (WAMP: options are frozen at the first CALL).
    const details = withPassthru(chunk[2].progress === true ? { progress: true } : {}, chunk[2]);
    invocation.callee!.session.send(withPayload([T.INVOCATION, invocation.id, invocation.registration.id, details], chunk, 4));
  }

  /**
   * A call another node routed here (cluster): straight to `callee`, with the
   * details that node made (caller disclosure included). Matching, picking,
   * the timeout and the caller's limits stay with the caller's node.
   * Returns an error URI when the callee cannot take it.
   */
  invokeDirect(caller: Session, call: Call, registration: Registration, callee: Callee, details: Dict): string | undefined {
    if (caller.calls.has(call[1])) return ErrorUri.PROTOCOL_VIOLATION;
    if (callee.saturated) return CrossbarUri.MAX_CONCURRENCY_REACHED;
    const invocation = new Invocation(caller, call[1], registration, call, details, call[2].receive_progress === true, false);
    invocation.started = performance.now();
    registration.called(invocation.started);
    this.o.counters.callsInFlight++;
    caller.calls.set(call[1], invocation);
    this.dispatch(invocation, callee);
    return undefined;
  }

  private dispatch(invocation: Invocation, callee: Callee): void {
    const { caller, call } = invocation;
    const session = callee.session;
    // WAMP: progressive call invocations need the callee to support them and call canceling.
    const progressive = call[2].progress === true;
    if (progressive && !(session.supports('callee', 'progressive_call_invocations') && session.supports('callee', 'call_canceling'))) {
      this.forget(invocation);
      caller.send(
        error(T.CALL, invocation.callRequest, ErrorUri.FEATURE_NOT_SUPPORTED, ['the callee does not support progressive call invocations']),
      );
      return;
    }
    invocation.callee = callee;
    invocation.id = session.invocationIds.next();
    callee.inFlight++;
    session.invocations.set(invocation.id, invocation);

    const details: Dict = { ...invocation.details };
    const options = call[2];
    // Crossbar forwards receive_progress to callees announcing progressive results, whatever else they announce.
    if (invocation.receiveProgress && session.supports('callee', 'progressive_call_results')) details.receive_progress = true;
    if (progressive) details.progress = true;
    // WAMP caller identification: by role, on request of the caller or the callee, and always for the router's own procedures.
    // A call from another node comes with its node's decision in the details.
    if (
      !caller.remote &&
      (invocation.discloseCaller || options.disclose_me === true || callee.discloseCaller || session.authrole === 'trusted')
    ) {
      details.caller = caller.id;
      details.caller_authid = caller.authid;
      details.caller_authrole = caller.authrole;
    }
    session.send(withPayload([T.INVOCATION, invocation.id, invocation.registration.id, withPassthru(details, options)], call, 4));
    for (const chunk of invocation.pendingChunks.splice(0)) this.sendChunk(invocation, chunk);
    // The callee has it: while it works, the router keeps what identifies the call, not its payload.
    invocation.dropPayload();
    this.o.hooks.emit('callInvoked', invocation);
  }

  /** Dispatches queued calls while some callee is below its concurrency limit. */
  private drain(registration: Registration): void {
    while (registration.queue.length > 0) {
      const callee = registration.pick(this.random);
      if (!callee) return;
      this.dispatch(registration.queue.shift()!, callee);
    }
  }

  private failQueue(registration: Registration, reason: string): void {
    for (const invocation of registration.queue.splice(0)) {
      this.forget(invocation);
      invocation.caller.send(error(T.CALL, invocation.callRequest, ErrorUri.CANCELED, [reason]));
    }
  }

  // ---- YIELD / ERROR from the callee ----

  /** A YIELD for an unknown invocation (late, or already answered) is ignored, never fatal. */
  yield(session: Session, msg: Yield): void {
    const invocation = session.invocations.get(msg[1]);
    if (!invocation) return;
    const progress = msg[2].progress === true;
    if (progress) {
      // Progressive results go only to a caller that asked for them, and not after a cancel.
      if (invocation.canceled || !invocation.receiveProgress) return;
      this.restartTimer(invocation); // WAMP: the timeout applies between results too
      invocation.caller.send(withPayload([T.RESULT, invocation.callRequest, withPassthru({ progress: true }, msg[2])], msg, 3));
      return;
    }
    const skip = invocation.canceled === 'skip';
    invocation.answer = 'result';
    this.finish(invocation);
    if (!skip) invocation.caller.send(withPayload([T.RESULT, invocation.callRequest, withPassthru({}, msg[2])], msg, 3));
  }

  /** ERROR from a callee, passed to the caller with its URI, args and kwargs unchanged. */
  invocationError(session: Session, msg: ErrorMsg): void {
    const invocation = session.invocations.get(msg[2]);
    if (!invocation) return;
    const skip = invocation.canceled === 'skip';
    invocation.answer = 'error';
    this.finish(invocation);
    if (!skip) invocation.caller.send(withPayload([T.ERROR, T.CALL, invocation.callRequest, withPassthru({}, msg[3]), msg[4]], msg, 5));
  }

  // ---- cancel, timeout ----

  /** CANCEL from the caller (WAMP: rpc_call_canceling). Unknown or repeated CANCELs are ignored. */
  cancel(caller: Session, [, request, options]: Cancel): void {
    const invocation = caller.calls.get(request);
    if (!invocation || invocation.canceled) return;
    // No mode given: killnowait, the mode the spec uses for timeouts.
    this.abort(invocation, (options.mode as CancelMode | undefined) ?? 'killnowait', ['call canceled by the caller']);
  }

  /**
   * Ends a call early. skip: ERROR to the caller now, the callee's reply is
   * discarded. kill: INTERRUPT, and the callee's reply ends the call.
   * killnowait: INTERRUPT and ERROR now. A callee that did not announce
   * call_canceling gets no INTERRUPT: the mode becomes skip.
   */
  private abort(invocation: Invocation, mode: CancelMode, args: unknown[]): void {
    const { caller, callRequest } = invocation;
    const callee = invocation.callee;
    const callerError = () => caller.send(error(T.CALL, callRequest, ErrorUri.CANCELED, args));
    if (!callee) {
      // Still queued: nothing reached a callee.
      this.forget(invocation);
      return callerError();
    }
    if (!callee.session.supports('callee', 'call_canceling')) mode = 'skip';
    switch (mode) {
      case 'skip':
        // The callee is still working: the invocation stays until it answers, holding its concurrency slot.
        invocation.canceled = 'skip';
        this.stopTimer(invocation);
        this.releaseCaller(invocation);
        // It counts against the caller's calls in flight until the callee answers or leaves.
        caller.abandonedCalls.add(invocation);
        invocation.dropPayload();
        return callerError();
      case 'kill':
        invocation.canceled = 'kill';
        return this.interrupt(invocation, 'kill');
      case 'killnowait':
        this.interrupt(invocation, 'killnowait');
        this.finish(invocation);
        return callerError();
    }
  }

  private interrupt(invocation: Invocation, mode: 'kill' | 'killnowait'): void {
    invocation.callee!.session.send([T.INTERRUPT, invocation.id, { mode, reason: ErrorUri.CANCELED }]);
  }

  private startTimer(invocation: Invocation, ms: number): void {
    // Node fires timers over 2^31 - 1 ms at once: longer timeouts are chained.
    const step = Math.min(ms, MAX_TIMER_MS);
    invocation.timer = this.o.timers.setTimeout(() => {
      invocation.timer = undefined;
      if (ms > step) return this.startTimer(invocation, ms - step);
      // Like Crossbar: the caller gets wamp.error.canceled; the callee an INTERRUPT if it can take one.
      this.abort(invocation, 'killnowait', ['timeout reached']);
    }, step);
  }

  private restartTimer(invocation: Invocation): void {
    if (invocation.timer === undefined) return;
    this.stopTimer(invocation);
    this.startTimer(invocation, invocation.timeout!);
  }

  private stopTimer(invocation: Invocation): void {
    if (invocation.timer !== undefined) this.o.timers.clearTimeout(invocation.timer);
    invocation.timer = undefined;
  }

  // ---- bookkeeping ----

  /** The call is over: drop it from both sessions, free the callee's slot, and serve the queue. */
  private finish(invocation: Invocation): void {
    this.forget(invocation);
    const callee = invocation.callee;
    if (!callee) return;
    this.ended(invocation);
    invocation.caller.abandonedCalls.delete(invocation);
    callee.session.invocations.delete(invocation.id);
    callee.inFlight--;
    if (this.byId.get(invocation.registration.id) === invocation.registration) this.drain(invocation.registration);
  }

  /** Removes the call from its caller's table, its timer, and the queue. */
  private forget(invocation: Invocation): void {
    this.stopTimer(invocation);
    this.releaseCaller(invocation);
    if (!invocation.callee) {
      const queue = invocation.registration.queue;
      const index = queue.indexOf(invocation);
      if (index >= 0) queue.splice(index, 1);
      this.ended(invocation); // never reached a callee: nothing holds it any more
    }
  }

  /** The invocation is gone from every table: one call fewer in flight router-wide. */
  private ended(invocation: Invocation): void {
    if (invocation.ended) return;
    invocation.ended = true;
    this.o.counters.callsInFlight--;
  }

  /** The caller is done with this call; chunks still coming for it will be ignored. */
  private releaseCaller(invocation: Invocation): void {
    const { caller, callRequest } = invocation;
    if (caller.calls.get(callRequest) === invocation) {
      caller.calls.delete(callRequest);
      this.counted(invocation);
    }
    if (invocation.inputOpen) caller.finishedProgressiveCalls.add(callRequest);
  }

  /**
   * The caller has its final answer (this runs once per call: when it leaves
   * the caller's table). Only a RESULT to a call nobody canceled is no error;
   * latency counts for calls their callee answered, RESULT or ERROR.
   */
  private counted(invocation: Invocation): void {
    const answered = invocation.answer !== undefined && invocation.canceled === undefined;
    const now = performance.now();
    invocation.registration.ended(!answered || invocation.answer === 'error', answered ? now - invocation.started : undefined, now);
  }

  /** Drops everything a leaving session holds in the dealer. */
  detach(session: Session): void {
    // What it holds open as caller ends with it (the transport may carry a new session).
    session.abandonedCalls.clear();
    session.finishedProgressiveCalls.clear();
    // First, no call may reach it any more, and none of its queued calls may be dispatched.
    const registrations = [...session.registrations];
    for (const registration of registrations) this.detachCallee(registration, registration.calleeOf(session)!);
    for (const invocation of [...session.calls.values()]) if (!invocation.callee) this.forget(invocation);

    // A caller leaving: its calls are interrupted (killnowait) where the callee can take it, and forgotten.
    for (const invocation of [...session.calls.values()]) {
      if (invocation.callee!.session.supports('callee', 'call_canceling')) {
        this.interrupt(invocation, 'killnowait');
        this.finish(invocation);
      } else {
        // The callee still works on it: it keeps the ID and slot until it answers, not the payload.
        invocation.canceled = 'skip';
        invocation.dropPayload();
        this.forget(invocation);
      }
    }
    // WAMP: a callee leaving fails its callers' calls with wamp.error.canceled, at once.
    for (const invocation of [...session.invocations.values()]) {
      const answered = invocation.canceled === 'skip';
      this.finish(invocation);
      if (!answered && invocation.caller !== session) {
        invocation.caller.send(error(T.CALL, invocation.callRequest, ErrorUri.CANCELED, ['callee disconnected from in-flight request']));
      }
    }
    for (const registration of registrations) this.calleeRemoved(registration, session);
  }
}
