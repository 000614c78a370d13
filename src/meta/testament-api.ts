/**
 * Testaments (WAMP: advanced/pubsub_testament.md): events a session leaves
 * behind, published by the router when it is gone. Without session
 * resumption a session that ends is both detached and destroyed, a clean
 * GOODBYE included (the spec, and Crossbar's tests): both scopes fire, the
 * detached ones first (WAMP MUST), each scope in the order added. A client
 * that leaves cleanly and wants none calls wamp.session.flush_testaments first.
 *
 * A testament is authorized when added, as the PUBLISH it will become (the
 * caller's role, the topic, the publish options): refused, the call fails
 * with wamp.error.not_authorized. A session holds at most
 * `limits.testaments` testaments and `limits.testamentBytes` bytes of them,
 * both scopes together; a flush frees what it removes.
 */
import { checkPublishOptions, isDict } from '../wamp/inbound.ts';
import type { Dict } from '../wamp/messages.ts';
import { isReservedUri, isValidUri } from '../wamp/uri-syntax.ts';
import { ErrorUri, KreuzUri } from '../wamp/uris.ts';
import { WampError } from '../wamp/wamp-error.ts';
import type { Decision } from '../core/authorization.ts';
import { storedSize } from '../core/stored-size.ts';
import { DEFAULT_LIMITS, type Limits } from '../core/limits.ts';
import type { Realm } from '../core/realm.ts';
import type { Session } from '../core/session.ts';
import { optionalString, stringArg } from './arguments.ts';
import type { ServiceSession } from './service-session.ts';

type Scope = 'detached' | 'destroyed';
export type TestamentLimits = Pick<Limits, 'testaments' | 'testamentBytes'>;

interface Testament {
  topic: string;
  payload: [unknown[], Dict];
  options: Dict;
  /** What it counts against `limits.testamentBytes`. */
  bytes: number;
  /** False while a dynamic authorizer decides: such a testament holds its place but does not fire. */
  authorized: boolean;
  /** The role discloses its publications (Crossbar's "disclose.publisher"). */
  disclose: boolean;
}

/** One session's testaments and what they cost. */
class Testaments {
  readonly detached: Testament[] = [];
  readonly destroyed: Testament[] = [];
  bytes = 0;

  get count(): number {
    return this.detached.length + this.destroyed.length;
  }

  add(scope: Scope, t: Testament): void {
    this[scope].push(t);
    this.bytes += t.bytes;
  }

  /** Takes `t` out if it is still held (a flush may have removed it). */
  remove(scope: Scope, t: Testament): void {
    const i = this[scope].indexOf(t);
    if (i < 0) return;
    this[scope].splice(i, 1);
    this.bytes -= t.bytes;
  }

  flush(scope: Scope): number {
    const removed = this[scope].splice(0);
    for (const t of removed) this.bytes -= t.bytes;
    return removed.length;
  }
}

function scopeOf(value: unknown): Scope {
  const scope = optionalString(value, 'scope') ?? 'destroyed';
  if (scope !== 'detached' && scope !== 'destroyed') {
    throw new WampError(ErrorUri.INVALID_ARGUMENT, ['scope must be "destroyed" or "detached"']);
  }
  return scope;
}

/**
 * What a testament costs: the wire size of the add_testament CALL, and never
 * less than the JSON size of what is kept. The transport's figure is set per
 * message and service procedures run a microtask later, so after a batch of
 * messages it may be a later one's; an in-process session has none (0).
 */
function costOf(session: Session, kept: unknown[]): number {
  return Math.max(session.inboundBytes, storedSize(kept));
}

function checkLimits(held: Testaments, bytes: number, limits: TestamentLimits): void {
  if (held.count >= limits.testaments) {
    throw new WampError(KreuzUri.LIMIT_REACHED, [
      `a session may hold at most ${limits.testaments} testaments (flush_testaments frees them)`,
    ]);
  }
  if (held.bytes + bytes > limits.testamentBytes) {
    throw new WampError(KreuzUri.LIMIT_REACHED, [
      `a session may hold at most ${limits.testamentBytes} bytes of testaments: it holds ${held.bytes}, this one is ${bytes}`,
    ]);
  }
}

const notAuthorized = (session: Session, topic: string) =>
  new WampError(ErrorUri.NOT_AUTHORIZED, [
    `session is not authorized to publish "${topic}" (authrole "${session.authrole}"), so neither to leave a testament there`,
  ]);
const authorizationFailed = (topic: string) =>
  new WampError(ErrorUri.AUTHORIZATION_FAILED, [`authorization of publish on "${topic}" failed`]);

/** The decision on the PUBLISH the testament will become; the router's own sessions are not checked (as in routing). */
function authorize(realm: Realm, session: Session, topic: string, options: Dict): Decision | Promise<Decision> {
  if (session.internal) return { allow: true };
  try {
    return realm.authorizer.authorize(session, topic, 'publish', options);
  } catch {
    throw authorizationFailed(topic);
  }
}

/** The checked arguments of add_testament(topic, args?, kwargs?; publish_options?, scope?). */
function parseRequest(args: unknown[], kwargs: Dict): { topic: string; payload: [unknown[], Dict]; options: Dict; scope: Scope } {
  const topic = stringArg(args, 0, 'topic');
  if (!isValidUri(topic) || isReservedUri(topic)) throw new WampError(ErrorUri.INVALID_URI, [`invalid topic URI "${topic}"`]);
  const eventArgs = args[1] ?? [];
  const eventKwargs = args[2] ?? {};
  if (!Array.isArray(eventArgs) || !isDict(eventKwargs)) {
    throw new WampError(ErrorUri.INVALID_ARGUMENT, ['args must be a list and kwargs a dict']);
  }
  const options = kwargs.publish_options ?? {};
  if (!isDict(options)) throw new WampError(ErrorUri.INVALID_ARGUMENT, ['publish_options must be a dict']);
  const problem = checkPublishOptions(options);
  if (problem) throw new WampError(ErrorUri.INVALID_ARGUMENT, [`publish_options: ${problem}`]);
  // Options that make no sense once the publisher is gone are dropped (as Crossbar does).
  const { acknowledge: _a, exclude_me: _e, ...kept } = options;
  return { topic, payload: [eventArgs, eventKwargs], options: kept, scope: scopeOf(kwargs.scope) };
}

/** The answer of a dynamic authorizer: the held testament fires once allowed, and goes if refused. */
function settleLater(decision: Promise<Decision>, session: Session, drop: () => void, testament: Testament): Promise<undefined> {
  const settled = decision.then(
    (d) => {
      if (!d.allow) {
        drop();
        throw notAuthorized(session, testament.topic);
      }
      testament.authorized = true;
      testament.disclose = d.disclose === true;
      return undefined;
    },
    () => {
      drop();
      throw authorizationFailed(testament.topic);
    },
  );
  // Handled here too: a refusal must never become an unhandled rejection, whoever awaits the answer.
  settled.catch(() => {});
  return settled;
}

/**
 * `limits` are the router's (they are not reachable from the realm yet:
 * the meta API passes them in, else the defaults apply).
 */
export function attachTestamentApi(realm: Realm, service: ServiceSession, limits: TestamentLimits = DEFAULT_LIMITS): void {
  const testaments = new Map<Session, Testaments>();

  service.register('wamp.session.add_testament', (args, kwargs, caller) => {
    const { topic, payload, options, scope } = parseRequest(args, kwargs);
    const session = realm.sessions.get(caller.session);
    if (!session) throw new WampError(ErrorUri.NO_SUCH_SESSION, ['the calling session has left']);
    const held = testaments.get(session) ?? new Testaments();
    const bytes = costOf(session, [topic, ...payload, options]);
    checkLimits(held, bytes, limits);
    const testament: Testament = { topic, payload, options, bytes, authorized: false, disclose: false };
    const decision = authorize(realm, session, topic, options);
    if (!(decision instanceof Promise)) {
      if (!decision.allow) throw notAuthorized(session, topic);
      testament.authorized = true;
      testament.disclose = decision.disclose === true;
    }
    testaments.set(session, held);
    held.add(scope, testament);
    if (!(decision instanceof Promise)) return undefined;
    // A dynamic authorizer: the testament keeps its place and its budget while it decides.
    return settleLater(decision, session, () => held.remove(scope, testament), testament);
  });

  // Returns how many were flushed, as Crossbar does (the spec returns nothing).
  service.register('wamp.session.flush_testaments', (_args, kwargs, caller) => {
    const scope = scopeOf(kwargs.scope);
    const session = realm.sessions.get(caller.session);
    const held = session && testaments.get(session);
    return held ? held.flush(scope) : 0;
  });

  realm.hooks.add({
    leave: (session) => {
      const held = testaments.get(session);
      if (!held) return;
      testaments.delete(session);
      if (!session.announceLeave) return; // WAMP: kill_all fires no testaments
      const fired = [...held.detached, ...held.destroyed];
      for (const t of fired) {
        if (!t.authorized) continue;
        realm.broker.dispatch({ topic: t.topic, options: t.options, source: t.payload, from: 0, publisher: session, disclose: t.disclose });
      }
    },
  });
}
