/**
 * Issue 11: no connection may be held open silently forever. A client that
 * connects and never sends HELLO, or stops after HELLO while its CHALLENGE is
 * pending, is closed once the opening timeout passes (limits.openingTimeout,
 * 3000 ms here, so that a loaded CI machine still answers HELLO in time; 10 s
 * by default), on every listener type: with ABORT (exactly
 * 3 elements, a Details.message) or by closing the transport. Those waiting
 * for a WELCOME no longer count then: the router's sessions are back to the
 * bystanders'. A joined session that says nothing stays (that is what
 * auto-ping is for).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ENDPOINT_NAMES, RouterProcess, freshPrincipal } from '../helpers/router-process.ts';
import { ROLES, WampWireClient, describeClose } from '../helpers/wamp-wire-client.ts';
import { useRouterSession } from '../fuzz/harness.ts';

const OPENING_TIMEOUT = 3000;
/** Generous: the timeout, plus time for a loaded machine to act on it. */
const CLOSED_WITHIN = OPENING_TIMEOUT + 4000;

const { session, guarded } = useRouterSession(() => RouterProcess.start({ limits: { openingTimeout: OPENING_TIMEOUT } }));

async function expectClosedSilently(client: WampWireClient, what: string): Promise<void> {
  const closed = await client.closesWithin(CLOSED_WITHIN);
  assert.ok(closed, `${client.endpoint.name}: ${what}: still open after ${CLOSED_WITHIN} ms`);
  for (const m of client.log) {
    if (m[0] !== 3) continue;
    assert.equal(m.length, 3, `ABORT has exactly 3 elements: ${JSON.stringify(m)}`);
    assert.equal(typeof (m[1] as { message?: unknown }).message, 'string', `ABORT says why: ${JSON.stringify(m)}`);
  }
}

describe('issue 11: connections that never establish a session are closed (openingTimeout 3000 ms)', () => {
  it(
    'on every listener: connected (WebSocket open, RawSocket handshake done), then nothing',
    guarded(async () => {
      const inFlight = await session.bystanders.begin();
      const clients = await Promise.all(ENDPOINT_NAMES.map((name) => WampWireClient.open(session.router.endpoints[name], 'json')));
      await Promise.all(clients.map((c) => expectClosedSilently(c, 'never sent HELLO')));
      for (const c of clients) assert.ok(c.closeInfo, describeClose(c.closeInfo ?? {}));
      await session.guard.checkAlive();
      await session.bystanders.finish(inFlight);
    }),
  );

  it(
    'on every listener: HELLO with ticket, CHALLENGE received, then no AUTHENTICATE',
    guarded(async () => {
      const inFlight = await session.bystanders.begin();
      const clients = await Promise.all(
        ENDPOINT_NAMES.map(async (name) => {
          const c = await WampWireClient.open(session.router.endpoints[name], 'cbor');
          c.send([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: freshPrincipal() }]);
          const reply = await c.next();
          assert.equal(reply[0], 4, `${name}: CHALLENGE expected, got ${JSON.stringify(reply)}`);
          return c;
        }),
      );
      await Promise.all(clients.map((c) => expectClosedSilently(c, 'never answered its CHALLENGE')));
      await session.guard.checkAlive();
      await session.bystanders.finish(inFlight);
      await session.guard.waitForBaseline();
    }),
  );

  it(
    'a joined session that says nothing is not closed by the opening timeout',
    guarded(async () => {
      const c = await WampWireClient.join(session.router.endpoints.rs, 'msgpack');
      assert.equal(await c.closesWithin(OPENING_TIMEOUT * 2), false, 'a joined session stays');
      c.send([48, 1, {}, 'com.nobody']);
      assert.equal((await c.next())[0], 8, 'and is still served');
      c.destroy();
    }),
  );

  it(
    'after all of it: heap within bounds, no hostile session left',
    guarded(async () => {
      await session.guard.checkBatch();
    }),
  );
});
