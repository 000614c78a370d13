/** Meta API procedures and events over the in-memory peer: calls answered on a later turn, and event watchers. */
import assert from 'node:assert/strict';
import { Router } from '../../src/core/router.ts';
import type { RealmConfig } from '../../src/core/realm.ts';
import { enableMetaApi } from '../../src/meta/index.ts';
import type { Outbound } from '../../src/wamp/messages.ts';
import type { MemoryClient } from './memory-peer.ts';
import { ERROR, EVENT, CALL, RESULT } from './wamp-codes.ts';

export const SUBSCRIPTION_META_EVENTS = [
  'wamp.subscription.on_create',
  'wamp.subscription.on_subscribe',
  'wamp.subscription.on_unsubscribe',
  'wamp.subscription.on_delete',
];

/** Lets what the router does on a later turn of the event loop (meta procedures answer there) happen. */
export const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A router with realm1 (configured with `realm`) and the meta API. */
export function metaRouter(realm: Omit<RealmConfig, 'name'> = {}): Router {
  const router = new Router({ realms: [{ name: 'realm1', ...realm }] });
  enableMetaApi(router);
  return router;
}

type Call = (client: MemoryClient, uri: string, args?: unknown[], kwargs?: object) => Promise<Outbound>;
type Value = (client: MemoryClient, uri: string, args?: unknown[], kwargs?: object) => Promise<unknown>;

/**
 * call (the RESULT or ERROR), result (RESULT.Arguments[0]) and errorOf
 * (ERROR.Error) of a meta procedure. What else the client was sent in the
 * meantime (events) is dropped, or with `keepOthers` left for the test to read.
 */
export function metaCalls({ keepOthers = false } = {}): { call: Call; result: Value; errorOf: Value } {
  const call: Call = async (client, uri, args = [], kwargs) => {
    const request = client.request();
    client.send(kwargs ? [CALL, request, {}, uri, args, kwargs] : [CALL, request, {}, uri, args]);
    await flush();
    const sent = client.take();
    const reply = sent.find((m) => (m[0] === RESULT && m[1] === request) || (m[0] === ERROR && m[2] === request));
    assert.ok(reply, `no reply to ${uri}`);
    if (keepOthers) client.peer.sent.unshift(...sent.filter((m) => m !== reply));
    return reply;
  };
  const result: Value = async (client, uri, args = [], kwargs) => {
    const reply = await call(client, uri, args, kwargs);
    assert.equal(reply[0], RESULT, `${uri} failed: ${JSON.stringify(reply)}`);
    return (reply[3] as unknown[] | undefined)?.[0];
  };
  const errorOf: Value = async (client, uri, args = [], kwargs) => {
    const reply = await call(client, uri, args, kwargs);
    assert.equal(reply[0], ERROR, `${uri} should fail: ${JSON.stringify(reply)}`);
    return reply[4];
  };
  return { call, result, errorOf };
}

/**
 * Subscribes `client` to `topics`; returns a function giving [topic, args] of
 * the events on them since the last call (everything else the client was
 * sent is dropped).
 */
export function watch(client: MemoryClient, topics: string[]): () => Array<[string, unknown]> {
  const byId = new Map<number, string>();
  for (const topic of topics) byId.set(client.subscribe(topic), topic);
  return () =>
    client
      .take()
      .filter((m) => m[0] === EVENT && byId.has(m[1] as number))
      .map((m) => [byId.get(m[1] as number)!, m[4]]);
}
