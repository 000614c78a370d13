/**
 * Dynamic authenticators (WAMP: advanced/authentication_dynamic; Crossbar's
 * `"type": "dynamic"`): a WAMP procedure registered by some client decides.
 * It is called as `authenticator(realm, authid, details)` and answers a role
 * string or a principal dict `{role, authid?, realm?, extra?, ...method
 * specific secrets}`. An error it raises denies the session with its URI.
 */
import type { AuthRequest, AuthStep } from '../core/authentication.ts';
import type { InternalCaller } from '../core/internal-caller.ts';
import type { Dict } from '../wamp/messages.ts';
import { ErrorUri } from '../wamp/uris.ts';
import { WampError } from '../wamp/wamp-error.ts';
import { AuthConfigError, NO_SUCH_PRINCIPAL, isDict, transportDetails } from './common.ts';
import type { DynamicMethodConfig } from './config-schema.ts';

export interface DynamicConfig {
  /** URI of the authenticator procedure. */
  authenticator: string;
  /** Realm the procedure is registered on (`authenticator-realm`); default: the realm the client asks for. */
  realm?: string;
}

export interface DynamicDeps {
  caller: Pick<InternalCaller, 'call'>;
  /** How long an authenticator may take before the session is denied (default 10 s). */
  timeoutMs?: number;
}

export const DEFAULT_DYNAMIC_TIMEOUT_MS = 10_000;

/** A checked `{"type": "dynamic", ...}` config as the authenticators take it. */
export function dynamicConfigOf(config: DynamicMethodConfig): DynamicConfig {
  const realm = config['authenticator-realm'];
  return { authenticator: config.authenticator, ...(realm !== undefined && { realm }) };
}

/** The deps a dynamic method needs, or a config error naming the method's path. */
export function requireDeps(deps: DynamicDeps | undefined, path: string): DynamicDeps {
  if (!deps?.caller) throw new AuthConfigError(path, "a dynamic authenticator needs the router's InternalCaller (deps.caller)");
  return deps;
}

/** What a dynamic authenticator answered, checked. `fields` is the whole dict, for method specific secrets. */
export interface DynamicPrincipal {
  role: string;
  authid?: string;
  realm?: string;
  extra?: Dict;
  fields: Dict;
}

/**
 * Calls the authenticator for `request` with Crossbar's arguments. `details`
 * adds method specific fields (e.g. `ticket`). Answers the checked principal,
 * or a denial: the procedure's own error URI, or authentication_failed.
 */
export async function callAuthenticator(
  deps: DynamicDeps,
  config: DynamicConfig,
  method: string,
  request: AuthRequest,
  details: Dict = {},
): Promise<DynamicPrincipal | AuthStep> {
  const callDetails: Dict = {
    session: request.session,
    transport: transportDetails(request.transport),
    authmethod: method,
    authid: request.authid ?? null,
    authrole: request.authrole ?? null,
    authextra: request.authextra,
    ...details,
  };
  let result: unknown;
  try {
    const answer = await withTimeout(
      deps.caller.call(config.realm ?? request.realm, config.authenticator, [request.realm, request.authid ?? null, callDetails]),
      deps.timeoutMs ?? DEFAULT_DYNAMIC_TIMEOUT_MS,
    );
    result = answer.args[0];
  } catch (err) {
    if (err instanceof WampError) {
      // Crossbar: the authenticator's ApplicationError denies with its URI and first argument.
      const message = err.args.length > 0 ? String(err.args[0]) : `dynamic authenticator denied: ${err.uri}`;
      return { kind: 'deny', reason: err.uri, message };
    }
    if (err instanceof TimeoutError) {
      return {
        kind: 'deny',
        reason: ErrorUri.AUTHENTICATION_FAILED,
        message: `dynamic authenticator "${config.authenticator}" did not answer in time`,
      };
    }
    // e.g. the authenticator realm does not exist
    const text = err instanceof Error ? err.message : String(err);
    return {
      kind: 'deny',
      reason: ErrorUri.AUTHENTICATION_FAILED,
      message: `dynamic authenticator "${config.authenticator}" failed: ${text}`,
    };
  }
  return checkResult(result, config.authenticator);
}

function checkResult(result: unknown, procedure: string): DynamicPrincipal | AuthStep {
  const bad = (what: string): AuthStep => ({
    kind: 'deny',
    reason: ErrorUri.AUTHENTICATION_FAILED,
    message: `dynamic authenticator "${procedure}" returned ${what}`,
  });
  // Crossbar, for compatibility: a bare role string.
  if (typeof result === 'string') return result ? { role: result, fields: {} } : bad('an empty role');
  if (!isDict(result)) return bad(`${result === null ? 'null' : typeof result}, not a role or a principal dict`);
  const { role, authid, realm, extra } = result;
  if (role === undefined)
    return { kind: 'deny', reason: ErrorUri.NO_SUCH_ROLE, message: `dynamic authenticator "${procedure}" assigned no role` };
  if (typeof role !== 'string' || !role) return bad('a "role" that is not a non-empty string');
  if (authid !== undefined && authid !== null && (typeof authid !== 'string' || !authid))
    return bad('an "authid" that is not a non-empty string');
  if (realm !== undefined && realm !== null && (typeof realm !== 'string' || !realm))
    return bad('a "realm" that is not a non-empty string');
  if (extra !== undefined && extra !== null && !isDict(extra)) return bad('an "extra" that is not a dict');
  return {
    role,
    ...(typeof authid === 'string' && { authid }),
    ...(typeof realm === 'string' && { realm }),
    ...(isDict(extra) && { extra }),
    fields: result,
  };
}

/** The principal's authid, or Crossbar's denial when none was assigned. */
export function requireAuthid(authid: string | undefined): string | AuthStep {
  return authid ?? { kind: 'deny', reason: NO_SUCH_PRINCIPAL, message: 'no authid assigned' };
}

export function isDynamicPrincipal(value: DynamicPrincipal | AuthStep): value is DynamicPrincipal {
  return 'fields' in value;
}

class TimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
