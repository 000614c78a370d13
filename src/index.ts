/**
 * Kreuz's public API: run a WAMP router node inside your application, with
 * the same config a `kreuz start` reads, and talk to it in-process.
 *
 *   import { createRouter } from 'kreuz';
 *   const node = await createRouter({ version: 2, workers: [{ type: 'router', realms: [...], transports: [...] }] });
 *   const session = await node.session('realm1');
 *   await session.register('com.example.add2', ([a, b]) => Number(a) + Number(b));
 *   ...
 *   await node.shutdown();
 */
export { createRouter, type CreateRouterOptions } from './node/embed.ts';
export { startNode, type NodeInfo, type RunningNode } from './node/server.ts';
export type {
  AuthConfig,
  MetricsOptions,
  NodeOptions,
  PathService,
  RawSocketServiceOptions,
  RealmOptions,
  TransportOptions,
  WebSocketServiceOptions,
} from './node/options.ts';
export {
  LocalSession,
  Result,
  type CallResult,
  type EventHandler,
  type LocalRegistration,
  type LocalSessionOptions,
  type LocalSubscription,
  type Procedure,
} from './core/local-session.ts';
export { WampError } from './wamp/wamp-error.ts';
export { WampFloat } from './wamp/payload.ts';
export { CloseUri, CrossbarUri, ErrorUri, KreuzUri } from './wamp/uris.ts';
export { createLogger, parseLogLevel, type LogFormat, type LogLevel, type LoggerOptions } from './node/logging.ts';
export { ConfigError, type ConfigProblem } from './config/errors.ts';
export { findConfigFile, loadConfigFile, validateConfig, type ValidatedConfig } from './config/load.ts';
export { toNodeOptions } from './config/to-node-options.ts';
export { configSchema, type KreuzConfig } from './config/schema.ts';
export type { Logger } from './core/logger.ts';
export { Router } from './core/router.ts';
export type { GateVerdict, GuardedMessage, Refusal, RouterExtension } from './core/extensions.ts';
export type { RealmEvents } from './core/hooks.ts';
export { KREUZ_VERSION } from './version.ts';
