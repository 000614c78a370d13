/**
 * Ticket authentication (WAMP: advanced/authentication_ticket):
 * HELLO(authid) -> CHALLENGE("ticket", {}) -> AUTHENTICATE(ticket, {}) -> WELCOME.
 *
 * Static (Crossbar): `{"type": "static", "principals": {"<authid>": {"ticket", "role", "realm"?, "extra"?}}}`.
 * Dynamic: the authenticator gets the ticket as `details.ticket`.
 *
 * An unknown authid is challenged like a known one and denied with the same
 * answer as a wrong ticket, so a denial does not tell which it was.
 */
import { z } from 'zod';
import type { AuthRequest, AuthStep, Authenticator } from '../core/authentication.ts';
import type { Dict } from '../wamp/messages.ts';
import { constantTimeEqual, denyCredentials, denyNotAuthorized, makePrincipal, welcome } from './common.ts';
import { nonEmpty, principalFields } from './config-schema.ts';
import { callAuthenticator, isDynamicPrincipal, requireAuthid, type DynamicConfig, type DynamicDeps } from './dynamic.ts';
import { authMethod } from './method.ts';

const METHOD = 'ticket';

export interface TicketPrincipal {
  ticket: string;
  role: string;
  realm?: string;
  extra?: Dict;
}

/** Compared with when the authid is unknown, so both cases take the same path. */
const NOBODY = '\0no such principal';

export function staticTicket(principals: ReadonlyMap<string, TicketPrincipal>): Authenticator {
  return {
    method: METHOD,
    start(request: AuthRequest): AuthStep {
      if (request.authid === undefined) return denyNotAuthorized('ticket: an authid is required');
      const principal = principals.get(request.authid);
      return {
        kind: 'challenge',
        extra: {},
        verify(signature: string): AuthStep {
          const ok = constantTimeEqual(signature, principal?.ticket ?? NOBODY);
          if (!ok || !principal) return denyCredentials(METHOD);
          return welcome(makePrincipal(request.authid!, principal.role, 'static', principal));
        },
      };
    },
  };
}

export function dynamicTicket(config: DynamicConfig, deps: DynamicDeps): Authenticator {
  return {
    method: METHOD,
    start(request: AuthRequest): AuthStep {
      return {
        kind: 'challenge',
        extra: {},
        async verify(signature: string): Promise<AuthStep> {
          const principal = await callAuthenticator(deps, config, METHOD, request, { ticket: signature });
          if (!isDynamicPrincipal(principal)) return principal;
          const authid = requireAuthid(principal.authid ?? request.authid);
          if (typeof authid !== 'string') return authid;
          return welcome(makePrincipal(authid, principal.role, 'dynamic', principal));
        },
      };
    },
  };
}

export const ticketMethod = authMethod({
  staticConfig: z.strictObject({
    type: z.literal('static'),
    principals: z.record(z.string(), z.strictObject({ ticket: nonEmpty, ...principalFields })).optional(),
  }),
  fromStatic: (config) => staticTicket(new Map(Object.entries(config.principals ?? {}))),
  fromDynamic: dynamicTicket,
});
