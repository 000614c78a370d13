/**
 * Authentication and authorization from the Crossbar-shaped settings a node
 * is given: a realm's `roles` become its authorizer (src/authz), a
 * transport's `auth` its authenticators (src/auth). Dynamic authenticators
 * and authorizers call procedures through the router's InternalCaller, which
 * exists only once the router does; realms get a caller bound to it right after.
 */
import { buildTransportAuth } from '../auth/index.ts';
import type { ProcedureCaller } from '../authz/roles.ts';
import type { TransportAuth } from '../core/authentication.ts';
import type { InternalCaller } from '../core/internal-caller.ts';
import type { AuthConfig } from './options.ts';

/**
 * A caller usable before the router exists: realms are built with their
 * authorizers, and the router's InternalCaller is made from the router.
 */
export function lateCaller(): { caller: ProcedureCaller; bind(real: InternalCaller): void } {
  let real: InternalCaller | undefined;
  return {
    caller: {
      call: (...args) => {
        if (!real) return Promise.reject(new Error('procedure called before the node started'));
        return real.call(...args);
      },
    },
    bind: (r) => {
      real = r;
    },
  };
}

/** The authenticators for a transport's `auth`; none given: undefined, the core's anonymous-only default. */
export function transportAuth(
  auth: AuthConfig | undefined,
  caller: InternalCaller,
  path = 'auth',
  secret?: string,
): TransportAuth | undefined {
  return auth === undefined ? undefined : buildTransportAuth(auth, { caller, secret }, path);
}
