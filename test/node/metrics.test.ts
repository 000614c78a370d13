/** /metrics (Prometheus text, scraped over HTTP) and /info on the node's HTTP server. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { RawSocketWampClient } from '../helpers/rawsocket-client.ts';
import { httpUrl, parsePrometheus, sample } from './support.ts';
import { ERROR, CALL, RESULT, INVOCATION, YIELD } from '../helpers/wamp-codes.ts';

describe('metrics', () => {
  let node: RunningNode;
  let callee: RawClient;
  let caller: RawClient;
  const registrations = new Map<string, number>();

  before(async () => {
    node = await startNode({ host: '127.0.0.1', port: 0, metrics: { maxProcedures: 2 }, info: true });
    callee = await RawClient.join(node.url);
    caller = await RawClient.join(node.url, 'msgpack');
    for (const [i, uri] of ['com.a', 'com.b', 'com.c'].entries()) {
      callee.send([64, 100 + i, {}, uri]);
      const registered = await callee.next();
      assert.equal(registered[0], 65, `REGISTERED for ${uri}`);
      registrations.set(uri, registered[2] as number);
    }
  });

  after(async () => {
    callee?.close();
    caller?.close();
    await node?.close();
  });

  /** One call through the callee, answered with a result or (fail) an error. */
  async function call(request: number, uri: string, fail = false): Promise<unknown[]> {
    caller.send([CALL, request, {}, uri, [request]]);
    const invocation = await callee.next();
    assert.equal(invocation[0], INVOCATION, `INVOCATION for ${uri}`);
    callee.send(fail ? [ERROR, INVOCATION, invocation[1], {}, 'com.error.failed', ['no']] : [YIELD, invocation[1], {}, ['ok']]);
    return caller.next();
  }

  async function scrape(): Promise<Map<string, number>> {
    const response = await fetch(httpUrl(node.url, '/metrics'));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await response.text());
  }

  it('counts sessions per realm, messages by type, calls and errors by registration, call latency and bytes', async () => {
    assert.equal((await call(1, 'com.a'))[0], RESULT);
    assert.equal((await call(2, 'com.a'))[0], RESULT);
    assert.equal((await call(3, 'com.a', true))[0], ERROR);
    assert.equal((await call(4, 'com.b'))[0], RESULT);
    // A third procedure is past maxProcedures (2): it counts as "other".
    assert.equal((await call(5, 'com.c'))[0], RESULT);
    // A call that reaches no registration: labelled "none", never by the URI the caller sent.
    caller.send([CALL, 6, {}, 'com.attacker.chosen.uri', []]);
    const noSuch = await caller.next();
    assert.deepEqual(noSuch.slice(0, 5), [ERROR, CALL, 6, {}, 'wamp.error.no_such_procedure']);

    const m = await scrape();
    assert.equal(sample(m, 'kreuz_sessions', { realm: 'realm1' }), 2, 'the meta API session is not counted');
    assert.equal(sample(m, 'kreuz_messages_received_total', { type: 'HELLO' }), 2);
    assert.equal(sample(m, 'kreuz_messages_received_total', { type: 'CALL' }), 6);
    assert.equal(sample(m, 'kreuz_messages_received_total', { type: 'YIELD' }), 4);
    assert.equal(sample(m, 'kreuz_messages_sent_total', { type: 'WELCOME' }), 2);
    assert.equal(sample(m, 'kreuz_messages_sent_total', { type: 'INVOCATION' }), 5);
    assert.equal(sample(m, 'kreuz_messages_sent_total', { type: 'RESULT' }), 4);
    assert.equal(sample(m, 'kreuz_calls_total', { procedure: 'com.a' }), 3);
    assert.equal(sample(m, 'kreuz_calls_total', { procedure: 'com.b' }), 1);
    assert.equal(sample(m, 'kreuz_calls_total', { procedure: 'other' }), 1);
    assert.equal(sample(m, 'kreuz_calls_total', { procedure: 'none' }), 1);
    assert.equal(sample(m, 'kreuz_calls_total', { procedure: 'com.c' }), undefined, 'no label past the limit');
    assert.equal(sample(m, 'kreuz_call_errors_total', { procedure: 'com.a' }), 1);
    assert.equal(sample(m, 'kreuz_call_errors_total', { procedure: 'none' }), 1);
    assert.equal(sample(m, 'kreuz_call_duration_seconds_count', { procedure: 'com.a' }), 3);
    assert.equal(sample(m, 'kreuz_call_duration_seconds_bucket', { le: '+Inf', procedure: 'com.a' }), 3);
    const sum = sample(m, 'kreuz_call_duration_seconds_sum', { procedure: 'com.a' }) ?? -1;
    assert.ok(sum > 0 && sum < 5, `latency sum ${sum} s`);
    assert.ok((sample(m, 'kreuz_bytes_received_total', { transport: 'websocket' }) ?? 0) > 500, 'bytes received counted');
    assert.ok((sample(m, 'kreuz_bytes_sent_total', { transport: 'websocket' }) ?? 0) > 500, 'bytes sent counted');
    assert.equal(sample(m, 'kreuz_build_info', { version: node.info().version }), 1);
    assert.ok((sample(m, 'process_cpu_user_seconds_total') ?? -1) >= 0, 'process metrics are there too');
  });

  it('lets counters only grow and follows sessions as they leave', async () => {
    const before = sample(await scrape(), 'kreuz_messages_received_total', { type: 'CALL' }) ?? 0;
    const extra = await RawClient.join(node.url);
    assert.equal(sample(await scrape(), 'kreuz_sessions', { realm: 'realm1' }), 3);
    extra.send([6, {}, 'wamp.close.close_realm']);
    assert.equal((await extra.next())[0], 6, 'GOODBYE answered');
    extra.close();
    const m = await scrape();
    assert.equal(sample(m, 'kreuz_sessions', { realm: 'realm1' }), 2);
    assert.ok((sample(m, 'kreuz_messages_received_total', { type: 'CALL' }) ?? 0) >= before, 'counter did not go down');
  });

  it('serves /info: version, uptime, realms and sessions', async () => {
    const response = await fetch(httpUrl(node.url, '/info'));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    const info = await response.json();
    assert.equal(info.status, 'ok');
    assert.equal(info.router, 'kreuz');
    assert.match(info.version, /^\d+\.\d+\.\d+/);
    assert.equal(info.node, process.versions.node);
    assert.ok(typeof info.uptime === 'number' && info.uptime >= 0, 'uptime in seconds');
    assert.deepEqual(info.realms, [{ name: 'realm1', sessions: 2 }]);
    assert.equal(info.sessions, 2);
  });

  it('answers 405 to other methods, 426 at the WebSocket path, 404 elsewhere', async () => {
    assert.equal((await fetch(httpUrl(node.url, '/metrics'), { method: 'POST' })).status, 405);
    assert.equal((await fetch(httpUrl(node.url, '/ws'))).status, 426);
    assert.equal((await fetch(httpUrl(node.url, '/nothing'))).status, 404);
  });
});

describe('metrics off (the default)', () => {
  let node: RunningNode;
  before(async () => {
    node = await startNode({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await node?.close();
  });

  it('serves neither /metrics nor /info', async () => {
    assert.equal(node.metrics, undefined);
    assert.equal((await fetch(httpUrl(node.url, '/metrics'))).status, 404);
    assert.equal((await fetch(httpUrl(node.url, '/info'))).status, 404);
  });
});

describe('metrics: bytes of RawSocket connections', () => {
  it('counts the bytes of RawSocket connections under their transport', async () => {
    const node = await startNode({
      transports: [
        { type: 'websocket', endpoint: { host: '127.0.0.1', port: 0 } },
        { type: 'rawsocket', endpoint: { host: '127.0.0.1', port: 0 } },
      ],
      metrics: true,
    });
    try {
      const raw = await RawSocketWampClient.open({ host: '127.0.0.1', port: node.listeners[1].port });
      raw.send([1, 'realm1', { roles: { caller: {} } }]);
      assert.equal((await raw.next())[0], 2, 'WELCOME over RawSocket');
      raw.send([CALL, 1, {}, 'com.nobody', ['x'.repeat(2000)]]);
      assert.equal((await raw.next())[0], ERROR);
      raw.close();
      const m = parsePrometheus(await (await fetch(httpUrl(node.url, '/metrics'))).text());
      assert.ok((sample(m, 'kreuz_bytes_received_total', { transport: 'rawsocket' }) ?? 0) > 2000, 'RawSocket bytes received counted');
      assert.ok((sample(m, 'kreuz_bytes_sent_total', { transport: 'rawsocket' }) ?? 0) > 100, 'RawSocket bytes sent counted');
    } finally {
      await node.close();
    }
  });
});
