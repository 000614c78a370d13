/**
 * How the router authenticates a session (WAMP: advanced/authentication).
 * Methods (anonymous, ticket, wampcra, cryptosign, scram, dynamic) live in
 * src/auth and implement `Authenticator`; the router runs the message flow:
 * HELLO -> [CHALLENGE -> AUTHENTICATE]* -> WELCOME or ABORT.
 */
import { randomBytes } from 'node:crypto';
import type { Dict } from '../wamp/messages.ts';
import type { TransportInfo } from './peer.ts';

/** Who a session is, once authenticated. */
export interface Principal {
  authid: string;
  authrole: string;
  /** e.g. "static", "dynamic" (Crossbar's names). */
  authprovider: string;
  /** Sent to the client as WELCOME.Details.authextra. */
  authextra?: Dict;
  /** An authenticator may move the session to another realm (as Crossbar allows). */
  realm?: string;
}

export interface AuthRequest {
  realm: string;
  /** HELLO.Details.authid, if the client sent one. */
  authid: string | undefined;
  /** HELLO.Details.authrole, the role the client asks for (Crossbar mostly ignores it). */
  authrole?: string;
  /** HELLO.Details.authextra (method specific), or {}. */
  authextra: Dict;
  /** The session ID the session will have when welcomed (wampcra signs it). */
  session: number;
  transport: TransportInfo;
}

/** What an authentication step comes to. */
export type AuthStep =
  | { kind: 'welcome'; principal: Principal }
  | {
      kind: 'challenge';
      extra: Dict;
      /** Checks the client's AUTHENTICATE (signature, extra). */
      verify(signature: string, extra: Dict): AuthStep | Promise<AuthStep>;
    }
  | { kind: 'deny'; reason: string; message: string };

export interface Authenticator {
  /** The HELLO.Details.authmethods value this answers to, e.g. "ticket". */
  readonly method: string;
  start(request: AuthRequest): AuthStep | Promise<AuthStep>;
}

/** The authentication a transport offers: its methods by name. No map means anonymous only. */
export type TransportAuth = ReadonlyMap<string, Authenticator>;

export function deny(reason: string, message: string): AuthStep {
  return { kind: 'deny', reason, message };
}

/** Crossbar-like generated authid for anonymous sessions, e.g. "K3QF-7XRM-YC9P-2JWA". */
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

/**
 * Anonymous access with role `role`. Like Crossbar, the authid is generated:
 * one the client asks for is not trusted.
 */
export function anonymousAuthenticator(role = 'anonymous'): Authenticator {
  return {
    method: 'anonymous',
    start: () => ({ kind: 'welcome', principal: { authid: generatedAuthid(), authrole: role, authprovider: 'static' } }),
  };
}

/** What a transport without authentication configuration offers. */
export const ANONYMOUS_ONLY: TransportAuth = new Map([['anonymous', anonymousAuthenticator()]]);
