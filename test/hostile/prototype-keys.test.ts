/**
 * Issue 11, class (a): Object.prototype member names where the router looks
 * keys up. The attack that killed the router: one WebSocket message before
 * HELLO, `[48,1,{"valueOf":1},"x"]` (TypeError in the option check). Here
 * every prototype name is an option/detail key of every message type that
 * has options, in every session state (over JSON; before HELLO and joined
 * over msgpack and CBOR, whose decoders differ but not the state logic
 * after them); and a HELLO's
 * realm, authmethods, authid, authrole, roles and features, URIs, kwargs
 * keys and match/invoke values. One connection per case; after each group of
 * cases the router is alive and a bystander's call in flight, registration
 * and subscription are unharmed (harness.ts).
 *
 * Expected answers are the spec's: unknown option keys are ignored, so a
 * message that is otherwise fine gets its normal answer; before HELLO (and
 * after GOODBYE) only HELLO and ABORT are allowed, while a CHALLENGE is
 * pending only AUTHENTICATE and ABORT, once joined no HELLO or AUTHENTICATE:
 * anything else is ABORT wamp.error.protocol_violation and a close.
 */
import { describe, it } from 'node:test';
import type { SerializerName } from '../../src/serializers/index.ts';
import { TICKET, ENDPOINT_NAMES, type EndpointName } from '../helpers/router-process.ts';
import { ROLES } from '../helpers/wamp-wire-client.ts';
import { PROTOTYPE_NAMES } from '../fuzz/dictionaries.ts';
import {
  assertNoFailures,
  describeExpectation,
  runGroup,
  useRouterSession,
  type Case,
  type Expectation,
  type Reply,
} from '../fuzz/harness.ts';
import { PROTOCOL_VIOLATION, SESSION_STATES, type SessionState } from '../fuzz/oracle.ts';
import { Raw, ownKeys, type Node } from '../fuzz/wire-model.ts';

const { session, guarded } = useRouterSession();

/** Each serializer over a different listener type. */
const OVER: Record<SerializerName, EndpointName> = { json: 'ws', msgpack: 'rs', cbor: 'universal-ws' };

const isDict = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const reply = (name: string, code: number, request?: number): Reply => [
  name,
  (m) =>
    m[0] !== code ? `code ${m[0]}, not ${code}` : request !== undefined && m[1] !== request ? `request ${m[1]}, not ${request}` : undefined,
];
const welcome = (authrole: string): Reply => [
  `WELCOME as "${authrole}"`,
  (m) =>
    m[0] !== 2
      ? 'not a WELCOME'
      : isDict(m[2]) && m[2].authrole === authrole
        ? undefined
        : `authrole ${JSON.stringify(isDict(m[2]) ? m[2].authrole : m[2])}`,
];
const errorReply = (type: number, request: number, uri: string): Reply => [
  `ERROR ${uri}`,
  (m) => (m[0] === 8 && m[1] === type && m[2] === request && m[4] === uri ? undefined : 'another message'),
];
const abortWith = (reason: string): Expectation => ({ abort: reason });
const replies = (...r: Reply[]): Expectation => ({ replies: r });

let serial = 0;

/**
 * The message types that carry an Options/Details/Extra dict, with `key` in
 * it, and what each state must answer.
 */
function optionCases(key: string, value: Node, state: SessionState): Array<[type: string, message: Node, expect: Expectation]> {
  const opts = (extra: Array<[string, Node]> = []) => ownKeys([...extra, [key, value]]);
  const opening = state === 'before-hello' || state === 'after-goodbye';
  const joined = state === 'joined';
  const pv = abortWith(PROTOCOL_VIOLATION);
  const n = ++serial;
  return [
    ['HELLO', [1, 'realm1', opts([['roles', ROLES]])], opening ? replies(welcome('anonymous')) : pv],
    ['ABORT', [3, opts(), 'wamp.close.normal'], { closes: true }],
    ['AUTHENTICATE', [5, TICKET, opts()], state === 'authenticating' ? replies(welcome('user')) : pv],
    [
      'GOODBYE',
      [6, opts(), 'wamp.close.close_realm'],
      joined
        ? replies(['GOODBYE goodbye_and_out', (m) => (m[0] === 6 && m[2] === 'wamp.close.goodbye_and_out' ? undefined : 'another message')])
        : pv,
    ],
    ['ERROR', [8, 68, 1, opts(), 'com.hostile.error'], joined ? { silent: true } : pv],
    ['PUBLISH', [16, 1, opts([['acknowledge', true]]), 'com.hostile.topic'], joined ? replies(reply('PUBLISHED', 17, 1)) : pv],
    ['SUBSCRIBE', [32, 1, opts(), 'com.hostile.topic'], joined ? replies(reply('SUBSCRIBED', 33, 1)) : pv],
    ['CALL', [48, 1, opts(), 'com.hostile.nobody'], joined ? replies(errorReply(48, 1, 'wamp.error.no_such_procedure')) : pv],
    ['CANCEL', [49, 1, opts()], joined ? { silent: true } : pv],
    ['REGISTER', [64, 1, opts(), `com.hostile.proc${n}`], joined ? replies(reply('REGISTERED', 65, 1)) : pv],
    ['YIELD', [70, 1, opts()], joined ? { silent: true } : pv],
  ];
}

const TYPES = optionCases('x', 1, 'joined').map(([type]) => type);

describe('issue 11 (a): the attack as sent, before HELLO', () => {
  for (const endpoint of ENDPOINT_NAMES) {
    it(
      `[48,1,{"valueOf":1},"x"] as raw JSON on ${endpoint}: ABORT protocol_violation, closed; router alive, bystander unharmed`,
      guarded(async () => {
        const attack = new Raw(
          '[48,1,{"valueOf":1},"x"]',
          { json: Buffer.from('[48,1,{"valueOf":1},"x"]') },
          { json: { is: [48, 1, ownKeys([['valueOf', 1]]), 'x'] } },
        );
        const cases: Case[] = [
          { endpoint, serializer: 'json', state: 'before-hello', messages: [attack], expect: abortWith(PROTOCOL_VIOLATION) },
        ];
        assertNoFailures(await runGroup(session, cases), cases.length);
      }),
    );
  }
});

for (const serializer of ['json', 'msgpack', 'cbor'] as const) {
  describe(`issue 11 (a): prototype names as option keys over ${serializer} (${OVER[serializer]})`, () => {
    // Every state over JSON; before HELLO and joined over the binary serializers (the state logic after decoding is the same).
    for (const state of serializer === 'json' ? SESSION_STATES : (['before-hello', 'joined'] as const)) {
      for (const type of TYPES) {
        const answer = describeExpectation(optionCases('x', 1, state).find(([t]) => t === type)![2]);
        it(
          `${state}: ${type} with each of ${PROTOTYPE_NAMES.length} prototype names as a key -> ${answer}`,
          guarded(async () => {
            const cases: Case[] = PROTOTYPE_NAMES.map((name) => {
              const [, message, expect] = optionCases(name, 1, state).find(([t]) => t === type)!;
              return { endpoint: OVER[serializer], serializer, state, messages: [message], expect };
            });
            assertNoFailures(await runGroup(session, cases), cases.length);
          }),
        );
      }
    }

    it(
      'joined: "__proto__" holding known options changes nothing (own key, not a prototype)',
      guarded(async () => {
        const poison = (o: Record<string, Node>) => ownKeys([['__proto__', o]]);
        const cases: Case[] = [
          // Without acknowledge of its own, a PUBLISH gets no PUBLISHED.
          {
            endpoint: OVER[serializer],
            serializer,
            state: 'joined',
            messages: [[16, 1, poison({ acknowledge: true }), 'com.hostile.topic']],
            expect: { silent: true },
          },
          {
            endpoint: OVER[serializer],
            serializer,
            state: 'joined',
            messages: [[48, 1, poison({ timeout: -1, receive_progress: 'x' }), 'com.hostile.nobody']],
            expect: replies(errorReply(48, 1, 'wamp.error.no_such_procedure')),
          },
          {
            endpoint: OVER[serializer],
            serializer,
            state: 'joined',
            messages: [[64, 1, poison({ invoke: 'nonsense', match: 'nonsense' }), `com.hostile.proc${++serial}`]],
            expect: replies(reply('REGISTERED', 65, 1)),
          },
          {
            endpoint: OVER[serializer],
            serializer,
            state: 'joined',
            messages: [[32, 1, poison({ match: 'nonsense' }), 'com.hostile.topic']],
            expect: replies(reply('SUBSCRIBED', 33, 1)),
          },
          {
            endpoint: OVER[serializer],
            serializer,
            state: 'before-hello',
            messages: [
              [
                1,
                'realm1',
                ownKeys([
                  ['roles', ROLES],
                  ['__proto__', { authrole: 'trusted', authmethods: 42 }],
                ]),
              ],
            ],
            expect: replies(welcome('anonymous')),
          },
        ];
        assertNoFailures(await runGroup(session, cases), cases.length);
      }),
    );

    it(
      'before HELLO: prototype names as realm, authmethods, authid, authrole, role and feature names',
      guarded(async () => {
        const endpoint = OVER[serializer];
        const cases: Case[] = PROTOTYPE_NAMES.flatMap((name): Case[] => {
          const hello = (realm: Node, details: Array<[string, Node]>): Node => [1, realm, ownKeys([['roles', ROLES], ...details])];
          const at = (messages: Node[], expect: Expectation): Case => ({ endpoint, serializer, state: 'before-hello', messages, expect });
          return [
            at([hello(name, [])], abortWith('wamp.error.no_such_realm')),
            at([hello('realm1', [['authmethods', [name]]])], abortWith('wamp.error.no_auth_method')),
            at([hello('realm1', [['authmethods', [name, 'anonymous']]])], replies(welcome('anonymous'))),
            // An unknown authid is challenged like a known one.
            at(
              [
                hello('realm1', [
                  ['authmethods', ['ticket']],
                  ['authid', name],
                ]),
              ],
              replies(['CHALLENGE ticket', (m) => (m[0] === 4 && m[1] === 'ticket' ? undefined : 'not a CHALLENGE')]),
            ),
            // A requested authrole is not granted: anonymous stays anonymous, on the open and on the locked realm.
            at(
              [
                hello('realm1', [
                  ['authrole', name],
                  ['authid', name],
                ]),
              ],
              replies(welcome('anonymous')),
            ),
            at(
              [hello('locked', [['authrole', name]]), [64, 1, {}, 'com.locked.proc'], [16, 2, { acknowledge: true }, 'com.locked.news']],
              replies(welcome('anonymous'), errorReply(64, 1, 'wamp.error.not_authorized'), errorReply(16, 2, 'wamp.error.not_authorized')),
            ),
            at(
              [
                [
                  1,
                  'realm1',
                  {
                    roles: ownKeys([
                      ['caller', {}],
                      [name, {}],
                    ]),
                  },
                ],
              ],
              replies(welcome('anonymous')),
            ),
            at([[1, 'realm1', { roles: { caller: { features: ownKeys([[name, true]]) } } }]], replies(welcome('anonymous'))),
            at(
              [
                hello('realm1', [
                  ['authmethods', ['ticket']],
                  ['authid', 'joe'],
                  ['authextra', ownKeys([[name, 1]])],
                ]),
              ],
              replies(['CHALLENGE ticket', (m) => (m[0] === 4 ? undefined : 'not a CHALLENGE')]),
            ),
          ];
        });
        assertNoFailures(await runGroup(session, cases), cases.length);
      }),
    );

    it(
      'joined: prototype names as URIs, URI components and kwargs keys get normal answers',
      guarded(async () => {
        const endpoint = OVER[serializer];
        const at = (messages: Node[], expect: Expectation): Case => ({ endpoint, serializer, state: 'joined', messages, expect });
        // Calls and publications first, registrations and subscriptions then: a call must not meet a registration of the same name.
        const calls: Case[] = PROTOTYPE_NAMES.flatMap((name): Case[] => [
          at([[48, 1, {}, name]], replies(errorReply(48, 1, 'wamp.error.no_such_procedure'))),
          at([[48, 1, {}, `com.${name}.${name}`]], replies(errorReply(48, 1, 'wamp.error.no_such_procedure'))),
          at([[16, 1, { acknowledge: true }, name, [], ownKeys([[name, 1]])]], replies(reply('PUBLISHED', 17, 1))),
          // The bystander echoes: kwargs with a prototype name as key come back as they went.
          at(
            [[48, 1, {}, 'com.bystander.echo', [], ownKeys([[name, 1]])]],
            replies([
              `RESULT with kwargs {"${name}": 1}`,
              (m) => (m[0] === 50 && isDict(m[4]) && Object.keys(m[4]).join() === name && m[4][name] === 1 ? undefined : 'another message'),
            ]),
          ),
        ]);
        await session.guard.waitForBaseline();
        const failures = await runGroup(session, calls);
        await session.guard.waitForBaseline();
        const holds: Case[] = PROTOTYPE_NAMES.flatMap((name): Case[] => [
          at(
            [
              [64, 1, {}, name],
              [64, 2, {}, `com.hostile.${name}`],
            ],
            replies(reply('REGISTERED', 65, 1), reply('REGISTERED', 65, 2)),
          ),
          at(
            [
              [32, 1, {}, name],
              [32, 2, { match: 'prefix' }, name],
              [32, 3, { match: 'wildcard' }, `com..${name}`],
            ],
            replies(reply('SUBSCRIBED', 33, 1), reply('SUBSCRIBED', 33, 2), reply('SUBSCRIBED', 33, 3)),
          ),
        ]);
        failures.push(...(await runGroup(session, holds)));
        assertNoFailures(failures, calls.length + holds.length);
      }),
    );

    it(
      'joined: prototype names as match, invoke and cancel-mode values: an answer, no crash',
      guarded(async () => {
        const endpoint = OVER[serializer];
        const cases: Case[] = PROTOTYPE_NAMES.flatMap((name): Case[] => [
          { endpoint, serializer, state: 'joined', messages: [[32, 1, { match: name }, 'com.hostile.topic']], expect: { oracle: true } },
          {
            endpoint,
            serializer,
            state: 'joined',
            messages: [[64, 1, { match: name }, `com.hostile.m${++serial}`]],
            expect: { oracle: true },
          },
          {
            endpoint,
            serializer,
            state: 'joined',
            messages: [[64, 1, { invoke: name }, `com.hostile.i${++serial}`]],
            expect: { oracle: true },
          },
          { endpoint, serializer, state: 'joined', messages: [[49, 1, { mode: name }]], expect: { oracle: true } },
        ]);
        assertNoFailures(await runGroup(session, cases), cases.length);
      }),
    );
  });
}

it(
  'after all of it: heap within bounds, no hostile session left, nothing held on the locked realm',
  guarded(async () => {
    await session.guard.checkBatch();
  }),
);
