/**
 * Anonymous authentication (WAMP: advanced/authentication, "anonymous"):
 * HELLO -> WELCOME. Static: a configured role (Crossbar's default
 * "anonymous") and a generated authid. Dynamic: the authenticator decides.
 */
import { z } from 'zod';
import { anonymousAuthenticator, generatedAuthid, type AuthRequest, type AuthStep, type Authenticator } from '../core/authentication.ts';
import { welcome } from './common.ts';
import { accepted, nonEmpty } from './config-schema.ts';
import { callAuthenticator, isDynamicPrincipal, type DynamicConfig, type DynamicDeps } from './dynamic.ts';
import { authMethod } from './method.ts';

export { generatedAuthid };

/** A configured role (Crossbar's default "anonymous") and a generated authid (the core's anonymous method), or one authid for all. */
export function staticAnonymous(role = 'anonymous', authid?: string): Authenticator {
  if (authid === undefined) return anonymousAuthenticator(role);
  return { method: 'anonymous', start: () => welcome({ authid, authrole: role, authprovider: 'static' }) };
}

export function dynamicAnonymous(config: DynamicConfig, deps: DynamicDeps): Authenticator {
  return {
    method: 'anonymous',
    async start(request: AuthRequest): Promise<AuthStep> {
      const principal = await callAuthenticator(deps, config, 'anonymous', request);
      if (!isDynamicPrincipal(principal)) return principal;
      return welcome({
        authid: principal.authid ?? generatedAuthid(),
        authrole: principal.role,
        authprovider: 'dynamic',
        ...(principal.extra && { authextra: principal.extra }),
        ...(principal.realm && { realm: principal.realm }),
      });
    },
  };
}

/** Crossbar's `{"type": "static", "role": "public"}`, or the dynamic form. */
export const anonymousMethod = authMethod({
  staticConfig: z.strictObject({
    type: z.literal('static'),
    role: nonEmpty.optional().describe('Default "anonymous".'),
    authid: nonEmpty.optional().describe('One authid for every anonymous session (Crossbar); default: a generated one each.'),
    // Crossbar reads it and does nothing with it: the client joins the realm it asks for.
    realm: accepted(nonEmpty, 'Crossbar does nothing with it either: an anonymous client joins the realm it asks for').optional(),
  }),
  fromStatic: (config) => staticAnonymous(config.role ?? 'anonymous', config.authid),
  fromDynamic: dynamicAnonymous,
});
