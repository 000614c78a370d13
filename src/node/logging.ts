/**
 * The node's logger: pino, as JSON lines (for log shippers) or as one
 * readable line per entry ("text", the default, as Crossbar prints; "syslogd"
 * without the time, which syslog or journald add; "none": the message and
 * its fields only, Crossbar's bare form). Level names are pino's or
 * Crossbar's (critical = fatal, none = silent). Secrets (tickets, secrets,
 * passwords, keys) are redacted wherever these paths reach them, whatever the
 * caller logs.
 */
import { pino, type Level, type Logger as PinoLogger } from 'pino';

export type LogLevel = Level | 'silent';
export type LogFormat = 'text' | 'json' | 'syslogd' | 'none';

/** The formats by name; Crossbar's `standard` is Kreuz's `text`. */
const LOG_FORMATS: Readonly<Record<string, LogFormat>> = { text: 'text', standard: 'text', json: 'json', syslogd: 'syslogd', none: 'none' };

/** A format from its name (Kreuz's or Crossbar's); undefined for anything else. */
export function parseLogFormat(name: string): LogFormat | undefined {
  const lower = name.toLowerCase();
  return Object.hasOwn(LOG_FORMATS, lower) ? LOG_FORMATS[lower] : undefined;
}

export const LOG_FORMAT_NAMES = Object.keys(LOG_FORMATS);

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

/** The same keys as plain names, for code that redacts by itself (the message trace). */
export const SECRET_KEY_NAMES: ReadonlySet<string> = new Set(SECRET_KEYS.map((key) => key.replace(/^"|"$/g, '')));

export const REDACT_PATHS = SECRET_KEYS.flatMap((key) => {
  const step = key.startsWith('"') ? `[${key}]` : `.${key}`;
  return [step.startsWith('.') ? key : step, `*${step}`, `*.*${step}`, `*.*.*${step}`];
});

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Text formats: the level name in colour (ANSI), the time dimmed (default false). */
  color?: boolean;
  /** Where lines go (default stdout). */
  destination?: { write(line: string): unknown };
}

/**
 * Lines any client can cause at will (refused handshakes, authorization
 * denials), at most this many a second each: the log must not become what a
 * client floods. The next line let through carries `suppressed`, the number
 * left out before it.
 */
export const CLIENT_LINES_PER_SECOND = 100;
const CLIENT_LINES = ['authorization denied', 'websocket: handshake refused', 'rawsocket: handshake refused'];

function clientLineLimit() {
  const windows = new Map<string, { start: number; count: number; suppressed: number }>();
  return function logMethod(this: PinoLogger, args: unknown[], method: (...args: unknown[]) => void): void {
    const msg = args[1];
    const key = typeof msg === 'string' ? CLIENT_LINES.find((prefix) => msg.startsWith(prefix)) : undefined;
    if (key === undefined) return method.apply(this, args);
    const now = performance.now();
    let w = windows.get(key);
    if (!w || now - w.start >= 1000) windows.set(key, (w = { start: now, count: 0, suppressed: w?.suppressed ?? 0 }));
    if (w.count >= CLIENT_LINES_PER_SECOND) {
      w.suppressed++;
      return;
    }
    w.count++;
    if (w.suppressed > 0 && typeof args[0] === 'object' && args[0] !== null) {
      args = [{ ...args[0], suppressed: w.suppressed }, ...args.slice(1)];
      w.suppressed = 0;
    }
    method.apply(this, args);
  };
}

export function createLogger(options: LoggerOptions = {}): PinoLogger {
  const destination = options.destination ?? process.stdout;
  const format = options.format ?? 'text';
  const text = format !== 'json';
  const line = { format, color: options.color ?? false };
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { logMethod: clientLineLimit() },
      // Text lines carry no pid/hostname; JSON keeps pino's defaults.
      ...(text ? { base: undefined } : {}),
    },
    text ? { write: (json: string) => destination.write(textLine(json, line)) } : destination,
  );
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** ANSI colours of the level names: grey, cyan, green, yellow, red, bold red. */
const LEVEL_COLORS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '1;31' };

/**
 * A pino JSON line as `time LEVEL message key=value ...` (format "text"),
 * `LEVEL message ...` ("syslogd") or `message ...` ("none").
 */
export function textLine(json: string, options: { format?: LogFormat; color?: boolean } = {}): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json);
  } catch {
    return json;
  }
  const { time, level, msg, ...fields } = entry;
  // Control characters (from a client: an origin, a URI) are escaped: no terminal escapes, no forged lines.
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s\p{Cc}]/u.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  const format = options.format ?? 'text';
  const paint = (code: string | undefined, s: string) => (options.color && code ? `\x1b[${code}m${s}\x1b[0m` : s);
  const name = paint(LEVEL_COLORS[level as number], (LEVEL_NAMES[level as number] ?? String(level)).padEnd(5));
  const head = format === 'none' ? '' : format === 'syslogd' ? `${name} ` : `${paint('2', String(time))} ${name} `;
  const text = String(msg ?? '').replace(/\p{Cc}/gu, (c) => JSON.stringify(c).slice(1, -1));
  return `${head}${text}${rest ? ` ${rest}` : ''}\n`;
}
