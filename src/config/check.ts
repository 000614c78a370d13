/**
 * `kreuz check` without the printing: everything `kreuz start` would find
 * wrong with a config file before it listens (the TLS files are read, as
 * start reads them), as errors, and what it accepts with a note.
 */
import { ConfigError, type ConfigProblem } from './errors.ts';
import { loadConfigFile, type ValidateOptions } from './load.ts';
import { routerWorkerOf, type KreuzConfig } from './schema.ts';
import { toNodeOptions } from './to-node-options.ts';

export interface CheckResult {
  /** What Kreuz cannot honour or does not understand: `kreuz start` refuses the config. */
  errors: ConfigProblem[];
  /** Accepted, and what Kreuz does with it. */
  notes: ConfigProblem[];
  /** The config, when it has no errors. */
  config?: KreuzConfig;
}

export function checkConfigFile(file: string, options: Omit<ValidateOptions, 'file' | 'baseDir'> = {}): CheckResult {
  try {
    const validated = loadConfigFile(file, options);
    toNodeOptions(validated);
    return { errors: [], notes: validated.notes, config: validated.config };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { errors: err.problems, notes: err.notes };
  }
}

/** "1 realm, 2 transports, 1 guest worker" for a config without errors. */
export function summary(config: KreuzConfig): string {
  const router = routerWorkerOf(config);
  const others = ['guest', 'container'].flatMap((type) => {
    const n = config.workers.filter((w) => w.type === type).length;
    return n ? [count(n, `${type} worker`)] : [];
  });
  return [count(router.realms.length, 'realm'), count(router.transports.length, 'transport'), ...others].join(', ');
}

export function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}
