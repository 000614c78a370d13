/** Graceful shutdown's first step: a listener stops accepting while open connections go on. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { listenWebSocket } from '../../src/transports/websocket.ts';
import { listenRawSocket } from '../../src/transports/rawsocket.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { makeRouter } from '../helpers/transport-router.ts';

/** Whether a TCP connection to `port` is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('stopAccepting', () => {
  const router = makeRouter();

  it('refuses new WebSocket and RawSocket connections, and the open session keeps working', async () => {
    const ws = await listenWebSocket(router, { port: 0 });
    const rs = await listenRawSocket(router, { port: 0 });
    after(() => Promise.all([ws.close(), rs.close()]));
    const client = await RawClient.join(ws.url, 'json');
    client.send([64, 1, {}, 'com.still.here']);
    assert.equal((await client.next())[0], 65);

    ws.stopAccepting();
    rs.stopAccepting();
    const ports = [ws, rs].map((l) => (l.address as { port: number }).port);
    assert.deepEqual(await Promise.all(ports.map(accepts)), [false, false]);

    client.send([48, 2, {}, 'com.still.here']);
    assert.equal((await client.next())[0], 68, 'the open session is still served');
    client.close();
  });
});
