/**
 * kreuz.auth_secret: the made-up WAMP-CRA salt of an unknown user is derived
 * from it, so it stays the same across restarts (as a real user's does) and
 * a restart does not tell unknown users from known ones.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRouter } from '../../src/index.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { CHALLENGE } from '../helpers/wamp-codes.ts';

function config(secret: string | undefined): object {
  return {
    version: 2,
    workers: [
      {
        type: 'router',
        realms: [{ name: 'realm1', roles: [{ name: 'user', permissions: [{ uri: 'com.', match: 'prefix', allow: { call: true } }] }] }],
        transports: [
          {
            type: 'websocket',
            endpoint: { type: 'tcp', port: 0, interface: '127.0.0.1' },
            auth: {
              wampcra: {
                type: 'static',
                users: { alice: { secret: 'alice-pw', role: 'user', salt: 'c29tZXNhbHQ=', iterations: 1000, keylen: 32 } },
              },
            },
          },
        ],
      },
    ],
    ...(secret === undefined ? {} : { kreuz: { auth_secret: secret } }),
  };
}

/** Starts a node, asks for the CHALLENGE of `authid`, stops the node; returns the salt it carried. */
async function saltAfterStart(secret: string | undefined, authid: string): Promise<unknown> {
  const node = await createRouter(config(secret));
  try {
    const client = await RawClient.open(node.url);
    client.send([1, 'realm1', { roles: { caller: {} }, authmethods: ['wampcra'], authid }]);
    const challenge = await client.next();
    assert.equal(challenge[0], CHALLENGE);
    client.close();
    return (challenge[2] as Record<string, unknown>).salt;
  } finally {
    await node.close();
  }
}

describe('kreuz.auth_secret', () => {
  it('keeps the challenge of an unknown user the same across restarts, like a known one', async () => {
    const secret = 'a-long-node-secret-for-tests';
    assert.equal(await saltAfterStart(secret, 'alice'), 'c29tZXNhbHQ=');
    const first = await saltAfterStart(secret, 'mallory');
    assert.equal(typeof first, 'string');
    assert.equal(await saltAfterStart(secret, 'mallory'), first, 'same secret: same made-up salt after a restart');
    assert.notEqual(await saltAfterStart('another-long-node-secret', 'mallory'), first, 'derived from the secret');
  });
});
