#!/usr/bin/python3
"""
Interop scenarios for Kreuz, run with Autobahn|Python (asyncio flavour).

Usage: scenarios.py <router-url> <json|msgpack|cbor> <scenario>

Each scenario opens one or more WAMP sessions (one WebSocket connection each)
on realm "realm1" with exactly the serializer named, does its work, and prints
ONE JSON line with what it observed to stdout, then exits 0. Anything
unexpected is printed to stderr and the exit code is non-zero. The whole run
is bounded by an overall timeout so nothing can hang.
"""

import asyncio
import json
import os
import sys
import time
import traceback

import txaio

txaio.use_asyncio()

from autobahn.asyncio.wamp import ApplicationSession  # noqa: E402
from autobahn.asyncio.websocket import WampWebSocketClientFactory  # noqa: E402
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.serializer import CBORSerializer, JsonSerializer, MsgPackSerializer  # noqa: E402
from autobahn.wamp.types import CallResult, ComponentConfig, PublishOptions, SubscribeOptions  # noqa: E402
from autobahn.websocket.util import parse_url  # noqa: E402

REALM = 'realm1'
OVERALL_TIMEOUT = 15.0  # seconds, for the whole scenario
STEP_TIMEOUT = 5.0  # seconds, for waiting on one thing that must happen
QUIET_WAIT = 0.3  # seconds, to decide that "nothing arrived"

SERIALIZERS = {
    'json': JsonSerializer,
    'msgpack': MsgPackSerializer,
    'cbor': CBORSerializer,
}


class Client(ApplicationSession):
    """An application session that exposes its lifecycle as futures."""

    def __init__(self, config):
        super().__init__(config)
        loop = asyncio.get_running_loop()
        self.joined = loop.create_future()  # -> SessionDetails
        self.left = loop.create_future()  # -> CloseDetails
        self.disconnected = loop.create_future()  # -> None

    def onJoin(self, details):
        if not self.joined.done():
            self.joined.set_result(details)

    def onLeave(self, details):
        if not self.joined.done():
            # ABORT instead of WELCOME
            self.joined.set_exception(RuntimeError(f'session not joined: {details.reason} {details.message}'))
        if not self.left.done():
            self.left.set_result(details)
        return super().onLeave(details)

    def onDisconnect(self):
        if not self.joined.done():
            self.joined.set_exception(RuntimeError('transport closed before the session joined'))
        if not self.disconnected.done():
            self.disconnected.set_result(None)
        return super().onDisconnect()


CLIENTS = []  # every session opened, to leave them at the end


async def connect(url, serializer_name):
    """Opens a new WebSocket connection with exactly one serializer offered and joins realm1."""
    serializer = SERIALIZERS[serializer_name]()
    sessions = []

    def make_session():
        session = Client(ComponentConfig(realm=REALM))
        sessions.append(session)
        CLIENTS.append(session)
        return session

    factory = WampWebSocketClientFactory(make_session, url=url, serializers=[serializer])
    _secure, host, port, _resource, _path, _params = parse_url(url)
    loop = asyncio.get_running_loop()
    await loop.create_connection(factory, host, port)
    # the session object is created when the WebSocket opening handshake completes
    while not sessions:
        await asyncio.sleep(0.01)
    session = sessions[0]
    details = await asyncio.wait_for(session.joined, STEP_TIMEOUT)
    if details.serializer != serializer.SERIALIZER_ID:
        raise RuntimeError(f'negotiated serializer {details.serializer!r}, wanted {serializer.SERIALIZER_ID!r}')
    return session


async def wait(future):
    return await asyncio.wait_for(future, STEP_TIMEOUT)


def app_error(e):
    """The parts of an ApplicationError the tests look at."""
    return {'error': e.error, 'args': list(e.args), 'kwargs': e.kwargs}


async def expect_error(coro):
    """Awaits coro, which must fail with ApplicationError; returns its parts."""
    try:
        result = await asyncio.wait_for(coro, STEP_TIMEOUT)
    except ApplicationError as e:
        return app_error(e)
    raise RuntimeError(f'expected an ApplicationError, got result {result!r}')


class EventSink:
    """An event handler that records (args, kwargs, publication id) and lets you wait for the n-th event."""

    def __init__(self):
        self.events = []
        self._changed = asyncio.Event()

    def __call__(self, *args, details=None, **kwargs):
        self.events.append({'args': list(args), 'kwargs': kwargs, 'publication': details.publication if details else None})
        self._changed.set()

    async def wait_for(self, count):
        async def until():
            while len(self.events) < count:
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(until(), STEP_TIMEOUT)
        return self.events[count - 1]


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


async def close_all():
    """Best effort: leave every session still joined so the router sees clean GOODBYEs."""
    for client in CLIENTS:
        if client.is_attached():
            client.leave()
    pending = [c.disconnected for c in CLIENTS if not c.disconnected.done()]
    if pending:
        await asyncio.wait(pending, timeout=2.0)


async def main(url, ser, name):
    try:
        return await asyncio.wait_for(SCENARIOS[name](url, ser), OVERALL_TIMEOUT)
    finally:
        await close_all()


if __name__ == '__main__':
    if len(sys.argv) != 4 or sys.argv[2] not in SERIALIZERS or sys.argv[3] not in SCENARIOS:
        print(f'usage: {sys.argv[0]} <url> <{"|".join(SERIALIZERS)}> <{"|".join(SCENARIOS)}>', file=sys.stderr)
        sys.exit(2)
    try:
        observed = asyncio.run(main(*sys.argv[1:]))
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
    print(json.dumps(observed, sort_keys=True))
    sys.exit(0)
