/** Crossbar's "web" transport: an HTTP server with services by URL path (WebSocket endpoints, node info, static files, ...). */
import { z } from 'zod';
import {
  checkPathsOnce,
  checkWebPaths,
  endpoint,
  handshakeTimeout,
  listening,
  pathServiceOptions,
  paths,
  webOptions,
  webPathServices,
} from '../../config/transport-pieces.ts';
import { startWeb } from '../listeners.ts';
import { withoutUndefined, type Listening, type PathService } from '../options.ts';
import { transportType } from '../transport-type.ts';

export interface WebTransportOptions extends Listening {
  type: 'web';
  paths: Record<string, PathService>;
  handshakeTimeout?: number;
}

export const webTransport = transportType({
  schema: z
    .strictObject({
      type: z.literal('web'),
      id: z.string().optional(),
      endpoint,
      paths,
      options: webOptions.optional(),
    })
    .meta({ id: 'WebTransport' }),

  toOptions: (t, baseDir): WebTransportOptions =>
    withoutUndefined({
      type: 'web' as const,
      ...listening(t.endpoint, baseDir),
      paths: pathServiceOptions(t.paths, baseDir),
      handshakeTimeout: handshakeTimeout(t.paths),
    }),

  services: (t) => webPathServices(t.paths, ['paths']),

  check(t, problem, { note, baseDir }) {
    checkPathsOnce(Object.keys(t.paths), ['paths'], problem);
    checkWebPaths(t.paths, ['paths'], baseDir, problem, note);
  },

  start: (t, where, ctx) =>
    startWeb(
      ctx,
      t,
      (path) => `${where}.paths.${path}.auth`,
      (path) => `${where}.paths.${path}`,
    ),
});
