// dhcp-failover: argument parsing and wiring only.
import { parseArgs } from 'node:util';
import { runLocalPair } from './local-pair-command.ts';
import { runServer } from './server-command.ts';

const USAGE = `usage: dhcp-failover <command> [options]

commands:
  server [--config FILE]   run a DHCP server (without --config: a safe embedded default on loopback)
  local-pair               run a failover pair of two servers on loopback (127.0.0.2, 127.0.0.3), memory stores
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' }, 'log-level': { type: 'string' } } });
      return runServer({ configPath: values.config, logLevel: values['log-level'] });
    }
    case 'local-pair':
      return runLocalPair();
    case undefined: case '-h': case '--help': case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`dhcp-failover: unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { if (code !== 0) process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`dhcp-failover: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
