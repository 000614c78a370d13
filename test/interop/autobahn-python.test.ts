/**
 * Interop with Autobahn|Python (Debian's python3-autobahn 22.7, asyncio flavour)
 * over WebSocket with each serializer: each test runs one scenario of
 * test/interop/python/scenarios.py against a real router and checks the JSON
 * line it prints with the exact values expected.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { assertId } from '../helpers/assertions.ts';
import { useRouter } from '../helpers/node.ts';
import { scenarioRunner } from '../helpers/python.ts';

const SCRIPT = fileURLToPath(new URL('./python/scenarios.py', import.meta.url));
/** The script bounds itself at 15 s (+2 s to leave); this is the last resort. */
const SCRIPT_TIMEOUT_MS = 25_000;

type Serializer = 'json' | 'msgpack' | 'cbor';
type Observed = Record<string, unknown>;

const router = useRouter();

/** Runs one scenario in a Python process shared by the scenarios of this file (the router keeps serving in this one) and returns what it observed. */
const runScenario = scenarioRunner<Observed>(SCRIPT, SCRIPT_TIMEOUT_MS);

/** Per scenario: checks the observed values (serializer given for the ones that report it). */
const scenarios: Record<string, (observed: Observed, serializer: Serializer) => void> = {
  rpc(observed) {
    assert.deepEqual(observed, {
      add2: 5,
      multi: { type: 'CallResult', args: ['one', 2, [3, 4]], kwargs: { name: 'kreuz', nested: { ok: true, n: null } } },
      kwargs_only: { args: [], kwargs: { name: 'x', n: 3 } },
    });
  },

  error_passthrough(observed) {
    assert.deepEqual(observed, { error: 'com.example.error.bad_input', args: ['why', 2], kwargs: { code: 42 } });
  },

  no_such_procedure(observed) {
    assert.deepEqual(observed, { error: 'wamp.error.no_such_procedure' });
  },

  duplicate_register(observed) {
    assert.deepEqual(observed, { error: 'wamp.error.procedure_already_exists', call_after: 'A' });
  },

  unregister(observed) {
    assert.deepEqual(observed, {
      before: 'A',
      active_after_unregister: false,
      error_after: 'wamp.error.no_such_procedure',
      after_reregister: 'B',
    });
  },

  callee_leaves(observed) {
    const { elapsed, ...rest } = observed;
    assert.deepEqual(rest, { invocation_started: true, error: 'wamp.error.canceled' });
    assert.equal(typeof elapsed, 'number');
    assert.ok((elapsed as number) < 3, `the caller got wamp.error.canceled only after ${elapsed} s`);
  },

  pubsub(observed) {
    const id = observed.acked_publication_id;
    assertId(id, 'PUBLISHED.Publication');
    assert.deepEqual(observed, {
      acked_publication_type: 'Publication',
      acked_publication_id: id,
      first_event: { args: [1, 'two', [3.5, null]], kwargs: { color: 'red', nested: { k: [true, false] } }, publication: id },
      event_publication_matches_ack: true,
      unacked_returns: 'None',
      second_event: { args: ['second'], kwargs: {} },
    });
  },

  exclude_me(observed) {
    assert.deepEqual(observed, {
      own_events_after_default: 0,
      own_event_with_exclude_me_false: ['included'],
      own_total: 1,
      other_events: [['default'], ['included']],
    });
  },

  shared_subscription_id(observed) {
    assertId(observed.a_id, "A's subscription ID");
    assert.deepEqual(observed, { a_id: observed.a_id, b_id: observed.a_id, same: true, other_differs: true });
  },

  binary(observed) {
    assert.deepEqual(observed, {
      call_small_type: 'bytes',
      call_small_equal: true,
      call_small_hex: '0001feff',
      call_big_type: 'bytes',
      call_big_equal: true,
      event_arg_type: 'bytes',
      event_arg_equal: true,
      event_kwarg_type: 'bytes',
      event_kwarg_equal: true,
    });
  },

  session_details(observed, serializer) {
    assertId(observed.session, 'WELCOME.Session');
    assert.equal(typeof observed.authid, 'string');
    assert.notEqual(observed.authid, '');
    assert.deepEqual(observed, {
      session: observed.session,
      realm: 'realm1',
      authid: observed.authid,
      authrole: 'anonymous',
      authmethod: 'anonymous',
      authprovider: 'static',
      serializer,
      other_session_differs: true,
    });
  },

  goodbye(observed) {
    assert.deepEqual(observed, { reason: 'wamp.close.goodbye_and_out', second_session_registered_and_called: 'B' });
  },
};

for (const serializer of ['json', 'msgpack', 'cbor'] as const) {
  describe(`Autobahn|Python 22.7 over WebSocket with ${serializer}`, () => {
    for (const [scenario, check] of Object.entries(scenarios)) {
      it(scenario, { timeout: SCRIPT_TIMEOUT_MS + 5_000 }, async () => {
        check(await runScenario(router.url, serializer, scenario), serializer);
      });
    }
  });
}
