#!/usr/bin/python3
"""
Interop scenarios for Kreuz's RawSocket transport (and wss://), run with
Autobahn|Python (asyncio flavour).

Usage: rawsocket_scenarios.py <transport> <target> <json|msgpack|cbor> <scenario> [cafile]
   or: rawsocket_scenarios.py --serve   (many scenarios, one per line on stdin; see common.py)

  transport  tcp  target host:port    RawSocket over TCP
             unix target path         RawSocket over a Unix socket
             tls  target host:port    RawSocket over TLS, trusting cafile
             wss  target wss://...    WebSocket over TLS, trusting cafile

Each scenario opens WAMP sessions on realm "realm1" with exactly the
serializer named, and prints ONE JSON line with what it observed to stdout,
then exits 0 (the serve_once scenario also prints a {"ready": true} line
first). Anything unexpected goes to stderr with a non-zero exit code. The
whole run is bounded by an overall timeout.
"""

import asyncio
import json
import ssl
import sys

import common  # also selects asyncio for txaio
from common import STEP_TIMEOUT, EventSink

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallResult, PublishOptions, SubscribeOptions

# Autobahn|Python 22.7's asyncio RawSocket protocol keeps its TransportDetails in
# `_transport_details` but lacks the public `transport_details` property that
# ApplicationSession reads on WELCOME (its Twisted flavour and the WebSocket
# protocols have it), so every RawSocket session would fail right after joining.
# Client-side gap, patched here for the test only.
from autobahn.asyncio.rawsocket import WampRawSocketClientProtocol

if not hasattr(WampRawSocketClientProtocol, 'transport_details'):
    WampRawSocketClientProtocol.transport_details = property(lambda self: self._transport_details)

OVERALL_TIMEOUT = 15.0

TRANSPORTS = ('tcp', 'unix', 'tls', 'wss')


def tls_context(cafile):
    context = ssl.create_default_context(purpose=ssl.Purpose.SERVER_AUTH, cafile=cafile)
    return context


async def connect(transport, target, ser, cafile=None):
    """Opens a new connection with exactly one serializer and joins realm1."""
    if transport == 'wss':
        return await common.connect(target, ser, ssl=tls_context(cafile), server_hostname='localhost')

    async def open_rawsocket(make_session, serializer):
        factory = WampRawSocketClientFactory(make_session, serializer=serializer)
        loop = asyncio.get_running_loop()
        if transport == 'unix':
            await loop.create_unix_connection(factory, target)
        else:
            host, port = target.rsplit(':', 1)
            if transport == 'tls':
                await loop.create_connection(factory, host, int(port), ssl=tls_context(cafile), server_hostname='localhost')
            else:
                await loop.create_connection(factory, host, int(port))

    return await common.join(ser, open_rawsocket)


async def rpc(transport, target, ser, cafile):
    a = await connect(transport, target, ser, cafile)
    b = await connect(transport, target, ser, cafile)

    def fail():
        raise ApplicationError('com.example.error.bad_input', 'why', 2, code=42)

    await a.register(lambda x, y: x + y, 'com.example.add2')
    await a.register(lambda: CallResult('one', 2, name='kreuz', nested={'ok': True}), 'com.example.multi')
    await a.register(lambda text: len(text), 'com.example.length')
    await a.register(lambda data: data[::-1], 'com.example.reverse_bytes')
    await a.register(fail, 'com.example.fail')

    add = await b.call('com.example.add2', 2, 3)
    many = await b.call('com.example.multi')
    # ~200 KB: one frame over many TCP segments, each way
    big = await b.call('com.example.length', 'x' * 200000)
    reversed_bytes = await b.call('com.example.reverse_bytes', b'\x00\x01\xfe\xff')
    try:
        await b.call('com.example.fail')
        error = None
    except ApplicationError as e:
        error = {'error': e.error, 'args': list(e.args), 'kwargs': e.kwargs}
    return {
        'add2': add,
        'multi': {'args': list(many.results), 'kwargs': many.kwresults},
        'big_length': big,
        'bytes': reversed_bytes.hex() if isinstance(reversed_bytes, bytes) else repr(reversed_bytes),
        'error': error,
    }


async def pubsub(transport, target, ser, cafile):
    a = await connect(transport, target, ser, cafile)
    b = await connect(transport, target, ser, cafile)
    sink = EventSink()
    await b.subscribe(sink, 'com.example.topic', options=SubscribeOptions(details=True))
    publication = await a.publish('com.example.topic', 1, 'two', color='red', options=PublishOptions(acknowledge=True))
    first = await sink.wait_for(1)
    a.publish('com.example.topic', 'x' * 100000)
    second = await sink.wait_for(2)
    return {
        'first': {'args': first['args'], 'kwargs': first['kwargs']},
        'publication_matches_ack': first['publication'] == publication.id,
        'second_length': len(second['args'][0]),
    }


async def serve_once(transport, target, ser, cafile):
    """Registers com.example.py_mul, says ready, waits to be called once, then calls com.example.js_concat."""
    a = await connect(transport, target, ser, cafile)
    loop = asyncio.get_running_loop()
    called = loop.create_future()

    def mul(x, y):
        if not called.done():
            called.set_result([x, y])
        return x * y

    await a.register(mul, 'com.example.py_mul')
    print(json.dumps({'ready': True}), flush=True)
    got = await asyncio.wait_for(called, STEP_TIMEOUT)
    concat = await a.call('com.example.js_concat', 'py', 'thon')
    return {'mul_called_with': got, 'js_concat': concat}


SCENARIOS = {f.__name__: f for f in [rpc, pubsub, serve_once]}


def plan(args):
    if len(args) not in (4, 5) or args[0] not in TRANSPORTS or args[2] not in common.SERIALIZERS or args[3] not in SCENARIOS:
        raise common.UsageError(f'usage: {sys.argv[0]} <{"|".join(TRANSPORTS)}> <target> <{"|".join(common.SERIALIZERS)}> '
                                f'<{"|".join(SCENARIOS)}> [cafile] | --serve')
    transport, target, ser, name = args[:4]
    cafile = args[4] if len(args) == 5 else None
    return lambda: common.run_bounded(SCENARIOS[name](transport, target, ser, cafile), OVERALL_TIMEOUT)


if __name__ == '__main__':
    common.main(plan)
