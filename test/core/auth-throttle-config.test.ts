/**
 * The `trusted_proxies` setting (issue 11) from the config file to the
 * transport: validated, mapped to the node options of websocket, web and
 * universal transports, and in effect in a node started from a config.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, formatProblem } from '../../src/config/errors.ts';
import { validateConfig } from '../../src/config/load.ts';
import { toNodeOptions } from '../../src/config/to-node-options.ts';
import { createRouter } from '../../src/node/embed.ts';
import { ROLES, WsClient } from '../auth/ws-client.ts';

const config = (transport: unknown) => ({
  version: 2,
  workers: [{ type: 'router', realms: [{ name: 'realm1' }], transports: [transport] }],
});
const endpoint = { type: 'tcp', port: 0, interface: '127.0.0.1' };
const PROXIES = ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', 'unix'];

function problems(raw: unknown): string[] {
  try {
    validateConfig(raw, { env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
  assert.fail('expected the config to be refused');
}

describe('config: trusted_proxies', () => {
  it('is a websocket option of websocket, web and universal transports', () => {
    const options = { trusted_proxies: PROXIES };
    const transports = [
      { type: 'websocket', endpoint, options },
      { type: 'web', endpoint, paths: { ws: { type: 'websocket', options } } },
      { type: 'universal', endpoint, websocket: { '/ws': { options } } },
    ];
    const mapped = transports.map((t) => toNodeOptions(validateConfig(config(t), { env: {} })).transports![0]);
    assert.deepEqual((mapped[0] as { trustedProxies?: string[] }).trustedProxies, PROXIES);
    assert.deepEqual((mapped[1] as { paths: Record<string, { trustedProxies?: string[] }> }).paths['/ws'].trustedProxies, PROXIES);
    assert.deepEqual((mapped[2] as { paths: Record<string, { trustedProxies?: string[] }> }).paths['/ws'].trustedProxies, PROXIES);
  });

  it('refuses what is not an IP address, CIDR range or "unix"; Crossbar\'s trust_x_forwarded_for points to it', () => {
    const bad = problems(
      config({ type: 'websocket', endpoint, options: { trusted_proxies: ['127.0.0.1', 'proxy.example.com', '10.0.0.0/40'] } }),
    );
    assert.equal(bad.length, 2, bad.join('\n'));
    assert.match(bad[0], /trusted_proxies.*1.*must be an IP address, a CIDR range/);
    assert.match(bad[1], /trusted_proxies.*2/);
    const crossbar = problems(config({ type: 'websocket', endpoint, options: { trust_x_forwarded_for: true } }));
    assert.match(crossbar.join('\n'), /trust_x_forwarded_for.*not supported by Kreuz.*trusted_proxies/);
  });

  it("a node from such a config shows the forwarded client as the session's transport peer", async () => {
    for (const trusted of [true, false]) {
      const node = await createRouter(
        config({ type: 'websocket', endpoint, options: { auto_ping_interval: 0, ...(trusted && { trusted_proxies: ['127.0.0.1'] }) } }),
      );
      try {
        const client = await WsClient.open(node.url, '198.51.100.7');
        client.send([1, 'realm1', { roles: ROLES }]);
        const welcome = await client.next();
        assert.equal(welcome[0], 2);
        client.send([48, 1, {}, 'wamp.session.get', [welcome[1]]]);
        const result = await client.next();
        assert.equal(result[0], 50, JSON.stringify(result));
        const transport = (result[3] as Array<{ transport: Record<string, string> }>)[0].transport;
        if (trusted) {
          assert.equal(transport.peer, 'tcp:198.51.100.7');
          assert.match(transport.via, /^tcp:(::ffff:)?127\.0\.0\.1:\d+$/);
        } else {
          assert.match(transport.peer, /^tcp:(::ffff:)?127\.0\.0\.1:\d+$/, 'not trusted: the header is ignored');
          assert.equal(transport.via, undefined);
        }
        client.close();
      } finally {
        await node.close();
      }
    }
  });
});
