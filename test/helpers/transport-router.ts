/** A bare router for transport tests (no node layer): realm1, anonymous, with the meta API. */
import assert from 'node:assert/strict';
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

/** Counts encodes of EVENT messages per serializer (`encodeForWire`, what transports call) while `run` executes. */
export async function countEventEncodes(run: () => Promise<void>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const restore: Array<() => void> = [];
  for (const name of ['json', 'msgpack', 'cbor'] as SerializerName[]) {
    const serializer = serializerByName(name) as { encodeForWire: (m: unknown[]) => unknown };
    const original = serializer.encodeForWire;
    serializer.encodeForWire = (message: unknown[]) => {
      if (message[0] === 36) counts[name] = (counts[name] ?? 0) + 1;
      return original.call(serializer, message);
    };
    restore.push(() => (serializer.encodeForWire = original));
  }
  try {
    await run();
  } finally {
    for (const r of restore) r();
  }
  return counts;
}

/** A client that sends WAMP messages and reads the next one (RawClient and RawSocketWampClient both are). */
interface MessageClient {
  send(message: unknown[]): void;
  next(ms?: number): Promise<unknown[]>;
  close(): void;
}

/**
 * Publishes one acknowledged event to `topic` and checks it was encoded once
 * per serializer and reached every subscriber; closes them all.
 */
export async function assertEncodedOncePerSerializer(publisher: MessageClient, subscribers: MessageClient[], topic: string): Promise<void> {
  const counts = await countEventEncodes(async () => {
    publisher.send([16, 1, { acknowledge: true }, topic, ['hello'], { n: 1 }]);
    assert.equal((await publisher.next())[0], 17);
  });
  assert.deepEqual(counts, { json: 1, msgpack: 1, cbor: 1 });
  for (const s of subscribers) {
    const event = await s.next();
    assert.deepEqual([event[0], event[4], event[5]], [36, ['hello'], { n: 1 }]);
    s.close();
  }
  publisher.close();
}
