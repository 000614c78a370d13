/** The zod helpers the config schema is written with (src/config/schema.ts and the transport types' pieces). */
import { z } from 'zod';

export { crossbarOnly, notSupported } from '../auth/config-schema.ts';

/** One of `values`; a value in `crossbar` is a Crossbar value Kreuz does not support, and is named as such. */
export function choice<const T extends readonly [string, ...string[]]>(values: T, crossbar: readonly string[] = [], hint?: string) {
  return z.enum(values, {
    error: (issue) => {
      const got = issue.input;
      if (got === undefined) return 'is required';
      if (typeof got === 'string' && crossbar.includes(got)) return `"${got}" is not supported by Kreuz${hint ? ` (${hint})` : ''}`;
      return `must be one of ${values.map((v) => `"${v}"`).join(', ')}, got ${JSON.stringify(got)}`;
    },
  });
}

export type TypedOption = z.ZodObject<{ type: z.ZodLiteral<string> } & z.ZodRawShape>;

/** Objects told apart by their "type" key; Crossbar types Kreuz lacks are named as not supported. */
export function byType<const T extends readonly [TypedOption, ...TypedOption[]]>(options: T, crossbar: readonly string[] = []) {
  const known = options.map((o) => [...o.shape.type._zod.def.values][0] as string);
  return z.discriminatedUnion('type', options, {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const type = (issue.input as { type?: unknown } | undefined)?.type;
      if (type === undefined) return `is required (one of ${known.map((k) => `"${k}"`).join(', ')})`;
      if (typeof type === 'string' && crossbar.includes(type)) return `"${type}" is not supported by Kreuz`;
      return `must be one of ${known.map((k) => `"${k}"`).join(', ')}, got ${JSON.stringify(type)}`;
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
