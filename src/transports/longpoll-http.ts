/**
 * The HTTP side of the long-poll transport: bounded request bodies, the
 * headers every answer carries (CORS as Crossbar sends them, no caching),
 * and JSON error answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What reading a body came to. */
export type BodyResult = { body: Buffer } | { refused: 'too-large'; size: number } | { refused: 'timeout' | 'aborted' };

/**
 * Reads a request body of at most `limit` bytes within `deadline` ms. A
 * declared or streamed body over the limit stops the reading at once: its
 * bytes are never held. The caller answers, and the connection is closed after
 * the answer (the rest of such a body is never read). The one body reader of
 * the node's HTTP services (the HTTP bridge's too, web-services/http-body.ts).
 */
export function readBody(request: IncomingMessage, limit: number, deadline: number): Promise<BodyResult> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ refused: 'too-large', size: declared });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('aborted', onAborted);
      request.off('close', onClose);
      request.off('error', onAborted);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        request.pause();
        return settle({ refused: 'too-large', size });
      }
      chunks.push(chunk);
    };
    const onEnd = () => settle({ body: Buffer.concat(chunks, size) });
    const onAborted = () => settle({ refused: 'aborted' });
    const onClose = () => settle(request.complete ? { body: Buffer.concat(chunks, size) } : { refused: 'aborted' });
    const timer = setTimeout(() => settle({ refused: 'timeout' }), deadline);
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('aborted', onAborted);
    request.on('close', onClose);
    request.on('error', onAborted);
  });
}

/** A header value as printable ASCII of bounded length, or undefined (never echo what a client made up beyond that). */
function printable(value: string | string[] | undefined, max: number): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && v.length <= max && /^[\x20-\x7e]*$/.test(v) ? v : undefined;
}

/**
 * Crossbar's headers on every long-poll answer: the request's origin is
 * allowed, with credentials (Autobahn|JS sends its requests withCredentials;
 * "*" stands for a missing or "null" origin), the request headers a preflight
 * asks for are allowed, and nothing is cached.
 */
export function standardHeaders(request: IncomingMessage): Record<string, string> {
  const origin = printable(request.headers.origin, 1024);
  const askedHeaders = printable(request.headers['access-control-request-headers'], 1024);
  return {
    'X-Content-Type-Options': 'nosniff',
    'Access-Control-Allow-Origin': origin === undefined || origin === '' || origin === 'null' ? '*' : origin,
    'Access-Control-Allow-Credentials': 'true',
    'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0',
    Vary: 'Origin',
    ...(askedHeaders !== undefined && askedHeaders !== '' && { 'Access-Control-Allow-Headers': askedHeaders }),
  };
}

/** The reason phrases of the statuses the long-poll transport answers with. */
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  410: 'Gone',
  413: 'Content Too Large',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

export interface ErrorAnswer {
  status: number;
  /** A short machine-readable word, e.g. "no_such_transport". */
  error: string;
  message: string;
  headers?: Record<string, string>;
  /** Close the connection after the answer (a body was left unread). */
  close?: boolean;
}

/** Answers with `{"error": ..., "message": ...}`; nothing if the response has begun. */
export function answerError(request: IncomingMessage, response: ServerResponse, answer: ErrorAnswer): void {
  if (response.headersSent || response.writableEnded) return;
  const body = `${JSON.stringify({ error: answer.error, message: answer.message })}\n`;
  response.statusMessage = STATUS_TEXT[answer.status] ?? response.statusMessage;
  response
    .writeHead(answer.status, {
      ...standardHeaders(request),
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      ...(answer.close && { Connection: 'close' }),
      ...answer.headers,
    })
    .end(body);
}

/** 204 with the standard headers. */
export function answerNoContent(request: IncomingMessage, response: ServerResponse): void {
  if (response.headersSent || response.writableEnded) return;
  response.writeHead(204, standardHeaders(request)).end();
}
