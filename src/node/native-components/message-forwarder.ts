/**
 * crossbar.bridge.rest.MessageForwarder, natively: each event on a
 * subscribed topic becomes one HTTP request (POST unless `method` says
 * otherwise) to that subscription's URL, with the body Crossbar sends,
 * `{"args": [...], "kwargs": {...}}` as JSON, Content-Type application/json.
 * A status other than `expectedcode` (when given) counts as a failure.
 *
 * Bounded: at most max_concurrency requests in flight, max_queue waiting;
 * an event beyond that is dropped, counted and logged (throttled) at warn.
 * Not retried unless `retries` (Kreuz only) says so, and then only when
 * the target was not reached, or answered 502/503/504 to an idempotent
 * method: a POST that reached the target may have had its effect.
 */
import type { Dict } from '../../wamp/messages.ts';
import { DEFAULTS, type MessageForwarderExtra } from './extra-schemas.ts';
import { HttpFailure, makeAgents, redactUrl, sendRequest } from './http-request.ts';
import { WarnThrottle, type NativeComponent, type NativeComponentClass, type NativeContext } from './native-component.ts';
import { Slots } from './slots.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
const RETRY_STATUS = new Set([502, 503, 504]);
const RETRY_BASE_MS = 200;

export const messageForwarder: NativeComponentClass = {
  async start(ctx: NativeContext): Promise<NativeComponent> {
    const extra = ctx.extra as MessageForwarderExtra;
    const { logger, fields, session } = ctx;
    const method = extra.method ?? 'POST';
    const timeoutMs = (extra.timeout ?? DEFAULTS.timeoutS) * 1000;
    const maxResponseBytes = extra.max_response_size ?? DEFAULTS.maxResponseSize;
    const retries = extra.retries ?? 0;
    const maxConcurrency = extra.max_concurrency ?? DEFAULTS.maxConcurrency;
    const slots = new Slots(maxConcurrency, extra.max_queue ?? DEFAULTS.maxQueue);
    const agents = makeAgents(maxConcurrency);
    const abort = new AbortController();
    const throttle = new WarnThrottle(logger, fields);
    let dropped = 0;

    const deliver = async (url: URL, body: Buffer): Promise<void> => {
      const where = redactUrl(url);
      for (let attempt = 0; ; attempt++) {
        let retryable = false;
        try {
          const res = await sendRequest({
            url,
            method,
            headers: new Map([['Content-Type', ['application/json']]]),
            body,
            timeoutMs,
            maxResponseBytes,
            signal: abort.signal,
            agents,
          });
          if (extra.debug) logger.debug({ ...fields, status: res.code }, `${method} ${where}: ${res.body.toString('utf8')}`);
          if (extra.expectedcode === undefined || res.code === extra.expectedcode) return;
          retryable = IDEMPOTENT.has(method) && RETRY_STATUS.has(res.code);
          if (!retryable || attempt >= retries) {
            throttle.warn(`status:${where}`, `${method} ${where} returned ${res.code}, not the expected ${extra.expectedcode}`);
            return;
          }
        } catch (err) {
          if (abort.signal.aborted) return;
          const failure = err instanceof HttpFailure ? err : new HttpFailure('connection_error', String(err));
          retryable = failure.reason === 'unreachable';
          if (!retryable || attempt >= retries) {
            throttle.warn(`${failure.reason}:${where}`, `${method} ${where} failed: ${failure.message}`, { reason: failure.reason });
            return;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 2 ** attempt));
        if (abort.signal.aborted) return;
      }
    };

    const onEvent = (url: URL) => (args: unknown[], kwargs: Dict) => {
      let body: Buffer;
      try {
        body = Buffer.from(JSON.stringify({ args, kwargs }), 'utf8');
      } catch (err) {
        // e.g. a BigInt from a CBOR or MessagePack publisher: JSON has no such value.
        throttle.warn('encode', `an event cannot be sent as JSON, dropped: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      if (!slots.tryRun(() => deliver(url, body))) {
        dropped++;
        throttle.warn(
          'dropped',
          `${slots.inFlight} requests in flight and ${slots.queued} waiting: an event is dropped (${dropped} so far)`,
          {
            dropped,
          },
        );
      }
    };

    for (const s of extra.subscriptions) {
      const match = s.match ?? 'exact';
      await session.subscribe(s.topic, onEvent(new URL(s.url)), match === 'exact' ? {} : { match });
      logger.debug({ ...fields, topic: s.topic }, `forwarding events of "${s.topic}" to ${redactUrl(s.url)}`);
    }

    return {
      stop: async () => {
        const waiting = slots.close();
        abort.abort();
        agents.destroy();
        if (waiting > 0) logger.info(fields, `stopped with ${waiting} events not sent`);
      },
    };
  },
};
