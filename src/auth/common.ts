/**
 * What the authentication methods share: constant-time comparison, the
 * denial answers, the config error that names its path, and the transport
 * details a dynamic authenticator is given.
 */
// timingSafeEqual is called through the module object, so tests can watch it being used.
import crypto, { createHash, createHmac, randomBytes } from 'node:crypto';
import type { AuthStep, Principal } from '../core/authentication.ts';
import type { TransportInfo } from '../core/peer.ts';
import type { Dict } from '../wamp/messages.ts';
import { ErrorUri } from '../wamp/uris.ts';

/** Crossbar's URI for an authenticator that assigned no authid (not in src/wamp/uris.ts). */
export const NO_SUCH_PRINCIPAL = ErrorUri.NO_SUCH_PRINCIPAL;

/**
 * One message for every credential failure of a method, whether the
 * principal exists or not, so a denial does not tell which it was.
 */
export function denyCredentials(method: string): AuthStep {
  return { kind: 'deny', reason: ErrorUri.NOT_AUTHORIZED, message: `${method}: invalid credentials` };
}

/** The client sent something that is not a well-formed answer (or HELLO.authextra). */
export function denyMalformed(message: string): AuthStep {
  return { kind: 'deny', reason: ErrorUri.AUTHENTICATION_FAILED, message };
}

export function denyNotAuthorized(message: string): AuthStep {
  return { kind: 'deny', reason: ErrorUri.NOT_AUTHORIZED, message };
}

// ---- made-up answers for unknown principals ----

/**
 * What the made-up challenge parameters of unknown principals are derived
 * from when no secret is configured (AuthDeps.secret): random per process,
 * so they stay the same for an authid until a restart.
 */
export const PROCESS_SECRET: Buffer = randomBytes(32);

/** `length` bytes determined by `secret`, `purpose` and `authid`: stable per authid, unpredictable without the secret. */
export function mockBytes(secret: Uint8Array, purpose: string, authid: string, length = 32): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < length; i++) {
    blocks.push(createHmac('sha256', secret).update(`${purpose}\0${i}\0${authid}`).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/**
 * Constant-time equality of two secrets of any length: both are hashed to
 * SHA-256 first, so timingSafeEqual always compares equal-length digests and
 * the time taken tells nothing about where (or whether the lengths) differ.
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  return crypto.timingSafeEqual(sha256(a), sha256(b));
}

export function sha256(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

export function xor(a: Uint8Array, b: Uint8Array): Buffer {
  if (a.length !== b.length) throw new Error('xor of unequal lengths');
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Hex text to bytes, or undefined if it is not hex (of `bytes` bytes, if given). */
export function fromHex(text: unknown, bytes?: number): Buffer | undefined {
  if (typeof text !== 'string' || !HEX.test(text)) return undefined;
  if (bytes !== undefined && text.length !== bytes * 2) return undefined;
  return Buffer.from(text, 'hex');
}

/** Canonical (padded, standard alphabet) base64 to bytes, or undefined. */
export function fromBase64(text: unknown): Buffer | undefined {
  if (typeof text !== 'string' || !BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

export function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- TLS channel binding ----

export const CHANNEL_BINDINGS = ['tls-unique'] as const;

/** The transport's channel id for `type`, if it has one (32 bytes). */
export function channelIdOf(transport: TransportInfo, type: string): Buffer | undefined {
  const id = transport.channelId?.[type];
  return id && id.length === 32 ? Buffer.from(id) : undefined;
}

/**
 * HELLO.authextra.channel_binding checked against what the transport can do:
 * the binding type (null for none), or a denial.
 */
export function requestedChannelBinding(
  method: string,
  authextra: Dict,
  transport: TransportInfo,
): { type: null; id: undefined } | { type: string; id: Buffer } | AuthStep {
  const requested = authextra.channel_binding;
  if (requested === undefined || requested === null) return { type: null, id: undefined };
  if (typeof requested !== 'string' || !(CHANNEL_BINDINGS as readonly string[]).includes(requested)) {
    return denyNotAuthorized(`${method}: unsupported channel binding type ${JSON.stringify(requested)} (supported: tls-unique)`);
  }
  const id = channelIdOf(transport, requested);
  if (!id) {
    return denyNotAuthorized(
      `${method}: channel binding "${requested}" requested, but this transport has no TLS channel id (not a TLS connection?)`,
    );
  }
  return { type: requested, id };
}

export function isStep(value: unknown): value is AuthStep {
  return isDict(value) && (value.kind === 'deny' || value.kind === 'welcome' || value.kind === 'challenge');
}

/**
 * The transport as a dynamic authenticator sees it (Crossbar's
 * `details.transport`): the TransportInfo fields, JSON-safe, with binary
 * values as hex and Crossbar's `channel_id` spelling.
 */
export function transportDetails(transport: TransportInfo): Dict {
  const out: Dict = {};
  for (const [key, value] of Object.entries(transport)) {
    if (key === 'channelId') {
      const ids: Dict = {};
      for (const [type, id] of Object.entries((value ?? {}) as Record<string, Uint8Array | undefined>)) {
        if (id) ids[type] = Buffer.from(id).toString('hex');
      }
      out.channel_id = ids;
    } else if (value instanceof Uint8Array) {
      out[key] = Buffer.from(value).toString('hex');
    } else if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
      out[key] = value;
    } else if (isDict(value) || Array.isArray(value)) {
      try {
        out[key] = JSON.parse(JSON.stringify(value));
      } catch {
        // not JSON-safe: left out
      }
    }
  }
  return out;
}

export function welcome(principal: Principal): AuthStep {
  return { kind: 'welcome', principal };
}

// ---- config ----

/** A transport `auth` configuration that cannot be used; the message names the path. */
export class AuthConfigError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'AuthConfigError';
  }
}

/** A Principal with optional realm (moves the session) and extra (WELCOME.Details.authextra). */
export function makePrincipal(
  authid: string,
  authrole: string,
  authprovider: string,
  options: { realm?: string; extra?: Dict } = {},
): Principal {
  return {
    authid,
    authrole,
    authprovider,
    ...(options.extra && { authextra: { ...options.extra } }),
    ...(options.realm && { realm: options.realm }),
  };
}
