/**
 * Plain HTTP requests on the node's HTTP-speaking transports (websocket,
 * web, universal): Prometheus metrics, the node info JSON, and a hint at
 * the WebSocket paths. Everything else is 404.
 */
import type { RequestListener } from 'node:http';
import type { Registry } from 'prom-client';

export interface HttpServices {
  /** Where metrics are served, with the registry to serve. */
  metrics?: { path: string; registry: Registry };
  /** Paths that answer with `info()`. */
  infoPaths: ReadonlySet<string>;
  info(): { status: string };
  /** The WebSocket paths of this server: a plain request there is told to upgrade (426). */
  websocketPaths: ReadonlySet<string>;
}

export function httpHandler(services: HttpServices): RequestListener {
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const isGet = request.method === 'GET' || request.method === 'HEAD';
    const known = services.metrics?.path === path || services.infoPaths.has(path);
    if (known && !isGet) {
      response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('Method Not Allowed\n');
      return;
    }
    if (services.metrics && path === services.metrics.path) {
      const registry = services.metrics.registry;
      registry.metrics().then(
        (text) => response.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
        () => response.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics unavailable\n'),
      );
      return;
    }
    if (services.infoPaths.has(path)) {
      const info = services.info();
      // A load balancer's health check sees a node that is shutting down as unavailable.
      response
        .writeHead(info.status === 'ok' ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
        .end(`${JSON.stringify(info)}\n`);
      return;
    }
    if (services.websocketPaths.has(path)) {
      response
        .writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' })
        .end('This is a WAMP router: connect with WebSocket.\n');
      return;
    }
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found\n');
  };
}
