/**
 * The `kreuz` command as a Crossbar user runs it: the .crossbar node directory and $CROSSBAR_DIR,
 * --config relative to the node directory, status and stop with --config, status --assert,
 * --logformat standard|syslogd|none, --color, --logtofile/--logdir, --shutdownafter, and convert.
 * Real processes (bin/kreuz.js runs dist/), each test in its own directory.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { INIT_CONFIG } from '../../src/cli/init.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { freePorts, run, spawnStart, start, tempDir, until, writeConfig } from './support.ts';

/** The init config as JSON, on free ports. */
const INIT_JSON = `${JSON.stringify(parse(freePorts(INIT_CONFIG)), null, 2)}\n`;

describe('node directory: .crossbar and $CROSSBAR_DIR', { concurrency: true }, () => {
  it('start finds .crossbar/config.json when there is no .kreuz; status and stop find the node there', async () => {
    const dir = tempDir();
    writeConfig(dir, INIT_JSON, '.crossbar', 'config.json');
    const node = await start([], dir);
    assert.match(node.line, /config .*\.crossbar\/config\.json\)/);
    const client = await RawClient.join(node.urls[0]);
    client.close();
    assert.ok(existsSync(join(dir, '.crossbar', 'node.pid')), 'the pid file is in .crossbar');
    const status = await run(['status'], dir);
    assert.equal(status.status, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /kreuz is running from .*\.crossbar /);
    const stop = await run(['stop'], dir);
    assert.equal(stop.status, 0, stop.stdout + stop.stderr);
    assert.equal(await node.exited, 0);
  });

  it('.kreuz wins when both have a config; check says which file it read', async () => {
    const dir = tempDir();
    writeConfig(dir, INIT_JSON, '.crossbar', 'config.json');
    const kreuz = writeConfig(dir);
    const r = await run(['check'], dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.includes(`${kreuz}: ok`), r.stdout);
  });

  it('$CROSSBAR_DIR names the node directory for start, status and stop; a missing config there is an error', async () => {
    const dir = tempDir();
    writeConfig(dir, INIT_CONFIG, 'nodes/one');
    const env = { CROSSBAR_DIR: join(dir, 'nodes/one') };
    const missing = await run(['start'], dir, { CROSSBAR_DIR: join(dir, 'nowhere') });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no config in .*nowhere \(looked for/);
    const node = await start([], dir, env);
    assert.match(node.line, /config .*nodes\/one\/config\.yaml\)/);
    const [status, elsewhere] = await Promise.all([run(['status'], dir, env), run(['status'], dir)]);
    assert.equal(status.status, 0, status.stdout);
    assert.equal(elsewhere.status, 3, 'without it, .kreuz: not running there');
    assert.equal((await run(['stop'], dir, env)).status, 0);
    assert.equal(await node.exited, 0);
  });

  it("--config is relative to the current directory, else to the node directory (Crossbar's rule); status and stop take it too", async () => {
    const dir = tempDir();
    writeConfig(dir, INIT_CONFIG, 'node', 'other.yaml');
    const node = await start(['--cbdir', 'node', '--config', 'other.yaml'], dir);
    assert.match(node.line, /config .*node\/other\.yaml\)/);
    // Started with --config only, the node directory is the file's: status and stop find it the same way.
    const [byConfig, byCbdir, assertStopped] = await Promise.all([
      run(['status', '--config', 'node/other.yaml'], dir),
      run(['status', '--cbdir', 'node'], dir),
      run(['status', '--cbdir', 'node', '--assert', 'stopped'], dir),
    ]);
    assert.equal(byConfig.status, 0, byConfig.stdout + byConfig.stderr);
    assert.equal(byCbdir.status, 0);
    assert.equal(assertStopped.status, 69, "a failed --assert exits 69, as Crossbar's");
    const stop = await run(['stop', '--config', 'node/other.yaml'], dir);
    assert.equal(stop.status, 0, stop.stdout + stop.stderr);
    assert.equal(await node.exited, 0);
    const [assertRunning, assertOk] = await Promise.all([
      run(['status', '--cbdir', 'node', '--assert', 'running'], dir),
      run(['status', '--cbdir', 'node', '--assert', 'stopped'], dir),
    ]);
    assert.equal(assertRunning.status, 69);
    assert.match(assertRunning.stdout, /not running/);
    assert.equal(assertOk.status, 0);
    const bad = await run(['status', '--assert', 'asleep'], dir);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /running, stopped/);
  });
});

describe("Crossbar's logging and lifetime flags", { concurrency: true }, () => {
  it('--logformat standard is text, syslogd leaves out the time, none the level too; --color true colours the level, auto not without a terminal', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--logformat', 'syslogd'], /^INFO {2}kreuz \S+ listening on/],
      [['--logformat', 'none'], /^kreuz \S+ listening on/],
      // ESC shown as "~": the time dimmed, INFO green.
      [['--logformat', 'text', '--color', 'true'], /^~\[2m[^~]+~\[0m ~\[32mINFO ~\[0m kreuz /],
      [['--logformat', 'standard'], /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}kreuz /],
    ];
    await Promise.all(
      cases.map(async ([flags, shape]) => {
        const dir = tempDir();
        writeConfig(dir);
        const r = await run(['start', ...flags, '--shutdownafter', '0.3'], dir);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const line = (r.stdout.split('\n').find((l) => l.includes('listening on')) ?? '').replaceAll('\x1b', '~');
        assert.match(line, shape, line);
        if (!flags.includes('--color')) assert.ok(!r.stdout.includes('\x1b['), 'no colour');
        assert.match(r.stdout, /stopping: --shutdownafter/);
      }),
    );
  });

  it('--logtofile writes node.log in --logdir (relative to the node directory) and nothing to stdout; SIGHUP reopens it', async () => {
    const dir = tempDir();
    writeConfig(dir);
    const node = spawnStart(['--logtofile', '--logdir', 'logs'], dir);
    const log = join(dir, '.kreuz', 'logs', 'node.log');
    await until(() => existsSync(log) && readFileSync(log, 'utf8').includes('listening on'));
    assert.match(readFileSync(log, 'utf8'), /INFO {2}kreuz \S+ listening on/);
    assert.ok(!readFileSync(log, 'utf8').includes('\x1b['), 'no colour in the file');
    // logrotate's way: move the file, then SIGHUP; the next lines go to a new node.log.
    renameSync(log, `${log}.1`);
    node.child.kill('SIGHUP');
    await until(() => existsSync(log));
    assert.ok(existsSync(log), 'reopened after SIGHUP');
    node.child.kill('SIGTERM');
    assert.equal(await node.exited, 0);
    assert.match(readFileSync(log, 'utf8'), /stopping signal=SIGTERM/);
    assert.equal(node.stdout(), '', 'nothing on stdout');
  });

  it('--shutdownafter stops gracefully (exit 0) after that many seconds, and rejects what is not a number of seconds', async () => {
    const dir = tempDir();
    writeConfig(dir);
    const started = Date.now();
    const [r, bad] = await Promise.all([run(['start', '--shutdownafter', '1'], dir), run(['start', '--shutdownafter', 'soon'], dir)]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(Date.now() - started >= 1000, 'not before the second was up');
    assert.match(r.stdout, /stopping: --shutdownafter seconds=1\n.*stopping signal=SIGTERM[\s\S]*stopped/);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /must be a number of seconds/);
  });
});

describe('kreuz convert', { concurrency: true }, () => {
  it('writes config.yaml from config.json beside it and back, refuses to overwrite unless --force', async () => {
    const dir = tempDir();
    const json = writeConfig(dir, INIT_JSON.replace('"realm1"', '"${KREUZ_REALM}"'), '.crossbar', 'config.json');
    const r = await run(['convert'], dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const yamlFile = join(dir, '.crossbar', 'config.yaml');
    assert.match(r.stdout, new RegExp(`^wrote ${yamlFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(from .*config\\.json\\)$`, 'm'));
    assert.match(r.stdout, /^note: kreuz start in .*\.crossbar reads config\.yaml \(first of config\.yaml, config\.yml, config\.json\)/m);
    const yamlText = readFileSync(yamlFile, 'utf8');
    assert.deepEqual(parse(yamlText), JSON.parse(readFileSync(json, 'utf8')), 'the same config');
    assert.match(yamlText, /name: \$\{KREUZ_REALM\}/, '${VAR} kept as written');

    const again = await run(['convert', '--config', json], dir);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /config\.yaml already exists: not overwritten \(remove it, or pass --force\)/);
    // Back: the YAML (read first in the directory) to JSON; with --force over the original.
    writeFileSync(yamlFile, `# a comment\n${yamlText}`);
    const [refused, back] = [await run(['convert'], dir), await run(['convert', '--force'], dir)];
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /config\.json already exists/);
    assert.equal(back.status, 0, back.stderr);
    assert.match(back.stdout, /note: the comments of config\.yaml are not in config\.json: JSON has none/);
    assert.deepEqual(JSON.parse(readFileSync(json, 'utf8')), parse(yamlText));
  });

  it('keeps strings that YAML 1.1 reads otherwise quoted, refuses what JSON cannot hold, and files of another kind', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'n'));
    writeFileSync(join(dir, 'n', 'a.json'), JSON.stringify({ version: 2, x: { flag: 'on', mode: '0755', yes: 'yes', n: 1.5 } }));
    writeFileSync(join(dir, 'n', 'b.yaml'), 'version: 2\nlimit: .inf\n');
    writeFileSync(join(dir, 'n', 'c.toml'), 'version = 2\n');
    writeFileSync(join(dir, 'n', 'd.yaml'), 'version: [2\n');
    const [a, b, c, d] = await Promise.all(
      ['a.json', 'b.yaml', 'c.toml', 'd.yaml'].map((f) => run(['convert', '--config', `n/${f}`], dir)),
    );
    assert.equal(a.status, 0, a.stderr);
    const yamlText = readFileSync(join(dir, 'n', 'a.yaml'), 'utf8');
    assert.match(yamlText, /flag: "on"/);
    assert.match(yamlText, /mode: "0755"/);
    assert.match(yamlText, /"yes": "yes"/);
    assert.ok(!a.stdout.includes('note:'), 'no note: not the names of a node directory');
    assert.equal(b.status, 1);
    assert.match(b.stderr, /b\.yaml: limit: JSON cannot hold this value/);
    assert.ok(!existsSync(join(dir, 'n', 'b.json')), 'nothing written');
    assert.equal(c.status, 1);
    assert.match(c.stderr, /takes a \.json, \.yaml or \.yml file/);
    assert.equal(d.status, 1);
    assert.match(d.stderr, /d\.yaml:\d+:\d+: /, 'a syntax error with line and column');
  });

  it('the converted config checks as the original does', async () => {
    const dir = tempDir();
    writeConfig(dir, INIT_JSON, '.kreuz', 'config.json');
    assert.equal((await run(['convert'], dir)).status, 0);
    const r = await run(['check', '--config', '.kreuz/config.yaml'], dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /config\.yaml: ok \(1 realm, 2 transports\)/);
  });
});
