#!/usr/bin/python3
"""
Authentication interop client for Kreuz, with Autobahn|Python's own
authenticators (autobahn.wamp.auth.create_authenticator: ticket, wampcra,
cryptosign, scram, anonymous).

Usage: auth_client.py <router-url> '<json spec>'
   or: auth_client.py --serve   (many runs, one per line on stdin; see common.py)

The spec: {"realm": "realm1", "serializer": "json",
           "authenticators": [{"method": "ticket", "args": {"authid": "joe", "ticket": "..."}}, ...]}
A wss:// URL is connected with TLS 1.2 without certificate checks (a test
certificate), so that "tls-unique" channel binding exists.

Prints ONE JSON line: {"joined": true, "authid", "authrole", "authmethod",
"authprovider", "authextra", "realm"} or {"joined": false, "reason", "message"},
then exits 0. Anything unexpected goes to stderr with a non-zero exit code.
The whole run is bounded by a timeout.
"""

import asyncio
import json
import ssl
import sys

from common import SERIALIZERS, UsageError, main as run_main  # also selects asyncio for txaio

from autobahn.asyncio.wamp import Session
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.auth import create_authenticator
from autobahn.wamp.types import ComponentConfig
from autobahn.websocket.util import parse_url

OVERALL_TIMEOUT = 15.0  # seconds


class Client(Session):
    """Autobahn's Session (the one with add_authenticator), reporting how joining went."""

    def __init__(self, config, authenticators):
        super().__init__(config)
        for a in authenticators:
            self.add_authenticator(create_authenticator(a['method'], **a.get('args', {})))
        self.outcome = asyncio.get_running_loop().create_future()

    def on_join(self, details):
        if not self.outcome.done():
            self.outcome.set_result({
                'joined': True,
                'realm': details.realm,
                'authid': details.authid,
                'authrole': details.authrole,
                'authmethod': details.authmethod,
                'authprovider': details.authprovider,
                'authextra': details.authextra,
            })
        self.leave()

    def on_leave(self, details):
        if not self.outcome.done():
            self.outcome.set_result({'joined': False, 'reason': details.reason, 'message': details.message})
        return super().on_leave(details)

    def on_disconnect(self):
        if not self.outcome.done():
            self.outcome.set_exception(RuntimeError('transport closed before the session joined or was refused'))


async def main(url, spec):
    serializer = SERIALIZERS[spec.get('serializer', 'json')]()
    sessions = []

    def make_session():
        session = Client(ComponentConfig(realm=spec.get('realm', 'realm1')), spec['authenticators'])
        sessions.append(session)
        return session

    factory = WampWebSocketClientFactory(make_session, url=url, serializers=[serializer])
    secure, host, port, _resource, _path, _params = parse_url(url)
    context = None
    if secure:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    loop = asyncio.get_running_loop()
    transport, _protocol = await loop.create_connection(factory, host, port, ssl=context)
    try:
        while not sessions:
            await asyncio.sleep(0.01)
        return await sessions[0].outcome
    finally:
        await asyncio.sleep(0.05)
        transport.close()


def plan(args):
    if len(args) != 2:
        raise UsageError(f'usage: {sys.argv[0]} <url> <json spec> | --serve')
    url, spec = args[0], json.loads(args[1])
    return lambda: asyncio.wait_for(main(url, spec), OVERALL_TIMEOUT)


if __name__ == '__main__':
    run_main(plan)
