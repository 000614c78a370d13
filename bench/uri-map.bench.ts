/**
 * Call matching cost with 10 vs 100,000 registrations, per match policy.
 * Reports ns per lookup and the ratio large/small, measured in one run.
 */
import { UriMap } from '../src/core/uri-map.ts';

const LOOKUPS = 200_000;

function build(n: number): { map: UriMap<number>; calls: Record<string, string[]> } {
  const map = new UriMap<number>();
  for (let i = 0; i < n; i++) {
    map.set(`com.app${i % 100}.svc${i}.method`, 'exact', i);
    map.set(`com.app${i % 100}.svc${i}.`, 'prefix', i);
    map.set(`com.app${i % 100}..svc${i}.op`, 'wildcard', i);
  }
  const calls: Record<string, string[]> = { exact: [], prefix: [], wildcard: [], miss: [] };
  for (let i = 0; i < 1000; i++) {
    const k = i % n;
    calls.exact.push(`com.app${k % 100}.svc${k}.method`);
    calls.prefix.push(`com.app${k % 100}.svc${k}.other.deeper`);
    calls.wildcard.push(`com.app${k % 100}.any${i}.svc${k}.op`);
    calls.miss.push(`org.none${i}.x.y`);
  }
  return { map, calls };
}

function nsPerLookup(map: UriMap<number>, uris: string[]): number {
  let found = 0;
  for (let i = 0; i < 20_000; i++) if (map.best(uris[i % uris.length]) !== undefined) found++; // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < LOOKUPS; i++) if (map.best(uris[i % uris.length]) !== undefined) found++;
  const ns = Number(process.hrtime.bigint() - start) / LOOKUPS;
  if (found < 0) console.log(found); // keep the loop observable
  return ns;
}

export interface UriMapRow {
  kind: string;
  /** ns per lookup with 10 and with 100,000 registrations of each policy. */
  small: number;
  large: number;
}

export function measureUriMap(kinds = ['exact', 'prefix', 'wildcard', 'miss']): UriMapRow[] {
  const small = build(10);
  const large = build(100_000);
  return kinds.map((kind) => ({
    kind,
    small: nsPerLookup(small.map, small.calls[kind]),
    large: nsPerLookup(large.map, large.calls[kind]),
  }));
}

export function runUriMapBench(): string {
  const rows = ['| call kind | 10 regs (ns/lookup) | 100,000 regs (ns/lookup) | ratio large/small |', '|---|---:|---:|---:|'];
  for (const { kind, small, large } of measureUriMap()) {
    rows.push(`| ${kind} | ${small.toFixed(0)} | ${large.toFixed(0)} | ${(large / small).toFixed(2)} |`);
  }
  return `### Call matching (registrations of each policy: 10 vs 100,000 per policy)\n\n${rows.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(runUriMapBench());
