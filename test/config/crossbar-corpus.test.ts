/**
 * Every Crossbar node config of crossbario/crossbar-examples and
 * crossbario/crossbar (`.crossbar/config*.json|yaml`, copied unchanged into
 * test/fixtures/crossbar-corpus/, the commits in its manifest.json) through
 * `kreuz check`, as its node directory has it: the files and directories
 * each config names that exist in its repository are there (as empty
 * placeholders), and every environment variable it reads is set.
 *
 * (a) Every error names what Kreuz lacks and what to do instead: no bare
 *     "not supported", no unknown keys except those Crossbar refuses too.
 * (b) At least FLOOR configs have no error (a regression floor, measured).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkConfigFile, type CheckResult } from '../../src/config/check.ts';
import { formatProblem, type ConfigProblem } from '../../src/config/errors.ts';

const CORPUS = fileURLToPath(new URL('../fixtures/crossbar-corpus/', import.meta.url));

/** Configs with no error, measured when the corpus was made; raise it as Kreuz learns more. */
const FLOOR = 162;

/**
 * Unknown keys that are not Crossbar's either: Crossbar's own checkconfig
 * refuses them (old config versions, templates), so Kreuz calling them
 * unknown is the whole truth.
 */
const NOT_CROSSBAR: Array<{ path: RegExp; why: string }> = [
  { path: /\.permissions\[\d+\]\.(call|register|publish|subscribe)$/, why: 'Crossbar 0.x permissions; now under "allow"' },
  { path: /^workers\[\d+\]\.transports\[\d+\]\.serializer$/, why: 'a listening rawsocket has "serializers"' },
];

interface Manifest {
  sources: Record<string, string>;
  placeholders: Record<string, { files?: string[]; directories?: string[] }>;
}

function configFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) configFiles(path, out);
    else if (/[\\/]\.crossbar[\\/]config[^\\/]*\.(json|ya?ml)$/.test(path)) out.push(path);
  }
  return out;
}

/** The corpus copied into a temporary directory, with the placeholders of the files its configs name. */
function nodeDirectories(): { root: string; files: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'kreuz-corpus-'));
  const manifest = JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8')) as Manifest;
  const files = configFiles(CORPUS).map((file) => {
    const copy = join(root, relative(CORPUS, file));
    mkdirSync(dirname(copy), { recursive: true });
    cpSync(file, copy);
    return copy;
  });
  for (const [config, { files: named = [], directories = [] }] of Object.entries(manifest.placeholders)) {
    const base = dirname(join(root, config));
    const inside = (p: string) => {
      const target = resolve(base, p);
      assert.ok(target.startsWith(root + sep), `${config}: ${p} stays inside the corpus`);
      return target;
    };
    for (const d of directories) mkdirSync(inside(d), { recursive: true });
    for (const f of named) {
      const target = inside(f);
      mkdirSync(dirname(target), { recursive: true });
      if (!existsSync(target)) writeFileSync(target, '');
    }
  }
  return { root, files };
}

/** Every variable a config reads is set (to a placeholder): secrets are not in the corpus. */
const anyEnv = new Proxy({} as Record<string, string | undefined>, {
  get: (_, name) => (typeof name === 'string' ? 'kreuz-corpus-placeholder' : undefined),
});

/** Why an error does not say what to do, or undefined when it does. */
function vague({ path, message }: ConfigProblem): string | undefined {
  if (/not supported by Kreuz$/.test(message) || /not supported by Kreuz[^(:]*$/.test(message))
    return 'says "not supported" without what to do instead';
  if (message.startsWith('unknown key') && !NOT_CROSSBAR.some((k) => k.path.test(path))) return 'a Crossbar key Kreuz does not name';
  if (message === 'does not match any allowed form') return 'names no form';
  return undefined;
}

/** A blocking reason across configs: the key and the message without its hint. */
function reason({ path, message }: ConfigProblem): string {
  const key = path.replace(/\[\d+\]/g, '[]').replace(/(paths|websocket|principals|users)\.[^.]+/g, '$1.*');
  return `${key}: ${message.replace(/ \(.*$/, '').replace(/: .*$/, '')}`;
}

describe('the Crossbar corpus', () => {
  it('names, for every config it refuses, each unsupported feature and what to do; and loads at least the floor', (t) => {
    const { root, files } = nodeDirectories();
    try {
      const results = new Map<string, CheckResult>();
      for (const file of files) results.set(relative(root, file), checkConfigFile(file, { env: anyEnv }));

      const vagueErrors: string[] = [];
      const blockers = new Map<string, Set<string>>();
      for (const [file, { errors }] of results) {
        for (const error of errors) {
          const why = vague(error);
          if (why) vagueErrors.push(`${file}: ${formatProblem(error)} (${why})`);
          const r = reason(error);
          if (!blockers.has(r)) blockers.set(r, new Set());
          blockers.get(r)!.add(file);
        }
      }
      const clean = [...results.values()].filter((r) => r.errors.length === 0).length;
      t.diagnostic(`${clean} of ${results.size} Crossbar configs load with no errors`);
      const top = [...blockers].sort((a, b) => b[1].size - a[1].size || a[0].localeCompare(b[0])).slice(0, 15);
      for (const [r, configs] of top) t.diagnostic(`${String(configs.size).padStart(4)}  ${r}`);

      assert.deepEqual(vagueErrors, [], 'every refusal names the feature and what to do instead');
      assert.ok(clean >= FLOOR, `${clean} configs load with no errors; the floor is ${FLOOR}`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
