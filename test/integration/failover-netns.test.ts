// A failover pair of our servers in their own network namespaces, each with its own redis-server
// (unix socket, append-only, fsync always), and clients in other namespaces: udhcpc on the servers'
// bridge, perfdhcp and a relay client simulator (test/fakes/relay-client.ts, which keeps each
// client's lease and retries with a growing `secs`) behind giaddr 10.100.0.1 / 10.100.8.1.
// In order, on one lab:
//   1. load balance 70/30: both NORMAL; the ACK split over 1,000 perfdhcp exchanges is within 5 points
//      of 70/30; every lease either server granted is in BOTH Redis stores;
//   2. the link between the servers is cut while clients reach both, with automatic switchover
//      configured (4 s): COMMUNICATIONS-INTERRUPTED for 3 intervals and more, service goes on, neither
//      server goes PARTNER-DOWN (both still serve, so there is no evidence), no address held twice;
//      healed: NORMAL, stores converge;
//   3. the primary is killed: its clients renew the SAME address from the secondary; the secondary's
//      clients-retrying evidence plus the interval move it to PARTNER-DOWN on its own; after MCLT new
//      clients get the primary's addresses too (the whole pool), never before; restarted, the primary
//      goes through RECOVER to NORMAL and both stores converge;
//   4. a secondary with the wrong shared secret is refused and counted, and the primary's state does
//      not change; one whose clock is 5 minutes off (faketime) is refused for clock skew;
//   5. hot standby: only the active server answers; the standby's store still gets every lease.
// Needs root and iproute2, iptables, udhcpc, curl, perfdhcp, redis-server, libfaketime. Every wait is bounded.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { bucketMapForPercent, serves } from '../../src/failover/rules/load-balance.ts';
import { ownerIn, schemeOf } from '../../src/failover/rules/address-ownership.ts';
import { openStore } from '../../src/leases/open-store.ts';
import { formatIpv4, parseIpv4 } from '../../src/net/ipv4.ts';
import { createLab, labUnavailableReason, type Lab } from '../fakes/netns-lab.ts';
import { waitFor, type TrackedProcess } from '../fakes/processes.ts';
import { macOf, type Acquired } from '../fakes/relay-client.ts';
import { startLabRedis } from '../fakes/redis-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/dhcp-failover');
const NODE = join(ROOT, 'node_modules/.bin/node');
const CLIENT_CLI = join(ROOT, 'test/fakes/relay-client-cli.ts');
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const skip = labUnavailableReason(['ip', 'iptables', 'udhcpc', 'curl', 'perfdhcp', 'redis-server', 'redis-cli']) ?? (existsSync(LIBFAKETIME) ? undefined : `needs ${LIBFAKETIME} (Debian package faketime)`);
const PREFIX = `t${process.pid % 1000}f`;
const SPLIT = 70;
const MCLT_S = 15;
const SWITCHOVER_S = 4;
const SMALL_RELAY = '10.100.8.1';
const SMALL_RANGE = Array.from({ length: 20 }, (_, i) => `10.100.8.${10 + i}`);
const UDHCPC_CLIENTS = 4;
const SERVERS = {
  srv1: { role: 'primary', self: '10.99.0.2', partner: '10.99.0.3' },
  srv2: { role: 'secondary', self: '10.99.0.3', partner: '10.99.0.2' },
} as const;
type Node = keyof typeof SERVERS;
const NODES = Object.keys(SERVERS) as Node[];

interface ServerOptions { mode?: 'load-balance' | 'hot-standby'; secret?: string; clockOffset?: string }

function configFor(node: Node, socket: string, o: ServerOptions): string {
  const s = SERVERS[node];
  const mode = o.mode ?? 'load-balance';
  return `server:
  name: ${node}
  serverId: ${s.self}
  listen: { address: 0.0.0.0, port: 67, interfaces: [eth0] }
  admin: { address: 127.0.0.1, port: 8067 }
  store: { type: redis, path: ${socket} }
scopes:
  - { name: lab, subnet: 10.99.0.0/24, ranges: [{ start: 10.99.0.50, end: 10.99.0.250 }], leaseSeconds: 300 }
  - { name: perf, subnet: 10.100.0.0/21, ranges: [{ start: 10.100.0.10, end: 10.100.7.250 }], leaseSeconds: 600 }
  - { name: small, subnet: 10.100.8.0/24, ranges: [{ start: ${SMALL_RANGE[0]}, end: ${SMALL_RANGE.at(-1)} }], leaseSeconds: 600 }
failover:
  relationship: netns-pair
  role: ${s.role}
  address: ${s.self}
  partner: { address: ${s.partner} }
  mode: ${mode}
${mode === 'load-balance' ? `  splitPercent: ${SPLIT}` : '  reservePercent: 5'}
  mcltSeconds: ${MCLT_S}
  stateSwitchoverSeconds: ${SWITCHOVER_S}
  maxResponseDelaySeconds: 3
  loadBalanceMaxSeconds: 3
  startupSeconds: 1
  sharedSecret: ${o.secret ?? 'netns-pair-secret'}
`;
}

/** The server load balancing assigns a client to (the same hash and bucket map the servers use). */
const hba = bucketMapForPercent(SPLIT, 'set-is-primary');
const ownerOfClient = (mac: string): Node =>
  serves(hba, Buffer.from(mac.replace(/:/g, ''), 'hex'), { role: 'primary', polarity: 'set-is-primary' }) ? 'srv1' : 'srv2';
/** Who owns a free address: the servers' position split of the three pools above (address-ownership.ts). */
const POOLS = schemeOf([['10.99.0.50', '10.99.0.250'], ['10.100.0.10', '10.100.7.250'], [SMALL_RANGE[0]!, SMALL_RANGE.at(-1)!]]
  .map(([start, end]) => ({ intervals: [{ start: parseIpv4(start!), end: parseIpv4(end!) }], reserved: [] })), 100 - SPLIT);
const RESERVE_POOLS = schemeOf(POOLS.layout, 5);
const ownerOfIp = (ipText: string): Node => (ownerIn(POOLS, parseIpv4(ipText)) === 'primary' ? 'srv1' : 'srv2');
const serverNode = (serverId: string): Node => (serverId === SERVERS.srv1.self ? 'srv1' : 'srv2');

/** Sum of the samples of `name` whose labels include every `labels` pair. */
function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

interface LeaseJson { ip: string; state: string; hwAddress?: string; expiresAt: string }

describe('failover pair in network namespaces, each server with its own Redis', { skip, timeout: 420_000 }, () => {
  let lab: Lab;
  const servers = new Map<Node, TrackedProcess>();
  const socketOf = (node: Node) => join(lab.dir, `${node}-redis`, 'redis.sock');
  /** Every address a client was given, in order: the invariant is checked over the latest per client. */
  const held: { client: string; ip: string; at: number; server?: Node }[] = [];
  const relayClients: Acquired[] = [];

  const http = async (node: Node, path: string) => (await lab.httpGet(node, `http://127.0.0.1:8067${path}`)).body;
  const status = async (node: Node) => JSON.parse(await http(node, '/status')) as { failover: { state: string; stateSince: string } };
  const stateOf = async (node: Node) => { try { return (await status(node)).failover.state; } catch { return undefined; } };
  const metrics = (node: Node) => http(node, '/metrics');
  const waitState = (node: Node, state: string, timeoutMs: number) =>
    waitFor(`${node} ${state}`, async () => (await stateOf(node)) === state, { timeoutMs, intervalMs: 200 });
  const waitBoth = async (state: string, timeoutMs: number) => { await Promise.all(NODES.map((n) => waitState(n, state, timeoutMs))); };

  /** Bindings a server's Redis holds (read from Redis itself, not through the server): ip → hw. */
  async function storeBindings(node: Node): Promise<Map<string, string>> {
    const store = await openStore({ type: 'redis', path: socketOf(node), keyPrefix: 'dhcp:' } as Parameters<typeof openStore>[0]);
    try {
      const leases = await store.loadAll();
      return new Map(leases.filter((l) => l.state === 'active' || l.state === 'expired').map((l) => [formatIpv4(l.ip), l.hw ?? '']));
    } finally { await store.close(); }
  }

  async function startRedis(node: Node): Promise<void> {
    await startLabRedis(lab, node, join(lab.dir, `${node}-redis`), join(lab.dir, `${node}-redis.log`));
  }

  function startServer(node: Node, o: ServerOptions = {}): TrackedProcess {
    const conf = join(lab.dir, `${node}.yaml`);
    writeFileSync(conf, configFor(node, socketOf(node), o));
    // libfaketime preloaded into the server itself (the `faketime` wrapper forks, so its PID would not be the server's).
    const env = o.clockOffset ? { ...process.env, LD_PRELOAD: LIBFAKETIME, FAKETIME: o.clockOffset } : process.env;
    const proc = lab.spawn(node, BIN, ['server', '--config', conf], { logFile: join(lab.dir, `${node}.log`), env });
    servers.set(node, proc);
    return proc;
  }

  async function stopServer(node: Node, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await servers.get(node)?.stop({ signal, graceMs: 5_000 });
    servers.delete(node);
  }

  /** Runs the relay client simulator in the perf namespace; one result per client (undefined = no lease). */
  async function simulate(relay: string, clients: { mac: string; requested?: string }[], o: { timeoutMs?: number; concurrency?: number } = {}): Promise<(Acquired | undefined)[]> {
    const plan = join(lab.dir, `plan-${Date.now()}-${Math.floor(Math.random() * 1e6)}.json`);
    writeFileSync(plan, JSON.stringify({ clients, timeoutMs: o.timeoutMs ?? 8_000, retryMs: 1_000, concurrency: o.concurrency ?? 20 }));
    const res = await lab.exec('perf', NODE, ['--disable-warning=ExperimentalWarning', CLIENT_CLI, '--relay', relay, '--targets', `${SERVERS.srv1.self},${SERVERS.srv2.self}`, '--plan', plan],
      { timeoutMs: (o.timeoutMs ?? 8_000) * Math.ceil(clients.length / (o.concurrency ?? 20)) + 10_000 });
    const results = (JSON.parse(res.stdout) as (Acquired | null)[]).map((r) => r ?? undefined);
    for (const r of results) if (r) held.push({ client: r.mac, ip: r.ip, at: Date.now(), server: serverNode(r.server) });
    return results;
  }

  async function udhcpc(client: string): Promise<string> {
    const previous = held.filter((h) => h.client === client).at(-1)?.ip;
    const res = await lab.udhcpcOnce(client, { timeoutS: 15, ...(previous ? { requestIp: previous } : {}) });
    assert.ok(res.ok && res.ip, `${client} got no lease: ${res.output.slice(-300)}`);
    held.push({ client, ip: res.ip, at: Date.now() });
    return res.ip;
  }

  /** Active, unexpired leases as a server reports them: ip → MAC. */
  async function activeLeases(node: Node): Promise<Map<string, string>> {
    const leases = (JSON.parse(await http(node, '/leases?limit=100000')) as { leases: LeaseJson[] }).leases;
    return new Map(leases.filter((l) => l.state === 'active' && Date.parse(l.expiresAt) > Date.now()).map((l) => [l.ip, l.hwAddress ?? '']));
  }

  /** The invariant: no address held by two clients, in what clients hold and across both stores. */
  async function assertNoDuplicates(when: string, nodes: readonly Node[] = NODES): Promise<void> {
    const latest = new Map<string, string>();
    for (const h of held) latest.set(h.client, h.ip);
    const owners = new Map<string, string>();
    for (const [client, addr] of latest) {
      assert.ok(!owners.has(addr), `${when}: ${addr} held by both ${owners.get(addr)} and ${client}`);
      owners.set(addr, client);
    }
    const byIp = new Map<string, string>();
    for (const node of nodes) {
      const leases = (JSON.parse(await http(node, '/leases?limit=100000')) as { leases: LeaseJson[] }).leases;
      for (const l of leases.filter((x) => x.state === 'active' && Date.parse(x.expiresAt) > Date.now())) {
        const other = byIp.get(l.ip);
        assert.ok(other === undefined || other === l.hwAddress, `${when}: ${l.ip} active for ${other} and ${l.hwAddress} across the stores`);
        byIp.set(l.ip, l.hwAddress ?? '');
      }
    }
  }

  async function waitStoresConverge(what: string, timeoutMs: number): Promise<number> {
    let diff = '';
    let size = 0;
    await waitFor(what, async () => {
      const [a, b] = await Promise.all([storeBindings('srv1'), storeBindings('srv2')]);
      const onlyA = [...a].filter(([k, v]) => b.get(k) !== v), onlyB = [...b].filter(([k, v]) => a.get(k) !== v);
      diff = `srv1 only: ${onlyA.slice(0, 3).join(' ')} (${onlyA.length}); srv2 only: ${onlyB.slice(0, 3).join(' ')} (${onlyB.length})`;
      size = a.size;
      return onlyA.length === 0 && onlyB.length === 0 && a.size > 0;
    }, { timeoutMs, intervalMs: 500 }).catch((err: Error) => { throw new Error(`${err.message}: ${diff}`); });
    return size;
  }

  const stateChanges = (node: Node) => readFileSync(join(lab.dir, `${node}.log`), 'utf8').split('\n')
    .filter((l) => l.includes('"failover.state.changed"')).map((l) => (JSON.parse(l) as { to: string }).to);

  before(async () => {
    lab = await createLab({ prefix: PREFIX, servers: 2, clients: UDHCPC_CLIENTS, perf: true });
    await lab.exec('perf', 'ip', ['addr', 'add', `${SMALL_RELAY}/32`, 'dev', 'eth0']);
    for (const n of NODES) await startRedis(n);
    for (const n of NODES) startServer(n);
    await waitBoth('normal', 30_000);
  });

  after(async () => { await lab?.destroy(); });

  it('load balance 70/30: the ACK split over 1,000 perfdhcp exchanges holds, and every lease is in both Redis stores', async () => {
    const res = await lab.exec('perf', 'perfdhcp', ['-4', '-l', 'eth0', '-r', '250', '-R', '1000', '-n', '1000'], { timeoutMs: 30_000, allowFail: true });
    const acks = await Promise.all(NODES.map(async (n) => metricSum(await metrics(n), 'dhcp_messages_sent_total', { type: 'ack' })));
    const total = acks[0]! + acks[1]!;
    assert.ok(total >= 950, `only ${total} ACKs for 1000 exchanges: ${res.stdout.slice(-600)}`);
    const primaryShare = (100 * acks[0]!) / total;
    assert.ok(Math.abs(primaryShare - SPLIT) <= 5, `primary answered ${primaryShare.toFixed(1)} % (expected ${SPLIT} ± 5)`);
    for (let i = 1; i <= UDHCPC_CLIENTS; i++) await udhcpc(`cli${i}`);
    relayClients.push(...(await simulate('10.100.0.1', Array.from({ length: 40 }, (_, i) => ({ mac: macOf(0xa1, i) })))).filter((r): r is Acquired => r !== undefined));
    assert.equal(relayClients.length, 40, 'every simulated client got a lease');
    assert.deepEqual([...new Set(relayClients.map((r) => serverNode(r.server)))].sort(), ['srv1', 'srv2'], 'both servers served the simulated clients');
    for (const r of relayClients) assert.equal(serverNode(r.server), ownerOfClient(r.mac), `${r.mac} answered by the server its hash bucket names`);
    const bindings = await waitStoresConverge('both Redis stores hold the same bindings', 20_000);
    assert.ok(bindings >= 500, `${bindings} bindings in the stores for ${total} ACKs (1,000 exchanges over 1,000 random MACs: ~630 distinct clients)`);
    await assertNoDuplicates('normal');
  });

  it('link cut with switchover configured, both still serving: COMMUNICATIONS-INTERRUPTED, never PARTNER-DOWN, no address held twice', async () => {
    await lab.cut();
    await waitBoth('communications-interrupted', 20_000);
    const cutAt = Date.now();
    const seen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      for (let n = 0; watching && n < 500; n++) {
        for (const node of NODES) seen.add(`${node}:${await stateOf(node)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    try {
      for (let i = 1; i <= UDHCPC_CLIENTS; i++) {
        const before = held.filter((h) => h.client === `cli${i}`).at(-1)?.ip;
        assert.equal(await udhcpc(`cli${i}`), before, `cli${i} keeps its address during the partition`);
      }
      // New clients of both servers, for at least three switchover intervals: each is answered at once
      // by the server its bucket names, so neither server sees its partner's clients go unanswered.
      for (let round = 0; Date.now() - cutAt < 3 * SWITCHOVER_S * 1000 + 2000 && round < 40; round++) {
        const got = await simulate('10.100.0.1', Array.from({ length: 10 }, (_, i) => ({ mac: macOf(0xb0, round * 10 + i) })));
        assert.equal(got.filter(Boolean).length, 10, `round ${round}: every new client served during the partition`);
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(Date.now() - cutAt >= 3 * SWITCHOVER_S * 1000, 'the partition outlasted three switchover intervals');
    } finally {
      watching = false;
      await watcher;
    }
    const states = [...seen].filter((s) => !s.endsWith(':communications-interrupted')).sort();
    assert.deepEqual(states, [], `only COMMUNICATIONS-INTERRUPTED was seen during the partition`);
    for (const n of NODES) assert.ok(!stateChanges(n).includes('partner-down'), `${n} never went PARTNER-DOWN`);
    await assertNoDuplicates('cut');
  });

  it('healed: NORMAL again and both stores converge', async () => {
    await lab.heal();
    await waitBoth('normal', 30_000);
    await waitStoresConverge('stores converge after the partition', 30_000);
    await assertNoDuplicates('healed');
  });

  it('primary killed: same addresses from the secondary; automatic PARTNER-DOWN on evidence; the whole pool only after MCLT; RECOVER then NORMAL', async () => {
    // Renew in NORMAL first so every lease runs past MCLT (the first grant is MCLT-capped).
    const renewed = await simulate('10.100.0.1', relayClients.map((r) => ({ mac: r.mac, requested: r.ip })));
    renewed.forEach((r, i) => assert.equal(r?.ip, relayClients[i]!.ip, `${relayClients[i]!.mac} renews its address in NORMAL`));
    // A renewal the primary ACKs reaches the secondary in a BNDUPD right after; wait for those, as a
    // client renews at T1 long before anything fails. (A renewal lost with the primary's death leaves
    // the secondary with the older expiry: the client may then get a new address, never a taken one.)
    await waitFor('the secondary knows every renewal', async () => {
      const active = await activeLeases('srv2');
      return relayClients.every((r) => active.get(r.ip) === r.mac);
    }, { timeoutMs: 10_000, intervalMs: 250 });
    const killedAt = Date.now();
    await stopServer('srv1', 'SIGKILL');
    await waitState('srv2', 'communications-interrupted', 15_000);
    const again = await simulate('10.100.0.1', relayClients.map((r) => ({ mac: r.mac, requested: r.ip })), { timeoutMs: 10_000 });
    again.forEach((r, i) => {
      assert.equal(r?.ip, relayClients[i]!.ip, `${relayClients[i]!.mac} keeps its address through the secondary`);
      assert.equal(r?.server, SERVERS.srv2.self);
    });
    // The 20-address pool: the secondary owns its share (30 % = 6 addresses, by position) and serves new
    // clients from it at once in COMMUNICATIONS-INTERRUPTED (with `ip mod 100` it owned none of them).
    const fresh = await simulate(SMALL_RELAY, Array.from({ length: 4 }, (_, i) => ({ mac: macOf(0xd0, i) })), { timeoutMs: 10_000, concurrency: 4 });
    assert.equal(fresh.filter(Boolean).length, 4, 'four new clients on the small pool are served while the primary is dead');
    for (const r of fresh) {
      assert.equal(r?.server, SERVERS.srv2.self);
      assert.equal(ownerOfIp(r!.ip), 'srv2', `${r!.ip} is from the secondary's own share`);
    }
    assert.equal(SMALL_RANGE.filter((a) => ownerOfIp(a) === 'srv2').length, 6, 'the secondary owns 30 % of the 20 addresses');
    // The primary's clients were answered only once their `secs` passed loadBalanceMaxSeconds (the
    // secondary keeps balancing DISCOVERs while it waits for evidence); the secondary's own at once.
    const ownersOfRetried = again.filter((r): r is Acquired => r !== undefined && r.secs > 3).map((r) => ownerOfClient(r.mac));
    assert.ok(ownersOfRetried.includes('srv1'), 'some of the primary\'s clients had to retry: the evidence');
    assert.ok(again.filter((r): r is Acquired => r !== undefined && ownerOfClient(r.mac) === 'srv2').every((r) => r.secs <= 1), 'the secondary\'s own clients were answered at once');
    await waitState('srv2', 'partner-down', 20_000);
    const pdSince = Date.parse((await status('srv2')).failover.stateSince);
    const takeoverS = (pdSince - killedAt) / 1000;
    assert.ok(takeoverS >= SWITCHOVER_S - 1 && takeoverS < SWITCHOVER_S + 12, `PARTNER-DOWN ${takeoverS.toFixed(1)} s after the kill`);
    const pdLine = readFileSync(join(lab.dir, 'srv2.log'), 'utf8').split('\n').find((l) => l.includes('"failover.state.changed"') && l.includes('"to":"partner-down"'));
    assert.match(pdLine ?? '', /"trigger":"switchover-timer"/, 'PARTNER-DOWN came from the switchover timer with evidence, not from an admin');
    // Fill the small pool: the primary's addresses come only once MCLT has passed since PARTNER-DOWN.
    let n = 0;
    await waitFor('every address of the small pool leased', async () => {
      const batch = await simulate(SMALL_RELAY, Array.from({ length: 4 }, () => ({ mac: macOf(0xd1, n++) })), { timeoutMs: 3_000, concurrency: 4 });
      for (const r of batch.filter((x): x is Acquired => x !== undefined)) {
        if (ownerOfIp(r.ip) === 'srv1') assert.ok(Date.now() >= pdSince + MCLT_S * 1000, `${r.ip} (the primary's) handed out ${(Date.now() - pdSince) / 1000} s into PARTNER-DOWN, before MCLT`);
      }
      const leasedSmall = new Set(held.filter((h) => h.ip.startsWith('10.100.8.')).map((h) => h.ip));
      return SMALL_RANGE.every((a) => leasedSmall.has(a));
    }, { timeoutMs: (MCLT_S + 30) * 1000, intervalMs: 500 });
    await assertNoDuplicates('partner-down', ['srv2']);
    startServer('srv1');
    await waitBoth('normal', 90_000);
    assert.ok(stateChanges('srv1').includes('recover'), `the restarted primary went through RECOVER (${stateChanges('srv1').join(' → ')})`);
    await waitStoresConverge('stores converge after recovery', 30_000);
    await assertNoDuplicates('recovered');
  });

  it('a partner with the wrong shared secret is refused and counted; one with a skewed clock is refused; the primary\'s state does not change', async () => {
    await stopServer('srv2');
    await waitState('srv1', 'communications-interrupted', 15_000);
    // The side that receives a message it cannot verify (here the secondary, which the primary dials)
    // refuses it, counts it and says why; the other side only sees the link refused.
    const authFailures = async () => (await Promise.all(NODES.map(async (n) => metricSum(await metrics(n).catch(() => ''), 'dhcp_failover_auth_failures_total')))).reduce((a, b) => a + b, 0);
    const authBefore = metricSum(await metrics('srv1'), 'dhcp_failover_auth_failures_total');
    startServer('srv2', { secret: 'not-the-secret' });
    await waitFor('auth failures counted', async () => (await authFailures()) > authBefore, { timeoutMs: 20_000, intervalMs: 250 });
    assert.match(readFileSync(join(lab.dir, 'srv2.log'), 'utf8'), /failover\.link\.auth_failed/);
    assert.equal(await stateOf('srv1'), 'communications-interrupted');
    assert.notEqual(await stateOf('srv2'), 'normal');
    await stopServer('srv2');

    const rejects = async () => (await Promise.all(NODES.map(async (n) => metricSum(await metrics(n).catch(() => ''), 'dhcp_failover_connect_rejects_total', { reason: '4' })))).reduce((a, b) => a + b, 0);
    startServer('srv2', { clockOffset: '+5m' });
    await waitFor('clock skew refusal counted', async () => (await rejects()) > 0, { timeoutMs: 20_000, intervalMs: 250 });
    const logs = NODES.map((n) => readFileSync(join(lab.dir, `${n}.log`), 'utf8')).join('\n');
    assert.match(logs, /skew/i, 'a log line names the clock skew');
    assert.equal(await stateOf('srv1'), 'communications-interrupted');
    await stopServer('srv2');
    startServer('srv2');
    await waitBoth('normal', 30_000);
  });

  it('hot standby: only the active server answers, and the standby\'s store gets every lease', async () => {
    for (const n of NODES) await stopServer(n);
    for (const n of NODES) await lab.exec(n, 'redis-cli', ['-s', socketOf(n), 'flushall']);
    held.length = 0; // the stores are empty: earlier clients hold nothing any more
    for (const n of NODES) startServer(n, { mode: 'hot-standby' });
    await waitBoth('normal', 30_000);
    await lab.exec('perf', 'perfdhcp', ['-4', '-l', 'eth0', '-r', '100', '-R', '300', '-n', '300'], { timeoutMs: 30_000, allowFail: true });
    const [active, standby] = await Promise.all(NODES.map(async (n) => await metrics(n)));
    const activeAcks = metricSum(active!, 'dhcp_messages_sent_total', { type: 'ack' });
    assert.ok(activeAcks >= 285, `the active server ACKed ${activeAcks} of 300`);
    assert.equal(metricSum(standby!, 'dhcp_messages_sent_total', { type: 'offer' }) + metricSum(standby!, 'dhcp_messages_sent_total', { type: 'ack' }), 0, 'the standby sent no OFFER or ACK');
    const bindings = await waitStoresConverge('the standby\'s store holds every lease', 20_000);
    assert.ok(bindings >= 150, `${bindings} bindings for ${activeAcks} ACKs (300 exchanges over 300 random MACs: ~190 distinct clients)`);
  });

  it('hot standby, active killed: the standby serves a new client from its reserve, the rest of the small pool only after PARTNER-DOWN + MCLT', async () => {
    const reserve = SMALL_RANGE.filter((a) => ownerIn(RESERVE_POOLS, parseIpv4(a)) === 'secondary');
    assert.equal(reserve.length, 1, 'the 5 % reserve of 20 addresses is one address (it was none with ip mod 100)');
    await stopServer('srv1', 'SIGKILL');
    await waitState('srv2', 'communications-interrupted', 15_000);
    // Every client is the active server's: the standby answers once `secs` passes loadBalanceMaxSeconds.
    const [first] = await simulate(SMALL_RELAY, [{ mac: macOf(0xe0, 0) }], { timeoutMs: 15_000 });
    assert.equal(first?.server, SERVERS.srv2.self, 'the standby served a new client while communications are interrupted');
    assert.equal(first?.ip, reserve[0], 'from its reserve');
    await waitState('srv2', 'partner-down', 30_000);
    const pdSince = Date.parse((await status('srv2')).failover.stateSince);
    let n = 1;
    await waitFor('every address of the small pool leased by the standby', async () => {
      const batch = await simulate(SMALL_RELAY, Array.from({ length: 4 }, () => ({ mac: macOf(0xe0, n++) })), { timeoutMs: 3_000, concurrency: 4 });
      for (const r of batch.filter((x): x is Acquired => x !== undefined)) {
        assert.ok(Date.now() >= pdSince + MCLT_S * 1000, `${r.ip} (the active server's) handed out ${(Date.now() - pdSince) / 1000} s into PARTNER-DOWN, before MCLT`);
      }
      const leased = new Set(held.filter((h) => h.ip.startsWith('10.100.8.')).map((h) => h.ip));
      return SMALL_RANGE.every((a) => leased.has(a));
    }, { timeoutMs: (MCLT_S + 30) * 1000, intervalMs: 500 });
    await assertNoDuplicates('hot-standby partner-down', ['srv2']);
  });
});
