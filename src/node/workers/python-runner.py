"""
Kreuz's runner for one Python WAMP component of a Crossbar config: a
container's component, or a router's (src/node/workers/component.ts starts
it under the configured Python, one process per component).

Contract with Kreuz:
- fd 3 is a control socket. Kreuz writes one JSON line first:
  {"id", "classname", "realm", "extra", "transport" (a container component's,
  as Crossbar's config gives it) or null (a router component: fd 4 is its
  connection to the router), "cbdir", "loglevel"}. The runner writes JSON
  lines back: {"log": {"level", "text"}}, {"joined": {...}}, {"ready": true},
  {"failed": "why"}. The end of fd 3 means Kreuz is gone: the runner exits.
- SIGTERM (or SIGINT): the session leaves (GOODBYE), then the process exits 0.
- Exit status 0: the session ended cleanly; 1: it failed (did not start,
  an exception escaped a callback, or the connection broke).

The class is an ApplicationSession subclass of autobahn.twisted.wamp (what
Crossbar runs) or autobahn.asyncio.wamp; the module it lives in decides.
"""

import importlib
import json
import os
import signal
import socket
import sys
import threading
import traceback

CONTROL_FD = 3
ROUTER_FD = 4
LEAVE_TIMEOUT = 3.0  # seconds from SIGTERM to exit when the router does not answer GOODBYE
CLEAN_CLOSE = ('wamp.close.normal', 'wamp.close.goodbye_and_out')

_write_lock = threading.Lock()


def send(message):
    data = (json.dumps(message, default=repr) + '\n').encode('utf-8')
    with _write_lock:
        try:
            while data:
                data = data[os.write(CONTROL_FD, data):]
        except OSError:
            os._exit(1)  # Kreuz is gone


def log(level, text):
    send({'log': {'level': level, 'text': text}})


def read_config():
    buf = b''
    while not buf.endswith(b'\n'):
        chunk = os.read(CONTROL_FD, 65536)
        if not chunk:
            sys.exit(1)
        buf += chunk
    return json.loads(buf.decode('utf-8'))


def exit_when_kreuz_is_gone():
    # A Kreuz that died leaves no orphan: the control socket ends, so does the runner.
    def wait():
        try:
            while os.read(CONTROL_FD, 4096):
                pass
        except OSError:
            pass
        os._exit(1)

    threading.Thread(target=wait, daemon=True).start()


def fail(message):
    send({'failed': message})
    sys.stderr.flush()
    os._exit(1)


def load_class(classname):
    module_name, _, class_name = classname.rpartition('.')
    if not module_name:
        fail('"classname" must name a module and a class (module.Class), got {!r}'.format(classname))
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        traceback.print_exc()
        fail('cannot import module "{}" ({}); Python looked in: {}'.format(module_name, e, ', '.join(p or '.' for p in sys.path)))
    except Exception as e:
        traceback.print_exc()
        fail('importing module "{}" failed: {}: {}'.format(module_name, type(e).__name__, e))
    try:
        return getattr(module, class_name)
    except AttributeError:
        fail('module "{}" has no class "{}"'.format(module_name, class_name))


def flavour_of(cls):
    if not isinstance(cls, type):
        fail('{!r} is not a class: Kreuz runs ApplicationSession subclasses'.format(cls))
    names = {'{}.{}'.format(c.__module__, c.__name__) for c in cls.__mro__}
    if 'autobahn.twisted.wamp.ApplicationSession' in names:
        return 'twisted'
    if 'autobahn.asyncio.wamp.ApplicationSession' in names:
        return 'asyncio'
    fail('{}.{} is not an ApplicationSession subclass (of autobahn.twisted.wamp or autobahn.asyncio.wamp)'.format(cls.__module__, cls.__name__))


class Outcome:
    """What the component's one session came to; decides the exit status."""

    def __init__(self):
        self.session = None
        self.joined = False
        self.failed = None  # why, once it failed
        self.stopping = False

    def fail(self, why):
        if self.failed is None:
            self.failed = why

    def status(self):
        return 1 if self.failed is not None else 0


def make_session_factory(cls, realm, extra, outcome):
    from autobahn.wamp.types import ComponentConfig

    def create():
        try:
            session = cls(ComponentConfig(realm=realm, extra=extra))
        except Exception as e:
            traceback.print_exc()
            fail('creating {} failed: {}: {}'.format(cls.__name__, type(e).__name__, e))
        outcome.session = session

        # As in Crossbar: an exception escaping a callback (onJoin, a handler) is fatal to the component.
        def panic(failure, message):
            text = failure.getTraceback() if hasattr(failure, 'getTraceback') else repr(failure)
            log('error', 'fatal error in component: {}\n{}'.format(message, text))
            outcome.fail('an exception escaped the component: {}'.format(message))
            session.disconnect()

        session._swallow_error = panic

        def on_join(s, details):
            outcome.joined = True
            send({'joined': {'session': details.session, 'authid': details.authid, 'authrole': details.authrole}})

        def on_ready(s):
            # Autobahn fires "ready" after an exception in onJoin too: that component never was.
            # (Its asyncio flavour fires it as onJoin starts, not when it is done: txaio's asyncio
            # callbacks do not wait for a returned coroutine.)
            if outcome.failed is None:
                send({'ready': True})

        def on_leave(s, details):
            if not outcome.joined:
                outcome.fail('the router refused the session: {} {}'.format(details.reason, details.message or ''))
            elif details.reason not in CLEAN_CLOSE and not outcome.stopping:
                log('info', 'session left: {} {}'.format(details.reason, details.message or ''))

        def on_disconnect(s, was_clean):
            if not was_clean and not outcome.stopping:
                outcome.fail('the connection to the router broke')

        session.on('join', on_join)
        session.on('ready', on_ready)
        session.on('leave', on_leave)
        session.on('disconnect', on_disconnect)
        return session

    return create


def serializer(name):
    from autobahn.wamp.serializer import create_transport_serializer

    return create_transport_serializer(name)


# Crossbar's WebSocket option names (ms where Crossbar has ms) -> Autobahn's setProtocolOptions.
WEBSOCKET_OPTIONS = {
    'open_handshake_timeout': ('openHandshakeTimeout', 1000.0),
    'close_handshake_timeout': ('closeHandshakeTimeout', 1000.0),
    'auto_ping_interval': ('autoPingInterval', 1000.0),
    'auto_ping_timeout': ('autoPingTimeout', 1000.0),
    'auto_ping_size': ('autoPingSize', None),
    'max_frame_size': ('maxFramePayloadSize', None),
    'max_message_size': ('maxMessagePayloadSize', None),
    'auto_fragment_size': ('autoFragmentSize', None),
    'fail_by_drop': ('failByDrop', None),
    'echo_close_codereason': ('echoCloseCodeReason', None),
    'tcp_nodelay': ('tcpNoDelay', None),
}


def set_options(factory, transport):
    options = transport.get('options') or {}
    if transport['type'] == 'rawsocket':
        if 'max_message_size' in options:
            factory.setProtocolOptions(maxMessagePayloadSize=options['max_message_size'])
        return
    for key, value in options.items():
        if key not in WEBSOCKET_OPTIONS:
            log('warn', 'transport option "{}" is not applied to a component\'s connection'.format(key))
            continue
        name, scale = WEBSOCKET_OPTIONS[key]
        factory.setProtocolOptions(**{name: value / scale if scale else value})


def cbdir_path(cbdir, path):
    return path if os.path.isabs(path) else os.path.join(cbdir, path)


def read_file(cbdir, path):
    with open(cbdir_path(cbdir, path), 'rb') as f:
        return f.read()


def describe(transport):
    if transport is None:
        return "the router's component connection"
    endpoint = transport['endpoint']
    where = endpoint.get('path') if endpoint['type'] == 'unix' else '{}:{}'.format(endpoint['host'], endpoint['port'])
    return '{} {}{}'.format(transport['type'], where, ' (TLS)' if endpoint.get('tls') else '')


# ---- Twisted ----


def run_twisted(cls, cfg, outcome):
    from twisted.internet import reactor
    from twisted.logger import LogLevel, formatEvent, globalLogBeginner
    import txaio

    txaio.use_twisted()
    txaio.set_global_log_level(cfg['loglevel'])
    from autobahn.twisted.rawsocket import WampRawSocketClientFactory, WampRawSocketClientProtocol
    from autobahn.twisted.websocket import WampWebSocketClientFactory, WampWebSocketClientProtocol

    levels = {LogLevel.debug: 'debug', LogLevel.info: 'info', LogLevel.warn: 'warn', LogLevel.error: 'error', LogLevel.critical: 'error'}
    shown = {'debug': 0, 'info': 1, 'warn': 2, 'error': 3}
    threshold = shown.get(cfg['loglevel'], 1)

    def observer(event):
        level = levels.get(event.get('log_level'), 'info')
        if shown[level] < threshold:
            return
        text = formatEvent(event)
        if shown[level] < shown['warn'] and (str(event.get('log_namespace', '')).startswith('twisted.') or text == 'Main loop terminated.'):
            return  # Twisted's own chatter
        failure = event.get('log_failure')
        if failure is not None:
            text = '{}\n{}'.format(text, failure.getTraceback())
        log(level, text)

    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)

    finished = []

    def finish():
        if not finished:
            finished.append(True)
            if reactor.running:
                reactor.stop()

    class WebSocketProtocol(WampWebSocketClientProtocol):
        def connectionLost(self, reason):
            WampWebSocketClientProtocol.connectionLost(self, reason)
            if not outcome.joined:
                outcome.fail('the connection to the router closed before the session joined')
            reactor.callLater(0, finish)

    class RawSocketProtocol(WampRawSocketClientProtocol):
        def connectionLost(self, reason):
            WampRawSocketClientProtocol.connectionLost(self, reason)
            if not outcome.joined:
                outcome.fail('the connection to the router closed before the session joined')
            reactor.callLater(0, finish)

    create = make_session_factory(cls, cfg['realm'], cfg['extra'], outcome)
    transport = cfg['transport']

    if transport is None or transport['type'] == 'rawsocket':
        factory = WampRawSocketClientFactory(create, serializer=serializer(transport['serializer'] if transport else 'json'))
        factory.protocol = RawSocketProtocol
    else:
        serializers = [serializer(s) for s in transport['serializers']] if transport.get('serializers') else None
        factory = WampWebSocketClientFactory(create, url=transport['url'], serializers=serializers)
        factory.protocol = WebSocketProtocol
    factory.noisy = False
    if transport is not None:
        set_options(factory, transport)

    def connect():
        if transport is None:
            reactor.adoptStreamConnection(ROUTER_FD, socket.AF_UNIX, factory)
            return
        endpoint = twisted_endpoint(reactor, transport['endpoint'], cfg['cbdir'])

        def refused(err):
            outcome.fail('could not connect to the router over {}: {}'.format(describe(transport), err.getErrorMessage()))
            finish()

        endpoint.connect(factory).addErrback(refused)

    def stop(*_):
        reactor.callFromThread(leave)

    def leave():
        outcome.stopping = True
        session = outcome.session
        if session is not None and session.is_attached():
            session.leave()
            reactor.callLater(LEAVE_TIMEOUT, finish)
        elif session is not None and session.is_connected():
            session.disconnect()
            reactor.callLater(LEAVE_TIMEOUT, finish)
        else:
            finish()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    reactor.callWhenRunning(connect)
    reactor.run(installSignalHandlers=False)


def twisted_endpoint(reactor, endpoint, cbdir):
    from twisted.internet.endpoints import TCP4ClientEndpoint, TCP6ClientEndpoint, UNIXClientEndpoint, wrapClientTLS

    timeout = endpoint.get('timeout', 10)
    if endpoint['type'] == 'unix':
        return UNIXClientEndpoint(reactor, cbdir_path(cbdir, endpoint['path']), timeout=timeout)
    tcp = (TCP6ClientEndpoint if endpoint.get('version') == 6 else TCP4ClientEndpoint)(reactor, endpoint['host'], endpoint['port'], timeout=timeout)
    tls = endpoint.get('tls')
    if not tls:
        return tcp
    from twisted.internet.ssl import Certificate, PrivateCertificate, optionsForClientTLS, platformTrust, trustRootFromCertificates

    cas = tls.get('ca_certificates')
    trust = trustRootFromCertificates([Certificate.loadPEM(read_file(cbdir, f)) for f in cas]) if cas else platformTrust()
    client = None
    if tls.get('certificate') and tls.get('key'):
        client = PrivateCertificate.loadPEM(read_file(cbdir, tls['key']) + b'\n' + read_file(cbdir, tls['certificate']))
    return wrapClientTLS(optionsForClientTLS(tls['hostname'], trustRoot=trust, clientCertificate=client), tcp)


# ---- asyncio ----


def run_asyncio(cls, cfg, outcome):
    import asyncio
    import logging
    import ssl

    import txaio

    txaio.use_asyncio()
    from autobahn.asyncio.rawsocket import WampRawSocketClientFactory, WampRawSocketClientProtocol
    from autobahn.asyncio.websocket import WampWebSocketClientFactory, WampWebSocketClientProtocol

    # Autobahn|Python 22.7's asyncio RawSocket protocol lacks the transport_details property its session reads on WELCOME.
    if not hasattr(WampRawSocketClientProtocol, 'transport_details'):
        WampRawSocketClientProtocol.transport_details = property(lambda self: self._transport_details)

    class Forward(logging.Handler):
        def emit(self, record):
            level = {'WARNING': 'warn', 'CRITICAL': 'error'}.get(record.levelname, record.levelname.lower())
            text = record.getMessage()
            if record.exc_info:
                text = '{}\n{}'.format(text, ''.join(traceback.format_exception(*record.exc_info)))
            log(level if level in ('debug', 'info', 'warn', 'error') else 'info', text)

    root = logging.getLogger()
    root.addHandler(Forward())
    root.setLevel(logging.DEBUG if cfg['loglevel'] == 'debug' else logging.INFO)
    txaio.set_global_log_level(cfg['loglevel'])

    async def main():
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def finish():
            if not done.done():
                done.set_result(None)

        def lost(protocol_class):
            class Protocol(protocol_class):
                def connection_lost(self, exc):
                    protocol_class.connection_lost(self, exc)
                    if not outcome.joined:
                        outcome.fail('the connection to the router closed before the session joined')
                    loop.call_soon(finish)

            return Protocol

        create = make_session_factory(cls, cfg['realm'], cfg['extra'], outcome)
        transport = cfg['transport']
        if transport is None or transport['type'] == 'rawsocket':
            factory = WampRawSocketClientFactory(create, serializer=serializer(transport['serializer'] if transport else 'json'))
            factory.protocol = lost(WampRawSocketClientProtocol)
        else:
            serializers = [serializer(s) for s in transport['serializers']] if transport.get('serializers') else None
            factory = WampWebSocketClientFactory(create, url=transport['url'], serializers=serializers)
            factory.protocol = lost(WampWebSocketClientProtocol)
        if transport is not None:
            set_options(factory, transport)

        def leave():
            outcome.stopping = True
            session = outcome.session
            if session is not None and session.is_attached():
                session.leave()
                loop.call_later(LEAVE_TIMEOUT, finish)
            elif session is not None and session.is_connected():
                session.disconnect()
                loop.call_later(LEAVE_TIMEOUT, finish)
            else:
                finish()

        loop.add_signal_handler(signal.SIGTERM, leave)
        loop.add_signal_handler(signal.SIGINT, leave)
        try:
            if transport is None:
                await loop.create_unix_connection(factory, sock=socket.socket(fileno=ROUTER_FD))
            else:
                await asyncio_connect(loop, factory, transport['endpoint'], cfg['cbdir'], ssl)
        except Exception as e:
            outcome.fail('could not connect to the router over {}: {}'.format(describe(transport), e))
            return
        await done

    asyncio.run(main())


async def asyncio_connect(loop, factory, endpoint, cbdir, ssl):
    import asyncio

    timeout = endpoint.get('timeout', 10)
    if endpoint['type'] == 'unix':
        return await asyncio.wait_for(loop.create_unix_connection(factory, cbdir_path(cbdir, endpoint['path'])), timeout)
    context = None
    tls = endpoint.get('tls')
    if tls:
        cas = tls.get('ca_certificates')
        context = ssl.create_default_context(cadata='\n'.join(read_file(cbdir, f).decode('ascii') for f in cas) if cas else None)
        if tls.get('certificate') and tls.get('key'):
            context.load_cert_chain(cbdir_path(cbdir, tls['certificate']), cbdir_path(cbdir, tls['key']))
    family = socket.AF_INET6 if endpoint.get('version') == 6 else socket.AF_INET
    connect = loop.create_connection(
        factory, endpoint['host'], endpoint['port'], ssl=context, server_hostname=tls['hostname'] if tls else None, family=family
    )
    return await asyncio.wait_for(connect, timeout)


def main():
    # As under Crossbar (python -m): the working directory, not this script's, comes first on the path.
    sys.path[0] = os.getcwd()
    cfg = read_config()
    exit_when_kreuz_is_gone()
    extra = cfg.get('extra')
    if extra is None:
        extra = {}
    if isinstance(extra, dict):
        extra['cbdir'] = cfg['cbdir']  # as Crossbar hands it to its components
    cfg['extra'] = extra
    cls = load_class(cfg['classname'])
    outcome = Outcome()
    if flavour_of(cls) == 'twisted':
        run_twisted(cls, cfg, outcome)
    else:
        run_asyncio(cls, cfg, outcome)
    if outcome.failed is not None:
        send({'failed': outcome.failed})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(outcome.status())


if __name__ == '__main__':
    main()
