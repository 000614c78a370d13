/**
 * Advanced PubSub with Autobahn|JS (npm `autobahn`) clients against a real
 * router on 127.0.0.1, over JSON, MessagePack and CBOR: pattern-based
 * subscriptions, every PUBLISH option, event retention, event history,
 * testaments, the subscription meta API, ordering under load, and (with a raw
 * `ws` client that stops reading) the cut-off of a slow subscriber.
 *
 * Autobahn|JS fills in what the wire leaves out (the topic of an event on an
 * exact subscription, for one), so the tests also record every EVENT exactly
 * as the session received it, before Autobahn|JS handles it.
 *
 * "No event arrived" is decided with a barrier: an acknowledged publication
 * to a topic every receiver of the test also subscribes to. The router sends a
 * connection its messages in order, so once a receiver has the barrier event
 * it has every event published before it.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { useRouter } from '../helpers/node.ts';
import { openAutobahn, rejection, tap, until, within, type AbClient, type AbSerializer } from '../helpers/autobahn-js.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { assertId } from '../helpers/assertions.ts';
import { PUBLISHED, EVENT } from '../helpers/wamp-codes.ts';

const SERIALIZERS: AbSerializer[] = ['json', 'msgpack', 'cbor'];
const HISTORY_TOPIC = (serializer: AbSerializer) => `com.kreuz.history.${serializer}`;

// ---- helpers ----

function assertIsoTime(value: unknown, what: string): void {
  assert.ok(
    typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) && !Number.isNaN(Date.parse(value)),
    `${what} must be an ISO-8601 UTC time, got ${JSON.stringify(value)}`,
  );
}

/** What Autobahn|JS hands an event handler. */
interface Delivered {
  args: unknown[];
  kwargs: Record<string, unknown>;
  publication: number;
  topic: string;
  publisher: unknown;
  publisher_authid: unknown;
  publisher_authrole: unknown;
  retained: boolean;
}

/** An Autobahn|JS session with its raw EVENTs recorded. */
interface Peer extends AbClient {
  id: number;
  authid: string;
  /** Every EVENT as it came over the wire. */
  events: any[][];
  /** PUBLISHED messages as they came over the wire. */
  published: any[][];
}

/** A subscription with what its handler was given. */
interface Sub {
  id: number;
  delivered: Delivered[];
  /** The raw EVENTs of this subscription. */
  raw: () => any[][];
  /** The first positional argument of each delivered event. */
  labels: () => unknown[];
  subscription: any;
}

async function subscribe(peer: Peer, topic: string, options?: object): Promise<Sub> {
  const delivered: Delivered[] = [];
  const subscription = await within<any>(
    peer.session.subscribe(
      topic,
      (args: unknown[], kwargs: Record<string, unknown>, event: any) =>
        delivered.push({
          args,
          kwargs,
          publication: event.publication,
          topic: event.topic,
          publisher: event.publisher,
          publisher_authid: event.publisher_authid,
          publisher_authrole: event.publisher_authrole,
          retained: event.retained,
        }),
      options,
    ),
    3000,
    `subscribe ${topic}`,
  );
  const id = subscription.id as number;
  assertId(id, 'SUBSCRIBED.Subscription');
  return {
    id,
    delivered,
    subscription,
    raw: () => peer.events.filter((m) => m[1] === id),
    labels: () => delivered.map((d) => d.args[0]),
  };
}

/** Makes every listed peer receive barrier events on `topic`. */
class Barrier {
  private readonly marks = new Map<Peer, unknown[]>();
  private count = 0;
  readonly subs = new Map<Peer, Sub>();

  constructor(readonly topic: string) {}

  async add(...peers: Peer[]): Promise<void> {
    for (const peer of peers) {
      const sub = await subscribe(peer, this.topic);
      this.subs.set(peer, sub);
      this.marks.set(peer, []);
      sub.subscription.handler = (args: unknown[]) => this.marks.get(peer)!.push(args[0]);
    }
  }

  /** Returns once every peer has received an acknowledged publication by `publisher` sent after all before it. */
  async pass(publisher: Peer): Promise<void> {
    const token = `barrier-${++this.count}`;
    await within(publisher.session.publish(this.topic, [token], {}, { acknowledge: true, exclude_me: false }), 3000, 'barrier PUBLISHED');
    await until(() => [...this.marks.values()].every((m) => m.includes(token)), 3000, `barrier ${token} at every peer`);
  }
}

/** The whole of a call result as Autobahn|JS gives it. */
const call = (peer: Peer, procedure: string, args?: unknown[], kwargs?: object) =>
  within<any>(peer.session.call(procedure, args, kwargs), 3000, procedure);

const sortIds = (ids: number[]) => [...ids].sort((a, b) => a - b);

// ---- the tests ----

const router = useRouter();

for (const serializer of SERIALIZERS) {
  describe(`Autobahn|JS advanced PubSub over ${serializer}`, () => {
    let open: AbClient[] = [];
    const peer = async (url = router.url): Promise<Peer> => {
      const c = await openAutobahn(url, serializer);
      open.push(c);
      return {
        ...c,
        id: c.session.id,
        authid: c.details.authid,
        events: tap(c.session, EVENT),
        published: tap(c.session, PUBLISHED),
      };
    };
    // Every session leaves after each test (GOODBYE answered), so the router is empty again.
    afterEach(async () => {
      const closing = open;
      open = [];
      await within(Promise.all(closing.map((c) => c.close())), 5000, 'closing the sessions');
    });
    let n = 0;
    const uri = (name: string) => `com.kreuz.ps.${serializer}.${name}.${++n}`;

    it('pattern subscriptions: one EVENT per matching subscription, with details.topic on the pattern ones', async () => {
      const x = uri('pat');
      const s = await peer();
      const other = await peer();
      const pub = await peer();
      const exact = await subscribe(s, `${x}.a.b`);
      const prefix = await subscribe(s, `${x}.a`, { match: 'prefix' });
      const wildcard = await subscribe(s, `${x}..b`, { match: 'wildcard' });
      const outer = await subscribe(other, x, { match: 'prefix' });
      assert.equal(new Set([exact.id, prefix.id, wildcard.id, outer.id]).size, 4, 'four distinct subscriptions');
      const barrier = new Barrier(uri('barrier'));
      await barrier.add(s, other);

      const p1 = await within<any>(pub.session.publish(`${x}.a.b`, ['all'], { n: 1 }, { acknowledge: true }), 3000, 'publish 1');
      assertId(p1.id, 'PUBLISHED.Publication');
      await barrier.pass(pub);
      // Raw EVENTs: the exact subscription's details carry no topic, the pattern ones name it.
      assert.deepEqual(exact.raw(), [[EVENT, exact.id, p1.id, {}, ['all'], { n: 1 }]]);
      assert.deepEqual(prefix.raw(), [[EVENT, prefix.id, p1.id, { topic: `${x}.a.b` }, ['all'], { n: 1 }]]);
      assert.deepEqual(wildcard.raw(), [[EVENT, wildcard.id, p1.id, { topic: `${x}.a.b` }, ['all'], { n: 1 }]]);
      assert.deepEqual(outer.raw(), [[EVENT, outer.id, p1.id, { topic: `${x}.a.b` }, ['all'], { n: 1 }]]);
      // What Autobahn|JS shows: the topic published to on every one.
      for (const sub of [exact, prefix, wildcard, outer]) {
        assert.deepEqual(
          sub.delivered.map((d) => [d.topic, d.publication, d.args, d.kwargs]),
          [[`${x}.a.b`, p1.id, ['all'], { n: 1 }]],
        );
      }

      const p2 = await within<any>(pub.session.publish(`${x}.a.zz`, ['prefixes'], {}, { acknowledge: true }), 3000, 'publish 2');
      const p3 = await within<any>(pub.session.publish(`${x}.q.b`, ['wildcard'], {}, { acknowledge: true }), 3000, 'publish 3');
      await barrier.pass(pub);
      assert.equal(exact.raw().length, 1, 'the exact subscription got only the first event');
      assert.deepEqual(prefix.raw().slice(1), [[EVENT, prefix.id, p2.id, { topic: `${x}.a.zz` }, ['prefixes'], {}]]);
      assert.deepEqual(wildcard.raw().slice(1), [[EVENT, wildcard.id, p3.id, { topic: `${x}.q.b` }, ['wildcard'], {}]]);
      assert.deepEqual(outer.raw().slice(1), [
        [EVENT, outer.id, p2.id, { topic: `${x}.a.zz` }, ['prefixes'], {}],
        [EVENT, outer.id, p3.id, { topic: `${x}.q.b` }, ['wildcard'], {}],
      ]);
      // S saw nothing else but barrier events.
      const barrierIds = new Set([...barrier.subs.values()].map((b) => b.id));
      assert.equal(s.events.filter((m) => !barrierIds.has(m[1])).length, 5, 'S got exactly 3 + 1 + 1 events');
      assert.equal(other.events.filter((m) => !barrierIds.has(m[1])).length, 3, 'the other session got exactly 3 events');
    });

    it('PUBLISH options alone and combined: exclude_me, exclude*, eligible*, acknowledge, disclose_me', async () => {
      const topic = uri('opts');
      const p = await peer();
      const a = await peer();
      const b = await peer();
      const c = await peer();
      const all = [p, a, b, c];
      assert.equal(new Set(all.map((x) => x.authid)).size, 4, 'every anonymous session has its own authid');
      const subs = new Map<Peer, Sub>();
      for (const x of all) subs.set(x, await subscribe(x, topic));
      const barrier = new Barrier(uri('barrier'));
      await barrier.add(...all);

      const cases: [string, object, Peer[]][] = [
        ['default', {}, [a, b, c]],
        ['exclude_me_true', { exclude_me: true }, [a, b, c]],
        ['exclude_me_false', { exclude_me: false }, [p, a, b, c]],
        ['exclude', { exclude: [b.id] }, [a, c]],
        ['exclude_two_me_too', { exclude: [a.id, c.id], exclude_me: false }, [p, b]],
        ['exclude_authid', { exclude_authid: [a.authid] }, [b, c]],
        ['exclude_authrole', { exclude_authrole: ['anonymous'], exclude_me: false }, []],
        ['exclude_authrole_other', { exclude_authrole: ['admin'] }, [a, b, c]],
        ['eligible', { eligible: [a.id, c.id, p.id] }, [a, c]],
        ['eligible_me_too', { eligible: [a.id, p.id], exclude_me: false }, [p, a]],
        ['eligible_authid', { eligible_authid: [b.authid] }, [b]],
        ['eligible_authrole', { eligible_authrole: ['anonymous'] }, [a, b, c]],
        ['eligible_authrole_none', { eligible_authrole: ['admin'] }, []],
        ['eligible_and_exclude', { eligible: [a.id, b.id], exclude: [b.id] }, [a]],
        ['eligible_authid_and_exclude_authid', { eligible_authid: [a.authid, c.authid], exclude_authid: [c.authid] }, [a]],
        ['eligible_and_eligible_authid', { eligible: [a.id, b.id], eligible_authid: [b.authid, c.authid] }, [b]],
      ];
      for (const [label, options] of cases) {
        const publication = await within<any>(p.session.publish(topic, [label], {}, { ...options, acknowledge: true }), 3000, label);
        assertId(publication.id, `publication ${label}`);
      }
      await barrier.pass(p);
      for (const x of all) {
        const name = ['P', 'A', 'B', 'C'][all.indexOf(x)];
        const expected = cases.filter(([, , receivers]) => receivers.includes(x)).map(([label]) => label);
        assert.deepEqual(subs.get(x)!.labels(), expected, `events received by ${name}`);
      }

      // acknowledge: a publication ID only when asked for, and the EVENT carries the same ID.
      const acksBefore = p.published.length;
      assert.equal(p.session.publish(topic, ['unacknowledged']), undefined, 'an unacknowledged publish returns nothing');
      assert.equal(p.session.publish(topic, ['ack_false'], {}, { acknowledge: false }), undefined, 'acknowledge: false returns nothing');
      const acked = await within<any>(p.session.publish(topic, ['acknowledged'], {}, { acknowledge: true }), 3000, 'acknowledged');
      assertId(acked.id, 'PUBLISHED.Publication');
      await barrier.pass(p);
      // one PUBLISHED for 'acknowledged' and one for the barrier: none for the two others
      assert.deepEqual(
        p.published.slice(acksBefore).map((m) => m.length),
        [3, 3],
        `PUBLISHED messages after the unacknowledged ones: ${JSON.stringify(p.published.slice(acksBefore))}`,
      );
      assert.equal(p.published.slice(acksBefore)[0][2], acked.id);
      const aRaw = subs.get(a)!.raw();
      const [, , unackedPublication] = aRaw[aRaw.length - 3];
      assertId(unackedPublication, 'EVENT.Publication of an unacknowledged publish');
      assert.deepEqual(
        aRaw.slice(-3).map((m) => m[4][0]),
        ['unacknowledged', 'ack_false', 'acknowledged'],
      );
      assert.deepEqual(aRaw[aRaw.length - 1], [EVENT, subs.get(a)!.id, acked.id, {}, ['acknowledged'], {}]);

      // disclose_me: the publisher's session ID, authid and authrole in EVENT.Details.
      const disclosed = await within<any>(
        p.session.publish(topic, ['disclosed'], { k: 1 }, { acknowledge: true, disclose_me: true }),
        3000,
        'disclose_me',
      );
      const hidden = await within<any>(
        p.session.publish(topic, ['hidden'], {}, { acknowledge: true, disclose_me: false }),
        3000,
        'disclose_me false',
      );
      await barrier.pass(p);
      assert.deepEqual(subs.get(a)!.raw().slice(-2), [
        [
          EVENT,
          subs.get(a)!.id,
          disclosed.id,
          { publisher: p.id, publisher_authid: p.authid, publisher_authrole: 'anonymous' },
          ['disclosed'],
          { k: 1 },
        ],
        [EVENT, subs.get(a)!.id, hidden.id, {}, ['hidden'], {}],
      ]);
      const [shown, notShown] = subs.get(b)!.delivered.slice(-2);
      assert.deepEqual(
        [shown.publisher, shown.publisher_authid, shown.publisher_authrole],
        [p.id, p.authid, 'anonymous'],
        'Autobahn|JS exposes the disclosed publisher',
      );
      assert.deepEqual([notShown.publisher, notShown.publisher_authid, notShown.publisher_authrole], [undefined, undefined, undefined]);
    });

    it('retained events: delivered after SUBSCRIBED with get_retained, flagged retained, and only then', async () => {
      const base = uri('retain');
      const topic = `${base}.t`;
      const p = await peer();
      const old = await within<any>(
        p.session.publish(topic, ['old', 1], { v: 'old' }, { acknowledge: true, retain: true }),
        3000,
        'retain 1',
      );
      const kept = await within<any>(
        p.session.publish(topic, ['new', 2, { deep: [true, null] }], { v: 'new', n: 2.5 }, { acknowledge: true, retain: true }),
        3000,
        'retain 2',
      );
      assert.notEqual(old.id, kept.id);

      const n1 = await peer();
      const withRetained = await subscribe(n1, topic, { get_retained: true });
      const n2 = await peer();
      const without = await subscribe(n2, topic);
      const explicitFalse = await subscribe(n2, `${base}.`, { match: 'prefix', get_retained: false });
      const n3 = await peer();
      const patternRetained = await subscribe(n3, base, { match: 'prefix', get_retained: true });
      const barrier = new Barrier(uri('barrier'));
      await barrier.add(n1, n2, n3);
      await barrier.pass(p);

      // Exactly one EVENT: the newest retained one, with details.retained true and the payload as published.
      const raw = withRetained.raw();
      assert.equal(raw.length, 1, `one retained event, got ${JSON.stringify(raw)}`);
      const [type, subscription, publication, details, ...payload] = raw[0];
      assert.deepEqual(
        [type, subscription, details, payload],
        [EVENT, withRetained.id, { retained: true }, [['new', 2, { deep: [true, null] }], { v: 'new', n: 2.5 }]],
      );
      assertId(publication, 'retained EVENT.Publication');
      assert.deepEqual(withRetained.delivered, [
        {
          args: ['new', 2, { deep: [true, null] }],
          kwargs: { v: 'new', n: 2.5 },
          publication,
          topic,
          publisher: undefined,
          publisher_authid: undefined,
          publisher_authrole: undefined,
          retained: true,
        },
      ]);
      // A prefix subscription with get_retained gets it too, naming the topic.
      const patternRaw = patternRetained.raw();
      assert.equal(patternRaw.length, 1, `one retained event on the prefix subscription, got ${JSON.stringify(patternRaw)}`);
      assert.deepEqual(patternRaw[0][3], { retained: true, topic });
      assert.deepEqual(patternRaw[0].slice(4), [['new', 2, { deep: [true, null] }], { v: 'new', n: 2.5 }]);
      assert.equal(patternRetained.delivered[0]?.retained, true, 'Autobahn|JS shows retained');
      // Without get_retained (absent or false) nothing.
      assert.deepEqual(without.raw(), []);
      assert.deepEqual(explicitFalse.raw(), []);

      // A live event afterwards is not flagged retained.
      const live = await within<any>(p.session.publish(topic, ['live'], {}, { acknowledge: true }), 3000, 'live');
      await barrier.pass(p);
      assert.deepEqual(withRetained.raw().slice(1), [[EVENT, withRetained.id, live.id, {}, ['live'], {}]]);
      assert.equal(withRetained.delivered[1]?.retained, false, 'a live event is not retained');
    });

    it('testaments: published when the transport drops without GOODBYE; none after flush_testaments', async () => {
      const topic = uri('testament');
      const s = await peer();
      const sub = await subscribe(s, topic);
      const left: number[] = [];
      await within(
        s.session.subscribe('wamp.session.on_leave', (args: number[]) => left.push(args[0])),
        3000,
        'on_leave',
      );

      const t = await peer();
      assert.equal(await call(t, 'wamp.session.add_testament', [topic, ['bye'], { who: 'T' }]), null);
      t.session._socket.close(); // transport gone, no GOODBYE
      await until(() => left.includes(t.id), 3000, "T's on_leave");
      assert.deepEqual(sub.raw(), [[EVENT, sub.id, sub.raw()[0]?.[2], {}, ['bye'], { who: 'T' }]]);
      assertId(sub.raw()[0][2], 'testament EVENT.Publication');
      assert.deepEqual(
        sub.delivered.map((d) => [d.args, d.kwargs]),
        [[['bye'], { who: 'T' }]],
      );

      const t2 = await peer();
      assert.equal(await call(t2, 'wamp.session.add_testament', [topic, ['flushed'], { who: 'T2' }]), null);
      assert.equal(await call(t2, 'wamp.session.flush_testaments'), 1, 'flush_testaments returns how many it flushed (as Crossbar)');
      t2.session._socket.close();
      // The testaments are dispatched before on_leave: on_leave of T2 proves none is coming.
      await until(() => left.includes(t2.id), 3000, "T2's on_leave");
      assert.equal(sub.raw().length, 1, `no testament after flush_testaments, got ${JSON.stringify(sub.raw())}`);
    });

    it('subscription meta API: every procedure and every event', async () => {
      const base = uri('meta');
      const topic = `${base}.x.y`;
      const w = await peer();
      const log: [string, unknown[]][] = [];
      for (const event of ['on_create', 'on_subscribe', 'on_unsubscribe', 'on_delete']) {
        await within(
          w.session.subscribe(`wamp.subscription.${event}`, (args: unknown[]) => log.push([event, args])),
          3000,
          event,
        );
      }
      const a = await peer();
      const b = await peer();
      // The meta events about A and B, checked in order as they come.
      const mine = () => log.filter(([, args]) => args[0] === a.id || args[0] === b.id);
      let checked = 0;
      const next = async (count: number, what: string): Promise<[string, unknown[]][]> => {
        await until(() => mine().length >= checked + count, 3000, what);
        const got = mine().slice(checked, checked + count);
        checked += count;
        return got;
      };
      const expectNext = async (expected: [string, unknown[]][], what: string) => {
        assert.deepEqual(await next(expected.length, what), expected, what);
      };
      /** SubscriptionDetails as wamp.subscription.get gives them, checked against the on_create event. */
      const details = async (sub: Sub, uri: string, match: string) => {
        const got = await call(w, 'wamp.subscription.get', [sub.id]);
        assertIsoTime(got?.created, 'SubscriptionDetails.created');
        assert.deepEqual(got, { id: sub.id, created: got.created, uri, match });
        return got;
      };

      const exact = await subscribe(a, topic);
      const exactDetails = await details(exact, topic, 'exact');
      await expectNext(
        [
          ['on_create', [a.id, exactDetails]],
          ['on_subscribe', [a.id, exact.id]],
        ],
        'first SUBSCRIBE',
      );
      const sameAgain = await subscribe(b, topic);
      assert.equal(sameAgain.id, exact.id, 'B joins the same subscription');
      await expectNext([['on_subscribe', [b.id, exact.id]]], 'second subscriber');
      const prefix = await subscribe(a, `${base}.x`, { match: 'prefix' });
      const prefixDetails = await details(prefix, `${base}.x`, 'prefix');
      await expectNext(
        [
          ['on_create', [a.id, prefixDetails]],
          ['on_subscribe', [a.id, prefix.id]],
        ],
        'prefix SUBSCRIBE',
      );
      const wildcard = await subscribe(b, `${base}..y`, { match: 'wildcard' });
      const wildcardDetails = await details(wildcard, `${base}..y`, 'wildcard');
      await expectNext(
        [
          ['on_create', [b.id, wildcardDetails]],
          ['on_subscribe', [b.id, wildcard.id]],
        ],
        'wildcard SUBSCRIBE',
      );

      // list: every session's subscriptions (W's wamp.* ones are hidden), or one session's.
      assert.deepEqual(await call(w, 'wamp.subscription.list'), { exact: [exact.id], prefix: [prefix.id], wildcard: [wildcard.id] });
      assert.deepEqual(await call(w, 'wamp.subscription.list', [a.id]), { exact: [exact.id], prefix: [prefix.id], wildcard: [] });
      assert.deepEqual(await call(w, 'wamp.subscription.list', [b.id]), { exact: [exact.id], prefix: [], wildcard: [wildcard.id] });
      assert.deepEqual(await call(w, 'wamp.subscription.list', [w.id]), { exact: [], prefix: [], wildcard: [] });
      assert.equal((await rejection(call(w, 'wamp.subscription.list', [1]))).error, 'wamp.error.no_such_session');
      // lookup: the identical (uri, match) only.
      assert.equal(await call(w, 'wamp.subscription.lookup', [topic]), exact.id);
      assert.equal(await call(w, 'wamp.subscription.lookup', [topic, { match: 'exact' }]), exact.id);
      assert.equal(await call(w, 'wamp.subscription.lookup', [`${base}.x`, { match: 'prefix' }]), prefix.id);
      assert.equal(await call(w, 'wamp.subscription.lookup', [`${base}..y`, { match: 'wildcard' }]), wildcard.id);
      assert.equal(await call(w, 'wamp.subscription.lookup', [`${base}.x`]), null);
      assert.equal(await call(w, 'wamp.subscription.lookup', [topic, { match: 'prefix' }]), null);
      // match: every subscription an event would reach.
      assert.deepEqual(sortIds(await call(w, 'wamp.subscription.match', [topic])), sortIds([exact.id, prefix.id, wildcard.id]));
      assert.deepEqual(await call(w, 'wamp.subscription.match', [`${base}.x.z`]), [prefix.id]);
      assert.deepEqual(await call(w, 'wamp.subscription.match', [`${base}.q.y`]), [wildcard.id]);
      assert.equal(await call(w, 'wamp.subscription.match', [`${base}.nothing`]), null);
      // get
      assert.deepEqual(await call(w, 'wamp.subscription.get', [exact.id]), exactDetails);
      assert.equal((await rejection(call(w, 'wamp.subscription.get', [1]))).error, 'wamp.error.no_such_subscription');
      // list_subscribers, count_subscribers
      assert.deepEqual(sortIds(await call(w, 'wamp.subscription.list_subscribers', [exact.id])), sortIds([a.id, b.id]));
      assert.deepEqual(await call(w, 'wamp.subscription.list_subscribers', [prefix.id]), [a.id]);
      assert.deepEqual(await call(w, 'wamp.subscription.list_subscribers', [wildcard.id]), [b.id]);
      assert.equal(await call(w, 'wamp.subscription.count_subscribers', [exact.id]), 2);
      assert.equal(await call(w, 'wamp.subscription.count_subscribers', [wildcard.id]), 1);

      // remove_subscriber: B is told (Autobahn|JS announces subscription_revocation) and gets no more events.
      const unsubscribed = tap(b.session, 35);
      assert.equal(await call(w, 'wamp.subscription.remove_subscriber', [exact.id, b.id]), null);
      assert.equal(await within(sameAgain.subscription.on_unsubscribe, 3000, "B's revocation"), 'wamp.error.unsubscribed');
      assert.deepEqual(unsubscribed, [[35, 0, { subscription: exact.id, reason: 'wamp.error.unsubscribed' }]]);
      assert.equal(sameAgain.subscription.active, false, 'Autobahn|JS marks the revoked subscription inactive');
      await expectNext([['on_unsubscribe', [b.id, exact.id]]], 'remove_subscriber');
      assert.deepEqual(await call(w, 'wamp.subscription.list_subscribers', [exact.id]), [a.id]);
      assert.equal(await call(w, 'wamp.subscription.count_subscribers', [exact.id]), 1);
      assert.equal(
        (await rejection(call(w, 'wamp.subscription.remove_subscriber', [exact.id, b.id]))).error,
        'wamp.error.no_such_subscription',
        'B is no longer subscribed',
      );
      assert.equal((await rejection(call(w, 'wamp.subscription.remove_subscriber', [exact.id, 1]))).error, 'wamp.error.no_such_session');
      assert.equal((await rejection(call(w, 'wamp.subscription.remove_subscriber', [1, b.id]))).error, 'wamp.error.no_such_subscription');
      // with a reason of one's own
      const bRevocations = tap(b.session, 35);
      assert.equal(await call(w, 'wamp.subscription.remove_subscriber', [prefix.id, a.id], { reason: 'com.example.go_away' }), null);
      assert.equal(await within(prefix.subscription.on_unsubscribe, 3000, "A's revocation"), 'com.example.go_away');
      await expectNext(
        [
          ['on_unsubscribe', [a.id, prefix.id]],
          ['on_delete', [a.id, prefix.id]],
        ],
        'remove_subscriber of the last subscriber',
      );
      assert.deepEqual(bRevocations, [], 'B was not told about A');

      const barrier = new Barrier(uri('barrier'));
      await barrier.add(a, b);
      const barrierId = barrier.subs.get(a)!.id;
      const barrierDetails = await details(barrier.subs.get(a)!, barrier.topic, 'exact');
      await expectNext(
        [
          ['on_create', [a.id, barrierDetails]],
          ['on_subscribe', [a.id, barrierId]],
          ['on_subscribe', [b.id, barrierId]],
        ],
        'barrier SUBSCRIBEs',
      );
      const afterRevoke = await within<any>(w.session.publish(topic, ['after'], {}, { acknowledge: true }), 3000, 'publish');
      await barrier.pass(w);
      assert.deepEqual(exact.raw(), [[EVENT, exact.id, afterRevoke.id, {}, ['after'], {}]]);
      assert.deepEqual(
        b.events.filter((m) => m[1] === exact.id),
        [],
        'B gets no EVENT for the subscription it was removed from',
      );

      // The last subscriber unsubscribes: on_unsubscribe, then on_delete; the subscription is gone.
      await within(a.session.unsubscribe(exact.subscription), 3000, 'unsubscribe');
      await expectNext(
        [
          ['on_unsubscribe', [a.id, exact.id]],
          ['on_delete', [a.id, exact.id]],
        ],
        'UNSUBSCRIBE of the last subscriber',
      );
      for (const procedure of ['get', 'list_subscribers', 'count_subscribers']) {
        assert.equal(
          (await rejection(call(w, `wamp.subscription.${procedure}`, [exact.id]))).error,
          'wamp.error.no_such_subscription',
          procedure,
        );
      }
      assert.equal(await call(w, 'wamp.subscription.lookup', [topic]), null);
      assert.deepEqual(await call(w, 'wamp.subscription.match', [topic]), [wildcard.id], 'only the wildcard one is left');

      // A session that leaves is unsubscribed from everything it had.
      await within(b.close(), 3000, "B's GOODBYE");
      const fromB = await next(3, "meta events of B's GOODBYE");
      // Its two subscriptions go in either order; the barrier one is still A's, so it is not deleted.
      const wildcardFirst = fromB[0][1][1] === wildcard.id;
      const wildcardEvents: [string, unknown[]][] = [
        ['on_unsubscribe', [b.id, wildcard.id]],
        ['on_delete', [b.id, wildcard.id]],
      ];
      const barrierEvents: [string, unknown[]][] = [['on_unsubscribe', [b.id, barrierId]]];
      assert.deepEqual(fromB, wildcardFirst ? [...wildcardEvents, ...barrierEvents] : [...barrierEvents, ...wildcardEvents]);
      assert.deepEqual(await call(w, 'wamp.subscription.list'), { exact: [barrierId], prefix: [], wildcard: [] });
      assert.deepEqual(await call(w, 'wamp.subscription.list_subscribers', [barrierId]), [a.id]);
    });

    it('keeps the order of 2000 unacknowledged events for 3 subscribers', { timeout: 30_000 }, async () => {
      const topic = uri('load');
      const pub = await peer();
      const subscribers = [await peer(), await peer(), await peer()];
      const received: number[][] = [];
      for (const s of subscribers) {
        const seq: number[] = [];
        received.push(seq);
        await subscribe(s, topic).then((sub) => (sub.subscription.handler = (args: number[]) => seq.push(args[0])));
      }
      const COUNT = 2000;
      for (let i = 0; i < COUNT; i++) pub.session.publish(topic, [i]);
      await until(() => received.every((r) => r.length >= COUNT), 20_000, 'all 2000 events at every subscriber');
      const expected = Array.from({ length: COUNT }, (_, i) => i);
      for (const [i, r] of received.entries()) assert.deepEqual(r, expected, `subscriber ${i} got every event in order`);
      // and no duplicates come late
      const barrier = new Barrier(uri('barrier'));
      await barrier.add(...subscribers);
      await barrier.pass(pub);
      assert.deepEqual(
        received.map((r) => r.length),
        [COUNT, COUNT, COUNT],
      );
    });
  });
}

describe('Autobahn|JS event history (router with eventHistory limit 5)', () => {
  const historyRouter = useRouter({
    eventHistory: SERIALIZERS.map((s) => ({ uri: HISTORY_TOPIC(s), match: 'exact' as const, limit: 5 })),
  });

  for (const serializer of SERIALIZERS) {
    it(`wamp.subscription.get_events returns the newest events first, as published (${serializer})`, async () => {
      const topic = HISTORY_TOPIC(serializer);
      const pub = await openAutobahn(historyRouter.url, serializer);
      const sub = await openAutobahn(historyRouter.url, serializer);
      try {
        const payloads: [unknown[], Record<string, unknown>][] = [];
        const ids: number[] = [];
        for (let i = 1; i <= 7; i++) {
          const args = ['event', i, { nested: [i, null, true] }];
          const kwargs = { i, label: `#${i}`, list: [1.5, 'x'] };
          payloads.push([args, kwargs]);
          ids.push((await within<any>(pub.session.publish(topic, args, kwargs, { acknowledge: true }), 3000, `publish ${i}`)).id);
        }
        const subscription = await within<any>(
          sub.session.subscribe(topic, () => {}),
          3000,
          'subscribe',
        );
        const events = await within<any>(sub.session.call('wamp.subscription.get_events', [subscription.id, 3]), 3000, 'get_events');
        assert.ok(Array.isArray(events), `get_events returns a list, got ${JSON.stringify(events)}`);
        assert.equal(events.length, 3);
        for (const e of events) assertIsoTime(e.timestamp, 'timestamp');
        assert.deepEqual(
          events.map(({ timestamp: _t, ...rest }: any) => rest),
          [7, 6, 5].map((i) => ({
            subscription: subscription.id,
            publication: ids[i - 1],
            topic,
            details: {},
            args: payloads[i - 1][0],
            kwargs: payloads[i - 1][1],
          })),
        );
        // Without a limit: the 5 kept (limit 5), newest first.
        const kept = await within<any>(sub.session.call('wamp.subscription.get_events', [subscription.id]), 3000, 'get_events');
        assert.deepEqual(
          kept.map((e: any) => e.publication),
          [7, 6, 5, 4, 3].map((i) => ids[i - 1]),
        );
      } finally {
        await within(Promise.all([pub.close(), sub.close()]), 5000, 'closing');
      }
    });
  }
});

describe('a subscriber that stops reading is cut off (maxSendBuffer 256 KiB)', () => {
  const MAX_SEND_BUFFER = 256 * 1024;
  const slowRouter = useRouter({ maxSendBuffer: MAX_SEND_BUFFER });

  for (const serializer of SERIALIZERS) {
    it(`drops the slow raw subscriber; the Autobahn|JS one gets every event in order (${serializer})`, { timeout: 60_000 }, async (t) => {
      const topic = `com.kreuz.slow.${serializer}`;
      const sessions = slowRouter.node.router.realms.get('realm1')!.sessions;
      // The slow one: a raw `ws` client that subscribes, then stops reading its socket.
      const slow = await RawClient.open(slowRouter.url, serializer);
      slow.send([1, 'realm1', { roles: { subscriber: {} } }]);
      const welcome = await slow.next(3000);
      assert.equal(welcome[0], 2, `expected WELCOME, got ${JSON.stringify(welcome)}`);
      const slowId = welcome[1] as number;
      slow.send([32, 1, {}, topic]);
      const subscribed = await slow.next(3000);
      assert.equal(subscribed[0], 33, `expected SUBSCRIBED, got ${JSON.stringify(subscribed)}`);
      const slowSeen: number[] = [];
      const slowSocket = (slow.ws as unknown as { _socket: Socket })._socket;
      slowSocket.pause();

      const normal = await openAutobahn(slowRouter.url, serializer);
      const pub = await openAutobahn(slowRouter.url, serializer);
      try {
        const seen: number[] = [];
        let bytesOk = true;
        const PAYLOAD = 'p'.repeat(16 * 1024);
        await within(
          normal.session.subscribe(topic, (args: [number, string]) => {
            seen.push(args[0]);
            if (args[1] !== PAYLOAD) bytesOk = false;
          }),
          3000,
          'subscribe',
        );
        const rssBefore = process.memoryUsage().rss;
        let rssPeak = rssBefore;
        // Batches of 8 events (128 KiB): the normal subscriber, which reads, never has a backlog near the limit.
        const BATCH = 8;
        const LIMIT = 2000;
        let published = 0;
        while (sessions.has(slowId)) {
          assert.ok(published < LIMIT, `the slow subscriber was still connected after ${published} events of 16 KiB`);
          for (let i = 0; i < BATCH; i++) pub.session.publish(topic, [published++, PAYLOAD]);
          await until(() => seen.length === published, 5000, `the normal subscriber got events up to ${published}`);
          rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        }
        const droppedAfter = published;
        // The router keeps serving the others.
        for (let i = 0; i < 4 * BATCH; i++) pub.session.publish(topic, [published++, PAYLOAD]);
        await until(() => seen.length === published, 5000, 'the normal subscriber got the events after the cut-off');
        assert.deepEqual(
          seen,
          Array.from({ length: published }, (_, i) => i),
          'the normal subscriber got every event in order',
        );
        assert.ok(bytesOk, 'every payload arrived intact');
        assert.ok(
          rssPeak - rssBefore < 200 * 1024 * 1024,
          `rss grew by ${Math.round((rssPeak - rssBefore) / 1024 / 1024)} MB while the slow subscriber was connected`,
        );

        // The slow client reads again: it gets what was already on its way, then its connection ends
        // (the router drops it without a close frame, which would wait behind the backlog).
        slowSocket.resume();
        const closed = await within(slow.closed, 5000, 'the slow client connection closing');
        assert.equal(closed.code, 1006, `the slow client was dropped without a close frame, got ${JSON.stringify(closed)}`);
        for (;;) {
          let message: unknown[];
          try {
            message = await slow.next(10);
          } catch {
            break;
          }
          if (message[0] === EVENT) slowSeen.push((message[4] as number[])[0]);
          else assert.fail(`the slow client got ${JSON.stringify(message).slice(0, 200)}`);
        }
        assert.deepEqual(
          slowSeen,
          Array.from({ length: slowSeen.length }, (_, i) => i),
          'what reached the slow client is in order',
        );
        assert.ok(slowSeen.length < droppedAfter, `the slow client got ${slowSeen.length} of ${droppedAfter} events before the cut-off`);
        t.diagnostic(
          `${serializer}: slow subscriber dropped after ${droppedAfter} events; it had read ${slowSeen.length}; ` +
            `rss growth ${Math.round((rssPeak - rssBefore) / 1024 / 1024)} MB`,
        );
      } finally {
        slow.close();
        await within(Promise.all([normal.close(), pub.close()]), 5000, 'closing');
      }
    });
  }
});
