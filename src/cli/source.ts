/** Which config file and node directory a command works on (--cbdir, --config). */
import { dirname, resolve } from 'node:path';
import { CONFIG_FILE_NAMES, findConfigFile } from '../config/load.ts';

/** Kreuz's node directory when none is given (Crossbar's is .crossbar). */
export const DEFAULT_CBDIR = '.kreuz';

export interface Source {
  /** The node directory: the pid file lives here. */
  cbdir: string;
  /** The config file, if there is one. */
  file: string | undefined;
}

/**
 * `--config FILE` (relative to the current directory) wins; the node
 * directory is then `--cbdir` or the file's directory. Otherwise the config
 * is `config.yaml` (or .yml, .json) in `--cbdir` (default .kreuz).
 */
export function resolveSource(opts: { cbdir?: string; config?: string }): Source {
  if (opts.config !== undefined) {
    const file = resolve(opts.config);
    return { file, cbdir: resolve(opts.cbdir ?? dirname(file)) };
  }
  const cbdir = resolve(opts.cbdir ?? DEFAULT_CBDIR);
  return { cbdir, file: findConfigFile(cbdir) };
}

export function noConfigMessage(cbdir: string): string {
  return `no config in ${cbdir} (looked for ${CONFIG_FILE_NAMES.join(', ')}); create one with: kreuz init --cbdir ${cbdir}`;
}
