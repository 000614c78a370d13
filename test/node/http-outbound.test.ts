/**
 * Crossbar's HTTP bridges run natively (src/node/native-components/): a node with a router
 * worker and a container of MessageForwarder and RESTCallee components, real HTTP targets on
 * 127.0.0.1 (fast, slow, failing, oversize), Autobahn|JS as the WAMP client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { validateConfig } from '../../src/config/load.ts';
import { toNodeOptions } from '../../src/config/to-node-options.ts';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import { Workers } from '../../src/node/workers/index.ts';
import { openAutobahn, type AbClient } from '../helpers/autobahn-js.ts';
import { freePort, recordingLogger, tempDir, until } from './workers-support.ts';

interface Seen {
  method: string;
  url: string;
  body: string;
  headers: IncomingMessage['headers'];
}

const seen: Seen[] = [];
let inFlight = 0;
let maxInFlight = 0;
const held: Array<() => void> = [];

const target: Server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const s = { method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString(), headers: req.headers };
    seen.push(s);
    const path = (req.url ?? '').split('?')[0];
    if (path === '/hold') {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      held.push(() => {
        inFlight--;
        res.end('ok');
      });
    } else if (path === '/api/slow') setTimeout(() => res.end('late'), 3000).unref();
    else if (path === '/api/fail') {
      res.writeHead(500, { 'X-Why': 'broken' });
      res.end('boom');
    } else if (path === '/api/big') res.end(Buffer.alloc(4096, 'x'));
    else {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'X-Echo': 'yes' });
      res.end(JSON.stringify(s));
    }
  });
});

let node: RunningNode;
let workers: Workers;
let client: AbClient;
let base: string;
let refused: number;
const logger = recordingLogger();

before(async () => {
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const address = target.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  refused = await freePort();
  const dir = tempDir('kreuz-http-out-');
  const config = {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [
          {
            name: 'realm1',
            roles: [
              {
                name: 'anonymous',
                permissions: [{ uri: '', match: 'prefix', allow: { call: true, register: true, publish: true, subscribe: true } }],
              },
            ],
          },
        ],
        transports: [{ type: 'websocket', endpoint: { type: 'tcp', interface: '127.0.0.1', port: 0 } }],
      },
      {
        type: 'container',
        components: [
          {
            type: 'class',
            classname: 'crossbar.bridge.rest.MessageForwarder',
            realm: 'realm1',
            extra: {
              subscriptions: [
                { topic: 'com.test.fwd', url: `${base}/events?token=secret-token` },
                { topic: 'com.test.hold', url: `${base}/hold` },
                { topic: 'com.test.refused', url: `http://127.0.0.1:${refused}/x` },
              ],
              expectedcode: 200,
              max_concurrency: 2,
              max_queue: 3,
            },
            transport: { type: 'websocket', endpoint: { type: 'tcp', host: '127.0.0.1', port: 8080 }, url: 'ws://127.0.0.1:8080/ws' },
          },
          {
            type: 'class',
            classname: 'crossbar.bridge.rest.RESTCallee',
            realm: 'realm1',
            extra: { procedure: 'com.test.rest', baseurl: `${base}/api/`, timeout: 1, max_response_size: 1024 },
            transport: { type: 'websocket', endpoint: { type: 'tcp', host: '127.0.0.1', port: 8080 }, url: 'ws://127.0.0.1:8080/ws' },
          },
        ],
      },
    ],
  };
  const validated = validateConfig(config, { baseDir: dir });
  node = await startNode(toNodeOptions(validated));
  workers = new Workers({ config: validated.config, cbdir: dir, router: node.router, logger, stopNode: () => {} });
  await workers.start();
  client = await openAutobahn(node.listeners[0].urls[0], 'json');
});

after(async () => {
  for (const release of held.splice(0)) release();
  await client?.close();
  await workers?.shutdown(() => node.shutdown());
  await node?.close();
  target.close();
  target.closeAllConnections();
});

describe('HTTP bridges run natively', () => {
  it('MessageForwarder POSTs each event as {"args","kwargs"} JSON', async () => {
    await client.session.publish('com.test.fwd', [1, 'two'], { k: true }, { acknowledge: true });
    await until(() => seen.some((s) => s.url.startsWith('/events')), 5000, 'the target got the event');
    const s = seen.find((x) => x.url.startsWith('/events'))!;
    assert.equal(s.method, 'POST');
    assert.equal(s.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(s.body), { args: [1, 'two'], kwargs: { k: true } });
  });

  it('caps requests in flight, drops beyond the queue (logged at warn), and never logs the query secret', async () => {
    for (let i = 0; i < 8; i++) await client.session.publish('com.test.hold', [i], {}, { acknowledge: true });
    await until(() => held.length === 2, 5000, 'two requests held');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(maxInFlight, 2, 'the target saw at most max_concurrency at once');
    await until(() => /an event is dropped/.test(logger.text()), 5000, 'a drop logged');
    while (held.length || inFlight) {
      for (const release of held.splice(0)) release();
      await new Promise((r) => setTimeout(r, 50));
      if (!held.length) break;
    }
    await until(() => seen.filter((s) => s.url === '/hold').length === 5, 5000, '2 in flight + 3 queued sent, 3 dropped');
    assert.equal(maxInFlight, 2);
    assert.ok(!logger.text().includes('secret-token'));
  });

  it('MessageForwarder: a refused connection is logged, the node keeps serving', async () => {
    await client.session.publish('com.test.refused', ['x'], {}, { acknowledge: true });
    await until(() => /was not reached \(ECONNREFUSED\)/.test(logger.text()), 5000, 'refusal logged');
    const r = await client.session.call('com.test.rest', [], { method: 'GET', url: 'echo' });
    assert.equal(r.code, 200);
  });

  it("RESTCallee: the target's answer as {code, content, headers}, with params, headers and body", async () => {
    const r = await client.session.call('com.test.rest', [], {
      method: 'PUT',
      url: 'echo',
      body: 'hello',
      headers: { 'X-Test': ['a'] },
      params: { q: '1' },
    });
    assert.equal(r.code, 200);
    assert.deepEqual(r.headers['X-Echo'], ['yes']);
    const echoed = JSON.parse(r.content);
    assert.equal(echoed.method, 'PUT');
    assert.equal(echoed.url, '/api/echo?q=1');
    assert.equal(echoed.body, 'hello');
    assert.equal(echoed.headers['x-test'], 'a');
    const positional = await client.session.call('com.test.rest', ['GET', 'echo']);
    assert.equal(positional.code, 200);
  });

  it('RESTCallee: a 500 is an answer; timeout, oversize, unreachable and escaping the baseurl are errors', async () => {
    const fail = await client.session.call('com.test.rest', [], { method: 'GET', url: 'fail' });
    assert.equal(fail.code, 500);
    assert.equal(fail.content, 'boom');
    const error = async (kwargs: Record<string, unknown>) => {
      try {
        await client.session.call('com.test.rest', [], kwargs);
      } catch (err: any) {
        return err;
      }
      assert.fail('no error');
    };
    const slow = await error({ method: 'GET', url: 'slow' });
    assert.equal(slow.error, 'wamp.error.runtime_error');
    assert.equal(slow.kwargs.reason, 'timeout');
    const big = await error({ method: 'GET', url: 'big' });
    assert.equal(big.kwargs.reason, 'response_too_large');
    const away = await error({ method: 'GET', url: `http://127.0.0.1:${refused}/` });
    assert.equal(away.error, 'wamp.error.invalid_argument');
    const up = await error({ method: 'GET', url: '../events' });
    assert.equal(up.error, 'wamp.error.invalid_argument');
    const noMethod = await error({ url: 'echo' });
    assert.equal(noMethod.error, 'wamp.error.invalid_argument');
  });
});

describe('config', () => {
  it('a bad extra is an error at its path', () => {
    const bad = {
      version: 2,
      workers: [
        {
          type: 'router',
          realms: [{ name: 'realm1' }],
          transports: [],
          components: [
            {
              type: 'class',
              classname: 'crossbar.bridge.rest.RESTCallee',
              realm: 'realm1',
              extra: { procedure: 'p', baseurl: 'file:///etc/passwd' },
            },
          ],
        },
      ],
    };
    assert.throws(() => validateConfig(bad, { baseDir: '/tmp' }), /extra\.baseurl.*http/s);
  });
});
