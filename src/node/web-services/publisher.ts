/**
 * Crossbar's `publisher` path: a POST of `{"topic", "args", "kwargs",
 * "options"}` publishes (acknowledged) into `realm` as `role`, and answers
 * `{"id": <publication ID>}`.
 */
import { z } from 'zod';
import { BRIDGE_METHODS, startBridge, type BridgeOptions } from './bridge-service.ts';
import { jsonObject } from './http-body.ts';
import { answerJson, Refusal } from './json-answer.ts';
import { bridgeTarget, checkBridgeOptions, gateOptions, payloadOf, signingOptions, uriField } from './rest-bridge.ts';
import { webServiceType } from './web-service.ts';

/** PUBLISH options a request may give (Crossbar's list; `acknowledge` is always on); others are refused. */
const PUBLISH_OPTIONS = new Set([
  'retain',
  'exclude_me',
  'exclude',
  'exclude_authid',
  'exclude_authrole',
  'eligible',
  'eligible_authid',
  'eligible_authrole',
]);

export interface PublisherServiceOptions extends BridgeOptions {
  type: 'publisher';
}

export const publisherService = webServiceType({
  schema: z
    .strictObject({
      type: z.literal('publisher'),
      id: z.string().optional(),
      ...bridgeTarget,
      options: z.strictObject(signingOptions).optional(),
    })
    .meta({ id: 'PublisherService', description: 'HTTP POST {"topic", "args", "kwargs", "options"} publishes; answers {"id"}.' }),
  exact: true,
  methods: BRIDGE_METHODS,
  toOptions: (c): PublisherServiceOptions => ({
    type: 'publisher',
    realm: c.realm,
    role: c.role,
    authid: c.authid ?? 'rest-bridge',
    gate: gateOptions(c.options ?? {}),
  }),
  check: (c, _base, problem, note) => checkBridgeOptions(c.options, problem, note),
  start: (o, ctx) =>
    startBridge(o, ctx, async (request, body, response, session) => {
      const event = jsonObject(request, body, ctx.router.maxDepth);
      const topic = uriField(event, 'topic');
      const { args, kwargs, options } = payloadOf(event);
      for (const key of Object.keys(options))
        if (!PUBLISH_OPTIONS.has(key))
          throw new Refusal(400, `"options.${key}" is not a publish option here (${[...PUBLISH_OPTIONS].join(', ')})`);
      const id = await (await session.get()).publish(topic, args, kwargs, { ...options, acknowledge: true });
      answerJson(response, 200, { id });
    }),
});
