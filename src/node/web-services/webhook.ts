/**
 * Crossbar's `webhook` path: any POST (GitHub's, GitLab's, ...) becomes one
 * event on `options.topic`, with Crossbar's shape: one positional argument
 * `{"headers": {"Content-Type": ["application/json"], ...}, "body": "<the
 * body as text>"}`, header names written as Twisted writes them. Answers
 * 202 `success_response`, or 500 `error_response` when the publish fails.
 * With `github_secret`, the body must carry GitHub's HMAC signature
 * (X-Hub-Signature-256, or the older SHA-1 X-Hub-Signature).
 */
import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { BRIDGE_METHODS, startBridge, type BridgeOptions } from './bridge-service.ts';
import { utf8Text } from './http-body.ts';
import { Refusal } from './json-answer.ts';
import { equalText } from './request-signing.ts';
import { bodyOptions, bridgeTarget, gateOptions } from './rest-bridge.ts';
import { NOSNIFF, webServiceType } from './web-service.ts';

export interface WebhookServiceOptions extends BridgeOptions {
  type: 'webhook';
  topic: string;
  success: string;
  error: string;
  githubSecret?: string;
}

export const webhookService = webServiceType({
  schema: z
    .strictObject({
      type: z.literal('webhook'),
      id: z.string().optional(),
      ...bridgeTarget,
      options: z.strictObject(
        {
          topic: z.string({ error: 'is required: the topic each POST is published to' }).min(1),
          ...bodyOptions,
          success_response: z.string().optional().describe('The body of a 202; default "OK".'),
          error_response: z.string().optional().describe('The body of a 500; default "NOT OK".'),
          github_secret: z
            .string()
            .min(1)
            .optional()
            .describe("GitHub's webhook secret: X-Hub-Signature-256 (or X-Hub-Signature) must match (401 else)."),
        },
        { error: (issue) => (issue.input === undefined ? 'is required: at least {"topic": ...}' : undefined) },
      ),
    })
    .meta({ id: 'WebhookService', description: 'Any POST becomes an event {headers, body} on options.topic.' }),
  exact: true,
  methods: BRIDGE_METHODS,
  toOptions: (c): WebhookServiceOptions => ({
    type: 'webhook',
    realm: c.realm,
    role: c.role,
    authid: c.authid ?? 'rest-bridge',
    gate: gateOptions({ post_body_limit: c.options.post_body_limit, post_body_timeout: c.options.post_body_timeout }),
    topic: c.options.topic,
    success: c.options.success_response ?? 'OK',
    error: c.options.error_response ?? 'NOT OK',
    githubSecret: c.options.github_secret,
  }),
  start: (o, ctx) =>
    startBridge(o, ctx, async (request, body, response, session) => {
      if (o.githubSecret !== undefined && !githubSigned(request, body, o.githubSecret))
        throw new Refusal(401, 'the GitHub signature (X-Hub-Signature-256) is missing or wrong');
      const event = { headers: headersOf(request), body: utf8Text(body) };
      const text = (status: number, value: string): void => {
        const headers = { ...NOSNIFF, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(value)) };
        response.writeHead(status, headers).end(value);
      };
      try {
        await (await session.get()).publish(o.topic, [event], undefined, { acknowledge: true });
      } catch (err) {
        ctx.logger.warn({ err: (err as Error)?.message, topic: o.topic, where: ctx.where }, 'webhook: the event could not be published');
        return text(500, o.error);
      }
      text(202, o.success);
    }),
});

/** GitHub signs the body with HMAC-SHA256 (X-Hub-Signature-256), formerly HMAC-SHA1 (X-Hub-Signature); the newer one counts when both are sent. */
function githubSigned(request: IncomingMessage, body: Buffer, secret: string): boolean {
  const sha256 = request.headers['x-hub-signature-256'];
  if (typeof sha256 === 'string')
    return equalText(sha256.trim().toLowerCase(), `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const sha1 = request.headers['x-hub-signature'];
  return typeof sha1 === 'string' && equalText(sha1.trim().toLowerCase(), `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`);
}

/** Twisted's spellings that are not each word capitalized. */
const TWISTED_NAMES = new Map([
  ['content-md5', 'Content-MD5'],
  ['dnt', 'DNT'],
  ['etag', 'ETag'],
  ['p3p', 'P3P'],
  ['te', 'TE'],
  ['www-authenticate', 'WWW-Authenticate'],
  ['x-xss-protection', 'X-XSS-Protection'],
]);

/** A header name as Crossbar's event has it: "x-github-event" -> "X-Github-Event". */
export function twistedHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return TWISTED_NAMES.get(lower) ?? lower.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/** Every header with all its values, in the order sent; names are client data, so a Map, not an object's keys. */
function headersOf(request: IncomingMessage): Record<string, string[]> {
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = twistedHeaderName(request.rawHeaders[i]!);
    const values = headers.get(name);
    if (values) values.push(request.rawHeaders[i + 1]!);
    else headers.set(name, [request.rawHeaders[i + 1]!]);
  }
  // fromEntries defines own properties: a "__proto__" header stays a header.
  return Object.fromEntries(headers);
}
