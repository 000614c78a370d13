/**
 * The zod pieces authentication methods build their config schemas from,
 * and how a problem found by them becomes an AuthConfigError. The same
 * schemas check a config file (src/config puts them into its schema) and
 * what buildTransportAuth is handed, so a config is checked in one place.
 *
 * Messages written here are shared by both; generic ones (a missing key, a
 * wrong type) are phrased by each side's error map: here `authErrorMap`.
 */
import { z } from 'zod';
import type { Dict } from '../wamp/messages.ts';
import { AuthConfigError } from './common.ts';

// ---- pieces ----

/** A key Crossbar knows and Kreuz does not implement: absent is fine, present is an error naming it. */
export function notSupported(key: string, hint?: string) {
  const message = `"${key}" is not supported by Kreuz${hint ? ` (${hint})` : ''}`;
  return z.never({ error: message }).optional().describe(message);
}

/** Keys Crossbar has and Kreuz does not, each refused by name (with a hint where there is a way instead). */
export function crossbarOnly(keys: readonly string[], hints: Record<string, string> = {}) {
  return Object.fromEntries(keys.map((key) => [key, notSupported(key, hints[key])]));
}

// ---- keys accepted with a note (kreuz check reports them: src/config/notes.ts) ----

/** What `kreuz check` says about an accepted key: fixed text, or text from its (valid) value; undefined: nothing to say. */
export type Note = string | ((value: never) => string | undefined);

const NOTES = new WeakMap<z.ZodType, Note>();

/**
 * A Crossbar key Kreuz accepts without doing what Crossbar does with it (no
 * Node equivalent, or nothing to do in one process): valid values pass, and
 * `kreuz check` (and `kreuz start`'s log) report `note` where the key is set.
 * Never for a key that changes routing, security or what clients see: those
 * are honoured, or refused with `notSupported`.
 */
export function accepted<T extends z.ZodType>(schema: T, note: Note, description?: string, id?: string): T {
  // The schema's own id stays with it (two schemas must not share one in the JSON Schema); `id` names the accepted one.
  const { id: _own, ...meta } = z.globalRegistry.get(schema) ?? {};
  const text = description ?? (typeof note === 'string' ? `Accepted: ${note}` : 'Accepted.');
  const described = schema.meta({ ...meta, ...(id !== undefined && { id }), description: text }) as T;
  NOTES.set(described, note);
  return described;
}

/** The note of a schema made with `accepted`, if any. */
export function noteOf(schema: z.ZodType): Note | undefined {
  return NOTES.get(schema);
}

/** Whether `schema` is a `notSupported` key (no known setting: left out where known keys are listed). */
export function isNotSupported(schema: z.ZodType): boolean {
  const def = schema._zod.def as { type: string; innerType?: z.ZodType };
  return def.type === 'optional' && def.innerType?._zod.def.type === 'never';
}

export const nonEmpty = z.string().min(1);

/** A WAMP URI as Crossbar's loose check has it: dot-separated components without whitespace or "#". */
const URI = /^[^\s#.]+(\.[^\s#.]+)*$/;

/** An integer in [min, max]; the message names the range. */
export function integer(min: number, max: number) {
  const error = (issue: { input?: unknown }) =>
    issue.input === undefined ? 'is required' : `must be an integer from ${min} to ${max}, got ${describe(issue.input)}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** Hex text (of `bytes` bytes, if given). */
export function hex(bytes?: number) {
  return z.string().regex(bytes ? new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`) : /^(?:[0-9a-fA-F]{2})+$/, {
    error: bytes ? `must be ${bytes} bytes as ${bytes * 2} hex digits` : 'must be hex',
  });
}

/** What every static principal has besides its credentials. */
export const principalFields = {
  role: nonEmpty,
  realm: nonEmpty.optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
};

const FUNCTION_AUTHENTICATOR =
  'a Python function inside Crossbar: register the same logic as a procedure and use {"type": "dynamic", "authenticator": <its URI>}';

/** Crossbar's `{"type": "dynamic", ...}`, the same for every method. */
export const dynamicConfig = z
  .strictObject({
    type: z.literal('dynamic'),
    authenticator: z
      .string()
      .regex(URI, { error: (issue) => `${JSON.stringify(issue.input)} is not a valid procedure URI` })
      .describe('The procedure that authenticates (called with realm, authid, details).'),
    'authenticator-realm': nonEmpty.optional(),
    // Accepted as Crossbar has it, and unused: the router's own caller is trusted.
    'authenticator-role': nonEmpty.optional(),
  })
  .meta({ id: 'DynamicAuthenticator' });

export type DynamicMethodConfig = z.infer<typeof dynamicConfig>;

type StaticShape = z.ZodObject<{ type: z.ZodLiteral<'static'> } & z.ZodRawShape>;

/** A method's config: its `{"type": "static", ...}` form, or the dynamic one. */
export function methodConfig<S extends StaticShape>(staticConfig: S) {
  return z.discriminatedUnion('type', [staticConfig, dynamicConfig], {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const type = (issue.input as { type?: unknown } | undefined)?.type;
      if (type === undefined) return 'is required (one of "static", "dynamic")';
      if (type === 'function') return `"function" is not supported by Kreuz (${FUNCTION_AUTHENTICATOR})`;
      return `must be one of "static", "dynamic", got ${JSON.stringify(type)}`;
    },
  });
}

// ---- problems as AuthConfigErrors ----

/**
 * zod leaves a key "__proto__" out of what it checks in a record (it would
 * replace the prototype of its output); in a principal map it is an
 * ordinary authid, so values are checked with such keys under this name.
 */
const PROTO_ALIAS = '\u0000__proto__';

/** A copy of `value` with every own "__proto__" key renamed to PROTO_ALIAS, for checking. */
export function withProtoKeysRenamed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withProtoKeysRenamed);
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Dict = {};
  for (const [key, v] of Object.entries(value)) out[key === '__proto__' ? PROTO_ALIAS : key] = withProtoKeysRenamed(v);
  return out;
}

/** zod's generic messages in this module's words; values are never shown where they may be secrets. */
export const authErrorMap: z.core.$ZodErrorMap = (issue) => {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return 'is required';
      if (issue.expected === 'string') return `must be a non-empty string, got ${describeType(input)}`;
      if (issue.expected === 'object' || issue.expected === 'record') return `must be an object, got ${describe(input)}`;
      if (issue.expected === 'array') return `must be a list, got ${describe(input)}`;
      return `must be ${issue.expected}, got ${describeType(input)}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must be a non-empty string, got an empty string';
      return issue.origin === 'array' ? 'must not be empty' : `must be at least ${String(issue.minimum)}`;
    case 'unrecognized_keys': {
      const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, z.ZodType> } } } | undefined)?._zod?.def?.shape ?? {};
      const known = Object.entries(shape)
        .filter(([, schema]) => !isNotSupported(schema))
        .map(([key]) => key);
      return `unknown setting (known: ${known.join(', ')})`;
    }
    default:
      return undefined;
  }
};

/**
 * The first problem zod found in an auth config (checked as
 * `withProtoKeysRenamed` made it, and with `reportInput`), as an AuthConfigError
 * naming its path below `base`, e.g. `auth.ticket.principals.joe.role`.
 */
export function authConfigError(issue: z.core.$ZodIssue, base: string, methods: readonly string[]): AuthConfigError {
  const unaliased = <K>(key: K) => (key === PROTO_ALIAS ? '__proto__' : key);
  const path = issue.path.map(unaliased);
  if (issue.code === 'unrecognized_keys') {
    const key = unaliased(issue.keys[0]);
    if (path.length > 0) return new AuthConfigError(formatPath(base, [...path, key]), issue.message);
    return new AuthConfigError(formatPath(base, [key]), `"${key}" is not an authentication method (supported: ${methods.join(', ')})`);
  }
  if (issue.code === 'invalid_union' && issue.discriminator === 'type') {
    // Phrased for whoever calls buildTransportAuth: a config file's check names "function" as a Crossbar type instead.
    return new AuthConfigError(formatPath(base, path), typeProblem((issue.input as { type?: unknown } | undefined)?.type));
  }
  return new AuthConfigError(formatPath(base, path), issue.message);
}

function typeProblem(type: unknown): string {
  const got = type === undefined ? 'nothing' : JSON.stringify(type);
  return `must be "static" or "dynamic", got ${got}${type === 'function' ? ' (function authenticators are not supported)' : ''}`;
}

/** ["ticket", "principals", "joe"] below "auth" -> "auth.ticket.principals.joe"; list indexes as [i]. */
function formatPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out;
}

/** A value for a message: numbers, booleans and null as they are, anything else by its type only. */
function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return describeType(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string';
  const type = typeof value;
  return type === 'object' ? 'an object' : type === 'undefined' ? 'nothing' : `a ${type}`;
}
