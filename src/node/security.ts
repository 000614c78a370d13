/**
 * Authentication and authorization from the Crossbar-shaped settings a node
 * is given: a realm's `roles` become its authorizer (src/authz), a
 * transport's `auth` its authenticators (src/auth). Dynamic authenticators
 * and authorizers call procedures through the router's InternalCaller, which
 * exists only once the router does; realms get a caller bound to it right after.
 */
import { buildTransportAuth } from '../auth/index.ts';
import { LiveAuth } from '../auth/live-auth.ts';
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

/**
 * Every transport `auth` block of a node, by where it is in the node's
 * options (e.g. `transports[0].paths.ws.auth`), each as the LiveAuth its
 * transport was given: a reload rebuilds a block from its new settings and
 * swaps it in place, without touching the listener or its connections.
 */
export class TransportAuths {
  private readonly blocks = new Map<string, LiveAuth>();

  constructor(
    private readonly caller: InternalCaller,
    private readonly secret: string | undefined,
  ) {}

  /** The authentication of the block at `where` (what a listener is started with). */
  build(config: AuthConfig | undefined, where: string): LiveAuth {
    const live = new LiveAuth(transportAuth(config, this.caller, where, this.secret));
    this.blocks.set(where, live);
    return live;
  }

  /** Whether a running transport uses the block at `where`. */
  has(where: string): boolean {
    return this.blocks.has(where);
  }

  /** Rebuilds the block at `where` from `config` and swaps it in; throws (changing nothing) when it cannot be built. */
  swap(where: string, config: AuthConfig | undefined, secret: string | undefined): void {
    const live = this.blocks.get(where);
    if (!live) throw new Error('no running transport has this auth block');
    live.replace(transportAuth(config, this.caller, where, secret));
  }
}
