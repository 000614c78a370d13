/** Running a node inside an application, from the same config a `kreuz start` reads. */
import { validateConfig } from '../config/load.ts';
import { toNodeOptions } from '../config/to-node-options.ts';
import type { Logger } from '../core/logger.ts';
import { startNode, type RunningNode } from './server.ts';

export interface CreateRouterOptions {
  /** Relative file paths in the config (TLS files, Unix sockets) are relative to this (default: the current directory). */
  baseDir?: string;
  /** Where `${VAR}` values come from (default process.env). */
  env?: Record<string, string | undefined>;
  /** The router's logger (default: silent). `createLogger()` makes a pino one. */
  logger?: Logger;
}

/**
 * Validates `config` (an object in the config file's shape) and starts a
 * node from it in this process. Throws ConfigError listing every problem.
 */
export async function createRouter(config: unknown, options: CreateRouterOptions = {}): Promise<RunningNode> {
  const validated = validateConfig(config, { env: options.env, baseDir: options.baseDir });
  return startNode({ ...toNodeOptions(validated), logger: options.logger });
}
