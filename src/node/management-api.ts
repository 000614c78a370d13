/**
 * The node's management procedures, on every realm (registered by the
 * router's own session per realm, like the meta API, so a caller's role
 * needs the `call` permission on the URI), and for the `trusted` role only:
 * anyone else is answered wamp.error.not_authorized.
 *
 * - kreuz.node.reload(): re-reads the config file the node was started
 *   from and applies what can change live (as SIGHUP and `kreuz reload`),
 *   answering `{applied: [...], refused: [{path, reason}]}`;
 * - kreuz.realm.create(name=, roles=?): a realm with roles in the config's
 *   shape (none: every session may do everything, as a realm without roles
 *   in the config), answering `{name}`; kreuz.error.realm_exists if there is one;
 * - kreuz.realm.delete(name=): every session on it gets GOODBYE
 *   wamp.close.close_realm (right after the answer, so a caller on that
 *   realm gets it too), answering `{name, sessions_closed}`; wamp.error.no_such_realm if absent.
 *
 * Realms created or deleted here change the running node only: the config
 * file is not written. A reload brings back every realm the config lists
 * (with its roles), and removes only realms the previous config listed.
 */
import type { Dict } from '../wamp/messages.ts';
import { ErrorUri, KreuzUri } from '../wamp/uris.ts';
import { WampError } from '../wamp/wamp-error.ts';
import type { Logger } from '../core/logger.ts';
import type { Router } from '../core/router.ts';
import { TRUSTED_ROLE, type RoleConfig } from '../authz/roles.ts';
import { ServiceSession, type CallerInfo } from '../meta/service-session.ts';
import { ConfigError, formatProblem } from '../config/errors.ts';
import { validateConfig } from '../config/load.ts';
import { routerWorkerOf } from '../config/schema.ts';
import type { ReloadResult } from './reload.ts';

export const ManagementUri = {
  RELOAD: 'kreuz.node.reload',
  CREATE_REALM: 'kreuz.realm.create',
  DELETE_REALM: 'kreuz.realm.delete',
} as const;

/** kreuz.realm.create of a realm that exists. */
export const REALM_EXISTS = 'kreuz.error.realm_exists';

/** Realms a node holds at most for kreuz.realm.create to add one more (each one costs its services' sessions and registrations). */
export const MAX_REALMS = 1000;

/** Problems of a bad `roles` argument named in the error, at most. */
const MAX_PROBLEMS = 10;

/** What the procedures do, on the running node. */
export interface Management {
  reload(): Promise<ReloadResult>;
  /** Adds a realm; throws a WampError when it cannot. */
  createRealm(name: string, roles: RoleConfig[] | undefined): void;
  /** Removes a realm; returns how many client sessions it had; throws a WampError when it cannot. */
  deleteRealm(name: string): number;
}

export function attachManagementApi(router: Router, management: Management, log: Logger): void {
  router.onRealm((realm) => {
    const service = new ServiceSession(router, realm.name);
    service.register(ManagementUri.RELOAD, (args, kwargs, caller) => {
      trustedOnly(caller, ManagementUri.RELOAD);
      noArguments(args, kwargs, []);
      log.info({ authid: caller.authid, realm: realm.name }, 'reload asked for by kreuz.node.reload');
      return management.reload();
    });
    service.register(ManagementUri.CREATE_REALM, (args, kwargs, caller) => {
      trustedOnly(caller, ManagementUri.CREATE_REALM);
      noArguments(args, kwargs, ['name', 'roles']);
      const { name, roles } = checkedRealm(kwargs);
      if (router.realms.has(name)) throw new WampError(REALM_EXISTS, [`realm ${JSON.stringify(name)} exists`]);
      if (router.realms.size >= MAX_REALMS) {
        throw new WampError(KreuzUri.LIMIT_REACHED, [`the node holds its maximum of ${MAX_REALMS} realms`]);
      }
      management.createRealm(name, roles);
      log.info({ authid: caller.authid, realm: name }, 'realm created by kreuz.realm.create');
      return { name };
    });
    service.register(ManagementUri.DELETE_REALM, (args, kwargs, caller) => {
      trustedOnly(caller, ManagementUri.DELETE_REALM);
      noArguments(args, kwargs, ['name']);
      const name = nameArg(kwargs);
      if (!router.realms.has(name)) throw new WampError(ErrorUri.NO_SUCH_REALM, [`no realm ${JSON.stringify(name.slice(0, 200))}`]);
      const closed = management.deleteRealm(name);
      log.info({ authid: caller.authid, realm: name, sessions: closed }, 'realm deleted by kreuz.realm.delete');
      return { name, sessions_closed: closed };
    });
  });
}

function trustedOnly(caller: CallerInfo, uri: string): void {
  if (caller.authrole !== TRUSTED_ROLE) {
    throw new WampError(ErrorUri.NOT_AUTHORIZED, [`${uri} is for the "${TRUSTED_ROLE}" role only (caller's role: "${caller.authrole}")`]);
  }
}

/** Only these keyword arguments, and no positional ones: a misspelt key is an error, not a default. */
function noArguments(args: unknown[], kwargs: Dict, allowed: readonly string[]): void {
  if (args.length > 0) throw invalid(allowed.length ? `give ${allowed.join(' and ')} as keyword arguments` : 'takes no arguments');
  const unknown = Object.keys(kwargs).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw invalid(`unknown keyword argument ${JSON.stringify(unknown[0].slice(0, 100))}`);
}

/**
 * The name and roles, checked as the config file's realm entry is (name
 * syntax, role shape, roles named twice), with no environment values put
 * in: `${VAR}` in an argument is an error, not a way to read the node's environment.
 */
function checkedRealm(kwargs: Dict): { name: string; roles: RoleConfig[] | undefined } {
  const name = nameArg(kwargs);
  const roles = Object.hasOwn(kwargs, 'roles') && kwargs.roles !== null ? kwargs.roles : undefined;
  if (roles !== undefined && !Array.isArray(roles)) throw invalid('roles must be a list of roles (the config\'s realm "roles")');
  const entry: Dict = { name };
  if (roles !== undefined) entry.roles = roles;
  try {
    const checked = routerWorkerOf(validateConfig({ workers: [{ type: 'router', realms: [entry] }] }, { env: {} }).config).realms[0];
    return { name: checked.name, roles: checked.roles };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.problems
      .slice(0, MAX_PROBLEMS)
      .map((p) => formatProblem({ ...p, path: p.path.replace(/^workers\[0\]\.realms\[0\]\.?/, '') }));
    throw invalid(problems.join('; '));
  }
}

function nameArg(kwargs: Dict): string {
  const name = Object.hasOwn(kwargs, 'name') ? kwargs.name : undefined;
  if (typeof name !== 'string') throw invalid('name (keyword argument) must be a string');
  return name;
}

function invalid(text: string): WampError {
  return new WampError(ErrorUri.INVALID_ARGUMENT, [text]);
}
