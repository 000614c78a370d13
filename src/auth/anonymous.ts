/**
 * Anonymous authentication (WAMP: advanced/authentication, "anonymous"):
 * HELLO -> WELCOME. Static: a configured role (Crossbar's default
 * "anonymous") and a generated authid. Dynamic: the authenticator decides.
 */
import { anonymousAuthenticator, generatedAuthid, type AuthRequest, type AuthStep, type Authenticator } from '../core/authentication.ts';
import type { Dict } from '../wamp/messages.ts';
import { configString, onlyKeys, welcome } from './common.ts';
import { callAuthenticator, isDynamicPrincipal, parseDynamicConfig, requireDeps, type DynamicConfig, type DynamicDeps } from './dynamic.ts';

export { generatedAuthid };

/** A configured role (Crossbar's default "anonymous") and a generated authid: the core's anonymous method. */
export const staticAnonymous = anonymousAuthenticator;

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

/** From Crossbar's `{"type": "static", "role": "public"}` or `{"type": "dynamic", "authenticator": ...}`. */
export function anonymousFromConfig(config: Dict, path: string, deps: DynamicDeps | undefined): Authenticator {
  if (config.type === 'dynamic') return dynamicAnonymous(parseDynamicConfig(config, path), requireDeps(deps, path));
  onlyKeys(config, ['type', 'role'], path);
  return staticAnonymous(configString(config, 'role', path, { optional: true }) ?? 'anonymous');
}
