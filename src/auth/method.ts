/**
 * What an authentication method registers in the table of methods
 * (transport-auth.ts): the schema of its `{"type": "static", ...}` config,
 * and how its authenticators are made from a checked config. The dynamic
 * config (`{"type": "dynamic", "authenticator": ...}`) is the same for all.
 */
import type { z } from 'zod';
import type { Authenticator } from '../core/authentication.ts';
import type { DynamicConfig, DynamicDeps } from './dynamic.ts';

export type StaticConfigSchema = z.ZodObject<{ type: z.ZodLiteral<'static'> } & z.ZodRawShape>;

export interface BuildOptions {
  /** Keys the made-up challenges of unknown principals (AuthDeps.secret). */
  secret?: Uint8Array;
}

export interface AuthMethod<S extends StaticConfigSchema = StaticConfigSchema> {
  readonly staticConfig: S;
  /** From a static config that passed `staticConfig`. Several authenticators when the method answers to several names (SCRAM). */
  fromStatic(config: z.infer<S>, options: BuildOptions): Authenticator | Authenticator[];
  fromDynamic(config: DynamicConfig, deps: DynamicDeps): Authenticator | Authenticator[];
}

/** Declares a method, so its static config's type follows from its schema. */
export function authMethod<S extends StaticConfigSchema>(method: AuthMethod<S>): AuthMethod<S> {
  return method;
}
