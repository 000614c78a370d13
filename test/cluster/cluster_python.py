"""
Autobahn|Python (Debian's python3-autobahn, asyncio) on three nodes of one
Kreuz cluster, for test/cluster/cluster-suite.ts: a callee on node B
(MessagePack), a subscriber on node C (CBOR), a caller and publisher on node A
(JSON), and a second callee on C that the caller on A reaches too.

Usage: cluster_python.py <url-a> <url-b> <url-c> <uri-prefix>
Prints ONE JSON line with what it observed (see test/interop/python/common.py
for the contract), exits non-zero with a traceback otherwise.
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'interop', 'python'))

from common import EventSink, connect, run_bounded, run_script, wait  # noqa: E402

from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import CallOptions, PublishOptions, RegisterOptions, SubscribeOptions  # noqa: E402

PROPAGATION = 3.0  # seconds a registration may take to reach another node


async def call_when_known(session, procedure, *args, **kwargs):
    """Calls until the caller's node knows the registration (no more wamp.error.no_such_procedure)."""
    deadline = asyncio.get_running_loop().time() + PROPAGATION
    while True:
        try:
            return await wait(session.call(procedure, *args, **kwargs))
        except ApplicationError as e:
            if e.error != 'wamp.error.no_such_procedure' or asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.02)


async def scenario(url_a, url_b, url_c, prefix):
    callee = await connect(url_b, 'msgpack')
    subscriber = await connect(url_c, 'cbor')
    caller = await connect(url_a, 'json')
    other_callee = await connect(url_c, 'json')

    def add(a, b, details=None):
        return {'sum': a + b, 'procedure': details.procedure}

    async def count(n, details=None):
        if details.progress is not None:
            for i in range(n):
                details.progress(i)
        return 'done'

    def where(details=None):
        return ['c', details.procedure]

    await wait(callee.register(add, prefix + '.add', options=RegisterOptions(details_arg='details')))
    await wait(callee.register(count, prefix + '.count', options=RegisterOptions(details_arg='details')))
    await wait(other_callee.register(where, prefix + '.pre', options=RegisterOptions(match='prefix', details_arg='details')))

    added = await call_when_known(caller, prefix + '.add', 2, 3)
    progress = []
    counted = await call_when_known(
        caller, prefix + '.count', 3, options=CallOptions(on_progress=lambda *args, **kw: progress.append(list(args)))
    )
    prefixed = await call_when_known(caller, prefix + '.pre.x.y')
    try:
        await wait(caller.call(prefix + '.missing'))
        missing = None
    except ApplicationError as e:
        missing = e.error

    sink = EventSink()
    subscription = await wait(subscriber.subscribe(sink, prefix + '.topic', options=SubscribeOptions(details=True)))
    published = await wait(
        caller.publish(prefix + '.topic', 'hello', n=1, options=PublishOptions(acknowledge=True))
    )
    event = await sink.wait_for(1)

    return {
        'added': added,
        'progress': progress,
        'counted': counted,
        'prefixed': prefixed,
        'missing': missing,
        'subscription': subscription.id,
        'publication': published.id,
        'event': event,
    }


if __name__ == '__main__':
    if len(sys.argv) != 5:
        print(f'usage: {sys.argv[0]} <url-a> <url-b> <url-c> <uri-prefix>', file=sys.stderr)
        sys.exit(2)
    url_a, url_b, url_c, prefix = sys.argv[1:]
    run_script(lambda: run_bounded(scenario(url_a, url_b, url_c, prefix), 20))
