/** Config problems as a user reads them: `path.to.field: why`, one per line. */
import type { z } from 'zod';
import { isNotSupported } from '../auth/config-schema.ts';

export interface ConfigProblem {
  /** e.g. "workers[0].transports[1].endpoint.port"; "" for the whole file. */
  path: string;
  message: string;
}

/** A config that cannot be used; `problems` lists every reason found. */
export class ConfigError extends Error {
  constructor(
    readonly problems: ConfigProblem[],
    /** The file, when the config came from one. */
    readonly file?: string,
    /** What was found besides the problems (accepted keys and what Kreuz does with them), for `kreuz check`. */
    readonly notes: ConfigProblem[] = [],
  ) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem({ path, message }: ConfigProblem): string {
  return path ? `${path}: ${message}` : message;
}

/** ["workers", 0, "transports", 1, "paths", "/", "type"] -> "workers[0].transports[1].paths./.type" */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** What a value is, for messages (never the value itself: it may be a secret). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(value) ? 'an integer' : 'a number';
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  record: 'an object',
};

/**
 * zod's messages in the config's terms. Messages set on a schema (the
 * "not supported by Kreuz" ones) take precedence over this map.
 */
export const errorMap: z.core.$ZodErrorMap = (issue) => {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return 'is required';
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(input)}`;
    case 'invalid_value':
      if (input === undefined) return 'is required';
      return `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${JSON.stringify(input)}`;
    case 'too_small':
      if (issue.origin === 'array') return `must have at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return 'must not be empty';
      return `must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}, got ${String(input)}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} item${issue.maximum === 1 ? '' : 's'}`;
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}, got ${String(input)}`;
    case 'unrecognized_keys': {
      // The known keys travel in the message; toProblems splits it per key.
      const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, z.ZodType> } } } | undefined)?._zod?.def?.shape ?? {};
      const known = Object.entries(shape)
        .filter(([, schema]) => !isNotSupported(schema))
        .map(([key]) => key);
      return `unknown key${known.length ? ` (known here: ${known.join(', ')})` : ''}`;
    }
    case 'invalid_union':
      return 'does not match any allowed form';
    default:
      return undefined;
  }
};

/** zod issues as problems; an unknown-keys issue becomes one problem per key. */
export function toProblems(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: formatPath([...issue.path, key]), message: issue.message });
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0 && issue.message === 'does not match any allowed form') {
      // A plain union (e.g. a boolean or an object): report what the form of the value's own type says.
      const sameType = issue.errors.filter((branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0));
      const candidates = sameType.length > 0 ? sameType : issue.errors;
      const best = candidates.reduce((a, b) => (b.length < a.length ? b : a));
      problems.push(...toProblems(best.map((i) => ({ ...i, path: [...issue.path, ...i.path] }))));
    } else {
      problems.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return problems;
}
