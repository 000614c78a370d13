/**
 * Encoding with a one-message memory per serializer: an EVENT fanned out to
 * many subscribers is one array sent to each, so it is encoded once per
 * serializer, not once per subscriber. The core never changes a message
 * after sending it, which is what makes remembering by identity safe.
 */
import type { Encoded, Serializer } from '../serializers/serializer.ts';

export class EncodeCache {
  private lastMessage: unknown[] | undefined;
  private lastEncoded: Encoded = '';

  constructor(readonly serializer: Serializer) {}

  encode(message: unknown[]): Encoded {
    if (message !== this.lastMessage) {
      this.lastEncoded = this.serializer.encodeForWire(message);
      this.lastMessage = message;
    }
    return this.lastEncoded;
  }
}

const caches = new Map<Serializer, EncodeCache>();

/** The process-wide cache for a serializer, shared by every connection that uses it. */
export function encodeCacheFor(serializer: Serializer): EncodeCache {
  let cache = caches.get(serializer);
  if (!cache) caches.set(serializer, (cache = new EncodeCache(serializer)));
  return cache;
}
