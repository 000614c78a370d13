/**
 * Testaments (WAMP: advanced/pubsub_testament.md): events a session leaves
 * behind, published by the router when it is gone. Without session
 * resumption, "detached" testaments fire whenever the session ends, and
 * "destroyed" ones when it ends without a clean GOODBYE (a lost transport,
 * an ABORT, a kill) — the case testaments exist for. Detached ones go first
 * (WAMP MUST), each scope in the order added.
 */
import { checkPublishOptions, isDict } from '../wamp/inbound.ts';
import type { Dict } from '../wamp/messages.ts';
import { isReservedUri, isValidUri } from '../wamp/uri-syntax.ts';
import { ErrorUri } from '../wamp/uris.ts';
import type { Realm } from '../core/realm.ts';
import type { Session } from '../core/session.ts';
import { optionalString, stringArg } from './arguments.ts';
import { ServiceError, type ServiceSession } from './service-session.ts';

type Scope = 'detached' | 'destroyed';
interface Testament {
  topic: string;
  payload: [unknown[], Dict];
  options: Dict;
}

function scopeOf(value: unknown): Scope {
  const scope = optionalString(value, 'scope') ?? 'destroyed';
  if (scope !== 'detached' && scope !== 'destroyed') {
    throw new ServiceError(ErrorUri.INVALID_ARGUMENT, 'scope must be "destroyed" or "detached"');
  }
  return scope;
}

export function attachTestamentApi(realm: Realm, service: ServiceSession): void {
  const testaments = new Map<Session, Record<Scope, Testament[]>>();

  service.register('wamp.session.add_testament', (args, kwargs, caller) => {
    const topic = stringArg(args, 0, 'topic');
    if (!isValidUri(topic) || isReservedUri(topic)) throw new ServiceError(ErrorUri.INVALID_URI, `invalid topic URI "${topic}"`);
    const eventArgs = args[1] ?? [];
    const eventKwargs = args[2] ?? {};
    if (!Array.isArray(eventArgs) || !isDict(eventKwargs)) {
      throw new ServiceError(ErrorUri.INVALID_ARGUMENT, 'args must be a list and kwargs a dict');
    }
    const options = kwargs.publish_options ?? {};
    if (!isDict(options)) throw new ServiceError(ErrorUri.INVALID_ARGUMENT, 'publish_options must be a dict');
    const problem = checkPublishOptions(options);
    if (problem) throw new ServiceError(ErrorUri.INVALID_ARGUMENT, `publish_options: ${problem}`);
    // Options that make no sense once the publisher is gone are dropped (as Crossbar does).
    const { acknowledge: _a, exclude_me: _e, ...kept } = options;
    const session = realm.sessions.get(caller.session);
    if (!session) throw new ServiceError(ErrorUri.NO_SUCH_SESSION, 'the calling session has left');
    let buckets = testaments.get(session);
    if (!buckets) testaments.set(session, (buckets = { detached: [], destroyed: [] }));
    buckets[scopeOf(kwargs.scope)].push({ topic, payload: [eventArgs, eventKwargs], options: kept });
    return undefined;
  });

  // Returns how many were flushed, as Crossbar does (the spec returns nothing).
  service.register('wamp.session.flush_testaments', (_args, kwargs, caller) => {
    const session = realm.sessions.get(caller.session);
    const buckets = session && testaments.get(session);
    const scope = scopeOf(kwargs.scope);
    const count = buckets?.[scope].length ?? 0;
    if (buckets) buckets[scope] = [];
    return count;
  });

  realm.hooks.add({
    leave: (session) => {
      const buckets = testaments.get(session);
      if (!buckets) return;
      testaments.delete(session);
      if (!session.announceLeave) return; // WAMP: kill_all fires no testaments
      const fired = session.leftWithGoodbye ? buckets.detached : [...buckets.detached, ...buckets.destroyed];
      for (const t of fired) {
        realm.broker.dispatch({ topic: t.topic, options: t.options, source: t.payload, from: 0, publisher: session });
      }
    },
  });
}
