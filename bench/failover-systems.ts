// The three failover pairs bench/failover.ts compares, each started the same way in the lab's srv1 and
// srv2 namespaces: our servers (each with its own redis-server, AOF fsync always), ISC dhcpd 4.4
// (failover, split 128) and Kea kea-dhcp4 (HA load-balancing hook, memfile). Same subnet, pool, lease
// time, MCLT 60 s, automatic partner-down after 10 s, load balance max seconds 3 where they apply.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../test/fakes/netns-lab.ts';
import type { TrackedProcess } from '../test/fakes/processes.ts';
import { startLabRedis } from '../test/fakes/redis-server.ts';

export type Node = 'srv1' | 'srv2';
export const NODES: readonly Node[] = ['srv1', 'srv2'];
const IP: Record<Node, string> = { srv1: '10.99.0.2', srv2: '10.99.0.3' };
const PARTNER: Record<Node, Node> = { srv1: 'srv2', srv2: 'srv1' };
const ROOT = fileURLToPath(new URL('../', import.meta.url));
/**
 * The relayed scope perfdhcp and the relay client use (giaddr 10.100.0.1). The DORA and takeover
 * runs use the /18 bench/dora.sh uses (16 k addresses); the resync run needs room for 50 k clients.
 */
export interface PerfScope { readonly subnet: string; readonly mask: string; readonly start: string; readonly end: string; readonly size: number }
export const PERF_SCOPES = {
  small: { subnet: '10.100.0.0/18', mask: '255.255.192.0', start: '10.100.0.10', end: '10.100.63.250', size: 16_369, split: '10.100.32.0' },
  large: { subnet: '10.100.0.0/16', mask: '255.255.0.0', start: '10.100.0.10', end: '10.100.255.250', size: 65_521, split: '10.100.128.0' },
} as const;
export const SETTINGS = { mcltS: 60, switchoverS: 10, maxResponseDelayS: 10, lbMaxSecs: 3, leaseS: 3600 } as const;

export interface PairSystem {
  readonly name: string;
  readonly label: string;
  /** Start one server; `fresh` = empty lease database and no failover history. */
  start(node: Node, fresh: boolean): void;
  /** Both servers in their normal balanced state. */
  ready(): Promise<boolean>;
  /** `node` has finished receiving its partner's bindings after an empty restart. */
  resynced(node: Node): Promise<boolean>;
  /** Bindings `node` holds (for the resync figure). */
  bindings(node: Node): Promise<number>;
  /** Empty `node`'s lease database (the server is stopped). */
  wipe(node: Node): Promise<void>;
  kill(node: Node): Promise<void>;
  stopAll(): Promise<void>;
  /** Extra figures after a run (ours: BNDUPD → BNDACK latency). */
  extra?(): Promise<Record<string, string>>;
}

abstract class Base {
  protected readonly procs = new Map<Node, TrackedProcess>();
  protected readonly lab: Lab;
  protected readonly scope: (typeof PERF_SCOPES)[keyof typeof PERF_SCOPES];
  constructor(lab: Lab, scope: keyof typeof PERF_SCOPES) { this.lab = lab; this.scope = PERF_SCOPES[scope]; }
  protected spawn(node: Node, cmd: string, args: string[], env?: NodeJS.ProcessEnv): void {
    this.procs.set(node, this.lab.spawn(node, cmd, args, { logFile: this.log(node), ...(env ? { env } : {}) }));
  }
  protected log(node: Node): string { return join(this.lab.dir, `${this.constructor.name}-${node}.log`); }
  async kill(node: Node): Promise<void> { await this.procs.get(node)?.stop({ signal: 'SIGKILL', graceMs: 2000 }); this.procs.delete(node); }
  async stopAll(): Promise<void> { for (const n of NODES) await this.procs.get(n)?.stop({ graceMs: 5000 }); this.procs.clear(); }
}

// ------------------------------------------------------------------------------------------- ours

export class OursPair extends Base implements PairSystem {
  readonly name = 'ours';
  readonly label = 'dhcp-failover pair (Redis per server, AOF fsync always, unix socket)';
  private readonly redis = new Map<Node, TrackedProcess>();
  private sock(node: Node): string { return join(this.lab.dir, `redis-${node}`, 'redis.sock'); }

  private async ensureRedis(node: Node): Promise<void> {
    if (this.redis.get(node)?.running) return;
    this.redis.set(node, (await startLabRedis(this.lab, node, join(this.lab.dir, `redis-${node}`))).proc);
  }

  start(node: Node, fresh: boolean): void {
    const conf = join(this.lab.dir, `ours-${node}.yaml`);
    writeFileSync(conf, `server:
  name: ${node}
  serverId: ${IP[node]}
  listen: { address: 0.0.0.0, port: 67, interfaces: [eth0] }
  admin: { address: 127.0.0.1, port: 8067 }
  store: { type: redis, path: ${this.sock(node)} }
  logLevel: warn
scopes:
  - { name: lab, subnet: 10.99.0.0/24, ranges: [{ start: 10.99.0.50, end: 10.99.0.250 }], leaseSeconds: ${SETTINGS.leaseS} }
  - { name: perf, subnet: ${this.scope.subnet}, ranges: [{ start: ${this.scope.start}, end: ${this.scope.end} }], leaseSeconds: ${SETTINGS.leaseS} }
failover:
  relationship: bench
  role: ${node === 'srv1' ? 'primary' : 'secondary'}
  address: ${IP[node]}
  partner: { address: ${IP[PARTNER[node]]} }
  mode: load-balance
  mcltSeconds: ${SETTINGS.mcltS}
  stateSwitchoverSeconds: ${SETTINGS.switchoverS}
  maxResponseDelaySeconds: ${SETTINGS.maxResponseDelayS}
  loadBalanceMaxSeconds: ${SETTINGS.lbMaxSecs}
  startupSeconds: 1
  sharedSecret: bench-secret
${process.env.OURS_MAX_UNACKED ? `  maxUnackedUpdates: ${process.env.OURS_MAX_UNACKED}\n` : ''}
`);
    const go = async () => {
      await this.ensureRedis(node);
      if (fresh) await this.wipe(node);
      this.spawn(node, join(ROOT, 'bin/dhcp-failover'), ['server', '--config', conf]);
    };
    this.pending = go();
  }
  private pending: Promise<void> = Promise.resolve();

  private async state(node: Node): Promise<string | undefined> {
    try { return (JSON.parse((await this.lab.httpGet(node, 'http://127.0.0.1:8067/status', 2)).body) as { failover: { state: string } }).failover.state; } catch { return undefined; }
  }
  async ready(): Promise<boolean> { await this.pending; return (await this.state('srv1')) === 'normal' && (await this.state('srv2')) === 'normal'; }
  /** The bindings are in once it leaves RECOVER (UPDDONE received); a lost store then waits MCLT in RECOVER-WAIT, not transfer time. */
  async resynced(node: Node): Promise<boolean> { await this.pending; return ['recover-wait', 'recover-done', 'normal'].includes((await this.state(node)) ?? ''); }
  async bindings(node: Node): Promise<number> {
    const body = (await this.lab.httpGet(node, 'http://127.0.0.1:8067/leases?limit=100000', 10)).body;
    return (JSON.parse(body) as { leases: { state: string }[] }).leases.filter((l) => l.state === 'active').length;
  }
  async wipe(node: Node): Promise<void> { await this.lab.exec(node, 'redis-cli', ['-s', this.sock(node), 'flushall']); }
  override async stopAll(): Promise<void> {
    await super.stopAll();
    for (const r of this.redis.values()) await r.stop();
    this.redis.clear();
  }

  /** BNDUPD → BNDACK latency percentiles from both servers' histograms (bucket upper bounds, interpolated). */
  async extra(): Promise<Record<string, string>> {
    const buckets = new Map<number, number>();
    let count = 0;
    for (const n of NODES) {
      const text = (await this.lab.httpGet(n, 'http://127.0.0.1:8067/metrics', 2).catch(() => ({ body: '' }))).body;
      for (const m of text.matchAll(/^dhcp_failover_update_ack_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\d+)/gm)) {
        const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
        buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
      }
      count += Number(/^dhcp_failover_update_ack_seconds_count\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    }
    if (count === 0) return { bndack: 'no BNDUPDs acked' };
    const q = (p: number) => histogramQuantile([...buckets].sort((a, b) => a[0] - b[0]), p * count);
    return { bndack: `BNDUPD→BNDACK p50 ${fmtMs(q(0.5))} / p95 ${fmtMs(q(0.95))} / p99 ${fmtMs(q(0.99))} ms over ${count} updates` };
  }
}

/** Prometheus-style histogram_quantile over cumulative buckets [(le, count)]. */
export function histogramQuantile(cumulative: [number, number][], rank: number): number {
  let prevLe = 0, prevCount = 0;
  for (const [le, c] of cumulative) {
    if (c >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, c - prevCount);
    }
    prevLe = le; prevCount = c;
  }
  return prevLe;
}
const fmtMs = (s: number) => (s * 1000).toFixed(2);

// -------------------------------------------------------------------------------------------- ISC

export class IscPair extends Base implements PairSystem {
  readonly name = 'isc';
  readonly label = `ISC dhcpd failover pair (split 128, max-unacked-updates 10, lease file fsync per commit)`;
  private leases(node: Node): string { return join(this.lab.dir, `dhcpd-${node}.leases`); }

  start(node: Node, fresh: boolean): void {
    const primary = node === 'srv1';
    const conf = join(this.lab.dir, `dhcpd-${node}.conf`);
    writeFileSync(conf, `authoritative;
ddns-update-style none;
default-lease-time ${SETTINGS.leaseS};
max-lease-time ${SETTINGS.leaseS * 2};
ping-check false;
failover peer "bench" {
  ${primary ? 'primary' : 'secondary'};
  address ${IP[node]}; port 647;
  peer address ${IP[PARTNER[node]]}; peer port 647;
  max-response-delay ${SETTINGS.maxResponseDelayS};
  max-unacked-updates 10;
${primary ? `  mclt ${SETTINGS.mcltS};\n  split 128;\n` : ''}  load balance max seconds ${SETTINGS.lbMaxSecs};
  auto-partner-down ${SETTINGS.switchoverS};
}
subnet 10.99.0.0 netmask 255.255.255.0 { pool { failover peer "bench"; range 10.99.0.50 10.99.0.250; } }
subnet 10.100.0.0 netmask ${this.scope.mask} { pool { failover peer "bench"; range ${this.scope.start} ${this.scope.end}; } }
`);
    // A brand-new pair starts in RECOVER and waits MCLT; seed "normal" so a fresh pair is at once usable
    // (as an established pair is). A wiped server gets no seed: it must resync.
    if (fresh) writeFileSync(this.leases(node), 'failover peer "bench" state {\n  my state normal at 1 2024/01/01 00:00:00;\n  partner state normal at 1 2024/01/01 00:00:00;\n}\n');
    else if (!existsSync(this.leases(node))) writeFileSync(this.leases(node), '');
    this.spawn(node, 'dhcpd', ['-4', '-f', '-d', '--no-pid', '-cf', conf, '-lf', this.leases(node), 'eth0']);
  }
  private logText(node: Node): string { try { return readFileSync(this.log(node), 'utf8'); } catch { return ''; } }
  /**
   * Both normal AND the primary has handed the secondary its share of the free addresses (BACKUP,
   * by pool balancing): until then the secondary has nothing to offer and its clients wait for the
   * primary's `load balance max seconds` takeover. An established pair is balanced already.
   */
  async ready(): Promise<boolean> {
    if (!NODES.every((n) => /Both servers normal/.test(this.logText(n)))) return false;
    return this.countStates('srv2', 'backup') >= 0.49 * this.scope.size;
  }
  private countStates(node: Node, state: string): number {
    const last = new Map<string, string>();
    for (const m of readFileSync(this.leases(node), 'utf8').matchAll(/lease (\S+) \{[^}]*?binding state (\w+);/g)) last.set(m[1]!, m[2]!);
    let n = 0;
    for (const v of last.values()) if (v === state) n++;
    return n;
  }
  async resynced(node: Node): Promise<boolean> {
    // ISC has the partner's bindings once it moves on from RECOVER (UPDDONE received); RECOVER-WAIT
    // then waits MCLT, which is not transfer time.
    return /I move from recover to (recover-wait|recover-done)/.test(this.logText(node));
  }
  /** Addresses whose latest record names a client (ISC's first grant is MCLT long, so by now many have expired). */
  async bindings(node: Node): Promise<number> {
    const last = new Map<string, boolean>();
    for (const m of readFileSync(this.leases(node), 'utf8').matchAll(/lease (\S+) \{([^}]*)\}/g)) last.set(m[1]!, /hardware ethernet/.test(m[2]!));
    return [...last.values()].filter(Boolean).length;
  }
  async wipe(node: Node): Promise<void> { writeFileSync(this.leases(node), ''); rmSync(`${this.leases(node)}~`, { force: true }); }
}

// -------------------------------------------------------------------------------------------- Kea

export class KeaPair extends Base implements PairSystem {
  readonly name = 'kea';
  readonly label = 'Kea kea-dhcp4 HA load-balancing pair (memfile, MT 2 threads, HA over the hook\'s HTTP listener)';
  private memfile(node: Node): string { return join(this.lab.dir, `kea-leases4-${node}.csv`); }
  private static hooks(): string {
    for (const d of ['/usr/lib/x86_64-linux-gnu/kea/hooks', '/usr/lib/aarch64-linux-gnu/kea/hooks']) if (existsSync(join(d, 'libdhcp_ha.so'))) return d;
    throw new Error('libdhcp_ha.so not found (Debian package kea-dhcp4-server)');
  }

  start(node: Node, fresh: boolean): void {
    if (fresh) rmSync(this.memfile(node), { force: true });
    const hooks = KeaPair.hooks();
    const conf = join(this.lab.dir, `kea-${node}.json`);
    const [a1, a2] = [`${this.scope.start} - ${lastBefore(this.scope.split)}`, `${this.scope.split} - ${this.scope.end}`];
    writeFileSync(conf, JSON.stringify({
      Dhcp4: {
        'interfaces-config': { interfaces: ['eth0'], 'dhcp-socket-type': 'raw' },
        'lease-database': { type: 'memfile', persist: true, 'lfc-interval': 0, name: this.memfile(node) },
        'multi-threading': { 'enable-multi-threading': true, 'thread-pool-size': 2, 'packet-queue-size': 64 },
        authoritative: true, 'valid-lifetime': SETTINGS.leaseS,
        subnet4: [
          { id: 1, subnet: '10.99.0.0/24', pools: [{ pool: '10.99.0.50 - 10.99.0.150', 'client-class': 'HA_srv1' }, { pool: '10.99.0.151 - 10.99.0.250', 'client-class': 'HA_srv2' }] },
          { id: 2, subnet: this.scope.subnet, pools: [{ pool: a1, 'client-class': 'HA_srv1' }, { pool: a2, 'client-class': 'HA_srv2' }] },
        ],
        'hooks-libraries': [
          { library: join(hooks, 'libdhcp_lease_cmds.so') },
          {
            library: join(hooks, 'libdhcp_ha.so'),
            parameters: {
              'high-availability': [{
                'this-server-name': node, mode: 'load-balancing',
                'heartbeat-delay': 2000, 'max-response-delay': SETTINGS.maxResponseDelayS * 1000, 'max-ack-delay': SETTINGS.lbMaxSecs * 1000,
                'max-unacked-clients': 0, 'sync-timeout': 60000,
                'multi-threading': { 'enable-multi-threading': true, 'http-dedicated-listener': true, 'http-listener-threads': 2, 'http-client-threads': 2 },
                peers: NODES.map((n) => ({ name: n, url: `http://${IP[n]}:8001/`, role: n === 'srv1' ? 'primary' : 'secondary', 'auto-failover': true })),
              }],
            },
          },
        ],
        loggers: [{ name: 'kea-dhcp4', output_options: [{ output: join(this.lab.dir, `kea-${node}.kealog`), flush: true }], severity: 'INFO' }],
      },
    }, null, 1));
    this.spawn(node, 'kea-dhcp4', ['-c', conf], { ...process.env, KEA_PIDFILE_DIR: this.lab.dir, KEA_LOCKFILE_DIR: this.lab.dir });
  }
  private async haState(node: Node): Promise<string | undefined> {
    const res = await this.lab.exec(node, 'curl', ['-s', '-m', '2', '-X', 'POST', '-H', 'Content-Type: application/json',
      '-d', '{"command":"ha-heartbeat","service":["dhcp4"]}', `http://${IP[node]}:8001/`], { allowFail: true });
    try { return (JSON.parse(res.stdout) as [{ arguments?: { state?: string } }])[0].arguments?.state; } catch { return undefined; }
  }
  async ready(): Promise<boolean> { return (await this.haState('srv1')) === 'load-balancing' && (await this.haState('srv2')) === 'load-balancing'; }
  async resynced(node: Node): Promise<boolean> { return (await this.haState(node)) === 'load-balancing'; }
  /** Leases in the memfile (append-only CSV: the last row per address wins; state 0 = assigned). */
  async bindings(node: Node): Promise<number> {
    const last = new Map<string, string[]>();
    for (const suffix of ['.2', '']) {
      const file = this.memfile(node) + suffix;
      if (!existsSync(file)) continue;
      for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
        const cols = line.split(',');
        if (cols.length > 9) last.set(cols[0]!, cols);
      }
    }
    return [...last.values()].filter((c) => c[9] === '0' && Number(c[3]) > 0).length;
  }
  async wipe(node: Node): Promise<void> { for (const suffix of ['', '.2', '.1', '.completed']) rmSync(this.memfile(node) + suffix, { force: true }); }
}

/** The address just below `ip` (Kea pool ranges are inclusive). */
function lastBefore(ip: string): string {
  const n = ip.split('.').reduce((a, b) => a * 256 + Number(b), 0) - 1;
  return [24, 16, 8, 0].map((sh) => Math.floor(n / 2 ** sh) % 256).join('.');
}

export function makeSystem(name: string, lab: Lab, scope: keyof typeof PERF_SCOPES): PairSystem {
  if (name === 'ours') return new OursPair(lab, scope);
  if (name === 'isc') return new IscPair(lab, scope);
  if (name === 'kea') return new KeaPair(lab, scope);
  throw new Error(`unknown system ${name} (ours, isc, kea)`);
}
