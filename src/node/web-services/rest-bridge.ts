/**
 * What Crossbar's HTTP bridge services (`publisher`, `caller`, `webhook`)
 * share: their config keys, the checks a request passes before its own step
 * (client admission, body, signature: client-admission.ts, http-body.ts,
 * request-signing.ts), the fields of a request body, and the in-process
 * session each service acts through, joined to its realm as its role (so a
 * bridge request is authorized exactly like a WAMP session with that role).
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { LocalSession } from '../../core/local-session.ts';
import type { Router } from '../../core/router.ts';
import { ClientAdmission, hostBitsSet, parseNetwork } from './client-admission.ts';
import { DEFAULT_BODY_DEADLINE_MS, DEFAULT_BODY_LIMIT, readBody } from './http-body.ts';
import { Refusal } from './json-answer.ts';
import { DEFAULT_TIMESTAMP_DELTA_S, SignatureChecker, UNBOUNDED_WINDOW_MEMORY_MS } from './request-signing.ts';

/** Crossbar's largest `post_body_limit` and `timestamp_delta_limit`. */
const MAX_BODY_LIMIT = 1024 * 1024;
const MAX_TIMESTAMP_DELTA_S = 86_400;

export const bodyOptions = {
  post_body_limit: z
    .number()
    .int()
    .min(0)
    .max(MAX_BODY_LIMIT)
    .optional()
    .describe(`Bytes a body may have; 0 or none: ${DEFAULT_BODY_LIMIT} (Crossbar's 0 is unlimited; Kreuz bounds every body).`),
  post_body_timeout: z
    .number()
    .int()
    .min(1)
    .max(600_000)
    .optional()
    .describe(`Kreuz: ms a client has to send its whole body (then 408); default ${DEFAULT_BODY_DEADLINE_MS}.`),
  debug: z.boolean().optional(),
};

export const signingOptions = {
  ...bodyOptions,
  key: z.string().min(1).optional().describe('The key signed requests name (with "secret").'),
  secret: z.string().min(1).optional().describe('Signed requests only: the HMAC-SHA256 secret.'),
  timestamp_delta_limit: z
    .number()
    .int()
    .min(0)
    .max(MAX_TIMESTAMP_DELTA_S)
    .optional()
    .describe(`Seconds a signed request's timestamp may be off; default ${DEFAULT_TIMESTAMP_DELTA_S}; 0: any.`),
  require_ip: z
    .array(z.string().refine((s) => parseNetwork(s) !== undefined, { error: 'must be an IP address or a network (10.0.0.0/8)' }))
    .optional()
    .describe('Only clients with these addresses, or in these networks, are served (403 else).'),
  require_tls: z.boolean().optional().describe('Only requests over TLS are served (403 else).'),
};

/** The keys of a bridge path besides its options. */
export const bridgeTarget = {
  realm: z.string().min(1).describe('The realm it acts on.'),
  role: z.string().min(1).describe('The role it acts as (authorized like a WAMP session with it).'),
  authid: z.string().min(1).optional().describe('Kreuz: the authid its session has; default "rest-bridge".'),
};

export interface GateOptions {
  key?: string;
  secret?: string;
  bodyLimit: number;
  /** Default DEFAULT_BODY_DEADLINE_MS. */
  bodyDeadlineMs?: number;
  timestampDeltaMs: number;
  requireIp?: string[];
  requireTls: boolean;
}

export function gateOptions(o: {
  key?: string;
  secret?: string;
  post_body_limit?: number;
  post_body_timeout?: number;
  timestamp_delta_limit?: number;
  require_ip?: string[];
  require_tls?: boolean;
}): GateOptions {
  return {
    key: o.key,
    secret: o.secret,
    bodyLimit: o.post_body_limit || DEFAULT_BODY_LIMIT,
    bodyDeadlineMs: o.post_body_timeout,
    timestampDeltaMs: (o.timestamp_delta_limit ?? DEFAULT_TIMESTAMP_DELTA_S) * 1000,
    requireIp: o.require_ip,
    requireTls: o.require_tls === true,
  };
}

/** What `kreuz check` says of a bridge's options that the schema does not. */
export function checkBridgeOptions(
  options: { key?: string; secret?: string; timestamp_delta_limit?: number; require_ip?: string[] } | undefined,
  problem: (p: PropertyKey[], m: string) => void,
  note: (p: PropertyKey[], m: string) => void,
): void {
  if (options?.secret !== undefined && options.key === undefined)
    problem(['options', 'key'], 'is required with "secret": the key signed requests name');
  if (options?.key !== undefined && options.secret === undefined)
    problem(['options', 'secret'], 'is required with "key": without it, requests are not signed and "key" checks nothing');
  if (options?.secret !== undefined && options.timestamp_delta_limit === 0)
    note(
      ['options', 'timestamp_delta_limit'],
      `0 takes any timestamp: a replayed request is recognised only within ${UNBOUNDED_WINDOW_MEMORY_MS / 60_000} minutes of the first; a window (e.g. 300) bounds replays for good`,
    );
  for (const [i, text] of (options?.require_ip ?? []).entries()) {
    const network = parseNetwork(text);
    if (network && hostBitsSet(network))
      note(
        ['options', 'require_ip', i],
        `"${text}" has host bits set: Kreuz takes the whole network it lies in (Crossbar's Python refuses it)`,
      );
  }
}

/** The checks every bridge request passes in turn: its client, its body, its signature. */
export class RequestGate {
  private readonly admission: ClientAdmission;
  private readonly signatures: SignatureChecker | undefined;

  constructor(private readonly o: GateOptions) {
    this.admission = new ClientAdmission(o.requireIp, o.requireTls);
    if (o.secret !== undefined)
      this.signatures = new SignatureChecker({ key: o.key ?? '', secret: o.secret, timestampDeltaMs: o.timestampDeltaMs });
  }

  /** The body of an admitted request whose signature (when the service has a secret) holds; a Refusal else. */
  async pass(request: IncomingMessage): Promise<Buffer> {
    this.admission.admit(request);
    const body = await readBody(request, this.o.bodyLimit, this.o.bodyDeadlineMs ?? DEFAULT_BODY_DEADLINE_MS);
    this.signatures?.verify(queryOf(request), body);
    return body;
  }
}

function queryOf(request: IncomingMessage): URLSearchParams {
  try {
    return new URL(request.url ?? '/', 'http://bridge.invalid').searchParams;
  } catch {
    throw new Refusal(400, 'the request URL cannot be read');
  }
}

/** `args`, `kwargs` and `options` of a request body, checked; absent or null ones empty (as Crossbar takes them). */
export function payloadOf(event: Record<string, unknown>): {
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: Record<string, unknown>;
} {
  const field = <T>(name: string, ok: (v: unknown) => boolean, empty: T, what: string): T => {
    const v = Object.hasOwn(event, name) ? event[name] : undefined;
    if (v === undefined || v === null) return empty;
    if (!ok(v)) throw new Refusal(400, `"${name}" must be ${what}`);
    return v as T;
  };
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  return {
    args: field('args', Array.isArray, [], 'a list'),
    kwargs: field('kwargs', isObject, {}, 'an object'),
    options: field('options', isObject, {}, 'an object'),
  };
}

/** The string field `name` of a body, or a Refusal (400); whether it is a valid URI, the router decides (invalid_uri). */
export function uriField(event: Record<string, unknown>, name: string): string {
  const v = Object.hasOwn(event, name) ? event[name] : undefined;
  if (typeof v !== 'string' || v.length === 0) throw new Refusal(400, `"${name}" is required: a URI string`);
  return v;
}

/**
 * One in-process session per service, joined on first use and again after
 * the router ended it (a kill, a realm reload). The meta API lists it with
 * transport type "http" and the service's place in the config as its peer.
 */
export class BridgeSession {
  private session: Promise<LocalSession> | undefined;
  private closed = false;

  constructor(
    private readonly router: Router,
    readonly realm: string,
    private readonly identity: { authid: string; authrole: string },
    private readonly where: string,
  ) {}

  get(): Promise<LocalSession> {
    if (this.closed) return Promise.reject(new Refusal(503, 'the node is shutting down'));
    if (!this.session) {
      const transport = { type: 'http' as const, peer: `http:${this.where}` };
      const joining = LocalSession.join(this.router, this.realm, { ...this.identity, transport }).catch((err: unknown) => {
        // The realm or role went away (a reload): the service cannot act until it is back.
        throw new Refusal(503, `the bridge cannot join realm "${this.realm}": ${err instanceof Error ? err.message : String(err)}`);
      });
      this.session = joining;
      joining.then(
        (s) => s.onClose(() => this.session === joining && (this.session = undefined)),
        () => this.session === joining && (this.session = undefined),
      );
    }
    return this.session;
  }

  async close(): Promise<void> {
    this.closed = true;
    const s = this.session;
    this.session = undefined;
    await s?.then((l) => l.close()).catch(() => undefined);
  }
}
