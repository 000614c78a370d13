/**
 * WAMP-SCRAM (WAMP: advanced/authentication_scram; RFC 5802 / RFC 7677 with
 * SHA-256), under both names: "wamp-scram" (spec) and "scram" (Crossbar and
 * Autobahn|Python).
 *
 * HELLO(authid, authextra {nonce, channel_binding}) -> CHALLENGE(method,
 * {nonce: client nonce + server nonce, salt, kdf, iterations, memory})
 * -> AUTHENTICATE(base64(ClientProof), {nonce, channel_binding, cbind_data})
 * -> WELCOME(authextra {verifier: "v=" + base64(ServerSignature),
 *    scram_server_signature: base64(ServerSignature)}).
 *
 * The router stores only StoredKey and ServerKey (Crossbar's principal:
 * `{kdf, iterations, memory, salt (hex), "stored-key" (hex), "server-key" (hex), role}`),
 * so which KDF made them does not matter here, only to the client.
 *
 * Dialects, both accepted:
 * - AuthMessage's channel-binding part: the spec's `c=` + base64("n,,") (RFC
 *   5802), or Crossbar/Autobahn's empty `c=`;
 * - the kdf name: `argon2id13` (spec) or `argon2id-13` (Autobahn|Python, which
 *   knows only that one). CHALLENGE names an Argon2 kdf in the spelling of the
 *   method the client asked for: "scram" gets "argon2id-13", "wamp-scram"
 *   gets "argon2id13".
 */
import { createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { argon2id } from 'hash-wasm';
import { z } from 'zod';
import type { AuthRequest, AuthStep, Authenticator } from '../core/authentication.ts';
import type { Dict } from '../wamp/messages.ts';
import { ErrorUri } from '../wamp/uris.ts';
import {
  constantTimeEqual,
  denyCredentials,
  denyMalformed,
  denyNotAuthorized,
  fromBase64,
  isStep,
  makePrincipal,
  mockBytes,
  PROCESS_SECRET,
  requestedChannelBinding,
  sha256,
  welcome,
  xor,
} from './common.ts';
import { authConfigError, authErrorMap, hex, integer, principalFields } from './config-schema.ts';
import { callAuthenticator, isDynamicPrincipal, requireAuthid, type DynamicConfig, type DynamicDeps } from './dynamic.ts';
import { authMethod } from './method.ts';

export const SCRAM_METHODS = ['scram', 'wamp-scram'] as const;
export type ScramMethod = (typeof SCRAM_METHODS)[number];

/** Accepted kdf names; all Argon2 ones mean Argon2id v1.3, parallelism 1, 32-byte output. */
export const SCRAM_KDFS = ['argon2id13', 'argon2id-13', 'argon2id', 'pbkdf2'] as const;
export type ScramKdf = (typeof SCRAM_KDFS)[number];

const ITERATIONS = { min: 1, max: 100_000_000 };
const MEMORY = { min: 8, max: 4 * 1024 * 1024 }; // KiB
const pbkdf2Async = promisify(pbkdf2);

export function isArgon2(kdf: string): boolean {
  return kdf !== 'pbkdf2';
}

export interface ScramPrincipal {
  kdf: ScramKdf;
  iterations: number;
  /** KiB; Argon2 only. */
  memory?: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
  role: string;
  realm?: string;
  extra?: Dict;
}

/** Crossbar's config form of a SCRAM credential. */
export interface ScramCredential {
  kdf: ScramKdf;
  iterations: number;
  memory?: number;
  /** hex */
  salt: string;
  /** hex */
  'stored-key': string;
  /** hex */
  'server-key': string;
}

// ---- the algorithms (RFC 5802 section 3) ----

const hmac = (key: Uint8Array, data: string | Uint8Array): Buffer => createHmac('sha256', key).update(data).digest();

/**
 * SASLprep (RFC 4013), simplified: non-ASCII spaces map to " ", characters
 * "commonly mapped to nothing" are removed, then NFKC. (No prohibited-output
 * or bidi checks; ASCII names and passwords are unchanged, as in full SASLprep.)
 */
export function saslprep(text: string): string {
  return (
    text
      .replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, ' ')
      // biome-ignore lint/suspicious/noMisleadingCharacterClass: RFC 4013 maps these code points (variation selectors included) to nothing, one by one
      .replace(/[\u00AD\u034F\u1806\u180B-\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g, '')
      .normalize('NFKC')
  );
}

/** RFC 5802 saslname: "," and "=" escaped. */
function escapeName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/**
 * SaltedPassword for `kdf`. `encoding: 'autobahn'` reproduces Autobahn|Python
 * (22.x), whose Argon2 SaltedPassword is the ASCII text of the unpadded base64
 * hash rather than its 32 bytes (and Crossbar's credentials are made with it).
 */
export async function saltedPassword(
  password: string,
  params: { kdf: string; salt: Uint8Array; iterations: number; memory?: number },
  encoding: 'spec' | 'autobahn' = 'spec',
): Promise<Buffer> {
  const normalized = saslprep(password);
  if (!isArgon2(params.kdf)) return pbkdf2Async(normalized, params.salt, params.iterations, 32, 'sha256');
  if (params.memory === undefined) throw new Error('Argon2 needs "memory"');
  const raw = await argon2id({
    password: normalized,
    salt: params.salt,
    iterations: params.iterations,
    memorySize: params.memory,
    parallelism: 1,
    hashLength: 32,
    outputType: 'binary',
  });
  return encoding === 'autobahn' ? Buffer.from(Buffer.from(raw).toString('base64').replace(/=+$/, ''), 'ascii') : Buffer.from(raw);
}

/** StoredKey and ServerKey from a SaltedPassword. */
export function scramKeys(salted: Uint8Array): { storedKey: Buffer; serverKey: Buffer; clientKey: Buffer } {
  const clientKey = hmac(salted, 'Client Key');
  return { clientKey, storedKey: sha256(clientKey), serverKey: hmac(salted, 'Server Key') };
}

/**
 * A credential for the router's config (and tests) from a password: Crossbar's
 * principal fields. Defaults: argon2id13, 16 random bytes of salt, and for
 * Argon2 4096 iterations and 512 KiB (Autobahn's derive_scram_credential), for
 * PBKDF2 4096 iterations (RFC 7677's minimum). Use `encoding: 'autobahn'` for
 * credentials that Autobahn|Python clients (Argon2 only) can log in with.
 */
export async function deriveScramCredential(
  password: string,
  options: { kdf?: ScramKdf; salt?: Uint8Array | string; iterations?: number; memory?: number; encoding?: 'spec' | 'autobahn' } = {},
): Promise<ScramCredential> {
  const kdf = options.kdf ?? 'argon2id13';
  const salt = typeof options.salt === 'string' ? Buffer.from(options.salt, 'hex') : Buffer.from(options.salt ?? randomBytes(16));
  const iterations = options.iterations ?? 4096;
  const memory = isArgon2(kdf) ? (options.memory ?? 512) : undefined;
  const { storedKey, serverKey } = scramKeys(await saltedPassword(password, { kdf, salt, iterations, memory }, options.encoding));
  return {
    kdf,
    iterations,
    ...(memory !== undefined && { memory }),
    salt: salt.toString('hex'),
    'stored-key': storedKey.toString('hex'),
    'server-key': serverKey.toString('hex'),
  };
}

/** What the exchange consists of, for building AuthMessage. */
export interface ScramExchange {
  authid: string;
  /** HELLO.Details.authextra.nonce */
  clientNonce: string;
  /** CHALLENGE.Details.nonce: client nonce + server nonce */
  nonce: string;
  /** CHALLENGE.Details.salt (base64) */
  salt: string;
  iterations: number;
  /** Channel binding type and the transport's channel id, if any. */
  channelBinding?: { type: string; data: Uint8Array };
}

/** The AuthMessages a client may have signed: the spec's (RFC 5802) first, then Crossbar/Autobahn's. */
export function authMessages(x: ScramExchange): string[] {
  const serverFirst = `r=${x.nonce},s=${x.salt},i=${x.iterations}`;
  const cbindInput = x.channelBinding
    ? Buffer.concat([Buffer.from(`p=${x.channelBinding.type},,`), x.channelBinding.data])
    : Buffer.from('n,,');
  const spec = `n=${escapeName(saslprep(x.authid))},r=${x.clientNonce},${serverFirst},c=${cbindInput.toString('base64')},r=${x.nonce}`;
  if (x.channelBinding) return [spec]; // Crossbar/Autobahn have no channel binding
  return [spec, `n=${saslprep(x.authid)},r=${x.clientNonce},${serverFirst},c=,r=${x.nonce}`];
}

/**
 * Verifies a ClientProof (RFC 5802: ClientKey = ClientSignature XOR proof,
 * SHA256(ClientKey) must be StoredKey). Every candidate AuthMessage is tried,
 * each compared in constant time. Answers the ServerSignature, or undefined.
 */
export function verifyClientProof(proof: Uint8Array, storedKey: Uint8Array, serverKey: Uint8Array, messages: string[]): Buffer | undefined {
  let matched: string | undefined;
  for (const message of messages) {
    const recovered = sha256(xor(hmac(storedKey, message), proof));
    if (constantTimeEqual(recovered, storedKey) && matched === undefined) matched = message;
  }
  return matched === undefined ? undefined : hmac(serverKey, matched);
}

// ---- the authenticator ----

/** Principals by authid (static), or a lookup that may deny (dynamic). */
type Lookup = (request: AuthRequest) => Promise<{ authid: string; principal: ScramPrincipal | undefined; provider: string } | AuthStep>;

function scramAuthenticator(
  method: ScramMethod,
  lookup: Lookup,
  mock: () => ScramPrincipal,
  secret: Uint8Array = PROCESS_SECRET,
): Authenticator {
  return {
    method,
    async start(request: AuthRequest): Promise<AuthStep> {
      if (request.authid === undefined) return denyNotAuthorized(`${method}: an authid is required`);
      const clientNonce = request.authextra.nonce;
      if (typeof clientNonce !== 'string' || !fromBase64(clientNonce) || clientNonce.length < 8) {
        return denyMalformed(`${method}: authextra.nonce must be a base64 nonce`);
      }
      const binding = requestedChannelBinding(method, request.authextra, request.transport);
      if (isStep(binding)) return binding;
      const found = await lookup(request);
      if (isStep(found)) return found;
      const { authid, provider } = found;
      // Unknown authid: a mock challenge with a salt that stays the same for the authid, then a denial.
      // Both spellings ("scram", "wamp-scram") share the secret, so they agree on it as on a real salt.
      const principal = found.principal ?? mockPrincipal(mock(), (length) => mockBytes(secret, 'scram salt', authid, length));
      const nonce = clientNonce + randomBytes(16).toString('base64');
      const salt = principal.salt.toString('base64');
      const extra: Dict = {
        nonce,
        salt,
        kdf: kdfName(principal.kdf, method),
        iterations: principal.iterations,
        // Autobahn|Python fails on "memory": null, so it is only sent for Argon2.
        ...(isArgon2(principal.kdf) && { memory: principal.memory }),
      };
      const exchange: ScramExchange = {
        authid: request.authid, // the name the client signs: its own, even if an authenticator assigns another
        clientNonce,
        nonce,
        salt,
        iterations: principal.iterations,
        ...(binding.id && { channelBinding: { type: binding.type!, data: binding.id } }),
      };
      return {
        kind: 'challenge',
        extra,
        verify(signature: string, authExtra: Dict): AuthStep {
          const proof = fromBase64(signature);
          if (proof?.length !== 32) return denyMalformed(`${method}: the signature must be the base64 ClientProof (32 bytes)`);
          const problem = checkFinalExtra(authExtra, exchange);
          if (problem) return denyMalformed(`${method}: ${problem}`);
          const serverSignature = verifyClientProof(proof, principal.storedKey, principal.serverKey, authMessages(exchange));
          if (!serverSignature || !found.principal) return denyCredentials(method);
          const signature64 = serverSignature.toString('base64');
          return welcome(
            makePrincipal(authid, principal.role, provider, {
              realm: principal.realm,
              extra: { ...principal.extra, verifier: `v=${signature64}`, scram_server_signature: signature64 },
            }),
          );
        },
      };
    },
  };
}

/** A made-up principal like `template`, with a salt as long as its. */
function mockPrincipal(template: ScramPrincipal, salt: (length: number) => Buffer): ScramPrincipal {
  return { ...template, salt: salt(template.salt.length) };
}

/** AUTHENTICATE.Extra: what the client repeats must be what was agreed (each field optional: Autobahn sends none). */
function checkFinalExtra(extra: Dict, x: ScramExchange): string | undefined {
  if (extra.nonce !== undefined && extra.nonce !== null && extra.nonce !== x.nonce)
    return 'AUTHENTICATE nonce does not match the CHALLENGE nonce';
  const type = x.channelBinding?.type ?? null;
  if (extra.channel_binding !== undefined && (extra.channel_binding ?? null) !== type)
    return 'AUTHENTICATE channel_binding differs from HELLO';
  if (x.channelBinding) {
    const data = fromBase64(extra.cbind_data);
    if (!data?.equals(Buffer.from(x.channelBinding.data))) return 'cbind_data does not match this TLS channel';
  } else if (extra.cbind_data !== undefined && extra.cbind_data !== null) {
    return 'cbind_data without channel binding';
  }
  return undefined;
}

function kdfName(kdf: ScramKdf, method: ScramMethod): string {
  if (!isArgon2(kdf)) return kdf;
  return method === 'scram' ? 'argon2id-13' : 'argon2id13';
}

// ---- config ----

/** Crossbar's SCRAM credential fields (hex for the bytes). */
const credentialFields = {
  kdf: z.enum(SCRAM_KDFS, {
    error: (issue) =>
      issue.input === undefined ? 'is required' : `must be one of ${SCRAM_KDFS.join(', ')}, got ${JSON.stringify(issue.input)}`,
  }),
  iterations: integer(ITERATIONS.min, ITERATIONS.max),
  memory: integer(MEMORY.min, MEMORY.max).optional(),
  salt: hex(),
  'stored-key': hex(32),
  'server-key': hex(32),
};

/** What the kdf asks of the other fields: Argon2 needs memory and a salt of 8 bytes or more; PBKDF2 takes no memory. */
function kdfRules(credential: { kdf: ScramKdf; memory?: number | null; salt: string }, ctx: z.RefinementCtx): void {
  if (!isArgon2(credential.kdf)) {
    if (credential.memory !== undefined && credential.memory !== null)
      ctx.addIssue({ code: 'custom', path: ['memory'], message: 'is only for Argon2' });
    return;
  }
  if (credential.salt.length < 16) ctx.addIssue({ code: 'custom', path: ['salt'], message: 'Argon2 needs a salt of at least 8 bytes' });
  if (credential.memory === undefined || credential.memory === null)
    ctx.addIssue({ code: 'custom', path: ['memory'], message: 'is required' });
}

const principalConfig = z.strictObject({ ...credentialFields, ...principalFields }).superRefine(kdfRules);

/** The credential in a dynamic authenticator's answer, among its other fields (`memory: null` allowed there). */
const dynamicCredential = z.object({ ...credentialFields, memory: credentialFields.memory.nullable() }).superRefine(kdfRules);

type CredentialConfig = z.infer<typeof dynamicCredential>;

function scramPrincipal(c: CredentialConfig, principal: { role: string; realm?: string; extra?: Dict }): ScramPrincipal {
  return {
    kdf: c.kdf,
    iterations: c.iterations,
    ...(isArgon2(c.kdf) && { memory: c.memory! }),
    salt: Buffer.from(c.salt, 'hex'),
    storedKey: Buffer.from(c['stored-key'], 'hex'),
    serverKey: Buffer.from(c['server-key'], 'hex'),
    role: principal.role,
    ...(principal.realm !== undefined && { realm: principal.realm }),
    ...(principal.extra !== undefined && { extra: principal.extra }),
  };
}

const DEFAULT_MOCK: ScramPrincipal = {
  kdf: 'argon2id13',
  iterations: 4096,
  memory: 512,
  salt: Buffer.alloc(16),
  storedKey: Buffer.alloc(32),
  serverKey: Buffer.alloc(32),
  role: 'anonymous',
};

export function staticScram(
  principals: ReadonlyMap<string, ScramPrincipal>,
  method: ScramMethod = 'scram',
  secret?: Uint8Array,
): Authenticator {
  const template = principals.values().next().value ?? DEFAULT_MOCK;
  const mock = (): ScramPrincipal => ({
    ...template,
    storedKey: randomBytes(32),
    serverKey: randomBytes(32),
    extra: undefined,
    realm: undefined,
  });
  return scramAuthenticator(
    method,
    async (request) => ({ authid: request.authid!, principal: principals.get(request.authid!), provider: 'static' }),
    mock,
    secret,
  );
}

export function dynamicScram(config: DynamicConfig, deps: DynamicDeps, method: ScramMethod = 'scram'): Authenticator {
  return scramAuthenticator(
    method,
    async (request) => {
      const answer = await callAuthenticator(deps, config, method, request, { authrole: null });
      if (!isDynamicPrincipal(answer)) return answer;
      const authid = requireAuthid(answer.authid ?? request.authid);
      if (typeof authid !== 'string') return authid;
      const credential = dynamicCredential.safeParse(answer.fields, { error: authErrorMap });
      if (!credential.success) {
        return {
          kind: 'deny',
          reason: ErrorUri.AUTHENTICATION_FAILED,
          message: `dynamic authenticator "${config.authenticator}" returned an unusable SCRAM principal: ${authConfigError(credential.error.issues[0], 'result', []).message}`,
        };
      }
      return {
        authid,
        principal: scramPrincipal(credential.data, { role: answer.role, realm: answer.realm, extra: answer.extra }),
        provider: 'dynamic',
      };
    },
    () => DEFAULT_MOCK,
  );
}

/** One authenticator per spelling ("scram", "wamp-scram"), sharing the configuration. */
export const scramMethod = authMethod({
  staticConfig: z.strictObject({ type: z.literal('static'), principals: z.record(z.string(), principalConfig).optional() }),
  fromStatic(config, { secret }) {
    const principals = new Map<string, ScramPrincipal>();
    for (const [authid, p] of Object.entries(config.principals ?? {})) principals.set(authid, scramPrincipal(p, p));
    return SCRAM_METHODS.map((m) => staticScram(principals, m, secret));
  },
  fromDynamic: (config, deps) => SCRAM_METHODS.map((m) => dynamicScram(config, deps, m)),
});
