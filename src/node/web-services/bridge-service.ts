/**
 * The handler every HTTP bridge service (publisher.ts, caller.ts,
 * webhook.ts) shares: CORS as Crossbar answers it, a bound on requests in
 * progress, the request gate (client, body, signature), then the service's
 * own step; and how what went wrong becomes an HTTP status.
 *
 * Where Kreuz differs from Crossbar: a WAMP error answers with a status
 * that says what happened (403, 404, 504, ...; Crossbar answers 200 with
 * the error), refusals are 401/403/413/415 where Crossbar says 400, a
 * signed request is refused when replayed, and a body has a limit even
 * without `post_body_limit` (1 MiB).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CrossbarUri, ErrorUri } from '../../wamp/uris.ts';
import { WampError } from '../../wamp/wamp-error.ts';
import { answerError, answerRefusal, Refusal } from './json-answer.ts';
import { BridgeSession, RequestGate, type GateOptions } from './rest-bridge.ts';
import type { WebHandler, WebServiceContext } from './web-service.ts';

/** What a bridge path answers (PUT as Crossbar; OPTIONS: CORS preflights). */
export const BRIDGE_METHODS = ['POST', 'PUT', 'OPTIONS'] as const;
/**
 * Requests one service serves at once (reading a body, or waiting for the
 * router); past it, 503. Each may hold a body of up to its limit, so this
 * bounds what slow or many clients make one service hold.
 */
export const MAX_REQUESTS_IN_PROGRESS = 256;

export interface BridgeOptions {
  realm: string;
  role: string;
  authid: string;
  gate: GateOptions;
}

/** A service's own step, on a request that passed the gate. */
export type BridgeStep = (request: IncomingMessage, body: Buffer, response: ServerResponse, session: BridgeSession) => Promise<void>;

/** The HTTP status of a WAMP error a bridge request ended with. */
export function statusOfWampError(uri: string): number {
  switch (uri) {
    case ErrorUri.NOT_AUTHORIZED:
    case ErrorUri.AUTHORIZATION_FAILED:
      return 403;
    case ErrorUri.NO_SUCH_PROCEDURE:
    case ErrorUri.NO_SUCH_REALM:
      return 404;
    case ErrorUri.INVALID_URI:
    case ErrorUri.INVALID_ARGUMENT:
      return 400;
    case ErrorUri.PAYLOAD_SIZE_EXCEEDED:
      return 413;
    case ErrorUri.CANCELED:
    case ErrorUri.TIMEOUT:
      return 504;
    case CrossbarUri.MAX_CONCURRENCY_REACHED:
      return 503;
    default:
      // A limit of the router (kreuz.error.*), or the callee's own error: the gateway's answer was an error.
      return uri.startsWith('kreuz.error.') ? 503 : 502;
  }
}

export async function startBridge(o: BridgeOptions, ctx: WebServiceContext, step: BridgeStep): Promise<WebHandler> {
  const realm = ctx.router.realms.get(o.realm);
  if (!realm) throw new Error(`${ctx.where}: realm "${o.realm}" is not a realm of this node`);
  if (!realm.authorizer.hasRole(o.role)) throw new Error(`${ctx.where}: realm "${o.realm}" has no role "${o.role}"`);
  const gate = new RequestGate(o.gate);
  const session = new BridgeSession(ctx.router, o.realm, { authid: o.authid, authrole: o.role }, ctx.where);
  ctx.onClose(() => session.close());
  let inProgress = 0;
  return async ({ request, method }, response) => {
    corsHeaders(request, response);
    if (method === 'OPTIONS') {
      response.writeHead(204, { Allow: 'POST, PUT, OPTIONS', 'Access-Control-Allow-Methods': 'POST, PUT, OPTIONS', 'Content-Length': '0' });
      return void response.end();
    }
    if (inProgress >= MAX_REQUESTS_IN_PROGRESS)
      return answerRefusal(response, new Refusal(503, 'too many requests in progress on this service; retry later', true));
    inProgress++;
    try {
      const body = await gate.pass(request);
      await step(request, body, response, session);
    } catch (err) {
      if (err instanceof Refusal) return answerRefusal(response, err);
      if (err instanceof WampError) return answerError(response, statusOfWampError(err.uri), err.uri, err.args, err.kwargs);
      ctx.logger.warn({ err: (err as Error)?.message, where: ctx.where }, 'http bridge: request failed');
      answerError(response, 500, ErrorUri.RUNTIME_ERROR, ['the request could not be handled']);
    } finally {
      inProgress--;
    }
  };
}

/** As Crossbar: the requesting origin (or *) may read the answer, and send the headers its preflight asks for. */
function corsHeaders(request: IncomingMessage, response: ServerResponse): void {
  const origin = request.headers.origin;
  response.setHeader('Access-Control-Allow-Origin', origin && origin !== 'null' ? origin : '*');
  response.setHeader('Access-Control-Allow-Credentials', 'true');
  const asked = request.headers['access-control-request-headers'];
  // Header names only (RFC 9110 tokens and commas): nothing else of the request goes into the answer.
  response.setHeader(
    'Access-Control-Allow-Headers',
    typeof asked === 'string' && /^[\w!#$%&'*+.^`|~ ,-]{1,1024}$/.test(asked) ? asked : 'content-type',
  );
  response.setHeader('Vary', 'Origin');
}
