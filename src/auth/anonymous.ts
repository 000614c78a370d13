/**
 * Anonymous authentication (WAMP: advanced/authentication, "anonymous"):
 * HELLO -> WELCOME. Static: a configured role (Crossbar's default
 * "anonymous") and a generated authid. Dynamic: the authenticator decides.
 */
import { randomBytes } from 'node:crypto';
import type { AuthRequest, AuthStep, Authenticator } from '../core/authentication.ts';
import type { Dict } from '../wamp/messages.ts';
import { configString, onlyKeys, welcome } from './common.ts';
import { callAuthenticator, isDynamicPrincipal, parseDynamicConfig, requireDeps, type DynamicConfig, type DynamicDeps } from './dynamic.ts';

/** Crossbar-like generated authid, e.g. "K3QF-7XRM-YC9P-2JWA" (a client's requested authid is not trusted). */
export function generatedAuthid(): string {
  const alphabet = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
  const bytes = randomBytes(16);
  let out = '';
  for (let i = 0; i < 16; i++) {
    if (i > 0 && i % 4 === 0) out += '-';
    out += alphabet[bytes[i] % alphabet.length];
  }
  return out;
}

export function staticAnonymous(role = 'anonymous'): Authenticator {
  return {
    method: 'anonymous',
    start: () => welcome({ authid: generatedAuthid(), authrole: role, authprovider: 'static' }),
  };
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

/** From Crossbar's `{"type": "static", "role": "public"}` or `{"type": "dynamic", "authenticator": ...}`. */
export function anonymousFromConfig(config: Dict, path: string, deps: DynamicDeps | undefined): Authenticator {
  if (config.type === 'dynamic') return dynamicAnonymous(parseDynamicConfig(config, path), requireDeps(deps, path));
  onlyKeys(config, ['type', 'role'], path);
  return staticAnonymous(configString(config, 'role', path, { optional: true }) ?? 'anonymous');
}
