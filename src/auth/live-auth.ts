/**
 * A transport's authentication that a reload can replace while the
 * transport runs. Transports and their sessions keep the one map they were
 * given (`TransportAuth`); a reload swaps its contents, so the next HELLO on
 * any connection of the transport (a new one, or one starting over after
 * GOODBYE) meets the new principals, keys and methods. An authentication
 * already under way finishes with the authenticator it started with.
 */
import { anonymousAuthenticator, type Authenticator, type TransportAuth } from '../core/authentication.ts';

export class LiveAuth extends Map<string, Authenticator> {
  /** Built from `methods`; none: anonymous only, as a transport without `auth` (the core's default). */
  constructor(methods?: TransportAuth) {
    super();
    this.replace(methods);
  }

  /** From now on these methods; none: anonymous only. */
  replace(methods: TransportAuth | undefined): void {
    const next = methods ?? new Map([['anonymous', anonymousAuthenticator()]]);
    this.clear();
    for (const [name, authenticator] of next) this.set(name, authenticator);
  }
}
