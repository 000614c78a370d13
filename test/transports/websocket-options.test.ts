/** WebSocket transport options that are off by default and on when configured. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { useRouter } from '../helpers/node.ts';
import { RawClient } from '../helpers/raw-client.ts';

describe('permessage-deflate when configured', () => {
  const router = useRouter({ compression: true });

  it('negotiates permessage-deflate and still routes calls', async () => {
    const ws = new WebSocket(router.url, ['wamp.2.json'], { perMessageDeflate: true });
    await new Promise((resolve) => ws.once('open', resolve));
    assert.match(ws.extensions, /permessage-deflate/);
    ws.close();
    const callee = await RawClient.join(router.url, 'json');
    const caller = await RawClient.join(router.url, 'msgpack');
    callee.send([64, 1, {}, 'com.example.big']);
    await callee.next();
    const text = 'compressible '.repeat(1000);
    caller.send([48, 1, {}, 'com.example.big', [text]]);
    const invocation = await callee.next();
    callee.send([70, invocation[1], {}, invocation[4]]);
    assert.deepEqual(await caller.next(), [50, 1, {}, [text]]);
    callee.close();
    caller.close();
  });
});
