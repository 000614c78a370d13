/**
 * The meta API's view of the router's in-process client (core/local-session):
 * a trusted session of the router's own that offers procedures and publishes
 * events through the realm's dealer and broker, like any client would.
 */
import type { Dict } from '../wamp/messages.ts';
import { LocalSession } from '../core/local-session.ts';
import type { Router } from '../core/router.ts';

/** Who called a service procedure (the router always discloses callers to its own procedures). */
export interface CallerInfo {
  session: number;
  authid: string;
  authrole: string;
}

/** A service procedure: returns its result (or a Promise of it), or throws a WampError. */
export type Procedure = (args: unknown[], kwargs: Dict, caller: CallerInfo) => unknown;

export class ServiceSession {
  private readonly client: LocalSession;

  constructor(router: Router, realm: string) {
    this.client = LocalSession.internal(router, realm, 'kreuz');
  }

  /** Registers at once (the router answers an internal session synchronously); a refusal is a bug, and thrown as such. */
  register(uri: string, procedure: Procedure): void {
    this.client
      .register(uri, (args, kwargs, details) =>
        procedure(args, kwargs, {
          session: details.caller as number,
          authid: details.caller_authid as string,
          authrole: details.caller_authrole as string,
        }),
      )
      .catch((err: unknown) => {
        throw new Error(`service procedure ${uri} not registered: ${err instanceof Error ? err.message : String(err)}`);
      });
  }

  publish(topic: string, args: unknown[]): void {
    void this.client.publish(topic, args, undefined, { acknowledge: false });
  }
}
