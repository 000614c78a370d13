/**
 * Clients killed without GOODBYE: everything they held is gone, as the meta
 * API shows, and their testaments fire.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useRouter } from '../helpers/node.ts';
import { RawClient } from '../helpers/raw-client.ts';

const router = useRouter();

/** Calls a meta procedure from a raw client and returns the first result argument. */
async function meta(client: RawClient, request: number, uri: string, args: unknown[] = []): Promise<unknown> {
  client.send([48, request, {}, uri, args]);
  for (;;) {
    const msg = await client.next();
    if (msg[0] === 50 && msg[1] === request) return (msg[3] as unknown[] | undefined)?.[0];
    if (msg[0] === 8 && msg[2] === request) throw new Error(`${uri}: ${String(msg[4])}`);
  }
}

describe('clients killed without GOODBYE', () => {
  it('lose their registrations, subscriptions and sessions, and fire their testaments', async () => {
    const observer = await RawClient.join(router.url, 'json');
    observer.send([32, 1, {}, 'com.killed.testament']);
    assert.equal((await observer.next())[0], 33);
    const baseline = (await meta(observer, 2, 'wamp.session.count')) as number;

    const victims: RawClient[] = [];
    for (let i = 0; i < 20; i++) {
      const v = await RawClient.join(router.url, (['json', 'msgpack', 'cbor'] as const)[i % 3]);
      v.send([64, 1, {}, `com.killed.proc${i}`]);
      v.send([64, 2, { match: 'prefix' }, `com.killed.prefix${i}.`]);
      v.send([32, 3, {}, `com.killed.topic${i}`]);
      v.send([32, 4, { match: 'wildcard' }, 'com..shared']);
      v.send([48, 5, {}, 'wamp.session.add_testament', ['com.killed.testament', [i], { who: i }]]);
      const replies = [await v.next(), await v.next(), await v.next(), await v.next(), await v.next()];
      assert.deepEqual(
        replies.map((m) => m[0]),
        [65, 65, 33, 33, 50],
      );
      victims.push(v);
    }
    assert.equal(await meta(observer, 3, 'wamp.session.count'), baseline + 20);

    for (const v of victims) v.ws.terminate();

    const fired = new Set<number>();
    while (fired.size < 20) {
      const event = await observer.next(5000);
      if (event[0] === 36) fired.add((event[4] as number[])[0]);
    }
    assert.equal(fired.size, 20, 'every victim fired its testament');
    assert.equal(await meta(observer, 4, 'wamp.session.count'), baseline);
    assert.deepEqual(await meta(observer, 5, 'wamp.registration.list'), { exact: [], prefix: [], wildcard: [] });
    const subscriptions = (await meta(observer, 6, 'wamp.subscription.list')) as Record<string, number[]>;
    assert.deepEqual(subscriptions.prefix.concat(subscriptions.wildcard), []);
    assert.equal(subscriptions.exact.length, 1, "only the observer's own subscription is left");
    assert.equal(await meta(observer, 7, 'wamp.registration.match', ['com.killed.proc3']), null);
    observer.close();
  });
});
