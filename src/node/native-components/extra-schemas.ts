/**
 * The `extra` of the Crossbar component classes Kreuz runs natively, in
 * Node, instead of under Python (src/node/native-components/): Crossbar's
 * keys (src/crossbar/bridge/rest/{subscriber,callee}.py) and, marked as
 * such, Kreuz's own bounds, which Crossbar does not have. Only zod here:
 * the config layer imports this file to check `extra` strictly.
 */
import { z } from 'zod';

/** The classnames Kreuz runs natively. */
export const MESSAGE_FORWARDER = 'crossbar.bridge.rest.MessageForwarder';
export const REST_CALLEE = 'crossbar.bridge.rest.RESTCallee';

const wampUri = z.string().regex(/^[^\s#]+$/, { error: 'must be a WAMP URI (no spaces)' });

/** An absolute http: or https: URL; anything else (file:, ftp:, relative) is refused. */
export const httpUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute http:// or https:// URL' });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    ctx.addIssue({ code: 'custom', message: `must be an http:// or https:// URL, not ${url.protocol}` });
});

/** An HTTP method token (RFC 9110), upper-case as Crossbar's callers send them. */
const httpMethod = z.string().regex(/^[A-Z][A-Z-]{0,19}$/, { error: 'must be an HTTP method such as "POST"' });

/** Kreuz's bounds on the outbound requests of one component (Crossbar has none of these). */
const bounds = {
  timeout: z
    .number()
    .positive()
    .max(600)
    .optional()
    .describe('Kreuz only: seconds one HTTP request may take, connect to last byte (default 10).'),
  max_concurrency: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .optional()
    .describe('Kreuz only: HTTP requests in flight at once for this component (default 8).'),
  max_queue: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .optional()
    .describe('Kreuz only: requests waiting for a free slot (default 1000); beyond it, events are dropped and calls refused.'),
  max_response_size: z
    .number()
    .int()
    .min(1)
    .max(64 * 1024 * 1024)
    .optional()
    .describe('Kreuz only: bytes of a response body read at most (default 1048576); a longer one fails the request.'),
};

export const messageForwarderExtra = z
  .strictObject({
    subscriptions: z
      .array(
        z.strictObject({
          topic: wampUri,
          url: httpUrl,
          match: z.enum(['exact', 'prefix', 'wildcard']).optional().describe('How "topic" matches (default "exact").'),
        }),
      )
      .min(1)
      .max(1000)
      .describe('Each topic, and the URL its events are sent to.'),
    method: httpMethod.optional().describe('The HTTP method (default "POST").'),
    expectedcode: z.number().int().min(100).max(599).optional().describe('A response with another status is logged as a failure.'),
    debug: z.boolean().optional().describe('Log each response body (at debug level).'),
    retries: z
      .number()
      .int()
      .min(0)
      .max(5)
      .optional()
      .describe(
        'Kreuz only: times a request is tried again when the target was not reached (connection refused, no such host), or, for an idempotent method, answered 502/503/504 (default 0).',
      ),
    ...bounds,
  })
  .meta({ id: 'MessageForwarderExtra', description: 'crossbar.bridge.rest.MessageForwarder: each event, POSTed as JSON.' });

export const restCalleeExtra = z
  .strictObject({
    procedure: wampUri.describe('The procedure it registers.'),
    baseurl: httpUrl.describe('Each call\'s "url" is resolved against it, and must stay below it.'),
    ...bounds,
  })
  .meta({ id: 'RestCalleeExtra', description: 'crossbar.bridge.rest.RESTCallee: each call, an HTTP request.' });

export type MessageForwarderExtra = z.infer<typeof messageForwarderExtra>;
export type RestCalleeExtra = z.infer<typeof restCalleeExtra>;

/** The `extra` schema of each native class. */
export const NATIVE_EXTRA: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
  [MESSAGE_FORWARDER, messageForwarderExtra],
  [REST_CALLEE, restCalleeExtra],
]);

export function isNativeClass(classname: string): boolean {
  return NATIVE_EXTRA.has(classname);
}

/** Defaults of the Kreuz-only bounds. */
export const DEFAULTS = { timeoutS: 10, maxConcurrency: 8, maxQueue: 1000, maxResponseSize: 1024 * 1024 } as const;
