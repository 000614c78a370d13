/**
 * What hostile input costs the router, in-process, each figure a ratio to the
 * same number of ordinary bytes measured in the same run:
 * - checking a 1 MB URI vs decoding a message with 1 MB of payload (and the
 *   spec's regular expressions, which the check replaced, for comparison);
 * - the whole router handling a CALL whose URI is 1 MB vs one whose payload is;
 * - decoding 1 MB adversarial inputs of each serializer vs 1 MB of plain payload.
 */
import { Router } from '../src/core/router.ts';
import type { Peer } from '../src/core/peer.ts';
import { isValidUri } from '../src/wamp/uri-syntax.ts';
import { cborSerializer, jsonSerializer, msgpackSerializer, type Serializer } from '../src/serializers/index.ts';

const MB = 1024 * 1024;
const SPEC_EXACT = /^([^\s.#]+\.)*([^\s.#]+)$/;

/** Median ms of `runs` calls of `fn` (after one warm-up call). */
function ms(fn: () => void, runs = 7): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

const swallow = (fn: () => unknown) => () => {
  try {
    fn();
  } catch {
    // refused input is the expected outcome for the adversarial rows
  }
};

function uriRows(): string[] {
  const uri = `com.${'a'.repeat(MB)}`;
  const payloadMessage = JSON.stringify([48, 1, {}, 'com.x', ['a'.repeat(MB)]]);
  const decode = ms(() => jsonSerializer.decode(payloadMessage));
  const check = ms(() => isValidUri(uri));
  const spec = ms(() => SPEC_EXACT.test(uri));
  const nearMiss = `${uri}#`; // invalid only at its end: the worst case for a backtracking rule
  const specMiss = ms(() => SPEC_EXACT.test(nearMiss));
  return [
    `| 1 MB URI checked (valid) vs decoding a message with 1 MB payload | ${check.toFixed(2)} vs ${decode.toFixed(2)} | ${(check / decode).toFixed(2)}× |`,
    `| the spec's regular expression on the same URI (the check it replaced), valid / invalid at the end | ${spec.toFixed(2)} / ${specMiss.toFixed(2)} | ${(spec / decode).toFixed(2)}× / ${(specMiss / decode).toFixed(2)}× |`,
  ];
}

function routerRow(): string {
  const router = new Router({ realms: [{ name: 'realm1' }] });
  const peer: Peer = { info: { type: 'memory', serializer: 'json', peer: 'bench' }, send: () => {}, close: () => {} };
  const session = router.connect(peer);
  router.receive(session, [1, 'realm1', { roles: { caller: {} } }]);
  let request = 1;
  const bigUri = jsonSerializer.encode([48, 0, {}, `com.${'a'.repeat(MB)}`]);
  const bigPayload = jsonSerializer.encode([48, 0, {}, 'com.x', ['a'.repeat(MB)]]);
  const handle = (text: string | Buffer) => () =>
    router.receive(
      session,
      [...(jsonSerializer.decode(text) as unknown[])].map((v, i) => (i === 1 ? request++ : v)),
    );
  const uri = ms(handle(bigUri));
  const payload = ms(handle(bigPayload));
  return `| router: decode and handle a CALL with a 1 MB URI vs one with 1 MB payload (both: no such procedure) | ${uri.toFixed(2)} vs ${payload.toFixed(2)} | ${(uri / payload).toFixed(2)}× |`;
}

/** Adversarial 1 MB inputs per serializer, as raw bytes. */
function adversarial(s: Serializer): Array<[string, Buffer | string]> {
  const depth = MB / 2;
  switch (s.name) {
    case 'json':
      return [
        ['nesting 512 k deep', '['.repeat(depth) + ']'.repeat(depth)],
        ['1 MB of \\u0000 binary strings', JSON.stringify([48, 1, {}, 'com.x', Array.from({ length: MB / 16 }, () => '\0AAAAAAAAAAAA')])],
      ];
    case 'msgpack':
      return [
        ['nesting 1 M deep', Buffer.alloc(MB, 0x91)],
        ['1 MB of ext values', Buffer.concat([Buffer.from([0xdd, 0x00, 0x04, 0x00, 0x00]), Buffer.alloc(MB, 0xd4)])],
      ];
    case 'cbor':
      return [
        ['nesting 1 M deep', Buffer.alloc(MB, 0x81)],
        ['a 1 MB bignum (tag 2)', Buffer.concat([Buffer.from([0xc2, 0x5a, 0x00, 0x10, 0x00, 0x00]), Buffer.alloc(MB, 0xff)])],
        ['tag 51 packed references', Buffer.concat([Buffer.from([0x9a, 0x00, 0x04, 0x00, 0x00]), Buffer.alloc(MB, 0xe0)])],
      ];
  }
}

function decodeRows(): string[] {
  const rows: string[] = [];
  for (const s of [jsonSerializer, msgpackSerializer, cborSerializer]) {
    const plain = s.encode([48, 1, {}, 'com.x', ['a'.repeat(MB)]]);
    const base = ms(swallow(() => s.decode(plain)));
    for (const [what, bytes] of adversarial(s)) {
      const t = ms(
        swallow(() => s.decode(bytes)),
        3,
      );
      rows.push(
        `| ${s.name}: decode ${what} vs 1 MB of plain payload | ${t.toFixed(2)} vs ${base.toFixed(2)} | ${(t / base).toFixed(2)}× |`,
      );
    }
  }
  return rows;
}

export function runHostileCostBench(): string {
  const rows = ['| what | ms (median) | ratio |', '|---|---:|---:|', ...uriRows(), routerRow(), ...decodeRows()];
  return `### Hostile input, in-process (each against the same bytes of ordinary payload, same run)\n\n${rows.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(runHostileCostBench());
