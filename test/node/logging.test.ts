/** Logging: Crossbar level names, text and JSON lines, redaction, session fields on the router's lines. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, parseLogLevel } from '../../src/node/logging.ts';
import { startNode } from '../../src/node/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { eventually } from './support.ts';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => lines.push(line) } };
}

describe('logging', () => {
  it("takes Crossbar's level names and pino's", () => {
    assert.equal(parseLogLevel('none'), 'silent');
    assert.equal(parseLogLevel('critical'), 'fatal');
    for (const level of ['error', 'warn', 'info', 'debug', 'trace']) assert.equal(parseLogLevel(level), level);
    assert.equal(parseLogLevel('FATAL'), 'fatal');
    assert.equal(parseLogLevel('loud'), undefined);
  });

  it('writes one readable line per entry by default, JSON lines on request', () => {
    const text = capture();
    createLogger({ destination: text.destination }).info({ realm: 'realm1', session: 42, note: 'two words' }, 'session joined');
    assert.equal(text.lines.length, 1);
    assert.match(
      text.lines[0],
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}session joined realm=realm1 session=42 note="two words"\n$/,
    );
    const json = capture();
    createLogger({ destination: json.destination, format: 'json' }).warn({ session: 1 }, 'x');
    const entry = JSON.parse(json.lines[0]);
    assert.deepEqual([entry.level, entry.msg, entry.session], [40, 'x', 1]);
  });

  it('drops entries below the level; none is silent', () => {
    const out = capture();
    const logger = createLogger({ destination: out.destination, level: 'warn' });
    logger.info({}, 'not shown');
    logger.warn({}, 'shown');
    createLogger({ destination: out.destination, level: 'silent' }).fatal({}, 'never');
    assert.equal(out.lines.length, 1);
    assert.match(out.lines[0], /WARN {2}shown/);
  });

  it('never writes tickets, secrets, passwords or keys, wherever they sit', () => {
    const out = capture();
    createLogger({ destination: out.destination, format: 'json' }).info(
      {
        ticket: 'x-T1',
        details: { authextra: { secret: 'x-S1' }, principal: { password: 'x-P1', nested: { key: 'x-K1' } } },
        auth: { ticket: { principals: { joe: { ticket: 'x-T2' } } } },
        tls: { key: 'PEM', passphrase: 'x-PW' },
        scram: { 'stored-key': 'x-SK', 'server-key': 'x-VK' },
      },
      'with secrets',
    );
    const line = out.lines[0];
    for (const secret of ['x-T1', 'x-S1', 'x-P1', 'x-K1', 'x-T2', 'PEM', 'x-PW', 'x-SK', 'x-VK'])
      assert.ok(!line.includes(secret), `${secret} leaked: ${line}`);
    assert.ok(line.includes('[redacted]'), 'redacted values are marked');
  });

  it("puts the realm and session ID on the router's lines about a session", async () => {
    const out = capture();
    const node = await startNode({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger({ destination: out.destination, format: 'json', level: 'debug' }),
    });
    try {
      const client = await RawClient.open(node.url);
      client.send([1, 'realm1', { roles: { caller: {} } }]);
      const welcome = await client.next();
      const id = welcome[1];
      client.send([99, 'nonsense']);
      await client.closed;
      await eventually(() => out.lines.some((l) => l.includes('protocol violation')), 'protocol violation logged');
      const entries = out.lines.map((l) => JSON.parse(l));
      const joined = entries.find((e) => e.msg === 'session joined');
      assert.deepEqual([joined?.realm, joined?.session], ['realm1', id], JSON.stringify(joined));
      const violation = entries.find((e) => e.msg === 'protocol violation');
      assert.deepEqual([violation?.realm, violation?.session], ['realm1', id], JSON.stringify(violation));
    } finally {
      await node.close();
    }
  });
});
