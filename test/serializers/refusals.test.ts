// What a decoder refuses, with a message that says why: everything that is
// not plain WAMP data (JSON plus binary), so that whatever is accepted can be
// written back by every serializer. CBOR tags and MessagePack extensions are
// refused before the libraries see them (a 256 KB bignum once took cbor-x 84 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cborSerializer } from '../../src/serializers/cbor.ts';
import { jsonSerializer } from '../../src/serializers/json.ts';
import { msgpackSerializer } from '../../src/serializers/msgpack.ts';
import { cbor, hex, msgpack, refuses } from './wire.ts';

const call = (arg: Uint8Array, enc: typeof cbor | typeof msgpack) =>
  enc === cbor
    ? cbor.array([cbor.uint(48), cbor.uint(1), cbor.map([]), cbor.text('a.b'), cbor.array([arg])])
    : msgpack.array([msgpack.uint(48), msgpack.uint(1), msgpack.map([]), msgpack.str('a.b'), msgpack.array([arg])]);

test('cbor: every tag but 64 (around a byte string), 55799 and bignums in the payload is refused, wherever it is', () => {
  const numbers = [
    ...Array.from({ length: 301 }, (_, i) => i),
    1000,
    0xffff,
    0x10000,
    0xffffffff,
    2 ** 32,
    2 ** 53,
    2n ** 64n - 1n,
    0xe000,
    0xe0ff,
  ];
  for (const n of numbers) {
    if (n === 64) continue;
    const tagged = cbor.tag(n, cbor.uint(1));
    const inArgs = n === 2 || n === 3 ? /^cbor: tag \d+ .*must enclose a definite byte string$/ : /^cbor: tag \d+ .*is not supported$/;
    refuses(() => cborSerializer.decode(call(tagged, cbor)), inArgs, `tag ${n} in args`);
    refuses(() => cborSerializer.decode(tagged), /^cbor: tag \d+/, `tag ${n} as the message`);
    refuses(
      () => cborSerializer.decode(cbor.map([[cbor.text('k'), cbor.tag(n, cbor.bytes(Buffer.of(1)))]])),
      /^cbor: tag \d+/,
      `tag ${n} around bytes in a map`,
    );
  }
  assert.equal(cborSerializer.decode(cbor.tag(55799, cbor.uint(1))), 1);
});

test('cbor: the messages name the common tags', () => {
  const named: [number, string][] = [
    [0, 'date/time string'],
    [1, 'epoch date/time'],
    [2, 'bignum'],
    [3, 'negative bignum'],
    [6, 'cbor-x packed reference'],
    [28, 'shareable value'],
    [29, 'shared reference'],
    [51, 'cbor-x packed values'],
    [258, 'set'],
    [79, 'typed array'],
    [35, 'regexp'],
  ];
  for (const [n, name] of named) {
    refuses(
      () => cborSerializer.decode(cbor.tag(n, cbor.bytes(Buffer.alloc(8)))),
      new RegExp(`^cbor: tag ${n} \\(${name}\\) is not supported$`),
    );
  }
  // The attack: a 256 KB bignum, refused at its head (in a payload, bignums up to 4300 digits are read).
  refuses(
    () => cborSerializer.decode(call(cbor.tag(2, cbor.bytes(Buffer.alloc(256 * 1024, 0xff))), cbor)),
    /^cbor: tag 2 \(bignum\) is longer than 1785 bytes$/,
  );
});

test('cbor: tag 64 must enclose a byte string; typed arrays of other element types are refused', () => {
  for (const content of [cbor.uint(1), cbor.text('ab'), cbor.array([]), cbor.tag(64, cbor.bytes(Buffer.of(1)))]) {
    refuses(() => cborSerializer.decode(cbor.tag(64, content)), /^cbor: tag 64 \(typed array\) must enclose a byte string$/);
  }
  for (let n = 65; n <= 87; n++)
    refuses(() => cborSerializer.decode(cbor.tag(n, cbor.bytes(Buffer.alloc(8)))), /typed array\) is not supported$/, `tag ${n}`);
  // 55799 encloses anything but another 55799 or a tag other than 64.
  refuses(
    () => cborSerializer.decode(cbor.tag(55799, cbor.tag(55799, cbor.uint(1)))),
    /tag 55799 \(self-described CBOR\) is not supported \(inside tag 55799\)/,
  );
  refuses(
    () => cborSerializer.decode(cbor.tag(55799, cbor.tag(2, cbor.bytes(Buffer.of(1))))),
    /tag 2 \(bignum\) is not supported \(inside tag 55799\)/,
  );
  assert.deepEqual(cborSerializer.decode(cbor.tag(55799, cbor.tag(64, cbor.bytes(Buffer.of(1))))), Buffer.of(1));
  // A tag at the end of the data, or before a break.
  refuses(() => cborSerializer.decode(hex('d840')), /must enclose a byte string/);
  refuses(() => cborSerializer.decode(hex('81 d9d9f7')), /unexpected end/);
  refuses(() => cborSerializer.decode(hex('9f d9d9f7 ff')), /unexpected break/);
});

test('cbor: simple values other than false, true, null and undefined are refused', () => {
  assert.deepEqual(cborSerializer.decode(hex('83 f4 f5 f6')), [false, true, null]);
  for (let v = 0; v < 20; v++)
    refuses(() => cborSerializer.decode(Buffer.of(0x81, 0xe0 | v)), new RegExp(`^cbor: simple value ${v} is not supported$`));
  for (let v = 0; v < 256; v++)
    refuses(() => cborSerializer.decode(Buffer.of(0x81, 0xf8, v)), new RegExp(`^cbor: simple value ${v} is not supported$`));
  for (const b of [0xfc, 0xfd, 0xfe]) refuses(() => cborSerializer.decode(Buffer.of(0x81, b)), /reserved additional information/);
  refuses(() => cborSerializer.decode(hex('81 ff')), /^cbor: unexpected break$/);
});

test('cbor: NaN and ±Infinity are refused in half, single and double precision', () => {
  const nonFinite = [
    'f97e00',
    'f97c00',
    'f9fc00',
    'f97c01',
    'fa7fc00000',
    'fa7f800000',
    'faff800000',
    'fa7f800001',
    'fb7ff8000000000000',
    'fb7ff0000000000000',
    'fbfff0000000000000',
    'fb7ff0000000000001',
  ];
  for (const f of nonFinite) refuses(() => cborSerializer.decode(hex('81' + f)), /^cbor: NaN and Infinity are not supported/, f);
  const finite: [string, number][] = [
    ['f93c00', 1],
    ['f97bff', 65504],
    ['f90001', 2 ** -24],
    ['f98000', -0],
    ['fa7f7fffff', 3.4028234663852886e38],
    ['fb7fefffffffffffff', Number.MAX_VALUE],
    ['fb0000000000000001', 5e-324],
  ];
  for (const [f, v] of finite) assert.deepEqual(cborSerializer.decode(hex('81' + f)), [v], f);
});

test('cbor: outside the payload, integers within [-2^63, 2^64 - 1] are accepted, more negative ones and bignums refused', () => {
  assert.equal(cborSerializer.decode(hex('1bffffffffffffffff')), 2 ** 64); // an envelope value: a JS number (IDs stay below 2^53)
  assert.equal(cborSerializer.decode(hex('3b7fffffffffffffff')), -(2 ** 63));
  refuses(
    () => cborSerializer.decode(hex('3b8000000000000000')),
    /^cbor: negative integer below -2\^63 is not supported outside the payload$/,
  );
  refuses(() => cborSerializer.decode(hex('81 3bffffffffffffffff')), /below -2\^63/);
  refuses(() => cborSerializer.decode(cbor.tag(3, cbor.bytes(Buffer.alloc(9, 0xff)))), /tag 3 \(negative bignum\) is not supported/);
});

test('cbor: in the payload, every CBOR integer and bignums of up to 1785 bytes are read exactly', () => {
  const args = (item: Buffer) => (cborSerializer.decode(call(item, cbor)) as unknown[][])[4]!;
  assert.deepEqual(args(hex('3bffffffffffffffff')), [-(2n ** 64n)]);
  assert.deepEqual(args(hex('1bffffffffffffffff')), [2n ** 64n - 1n]);
  assert.deepEqual(args(cbor.tag(2, cbor.bytes(Buffer.from('010000000000000000', 'hex')))), [2n ** 64n]);
  assert.deepEqual(args(cbor.tag(3, cbor.bytes(Buffer.from('010000000000000000', 'hex')))), [-(2n ** 64n) - 1n]);
  const widest = Buffer.alloc(1785, 0xff);
  assert.equal(args(cbor.tag(2, cbor.bytes(widest)))[0], BigInt(`0x${widest.toString('hex')}`));
  refuses(() => args(cbor.tag(2, cbor.bytes(Buffer.alloc(1786, 0xff)))), /longer than 1785 bytes/);
});

test('cbor: malformed heads are refused', () => {
  for (let major = 0; major < 8; major++) {
    for (const info of [28, 29, 30])
      refuses(() => cborSerializer.decode(Buffer.of((major << 5) | info)), /reserved additional information/, `${major}/${info}`);
  }
  for (const major of [0, 1, 6])
    refuses(() => cborSerializer.decode(Buffer.of((major << 5) | 31, 0)), /indefinite length for/, `major ${major}`);
  refuses(() => cborSerializer.decode(hex('bf 6161 ff')), /map key without a value/);
  refuses(() => cborSerializer.decode(hex('5f 6161 ff')), /invalid chunk/);
  refuses(() => cborSerializer.decode(hex('5f 5f ff ff')), /invalid chunk/);
  refuses(() => cborSerializer.decode(hex('9b ffffffffffffffff 00')), /unexpected end/); // a count far beyond the data
  refuses(() => cborSerializer.decode(hex('5b ffffffffffffffff 00')), /unexpected end/);
});

test('msgpack: every extension type is refused, in every form, wherever it is', () => {
  for (let type = -128; type <= 127; type++) {
    for (const form of ['fixext', 'ext8', 'ext16', 'ext32'] as const) {
      const ext = msgpack.ext(type, Buffer.alloc(form === 'fixext' ? 4 : 3, 1), form);
      const name = type === -1 ? ' \\(timestamp\\)' : '';
      refuses(
        () => msgpackSerializer.decode(call(ext, msgpack)),
        new RegExp(`^msgpack: extension type ${type}${name} is not supported$`),
        `${type} ${form}`,
      );
      refuses(() => msgpackSerializer.decode(ext), /extension type/, `${type} ${form} as the message`);
    }
  }
  for (let n = 1; n <= 16; n *= 2)
    refuses(() => msgpackSerializer.decode(msgpack.ext(-1, Buffer.alloc(n), 'fixext')), /extension type -1 \(timestamp\)/);
});

test('undefined, which msgpackr and cbor-x clients send for unset options, means what JSON makes of it', () => {
  // wampy's SUBSCRIBE without options: [32, 1, {match: undefined, get_retained: undefined}, 'com.x'].
  assert.deepEqual(msgpackSerializer.decode(hex('942001 82 a56d61746368 d40000 ac6765745f72657461696e6564 d40000 a5636f6d2e78')), [
    32,
    1,
    {},
    'com.x',
  ]);
  assert.deepEqual(cborSerializer.decode(hex('841820 01 a2 656d61746368 f7 6c6765745f72657461696e6564 f7 65636f6d2e78')), [
    32,
    1,
    {},
    'com.x',
  ]);
  // In an array it is null, like JSON.stringify writes it; so is the whole message.
  assert.deepEqual(msgpackSerializer.decode(hex('93 d40000 91 d40000 81 a161 d40000')), [null, [null], {}]);
  assert.deepEqual(cborSerializer.decode(hex('83 f7 81 f7 a1 6161 f7')), [null, [null], {}]);
  assert.equal(msgpackSerializer.decode(hex('d40000')), null);
  assert.equal(cborSerializer.decode(hex('f7')), null);
  // Also next to a "__proto__" key (the Map path).
  const proto = cborSerializer.decode(hex('a2 695f5f70726f746f5f5f f7 6162 01')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(proto), ['b']);
  // Only msgpackr's exact form: other type-0 extensions are refused.
  for (const s of ['d40001', 'd5000000', 'c7010000', 'c8000100 00'])
    refuses(() => msgpackSerializer.decode(hex(s)), /^msgpack: extension type 0 is not supported$/, s);
});

test('msgpack: the never-used byte 0xc1 and non-finite floats are refused', () => {
  refuses(() => msgpackSerializer.decode(hex('c1')), /^msgpack: never-used byte 0xc1$/);
  refuses(() => msgpackSerializer.decode(hex('93 01 81 a1 61 c1 02')), /never-used byte 0xc1/);
  for (const x of [NaN, Infinity, -Infinity]) {
    refuses(
      () => msgpackSerializer.decode(msgpack.array([msgpack.double(x)])),
      /^msgpack: NaN and Infinity are not supported/,
      `double ${x}`,
    );
    refuses(() => msgpackSerializer.decode(msgpack.array([msgpack.float(x)])), /NaN and Infinity/, `float ${x}`);
  }
  refuses(() => msgpackSerializer.decode(hex('cb 7ff0000000000001')), /NaN/); // a signalling NaN
  for (const x of [0, -0, 1.5, Number.MAX_VALUE, 5e-324, -1e300])
    assert.deepEqual(msgpackSerializer.decode(msgpack.array([msgpack.double(x)])), [x]);
  assert.deepEqual(msgpackSerializer.decode(msgpack.array([msgpack.float(3.4028234663852886e38)])), [3.4028234663852886e38]);
});

test('msgpack: lengths beyond the data are refused at the head', () => {
  for (const s of ['dd ffffffff 00', 'df ffffffff 00', 'dc ffff', 'c6 ffffffff 00', 'db ffffffff', 'c5 00', 'cb 00']) {
    refuses(() => msgpackSerializer.decode(hex(s)), /unexpected end of data/, s);
  }
});

test('json: numbers JSON.parse would make ±Infinity are refused, everything finite passes', () => {
  for (const text of [
    '1e400',
    '[1e400]',
    '[-1e400]',
    '{"a":[1E+309]}',
    '[0.1e310]',
    '[' + '9'.repeat(400) + ']',
    '[2' + '0'.repeat(308) + '.5]',
    '{"k":1e999999}',
  ]) {
    refuses(() => jsonSerializer.decode(text), /^json: number too large for a double/, text.slice(0, 40));
  }
  refuses(() => jsonSerializer.decode('["\\u0000AA==", 1e400]'), /too large/); // also on the binary path
  const fine: [string, unknown][] = [
    ['[1e308]', [1e308]],
    ['[1e-400]', [0]],
    ['[1e30]', [1e30]],
    ['[-0]', [-0]],
    ['["1e400"]', ['1e400']],
    ['[1' + '0'.repeat(300) + ']', [1e300]],
    ['[0.' + '0'.repeat(400) + '1e400]', [1e-1]],
  ];
  for (const [text, v] of fine) assert.deepEqual(jsonSerializer.decode(text), v, text.slice(0, 40));
});

test('json: binary conversion happens inside the error handling and never throws for odd base64', () => {
  assert.deepEqual(jsonSerializer.decode('["\\u0000"]'), [Buffer.alloc(0)]);
  assert.deepEqual(jsonSerializer.decode('["\\u0000!!!AQI=***"]'), [Buffer.of(1, 2)]); // Node's decoder skips what is not base64
  // Binary deep inside is converted; too deep is refused before any conversion.
  assert.deepEqual(jsonSerializer.decode('[[[[{"b":"\\u0000AQ=="}]]]]'), [[[[{ b: Buffer.of(1) }]]]]);
  refuses(() => jsonSerializer.decode('['.repeat(65) + '"\\u0000AQ=="' + ']'.repeat(65)), /nesting deeper than 64/);
});

test('msgpack and cbor: a string value starting with U+0000 is refused (WAMP JSON would read it as binary); as a key it is fine', () => {
  for (const s of ['\0', '\0abc', '\0'.repeat(40), '\0' + 'x'.repeat(300)]) {
    refuses(
      () => msgpackSerializer.decode(msgpack.array([msgpack.str(s)])),
      /^msgpack: a string starting with U\+0000 is not supported/,
      JSON.stringify(s.slice(0, 5)),
    );
    refuses(
      () => cborSerializer.decode(cbor.array([cbor.text(s)])),
      /^cbor: a text string starting with U\+0000 is not supported/,
      JSON.stringify(s.slice(0, 5)),
    );
  }
  refuses(() => cborSerializer.decode(cbor.array([cbor.open(3, [cbor.text(''), cbor.text('\0a')])])), /starting with U\+0000/);
  assert.deepEqual(cborSerializer.decode(cbor.array([cbor.open(3, [cbor.text(''), cbor.text('a\0')])])), ['a\0']);
  assert.deepEqual(msgpackSerializer.decode(msgpack.array([msgpack.str('a\0'), msgpack.str(''), msgpack.bin(Buffer.of(0))])), [
    'a\0',
    '',
    Buffer.of(0),
  ]);
  assert.deepEqual(msgpackSerializer.decode(msgpack.map([[msgpack.str('\0k'), msgpack.uint(1)]])), { '\0k': 1 });
  assert.deepEqual(cborSerializer.decode(cbor.map([[cbor.text('\0k'), cbor.uint(1)]])), { '\0k': 1 });
  assert.deepEqual(jsonSerializer.decode('{"\\u0000k":"\\u0000AQ=="}'), { '\0k': Buffer.of(1) });
});
