/**
 * WAMP-CRA (WAMP: advanced/authentication_cra):
 * HELLO(authid) -> CHALLENGE("wampcra", {challenge[, salt, iterations, keylen]})
 * -> AUTHENTICATE(base64(HMAC-SHA256(key, challenge)), {}) -> WELCOME.
 *
 * The challenge is a JSON string of {authid, authrole, authmethod, authprovider,
 * nonce, timestamp, session}. The key is the secret (UTF-8); for a salted user
 * it is deriveKey(secret, salt, iterations, keylen), i.e. the *base64 text* of
 * PBKDF2-HMAC-SHA256 used as the HMAC key, as Autobahn|JS, Autobahn|Python and
 * Crossbar all do. The configured `secret` is the password either way.
 *
 * Static (Crossbar): `{"type": "static", "users": {"<authid>": {"secret", "role", "salt"?, "iterations"?, "keylen"?, "realm"?, "extra"?}}}`.
 * Dynamic: the authenticator answers the same fields (`secret`, `role`, ...).
 */
import { createHmac, pbkdf2, pbkdf2Sync, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { AuthRequest, AuthStep, Authenticator } from '../core/authentication.ts';
import type { Dict } from '../wamp/messages.ts';
import {
  AuthConfigError,
  configDict,
  configInteger,
  configString,
  constantTimeEqual,
  denyCredentials,
  denyMalformed,
  denyNotAuthorized,
  makePrincipal,
  onlyKeys,
  principalOptions,
  welcome,
} from './common.ts';
import { callAuthenticator, isDynamicPrincipal, parseDynamicConfig, requireAuthid, requireDeps, type DynamicConfig, type DynamicDeps } from './dynamic.ts';

const METHOD = 'wampcra';
const pbkdf2Async = promisify(pbkdf2);

/** Autobahn's defaults when a salt is given without them. */
export const DEFAULT_ITERATIONS = 1000;
export const DEFAULT_KEYLEN = 32;
const ITERATIONS = { min: 1, max: 10_000_000 };
const KEYLEN = { min: 1, max: 1024 };

export interface Salting {
  salt: string;
  iterations: number;
  keylen: number;
}

export interface CraUser {
  secret: string;
  role: string;
  salting?: Salting;
  realm?: string;
  extra?: Dict;
}

/**
 * The salted WAMP-CRA key, as Autobahn derives it: base64 of
 * PBKDF2-HMAC-SHA256(secret, salt, iterations, keylen), secret and salt as UTF-8.
 */
export function deriveKey(secret: string, salt: string, iterations = DEFAULT_ITERATIONS, keylen = DEFAULT_KEYLEN): string {
  return pbkdf2Sync(secret, salt, iterations, keylen, 'sha256').toString('base64');
}

async function deriveKeyAsync(secret: string, { salt, iterations, keylen }: Salting): Promise<string> {
  return (await pbkdf2Async(secret, salt, iterations, keylen, 'sha256')).toString('base64');
}

/** The WAMP-CRA signature: base64(HMAC-SHA256(key, challenge)), key and challenge as UTF-8. */
export function sign(key: string, challenge: string): string {
  return createHmac('sha256', key).update(challenge).digest('base64');
}

/** The challenge string: JSON of what the session will be (Crossbar's fields). */
export function makeChallenge(fields: { authid: string | null; authrole: string; authprovider: string; session: number }): string {
  return JSON.stringify({
    authid: fields.authid,
    authrole: fields.authrole,
    authmethod: METHOD,
    authprovider: fields.authprovider,
    nonce: randomBytes(48).toString('base64'),
    timestamp: new Date().toISOString(),
    session: fields.session,
  });
}

/** CHALLENGE.Extra for a challenge and the user's salting. */
function challengeExtra(challenge: string, salting: Salting | undefined): Dict {
  return salting ? { challenge, salt: salting.salt, iterations: salting.iterations, keylen: salting.keylen } : { challenge };
}

function challengeStep(challenge: string, salting: Salting | undefined, expected: string | undefined, onSuccess: () => AuthStep): AuthStep {
  return {
    kind: 'challenge',
    extra: challengeExtra(challenge, salting),
    verify(signature: string): AuthStep {
      // A mock challenge (unknown user) has no expected signature: compare with one no client can produce.
      const ok = constantTimeEqual(signature, expected ?? `\0${randomBytes(32).toString('base64')}`);
      if (!ok || expected === undefined) return denyCredentials(METHOD);
      return onSuccess();
    },
  };
}

export function staticWampCra(users: ReadonlyMap<string, CraUser>): Authenticator {
  const keys = new Map<string, Promise<string>>(); // derived keys, computed once per salted user
  const keyOf = (authid: string, user: CraUser): Promise<string> => {
    if (!user.salting) return Promise.resolve(user.secret);
    let key = keys.get(authid);
    if (!key) {
      key = deriveKeyAsync(user.secret, user.salting);
      keys.set(authid, key);
    }
    return key;
  };
  // For an unknown authid: a challenge shaped like a known user's (salted if users are), with a salt stable per authid.
  const template = [...users.values()].find((u) => u.salting) ?? users.values().next().value;
  const mockKey = randomBytes(32);

  return {
    method: METHOD,
    async start(request: AuthRequest): Promise<AuthStep> {
      if (request.authid === undefined) return denyNotAuthorized('wampcra: an authid is required');
      const authid = request.authid;
      const user = users.get(authid);
      if (!user) {
        const salting = template?.salting && {
          ...template.salting,
          salt: createHmac('sha256', mockKey).update(authid).digest('base64').slice(0, 16),
        };
        const challenge = makeChallenge({ authid, authrole: template?.role ?? 'anonymous', authprovider: 'static', session: request.session });
        return challengeStep(challenge, salting, undefined, () => denyCredentials(METHOD));
      }
      const challenge = makeChallenge({ authid, authrole: user.role, authprovider: 'static', session: request.session });
      const expected = sign(await keyOf(authid, user), challenge);
      return challengeStep(challenge, user.salting, expected, () => welcome(makePrincipal(authid, user.role, 'static', user)));
    },
  };
}

export function dynamicWampCra(config: DynamicConfig, deps: DynamicDeps): Authenticator {
  return {
    method: METHOD,
    async start(request: AuthRequest): Promise<AuthStep> {
      const principal = await callAuthenticator(deps, config, METHOD, request, { authrole: null });
      if (!isDynamicPrincipal(principal)) return principal;
      const authid = requireAuthid(principal.authid ?? request.authid);
      if (typeof authid !== 'string') return authid;
      const user = userFromDynamic(principal.fields);
      if (typeof user === 'string') return denyMalformed(`dynamic authenticator "${config.authenticator}" ${user}`);
      const challenge = makeChallenge({ authid, authrole: principal.role, authprovider: 'dynamic', session: request.session });
      const key = user.salting ? await deriveKeyAsync(user.secret, user.salting) : user.secret;
      return challengeStep(challenge, user.salting, sign(key, challenge), () => welcome(makePrincipal(authid, principal.role, 'dynamic', principal)));
    },
  };
}

/** The secret and salting a dynamic authenticator returned, or what is wrong with them. */
function userFromDynamic(fields: Dict): { secret: string; salting?: Salting } | string {
  const { secret, salt, iterations, keylen } = fields;
  if (typeof secret !== 'string' || !secret) return 'returned no "secret" string for wampcra';
  if (salt === undefined || salt === null) return { secret };
  const intIn = (v: unknown, r: { min: number; max: number }) => typeof v === 'number' && Number.isInteger(v) && v >= r.min && v <= r.max;
  if (typeof salt !== 'string' || !salt) return 'returned a "salt" that is not a non-empty string';
  if (iterations !== undefined && !intIn(iterations, ITERATIONS)) return 'returned invalid "iterations"';
  if (keylen !== undefined && !intIn(keylen, KEYLEN)) return 'returned invalid "keylen"';
  return {
    secret,
    salting: { salt, iterations: (iterations as number | undefined) ?? DEFAULT_ITERATIONS, keylen: (keylen as number | undefined) ?? DEFAULT_KEYLEN },
  };
}

export function wampcraFromConfig(config: Dict, path: string, deps: DynamicDeps | undefined): Authenticator {
  if (config.type === 'dynamic') return dynamicWampCra(parseDynamicConfig(config, path), requireDeps(deps, path));
  onlyKeys(config, ['type', 'users'], path);
  const users = new Map<string, CraUser>();
  const all = configDict(config.users ?? {}, `${path}.users`);
  for (const [authid, value] of Object.entries(all)) {
    const at = `${path}.users.${authid}`;
    const u = configDict(value, at);
    onlyKeys(u, ['secret', 'role', 'salt', 'iterations', 'keylen', 'realm', 'extra'], at);
    const salt = configString(u, 'salt', at, { optional: true });
    if (salt === undefined && (u.iterations !== undefined || u.keylen !== undefined)) {
      throw new AuthConfigError(at, '"iterations" and "keylen" need a "salt"');
    }
    const user: CraUser = { secret: configString(u, 'secret', at), role: configString(u, 'role', at), ...principalOptions(u, at) };
    if (salt !== undefined) {
      user.salting = {
        salt,
        iterations: configInteger(u, 'iterations', at, ITERATIONS, DEFAULT_ITERATIONS),
        keylen: configInteger(u, 'keylen', at, KEYLEN, DEFAULT_KEYLEN),
      };
    }
    users.set(authid, user);
  }
  return staticWampCra(users);
}
