/**
 * Realm roles as Crossbar configures them: each role has static permissions
 * per URI, or names a dynamic authorizer procedure, or allows/denies by
 * default (the built-in role "trusted" may do anything).
 *
 * Static permissions decide with Crossbar's precedence, not routing's: the
 * exact permission, else the matching wildcard with the longest literal
 * head, else the longest prefix (details in permissions.ts). A prefix or
 * wildcard SUBSCRIBE/REGISTER is authorized for everything it can reach, not
 * for its URI string: it is allowed only if every URI the pattern matches is
 * allowed for that action. A dynamic authorizer gets the request's options,
 * `match` included, and decides patterns itself.
 */
import type { Dict } from '../wamp/messages.ts';
import type { Action, Authorizer, Decision } from '../core/authorization.ts';
import type { InternalCaller } from '../core/internal-caller.ts';
import type { Session } from '../core/session.ts';
import { DecisionCache } from './decision-cache.ts';
import { PermissionTable, allows, type PermissionConfig } from './permissions.ts';

export { starred, type PermissionConfig } from './permissions.ts';

export interface RoleConfig {
  name: string;
  permissions?: PermissionConfig[];
  /** A WAMP procedure on the same realm deciding each action. */
  authorizer?: string;
  'allow-by-default'?: boolean;
}

/** How a dynamic authorizer is reached (the router's InternalCaller, or anything calling like it). */
export type ProcedureCaller = Pick<InternalCaller, 'call'>;

/** Crossbar's built-in role of router-internal sessions: may do anything. */
export const TRUSTED_ROLE = 'trusted';

const DENY: Decision = { allow: false };
const ALLOW: Decision = { allow: true };

function decide(permission: PermissionConfig | undefined, action: Action): Decision {
  if (!allows(permission, action)) return DENY;
  // For register: whether the callee may ask for its callers' identity (REGISTER.disclose_caller, crossbar#447).
  if (action === 'call' || action === 'register') return { allow: true, disclose: permission.disclose?.caller === true };
  if (action === 'publish') return { allow: true, disclose: permission.disclose?.publisher === true };
  return ALLOW;
}

/** A role's decision for one action on one URI. */
type RoleCheck = (session: Session, uri: string, action: Action, options: Dict) => Decision | Promise<Decision>;

function staticRole(permissions: PermissionConfig[]): RoleCheck {
  const table = new PermissionTable(permissions);
  return (_session, uri, action, options) => {
    // Only SUBSCRIBE and REGISTER take a match policy; CALL and PUBLISH name one URI.
    if (action !== 'subscribe' && action !== 'register') return decide(table.choose(uri), action);
    const match = options.match ?? 'exact';
    if (match === 'exact') return decide(table.choose(uri), action);
    if (match !== 'prefix' && match !== 'wildcard') return DENY;
    return table.coversPattern({ uri, match }, action) ? ALLOW : DENY;
  };
}

/**
 * Crossbar's dynamic authorizer: called as (session details, uri, action,
 * options) and answering a bool or {allow, disclose?, cache?}. Results with
 * cache: true are kept per (authrole, uri, action), as Crossbar keys them,
 * and the match policy: a yes for the URI "com.x" is no yes for the prefix.
 */
function dynamicRole(realm: string, procedure: string, caller: ProcedureCaller, cache: DecisionCache): RoleCheck {
  return async (session, uri, action, options) => {
    const match = action === 'subscribe' || action === 'register' ? String(options.match ?? 'exact') : '';
    const key = `${session.authrole}\u0000${uri}\u0000${action}\u0000${match}`;
    const cached = cache.get(key);
    if (cached) return cached;
    const details = {
      session: session.id,
      authid: session.authid,
      authrole: session.authrole,
      authmethod: session.authmethod,
      authprovider: session.authprovider,
      authextra: session.authextra ?? {},
      transport: { ...session.peer.info },
    };
    const { args } = await caller.call(realm, procedure, [details, uri, action, options]);
    const answer = args[0];
    if (typeof answer === 'boolean') return { allow: answer };
    if (typeof answer !== 'object' || answer === null || typeof (answer as Dict).allow !== 'boolean') {
      throw new Error(`authorizer ${procedure} returned neither a bool nor {allow: bool}`);
    }
    const { allow, disclose, cache: keep } = answer as { allow: boolean; disclose?: unknown; cache?: unknown };
    const decision: Decision = { allow, disclose: disclose === true };
    if (keep === true) cache.set(key, decision);
    return decision;
  };
}

export interface RoleAuthorizer extends Authorizer {
  /**
   * The decision where it needs no waiting (static permissions, allow or
   * deny by default, unknown roles); undefined for a role with a dynamic
   * authorizer, which is asked only when a request comes. A reload uses it
   * to revoke what a session holds and may hold no longer.
   */
  decideNow(session: Session, uri: string, action: Action, options: Dict): Decision | undefined;
}

/**
 * The authorizer of one realm from its Crossbar-shaped role list. Each one
 * has its own cache of dynamic decisions: a reload builds a new authorizer,
 * and with it starts from an empty cache.
 */
export function buildAuthorizer(realm: string, roles: RoleConfig[], caller: ProcedureCaller): RoleAuthorizer {
  const checks = new Map<string, RoleCheck>();
  const dynamic = new Set<string>();
  const cache = new DecisionCache();
  for (const role of roles) {
    if (role.permissions && role.authorizer) throw new Error(`role "${role.name}": permissions and authorizer are exclusive`);
    if (role.authorizer) {
      checks.set(role.name, dynamicRole(realm, role.authorizer, caller, cache));
      dynamic.add(role.name);
    } else if (role.permissions) checks.set(role.name, staticRole(role.permissions));
    else {
      const decision: Decision = { allow: role['allow-by-default'] === true };
      checks.set(role.name, () => decision);
    }
  }
  const authorize: Authorizer['authorize'] = (session, uri, action, options) => {
    if (session.authrole === TRUSTED_ROLE) return { allow: true };
    const check = checks.get(session.authrole);
    return check ? check(session, uri, action, options) : DENY;
  };
  return {
    hasRole: (name) => name === TRUSTED_ROLE || checks.has(name),
    authorize,
    decideNow: (session, uri, action, options) =>
      dynamic.has(session.authrole) ? undefined : (authorize(session, uri, action, options) as Decision),
  };
}
