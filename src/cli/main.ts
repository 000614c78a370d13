/** The `kreuz` command. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, formatProblem } from '../config/errors.ts';
import { LOG_FORMAT_NAMES, parseLogFormat, parseLogLevel } from '../node/logging.ts';
import { KREUZ_VERSION, WS_VERSION } from '../version.ts';
import { ConvertError, convertConfigFile } from './convert.ts';
import { initNodeDirectory } from './init.ts';
import { generateKeyPair, keygenText } from './keygen.ts';
import { reload } from './reload.ts';
import { DEFAULT_CBDIR, noConfigMessage, resolveSource } from './source.ts';
import { UsageError, check, start, status, stop } from './start.ts';

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

function milliseconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a number of milliseconds');
  return Number(value);
}

function logLevel(value: string) {
  const level = parseLogLevel(value);
  if (!level) throw new InvalidArgumentError('must be one of none, critical, error, warn, info, debug, trace');
  return level;
}

function logFormat(value: string) {
  const format = parseLogFormat(value);
  if (!format) throw new InvalidArgumentError(`must be one of ${LOG_FORMAT_NAMES.join(', ')}`);
  return format;
}

/** Largest delay a Node timer takes (2^31 - 1 ms), in seconds. */
const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n > MAX_SECONDS)
    throw new InvalidArgumentError(`must be a number of seconds (at most ${MAX_SECONDS})`);
  return n;
}

const print = (line: string) => console.log(line);
const cbdirOption = () =>
  new Option('--cbdir <dir>', `node directory (default: $CROSSBAR_DIR, else ${DEFAULT_CBDIR}, else .crossbar where it has a config)`);
const configOption = () =>
  new Option('--config <file>', 'config file (YAML or JSON), relative to the current directory, else to the node directory');

const program = new Command('kreuz').description('Kreuz, a WAMP router').showHelpAfterError();

program
  .command('init')
  .description('write a commented config.yaml into the node directory')
  .addOption(new Option('--cbdir <dir>', `node directory (default ${DEFAULT_CBDIR})`))
  .action((opts: { cbdir?: string }) => {
    const file = initNodeDirectory(opts.cbdir ?? DEFAULT_CBDIR);
    console.log(
      `wrote ${file}\ncheck it with: kreuz check${opts.cbdir ? ` --cbdir ${opts.cbdir}` : ''}\nrun it with:   kreuz start${opts.cbdir ? ` --cbdir ${opts.cbdir}` : ''}`,
    );
  });

program
  .command('start')
  .description('run a router: from the config in the node directory, or (without one) one WebSocket endpoint')
  .addOption(cbdirOption())
  .addOption(configOption())
  .option('--loglevel <level>', 'none, critical, error, warn, info (default), debug, trace (every WAMP message)', logLevel)
  .option('--logformat <format>', 'text (default; Crossbar: standard), syslogd (no time), none (message only), json', logFormat)
  .addOption(new Option('--color <when>', 'colour the level names of text lines').choices(['true', 'false', 'auto']).default('auto'))
  .option('--logtofile', 'log to node.log in the node directory (or --logdir) instead of stdout; SIGHUP reopens it')
  .option('--logdir <dir>', 'with --logtofile: the directory of node.log, relative to the node directory')
  .option('--shutdownafter <seconds>', 'stop gracefully (as on SIGTERM) after this many seconds', seconds)
  .option('--host <host>', `without a config: interface to listen on (default 127.0.0.1)`)
  .option('--port <port>', 'without a config: TCP port, 0 picks a free one (default 8080)', port)
  .option('--realm <name>', 'without a config: realm open to anonymous clients (default realm1)')
  .action(start);

program
  .command('check')
  .description('validate the config and name every problem')
  .addOption(cbdirOption())
  .addOption(configOption())
  .action((opts: { cbdir?: string; config?: string }) => {
    process.exitCode = check(opts, print);
  });

program
  .command('convert')
  .description('write the config as YAML (from JSON) or JSON (from YAML) beside it: config.json <-> config.yaml')
  .addOption(cbdirOption())
  .addOption(configOption())
  .option('--force', 'overwrite the file written if it exists')
  .action((opts: { cbdir?: string; config?: string; force?: boolean }) => {
    const source = resolveSource(opts);
    if (!source.file) throw new UsageError(noConfigMessage(source));
    const converted = convertConfigFile(source.file, opts);
    print(`wrote ${converted.to} (from ${converted.from})`);
    for (const note of converted.notes) print(`note: ${note}`);
  });

program
  .command('status')
  .description('say whether the node of the directory is running (exit status 0) or not (3)')
  .addOption(cbdirOption())
  .addOption(new Option('--config <file>', 'the config the node was started with (its directory is the node directory)'))
  .addOption(
    new Option('--assert <state>', "exit status 0 if the node is in this state, else 69 (Crossbar's)").choices(['running', 'stopped']),
  )
  .action((opts: { cbdir?: string; config?: string; assert?: 'running' | 'stopped' }) => {
    process.exitCode = status(opts, print);
  });

program
  .command('stop')
  .description('stop the node of the directory (SIGTERM) and wait until it has exited')
  .addOption(cbdirOption())
  .addOption(new Option('--config <file>', 'the config the node was started with (its directory is the node directory)'))
  .option('--timeout <ms>', 'how long to wait', milliseconds, 30_000)
  .action(async (opts: { cbdir?: string; config?: string; timeout: number }) => {
    process.exitCode = await stop(opts, print);
  });

program
  .command('reload')
  .description(
    'make the node of the directory re-read its config (SIGHUP): what can change live is applied, the rest named (exit status 0 all applied, 2 some refused, 1 nothing applied, 3 not running)',
  )
  .addOption(cbdirOption())
  .addOption(new Option('--config <file>', 'the config the node was started with (its directory is the node directory)'))
  .option('--timeout <ms>', 'how long to wait for the result', milliseconds, 10_000)
  .action(async (opts: { cbdir?: string; config?: string; timeout: number }) => {
    process.exitCode = await reload(opts, print);
  });

program
  .command('keygen')
  .description('print a new Ed25519 key pair for WAMP-cryptosign (hex)')
  .action(() => console.log(keygenText(generateKeyPair())));

program
  .command('version')
  .description('print versions')
  .action(() => {
    console.log(`kreuz ${KREUZ_VERSION}\nnode ${process.versions.node}\nws ${WS_VERSION}`);
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    for (const problem of err.problems) console.error(formatProblem(problem));
    console.error(
      `kreuz: the config${err.file ? ` ${err.file}` : ''} has ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}; nothing started`,
    );
  } else if (err instanceof UsageError || err instanceof ConvertError) {
    console.error(`kreuz: ${err.message}`);
  } else {
    console.error(`kreuz: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exit(1);
});
