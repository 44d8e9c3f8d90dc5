// What `dhcp-failover [<command>] --help` prints, and the error for a wrong command line.
// The texts live in one place so main.ts stays parsing and wiring; the defaults they quote are the code's own.
import { DhcpFailoverError } from '../errors.ts';
import { DEFAULT_RENDER_OPTIONS } from '../operator/render/types.ts';
import { CTL_TOKEN_ENV, DEFAULT_CTL_SERVER } from './ctl-command.ts';
import { LOCAL_PAIR_PORTS, LOCAL_PAIR_SIDES } from './local-pair-command.ts';

export const COMMANDS = ['server', 'local-pair', 'ctl', 'render', 'operator'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Unknown option, missing or malformed argument: main.ts prints it on one line and exits 2. */
export class UsageError extends DhcpFailoverError {
  constructor(message: string) { super('usage', message); }
}

export const USAGE = `usage: dhcp-failover <command> [options]

commands:
  server [--config FILE]   run a DHCP server (without --config: a safe embedded default on loopback)
  local-pair               run a failover pair of two servers on loopback (127.0.0.2, 127.0.0.3), memory stores
  ctl <command>            status, lease lookup, partner-down, resync against a server's admin API
  render -f FILE...        print the objects the operator would create for the custom resources in FILE (offline)
  operator                 run the Kubernetes operator (settings from the environment, see docs/operator.md)
  help [<command>]         print this text, or a command's

dhcp-failover <command> --help prints a command's options.
`;

const SERVER_USAGE = `usage: dhcp-failover server [--config FILE] [--log-level LEVEL]

Runs one server: DHCP on UDP (server.listen), the admin HTTP endpoint (server.admin) and, when the
config has a failover section, the failover TCP listener (failover.address, failover.port).

options:
  -c, --config FILE        YAML config (docs/config.md), reloaded when it changes; without it the embedded
                           default: DHCP on 127.0.0.1:6767, admin on 127.0.0.1:8067, memory store
  --log-level LEVEL        debug, info, warn or error; overrides server.logLevel, also on reload
  -h, --help               print this text
`;

const [PRIMARY, SECONDARY] = LOCAL_PAIR_SIDES;
const LOCAL_PAIR_USAGE = `usage: dhcp-failover local-pair

Runs two server processes forming a failover relationship (load balance, memory stores, the embedded
TEST-NET-1 scope) until Ctrl-C. Each binds its own loopback address on fixed ports:
  ${PRIMARY.role.padEnd(10)} ${PRIMARY.address}     DHCP UDP ${LOCAL_PAIR_PORTS.dhcp}, admin HTTP ${LOCAL_PAIR_PORTS.admin}, failover TCP ${LOCAL_PAIR_PORTS.failover}
  ${SECONDARY.role.padEnd(10)} ${SECONDARY.address}     DHCP UDP ${LOCAL_PAIR_PORTS.dhcp}, admin HTTP ${LOCAL_PAIR_PORTS.admin}, failover TCP ${LOCAL_PAIR_PORTS.failover}
Read one with: dhcp-failover ctl --server http://${PRIMARY.address}:${LOCAL_PAIR_PORTS.admin} status

options:
  -h, --help               print this text
`;

const CTL_USAGE = `usage: dhcp-failover ctl [--server URL] [--token-file FILE] [--json] <command>

commands:
  status                   relationship, own and partner state, mode, MCLT, scope utilisation
  lease <IP|MAC>           look a lease up by address or hardware address
  partner-down [REL]       force PARTNER-DOWN (only when the partner is really down); REL: the relationship, needed on a server in several
  resync [REL]             send every binding of the relationship to the partner again

options:
  --server URL             the server's admin endpoint (default ${DEFAULT_CTL_SERVER})
  --token-file FILE        file holding the bearer token (the server's server.admin.tokenFile; in a pod the
                           mounted shared secret); sent with every command
  --json                   print the admin API's JSON instead of text
  -h, --help               print this text

environment:
  ${CTL_TOKEN_ENV}      the bearer token, when --token-file is not given

A server with a token file wants the token for partner-down and resync (from loopback too), and for
status and lease when called from another host; from its own host they need none.
`;

const RENDER_USAGE = `usage: dhcp-failover render -f FILE [-f FILE...] [--server-image IMAGE]

Prints, as YAML, the objects the operator would create for the DhcpFailoverRelationship and DhcpScope
resources (and Secrets) in the files. Offline: no cluster is contacted.

options:
  -f, --file FILE          a YAML file of custom resources; repeat for more files
  --server-image IMAGE     image of the server pods (default ${DEFAULT_RENDER_OPTIONS.serverImage})
  -h, --help               print this text
`;

const OPERATOR_USAGE = `usage: dhcp-failover operator

Runs the Kubernetes operator: campaigns for a Lease, reconciles DhcpFailoverRelationship and DhcpScope
resources while leading, serves /healthz, /readyz and /metrics over HTTP. Settings come from the
environment (the chart sets them; docs/crds.md "The operator pod's contract").

options:
  -h, --help               print this text

environment:
  POD_NAME                 identity in the leader Lease (default: the host name)
  POD_NAMESPACE            namespace of the leader Lease (default: default)
  WATCH_NAMESPACES         comma-separated namespaces to watch (default: empty = all)
  LOG_LEVEL                the operator's log level: debug, info, warn, error (default: info)
  SERVER_LOG_LEVEL         log level written into the servers' config (default: info)
  SERVER_IMAGE             image of the server pods (default: ${DEFAULT_RENDER_OPTIONS.serverImage})
  REDIS_IMAGE              image of the rendered Redis containers (default: ${DEFAULT_RENDER_OPTIONS.redisImage})
  SERVER_IMAGE_PULL_SECRETS comma-separated Secret names for the server pods' imagePullSecrets (in each relationship's namespace)
  HTTP_PORT                port of /healthz, /readyz, /metrics on all addresses (default: 8080)
  LEADER_ELECTION_LEASE_NAME               name of the leader Lease (default: dhcp-failover)
  LEADER_ELECTION_LEASE_DURATION_SECONDS   Lease duration (default: 15)
  LEADER_ELECTION_RENEW_DEADLINE_SECONDS   how long a leader tries to renew before it stops leading (default: 10)
  LEADER_ELECTION_RETRY_PERIOD_SECONDS     time between Lease attempts (default: 2)
  KUBECONFIG               kubeconfig file (default: ~/.kube/config, else the in-cluster service account)
`;

export const COMMAND_USAGE: Readonly<Record<CommandName, string>> = {
  server: SERVER_USAGE, 'local-pair': LOCAL_PAIR_USAGE, ctl: CTL_USAGE, render: RENDER_USAGE, operator: OPERATOR_USAGE,
};
