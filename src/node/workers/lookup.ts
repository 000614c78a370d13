/**
 * What the workers' checks and their start share, without starting
 * anything: where a guest's executable is, which Python runs components,
 * what to install, how long a stop waits before SIGKILL.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** ms from SIGTERM to SIGKILL when a worker's process is stopped (Crossbar waits about 20 s before its SIGKILL). */
export const DEFAULT_GRACE_MS = 10_000;

export const DEFAULT_PYTHON = '/usr/bin/python3';

/** What to install where Autobahn|Python is missing (Debian's package brings Twisted and txaio). */
export const INSTALL_HINT = 'apt-get install python3-autobahn';

/** A worker's `options.python`, else `kreuz.python`, else /usr/bin/python3. */
export function pythonFor(workerPython: string | undefined, kreuzPython: string | undefined): string {
  return workerPython ?? kreuzPython ?? DEFAULT_PYTHON;
}

/** Crossbar's lookup: the executable as a path relative to the working directory, else on the PATH. */
export function findExecutable(executable: string, workdir: string, path = process.env.PATH ?? ''): string | undefined {
  const candidate = isAbsolute(executable) ? executable : join(workdir, executable);
  if (isExecutableFile(candidate)) return candidate;
  if (executable.includes('/')) return undefined;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, executable);
    if (isExecutableFile(file)) return file;
  }
  return undefined;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
