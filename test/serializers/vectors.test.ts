// The WAMP wire vectors (data copied from ../shared/wamp-vectors into
// test/fixtures by scripts/sync-wamp-vectors.mjs; schema in ../shared/wamp-vectors/SCHEMA.json)
// against our three serializers: decoding, attribute layout, round trip and,
// where possible, byte-for-byte equality with the listed encodings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { serializers, serializerByName, type Serializer } from '../../src/serializers/index.ts';

const VECTORS_DIR = fileURLToPath(new URL('../fixtures/wamp-vectors/', import.meta.url));

type Representation = { bytes?: string; bytes_hex?: string; bytes_base64?: string; note?: string };
type SerializationSample = {
  description: string;
  serializers: Record<string, Representation[]>;
  expected_attributes: Record<string, unknown> & { message_type: number };
};
type ValidationSample = { description: string; wmsg: unknown[]; expected_error?: unknown };
type SingleMessageFile = { wamp_message_type: string; wamp_message_code: number; samples: (SerializationSample | ValidationSample)[] };
type Step = { step: number; message: Record<string, unknown> & { type: string } };
type MultiMessageFile = { sequence: Step[] };

const OURS = ['json', 'msgpack', 'cbor'] as const;
// Serializers the vectors also cover but Kreuz does not speak.
const NOT_OURS = new Set(['ubjson', 'flatbuffers']);

// Message type name -> code, and attribute name -> position in the wire array,
// from the WAMP message layouts (args/kwargs are optional trailing elements).
const CODES: Record<string, number> = {
  HELLO: 1,
  WELCOME: 2,
  ABORT: 3,
  CHALLENGE: 4,
  AUTHENTICATE: 5,
  GOODBYE: 6,
  ERROR: 8,
  PUBLISH: 16,
  PUBLISHED: 17,
  SUBSCRIBE: 32,
  SUBSCRIBED: 33,
  UNSUBSCRIBE: 34,
  UNSUBSCRIBED: 35,
  EVENT: 36,
  EVENT_RECEIVED: 337,
  CALL: 48,
  CANCEL: 49,
  RESULT: 50,
  REGISTER: 64,
  REGISTERED: 65,
  UNREGISTER: 66,
  UNREGISTERED: 67,
  INVOCATION: 68,
  INTERRUPT: 69,
  YIELD: 70,
};
const LAYOUT: Record<number, Record<string, number>> = {
  1: { realm: 1, details: 2 }, // HELLO [1, Realm, Details]
  2: { session_id: 1, details: 2 }, // WELCOME [2, Session, Details]
  3: { details: 1, reason: 2, args: 3, kwargs: 4 }, // ABORT
  4: { method: 1, extra: 2 }, // CHALLENGE
  5: { signature: 1, extra: 2 }, // AUTHENTICATE
  6: { details: 1, reason: 2 }, // GOODBYE
  8: { request_type: 1, request_id: 2, details: 3, error: 4, args: 5, kwargs: 6 }, // ERROR
  16: { request_id: 1, options: 2, topic: 3, args: 4, kwargs: 5 }, // PUBLISH
  17: { request_id: 1, publication_id: 2 }, // PUBLISHED
  32: { request_id: 1, options: 2, topic: 3 }, // SUBSCRIBE
  33: { request_id: 1, subscription_id: 2 }, // SUBSCRIBED
  34: { request_id: 1, subscription_id: 2, options: 3 }, // UNSUBSCRIBE
  35: { request_id: 1, details: 2 }, // UNSUBSCRIBED
  // EVENT: the single-message vectors say subscription/publication, the multi-session ones *_id.
  36: { subscription: 1, subscription_id: 1, publication: 2, publication_id: 2, details: 3, args: 4, kwargs: 5 },
  337: { publication_id: 1 }, // EVENT_RECEIVED (provisional)
  48: { request_id: 1, options: 2, procedure: 3, args: 4, kwargs: 5 }, // CALL
  49: { request_id: 1, options: 2 }, // CANCEL
  50: { request_id: 1, details: 2, args: 3, kwargs: 4 }, // RESULT
  64: { request_id: 1, options: 2, procedure: 3 }, // REGISTER
  65: { request_id: 1, registration_id: 2 }, // REGISTERED
  66: { request_id: 1, registration_id: 2 }, // UNREGISTER
  67: { request_id: 1, details: 2 }, // UNREGISTERED
  68: { request_id: 1, registration_id: 2, details: 3, args: 4, kwargs: 5 }, // INVOCATION
  69: { request_id: 1, options: 2 }, // INTERRUPT
  70: { request_id: 1, options: 2, args: 3, kwargs: 4 }, // YIELD
};

/** An attribute of a decoded message; undefined when absent. */
function attribute(msg: unknown[], name: string): unknown {
  const code = msg[0] as number;
  const layout = LAYOUT[code];
  assert.ok(layout, `no layout for message type ${code}`);
  if (name === 'message_type') return code;
  // HELLO/WELCOME: the vectors lift Details.roles to an attribute.
  if (name === 'roles') return (msg[layout.details!] as { roles?: unknown }).roles;
  // Payload transparency: the args slot holds the (binary) payload instead of a list.
  if (name === 'payload' || name === 'args') {
    const slot = msg[layout.args!];
    const isPayload = Buffer.isBuffer(slot);
    if (name === 'payload') return isPayload ? slot.toString('hex') : undefined;
    return isPayload ? undefined : slot;
  }
  const index = layout[name];
  assert.ok(index !== undefined, `no position for attribute ${name} of message type ${code}`);
  return msg[index];
}

function representationBytes(ser: string, r: Representation): Buffer {
  if (r.bytes_hex !== undefined) {
    const b = Buffer.from(r.bytes_hex, 'hex');
    if (r.bytes !== undefined) assert.equal(b.toString('utf8'), r.bytes, 'bytes and bytes_hex disagree');
    return b;
  }
  if (r.bytes_base64 !== undefined) return Buffer.from(r.bytes_base64, 'base64');
  assert.ok(ser === 'json' && r.bytes !== undefined, 'representation without bytes');
  return Buffer.from(r.bytes, 'utf8');
}

const asBytes = (data: Buffer | string) => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

function loadVectorFiles(): { path: string; data: SingleMessageFile | MultiMessageFile }[] {
  return (readdirSync(VECTORS_DIR, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.json') && f !== 'SCHEMA.json')
    .sort()
    .map((f) => ({ path: f, data: JSON.parse(readFileSync(join(VECTORS_DIR, f), 'utf8')) }));
}

// What the files hold, counted independently of the checking code below.
function countPresent(files: ReturnType<typeof loadVectorFiles>) {
  const present = { json: 0, msgpack: 0, cbor: 0, validation: 0, steps: 0 };
  for (const { data } of files) {
    for (const s of 'samples' in data ? data.samples : []) {
      if ('wmsg' in s) present.validation++;
      for (const ser of OURS) if ('serializers' in s && s.serializers[ser]) present[ser]++;
    }
    present.steps += 'sequence' in data ? data.sequence.length : 0;
  }
  return present;
}

assert.ok(existsSync(join(VECTORS_DIR, 'singlemessage')), `wire vectors missing at ${VECTORS_DIR}`);
const files = loadVectorFiles();
const checked = { json: 0, msgpack: 0, cbor: 0, validation: 0, steps: 0 };

function checkSerializationSample(sample: SerializationSample, ser: Serializer, reps: Representation[]): void {
  const listed = reps.map((r) => representationBytes(ser.name, r));
  for (const [i, bytes] of listed.entries()) {
    const where = `${ser.name} representation ${i}`;
    const msg = ser.decode(ser.binary ? bytes : bytes.toString('utf8'));
    assert.ok(Array.isArray(msg), `${where}: not a list`);
    // Every Buffer input also decodes (transports hand over Buffers for text frames too).
    assert.deepEqual(ser.decode(bytes), msg, `${where}: Buffer input`);
    for (const [name, expected] of Object.entries(sample.expected_attributes)) {
      // An expected null means the optional element is absent.
      assert.deepEqual(attribute(msg, name), expected === null ? undefined : expected, `${where}: attribute ${name}`);
    }
    const ours = ser.encode(msg);
    assert.deepEqual(ser.decode(ours), msg, `${where}: round trip`);
    // Byte equality, with the vectors' "at least one must match" semantics. All listed
    // msgpack/cbor encodings come from Python's canonical encoders (smallest integer and
    // length heads, float64); the JSON lists include a compact variant.
    const hexes = listed.map((b) => b.toString('hex'));
    assert.ok(
      hexes.includes(asBytes(ours).toString('hex')),
      `${where}: our bytes ${asBytes(ours).toString('hex')} not among ${hexes.join(', ')}`,
    );
  }
}

for (const { path, data } of files) {
  if ('samples' in data) {
    test(`vectors ${path}`, () => {
      for (const sample of data.samples) {
        if ('wmsg' in sample) {
          // A validation sample: a raw message a validator must accept or reject. Shape
          // checks belong to the router; here it must only survive each serializer unchanged.
          for (const ser of serializers) {
            assert.deepEqual(ser.decode(ser.encode(sample.wmsg)), sample.wmsg, `${sample.description} (${ser.name})`);
          }
          checked.validation++;
          continue;
        }
        assert.equal(sample.expected_attributes.message_type, data.wamp_message_code);
        for (const [name, reps] of Object.entries(sample.serializers)) {
          if (NOT_OURS.has(name)) continue;
          const ser = serializerByName(name);
          assert.ok(ser, `${path}: unknown serializer ${name} in "${sample.description}"`);
          checkSerializationSample(sample, ser, reps);
          checked[ser.name]++;
        }
      }
    });
  } else {
    // A multi-session sequence: no bytes, but the messages, laid out per LAYOUT, must round-trip.
    test(`vectors ${path} (sequence messages)`, () => {
      for (const { step, message } of data.sequence) {
        const code = CODES[message.type];
        assert.ok(code !== undefined, `step ${step}: unknown type ${message.type}`);
        const wire: unknown[] = [code];
        for (const [name, value] of Object.entries(message)) {
          if (name === 'type') continue;
          const index = LAYOUT[code]![name];
          assert.ok(index !== undefined, `step ${step}: no position for ${name} in ${message.type}`);
          wire[index] = value;
        }
        assert.ok(!wire.includes(undefined) && Object.keys(wire).length === wire.length, `step ${step}: gaps in ${JSON.stringify(wire)}`);
        for (const ser of serializers) assert.deepEqual(ser.decode(ser.encode(wire)), wire, `step ${step} (${ser.name})`);
        checked.steps++;
      }
    });
  }
}

test('every vector sample was checked', () => {
  const present = countPresent(files);
  for (const ser of OURS) assert.ok(present[ser] > 0, `no ${ser} samples found`);
  assert.ok(present.validation > 0);
  assert.deepEqual(checked, present);
});
