/**
 * The cluster suite (cluster-suite.ts) over NATS: one real nats-server for
 * this file, each cluster of the suite on its own bucket and subjects (a
 * cluster name unique to this file and run). Without nats-server the file
 * skips, unless KREUZ_REQUIRE_NATS=1 (CI), where it fails instead.
 */
import { after, before, describe } from 'node:test';
import { connectNatsBackplane } from '../../src/cluster/nats.ts';
import { type NatsServer, skipWithoutNats, startNatsServer } from '../helpers/nats-server.ts';
import { clusterSuite } from './cluster-suite.ts';

const skip = skipWithoutNats();

if (skip) {
  describe('cluster over NATS', { skip }, () => {});
} else {
  let server: NatsServer | undefined;
  before(async () => {
    server = await startNatsServer();
  });
  after(async () => {
    await server?.stop();
  });

  const run = `${process.pid.toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  let clusters = 0;
  clusterSuite('NATS', async () => {
    if (!server) throw new Error('nats-server did not start');
    const url = server.url;
    const name = `suite-${run}-${++clusters}`;
    return {
      connect: (node: string) => connectNatsBackplane({ name, node, servers: [url] }),
      close: async () => undefined,
    };
  });
}
