/**
 * The table of transport types a config (and `startNode`'s `transports`)
 * may name, in the order messages list them. Adding a transport type: its
 * own file, plus one line here.
 */
import type { z } from 'zod';
import type { ListenerContext, RunningListener } from '../listeners.ts';
import type { ConfigPath, TransportType } from '../transport-type.ts';
import { rawsocketTransport } from './rawsocket.ts';
import { universalTransport } from './universal.ts';
import { webTransport } from './web.ts';
import { websocketTransport } from './websocket.ts';

export const TRANSPORT_TYPES = [websocketTransport, rawsocketTransport, webTransport, universalTransport] as const;

type Types = typeof TRANSPORT_TYPES;

type SchemasOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: T[K] extends TransportType<infer S, infer _O> ? S : never };

/** The config schemas of the types, in table order (for the config file's schema). */
export const TRANSPORT_SCHEMAS = TRANSPORT_TYPES.map((t) => t.schema) as unknown as SchemasOf<Types>;

/** A transport as `startNode` takes it. */
export type TransportOptions = ReturnType<Types[number]['toOptions']>;
/** A transport entry of a checked config. */
export type TransportConfig = z.infer<Types[number]['schema']>;

const byName = new Map<string, TransportType>(
  TRANSPORT_TYPES.map((t) => [[...t.schema.shape.type._zod.def.values][0] as string, t as unknown as TransportType]),
);

/** The table entry for a type; the schema (or, for options, TypeScript) has made sure there is one. */
function typeOf(type: string): TransportType {
  const found = byName.get(type);
  if (!found) throw new Error(`unknown transport type "${type}"`);
  return found;
}

export function transportOptions(config: TransportConfig, baseDir: string): TransportOptions {
  return typeOf(config.type).toOptions(config, baseDir) as TransportOptions;
}

export function transportServices(config: TransportConfig): ReturnType<TransportType['services']> {
  return typeOf(config.type).services(config);
}

export function checkTransport(
  config: TransportConfig,
  problem: (path: ConfigPath, message: string) => void,
  more: { note: (path: ConfigPath, message: string) => void; baseDir: string },
): void {
  typeOf(config.type).check?.(config, problem, more);
}

export function startTransport(options: TransportOptions, where: string, ctx: ListenerContext): Promise<RunningListener> {
  return typeOf(options.type).start(options, where, ctx);
}
