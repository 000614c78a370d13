/**
 * Environment values in a config: a string that is exactly `${VAR}` (or
 * Crossbar's `$VAR`) is replaced by the variable's value, so secrets stay out
 * of the file. Only whole strings: "x-$VAR" or "${A}${B}" stay as written.
 */
import { formatPath, type ConfigProblem } from './errors.ts';

const WHOLE_VAR = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$/;

export interface Substituted {
  value: unknown;
  /** Paths (formatted) whose value came from the environment: they may be coerced to numbers or booleans. */
  fromEnv: Set<string>;
  /** Variables that were not set, each at the path that named it. */
  problems: ConfigProblem[];
}

/** The variable a string names, if it is a whole-string reference. */
export function envReference(text: string): string | undefined {
  const m = WHOLE_VAR.exec(text);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** Replaces every whole-string variable reference in `value` (a parsed config), without changing `value`. */
export function substituteEnv(value: unknown, env: Record<string, string | undefined> = process.env): Substituted {
  const fromEnv = new Set<string>();
  const problems: ConfigProblem[] = [];
  const walk = (v: unknown, path: PropertyKey[]): unknown => {
    if (typeof v === 'string') {
      const name = envReference(v);
      if (name === undefined) return v;
      const found = env[name];
      if (found === undefined) {
        problems.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
        return v;
      }
      fromEnv.add(formatPath(path));
      return found;
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...path, k])]));
    }
    return v;
  };
  return { value: walk(value, []), fromEnv, problems };
}

/**
 * A value from the environment is always a string; where the schema wants a
 * number or a boolean, "8080" and "true" are read as such.
 */
export function coerceEnvValue(text: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text;
}
