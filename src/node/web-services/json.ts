/**
 * Crossbar's "json" web service: one fixed JSON value from the config, for
 * browser code to read its settings from. The body is encoded once, at
 * start. Crossbar documents `options` (and its checker takes them) but its
 * service never reads them; Kreuz honours them, with Crossbar's defaults.
 */
import { z } from 'zod';
import { NOSNIFF, webServiceType } from './web-service.ts';

const schema = z
  .strictObject({
    type: z.literal('json'),
    id: z.string().optional(),
    // What a config file holds is JSON already (YAML's core schema has nothing else).
    value: z
      .unknown()
      .refine((v) => v !== undefined, { error: 'is required: the JSON value to serve' })
      .describe('Any JSON value, served as it is.'),
    options: z
      .strictObject({
        prettify: z.boolean().optional().describe('Default false: compact; true: indented.'),
        allow_cross_origin: z.boolean().optional().describe('Default true: Access-Control-Allow-Origin: *.'),
        discourage_caching: z.boolean().optional().describe('Default false; true: Cache-Control: no-store.'),
      })
      .optional(),
  })
  .meta({ id: 'JsonService', description: 'A fixed JSON value.' });

export interface JsonServiceOptions {
  type: 'json';
  /** The encoded body. */
  body: string;
  cors: boolean;
  noCache: boolean;
}

export const jsonService = webServiceType({
  schema,
  exact: true,

  toOptions: (c): JsonServiceOptions => ({
    type: 'json',
    body: `${JSON.stringify(c.value, null, c.options?.prettify ? 3 : undefined)}\n`,
    cors: c.options?.allow_cross_origin ?? true,
    noCache: c.options?.discourage_caching ?? false,
  }),

  async start(o) {
    const headers: Record<string, string> = {
      ...NOSNIFF,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(o.body)),
      ...(o.cors && { 'Access-Control-Allow-Origin': '*' }),
      ...(o.noCache && { 'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0' }),
    };
    return (req, response) => {
      response.writeHead(200, headers).end(req.head ? undefined : o.body);
    };
  },
});
