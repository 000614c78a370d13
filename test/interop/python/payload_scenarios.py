#!/usr/bin/python3
"""
Payload fidelity scenarios for Kreuz, run with Autobahn|Python (asyncio
flavour, Debian's python3-autobahn 22.7): what a callee or subscriber gets is
exactly what the caller or publisher sent, across every pair of serializers.

Usage: payload_scenarios.py <router-url> <scenario>
   or: payload_scenarios.py --serve   (many scenarios, one per line on stdin; see common.py)

Unlike the other scenario scripts, one scenario here runs sessions with every
serializer at once (JSON, MessagePack and CBOR callers, callees, publishers and
subscribers in one process), so that the nine serializer pairs take one Python
process, not nine. Each scenario prints ONE JSON line with what it observed.

Values are reported as descriptions that keep what JSON would lose (see
describe()): ['int', '18446744073709551615'], ['float', '-0.0'] (Python's repr,
so 2.0 stays '2.0' and an int 2 would be ['int', '2']), ['bytes', '00ff'],
['str', ...], ['list', [...]], ['dict', {...}]. A delivery that failed is
reported as {'error': ...} (an ApplicationError's URI, args and kwargs) or
{'exception': ...} (anything else, e.g. a lost session), and a delivery that
never came as None, so the TypeScript side sees every pair's outcome at once.

Every session is a Recorder: it keeps the INVOCATION/RESULT/ERROR/EVENT
messages as they came off the wire, and the ABORT if the router sent one (each
scenario reports those as 'aborted'). Where an ERROR is expected, its URI is
taken from the wire: Autobahn|Python 22.7 raises its own SerializationError,
not an ApplicationError, for an ERROR wamp.error.invalid_payload.

Scenarios:
  exact           every value of VALUES as a call argument and kwarg, for
                  the 9 caller/callee pairs (and back in the RESULT), and as
                  an event argument and kwarg for the 9 publisher/subscriber
                  pairs.
  beyond_msgpack  integers MessagePack cannot carry (2^70, -2^64-1): refused
                  for a MessagePack callee (ERROR to the caller), caller (a
                  RESULT it cannot take) and subscriber (that event skipped),
                  exact for JSON and CBOR ones, and everybody stays usable.
  cryptobox       WAMP-cryptobox end-to-end encryption with autobahn's
                  KeyRing (payload transparency: enc_algo/enc_serializer and
                  the ciphertext in place of Arguments) for calls, call
                  errors and events, across the 9 pairs.
"""

import asyncio
import sys

import common  # also selects asyncio for txaio
from common import STEP_TIMEOUT, app_error

from autobahn.wamp import message
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallResult, PublishOptions

OVERALL_TIMEOUT = 25.0  # seconds, for one scenario
# Seconds for one delivery or barrier that must happen (they take milliseconds; this bounds a failing run).
DELIVERY_TIMEOUT = STEP_TIMEOUT
SERS = ['json', 'msgpack', 'cbor']

# The values of the "exact" scenario: each one can be carried exactly by all
# three serializers (MessagePack integers span [-2^63, 2^64-1]).
VALUES = [
    ('int_2^53-1', 2**53 - 1),
    ('int_2^53+1', 2**53 + 1),
    ('int_-2^53-1', -2**53 - 1),
    ('int_2^63-1', 2**63 - 1),
    ('int_-2^63', -2**63),
    ('int_2^64-1', 2**64 - 1),
    ('float_2.0', 2.0),
    ('float_-0.0', -0.0),
    ('float_1e300', 1e300),
    ('float_0.1', 0.1),
    ('bytes_empty', b''),
    ('bytes_00ff', b'\x00\xff'),
    ('bytes_all', bytes(range(256))),
    ('str_clef', '\U0001d11e'),
    ('str_uuml', '\u00fc'),
    ('str_u2028', '\u2028'),
    ('empty_list', []),
    ('empty_dict', {}),
    ('list_of_empty_list', [[]]),
    ('list_of_empty_dict', [{}]),
    ('dict_of_empty_list', {'a': []}),
    ('nested_mix', [2**64 - 1, -0.0, 2.0, b'\x00', {'k': [1e300, -2**63]}, '\U0001d11e']),
]

# Integers beyond MessagePack (whose ints are [-2^63, 2^64-1]); JSON and CBOR (bignums) carry them.
BEYOND_MSGPACK = [
    ('int_2^70', 2**70),
    ('int_-2^64-1', -2**64 - 1),
    ('nested_2^70', [{'x': 2**70}]),
]


def describe(v):
    """A JSON-safe description of a value that keeps its exact type and value (see the module docstring)."""
    if v is None:
        return ['null']
    if isinstance(v, bool):
        return ['bool', v]
    if type(v) is int:
        return ['int', str(v)]
    if type(v) is float:
        return ['float', repr(v)]
    if type(v) is bytes:
        return ['bytes', v.hex()]
    if type(v) is str:
        return ['str', v]
    if type(v) in (list, tuple):
        return ['list', [describe(x) for x in v]]
    if type(v) is dict:
        return ['dict', {(k if type(k) is str else f'<{type(k).__name__}>{k!r}'): describe(x) for k, x in v.items()}]
    return ['other', type(v).__name__, repr(v)]


def parts(args, kwargs):
    """What a receiver got: {'args': [descriptions], 'kwargs': {key: description}}."""
    return {'args': [describe(a) for a in (args or [])], 'kwargs': {k: describe(x) for k, x in (kwargs or {}).items()}}


def result_parts(res):
    """A call's result as parts(); the label (first positional result) is left out."""
    if isinstance(res, CallResult):
        return parts(list(res.results)[1:], res.kwresults)
    return {'unexpected_result': describe(res)}


def failure(e):
    if isinstance(e, ApplicationError):
        return {'error': app_error(e)}
    return {'exception': f'{type(e).__name__}: {e}'}


async def outcome(start):
    """
    {'ok': result} or the failure, never raising: one bad delivery must not hide
    the others. `start()` sends the request (a call on a lost session raises at once).
    """
    try:
        return {'ok': await asyncio.wait_for(start(), DELIVERY_TIMEOUT)}
    except Exception as e:  # noqa: BLE001 -- every failure is data here
        return failure(e)


async def sessions(url, role, serializers=SERS):
    """One joined Recorder per serializer, named '<role> <serializer>'."""
    joined = {}
    for s in serializers:
        joined[s] = await common.connect(url, s, Recorder)
        joined[s].name = f'{role} {s}'
    return joined


def aborts():
    """[reason, message] of every ABORT the router sent a session of this scenario, by session name."""
    return {c.name: c.aborted for c in common.CLIENTS if getattr(c, 'aborted', None)}


class EventLog:
    """A subscriber's event handler: what each event (named by its first argument, a label) carried, and the order they came in."""

    def __init__(self):
        self.events = {}
        self.order = []

    def __call__(self, label, *args, **kwargs):
        self.events[label] = parts(args, kwargs)
        self.order.append(label)


async def barrier(logs, labels, what):
    """Waits (bounded, never raising) until every log has every label; returns whether it did."""
    try:
        await common.until(lambda: all(label in log.events for log in logs for label in labels), timeout=DELIVERY_TIMEOUT, what=what)
        return True
    except RuntimeError:
        return False


# ---------------------------------------------------------------------------
# exact: every value, every pair, RPC and PubSub
# ---------------------------------------------------------------------------


async def exact(url):
    rid = common.run_id()
    proc = lambda s: f'com.fidelity.{rid}.echo.{s}'  # noqa: E731
    callers = await sessions(url, 'caller')
    callees = await sessions(url, 'callee')
    invocations = {s: {} for s in SERS}  # callee serializer -> label -> parts

    for s, callee in callees.items():
        def echo(label, *args, _s=s, **kwargs):
            invocations[_s][label] = parts(args, kwargs)
            return CallResult(label, *args, **kwargs)

        await callee.register(echo, proc(s))

    async def call(c, e, name, value):
        label = f'{c}>{e}:{name}'
        got = await outcome(lambda: callers[c].call(proc(e), label, value, v=value))
        if 'ok' not in got:
            return dict(got, invocation=invocations[e].get(label))
        return {'invocation': invocations[e].get(label), 'result': result_parts(got['ok'])}

    pairs = [(c, e) for c in SERS for e in SERS]
    results = await asyncio.gather(*[call(c, e, name, value) for c, e in pairs for name, value in VALUES])
    rpc = {f'{c}>{e}': {} for c, e in pairs}
    it = iter(results)
    for c, e in pairs:
        for name, _value in VALUES:
            rpc[f'{c}>{e}'][name] = next(it)

    # PubSub: each publisher publishes every value once; all three subscribers get each event.
    topic = f'com.fidelity.{rid}.topic'
    subscribers = await sessions(url, 'subscriber')
    publishers = await sessions(url, 'publisher')
    logs = {s: EventLog() for s in SERS}
    for s, sub in subscribers.items():
        await sub.subscribe(logs[s], topic)
    ack = PublishOptions(acknowledge=True)
    publications = []
    for p, pub in publishers.items():
        for name, value in VALUES:
            label = f'{p}:{name}'
            publications.append((p, name, outcome(lambda pub=pub, label=label, value=value: pub.publish(topic, label, value, v=value, options=ack))))
        publications.append((p, 'done', outcome(lambda pub=pub, label=f'{p}:done': pub.publish(topic, label, options=ack))))
    # gather starts them in this order, and each sends its PUBLISH as it starts
    acks = await asyncio.gather(*[o for _p, _n, o in publications])
    publish_failures = {f'{p}:{name}': got for (p, name, _o), got in zip(publications, acks) if 'ok' not in got}
    # a publisher's events reach a subscriber in order: once it has "done", it has all it will get
    complete = await barrier(logs.values(), [f'{p}:done' for p in SERS], 'every subscriber to get every "done" event')
    pubsub = {
        f'{p}>{s}': {name: logs[s].events.get(f'{p}:{name}') for name, _value in VALUES}
        for p in SERS for s in SERS
    }
    return {
        'sent': {name: describe(value) for name, value in VALUES},
        'rpc': rpc,
        'pubsub': pubsub,
        'publish_failures': publish_failures,
        'pubsub_complete': complete,
        'aborted': aborts(),
    }


# ---------------------------------------------------------------------------
# sessions that record what came over the wire
# ---------------------------------------------------------------------------


class Recorder(common.Client):
    """
    A session that keeps every INVOCATION, RESULT, ERROR and EVENT as it came
    off the wire (its payload-transparency fields, Arguments and ArgumentsKw,
    and an ERROR's URI), before Autobahn decrypts it or turns it into an exception.
    """

    def __init__(self, config):
        super().__init__(config)
        self.wire = []
        self.name = None
        self.aborted = None  # [reason, message] of an ABORT after joining (Autobahn then drops the connection)

    def onMessage(self, msg):
        if isinstance(msg, message.Abort):
            self.aborted = [msg.reason, msg.message]
        if isinstance(msg, (message.Invocation, message.Result, message.Error, message.Event)):
            self.wire.append({
                'type': type(msg).__name__,
                'error': msg.error if isinstance(msg, message.Error) else None,
                'enc_algo': msg.enc_algo,
                'enc_serializer': msg.enc_serializer,
                'enc_key': msg.enc_key,
                'payload': type(msg.payload).__name__ if msg.payload is not None else None,
                'args': msg.args,
                'kwargs': msg.kwargs,
            })
        return super().onMessage(msg)


def wire_of(session, kind):
    """The wire fields of the last message of `kind` a Recorder received (args/kwargs as descriptions; no URI)."""
    seen = [w for w in session.wire if w['type'] == kind]
    if not seen:
        return None
    w = dict(seen[-1])
    del w['error']
    w['args'] = None if w['args'] is None else describe(w['args'])
    w['kwargs'] = None if w['kwargs'] is None else describe(w['kwargs'])
    return w


def plain(v):
    """v itself when JSON has it exactly (a string, a small int, ...), else its description."""
    if v is None or isinstance(v, (str, bool)) or (type(v) is int and abs(v) < 2**53):
        return v
    return describe(v)


async def call_outcome(session, start):
    """
    Like outcome(), for a call on a Recorder: a failure that came as an ERROR is
    reported as that ERROR's URI, args and kwargs from the wire, whatever exception
    Autobahn made of it (Autobahn|Python 22.7 raises its SerializationError, not an
    ApplicationError, for wamp.error.invalid_payload).
    """
    before = len(session.wire)
    got = await outcome(start)
    errors = [w for w in session.wire[before:] if w['type'] == 'Error']
    if 'ok' not in got and errors:
        w = errors[-1]
        got = {'error': {
            'error': w['error'],
            'args': [plain(a) for a in (w['args'] or [])],
            'kwargs': {k: plain(x) for k, x in (w['kwargs'] or {}).items()},
            'autobahn_raised': got['error']['error'] if 'error' in got else got['exception'].split(':')[0],
        }}
    return got


# ---------------------------------------------------------------------------
# beyond_msgpack: integers one receiver's serializer cannot carry
# ---------------------------------------------------------------------------


async def beyond_msgpack(url):
    rid = common.run_id()
    proc = lambda s: f'com.fidelity.{rid}.echo.{s}'  # noqa: E731
    big_proc = lambda s: f'com.fidelity.{rid}.big.{s}'  # noqa: E731
    # MessagePack clients cannot send these integers (Python's msgpack raises OverflowError): JSON and CBOR senders only.
    senders = ['json', 'cbor']
    callers = await sessions(url, 'caller')
    callees = await sessions(url, 'callee')
    invoked = {s: [] for s in SERS}  # labels, in order, per callee serializer
    invocations = {s: {} for s in SERS}

    for s, callee in callees.items():
        def echo(label, *args, _s=s, **kwargs):
            invoked[_s].append(label)
            invocations[_s][label] = parts(args, kwargs)
            return CallResult(label, *args, **kwargs)

        def big(label, _s=s):
            invoked[_s].append(label)
            return CallResult(label, 2**70, v=2**70)

        await callee.register(echo, proc(s))
        await callee.register(big, big_proc(s))

    rpc = {}
    for c in senders:
        for name, value in BEYOND_MSGPACK:
            for where in ['args', 'kwargs']:
                # to the MessagePack callee: refused, the callee not invoked, and everybody still usable
                label = f'{c}>msgpack:{name}:{where}'
                if where == 'args':
                    got = await call_outcome(callers[c], lambda: callers[c].call(proc('msgpack'), label, value))
                else:
                    got = await call_outcome(callers[c], lambda: callers[c].call(proc('msgpack'), label, v=value))
                after = await outcome(lambda: callers[c].call(proc('msgpack'), f'{label}:after', 1, v='after'))
                rpc[label] = {
                    'outcome': got['error'] if 'error' in got else ({'unexpected_result': result_parts(got['ok'])} if 'ok' in got else got),
                    'callee_invoked': label in invoked['msgpack'],
                    'following_call_on_same_registration': result_parts(after['ok']) if 'ok' in after else after,
                    'following_call_invoked_callee': f'{label}:after' in invoked['msgpack'],
                    'caller_attached': callers[c].is_attached(),
                    'callee_attached': callees['msgpack'].is_attached(),
                }
            # to JSON and CBOR callees: exact, there and back
            for e in ['json', 'cbor']:
                label = f'{c}>{e}:{name}'
                got = await outcome(lambda: callers[c].call(proc(e), label, value, v=value))
                rpc[label] = {'invocation': invocations[e].get(label), 'result': result_parts(got['ok']) if 'ok' in got else got}

    # a RESULT the MessagePack caller cannot take: a JSON or CBOR callee yields 2^70 to it
    for e in ['json', 'cbor']:
        label = f'{e}>msgpack:result_2^70'
        got = await call_outcome(callers['msgpack'], lambda: callers['msgpack'].call(big_proc(e), label))
        after = await outcome(lambda: callers['msgpack'].call(proc(e), f'{label}:after', 1))
        rpc[label] = {
            'outcome': got['error'] if 'error' in got else ({'unexpected_result': result_parts(got['ok'])} if 'ok' in got else got),
            'callee_invoked': label in invoked[e],
            'following_call': result_parts(after['ok']) if 'ok' in after else after,
            'caller_attached': callers['msgpack'].is_attached(),
            'callee_attached': callees[e].is_attached(),
        }

    # PubSub: the MessagePack subscriber misses exactly the events it cannot take
    topic = f'com.fidelity.{rid}.topic'
    subscribers = await sessions(url, 'subscriber')
    publishers = await sessions(url, 'publisher', senders)
    logs = {s: EventLog() for s in SERS}
    for s, sub in subscribers.items():
        await sub.subscribe(logs[s], topic)
    ack = PublishOptions(acknowledge=True)
    acks = {}
    for p, pub in publishers.items():
        for name, value in BEYOND_MSGPACK:
            acks[f'{p}:{name}:args'] = await outcome(lambda: pub.publish(topic, f'{p}:{name}:args', value, options=ack))
            acks[f'{p}:{name}:kwargs'] = await outcome(lambda: pub.publish(topic, f'{p}:{name}:kwargs', v=value, options=ack))
            acks[f'{p}:{name}:next'] = await outcome(lambda: pub.publish(topic, f'{p}:{name}:next', 'next', options=ack))
    last = [f'{p}:{BEYOND_MSGPACK[-1][0]}:next' for p in senders]
    complete = await barrier(logs.values(), last, 'every subscriber to get the last "next" event')
    return {
        'rpc': rpc,
        'published': {label: ('ok' in got) for label, got in acks.items()},
        'pubsub_complete': complete,
        'events': {s: {label: logs[s].events[label] for label in logs[s].order} for s in SERS},
        'subscribers_attached': {s: sub.is_attached() for s, sub in subscribers.items()},
        'publishers_attached': {s: pub.is_attached() for s, pub in publishers.items()},
        'aborted': aborts(),
    }


# ---------------------------------------------------------------------------
# cryptobox: end-to-end encryption with autobahn's KeyRing
# ---------------------------------------------------------------------------


async def cryptobox(url):
    from autobahn.wamp.cryptobox import HAS_CRYPTOBOX
    if not HAS_CRYPTOBOX:
        raise RuntimeError('autobahn.wamp.cryptobox has no KeyRing here (needs python3-nacl and python3-trie)')
    from autobahn.wamp.cryptobox import Key, KeyRing

    rid = common.run_id()
    base = f'com.e2ee.{rid}'
    # originators (callers, publishers) hold their private key and the responders' public key, and vice versa
    o_priv, o_pub = KeyRing().generate_key()
    r_priv, r_pub = KeyRing().generate_key()
    originator_ring = KeyRing()
    originator_ring.set_key('com.e2ee', Key(originator_priv=o_priv, responder_pub=r_pub))
    responder_ring = KeyRing()
    responder_ring.set_key('com.e2ee', Key(responder_priv=r_priv, originator_pub=o_pub))

    callers = await sessions(url, 'caller')
    callees = await sessions(url, 'callee')
    for s in SERS:
        callers[s].set_payload_codec(originator_ring)
        callees[s].set_payload_codec(responder_ring)
    invocations = {s: {} for s in SERS}

    for s, callee in callees.items():
        def echo(label, *args, _s=s, **kwargs):
            invocations[_s][label] = parts(args, kwargs)
            return CallResult(label, *args, **kwargs)

        def fail(label, _s=s):
            raise ApplicationError('com.e2ee.failed', 'secret reason', label, code=7)

        await callee.register(echo, f'{base}.echo.{s}')
        await callee.register(fail, f'{base}.fail.{s}')

    rpc = {}
    for c in SERS:
        for e in SERS:
            label = f'{c}>{e}'
            # inside the ciphertext: values none of the three serializers would have to carry
            got = await outcome(lambda: callers[c].call(f'{base}.echo.{e}', label, 2**70, b'\x00\xff', v=2.0))
            invocation_wire = wire_of(callees[e], 'Invocation')
            result_wire = wire_of(callers[c], 'Result')
            err = await outcome(lambda: callers[c].call(f'{base}.fail.{e}', label))
            rpc[label] = {
                'invocation': invocations[e].get(label),
                'invocation_wire': invocation_wire,
                'result': result_parts(got['ok']) if 'ok' in got else got,
                'result_wire': result_wire,
                'error': err.get('error', err),
                'error_wire': wire_of(callers[c], 'Error'),
            }

    topic = f'{base}.topic'
    subscribers = await sessions(url, 'subscriber')
    publishers = await sessions(url, 'publisher')
    logs = {s: EventLog() for s in SERS}
    event_wire = {s: {} for s in SERS}
    for s, sub in subscribers.items():
        sub.set_payload_codec(responder_ring)

        def on_event(label, *args, _s=s, **kwargs):
            event_wire[_s][label] = wire_of(subscribers[_s], 'Event')
            logs[_s](label, *args, **kwargs)

        await sub.subscribe(on_event, topic)
    acks = {}
    for p, pub in publishers.items():
        pub.set_payload_codec(originator_ring)
        acks[p] = await outcome(lambda: pub.publish(topic, p, 2**70, b'\x00\xff', v=2.0, options=PublishOptions(acknowledge=True)))
    complete = await barrier(logs.values(), SERS, 'every subscriber to get every encrypted event')
    pubsub = {
        f'{p}>{s}': {'event': logs[s].events.get(p), 'event_wire': event_wire[s].get(p)}
        for p in SERS for s in SERS
    }
    return {
        'rpc': rpc,
        'pubsub': pubsub,
        'published': {p: ('ok' in got) or got for p, got in acks.items()},
        'pubsub_complete': complete,
        'aborted': aborts(),
    }


SCENARIOS = {f.__name__: f for f in [exact, beyond_msgpack, cryptobox]}


def plan(args):
    if len(args) != 2 or args[1] not in SCENARIOS:
        raise common.UsageError(f'usage: {sys.argv[0]} <url> <{"|".join(SCENARIOS)}> | --serve')
    url, name = args
    return lambda: common.run_bounded(SCENARIOS[name](url), OVERALL_TIMEOUT)


if __name__ == '__main__':
    common.main(plan)
