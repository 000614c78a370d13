/** The zod helpers the config schema is written with (src/config/schema.ts and the transport types' pieces). */
import { z } from 'zod';

export { accepted, crossbarOnly, notSupported, noteOf, type Note } from '../auth/config-schema.ts';

/** Crossbar values (or types) Kreuz lacks: a list, or each with what to do instead. */
export type CrossbarOnly = readonly string[] | Readonly<Record<string, string>>;

/** `"x" is not supported by Kreuz (what to do)` for a Crossbar value Kreuz lacks; undefined for any other. */
function crossbarValue(got: unknown, crossbar: CrossbarOnly, hint?: string): string | undefined {
  if (typeof got !== 'string') return undefined;
  const hints: Readonly<Record<string, string>> = Array.isArray(crossbar)
    ? Object.fromEntries(crossbar.map((v) => [v, hint ?? '']))
    : (crossbar as Readonly<Record<string, string>>);
  if (!Object.hasOwn(hints, got)) return undefined;
  const why = hints[got];
  return `"${got}" is not supported by Kreuz${why ? ` (${why})` : ''}`;
}

/** One of `values`; a value in `crossbar` is a Crossbar value Kreuz does not support, and is named as such. */
export function choice<const T extends readonly [string, ...string[]]>(values: T, crossbar: CrossbarOnly = [], hint?: string) {
  return z.enum(values, {
    error: (issue) => {
      const got = issue.input;
      if (got === undefined) return 'is required';
      return crossbarValue(got, crossbar, hint) ?? `must be one of ${values.map((v) => `"${v}"`).join(', ')}, got ${JSON.stringify(got)}`;
    },
  });
}

export type TypedOption = z.ZodObject<{ type: z.ZodLiteral<string> } & z.ZodRawShape>;

/** Objects told apart by their "type" key; Crossbar types Kreuz lacks are named as not supported. */
export function byType<const T extends readonly [TypedOption, ...TypedOption[]]>(options: T, crossbar: CrossbarOnly = []) {
  const known = options.map((o) => [...o.shape.type._zod.def.values][0] as string);
  return z.discriminatedUnion('type', options, {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const type = (issue.input as { type?: unknown } | undefined)?.type;
      if (type === undefined) return `is required (one of ${known.map((k) => `"${k}"`).join(', ')})`;
      return crossbarValue(type, crossbar) ?? `must be one of ${known.map((k) => `"${k}"`).join(', ')}, got ${JSON.stringify(type)}`;
    },
  });
}

export const nonEmpty = z.string().min(1);
/** A WAMP URI as Crossbar's loose check has it: dot-separated components without whitespace or "#". */
export const uri = z.string().regex(/^[^\s#.]+(\.[^\s#.]+)*$/, { error: 'must be a WAMP URI (dot-separated words without spaces)' });
export const positiveInt = z.number().int().positive();
export const nonNegativeInt = z.number().int().min(0);
/** Milliseconds. */
export const ms = nonNegativeInt;
/** "/" or a URL path below it ("ws", "api/ws"); a leading "/" is allowed. */
export const urlPath = z
  .string()
  .regex(/^(\/|\/?[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*)$/, { error: 'must be "/" or a URL path such as "ws"' });
