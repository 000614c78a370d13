/**
 * What the schema cannot check on its own: names and ports used twice,
 * TLS files that are missing, and what each transport type checks of its
 * own entries (e.g. paths served twice). Each authentication method's
 * details are in its schema piece, from src/auth.
 */
import { existsSync } from 'node:fs';
import { prefixWildcardOverlaps } from '../authz/permissions.ts';
import { formatPath, type ConfigProblem } from './errors.ts';
import type { KreuzConfig, TlsConfig, TransportConfig } from './schema.ts';
import { checkTransport, transportServices } from '../node/transport-types/index.ts';
import { isPem, resolveFile } from './paths.ts';

type Path = PropertyKey[];
type RoleConfig = NonNullable<KreuzConfig['workers'][number]['realms'][number]['roles']>[number];

/** Every WAMP service of a transport (a WebSocket path, a RawSocket), with where its `auth` is or would be. */
export function wampServices(transport: TransportConfig, at: Path): Array<{ auth: unknown; path: Path }> {
  return transportServices(transport).map(({ auth, path }) => ({ auth, path: [...at, ...path] }));
}

export function checkSemantics(config: KreuzConfig, baseDir: string): { problems: ConfigProblem[]; notes: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const notes: ConfigProblem[] = [];
  const problem = (path: Path, message: string) => problems.push({ path: formatPath(path), message });

  config.workers.forEach((worker, w) => {
    const realms = new Map<string, number>();
    worker.realms.forEach((realm, r) => {
      const first = realms.get(realm.name);
      if (first !== undefined)
        problem(['workers', w, 'realms', r, 'name'], `realm "${realm.name}" is already defined at workers[${w}].realms[${first}]`);
      else realms.set(realm.name, r);
      const roles = new Set<string>();
      realm.roles?.forEach((role, i) => {
        if (roles.has(role.name))
          problem(['workers', w, 'realms', r, 'roles', i, 'name'], `role "${role.name}" is defined twice in this realm`);
        roles.add(role.name);
        noteOverlaps(role, ['workers', w, 'realms', r, 'roles', i], notes);
      });
    });

    const metaApi = worker.realms.map((r) => r.options?.enable_meta_api ?? true);
    if (new Set(metaApi).size > 1) {
      const r = metaApi.indexOf(!metaApi[0]);
      problem(
        ['workers', w, 'realms', r, 'options', 'enable_meta_api'],
        'must be the same on every realm: Kreuz turns the meta API on for all realms or for none',
      );
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
            message:
              'not set: Kreuz listens on 127.0.0.1 only (Crossbar listens on every interface); set "0.0.0.0" or "::" to accept remote clients',
          });
        }
        if (endpoint.tls) checkTlsFiles(endpoint.tls, [...at, 'endpoint', 'tls'], baseDir, problem);
      } else {
        const file = resolveFile(baseDir, endpoint.path);
        const where = listeners.get(`unix|${file}`);
        if (where) problem([...at, 'endpoint', 'path'], `${file} is already used by ${where}`);
        listeners.set(`unix|${file}`, formatPath(at));
      }

      checkTransport(transport, (path, message) => problem([...at, ...path], message));
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
