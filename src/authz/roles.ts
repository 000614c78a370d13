/**
 * Realm roles as Crossbar configures them: each role has static permissions
 * per URI, or names a dynamic authorizer procedure, or allows/denies by
 * default. The most specific permission wins, with the same precedence as
 * routing: exact, then the longest prefix, then the most literal wildcard.
 */
import type { Dict } from '../wamp/messages.ts';
import type { MatchPolicy } from '../wamp/uri-syntax.ts';
import type { Action, Authorizer, Decision } from '../core/authorization.ts';
import type { InternalCaller } from '../core/internal-caller.ts';
import type { Session } from '../core/session.ts';
import { UriMap } from '../core/uri-map.ts';
import { DecisionCache } from './decision-cache.ts';

export interface PermissionConfig {
  uri: string;
  /** Omitted: Crossbar's starred URIs decide ("a.b.*" prefix, "a.*.c" wildcard, else exact). */
  match?: MatchPolicy;
  allow?: Partial<Record<Action, boolean>>;
  disclose?: { caller?: boolean; publisher?: boolean };
  cache?: boolean;
}

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

/** Crossbar's starred URI convention for permissions without an explicit match. */
export function starred(uri: string): { uri: string; match: MatchPolicy } {
  if (!uri.includes('*')) return { uri, match: 'exact' };
  if (uri.endsWith('*') && uri.indexOf('*') === uri.length - 1) return { uri: uri.slice(0, -1), match: 'prefix' };
  return { uri: uri.replaceAll('*', ''), match: 'wildcard' };
}

const DENY: Decision = { allow: false };

function decide(permission: PermissionConfig | undefined, action: Action): Decision {
  if (!permission || permission.allow?.[action] !== true) return DENY;
  if (action === 'call') return { allow: true, disclose: permission.disclose?.caller === true };
  if (action === 'publish') return { allow: true, disclose: permission.disclose?.publisher === true };
  return { allow: true };
}

/** A role's decision for one action on one URI. */
type RoleCheck = (session: Session, uri: string, action: Action, options: Dict) => Decision | Promise<Decision>;

function staticRole(permissions: PermissionConfig[]): RoleCheck {
  const map = new UriMap<PermissionConfig>();
  for (const p of permissions) {
    const { uri, match } = p.match ? { uri: p.uri, match: p.match } : starred(p.uri);
    map.set(uri, match, p);
  }
  return (_session, uri, action) => decide(map.best(uri), action);
}

/**
 * Crossbar's dynamic authorizer: called as (session details, uri, action,
 * options) and answering a bool or {allow, disclose?, cache?}. Results with
 * cache: true are kept per (authrole, uri, action), as Crossbar keys them.
 */
function dynamicRole(realm: string, procedure: string, caller: ProcedureCaller, cache: DecisionCache): RoleCheck {
  return async (session, uri, action, options) => {
    const key = `${session.authrole}\u0000${uri}\u0000${action}`;
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

/** The authorizer of one realm from its Crossbar-shaped role list. */
export function buildAuthorizer(realm: string, roles: RoleConfig[], caller: ProcedureCaller): Authorizer {
  const checks = new Map<string, RoleCheck>();
  const cache = new DecisionCache();
  for (const role of roles) {
    if (role.permissions && role.authorizer) throw new Error(`role "${role.name}": permissions and authorizer are exclusive`);
    if (role.authorizer) checks.set(role.name, dynamicRole(realm, role.authorizer, caller, cache));
    else if (role.permissions) checks.set(role.name, staticRole(role.permissions));
    else {
      const decision: Decision = { allow: role['allow-by-default'] === true };
      checks.set(role.name, () => decision);
    }
  }
  return {
    hasRole: (name) => name === TRUSTED_ROLE || checks.has(name),
    authorize(session, uri, action, options) {
      if (session.authrole === TRUSTED_ROLE) return { allow: true };
      const check = checks.get(session.authrole);
      return check ? check(session, uri, action, options) : DENY;
    },
  };
}
