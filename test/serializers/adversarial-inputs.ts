// About a megabyte of adversarial input per case, for each decoder (used by
// adversarial.test.ts, and by hand to time them).
import type { Serializer } from '../../src/serializers/index.ts';
import { cbor, msgpack } from './wire.ts';

const MB = 1 << 20;
/** `unit` repeated to about a megabyte. */
const repeat = (unitHex: string, bytes = MB) => {
  const unit = Buffer.from(unitHex, 'hex');
  return Buffer.alloc(unit.length * Math.floor(bytes / unit.length)).fill(unit);
};
const call = (ser: 'cbor' | 'msgpack', arg: Buffer) =>
  ser === 'cbor'
    ? Buffer.concat([Buffer.from('8518300180', 'hex'), cbor.text('a.b'), Buffer.of(0x81), arg])
    : Buffer.concat([Buffer.from('95300180', 'hex'), msgpack.str('a.b'), Buffer.of(0x91), arg]);

/** name -> input, about 1 MB each. */
export const ADVERSARIAL: Record<Serializer['name'], Record<string, () => Buffer | string>> = {
  json: {
    'deep arrays': () => '['.repeat(MB),
    'deep arrays, closed': () => '['.repeat(MB / 2) + ']'.repeat(MB / 2),
    'deep maps': () => '{"a":'.repeat(MB / 5),
    'deep arrays behind 2 KB of shallow ones': () => '[' + '[1],'.repeat(512) + '['.repeat(MB / 2) + ']'.repeat(MB / 2) + ']',
    'unterminated, behind 2 KB of shallow ones': () => '[' + '[1],'.repeat(512) + '['.repeat(MB),
    'flat empty maps': () => '[' + '{},'.repeat(MB / 3) + '{}]',
    'huge number': () => '[1' + '0'.repeat(MB) + ']',
    'huge exponent': () => '[' + '1e400,'.repeat(MB / 6) + '1]',
    'tiny binaries': () => '[' + '"\\u0000",'.repeat(MB / 9) + '1]',
    escapes: () => '["' + '\\\\\\"'.repeat(MB / 4) + '"]',
    'unterminated string of brackets': () => '["' + '[{'.repeat(MB / 2),
  },
  msgpack: {
    'deep arrays': () => Buffer.alloc(MB, 0x91),
    'deep maps': () => repeat('81a161'),
    'flat empty maps': () => Buffer.concat([Buffer.from('dd000fffff', 'hex'), Buffer.alloc(0xfffff, 0x80)]),
    'huge ext': () => call('msgpack', msgpack.ext(1, Buffer.alloc(MB))),
    'timestamp ext after a megabyte': () =>
      Buffer.concat([Buffer.from('dd00100001', 'hex'), Buffer.alloc(MB, 0x01), msgpack.ext(-1, Buffer.alloc(12), 'ext8')]),
    'many tiny strings': () =>
      Buffer.concat([Buffer.from('dd00080000', 'hex'), Buffer.alloc(2 * 0x80000).fill(Buffer.from('a161', 'hex'))]),
    'array32 count beyond the data': () => Buffer.concat([Buffer.from('ddffffffff', 'hex'), Buffer.alloc(MB, 0x01)]),
    '"__proto__" keys': () =>
      Buffer.concat([Buffer.from('dd00010000', 'hex'), Buffer.alloc(0x10000 * 12).fill(Buffer.from('81a95f5f70726f746f5f5f01', 'hex'))]),
  },
  cbor: {
    bignum: () => call('cbor', cbor.tag(2, cbor.bytes(Buffer.alloc(MB, 0xff)))),
    'negative bignum': () => call('cbor', cbor.tag(3, cbor.bytes(Buffer.alloc(MB, 0xff)))),
    'deep arrays': () => Buffer.alloc(MB, 0x81),
    'deep indefinite arrays': () => Buffer.alloc(MB, 0x9f),
    'deep maps': () => repeat('a16161'),
    'flat empty maps': () => Buffer.concat([Buffer.from('9a000fffff', 'hex'), Buffer.alloc(0xfffff, 0xa0)]),
    '500k tiny byte-string chunks': () => call('cbor', cbor.open(2, [Buffer.alloc(MB).fill(Buffer.from('4101', 'hex'))])),
    '500k tiny text chunks': () => call('cbor', cbor.open(3, [Buffer.alloc(MB).fill(Buffer.from('6161', 'hex'))])),
    '1M empty chunks': () => call('cbor', cbor.open(2, [Buffer.alloc(MB, 0x40)])),
    '10 strings of 50k tiny chunks': () =>
      call('cbor', cbor.array(Array.from({ length: 10 }, () => cbor.open(3, [Buffer.alloc(100_000).fill(Buffer.from('6161', 'hex'))])))),
    'packed values': () => call('cbor', cbor.tag(51, Buffer.concat([cbor.head(4, Math.floor(MB / 3)), repeat('d80600')]))),
    'shared references': () => call('cbor', cbor.tag(28, Buffer.concat([cbor.head(4, Math.floor(MB / 3)), repeat('d81d00')]))),
    'chain of self-describe tags': () => repeat('d9d9f7'),
    'array count beyond the data': () => Buffer.concat([Buffer.from('9bffffffffffffffff', 'hex'), Buffer.alloc(MB, 0x01)]),
  },
};
