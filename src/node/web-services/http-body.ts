/**
 * Reading a POST body as the HTTP bridge takes it: within a size limit and
 * a deadline, as UTF-8 (Crossbar refuses anything else), and as a JSON
 * object no deeper than the router takes from any WAMP client.
 */
import type { IncomingMessage } from 'node:http';
import { checkJsonDepth, checkParsed } from '../../serializers/json-scan.ts';
import { SerializationError } from '../../serializers/serializer.ts';
import { readBody as readBounded } from '../../transports/longpoll-http.ts';
import { Refusal } from './json-answer.ts';

/** Bodies are read up to this unless `post_body_limit` says less (Crossbar: unlimited). */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** A client has this long to send its whole body (`post_body_timeout`). */
export const DEFAULT_BODY_DEADLINE_MS = 10_000;

/**
 * The body, or a Refusal: over the limit (413, by its Content-Length before
 * a byte is read, or as it arrives), too slow (408), broken off (400). A
 * refused body is not read further: the answer closes the connection.
 */
export async function readBody(request: IncomingMessage, limit: number, deadlineMs: number): Promise<Buffer> {
  const read = await readBounded(request, limit, deadlineMs);
  if ('body' in read) return read.body;
  if (read.refused === 'too-large') throw new Refusal(413, `the body is over ${limit} bytes`, true);
  if (read.refused === 'timeout') throw new Refusal(408, `the body did not arrive within ${deadlineMs} ms`, true);
  throw new Refusal(400, 'the request broke off');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text; not UTF-8 is a 400 (Crossbar's check: a WAMP string must be valid Unicode). */
export function utf8Text(body: Buffer): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    throw new Refusal(400, 'the body is not valid UTF-8');
  }
}

/**
 * The JSON object of a body, or a Refusal. As Crossbar: a Content-Type, if
 * given, is application/json, and its charset, if given, UTF-8 (415 else).
 * Nesting deeper than `maxDepth` (the router's limit for WAMP messages) or a
 * number beyond a double is 400, as it would be from a WAMP client.
 */
export function jsonObject(request: IncomingMessage, body: Buffer, maxDepth: number): Record<string, unknown> {
  checkContentType(request.headers['content-type']);
  const text = utf8Text(body);
  let value: unknown;
  try {
    checkJsonDepth(text, maxDepth);
    value = checkParsed(JSON.parse(text), maxDepth, false);
  } catch (err) {
    if (err instanceof SerializationError) throw new Refusal(400, `the body cannot be taken: ${err.message}`);
    throw new Refusal(400, 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Refusal(400, 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

function checkContentType(header: string | undefined): void {
  if (header === undefined || header.trim() === '') return;
  const [type, ...parameters] = header.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') throw new Refusal(415, 'the body must be JSON (Content-Type: application/json)');
  for (const parameter of parameters) {
    const [name, value] = parameter.split('=').map((p) => p.trim().replace(/^"(.*)"$/, '$1'));
    if (name === 'charset' && value !== 'utf-8' && value !== 'utf8') throw new Refusal(415, 'the body must be UTF-8 (charset=utf-8)');
  }
}
