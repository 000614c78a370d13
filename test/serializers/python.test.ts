// Cross-check against independent implementations: Python's msgpack and cbor2
// (what Autobahn|Python uses), from Debian's /usr/bin/python3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { msgpackSerializer } from '../../src/serializers/msgpack.ts';
import { cborSerializer } from '../../src/serializers/cbor.ts';

const PYTHON = '/usr/bin/python3';

// Reads {"msgpack": hex, "cbor": hex} (our bytes) on stdin. For each, decodes
// with the Python library, reports the Python type of every interesting
// element, and whether Python's own encoding of the decoded value is
// byte-identical to ours. Then encodes a message itself for the reverse check.
const SCRIPT = String.raw`
import json, sys, msgpack, cbor2

def types(v):
    if isinstance(v, list):
        return [types(x) for x in v]
    if isinstance(v, dict):
        return {k: types(x) for k, x in v.items()}
    return type(v).__name__

ours = json.load(sys.stdin)
report = {}
for name, loads, dumps in (
    ('msgpack', lambda b: msgpack.unpackb(b, raw=False), lambda v: msgpack.packb(v, use_bin_type=True)),
    ('cbor', cbor2.loads, cbor2.dumps),
):
    raw = bytes.fromhex(ours[name])
    value = loads(raw)
    report[name] = {
        'types': types(value),
        'ids': value[1:3],
        'bytes_hex': value[4][0].hex(),
        'reencoded_identical': dumps(value) == raw,
    }

message = [36, 2**53, 4294967296, {'publisher': 7814135}, [b'\x00\xffbin', 'text', 1.5, -(2**40), True, None], {'k': [b'']}]
report['from_python'] = {'msgpack': msgpack.packb(message, use_bin_type=True).hex(), 'cbor': cbor2.dumps(message).hex()}
print(json.dumps(report))
`;

test('Python msgpack/cbor2 read our IDs as ints, bytes as bytes, strings as str, and vice versa', () => {
  const message = [
    36,
    2 ** 53,
    4294967296,
    { publisher: 7814135, forward_for: [{ session: 2 ** 40 }] },
    [Buffer.from([0, 0xff, 0x62]), 'text', 1.5, -(2 ** 40), true, null, { nested: 'x'.repeat(300) }],
    { k: [Buffer.alloc(0)] },
  ];
  const input = JSON.stringify({
    msgpack: (msgpackSerializer.encode(message) as Buffer).toString('hex'),
    cbor: (cborSerializer.encode(message) as Buffer).toString('hex'),
  });
  const run = spawnSync(PYTHON, ['-c', SCRIPT], { input, encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.error, undefined, `cannot run ${PYTHON}: ${run.error?.message}`);
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout);

  const expectedTypes = [
    'int',
    'int',
    'int',
    { publisher: 'int', forward_for: [{ session: 'int' }] },
    ['bytes', 'str', 'float', 'int', 'bool', 'NoneType', { nested: 'str' }],
    { k: ['bytes'] },
  ];
  for (const name of ['msgpack', 'cbor']) {
    assert.deepEqual(report[name].types, expectedTypes, name);
    assert.deepEqual(report[name].ids, [2 ** 53, 4294967296], name);
    assert.equal(report[name].bytes_hex, '00ff62', name);
    // Python's encoders are canonical (smallest heads, float64): same bytes as ours.
    assert.equal(report[name].reencoded_identical, true, `${name}: Python re-encodes differently`);
  }

  const fromPython = [
    36,
    2 ** 53,
    4294967296,
    { publisher: 7814135 },
    [Buffer.from('\x00\xffbin', 'latin1'), 'text', 1.5, -(2 ** 40), true, null],
    { k: [Buffer.alloc(0)] },
  ];
  for (const ser of [msgpackSerializer, cborSerializer]) {
    const decoded = ser.decode(Buffer.from(report.from_python[ser.name], 'hex')) as unknown[];
    assert.deepEqual(decoded, fromPython, ser.name);
    assert.ok(Buffer.isBuffer((decoded[4] as unknown[])[0]), ser.name);
    // And our encoding of it is what Python wrote.
    assert.equal((ser.encode(decoded) as Buffer).toString('hex'), report.from_python[ser.name], ser.name);
  }
});
