/** `kreuz start`, `check`, `status` and `stop`. */
import { resolve } from 'node:path';
import { checkConfigFile, count, summary } from '../config/check.ts';
import { formatProblem } from '../config/errors.ts';
import { loadConfigFile, type ValidatedConfig } from '../config/load.ts';
import { routerWorkerOf } from '../config/schema.ts';
import { toNodeOptions } from '../config/to-node-options.ts';
import { createLogger, parseLogLevel, type LogFormat, type LogLevel } from '../node/logging.ts';
import type { NodeOptions } from '../node/options.ts';
import { DEFAULTS, startNode } from '../node/server.ts';
import { KREUZ_VERSION } from '../version.ts';
import { isRunningKreuz, removeOwnPidFile, runningNode, writePidFile } from './pidfile.ts';
import { noConfigMessage, resolveSource } from './source.ts';

/** A failure the user can fix; printed as `kreuz: message`, exit status 1. */
export class UsageError extends Error {}

export interface StartFlags {
  cbdir?: string;
  config?: string;
  loglevel?: LogLevel;
  logformat?: LogFormat;
  host?: string;
  port?: number;
  realm?: string;
}

interface Plan {
  options: NodeOptions;
  /** Where the pid file goes; none: no pid file (the flags-only form without --cbdir). */
  cbdir?: string;
  validated?: ValidatedConfig;
  describe(): string;
}

function plan(flags: StartFlags): Plan {
  const flagsGiven = flags.host !== undefined || flags.port !== undefined || flags.realm !== undefined;
  if (flagsGiven && flags.config !== undefined) throw new UsageError('--host, --port and --realm cannot be combined with --config');
  const source = resolveSource(flags);
  if (!flagsGiven && source.file) {
    const validated = loadConfigFile(source.file);
    const realms = routerWorkerOf(validated.config).realms.map((r) => r.name);
    return {
      options: toNodeOptions(validated),
      cbdir: source.cbdir,
      validated,
      describe: () => `(realm${realms.length > 1 ? 's' : ''} ${realms.join(', ')}; config ${source.file})`,
    };
  }
  if (!flagsGiven && (flags.config !== undefined || flags.cbdir !== undefined)) throw new UsageError(noConfigMessage(source.cbdir));
  // No config: one WebSocket endpoint, one realm, anonymous (what `npm start` runs).
  const realm = flags.realm ?? DEFAULTS.realms[0];
  return {
    options: { host: flags.host ?? DEFAULTS.host, port: flags.port ?? DEFAULTS.port, realms: [realm] },
    cbdir: flags.cbdir === undefined ? undefined : resolve(flags.cbdir),
    describe: () => `(realm ${realm}, anonymous)`,
  };
}

export async function start(flags: StartFlags): Promise<void> {
  const p = plan(flags);
  if (p.cbdir) {
    const running = runningNode(p.cbdir);
    if (running) throw new UsageError(`a node is already running from ${p.cbdir} (pid ${running.pid})`);
  }
  const logSettings = p.validated?.config.kreuz?.log;
  const logger = createLogger({
    level: flags.loglevel ?? (logSettings?.level ? parseLogLevel(logSettings.level) : undefined),
    format: flags.logformat ?? logSettings?.format,
  });
  for (const note of p.validated?.notes ?? []) logger.info({}, `config: ${formatProblem(note)}`);

  let node: Awaited<ReturnType<typeof startNode>>;
  try {
    node = await startNode({ ...p.options, logger });
  } catch (err) {
    throw new UsageError(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
  }
  logger.info({}, `kreuz ${KREUZ_VERSION} listening on ${node.urls.join(', ')} ${p.describe()}`);
  const cbdir = p.cbdir;
  if (cbdir) {
    writePidFile(cbdir, { pid: process.pid, started: new Date().toISOString(), urls: node.urls, config: p.validated?.file });
    process.once('exit', () => removeOwnPidFile(cbdir));
  }

  let signals = 0;
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // Under `npm start`, a terminal's Ctrl-C (or a kill of the process group) arrives twice within
    // milliseconds: from the terminal, and forwarded by npm. That is one request to stop.
    if (signals === 1 && process.env.npm_lifecycle_event && performance.now() - firstSignalAt < 500) return;
    firstSignalAt = performance.now();
    if (++signals > 1) {
      // At once: no waiting for calls or sockets; the OS closes them with the process.
      logger.warn({ signal }, 'second signal: stopping at once');
      process.exit(1);
    }
    logger.info({ signal }, 'stopping');
    node.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Prints the config's errors and notes, one a line (or "ok"); returns the exit status: 1 only on errors. */
export function check(flags: { cbdir?: string; config?: string }, out: (line: string) => void): number {
  const source = resolveSource(flags);
  if (!source.file) throw new UsageError(noConfigMessage(source.cbdir));
  const result = checkConfigFile(source.file);
  for (const problem of result.errors) out(`error: ${formatProblem(problem)}`);
  for (const note of result.notes) out(`note: ${formatProblem(note)}`);
  if (result.config) out(`${source.file}: ok (${summary(result.config)})`);
  else
    out(`${source.file}: ${count(result.errors.length, 'error')}${result.notes.length ? `, ${count(result.notes.length, 'note')}` : ''}`);
  return result.errors.length > 0 ? 1 : 0;
}

/** Exit status: 0 running, 3 not running (as LSB init scripts have it). */
export function status(flags: { cbdir?: string }, out: (line: string) => void): number {
  const { cbdir } = resolveSource({ cbdir: flags.cbdir });
  const running = runningNode(cbdir);
  if (!running) {
    out(`kreuz is not running from ${cbdir}`);
    return 3;
  }
  out(`kreuz is running from ${cbdir} (pid ${running.pid}, since ${running.started}), listening on ${running.urls.join(', ')}`);
  return 0;
}

/** SIGTERM to the node of the directory, then wait for it to exit. 0 stopped, 3 not running, 1 still running after `timeout` ms. */
export async function stop(flags: { cbdir?: string; timeout: number }, out: (line: string) => void): Promise<number> {
  const { cbdir } = resolveSource({ cbdir: flags.cbdir });
  const running = runningNode(cbdir);
  if (!running) {
    out(`kreuz is not running from ${cbdir}`);
    return 3;
  }
  process.kill(running.pid, 'SIGTERM');
  const deadline = Date.now() + flags.timeout;
  while (isRunningKreuz(running.pid)) {
    if (Date.now() > deadline) {
      out(`kreuz (pid ${running.pid}) is still running after ${flags.timeout} ms`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  out(`kreuz stopped (pid ${running.pid})`);
  return 0;
}
