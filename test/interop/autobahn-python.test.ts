/**
 * Interop with Autobahn|Python (Debian's python3-autobahn 22.7, asyncio flavour)
 * over WebSocket with each serializer: each test runs one scenario of
 * test/interop/python/scenarios.py against a real router and checks the JSON
 * line it prints with the exact values expected.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useRouter } from '../helpers/node.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python/scenarios.py', import.meta.url));
/** The script bounds itself at 15 s (+2 s to leave); this is the last resort. */
const SCRIPT_TIMEOUT_MS = 25_000;

type Serializer = 'json' | 'msgpack' | 'cbor';
type Observed = Record<string, unknown>;

const router = useRouter();

/**
 * Checked once; every test fails with the install hint if Autobahn|Python is
 * missing (a failing before() hook shows up as "fail 0" in Node 20's summary).
 */
const pythonProblem: Promise<string | undefined> = new Promise((resolve) => {
  execFile(PYTHON, ['-c', 'import autobahn, cbor2, msgpack'], { timeout: 10_000 }, (err, _stdout, stderr) =>
    resolve(
      err
        ? `Autobahn|Python is not usable with ${PYTHON}; install it with ` +
            `"apt-get install -y python3-autobahn python3-cbor2 python3-msgpack".\n${err.message}\n${stderr}`
        : undefined,
    ),
  );
});

/** Runs one scenario in a child process (the router keeps serving in this one) and returns its JSON line. */
function runScenario(serializer: Serializer, scenario: string): Promise<Observed> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, router.url, serializer, scenario], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), SCRIPT_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        const how = signal ? `was killed by ${signal} (timeout ${SCRIPT_TIMEOUT_MS} ms?)` : `exited with ${code}`;
        reject(new Error(`scenario ${scenario} over ${serializer} ${how}\nstdout: ${stdout}\nstderr: ${stderr}`));
        return;
      }
      const lines = stdout.trim().split('\n');
      try {
        resolve(JSON.parse(lines[lines.length - 1]) as Observed);
      } catch {
        reject(new Error(`scenario ${scenario} printed no JSON line\nstdout: ${stdout}\nstderr: ${stderr}`));
      }
    });
  });
}

function assertId(value: unknown, what: string): asserts value is number {
  assert.ok(
    typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 2 ** 53,
    `${what} must be an integer in [1, 2^53], got ${JSON.stringify(value)}`,
  );
}

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
        const problem = await pythonProblem;
        if (problem) assert.fail(problem);
        check(await runScenario(serializer, scenario), serializer);
      });
    }
  });
}
