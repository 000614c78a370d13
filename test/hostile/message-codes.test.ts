/**
 * Issue 11: every message type code, 0..300 and past the integer edges, in
 * every session state (before HELLO, authenticating with a pending ticket
 * CHALLENGE, joined, after GOODBYE), judged by the oracle (test/fuzz/oracle.ts):
 * a code no client may send, or one the state does not allow, or the wrong
 * shape, is ABORT wamp.error.protocol_violation and a close; the rest get
 * an answer. Serializers and listeners (TLS aside) take turns by code. One connection
 * per case; after each group the router is alive and the bystanders are
 * unharmed.
 */
import { describe, it } from 'node:test';
import type { SerializerName } from '../../src/serializers/index.ts';
import { ENDPOINT_NAMES } from '../helpers/router-process.ts';
import { MESSAGE_CODES } from '../fuzz/dictionaries.ts';
import { assertNoFailures, runGroup, useRouterSession, type Case } from '../fuzz/harness.ts';
import { CLIENT_CODES, SESSION_STATES } from '../fuzz/oracle.ts';
import type { Node } from '../fuzz/wire-model.ts';

const { session, guarded } = useRouterSession();

const SERIALIZERS: SerializerName[] = ['json', 'msgpack', 'cbor'];
/** Every listener but the TLS ones (their handshakes cost the most; the fuzzer and class (a) cover TLS). */
const ENDPOINTS = ENDPOINT_NAMES.filter((name) => name !== 'wss' && name !== 'rss');

describe('issue 11: every message type code in every session state', () => {
  for (const state of SESSION_STATES) {
    it(
      `${state}: [code, 1, {}, "com.hostile.x"] for ${MESSAGE_CODES.length} codes${state === 'joined' ? ', and [code] alone for client codes' : ''}`,
      guarded(async () => {
        const cases: Case[] = MESSAGE_CODES.flatMap((code, i): Case[] => {
          const at = (message: Node, k: number): Case => ({
            endpoint: ENDPOINTS[(i + k) % ENDPOINTS.length],
            serializer: SERIALIZERS[(i + k) % SERIALIZERS.length],
            state,
            messages: [message],
            expect: { oracle: true },
          });
          // [code] alone is too short for every message: worth a case for the codes a client may send.
          const alone = state === 'joined' && typeof code === 'number' && CLIENT_CODES.has(code);
          return [at([code, 1, {}, 'com.hostile.x'], 0), ...(alone ? [at([code], 1)] : [])];
        });
        assertNoFailures(await runGroup(session, cases), cases.length);
      }),
    );
  }

  it(
    'after all of it: heap within bounds, no hostile session left',
    guarded(async () => {
      await session.guard.checkBatch();
    }),
  );
});
