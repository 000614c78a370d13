/** `kreuz start`, `check`, `status` and `stop`. */
import { resolve } from 'node:path';
import { checkConfigFile, count, summary } from '../config/check.ts';
import { formatProblem } from '../config/errors.ts';
import { loadConfigFile, type ValidatedConfig } from '../config/load.ts';
import { routerWorkerOf } from '../config/schema.ts';
import { toNodeOptions } from '../config/to-node-options.ts';
import type { NodeOptions } from '../node/options.ts';
import { DEFAULTS, startNode } from '../node/server.ts';
import { Workers } from '../node/workers/index.ts';
import { pythonProblem } from '../node/workers/python.ts';
import { KREUZ_VERSION } from '../version.ts';
import { nodeLogger, type LogFlags } from './log-setup.ts';
import { isRunningKreuz, removeOwnPidFile, runningNode, writePidFile } from './pidfile.ts';
import { configReloadSource, writeReloadRecord } from './reload.ts';
import { noConfigMessage, resolveSource, type SourceFlags } from './source.ts';

/** A failure the user can fix; printed as `kreuz: message`, exit status 1. */
export class UsageError extends Error {}

export interface StartFlags extends SourceFlags, LogFlags {
  /** Crossbar's --shutdownafter: seconds after which the node stops as on SIGTERM. */
  shutdownafter?: number;
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
  if (!flagsGiven && source.named) throw new UsageError(noConfigMessage(source));
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
  const { logger } = nodeLogger(flags, p.validated?.config.kreuz?.log, p.cbdir ?? process.cwd());
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
  // Guest and container workers, router components: after the node listens; at shutdown, after the node.
  const workers = new Workers({
    config: p.validated?.config,
    cbdir: p.validated?.baseDir ?? process.cwd(),
    router: node.router,
    logger,
    stopNode: (reason) => {
      logger.info({}, `stopping: ${reason}`);
      process.kill(process.pid, 'SIGTERM');
    },
  });

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
    workers
      .shutdown(() => node.shutdown())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // SIGHUP (kreuz reload): re-read the config, apply what changes live (src/cli/reload.ts). With --logtofile
  // the log file is reopened first (log-setup.ts), so the reload's lines go to the new one.
  const validated = p.validated;
  if (validated?.file) {
    node.reloadSource = configReloadSource({
      file: validated.file,
      node,
      logger,
      started: validated.config,
      loglevelFlag: flags.loglevel,
      cbdir,
    });
  }
  process.on('SIGHUP', () => {
    const began = Date.now();
    node.reloadFromSource().then(
      (result) => {
        if (node.reloadSource || !cbdir) return; // the source wrote its result
        const rejected = result.refused[0]?.reason ?? 'nothing to reload';
        logger.warn({}, `reload: ${rejected}`);
        writeReloadRecord(cbdir, { pid: process.pid, began, rejected, ...result }, logger);
      },
      (err: unknown) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'reload failed'),
    );
  });
  if (flags.shutdownafter !== undefined) stopAfter(flags.shutdownafter, logger);
  try {
    await workers.start();
  } catch (err) {
    if (workers.stoppingNow) return; // a signal came first: its shutdown runs
    await workers.shutdown(() => node.shutdown({ timeout: 0 }));
    throw new UsageError(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Crossbar's --shutdownafter: the graceful stop of a SIGTERM, `seconds` after the start; a signal before it cancels the timer. */
function stopAfter(seconds: number, logger: { info(fields: object, message: string): void }): void {
  const timer = setTimeout(() => {
    logger.info({ seconds }, 'stopping: --shutdownafter');
    process.kill(process.pid, 'SIGTERM');
  }, seconds * 1000);
  const cancel = () => clearTimeout(timer);
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
}

/** Prints the config's errors and notes, one a line (or "ok"); returns the exit status: 1 only on errors. */
export function check(flags: { cbdir?: string; config?: string }, out: (line: string) => void): number {
  const source = resolveSource(flags);
  if (!source.file) throw new UsageError(noConfigMessage(source));
  const result = checkConfigFile(source.file, { python: pythonProblem });
  for (const problem of result.errors) out(`error: ${formatProblem(problem)}`);
  for (const note of result.notes) out(`note: ${formatProblem(note)}`);
  if (result.config) out(`${source.file}: ok (${summary(result.config)})`);
  else
    out(`${source.file}: ${count(result.errors.length, 'error')}${result.notes.length ? `, ${count(result.notes.length, 'note')}` : ''}`);
  return result.errors.length > 0 ? 1 : 0;
}

/** Crossbar's exit status of a failed `status --assert` (EX_UNAVAILABLE). */
export const ASSERT_FAILED = 69;

/**
 * Exit status: 0 running, 3 not running (as LSB init scripts have it). With
 * `assert` (Crossbar's --assert): 0 when the node is in that state, else 69, as Crossbar.
 */
export function status(flags: SourceFlags & { assert?: 'running' | 'stopped' }, out: (line: string) => void): number {
  const { cbdir } = resolveSource(flags);
  const running = runningNode(cbdir);
  if (!running) out(`kreuz is not running from ${cbdir}`);
  else out(`kreuz is running from ${cbdir} (pid ${running.pid}, since ${running.started}), listening on ${running.urls.join(', ')}`);
  if (flags.assert === undefined) return running ? 0 : 3;
  return (flags.assert === 'running') === Boolean(running) ? 0 : ASSERT_FAILED;
}

/** SIGTERM to the node of the directory, then wait for it to exit. 0 stopped, 3 not running, 1 still running after `timeout` ms. */
export async function stop(flags: SourceFlags & { timeout: number }, out: (line: string) => void): Promise<number> {
  const { cbdir } = resolveSource(flags);
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
