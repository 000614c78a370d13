/**
 * Authentication throttling end to end (issue 11), over real WebSocket
 * connections from 127.0.0.1 to the production WebSocket transport:
 * parallel attempts from one address are serialized and delayed, an
 * anonymous login does not reset a ticket brute force, and behind a trusted
 * proxy the forwarded address is what counts.
 *
 * Time is the router's (`timers`, `now`): each throttle wait is recorded and
 * then passed at once, so the tests count waits instead of measuring them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildTransportAuth } from '../../src/auth/index.ts';
import type { AuthStep, Authenticator, TransportAuth } from '../../src/core/authentication.ts';
import type { Timers } from '../../src/core/hooks.ts';
import type { TransportInfo } from '../../src/core/peer.ts';
import { Router } from '../../src/core/router.ts';
import type { Session } from '../../src/core/session.ts';
import { listenWebSocket } from '../../src/transports/websocket.ts';
import { ROLES, WsClient as Client, outcomeOf as reasonOf } from '../auth/ws-client.ts';

const NOT_AUTHORIZED = 'wamp.error.not_authorized';

/** A clock that jumps: every wait asked for is recorded, then over at the next turn of the event loop. */
function jumpingClock() {
  let now = 0;
  const waits: number[] = [];
  const timers: Timers = {
    setTimeout(callback, ms) {
      if (ms >= 1e8) return undefined; // the opening timeout (set far off below): never
      waits.push(ms);
      const due = now + ms;
      return setImmediate(() => {
        now = Math.max(now, due);
        callback();
      });
    },
    clearTimeout(handle) {
      if (handle) clearImmediate(handle as NodeJS.Immediate);
    },
  };
  return { timers, now: () => now, waits };
}

/**
 * The ticket method, watched: how many attempts are between their start and
 * their verdict at once, in which order they start, and what transport each saw.
 */
function watchedTicket(auth: TransportAuth) {
  const ticket = auth.get('ticket')!;
  const seen = { active: 0, maxActive: 0, started: [] as TransportInfo[] };
  const watched: Authenticator = {
    method: 'ticket',
    start(request) {
      seen.active++;
      seen.maxActive = Math.max(seen.maxActive, seen.active);
      seen.started.push(request.transport);
      const step = ticket.start(request) as Extract<AuthStep, { kind: 'challenge' }>;
      return {
        ...step,
        verify(signature, extra) {
          seen.active--;
          return step.verify(signature, extra);
        },
      };
    },
  };
  return { auth: new Map([...auth, ['ticket', watched]]) as TransportAuth, seen };
}

async function start(options: { trustedProxies?: string[] } = {}) {
  const clock = jumpingClock();
  const router = new Router({ realms: [{ name: 'realm1' }], timers: clock.timers, now: clock.now, limits: { openingTimeout: 1e9 } });
  const { auth, seen } = watchedTicket(
    buildTransportAuth({
      ticket: {
        type: 'static',
        principals: { joe: { ticket: 'secret!!!', role: 'frontend' }, ann: { ticket: 'ann-secret', role: 'frontend' } },
      },
      anonymous: { type: 'static', role: 'public' },
    }),
  );
  const helloOrder: string[] = [];
  const receive = router.receive.bind(router);
  router.receive = (session: Session, raw: unknown) => {
    if (Array.isArray(raw) && raw[0] === 1) helloOrder.push(session.peer.info.peer);
    receive(session, raw);
  };
  const listener = await listenWebSocket(
    router,
    { host: '127.0.0.1', port: 0 },
    { auth, autoPingInterval: 0, trustedProxies: options.trustedProxies },
  );
  return { router, listener, clock, seen, helloOrder, url: listener.url };
}

/** One ticket login from a new connection: HELLO, CHALLENGE, AUTHENTICATE; answers the WELCOME or ABORT. */
async function ticketLogin(url: string, authid: string, ticket: string, forwardedFor?: string): Promise<unknown[]> {
  const client = await Client.open(url, forwardedFor);
  try {
    client.send([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid }]);
    const challenge = await client.next();
    assert.equal(challenge[0], 4, `CHALLENGE expected, got ${JSON.stringify(challenge)}`);
    client.send([5, ticket, {}]);
    return await client.next();
  } finally {
    client.close();
  }
}

describe('throttling over sockets: attempts from one address', () => {
  it('30 parallel wrong tickets from 127.0.0.1 are authenticated one at a time, in order, each after its delay', async () => {
    const { listener, clock, seen, helloOrder, url } = await start();
    try {
      const clients = await Promise.all(Array.from({ length: 30 }, () => Client.open(url)));
      const outcomes = await Promise.all(
        clients.map(async (client, i) => {
          client.send([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: 'joe' }]);
          const challenge = await client.next(20_000);
          assert.equal(challenge[0], 4);
          client.send([5, `wrong-${i}`, {}]);
          return client.next(20_000);
        }),
      );
      assert.deepEqual(outcomes.map(reasonOf), Array(30).fill(NOT_AUTHORIZED));
      assert.equal(seen.maxActive, 1, 'never two authentications of the address pending at once');
      assert.equal(seen.started.length, 30);
      assert.deepEqual(
        seen.started.map((t) => t.peer),
        helloOrder,
        'they start in the order their HELLOs came',
      );
      // 3 free failures, then 250 ms doubling to the 10 s cap, one wait per further attempt.
      assert.deepEqual(clock.waits, [250, 500, 1000, 2000, 4000, 8000, ...Array(21).fill(10_000)]);
      for (const client of clients) client.close();
    } finally {
      await listener.close();
    }
  });

  it('beyond 32 waiting, a HELLO from the address is refused with kreuz.error.rate_limited', async () => {
    const { listener, url } = await start();
    try {
      // One holder that never answers its CHALLENGE, 32 waiting behind it, and one too many.
      const holder = await Client.open(url);
      holder.send([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: 'joe' }]);
      assert.equal((await holder.next())[0], 4);
      const waiting = await Promise.all(Array.from({ length: 32 }, () => Client.open(url)));
      for (const client of waiting) client.send([1, 'realm1', { roles: ROLES, authmethods: ['ticket'], authid: 'joe' }]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const extra = await Client.open(url);
      extra.send([1, 'realm1', { roles: ROLES, authmethods: ['anonymous'] }]);
      const refused = await extra.next();
      assert.deepEqual([refused[0], refused[2]], [3, 'kreuz.error.rate_limited']);
      // The holder's connection goes: the first one waiting gets its CHALLENGE.
      holder.close();
      assert.equal((await waiting[0].next())[0], 4);
      for (const client of [...waiting, extra]) client.close();
    } finally {
      await listener.close();
    }
  });

  it('an anonymous login from the address does not reset a ticket brute force', async () => {
    const { listener, clock, url } = await start();
    try {
      for (let i = 0; i < 5; i++) assert.equal(reasonOf(await ticketLogin(url, 'joe', `wrong-${i}`)), NOT_AUTHORIZED);
      assert.deepEqual(clock.waits, [250, 500]);
      const anonymous = await Client.open(url);
      anonymous.send([1, 'realm1', { roles: ROLES, authmethods: ['anonymous'] }]);
      assert.equal(reasonOf(await anonymous.next()), 'welcome');
      anonymous.close();
      for (let i = 5; i < 7; i++) assert.equal(reasonOf(await ticketLogin(url, 'joe', `wrong-${i}`)), NOT_AUTHORIZED);
      // The anonymous HELLO waited its turn (1 s); the count went on: the 7th attempt waits 2 s, as without the anonymous login.
      assert.deepEqual(clock.waits, [250, 500, 1000, 2000]);
    } finally {
      await listener.close();
    }
  });
});

describe('throttling over sockets: trusted_proxies', () => {
  it('from a trusted proxy the right-most untrusted X-Forwarded-For hop is the client: two of them do not throttle each other', async () => {
    const { listener, clock, seen, url } = await start({ trustedProxies: ['127.0.0.1'] });
    try {
      for (let i = 0; i < 4; i++) await ticketLogin(url, 'joe', 'wrong', `203.0.113.50, 198.51.100.1`);
      assert.deepEqual(clock.waits, [250], 'the 4th attempt from 198.51.100.1 waits');
      assert.equal(reasonOf(await ticketLogin(url, 'ann', 'wrong', '198.51.100.2, 127.0.0.1')), NOT_AUTHORIZED);
      assert.deepEqual(clock.waits, [250], '198.51.100.2 (behind two trusted hops) is not slowed by 198.51.100.1');
      const [first] = seen.started;
      assert.equal(first.peer, 'tcp:198.51.100.1', 'the transport info shows the forwarded client');
      assert.equal(first.address, '198.51.100.1');
      assert.match(first.via!, /^tcp:(::ffff:)?127\.0\.0\.1:\d+$/, 'and the proxy it came through');
      assert.equal(seen.started.at(-1)!.peer, 'tcp:198.51.100.2');
    } finally {
      await listener.close();
    }
  });

  it('behind a trusted proxy, one authid attacked from many addresses is slowed too', async () => {
    const { listener, clock, url } = await start({ trustedProxies: ['127.0.0.0/8'] });
    try {
      for (let i = 1; i <= 3; i++) await ticketLogin(url, 'joe', 'wrong', `198.51.100.${i}`);
      assert.deepEqual(clock.waits, []);
      await ticketLogin(url, 'joe', 'wrong', '198.51.100.4');
      assert.deepEqual(clock.waits, [250], "joe's record: a fresh address waits for him");
      await ticketLogin(url, 'ann', 'wrong', '198.51.100.5');
      assert.deepEqual(clock.waits, [250], 'another authid from another address does not');
    } finally {
      await listener.close();
    }
  });

  it('from an address that is not trusted the header is ignored: everyone is 127.0.0.1', async () => {
    const { listener, clock, seen, url } = await start();
    try {
      for (let i = 0; i < 3; i++) await ticketLogin(url, 'joe', 'wrong', '198.51.100.1');
      assert.equal(reasonOf(await ticketLogin(url, 'ann', 'wrong', '198.51.100.2')), NOT_AUTHORIZED);
      assert.deepEqual(clock.waits, [250], "the two forwarded addresses share 127.0.0.1's record");
      for (const transport of seen.started) {
        assert.match(transport.peer, /^tcp:(::ffff:)?127\.0\.0\.1:\d+$/);
        assert.equal(transport.via, undefined);
      }
    } finally {
      await listener.close();
    }
  });
});
