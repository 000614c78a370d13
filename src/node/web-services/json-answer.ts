/**
 * JSON answers of the HTTP bridge services, errors in Crossbar's shape
 * (`{"error", "args", "kwargs"}`), and the refusal a check throws to end a
 * request with one.
 */
import type { ServerResponse } from 'node:http';
import { NOSNIFF } from './web-service.ts';

/** A refused request: its status and what the JSON answer says. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The request's body was not read to its end: the connection closes after the answer, not to read the rest. */
    readonly closeConnection = false,
  ) {
    super(message);
  }
}

export function answerJson(response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) return void response.destroy();
  const body = `${JSON.stringify(value)}\n`;
  response
    .writeHead(status, {
      ...NOSNIFF,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      'Cache-Control': 'no-store',
      ...headers,
    })
    .end(body);
}

/** Crossbar's error shape: `{"error", "args", "kwargs"}`. */
export function answerError(response: ServerResponse, status: number, error: string, args: unknown[] = [], kwargs: object = {}): void {
  answerJson(response, status, { error, args, kwargs });
}

export function answerRefusal(response: ServerResponse, refusal: Refusal): void {
  answerJson(
    response,
    refusal.status,
    { error: refusal.message, args: [], kwargs: {} },
    refusal.closeConnection ? { Connection: 'close' } : {},
  );
}
