// dhcp-failover: argument parsing and wiring only.
// Conventions: `<command> --help`/`-h` prints the command's usage on stdout and exits 0 before anything
// starts; a wrong command line is one line on stderr and exit 2; a failure (a port that cannot be bound,
// a bad config file, an unreachable server) is one line on stderr and exit 1.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DhcpFailoverError } from '../errors.ts';
import { CTL_COMMANDS, CtlError, CtlUsageError, DEFAULT_CTL_SERVER, runCtl } from './ctl-command.ts';
import { runLocalPair } from './local-pair-command.ts';
import { runServer } from './server-command.ts';
import { COMMAND_USAGE, COMMANDS, USAGE, UsageError, type CommandName } from './usage.ts';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const HELP = { help: { type: 'boolean', short: 'h' } } as const;
const OPTIONS = {
  server: { ...HELP, config: { type: 'string', short: 'c' }, 'log-level': { type: 'string' } },
  'local-pair': HELP,
  ctl: { ...HELP, server: { type: 'string', default: DEFAULT_CTL_SERVER }, 'token-file': { type: 'string' }, json: { type: 'boolean', default: false } },
  render: { ...HELP, file: { type: 'string', short: 'f', multiple: true }, 'server-image': { type: 'string' } },
  operator: HELP,
} as const satisfies Record<CommandName, ParseArgsConfig['options']>;

/** parseArgs, with its errors (ERR_PARSE_ARGS_UNKNOWN_OPTION, …) turned into a UsageError. */
function parse<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) throw new UsageError((err as Error).message);
    throw err;
  }
}

function printUsage(command: CommandName): number {
  process.stdout.write(COMMAND_USAGE[command]);
  return 0;
}

function isCommand(name: string): name is CommandName {
  return (COMMANDS as readonly string[]).includes(name);
}

async function run(command: CommandName, args: string[]): Promise<number> {
  switch (command) {
    case 'server': {
      const { values } = parse({ args, options: OPTIONS.server });
      if (values.help) return printUsage(command);
      const level = values['log-level'];
      if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
        throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(level)}`);
      }
      return runServer({ configPath: values.config, logLevel: level });
    }
    case 'local-pair': {
      const { values } = parse({ args, options: OPTIONS['local-pair'] });
      if (values.help) return printUsage(command);
      return runLocalPair();
    }
    case 'ctl': {
      const { values, positionals } = parse({ args, options: OPTIONS.ctl, allowPositionals: true });
      if (values.help) return printUsage(command);
      const [sub, ...subArgs] = positionals;
      if (sub === undefined) throw new UsageError(`missing command (${CTL_COMMANDS.join(', ')})`);
      if (!URL.canParse(values.server)) throw new UsageError(`--server is not a URL: ${JSON.stringify(values.server)}`);
      try {
        return await runCtl({ server: values.server, tokenFile: values['token-file'], json: values.json, command: sub, args: subArgs, out: (t) => process.stdout.write(t) });
      } catch (err) {
        if (err instanceof CtlUsageError) throw new UsageError(err.message);
        if (!(err instanceof CtlError)) throw err;
        process.stderr.write(`dhcp-failover ctl: ${err.message}\n`);
        return 1;
      }
    }
    case 'render': {
      const { values } = parse({ args, options: OPTIONS.render });
      if (values.help) return printUsage(command);
      if (!values.file?.length) throw new UsageError('give at least one -f FILE');
      const { runRender } = await import('../operator/render-command.ts');
      return runRender({ files: values.file, serverImage: values['server-image'], out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) });
    }
    case 'operator': {
      const { values } = parse({ args, options: OPTIONS.operator });
      if (values.help) return printUsage(command);
      const { runOperator } = await import('../operator/operator-command.ts');
      return runOperator();
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) { process.stderr.write(USAGE); return 2; }
  if (command === '-h' || command === '--help' || command === 'help') {
    const topic = rest[0];
    if (topic === undefined) { process.stdout.write(USAGE); return 0; }
    if (isCommand(topic)) return printUsage(topic);
    process.stderr.write(`dhcp-failover help: unknown command ${JSON.stringify(topic)} (see dhcp-failover --help)\n`);
    return 2;
  }
  if (!isCommand(command)) {
    process.stderr.write(`dhcp-failover: unknown command ${JSON.stringify(command)} (see dhcp-failover --help)\n`);
    return 2;
  }
  try {
    return await run(command, rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`dhcp-failover ${command}: ${err.message} (see dhcp-failover ${command} --help)\n`);
      return 2;
    }
    // Our own errors (BindError, ConfigError, …) and system errors (a missing file) are reports, not bugs.
    const expected = err instanceof DhcpFailoverError || typeof (err as { syscall?: unknown }).syscall === 'string';
    process.stderr.write(`dhcp-failover ${command}: ${expected ? (err as Error).message : err instanceof Error ? err.stack : String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => { if (code !== 0) process.exitCode = code; });
