/** The `kreuz` command. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, formatProblem } from '../config/errors.ts';
import { parseLogLevel } from '../node/logging.ts';
import { KREUZ_VERSION, WS_VERSION } from '../version.ts';
import { initNodeDirectory } from './init.ts';
import { generateKeyPair, keygenText } from './keygen.ts';
import { DEFAULT_CBDIR } from './source.ts';
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

const print = (line: string) => console.log(line);
const cbdirOption = () => new Option('--cbdir <dir>', `node directory (default ${DEFAULT_CBDIR})`);

const program = new Command('kreuz').description('Kreuz, a WAMP router').showHelpAfterError();

program
  .command('init')
  .description('write a commented config.yaml into the node directory')
  .addOption(cbdirOption())
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
  .option('--config <file>', 'config file (YAML or JSON), relative to the current directory')
  .option('--loglevel <level>', 'none, critical, error, warn, info (default), debug, trace', logLevel)
  .addOption(new Option('--logformat <format>', 'log lines as text (default) or JSON').choices(['text', 'json']))
  .option('--host <host>', `without a config: interface to listen on (default 127.0.0.1)`)
  .option('--port <port>', 'without a config: TCP port, 0 picks a free one (default 8080)', port)
  .option('--realm <name>', 'without a config: realm open to anonymous clients (default realm1)')
  .action(start);

program
  .command('check')
  .description('validate the config and name every problem')
  .addOption(cbdirOption())
  .option('--config <file>', 'config file (YAML or JSON), relative to the current directory')
  .action((opts: { cbdir?: string; config?: string }) => {
    process.exitCode = check(opts, print);
  });

program
  .command('status')
  .description('say whether the node of the directory is running (exit status 0) or not (3)')
  .addOption(cbdirOption())
  .action((opts: { cbdir?: string }) => {
    process.exitCode = status(opts, print);
  });

program
  .command('stop')
  .description('stop the node of the directory (SIGTERM) and wait until it has exited')
  .addOption(cbdirOption())
  .option('--timeout <ms>', 'how long to wait', milliseconds, 30_000)
  .action(async (opts: { cbdir?: string; timeout: number }) => {
    process.exitCode = await stop(opts, print);
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
  } else if (err instanceof UsageError) {
    console.error(`kreuz: ${err.message}`);
  } else {
    console.error(`kreuz: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exit(1);
});
