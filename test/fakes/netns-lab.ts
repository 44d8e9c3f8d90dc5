// A DHCP test lab in Linux network namespaces (needs root, iproute2, iptables, udhcpc, dhclient, dhcrelay).
//
//   <p>-br: bridge br0 (STP off)                         bridge br1 (relay client segment, with relay: true)
//     |-- p-srv1 == <p>-srv1:eth0 10.99.0.2/24               |-- p-rcli1 == <p>-rcli1:eth0 (no address)
//     |-- p-srv2 == <p>-srv2:eth0 10.99.0.3/24               `-- p-relay1 == <p>-relay:eth1 10.98.0.1/24
//     |-- p-cli1 == <p>-cli1:eth0 (no address) ... cliN
//     |-- p-relay == <p>-relay:eth0 10.99.0.253/24 (dhcrelay -id eth1 -iu eth0 → the servers; giaddr 10.98.0.1)
//     `-- p-perf == <p>-perf:eth0 10.100.0.1/32  (perfdhcp relays with giaddr 10.100.0.1)
//
// Servers route 10.100.0.0/18 on-link (perf) and 10.98.0.0/24 via the relay. Nothing is created in the
// host namespace. Every process the lab starts is tracked by PID; destroy() also kills whatever else runs
// in the lab's namespaces (`ip netns pids`) and deletes them. A process 'exit' hook does the same
// synchronously if a test run dies before after() ran.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessTracker, run, sleep, tryKill, waitFor, type RunOptions, type RunResult, type TrackedProcess } from './processes.ts';

export const LAB_NET = {
  subnet: '10.99.0.0/24',
  serverIp: (i: number): string => `10.99.0.${i + 1}`, // srv1 = 10.99.0.2, srv2 = 10.99.0.3
  relayIp: '10.99.0.253', // above every server (srv3 = 10.99.0.4)
  relaySubnet: '10.98.0.0/24',
  relayGiaddr: '10.98.0.1',
  perfSubnet: '10.100.0.0/18',
  perfGiaddr: '10.100.0.1',
} as const;

export interface LabOptions {
  /** Short unique prefix (e.g. `t${process.pid % 1000}a`); namespaces are `<prefix>-<node>`. */
  readonly prefix: string;
  readonly servers: number;
  readonly clients: number;
  /** Relay namespace running dhcrelay, plus `relayClients` clients behind it (default 1). */
  readonly relay?: boolean;
  readonly relayClients?: number;
  readonly perf?: boolean;
  /** Keep the log directory after destroy() (also: env LAB_KEEP=1). */
  readonly keepDir?: boolean;
}

export interface ClientEvent {
  readonly at: number;
  readonly tool: 'udhcpc' | 'dhclient';
  /** udhcpc: bound renew deconfig nak leasefail; dhclient: PREINIT BOUND RENEW REBIND REBOOT EXPIRE RELEASE ... */
  readonly event: string;
  readonly ip?: string;
  readonly serverId?: string;
  readonly leaseSeconds?: number;
  readonly router?: string;
  readonly dns?: string;
  readonly subnetMask?: string;
  readonly domain?: string;
  readonly hostname?: string;
}

export interface UdhcpcOptions {
  /** Give up after about this long (DISCOVER every second). */
  readonly timeoutS: number;
  readonly requestIp?: string;
  /** Option 61 as hex, e.g. "01aabbccddeeff". */
  readonly clientId?: string;
  readonly hostname?: string;
  /** Send a RELEASE right after the lease is obtained (udhcpc -R). */
  readonly release?: boolean;
}

export interface UdhcpcResult {
  readonly ok: boolean;
  readonly exitCode: number | null;
  readonly ip?: string;
  readonly serverId?: string;
  readonly leaseSeconds?: number;
  readonly router?: string;
  readonly dns?: string;
  readonly subnetMask?: string;
  readonly domain?: string;
  /** Every script event of this run (nak, bound, ...). */
  readonly events: readonly ClientEvent[];
  readonly output: string;
}

export interface DhclientOptions {
  /** Extra dhclient.conf statements (e.g. `send host-name "x";`). */
  readonly extraConf?: string;
  /** Lease file content to start from (e.g. an old lease, to make dhclient start with INIT-REBOOT). */
  readonly leaseFileContent?: string;
}

export interface Dhclient {
  readonly proc: TrackedProcess;
  readonly leaseFile: string;
  readonly logFile: string;
  /** Script events of this session only (earlier sessions in the same namespace are not included). */
  events(): ClientEvent[];
  /** Waits for the first event of this session from index `from` (default 0) matching `pred`. */
  waitEvent(pred: (e: ClientEvent) => boolean, timeoutMs: number, from?: number): Promise<ClientEvent>;
  /** `dhclient -r`: stops the running dhclient and sends a RELEASE for its lease. */
  release(): Promise<RunResult>;
  /** Stops dhclient by PID without releasing. */
  stop(): Promise<void>;
  log(): string;
}

export interface Lab {
  readonly prefix: string;
  readonly dir: string;
  /** Short node name ('srv1', 'cli2', 'relay', 'rcli1', 'perf', 'br') → namespace name. */
  ns(node: string): string;
  readonly nodes: readonly string[];
  exec(node: string, cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  spawn(node: string, cmd: string, args: readonly string[], opts?: { logFile?: string; env?: NodeJS.ProcessEnv }): TrackedProcess;
  /** Drop all traffic between srv1 and srv2 (iptables chain LABCUT in srv1); clients still reach both. */
  cut(): Promise<void>;
  heal(): Promise<void>;
  /** Signal every process in the node's namespace (default SIGKILL: a crash). */
  kill(node: string, signal?: NodeJS.Signals): Promise<number[]>;
  /** Bridge port down / up: the node falls silent without any RST. */
  isolate(node: string): Promise<void>;
  reconnect(node: string): Promise<void>;
  setMac(node: string, mac: string): Promise<void>;
  mac(node: string): Promise<string>;
  /** Addresses on eth0 of a node ("10.99.0.51/24"). */
  addresses(node: string): Promise<string[]>;
  udhcpcOnce(node: string, opts: UdhcpcOptions): Promise<UdhcpcResult>;
  startDhclient(node: string, opts?: DhclientOptions): Dhclient;
  /** HTTP GET from inside a namespace (curl), e.g. the admin endpoint on 127.0.0.1. */
  httpGet(node: string, url: string, timeoutS?: number): Promise<{ status: number; body: string }>;
  /** Waits until something listens on UDP `port` in the node's namespace. */
  waitUdpListening(node: string, port: number, timeoutMs: number): Promise<void>;
  /** Clears a client: flushes eth0 addresses and routes set by the hook script. */
  resetClient(node: string): Promise<void>;
  readonly relayProcess?: TrackedProcess;
  destroy(): Promise<void>;
}

const IFNAME_MAX = 15;

export async function createLab(opts: LabOptions): Promise<Lab> {
  if (!/^[a-z0-9]{1,8}$/.test(opts.prefix)) throw new Error(`lab prefix must be 1-8 lowercase alphanumerics: ${opts.prefix}`);
  const prefix = opts.prefix;
  sweepStale(prefix);
  const dir = mkdtempSync(join(tmpdir(), `lab-${prefix}-`));
  const tracker = new ProcessTracker();
  const ns = (node: string): string => `${prefix}-${node}`;
  const nodes: string[] = [];
  let destroyed = false;

  const onExit = (): void => { if (!destroyed) destroySync(); };
  process.on('exit', onExit);

  function destroySync(): void {
    destroyed = true;
    tracker.killAllSync();
    for (const node of ['br', ...nodes]) killNamespaceSync(ns(node));
    for (const node of [...nodes, 'br']) deleteNamespaceSync(ns(node));
    if (!(opts.keepDir || process.env.LAB_KEEP === '1')) rmSync(dir, { recursive: true, force: true });
  }

  const ip = (args: string[]): Promise<RunResult> => run('ip', args, { timeoutMs: 10_000 });
  const exec = (node: string, cmd: string, args: readonly string[], o?: RunOptions): Promise<RunResult> =>
    run('ip', ['netns', 'exec', ns(node), cmd, ...args], o);

  async function addNode(node: string, bridge: string, ifname: string, port: string, addrs: string[]): Promise<void> {
    if (port.length > IFNAME_MAX) throw new Error(`interface name too long: ${port}`);
    if (!nodes.includes(node)) {
      await ip(['netns', 'add', ns(node)]);
      nodes.push(node);
      await exec(node, 'ip', ['link', 'set', 'lo', 'up']);
      await exec(node, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1'], { allowFail: true });
    }
    await ip(['-n', ns('br'), 'link', 'add', port, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns(node)]);
    await ip(['-n', ns('br'), 'link', 'set', port, 'master', bridge, 'up']);
    await exec(node, 'ip', ['link', 'set', ifname, 'up']);
    for (const a of addrs) await exec(node, 'ip', ['addr', 'add', a, 'dev', ifname]);
  }

  let relayProcess: TrackedProcess | undefined;
  try {
    await ip(['netns', 'add', ns('br')]);
    await exec('br', 'ip', ['link', 'set', 'lo', 'up']);
    await exec('br', 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1'], { allowFail: true });
    for (const br of opts.relay ? ['br0', 'br1'] : ['br0']) {
      await exec('br', 'ip', ['link', 'add', br, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
      await exec('br', 'ip', ['link', 'set', br, 'up']);
    }
    for (let i = 1; i <= opts.servers; i++) {
      const node = `srv${i}`;
      await addNode(node, 'br0', 'eth0', `p-${node}`, [`${LAB_NET.serverIp(i)}/24`]);
      if (opts.perf) await exec(node, 'ip', ['route', 'add', LAB_NET.perfSubnet, 'dev', 'eth0']);
      if (opts.relay) await exec(node, 'ip', ['route', 'add', LAB_NET.relaySubnet, 'via', LAB_NET.relayIp]);
    }
    for (let i = 1; i <= opts.clients; i++) await addNode(`cli${i}`, 'br0', 'eth0', `p-cli${i}`, []);
    if (opts.relay) {
      await addNode('relay', 'br0', 'eth0', 'p-relay', [`${LAB_NET.relayIp}/24`]);
      await addNode('relay', 'br1', 'eth1', 'p-relay1', [`${LAB_NET.relayGiaddr}/24`]);
      // Forwarding lets relayed clients RENEW by unicast to the server (their router is the relay).
      await exec('relay', 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      for (let i = 1; i <= (opts.relayClients ?? 1); i++) await addNode(`rcli${i}`, 'br1', 'eth0', `p-rcli${i}`, []);
      const servers = Array.from({ length: opts.servers }, (_, k) => LAB_NET.serverIp(k + 1));
      relayProcess = tracker.spawn('ip', ['netns', 'exec', ns('relay'), 'dhcrelay', '-4', '-d', '--no-pid',
        '-id', 'eth1', '-iu', 'eth0', ...servers], { logFile: join(dir, 'dhcrelay.log') });
      await waitFor('dhcrelay listening on 67', async () => (await udpListening(exec, 'relay', 67)) || !relayProcess?.running,
        { timeoutMs: 5_000 });
      if (!relayProcess.running) throw new Error(`dhcrelay exited: ${readFileSync(join(dir, 'dhcrelay.log'), 'utf8')}`);
    }
    if (opts.perf) {
      await addNode('perf', 'br0', 'eth0', 'p-perf', [`${LAB_NET.perfGiaddr}/32`]);
      await exec('perf', 'ip', ['route', 'add', LAB_NET.subnet, 'dev', 'eth0', 'src', LAB_NET.perfGiaddr]);
    }
  } catch (err) {
    destroySync();
    process.off('exit', onExit);
    throw err;
  }

  const hookFor = (node: string): string => {
    const path = join(dir, `hook-${node}.sh`);
    if (!existsSync(path)) { writeFileSync(path, hookScript(join(dir, `events-${node}.tsv`))); chmodSync(path, 0o755); }
    return path;
  };
  const eventsOf = (node: string): ClientEvent[] => parseEvents(join(dir, `events-${node}.tsv`));

  const lab: Lab = {
    prefix, dir, ns, nodes, relayProcess,
    exec,
    spawn(node, cmd, args, o = {}) {
      return tracker.spawn('ip', ['netns', 'exec', ns(node), cmd, ...args], o);
    },
    async cut() {
      const peer = LAB_NET.serverIp(2);
      await exec('srv1', 'iptables', ['-N', 'LABCUT'], { allowFail: true });
      await exec('srv1', 'iptables', ['-F', 'LABCUT']);
      await exec('srv1', 'iptables', ['-A', 'LABCUT', '-s', peer, '-j', 'DROP']);
      await exec('srv1', 'iptables', ['-A', 'LABCUT', '-d', peer, '-j', 'DROP']);
      for (const chain of ['INPUT', 'OUTPUT']) {
        const has = await exec('srv1', 'iptables', ['-C', chain, '-j', 'LABCUT'], { allowFail: true });
        if (has.code !== 0) await exec('srv1', 'iptables', ['-I', chain, '-j', 'LABCUT']);
      }
    },
    async heal() {
      for (const chain of ['INPUT', 'OUTPUT']) await exec('srv1', 'iptables', ['-D', chain, '-j', 'LABCUT'], { allowFail: true });
      await exec('srv1', 'iptables', ['-F', 'LABCUT'], { allowFail: true });
      await exec('srv1', 'iptables', ['-X', 'LABCUT'], { allowFail: true });
    },
    async kill(node, signal = 'SIGKILL') {
      const pids = await namespacePids(ns(node));
      for (const pid of pids) tryKill(pid, signal);
      return pids;
    },
    async isolate(node) { await ip(['-n', ns('br'), 'link', 'set', `p-${node}`, 'down']); },
    async reconnect(node) { await ip(['-n', ns('br'), 'link', 'set', `p-${node}`, 'up']); },
    async setMac(node, mac) { await exec(node, 'ip', ['link', 'set', 'eth0', 'address', mac]); },
    async mac(node) { return (await exec(node, 'cat', ['/sys/class/net/eth0/address'])).stdout.trim(); },
    async addresses(node) {
      const out = (await exec(node, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
      return [...out.matchAll(/inet (\S+)/g)].map((m) => m[1] as string);
    },
    async udhcpcOnce(node, o) {
      const hook = hookFor(node);
      const before = eventsOf(node).length;
      const args = ['-f', '-n', '-i', 'eth0', '-s', hook, '-t', String(Math.max(1, Math.round(o.timeoutS))), '-T', '1', '-A', '1'];
      if (o.requestIp) args.push('-r', o.requestIp);
      if (o.clientId) args.push('-C', '-x', `0x3d:${o.clientId}`);
      if (o.hostname) args.push('-x', `hostname:${o.hostname}`);
      let res: { code: number | null; stdout: string; stderr: string };
      if (!o.release) {
        res = await exec(node, 'udhcpc', ['-q', ...args], { allowFail: true, timeoutMs: (o.timeoutS + 10) * 1000 });
      } else {
        // udhcpc -q exits before it counts as bound, so `-q -R` never sends the RELEASE. Run it without -q
        // and stop it with SIGTERM once bound: with -R it then unicasts a RELEASE to the server.
        const logFile = join(dir, `udhcpc-${node}-${Date.now()}.log`);
        const proc = tracker.spawn('ip', ['netns', 'exec', ns(node), 'udhcpc', '-R', ...args], { logFile });
        const boundYet = () => eventsOf(node).slice(before).some((e) => e.event === 'bound');
        await waitFor('udhcpc bound', () => boundYet() || !proc.running, { timeoutMs: (o.timeoutS + 5) * 1000 }).catch(() => undefined);
        await sleep(50);
        const exit = await proc.stop({ signal: 'SIGTERM', graceMs: 5_000 });
        res = { code: boundYet() ? 0 : exit.code, stdout: readFileSync(logFile, 'utf8'), stderr: '' };
      }
      const events = eventsOf(node).slice(before);
      const bound = [...events].reverse().find((e) => e.event === 'bound' || e.event === 'renew');
      return {
        ok: res.code === 0 && bound !== undefined, exitCode: res.code, events, output: res.stdout + res.stderr,
        ...(bound ? { ip: bound.ip, serverId: bound.serverId, leaseSeconds: bound.leaseSeconds, router: bound.router,
          dns: bound.dns, subnetMask: bound.subnetMask, domain: bound.domain } : {}),
      };
    },
    startDhclient(node, o = {}) {
      const hook = hookFor(node);
      const conf = join(dir, `dhclient-${node}.conf`);
      const leaseFile = join(dir, `dhclient-${node}.leases`);
      const pidFile = join(dir, `dhclient-${node}.pid`);
      const logFile = join(dir, `dhclient-${node}.log`);
      writeFileSync(conf, `${DHCLIENT_CONF}${o.extraConf ?? ''}\n`);
      writeFileSync(leaseFile, o.leaseFileContent ?? '');
      writeFileSync(logFile, '');
      const base = eventsOf(node).length; // events() and waitEvent() see this session only
      const mine = (): ClientEvent[] => eventsOf(node).slice(base).filter((e) => e.tool === 'dhclient');
      const common = ['-4', '-cf', conf, '-sf', hook, '-lf', leaseFile, '-pf', pidFile];
      const proc = tracker.spawn('ip', ['netns', 'exec', ns(node), 'dhclient', '-d', '-v', ...common, 'eth0'], { logFile });
      return {
        proc, leaseFile, logFile,
        events: mine,
        async waitEvent(pred, timeoutMs, from = 0) {
          return waitFor(`dhclient event in ${node}`, () => {
            if (!proc.running) throw new Error(`dhclient exited (${JSON.stringify(proc.exit)}): ${readFileSync(logFile, 'utf8').slice(-800)}`);
            return mine().slice(from).find(pred);
          }, { timeoutMs, intervalMs: 100 });
        },
        async release() {
          const res = await exec(node, 'dhclient', ['-r', '-v', ...common, 'eth0'], { allowFail: true, timeoutMs: 15_000 });
          await proc.stop({ graceMs: 2_000 });
          return res;
        },
        async stop() { await proc.stop({ graceMs: 2_000 }); },
        log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
      };
    },
    async httpGet(node, url, timeoutS = 5) {
      const res = await exec(node, 'curl', ['-s', '-m', String(timeoutS), '-o', '-', '-w', '\n%{http_code}', url],
        { allowFail: true, timeoutMs: (timeoutS + 5) * 1000 });
      const cut = res.stdout.lastIndexOf('\n');
      return { status: Number(res.stdout.slice(cut + 1)) || 0, body: res.stdout.slice(0, Math.max(0, cut)) };
    },
    async waitUdpListening(node, port, timeoutMs) {
      await waitFor(`UDP ${port} in ${node}`, () => udpListening(exec, node, port), { timeoutMs, intervalMs: 100 });
    },
    async resetClient(node) {
      await exec(node, 'ip', ['-4', 'addr', 'flush', 'dev', 'eth0'], { allowFail: true });
      await exec(node, 'ip', ['-4', 'route', 'flush', 'dev', 'eth0'], { allowFail: true });
    },
    async destroy() {
      if (destroyed) return;
      await tracker.stopAll(2_000);
      // Anything else still running inside the lab (children, processes started by exec) goes by PID too.
      for (const node of nodes) {
        const pids = await namespacePids(ns(node));
        for (const pid of pids) tryKill(pid, 'SIGTERM');
      }
      for (let i = 0; i < 20; i++) {
        let left = 0;
        for (const node of nodes) left += (await namespacePids(ns(node))).length;
        if (left === 0) break;
        await sleep(100);
      }
      destroySync();
      process.off('exit', onExit);
    },
  };
  return lab;
}

async function udpListening(exec: Lab['exec'], node: string, port: number): Promise<boolean> {
  const res = await exec(node, 'ss', ['-H', '-uln', `sport = :${port}`], { allowFail: true, timeoutMs: 5_000 });
  return res.code === 0 && res.stdout.trim().length > 0;
}

async function namespacePids(name: string): Promise<number[]> {
  const res = await run('ip', ['netns', 'pids', name], { allowFail: true, timeoutMs: 5_000 });
  return res.stdout.split(/\s+/).filter(Boolean).map(Number).filter((n) => n > 1 && n !== process.pid);
}

function namespacePidsSync(name: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split(/\s+/).filter(Boolean).map(Number).filter((n) => n > 1 && n !== process.pid);
  } catch { return []; }
}

function killNamespaceSync(name: string): void {
  for (const pid of namespacePidsSync(name)) tryKill(pid, 'SIGKILL');
}

function deleteNamespaceSync(name: string): void {
  for (let i = 0; i < 20; i++) {
    try { execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' }); return; } catch {
      if (!listNamespacesSync().includes(name)) return;
      killNamespaceSync(name);
      execFileSync('sleep', ['0.05']);
    }
  }
}

function listNamespacesSync(): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
  } catch { return []; }
}

/** Removes namespaces left behind by an earlier run with the same prefix (killing their processes by PID). */
export function sweepStale(prefix: string): string[] {
  const stale = listNamespacesSync().filter((n) => n.startsWith(`${prefix}-`));
  for (const n of stale) killNamespaceSync(n);
  for (const n of stale) deleteNamespaceSync(n);
  return stale;
}

/** Whether this process can build a lab (root plus the tools); tests skip with the reason otherwise. */
export function labUnavailableReason(tools: readonly string[] = ['ip', 'iptables', 'udhcpc', 'dhclient', 'dhcrelay', 'curl', 'ss']): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const t of tools) {
    try { execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }); } catch { return `${t} is not installed`; }
  }
  return undefined;
}

const DHCLIENT_CONF = `# written by test/fakes/netns-lab.ts: fast retries, bounded
timeout 30;
retry 5;
initial-interval 1;
backoff-cutoff 2;
request subnet-mask, broadcast-address, routers, domain-name-servers, domain-name, dhcp-lease-time, dhcp-server-identifier, dhcp-renewal-time, dhcp-rebinding-time;
`;

/** Hook for udhcpc (-s) and dhclient (-sf): configures eth0 of its own namespace only and logs one TSV line per event. */
function hookScript(eventsFile: string): string {
  return `#!/bin/sh
# written by test/fakes/netns-lab.ts; never touches /etc/resolv.conf or anything outside this namespace
ev='${eventsFile}'
t=$(date +%s.%N)
line() { printf '%s\\t%s\\t%s\\tip=%s\\tserver=%s\\tlease=%s\\trouter=%s\\tdns=%s\\tmask=%s\\tdomain=%s\\thostname=%s\\n' "$t" "$@" >> "$ev"; }
mask2pfx() { p=0; for o in $(echo "$1" | tr . ' '); do while [ "$o" -gt 0 ]; do p=$((p + (o & 1))); o=$((o >> 1)); done; done; echo $p; }
if [ -n "\${reason:-}" ]; then
  dev=\${interface:-eth0}
  case "$reason" in
    BOUND|RENEW|REBIND|REBOOT)
      if [ -n "\${old_ip_address:-}" ] && [ "$old_ip_address" != "$new_ip_address" ]; then ip -4 addr flush dev "$dev"; fi
      ip addr replace "$new_ip_address/$(mask2pfx "\${new_subnet_mask:-255.255.255.0}")" dev "$dev"
      r=$(echo "\${new_routers:-}" | cut -d' ' -f1)
      [ -n "$r" ] && ip route replace default via "$r" dev "$dev" 2>/dev/null
      line dhclient "$reason" "$new_ip_address" "\${new_dhcp_server_identifier:-}" "\${new_dhcp_lease_time:-}" "\${new_routers:-}" \\
        "\${new_domain_name_servers:-}" "\${new_subnet_mask:-}" "\${new_domain_name:-}" "\${new_host_name:-}";;
    EXPIRE|FAIL|RELEASE|STOP|TIMEOUT)
      ip -4 addr flush dev "$dev"
      line dhclient "$reason" "\${old_ip_address:-}" "\${old_dhcp_server_identifier:-}" "" "" "" "" "" "";;
    *) line dhclient "$reason" "" "" "" "" "" "" "" "";;
  esac
  exit 0
fi
dev=\${interface:-eth0}
case "$1" in
  bound|renew)
    ip -4 addr flush dev "$dev"
    ip addr replace "$ip/\${mask:-24}" dev "$dev"
    r=$(echo "\${router:-}" | cut -d' ' -f1)
    [ -n "$r" ] && ip route replace default via "$r" dev "$dev" 2>/dev/null
    line udhcpc "$1" "$ip" "\${serverid:-}" "\${lease:-}" "\${router:-}" "\${dns:-}" "\${subnet:-}" "\${domain:-}" "\${hostname:-}";;
  deconfig) ip -4 addr flush dev "$dev"; line udhcpc deconfig "" "" "" "" "" "" "" "";;
  nak) line udhcpc nak "" "\${serverid:-}" "" "" "" "" "" "\${message:-}";;
  *) line udhcpc "$1" "" "" "" "" "" "" "" "";;
esac
exit 0
`;
}

export function parseEvents(path: string): ClientEvent[] {
  if (!existsSync(path)) return [];
  const out: ClientEvent[] = [];
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const cols = raw.split('\t');
    if (cols.length < 3) continue;
    const kv = new Map<string, string>();
    for (const c of cols.slice(3)) { const i = c.indexOf('='); if (i > 0) kv.set(c.slice(0, i), c.slice(i + 1)); }
    const val = (k: string): string | undefined => (kv.get(k) ? kv.get(k) : undefined);
    const lease = val('lease');
    out.push({
      at: Number(cols[0]), tool: cols[1] === 'dhclient' ? 'dhclient' : 'udhcpc', event: cols[2] ?? '',
      ip: val('ip'), serverId: val('server'), leaseSeconds: lease !== undefined ? Number(lease) : undefined,
      router: val('router'), dns: val('dns'), subnetMask: val('mask'), domain: val('domain'), hostname: val('hostname'),
    });
  }
  return out;
}
