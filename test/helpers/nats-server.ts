/**
 * nats-server for tests: Debian's binary (or one on PATH), on 127.0.0.1 with
 * a random client port, JetStream in a temporary directory. The client URL
 * comes from the ports file nats-server writes (`nats-server_<pid>.ports`:
 * `{"nats": [...], "cluster": [...]}`).
 *
 * Without nats-server, `skipWithoutNats()` gives a reason to skip, unless
 * KREUZ_REQUIRE_NATS=1 (CI): then the tests run and `startNatsServer` fails.
 * KREUZ_NATS_SERVER=<path> picks the binary (e.g. a current release).
 *
 * A JetStream cluster on nats-server 2.9.10 needs, on every server, a unique
 * server name (`-n`), a cluster name and routes (the first server too: "JetStream
 * cluster requires configured routes"), so `startNatsCluster` picks the
 * cluster ports first and gives each server routes to all of them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { connect } from '@nats-io/transport-node';

export interface NatsServer {
  /** nats://127.0.0.1:<port> for clients. */
  url: string;
  pid: number;
  /** The server name (`-n`). */
  name: string;
  /** The route URL, when started with a cluster port. */
  clusterUrl?: string;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s; removes its directory. Idempotent. */
  stop(): Promise<void>;
  /** Sends a signal (default SIGKILL) without waiting; `stop()` still cleans up. */
  kill(signal?: NodeJS.Signals): void;
  /** What the server logged (the last 64 KiB). */
  log(): string;
}

export interface NatsServerOptions {
  /** Route URLs to solicit (`--routes`). */
  routes?: string[];
  /** `--cluster_name` (default "kreuz-test" when clustered). */
  clusterName?: string;
  /** Listen for routes: true for a free port, or a port number. */
  clusterPort?: boolean | number;
  /** `-n` (default "kreuz-<random>"). */
  name?: string;
}

const CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server'];
const STARTUP_DEADLINE = 10_000;
const running = new Set<ChildProcess>();

/** The nats-server binary, or undefined: KREUZ_NATS_SERVER if set (another version), else Debian's, else one on PATH. */
export function natsServerPath(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const chosen = process.env.KREUZ_NATS_SERVER;
  for (const file of chosen ? [chosen] : [...CANDIDATES, ...onPath.map((dir) => join(dir, 'nats-server'))]) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function natsServerAvailable(): boolean {
  return natsServerPath() !== undefined;
}

/** For `describe(..., { skip: skipWithoutNats() })`: a reason when nats-server is missing and not required. */
export function skipWithoutNats(): string | false {
  if (natsServerAvailable() || process.env.KREUZ_REQUIRE_NATS === '1') return false;
  return 'nats-server is not installed (apt-get install nats-server; KREUZ_REQUIRE_NATS=1 makes this a failure)';
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = natsServerPath();
  if (!binary)
    throw new Error('nats-server not found (KREUZ_NATS_SERVER, /usr/sbin/nats-server or on PATH); KREUZ_REQUIRE_NATS=1 requires it');
  const dir = mkdtempSync(join(tmpdir(), 'kreuz-nats-'));
  const name = options.name ?? `kreuz-${Math.random().toString(36).slice(2, 10)}`;
  const args = ['-a', '127.0.0.1', '-p', '-1', '-js', '-sd', join(dir, 'store'), '--ports_file_dir', dir, '-n', name];
  const clustered = options.clusterPort !== undefined && options.clusterPort !== false;
  if (clustered) {
    const port = typeof options.clusterPort === 'number' ? options.clusterPort : await freePort();
    args.push('--cluster', `nats://127.0.0.1:${port}`, '--cluster_name', options.clusterName ?? 'kreuz-test');
  }
  if (options.routes?.length) args.push('--routes', options.routes.join(','));
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-65536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const ports = await readPorts(dir, child, () => log);
    const server: NatsServer = {
      url: ports.nats,
      pid: child.pid!,
      name,
      clusterUrl: ports.cluster,
      log: () => log,
      kill: (signal = 'SIGKILL') => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
      stop: once(async () => {
        server.kill('SIGTERM');
        const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
        cleanup();
      }),
    };
    return server;
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    cleanup();
    throw err;
  }
}

/**
 * `size` routed servers with JetStream, ready for replicated streams (a test
 * R`size` stream was created and deleted). Stop them all with `stopAll`.
 */
export async function startNatsCluster(size = 3): Promise<{ servers: NatsServer[]; urls: string[]; stopAll(): Promise<void> }> {
  const ports: number[] = [];
  for (let i = 0; i < size; i++) ports.push(await freePort());
  const routes = ports.map((port) => `nats://127.0.0.1:${port}`);
  const tag = Math.random().toString(36).slice(2, 8);
  const started = await Promise.allSettled(
    ports.map((port, i) => startNatsServer({ clusterPort: port, routes, clusterName: `kreuz-${tag}`, name: `kreuz-${tag}-${i + 1}` })),
  );
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  try {
    await untilReplicated(
      servers.map((s) => s.url),
      size,
    );
  } catch (err) {
    const logs = servers.map((s) => `--- ${s.name}\n${s.log().slice(-2000)}`).join('\n');
    await stopAll();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
  return { servers, urls: servers.map((s) => s.url), stopAll };
}

/** Polls until an R`replicas` stream can be made (the meta leader is elected and every peer known). */
async function untilReplicated(urls: string[], replicas: number): Promise<void> {
  const nc = await connect({ servers: urls, maxReconnectAttempts: -1 });
  const name = `kreuz_ready_${Math.random().toString(36).slice(2, 8)}`;
  const config = JSON.stringify({ name, subjects: [`${name}.>`], num_replicas: replicas, storage: 'memory' });
  const deadline = Date.now() + 20_000;
  let last = '';
  try {
    while (Date.now() < deadline) {
      try {
        const reply = await nc.request(`$JS.API.STREAM.CREATE.${name}`, config, { timeout: 2000 });
        const answer = reply.json<{ error?: { description?: string } }>();
        if (!answer.error) {
          await nc.request(`$JS.API.STREAM.DELETE.${name}`, '', { timeout: 2000 });
          return;
        }
        last = answer.error.description ?? 'error';
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`nats cluster: no R${replicas} stream within 20 s (${last})`);
  } finally {
    await nc.close();
  }
}

async function readPorts(dir: string, child: ChildProcess, log: () => string): Promise<{ nats: string; cluster?: string }> {
  const file = join(dir, `nats-server_${child.pid}.ports`);
  const deadline = Date.now() + STARTUP_DEADLINE;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`nats-server exited (${child.exitCode ?? child.signalCode}) at startup:\n${log().slice(-2000)}`);
    }
    try {
      const ports = JSON.parse(readFileSync(file, 'utf8')) as { nats?: unknown; cluster?: unknown };
      const nats = Array.isArray(ports.nats) ? ports.nats.find((u): u is string => typeof u === 'string') : undefined;
      const cluster = Array.isArray(ports.cluster) ? ports.cluster.find((u): u is string => typeof u === 'string') : undefined;
      if (nats) return { nats, cluster };
    } catch {
      // not written yet (or half written)
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`nats-server wrote no ports file within ${STARTUP_DEADLINE} ms:\n${log().slice(-2000)}`);
}

/** A port free a moment ago (nats-server takes it right after). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function once(run: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= run());
}

// A test process that ends without stop() (a failed assertion, Ctrl-C) takes its servers along.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
