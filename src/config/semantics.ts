/**
 * What the schema cannot check on its own: one router worker per node, names
 * and ports used twice, files and directories that are missing, cipher lists
 * OpenSSL does not know, roles no realm has (joins.ts), and what each
 * transport type checks of its own entries (e.g. paths served twice). Guest
 * and container workers and router components: worker-checks.ts. Each
 * authentication method's details are in its schema piece, from src/auth.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { prefixWildcardOverlaps } from '../authz/permissions.ts';
import { checkTransport, transportServices } from '../node/transport-types/index.ts';
import { checkDashboards } from '../node/web-services/dashboard.ts';
import { formatPath, type ConfigProblem } from './errors.ts';
import { checkJoins } from './joins.ts';
import { isPem, resolveFile } from './paths.ts';
import type { KreuzConfig, RouterWorkerConfig, TlsConfig, TransportConfig, WorkerConfig } from './schema.ts';
import { checkContainerWorker, checkGuestWorker, checkRouterComponents, type WorkerCheck } from './worker-checks.ts';

type Path = PropertyKey[];
type Report = (path: Path, message: string) => void;
type RoleConfig = NonNullable<RouterWorkerConfig['realms'][number]['roles']>[number];

/** Every WAMP service of a transport (a WebSocket path, a RawSocket), with where its `auth` is or would be. */
export function wampServices(
  transport: TransportConfig,
  at: Path,
): Array<{ auth: unknown; path: Path; bridge?: { realm: string; role: string } }> {
  return transportServices(transport).map((s) => ({ ...s, path: [...at, ...s.path] }));
}

/** A worker that passed the schema, at its index in the config. */
export interface CheckedWorker {
  index: number;
  worker: WorkerConfig;
}

export function checkSemantics(config: KreuzConfig, baseDir: string): { problems: ConfigProblem[]; notes: ConfigProblem[] } {
  return checkWorkers(
    config.workers.map((worker, index) => ({ index, worker })),
    config.workers.map((w) => w.type),
    baseDir,
    config.kreuz?.python,
  );
}

/**
 * The checks of the workers that passed the schema (in a config that did
 * not, those that did: the others wait until they do), `types` being every
 * worker's "type" as written; `kreuzPython`: see WorkerCheck.
 */
export function checkWorkers(
  workers: readonly CheckedWorker[],
  types: readonly unknown[],
  baseDir: string,
  kreuzPython?: string,
): { problems: ConfigProblem[]; notes: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const notes: ConfigProblem[] = [];
  const problem: Report = (path, message) => problems.push({ path: formatPath(path), message });
  const note: Report = (path, message) => notes.push({ path: formatPath(path), message });

  const routers = types.flatMap((type, i) => (type === 'router' ? [i] : []));
  if (routers.length === 0) {
    problem(
      ['workers'],
      'has no router worker: Kreuz runs one per node; add {"type": "router", "realms": [...], "transports": [...]} (kreuz init writes one)',
    );
  }
  for (const w of routers.slice(1)) {
    problem(
      ['workers', w],
      `a second router worker: Kreuz runs one router worker per node (workers[${routers[0]}]); move its realms and transports into that one, ` +
        'or run it as another Kreuz node (kreuz.cluster shares realms across nodes)',
    );
  }

  const workerCheck: WorkerCheck = { baseDir, problem, note, kreuzPython };
  for (const { index, worker } of workers) {
    const at: Path = ['workers', index];
    // Ports are compared within a worker: an extra router worker is refused as a whole (Crossbar shares ports between them).
    if (worker.type === 'router') {
      checkRouter(worker, at, baseDir, problem, note);
      checkRouterComponents(worker, at, workerCheck);
    } else if (worker.type === 'guest') checkGuestWorker(worker, at, workerCheck);
    else checkContainerWorker(worker, at, workerCheck);
  }
  return { problems, notes };
}

function checkRouter(worker: RouterWorkerConfig, w: Path, baseDir: string, problem: Report, note: Report): void {
  const listeners = new Map<string, string>();
  const realms = new Map<string, number>();
  worker.realms.forEach((realm, r) => {
    const first = realms.get(realm.name);
    if (first !== undefined)
      problem([...w, 'realms', r, 'name'], `realm "${realm.name}" is already defined at ${formatPath([...w, 'realms', first])}`);
    else realms.set(realm.name, r);
    const roles = new Set<string>();
    realm.roles?.forEach((role, i) => {
      if (roles.has(role.name)) problem([...w, 'realms', r, 'roles', i, 'name'], `role "${role.name}" is defined twice in this realm`);
      roles.add(role.name);
      noteOverlaps(role, [...w, 'realms', r, 'roles', i], note);
    });
  });

  const metaApi = worker.realms.map((r) => r.options?.enable_meta_api ?? true);
  if (new Set(metaApi).size > 1) {
    const r = metaApi.indexOf(!metaApi[0]);
    problem(
      [...w, 'realms', r, 'options', 'enable_meta_api'],
      'must be the same on every realm: Kreuz turns the meta API on for all realms or for none',
    );
  }

  const services = worker.transports.flatMap((t, i) => wampServices(t, [...w, 'transports', i]));
  if (worker.realms.length === 0 && services.length > 0)
    note([...w, 'realms'], 'none: WAMP clients of its transports can join no realm (add realms, or this router serves the web only)');
  else checkJoins(worker, services, w, problem, note);
  if (worker.transports.length === 0 && !worker.components?.length)
    note([...w, 'transports'], 'none, and no components: nothing can reach this router');

  worker.transports.forEach((transport, t) => {
    const at: Path = [...w, 'transports', t];
    const endpoint = transport.endpoint;
    if (endpoint.type === 'tcp') {
      if (endpoint.port !== 0) {
        const host = endpoint.interface ?? 'default';
        for (const [key, where] of listeners) {
          const [otherHost, otherPort] = key.split('|');
          if (otherPort === String(endpoint.port) && (otherHost === host || isWildcard(otherHost) || isWildcard(host))) {
            problem([...at, 'endpoint', 'port'], `port ${endpoint.port} is already used by ${where}`);
          }
        }
        listeners.set(`${host}|${endpoint.port}`, formatPath(at));
      }
      if (endpoint.interface === undefined) {
        note(
          [...at, 'endpoint', 'interface'],
          'not set: Kreuz listens on 127.0.0.1 only (Crossbar listens on every interface); set "0.0.0.0" or "::" to accept remote clients',
        );
      }
      if (endpoint.tls) checkTls(endpoint.tls, [...at, 'endpoint', 'tls'], baseDir, problem);
    } else {
      const file = resolveFile(baseDir, endpoint.path);
      const where = listeners.get(`unix|${file}`);
      if (where) problem([...at, 'endpoint', 'path'], `${file} is already used by ${where}`);
      listeners.set(`unix|${file}`, formatPath(at));
      if (!isDirectory(dirname(file)))
        problem([...at, 'endpoint', 'path'], `directory not found: ${dirname(file)} (create it, or put the socket in one that exists)`);
    }

    checkTransport(transport, (path, message) => problem([...at, ...path], message), {
      note: (path, message) => note([...at, ...path], message),
      baseDir,
    });
    checkDashboards(transport, new Set(realms.keys()), (path, message) => problem([...at, ...path], message));
  });

  worker.components?.forEach((component, c) => {
    if (component.type !== 'class') return; // the schema refused it
    const at: Path = [...w, 'components', c];
    if (!realms.has(component.realm)) {
      problem(
        [...at, 'realm'],
        `realm "${component.realm}" is not defined by this router worker: a router component joins one of its realms`,
      );
    }
  });
}

/** Where a prefix and a wildcard permission of a role both match, the wildcard decides (Crossbar's rule; routing prefers the prefix). */
function noteOverlaps(role: RoleConfig, at: Path, note: Report): void {
  const permissions = role.permissions ?? [];
  for (const { prefix, wildcard, example } of prefixWildcardOverlaps(permissions)) {
    note(
      [...at, 'permissions', wildcard],
      `role "${role.name}": the wildcard permission "${permissions[wildcard].uri}" and the prefix permission "${permissions[prefix].uri}" ` +
        `both match some URIs (e.g. "${example}"); there the wildcard wins, as in Crossbar`,
    );
  }
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** TLS files must exist (they are read at start), and OpenSSL must know at least one cipher of the list. */
function checkTls(tls: TlsConfig, at: Path, baseDir: string, problem: Report): void {
  const files: Array<[Path, string]> = [
    [['key'], tls.key],
    [['certificate'], tls.certificate],
    ...(tls.chain_certificates ?? []).map((f, i): [Path, string] => [['chain_certificates', i], f]),
    ...(tls.ca_certificates ?? []).map((f, i): [Path, string] => [['ca_certificates', i], f]),
    ...(tls.dhparam === undefined ? [] : [[['dhparam'], tls.dhparam] as [Path, string]]),
  ];
  for (const [path, value] of files) {
    if (isPem(value)) continue;
    const file = resolveFile(baseDir, value);
    if (!existsSync(file)) problem([...at, ...path], `file not found: ${file}`);
  }
  if (tls.ciphers !== undefined) {
    try {
      createSecureContext({ ciphers: tls.ciphers });
    } catch {
      problem(
        [...at, 'ciphers'],
        `OpenSSL ${process.versions.openssl} knows none of these ciphers: give an OpenSSL cipher list (openssl ciphers -v)`,
      );
    }
  }
}
