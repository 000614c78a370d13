/**
 * Advanced PubSub and the subscription meta API with Autobahn|Python (Debian's
 * python3-autobahn 22.7, asyncio flavour) over WebSocket with JSON,
 * MessagePack and CBOR: overlapping pattern subscriptions, every PUBLISH
 * option, event retention, event history, testaments, every
 * wamp.subscription.* procedure and event, and ordering under load.
 *
 * Each test runs one scenario of test/interop/python/pubsub_scenarios.py
 * against a real router and compares the JSON line it prints with the exact
 * values expected. IDs come back as names ('P', 'sub_exact', 'p1', ...) and
 * topics relative to a per-run base ('X'), so whole results compare at once.
 * "wire" values are the EVENT fields as Autobahn|Python parsed them off the
 * wire (null where the router sent nothing); "handler" values are what it
 * handed the event handler (EventDetails).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { useRouter } from '../helpers/node.ts';
import { scenarioRunner } from '../helpers/python.ts';

const SCRIPT = fileURLToPath(new URL('./python/pubsub_scenarios.py', import.meta.url));
/** The script bounds itself (15 s, 30 s for the load scenario, +2 s to leave); this is the last resort. */
const SCRIPT_TIMEOUT_MS = 40_000;

type Serializer = 'json' | 'msgpack' | 'cbor';
type Observed = Record<string, any>;

/** Runs one scenario in a Python process shared by the scenarios of this file (the router keeps serving in this one) and returns what it observed. */
const runScenario = scenarioRunner<Observed>(SCRIPT, SCRIPT_TIMEOUT_MS);

/** Options cases of the publish_options scenario and who must receive each (P publishes; all four subscribe). */
const PUBLISH_CASES: [string, string[]][] = [
  ['default', ['A', 'B', 'C']],
  ['exclude_me_true', ['A', 'B', 'C']],
  ['exclude_me_false', ['P', 'A', 'B', 'C']],
  ['exclude', ['A', 'C']],
  ['exclude_two_me_too', ['P', 'B']],
  ['exclude_authid', ['B', 'C']],
  ['exclude_authrole', []],
  ['exclude_authrole_other', ['A', 'B', 'C']],
  ['eligible', ['A', 'C']],
  ['eligible_me_too', ['P', 'A']],
  ['eligible_authid', ['B']],
  ['eligible_authrole', ['A', 'B', 'C']],
  ['eligible_authrole_none', []],
  ['eligible_and_exclude', ['A']],
  ['eligible_authid_and_exclude_authid', ['A']],
  ['eligible_and_eligible_authid', ['B']],
];

const scenarios: Record<string, (observed: Observed, serializer: Serializer) => void> = {
  patterns(observed) {
    // [publication, topic, args, kwargs]; on the wire the exact subscription's EVENT names no topic
    const p1 = (topic: string | null) => ['p1', topic, ['p1'], { n: 1 }];
    const p2 = (topic: string | null) => ['p2', topic, ['p2'], { n: 2 }];
    const p3 = (topic: string | null) => ['p3', topic, ['p3'], { n: 3 }];
    assert.deepEqual(observed, {
      distinct_subscriptions: 4,
      exact: { wire: [p1(null)], handler: [p1('X.a.b')] },
      prefix: { wire: [p1('X.a.b'), p2('X.a.zz')], handler: [p1('X.a.b'), p2('X.a.zz')] },
      wildcard: { wire: [p1('X.a.b'), p3('X.q.b')], handler: [p1('X.a.b'), p3('X.q.b')] },
      outer: { wire: [p1('X.a.b'), p2('X.a.zz'), p3('X.q.b')], handler: [p1('X.a.b'), p2('X.a.zz'), p3('X.q.b')] },
      s_total: 5,
      other_total: 3,
    });
  },

  publish_options(observed) {
    const received: Record<string, string[]> = {};
    for (const name of ['P', 'A', 'B', 'C']) {
      received[name] = PUBLISH_CASES.filter(([, receivers]) => receivers.includes(name)).map(([label]) => label);
    }
    const disclosed = {
      publication: 'disclosed',
      args: ['disclosed'],
      kwargs: { k: 1 },
      publisher: 'P',
      publisher_authid_is_P: true,
      publisher_authrole: 'anonymous',
    };
    const hidden = { publication: 'hidden', args: ['hidden'], publisher: null, publisher_authid_is_P: null, publisher_authrole: null };
    const publications = observed.acknowledge?.events_at_A?.map((e: unknown[]) => e[1]) ?? [];
    assert.ok(
      publications.length === 3 &&
        publications[0].startsWith('unknown:') &&
        publications[1].startsWith('unknown:') &&
        publications[0] !== publications[1],
      `the unacknowledged publications have IDs of their own: ${JSON.stringify(publications)}`,
    );
    assert.deepEqual(observed, {
      received,
      publication_ids_ok: true,
      distinct_authids: 4,
      acknowledge: {
        unacked_returns: 'None',
        ack_false_returns: 'None',
        acked_type: 'Publication',
        // PUBLISHED only for the acknowledged publication (and the barrier after it)
        published_after: ['acked', 'barrier'],
        events_at_A: [
          [['unacknowledged'], publications[0]],
          [['ack_false'], publications[1]],
          [['acknowledged'], 'acked'],
        ],
        unacked_publication_is_id: true,
      },
      disclose: {
        // on the wire: no kwargs at all when published without (Autobahn|Python omits empty kwargs)
        wire_at_A: [disclosed, { ...hidden, kwargs: null }],
        handler_at_B: [disclosed, { ...hidden, kwargs: {} }],
      },
    });
  },

  retained(observed) {
    const publication = observed.retained_wire?.[0]?.publication;
    // The retained EVENT may carry the original publication ID or a new one (Crossbar sends a new one).
    assert.ok(publication === 'new' || publication === 'an ID', `retained EVENT.Publication is an ID, got ${JSON.stringify(publication)}`);
    const event = { args: ['new', 2, { deep: [true, null] }], kwargs: { v: 'new', n: 2.5 }, publisher: null, retained: true, publication };
    assert.deepEqual(observed, {
      distinct_publications: true,
      retained_wire: [{ ...event, topic: null }],
      retained_handler: [{ ...event, topic: 'X.t' }],
      pattern_wire: [{ ...event, topic: 'X.t' }],
      pattern_handler: [{ ...event, topic: 'X.t' }],
      without_get_retained: 0,
      get_retained_false: 0,
      after_live_wire: [{ args: ['live'], kwargs: null, topic: null, retained: null, publisher: null, publication: 'live' }],
    });
  },

  event_history(observed, serializer) {
    const event = (i: number) => ({
      timestamp_iso: true,
      subscription: 'sub',
      publication: `p${i}`,
      topic: `com.kreuz.pyhistory.${serializer}`,
      details: {},
      args: ['event', i, { nested: [i, null, true] }],
      kwargs: { i, label: `#${i}`, list: [1.5, 'x'] },
    });
    assert.deepEqual(observed, {
      limit_3: [event(7), event(6), event(5)],
      default_limit: ['p7', 'p6', 'p5', 'p4', 'p3'],
    });
  },

  testament(observed) {
    assert.deepEqual(observed, {
      add_testament_returns: null,
      // [args, kwargs, publisher, retained] on the wire
      event_wire: [[['bye'], { who: 'T' }, null, null]],
      event_publication_is_id: true,
      event_handler: [[['bye'], { who: 'T' }]],
      second_add_testament_returns: null,
      flush_testaments_returns: 1, // as Crossbar: how many were flushed
      events_after_flushed_death: 0,
    });
  },

  meta(observed) {
    const details = (id: string, uri: string, match: string) => ({ created_iso: true, id, uri, match });
    const steps = observed.steps as [string, unknown[]][];
    // B's two subscriptions go in either order when it leaves; the barrier one is still A's, so it is not deleted.
    const leaving = steps?.[steps.length - 1]?.[1] as unknown[][] | undefined;
    const wildcardFirst = JSON.stringify(leaving?.[0]) === JSON.stringify(['on_unsubscribe', ['B', 'sub_wildcard']]);
    const wildcardEvents = [
      ['on_unsubscribe', ['B', 'sub_wildcard']],
      ['on_delete', ['B', 'sub_wildcard']],
    ];
    const barrierEvents = [['on_unsubscribe', ['B', 'sub_barrier']]];
    assert.deepEqual(observed, {
      same_subscription: true,
      list_all_contains: { exact: ['sub_exact'], prefix: ['sub_prefix'], wildcard: ['sub_wildcard'] },
      list_all_others: { exact: 0, prefix: 0, wildcard: 0 },
      list_A: { exact: ['sub_exact'], prefix: ['sub_prefix'], wildcard: [] },
      list_B: { exact: ['sub_exact'], prefix: [], wildcard: ['sub_wildcard'] },
      list_W: { exact: [], prefix: [], wildcard: [] },
      list_unknown_session: 'wamp.error.no_such_session',
      lookup: {
        exact: 'sub_exact',
        exact_explicit: 'sub_exact',
        prefix: 'sub_prefix',
        wildcard: 'sub_wildcard',
        prefix_uri_as_exact: null,
        exact_uri_as_prefix: null,
      },
      match: {
        topic: ['sub_exact', 'sub_prefix', 'sub_wildcard'],
        prefix_only: ['sub_prefix'],
        wildcard_only: ['sub_wildcard'],
        none: null,
      },
      get: {
        exact: details('sub_exact', 'X.x.y', 'exact'),
        prefix: details('sub_prefix', 'X.x', 'prefix'),
        wildcard: details('sub_wildcard', 'X..y', 'wildcard'),
        unknown: 'wamp.error.no_such_subscription',
      },
      list_subscribers: { exact: ['A', 'B'], prefix: ['A'], wildcard: ['B'] },
      count_subscribers: { exact: 2, wildcard: 1 },
      remove_B_returns: null,
      // UNSUBSCRIBED [35, 0, {subscription, reason}] (captured raw: see the Peer class)
      B_revocations: [['sub_exact', 'wamp.error.unsubscribed']],
      after_remove: {
        list_subscribers: ['A'],
        count_subscribers: 1,
        again: 'wamp.error.no_such_subscription',
        unknown_session: 'wamp.error.no_such_session',
        unknown_subscription: 'wamp.error.no_such_subscription',
      },
      remove_A_prefix_returns: null,
      A_revocations: [['sub_prefix', 'com.example.go_away']],
      events_after_remove: { A: [['after', ['after']]], B: [] },
      after_delete: {
        get: 'wamp.error.no_such_subscription',
        list_subscribers: 'wamp.error.no_such_subscription',
        count_subscribers: 'wamp.error.no_such_subscription',
        lookup: null,
        match: ['sub_wildcard'],
      },
      after_B_left: { list_barrier_subscribers: ['A'], wildcard: 'wamp.error.no_such_subscription' },
      list_all_end_contains: { exact: ['sub_barrier'], prefix: [], wildcard: [] },
      steps: [
        [
          'A subscribes exact',
          [
            ['on_create', ['A', details('sub_exact', 'X.x.y', 'exact')]],
            ['on_subscribe', ['A', 'sub_exact']],
          ],
        ],
        ['B subscribes exact', [['on_subscribe', ['B', 'sub_exact']]]],
        [
          'A subscribes prefix',
          [
            ['on_create', ['A', details('sub_prefix', 'X.x', 'prefix')]],
            ['on_subscribe', ['A', 'sub_prefix']],
          ],
        ],
        [
          'B subscribes wildcard',
          [
            ['on_create', ['B', details('sub_wildcard', 'X..y', 'wildcard')]],
            ['on_subscribe', ['B', 'sub_wildcard']],
          ],
        ],
        ['remove_subscriber B', [['on_unsubscribe', ['B', 'sub_exact']]]],
        [
          'remove_subscriber A (last of prefix)',
          [
            ['on_unsubscribe', ['A', 'sub_prefix']],
            ['on_delete', ['A', 'sub_prefix']],
          ],
        ],
        [
          'barrier subscriptions',
          [
            ['on_create', ['A', details('sub_barrier', 'X-barrier', 'exact')]],
            ['on_subscribe', ['A', 'sub_barrier']],
            ['on_subscribe', ['B', 'sub_barrier']],
          ],
        ],
        [
          'A unsubscribes the last exact',
          [
            ['on_unsubscribe', ['A', 'sub_exact']],
            ['on_delete', ['A', 'sub_exact']],
          ],
        ],
        ['B leaves', wildcardFirst ? [...wildcardEvents, ...barrierEvents] : [...barrierEvents, ...wildcardEvents]],
      ],
    });
  },

  ordering(observed) {
    assert.deepEqual(observed, { in_order: [true, true, true], counts: [2000, 2000, 2000], within_bound: true });
  },
};

const router = useRouter();

for (const serializer of ['json', 'msgpack', 'cbor'] as const) {
  describe(`Autobahn|Python 22.7 advanced PubSub over WebSocket with ${serializer}`, () => {
    for (const [scenario, check] of Object.entries(scenarios)) {
      if (scenario === 'event_history') continue; // below, on a router with an event history
      it(scenario, { timeout: SCRIPT_TIMEOUT_MS + 5_000 }, async () => {
        check(await runScenario(router.url, serializer, scenario), serializer);
      });
    }
  });
}

describe('Autobahn|Python 22.7 event history (router with eventHistory limit 5)', () => {
  const historyRouter = useRouter({
    eventHistory: (['json', 'msgpack', 'cbor'] as const).map((s) => ({
      uri: `com.kreuz.pyhistory.${s}`,
      match: 'exact' as const,
      limit: 5,
    })),
  });
  for (const serializer of ['json', 'msgpack', 'cbor'] as const) {
    it(`wamp.subscription.get_events over ${serializer}`, { timeout: SCRIPT_TIMEOUT_MS + 5_000 }, async () => {
      scenarios.event_history(await runScenario(historyRouter.url, serializer, 'event_history'), serializer);
    });
  }
});
