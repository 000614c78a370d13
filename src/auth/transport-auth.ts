/**
 * The table of authentication methods by the config key Crossbar names them
 * with, and what is made of it: the schema of a transport's `auth` dict
 * (src/config puts it into the config file's schema) and the TransportAuth
 * the router uses. Adding a method: its own file, plus one line in the table.
 */
import { z } from 'zod';
import type { Authenticator, TransportAuth } from '../core/authentication.ts';
import type { InternalCaller } from '../core/internal-caller.ts';
import { anonymousMethod } from './anonymous.ts';
import {
  authConfigError,
  authErrorMap,
  crossbarOnly,
  methodConfig,
  withProtoKeysRenamed,
  type DynamicMethodConfig,
} from './config-schema.ts';
import { cryptosignMethod } from './cryptosign.ts';
import { dynamicConfigOf, requireDeps, type DynamicDeps } from './dynamic.ts';
import type { AuthMethod } from './method.ts';
import { scramMethod } from './scram.ts';
import { ticketMethod } from './ticket.ts';
import { wampcraMethod } from './wampcra.ts';

export const AUTH_METHODS = {
  anonymous: anonymousMethod,
  ticket: ticketMethod,
  wampcra: wampcraMethod,
  cryptosign: cryptosignMethod,
  // SCRAM answers to both spellings, whichever key configures it.
  scram: scramMethod,
  'wamp-scram': scramMethod,
};

type Methods = typeof AUTH_METHODS;
type MethodConfigs = { [K in keyof Methods]: z.ZodOptional<ReturnType<typeof methodConfig<Methods[K]['staticConfig']>>> };

/** Crossbar methods Kreuz does not offer (yet): named as such, with what to use instead. */
const CROSSBAR_ONLY: Record<string, string> = {
  tls: 'Kreuz has no TLS client-certificate authentication: give each client a key pair and use "cryptosign", or use "ticket"',
  cookie:
    'Kreuz has no cookie authentication: a client authenticates again on each connection ("ticket", "wampcra", "cryptosign" or "scram")',
  'cryptosign-proxy':
    'for sessions forwarded by a Crossbar proxy worker, which Kreuz has not: clients connect to Kreuz directly and use "cryptosign"',
  'anonymous-proxy':
    'for sessions forwarded by a Crossbar proxy worker, which Kreuz has not: clients connect to Kreuz directly and use "anonymous"',
};

const methodConfigs = Object.fromEntries(
  Object.entries(AUTH_METHODS).map(([key, method]) => [key, methodConfig(method.staticConfig).optional()]),
) as MethodConfigs;

export const transportAuthSchema = z
  .strictObject({ ...methodConfigs, ...crossbarOnly(Object.keys(CROSSBAR_ONLY), CROSSBAR_ONLY) })
  .refine((auth) => Object.values(auth).some((method) => method !== undefined), { error: 'configures no authentication method' })
  .refine((auth) => auth.scram === undefined || auth['wamp-scram'] === undefined, {
    error: 'configure SCRAM once, as "scram" or as "wamp-scram" (both names are offered)',
    path: ['wamp-scram'],
  })
  .meta({
    id: 'TransportAuth',
    description: 'Authentication methods offered on this transport (Crossbar shape). Without it: anonymous, role "anonymous".',
  });

export type TransportAuthConfig = z.infer<typeof transportAuthSchema>;

export interface AuthDeps {
  /** Calls dynamic authenticators; needed only when a method is `"type": "dynamic"`. */
  caller?: Pick<InternalCaller, 'call'>;
  /** How long a dynamic authenticator may take (default 10 s). */
  dynamicTimeoutMs?: number;
  /**
   * Keys the made-up challenges for unknown principals (wampcra salts, scram
   * salts). Default: random per process; configure one to keep them the same across restarts.
   */
  secret?: string | Uint8Array;
}

/**
 * The TransportAuth for a Crossbar transport `auth` dict (taken unchanged).
 * Throws AuthConfigError, naming the path (`auth.ticket.principals.joe.role`),
 * for anything malformed; secrets never appear in its messages.
 */
export function buildTransportAuth(config: unknown, deps: AuthDeps = {}, path = 'auth'): TransportAuth {
  const checked = transportAuthSchema.safeParse(withProtoKeysRenamed(config), { error: authErrorMap, reportInput: true });
  if (!checked.success) throw authConfigError(checked.error.issues[0], path, Object.keys(AUTH_METHODS));
  // Built from `config` itself: it has the shape just checked, and its principals named "__proto__" (which zod's output drops).
  const auth = config as TransportAuthConfig;
  const dynamicDeps: DynamicDeps | undefined = deps.caller ? { caller: deps.caller, timeoutMs: deps.dynamicTimeoutMs } : undefined;
  const secret = typeof deps.secret === 'string' ? Buffer.from(deps.secret) : deps.secret;
  const methods = new Map<string, Authenticator>();
  for (const key of Object.keys(AUTH_METHODS) as Array<keyof Methods>) {
    const entry = auth[key];
    if (entry === undefined) continue;
    const method = AUTH_METHODS[key] as AuthMethod;
    const built =
      entry.type === 'dynamic'
        ? method.fromDynamic(dynamicConfigOf(entry as DynamicMethodConfig), requireDeps(dynamicDeps, `${path}.${key}`))
        : method.fromStatic(entry as never, { secret });
    for (const authenticator of Array.isArray(built) ? built : [built]) methods.set(authenticator.method, authenticator);
  }
  return methods;
}
