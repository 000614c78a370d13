// The serializers Kreuz speaks, and lookups by WebSocket subprotocol,
// RawSocket serializer id and name.
import { cborSerializer } from './cbor.ts';
import { jsonSerializer } from './json.ts';
import { msgpackSerializer } from './msgpack.ts';
import type { Serializer, SerializerName } from './serializer.ts';

export { DEFAULT_MAX_DEPTH, SerializationError, type Serializer, type SerializerName } from './serializer.ts';
export { jsonSerializer } from './json.ts';
export { msgpackSerializer } from './msgpack.ts';
export { cborSerializer } from './cbor.ts';

/** In order of preference; the order only breaks ties when a client offers several. */
export const serializers: readonly Serializer[] = Object.freeze([jsonSerializer, msgpackSerializer, cborSerializer]);

export function serializerByProtocol(protocol: string): Serializer | undefined {
  return serializers.find((s) => s.protocol === protocol);
}

export function serializerByRawSocketId(id: number): Serializer | undefined {
  return serializers.find((s) => s.rawSocketId === id);
}

/** A SerializerName always has a serializer; an arbitrary string (e.g. from config) may not. */
export function serializerByName(name: SerializerName): Serializer;
export function serializerByName(name: string): Serializer | undefined;
export function serializerByName(name: string): Serializer | undefined {
  return serializers.find((s) => s.name === name);
}
