/**
 * The config schema as JSON Schema, for editors (YAML and JSON language
 * servers) and other tools. `npm run schema` writes it to
 * schema/kreuz-config.schema.json; a test keeps that file in step.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { configSchema } from './schema.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../../schema/kreuz-config.schema.json', import.meta.url));

/** The JSON Schema text, as committed. */
export function configJsonSchemaText(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify({ title: 'Kreuz node configuration', ...schema }, null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  mkdirSync(dirname(SCHEMA_FILE), { recursive: true });
  writeFileSync(SCHEMA_FILE, configJsonSchemaText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
