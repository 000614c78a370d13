/**
 * The node's logger: pino, as JSON lines (for log shippers) or as one
 * readable line per entry ("text", the default, as Crossbar prints). Level
 * names are pino's or Crossbar's (critical = fatal, none = silent). Secrets
 * (tickets, secrets, passwords, keys) are redacted wherever these paths
 * reach them, whatever the caller logs.
 */
import { pino, type Level, type Logger as PinoLogger } from 'pino';

export type LogLevel = Level | 'silent';
export type LogFormat = 'text' | 'json';

const CROSSBAR_LEVELS: Record<string, LogLevel> = { none: 'silent', critical: 'fatal' };
const PINO_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A pino level from a Crossbar or pino level name; undefined for anything else. */
export function parseLogLevel(name: string): LogLevel | undefined {
  const lower = name.toLowerCase();
  if (Object.hasOwn(CROSSBAR_LEVELS, lower)) return CROSSBAR_LEVELS[lower];
  return PINO_LEVELS.includes(lower) ? (lower as LogLevel) : undefined;
}

/** Keys whose values are never logged, at the top of a log entry or up to three objects deep. */
const SECRET_KEYS = [
  'ticket',
  'secret',
  'auth_secret',
  'authSecret',
  'password',
  'passphrase',
  'pass',
  'token',
  'creds',
  'key',
  'private_key',
  'privateKey',
  'signature',
  'salt',
  '"stored-key"',
  '"server-key"',
];

export const REDACT_PATHS = SECRET_KEYS.flatMap((key) => {
  const step = key.startsWith('"') ? `[${key}]` : `.${key}`;
  return [step.startsWith('.') ? key : step, `*${step}`, `*.*${step}`, `*.*.*${step}`];
});

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go (default stdout). */
  destination?: { write(line: string): unknown };
}

export function createLogger(options: LoggerOptions = {}): PinoLogger {
  const destination = options.destination ?? process.stdout;
  const text = (options.format ?? 'text') === 'text';
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Text lines carry no pid/hostname; JSON keeps pino's defaults.
      ...(text ? { base: undefined } : {}),
    },
    text ? { write: (line: string) => destination.write(textLine(line)) } : destination,
  );
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** A pino JSON line as `time LEVEL message key=value ...`. */
export function textLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json);
  } catch {
    return json;
  }
  const { time, level, msg, ...fields } = entry;
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  const name = (LEVEL_NAMES[level as number] ?? String(level)).padEnd(5);
  return `${String(time)} ${name} ${String(msg ?? '')}${rest ? ` ${rest}` : ''}\n`;
}
