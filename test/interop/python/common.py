"""
Shared pieces of the Autobahn|Python interop scripts (asyncio flavour, Debian's
python3-autobahn 22.7): sessions that expose their lifecycle as futures,
connecting with exactly one serializer, waiting with a bound, and the command
line contract every script keeps: print ONE JSON line with what was observed
and exit 0, or print the traceback to stderr and exit non-zero.

Every script also has a serving mode, `<script> --serve` (main() below): one
process runs many scenarios, one after another, so a test file starts Python
(and imports Autobahn) once instead of once per scenario. Each line on stdin is
one request, {"id": n, "args": [...]}, the args being exactly the script's
command line for one scenario; each scenario gets a fresh asyncio loop, its
sessions are left and every connection it opened is closed before the reply,
which is ONE line {"kreuz_serve": n, "ok": true, "observed": {...}} or
{"kreuz_serve": n, "ok": false, "error": "<traceback>"}. Other lines a
scenario prints are passed on as they are. The process ends at the end of
stdin (test/helpers/python.ts: runShared).

Importing this module selects asyncio for txaio, so import it before any
other autobahn.asyncio module.
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
from autobahn.wamp.types import ComponentConfig  # noqa: E402
from autobahn.websocket.util import parse_url  # noqa: E402

REALM = 'realm1'
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

    @property
    def id(self):
        return self.joined.result().session

    @property
    def authid(self):
        return self.joined.result().authid


CLIENTS = []  # every session opened, to leave them at the end
RUNS = 0  # scenarios started by this process (a serving process runs many)


def run_id():
    """Names this scenario run apart from every other one, also within one serving process."""
    return f'{os.getpid()}r{RUNS}'


async def until(predicate, timeout=STEP_TIMEOUT, what='condition', interval=0.01):
    """Polls until predicate() is truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f'timed out waiting for {what}')
        await asyncio.sleep(interval)


async def join(ser, open_transport, session_class=Client):
    """
    Joins realm1 over a new connection with exactly the serializer named.
    `open_transport(make_session, serializer)` opens the connection with a
    client factory around make_session; the session is returned once joined.
    """
    serializer = SERIALIZERS[ser]()
    sessions = []

    def make_session():
        session = session_class(ComponentConfig(realm=REALM))
        sessions.append(session)
        CLIENTS.append(session)
        return session

    await open_transport(make_session, serializer)
    # the session object is created when the transport's opening handshake completes
    await until(lambda: sessions, what='the transport opening handshake')
    session = sessions[0]
    details = await asyncio.wait_for(session.joined, STEP_TIMEOUT)
    if details.serializer != serializer.SERIALIZER_ID:
        raise RuntimeError(f'negotiated serializer {details.serializer!r}, wanted {serializer.SERIALIZER_ID!r}')
    return session


async def connect(url, ser, session_class=Client, **connection_options):
    """
    Opens a new WebSocket connection with exactly one serializer offered and
    joins realm1; `connection_options` go to loop.create_connection (ssl=...).
    """

    async def open_websocket(make_session, serializer):
        factory = WampWebSocketClientFactory(make_session, url=url, serializers=[serializer])
        _secure, host, port, _resource, _path, _params = parse_url(url)
        await asyncio.get_running_loop().create_connection(factory, host, port, **connection_options)

    return await join(ser, open_websocket, session_class)


async def wait(awaitable):
    return await asyncio.wait_for(awaitable, STEP_TIMEOUT)


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


async def error_of(awaitable):
    """The error URI of an awaitable that must fail with ApplicationError."""
    return (await expect_error(awaitable))['error']


class EventSink:
    """An event handler that records (args, kwargs, publication id) and lets you wait for the n-th event."""

    def __init__(self):
        self.events = []
        self._changed = asyncio.Event()

    def __call__(self, *args, details=None, **kwargs):
        self.events.append({'args': list(args), 'kwargs': kwargs, 'publication': details.publication if details else None})
        self._changed.set()

    async def wait_for(self, count):
        async def until_count():
            while len(self.events) < count:
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(until_count(), STEP_TIMEOUT)
        return self.events[count - 1]


async def close_all():
    """Best effort: leave every session still joined so the router sees clean GOODBYEs."""
    for client in CLIENTS:
        if client.is_attached():
            client.leave()
    pending = [c.disconnected for c in CLIENTS if not c.disconnected.done()]
    if pending:
        await asyncio.wait(pending, timeout=2.0)


async def run_bounded(scenario, timeout):
    """Awaits the scenario coroutine within `timeout` seconds, then leaves every session."""
    try:
        return await asyncio.wait_for(scenario, timeout)
    finally:
        await close_all()


class UsageError(Exception):
    """Arguments that name no scenario; the message is the usage line."""


def exit_with_usage(usage):
    print(usage, file=sys.stderr)
    sys.exit(2)


def run_script(make_coroutine):
    """
    Runs the coroutine make_coroutine() returns and prints its result as ONE
    JSON line (exit 0), or prints the traceback to stderr (exit 1).
    """
    try:
        observed = asyncio.run(make_coroutine())
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
    print(json.dumps(observed, sort_keys=True))
    sys.exit(0)


async def _closing_connections(make_coroutine):
    """
    Runs make_coroutine() and then closes every connection it opened on this loop,
    as the end of a one-scenario process does: the router sees them go before the
    next scenario of a serving process starts.
    """
    loop = asyncio.get_running_loop()
    opened = []

    def recording(create):
        async def create_and_record(*args, **kwargs):
            transport, protocol = await create(*args, **kwargs)
            opened.append(transport)
            return transport, protocol
        return create_and_record

    loop.create_connection = recording(loop.create_connection)
    loop.create_unix_connection = recording(loop.create_unix_connection)
    try:
        return await make_coroutine()
    finally:
        for transport in opened:
            if not transport.is_closing():
                transport.abort()
        await asyncio.sleep(0)  # abort() closes the socket in a callback: let it run


def serve(plan):
    """The serving mode (see the module's docstring): one scenario per line on stdin until its end."""
    global RUNS
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        reply = {'kreuz_serve': request['id']}
        try:
            make_coroutine = plan(request['args'])
            CLIENTS.clear()
            RUNS += 1
            reply.update(ok=True, observed=asyncio.run(_closing_connections(make_coroutine)))
        except KeyboardInterrupt:
            raise
        except UsageError as e:
            reply.update(ok=False, error=str(e))
        except BaseException:
            reply.update(ok=False, error=traceback.format_exc())
        sys.stderr.flush()
        print(json.dumps(reply, sort_keys=True), flush=True)


def main(plan):
    """
    The command line of every script: `--serve` (see the module's docstring), or
    the arguments of one scenario, run by this process alone. `plan(args)` checks
    them (raising UsageError) and returns what makes the scenario's coroutine.
    """
    args = sys.argv[1:]
    if args == ['--serve']:
        serve(plan)
        return
    try:
        make_coroutine = plan(args)
    except UsageError as e:
        exit_with_usage(str(e))
    run_script(make_coroutine)


def run_scenarios(scenarios, overall_timeout, timeouts=None):
    """The command line of a scenario script: <router-url> <json|msgpack|cbor> <scenario>, or --serve."""

    def plan(args):
        if len(args) != 3 or args[1] not in SERIALIZERS or args[2] not in scenarios:
            raise UsageError(f'usage: {sys.argv[0]} <url> <{"|".join(SERIALIZERS)}> <{"|".join(scenarios)}> | --serve')
        url, ser, name = args
        timeout = (timeouts or {}).get(name, overall_timeout)
        return lambda: run_bounded(scenarios[name](url, ser), timeout)

    main(plan)
