/**
 * Reading a node configuration: find the file, parse YAML or JSON, put in
 * environment values, validate against the schema, then check what the
 * schema alone cannot (duplicate realms and ports, TLS files, authentication
 * details). Every problem found is reported, not just the first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, errorMap, formatPath, toProblems, type ConfigProblem } from './errors.ts';
import { coerceEnvValue, substituteEnv } from './env.ts';
import { acceptedNotes } from './notes.ts';
import { configSchema, workerSchema, type KreuzConfig } from './schema.ts';
import { checkSemantics, checkWorkers, type CheckedWorker } from './semantics.ts';

export interface ValidatedConfig {
  config: KreuzConfig;
  /** Relative file paths in the config (TLS files, Unix sockets) are resolved against this directory. */
  baseDir: string;
  /** The file it came from, if any. */
  file?: string;
  /** Things worth knowing that are not errors (e.g. "listens on 127.0.0.1 only", accepted Crossbar keys and what Kreuz does with them). */
  notes: ConfigProblem[];
}

export interface ValidateOptions {
  /** Where `${VAR}` values come from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Default: the current directory. */
  baseDir?: string;
  file?: string;
}

/** The file names looked for in a node directory, in order (Crossbar reads config.yaml, then config.json). */
export const CONFIG_FILE_NAMES = ['config.yaml', 'config.yml', 'config.json'];

/** The config file of a node directory, if there is one. */
export function findConfigFile(cbdir: string): string | undefined {
  for (const name of CONFIG_FILE_NAMES) {
    const file = join(cbdir, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Parses YAML (or JSON, a file ending in .json) text; syntax errors become problems with line and column. */
export function parseConfigText(text: string, file = 'config'): unknown {
  if (extname(file) === '.json') {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ConfigError([{ path: '', message: `${file}: not valid JSON: ${(err as Error).message}` }], file);
    }
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const at = e.linePos?.[0];
      const why = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      return { path: '', message: `${file}${at ? `:${at.line}:${at.col}` : ''}: ${why}` };
    });
    throw new ConfigError(problems, file);
  }
  return doc.toJS();
}

/** Reads, parses and validates a config file. Throws ConfigError listing every problem. */
export function loadConfigFile(file: string, options: Omit<ValidateOptions, 'file' | 'baseDir'> = {}): ValidatedConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      [{ path: '', message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }],
      path,
    );
  }
  return validateConfig(parseConfigText(text, path), { ...options, file: path, baseDir: dirname(path) });
}

/** Validates a parsed config (an object as read from YAML or JSON, or written in code). Throws ConfigError. */
export function validateConfig(raw: unknown, options: ValidateOptions = {}): ValidatedConfig {
  const { value, fromEnv, problems: envProblems } = substituteEnv(raw, options.env);
  let input = value;
  let result = configSchema.safeParse(input, { error: errorMap });
  // Values from the environment are strings: where the schema wants a number or boolean, read them as one.
  if (!result.success && fromEnv.size > 0) {
    let coerced = false;
    for (const issue of result.error.issues) {
      if (!fromEnv.has(formatPath(issue.path))) continue;
      const value = coerceEnvValue(getAt(input, issue.path) as string);
      if (typeof value === 'string') continue;
      input = setAt(input, issue.path, value);
      coerced = true;
    }
    if (coerced) result = configSchema.safeParse(input, { error: errorMap });
  }
  const problems = [...envProblems];
  const envPaths = new Set(envProblems.map((p) => p.path));
  const notes = acceptedNotes(configSchema, input);
  const baseDir = options.baseDir ?? process.cwd();
  if (!result.success) {
    // An unset variable is reported once, not again as a wrong value.
    problems.push(...toProblems(result.error.issues).filter((p) => !envPaths.has(p.path)));
    // The workers that pass are checked further all the same: the whole truth at once, not one layer per run.
    const workers = workersOf(input);
    if (workers) {
      const rest = checkWorkers(workers.checked, workers.types, baseDir);
      problems.push(...rest.problems);
      notes.push(...rest.notes);
    }
    throw new ConfigError(problems, options.file, notes);
  }
  const semantics = checkSemantics(result.data, baseDir);
  problems.push(...semantics.problems);
  notes.push(...semantics.notes);
  if (problems.length > 0) throw new ConfigError(problems, options.file, notes);
  return { config: result.data, baseDir, file: options.file, notes };
}

/** The workers of a config (as parsed) that pass the schema on their own, and every worker's "type". */
function workersOf(input: unknown): { checked: CheckedWorker[]; types: unknown[] } | undefined {
  const list = (input as { workers?: unknown } | null)?.workers;
  if (!Array.isArray(list)) return undefined;
  const checked: CheckedWorker[] = [];
  list.forEach((raw, index) => {
    const parsed = workerSchema.safeParse(raw);
    if (parsed.success) checked.push({ index, worker: parsed.data });
  });
  return { checked, types: list.map((w) => (w as { type?: unknown } | null)?.type) };
}

function getAt(value: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, key) => (v as Record<PropertyKey, unknown>)?.[key], value);
}

function setAt(value: unknown, path: readonly PropertyKey[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<PropertyKey, unknown>;
  copy[head] = setAt(copy[head], rest, replacement);
  return copy;
}
