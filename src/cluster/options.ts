/**
 * How a node joins a cluster (`NodeOptions.cluster`; in a config file,
 * `kreuz.cluster`, see docs/clustering.md). Without it a node runs alone and
 * nothing of src/cluster/ is loaded.
 */
import type { Backplane } from './backplane.ts';

export interface NatsOptions {
  /** Every server of the NATS cluster, e.g. ["nats://127.0.0.1:4222"]. */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** A NATS credentials file (JWT + NKey seed). */
  creds?: string;
}

export interface ClusterOptions {
  /** The cluster's name, `[a-z0-9-]+`: NATS subjects and the KV bucket derive from it. */
  name: string;
  /** This node's ID, `[a-z0-9-]+`; default: the lower-cased hostname + "-" + the process ID. */
  node?: string;
  nats?: NatsOptions;
  /** KV replicas: 1 for one nats-server, 3 for three (default 1). */
  kv?: { replicas?: number };
  /** ms between heartbeats (default 500). */
  heartbeat?: number;
  /** ms of silence after which a node is dead (default 1500; at least 2 × heartbeat). */
  deadAfter?: number;
  /** Instead of NATS: a backplane already connected (tests, the in-process backplane). */
  backplane?: Backplane;
}

export const CLUSTER_DEFAULTS = { heartbeat: 500, deadAfter: 1500, replicas: 1 } as const;

export const CLUSTER_ID = /^[a-z0-9-]{1,64}$/;

/** Room a frame needs beyond the client message it carries (routing fields, IDs, details): a message limit is max_payload minus this. */
export const FRAME_OVERHEAD = 64 * 1024;
