/**
 * Starting a node's cluster membership (NodeOptions.cluster). Loaded only
 * when a cluster is configured, so a single node never loads NATS.
 */
import { hostname } from 'node:os';
import type { Router } from '../core/router.ts';
import type { Logger } from '../core/logger.ts';
import { attachCluster, type Cluster } from '../cluster/cluster.ts';
import { CLUSTER_ID, FRAME_OVERHEAD, type ClusterOptions } from '../cluster/options.ts';
import type { Backplane } from '../cluster/backplane.ts';

/** The default node ID: the lower-cased hostname (other characters as "-") and the process ID. */
export function defaultNodeId(): string {
  const host =
    hostname()
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 40) || 'node';
  return `${host}-${process.pid}`;
}

export async function startCluster(router: Router, options: ClusterOptions, log: Logger, maxDepth: number): Promise<Cluster> {
  const node = options.node ?? defaultNodeId();
  if (!CLUSTER_ID.test(options.name))
    throw new Error(`cluster.name must be [a-z0-9-], 1 to 64 characters, not ${JSON.stringify(options.name)}`);
  if (!CLUSTER_ID.test(node)) throw new Error(`cluster.node must be [a-z0-9-], 1 to 64 characters, not ${JSON.stringify(node)}`);
  let backplane: Backplane;
  if (options.backplane) backplane = options.backplane;
  else {
    if (!options.nats) throw new Error('cluster: nats.servers is required');
    const { connectNatsBackplane } = await import('../cluster/nats.ts');
    backplane = await connectNatsBackplane({ ...options.nats, name: options.name, node, replicas: options.kv?.replicas });
  }
  if (backplane.maxFrame < 2 * FRAME_OVERHEAD) {
    await backplane.close();
    throw new Error(`cluster: NATS max_payload of ${backplane.maxFrame} bytes is too small; Kreuz needs at least ${2 * FRAME_OVERHEAD}`);
  }
  const cluster = await attachCluster(router, options, backplane, log, maxDepth);
  log.info({ cluster: options.name, node, incarnation: cluster.incarnation }, 'cluster: joined');
  return cluster;
}
