/**
 * Reloading the config of a running `kreuz start`: on SIGHUP (what `kreuz
 * reload` sends, found by the pid file), and for kreuz.node.reload.
 *
 * The node re-reads its config file and checks it as `kreuz check` does: a
 * config with errors is refused whole, nothing applied. Otherwise what can
 * change live is applied (src/node/reload.ts: realms, roles, auth, TLS
 * certificates, limits; here also kreuz.log.level) and the rest refused, each
 * with its path in the config file and why: a restart applies those.
 *
 * How `kreuz reload` learns the result: the node writes it to
 * `<cbdir>/node.reload.json` (beside the pid file) with the time the reload
 * began; the command sends SIGHUP, waits for a result begun after its
 * signal, and prints it.
 */
import { renameSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { checkConfigFile } from '../config/check.ts';
import { formatPath } from '../config/errors.ts';
import { normalizeUrlPath } from '../config/paths.ts';
import { routerWorkerOf, type KreuzConfig, type RouterWorkerConfig } from '../config/schema.ts';
import { toNodeOptions } from '../config/to-node-options.ts';
import { parseLogLevel, type LogLevel } from '../node/logging.ts';
import type { ConfigPath, PathNamer, ReloadResult } from '../node/reload.ts';
import type { RunningNode } from '../node/server.ts';
import { isRunningKreuz, runningNode } from './pidfile.ts';
import { resolveSource, type SourceFlags } from './source.ts';

export const RELOAD_FILE = 'node.reload.json';

/** The result file: a reload's result, when it began, and whether the config was refused whole. */
export interface ReloadRecord extends ReloadResult {
  pid: number;
  /** ms since the epoch when the reload began (after the signal arrived). */
  began: number;
  /** Why nothing was even tried (the config has errors; no config to re-read); absent when the reload ran. */
  rejected?: string;
}

export interface ConfigReloadOptions {
  file: string;
  node: RunningNode;
  logger: Logger;
  /** The config the node was started with: parts that change only with a restart are compared with it. */
  started: KreuzConfig;
  /** --loglevel given: it wins over the config's kreuz.log.level. */
  loglevelFlag?: LogLevel;
  /** Where the result file goes (the node directory); none: not written. */
  cbdir?: string;
}

/** The node's reload source: re-read, check, apply; the result also in the result file. */
export function configReloadSource(options: ConfigReloadOptions): () => Promise<ReloadResult> {
  let previous = options.started;
  return async () => {
    const began = Date.now();
    const { result, rejected, config } = await reloadConfig(options, previous);
    if (config) previous = config;
    if (options.cbdir)
      writeReloadRecord(options.cbdir, { pid: process.pid, began, ...(rejected && { rejected }), ...result }, options.logger);
    return result;
  };
}

async function reloadConfig(
  o: ConfigReloadOptions,
  previous: KreuzConfig,
): Promise<{ result: ReloadResult; rejected?: string; config?: KreuzConfig }> {
  const log = o.logger;
  log.info({ config: o.file }, 'reload: reading the config');
  const checked = checkConfigFile(o.file);
  if (!checked.config) {
    const n = checked.errors.length;
    const rejected = `the config has ${n} error${n === 1 ? '' : 's'}: nothing was applied`;
    const refused = [{ path: '', reason: rejected }, ...checked.errors.map((e) => ({ path: e.path, reason: e.message }))];
    for (const r of refused) log.warn({}, `reload: refused ${r.path ? `${r.path}: ` : ''}${r.reason}`);
    return { result: { applied: [], refused }, rejected };
  }
  const config = checked.config;
  const options = toNodeOptions({ config, baseDir: dirname(o.file) });
  const fixed = restartOnly(o.started, config);
  const level = logLevel(o, previous, config);
  const result = await o.node.reload(options, configNamer(config, previous));
  for (const r of fixed) log.warn({}, `reload: refused ${r.path}: ${r.reason}`);
  return {
    result: { applied: [...level.applied, ...result.applied], refused: [...level.refused, ...fixed, ...result.refused] },
    config,
  };
}

/** A changed kreuz.log.level, unless --loglevel says otherwise. */
function logLevel(o: ConfigReloadOptions, previous: KreuzConfig, config: KreuzConfig): ReloadResult {
  const out: ReloadResult = { applied: [], refused: [] };
  const levelOf = (c: KreuzConfig) => parseLogLevel(c.kreuz?.log?.level ?? 'info');
  const wanted = levelOf(config);
  if (!wanted || wanted === levelOf(previous) || wanted === o.logger.level) return out;
  if (o.loglevelFlag) {
    out.refused.push({ path: 'kreuz.log.level', reason: `--loglevel ${o.loglevelFlag} was given on the command line and wins` });
    return out;
  }
  const before = o.logger.level;
  o.logger.level = wanted;
  out.applied.push(`kreuz.log.level: ${before} -> ${wanted}`);
  o.logger.info({}, `reload: applied kreuz.log.level: ${before} -> ${wanted}`);
  return out;
}

/** What the node runs from its config besides the router (and the router's realms and transports): fixed until a restart. */
function restartOnly(started: KreuzConfig, now: KreuzConfig): Array<{ path: string; reason: string }> {
  const refused: Array<{ path: string; reason: string }> = [];
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  const others = (c: KreuzConfig) => c.workers.filter((w) => w.type !== 'router');
  if (differs(others(started), others(now))) {
    refused.push({ path: 'workers', reason: 'guest and container workers start and stop only with a restart: a restart applies it' });
  }
  const w = now.workers.findIndex((x) => x.type === 'router');
  const before = routerWorkerOf(started);
  const after = routerWorkerOf(now);
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    if (key === 'realms' || key === 'transports') continue;
    if (differs(before[key as keyof RouterWorkerConfig], after[key as keyof RouterWorkerConfig])) {
      const what = key === 'components' ? 'router components start and stop' : "the router worker's settings change";
      refused.push({ path: formatPath(['workers', w, key]), reason: `${what} only with a restart: a restart applies it` });
    }
  }
  if (differs(started.kreuz?.log?.format, now.kreuz?.log?.format)) {
    refused.push({ path: 'kreuz.log.format', reason: 'the log format changes only with a restart: a restart applies it' });
  }
  if (differs(started.kreuz?.python, now.kreuz?.python)) {
    refused.push({
      path: 'kreuz.python',
      reason: 'the Python of workers and components changes only with a restart: a restart applies it',
    });
  }
  return refused;
}

const KREUZ_KEYS: Readonly<Record<string, readonly string[]>> = {
  authSecret: ['kreuz', 'auth_secret'],
  shutdownTimeout: ['kreuz', 'shutdown', 'timeout'],
  callQueueLimit: ['kreuz', 'call_queue_limit'],
  metrics: ['kreuz', 'metrics'],
  info: ['kreuz', 'info'],
  cluster: ['kreuz', 'cluster'],
};

/**
 * Paths in the node's options as the config file names them: realms by
 * name in the new config (a removed one in the previous), transports by
 * index, `limits.callsInFlight` as `kreuz.limits.calls_in_flight`. A
 * transport setting the config spells differently is named by its entry,
 * with the option in brackets.
 */
export function configNamer(config: KreuzConfig, previous: KreuzConfig): PathNamer {
  const w = Math.max(
    0,
    config.workers.findIndex((x) => x.type === 'router'),
  );
  const router = routerWorkerOf(config);
  const old = routerWorkerOf(previous);
  return (path, realm) => {
    const [head, ...rest] = path;
    if (head === undefined) return '';
    if (head === 'realms') {
      if (realm === undefined) return formatPath(['workers', w, 'realms']);
      let index = router.realms.findIndex((r) => r.name === realm);
      if (index < 0) index = old.realms.findIndex((r) => r.name === realm);
      if (index < 0) return formatPath(['workers', w, 'realms']);
      return formatPath(['workers', w, 'realms', index, ...realmKey(rest.slice(1))]);
    }
    if (head === 'transports') {
      const index = rest[0] as number;
      const entry = (router.transports[index] ?? old.transports[index]) as Record<string, unknown> | undefined;
      return transportPath(['workers', w, 'transports', index], entry, rest.slice(1));
    }
    if (head === 'limits') return formatPath(['kreuz', 'limits', ...rest.map((k) => snake(String(k)))]);
    const kreuz = Object.hasOwn(KREUZ_KEYS, String(head)) ? KREUZ_KEYS[String(head)] : undefined;
    return kreuz ? formatPath([...kreuz, ...rest]) : formatPath(path);
  };
}

function realmKey(rest: ConfigPath): PropertyKey[] {
  const [key, ...more] = rest;
  if (key === 'eventHistory') return ['store', 'event-history', ...more];
  if (key === 'metaApi') return ['options', 'enable_meta_api', ...more];
  return [...rest];
}

function transportPath(base: PropertyKey[], entry: Record<string, unknown> | undefined, rest: ConfigPath): string {
  const [key, ...more] = rest;
  let at: PropertyKey[];
  let left: readonly PropertyKey[];
  if (key === undefined) return formatPath(base);
  if (key === 'tls') [at, left] = [['endpoint', 'tls'], more];
  else if (key === 'endpoint') {
    const [field, ...deeper] = more;
    [at, left] = field === 'host' ? [['endpoint', 'interface'], deeper] : [['endpoint', ...(field === undefined ? [] : [field])], deeper];
  } else if (key === 'paths' && more.length > 0) {
    const [name, ...deeper] = more;
    // The options have the paths normalized ("/ws"); the config has them as written ("ws").
    const keyIn = (paths: unknown) =>
      paths && typeof paths === 'object' ? Object.keys(paths).find((k) => normalizeUrlPath(k) === name) : undefined;
    const universal = entry?.type === 'universal';
    const web = universal ? (entry.web as { paths?: unknown } | undefined)?.paths : entry?.paths;
    const ws = universal ? keyIn(entry.websocket) : undefined;
    const where = ws !== undefined ? ['websocket', ws] : [...(universal ? ['web', 'paths'] : ['paths']), keyIn(web) ?? name];
    [at, left] = [where, deeper];
  } else if (key === 'rawsocket' && more[0] === 'auth') [at, left] = [['rawsocket', 'auth'], more.slice(1)];
  else if (key === 'auth' || key === 'type') [at, left] = [[key], more];
  else [at, left] = [[], rest];
  // What follows an auth block is the config's own keys; anything else is Kreuz's spelling of an option.
  if (left.length === 0 || at[at.length - 1] === 'auth' || left[0] === 'auth') return formatPath([...base, ...at, ...left]);
  return `${formatPath([...base, ...at])} (${formatPath(left)})`;
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

// ---- the result file, and `kreuz reload` ----

export function reloadFilePath(cbdir: string): string {
  return join(cbdir, RELOAD_FILE);
}

/** Written whole or not at all (a temporary file renamed), so a reader never sees half of it. */
export function writeReloadRecord(cbdir: string, record: ReloadRecord, log: Logger): void {
  const file = reloadFilePath(cbdir);
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, file);
  } catch (err) {
    log.warn({ file, err: err instanceof Error ? err.message : String(err) }, 'reload: cannot write the result file');
  }
}

function readRecord(cbdir: string): ReloadRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(reloadFilePath(cbdir), 'utf8')) as ReloadRecord;
    return typeof record.began === 'number' && Array.isArray(record.applied) && Array.isArray(record.refused) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** `kreuz reload`'s exit statuses. */
export const RELOAD_STATUS = { ok: 0, failed: 1, refusedSome: 2, notRunning: 3 } as const;

/**
 * SIGHUP to the node of the directory, then the result it writes. Exit
 * status: 0 applied, nothing refused; 2 applied, some parts refused (a
 * restart applies them); 1 the config has errors (nothing applied) or no
 * result within `timeout` ms; 3 not running.
 */
export async function reload(flags: SourceFlags & { timeout: number }, out: (line: string) => void): Promise<number> {
  const { cbdir } = resolveSource(flags);
  const running = runningNode(cbdir);
  if (!running) {
    out(`kreuz is not running from ${cbdir}`);
    return RELOAD_STATUS.notRunning;
  }
  const sent = Date.now();
  process.kill(running.pid, 'SIGHUP');
  const deadline = sent + flags.timeout;
  let record = readRecord(cbdir);
  while (!record || record.pid !== running.pid || record.began < sent) {
    if (Date.now() > deadline || !isRunningKreuz(running.pid)) {
      out(`kreuz (pid ${running.pid}) gave no reload result within ${flags.timeout} ms (see its log)`);
      return RELOAD_STATUS.failed;
    }
    await new Promise((r) => setTimeout(r, 25));
    record = readRecord(cbdir);
  }
  for (const line of record.applied) out(`applied: ${line}`);
  // The first refusal of a rejected reload is its summary, printed last.
  for (const r of record.rejected ? record.refused.slice(1) : record.refused) out(`refused: ${r.path ? `${r.path}: ` : ''}${r.reason}`);
  if (record.rejected) {
    out(`kreuz (pid ${running.pid}) did not reload: ${record.rejected}`);
    return RELOAD_STATUS.failed;
  }
  const summary =
    record.applied.length + record.refused.length === 0
      ? 'nothing changed'
      : `${record.applied.length} applied, ${record.refused.length} refused${record.refused.length ? ' (a restart applies those)' : ''}`;
  out(`kreuz reloaded (pid ${running.pid}): ${summary}`);
  return record.refused.length > 0 ? RELOAD_STATUS.refusedSome : RELOAD_STATUS.ok;
}
