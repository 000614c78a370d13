/**
 * The table of web service types a `paths` entry may name besides
 * "websocket" and "nodeinfo" (which the HTTP server itself answers).
 * Adding one: its own file exporting `webServiceType({...})`, plus one line
 * here; then `npm run schema`.
 */
import type { z } from 'zod';
import { normalizeUrlPath } from '../../config/paths.ts';
import { archiveService } from './archive.ts';
import { callerService } from './caller.ts';
import { dashboardService } from './dashboard.ts';
import { jsonService } from './json.ts';
import { longpollService } from './longpoll.ts';
import { publisherService } from './publisher.ts';
import { redirectService } from './redirect.ts';
import { staticService } from './static.ts';
import type { Report, WebHandler, WebServiceContext, WebServiceType } from './web-service.ts';
import { webhookService } from './webhook.ts';

export const WEB_SERVICES = [
  staticService,
  jsonService,
  redirectService,
  archiveService,
  longpollService,
  publisherService,
  callerService,
  webhookService,
  dashboardService,
] as const;

type Types = typeof WEB_SERVICES;
type SchemasOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: T[K] extends WebServiceType<infer S, infer _O> ? S : never };

/** The config schemas of the types, in table order. */
export const WEB_SERVICE_SCHEMAS = WEB_SERVICES.map((t) => t.schema) as unknown as SchemasOf<Types>;

/** A web service as `startNode` takes it. */
export type WebServiceOptions = ReturnType<Types[number]['toOptions']>;
/** A web service entry of a checked config. */
export type WebServiceConfig = z.infer<Types[number]['schema']>;

const byName = new Map<string, WebServiceType>(
  WEB_SERVICES.map((t) => [[...t.schema.shape.type._zod.def.values][0] as string, t as unknown as WebServiceType]),
);

/** Whether a path's `type` is one of this table's. */
export function isWebService(type: string): boolean {
  return byName.has(type);
}

function typeOf(type: string): WebServiceType {
  const found = byName.get(type);
  if (!found) throw new Error(`unknown web service type "${type}"`);
  return found;
}

export function webServiceOptions(config: WebServiceConfig, baseDir: string): WebServiceOptions {
  return typeOf(config.type).toOptions(config, baseDir) as WebServiceOptions;
}

export function checkWebService(config: WebServiceConfig, baseDir: string, problem: Report, note: Report): void {
  typeOf(config.type).check?.(config, baseDir, problem, note);
}

/** A started web service at its URL path ("/", "/static"). */
export interface WebMount {
  path: string;
  /** Answers only its own path (below it: 404). */
  exact: boolean;
  /** The methods it answers. */
  methods: readonly string[];
  handle: WebHandler;
}

/** What a service answers unless its type says otherwise. */
export const READ_METHODS: readonly string[] = ['GET', 'HEAD'];

/** The started web services of one listener; `close` ends what they hold (at node shutdown). */
export interface StartedWebServices {
  mounts: WebMount[];
  close(): Promise<void>;
}

/** Starts the web services among `paths` (the others are WebSocket and node-info paths); `where(path)` names one in errors. */
export async function startWebServices(
  paths: Readonly<Record<string, { type: string }>>,
  ctx: Omit<WebServiceContext, 'where' | 'onClose' | 'websocketPaths'>,
  where: (path: string) => string,
): Promise<StartedWebServices> {
  const websocketPaths = Object.keys(paths).filter((p) => paths[p].type === 'websocket');
  const mounts: WebMount[] = [];
  const closers: Array<() => void | Promise<void>> = [];
  const onClose = (close: () => void | Promise<void>) => closers.push(close);
  for (const [path, service] of Object.entries(paths)) {
    if (!isWebService(service.type)) continue;
    const type = typeOf(service.type);
    const handle = await type.start(service, { ...ctx, onClose, websocketPaths, where: where(path) });
    mounts.push({ path: normalizeUrlPath(path), exact: type.exact, methods: type.methods ?? READ_METHODS, handle });
  }
  const close = async () => {
    await Promise.allSettled(closers.splice(0).map(async (c) => c()));
  };
  return { mounts, close };
}
