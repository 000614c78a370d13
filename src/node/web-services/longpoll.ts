/**
 * Crossbar's "longpoll" web service: WAMP over HTTP long-poll (the transport
 * itself: src/transports/longpoll.ts), for clients without WebSocket.
 * Crossbar's keys (`options`: request_timeout and session_timeout in
 * seconds, the queue limits, debug switches) keep their meaning, except
 * where Crossbar's meaning is "no limit": Kreuz bounds what a client can
 * make it hold, and says so in `kreuz check`. Kreuz adds `auth` (Crossbar's
 * long-poll sessions are anonymous only), `max_message_size` and `max_transports`.
 */
import { z } from 'zod';
import { transportAuthSchema } from '../../auth/transport-auth.ts';
import { accepted } from '../../config/schema-helpers.ts';
import { LONGPOLL_DEFAULTS, LongPollEndpoint } from '../../transports/longpoll.ts';
import { WEBSOCKET_DEFAULTS } from '../../transports/websocket.ts';
import type { AuthConfig } from '../options.ts';
import { webServiceType } from './web-service.ts';

const seconds = (ms: number) => ms / 1000;
/** What Crossbar's queue_limit_bytes 0 ("no limit") becomes: the send buffer every other transport has by default. */
const NO_BYTE_LIMIT = WEBSOCKET_DEFAULTS.maxSendBuffer;
/** Autobahn|JS gives up on a long-poll request after this many ms unless its own request_timeout says otherwise. */
const AUTOBAHN_REQUEST_TIMEOUT = 12_000;

const DEBUG = 'Kreuz has no per-transport debug output: run it with --loglevel debug (or kreuz.log.level)';

const int = (min: number, max: number) => z.number().int().min(min).max(max);

const options = z
  .strictObject({
    request_timeout: accepted(
      int(0, 3600),
      (s: number) =>
        s === 0
          ? `Kreuz holds a receive at most ${seconds(LONGPOLL_DEFAULTS.requestTimeout)} s (the default), not without end: a held request that never ends would outlive its client`
          : undefined,
      `Seconds a receive is held when nothing is queued, then answered empty (204); default ${seconds(LONGPOLL_DEFAULTS.requestTimeout)}. Keep it below the clients' own timeout (Autobahn|JS: 12 s).`,
    ).optional(),
    session_timeout: accepted(
      int(0, 86400),
      (s: number) =>
        s === 0
          ? `Kreuz ends a transport nobody polls after ${seconds(LONGPOLL_DEFAULTS.sessionTimeout)} s (the default), not never: a client that went away would keep its session (and a place among max_transports) for good`
          : undefined,
      `Seconds without a request (and no receive held) after which a transport and its session end; default ${seconds(LONGPOLL_DEFAULTS.sessionTimeout)}.`,
    ).optional(),
    queue_limit_bytes: accepted(
      int(0, 256 * 1024 * 1024),
      (n: number) =>
        n === 0
          ? `Kreuz queues at most ${NO_BYTE_LIMIT} bytes for a client (the send buffer of every other transport), not without limit; past it the client is cut off as too slow`
          : undefined,
      `Bytes queued for a client before it is cut off as too slow; default ${LONGPOLL_DEFAULTS.queueLimitBytes}. Never below max_message_size: one message of the largest size always fits.`,
    ).optional(),
    queue_limit_messages: int(0, 1_000_000)
      .optional()
      .describe(
        `Messages queued for a client before it is cut off as too slow; default ${LONGPOLL_DEFAULTS.queueLimitMessages}; 0: only queue_limit_bytes counts.`,
      ),
    debug: accepted(z.boolean(), (on: boolean) => (on ? DEBUG : undefined)).optional(),
    debug_transport_id: accepted(
      z.string(),
      'Kreuz makes every transport id random (144 bits): a fixed id would let anyone who knows it read and write that session; the id given is not used',
    ).optional(),
    max_message_size: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .optional()
      .describe(`Kreuz: bytes of one send's body (a message, or a batch); default ${LONGPOLL_DEFAULTS.maxMessageSize}.`),
    max_transports: int(1, 1_000_000)
      .optional()
      .describe(`Kreuz: transports open at once on this path; one more open is answered 503; default ${LONGPOLL_DEFAULTS.maxTransports}.`),
  })
  .meta({ id: 'LongPollOptions' });

const schema = z
  .strictObject({
    type: z.literal('longpoll'),
    id: z.string().optional(),
    options: options.optional(),
    auth: transportAuthSchema
      .optional()
      .describe('Kreuz: authentication methods, as on a WebSocket path; default anonymous only (as Crossbar, which takes no "auth" here).'),
  })
  .meta({ id: 'LongPollService', description: 'WAMP over HTTP long-poll (POST <path>/open, <path>/<transport>/send|receive|close).' });

export interface LongPollServiceOptions {
  type: 'longpoll';
  /** ms */
  requestTimeout?: number;
  /** ms */
  sessionTimeout?: number;
  queueLimitBytes?: number;
  queueLimitMessages?: number;
  maxMessageSize?: number;
  maxTransports?: number;
  auth?: AuthConfig;
}

/** Crossbar's seconds as ms; its 0 ("never") is the default. */
const ms = (s: number | undefined) => (s ? s * 1000 : undefined);

export const longpollService = webServiceType({
  schema,
  exact: false,
  methods: ['GET', 'HEAD', 'POST', 'OPTIONS'],

  toOptions: (c): LongPollServiceOptions => {
    const o = c.options ?? {};
    const out: LongPollServiceOptions = { type: 'longpoll' };
    if (ms(o.request_timeout) !== undefined) out.requestTimeout = ms(o.request_timeout);
    if (ms(o.session_timeout) !== undefined) out.sessionTimeout = ms(o.session_timeout);
    if (o.queue_limit_bytes !== undefined) out.queueLimitBytes = o.queue_limit_bytes || NO_BYTE_LIMIT;
    if (o.queue_limit_messages !== undefined) out.queueLimitMessages = o.queue_limit_messages;
    if (o.max_message_size !== undefined) out.maxMessageSize = o.max_message_size;
    if (o.max_transports !== undefined) out.maxTransports = o.max_transports;
    if (c.auth !== undefined) out.auth = c.auth as AuthConfig;
    return out;
  },

  check(c, _baseDir, _problem, note) {
    const timeout = c.options?.request_timeout;
    if (timeout !== undefined && timeout * 1000 >= AUTOBAHN_REQUEST_TIMEOUT)
      note(
        ['options', 'request_timeout'],
        `${timeout} s: Autobahn|JS gives up on a long-poll request after 12 s (unless its own request_timeout is raised), and then drops the transport; keep it below that`,
      );
  },

  async start(o, ctx) {
    const endpoint = new LongPollEndpoint(ctx.router, {
      requestTimeout: o.requestTimeout,
      sessionTimeout: o.sessionTimeout,
      queueLimitBytes: o.queueLimitBytes,
      queueLimitMessages: o.queueLimitMessages,
      maxMessageSize: ctx.maxMessageSize(o.maxMessageSize, ctx.where) ?? LONGPOLL_DEFAULTS.maxMessageSize,
      maxTransports: o.maxTransports,
      auth: ctx.auth(o.auth, `${ctx.where}.auth`),
      logger: ctx.logger,
    });
    ctx.onClose(() => endpoint.close());
    return (req, response) => endpoint.handle(req.request, response, req.method, req.rest);
  },
});
