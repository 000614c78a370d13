/**
 * How the router authorizes what a session does (Crossbar's model: roles
 * with permissions per URI and action, or a dynamic authorizer). Checks run
 * before the dealer or broker touches state; a Promise result (a dynamic
 * authorizer) holds the session's later messages until it settles, so their
 * order is kept.
 */
import type { Dict } from '../wamp/messages.ts';
import type { Session } from './session.ts';

export type Action = 'call' | 'register' | 'publish' | 'subscribe';

export interface Decision {
  allow: boolean;
  /**
   * For call/publish: disclose the caller/publisher to callees/subscribers.
   * For register: false when the callee may not ask for its callers'
   * identity (REGISTER.disclose_caller is then ignored); undefined allows it.
   */
  disclose?: boolean;
}

export interface Authorizer {
  authorize(session: Session, uri: string, action: Action, options: Dict): Decision | Promise<Decision>;
  /** Whether the realm defines this role; a session authenticated into an unknown role is refused (no_such_role). */
  hasRole(role: string): boolean;
}

/** No roles configured: every joined session may do everything (the default dev setup). */
export const allowAll: Authorizer = { authorize: () => ({ allow: true }), hasRole: () => true };
