/**
 * Plain HTTP requests on the node's HTTP-speaking transports (websocket,
 * web, universal): Prometheus metrics, the node info JSON, a hint at the
 * WebSocket paths, and the web services of `paths` (web-services/).
 *
 * A request's path is decoded once (web-services/request-path.ts); a path
 * that tries to climb or hide is 404 for every service. Metrics answer at
 * their exact path; every other path belongs to the configured path that is
 * its longest prefix, as in Crossbar, where "/" serves everything no other
 * path claims and a path owns what lies below it. Everything else is 404,
 * and nothing answered names a file or a directory of the server.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.ts';
import type { WebMount } from './web-services/index.ts';
import { joinedPath, parseRequestPath } from './web-services/request-path.ts';
import { NOSNIFF, notFound, plain, type WebHandler } from './web-services/web-service.ts';

export interface HttpServices {
  /** Where metrics are served, with the registry to serve. */
  metrics?: { path: string; registry: Registry };
  /** Paths that answer with `info()`. */
  infoPaths: ReadonlySet<string>;
  info(): { status: string };
  /** The WebSocket paths of this server: a plain request there is told to upgrade (426). */
  websocketPaths: ReadonlySet<string>;
  /** The web services of this server (static files, JSON, redirects, archives). */
  web?: readonly WebMount[];
  /** Where a failing web service is reported (its client gets 500 and nothing more). */
  logger?: Logger;
}

type Mount = { kind: 'websocket' } | { kind: 'info' } | { kind: 'service'; exact: boolean; methods: readonly string[]; handle: WebHandler };

/** Segments joined with NUL, which no decoded segment contains: "a%2Fb" cannot pose as the path "a/b". */
const keyOf = (segments: readonly string[]) => segments.join('\0');

export function httpHandler(services: HttpServices): RequestListener {
  const mounts = new Map<string, Mount>();
  const add = (path: string, mount: Mount) => {
    const parsed = parseRequestPath(path);
    if (typeof parsed !== 'string' && !mounts.has(keyOf(parsed.segments))) mounts.set(keyOf(parsed.segments), mount);
  };
  // Configured paths first: a node-wide info path (kreuz.info) does not take one over.
  for (const w of services.web ?? []) add(w.path, { kind: 'service', exact: w.exact, methods: w.methods, handle: w.handle });
  for (const p of services.websocketPaths) add(p, { kind: 'websocket' });
  for (const p of services.infoPaths) add(p, { kind: 'info' });
  const depth = Math.max(0, ...[...mounts.keys()].map((k) => (k === '' ? 0 : k.split('\0').length)));

  return (request, response) => {
    const parsed = parseRequestPath(request.url ?? '/');
    if (parsed === 'bad') return plain(response, 400, 'Bad Request');
    if (parsed === 'refused') return notFound(response);
    const method = request.method ?? 'GET';
    const isGet = method === 'GET' || method === 'HEAD';

    if (services.metrics && joinedPath(parsed) === services.metrics.path) {
      if (!isGet) return notAllowed(response);
      const registry = services.metrics.registry;
      registry.metrics().then(
        (text) => response.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
        () => response.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics unavailable\n'),
      );
      return;
    }

    const { segments } = parsed;
    let at = Math.min(depth, segments.length);
    let mount = mounts.get(keyOf(segments.slice(0, at)));
    while (!mount && at > 0) mount = mounts.get(keyOf(segments.slice(0, --at)));
    if (!mount) return notFound(response);
    const rest = segments.slice(at);

    if (mount.kind === 'websocket') {
      if (rest.length > 0) return notFound(response);
      response
        .writeHead(426, { ...NOSNIFF, 'Content-Type': 'text/plain', Upgrade: 'websocket' })
        .end('This is a WAMP router: connect with WebSocket.\n');
      return;
    }
    if (mount.kind === 'info' ? rest.length > 0 : mount.exact && rest.length > 0) return notFound(response);
    if (mount.kind === 'info') return isGet ? sendInfo(services.info(), response) : notAllowed(response);
    if (!mount.methods.includes(method)) return notAllowed(response, mount.methods);

    const req = { request, method, head: method === 'HEAD', fullPath: segments, rest, trailingSlash: parsed.trailingSlash };
    run(mount.handle, req, response, services.logger);
  };
}

function sendInfo(info: { status: string }, response: ServerResponse): void {
  // A load balancer's health check sees a node that is shutting down as unavailable.
  response
    .writeHead(info.status === 'ok' ? 200 : 503, { ...NOSNIFF, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
    .end(`${JSON.stringify(info)}\n`);
}

function notAllowed(response: ServerResponse, allowed: readonly string[] = ['GET', 'HEAD']): void {
  plain(response, 405, 'Method Not Allowed', { Allow: allowed.join(', ') });
}

/** A service that throws gets its client a bare 500 (or a cut connection, once it has begun answering). */
function run(handle: WebHandler, req: Parameters<WebHandler>[0], response: ServerResponse, logger?: Logger): void {
  const failed = (err: unknown) => {
    logger?.warn({ err: (err as Error)?.message, path: pathForLog(req.request) }, 'http: web service failed');
    if (!response.headersSent) plain(response, 500, 'Internal Server Error');
    else response.destroy();
  };
  try {
    const done = handle(req, response);
    if (done) done.catch(failed);
  } catch (err) {
    failed(err);
  }
}

/** The path without its query (a query may carry a token). */
function pathForLog(request: IncomingMessage): string {
  return (request.url ?? '/').replace(/[?#].*$/s, '');
}
