/** Crossbar's "rawsocket" transport: WAMP over TCP or a Unix socket, with RawSocket framing. */
import { z } from 'zod';
import { crossbarOnly } from '../../config/schema-helpers.ts';
import {
  auth,
  debugKeys,
  endpoint,
  listening,
  rawsocketOptions,
  rawsocketServiceOptions,
  serializers,
} from '../../config/transport-pieces.ts';
import { listenRawSocket } from '../../transports/rawsocket.ts';
import { portOf, rawsocketListenerOptions, secureContextSwap } from '../listeners.ts';
import { withoutUndefined, type Listening, type RawSocketServiceOptions } from '../options.ts';
import { transportType } from '../transport-type.ts';

export interface RawSocketTransportOptions extends Listening, RawSocketServiceOptions {
  type: 'rawsocket';
}

export const rawsocketTransport = transportType({
  schema: z
    .strictObject({
      type: z.literal('rawsocket'),
      id: z.string().optional(),
      endpoint,
      serializers: serializers.optional(),
      options: rawsocketOptions.optional(),
      auth: auth.optional(),
      ...debugKeys(['debug']),
      ...crossbarOnly(['max_message_size'], { max_message_size: 'use options.max_message_size' }),
    })
    .meta({ id: 'RawSocketTransport' }),

  toOptions: (t, baseDir): RawSocketTransportOptions =>
    withoutUndefined({ type: 'rawsocket' as const, ...listening(t.endpoint, baseDir), ...rawsocketServiceOptions(t) }),

  services: (t) => [{ auth: t.auth, path: ['auth'] }],

  async start({ type, endpoint, tls, ...service }, where, ctx) {
    const listener = await listenRawSocket(ctx.router, endpoint, rawsocketListenerOptions(service, ctx, `${where}.auth`), tls);
    ctx.metrics?.trackSockets(listener.server, type);
    return {
      type,
      urls: [listener.url],
      port: portOf(listener.address),
      ...secureContextSwap(listener.server, tls),
      stopAccepting: () => listener.stopAccepting(),
      close: () => listener.close(),
    };
  },
});
