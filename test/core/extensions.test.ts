/**
 * The Router's extension surface (router.use): peer wrappers, the inbound
 * tap, gates after authorization, realm events for calls, stopAdmitting()
 * and callsInFlight(), over the in-memory peer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/logger.ts';
import { Router } from '../../src/core/router.ts';
import type { Authorizer, Decision } from '../../src/core/authorization.ts';
import type { GateVerdict, GuardedMessage, RouterExtension } from '../../src/core/extensions.ts';
import type { Peer } from '../../src/core/peer.ts';
import type { Session } from '../../src/core/session.ts';
import type { Outbound } from '../../src/wamp/messages.ts';
import { MemoryClient, MemoryPeer } from '../helpers/memory-peer.ts';
import {
  ABORT,
  CALL,
  ERROR,
  INVOCATION,
  PUBLISH,
  PUBLISHED,
  REGISTER,
  REGISTERED,
  RESULT,
  SUBSCRIBE,
  SUBSCRIBED,
  YIELD,
} from '../helpers/wamp-codes.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function router(extension?: RouterExtension, authorizer?: Authorizer): Router {
  const r = new Router({ realms: [{ name: 'realm1', ...(authorizer && { authorizer }) }] });
  if (extension) r.use(extension);
  return r;
}

describe('router extensions: peer wrapper and inbound tap', () => {
  it('wraps the peer of each connection, and the router sends through the wrapper', () => {
    const seen: Outbound[] = [];
    const wrapped: Peer[] = [];
    const r = router({
      wrapPeer(peer) {
        const wrapper: Peer = {
          info: peer.info,
          send: (m) => {
            seen.push(m);
            peer.send(m);
          },
          close: (reason) => peer.close(reason),
        };
        wrapped.push(wrapper);
        return wrapper;
      },
    });
    const client = MemoryClient.join(r);
    assert.equal(client.session.peer, wrapped[0], 'the session keeps the wrapper');
    client.register('com.example.a');
    assert.deepEqual(
      seen.map((m) => m[0]),
      [2, REGISTERED],
      'WELCOME and REGISTERED went through it',
    );
  });

  it('wrappers stack in the order they were added', () => {
    const order: string[] = [];
    const wrapper = (name: string): RouterExtension => ({
      wrapPeer: (peer) => ({
        info: peer.info,
        send: (m) => {
          order.push(name);
          peer.send(m);
        },
        close: (reason) => peer.close(reason),
      }),
    });
    const r = router().use(wrapper('first')).use(wrapper('second'));
    MemoryClient.join(r);
    assert.deepEqual(order, ['second', 'first'], 'the last added is outermost');
  });

  it("taps every message of a client session once, held ones too, and never the router's own", async () => {
    const pending = deferred<Decision>();
    const authorizer: Authorizer = { authorize: () => pending.promise, hasRole: () => true };
    const tapped: unknown[] = [];
    const r = router({ inbound: (_session, message) => tapped.push(message) }, authorizer);
    const client = MemoryClient.join(r);
    client.send([SUBSCRIBE, 1, {}, 'com.example.t']); // held by the authorizer
    client.send([PUBLISH, 2, {}, 'com.example.t']); // held behind it
    assert.deepEqual(
      tapped.map((m) => (m as unknown[])[0]),
      [1, SUBSCRIBE, PUBLISH],
      'HELLO, then both as they arrived',
    );
    pending.resolve({ allow: true });
    await tick();
    assert.equal(tapped.length, 3, 'released messages are not tapped again');
    r.joinInternal(new MemoryPeer(), 'realm1', 'internal');
    const internal = r.joinInternal(new MemoryPeer(), 'realm1', 'internal2');
    r.receive(internal, [PUBLISH, 1, {}, 'com.example.t']);
    assert.equal(tapped.length, 3, 'internal sessions are not tapped');
  });

  it('a tap that throws is logged and the message still handled', () => {
    const warnings: string[] = [];
    const r = new Router({
      realms: [{ name: 'realm1' }],
      logger: { ...silentLogger, warn: (_f: object, m: string) => void warnings.push(m) },
    });
    r.use({
      inbound: () => {
        throw new Error('broken metric');
      },
    });
    const client = MemoryClient.join(r);
    client.register('com.example.a'); // throws unless REGISTERED
    assert.ok(warnings.length >= 2, 'logged for HELLO and REGISTER');
  });
});

describe('router extensions: gates after authorization', () => {
  it('a gate sees allowed messages only, and its refusal is the ERROR', () => {
    const gated: number[] = [];
    const authorizer: Authorizer = { authorize: (_s, uri) => ({ allow: uri !== 'com.denied' }), hasRole: () => true };
    const r = router(
      {
        gate: (_session, message) => {
          gated.push(message[0]);
          return message[3] === 'com.gated' ? { error: 'kreuz.error.cluster_unavailable', args: ['not now'] } : undefined;
        },
      },
      authorizer,
    );
    const client = MemoryClient.join(r);
    client.send([REGISTER, 1, {}, 'com.denied']);
    assert.equal(client.take()[0][4], 'wamp.error.not_authorized');
    assert.deepEqual(gated, [], 'a denied message never reaches the gate');
    client.send([REGISTER, 2, {}, 'com.gated']);
    assert.deepEqual(client.take(), [[ERROR, REGISTER, 2, {}, 'kreuz.error.cluster_unavailable', ['not now']]]);
    client.send([REGISTER, 3, {}, 'com.fine']);
    assert.equal(client.take()[0][0], REGISTERED);
    client.send([PUBLISH, 4, {}, 'com.gated']);
    assert.deepEqual(client.take(), [], 'an unacknowledged PUBLISH refused by a gate gets no answer');
    client.send([PUBLISH, 5, { acknowledge: true }, 'com.gated']);
    assert.equal(client.take()[0][4], 'kreuz.error.cluster_unavailable');
    assert.deepEqual(gated, [REGISTER, REGISTER, PUBLISH, PUBLISH]);
  });

  it("an asynchronous gate holds the session's later messages, in order, until it decides", async () => {
    const pending = deferred<GateVerdict>();
    const r = router({ gate: (_session, message) => (message[3] === 'com.slow' ? pending.promise : undefined) });
    const client = MemoryClient.join(r);
    client.send([SUBSCRIBE, 1, {}, 'com.slow']);
    client.send([SUBSCRIBE, 2, {}, 'com.fast']);
    client.send([PUBLISH, 3, { acknowledge: true }, 'com.fast']);
    assert.deepEqual(client.take(), [], 'nothing is answered while the gate decides');
    pending.resolve(undefined);
    await tick();
    assert.deepEqual(
      client.take().map((m) => [m[0], m[1]]),
      [
        [SUBSCRIBED, 1],
        [SUBSCRIBED, 2],
        [PUBLISHED, 3],
      ],
    );
  });

  it('asynchronous authorization and two asynchronous gates nest: the backlog waits for the last', async () => {
    const decision = deferred<Decision>();
    const first = deferred<GateVerdict>();
    const second = deferred<GateVerdict>();
    const authorizer: Authorizer = {
      authorize: (_s, uri) => (uri === 'com.slow' ? decision.promise : { allow: true }),
      hasRole: () => true,
    };
    const order: string[] = [];
    const gate = (name: string, answer: Promise<GateVerdict>): RouterExtension => ({
      gate: (_session, message: GuardedMessage) => {
        if (message[3] !== 'com.slow') return undefined;
        order.push(name);
        return answer;
      },
    });
    const r = router(undefined, authorizer).use(gate('first', first.promise)).use(gate('second', second.promise));
    const client = MemoryClient.join(r);
    client.send([REGISTER, 1, {}, 'com.slow']);
    client.send([REGISTER, 2, {}, 'com.other']);
    decision.resolve({ allow: true });
    await tick();
    first.resolve(undefined);
    await tick();
    assert.deepEqual(order, ['first', 'second']);
    assert.deepEqual(client.take(), [], 'still held: the second gate has not decided');
    second.resolve(undefined);
    await tick();
    assert.deepEqual(
      client.take().map((m) => [m[0], m[1]]),
      [
        [REGISTERED, 1],
        [REGISTERED, 2],
      ],
    );
  });

  it('a gate that throws or rejects refuses as a failed authorization, and the session goes on', async () => {
    const r = router({
      gate: (_session, message) => {
        if (message[3] === 'com.throws') throw new Error('bug');
        if (message[3] === 'com.rejects') return Promise.reject(new Error('down'));
        return undefined;
      },
    });
    const client = MemoryClient.join(r);
    client.send([REGISTER, 1, {}, 'com.throws']);
    client.send([REGISTER, 2, {}, 'com.rejects']);
    client.send([REGISTER, 3, {}, 'com.fine']);
    await tick();
    assert.deepEqual(
      client.take().map((m) => [m[0], m[m[0] === ERROR ? 2 : 1], m[0] === ERROR ? m[4] : undefined]),
      [
        [ERROR, 1, 'wamp.error.authorization_failed'],
        [ERROR, 2, 'wamp.error.authorization_failed'],
        [REGISTERED, 3, undefined],
      ],
    );
  });

  it("the router's own sessions and further chunks of a progressive call pass no gate", () => {
    const gated: unknown[] = [];
    const r = router({ gate: (_s, message) => void gated.push(message[3]) });
    const callee = MemoryClient.join(r, 'realm1', { callee: { features: { progressive_call_invocations: true, call_canceling: true } } });
    callee.register('com.example.p');
    const internal = r.joinInternal(new MemoryPeer(), 'realm1', 'kreuz');
    r.receive(internal, [SUBSCRIBE, 1, {}, 'com.example.t']);
    const caller = MemoryClient.join(r, 'realm1', { caller: { features: { progressive_call_invocations: true } } });
    caller.send([CALL, 1, { progress: true }, 'com.example.p', [1]]);
    caller.send([CALL, 1, {}, 'com.example.p', [2]]);
    assert.deepEqual(gated, ['com.example.p', 'com.example.p'], 'the REGISTER and the first chunk only');
    assert.deepEqual(
      callee.take().map((m) => m[0]),
      [INVOCATION, INVOCATION],
    );
  });
});

describe('router extensions: call events', () => {
  it('callRouted names the registration before anything is sent; callInvoked follows the INVOCATION', () => {
    const events: string[] = [];
    let routedTo: number | undefined;
    const r = new Router({ realms: [{ name: 'realm1' }], callQueueLimit: 0 });
    const callee = MemoryClient.join(r);
    const caller = MemoryClient.join(r);
    r.use({
      events: {
        callRouted: (session, request, registration) => {
          events.push(`routed ${request} ${registration.uri} sent:${caller.peer.sent.length + callee.peer.sent.length}`);
          routedTo = registration.id;
          assert.equal(session, caller.session);
        },
        callInvoked: (invocation) =>
          events.push(
            `invoked ${invocation.callRequest} ${invocation.registration.uri} callee:${invocation.callee?.session === callee.session}`,
          ),
      },
    });
    const id = callee.register('com.example.', { match: 'prefix', concurrency: 1 });
    caller.send([CALL, 1, {}, 'com.example.a', []]);
    caller.send([CALL, 2, {}, 'com.example.b', []]); // every callee busy: refused
    caller.send([CALL, 3, {}, 'com.nobody', []]); // no registration: no event
    assert.equal(routedTo, id);
    assert.deepEqual(events, ['routed 1 com.example. sent:0', 'invoked 1 com.example. callee:true', 'routed 2 com.example. sent:1']);
    assert.deepEqual(
      caller.take().map((m) => m[4]),
      ['crossbar.error.max_concurrency_reached', 'wamp.error.no_such_procedure'],
    );
  });

  it('a queued call is invoked when a callee frees up', () => {
    const invoked: number[] = [];
    const r = new Router({ realms: [{ name: 'realm1' }], callQueueLimit: 5 }).use({
      events: { callInvoked: (i) => void invoked.push(i.callRequest) },
    });
    const callee = MemoryClient.join(r);
    const caller = MemoryClient.join(r);
    callee.register('com.example.q', { concurrency: 1 });
    caller.send([CALL, 1, {}, 'com.example.q', []]);
    caller.send([CALL, 2, {}, 'com.example.q', []]);
    assert.deepEqual(invoked, [1]);
    assert.equal(r.callsInFlight(), 2, 'the queued call is in flight too');
    const [invocation] = callee.take();
    callee.send([YIELD, invocation[1], {}]);
    assert.deepEqual(invoked, [1, 2]);
    assert.equal(r.callsInFlight(), 1);
  });
});

describe('router: stopAdmitting() and callsInFlight()', () => {
  it('refuses new sessions and new calls, and still routes the answers to calls in flight', () => {
    const r = router();
    const callee = MemoryClient.join(r);
    const caller = MemoryClient.join(r);
    callee.register('com.example.slow');
    caller.send([CALL, 1, {}, 'com.example.slow', []]);
    assert.equal(r.callsInFlight(), 1);
    assert.equal(r.admitting, true);
    r.stopAdmitting();
    assert.equal(r.admitting, false);

    caller.send([CALL, 2, {}, 'com.example.slow', []]);
    assert.deepEqual(caller.take(), [[ERROR, CALL, 2, {}, 'wamp.error.canceled', ['the router is shutting down']]]);
    const late = new MemoryClient(r);
    late.send([1, 'realm1', { roles: { caller: {} } }]);
    assert.deepEqual(late.take(), [[ABORT, { message: 'the router is shutting down' }, 'wamp.close.system_shutdown']]);
    assert.equal(late.peer.closedWith, 'wamp.close.system_shutdown');

    const [invocation] = callee.take();
    callee.send([YIELD, invocation[1], {}, ['done']]);
    assert.deepEqual(caller.take(), [[RESULT, 1, {}, ['done']]]);
    assert.equal(r.callsInFlight(), 0);
  });

  it('calls a caller gave up on no longer count, though their callee still holds them', () => {
    const r = router();
    const callee = MemoryClient.join(r); // announces no call_canceling: a cancel becomes "skip"
    const caller = MemoryClient.join(r);
    callee.register('com.example.hung');
    caller.send([CALL, 1, {}, 'com.example.hung', []]);
    caller.send([49, 1, { mode: 'skip' }]);
    assert.equal(caller.take()[0][4], 'wamp.error.canceled');
    assert.equal(r.callsInFlight(), 0, 'nobody waits for it');
    assert.equal(r.counters.callsInFlight, 1, 'the callee still holds it');
  });

  it("the router's own sessions still call", () => {
    const r = router();
    const callee = MemoryClient.join(r);
    callee.register('com.example.f');
    r.stopAdmitting();
    const peer = new MemoryPeer();
    const internal: Session = r.joinInternal(peer, 'realm1', 'kreuz');
    r.receive(internal, [CALL, 1, {}, 'com.example.f', []]);
    assert.equal(callee.take()[0][0], INVOCATION);
  });
});
