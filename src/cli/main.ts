/** The `kreuz` command. */
import { Command, InvalidArgumentError } from 'commander';
import { startNode, DEFAULTS } from '../node/server.ts';
import { KREUZ_VERSION, WS_VERSION } from '../version.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

const program = new Command('kreuz').description('Kreuz, a WAMP router').showHelpAfterError();

program
  .command('start')
  .description('run a router')
  .option('--host <host>', 'interface to listen on', DEFAULTS.host)
  .option('--port <port>', 'TCP port (0 picks a free one)', port, DEFAULTS.port)
  .option('--realm <name>', 'realm open to anonymous clients', DEFAULTS.realms[0])
  .action(async (opts: { host: string; port: number; realm: string }) => {
    const node = await startNode({ host: opts.host, port: opts.port, realms: [opts.realm] });
    console.log(`kreuz ${KREUZ_VERSION} listening on ${node.url} (realm ${opts.realm}, anonymous)`);
    const stop = () => void node.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('version')
  .description('print versions')
  .action(() => {
    console.log(`kreuz ${KREUZ_VERSION}\nnode ${process.versions.node}\nws ${WS_VERSION}`);
  });

program.parseAsync().catch((err: unknown) => {
  console.error(`kreuz: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
