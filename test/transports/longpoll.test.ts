/**
 * The long-poll transport (a `longpoll` path on web and universal
 * transports) over real HTTP on 127.0.0.1, against a node started from a
 * config: Autobahn|JS's own long-poll transport (in a child process, where
 * xhr2 gives it XMLHttpRequest) and a fetch client of our own for
 * MessagePack, CBOR and the batched protocols, each with a WebSocket
 * Autobahn|JS client on the other side; then what hostile or broken
 * requests get, the limits, and the config check.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigFile } from '../../src/config/check.ts';
import { createRouter, type RunningNode } from '../../src/index.ts';
import { openAutobahn, within, type AbClient } from '../helpers/autobahn-js.ts';
import { openLongPollAutobahn } from '../helpers/longpoll-autobahn.ts';
import { LongPollClient, encodeBody, errorOf, post, type Format } from '../helpers/longpoll-raw.ts';
import { eventually } from '../node/support.ts';

const tcp = { type: 'tcp', port: 0, interface: '127.0.0.1' };

/** POSTs `chunks` chunks of `size` bytes, chunked (no Content-Length), as long as the server reads them; its answer. */
function streamBody(url: string, chunks: number, size: number): Promise<{ status: number | string; text: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: 'POST' }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', (err) => resolve({ status: 'error', text: err.message }));
    let sent = 0;
    const more = () => {
      if (req.destroyed) return;
      if (sent++ >= chunks) return void req.end();
      req.write(Buffer.alloc(size, 'x'));
      setTimeout(more, 1);
    };
    more();
  });
}
const CALL = 48;
const RESULT = 50;
const REGISTER = 64;
const REGISTERED = 65;
const INVOCATION = 68;
const YIELD = 70;
const SUBSCRIBE = 32;
const SUBSCRIBED = 33;
const EVENT = 36;
const PUBLISH = 16;
const PUBLISHED = 17;
const ABORT = 3;

function nodeConfig() {
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [{ name: 'realm1' }],
        transports: [
          {
            type: 'web',
            endpoint: tcp,
            paths: {
              ws: { type: 'websocket' },
              lp: { type: 'longpoll', options: { request_timeout: 1 } },
              small: {
                type: 'longpoll',
                options: { max_message_size: 4096, queue_limit_bytes: 1, queue_limit_messages: 0, request_timeout: 1 },
              },
              few: { type: 'longpoll', options: { queue_limit_messages: 5, request_timeout: 1 } },
              brief: { type: 'longpoll', options: { session_timeout: 1, request_timeout: 1 } },
              two: { type: 'longpoll', options: { max_transports: 2 } },
            },
          },
          { type: 'universal', endpoint: tcp, web: { paths: { 'wamp/lp': { type: 'longpoll' } } } },
        ],
      },
    ],
  };
}

let node: RunningNode;
let base: string;
let universalBase: string;
/** A WebSocket Autobahn|JS session on the other side of every exchange. */
let ws: AbClient;

const sessionCount = async (): Promise<number> => ws.session.call('wamp.session.count');
const sessionExists = async (id: number): Promise<boolean> =>
  ws.session.call('wamp.session.get', [id]).then(
    () => true,
    (err: any) => {
      assert.equal(err.error, 'wamp.error.no_such_session');
      return false;
    },
  );

before(async () => {
  node = await createRouter(nodeConfig());
  base = `http://127.0.0.1:${node.listeners[0]!.port}`;
  universalBase = `http://127.0.0.1:${node.listeners[1]!.port}/wamp/lp`;
  ws = await openAutobahn(`ws://127.0.0.1:${node.listeners[0]!.port}/ws`, 'msgpack');
});

after(async () => {
  await ws?.close();
  await node?.close();
});

describe('Autobahn|JS over its long-poll transport (wamp.2.json)', () => {
  it('joins as a router session whose transport is long-poll', async () => {
    const lp = await openLongPollAutobahn(`${base}/lp`);
    try {
      assert.equal(lp.transport, 'longpoll');
      const details = await ws.session.call('wamp.session.get', [lp.session]);
      assert.equal(details.transport.type, 'longpoll');
      assert.equal(details.transport.serializer, 'json');
      assert.match(details.transport.peer, /^tcp:127\.0\.0\.1:\d+$/);
    } finally {
      assert.equal(await lp.leave(), 0, lp.stderr());
    }
  });

  it('calls a procedure a WebSocket client registered, and answers calls from WebSocket', async () => {
    const lp = await openLongPollAutobahn(`${base}/lp`);
    const reg = await ws.session.register('lp.test.add', (args: number[], kwargs: any) => args[0]! + args[1]! + (kwargs?.extra ?? 0));
    try {
      const sum = await lp.call('lp.test.add', [20, 22], { extra: 0.5 });
      assert.deepEqual(sum.args, [42.5]);

      await lp.register('lp.test.echo');
      const result = await ws.session.call('lp.test.echo', ['hello', { n: 1 }], { k: 'v' });
      assert.deepEqual(result.args, ['longpoll', 'hello', { n: 1 }]);
      assert.deepEqual(result.kwargs, { k: 'v' });
    } finally {
      await ws.session.unregister(reg);
      assert.equal(await lp.leave(), 0, lp.stderr());
    }
  });

  it('receives events published over WebSocket, and publishes to a WebSocket subscriber', async () => {
    const lp = await openLongPollAutobahn(`${base}/lp`);
    const seen: unknown[][] = [];
    const sub = await ws.session.subscribe('lp.test.up', (args: unknown[]) => void seen.push(args));
    try {
      await lp.subscribe('lp.test.down');
      for (let i = 0; i < 3; i++) await ws.session.publish('lp.test.down', [i, 'ü'], {}, { acknowledge: true });
      await eventually(() => lp.events.filter((e) => e.event === 'event').length === 3, 'three events over long-poll', 5000);
      assert.deepEqual(
        lp.events.filter((e) => e.event === 'event').map((e) => e.args),
        [
          [0, 'ü'],
          [1, 'ü'],
          [2, 'ü'],
        ],
      );

      await lp.publish('lp.test.up', ['from long-poll'], { x: 1 });
      await eventually(() => seen.length === 1, 'the WebSocket subscriber got the event');
      assert.deepEqual(seen[0], ['from long-poll']);
    } finally {
      await ws.session.unsubscribe(sub);
      assert.equal(await lp.leave(), 0, lp.stderr());
    }
  });

  it('leaves cleanly: GOODBYE, then its close, and the session is gone', async () => {
    const before = await sessionCount();
    const lp = await openLongPollAutobahn(`${base}/lp`);
    assert.equal(await sessionCount(), before + 1);
    assert.equal(await lp.leave(), 0, lp.stderr());
    const closed = lp.events.find((e) => e.event === 'closed');
    assert.equal(closed?.reason, 'closed', JSON.stringify(closed));
    await eventually(async () => (await sessionCount()) === before, 'the session left');
  });

  it('works on a universal transport as well', async () => {
    const lp = await openLongPollAutobahn(universalBase);
    const reg = await ws.session.register('lp.test.universal', () => 'across ports');
    try {
      assert.deepEqual((await lp.call('lp.test.universal')).args, ['across ports']);
    } finally {
      await ws.session.unregister(reg);
      assert.equal(await lp.leave(), 0, lp.stderr());
    }
  });
});

describe('WAMP over long-poll in every format, batched and not (a fetch client of our own)', () => {
  const cases: Array<[Format, boolean]> = [
    ['msgpack', false],
    ['msgpack', true],
    ['json', false],
    ['json', true],
    ['cbor', false],
    ['cbor', true],
  ];
  for (const [format, batched] of cases) {
    const name = `wamp.2.${format}${batched ? '.batched' : ''}`;
    it(`${name}: calls, answers calls, receives and publishes events, with a WebSocket client`, async () => {
      const { client } = await LongPollClient.join(`${base}/lp`, format, batched);
      const reg = await ws.session.register(`lp.raw.${name}.mul`, (args: number[]) => args[0]! * args[1]!);
      const seen: unknown[][] = [];
      const sub = await ws.session.subscribe(`lp.raw.${name}.up`, (args: unknown[]) => void seen.push(args));
      try {
        // A call to a WebSocket callee.
        await client.send([CALL, 1, {}, `lp.raw.${name}.mul`, [6, 7]]);
        assert.deepEqual(await client.next(), [RESULT, 1, {}, [42]]);

        // A procedure of ours, called over WebSocket; REGISTER and SUBSCRIBE in one request when batched.
        const register = [REGISTER, 2, {}, `lp.raw.${name}.echo`];
        const subscribe = [SUBSCRIBE, 3, {}, `lp.raw.${name}.down`];
        if (batched) await client.send(register, subscribe);
        else {
          await client.send(register);
          await client.send(subscribe);
        }
        const answers = [await client.next(), await client.next()];
        const registered = answers.find((m) => m[0] === REGISTERED)!;
        const subscribed = answers.find((m) => m[0] === SUBSCRIBED)!;
        assert.equal(registered[1], 2);
        assert.equal(subscribed[1], 3);

        const called = ws.session.call(`lp.raw.${name}.echo`, ['ping', { deep: [1, 2] }]);
        const invocation = await client.next();
        assert.equal(invocation[0], INVOCATION);
        assert.equal(invocation[2], registered[2]);
        assert.deepEqual(invocation[4], ['ping', { deep: [1, 2] }]);
        await client.send([YIELD, invocation[1], {}, ['pong', format]]);
        assert.deepEqual((await within<any>(called, 3000, 'the WebSocket call')).args, ['pong', format]);

        // Events from WebSocket.
        await ws.session.publish(`lp.raw.${name}.down`, ['e1'], {}, { acknowledge: true });
        await ws.session.publish(`lp.raw.${name}.down`, ['e2'], {}, { acknowledge: true });
        const events = [await client.next(), await client.next()];
        assert.deepEqual(
          events.map((e) => [e[0], e[1], e[4]]),
          [
            [EVENT, subscribed[2], ['e1']],
            [EVENT, subscribed[2], ['e2']],
          ],
        );

        // An event to a WebSocket subscriber.
        await client.send([PUBLISH, 4, { acknowledge: true }, `lp.raw.${name}.up`, [format, batched]]);
        assert.equal((await client.next())[0], PUBLISHED);
        await eventually(() => seen.length === 1, 'the WebSocket subscriber got the event');
        assert.deepEqual(seen[0], [format, batched]);
      } finally {
        await ws.session.unregister(reg);
        await ws.session.unsubscribe(sub);
        await client.close();
      }
    });
  }

  it('answers a receive with all queued messages when batched, with one of them when not', async () => {
    for (const batched of [true, false]) {
      const { client } = await LongPollClient.join(`${base}/lp`, 'json', batched);
      await client.send([SUBSCRIBE, 1, {}, 'lp.queue.topic']);
      assert.equal((await client.next())[0], SUBSCRIBED);
      for (let i = 0; i < 3; i++) await ws.session.publish('lp.queue.topic', [i], {}, { acknowledge: true });
      // The events are queued by now: the router acknowledges a publish after handing out its events.
      const first = await client.receive();
      assert.equal(first.status, 200);
      assert.equal(first.messages.length, batched ? 3 : 1, `batched: ${batched}`);
      if (!batched) {
        assert.equal((await client.receive()).messages.length, 1);
        assert.equal((await client.receive()).messages.length, 1);
      }
      assert.equal(first.answer.headers.get('content-type'), 'application/json; charset=utf-8');
      await client.close();
    }
  });

  it('serves MessagePack and CBOR bodies with their own content types', async () => {
    for (const [format, type] of [
      ['msgpack', 'application/x-msgpack'],
      ['cbor', 'application/cbor'],
    ] as const) {
      const opened = await LongPollClient.open(`${base}/lp`, format);
      await opened.send([1, 'realm1', { roles: { caller: {} } }]);
      const r = await opened.receive();
      assert.equal(r.answer.headers.get('content-type'), type);
      assert.equal(r.messages[0]![0], 2);
      await opened.close();
    }
  });

  it('picks the first protocol offered that it speaks, in the order offered', async () => {
    const r = await post(`${base}/lp/open`, JSON.stringify({ protocols: ['wamp.2.ubjson', 'wamp.2.msgpack.batched', 'wamp.2.json'] }));
    assert.equal(r.status, 200);
    const opened = JSON.parse(r.text);
    assert.equal(opened.protocol, 'wamp.2.msgpack.batched');
    assert.match(opened.transport, /^[A-Za-z0-9_-]{24}$/, 'a 144-bit random id');
    assert.equal((await post(`${base}/lp/${opened.transport}/close`)).status, 204);
  });
});

describe('long-poll requests that are wrong, hostile or late', () => {
  it('refuses an open without a protocol it speaks, or with a body that is not an open request', async () => {
    const unknown = await post(`${base}/lp/open`, JSON.stringify({ protocols: ['wamp.2.ubjson', 'wamp.3.json'] }));
    assert.equal(unknown.status, 400);
    const e = errorOf(unknown);
    assert.equal(e.error, 'unsupported_protocol');
    assert.match(e.message, /wamp\.2\.json.*wamp\.2\.msgpack/);

    for (const body of [
      'not json',
      '["wamp.2.json"]',
      '{}',
      '{"protocols": []}',
      '{"protocols": [2]}',
      '{"protocols": "wamp.2.json"}',
      '',
    ]) {
      const r = await post(`${base}/lp/open`, body);
      assert.equal(r.status, 400, body);
      assert.equal(errorOf(r).error, 'bad_request', body);
    }
    const prototype = await post(`${base}/lp/open`, '{"__proto__": {"protocols": ["wamp.2.json"]}}');
    assert.equal(prototype.status, 400, 'protocols is read as data, never from a prototype');
    const many = await post(`${base}/lp/open`, JSON.stringify({ protocols: Array(40).fill('wamp.2.json') }));
    assert.equal(many.status, 400);
    const huge = await post(`${base}/lp/open`, JSON.stringify({ protocols: ['wamp.2.json'], pad: 'x'.repeat(10_000) }));
    assert.equal(huge.status, 413);
    assert.equal(errorOf(huge).error, 'too_large');
  });

  it('answers 404 for a transport it does not have, and for paths that are not long-poll resources', async () => {
    const { client } = await LongPollClient.join(`${base}/lp`, 'json');
    try {
      const wrong = `${client.transport.slice(0, -1)}${client.transport.endsWith('A') ? 'B' : 'A'}`;
      for (const id of [wrong, 'kjmd3sBLOUnb3Fyr', 'x'.repeat(500), 'a%20b', '__proto__', 'constructor']) {
        for (const op of ['send', 'receive', 'close']) {
          const r = await post(`${base}/lp/${id}/${op}`, '[1]');
          assert.equal(r.status, 404, `${id}/${op}`);
          assert.equal(errorOf(r).error, 'no_such_transport');
        }
      }
      for (const path of ['/lp/open/x', `/lp/${client.transport}`, `/lp/${client.transport}/other`, '/lp/a/b/c']) {
        assert.equal((await post(`${base}${path}`)).status, 404, path);
      }
      // The same transport on another long-poll path is not there either.
      assert.equal((await post(`${base}/few/${client.transport}/receive`)).status, 404);
    } finally {
      await client.close();
    }
  });

  it('answers the methods it has: POST below the path, a notice at the path, 405 otherwise', async () => {
    const notice = await post(`${base}/lp`, undefined, { method: 'GET' });
    assert.equal(notice.status, 200);
    assert.match(notice.text, /WAMP-over-Longpoll/);
    const get = await post(`${base}/lp/open`, undefined, { method: 'GET' });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
    assert.equal((await post(`${base}/lp/open`, 'x', { method: 'PUT' })).status, 405, 'a method no long-poll resource answers');
  });

  it('answers a CORS preflight, and allows the origin of every request as Crossbar does', async () => {
    const preflight = await post(`${base}/lp/open`, undefined, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example.com',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    assert.equal(preflight.status, 200);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);

    const opened = await post(`${base}/lp/open`, JSON.stringify({ protocols: ['wamp.2.json'] }), {
      headers: { Origin: 'https://app.example.com' },
    });
    assert.equal(opened.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(opened.headers.get('cache-control') ?? '', /no-store/);
    const transport = JSON.parse(opened.text).transport;
    const closed = await post(`${base}/lp/${transport}/close`, undefined, { headers: { Origin: 'null' } });
    assert.equal(closed.headers.get('access-control-allow-origin'), '*', 'origin "null" is answered with *');
  });

  it('fails the session on a message that is not the protocol, and tells the client so', async () => {
    const { client, welcome } = await LongPollClient.join(`${base}/lp`, 'json');
    const bad = await post(`${client.url}/send`, '{not json');
    assert.equal(bad.status, 400);
    assert.equal(errorOf(bad).error, 'protocol_violation');
    const abort = await client.next();
    assert.deepEqual([abort[0], abort[2]], [ABORT, 'wamp.error.protocol_violation']);
    await eventually(async () => !(await sessionExists(welcome[1] as number)), 'the session is gone');
    const after = await post(`${client.url}/send`, '[70, 1, {}]');
    assert.ok(after.status === 410 || after.status === 404, `a send after the end: ${after.status}`);
    assert.equal((await client.close()).status, 204, 'the client may still close it');
    assert.equal((await client.close()).status, 404, 'then it is gone');
  });

  it('fails the session on a batch that is not framed as its protocol says', async () => {
    for (const [format, body] of [
      ['msgpack', Buffer.from([0, 0, 0, 9, 0x93])],
      ['msgpack', Buffer.from([0, 0])],
      ['json', Buffer.from('[1,"realm1",{}]')],
      ['json', Buffer.alloc(0)],
    ] as const) {
      const client = await LongPollClient.open(`${base}/lp`, format, true);
      const r = await post(`${client.url}/send`, body);
      assert.equal(r.status, 400, `${format} ${body.toString('hex')}`);
      assert.equal(errorOf(r).error, 'bad_batch');
      const abort = await client.next();
      assert.deepEqual([abort[0], abort[2]], [ABORT, 'wamp.error.protocol_violation']);
      await client.close();
    }
  });

  it('refuses a body over max_message_size, and ends that session', async () => {
    const { client, welcome } = await LongPollClient.join(`${base}/small`, 'json');
    const big = encodeBody('json', false, [[PUBLISH, 1, {}, 'lp.big', ['x'.repeat(5000)]]]);
    const r = await post(`${client.url}/send`, big);
    assert.equal(r.status, 413);
    assert.equal(errorOf(r).error, 'too_large');
    const abort = await client.next();
    assert.deepEqual([abort[0], abort[2]], [ABORT, 'wamp.error.payload_size_exceeded']);
    await eventually(async () => !(await sessionExists(welcome[1] as number)), 'the session is gone');
    await client.close();

    // A body without a length, streamed past the limit: cut off there, never held whole.
    const streamed = await LongPollClient.open(`${base}/small`, 'json');
    const answer = await streamBody(`${streamed.url}/send`, 200, 1024);
    assert.equal(answer.status, 413, answer.text);
    assert.match(answer.text, /over the limit of 4096 bytes/);
    await streamed.close();
  });

  it('ends the session of a transport nobody polls (session_timeout)', async () => {
    const { client, welcome } = await LongPollClient.join(`${base}/brief`, 'json');
    const id = welcome[1] as number;
    assert.equal(await sessionExists(id), true);
    await eventually(async () => !(await sessionExists(id)), 'the idle session ended', 5000);
    assert.equal((await client.receive()).status, 404, 'its transport is gone');
  });

  it('keeps a transport whose client polls, however long (a held receive is a sign of life)', async () => {
    const { client, welcome } = await LongPollClient.join(`${base}/brief`, 'json');
    const id = welcome[1] as number;
    // Held receives of 1 s each, back to back, for three session timeouts.
    for (let i = 0; i < 3; i++) assert.equal((await client.receive()).status, 204, 'an empty answer after request_timeout');
    assert.equal(await sessionExists(id), true);
    await client.close();
  });

  it('ends the session when its client closes the transport, and answers a receive held then', async () => {
    const { client, welcome } = await LongPollClient.join(`${base}/lp`, 'json');
    const id = welcome[1] as number;
    const held = post(`${client.url}/receive`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await client.close()).status, 204);
    assert.equal((await within(held, 3000, 'the held receive')).status, 204, 'the held receive ends with the transport');
    await eventually(async () => !(await sessionExists(id)), 'the session is gone');
    assert.equal((await client.receive()).status, 404);
    assert.equal((await post(`${client.url}/send`, '[1]')).status, 404);
  });

  it('takes one receive at a time: a second one replaces the one held, which ends empty', async () => {
    const { client } = await LongPollClient.join(`${base}/lp`, 'json');
    await client.send([SUBSCRIBE, 1, {}, 'lp.replace']);
    assert.equal((await client.next())[0], SUBSCRIBED);
    const first = post(`${client.url}/receive`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = post(`${client.url}/receive`);
    const firstAnswer = await within(first, 3000, 'the replaced receive');
    assert.equal(firstAnswer.status, 204, 'the replaced receive');
    await ws.session.publish('lp.replace', ['to the second'], {}, { acknowledge: true });
    const secondAnswer = await second;
    assert.equal(secondAnswer.status, 200);
    assert.deepEqual(JSON.parse(secondAnswer.text)[4], ['to the second']);
    await client.close();
  });

  it('cuts off a client that lets more than queue_limit_messages pile up', async () => {
    const { client, welcome } = await LongPollClient.join(`${base}/few`, 'json');
    const id = welcome[1] as number;
    await client.send([SUBSCRIBE, 1, {}, 'lp.flood']);
    assert.equal((await client.next())[0], SUBSCRIBED);
    for (let i = 0; i < 5; i++) await ws.session.publish('lp.flood', [i], {}, { acknowledge: true });
    assert.equal(await sessionExists(id), true, 'five queued messages are within the limit');
    await ws.session.publish('lp.flood', [5], {}, { acknowledge: true });
    await eventually(async () => !(await sessionExists(id)), 'the slow consumer was cut off');
    assert.equal((await client.receive()).status, 404, 'its queue went with it');
  });

  it('cuts off a client that lets more than the queued bytes pile up (never below one message of the largest size)', async () => {
    const { client, welcome } = await LongPollClient.join(`${base}/small`, 'json');
    const id = welcome[1] as number;
    await client.send([SUBSCRIBE, 1, {}, 'lp.bytes']);
    assert.equal((await client.next())[0], SUBSCRIBED);
    // queue_limit_bytes is 1, so the limit is max_message_size (4096): three 1000-byte events fit, five do not.
    for (let i = 0; i < 3; i++) await ws.session.publish('lp.bytes', ['y'.repeat(1000)], {}, { acknowledge: true });
    assert.equal(await sessionExists(id), true);
    for (let i = 0; i < 2; i++) await ws.session.publish('lp.bytes', ['y'.repeat(1000)], {}, { acknowledge: true });
    await eventually(async () => !(await sessionExists(id)), 'the slow consumer was cut off');
  });

  it('opens at most max_transports at once', async () => {
    const a = await LongPollClient.open(`${base}/two`, 'json');
    const b = await LongPollClient.open(`${base}/two`, 'json');
    const third = await post(`${base}/two/open`, JSON.stringify({ protocols: ['wamp.2.json'] }));
    assert.equal(third.status, 503);
    assert.equal(errorOf(third).error, 'too_many_transports');
    assert.ok(third.headers.get('retry-after'));
    await a.close();
    const c = await LongPollClient.open(`${base}/two`, 'json');
    await b.close();
    await c.close();
  });
});

describe('a long-poll node shutting down', () => {
  it('ends held receives and its transports when the node closes', async () => {
    const own = await createRouter({
      version: 2,
      workers: [
        {
          type: 'router',
          realms: [{ name: 'realm1' }],
          transports: [{ type: 'web', endpoint: tcp, paths: { lp: { type: 'longpoll', options: { request_timeout: 60 } } } }],
        },
      ],
    });
    const url = `http://127.0.0.1:${own.listeners[0]!.port}/lp`;
    const { client } = await LongPollClient.join(url, 'msgpack');
    const held = post(`${client.url}/receive`).then(
      (r) => r.status,
      () => 'cut',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(own.info().sessions, 1);
    await own.close();
    const status = await within(held, 5000, 'the held receive');
    assert.ok(status === 204 || status === 410 || status === 'cut', `the held receive ended: ${status}`);
    assert.equal(own.info().sessions, 0);
  });
});

describe('kreuz check and long-poll paths', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kreuz-lp-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const check = (lp: unknown) => {
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: 2,
        workers: [{ type: 'router', realms: [{ name: 'realm1' }], transports: [{ type: 'web', endpoint: tcp, paths: { lp } }] }],
      }),
    );
    return checkConfigFile(file);
  };

  it("accepts Crossbar's keys, and says what Kreuz does where Crossbar has no limit", () => {
    const r = check({
      type: 'longpoll',
      options: {
        debug: true,
        debug_transport_id: 'kjmd3sBLOUnb3Fyr',
        session_timeout: 0,
        request_timeout: 0,
        queue_limit_bytes: 0,
        queue_limit_messages: 0,
      },
    });
    assert.deepEqual(r.errors, []);
    const notes = r.notes.map((n) => `${n.path}: ${n.message}`).join('\n');
    for (const key of ['session_timeout', 'request_timeout', 'queue_limit_bytes', 'debug_transport_id', 'debug'])
      assert.match(notes, new RegExp(`lp\\.options\\.${key}: `), key);
    assert.match(notes, /random/);
    assert.deepEqual(check({ type: 'longpoll' }).errors, []);
    const authed = check({
      type: 'longpoll',
      options: { session_timeout: 30 },
      auth: { ticket: { type: 'static', principals: { joe: { ticket: 'secret-ticket', role: 'user', realm: 'nowhere' } } } },
    });
    assert.equal(authed.errors.length, 1, "the auth of a long-poll path is checked like a WebSocket path's");
    assert.match(authed.errors[0]!.path, /lp\.auth/);
    assert.match(authed.errors[0]!.message, /realm "nowhere"/);
  });

  it('refuses keys Crossbar does not have, and values out of range', () => {
    for (const [lp, path] of [
      [{ type: 'longpoll', options: { request_timeot: 10 } }, 'options'],
      [{ type: 'longpoll', serializers: ['json'] }, 'lp'],
      [{ type: 'longpoll', options: { session_timeout: -1 } }, 'session_timeout'],
      [{ type: 'longpoll', options: { request_timeout: 'ten' } }, 'request_timeout'],
      [{ type: 'longpoll', options: { max_transports: 0 } }, 'max_transports'],
    ] as const) {
      const r = check(lp);
      assert.ok(r.errors.length > 0, JSON.stringify(lp));
      assert.ok(
        r.errors.some((e) => e.path.includes(path)),
        `${JSON.stringify(lp)}: ${JSON.stringify(r.errors)}`,
      );
    }
  });

  it('notes a request_timeout Autobahn|JS would not wait for', () => {
    const r = check({ type: 'longpoll', options: { request_timeout: 20 } });
    assert.deepEqual(r.errors, []);
    assert.ok(r.notes.some((n) => /Autobahn\|JS gives up/.test(n.message)));
  });
});
