/**
 * A realm store's "event-history" with prefix and wildcard URIs, as Crossbar
 * configs write them ("", "debug." with "prefix", "com..tick" with
 * "wildcard"): accepted, and wamp.subscription.get_events on a subscription
 * to the same pattern returns what was published to matching topics.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ConfigError, formatProblem } from '../../src/config/errors.ts';
import { validateConfig } from '../../src/config/load.ts';
import { createRouter, type RunningNode } from '../../src/index.ts';
import { RawClient } from '../helpers/raw-client.ts';

const SUBSCRIBE = 32;
const SUBSCRIBED = 33;
const EVENT = 36;
const PUBLISH = 16;
const CALL = 48;
const RESULT = 50;

const config = (history: unknown[]) => ({
  version: 2,
  workers: [
    {
      type: 'router',
      realms: [{ name: 'realm1', store: { type: 'memory', limit: 5, 'event-history': history } }],
      transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' } }],
    },
  ],
});

const HISTORY = [
  { uri: '', match: 'prefix' },
  { uri: 'debug.', match: 'prefix', limit: 2 },
  { uri: 'com..tick', match: 'wildcard' },
  { uri: 'com.example.oncounter' },
];

describe('event-history with prefix and wildcard URIs', () => {
  const nodes: RunningNode[] = [];
  after(() => Promise.all(nodes.map((n) => n.close())));

  it('accepts them, and refuses what no subscription could match', () => {
    assert.doesNotThrow(() => validateConfig(config(HISTORY)));
    const problems = (history: unknown[]) => {
      try {
        validateConfig(config(history));
        return [];
      } catch (err) {
        return (err as ConfigError).problems.map(formatProblem);
      }
    };
    assert.deepEqual(problems([{ uri: 'debug.' }, { uri: 'a b', match: 'wildcard' }, { uri: '.x', match: 'prefix' }]), [
      'workers[0].realms[0].store.event-history[0].uri: must be a WAMP URI (dot-separated words without spaces); for a prefix or wildcard pattern set "match"',
      'workers[0].realms[0].store.event-history[1].uri: must be a wildcard pattern (no spaces or "#")',
      'workers[0].realms[0].store.event-history[2].uri: must be a prefix pattern (no spaces or "#"; empty components only at the end)',
    ]);
  });

  it('get_events on a subscription to the pattern returns the events of every matching topic', async () => {
    const node = await createRouter(config(HISTORY));
    nodes.push(node);
    const [publisher, subscriber] = await Promise.all([RawClient.join(node.urls[0]), RawClient.join(node.urls[0])]);
    let request = 0;
    // The subscription to everything gets EVENTs (the meta API's among them): skipped here.
    const reply = async (client: RawClient) => {
      for (;;) {
        const message = await client.next();
        if (message[0] !== EVENT) return message;
      }
    };
    const subscribe = async (uri: string, match: string) => {
      subscriber.send([SUBSCRIBE, ++request, { match }, uri]);
      const subscribed = await reply(subscriber);
      assert.equal(subscribed[0], SUBSCRIBED, JSON.stringify(subscribed));
      return subscribed[2] as number;
    };
    const everything = await subscribe('', 'prefix');
    const debug = await subscribe('debug.', 'prefix');
    const ticks = await subscribe('com..tick', 'wildcard');
    // Events are delivered too; they are not what this test reads.
    for (const [topic, n] of [
      ['debug.a', 1],
      ['com.example.tick', 2],
      ['debug.b', 3],
      ['other.thing', 4],
      ['debug.c', 5],
      ['com.other.tick', 6],
    ] as const) {
      publisher.send([PUBLISH, ++request, { acknowledge: true }, topic, [n]]);
      await reply(publisher);
    }
    const events = async (subscription: number) => {
      publisher.send([CALL, ++request, {}, 'wamp.subscription.get_events', [subscription, 10]]);
      const result = await reply(publisher);
      assert.equal(result[0], RESULT, JSON.stringify(result));
      const list = (result[3] as unknown[])[0] as Array<{ topic: string; args: unknown[] }>;
      // The meta API's own events ("wamp.subscription.on_create", ...) match "" too.
      return list.filter((e) => !e.topic.startsWith('wamp.')).map((e) => `${e.topic}=${e.args[0]}`);
    };
    assert.deepEqual(await events(debug), ['debug.c=5', 'debug.b=3'], 'newest first, its own limit of 2');
    assert.deepEqual(await events(ticks), ['com.other.tick=6', 'com.example.tick=2']);
    assert.deepEqual(
      await events(everything),
      ['com.other.tick=6', 'debug.c=5', 'other.thing=4', 'debug.b=3', 'com.example.tick=2'],
      'the store limit of 5',
    );
    publisher.close();
    subscriber.close();
  });
});
