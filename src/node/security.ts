/**
 * Authentication and authorization from the Crossbar-shaped settings a node
 * is given: a realm's `roles` become its authorizer (src/authz), a
 * transport's `auth` its authenticators (src/auth). Dynamic authenticators
 * and authorizers call procedures through the router's InternalCaller, which
 * exists only once the router does; the authorizers a realm is built with
 * therefore delegate to the real ones, filled in right after.
 */
import { buildTransportAuth } from '../auth/index.ts';
import { buildAuthorizer, type RoleConfig } from '../authz/roles.ts';
import type { TransportAuth } from '../core/authentication.ts';
import type { Authorizer } from '../core/authorization.ts';
import type { InternalCaller } from '../core/internal-caller.ts';
import type { AuthConfig } from './options.ts';

export interface PendingAuthorizer {
  /** What the realm is built with. */
  readonly authorizer: Authorizer;
  /** Builds the real authorizer once the router (and its InternalCaller) exists. */
  complete(caller: InternalCaller): void;
}

export function pendingAuthorizer(realm: string, roles: RoleConfig[]): PendingAuthorizer {
  let real: Authorizer | undefined;
  const ready = () => {
    if (!real) throw new Error(`authorizer of realm "${realm}" used before the node started`);
    return real;
  };
  return {
    authorizer: {
      authorize: (session, uri, action, options) => ready().authorize(session, uri, action, options),
      hasRole: (role) => ready().hasRole(role),
    },
    complete(caller) {
      real = buildAuthorizer(realm, roles, caller);
    },
  };
}

/** The authenticators for a transport's `auth`; none given: undefined, the core's anonymous-only default. */
export function transportAuth(auth: AuthConfig | undefined, caller: InternalCaller, path = 'auth'): TransportAuth | undefined {
  return auth === undefined ? undefined : buildTransportAuth(auth, { caller }, path);
}
