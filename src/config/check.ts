/**
 * `kreuz check` without the printing: everything `kreuz start` would find
 * wrong with a config file before it listens (the TLS files are read, as
 * start reads them), as errors, and what it accepts with a note.
 */
import { readFileSync } from 'node:fs';
import { saltedSecretNotes } from '../auth/wampcra.ts';
import { ConfigError, formatPath, type ConfigProblem } from './errors.ts';
import { loadConfigFile, parseConfigText, type ValidateOptions } from './load.ts';
import { routerWorkerOf, type KreuzConfig } from './schema.ts';
import { toNodeOptions } from './to-node-options.ts';
import { pythonProblems, type PythonProbe } from './worker-checks.ts';

export interface CheckResult {
  /** What Kreuz cannot honour or does not understand: `kreuz start` refuses the config. */
  errors: ConfigProblem[];
  /** Accepted, and what Kreuz does with it. */
  notes: ConfigProblem[];
  /** The config, when it has no errors. */
  config?: KreuzConfig;
}

export interface CheckOptions extends Omit<ValidateOptions, 'file' | 'baseDir'> {
  /** Asks the Python of Python workers whether it has Autobahn|Python (it starts it; `kreuz check` passes one). */
  python?: PythonProbe;
}

export function checkConfigFile(file: string, options: CheckOptions = {}): CheckResult {
  try {
    const validated = loadConfigFile(file, options);
    toNodeOptions(validated);
    const notes = [...validated.notes, ...wampcraNotes(file)];
    const python = options.python ? pythonProblems(validated.config, options.python) : [];
    if (python.length) return { errors: python, notes };
    return { errors: [], notes, config: validated.config };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { errors: err.problems, notes: [...err.notes, ...wampcraNotes(file)] };
  }
}

/** Which meaning of a salted WAMP-CRA user's `secret` Kreuz follows (auth/wampcra.ts), noted at each `salt`. */
function wampcraNotes(file: string): ConfigProblem[] {
  let raw: unknown;
  try {
    raw = parseConfigText(readFileSync(file, 'utf8'), file);
  } catch {
    return [];
  }
  return saltedSecretNotes(raw).map((note) => ({ path: formatPath(note.path), message: note.message }));
}

/** "1 realm, 2 transports, 1 router component, 1 guest worker" for a config without errors. */
export function summary(config: KreuzConfig): string {
  const router = routerWorkerOf(config);
  const components = router.components?.length ?? 0;
  const others = ['guest', 'container'].flatMap((type) => {
    const n = config.workers.filter((w) => w.type === type).length;
    return n ? [count(n, `${type} worker`)] : [];
  });
  return [
    count(router.realms.length, 'realm'),
    count(router.transports.length, 'transport'),
    ...(components ? [count(components, 'router component')] : []),
    ...others,
  ].join(', ');
}

export function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}
