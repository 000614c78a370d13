/**
 * Who can join which realm: every role a transport's authentication hands
 * out must be one a realm has, or those clients are refused at HELLO
 * (wamp.error.no_such_role). Static principals, anonymous access (a service
 * without `auth` is anonymous with role "anonymous"), and the realms dynamic
 * authenticators are called on are checked against the router worker's realms.
 */
import { formatPath } from './errors.ts';
import type { RouterWorkerConfig } from './schema.ts';

type Path = PropertyKey[];
type Realm = RouterWorkerConfig['realms'][number];

/** A role handed out by configuration: a principal's, or anonymous access's. */
interface Grant {
  role: string;
  /** The realm it is bound to; none: whichever the client asks for. */
  realm?: string;
  /** Where the role (and the realm) is written, or would be. */
  rolePath: Path;
  realmPath?: Path;
  /** e.g. 'principal "joe"', "anonymous access" */
  who: string;
  /** Anonymous access: written in `auth.anonymous`, or implied by a service without `auth`. */
  anonymous?: 'written' | 'implied';
}

/** Without roles a realm admits every role (Kreuz's default); with roles, only those. */
function admits(realm: Realm, role: string): boolean {
  return realm.roles === undefined || realm.roles.some((r) => r.name === role);
}

export function checkJoins(
  worker: RouterWorkerConfig,
  services: Array<{ auth: unknown; path: Path; bridge?: { realm: string; role: string } }>,
  at: Path,
  problem: (path: Path, message: string) => void,
  note: (path: Path, message: string) => void,
): void {
  const realms = new Map(worker.realms.map((r) => [r.name, r]));
  const grants: Grant[] = [];
  for (const service of services) {
    if (service.bridge) {
      const { realm, role } = service.bridge;
      grants.push({ role, realm, rolePath: [...service.path, 'role'], realmPath: [...service.path, 'realm'], who: 'the HTTP bridge' });
      continue;
    }
    if (service.auth === undefined) {
      grants.push({ role: 'anonymous', rolePath: service.path, who: 'anonymous access (no "auth")', anonymous: 'implied' });
      continue;
    }
    collect(service.auth as Record<string, unknown>, service.path, grants, (path, name) => {
      if (!realms.has(name))
        problem(
          path,
          `realm "${name}" is not defined by this router worker (${formatPath([...at, 'realms'])}): the authenticator cannot be called`,
        );
    });
  }

  // Errors come once per grant; a realm that anonymous access cannot join (while another can) is noted once per role.
  const noted = new Set<string>();
  for (const g of grants) {
    if (g.realm !== undefined) {
      const realm = realms.get(g.realm);
      if (!realm) problem(g.realmPath ?? g.rolePath, `realm "${g.realm}" is not defined by this router worker: ${g.who} can join no realm`);
      else if (!admits(realm, g.role))
        problem(
          g.rolePath,
          `role "${g.role}" is not defined on realm "${g.realm}": ${g.who} cannot join it; add the role there, or give another`,
        );
      continue;
    }
    if (!worker.realms.some((r) => admits(r, g.role))) {
      problem(
        g.rolePath,
        `role "${g.role}" is not defined on any realm of this router worker: ${g.who} can join none; add the role to a realm, or give another`,
      );
      continue;
    }
    if (g.anonymous === undefined) continue;
    worker.realms.forEach((realm, r) => {
      if (admits(realm, g.role) || noted.has(`${r}|${g.role}`)) return;
      noted.add(`${r}|${g.role}`);
      note(
        [...at, 'realms', r, 'roles'],
        g.anonymous === 'implied'
          ? 'has no role "anonymous": the clients of transports without "auth" (anonymous, role "anonymous") cannot join this realm'
          : `has no role "${g.role}": anonymous clients (role "${g.role}") cannot join this realm`,
      );
    });
  }
}

/** The grants of one `auth` dict (its static methods), and the realms of its dynamic ones. */
function collect(
  auth: Record<string, unknown>,
  base: Path,
  grants: Grant[],
  authenticatorRealm: (path: Path, realm: string) => void,
): void {
  for (const [method, entry] of Object.entries(auth)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const config = entry as Record<string, unknown>;
    const at = [...base, method];
    if (config.type === 'dynamic') {
      const realm = config['authenticator-realm'];
      if (typeof realm === 'string') authenticatorRealm([...at, 'authenticator-realm'], realm);
      continue;
    }
    if (config.type !== 'static') continue;
    if (method === 'anonymous') {
      const given = typeof config.role === 'string';
      grants.push({
        role: given ? (config.role as string) : 'anonymous',
        rolePath: given ? [...at, 'role'] : at,
        who: 'anonymous access',
        anonymous: 'written',
      });
      continue;
    }
    // WAMP-CRA names them "users", the other methods "principals".
    const key = method === 'wampcra' ? 'users' : 'principals';
    const principals = config[key];
    if (typeof principals !== 'object' || principals === null) continue;
    for (const [authid, p] of Object.entries(principals as Record<string, { role?: unknown; realm?: unknown }>)) {
      if (typeof p?.role !== 'string') continue;
      grants.push({
        role: p.role,
        realm: typeof p.realm === 'string' ? p.realm : undefined,
        rolePath: [...at, key, authid, 'role'],
        realmPath: [...at, key, authid, 'realm'],
        who: `principal ${JSON.stringify(authid)}`,
      });
    }
  }
}
