#!/usr/bin/python3
"""
Interop scenarios for Kreuz, run with Autobahn|Python (asyncio flavour).

Usage: scenarios.py <router-url> <json|msgpack|cbor> <scenario>
   or: scenarios.py --serve   (many scenarios, one per line on stdin; see common.py)

Each scenario opens one or more WAMP sessions (one WebSocket connection each)
on realm "realm1" with exactly the serializer named, does its work, and prints
ONE JSON line with what it observed to stdout, then exits 0. Anything
unexpected is printed to stderr and the exit code is non-zero. The whole run
is bounded by an overall timeout so nothing can hang.

Sessions, connecting, waiting and the command line are shared with the other
scripts here, in common.py.
"""

import asyncio
import os
import time

from common import (  # also selects asyncio for txaio
    QUIET_WAIT, STEP_TIMEOUT, EventSink, connect, expect_error, run_scenarios, wait,
)

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallResult, PublishOptions, SubscribeOptions

OVERALL_TIMEOUT = 15.0  # seconds, for the whole scenario


# ---------------------------------------------------------------------------
# scenarios: each takes (url, serializer) and returns a JSON-able dict
# ---------------------------------------------------------------------------


async def rpc(url, ser):
    a = await connect(url, ser)
    b = await connect(url, ser)

    def add2(x, y):
        return x + y

    def multi():
        return CallResult('one', 2, [3, 4], name='kreuz', nested={'ok': True, 'n': None})

    def echo_all(*args, **kwargs):
        return {'args': list(args), 'kwargs': kwargs}

    await a.register(add2, 'com.example.add2')
    await a.register(multi, 'com.example.multi')
    await a.register(echo_all, 'com.example.echo_all')

    add = await b.call('com.example.add2', 2, 3)
    many = await b.call('com.example.multi')
    kw_only = await b.call('com.example.echo_all', name='x', n=3)
    return {
        'add2': add,
        'multi': {'type': type(many).__name__, 'args': list(many.results), 'kwargs': many.kwresults},
        'kwargs_only': kw_only,
    }


async def error_passthrough(url, ser):
    a = await connect(url, ser)
    b = await connect(url, ser)

    def fail():
        raise ApplicationError('com.example.error.bad_input', 'why', 2, code=42)

    await a.register(fail, 'com.example.fail')
    return await expect_error(b.call('com.example.fail'))


async def no_such_procedure(url, ser):
    b = await connect(url, ser)
    e = await expect_error(b.call('com.example.nobody_here', 1))
    return {'error': e['error']}


async def duplicate_register(url, ser):
    a = await connect(url, ser)
    b = await connect(url, ser)
    await a.register(lambda: 'A', 'com.example.once')
    e = await expect_error(b.register(lambda: 'B', 'com.example.once'))
    # the first registration is untouched
    still = await b.call('com.example.once')
    return {'error': e['error'], 'call_after': still}


async def unregister(url, ser):
    a = await connect(url, ser)
    b = await connect(url, ser)
    reg = await a.register(lambda: 'A', 'com.example.temp')
    before = await b.call('com.example.temp')
    await reg.unregister()
    gone = await expect_error(b.call('com.example.temp'))
    await b.register(lambda: 'B', 'com.example.temp')
    after = await a.call('com.example.temp')
    return {'before': before, 'active_after_unregister': reg.active, 'error_after': gone['error'], 'after_reregister': after}


async def callee_leaves(url, ser):
    a = await connect(url, ser)
    b = await connect(url, ser)
    started = asyncio.Event()
    never = asyncio.get_running_loop().create_future()

    async def hang():
        started.set()
        try:
            await never  # never answers
        except asyncio.CancelledError:
            pass  # the run is over: asyncio.run() cancels what is left

    await a.register(hang, 'com.example.hang')
    call = asyncio.ensure_future(b.call('com.example.hang'))
    await asyncio.wait_for(started.wait(), STEP_TIMEOUT)
    # drop A's TCP connection: no GOODBYE, no WebSocket close handshake
    a._transport.transport.abort()
    t0 = time.monotonic()
    try:
        result = await asyncio.wait_for(call, STEP_TIMEOUT)
    except ApplicationError as e:
        elapsed = time.monotonic() - t0
        return {'invocation_started': True, 'error': e.error, 'elapsed': round(elapsed, 3)}
    raise RuntimeError(f'call returned {result!r} although the callee is gone')


async def pubsub(url, ser):
    a = await connect(url, ser)
    b = await connect(url, ser)
    sink = EventSink()
    await b.subscribe(sink, 'com.example.topic', options=SubscribeOptions(details=True))

    pub = await a.publish('com.example.topic', 1, 'two', [3.5, None], color='red', nested={'k': [True, False]},
                          options=PublishOptions(acknowledge=True))
    first = await sink.wait_for(1)
    unacked = a.publish('com.example.topic', 'second')
    second = await sink.wait_for(2)
    return {
        'acked_publication_type': type(pub).__name__,
        'acked_publication_id': pub.id,
        'first_event': first,
        'event_publication_matches_ack': first['publication'] == pub.id,
        'unacked_returns': repr(unacked),
        'second_event': {'args': second['args'], 'kwargs': second['kwargs']},
    }


async def exclude_me(url, ser):
    a = await connect(url, ser)
    b = await connect(url, ser)
    own = EventSink()
    other = EventSink()
    await a.subscribe(own, 'com.example.mirror')
    await b.subscribe(other, 'com.example.mirror')

    await a.publish('com.example.mirror', 'default', options=PublishOptions(acknowledge=True))
    await other.wait_for(1)  # the event was really routed (to B)
    await asyncio.sleep(QUIET_WAIT)
    own_after_default = len(own.events)

    await a.publish('com.example.mirror', 'included', options=PublishOptions(acknowledge=True, exclude_me=False))
    own_event = await own.wait_for(1)
    await other.wait_for(2)
    await asyncio.sleep(QUIET_WAIT)
    return {
        'own_events_after_default': own_after_default,
        'own_event_with_exclude_me_false': own_event['args'],
        'own_total': len(own.events),
        'other_events': [e['args'] for e in other.events],
    }


async def shared_subscription_id(url, ser):
    a = await connect(url, ser)
    b = await connect(url, ser)
    sa = await a.subscribe(lambda *args: None, 'com.example.shared')
    sb = await b.subscribe(lambda *args: None, 'com.example.shared')
    other = await b.subscribe(lambda *args: None, 'com.example.not_shared')
    return {'a_id': sa.id, 'b_id': sb.id, 'same': sa.id == sb.id, 'other_differs': other.id != sa.id}


async def binary(url, ser):
    a = await connect(url, ser)
    b = await connect(url, ser)

    def echo(data):
        return data

    await a.register(echo, 'com.example.echo_bytes')
    small = b'\x00\x01\xfe\xff'
    big = os.urandom(1000)
    got_small = await b.call('com.example.echo_bytes', small)
    got_big = await b.call('com.example.echo_bytes', big)

    sink = EventSink()
    await b.subscribe(sink, 'com.example.bytes')
    await a.publish('com.example.bytes', small, blob=big, options=PublishOptions(acknowledge=True))
    event = await sink.wait_for(1)
    arg, blob = event['args'][0], event['kwargs']['blob']
    return {
        'call_small_type': type(got_small).__name__,
        'call_small_equal': got_small == small,
        'call_small_hex': got_small.hex() if isinstance(got_small, bytes) else repr(got_small),
        'call_big_type': type(got_big).__name__,
        'call_big_equal': got_big == big,
        'event_arg_type': type(arg).__name__,
        'event_arg_equal': arg == small,
        'event_kwarg_type': type(blob).__name__,
        'event_kwarg_equal': blob == big,
    }


async def session_details(url, ser):
    a = await connect(url, ser)
    b = await connect(url, ser)
    da, db = a.joined.result(), b.joined.result()
    return {
        'session': da.session,
        'realm': da.realm,
        'authid': da.authid,
        'authrole': da.authrole,
        'authmethod': da.authmethod,
        'authprovider': da.authprovider,
        'serializer': da.serializer,
        'other_session_differs': da.session != db.session,
    }


async def goodbye(url, ser):
    a = await connect(url, ser)
    await a.register(lambda: 'A', 'com.example.goodbye_proc')
    a.leave()  # autobahn 22.7: returns a bool, not a future; wait for onLeave instead
    close = await wait(a.left)
    await wait(a.disconnected)
    b = await connect(url, ser)
    await b.register(lambda: 'B', 'com.example.goodbye_proc')
    result = await b.call('com.example.goodbye_proc')
    return {'reason': close.reason, 'second_session_registered_and_called': result}


SCENARIOS = {f.__name__: f for f in [
    rpc, error_passthrough, no_such_procedure, duplicate_register, unregister, callee_leaves,
    pubsub, exclude_me, shared_subscription_id, binary, session_details, goodbye,
]}


if __name__ == '__main__':
    run_scenarios(SCENARIOS, OVERALL_TIMEOUT)
