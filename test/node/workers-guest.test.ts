/**
 * Guest workers (src/node/workers/guest.ts) with small sh scripts as the program: what is logged,
 * the environment, the working directory and executable, stdin, Crossbar's restart rules (none
 * after an exit; a watched change restarts), and the stop at shutdown, with nothing left behind.
 * The last test runs `kreuz start` itself: a Kreuz that exits at once still leaves no guest.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/load.ts';
import { Router } from '../../src/core/router.ts';
import { Workers } from '../../src/node/workers/index.ts';
import { alive, buildDist, KreuzProcess, processesIn, recordingLogger, tempDir, until } from './workers-support.ts';

const running = new Set<Workers>();
after(() => Promise.all([...running].map((w) => w.stop())));

const router = new Router({ realms: [{ name: 'realm1' }] });

/** Workers for these guest entries, the node directory being `dir`. */
function guests(dir: string, entries: unknown[], graceMs = 2000) {
  const { config } = validateConfig(
    { version: 2, workers: [{ type: 'router', realms: [{ name: 'realm1' }] }, ...entries] },
    { baseDir: dir },
  );
  const logger = recordingLogger();
  const stopped: string[] = [];
  const workers = new Workers({ config, cbdir: dir, router, logger, stopNode: (reason) => stopped.push(reason), graceMs });
  running.add(workers);
  const lines = (stream?: 'stdout' | 'stderr') =>
    logger.entries
      .filter((e) => e.fields.stream !== undefined && (stream === undefined || e.fields.stream === stream))
      .map((e) => e.message);
  return { workers, logger, lines, stopped };
}

const sh = (script: string, options: Record<string, unknown> = {}) => ({
  type: 'guest',
  executable: '/bin/sh',
  arguments: ['-c', script],
  options,
});

describe('guest workers', { concurrency: true }, () => {
  it('logs stdout and stderr line by line (blank lines skipped), each entry with the worker id', async () => {
    const dir = realpathSync(tempDir());
    const { workers, logger, lines } = guests(dir, [sh('echo one; echo; echo "  two  "; echo oops >&2; printf three')]);
    await workers.start();
    await until(() => logger.entries.some((e) => /worker002 exited with success/.test(e.message)), 5000, 'the exit', logger.text);
    await until(() => lines().length === 4, 2000, 'all lines', logger.text);
    assert.deepEqual(lines('stdout'), ['one', '  two', 'three']);
    assert.deepEqual(lines('stderr'), ['oops']);
    for (const e of logger.entries.filter((x) => x.fields.stream)) assert.equal(e.fields.worker, 'worker002');
    await workers.stop();
  });

  it('gets the environment of options.env (inherit false/list, vars, PYTHONUNBUFFERED), and logs no secret', async () => {
    const dir = realpathSync(tempDir());
    process.env.KREUZ_TEST_INHERITED = 'from-kreuz';
    process.env.KREUZ_TEST_NOT = 'not-inherited';
    process.env.KREUZ_TEST_HOME = process.env.HOME ?? '/';
    const print =
      'echo "A=$A I=${KREUZ_TEST_INHERITED:-unset} N=${KREUZ_TEST_NOT:-unset} H=${KREUZ_TEST_HOME:-unset} PU=$PYTHONUNBUFFERED"';
    const { workers, logger, lines } = guests(dir, [
      { ...sh(print, { env: { inherit: false, vars: { A: '1', MY_SECRET: 'guest-secret-value' } } }), id: 'none' },
      { ...sh(print, { env: { inherit: ['KREUZ_TEST_INHERITED'], vars: { PYTHONUNBUFFERED: '' } } }), id: 'list' },
      {
        type: 'guest',
        id: 'all',
        executable: '/bin/sh',
        arguments: ['-c', print, 'sh', '--password', 'hunter2-value', 'API_TOKEN=token-value'],
      },
    ]);
    await workers.start();
    await until(() => lines().length === 3, 5000, 'three lines', logger.text);
    const by = (id: string) => logger.entries.find((e) => e.fields.worker === id && e.fields.stream)?.message;
    assert.equal(by('none'), 'A=1 I=unset N=unset H=unset PU=1');
    assert.equal(by('list'), 'A= I=from-kreuz N=unset H=unset PU=');
    assert.equal(by('all'), `A= I=from-kreuz N=not-inherited H=${process.env.KREUZ_TEST_HOME} PU=1`);
    const everything = JSON.stringify(logger.entries);
    assert.ok(!everything.includes('guest-secret-value'), 'a variable value was logged');
    assert.ok(!everything.includes('hunter2-value') && !everything.includes('token-value'), 'a secret argument was logged');
    assert.match(everything, /"--password","\*\*\*","API_TOKEN=\*\*\*"/, 'the command line is logged at debug, redacted');
    await workers.stop();
  });

  it('runs in options.workdir (relative to the node directory), the executable found there first, then on the PATH', async () => {
    const dir = realpathSync(tempDir());
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'run.sh'), '#!/bin/sh\necho "in $(pwd) with $1"\n');
    chmodSync(join(dir, 'app', 'run.sh'), 0o755);
    const { workers, logger, lines } = guests(dir, [
      { type: 'guest', executable: 'run.sh', arguments: ['x'], options: { workdir: 'app' } },
      { type: 'guest', executable: 'sh', arguments: ['-c', 'echo "on the PATH in $(pwd)"'], options: { workdir: 'app' } },
    ]);
    await workers.start();
    await until(() => lines().length === 2, 5000, 'two lines', logger.text);
    assert.deepEqual(lines().sort(), [`in ${dir}/app with x`, `on the PATH in ${dir}/app`]);
    assert.match(logger.text(), new RegExp(`guest worker worker002 started: ${dir}/app/run.sh`));
    await workers.stop();

    // kreuz check notes a missing one (it may be built later); the start fails on it.
    const { notes } = validateConfig(
      { version: 2, workers: [{ type: 'router' }, { type: 'guest', executable: 'no-such-kreuz-test' }] },
      { baseDir: dir },
    );
    assert.ok(
      notes.some(
        (n) => n.path === 'workers[1].executable' && /no executable "no-such-kreuz-test" in .* or on the PATH \(yet\)/.test(n.message),
      ),
    );
    const missing = guests(dir, [{ type: 'guest', executable: 'no-such-kreuz-test' }]);
    await assert.rejects(missing.workers.start(), /guest worker worker002: no executable "no-such-kreuz-test" in .* or on the PATH/);
  });

  it('writes a stdin JSON value and closes stdin ("close" is true by default)', async () => {
    const dir = realpathSync(tempDir());
    const { workers, logger, lines } = guests(dir, [sh('cat; echo; echo done', { stdin: { type: 'json', value: { a: [1, 'ü'] } } })]);
    await workers.start();
    await until(() => lines().includes('done'), 5000, 'cat to end', logger.text);
    assert.deepEqual(lines(), ['{"a":[1,"ü"]}', 'done']);
    await workers.stop();
  });

  it('is not restarted when it exits, with success or with an error (Crossbar restarts no guest)', async () => {
    const dir = realpathSync(tempDir());
    const { workers, logger, lines } = guests(dir, [
      { ...sh('echo up; exit 3'), id: 'crashes' },
      { ...sh('echo up'), id: 'ends' },
    ]);
    await workers.start();
    await until(() => logger.entries.filter((e) => /exited/.test(e.message)).length === 2, 5000, 'both exits', logger.text);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(lines(), ['up', 'up'], 'each ran once');
    const crashed = logger.entries.find((e) => /guest worker crashes exited/.test(e.message));
    assert.equal(crashed?.level, 'error');
    assert.match(crashed?.message ?? '', /exited with error \(exit code 3\)/);
    assert.ok(logger.entries.some((e) => e.level === 'info' && /guest worker ends exited with success/.test(e.message)));
    await workers.stop();
  });

  it('restarts on a change in a watched directory after watch.timeout, an ended guest too', async () => {
    const dir = realpathSync(tempDir());
    mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
    const watch = { directories: ['src'], action: 'restart', timeout: 0.2 };
    const { workers, logger, lines } = guests(dir, [
      { ...sh('echo "run $$"; exec sleep 100', { watch }), id: 'long' },
      { ...sh('echo "once $$"; exit 1', { watch }), id: 'short' },
    ]);
    await workers.start();
    await until(() => lines().length === 2, 5000, 'both ran', logger.text);
    await until(() => logger.entries.some((e) => /short exited with error/.test(e.message)), 5000, 'the short one ended');
    writeFileSync(join(dir, 'src', 'deep', 'changed.txt'), 'x');
    await until(() => lines().length === 4, 5000, 'both ran again', logger.text);
    const runs = lines().filter((l) => l.startsWith('run '));
    assert.equal(runs.length, 2);
    assert.notEqual(runs[0], runs[1], 'a new process');
    assert.match(logger.text(), /guest worker long: .*changed.txt changed in .*src: restarting in 200 ms/);
    assert.match(logger.text(), /guest worker long stopped \(signal SIGTERM\)/);
    await workers.stop();
  });

  it('stops at shutdown: SIGTERM to its process group, SIGKILL after the grace period; nothing left behind', async () => {
    const dir = realpathSync(tempDir());
    const { workers, logger, lines } = guests(
      dir,
      [
        { ...sh('sleep 100 & echo "child $!"; wait'), id: 'parent' },
        // Ignored signals are inherited: the whole group ignores SIGTERM.
        { ...sh('trap "" TERM; echo "stubborn $$"; while :; do sleep 0.05; done'), id: 'stubborn' },
      ],
      500,
    );
    await workers.start();
    await until(() => lines().length === 2, 5000, 'both up', logger.text);
    const child = Number(
      lines()
        .find((l) => l.startsWith('child '))
        ?.split(' ')[1],
    );
    const stubborn = Number(
      lines()
        .find((l) => l.startsWith('stubborn '))
        ?.split(' ')[1],
    );
    assert.ok(alive(child) && alive(stubborn));
    const started = Date.now();
    await workers.stop();
    assert.ok(Date.now() - started < 5000, 'stopped within the grace period and the kill');
    assert.match(logger.text(), /guest worker parent stopped \(signal SIGTERM\)/);
    assert.match(logger.text(), /guest worker stubborn stopped \(signal SIGKILL\)/);
    await until(() => !alive(child) && !alive(stubborn), 2000, 'the group gone');
    await until(
      () => processesIn(dir).length === 0,
      2000,
      'nothing left in its directory',
      () => String(processesIn(dir)),
    );
  });

  it('kreuz start: a second signal (an exit at once) still leaves no guest running', async () => {
    buildDist();
    const dir = realpathSync(tempDir());
    mkdirSync(join(dir, '.crossbar'));
    writeFileSync(
      join(dir, '.crossbar', 'config.json'),
      JSON.stringify({
        version: 2,
        workers: [
          { type: 'router', realms: [{ name: 'realm1' }], transports: [{ type: 'websocket', endpoint: { type: 'tcp', port: 0 } }] },
          { type: 'guest', executable: '/bin/sh', arguments: ['-c', 'trap "" TERM; echo "up $$"; while :; do sleep 0.05; done'] },
        ],
      }),
    );
    // Not under npm's lifecycle (as `npm test` would pass on): there a second signal within 500 ms counts as
    // the same Ctrl-C forwarded by npm (see start.ts).
    const node = new KreuzProcess(['--cbdir', '.crossbar'], dir, { npm_lifecycle_event: undefined });
    const [, pid] = await node.waitFor(/up (\d+) /);
    assert.ok(alive(Number(pid)));
    node.child.kill('SIGTERM');
    await node.waitFor(/stopping signal=SIGTERM/);
    // The guest ignores SIGTERM: Kreuz waits out its grace period, and the second signal ends Kreuz at once.
    node.child.kill('SIGTERM');
    assert.equal(await node.exited, 1, node.output);
    assert.match(node.output, /second signal: stopping at once/);
    await until(
      () => !alive(Number(pid)),
      3000,
      'the guest killed as Kreuz exited',
      () => node.output,
    );
    await until(
      () => processesIn(dir).length === 0,
      2000,
      'nothing left in its directory',
      () => String(processesIn(dir)),
    );
  });
});
