// One server in two failover relationships (hub and spoke), in network namespaces, each server with its
// own redis-server, clients behind two relays (the relay client simulator, test/fakes/relay-client.ts,
// from the perf namespace: giaddr 10.100.8.1 for branch 1, 10.100.9.1 for branch 2):
//
//   srv1 (10.99.0.2)  branch 1's active server ── relationship branch1, hot standby ──┐
//                                                                                     srv3 = the hub (10.99.0.4)
//   srv2 (10.99.0.3)  branch 2's server ───────── relationship branch2, load balance ─┘
//
// The hub is the standby (secondary) of branch 1 and the primary of branch 2, so it is also "primary in
// one relationship and secondary in another". It listens once on 647 for both. In order:
//   1. both relationships NORMAL; branch 1's clients are served by srv1 alone, branch 2's by srv2 and the
//      hub; each lease is in the stores of its relationship's two servers and in no other; a standalone
//      scope of srv2 (relationship: none) is served by srv2 alone and its leases reach nobody;
//   2. srv1 killed: the hub serves branch 1 (a client keeps its address, a new one gets the reserve, the
//      whole pool only after PARTNER-DOWN + MCLT) while branch 2 stays NORMAL, its state times unchanged;
//   3. srv1 restarted: RECOVER → NORMAL for branch 1, branch 2 still untouched; no address held twice.
// Then, on a second lab, ISC dhcpd 4.4 is branch 1's partner of the hub (ISC primary, load balance): both
// relationships reach NORMAL, ISC's and the hub's branch 1 leases reach the other, and ISC killed leaves
// branch 2 untouched while the hub keeps serving branch 1's clients their addresses.
// Needs root and iproute2, curl, redis-server, dhcpd. Every wait is bounded.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ownerIn, schemeOf } from '../../src/failover/rules/address-ownership.ts';
import { parseIpv4 } from '../../src/net/ipv4.ts';
import { createLab, labUnavailableReason, type Lab } from '../fakes/netns-lab.ts';
import { waitFor, type TrackedProcess } from '../fakes/processes.ts';
import { macOf, type Acquired } from '../fakes/relay-client.ts';
import { startLabRedis } from '../fakes/redis-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/dhcp-failover');
const NODE = join(ROOT, 'node_modules/.bin/node');
const CLIENT_CLI = join(ROOT, 'test/fakes/relay-client-cli.ts');
const skip = labUnavailableReason(['ip', 'curl', 'redis-server', 'redis-cli']);
const skipIsc = skip ?? labUnavailableReason(['ip', 'curl', 'redis-server', 'dhcpd']);
const PREFIX = `t${process.pid % 1000}h`;
const MCLT_S = 15;
const SWITCHOVER_S = 4;
const RESERVE_PERCENT = 10;

const IP = { srv1: '10.99.0.2', srv2: '10.99.0.3', srv3: '10.99.0.4' } as const;
type Node = keyof typeof IP;
const BRANCH = {
  branch1: { relay: '10.100.8.1', subnet: '10.100.8.0/24', range: Array.from({ length: 20 }, (_, i) => `10.100.8.${10 + i}`), servers: ['srv1', 'srv3'] as Node[] },
  branch2: { relay: '10.100.9.1', subnet: '10.100.9.0/24', range: Array.from({ length: 20 }, (_, i) => `10.100.9.${10 + i}`), servers: ['srv2', 'srv3'] as Node[] },
} as const;
type Branch = keyof typeof BRANCH;
/** A scope srv2 serves alone (relationship: none), through its own relay. */
const STANDALONE = { relay: '10.100.10.1', subnet: '10.100.10.0/24', first: '10.100.10.10', last: '10.100.10.19' } as const;

const scopeYaml = (b: Branch): string => {
  const r = BRANCH[b].range;
  return `  - { name: ${b}-lan, subnet: ${BRANCH[b].subnet}, ranges: [{ start: ${r[0]}, end: ${r.at(-1)} }], leaseSeconds: 600, relationship: ${b} }`;
};

const COMMON = `    mcltSeconds: ${MCLT_S}
    stateSwitchoverSeconds: ${SWITCHOVER_S}
    maxResponseDelaySeconds: 3
    loadBalanceMaxSeconds: 3
    startupSeconds: 1`;

const relationshipYaml = (b: Branch, role: 'primary' | 'secondary', self: Node, partner: Node): string => `  - relationship: ${b}
    role: ${role}
    address: ${IP[self]}
    partner: { address: ${IP[partner]} }
${b === 'branch1' ? `    mode: hot-standby\n    reservePercent: ${RESERVE_PERCENT}` : '    mode: load-balance\n    splitPercent: 50'}
${COMMON}
    sharedSecret: ${b}-secret`;

function configFor(node: Node, socket: string): string {
  const relationships = node === 'srv1' ? [relationshipYaml('branch1', 'primary', 'srv1', 'srv3')]
    : node === 'srv2' ? [relationshipYaml('branch2', 'secondary', 'srv2', 'srv3')]
      : [relationshipYaml('branch1', 'secondary', 'srv3', 'srv1'), relationshipYaml('branch2', 'primary', 'srv3', 'srv2')];
  const standalone = `  - { name: standalone, subnet: ${STANDALONE.subnet}, ranges: [{ start: ${STANDALONE.first}, end: ${STANDALONE.last} }], leaseSeconds: 600, relationship: none }`;
  const scopes = node === 'srv1' ? [scopeYaml('branch1')] : node === 'srv2' ? [scopeYaml('branch2'), standalone] : [scopeYaml('branch1'), scopeYaml('branch2')];
  return `server:
  name: ${node}
  serverId: ${IP[node]}
  listen: { address: 0.0.0.0, port: 67, interfaces: [eth0] }
  admin: { address: 127.0.0.1, port: 8067 }
  store: { type: redis, path: ${socket} }
scopes:
${scopes.join('\n')}
failover:
${relationships.join('\n')}
`;
}

/** The standby's reserve of branch 1's pool (address-ownership.ts, the split the servers compute). */
const RESERVE = (() => {
  const r = BRANCH.branch1.range;
  const scheme = schemeOf([{ intervals: [{ start: parseIpv4(r[0]!), end: parseIpv4(r.at(-1)!) }], reserved: [] }], RESERVE_PERCENT);
  return new Set(r.filter((a) => ownerIn(scheme, parseIpv4(a)) === 'secondary'));
})();

interface RelationshipJson { relationship: string; role: string; state: string; stateSince: string }
interface LeaseJson { ip: string; state: string; hwAddress?: string; expiresAt: string }
interface Held { branch: Branch | 'standalone'; client: string; ip: string; server: string }

/** What both labs ask of their servers and clients; `lab()` because the lab is made in before(). */
function labHelpers(lab: () => Lab, held: Held[]) {
  const http = async (node: Node, path: string) => (await lab().httpGet(node, `http://127.0.0.1:8067${path}`)).body;
  async function relationshipOf(node: Node, b: Branch): Promise<RelationshipJson | undefined> {
    try {
      const s = JSON.parse(await http(node, '/status')) as { relationships?: RelationshipJson[] };
      return s.relationships?.find((r) => r.relationship === b);
    } catch { return undefined; }
  }
  /** A relationship's state and when it began: what "untouched" compares. */
  const stateAt = async (node: Node, b: Branch) => { const r = await relationshipOf(node, b); return r && { state: r.state, since: r.stateSince }; };
  const waitState = (node: Node, b: Branch, state: string, timeoutMs: number) =>
    waitFor(`${node} ${b} ${state}`, async () => (await relationshipOf(node, b))?.state === state, { timeoutMs, intervalMs: 200 });
  async function leasesOf(node: Node): Promise<LeaseJson[]> {
    return (JSON.parse(await http(node, '/leases?limit=100000')) as { leases: LeaseJson[] }).leases
      .filter((l) => l.state === 'active' && Date.parse(l.expiresAt) > Date.now());
  }
  /** Clients through a relay (the simulator in the perf namespace) that forwards to `servers`. */
  async function simulateVia(tag: Held['branch'], relay: string, servers: readonly Node[], clients: { mac: string; requested?: string }[], o: { timeoutMs?: number; concurrency?: number } = {}): Promise<(Acquired | undefined)[]> {
    const plan = join(lab().dir, `plan-${Date.now()}-${Math.floor(Math.random() * 1e6)}.json`);
    const timeoutMs = o.timeoutMs ?? 8_000, concurrency = o.concurrency ?? 10;
    writeFileSync(plan, JSON.stringify({ clients, timeoutMs, retryMs: 1_000, concurrency }));
    const res = await lab().exec('perf', NODE, ['--disable-warning=ExperimentalWarning', CLIENT_CLI, '--relay', relay, '--targets', servers.map((n) => IP[n]).join(','), '--plan', plan],
      { timeoutMs: timeoutMs * Math.ceil(clients.length / concurrency) + 10_000 });
    const results = (JSON.parse(res.stdout) as (Acquired | null)[]).map((r) => r ?? undefined);
    for (const r of results) if (r) held.push({ branch: tag, client: r.mac, ip: r.ip, server: r.server });
    return results;
  }
  /** Clients of a branch through its relay, which forwards to that branch's two servers. */
  const simulate = (b: Branch, clients: { mac: string; requested?: string }[], o: { timeoutMs?: number; concurrency?: number } = {}) =>
    simulateVia(b, BRANCH[b].relay, BRANCH[b].servers, clients, o);
  return { http, relationshipOf, stateAt, waitState, leasesOf, simulateVia, simulate };
}

describe('hub and spoke: one server in two relationships, in network namespaces', { skip, timeout: 300_000 }, () => {
  let lab: Lab;
  const servers = new Map<Node, TrackedProcess>();
  const socketOf = (node: Node) => join(lab.dir, `${node}-redis`, 'redis.sock');
  const held: Held[] = [];
  const { http, relationshipOf, stateAt, waitState, leasesOf, simulateVia, simulate } = labHelpers(() => lab, held);

  function startServer(node: Node): void {
    const conf = join(lab.dir, `${node}.yaml`);
    writeFileSync(conf, configFor(node, socketOf(node)));
    servers.set(node, lab.spawn(node, BIN, ['server', '--config', conf], { logFile: join(lab.dir, `${node}.log`) }));
  }

  /** The invariant: no address held by two clients, by what clients hold and across every store. */
  async function assertNoDuplicates(when: string, nodes: readonly Node[]): Promise<void> {
    const latest = new Map<string, string>();
    for (const h of held) latest.set(h.client, h.ip);
    const owners = new Map<string, string>();
    for (const [client, addr] of latest) {
      assert.ok(!owners.has(addr), `${when}: ${addr} held by both ${owners.get(addr)} and ${client}`);
      owners.set(addr, client);
    }
    const byIp = new Map<string, string>();
    for (const node of nodes) {
      for (const l of await leasesOf(node)) {
        const other = byIp.get(l.ip);
        assert.ok(other === undefined || other === l.hwAddress, `${when}: ${l.ip} active for ${other} and ${l.hwAddress} across the stores`);
        byIp.set(l.ip, l.hwAddress ?? '');
      }
    }
  }

  const stateChanges = (node: Node, b: Branch) => readFileSync(join(lab.dir, `${node}.log`), 'utf8').split('\n')
    .filter((l) => l.includes('"failover.state.changed"') && l.includes(`"relationship":"${b}"`)).map((l) => (JSON.parse(l) as { to: string }).to);

  before(async () => {
    lab = await createLab({ prefix: PREFIX, servers: 3, clients: 0, perf: true });
    for (const relay of [...Object.values(BRANCH).map((b) => b.relay), STANDALONE.relay]) await lab.exec('perf', 'ip', ['addr', 'add', `${relay}/32`, 'dev', 'eth0']);
    for (const n of Object.keys(IP) as Node[]) await startLabRedis(lab, n, join(lab.dir, `${n}-redis`), join(lab.dir, `${n}-redis.log`));
    for (const n of Object.keys(IP) as Node[]) startServer(n);
    await Promise.all([
      waitState('srv1', 'branch1', 'normal', 30_000), waitState('srv3', 'branch1', 'normal', 30_000),
      waitState('srv2', 'branch2', 'normal', 30_000), waitState('srv3', 'branch2', 'normal', 30_000),
    ]);
  });

  after(async () => { await lab?.destroy(); });

  it('both relationships NORMAL: branch 1 served by its active server alone, branch 2 by both of its servers; each lease only in its relationship\'s two stores', async () => {
    const hub = JSON.parse(await http('srv3', '/status')) as { failover?: unknown; relationships: RelationshipJson[] };
    assert.deepEqual(hub.relationships.map((r) => [r.relationship, r.role]).sort(), [['branch1', 'secondary'], ['branch2', 'primary']]);
    assert.equal(hub.failover, undefined, 'a server in two relationships has no single `failover` block');
    const b1 = await simulate('branch1', Array.from({ length: 6 }, (_, i) => ({ mac: macOf(0xb1, i) })));
    assert.ok(b1.every((r) => r?.server === IP.srv1), `hot standby: only branch 1's active server answers (${b1.map((r) => r?.server).join(' ')})`);
    const b2 = await simulate('branch2', Array.from({ length: 16 }, (_, i) => ({ mac: macOf(0xb2, i) })));
    assert.ok(b2.every((r) => r !== undefined), 'every branch 2 client got a lease');
    assert.deepEqual(new Set(b2.map((r) => r!.server)), new Set([IP.srv2, IP.srv3]), 'load balance: both branch 2 servers answer');
    await waitFor('each lease in both stores of its relationship', async () => {
      const [s1, s2, s3] = await Promise.all((['srv1', 'srv2', 'srv3'] as Node[]).map(async (n) => new Set((await leasesOf(n)).map((l) => l.ip))));
      return b1.every((r) => s1!.has(r!.ip) && s3!.has(r!.ip)) && b2.every((r) => s2!.has(r!.ip) && s3!.has(r!.ip));
    }, { timeoutMs: 10_000, intervalMs: 300 });
    const onSrv1 = (await leasesOf('srv1')).map((l) => l.ip), onSrv2 = (await leasesOf('srv2')).map((l) => l.ip);
    assert.ok(onSrv1.every((a) => a.startsWith('10.100.8.')), `srv1 holds only branch 1 leases: ${onSrv1.join(' ')}`);
    assert.ok(onSrv2.every((a) => a.startsWith('10.100.9.')), `srv2 holds only branch 2 leases: ${onSrv2.join(' ')}`);
    await assertNoDuplicates('normal', ['srv1', 'srv2', 'srv3']);
  });

  it('a standalone scope (relationship: none) on srv2 is served by srv2 alone, and no partner hears of its leases', async () => {
    const got = await simulateVia('standalone', STANDALONE.relay, ['srv2', 'srv3'], Array.from({ length: 3 }, (_, i) => ({ mac: macOf(0x5a, i) })));
    assert.ok(got.every((r) => r !== undefined && r.server === IP.srv2 && r.ip.startsWith('10.100.10.')), `served by srv2 from the standalone scope: ${JSON.stringify(got.map((r) => r && [r.server, r.ip]))}`);
    await new Promise((r) => setTimeout(r, 1_000));
    const onHub = (await leasesOf('srv3')).filter((l) => l.ip.startsWith('10.100.10.'));
    assert.deepEqual(onHub, [], 'the hub never received a binding update for the standalone scope');
  });

  it('branch 1 active killed: the hub serves branch 1 (same address, reserve, whole pool after PARTNER-DOWN + MCLT); branch 2 stays NORMAL, untouched', async () => {
    const before2 = { hub: await stateAt('srv3', 'branch2'), srv2: await stateAt('srv2', 'branch2') };
    const changes2 = stateChanges('srv3', 'branch2').length;
    await servers.get('srv1')!.stop({ signal: 'SIGKILL', graceMs: 1_000 });
    servers.delete('srv1');
    await waitState('srv3', 'branch1', 'communications-interrupted', 15_000);
    const old = held.find((h) => h.branch === 'branch1')!;
    const [again] = await simulate('branch1', [{ mac: old.client, requested: old.ip }], { timeoutMs: 15_000 });
    assert.equal(again?.server, IP.srv3, 'the hub answered branch 1\'s client');
    assert.equal(again?.ip, old.ip, 'with the address it had');
    const [fresh] = await simulate('branch1', [{ mac: macOf(0xb1, 100) }], { timeoutMs: 15_000 });
    assert.ok(fresh !== undefined && RESERVE.has(fresh.ip), `a new client gets the hub's reserve (${[...RESERVE].join(' ')}), got ${fresh?.ip}`);
    await waitState('srv3', 'branch1', 'partner-down', 30_000);
    const pdSince = Date.parse((await relationshipOf('srv3', 'branch1'))!.stateSince);
    let n = 101;
    await waitFor('every address of branch 1\'s pool leased', async () => {
      const batch = await simulate('branch1', Array.from({ length: 4 }, () => ({ mac: macOf(0xb1, n++) })), { timeoutMs: 3_000, concurrency: 4 });
      for (const r of batch.filter((x): x is Acquired => x !== undefined && !RESERVE.has(x.ip))) {
        assert.ok(Date.now() >= pdSince + MCLT_S * 1000, `${r.ip} (branch 1 active's) handed out ${(Date.now() - pdSince) / 1000} s into PARTNER-DOWN, before MCLT`);
      }
      const leased = new Set(held.filter((h) => h.branch === 'branch1').map((h) => h.ip));
      return BRANCH.branch1.range.every((a) => leased.has(a));
    }, { timeoutMs: (MCLT_S + 40) * 1000, intervalMs: 500 });
    const after2 = { hub: await stateAt('srv3', 'branch2'), srv2: await stateAt('srv2', 'branch2') };
    assert.deepEqual(after2, before2, 'branch 2: same states, same start times on both servers');
    const [b2] = await simulate('branch2', [{ mac: macOf(0xb2, 100) }]);
    assert.ok(b2 !== undefined, 'branch 2 still serves new clients');
    assert.deepEqual(stateChanges('srv3', 'branch2').slice(changes2), [], 'no state change of the hub\'s branch 2 relationship since srv1 was killed');
    await assertNoDuplicates('branch 1 partner-down', ['srv2', 'srv3']);
  });

  it('branch 1 active restarted: RECOVER then NORMAL on both; branch 2 untouched; no address held twice', async () => {
    const before2 = await stateAt('srv3', 'branch2');
    startServer('srv1');
    await Promise.all([waitState('srv1', 'branch1', 'normal', 60_000), waitState('srv3', 'branch1', 'normal', 60_000)]);
    const srv1Path = stateChanges('srv1', 'branch1');
    assert.ok(srv1Path.includes('recover'), `srv1 went through RECOVER: ${srv1Path.join(' → ')}`);
    assert.deepEqual(await stateAt('srv3', 'branch2'), before2, 'branch 2 unchanged');
    await assertNoDuplicates('recovered', ['srv1', 'srv2', 'srv3']);
  });

  it('a reload removes a relationship and adds it back, without a restart; the other relationship is untouched', async () => {
    const conf = join(lab.dir, 'srv3.yaml');
    const full = readFileSync(conf, 'utf8');
    const before1 = await stateAt('srv3', 'branch1');
    const restartRequired = async () => (JSON.parse(await http('srv3', '/status')) as { restartRequiredFor: string[] }).restartRequiredFor;
    // Without branch 2: its scope and its relationship go together.
    writeFileSync(conf, full.replace(/^ {2}- \{ name: branch2-lan.*\n/m, '').replace(/^ {2}- relationship: branch2\n(?: {4}.*\n)+/m, ''));
    await waitFor('the hub drops branch 2', async () => (await relationshipOf('srv3', 'branch2')) === undefined && (await relationshipOf('srv3', 'branch1')) !== undefined, { timeoutMs: 20_000, intervalMs: 300 });
    await waitState('srv2', 'branch2', 'communications-interrupted', 20_000);
    assert.deepEqual(await restartRequired(), [], 'removing a relationship needs no restart');
    writeFileSync(conf, full);
    await Promise.all([waitState('srv3', 'branch2', 'normal', 40_000), waitState('srv2', 'branch2', 'normal', 40_000)]);
    assert.deepEqual(await restartRequired(), [], 'adding it back needs no restart');
    assert.deepEqual(await stateAt('srv3', 'branch1'), before1, 'branch 1 untouched by both reloads');
    const [b2] = await simulate('branch2', [{ mac: macOf(0xb2, 200) }]);
    assert.ok(b2 !== undefined, 'branch 2 serves again');
    await assertNoDuplicates('after the reloads', ['srv1', 'srv2', 'srv3']);
  });
});

/** ISC dhcpd as branch 1's primary, the hub (srv3) its secondary: ISC's spelling of the same relationship. */
function iscBranchConfig(): string {
  const r = BRANCH.branch1.range;
  return `failover peer "branch1" {
  primary; address ${IP.srv1}; port 647; peer address ${IP.srv3}; peer port 647;
  max-response-delay 6; max-unacked-updates 10; load balance max seconds 3; mclt ${MCLT_S}; split 128;
}
authoritative;
ddns-update-style none;
default-lease-time 600;
max-lease-time 600;
subnet 10.99.0.0 netmask 255.255.255.0 { }
subnet 10.100.8.0 netmask 255.255.255.0 {
  pool { failover peer "branch1"; range ${r[0]} ${r.at(-1)}; }
}
`;
}

/** The hub's config with an ISC partner for branch 1 (dialect isc: no shared secret, binding-state pools). */
function hubWithIscConfig(socket: string): string {
  return configFor('srv3', socket)
    .replace(/  - relationship: branch1\n(?:    .*\n)+?    sharedSecret: branch1-secret\n/, `  - relationship: branch1
    role: secondary
    address: ${IP.srv3}
    partner: { address: ${IP.srv1} }
    partnerDialect: isc
    mode: load-balance
    splitPercent: 50
    mcltSeconds: ${MCLT_S}
    maxResponseDelaySeconds: 6
    loadBalanceMaxSeconds: 3
    startupSeconds: 2
`);
}

describe('hub and spoke with ISC dhcpd as one of the hub\'s partners', { skip: skipIsc, timeout: 240_000 }, () => {
  let lab: Lab;
  const servers = new Map<Node, TrackedProcess>();
  const socketOf = (node: Node) => join(lab.dir, `${node}-redis`, 'redis.sock');
  const held: Held[] = [];
  const { http, stateAt, waitState, simulate } = labHelpers(() => lab, held);
  const iscMoves = () => [...readFileSync(join(lab.dir, 'dhcpd.log'), 'utf8').matchAll(/I move from ([\w-]+) to ([\w-]+)/g)].map((m) => m[2]);
  const hubLeases = async () => (JSON.parse(await http('srv3', '/leases?limit=100000')) as { leases: LeaseJson[] }).leases.filter((l) => l.state === 'active');

  before(async () => {
    lab = await createLab({ prefix: `t${process.pid % 1000}j`, servers: 3, clients: 0, perf: true });
    for (const b of Object.values(BRANCH)) await lab.exec('perf', 'ip', ['addr', 'add', `${b.relay}/32`, 'dev', 'eth0']);
    for (const n of ['srv2', 'srv3'] as Node[]) await startLabRedis(lab, n, join(lab.dir, `${n}-redis`), join(lab.dir, `${n}-redis.log`));
    writeFileSync(join(lab.dir, 'dhcpd.conf'), iscBranchConfig());
    writeFileSync(join(lab.dir, 'dhcpd.leases'), '');
    servers.set('srv1', lab.spawn('srv1', 'dhcpd', ['-4', '-f', '-d', '--no-pid', '-cf', join(lab.dir, 'dhcpd.conf'), '-lf', join(lab.dir, 'dhcpd.leases'), 'eth0'], { logFile: join(lab.dir, 'dhcpd.log') }));
    writeFileSync(join(lab.dir, 'srv2.yaml'), configFor('srv2', socketOf('srv2')));
    writeFileSync(join(lab.dir, 'srv3.yaml'), hubWithIscConfig(socketOf('srv3')));
    for (const n of ['srv2', 'srv3'] as Node[]) servers.set(n, lab.spawn(n, BIN, ['server', '--config', join(lab.dir, `${n}.yaml`)], { logFile: join(lab.dir, `${n}.log`) }));
    await Promise.all([waitState('srv3', 'branch1', 'normal', 60_000), waitState('srv3', 'branch2', 'normal', 30_000), waitState('srv2', 'branch2', 'normal', 30_000)]);
    await waitFor('ISC normal', async () => iscMoves().at(-1) === 'normal', { timeoutMs: 30_000, intervalMs: 300 });
  });

  after(async () => { await lab?.destroy(); });

  it('both relationships NORMAL; branch 1 leases from ISC and from the hub reach the hub\'s store; branch 2 served', async () => {
    const b1 = await simulate('branch1', Array.from({ length: 8 }, (_, i) => ({ mac: macOf(0xc1, i) })));
    assert.ok(b1.every((r) => r !== undefined), 'every branch 1 client got a lease');
    const fromIsc = b1.filter((r) => r!.server === IP.srv1);
    assert.ok(fromIsc.length > 0, `ISC served some branch 1 clients (split 128): ${b1.map((r) => r!.server).join(' ')}`);
    await waitFor('ISC\'s leases in the hub\'s store', async () => {
      const onHub = new Set((await hubLeases()).map((l) => l.ip));
      return b1.every((r) => onHub.has(r!.ip));
    }, { timeoutMs: 15_000, intervalMs: 300 });
    const b2 = await simulate('branch2', Array.from({ length: 4 }, (_, i) => ({ mac: macOf(0xc2, i) })));
    assert.ok(b2.every((r) => r !== undefined && r.ip.startsWith('10.100.9.')), 'branch 2 clients got branch 2 addresses');
  });

  it('ISC killed: the hub keeps branch 1\'s clients on their addresses; branch 2 stays NORMAL, untouched', async () => {
    const before2 = { hub: await stateAt('srv3', 'branch2'), srv2: await stateAt('srv2', 'branch2') };
    await servers.get('srv1')!.stop({ signal: 'SIGKILL', graceMs: 1_000 });
    await waitState('srv3', 'branch1', 'communications-interrupted', 20_000);
    const old = held.find((h) => h.branch === 'branch1' && h.server === IP.srv1)!;
    const [again] = await simulate('branch1', [{ mac: old.client, requested: old.ip }], { timeoutMs: 20_000 });
    assert.equal(again?.server, IP.srv3, 'the hub answered ISC\'s client');
    assert.equal(again?.ip, old.ip, 'with the address ISC gave it');
    assert.deepEqual({ hub: await stateAt('srv3', 'branch2'), srv2: await stateAt('srv2', 'branch2') }, before2, 'branch 2 untouched');
    const owners = new Map<string, string>();
    for (const h of held) { const o = owners.get(h.ip); assert.ok(o === undefined || o === h.client, `${h.ip} held by ${o} and ${h.client}`); owners.set(h.ip, h.client); }
  });
});
