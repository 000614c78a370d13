/**
 * WAMP-CRA (WAMP: advanced/authentication_cra):
 * HELLO(authid) -> CHALLENGE("wampcra", {challenge[, salt, iterations, keylen]})
 * -> AUTHENTICATE(base64(HMAC-SHA256(key, challenge)), {}) -> WELCOME.
 *
 * The challenge is a JSON string of {authid, authrole, authmethod, authprovider,
 * nonce, timestamp, session}; authrole is always null: the role is told in
 * WELCOME, not to whoever asks. The key is the secret (UTF-8); for a salted user
 * it is deriveKey(password, salt, iterations, keylen), i.e. the *base64 text* of
 * PBKDF2-HMAC-SHA256 used as the HMAC key, as Autobahn|JS and Autobahn|Python
 * derive it on their side.
 *
 * What a salted user's `secret` is changed in Crossbar (crossbar#2121, first
 * released in 25.12): up to 23.1 it was that derived key, used as it is (what
 * Crossbar's docs still show); since, it is the password, and the router
 * derives the key. Kreuz takes it as the password by default and, with
 * `salted_secret: derived_key`, as the derived key. Crossbar 25.12 also drops a
 * salt given without both iterations and keylen (the user is then unsalted);
 * Kreuz salts with Autobahn's defaults there, as Crossbar 23.1 did.
 *
 * Static (Crossbar): `{"type": "static", "users": {"<authid>": {"secret", "role", "salt"?, "iterations"?, "keylen"?, "realm"?, "extra"?}}}`,
 * plus Kreuz's `salted_secret` ("password" or "derived_key") beside `users`.
 * Dynamic: the authenticator answers the same fields (`secret`, `role`, ...,
 * and `salted_secret` for its salted secret).
 *
 * An unknown static authid is challenged like a configured user and denied
 * like a wrong secret. Its salting copies that of a configured user picked by
 * a keyed hash of the authid, so with a mix of salted and unsalted users,
 * unknown authids are salted or not in the same proportion; its salt has the
 * length and alphabet of that user's salt. All of it is derived from a
 * secret (AuthDeps.secret, else random per process): the same for the same authid.
 */
import { createHmac, pbkdf2, pbkdf2Sync, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { AuthRequest, AuthStep, Authenticator } from '../core/authentication.ts';
import type { Dict } from '../wamp/messages.ts';
import {
  PROCESS_SECRET,
  constantTimeEqual,
  denyCredentials,
  denyMalformed,
  denyNotAuthorized,
  makePrincipal,
  mockBytes,
  welcome,
} from './common.ts';
import { integer, nonEmpty, principalFields } from './config-schema.ts';
import { callAuthenticator, isDynamicPrincipal, requireAuthid, type DynamicConfig, type DynamicDeps } from './dynamic.ts';
import { authMethod } from './method.ts';

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

/** What a salted user's `secret` is: the password the key is derived from (Crossbar 25.12), or that key (Crossbar 23.1). */
export type SaltedSecret = 'password' | 'derived_key';
export const SALTED_SECRETS = ['password', 'derived_key'] as const;

export interface CraUser {
  secret: string;
  role: string;
  salting?: Salting;
  /** Default "password". */
  saltedSecret?: SaltedSecret;
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

/** The challenge string: JSON of what the session will be (Crossbar's fields), its role withheld. */
export function makeChallenge(fields: { authid: string | null; authprovider: string; session: number }): string {
  return JSON.stringify({
    authid: fields.authid,
    authrole: null,
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

export function staticWampCra(users: ReadonlyMap<string, CraUser>, options: { secret?: Uint8Array } = {}): Authenticator {
  const keys = new Map<string, Promise<string>>(); // derived keys, computed once per salted user
  const keyOf = (authid: string, user: CraUser): Promise<string> => {
    if (!user.salting || user.saltedSecret === 'derived_key') return Promise.resolve(user.secret);
    let key = keys.get(authid);
    if (!key) {
      key = deriveKeyAsync(user.secret, user.salting);
      keys.set(authid, key);
    }
    return key;
  };
  // Derived now, so that a user's first challenge does not come later than an unknown one's.
  for (const [authid, user] of users) if (user.salting) keyOf(authid, user).catch(() => {});
  const mockSalting = mockSaltings([...users.values()], options.secret ?? PROCESS_SECRET);

  return {
    method: METHOD,
    async start(request: AuthRequest): Promise<AuthStep> {
      if (request.authid === undefined) return denyNotAuthorized('wampcra: an authid is required');
      const authid = request.authid;
      const user = users.get(authid);
      const challenge = makeChallenge({ authid, authprovider: 'static', session: request.session });
      if (!user) return challengeStep(challenge, mockSalting(authid), undefined, () => denyCredentials(METHOD));
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
      const challenge = makeChallenge({ authid, authprovider: 'dynamic', session: request.session });
      const key = user.salting && user.saltedSecret !== 'derived_key' ? await deriveKeyAsync(user.secret, user.salting) : user.secret;
      return challengeStep(challenge, user.salting, sign(key, challenge), () =>
        welcome(makePrincipal(authid, principal.role, 'dynamic', principal)),
      );
    },
  };
}

/**
 * The salting an unknown authid is challenged with: that of the configured
 * user a keyed hash of the authid picks, with a made-up salt shaped like that user's.
 */
function mockSaltings(users: readonly CraUser[], secret: Uint8Array): (authid: string) => Salting | undefined {
  return (authid) => {
    if (users.length === 0) return undefined;
    const like = users[mockBytes(secret, 'wampcra user', authid, 4).readUInt32BE(0) % users.length].salting;
    if (!like) return undefined;
    return { ...like, salt: mimicSalt(like.salt, mockBytes(secret, 'wampcra salt', authid, 4 * like.salt.length + 64)) };
  };
}

/** Alphabets a salt may be written in, smallest first. */
const DIGITS = '0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const SALT_ALPHABETS = [
  DIGITS,
  DIGITS + 'abcdef',
  DIGITS + 'ABCDEF',
  DIGITS + LOWER,
  DIGITS + UPPER,
  DIGITS + LOWER + UPPER,
  UPPER + LOWER + DIGITS + '+/',
  UPPER + LOWER + DIGITS + '-_',
];

/**
 * A string shaped like `like`: as many characters, from the smallest common
 * alphabet that covers it (else its own characters), with its "=" padding.
 */
export function mimicSalt(like: string, random: Uint8Array): string {
  const padding = /=*$/.exec(like)![0];
  const body = [...like.slice(0, like.length - padding.length)];
  const alphabet = [...(SALT_ALPHABETS.find((a) => body.every((c) => a.includes(c))) ?? [...new Set(body)].sort().join(''))];
  const limit = 256 - (256 % alphabet.length); // bytes at or above it are skipped: no character is likelier
  const out: string[] = [];
  for (let i = 0; out.length < body.length; i++) {
    const byte = random[i % random.length];
    if (byte < limit || i >= random.length) out.push(alphabet[byte % alphabet.length]);
  }
  return out.join('') + padding;
}

/** The secret and salting a dynamic authenticator returned, or what is wrong with them. */
function userFromDynamic(fields: Dict): { secret: string; salting?: Salting; saltedSecret?: SaltedSecret } | string {
  const { secret, salt, iterations, keylen, salted_secret: saltedSecret } = fields;
  if (typeof secret !== 'string' || !secret) return 'returned no "secret" string for wampcra';
  if (salt === undefined || salt === null) return { secret };
  if (saltedSecret !== undefined && !SALTED_SECRETS.includes(saltedSecret as SaltedSecret))
    return `returned a "salted_secret" that is not one of ${SALTED_SECRETS.join(', ')}`;
  const intIn = (v: unknown, r: { min: number; max: number }) => typeof v === 'number' && Number.isInteger(v) && v >= r.min && v <= r.max;
  if (typeof salt !== 'string' || !salt) return 'returned a "salt" that is not a non-empty string';
  if (iterations !== undefined && !intIn(iterations, ITERATIONS)) return 'returned invalid "iterations"';
  if (keylen !== undefined && !intIn(keylen, KEYLEN)) return 'returned invalid "keylen"';
  return {
    secret,
    salting: {
      salt,
      iterations: (iterations as number | undefined) ?? DEFAULT_ITERATIONS,
      keylen: (keylen as number | undefined) ?? DEFAULT_KEYLEN,
    },
    ...(saltedSecret !== undefined && { saltedSecret: saltedSecret as SaltedSecret }),
  };
}

/** Crossbar's static user: the secret, and optionally the salting its key is derived with. */
const userConfig = z
  .strictObject({
    secret: nonEmpty,
    salt: nonEmpty.optional(),
    iterations: integer(ITERATIONS.min, ITERATIONS.max).optional(),
    keylen: integer(KEYLEN.min, KEYLEN.max).optional(),
    ...principalFields,
  })
  .refine((u) => u.salt !== undefined || (u.iterations === undefined && u.keylen === undefined), {
    error: '"iterations" and "keylen" need a "salt"',
  });

export const wampcraMethod = authMethod({
  staticConfig: z.strictObject({
    type: z.literal('static'),
    users: z.record(z.string(), userConfig).optional(),
    salted_secret: z
      .enum(SALTED_SECRETS)
      .optional()
      .describe(
        'Kreuz: what the "secret" of a user with "salt" is: "password" (default; Crossbar since 25.12) or "derived_key" (the output of derive_key, used as it is; Crossbar up to 23.1).',
      ),
  }),
  fromStatic(config, { secret }) {
    const users = new Map<string, CraUser>();
    const saltedSecret = config.salted_secret;
    for (const [authid, { secret: password, salt, iterations, keylen, role, realm, extra }] of Object.entries(config.users ?? {})) {
      const salting =
        salt === undefined ? undefined : { salt, iterations: iterations ?? DEFAULT_ITERATIONS, keylen: keylen ?? DEFAULT_KEYLEN };
      users.set(authid, { secret: password, role, realm, extra, ...(salting && { salting, saltedSecret }) });
    }
    return staticWampCra(users, { secret });
  },
  fromDynamic: dynamicWampCra,
});

export interface SaltNote {
  path: PropertyKey[];
  message: string;
}

/**
 * What `kreuz check` notes at the `salt` of every static WAMP-CRA user in a
 * config (as parsed; any shape): which meaning of `secret` Kreuz follows,
 * since Crossbar's docs and its code since 25.12 disagree.
 */
export function saltedSecretNotes(config: unknown): SaltNote[] {
  const notes: SaltNote[] = [];
  const walk = (value: unknown, path: PropertyKey[], depth: number): void => {
    if (typeof value !== 'object' || value === null || depth > 12) return;
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) walk(item, [...path, i], depth + 1);
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      if (key === 'wampcra' && isStaticCra(child)) notes.push(...blockNotes(child, [...path, key]));
      else walk(child, [...path, key], depth + 1);
    }
  };
  walk(config, [], 0);
  return notes;
}

function isStaticCra(value: unknown): value is { type: 'static'; users?: unknown; salted_secret?: unknown } {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'static';
}

function blockNotes(block: { users?: unknown; salted_secret?: unknown }, path: PropertyKey[]): SaltNote[] {
  const users = block.users;
  if (typeof users !== 'object' || users === null) return [];
  const derived = block.salted_secret === 'derived_key';
  const notes: SaltNote[] = [];
  for (const [authid, user] of Object.entries(users)) {
    const u = user as { salt?: unknown; iterations?: unknown; keylen?: unknown } | null;
    if (typeof u?.salt !== 'string') continue;
    const meaning = derived
      ? '"secret" is taken as the derived key (the output of derive_key, used as it is), as Crossbar up to 23.1 took it (salted_secret: derived_key)'
      : '"secret" is taken as the password and Kreuz derives the key from it, as Crossbar does since 25.12; Crossbar up to 23.1 (and its docs) took "secret" as the derived key: if this one is a derive_key output, set salted_secret: derived_key beside "users"';
    const defaults =
      u.iterations === undefined || u.keylen === undefined
        ? `; without ${u.iterations === undefined ? 'iterations' : 'keylen'}, Kreuz salts with Autobahn's defaults (1000 iterations, keylen 32) as Crossbar 23.1 did, where Crossbar 25.12 drops the salt`
        : '';
    notes.push({ path: [...path, 'users', authid, 'salt'], message: `${meaning}${defaults}` });
  }
  return notes;
}
