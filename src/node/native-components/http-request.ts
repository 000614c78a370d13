/**
 * One outbound HTTP request of a native component: http: or https: only,
 * one deadline for all of it (connect to the last byte of the body), the
 * response body read up to a limit, redirects not followed (a 3xx is the
 * answer), and an abort at component stop. What fails is an HttpFailure
 * naming why, so callers can tell "not reached" (safe to retry) from the rest.
 */
import http from 'node:http';
import https from 'node:https';

export type FailureReason = 'timeout' | 'unreachable' | 'response_too_large' | 'connection_error' | 'stopped' | 'bad_request';

export class HttpFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
  }
}

export interface OutboundRequest {
  url: URL;
  method: string;
  /** Header name to its values. */
  headers: ReadonlyMap<string, readonly string[]>;
  body?: Buffer;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Aborts the request (the component stops). */
  signal: AbortSignal;
  agents: { http: http.Agent; https: https.Agent };
}

export interface OutboundResponse {
  code: number;
  /** Header name (as the server spelled it first) to its values, in order. */
  headers: Map<string, string[]>;
  body: Buffer;
}

/** Errors of a connection that never reached the server: nothing was sent, so trying again is safe. */
const UNREACHED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

export function sendRequest(o: OutboundRequest): Promise<OutboundResponse> {
  return new Promise((resolve, reject) => {
    if (o.signal.aborted) return reject(new HttpFailure('stopped', 'the component stopped'));
    const secure = o.url.protocol === 'https:';
    // Header names come from callers: a prototype-less object, so "__proto__" is only a (refused) name.
    const headers: Record<string, string[]> = Object.create(null);
    for (const [name, values] of o.headers) headers[name] = [...values];
    let req: http.ClientRequest;
    try {
      req = (secure ? https : http).request(o.url, {
        method: o.method,
        headers,
        agent: secure ? o.agents.https : o.agents.http,
      });
    } catch (err) {
      // Node refuses bad header names or values, and bad methods, synchronously.
      return reject(new HttpFailure('bad_request', err instanceof Error ? err.message : String(err)));
    }
    let settled = false;
    const finish = (outcome: { response?: OutboundResponse; failure?: HttpFailure }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      if (outcome.failure) {
        req.destroy();
        reject(outcome.failure);
      } else resolve(outcome.response as OutboundResponse);
    };
    const timer = setTimeout(
      () => finish({ failure: new HttpFailure('timeout', `no complete response within ${o.timeoutMs / 1000} s`) }),
      o.timeoutMs,
    );
    const onAbort = () => finish({ failure: new HttpFailure('stopped', 'the component stopped') });
    o.signal.addEventListener('abort', onAbort, { once: true });

    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      finish({
        failure: UNREACHED.has(code)
          ? new HttpFailure('unreachable', `the target was not reached (${code})`)
          : new HttpFailure('connection_error', `the request failed (${code || err.message})`),
      });
    });
    req.on('response', (res) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > o.maxResponseBytes) {
        res.destroy();
        finish({ failure: tooLarge(o.maxResponseBytes) });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > o.maxResponseBytes) {
          res.destroy();
          finish({ failure: tooLarge(o.maxResponseBytes) });
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', () => finish({ failure: new HttpFailure('connection_error', 'the response broke off') }));
      res.on('close', () => {
        if (!res.complete) finish({ failure: new HttpFailure('connection_error', 'the response broke off') });
      });
      res.on('end', () =>
        finish({ response: { code: res.statusCode ?? 0, headers: groupHeaders(res.rawHeaders), body: Buffer.concat(chunks, size) } }),
      );
    });
    req.end(o.body);
  });
}

function tooLarge(limit: number): HttpFailure {
  return new HttpFailure('response_too_large', `the response body is larger than ${limit} bytes`);
}

/** Raw header pairs grouped by name (case-insensitively), keeping the first spelling. */
function groupHeaders(raw: readonly string[]): Map<string, string[]> {
  const byLower = new Map<string, string[]>();
  const grouped = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    let values = byLower.get(lower);
    if (!values) {
      values = [];
      byLower.set(lower, values);
      grouped.set(raw[i], values);
    }
    values.push(raw[i + 1]);
  }
  return grouped;
}

/** The URL for logs: no user name or password, no query (either may carry a secret). */
export function redactUrl(url: URL | string): string {
  try {
    const u = new URL(String(url));
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Keep-alive agents for one component, destroyed (sockets closed) when it stops. */
export function makeAgents(maxSockets: number): { http: http.Agent; https: https.Agent; destroy(): void } {
  const a = new http.Agent({ keepAlive: true, maxSockets });
  const b = new https.Agent({ keepAlive: true, maxSockets });
  return {
    http: a,
    https: b,
    destroy: () => {
      a.destroy();
      b.destroy();
    },
  };
}
