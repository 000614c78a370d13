/**
 * Crossbar's "redirect" web service: 302 to a fixed URL, for its path and
 * everything below it (as Crossbar's resource does). The URL is the
 * config's; nothing of the request goes into it.
 */
import { z } from 'zod';
import { NOSNIFF, webServiceType } from './web-service.ts';

const schema = z
  .strictObject({
    type: z.literal('redirect'),
    id: z.string().optional(),
    url: z
      .string({ error: 'is required: where to redirect to' })
      .regex(/^[\x21-\x7e]+$/, { error: 'must be a URL without spaces or control characters (percent-encode them)' })
      .describe('Where to: absolute ("https://example.com/"), or relative to the request ("/download", "../foobar").'),
  })
  .meta({ id: 'RedirectService', description: '302 to a fixed URL.' });

export interface RedirectServiceOptions {
  type: 'redirect';
  url: string;
}

export const redirectService = webServiceType({
  schema,
  exact: false,
  toOptions: (c): RedirectServiceOptions => ({ type: 'redirect', url: c.url }),
  async start(o) {
    return (_req, response) => {
      response.writeHead(302, { ...NOSNIFF, Location: o.url, 'Content-Length': '0' }).end();
    };
  },
});
