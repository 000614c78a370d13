/**
 * Issue 11, class (b): depth bombs. A message nested deeper than the decode
 * limit (64, the message array counting as 1) is a protocol violation:
 * ABORT wamp.error.protocol_violation with a Details.message, then the
 * connection closes, whatever the serializer, the listener and where the
 * bomb sits (args, kwargs, options, HELLO details, the message itself).
 * 65 is one past the limit; 100,000 would overflow the stack of any
 * recursive decoder or walk. 63 and 64 are within it and get normal answers.
 * One connection per case; after each group the router is alive and a
 * bystander's call in flight, registration and subscription are unharmed.
 */
import { describe, it } from 'node:test';
import type { EndpointName } from '../helpers/router-process.ts';
import { ROLES } from '../helpers/wamp-wire-client.ts';
import { bomb } from '../fuzz/dictionaries.ts';
import { assertNoFailures, runGroup, useRouterSession, type Case, type Expectation } from '../fuzz/harness.ts';
import { MAX_DEPTH, PROTOCOL_VIOLATION } from '../fuzz/oracle.ts';
import { Nest, describe as describeNode, ownKeys, type Node } from '../fuzz/wire-model.ts';

const { session, guarded } = useRouterSession();

type Kind = 'array' | 'dict' | 'mixed';

/** Where a bomb sits, as a message nested exactly `depth` deep (checked against the model below). */
const PLACES: Array<[string, (depth: number, kind: Kind) => Node]> = [
  ['CALL args', (d, k) => [48, 1, {}, 'com.bystander.echo', bomb(d, k)]],
  ['CALL kwargs', (d, k) => [48, 1, {}, 'com.bystander.echo', [], bomb(d, k === 'array' ? 'mixed' : k)]],
  ['PUBLISH options', (d, k) => [16, 1, bomb(d, k === 'array' ? 'mixed' : k), 'com.bystander.news']],
  ['YIELD args', (d, k) => [70, 1, {}, bomb(d, k)]],
  ['the message itself', (d, k) => new Nest(d, k === 'dict' ? 'mixed' : k)],
];

const HELLO_BOMB = (d: number): Node => [
  1,
  'realm1',
  ownKeys([
    ['roles', ROLES],
    ['authextra', bomb(d - 1, 'dict')],
  ]),
];

for (const [place, build] of PLACES) {
  for (const d of [63, 64, 65, 1000, 100_000]) {
    const depth = describeNode(build(d, 'mixed'), 'json').depth;
    if (depth !== d) throw new Error(`the ${place} bomb of ${d} is ${depth} deep`);
  }
}

const pv: Expectation = { abort: PROTOCOL_VIOLATION };
const serializers = ['json', 'msgpack', 'cbor'] as const;
const endpoints: EndpointName[] = ['ws', 'rs'];

for (const serializer of serializers) {
  describe(`issue 11 (b): depth bombs over ${serializer}`, () => {
    for (const endpoint of endpoints) {
      it(
        `${endpoint}: nested 65 deep (arrays, dicts, both) in args, kwargs, options, YIELD or as the message -> ABORT protocol_violation`,
        guarded(async () => {
          const cases: Case[] = PLACES.flatMap(([, build]) =>
            (['array', 'dict', 'mixed'] as const).map(
              (kind): Case => ({ endpoint, serializer, state: 'joined', messages: [build(MAX_DEPTH + 1, kind)], expect: pv }),
            ),
          );
          cases.push({ endpoint, serializer, state: 'before-hello', messages: [HELLO_BOMB(MAX_DEPTH + 1)], expect: pv });
          assertNoFailures(await runGroup(session, cases, 8), cases.length);
        }),
      );

      it(
        `${endpoint}: nested 1000 and 100,000 deep -> ABORT protocol_violation, no stack overflow`,
        guarded(async () => {
          const cases: Case[] = [
            ...[1000, 100_000].flatMap((d) => [
              { endpoint, serializer, state: 'joined' as const, messages: [PLACES[0][1](d, 'array')], expect: pv },
              { endpoint, serializer, state: 'joined' as const, messages: [PLACES[1][1](d, 'dict')], expect: pv },
              { endpoint, serializer, state: 'joined' as const, messages: [PLACES[4][1](d, 'mixed')], expect: pv },
            ]),
            { endpoint, serializer, state: 'before-hello', messages: [HELLO_BOMB(100_000)], expect: pv },
          ];
          assertNoFailures(await runGroup(session, cases, 4), cases.length);
        }),
      );

      it(
        `${endpoint}: nested 63 and 64 deep (the limit) -> the normal answer`,
        guarded(async () => {
          const result = (request: number): Expectation => ({
            replies: [['RESULT from the bystander echo', (m) => (m[0] === 50 && m[1] === request ? undefined : 'another message')]],
          });
          const cases: Case[] = [MAX_DEPTH - 1, MAX_DEPTH].flatMap((d) => [
            { endpoint, serializer, state: 'joined' as const, messages: [PLACES[0][1](d, 'array')], expect: result(1) },
            { endpoint, serializer, state: 'joined' as const, messages: [PLACES[1][1](d, 'dict')], expect: result(1) },
            {
              endpoint,
              serializer,
              state: 'joined' as const,
              messages: [
                [
                  16,
                  7,
                  ownKeys([
                    ['acknowledge', true],
                    ['x', new Nest(d - 2, 'mixed')],
                  ]),
                  'com.bystander.news',
                ],
              ],
              expect: { replies: [['PUBLISHED', (m) => (m[0] === 17 && m[1] === 7 ? undefined : 'another message')]] } as Expectation,
            },
          ]);
          assertNoFailures(await runGroup(session, cases, 8), cases.length);
        }),
      );
    }
  });
}

it(
  'after all of it: heap within bounds, no hostile session left',
  guarded(async () => {
    await session.guard.checkBatch();
  }),
);
