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
import type { AuthRequest, AuthStep, Authenticator } from '../core/authentication.ts';
import type { Dict } from '../wamp/messages.ts';
import {
  configDict,
  configString,
  constantTimeEqual,
  denyCredentials,
  denyNotAuthorized,
  makePrincipal,
  onlyKeys,
  principalOptions,
  welcome,
} from './common.ts';
import { callAuthenticator, isDynamicPrincipal, parseDynamicConfig, requireAuthid, requireDeps, type DynamicConfig, type DynamicDeps } from './dynamic.ts';

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

export function ticketFromConfig(config: Dict, path: string, deps: DynamicDeps | undefined): Authenticator {
  if (config.type === 'dynamic') return dynamicTicket(parseDynamicConfig(config, path), requireDeps(deps, path));
  onlyKeys(config, ['type', 'principals'], path);
  const principals = new Map<string, TicketPrincipal>();
  const all = configDict(config.principals ?? {}, `${path}.principals`);
  for (const [authid, value] of Object.entries(all)) {
    const at = `${path}.principals.${authid}`;
    const p = configDict(value, at);
    onlyKeys(p, ['ticket', 'role', 'realm', 'extra'], at);
    principals.set(authid, { ticket: configString(p, 'ticket', at), role: configString(p, 'role', at), ...principalOptions(p, at) });
  }
  return staticTicket(principals);
}
