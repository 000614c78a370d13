/**
 * The router of router-process.ts, in its own process (run with
 * --expose-gc): one node with every listener type, ticket and anonymous
 * authentication on each, an open realm and a locked one. It answers the
 * parent's health questions over IPC and records every uncaught exception
 * and unhandled rejection instead of dying, so the parent can fail the case
 * that caused it and name the stack.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import type { TransportOptions } from '../../src/node/options.ts';

export interface ChildConfig {
  tls: { cert: string; key: string };
  unixDir: string;
  maxMessageSize: number;
  limits: Record<string, number>;
  ticket: string;
}

export interface ChildEndpoints {
  ws: string;
  wss: string;
  wsUnix: string;
  rsPort: number;
  rssPort: number;
  rsUnix: string;
  universalWs: string;
  universalPort: number;
}

type Request = { id: number; op: 'ping' | 'heap' | 'stats' | 'close' };

const config = JSON.parse(process.env.KREUZ_ROUTER_PROCESS ?? '{}') as ChildConfig;
const send = (message: unknown) => process.send?.(message);

const faults: string[] = [];
const fault = (kind: string) => (err: unknown) => {
  const text = `${kind}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
  faults.push(text);
  send({ event: 'fault', text });
};
process.on('uncaughtException', fault('uncaughtException'));
process.on('unhandledRejection', fault('unhandledRejection'));
// The parent went away (test run killed): do not linger.
process.on('disconnect', () => process.exit(0));

const loop = monitorEventLoopDelay({ resolution: 20 });
loop.enable();

const auth = {
  anonymous: { type: 'static', role: 'anonymous' },
  // "joe" and "joe-0" .. "joe-4095", one ticket: cases each take their own principal, so the
  // router's per-principal throttle of failed logins never makes one case wait for another.
  ticket: {
    type: 'static',
    principals: Object.fromEntries(
      ['joe', ...Array.from({ length: 4096 }, (_, i) => `joe-${i}`)].map((id) => [id, { ticket: config.ticket, role: 'user' }]),
    ),
  },
};
const size = config.maxMessageSize;
const tcp = { host: '127.0.0.1', port: 0 };
const transports: TransportOptions[] = [
  { type: 'websocket', endpoint: tcp, path: 'ws', auth, maxMessageSize: size },
  { type: 'websocket', endpoint: tcp, path: 'ws', auth, maxMessageSize: size, tls: config.tls },
  { type: 'websocket', endpoint: { path: `${config.unixDir}/ws.sock` }, path: 'ws', auth, maxMessageSize: size },
  { type: 'rawsocket', endpoint: tcp, auth, maxMessageSize: size },
  { type: 'rawsocket', endpoint: tcp, auth, maxMessageSize: size, tls: config.tls },
  { type: 'rawsocket', endpoint: { path: `${config.unixDir}/rs.sock` }, auth, maxMessageSize: size },
  {
    type: 'universal',
    endpoint: tcp,
    rawsocket: { auth, maxMessageSize: size },
    paths: { ws: { type: 'websocket', auth, maxMessageSize: size } },
  },
];

let node: RunningNode;
try {
  node = await startNode({
    transports,
    limits: config.limits,
    realms: [
      'realm1',
      {
        // Nobody may register or publish here; anonymous sessions may subscribe to one topic and list what exists.
        name: 'locked',
        roles: [
          {
            name: 'anonymous',
            permissions: [
              { uri: 'com.locked.news', match: 'exact', allow: { subscribe: true } },
              { uri: 'wamp.registration.list', match: 'exact', allow: { call: true } },
              { uri: 'wamp.subscription.list', match: 'exact', allow: { call: true } },
            ],
          },
        ],
      },
    ],
  });
} catch (err) {
  send({ event: 'failed', text: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
}

const l = node.listeners;
const endpoints: ChildEndpoints = {
  ws: l[0].urls[0],
  wss: l[1].urls[0],
  wsUnix: l[2].urls[0],
  rsPort: l[3].port,
  rssPort: l[4].port,
  rsUnix: `${config.unixDir}/rs.sock`,
  universalWs: l[6].urls[0],
  universalPort: l[6].port,
};

function socketCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) if (/TCP|TLS|Pipe/.test(r)) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

process.on('message', (request: Request) => {
  switch (request.op) {
    case 'ping':
      // Answered from the check phase: a stalled event loop answers late.
      setImmediate(() => send({ id: request.id, ok: true }));
      return;
    case 'heap': {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (!gc) return send({ id: request.id, error: 'run with --expose-gc' });
      gc();
      gc();
      return send({ id: request.id, heapUsed: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss });
    }
    case 'stats': {
      const info = node.info();
      send({
        id: request.id,
        sessions: Object.fromEntries(info.realms.map((r) => [r.name, r.sessions])),
        sockets: socketCounts(),
        loopDelayMaxMs: loop.max / 1e6,
        faults: faults.length,
      });
      loop.reset();
      return;
    }
    case 'close':
      void node.close().then(() => {
        send({ id: request.id, ok: true });
        process.exit(0);
      });
      return;
  }
});

send({ event: 'ready', endpoints });
