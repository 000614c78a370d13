import { isAbsolute, resolve } from 'node:path';

/** PEM text rather than a file name. */
export function isPem(value: string): boolean {
  return value.includes('-----BEGIN ');
}

/** A path from the config: relative ones are relative to the config file's directory (as Crossbar's cbdir). */
export function resolveFile(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** "/ws" from "ws", "/ws" or "ws/"; "/" stays. */
export function normalizeUrlPath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return `/${trimmed}`;
}
