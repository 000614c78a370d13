/**
 * WAMP-Cryptosign (WAMP: advanced/authentication_cryptosign), Ed25519:
 * HELLO(authextra {pubkey[, channel_binding]}) -> CHALLENGE("cryptosign",
 * {challenge: <32 bytes hex>, channel_binding}) -> AUTHENTICATE(<hex of the
 * 64-byte signature + the 32 signed bytes>, {}) -> WELCOME.
 *
 * The signed message is the challenge, or with channel binding "tls-unique"
 * the challenge XOR the transport's TLS channel id. A client may leave out
 * authid: the principal is then found by its public key.
 *
 * Static (Crossbar): `{"type": "static", "principals": {"<authid>": {"realm"?, "role", "authorized_keys": [hex...], "extra"?}}}`.
 * Dynamic: the authenticator answers `{role, pubkey | authorized_keys, authid?, realm?, extra?}`.
 *
 * Router authentication (a client's `authextra.challenge`) is not offered:
 * the router has no key of its own; a null or absent challenge is the norm.
 */
import { createPublicKey, randomBytes, verify as verifySignature, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { AuthRequest, AuthStep, Authenticator, Principal } from '../core/authentication.ts';
import type { Dict } from '../wamp/messages.ts';
import {
  denyCredentials,
  denyMalformed,
  denyNotAuthorized,
  fromHex,
  isStep,
  makePrincipal,
  requestedChannelBinding,
  welcome,
  xor,
} from './common.ts';
import { crossbarOnly, hex, principalFields } from './config-schema.ts';
import { callAuthenticator, isDynamicPrincipal, type DynamicConfig, type DynamicDeps } from './dynamic.ts';
import { authMethod } from './method.ts';

const METHOD = 'cryptosign';

/** DER SubjectPublicKeyInfo header of an Ed25519 key (RFC 8410); the raw 32 bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A raw 32-byte Ed25519 public key as a node:crypto KeyObject. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error('an Ed25519 public key has 32 bytes');
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/**
 * Checks an AUTHENTICATE signature (hex): 64 bytes of Ed25519 signature,
 * optionally followed by the 32 bytes signed (the spec's 96-byte form, which
 * Autobahn sends), over `message` with `publicKey`.
 */
export function verifyCryptosign(signatureHex: string, message: Uint8Array, publicKey: KeyObject): 'ok' | 'malformed' | 'bad' {
  const bytes = fromHex(signatureHex);
  if (!bytes || (bytes.length !== 64 && bytes.length !== 96)) return 'malformed';
  // The trailing copy of the message is public data: a plain comparison is fine.
  if (bytes.length === 96 && !bytes.subarray(64).equals(Buffer.from(message))) return 'bad';
  try {
    return verifySignature(null, message, publicKey, bytes.subarray(0, 64)) ? 'ok' : 'bad';
  } catch {
    return 'bad';
  }
}

export interface CryptosignPrincipal {
  role: string;
  /** Lower-case hex. */
  authorizedKeys: string[];
  realm?: string;
  extra?: Dict;
}

/** What HELLO asked for, checked: the public key and channel binding. */
interface Hello {
  pubkey: string;
  key: KeyObject | undefined;
  channelBinding: string | null;
  channelId: Buffer | undefined;
}

function readHello(request: AuthRequest): Hello | AuthStep {
  const binding = requestedChannelBinding(METHOD, request.authextra, request.transport);
  if (isStep(binding)) return binding;
  const pubkeyText = request.authextra.pubkey;
  const raw = fromHex(pubkeyText, 32);
  if (!raw) return denyMalformed('cryptosign: authextra.pubkey must be the 32-byte public key as 64 hex digits');
  let key: KeyObject | undefined;
  try {
    key = ed25519PublicKey(raw);
  } catch {
    key = undefined; // not a valid point: the signature check fails below
  }
  return { pubkey: (pubkeyText as string).toLowerCase(), key, channelBinding: binding.type, channelId: binding.id };
}

/** CHALLENGE, and on AUTHENTICATE the signature check; `principal` undefined means deny whatever is signed. */
function challengeStep(hello: Hello, principal: () => Principal | undefined): AuthStep {
  const challenge = randomBytes(32);
  const message = hello.channelId ? xor(challenge, hello.channelId) : challenge;
  return {
    kind: 'challenge',
    extra: { challenge: challenge.toString('hex'), channel_binding: hello.channelBinding },
    verify(signature: string): AuthStep {
      if (!hello.key) return denyCredentials(METHOD);
      const outcome = verifyCryptosign(signature, message, hello.key);
      if (outcome === 'malformed') return denyMalformed('cryptosign: the signature must be 64 or 96 bytes as hex');
      const p = principal();
      if (outcome !== 'ok' || !p) return denyCredentials(METHOD);
      return welcome(p);
    },
  };
}

export function staticCryptosign(principals: ReadonlyMap<string, CryptosignPrincipal>): Authenticator {
  // pubkey -> authids holding it, to find the principal of a client that sends no authid
  const byKey = new Map<string, string[]>();
  for (const [authid, p] of principals) {
    for (const key of p.authorizedKeys) byKey.set(key, [...(byKey.get(key) ?? []), authid]);
  }
  return {
    method: METHOD,
    start(request: AuthRequest): AuthStep {
      const hello = readHello(request);
      if (isStep(hello)) return hello;
      let authid = request.authid;
      if (authid === undefined) {
        const holders = byKey.get(hello.pubkey) ?? [];
        // Crossbar: a key shared by several principals cannot identify one.
        if (holders.length > 1) return denyNotAuthorized('cryptosign: this public key belongs to several principals: send an authid');
        authid = holders[0];
      }
      const principal = authid === undefined ? undefined : principals.get(authid);
      const authorized = principal?.authorizedKeys.includes(hello.pubkey) ? principal : undefined;
      // Unknown authid or key: challenged all the same, and denied like a bad signature.
      return challengeStep(hello, () => (authorized ? makePrincipal(authid!, authorized.role, 'static', authorized) : undefined));
    },
  };
}

export function dynamicCryptosign(config: DynamicConfig, deps: DynamicDeps): Authenticator {
  return {
    method: METHOD,
    async start(request: AuthRequest): Promise<AuthStep> {
      const hello = readHello(request);
      if (isStep(hello)) return hello;
      const principal = await callAuthenticator(deps, config, METHOD, request, { authrole: null });
      if (!isDynamicPrincipal(principal)) return principal;
      const { pubkey, authorized_keys: keys } = principal.fields;
      const authorized = Array.isArray(keys) ? keys : [pubkey];
      if (!authorized.every((k) => fromHex(k, 32))) {
        return denyMalformed(`dynamic authenticator "${config.authenticator}" returned no valid "pubkey" (32 bytes hex) for cryptosign`);
      }
      const ok = authorized.some((k) => (k as string).toLowerCase() === hello.pubkey);
      // The spec's suggestion when nobody names the principal: the hex public key.
      const authid = principal.authid ?? request.authid ?? hello.pubkey;
      return challengeStep(hello, () => (ok ? makePrincipal(authid, principal.role, 'dynamic', principal) : undefined));
    },
  };
}

/** Whether 32 bytes of hex (anything else is left to the hex check) make an Ed25519 public key. */
function isEd25519Key(text: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) return true;
  try {
    ed25519PublicKey(Buffer.from(text, 'hex'));
    return true;
  } catch {
    return false;
  }
}

const LIST_OF_KEYS = 'must be a non-empty list of public keys (hex)';

export const cryptosignMethod = authMethod({
  staticConfig: z.strictObject({
    type: z.literal('static'),
    principals: z
      .record(
        z.string(),
        z.strictObject({
          authorized_keys: z
            .array(hex(32).refine(isEd25519Key, { error: 'is not a valid Ed25519 public key' }), { error: LIST_OF_KEYS })
            .min(1, { error: LIST_OF_KEYS }),
          ...principalFields,
        }),
      )
      .optional(),
    ...crossbarOnly(['trustroots'], {
      trustroots: 'Kreuz checks no WAMP-cryptosign certificates against trust roots: list each principal\'s "authorized_keys"',
    }),
  }),
  fromStatic(config) {
    const principals = new Map<string, CryptosignPrincipal>();
    for (const [authid, { authorized_keys, role, realm, extra }] of Object.entries(config.principals ?? {})) {
      principals.set(authid, { role, authorizedKeys: authorized_keys.map((k) => k.toLowerCase()), realm, extra });
    }
    return staticCryptosign(principals);
  },
  fromDynamic: dynamicCryptosign,
});
