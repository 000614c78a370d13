import { EncodedPayload, WampFloat } from '../wamp/payload.ts';

/**
 * What keeping a value costs the router, when no wire size is known (an
 * in-process session's message): its JSON text length, with binary counted
 * as its bytes, BigInts as their digits and an encoded payload as its
 * encoded size, so none escapes the count.
 */
export function storedSize(value: unknown): number {
  let binary = 0;
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    // `this[key]` is the value before toJSON (a Buffer's would be a list of numbers).
    const original = this[key];
    if (original instanceof Uint8Array) {
      binary += original.byteLength;
      return '';
    }
    if (original instanceof EncodedPayload) {
      binary += original.size;
      return '';
    }
    if (original instanceof WampFloat) return original.value;
    return typeof v === 'bigint' ? v.toString() : v;
  });
  return (text?.length ?? 0) + binary;
}
