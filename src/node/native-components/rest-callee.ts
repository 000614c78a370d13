/**
 * crossbar.bridge.rest.RESTCallee, natively: it registers `procedure`, and
 * each call becomes one HTTP request. The call's arguments are Crossbar's,
 * by position or by keyword: (method, url, body = "", headers = {},
 * params = {}); `url` is resolved against `baseurl`, `params` are added to
 * its query, `headers` map a name to a value or a list of values. The
 * result is Crossbar's: {code, content, headers}, whatever the status (a
 * 404 or 500 is an answer, not an error), `content` the body as text,
 * `headers` each name to its list of values.
 *
 * A request that fails (the target is unreachable, times out, sends more
 * than max_response_size, breaks off) answers wamp.error.runtime_error with
 * the reason in kwargs, as Crossbar's exception would; bad arguments answer
 * wamp.error.invalid_argument. Unlike Crossbar, the resolved URL must stay
 * below `baseurl` (same origin, same path prefix): a caller cannot point the
 * router at any host it likes.
 */
import { ErrorUri } from '../../wamp/uris.ts';
import { WampError } from '../../wamp/wamp-error.ts';
import type { Dict } from '../../wamp/messages.ts';
import { DEFAULTS, type RestCalleeExtra } from './extra-schemas.ts';
import { HttpFailure, makeAgents, redactUrl, sendRequest } from './http-request.ts';
import type { NativeComponent, NativeComponentClass, NativeContext } from './native-component.ts';
import { Slots } from './slots.ts';

const PARAMETERS = ['method', 'url', 'body', 'headers', 'params'] as const;
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}$/;
const MAX_ENTRIES = 100;

export interface CalleeRequest {
  method: string;
  url: URL;
  body: Buffer;
  headers: Map<string, string[]>;
}

const invalid = (message: string) => new WampError(ErrorUri.INVALID_ARGUMENT, [message]);

const isPlainDict = (value: unknown): value is Dict =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

/** A dict of name to a string or a list of strings, bounded. */
function stringLists(value: unknown, what: string): Map<string, string[]> {
  if (value === undefined || value === null) return new Map();
  if (!isPlainDict(value)) throw invalid(`"${what}" must be a dict`);
  const out = new Map<string, string[]>();
  let count = 0;
  for (const [name, v] of Object.entries(value)) {
    const values = Array.isArray(v) ? v : [v];
    count += values.length;
    if (count > MAX_ENTRIES) throw invalid(`"${what}" has more than ${MAX_ENTRIES} values`);
    if (!values.every((x) => typeof x === 'string')) throw invalid(`"${what}.${name}" must be a string or a list of strings`);
    out.set(name, values as string[]);
  }
  return out;
}

/** The base's path up to its last "/": what a resolved URL's path must start with. */
function basePrefix(base: URL): string {
  return base.pathname.slice(0, base.pathname.lastIndexOf('/') + 1);
}

/** The request a call asks for (its arguments as Crossbar's on_call takes them), or invalid_argument. */
export function requestOf(args: unknown[], kwargs: Dict, base: URL): CalleeRequest {
  if (args.length > PARAMETERS.length) throw invalid(`at most ${PARAMETERS.length} positional arguments: ${PARAMETERS.join(', ')}`);
  const given = new Map<string, unknown>();
  for (const [i, a] of args.entries()) given.set(PARAMETERS[i], a);
  for (const [key, value] of Object.entries(kwargs)) {
    if (!(PARAMETERS as readonly string[]).includes(key)) throw invalid(`unknown argument "${key}" (it takes ${PARAMETERS.join(', ')})`);
    if (given.has(key)) throw invalid(`"${key}" given twice`);
    given.set(key, value);
  }
  const method = given.get('method');
  if (typeof method !== 'string' || !METHOD.test(method)) throw invalid('"method" must be an HTTP method, e.g. "GET"');
  const path = given.get('url') ?? '';
  if (typeof path !== 'string') throw invalid('"url" must be a string');
  const body = given.get('body') ?? '';
  if (typeof body !== 'string') throw invalid('"body" must be a string');
  let url: URL;
  try {
    url = new URL(path, base);
  } catch {
    throw invalid('"url" cannot be resolved against the baseurl');
  }
  if (url.origin !== base.origin || !url.pathname.startsWith(basePrefix(base)) || url.username || url.password)
    throw invalid('"url" must stay below the baseurl (same scheme, host and port, same path prefix)');
  for (const [name, values] of stringLists(given.get('params'), 'params')) for (const v of values) url.searchParams.append(name, v);
  return { method: method.toUpperCase(), url, body: Buffer.from(body, 'utf8'), headers: stringLists(given.get('headers'), 'headers') };
}

/** The body as text: in its declared charset when Node knows it, else UTF-8. */
function textOf(body: Buffer, headers: Map<string, string[]>): string {
  let type = '';
  for (const [name, values] of headers) if (name.toLowerCase() === 'content-type') type = values[0] ?? '';
  const charset = /charset="?([\w-]+)"?/i.exec(type)?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}

export const restCallee: NativeComponentClass = {
  async start(ctx: NativeContext): Promise<NativeComponent> {
    const extra = ctx.extra as RestCalleeExtra;
    const { logger, fields, session } = ctx;
    const base = new URL(extra.baseurl);
    const timeoutMs = (extra.timeout ?? DEFAULTS.timeoutS) * 1000;
    const maxResponseBytes = extra.max_response_size ?? DEFAULTS.maxResponseSize;
    const maxConcurrency = extra.max_concurrency ?? DEFAULTS.maxConcurrency;
    const slots = new Slots(maxConcurrency, extra.max_queue ?? DEFAULTS.maxQueue);
    const agents = makeAgents(maxConcurrency);
    const abort = new AbortController();

    const perform = async (r: CalleeRequest): Promise<Dict> => {
      const where = redactUrl(r.url);
      try {
        const res = await sendRequest({ ...r, timeoutMs, maxResponseBytes, signal: abort.signal, agents });
        logger.debug({ ...fields, status: res.code }, `${r.method} ${where}`);
        return { code: res.code, content: textOf(res.body, res.headers), headers: Object.fromEntries(res.headers) };
      } catch (err) {
        const failure = err instanceof HttpFailure ? err : new HttpFailure('connection_error', String(err));
        logger.debug({ ...fields, reason: failure.reason }, `${r.method} ${where} failed: ${failure.message}`);
        const uri = failure.reason === 'bad_request' ? ErrorUri.INVALID_ARGUMENT : ErrorUri.RUNTIME_ERROR;
        throw new WampError(uri, [`${r.method} ${where}: ${failure.message}`], { reason: failure.reason });
      }
    };

    await session.register(extra.procedure, (args, kwargs) => {
      const request = requestOf(args, kwargs, base);
      return new Promise((resolve, reject) => {
        const accepted = slots.tryRun(() => perform(request).then(resolve, reject));
        if (!accepted)
          reject(
            new WampError(ErrorUri.RUNTIME_ERROR, [`busy: ${slots.inFlight} HTTP requests in flight and ${slots.queued} waiting`], {
              reason: 'busy',
            }),
          );
      });
    });
    logger.debug({ ...fields, procedure: extra.procedure }, `"${extra.procedure}" calls ${redactUrl(base)}`);

    return {
      stop: async () => {
        slots.close();
        abort.abort();
        agents.destroy();
      },
    };
  },
};
