/**
 * kreuz.cluster in the config file: the schema (every refusal at its path), environment values in the
 * credentials, the mapping to NodeOptions.cluster (creds relative to the config's directory), secrets
 * kept out of every message, and `kreuz check` on a config with a cluster section.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check } from '../../src/cli/start.ts';
import { CLUSTER_DEFAULTS } from '../../src/cluster/options.ts';
import { ConfigError, formatProblem } from '../../src/config/errors.ts';
import { loadConfigFile, validateConfig } from '../../src/config/load.ts';
import { toNodeOptions } from '../../src/config/to-node-options.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ws = { type: 'websocket', endpoint: { type: 'tcp', port: 8080, interface: '127.0.0.1' } };
const withCluster = (cluster: unknown) => ({
  version: 2,
  workers: [{ type: 'router', realms: [{ name: 'realm1' }], transports: [ws] }],
  kreuz: { cluster },
});
const nats = { servers: ['nats://127.0.0.1:4222'] };

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kreuz-cluster-config-'));
  dirs.push(dir);
  return dir;
}

/** The cluster options a config maps to. */
function clusterOf(raw: unknown, env: Record<string, string> = {}, baseDir = '/srv/node') {
  const validated = validateConfig(raw, { env, baseDir });
  return toNodeOptions(validated).cluster;
}

/** The problems of a refused config, as `kreuz check` prints them, and the error's whole message. */
function refusal(raw: unknown, env: Record<string, string> = {}): { problems: string[]; message: string } {
  try {
    toNodeOptions(validateConfig(raw, { env, baseDir: '/srv/node' }));
  } catch (err) {
    if (err instanceof ConfigError) return { problems: err.problems.map(formatProblem), message: err.message };
    throw err;
  }
  assert.fail('expected the config to be refused');
}
const problems = (raw: unknown, env: Record<string, string> = {}) => refusal(raw, env).problems;

describe('kreuz.cluster: mapping to NodeOptions.cluster', () => {
  it('maps a full section key by key (dead_after -> deadAfter)', () => {
    const cluster = clusterOf(
      withCluster({
        name: 'prod',
        node: 'kreuz-1',
        nats: { servers: ['nats://10.0.0.1:4222', 'tls://nats-2.example.com:4222'], user: 'kreuz', pass: 'pw' },
        kv: { replicas: 3 },
        heartbeat: 250,
        dead_after: 1000,
      }),
    );
    assert.deepEqual(cluster, {
      name: 'prod',
      node: 'kreuz-1',
      nats: { servers: ['nats://10.0.0.1:4222', 'tls://nats-2.example.com:4222'], user: 'kreuz', pass: 'pw' },
      kv: { replicas: 3 },
      heartbeat: 250,
      deadAfter: 1000,
    });
  });

  it('leaves keys that are not in the config absent: the cluster layer applies CLUSTER_DEFAULTS and the node ID', () => {
    const cluster = clusterOf(withCluster({ name: 'prod', nats, kv: {} }));
    assert.deepEqual(cluster, { name: 'prod', nats: { servers: ['nats://127.0.0.1:4222'] } });
    for (const key of ['node', 'kv', 'heartbeat', 'deadAfter']) assert.ok(!Object.hasOwn(cluster!, key), `${key} is absent`);
    assert.deepEqual(CLUSTER_DEFAULTS, { heartbeat: 500, deadAfter: 1500, replicas: 1 }, 'the defaults the docs name');
  });

  it('has no cluster without a cluster section', () => {
    const { config } = validateConfig({ ...withCluster(undefined), kreuz: {} }, { env: {} });
    assert.equal(toNodeOptions({ config, baseDir: '/srv/node' }).cluster, undefined);
    assert.ok(!Object.hasOwn(toNodeOptions({ config, baseDir: '/srv/node' }), 'cluster'));
  });

  it('accepts dead_after exactly 2 × heartbeat, and the extremes of the ID alphabet and kv.replicas', () => {
    const id = `a-${'0'.repeat(62)}`;
    const cluster = clusterOf(withCluster({ name: id, node: '-', nats, kv: { replicas: 5 }, heartbeat: 1000, dead_after: 2000 }));
    assert.equal(cluster?.name, id);
    assert.equal(cluster?.deadAfter, 2000);
    assert.equal(cluster?.kv?.replicas, 5);
    assert.equal(clusterOf(withCluster({ name: 'p', nats, kv: { replicas: 1 }, heartbeat: 750 }))?.heartbeat, 750, '2 × 750 = 1500');
  });

  it('takes whole-string ${VAR} and $VAR credentials and servers from the environment', () => {
    const env = { NATS_USER: 'kreuz', NATS_PASS: '12345', NATS_TOKEN: 's3cr3t-token', NATS_URL: 'nats://nats.internal:4222' };
    const userPass = clusterOf(
      withCluster({ name: 'prod', nats: { servers: ['${NATS_URL}'], user: '${NATS_USER}', pass: '$NATS_PASS' } }),
      env,
    );
    assert.deepEqual(userPass?.nats, { servers: ['nats://nats.internal:4222'], user: 'kreuz', pass: '12345' });
    assert.equal(typeof userPass?.nats?.pass, 'string', 'a numeric value stays a string where the schema wants one');
    const token = clusterOf(withCluster({ name: 'prod', nats: { ...nats, token: '${NATS_TOKEN}' } }), env);
    assert.equal(token?.nats?.token, 's3cr3t-token');
    // Only whole strings: a reference inside a string stays as written.
    assert.equal(
      clusterOf(withCluster({ name: 'prod', nats: { ...nats, token: 'x-${NATS_TOKEN}' } }), env)?.nats?.token,
      'x-${NATS_TOKEN}',
    );
    // Numbers from the environment are read as numbers where the schema wants one.
    assert.equal(clusterOf(withCluster({ name: 'prod', nats, heartbeat: '${HB}' }), { HB: '300' })?.heartbeat, 300);
  });

  it('names an unset variable at the key that refers to it', () => {
    assert.deepEqual(problems(withCluster({ name: 'prod', nats: { ...nats, user: 'kreuz', pass: '${NATS_PASS}' } })), [
      'kreuz.cluster.nats.pass: environment variable NATS_PASS is not set',
    ]);
  });

  it("resolves creds against the config file's directory (also from ${VAR}); an absolute path stays", () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'kreuz.creds'), '-----BEGIN NATS USER JWT-----\n');
    const file = join(dir, 'config.yaml');
    const yaml = (creds: string) =>
      `version: 2\nworkers:\n  - type: router\n    realms: [{name: realm1}]\n    transports:\n` +
      `      - {type: websocket, endpoint: {type: tcp, port: 8080, interface: 127.0.0.1}}\n` +
      `kreuz:\n  cluster:\n    name: prod\n    nats:\n      servers: [nats://127.0.0.1:4222]\n      creds: ${creds}\n`;
    writeFileSync(file, yaml('secrets/kreuz.creds'));
    assert.equal(toNodeOptions(loadConfigFile(file, { env: {} })).cluster?.nats?.creds, join(dir, 'secrets', 'kreuz.creds'));
    writeFileSync(file, yaml('${NATS_CREDS}'));
    assert.equal(
      toNodeOptions(loadConfigFile(file, { env: { NATS_CREDS: './secrets/kreuz.creds' } })).cluster?.nats?.creds,
      join(dir, 'secrets', 'kreuz.creds'),
    );
    writeFileSync(file, yaml(join(dir, 'secrets', 'kreuz.creds')));
    assert.equal(toNodeOptions(loadConfigFile(file, { env: {} })).cluster?.nats?.creds, join(dir, 'secrets', 'kreuz.creds'));
    // A creds file that is not there is a config problem, as a missing TLS file is.
    assert.deepEqual(problems(withCluster({ name: 'prod', nats: { ...nats, creds: 'missing.creds' } })), [
      'kreuz.cluster.nats.creds: file not found: /srv/node/missing.creds',
    ]);
  });
});

describe('kreuz.cluster: refused at the offending path', () => {
  const NAME = 'must be 1 to 64 characters a-z, 0-9 or "-"';
  const URL_MESSAGE = 'must be a nats:// or tls:// URL with a host, such as "nats://127.0.0.1:4222"';

  it('a bad or missing name or node', () => {
    assert.deepEqual(problems(withCluster({ name: 'Prod', nats })), [`kreuz.cluster.name: ${NAME}`]);
    assert.deepEqual(problems(withCluster({ name: 'prod.eu', nats })), [`kreuz.cluster.name: ${NAME}`]);
    assert.deepEqual(problems(withCluster({ name: '', nats })), [`kreuz.cluster.name: ${NAME}`]);
    assert.deepEqual(problems(withCluster({ name: 'a'.repeat(65), nats })), [`kreuz.cluster.name: ${NAME}`]);
    assert.deepEqual(problems(withCluster({ nats })), ['kreuz.cluster.name: is required']);
    assert.deepEqual(problems(withCluster({ name: 'prod', node: 'kreuz_1', nats })), [`kreuz.cluster.node: ${NAME}`]);
    assert.deepEqual(problems(withCluster({ name: 'prod', node: 7, nats })), ['kreuz.cluster.node: must be a string, got an integer']);
  });

  it('no nats, empty servers, a server that is not a nats:// or tls:// URL', () => {
    assert.deepEqual(problems(withCluster({ name: 'prod' })), ['kreuz.cluster.nats: is required']);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats: {} })), ['kreuz.cluster.nats.servers: is required']);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats: { servers: [] } })), [
      'kreuz.cluster.nats.servers: must have at least 1 item',
    ]);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats: { servers: 'nats://127.0.0.1:4222' } })), [
      'kreuz.cluster.nats.servers: must be a list, got a string',
    ]);
    for (const server of [
      '127.0.0.1:4222',
      'localhost',
      'http://127.0.0.1:4222',
      'ws://127.0.0.1:8080',
      'nats://',
      'nats://:4222',
      'nats://h:99999',
      'nats://a b:4222',
    ]) {
      assert.deepEqual(
        problems(withCluster({ name: 'prod', nats: { servers: ['nats://ok:4222', server] } })),
        [`kreuz.cluster.nats.servers[1]: ${URL_MESSAGE}`],
        server,
      );
    }
    assert.deepEqual(
      clusterOf(withCluster({ name: 'prod', nats: { servers: ['nats://[::1]:4222', 'tls://u:p@nats.example.com', 'nats://h:4222/'] } }))
        ?.nats?.servers,
      ['nats://[::1]:4222', 'tls://u:p@nats.example.com', 'nats://h:4222/'],
    );
  });

  it('dead_after under 2 × heartbeat, given or by default', () => {
    assert.deepEqual(problems(withCluster({ name: 'prod', nats, heartbeat: 500, dead_after: 999 })), [
      'kreuz.cluster.dead_after: must be at least 2 × heartbeat (1000 ms with heartbeat 500), got 999',
    ]);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats, heartbeat: 1000 })), [
      'kreuz.cluster.dead_after: must be at least 2 × heartbeat (2000 ms with heartbeat 1000), got 1500 (the default)',
    ]);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats, dead_after: 900 })), [
      'kreuz.cluster.dead_after: must be at least 2 × heartbeat (1000 ms with heartbeat 500, the default), got 900',
    ]);
  });

  it('heartbeat, dead_after and kv.replicas out of range', () => {
    assert.deepEqual(problems(withCluster({ name: 'prod', nats, heartbeat: 0 })), ['kreuz.cluster.heartbeat: must be more than 0, got 0']);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats, heartbeat: 2.5 })), [
      'kreuz.cluster.heartbeat: must be an integer, got a number',
    ]);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats, dead_after: -1 })), [
      'kreuz.cluster.dead_after: must be more than 0, got -1',
    ]);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats, kv: { replicas: 0 } })), [
      'kreuz.cluster.kv.replicas: must be at least 1, got 0',
    ]);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats, kv: { replicas: 6 } })), [
      'kreuz.cluster.kv.replicas: must be at most 5, got 6',
    ]);
  });

  it('user without pass, pass without user, and two ways of authenticating at once', () => {
    assert.deepEqual(problems(withCluster({ name: 'prod', nats: { ...nats, user: 'kreuz' } })), [
      'kreuz.cluster.nats.pass: is required with "user"',
    ]);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats: { ...nats, pass: 'pw' } })), [
      'kreuz.cluster.nats.user: is required with "pass"',
    ]);
    const ways = 'cannot be combined: give one of "user" + "pass", "token" or "creds"';
    assert.deepEqual(problems(withCluster({ name: 'prod', nats: { ...nats, token: 't', creds: 'nats.creds' } })), [
      `kreuz.cluster.nats: "token" and "creds" ${ways}`,
    ]);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats: { ...nats, user: 'u', pass: 'p', token: 't' } })), [
      `kreuz.cluster.nats: "user" + "pass" and "token" ${ways}`,
    ]);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats: { ...nats, pass: 'p', token: 't', creds: 'c' } })), [
      'kreuz.cluster.nats.user: is required with "pass"',
      `kreuz.cluster.nats: "user" + "pass" and "token" and "creds" ${ways}`,
    ]);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats: { ...nats, token: '' } })), [
      'kreuz.cluster.nats.token: must not be empty',
    ]);
  });

  it('unknown keys, with the keys known there', () => {
    assert.deepEqual(problems(withCluster({ name: 'prod', nats, heartbeat_ms: 500 })), [
      'kreuz.cluster.heartbeat_ms: unknown key (known here: name, node, nats, kv, heartbeat, dead_after)',
    ]);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats: { ...nats, password: 'pw' } })), [
      'kreuz.cluster.nats.password: unknown key (known here: servers, user, pass, token, creds)',
    ]);
    assert.deepEqual(problems(withCluster({ name: 'prod', nats, kv: { replicas: 1, history: 5 } })), [
      'kreuz.cluster.kv.history: unknown key (known here: replicas)',
    ]);
  });
});

describe('kreuz.cluster: secrets stay out of messages', () => {
  const SECRET = 'hunter2-Zq9xV';

  it('no refusal of a config with a pass or token repeats it', () => {
    const bad: Array<[unknown, Record<string, string>]> = [
      [withCluster({ name: 'prod', nats: { ...nats, pass: SECRET } }), {}],
      [withCluster({ name: 'prod', nats: { ...nats, user: 'u', pass: SECRET, token: SECRET } }), {}],
      [withCluster({ name: 'prod', nats: { ...nats, user: 'u', pass: SECRET, secret: SECRET } }), {}],
      [withCluster({ name: 'Bad', nats: { servers: [`nats://u:${SECRET}@h:99999`], user: 'u', pass: SECRET } }), {}],
      [withCluster({ name: 'prod', nats: { ...nats, pass: '${NATS_PASS}' } }), { NATS_PASS: SECRET }],
      [withCluster({ name: 'prod', nats: { ...nats, pass: '${NATS_PASS}', token: '${NATS_PASS}' } }), { NATS_PASS: SECRET }],
      [withCluster({ name: 'prod', nats: { ...nats, user: 'u', pass: 123456789 } }), {}],
      [withCluster({ name: 'prod', nats: { ...nats, user: 'u', pass: [SECRET] } }), {}],
    ];
    for (const [raw, env] of bad) {
      const { problems, message } = refusal(raw, env);
      assert.ok(problems.length > 0);
      for (const text of [message, ...problems]) {
        assert.ok(!text.includes(SECRET) && !text.includes('123456789'), `a message shows the secret: ${text}`);
      }
    }
  });
});

describe('kreuz check with a cluster section', () => {
  const config = (pass: string) =>
    [
      'version: 2',
      'workers:',
      '  - type: router',
      '    realms: [{name: realm1}]',
      '    transports:',
      '      - {type: websocket, endpoint: {type: tcp, port: 0, interface: 127.0.0.1}}',
      'kreuz:',
      '  cluster:',
      '    name: prod',
      '    node: kreuz-1',
      '    nats:',
      '      servers: [nats://127.0.0.1:4222, nats://127.0.0.1:4223]',
      '      user: kreuz',
      `      pass: ${pass}`,
      '    kv: {replicas: 1}',
      '    heartbeat: 500',
      '    dead_after: 1500',
      '',
    ].join('\n');

  it('passes (in process), and a refusal does not print the password', () => {
    const file = join(tempDir(), 'config.yaml');
    writeFileSync(file, config('${KREUZ_TEST_NATS_PASS}'));
    const saved = process.env.KREUZ_TEST_NATS_PASS;
    process.env.KREUZ_TEST_NATS_PASS = 'p4ss-Wq7';
    try {
      const ok: string[] = [];
      assert.equal(
        check({ config: file }, (line) => ok.push(line)),
        0,
        ok.join('\n'),
      );
      assert.deepEqual(ok, [`${file}: ok (1 realm, 1 transport)`]);

      writeFileSync(file, config('${KREUZ_TEST_NATS_PASS}').replace('user: kreuz', 'user: kreuz\n      token: ${KREUZ_TEST_NATS_PASS}'));
      const bad: string[] = [];
      assert.equal(
        check({ config: file }, (line) => bad.push(line)),
        1,
      );
      assert.deepEqual(bad, [
        'error: kreuz.cluster.nats: "user" + "pass" and "token" cannot be combined: give one of "user" + "pass", "token" or "creds"',
        `${file}: 1 error`,
      ]);
      assert.ok(!bad.join('\n').includes('p4ss-Wq7'));
    } finally {
      if (saved === undefined) delete process.env.KREUZ_TEST_NATS_PASS;
      else process.env.KREUZ_TEST_NATS_PASS = saved;
    }
  });

  it('passes as the command (kreuz check --config, from the sources)', () => {
    const file = join(tempDir(), 'config.yaml');
    writeFileSync(file, config('${KREUZ_TEST_NATS_PASS}'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'check', '--config', file], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, KREUZ_TEST_NATS_PASS: 'p4ss-Wq7' },
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.equal(r.stdout, `${file}: ok (1 realm, 1 transport)\n`);
    assert.ok(!(r.stdout + r.stderr).includes('p4ss-Wq7'));
  });
});
