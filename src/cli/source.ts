/** Which config file and node directory a command works on (--cbdir, --config, $CROSSBAR_DIR). */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { CONFIG_FILE_NAMES, findConfigFile } from '../config/load.ts';

/** Kreuz's node directory when none is given. */
export const DEFAULT_CBDIR = '.kreuz';
/** Crossbar's: used when it has a config and .kreuz has none, so a Crossbar project runs as it is. */
export const CROSSBAR_CBDIR = '.crossbar';

export interface Source {
  /** The node directory: the pid file (and node.log with --logtofile) lives here. */
  cbdir: string;
  /** The config file, if there is one. */
  file: string | undefined;
  /** The directories looked in for a config, when no file was named (for the "no config" message). */
  searched: string[];
  /** Whether a directory or file was named (--cbdir, --config, $CROSSBAR_DIR): then a missing config is an error. */
  named: boolean;
}

export interface SourceFlags {
  cbdir?: string;
  config?: string;
}

/**
 * The node directory when `--cbdir` is not given: `$CROSSBAR_DIR` (as
 * Crossbar), else `.kreuz` if it has a config, else `.crossbar` if it has
 * one, else `.kreuz`. Candidates in the order they are looked at.
 */
function defaultCbdirs(env: NodeJS.ProcessEnv): string[] {
  if (env.CROSSBAR_DIR) return [resolve(env.CROSSBAR_DIR)];
  return [resolve(DEFAULT_CBDIR), resolve(CROSSBAR_CBDIR)];
}

/**
 * `--config FILE` wins: relative to the current directory, or where no such
 * file is there, to the node directory (Crossbar's rule); the node directory
 * is then `--cbdir` or the file's directory. Otherwise the config is
 * `config.yaml` (or .yml, .json) in the node directory.
 */
export function resolveSource(opts: SourceFlags, env: NodeJS.ProcessEnv = process.env): Source {
  const candidates = opts.cbdir === undefined ? defaultCbdirs(env) : [resolve(opts.cbdir)];
  const named = opts.cbdir !== undefined || opts.config !== undefined || Boolean(env.CROSSBAR_DIR);
  if (opts.config !== undefined) {
    const file = configPath(opts.config, candidates);
    return { file, cbdir: resolve(opts.cbdir ?? dirname(file)), searched: [], named };
  }
  for (const cbdir of candidates) {
    const file = findConfigFile(cbdir);
    if (file) return { cbdir, file, searched: candidates, named };
  }
  return { cbdir: candidates[0], file: undefined, searched: candidates, named };
}

function configPath(config: string, cbdirs: string[]): string {
  const here = resolve(config);
  if (isAbsolute(config) || existsSync(here)) return here;
  // Crossbar reads --config relative to its node directory.
  for (const cbdir of cbdirs) {
    const there = resolve(cbdir, config);
    if (existsSync(there)) return there;
  }
  return here;
}

export function noConfigMessage(source: Source): string {
  const where = source.searched.length > 1 ? source.searched.join(' or ') : source.cbdir;
  return `no config in ${where} (looked for ${CONFIG_FILE_NAMES.join(', ')}); create one with: kreuz init --cbdir ${source.cbdir}`;
}
