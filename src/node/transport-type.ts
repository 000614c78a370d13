/**
 * What a transport type (a config `transports[].type`) brings to the table
 * of them (transport-types/index.ts): its config schema, what a config entry
 * becomes in `startNode`'s options, where its WAMP services keep their
 * `auth` (for the config checks), and how its listener starts.
 */
import type { z } from 'zod';
import type { TypedOption } from '../config/schema-helpers.ts';
import type { ListenerContext, RunningListener } from './listeners.ts';

export type ConfigPath = PropertyKey[];
type Report = (path: ConfigPath, message: string) => void;

export interface TransportType<S extends TypedOption = TypedOption, O extends { type: string } = { type: string }> {
  /** The config entry: a strict object with `type: z.literal(...)`. */
  readonly schema: S;
  /** A checked config entry as `startNode` takes it; relative files are resolved against `baseDir`. */
  toOptions(config: z.infer<S>, baseDir: string): O;
  /** Each WAMP service of a config entry: its `auth` (undefined: anonymous only) and the path to it in the entry. */
  services(config: z.infer<S>): Array<{ auth: unknown; path: ConfigPath; bridge?: { realm: string; role: string } }>;
  /**
   * What the schema cannot check in an entry (e.g. a path served twice, a directory that is not there), reported
   * with paths in the entry: errors as `problem`, what is accepted as `more.note`; relative files against `more.baseDir`.
   */
  check?(config: z.infer<S>, problem: Report, more: { note: Report; baseDir: string }): void;
  /** Starts its listener; `where` names the entry in errors, e.g. "transports[2]". */
  start(options: O, where: string, ctx: ListenerContext): Promise<RunningListener>;
}

/** Declares a transport type, so its config and options types follow from its schema and `toOptions`. */
export function transportType<S extends TypedOption, O extends { type: string }>(type: TransportType<S, O>): TransportType<S, O> {
  return type;
}
