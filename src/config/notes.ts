/**
 * The notes of accepted keys (`accepted` in schema-helpers.ts): the config
 * is walked beside its schema, and every key whose schema carries a note and
 * whose value is valid there yields it, at the key's path. It walks the raw
 * config, so a config with errors still gets its notes.
 */
import type { z } from 'zod';
import { formatPath, type ConfigProblem } from './errors.ts';
import { noteOf } from './schema-helpers.ts';

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  values?: unknown[];
}

const defOf = (schema: z.ZodType) => schema._zod.def as unknown as Def;

export function acceptedNotes(schema: z.ZodType, value: unknown): ConfigProblem[] {
  const notes: ConfigProblem[] = [];
  walk(schema, value, [], notes);
  return notes;
}

function walk(schema: z.ZodType, value: unknown, path: PropertyKey[], out: ConfigProblem[]): void {
  if (value === undefined) return;
  const note = noteOf(schema);
  if (note !== undefined && schema.safeParse(value).success) {
    const text = typeof note === 'string' ? note : note(value as never);
    if (text) out.push({ path: formatPath(path), message: `accepted: ${text}` });
  }
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
      return walk(def.innerType!, value, path, out);
    case 'pipe':
      return walk(def.in!, value, path, out);
    case 'object':
      if (!isRecord(value)) return;
      for (const [key, child] of Object.entries(def.shape!)) if (Object.hasOwn(value, key)) walk(child, value[key], [...path, key], out);
      return;
    case 'array':
      if (Array.isArray(value)) for (const [i, item] of value.entries()) walk(def.element!, item, [...path, i], out);
      return;
    case 'record':
      if (isRecord(value)) for (const [key, item] of Object.entries(value)) walk(def.valueType!, item, [...path, key], out);
      return;
    case 'union': {
      const option = unionOption(def, value);
      if (option) walk(option, value, path, out);
      return;
    }
  }
}

/** The option of a union the value is meant for: by its discriminator, else the first it passes. */
function unionOption(def: Def, value: unknown): z.ZodType | undefined {
  const options = def.options ?? [];
  if (def.discriminator !== undefined) {
    if (!isRecord(value)) return undefined;
    const tag = Object.hasOwn(value, def.discriminator) ? value[def.discriminator] : undefined;
    return options.find((o) => defOf(defOf(o).shape?.[def.discriminator!] ?? o).values?.includes(tag));
  }
  return options.find((o) => o.safeParse(value).success);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
