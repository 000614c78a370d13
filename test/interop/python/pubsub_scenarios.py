#!/usr/bin/python3
"""
Advanced-profile PubSub and subscription meta API scenarios for Kreuz, run
with Autobahn|Python (asyncio flavour, Debian's python3-autobahn 22.7).

Usage: pubsub_scenarios.py <router-url> <json|msgpack|cbor> <scenario>
   or: pubsub_scenarios.py --serve   (many scenarios, one per line on stdin; see common.py)

Same contract as scenarios.py (helpers shared with it are in common.py): every
scenario opens its own sessions on realm "realm1" with exactly the serializer
named, prints ONE JSON line with what it observed and exits 0; anything
unexpected goes to stderr with a non-zero exit code. The whole run is bounded.

Sessions here are `Peer`s: they keep every EVENT as it came over the wire
(Autobahn's parsed message, copied before Autobahn hands it to a handler), the
PUBLISHED and UNSUBSCRIBED messages, and can add `disclose_me` to a PUBLISH
(Autobahn|Python 22.7 has no PublishOptions for it).

IDs are replaced by names ('P', 'A', 'sub_exact', 'p1', ...) and topics by
their part after a per-run base, so the TypeScript side compares whole results.

"No event arrived" is decided with a barrier: an acknowledged publication to a
topic every receiver also subscribes to. The router sends one connection its
messages in order, so once a receiver has the barrier event it has every event
published before it.
"""

import asyncio
import copy
import re
import time

import common  # also selects asyncio for txaio
from common import STEP_TIMEOUT, error_of, wait

from autobahn.wamp import message
from autobahn.wamp.types import PublishOptions, SubscribeOptions

OVERALL_TIMEOUT = 15.0  # seconds, for most scenarios
LOAD_TIMEOUT = 20.0  # seconds, for the 2000 events to reach every subscriber
ISO_TIME = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$')


class DisclosingPublish(message.Publish):
    """A PUBLISH whose Options also carry disclose_me: true."""

    __slots__ = ()

    def marshal_options(self):
        options = super().marshal_options()
        options['disclose_me'] = True
        return options


class Peer(common.Client):
    """A session that records what it receives and can disclose itself on a PUBLISH."""

    def __init__(self, config):
        super().__init__(config)
        self.events = []  # every EVENT, as dicts of the wire fields
        self.published = []  # PUBLISHED.Publication of every PUBLISHED
        self.revocations = []  # [subscription, reason] of every UNSUBSCRIBED with request 0
        self._disclose_next = 0

    def disclose_next_publish(self):
        self._disclose_next += 1

    def onOpen(self, transport):
        send = transport.send

        def sending(msg):
            if self._disclose_next and type(msg) is message.Publish:
                self._disclose_next -= 1
                msg.__class__ = DisclosingPublish
            return send(msg)

        transport.send = sending
        return super().onOpen(transport)

    def onMessage(self, msg):
        if isinstance(msg, message.Event):
            # a copy: Autobahn adds its details argument to msg.kwargs when it calls the handler
            self.events.append({
                'subscription': msg.subscription,
                'publication': msg.publication,
                'args': copy.deepcopy(msg.args),
                'kwargs': copy.deepcopy(msg.kwargs),
                'topic': msg.topic,
                'retained': msg.retained,
                'publisher': msg.publisher,
                'publisher_authid': msg.publisher_authid,
                'publisher_authrole': msg.publisher_authrole,
            })
        elif isinstance(msg, message.Published):
            self.published.append(msg.publication)
        elif isinstance(msg, message.Unsubscribed) and msg.request == 0:
            # Autobahn|Python 22.7 announces subscription_revocation but raises a ProtocolError
            # on an UNSUBSCRIBED it did not ask for: record it and keep the session.
            self.revocations.append([msg.subscription, msg.reason])
            for sub in self._subscriptions.pop(msg.subscription, []):
                sub.active = False
            return
        return super().onMessage(msg)

    def events_of(self, subscription):
        return [e for e in self.events if e['subscription'] == subscription.id]


async def connect(url, ser):
    """Like common.connect, but the session is a Peer."""
    return await common.connect(url, ser, Peer)


async def until(predicate, timeout=STEP_TIMEOUT, what='condition'):
    """common.until, polling every 5 ms."""
    return await common.until(predicate, timeout, what, interval=0.005)


def unique_base(ser, name):
    return f'com.kreuz.pypubsub.{ser}.{name}.{common.run_id()}'


class Names:
    """Replaces IDs by names in what a scenario reports."""

    def __init__(self):
        self.names = {}

    def add(self, value, name):
        if value in self.names and self.names[value] != name:
            raise RuntimeError(f'ID {value} is both {self.names[value]} and {name}')
        self.names[value] = name
        return value

    def __call__(self, value):
        if value is None:
            return None
        return self.names.get(value, f'unknown:{value}' if isinstance(value, int) else value)


class Barrier:
    def __init__(self, topic):
        self.topic = topic
        self.marks = {}
        self.subs = {}
        self.count = 0

    async def add(self, *peers):
        for peer in peers:
            marks = []
            self.marks[peer] = marks
            self.subs[peer] = await wait(peer.subscribe(lambda token, _marks=marks: _marks.append(token), self.topic))

    async def pass_(self, publisher):
        self.count += 1
        token = f'barrier-{self.count}'
        await wait(publisher.publish(self.topic, token, options=PublishOptions(acknowledge=True, exclude_me=False)))
        await until(lambda: all(token in m for m in self.marks.values()), what=f'barrier {token} at every peer')

    def ids(self):
        return {s.id for s in self.subs.values()}


class Sink:
    """An event handler (subscribed with details) recording what Autobahn|Python gives it."""

    def __init__(self):
        self.delivered = []

    def __call__(self, *args, details=None, **kwargs):
        self.delivered.append({
            'args': list(args),
            'kwargs': kwargs,
            'publication': details.publication,
            'topic': details.topic,
            'retained': details.retained,
            'publisher': details.publisher,
            'publisher_authid': details.publisher_authid,
            'publisher_authrole': details.publisher_authrole,
        })

    def labels(self):
        return [d['args'][0] for d in self.delivered]


async def subscribe(peer, topic, **options):
    sink = Sink()
    sub = await wait(peer.subscribe(sink, topic, options=SubscribeOptions(details=True, **options)))
    return sub, sink


# ---------------------------------------------------------------------------
# 1. pattern-based subscriptions that overlap
# ---------------------------------------------------------------------------


async def patterns(url, ser):
    x = unique_base(ser, 'pat')
    s = await connect(url, ser)
    other = await connect(url, ser)
    pub = await connect(url, ser)
    names = Names()
    subs = {}
    for label, peer, topic, match in [
        ('exact', s, f'{x}.a.b', None),
        ('prefix', s, f'{x}.a', 'prefix'),
        ('wildcard', s, f'{x}..b', 'wildcard'),
        ('outer', other, x, 'prefix'),
    ]:
        sub, sink = await subscribe(peer, topic, match=match)
        names.add(sub.id, label)
        subs[label] = (peer, sub, sink)
    barrier = Barrier(unique_base(ser, 'pat-barrier'))  # not under X: the prefix subscriptions would match it
    await barrier.add(s, other)

    publications = {}
    for label, topic in [('p1', f'{x}.a.b'), ('p2', f'{x}.a.zz'), ('p3', f'{x}.q.b')]:
        p = await wait(pub.publish(topic, label, n=int(label[1]), options=PublishOptions(acknowledge=True)))
        names.add(p.id, label)
        publications[label] = p.id
    await barrier.pass_(pub)

    def short(topic):
        return None if topic is None else topic.replace(x, 'X')

    observed = {}
    for label, (peer, sub, sink) in subs.items():
        observed[label] = {
            'wire': [[names(e['publication']), short(e['topic']), e['args'], e['kwargs']] for e in peer.events_of(sub)],
            'handler': [[names(d['publication']), short(d['topic']), d['args'], d['kwargs']] for d in sink.delivered],
        }
    observed['s_total'] = len([e for e in s.events if e['subscription'] not in barrier.ids()])
    observed['other_total'] = len([e for e in other.events if e['subscription'] not in barrier.ids()])
    observed['distinct_subscriptions'] = len({sub.id for _, sub, _ in subs.values()})
    return observed


# ---------------------------------------------------------------------------
# 2. PUBLISH options
# ---------------------------------------------------------------------------


async def publish_options(url, ser):
    topic = unique_base(ser, 'opts')
    p = await connect(url, ser)
    a = await connect(url, ser)
    b = await connect(url, ser)
    c = await connect(url, ser)
    peers = {'P': p, 'A': a, 'B': b, 'C': c}
    names = Names()
    for name, peer in peers.items():
        names.add(peer.id, name)
    sinks = {}
    subs = {}
    for name, peer in peers.items():
        subs[name], sinks[name] = await subscribe(peer, topic)
    barrier = Barrier(f'{topic}-barrier')
    await barrier.add(*peers.values())

    cases = [
        ('default', {}),
        ('exclude_me_true', {'exclude_me': True}),
        ('exclude_me_false', {'exclude_me': False}),
        ('exclude', {'exclude': [b.id]}),
        ('exclude_two_me_too', {'exclude': [a.id, c.id], 'exclude_me': False}),
        ('exclude_authid', {'exclude_authid': [a.authid]}),
        ('exclude_authrole', {'exclude_authrole': ['anonymous'], 'exclude_me': False}),
        ('exclude_authrole_other', {'exclude_authrole': ['admin']}),
        ('eligible', {'eligible': [a.id, c.id, p.id]}),
        ('eligible_me_too', {'eligible': [a.id, p.id], 'exclude_me': False}),
        ('eligible_authid', {'eligible_authid': [b.authid]}),
        ('eligible_authrole', {'eligible_authrole': ['anonymous']}),
        ('eligible_authrole_none', {'eligible_authrole': ['admin']}),
        ('eligible_and_exclude', {'eligible': [a.id, b.id], 'exclude': [b.id]}),
        ('eligible_authid_and_exclude_authid', {'eligible_authid': [a.authid, c.authid], 'exclude_authid': [c.authid]}),
        ('eligible_and_eligible_authid', {'eligible': [a.id, b.id], 'eligible_authid': [b.authid, c.authid]}),
    ]
    publication_ok = True
    for label, options in cases:
        publication = await wait(p.publish(topic, label, options=PublishOptions(acknowledge=True, **options)))
        publication_ok = publication_ok and isinstance(publication.id, int) and 1 <= publication.id <= 2 ** 53
    await barrier.pass_(p)
    received = {name: sink.labels() for name, sink in sinks.items()}

    # acknowledge
    acks_before = len(p.published)
    unacked = p.publish(topic, 'unacknowledged')
    ack_false = p.publish(topic, 'ack_false', options=PublishOptions(acknowledge=False))
    acked = await wait(p.publish(topic, 'acknowledged', options=PublishOptions(acknowledge=True)))
    names.add(acked.id, 'acked')
    await barrier.pass_(p)
    a_wire = a.events_of(subs['A'])[-3:]
    acknowledge = {
        'unacked_returns': repr(unacked),
        'ack_false_returns': repr(ack_false),
        'acked_type': type(acked).__name__,
        # one for 'acknowledged', one for the barrier
        'published_after': [names(x) if x == acked.id else 'barrier' for x in p.published[acks_before:]],
        'events_at_A': [[e['args'], names(e['publication'])] for e in a_wire],
        'unacked_publication_is_id': all(isinstance(e['publication'], int) and e['publication'] >= 1 for e in a_wire),
    }

    # disclose_me
    p.disclose_next_publish()
    disclosed = await wait(p.publish(topic, 'disclosed', k=1, options=PublishOptions(acknowledge=True)))
    names.add(disclosed.id, 'disclosed')
    hidden = await wait(p.publish(topic, 'hidden', options=PublishOptions(acknowledge=True)))
    names.add(hidden.id, 'hidden')
    await barrier.pass_(p)

    def who(e):
        return {
            'publication': names(e['publication']),
            'args': e['args'],
            'kwargs': e['kwargs'],
            'publisher': names(e['publisher']),
            'publisher_authid_is_P': e['publisher_authid'] == p.authid if e['publisher_authid'] is not None else None,
            'publisher_authrole': e['publisher_authrole'],
        }

    disclose = {
        'wire_at_A': [who(e) for e in a.events_of(subs['A'])[-2:]],
        'handler_at_B': [who(d) for d in sinks['B'].delivered[-2:]],
    }
    return {
        'received': received,
        'publication_ids_ok': publication_ok,
        'distinct_authids': len({peer.authid for peer in peers.values()}),
        'acknowledge': acknowledge,
        'disclose': disclose,
    }


# ---------------------------------------------------------------------------
# 3. retained events
# ---------------------------------------------------------------------------


async def retained(url, ser):
    x = unique_base(ser, 'retain')
    topic = f'{x}.t'
    p = await connect(url, ser)
    old = await wait(p.publish(topic, 'old', 1, v='old', options=PublishOptions(acknowledge=True, retain=True)))
    new = await wait(p.publish(topic, 'new', 2, {'deep': [True, None]}, v='new', n=2.5,
                               options=PublishOptions(acknowledge=True, retain=True)))
    n1 = await connect(url, ser)
    with_retained, with_sink = await subscribe(n1, topic, get_retained=True)
    n2 = await connect(url, ser)
    without, without_sink = await subscribe(n2, topic)
    explicit_false, false_sink = await subscribe(n2, f'{x}.', match='prefix', get_retained=False)
    n3 = await connect(url, ser)
    pattern, pattern_sink = await subscribe(n3, x, match='prefix', get_retained=True)
    barrier = Barrier(unique_base(ser, 'retain-barrier'))  # not under X: the prefix subscriptions would match it
    await barrier.add(n1, n2, n3)
    await barrier.pass_(p)
    retained_snapshot = {
        'without_get_retained': len(n2.events_of(without)) + len(without_sink.delivered),
        'get_retained_false': len(n2.events_of(explicit_false)) + len(false_sink.delivered),
        'wire': copy.deepcopy(n1.events_of(with_retained)),
        'handler': copy.deepcopy(with_sink.delivered),
        'pattern_wire': copy.deepcopy(n3.events_of(pattern)),
        'pattern_handler': copy.deepcopy(pattern_sink.delivered),
    }
    live = await wait(p.publish(topic, 'live', options=PublishOptions(acknowledge=True)))
    await barrier.pass_(p)

    def shape(e, publications):
        return {
            'args': e['args'],
            'kwargs': e['kwargs'],
            'topic': None if e['topic'] is None else e['topic'].replace(x, 'X'),
            'retained': e['retained'],
            'publisher': e['publisher'],
            'publication': publications.get(e['publication'], 'an ID' if isinstance(e['publication'], int) else e['publication']),
        }

    pubs = {old.id: 'old', new.id: 'new', live.id: 'live'}
    return {
        'distinct_publications': old.id != new.id,
        'retained_wire': [shape(e, pubs) for e in retained_snapshot['wire']],
        'retained_handler': [shape(e, pubs) for e in retained_snapshot['handler']],
        'pattern_wire': [shape(e, pubs) for e in retained_snapshot['pattern_wire']],
        'pattern_handler': [shape(e, pubs) for e in retained_snapshot['pattern_handler']],
        'without_get_retained': retained_snapshot['without_get_retained'],
        'get_retained_false': retained_snapshot['get_retained_false'],
        'after_live_wire': [shape(e, pubs) for e in n1.events_of(with_retained)[1:]],
    }


# ---------------------------------------------------------------------------
# 4. event history (router configured with eventHistory for this topic, limit 5)
# ---------------------------------------------------------------------------


def history_topic(ser):
    return f'com.kreuz.pyhistory.{ser}'


async def event_history(url, ser):
    topic = history_topic(ser)
    pub = await connect(url, ser)
    sub = await connect(url, ser)
    names = Names()
    published = []
    for i in range(1, 8):
        args = ['event', i, {'nested': [i, None, True]}]
        kwargs = {'i': i, 'label': f'#{i}', 'list': [1.5, 'x']}
        p = await wait(pub.publish(topic, *args, **kwargs, options=PublishOptions(acknowledge=True)))
        names.add(p.id, f'p{i}')
        published.append(p.id)
    subscription = await wait(sub.subscribe(lambda *a, **k: None, topic))
    names.add(subscription.id, 'sub')
    events = await wait(sub.call('wamp.subscription.get_events', subscription.id, 3))
    everything = await wait(sub.call('wamp.subscription.get_events', subscription.id))

    def shape(e):
        e = dict(e)
        timestamp = e.pop('timestamp', None)
        e['timestamp_iso'] = isinstance(timestamp, str) and bool(ISO_TIME.match(timestamp))
        e['subscription'] = names(e.get('subscription'))
        e['publication'] = names(e.get('publication'))
        return e

    return {
        'limit_3': [shape(e) for e in events],
        'default_limit': [names(e['publication']) for e in everything],
    }


# ---------------------------------------------------------------------------
# 5. testaments
# ---------------------------------------------------------------------------


async def testament(url, ser):
    topic = unique_base(ser, 'testament')
    s = await connect(url, ser)
    sub, sink = await subscribe(s, topic)
    left = []
    await wait(s.subscribe(lambda session_id, *rest: left.append(session_id), 'wamp.session.on_leave'))

    t = await connect(url, ser)
    added = await wait(t.call('wamp.session.add_testament', topic, ['bye'], {'who': 'T'}))
    t_id = t.id
    t._transport.transport.abort()  # the TCP connection drops: no GOODBYE, no WebSocket close
    await until(lambda: t_id in left, what="T's on_leave")
    wire = copy.deepcopy(s.events_of(sub))

    t2 = await connect(url, ser)
    added2 = await wait(t2.call('wamp.session.add_testament', topic, ['flushed'], {'who': 'T2'}))
    flushed = await wait(t2.call('wamp.session.flush_testaments'))
    t2_id = t2.id
    t2._transport.transport.abort()
    # testaments are dispatched before on_leave: T2's on_leave proves none is coming
    await until(lambda: t2_id in left, what="T2's on_leave")
    return {
        'add_testament_returns': added,
        'event_wire': [[e['args'], e['kwargs'], e['publisher'], e['retained']] for e in wire],
        'event_publication_is_id': all(isinstance(e['publication'], int) and e['publication'] >= 1 for e in wire),
        'event_handler': [[d['args'], d['kwargs']] for d in sink.delivered],
        'second_add_testament_returns': added2,
        'flush_testaments_returns': flushed,
        'events_after_flushed_death': len(s.events_of(sub)) - len(wire),
    }


# ---------------------------------------------------------------------------
# 6. subscription meta API
# ---------------------------------------------------------------------------


async def meta(url, ser):
    x = unique_base(ser, 'meta')
    topic = f'{x}.x.y'
    w = await connect(url, ser)
    log = []
    for event in ['on_create', 'on_subscribe', 'on_unsubscribe', 'on_delete']:
        await wait(w.subscribe(lambda *args, _event=event: log.append([_event, list(args)]), f'wamp.subscription.{event}'))
    a = await connect(url, ser)
    b = await connect(url, ser)
    names = Names()
    names.add(w.id, 'W')
    names.add(a.id, 'A')
    names.add(b.id, 'B')
    observed = {}
    steps = []  # [step, meta events about A and B since the previous step]
    seen = [0]

    def mine():
        return [entry for entry in log if entry[1] and entry[1][0] in (a.id, b.id)]

    def shape_entry(entry):
        event, args = entry
        shaped = [names(args[0])]
        if event == 'on_create':
            d = dict(args[1])
            d['id'] = names(d.get('id'))
            d['uri'] = d.get('uri', '').replace(x, 'X')
            created = d.pop('created', None)
            d['created_iso'] = isinstance(created, str) and bool(ISO_TIME.match(created))
            shaped.append(d)
        else:
            shaped.append(names(args[1]))
        return [event, shaped]

    async def step(name, count):
        await until(lambda: len(mine()) >= seen[0] + count, what=f'meta events of {name}')
        await asyncio.sleep(common.QUIET_WAIT)  # nothing more comes
        got = mine()[seen[0]:]
        seen[0] = len(mine())
        steps.append([name, [shape_entry(e) for e in got]])

    async def details(sub):
        return await wait(w.call('wamp.subscription.get', sub.id))

    exact = await wait(a.subscribe(lambda *args, **kwargs: None, topic))
    names.add(exact.id, 'sub_exact')
    await step('A subscribes exact', 2)
    same = await wait(b.subscribe(lambda *args, **kwargs: None, topic))
    observed['same_subscription'] = same.id == exact.id
    await step('B subscribes exact', 1)
    prefix = await wait(a.subscribe(lambda *args, **kwargs: None, f'{x}.x', options=SubscribeOptions(match='prefix')))
    names.add(prefix.id, 'sub_prefix')
    await step('A subscribes prefix', 2)
    wildcard = await wait(b.subscribe(lambda *args, **kwargs: None, f'{x}..y', options=SubscribeOptions(match='wildcard')))
    names.add(wildcard.id, 'sub_wildcard')
    await step('B subscribes wildcard', 2)

    def shape_details(d):
        d = dict(d)
        created = d.pop('created', None)
        d['created_iso'] = isinstance(created, str) and bool(ISO_TIME.match(created))
        d['id'] = names(d.get('id'))
        d['uri'] = d.get('uri', '').replace(x, 'X')
        return d

    def shape_list(result):
        if not isinstance(result, dict):
            return result
        return {k: sorted(names(i) for i in v) for k, v in result.items()}

    def name_list(ids):
        return None if ids is None else sorted(names(i) for i in ids)

    async def call(procedure, *args, **kwargs):
        return await wait(w.call(procedure, *args, **kwargs))

    everything = await call('wamp.subscription.list')
    observed['list_all_contains'] = {k: sorted(names(i) for i in v if names.names.get(i)) for k, v in everything.items()}
    observed['list_all_others'] = {k: len([i for i in v if not names.names.get(i)]) for k, v in everything.items()}
    observed['list_A'] = shape_list(await call('wamp.subscription.list', a.id))
    observed['list_B'] = shape_list(await call('wamp.subscription.list', b.id))
    observed['list_W'] = shape_list(await call('wamp.subscription.list', w.id))
    observed['list_unknown_session'] = await error_of(w.call('wamp.subscription.list', 1))
    observed['lookup'] = {
        'exact': names(await call('wamp.subscription.lookup', topic)),
        'exact_explicit': names(await call('wamp.subscription.lookup', topic, {'match': 'exact'})),
        'prefix': names(await call('wamp.subscription.lookup', f'{x}.x', {'match': 'prefix'})),
        'wildcard': names(await call('wamp.subscription.lookup', f'{x}..y', {'match': 'wildcard'})),
        'prefix_uri_as_exact': await call('wamp.subscription.lookup', f'{x}.x'),
        'exact_uri_as_prefix': await call('wamp.subscription.lookup', topic, {'match': 'prefix'}),
    }
    observed['match'] = {
        'topic': name_list(await call('wamp.subscription.match', topic)),
        'prefix_only': name_list(await call('wamp.subscription.match', f'{x}.x.z')),
        'wildcard_only': name_list(await call('wamp.subscription.match', f'{x}.q.y')),
        'none': await call('wamp.subscription.match', f'{x}.nothing'),
    }
    observed['get'] = {
        'exact': shape_details(await details(exact)),
        'prefix': shape_details(await details(prefix)),
        'wildcard': shape_details(await details(wildcard)),
        'unknown': await error_of(w.call('wamp.subscription.get', 1)),
    }
    observed['list_subscribers'] = {
        'exact': name_list(await call('wamp.subscription.list_subscribers', exact.id)),
        'prefix': name_list(await call('wamp.subscription.list_subscribers', prefix.id)),
        'wildcard': name_list(await call('wamp.subscription.list_subscribers', wildcard.id)),
    }
    observed['count_subscribers'] = {
        'exact': await call('wamp.subscription.count_subscribers', exact.id),
        'wildcard': await call('wamp.subscription.count_subscribers', wildcard.id),
    }

    # remove_subscriber
    observed['remove_B_returns'] = await call('wamp.subscription.remove_subscriber', exact.id, b.id)
    await until(lambda: b.revocations, what="B's UNSUBSCRIBED")
    observed['B_revocations'] = [[names(s), r] for s, r in b.revocations]
    await step('remove_subscriber B', 1)
    observed['after_remove'] = {
        'list_subscribers': name_list(await call('wamp.subscription.list_subscribers', exact.id)),
        'count_subscribers': await call('wamp.subscription.count_subscribers', exact.id),
        'again': await error_of(w.call('wamp.subscription.remove_subscriber', exact.id, b.id)),
        'unknown_session': await error_of(w.call('wamp.subscription.remove_subscriber', exact.id, 1)),
        'unknown_subscription': await error_of(w.call('wamp.subscription.remove_subscriber', 1, b.id)),
    }
    observed['remove_A_prefix_returns'] = await call('wamp.subscription.remove_subscriber', prefix.id, a.id, reason='com.example.go_away')
    await until(lambda: a.revocations, what="A's UNSUBSCRIBED")
    observed['A_revocations'] = [[names(s), r] for s, r in a.revocations]
    await step('remove_subscriber A (last of prefix)', 2)

    barrier = Barrier(f'{x}-barrier')
    await barrier.add(a, b)
    names.add(barrier.subs[a].id, 'sub_barrier')
    await step('barrier subscriptions', 3)
    after = await wait(w.publish(topic, 'after', options=PublishOptions(acknowledge=True)))
    names.add(after.id, 'after')
    await barrier.pass_(w)
    observed['events_after_remove'] = {
        'A': [[names(e['publication']), e['args']] for e in a.events_of(exact)],
        'B': [[names(e['publication']), e['args']] for e in b.events if e['subscription'] == exact.id],
    }

    await wait(exact.unsubscribe())
    await step('A unsubscribes the last exact', 2)
    observed['after_delete'] = {
        'get': await error_of(w.call('wamp.subscription.get', exact.id)),
        'list_subscribers': await error_of(w.call('wamp.subscription.list_subscribers', exact.id)),
        'count_subscribers': await error_of(w.call('wamp.subscription.count_subscribers', exact.id)),
        'lookup': await call('wamp.subscription.lookup', topic),
        'match': name_list(await call('wamp.subscription.match', topic)),
    }

    b.leave()
    await wait(b.left)
    await step('B leaves', 3)
    observed['after_B_left'] = {
        'list_barrier_subscribers': name_list(await call('wamp.subscription.list_subscribers', barrier.subs[a].id)),
        'wildcard': await error_of(w.call('wamp.subscription.get', wildcard.id)),
    }
    everything = await call('wamp.subscription.list')
    observed['list_all_end_contains'] = {k: sorted(names(i) for i in v if names.names.get(i)) for k, v in everything.items()}
    observed['steps'] = steps
    return observed


# ---------------------------------------------------------------------------
# 7. ordering under load
# ---------------------------------------------------------------------------


async def ordering(url, ser):
    topic = unique_base(ser, 'load')
    count = 2000
    pub = await connect(url, ser)
    received = []
    subscribers = []
    for _ in range(3):
        s = await connect(url, ser)
        seq = []
        received.append(seq)
        subscribers.append(s)
        await wait(s.subscribe(lambda n, _seq=seq: _seq.append(n), topic))
    t0 = time.monotonic()
    for i in range(count):
        pub.publish(topic, i)  # unacknowledged: returns at once
    await until(lambda: all(len(r) >= count for r in received), timeout=LOAD_TIMEOUT, what='2000 events at every subscriber')
    elapsed = time.monotonic() - t0
    barrier = Barrier(f'{topic}-barrier')
    await barrier.add(*subscribers)
    await barrier.pass_(pub)
    return {
        'in_order': [r == list(range(count)) for r in received],
        'counts': [len(r) for r in received],
        'within_bound': elapsed < LOAD_TIMEOUT,
    }


SCENARIOS = {f.__name__: f for f in [patterns, publish_options, retained, event_history, testament, meta, ordering]}
TIMEOUTS = {'ordering': LOAD_TIMEOUT + 10.0}


if __name__ == '__main__':
    common.run_scenarios(SCENARIOS, OVERALL_TIMEOUT, TIMEOUTS)
