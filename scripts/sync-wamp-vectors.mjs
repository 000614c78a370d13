#!/usr/bin/env node
// Copies the data of the WAMP wire vectors (../shared/wamp-vectors, from the
// wamp-proto test suite) into test/fixtures/wamp-vectors, so the serializer
// tests run on any checkout. Only data is kept: bytes and expected values;
// the vectors' code snippets and notes are dropped.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = join(root, '..', 'shared', 'wamp-vectors');
const target = join(root, 'test', 'fixtures', 'wamp-vectors');
const DROP = new Set(['validation', 'construction', 'notes', 'note', 'spec_reference', '$schema']);

function strip(value) {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !DROP.has(k))
        .map(([k, v]) => [k, strip(v)]),
    );
  }
  return value;
}

rmSync(target, { recursive: true, force: true });
let count = 0;
for (const file of readdirSync(source, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.json') && f !== 'SCHEMA.json')) {
  const out = join(target, file);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(strip(JSON.parse(readFileSync(join(source, file), 'utf8'))), null, 1) + '\n');
  count++;
}
console.log(`synced ${count} vector files into ${target}`);
