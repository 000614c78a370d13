/**
 * Crossbar's HTTP bridge into WAMP: `publisher` (a POST publishes),
 * `caller` (a POST calls and answers the result) and `webhook` (any POST,
 * e.g. from GitHub, becomes an event with its headers and body). Each acts
 * through its own in-process session, joined to `realm` as `role`, so the
 * role's permissions decide what a request may do (rest-bridge.ts).
 *
 * Where Kreuz differs from Crossbar: a WAMP error answers with an HTTP
 * status that says what happened (403, 404, 504, ...; Crossbar answers 200
 * with the error), a signed request is refused when replayed, and a body
 * has a limit even without `post_body_limit` (1 MiB).
 */
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ErrorUri } from '../../wamp/uris.ts';
import { WampError } from '../../wamp/wamp-error.ts';
import {
  answerError,
  answerJson,
  BridgeSession,
  bridgeTarget,
  equalText,
  gateOptions,
  jsonObject,
  payloadOf,
  readBody,
  Refusal,
  RequestGate,
  requestUrl,
  signingOptions,
  uriField,
  type GateOptions,
} from './rest-bridge.ts';
import { webServiceType, type WebHandler, type WebServiceContext } from './web-service.ts';

const POST = ['POST', 'PUT', 'OPTIONS'] as const;
const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/** The HTTP status of a WAMP error a bridge request ended with. */
export function statusOfWampError(uri: string): number {
  switch (uri) {
    case ErrorUri.NOT_AUTHORIZED:
      return 403;
    case ErrorUri.NO_SUCH_PROCEDURE:
    case ErrorUri.NO_SUCH_REALM:
      return 404;
    case ErrorUri.INVALID_URI:
    case ErrorUri.INVALID_ARGUMENT:
      return 400;
    case ErrorUri.CANCELED:
    case ErrorUri.TIMEOUT:
      return 504;
    default:
      // The callee (or a limit of the router) refused: the gateway's answer was an error.
      return uri.startsWith('kreuz.error.') ? 503 : 502;
  }
}

/** PUBLISH options a publisher request may give (Crossbar's list); others are refused. */
const PUBLISH_OPTIONS = new Set([
  'retain',
  'exclude_me',
  'exclude',
  'exclude_authid',
  'exclude_authrole',
  'eligible',
  'eligible_authid',
  'eligible_authrole',
]);

interface BridgeOptions {
  realm: string;
  role: string;
  authid: string;
  gate: GateOptions;
}

type Process = (req: IncomingMessage, body: Buffer, response: ServerResponse, session: BridgeSession) => Promise<void>;

/** The handler every bridge service shares: CORS, admission, body, signature; then its own step. */
async function startBridge(o: BridgeOptions, ctx: WebServiceContext, process: Process): Promise<WebHandler> {
  if (!ctx.router.realms.has(o.realm)) throw new Error(`${ctx.where}: realm "${o.realm}" is not a realm of this node`);
  const gate = new RequestGate(o.gate);
  const session = new BridgeSession(ctx.router, o.realm, { authid: o.authid, authrole: o.role });
  ctx.onClose(() => session.close());
  return async ({ request, method }, response) => {
    corsHeaders(request, response);
    if (method === 'OPTIONS')
      return void response.writeHead(204, { 'Access-Control-Allow-Methods': 'POST, PUT', 'Content-Length': '0' }).end();
    try {
      gate.admit(request);
      const body = await readBody(request, gate.bodyLimit);
      gate.verify(requestUrl(request), body);
      await process(request, body, response, session);
    } catch (err) {
      if (err instanceof Refusal) return answerError(response, err.status, err.message);
      if (err instanceof WampError) return answerError(response, statusOfWampError(err.uri), err.uri, err.args, err.kwargs);
      ctx.logger.warn({ err: (err as Error)?.message, where: ctx.where }, 'http bridge: request failed');
      answerError(response, 500, ErrorUri.RUNTIME_ERROR, ['the request could not be handled']);
    }
  };
}

/** As Crossbar: the requesting origin (or *) may read the answer. */
function corsHeaders(request: IncomingMessage, response: ServerResponse): void {
  const origin = request.headers.origin;
  response.setHeader('Access-Control-Allow-Origin', origin && origin !== 'null' ? origin : '*');
  response.setHeader('Access-Control-Allow-Credentials', 'true');
  response.setHeader('Access-Control-Allow-Headers', 'content-type');
  response.setHeader('Vary', 'Origin');
}

const signedOptions = z.strictObject(signingOptions);

function bridgeOptions(c: { realm: string; role: string; authid?: string }, options: z.infer<typeof signedOptions> = {}): BridgeOptions {
  return { realm: c.realm, role: c.role, authid: c.authid ?? 'rest-bridge', gate: gateOptions(options) };
}

function checkSigning(
  options: { key?: string; secret?: string } | undefined,
  path: PropertyKey[],
  problem: (p: PropertyKey[], m: string) => void,
) {
  if (options?.secret !== undefined && options.key === undefined)
    problem([...path, 'options', 'key'], 'is required with "secret": the key signed requests name');
  if (options?.key !== undefined && options.secret === undefined)
    problem([...path, 'options', 'secret'], 'is required with "key": without it, requests are not signed and "key" checks nothing');
}

// ---- publisher ----

export interface PublisherServiceOptions extends BridgeOptions {
  type: 'publisher';
}

export const publisherService = webServiceType({
  schema: z
    .strictObject({ type: z.literal('publisher'), id: z.string().optional(), ...bridgeTarget, options: signedOptions.optional() })
    .meta({ id: 'PublisherService', description: 'HTTP POST {"topic", "args", "kwargs", "options"} publishes; answers {"id"}.' }),
  exact: true,
  methods: POST,
  toOptions: (c): PublisherServiceOptions => ({ type: 'publisher', ...bridgeOptions(c, c.options) }),
  check: (c, _base, problem) => checkSigning(c.options, [], problem),
  start: (o, ctx) =>
    startBridge(o, ctx, async (request, body, response, session) => {
      const event = jsonObject(request, body);
      const topic = uriField(event, 'topic');
      const { args, kwargs, options } = payloadOf(event);
      for (const key of Object.keys(options))
        if (!PUBLISH_OPTIONS.has(key))
          throw new Refusal(400, `"options.${key}" is not a publish option here (${[...PUBLISH_OPTIONS].join(', ')})`);
      const id = await (await session.get()).publish(topic, args, kwargs, { ...options, acknowledge: true });
      answerJson(response, 200, { id });
    }),
});

// ---- caller ----

export interface CallerServiceOptions extends BridgeOptions {
  type: 'caller';
  timeoutMs: number;
}

export const callerService = webServiceType({
  schema: z
    .strictObject({
      type: z.literal('caller'),
      id: z.string().optional(),
      ...bridgeTarget,
      options: z
        .strictObject({
          ...signingOptions,
          timeout: z
            .number()
            .int()
            .min(1)
            .optional()
            .describe(`Kreuz: ms a call may take (the router cancels it then); default ${DEFAULT_CALL_TIMEOUT_MS}.`),
        })
        .optional(),
    })
    .meta({ id: 'CallerService', description: 'HTTP POST {"procedure", "args", "kwargs"} calls; answers {"args", "kwargs"}.' }),
  exact: true,
  methods: POST,
  toOptions: (c): CallerServiceOptions => {
    const { timeout, ...signing } = c.options ?? {};
    return { type: 'caller', ...bridgeOptions(c, signing), timeoutMs: timeout ?? DEFAULT_CALL_TIMEOUT_MS };
  },
  check: (c, _base, problem) => checkSigning(c.options, [], problem),
  start: (o, ctx) =>
    startBridge(o, ctx, async (request, body, response, session) => {
      const event = jsonObject(request, body);
      const procedure = uriField(event, 'procedure');
      const { args, kwargs } = payloadOf(event);
      const result = await (await session.get()).call(procedure, args, kwargs, { timeout: o.timeoutMs });
      answerJson(response, 200, {
        ...(result.args.length > 0 && { args: result.args }),
        ...(Object.keys(result.kwargs).length > 0 && { kwargs: result.kwargs }),
      });
    }),
});

// ---- webhook ----

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
      options: z.strictObject({
        topic: z.string({ error: 'is required: the topic each POST is published to' }).min(1),
        post_body_limit: signingOptions.post_body_limit,
        success_response: z.string().optional().describe('The body of a 202; default "OK".'),
        error_response: z.string().optional().describe('The body of a 500; default "NOT OK".'),
        github_secret: z
          .string()
          .min(1)
          .optional()
          .describe("GitHub's webhook secret: X-Hub-Signature-256 (or X-Hub-Signature) must match."),
        debug: z.boolean().optional(),
      }),
    })
    .meta({ id: 'WebhookService', description: 'Any POST becomes an event {headers, body} on options.topic.' }),
  exact: true,
  methods: POST,
  toOptions: (c): WebhookServiceOptions => ({
    type: 'webhook',
    ...bridgeOptions(c, { post_body_limit: c.options.post_body_limit }),
    topic: c.options.topic,
    success: c.options.success_response ?? 'OK',
    error: c.options.error_response ?? 'NOT OK',
    githubSecret: c.options.github_secret,
  }),
  start: (o, ctx) =>
    startBridge(o, ctx, async (request, body, response, session) => {
      if (o.githubSecret !== undefined && !githubSigned(request, body, o.githubSecret))
        throw new Refusal(400, 'the GitHub signature (X-Hub-Signature-256) is missing or wrong');
      const headers: Record<string, string[]> = {};
      for (let i = 0; i < request.rawHeaders.length; i += 2) {
        const name = request.rawHeaders[i]!.toLowerCase();
        (Object.hasOwn(headers, name) ? headers[name]! : (headers[name] = [])).push(request.rawHeaders[i + 1]!);
      }
      try {
        await (await session.get()).publish(o.topic, [{ headers, body: body.toString('utf8') }], undefined, { acknowledge: true });
      } catch (err) {
        ctx.logger.warn({ err: (err as Error)?.message, topic: o.topic }, 'webhook: the event could not be published');
        return void response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(o.error);
      }
      response.writeHead(202, { 'Content-Type': 'text/plain; charset=utf-8' }).end(o.success);
    }),
});

/** GitHub signs the body with HMAC-SHA256 (X-Hub-Signature-256), formerly HMAC-SHA1 (X-Hub-Signature). */
function githubSigned(request: IncomingMessage, body: Buffer, secret: string): boolean {
  const sha256 = request.headers['x-hub-signature-256'];
  if (typeof sha256 === 'string')
    return equalText(sha256.toLowerCase(), `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const sha1 = request.headers['x-hub-signature'];
  return typeof sha1 === 'string' && equalText(sha1.toLowerCase(), `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`);
}
