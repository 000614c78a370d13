/**
 * Authentication methods (WAMP: advanced/authentication) and the builder
 * that turns a Crossbar transport `auth` dict into the TransportAuth the
 * router uses, e.g.
 *
 *   { anonymous: {type: 'static', role: 'public'},
 *     ticket: {type: 'static', principals: {joe: {ticket: 'secret!!!', role: 'frontend'}}},
 *     wampcra: {type: 'dynamic', authenticator: 'com.example.authenticate'} }
 *
 * Methods: anonymous, ticket, wampcra, cryptosign, scram (also offered as
 * "wamp-scram"; either key may be configured). Each is `{"type": "static", ...}`
 * or `{"type": "dynamic", "authenticator": <procedure>, "authenticator-realm"?}`.
 */
import type { Authenticator, TransportAuth } from '../core/authentication.ts';
import type { InternalCaller } from '../core/internal-caller.ts';
import type { Dict } from '../wamp/messages.ts';
import { anonymousFromConfig } from './anonymous.ts';
import { AuthConfigError, configDict } from './common.ts';
import { cryptosignFromConfig } from './cryptosign.ts';
import type { DynamicDeps } from './dynamic.ts';
import { scramFromConfig } from './scram.ts';
import { ticketFromConfig } from './ticket.ts';
import { wampcraFromConfig } from './wampcra.ts';

export { AuthConfigError, constantTimeEqual } from './common.ts';
export { generatedAuthid, staticAnonymous, dynamicAnonymous } from './anonymous.ts';
export { staticTicket, dynamicTicket, type TicketPrincipal } from './ticket.ts';
export { deriveKey, sign as signWampCra, staticWampCra, dynamicWampCra, type CraUser } from './wampcra.ts';
export { ed25519PublicKey, verifyCryptosign, staticCryptosign, dynamicCryptosign, type CryptosignPrincipal } from './cryptosign.ts';
export {
  deriveScramCredential,
  saltedPassword,
  scramKeys,
  authMessages,
  verifyClientProof,
  staticScram,
  dynamicScram,
  SCRAM_KDFS,
  type ScramCredential,
  type ScramKdf,
  type ScramPrincipal,
} from './scram.ts';
export { callAuthenticator, DEFAULT_DYNAMIC_TIMEOUT_MS, type DynamicConfig, type DynamicDeps } from './dynamic.ts';

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

type Builder = (config: Dict, path: string, deps: DynamicDeps | undefined, secret: Uint8Array | undefined) => Authenticator | Authenticator[];

const BUILDERS: Record<string, Builder> = {
  anonymous: anonymousFromConfig,
  ticket: ticketFromConfig,
  wampcra: wampcraFromConfig,
  cryptosign: cryptosignFromConfig,
  scram: scramFromConfig,
  'wamp-scram': scramFromConfig,
};

/** Crossbar methods Kreuz does not offer (yet): named in the error rather than silently dropped. */
const UNSUPPORTED = ['tls', 'cookie', 'cryptosign-proxy', 'anonymous-proxy'];

/**
 * The TransportAuth for a Crossbar transport `auth` dict (taken unchanged).
 * Throws AuthConfigError, naming the path (`auth.ticket.principals.joe.role`),
 * for anything malformed; secrets never appear in its messages.
 */
export function buildTransportAuth(config: unknown, deps: AuthDeps = {}, path = 'auth'): TransportAuth {
  const auth = configDict(config, path);
  if (auth.scram !== undefined && auth['wamp-scram'] !== undefined) {
    throw new AuthConfigError(`${path}.wamp-scram`, 'configure SCRAM once, as "scram" or as "wamp-scram" (both names are offered)');
  }
  const dynamicDeps: DynamicDeps | undefined = deps.caller ? { caller: deps.caller, timeoutMs: deps.dynamicTimeoutMs } : undefined;
  const secret = typeof deps.secret === 'string' ? Buffer.from(deps.secret) : deps.secret;
  const methods = new Map<string, Authenticator>();
  for (const [method, value] of Object.entries(auth)) {
    const at = `${path}.${method}`;
    const build = Object.hasOwn(BUILDERS, method) ? BUILDERS[method] : undefined;
    if (!build) {
      const why = UNSUPPORTED.includes(method) ? 'is not supported by Kreuz' : 'is not an authentication method';
      throw new AuthConfigError(at, `"${method}" ${why} (supported: ${Object.keys(BUILDERS).join(', ')})`);
    }
    const dict = configDict(value, at);
    if (dict.type !== 'static' && dict.type !== 'dynamic') {
      const got = dict.type === undefined ? 'nothing' : JSON.stringify(dict.type);
      throw new AuthConfigError(`${at}.type`, `must be "static" or "dynamic", got ${got}${dict.type === 'function' ? ' (function authenticators are not supported)' : ''}`);
    }
    const built = build(dict, at, dynamicDeps, secret);
    for (const authenticator of Array.isArray(built) ? built : [built]) methods.set(authenticator.method, authenticator);
  }
  if (methods.size === 0) throw new AuthConfigError(path, 'configures no authentication method');
  return methods;
}
