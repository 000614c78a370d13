/** A bare router for transport tests (no node layer): realm1, anonymous, with the meta API. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Router } from '../../src/core/router.ts';
import { enableMetaApi } from '../../src/meta/index.ts';

export function makeRouter(): Router {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  enableMetaApi(router);
  return router;
}

/** A fresh temporary directory for Unix sockets; remove it in after(). */
export function tempDir(prefix = 'kreuz-sock-'): { dir: string; path(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Waits until `check` holds (polling every 10 ms), or fails with `what` after `ms`. */
export async function eventually(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
