/** Shared pieces of the authentication unit tests. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mock } from 'node:test';
import type { AuthRequest, AuthStep, Principal } from '../../src/core/authentication.ts';
import type { CallResult } from '../../src/core/internal-caller.ts';
import { WampError } from '../../src/wamp/wamp-error.ts';
import type { TransportInfo } from '../../src/core/peer.ts';
import type { Dict } from '../../src/wamp/messages.ts';

export const TRANSPORT: TransportInfo = { type: 'websocket', serializer: 'json', peer: 'tcp:127.0.0.1:40000' };

export function request(overrides: Partial<AuthRequest> = {}): AuthRequest {
  return { realm: 'realm1', authid: undefined, authextra: {}, session: 4242, transport: TRANSPORT, ...overrides };
}

export type Challenge = Extract<AuthStep, { kind: 'challenge' }>;

export async function expectChallenge(step: AuthStep | Promise<AuthStep>): Promise<Challenge> {
  const s = await step;
  assert.equal(s.kind, 'challenge', `expected a challenge, got ${JSON.stringify(s)}`);
  return s as Challenge;
}

export async function expectWelcome(step: AuthStep | Promise<AuthStep>): Promise<Principal> {
  const s = await step;
  assert.equal(s.kind, 'welcome', `expected a welcome, got ${JSON.stringify(s)}`);
  return (s as Extract<AuthStep, { kind: 'welcome' }>).principal;
}

export async function expectDeny(step: AuthStep | Promise<AuthStep>, reason: string, message?: RegExp): Promise<string> {
  const s = await step;
  assert.equal(s.kind, 'deny', `expected a denial, got ${JSON.stringify(s)}`);
  const d = s as Extract<AuthStep, { kind: 'deny' }>;
  assert.equal(d.reason, reason, `denial reason (message: ${d.message})`);
  if (message) assert.match(d.message, message);
  return d.message;
}

export interface FakeCall {
  realm: string;
  procedure: string;
  args: unknown[];
}

/** An InternalCaller stand-in: `answer` gives the authenticator's result (or throws a WampError). */
export function fakeCaller(answer: (call: FakeCall) => unknown | Promise<unknown>): {
  call: (realm: string, procedure: string, args?: unknown[], kwargs?: Dict) => Promise<CallResult>;
  calls: FakeCall[];
} {
  const calls: FakeCall[] = [];
  return {
    calls,
    async call(realm, procedure, args = []) {
      const c = { realm, procedure, args };
      calls.push(c);
      return { args: [await answer(c)], kwargs: {} };
    },
  };
}

export function applicationError(uri: string, message?: string): WampError {
  return new WampError(uri, message === undefined ? [] : [message], {});
}

/**
 * Watches crypto.timingSafeEqual (src/auth calls it through the module
 * object): returns the lengths of the buffers of each call; restore after.
 */
export function watchTimingSafeEqual(): { lengths: Array<[number, number]>; restore: () => void } {
  const lengths: Array<[number, number]> = [];
  const original = crypto.timingSafeEqual;
  const m = mock.method(crypto, 'timingSafeEqual', (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    lengths.push([a.byteLength, b.byteLength]);
    return original(a, b);
  });
  return { lengths, restore: () => m.mock.restore() };
}

export const NOT_AUTHORIZED = 'wamp.error.not_authorized';
export const AUTHENTICATION_FAILED = 'wamp.error.authentication_failed';
