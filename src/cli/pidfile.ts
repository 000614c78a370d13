/**
 * The pid file of a running node, `<cbdir>/node.pid` (Crossbar's name): how
 * `kreuz status` and `kreuz stop` find the node of a directory.
 */
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const PID_FILE = 'node.pid';

export interface PidFileContent {
  pid: number;
  started: string;
  urls: string[];
  config?: string;
}

export function pidFilePath(cbdir: string): string {
  return join(cbdir, PID_FILE);
}

export function readPidFile(cbdir: string): PidFileContent | undefined {
  try {
    const content = JSON.parse(readFileSync(pidFilePath(cbdir), 'utf8')) as PidFileContent;
    return Number.isInteger(content.pid) && content.pid > 0 ? content : undefined;
  } catch {
    return undefined;
  }
}

export function writePidFile(cbdir: string, content: PidFileContent): void {
  mkdirSync(cbdir, { recursive: true });
  writeFileSync(pidFilePath(cbdir), `${JSON.stringify(content, null, 2)}\n`);
}

/** Removes the pid file if it is this process's. */
export function removeOwnPidFile(cbdir: string): void {
  if (readPidFile(cbdir)?.pid === process.pid) rmSync(pidFilePath(cbdir), { force: true });
}

/**
 * Whether `pid` is a live kreuz process. Where /proc exists, a live process
 * whose command line does not mention kreuz is a reused pid, not our node.
 */
export function isRunningKreuz(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive but not ours to signal; still a running process.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kreuz');
  } catch {
    return true;
  }
}

/** The running node of `cbdir`, if any. */
export function runningNode(cbdir: string): PidFileContent | undefined {
  const content = readPidFile(cbdir);
  return content && isRunningKreuz(content.pid) ? content : undefined;
}
