/**
 * Issue 11, class (c): CBOR that is not WAMP's plain data and costs the
 * decoder dearly: a 256 KB bignum (tag 2/3: converting it naively takes
 * quadratic time and froze the router), and cbor-x's packed values (tag 51
 * with tag 6 / simple-value references: a CALL whose procedure is a
 * reference, and a "billion laughs" table whose few hundred bytes stand for
 * 2^40 leaves), and value sharing (tags 28/29: a cycle). In a payload,
 * bignums of up to 1785 bytes (4300 digits) are data since the payload
 * fidelity issue, read in linear time. The others must get ABORT
 * wamp.error.protocol_violation with a Details.message and a close; the test
 * checks that the answer arrives (within the harness's generous deadline,
 * no timing assertion) and that the bystander's call in flight,
 * registration and subscription are unharmed. One connection per case.
 */
import { describe, it } from 'node:test';
import type { EndpointName } from '../helpers/router-process.ts';
import { ROLES } from '../helpers/wamp-wire-client.ts';
import { cborBignum, packedCall, packedCallByTag6, packedLaughs, sharedCycle } from '../fuzz/dictionaries.ts';
import { assertNoFailures, runGroup, useRouterSession, type Case } from '../fuzz/harness.ts';
import { PROTOCOL_VIOLATION, type SessionState } from '../fuzz/oracle.ts';
import { Tag, type Node } from '../fuzz/wire-model.ts';

const { session, guarded } = useRouterSession();

const KB256 = 256 * 1024;
const endpoints: EndpointName[] = ['ws', 'rs', 'universal-rs'];

function cases(messages: Array<[SessionState, Node]>): Case[] {
  return endpoints.flatMap((endpoint) =>
    messages.map(([state, m]): Case => ({ endpoint, serializer: 'cbor', state, messages: [m], expect: { abort: PROTOCOL_VIOLATION } })),
  );
}

describe('issue 11 (c): CBOR bignums and packing -> ABORT protocol_violation', () => {
  it(
    'a 256 KB bignum (tag 2, and tag 3 negative) as a CALL argument, a kwargs value and the request ID',
    guarded(async () => {
      const list = cases([
        ['joined', [48, 1, {}, 'com.bystander.echo', [cborBignum(KB256)]]],
        ['joined', [48, 1, {}, 'com.bystander.echo', [], { n: cborBignum(KB256, true) }]],
        ['joined', [48, cborBignum(KB256), {}, 'com.bystander.echo']],
      ]);
      // One at a time: each is a quarter megabyte, and a router that converts them naively is busy for long.
      assertNoFailures(await runGroup(session, list, 1), list.length);
    }),
  );

  it(
    'a 256 KB bignum before HELLO and as a HELLO detail',
    guarded(async () => {
      const list = cases([
        ['before-hello', [48, 1, {}, 'com.bystander.echo', [cborBignum(KB256)]]],
        ['before-hello', [1, 'realm1', { roles: ROLES, authextra: { n: cborBignum(KB256) } }]],
      ]);
      assertNoFailures(await runGroup(session, list, 1), list.length);
    }),
  );

  it(
    'small bignums too (9 bytes, 2^64 exactly) outside a payload: the envelope is no place for them',
    guarded(async () => {
      const list = cases([
        ['joined', [48, 2n ** 64n, {}, 'com.bystander.echo', []]],
        ['joined', [48, 1, { timeout: -(2n ** 64n) - 1n }, 'com.bystander.echo']],
        ['joined', [32, 1, {}, new Tag(2n, new Uint8Array([1]))]],
        ['before-hello', [1, 'realm1', { roles: ROLES, authextra: { n: 2n ** 64n } }]],
      ]);
      assertNoFailures(await runGroup(session, list), list.length);
    }),
  );

  it(
    'in a payload, bignums of up to 1785 bytes are data (the oracle expects no ABORT); one byte more is refused',
    guarded(async () => {
      const oracle = (messages: Array<[SessionState, Node]>): Case[] => cases(messages).map((c) => ({ ...c, expect: { oracle: true } }));
      const list = [
        ...oracle([
          ['joined', [48, 1, {}, 'com.bystander.echo', [2n ** 64n, -(2n ** 64n) - 1n]]],
          ['joined', [16, 1, {}, 'com.bystander.news', [], { n: new Tag(2n, new Uint8Array(1785).fill(0xff)) }]],
        ]),
        ...cases([['joined', [48, 1, {}, 'com.bystander.echo', [new Tag(3n, new Uint8Array(1786).fill(1))]]]]),
      ];
      assertNoFailures(await runGroup(session, list), list.length);
    }),
  );

  it(
    'a tag-51 packed CALL (procedure as a simple-value reference, and as a tag-6 reference)',
    guarded(async () => {
      const list = cases([
        ['joined', packedCall()],
        ['joined', packedCallByTag6()],
        ['before-hello', packedCall()],
      ]);
      assertNoFailures(await runGroup(session, list), list.length);
    }),
  );

  it(
    'a billion-laughs packed table (40 levels, each referring twice to the one before) in a CALL and in a PUBLISH to subscribers',
    guarded(async () => {
      const list = cases([
        ['joined', packedLaughs(40, (ref) => [48, 1, {}, 'com.bystander.echo', [ref]])],
        ['joined', packedLaughs(40, (ref) => [16, 1, {}, 'com.bystander.news', [ref]])],
        ['joined', [48, 1, {}, 'com.bystander.echo', [new Tag(6n, 0)]]],
      ]);
      assertNoFailures(await runGroup(session, list), list.length);
    }),
  );

  it(
    'value sharing: tag 28/29, an array that contains itself',
    guarded(async () => {
      const list = cases([
        ['joined', [48, 1, {}, 'com.bystander.echo', [sharedCycle()]]],
        ['joined', [16, 1, { acknowledge: true }, 'com.bystander.news', [], { loop: sharedCycle() }]],
      ]);
      assertNoFailures(await runGroup(session, list), list.length);
    }),
  );

  it(
    'after all of it: heap within bounds, no hostile session left',
    guarded(async () => {
      await session.guard.checkBatch();
    }),
  );
});
