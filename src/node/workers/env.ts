/**
 * A worker's process environment, by Crossbar's rules (its controller's
 * create_process_env): everything Kreuz has unless `inherit` is false (none)
 * or a list (those names only), then `vars` on top; PYTHONUNBUFFERED=1 unless
 * something above set it, so Python output arrives line by line.
 */
import type { z } from 'zod';
import type { processEnv } from '../../config/workers.ts';

export type ProcessEnvConfig = z.infer<typeof processEnv>;

export function processEnvironment(config: ProcessEnvConfig | undefined, parent: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const inherit = config?.inherit ?? true;
  if (inherit === true) Object.assign(env, parent);
  else if (Array.isArray(inherit)) for (const name of inherit) if (parent[name] !== undefined) env[name] = parent[name];
  Object.assign(env, config?.vars);
  if (!Object.hasOwn(env, 'PYTHONUNBUFFERED')) env.PYTHONUNBUFFERED = '1';
  return env;
}

/** Names whose values are never logged: *SECRET*, *PASSWORD*, *TOKEN* and their kin. */
const SECRET_NAME = /secret|passw|token|ticket|credential|private|api[_-]?key|auth/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * A command line fit for a log: the value of `NAME=value` and `--name=value`
 * with a secret-like name, and the argument after a secret-like `--flag`, as "***".
 */
export function redactArguments(args: readonly string[]): string[] {
  const out: string[] = [];
  let hideNext = false;
  for (const arg of args) {
    if (hideNext) {
      out.push('***');
      hideNext = false;
      continue;
    }
    const assignment = /^(-{0,2}[^=\s]+)=/.exec(arg);
    if (assignment && isSecretName(assignment[1])) out.push(`${assignment[1]}=***`);
    else {
      out.push(arg);
      hideNext = /^-{1,2}[A-Za-z]/.test(arg) && isSecretName(arg);
    }
  }
  return out;
}
