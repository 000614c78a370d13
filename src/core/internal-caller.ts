/**
 * Calls WAMP procedures from inside the router (dynamic authenticators and
 * authorizers are procedures registered by some client), through one of the
 * router's own in-process sessions per realm, made on first use.
 */
import type { Dict } from '../wamp/messages.ts';
import { LocalSession } from './local-session.ts';
import type { Router } from './router.ts';

export interface CallResult {
  args: unknown[];
  kwargs: Dict;
}

export class InternalCaller {
  private readonly sessions = new Map<string, LocalSession>();

  constructor(private readonly router: Router) {}

  /**
   * Calls `procedure` on `realm`; a WAMP error answer rejects with a
   * WampError. The router enforces `timeoutMs` like any call timeout: a
   * procedure that never answers rejects with wamp.error.canceled.
   */
  async call(realm: string, procedure: string, args: unknown[] = [], kwargs: Dict = {}, timeoutMs = 10_000): Promise<CallResult> {
    const { args: resultArgs, kwargs: resultKwargs } = await this.sessionFor(realm).call(procedure, args, kwargs, { timeout: timeoutMs });
    return { args: resultArgs, kwargs: resultKwargs };
  }

  private sessionFor(realm: string): LocalSession {
    let session = this.sessions.get(realm);
    // Anew when its realm was removed (and maybe added again) since.
    if (!session?.isOpen) this.sessions.set(realm, (session = LocalSession.internal(this.router, realm, 'kreuz-caller')));
    return session;
  }
}
