/** A bare router for transport tests (no node layer): realm1, anonymous, with the meta API. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Router } from '../../src/core/router.ts';
import { serializerByName, type SerializerName } from '../../src/serializers/index.ts';
import { metaRouter } from './meta-calls.ts';

export function makeRouter(): Router {
  return metaRouter();
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

/** Counts encodes of EVENT messages per serializer while `run` executes. */
export async function countEventEncodes(run: () => Promise<void>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const restore: Array<() => void> = [];
  for (const name of ['json', 'msgpack', 'cbor'] as SerializerName[]) {
    const serializer = serializerByName(name) as { encode: (m: unknown[]) => Buffer | string };
    const original = serializer.encode;
    serializer.encode = (message: unknown[]) => {
      if (message[0] === 36) counts[name] = (counts[name] ?? 0) + 1;
      return original.call(serializer, message);
    };
    restore.push(() => (serializer.encode = original));
  }
  try {
    await run();
  } finally {
    for (const r of restore) r();
  }
  return counts;
}
