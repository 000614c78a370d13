/**
 * What a node logs for the things users debug first: refused WebSocket and RawSocket handshakes
 * and authorization denials (at info, with the reason, never a secret), and at trace every WAMP
 * message in and out (bounded, secrets redacted). Also the standalone websocket transport that
 * answers on any path without `url`, as Crossbar's.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { createRouter } from '../../src/index.ts';
import { CLIENT_LINES_PER_SECOND, createLogger, parseLogFormat, textLine, type LogLevel } from '../../src/node/logging.ts';
import { TRACE_LIMITS, summarize } from '../../src/node/message-trace.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { ABORT, AUTHENTICATE, CALL, CHALLENGE, ERROR, HELLO, WELCOME } from '../helpers/wamp-codes.ts';
import { eventually } from './support.ts';

interface Entry {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function capture(level: LogLevel = 'info') {
  const lines: string[] = [];
  const logger = createLogger({ level, format: 'json', destination: { write: (line: string) => lines.push(line) } });
  return { logger, lines, entries: () => lines.map((l) => JSON.parse(l) as Entry) };
}

const tcp = { type: 'tcp', port: 0, interface: '127.0.0.1' };
const ALLOWED = [{ uri: 'com.allowed.', match: 'prefix', allow: { call: true, register: true } }];
const ROLES = [
  { name: 'user', permissions: ALLOWED },
  { name: 'anonymous', permissions: ALLOWED },
];

function config(transports: object[]): object {
  return { version: 2, workers: [{ type: 'router', realms: [{ name: 'realm1', roles: ROLES }], transports }] };
}

const ticketAuth = { ticket: { type: 'static', principals: { joe: { ticket: 'x-secret-ticket', role: 'user' } } } };

/** Opens a WebSocket and resolves with the HTTP status of a refused handshake (0: it opened). */
function handshake(url: string, protocols: string[], options: WebSocket.ClientOptions = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols, options);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? -1);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(0);
      ws.close();
    });
    ws.on('error', () => {});
  });
}

describe('refused handshakes are logged at info with the reason', () => {
  it('WebSocket: subprotocol, origin and path; the query string is not logged', async () => {
    const out = capture();
    const node = await createRouter(
      config([
        {
          type: 'web',
          endpoint: tcp,
          paths: { ws: { type: 'websocket', options: { allowed_origins: ['https://app.example.com'] } } },
        },
      ]),
      { logger: out.logger },
    );
    try {
      const url = node.url;
      assert.equal(await handshake(`${url}?token=x-query-secret`, ['wamp.2.ubjson']), 400);
      assert.equal(await handshake(url, ['wamp.2.json'], { origin: 'https://evil.example.com' }), 403);
      assert.equal(await handshake(url.replace(/\/ws$/, '/elsewhere'), ['wamp.2.json']), 404);
      assert.equal(await handshake(url, ['wamp.2.json'], { origin: 'https://app.example.com' }), 0);
      await eventually(() => out.entries().filter((e) => e.msg === 'websocket: handshake refused').length === 3, 'three refusals logged');
      const refused = out.entries().filter((e) => e.msg === 'websocket: handshake refused');
      for (const e of refused) {
        assert.equal(e.level, 30, 'info');
        assert.match(String(e.peer), /^tcp:127\.0\.0\.1:\d+$/);
      }
      assert.deepEqual(
        refused.map((e) => [e.path, e.reason]),
        [
          ['/ws', 'no WebSocket subprotocol it offers is spoken here'],
          ['/ws', 'origin not allowed'],
          ['/elsewhere', 'no WebSocket endpoint at this path'],
        ],
      );
      assert.equal(refused[0].offered, 'wamp.2.ubjson');
      assert.equal(refused[1].origin, 'https://evil.example.com');
      assert.ok(!out.lines.join('').includes('x-query-secret'), 'no query string in the log');
    } finally {
      await node.close();
    }
  });

  it('RawSocket: a serializer it does not speak, and bytes that are no RawSocket handshake', async () => {
    const out = capture();
    const node = await createRouter(config([{ type: 'rawsocket', endpoint: tcp, serializers: ['json'] }]), { logger: out.logger });
    try {
      const port = Number(new URL(node.urls[0].replace(/^rs:/, 'http:')).port);
      const send = (bytes: number[]) =>
        new Promise<Buffer>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.from(bytes)));
          const got: Buffer[] = [];
          socket.on('data', (d) => got.push(d));
          socket.on('close', () => resolve(Buffer.concat(got)));
          socket.on('error', () => {});
        });
      // 0x7F, length exponent 15, serializer 2 (MessagePack), reserved 0 0.
      assert.deepEqual([...(await send([0x7f, 0xf2, 0, 0]))], [0x7f, 0x10, 0, 0], 'error 1: serializer unsupported');
      await send([0x47, 0x45, 0x54, 0x20]); // "GET "
      await eventually(() => out.entries().filter((e) => /rawsocket: handshake refused/.test(e.msg)).length === 2, 'two refusals logged');
      const refused = out.entries().filter((e) => /rawsocket: handshake refused/.test(e.msg));
      assert.deepEqual(
        refused.map((e) => [e.level, e.msg]),
        [
          [30, 'rawsocket: handshake refused with error 1: serializer 2 not spoken here (speaks json)'],
          [30, 'rawsocket: handshake refused: not a RawSocket handshake (first byte 0x47)'],
        ],
      );
    } finally {
      await node.close();
    }
  });
});

describe('authorization denials', () => {
  it('are logged at info with the session, authid, role, action, URI and reason; the ticket never', async () => {
    const out = capture();
    const node = await createRouter(config([{ type: 'websocket', endpoint: tcp, auth: ticketAuth }]), { logger: out.logger });
    try {
      const client = await RawClient.open(node.url);
      client.send([HELLO, 'realm1', { roles: { caller: {} }, authmethods: ['ticket'], authid: 'joe' }]);
      assert.equal((await client.next())[0], CHALLENGE);
      client.send([AUTHENTICATE, 'x-secret-ticket', {}]);
      const welcome = await client.next();
      assert.equal(welcome[0], WELCOME);
      client.send([CALL, 1, {}, 'com.forbidden.proc', []]);
      const error = await client.next();
      assert.deepEqual([error[0], error[4]], [ERROR, 'wamp.error.not_authorized']);
      await eventually(() => out.entries().some((e) => e.msg === 'authorization denied'), 'denial logged');
      const denied = out.entries().find((e) => e.msg === 'authorization denied')!;
      assert.deepEqual(
        { ...denied, time: undefined, pid: undefined, hostname: undefined },
        {
          level: 30,
          msg: 'authorization denied',
          realm: 'realm1',
          session: welcome[1],
          authid: 'joe',
          authrole: 'user',
          action: 'call',
          uri: 'com.forbidden.proc',
          reason: 'not permitted for this role',
          time: undefined,
          pid: undefined,
          hostname: undefined,
        },
      );
      client.close();
      assert.ok(!out.lines.join('').includes('x-secret-ticket'));
    } finally {
      await node.close();
    }
  });
});

describe('lines a client can cause at will', () => {
  it(`are at most ${CLIENT_LINES_PER_SECOND} a second each; the next one let through says how many were left out`, async () => {
    const out = capture();
    for (let i = 0; i < CLIENT_LINES_PER_SECOND + 50; i++) out.logger.info({ uri: `com.x.${i}` }, 'authorization denied');
    for (let i = 0; i < 3; i++) out.logger.info({}, 'websocket: handshake refused');
    for (let i = 0; i < 3; i++) out.logger.info({}, 'session joined');
    const count = (msg: string) => out.entries().filter((e) => e.msg === msg).length;
    assert.deepEqual(
      [count('authorization denied'), count('websocket: handshake refused'), count('session joined')],
      [CLIENT_LINES_PER_SECOND, 3, 3],
    );
    await new Promise((resolve) => setTimeout(resolve, 1050));
    out.logger.info({ uri: 'com.x.after' }, 'authorization denied');
    out.logger.info({ uri: 'com.x.later' }, 'authorization denied');
    const last = out
      .entries()
      .filter((e) => e.msg === 'authorization denied')
      .slice(-2);
    assert.deepEqual(
      last.map((e) => [e.uri, e.suppressed]),
      [
        ['com.x.after', 50],
        ['com.x.later', undefined],
      ],
    );
  });
});

describe('trace: every WAMP message in and out', () => {
  it('logs each message with its peer and session, AUTHENTICATE and secret-named keys redacted; debug does not', async () => {
    const trace = capture('trace');
    const debug = capture('debug');
    const transports = [{ type: 'websocket', endpoint: tcp, auth: ticketAuth }];
    const [traced, quiet] = await Promise.all([
      createRouter(config(transports), { logger: trace.logger }),
      createRouter(config(transports), { logger: debug.logger }),
    ]);
    try {
      for (const node of [traced, quiet]) {
        const client = await RawClient.open(node.url);
        client.send([HELLO, 'realm1', { roles: { caller: {} }, authmethods: ['ticket'], authid: 'joe' }]);
        await client.next();
        client.send([AUTHENTICATE, 'x-secret-ticket', { ticket: 'x-secret-ticket' }]);
        assert.equal((await client.next())[0], WELCOME);
        client.send([CALL, 7, {}, 'com.allowed.none', ['x'.repeat(5000)], { password: 'x-secret-pw', n: 1 }]);
        assert.equal((await client.next())[0], ERROR);
        client.send([CALL, 8, {}, 'com.allowed.none', [1, 'a'], { password: 'x-secret-pw', n: 1 }]);
        assert.equal((await client.next())[0], ERROR);
        client.close();
      }
      await eventually(() => trace.entries().filter((e) => e.msg.startsWith('wamp ')).length >= 8, 'eight messages traced');
      const wamp = trace.entries().filter((e) => e.msg.startsWith('wamp '));
      assert.ok(wamp.every((e) => e.level === 10 && /^tcp:127\.0\.0\.1:\d+$/.test(String(e.peer))));
      const msgs = wamp.map((e) => e.msg);
      assert.match(msgs[0], /^wamp in: HELLO \[1,"realm1",\{"roles":\{"caller":\{\}\},"authmethods":\["ticket"\],"authid":"joe"\}\]$/);
      assert.match(msgs[1], /^wamp out: CHALLENGE \[4,"ticket",\{\}\]$/);
      assert.equal(msgs[2], 'wamp in: AUTHENTICATE [5,"[redacted]",{"ticket":"[redacted]"}]');
      assert.match(msgs[3], /^wamp out: WELCOME \[2,\d+,\{/);
      assert.match(msgs[4], /^wamp in: CALL \[48,7,\{\},"com\.allowed\.none",<payload: 2 elements, \d+ bytes>\]$/);
      assert.match(msgs[5], /^wamp out: ERROR \[8,48,7,\{\},"wamp\.error\.no_such_procedure"/);
      // A small payload is decoded in place, its secret-named keys redacted.
      assert.equal(msgs[6], 'wamp in: CALL [48,8,{},"com.allowed.none",[1,"a"],{"password":"[redacted]","n":1}]');
      const joined = wamp.find((e) => e.msg.startsWith('wamp in: CALL'))!;
      assert.equal(joined.realm, 'realm1');
      assert.equal(typeof joined.session, 'number');
      const text = trace.lines.join('');
      for (const secret of ['x-secret-ticket', 'x-secret-pw']) assert.ok(!text.includes(secret), `${secret} leaked`);
      assert.ok(!debug.lines.some((l) => l.includes('"msg":"wamp ')), 'no message lines at debug');
    } finally {
      await Promise.all([traced.close(), quiet.close()]);
    }
  });

  it('summaries are bounded, decode small payloads with secret keys redacted, and survive anything a client sends', () => {
    const long = summarize([48, 1, {}, 'com.x', ['y'.repeat(3000)]], true);
    assert.ok(long.length <= TRACE_LIMITS.line + 1, `bounded: ${long.length}`);
    const many = summarize([48, 1, {}, 'com.x', Array.from({ length: 100 }, (_, i) => i)], true);
    assert.match(many, /,19,…\+80\]\]$/);
    const deep = summarize([16, 1, {}, 'com.x', [[[[[[[[[1]]]]]]]]]], true);
    assert.match(deep, /\[…\]/);
    const hostile = JSON.parse('{"toString":"x","valueOf":1,"__proto__":{"secret":"x-s"},"key":"x-k"}');
    const weird = summarize([1, 'realm1', hostile], true);
    assert.ok(!weird.includes('x-s') && !weird.includes('x-k'), weird);
    assert.equal(summarize('not a message', true), 'message type of type undefined "not a message"');
    assert.equal(summarize([99, new Uint8Array(3), 10n, () => 1], true), 'message type 99 [99,<3 bytes>,10,<function>]');
    assert.match(summarize([ABORT, {}, 'wamp.close.x'], false), /^ABORT \[3,\{\},"wamp\.close\.x"\]$/);
  });
});

describe('text lines', () => {
  const json = JSON.stringify({ time: '2026-01-01T00:00:00.000Z', level: 40, msg: 'refused', origin: 'x', n: 1 });

  it("take Crossbar's format names: standard is text, syslogd without the time, none without the level", () => {
    assert.deepEqual(['standard', 'text', 'syslogd', 'none', 'json', 'SYSLOGD'].map(parseLogFormat), [
      'text',
      'text',
      'syslogd',
      'none',
      'json',
      'syslogd',
    ]);
    assert.equal(parseLogFormat('colored'), undefined);
    assert.equal(textLine(json), '2026-01-01T00:00:00.000Z WARN  refused origin=x n=1\n');
    assert.equal(textLine(json, { format: 'syslogd' }), 'WARN  refused origin=x n=1\n');
    assert.equal(textLine(json, { format: 'none' }), 'refused origin=x n=1\n');
    assert.equal(textLine(json, { color: true }), '\x1b[2m2026-01-01T00:00:00.000Z\x1b[0m \x1b[33mWARN \x1b[0m refused origin=x n=1\n');
  });

  it('escape control characters a client may have put in a value or the message: no terminal escapes, no forged lines', () => {
    const line = textLine(JSON.stringify({ time: 't', level: 30, msg: 'a\u001b[31mb\nc', uri: 'com.\u001b[2J', ok: 'plain' }));
    assert.equal(line, 't INFO  a\\u001b[31mb\\nc uri="com.\\u001b[2J" ok=plain\n');
  });
});

describe('a standalone websocket transport', () => {
  it('without url answers on any path (Crossbar); with url only at its path', async () => {
    const node = await createRouter(
      config([
        { type: 'websocket', endpoint: tcp },
        { type: 'websocket', endpoint: tcp, url: 'ws://127.0.0.1/only' },
      ]),
    );
    try {
      const [anyPath, onlyPath] = node.urls;
      assert.match(anyPath, /\/ws$/, 'its URL is logged with /ws');
      const root = anyPath.replace(/\/ws$/, '');
      const at = async (url: string) => {
        const status = await handshake(url, ['wamp.2.json']);
        if (status !== 0) return status;
        const client = await RawClient.join(url);
        client.close();
        return 0;
      };
      assert.deepEqual(await Promise.all([at(anyPath), at(`${root}/`), at(`${root}/some/where?x=1`)]), [0, 0, 0]);
      assert.match(onlyPath, /\/only$/);
      assert.deepEqual(await Promise.all([at(onlyPath), at(onlyPath.replace(/\/only$/, '/ws'))]), [0, 404]);
    } finally {
      await node.close();
    }
  });
});
