/**
 * The logger of `kreuz start` from its flags and the config's `kreuz.log`:
 * Crossbar's `--logformat`, `--color`, `--logtofile` and `--logdir` included.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { createLogger, parseLogFormat, parseLogLevel, type LogFormat, type LogLevel } from '../node/logging.ts';

export type ColorChoice = 'true' | 'false' | 'auto';

export interface LogFlags {
  loglevel?: LogLevel;
  logformat?: LogFormat;
  color?: ColorChoice;
  logtofile?: boolean;
  logdir?: string;
}

/** The file Crossbar's --logtofile writes, in --logdir or the node directory. */
export const LOG_FILE = 'node.log';

export interface NodeLogger {
  logger: Logger;
  /** The log file, with --logtofile. */
  file?: string;
}

/**
 * `baseDir` is the node directory (the current one without): the log file
 * goes there, and a relative --logdir is relative to it, as in Crossbar.
 */
export function nodeLogger(flags: LogFlags, settings: { level?: string; format?: string } | undefined, baseDir: string): NodeLogger {
  const level = flags.loglevel ?? (settings?.level ? parseLogLevel(settings.level) : undefined);
  const format = flags.logformat ?? (settings?.format ? parseLogFormat(settings.format) : undefined);
  if (!flags.logtofile) {
    // --logdir alone changes nothing, as in Crossbar.
    return { logger: createLogger({ level, format, color: colorOn(flags.color ?? 'auto') }) };
  }
  const dir = flags.logdir ? resolve(baseDir, flags.logdir) : baseDir;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, LOG_FILE);
  // Synchronous writes: nothing is lost when the process exits right after a line.
  const destination = pino.destination({ dest: file, append: true, sync: true });
  // Crossbar rotates node.log daily; Kreuz leaves rotation to logrotate: SIGHUP reopens the file.
  process.on('SIGHUP', () => destination.reopen());
  return { logger: createLogger({ level, format, destination }), file };
}

/** Crossbar's --color: auto is on for a terminal, unless NO_COLOR is set. */
function colorOn(choice: ColorChoice): boolean {
  if (choice !== 'auto') return choice === 'true';
  return process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}
