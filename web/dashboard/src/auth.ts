/**
 * Answers to a router's CHALLENGE. Ticket: the secret itself. WAMP-CRA:
 * base64(HMAC-SHA256(key, challenge)), the key being the secret, or for a
 * salted user the base64 text of PBKDF2-HMAC-SHA256(secret, salt,
 * iterations, keylen), as Autobahn derives it. WebCrypto does the hashing
 * where the page has it (secure contexts: https, or http on localhost);
 * elsewhere (plain http on a LAN) sha256.ts does.
 */
import { hmacSha256, pbkdf2Sha256 } from './sha256.ts';

/** The most PBKDF2 iterations the page runs for a router (Kreuz allows no more): a router cannot freeze the tab. */
const MAX_ITERATIONS = 10_000_000;
const MAX_KEYLEN = 1024;

type Dict = Record<string, unknown>;

export async function signChallenge(credentials: { method: string; secret: string }, extra: Dict): Promise<string> {
  if (credentials.method === 'ticket') return credentials.secret;
  if (credentials.method !== 'wampcra') throw new Error(`unsupported authentication method "${credentials.method}"`);
  const challenge = extra.challenge;
  if (typeof challenge !== 'string') throw new Error('the WAMP-CRA challenge has no challenge string');
  let key = credentials.secret;
  if (typeof extra.salt === 'string') {
    const iterations = extra.iterations ?? 1000;
    const keylen = extra.keylen ?? 32;
    if (!isCount(iterations, MAX_ITERATIONS) || !isCount(keylen, MAX_KEYLEN)) throw new Error('the WAMP-CRA challenge has bad salting');
    key = await deriveKey(credentials.secret, extra.salt, iterations, keylen);
  }
  return hmacSha256Base64(key, challenge);
}

function isCount(v: unknown, max: number): v is number {
  return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

const subtle = (): SubtleCrypto | undefined => globalThis.crypto?.subtle;

export async function deriveKey(secret: string, salt: string, iterations: number, keylen: number): Promise<string> {
  if (!subtle()) return base64(pbkdf2Sha256(utf8(secret), utf8(salt), iterations, keylen));
  const material = await crypto.subtle.importKey('raw', utf8(secret), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: utf8(salt), iterations }, material, keylen * 8);
  return base64(new Uint8Array(bits));
}

export async function hmacSha256Base64(key: string, message: string): Promise<string> {
  if (!subtle()) return base64(hmacSha256(utf8(key), utf8(message)));
  const k = await crypto.subtle.importKey('raw', utf8(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return base64(new Uint8Array(await crypto.subtle.sign('HMAC', k, utf8(message))));
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}
