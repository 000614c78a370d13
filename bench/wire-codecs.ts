/**
 * The load's own codecs for wamp.2.json, wamp.2.msgpack and wamp.2.cbor:
 * plain JSON.stringify / JSON.parse, msgpackr and cbor-x with the options
 * Kreuz's serializers use, and none of their checks (the load trusts what
 * the servers send). The load does not use src/serializers, so that it
 * measures every target, and every checkout of Kreuz (see the baseline in
 * payload-sweep.bench.ts), with the same client, whatever state src/ is in.
 *
 * IDs the load sends are small (its own request counters, or the router's
 * per-session INVOCATION IDs echoed back), so msgpackr's float64 for integers
 * beyond 2^32 never comes up.
 */
import { Decoder, Encoder, type Options } from 'cbor-x';
import { Packr, Unpackr } from 'msgpackr';

export type SerializerName = 'json' | 'msgpack' | 'cbor';

export interface WireCodec {
  readonly name: SerializerName;
  /** true: binary WebSocket frames; false: text frames. */
  readonly binary: boolean;
  encode(message: unknown[]): Buffer | string;
  decode(data: Buffer | string): unknown;
}

const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number', structuredClone: false, mapsAsObjects: true });
const cborEncoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  tagUint8Array: false,
  pack: false,
  bundleStrings: false,
  useFloat32: 0,
});
const cborDecoder = new Decoder({ useRecords: false, int64AsNumber: true, mapsAsObjects: true } as Options);

const CODECS: Record<SerializerName, WireCodec> = {
  json: {
    name: 'json',
    binary: false,
    encode: (m) => JSON.stringify(m),
    decode: (d) => JSON.parse(typeof d === 'string' ? d : d.toString('utf8')),
  },
  msgpack: { name: 'msgpack', binary: true, encode: (m) => packr.pack(m), decode: (d) => unpackr.unpack(d as Buffer) },
  cbor: { name: 'cbor', binary: true, encode: (m) => cborEncoder.encode(m), decode: (d) => cborDecoder.decode(d as Buffer) },
};

export function codecByName(name: SerializerName): WireCodec {
  return CODECS[name];
}
