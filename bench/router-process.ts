/**
 * Kreuz under test, in its own process: `startNode` on 127.0.0.1, port 0,
 * realm "realm1", prints `URL ws://...`, then answers the orchestrator's
 * requests (cpu, mem; see ipc.ts) and one of its own:
 *
 * - `fill {match, count}`: adds registrations through the router's in-process
 *   path (internal sessions, REGISTER handed to `router.receive`), so that
 *   100,000 of them take a second instead of 100,000 round trips. Each
 *   internal session holds at most `limits.registrations` (1,000 by default).
 *
 * Which Kreuz: this checkout's compiled build (dist/, what `npm start` and
 * the package run), rebuilt first if src/ is newer, so it is what is in the
 * working tree; or with `--kreuz-dir <dir>` another checkout's, the same way
 * (its dependencies resolve from its own node_modules): the payload sweep's
 * "kreuz (baseline)" rows. Not src/ through tsx: its per-module wrappers
 * (export getters, keepNames) cost the router several percent.
 *
 * `--cluster <name> --nats <url> [--node <id>]`: the node joins that cluster
 * over that nats-server (`NodeOptions.cluster`; heartbeat and dead_after at
 * their defaults, the node ID by default the hostname and PID). The request
 * `cluster` answers with its `view()` (nodes, frame counters, cross-node
 * calls), null without a cluster.
 */
import type { Outbound } from '../src/wamp/messages.ts';
import type { Session } from '../src/core/session.ts';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serveRequests } from './ipc.ts';

type ServerModule = typeof import('../src/node/server.ts');
const dirAt = process.argv.indexOf('--kreuz-dir');
const kreuzDir = resolve(dirAt >= 0 ? process.argv[dirAt + 1]! : fileURLToPath(new URL('..', import.meta.url)));
execFileSync(process.execPath, [resolve(kreuzDir, 'scripts/build.mjs'), '--if-stale'], { stdio: ['ignore', 'ignore', 'inherit'] });
const { startNode } = (await import(pathToFileURL(resolve(kreuzDir, 'dist/node/server.js')).href)) as ServerModule;

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
const clusterName = option('--cluster');
const natsUrl = option('--nats');
if (clusterName !== undefined && natsUrl === undefined) throw new Error('--cluster needs --nats <url>');

const REALM = 'realm1';
const PER_SESSION = 1000;

// `--http-bridge`: one web transport with the WebSocket path and an HTTP publisher at /publish (http-bridge.bench.ts).
const httpBridge = process.argv.includes('--http-bridge');
const bridgeTransports = [
  {
    type: 'web',
    endpoint: { host: '127.0.0.1', port: 0 },
    paths: {
      ws: { type: 'websocket' },
      publish: {
        type: 'publisher',
        realm: REALM,
        role: 'trusted',
        authid: 'bench-bridge',
        gate: { bodyLimit: 1 << 20, timestampDeltaMs: 0, requireTls: false },
      },
    },
  },
];

const node = await startNode({
  host: '127.0.0.1',
  port: 0,
  realms: [REALM],
  ...(httpBridge && { transports: bridgeTransports as never }),
  // The per-session message rate limit (50,000/s) guards against floods; the
  // benchmark's one callee may answer faster than that on a fast machine.
  limits: { messageRate: 100_000_000 },
  ...(clusterName !== undefined && { cluster: { name: clusterName, node: option('--node'), nats: { servers: [natsUrl!] } } }),
});

/** URIs of the filler registrations, shaped as in uri-map.bench.ts. */
function fillerUri(match: 'prefix' | 'wildcard', i: number): string {
  return match === 'prefix' ? `com.app${i % 100}.svc${i}` : `com.app${i % 100}..svc${i}.op`;
}

const filled = { prefix: 0, wildcard: 0 };
let fillSession: Session | undefined;
let request = 0;
let refused = 0;
const fillPeer = {
  info: { type: 'memory' as const, serializer: 'none', peer: 'bench-fill' },
  send: (message: Outbound) => {
    if (message[0] !== 65) refused++; // anything but REGISTERED
  },
  close: () => {},
};

function fill(match: 'prefix' | 'wildcard', count: number): { prefix: number; wildcard: number; refused: number } {
  for (let n = filled[match]; n < count; n++) {
    if (!fillSession || fillSession.registrations.size >= PER_SESSION) {
      fillSession = node.router.joinInternal(fillPeer, REALM, `bench-fill-${request}`);
    }
    node.router.receive(fillSession, [64, ++request, { match }, fillerUri(match, n)]);
  }
  filled[match] = Math.max(filled[match], count);
  return { ...filled, refused };
}

serveRequests({
  fill: (r) => fill(r.match as 'prefix' | 'wildcard', r.count as number),
  cluster: () => node.cluster?.view() ?? null,
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void node.close().finally(() => process.exit(0)));
console.log(`URL ${node.url}`);
