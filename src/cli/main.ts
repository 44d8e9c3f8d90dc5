// dhcp-failover: argument parsing and wiring only.
import { parseArgs } from 'node:util';
import { CTL_USAGE, CtlError, runCtl } from './ctl-command.ts';
import { runLocalPair } from './local-pair-command.ts';
import { runServer } from './server-command.ts';

const USAGE = `usage: dhcp-failover <command> [options]

commands:
  server [--config FILE]   run a DHCP server (without --config: a safe embedded default on loopback)
  local-pair               run a failover pair of two servers on loopback (127.0.0.2, 127.0.0.3), memory stores
  ctl <command>            status, lease lookup, partner-down, resync against a server's admin API
  render -f FILE...        print the objects the operator would create for the custom resources in FILE (offline)
  operator                 run the Kubernetes operator (settings from the environment, see docs/operator.md)
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
    case 'ctl': {
      const { values, positionals } = parseArgs({
        args: rest, allowPositionals: true,
        options: { server: { type: 'string', default: 'http://127.0.0.1:8067' }, 'token-file': { type: 'string' }, json: { type: 'boolean', default: false } },
      });
      const [sub, ...args] = positionals;
      if (!sub) { process.stderr.write(CTL_USAGE); return 2; }
      try {
        return await runCtl({ server: values.server, tokenFile: values['token-file'], json: values.json, command: sub, args, out: (t) => process.stdout.write(t) });
      } catch (err) {
        if (!(err instanceof CtlError)) throw err;
        process.stderr.write(`dhcp-failover ctl: ${err.message}\n`);
        return 1;
      }
    }
    case 'render': {
      const { values } = parseArgs({ args: rest, options: { file: { type: 'string', short: 'f', multiple: true }, 'server-image': { type: 'string' } } });
      const { runRender } = await import('../operator/render-command.ts');
      return runRender({ files: values.file ?? [], serverImage: values['server-image'], out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) });
    }
    case 'operator': {
      const { runOperator } = await import('../operator/operator-command.ts');
      return runOperator();
    }
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
