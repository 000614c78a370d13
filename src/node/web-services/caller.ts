/**
 * Crossbar's `caller` path: a POST of `{"procedure", "args", "kwargs"}`
 * calls as `role` in `realm` and answers `{"args", "kwargs"}` (each only
 * when not empty, as Crossbar). The call carries the service's `timeout` as
 * its CALL timeout, so the router cancels the invocation when it runs out.
 */
import { z } from 'zod';
import { BRIDGE_METHODS, startBridge, type BridgeOptions } from './bridge-service.ts';
import { jsonObject } from './http-body.ts';
import { answerJson } from './json-answer.ts';
import { bridgeTarget, checkBridgeOptions, gateOptions, payloadOf, signingOptions, uriField } from './rest-bridge.ts';
import { webServiceType } from './web-service.ts';

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export interface CallerServiceOptions extends BridgeOptions {
  type: 'caller';
  timeoutMs: number;
}

export const callerService = webServiceType({
  schema: z
    .strictObject({
      type: z.literal('caller'),
      id: z.string().optional(),
      ...bridgeTarget,
      options: z
        .strictObject({
          ...signingOptions,
          timeout: z
            .number()
            .int()
            .min(1)
            .max(3_600_000)
            .optional()
            .describe(`Kreuz: ms a call may take (the router cancels it then, and the answer is 504); default ${DEFAULT_CALL_TIMEOUT_MS}.`),
        })
        .optional(),
    })
    .meta({ id: 'CallerService', description: 'HTTP POST {"procedure", "args", "kwargs"} calls; answers {"args", "kwargs"}.' }),
  exact: true,
  methods: BRIDGE_METHODS,
  toOptions: (c): CallerServiceOptions => {
    const { timeout, ...signing } = c.options ?? {};
    return {
      type: 'caller',
      realm: c.realm,
      role: c.role,
      authid: c.authid ?? 'rest-bridge',
      gate: gateOptions(signing),
      timeoutMs: timeout ?? DEFAULT_CALL_TIMEOUT_MS,
    };
  },
  check: (c, _base, problem, note) => checkBridgeOptions(c.options, problem, note),
  start: (o, ctx) =>
    startBridge(o, ctx, async (request, body, response, session) => {
      const event = jsonObject(request, body, ctx.router.maxDepth);
      const procedure = uriField(event, 'procedure');
      // A request's own "options" are ignored, as Crossbar ignores them: the timeout is the service's.
      const { args, kwargs } = payloadOf(event);
      const result = await (await session.get()).call(procedure, args, kwargs, { timeout: o.timeoutMs });
      answerJson(response, 200, {
        ...(result.args.length > 0 && { args: result.args }),
        ...(Object.keys(result.kwargs).length > 0 && { kwargs: result.kwargs }),
      });
    }),
});
