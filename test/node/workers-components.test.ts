/**
 * Python components (src/node/workers/: component.ts, container.ts, python-runner.py) under
 * /usr/bin/python3 with Autobahn|Python, against a router in this process: how router components
 * and container components join (role, transport, extra, pythonpath, env), Crossbar's restart and
 * shutdown rules for containers, a component that cannot start, the stop, and what `check` says
 * when Python is missing. The components are small probes written into a temporary node directory;
 * an in-process session calls them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkConfigFile } from '../../src/config/check.ts';
import { formatProblem } from '../../src/config/errors.ts';
import { validateConfig } from '../../src/config/load.ts';
import { toNodeOptions } from '../../src/config/to-node-options.ts';
import type { LocalSession } from '../../src/core/local-session.ts';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import { Workers } from '../../src/node/workers/index.ts';
import { pythonProblem } from '../../src/node/workers/python.ts';
import { requirePython } from '../helpers/python.ts';
import { alive, recordingLogger, tempDir, until } from './workers-support.ts';

const PROBE = `
import os
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from autobahn.twisted.wamp import ApplicationSession


class Probe(ApplicationSession):
    @inlineCallbacks
    def onJoin(self, details):
        name = self.config.extra['name']

        def who():
            return {'authrole': details.authrole, 'authid': details.authid, 'authmethod': details.authmethod,
                    'extra': self.config.extra, 'pid': os.getpid(), 'env': os.environ.get('PROBE_VAR')}

        def crash(code):
            reactor.callLater(0.05, os._exit, code)

        def leave():
            reactor.callLater(0.05, self.leave)

        yield self.register(who, 'probe.%s.who' % name)
        yield self.register(crash, 'probe.%s.crash' % name)
        yield self.register(leave, 'probe.%s.leave' % name)
`;

const AIO_PROBE = `
import asyncio
import os
from autobahn.asyncio.wamp import ApplicationSession


class AioProbe(ApplicationSession):
    async def onJoin(self, details):
        name = self.config.extra['name']
        await self.register(lambda: {'authrole': details.authrole, 'pid': os.getpid(), 'flavour': 'asyncio'}, 'probe.%s.who' % name)
`;

const ROLE = { permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }] };

let dir: string;
let node: RunningNode;
let local: LocalSession;
const ports: Record<string, number> = {};
const running = new Set<Workers>();

function routerWorker(extra: Record<string, unknown> = {}) {
  return {
    type: 'router',
    realms: [
      {
        name: 'realm1',
        roles: [
          { name: 'anonymous', ...ROLE },
          { name: 'backend', ...ROLE },
          { name: 'frontend', ...ROLE },
        ],
      },
    ],
    transports: [
      // Ticket only: a router component does not come this way (it could not authenticate).
      {
        type: 'websocket',
        endpoint: { type: 'tcp', port: 0 },
        auth: { ticket: { type: 'static', principals: { joe: { ticket: 'joe-ticket-value', role: 'frontend' } } } },
      },
      { type: 'websocket', endpoint: { type: 'tcp', port: 0 }, auth: { anonymous: { type: 'static', role: 'anonymous' } } },
      { type: 'rawsocket', endpoint: { type: 'tcp', port: 0 } },
    ],
    ...extra,
  };
}

const websocket = () => ({
  type: 'websocket',
  endpoint: { type: 'tcp', host: '127.0.0.1', port: ports.ws },
  url: `ws://127.0.0.1:${ports.ws}/ws`,
});
const rawsocket = () => ({ type: 'rawsocket', endpoint: { type: 'tcp', host: '127.0.0.1', port: ports.rs }, serializer: 'msgpack' });
const probe = (name: string, more: Record<string, unknown> = {}) => ({
  type: 'class',
  classname: 'probe.Probe',
  realm: 'realm1',
  extra: { name },
  ...more,
});

/** Workers for `workers` (the router worker first), in the test's node directory; stopNode calls are kept. */
function workersOf(entries: unknown[], more: Record<string, unknown> = {}) {
  const { config } = validateConfig({ version: 2, workers: entries, ...more }, { baseDir: dir });
  const logger = recordingLogger();
  const stopNode: string[] = [];
  const workers = new Workers({
    config,
    cbdir: dir,
    router: node.router,
    logger,
    stopNode: (reason) => stopNode.push(reason),
    graceMs: 3000,
  });
  running.add(workers);
  return { workers, logger, stopNode };
}

/** What probe `name` says of itself, once it answers (within `ms`). */
async function who(name: string, ms = 10_000): Promise<Record<string, any>> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return (await local.call(`probe.${name}.who`)).args[0] as Record<string, any>;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** What probe `name` says once a process other than `pid` answers. */
async function restarted(name: string, pid: number, ms = 10_000): Promise<Record<string, any>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const now = await who(name, Math.max(0, deadline - Date.now())).catch(() => undefined);
    if (now && now.pid !== pid) return now;
    if (Date.now() > deadline) assert.fail(`probe ${name} (pid ${pid}) was not restarted within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function gone(name: string): Promise<boolean> {
  try {
    await local.call(`probe.${name}.who`);
    return false;
  } catch {
    return true;
  }
}

before(async () => {
  dir = realpathSync(tempDir());
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', 'probe.py'), PROBE);
  writeFileSync(join(dir, 'app', 'aioprobe.py'), AIO_PROBE);
  node = await startNode(toNodeOptions(validateConfig({ version: 2, workers: [routerWorker()] }, { baseDir: dir })));
  const port = (i: number) => Number(new URL(node.listeners[i].urls[0].replace(/^rs/, 'http')).port);
  ports.locked = port(0);
  ports.ws = port(1);
  ports.rs = port(2);
  local = await node.session('realm1');
});

after(async () => {
  await Promise.all([...running].map((w) => w.stop()));
  await node?.close();
});

describe('Python components', { concurrency: true }, () => {
  it("router components: joined as their role (default 'anonymous') on a connection of their own, with extra (and cbdir), pythonpath and the router's env", async () => {
    await requirePython();
    const { workers, logger } = workersOf([
      routerWorker({
        options: { pythonpath: ['app'], env: { vars: { PROBE_VAR: 'from-router-env' } } },
        components: [probe('ra', { role: 'backend', extra: { name: 'ra', x: [1, 'two'] } }), probe('rb')],
      }),
    ]);
    await workers.start();
    const a = await who('ra');
    assert.equal(a.authrole, 'backend');
    assert.equal(a.authmethod, 'anonymous');
    assert.match(a.authid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a random UUID, as Crossbar gives');
    assert.deepEqual(a.extra, { name: 'ra', x: [1, 'two'], cbdir: dir });
    assert.equal(a.env, 'from-router-env');
    assert.equal((await who('rb')).authrole, 'anonymous');
    assert.match(logger.text(), /component component001 \(probe\.Probe\) joined realm "realm1".*"authrole":"backend"/);
    await workers.stop();
    assert.ok(!alive(a.pid), 'stopped');
  });

  it('container components: over their own transport (WebSocket, RawSocket), a Twisted and an asyncio class, with the container env', async () => {
    await requirePython();
    const { workers } = workersOf([
      routerWorker(),
      {
        type: 'container',
        options: { pythonpath: ['app'], env: { inherit: ['PATH'], vars: { PROBE_VAR: 'from-container' } } },
        components: [
          probe('cws', { transport: websocket() }),
          { type: 'class', classname: 'aioprobe.AioProbe', realm: 'realm1', extra: { name: 'crs' }, transport: rawsocket() },
        ],
      },
    ]);
    await workers.start();
    const ws = await who('cws');
    assert.equal(ws.authrole, 'anonymous');
    assert.equal(ws.env, 'from-container');
    assert.deepEqual(ws.extra, { name: 'cws', cbdir: dir });
    const rs = await who('crs');
    assert.equal(rs.flavour, 'asyncio');
    assert.equal(rs.authrole, 'anonymous');
    await workers.stop();
    assert.ok(!alive(ws.pid) && !alive(rs.pid));
  });

  it('restart rules: "restart-on-failed" restarts a crash, not a clean leave; "restart-always" both; "restart-never" and router components neither', async () => {
    await requirePython();
    const container = (restart: string | undefined, name: string) => ({
      type: 'container',
      options: { pythonpath: ['app'], ...(restart && { restart }) },
      components: [probe(name, { transport: websocket() })],
    });
    const { workers, logger } = workersOf([
      routerWorker({ options: { pythonpath: ['app'] }, components: [probe('xr')] }),
      container('restart-on-failed', 'xf'),
      container('restart-always', 'xa'),
      container(undefined, 'xn'),
    ]);
    await workers.start();
    const first = await Promise.all(['xf', 'xa', 'xn', 'xr'].map((n) => who(n)));

    await Promise.all(['xf', 'xn', 'xr'].map((n) => local.call(`probe.${n}.crash`, [3])));
    await local.call('probe.xa.leave');
    // restarted: after the crash, after leaving
    const again = { xf: await restarted('xf', first[0].pid), xa: await restarted('xa', first[1].pid) };
    await until(() => !alive(first[2].pid) && !alive(first[3].pid), 5000, 'the crashed ones gone');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok((await gone('xn')) && (await gone('xr')), 'restart-never and the router component stay down');
    assert.match(
      logger.text(),
      /component component004 \(probe\.Probe\) of container worker worker004 is not restarted \(its container's "restart" is "restart-never"\)/,
    );
    assert.match(logger.text(), /of router worker worker001 is not restarted \(Crossbar restarts no router component\)/);

    await local.call('probe.xf.leave');
    await until(() => !alive(again.xf.pid), 5000, 'xf left');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(await gone('xf'), 'a clean leave is not restarted under restart-on-failed');
    await workers.stop();
  });

  it('"shutdown-on-any-component-stopped": the container stops its other components and ends, and the node stops with it (shutdown_on_worker_exit)', async () => {
    await requirePython();
    const entries = [
      routerWorker(),
      {
        type: 'container',
        options: { pythonpath: ['app'], shutdown: 'shutdown-on-any-component-stopped' },
        components: [probe('s1', { transport: websocket() }), probe('s2', { transport: rawsocket() })],
      },
    ];
    const { workers, stopNode, logger } = workersOf(entries);
    await workers.start();
    const s2 = await who('s2');
    await local.call('probe.s1.leave');
    await until(() => stopNode.length === 1, 10_000, 'the node told to stop', logger.text);
    assert.match(
      stopNode[0],
      /container worker worker002 ended, and the node's shutdown trigger "shutdown_on_worker_exit" stops the node with it/,
    );
    await until(() => !alive(s2.pid), 5000, 'the other component stopped');

    // Other node shutdown triggers keep the node running.
    const kept = workersOf(
      entries.map((e, i) => (i === 1 ? { ...(e as object), components: [probe('s3', { transport: websocket() })] } : e)),
      { controller: { options: { shutdown: ['shutdown_on_shutdown_requested'] } } },
    );
    await kept.workers.start();
    await who('s3');
    await local.call('probe.s3.leave');
    await until(() => /container worker worker002 ends/.test(kept.logger.text()), 10_000, 'the container ended', kept.logger.text);
    assert.deepEqual(kept.stopNode, []);
    await workers.stop();
    await kept.workers.stop();
  });

  it('a component that cannot start fails the start, naming why; a stop ends every component', async () => {
    await requirePython();
    const { workers } = workersOf([
      routerWorker(),
      { type: 'container', options: { pythonpath: ['app'] }, components: [probe('ok1', { transport: websocket() })] },
      {
        type: 'container',
        options: { pythonpath: ['app'] },
        components: [{ type: 'class', classname: 'nosuch.Thing', realm: 'realm1', transport: websocket() }],
      },
    ]);
    await assert.rejects(
      workers.start(),
      /component component002 of worker003 \(nosuch\.Thing\) did not start: cannot import module "nosuch"/,
    );
    const ok = await who('ok1');
    await workers.stop();
    assert.ok(!alive(ok.pid));

    // A container component authenticates as its class does: on the ticket-only transport, this one cannot.
    const locked = {
      type: 'websocket',
      endpoint: { type: 'tcp', host: '127.0.0.1', port: ports.locked },
      url: `ws://127.0.0.1:${ports.locked}/ws`,
    };
    const refused = workersOf([
      routerWorker(),
      { type: 'container', options: { pythonpath: ['app'] }, components: [probe('np', { transport: locked })] },
    ]);
    await assert.rejects(refused.workers.start(), /did not start: the router refused the session: wamp\.error\.no_auth_method/);
  });

  it('check: Python or Autobahn|Python missing, and a router component role its realm lacks, are errors that say what to do', () => {
    const config = (more: Record<string, unknown>, components = [probe('z')]) => ({
      version: 2,
      workers: [routerWorker({ options: { pythonpath: ['app'] }, components })],
      ...more,
    });
    const file = join(dir, 'check.json');
    // As `kreuz check` runs it: with the probe that starts the interpreter.
    const errors = (raw: unknown) => {
      writeFileSync(file, JSON.stringify(raw));
      return checkConfigFile(file, { python: pythonProblem }).errors.map(formatProblem).join('\n');
    };
    assert.match(
      errors(config({ kreuz: { python: '/nonexistent/python3' } })),
      /^workers\[0\]\.components: \/nonexistent\/python3 not found: install Python 3 with Autobahn\|Python \(apt-get install python3-autobahn\), or set "kreuz\.python"/,
    );
    assert.match(
      errors(config({ kreuz: { python: '/bin/false' } })),
      /Autobahn\|Python cannot be imported in \/bin\/false: install Autobahn\|Python \(apt-get install python3-autobahn\)/,
    );
    assert.match(
      errors(config({}, [probe('z', { role: 'nobody' })])),
      /components\[0\]\.role: role "nobody" is not defined on realm "realm1"/,
    );
    assert.equal(errors(config({})), '');
  });
});
