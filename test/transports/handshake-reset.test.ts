/**
 * A client that sends a WebSocket upgrade the router refuses (no endpoint at
 * the path, no subprotocol it speaks) and resets the connection at once must
 * not take the process down: the refused socket has nobody else listening
 * for its errors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startNode, type RunningNode } from '../../src/node/server.ts';
import { RawClient } from '../helpers/raw-client.ts';

let node: RunningNode;
before(async () => {
  node = await startNode({ host: '127.0.0.1', port: 0 });
});
after(() => node.close());

function upgradeThenReset(path: string, protocol: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(node.port, '127.0.0.1', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
      );
      socket.resetAndDestroy();
      resolve();
    });
    socket.on('error', () => {});
  });
}

describe('refused handshakes reset by the client', () => {
  it('leave the router serving (no endpoint, unknown subprotocol, a malformed URL), 50 times each', async () => {
    for (let i = 0; i < 50; i++) {
      await upgradeThenReset('/nope', 'wamp.2.json');
      await upgradeThenReset('/ws', 'not.wamp');
      await upgradeThenReset('http://[', 'wamp.2.json');
    }
    await new Promise((r) => setTimeout(r, 100));
    const client = await RawClient.join(node.url, 'json');
    client.send([48, 1, {}, 'wamp.session.count', []]);
    assert.equal((await client.next())[0], 50);
    client.close();
  });
});
