/**
 * What the schema cannot check on its own: names and ports used twice,
 * paths served twice, TLS files that are missing, and the details of each
 * authentication method (left to src/auth, which knows them best).
 */
import { existsSync } from 'node:fs';
import { AuthConfigError, buildTransportAuth } from '../auth/index.ts';
import { prefixWildcardOverlaps } from '../authz/permissions.ts';
import { formatPath, type ConfigProblem } from './errors.ts';
import type { KreuzConfig, TlsConfig, TransportConfig } from './schema.ts';
import { isPem, normalizeUrlPath, resolveFile } from './paths.ts';

type Path = PropertyKey[];
type RoleConfig = NonNullable<KreuzConfig['workers'][number]['realms'][number]['roles']>[number];

/** Every WAMP service of a transport (a WebSocket path, a RawSocket), with where its `auth` is or would be. */
export function wampServices(transport: TransportConfig, at: Path): Array<{ auth: unknown; path: Path }> {
  const out: Array<{ auth: unknown; path: Path }> = [];
  const webPaths = (paths: Record<string, { type: string; auth?: unknown }>, base: Path) => {
    for (const [p, service] of Object.entries(paths)) if (service.type === 'websocket') out.push({ auth: service.auth, path: [...base, p, 'auth'] });
  };
  switch (transport.type) {
    case 'websocket':
    case 'rawsocket':
      out.push({ auth: transport.auth, path: [...at, 'auth'] });
      break;
    case 'web':
      webPaths(transport.paths, [...at, 'paths']);
      break;
    case 'universal':
      if (transport.rawsocket) out.push({ auth: transport.rawsocket.auth, path: [...at, 'rawsocket', 'auth'] });
      for (const [p, service] of Object.entries(transport.websocket ?? {})) out.push({ auth: service.auth, path: [...at, 'websocket', p, 'auth'] });
      if (transport.web) webPaths(transport.web.paths, [...at, 'web', 'paths']);
      break;
  }
  return out;
}

/** Dynamic authenticators are only called once the node runs; for checking, a caller that is never used. */
const CHECK_ONLY_CALLER = { call: () => Promise.reject(new Error('not running')) };

export function checkSemantics(config: KreuzConfig, baseDir: string): { problems: ConfigProblem[]; notes: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const notes: ConfigProblem[] = [];
  const problem = (path: Path, message: string) => problems.push({ path: formatPath(path), message });

  config.workers.forEach((worker, w) => {
    const realms = new Map<string, number>();
    worker.realms.forEach((realm, r) => {
      const first = realms.get(realm.name);
      if (first !== undefined) problem(['workers', w, 'realms', r, 'name'], `realm "${realm.name}" is already defined at workers[${w}].realms[${first}]`);
      else realms.set(realm.name, r);
      const roles = new Set<string>();
      realm.roles?.forEach((role, i) => {
        if (roles.has(role.name)) problem(['workers', w, 'realms', r, 'roles', i, 'name'], `role "${role.name}" is defined twice in this realm`);
        roles.add(role.name);
        noteOverlaps(role, ['workers', w, 'realms', r, 'roles', i], notes);
      });
    });

    const metaApi = worker.realms.map((r) => r.options?.enable_meta_api ?? true);
    if (new Set(metaApi).size > 1) {
      const r = metaApi.indexOf(!metaApi[0]);
      problem(['workers', w, 'realms', r, 'options', 'enable_meta_api'], 'must be the same on every realm: Kreuz turns the meta API on for all realms or for none');
    }

    // A service without "auth" admits anonymous clients with role "anonymous": a realm with roles needs that role.
    const admitsAnonymous = worker.transports.some((t) => wampServices(t, []).some((service) => service.auth === undefined));
    worker.realms.forEach((realm, r) => {
      if (admitsAnonymous && realm.roles && !realm.roles.some((role) => role.name === 'anonymous')) {
        notes.push({
          path: formatPath(['workers', w, 'realms', r, 'roles']),
          message: 'has no role "anonymous": the clients of transports without "auth" (anonymous, role "anonymous") cannot join this realm',
        });
      }
    });

    const listeners = new Map<string, string>();
    worker.transports.forEach((transport, t) => {
      const at: Path = ['workers', w, 'transports', t];
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
          notes.push({
            path: formatPath([...at, 'endpoint', 'interface']),
            message: 'not set: Kreuz listens on 127.0.0.1 only (Crossbar listens on every interface); set "0.0.0.0" or "::" to accept remote clients',
          });
        }
        if (endpoint.tls) checkTlsFiles(endpoint.tls, [...at, 'endpoint', 'tls'], baseDir, problem);
      } else {
        const file = resolveFile(baseDir, endpoint.path);
        const where = listeners.get(`unix|${file}`);
        if (where) problem([...at, 'endpoint', 'path'], `${file} is already used by ${where}`);
        listeners.set(`unix|${file}`, formatPath(at));
      }

      if (transport.type === 'web') checkPathsOnce(Object.keys(transport.paths), [...at, 'paths'], problem);
      if (transport.type === 'universal') {
        const ws = Object.keys(transport.websocket ?? {});
        checkPathsOnce(ws, [...at, 'websocket'], problem);
        const web = Object.keys(transport.web?.paths ?? {});
        checkPathsOnce(web, [...at, 'web', 'paths'], problem);
        const wsPaths = new Set(ws.map(normalizeUrlPath));
        for (const p of web) if (wsPaths.has(normalizeUrlPath(p))) problem([...at, 'web', 'paths', p], `path ${normalizeUrlPath(p)} is already a websocket path of this transport`);
      }

      for (const { auth, path } of wampServices(transport, at)) {
        if (auth === undefined) continue;
        try {
          buildTransportAuth(auth, { caller: CHECK_ONLY_CALLER }, formatPath(path));
        } catch (err) {
          if (!(err instanceof AuthConfigError)) throw err;
          problems.push({ path: err.path, message: err.message.slice(err.path.length + 2) });
        }
      }
    });
  });
  return { problems, notes };
}

/** Where a prefix and a wildcard permission of a role both match, the wildcard decides (Crossbar's rule; routing prefers the prefix). */
function noteOverlaps(role: RoleConfig, at: Path, notes: ConfigProblem[]): void {
  const permissions = role.permissions ?? [];
  for (const { prefix, wildcard, example } of prefixWildcardOverlaps(permissions)) {
    notes.push({
      path: formatPath([...at, 'permissions', wildcard]),
      message:
        `role "${role.name}": the wildcard permission "${permissions[wildcard].uri}" and the prefix permission "${permissions[prefix].uri}" ` +
        `both match some URIs (e.g. "${example}"); there the wildcard wins, as in Crossbar`,
    });
  }
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

function checkPathsOnce(paths: string[], at: Path, problem: (path: Path, message: string) => void): void {
  const seen = new Map<string, string>();
  for (const p of paths) {
    const normal = normalizeUrlPath(p);
    const first = seen.get(normal);
    if (first !== undefined) problem([...at, p], `path ${normal} is already configured as "${first}"`);
    else seen.set(normal, p);
  }
}

function checkTlsFiles(tls: TlsConfig, at: Path, baseDir: string, problem: (path: Path, message: string) => void): void {
  const files: Array<[Path, string]> = [
    [['key'], tls.key],
    [['certificate'], tls.certificate],
    ...(tls.chain_certificates ?? []).map((f, i): [Path, string] => [['chain_certificates', i], f]),
    ...(tls.ca_certificates ?? []).map((f, i): [Path, string] => [['ca_certificates', i], f]),
  ];
  for (const [path, value] of files) {
    if (isPem(value)) continue;
    const file = resolveFile(baseDir, value);
    if (!existsSync(file)) problem([...at, ...path], `file not found: ${file}`);
  }
}
