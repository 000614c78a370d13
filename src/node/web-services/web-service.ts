/**
 * What a web service type (a `paths` entry's `type` on a web or universal
 * transport, other than "websocket" and "nodeinfo") brings to the table of
 * them (web-services/index.ts): its config schema, what an entry becomes in
 * `startNode`'s options, what `kreuz check` finds on disk, and the handler
 * it starts. http.ts finds the service of a request by its path and hands
 * it the path below, decoded once and already free of "." and ".."
 * segments, NUL bytes and empty segments.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { Logger } from '../../core/logger.ts';
import type { TypedOption } from '../../config/schema-helpers.ts';
import type { ListenerContext } from '../listeners.ts';

export type ConfigPath = PropertyKey[];
export type Report = (path: ConfigPath, message: string) => void;

/** A request as a service sees it; only the methods of its type (default GET and HEAD) reach a service. */
export interface WebRequest {
  readonly request: IncomingMessage;
  /** The method, upper case ("GET", "POST"). */
  readonly method: string;
  readonly head: boolean;
  /** The whole path, decoded segment by segment. */
  readonly fullPath: readonly string[];
  /** The path below the service's. */
  readonly rest: readonly string[];
  /** The URL path ended in "/" (for "/" itself too). */
  readonly trailingSlash: boolean;
}

/** Answers a request; a rejected promise is answered 500 (without its message). */
export type WebHandler = (request: WebRequest, response: ServerResponse) => void | Promise<void>;

export interface WebServiceContext extends Pick<ListenerContext, 'router' | 'metrics' | 'auth' | 'maxMessageSize'> {
  logger: Logger;
  /** The entry in errors and log lines, e.g. `transports[0].paths./`. */
  where: string;
  /** Runs `close` when the listener closes (node shutdown): a service that holds sessions or timers ends them there. */
  onClose(close: () => void | Promise<void>): void;
  /** The WebSocket paths of the same server, as configured ("ws"), in config order. */
  websocketPaths: readonly string[];
}

export interface WebServiceType<S extends TypedOption = TypedOption, O extends { type: string } = { type: string }> {
  /** The config entry: a strict object with `type: z.literal(...)`. */
  readonly schema: S;
  /** Only its own path: a request below it is 404 (the static and archive services serve a tree, the others one resource). */
  readonly exact: boolean;
  /** The methods it answers (default GET and HEAD); any other is 405 with these in `Allow`. */
  readonly methods?: readonly string[];
  /** A checked entry as `startNode` takes it; relative files are resolved against `baseDir`. */
  toOptions(config: z.infer<S>, baseDir: string): O;
  /** What the schema cannot check (files on disk), with paths in the entry. */
  check?(config: z.infer<S>, baseDir: string, problem: Report, note: Report): void;
  /** Prepares the service (e.g. reads an archive's directory) and returns its handler. */
  start(options: O, ctx: WebServiceContext): Promise<WebHandler>;
}

/** Declares a web service type, so its config and options types follow from its schema and `toOptions`. */
export function webServiceType<S extends TypedOption, O extends { type: string }>(type: WebServiceType<S, O>): WebServiceType<S, O> {
  return type;
}

// ---- answers every service shares ----

/** Sent with every answer of a web service: the type given is the type meant. */
export const NOSNIFF = { 'X-Content-Type-Options': 'nosniff' } as const;

/** 404 that names nothing of the request or the server. */
export function notFound(response: ServerResponse): void {
  plain(response, 404, 'Not Found');
}

export function plain(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `${text}\n`;
  response
    .writeHead(status, {
      ...NOSNIFF,
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      ...headers,
    })
    .end(body);
}
