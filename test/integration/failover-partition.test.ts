// A failover pair of our servers in network namespaces with real clients (udhcpc) on the same bridge:
// both reach NORMAL; leases made by either appear in both stores; the link between the servers only
// is cut (clients still reach both): COMMUNICATIONS-INTERRUPTED, service goes on, no address is ever
// held by two clients; healed: NORMAL again and both stores hold the same active bindings. Then the
// primary is killed: its clients keep their addresses through the secondary, an admin forces
// PARTNER-DOWN, new clients are served, and the restarted primary (empty store) recovers to NORMAL.
// Needs root, iproute2, iptables, udhcpc, curl. Every wait is bounded; the lab is torn down in after().
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createLab, labUnavailableReason, type Lab } from '../fakes/netns-lab.ts';
import { waitFor } from '../fakes/processes.ts';

const BIN = fileURLToPath(new URL('../../bin/dhcp-failover', import.meta.url));
const skip = labUnavailableReason(['ip', 'iptables', 'udhcpc', 'curl']);
const PREFIX = `t${process.pid % 1000}p`;
const SERVERS = [
  { node: 'srv1', role: 'primary', self: '10.99.0.2', partner: '10.99.0.3' },
  { node: 'srv2', role: 'secondary', self: '10.99.0.3', partner: '10.99.0.2' },
] as const;
const CLIENTS = 8;

function configFor(s: (typeof SERVERS)[number]): string {
  return `server:
  name: ${s.node}
  serverId: ${s.self}
  listen: { address: 0.0.0.0, port: 67, interfaces: [eth0] }
  admin: { address: 127.0.0.1, port: 8067 }
  store: { type: memory }
scopes:
  - name: lab
    subnet: 10.99.0.0/24
    ranges: [{ start: 10.99.0.50, end: 10.99.0.250 }]
    leaseSeconds: 120
failover:
  relationship: lab-pair
  role: ${s.role}
  address: ${s.self}
  port: 647
  partner: { address: ${s.partner}, port: 647 }
  mode: load-balance
  mcltSeconds: 60
  maxResponseDelaySeconds: 3
  startupSeconds: 1
  sharedSecret: partition-test-secret
`;
}

interface LeaseJson { ip: string; state: string; hwAddress?: string; expiresAt: string }

describe('failover pair in network namespaces: partition, then a crashed primary', { skip, timeout: 240_000 }, () => {
  let lab: Lab;
  /** Every (client, address) binding any client held during the test, with when it got it. */
  const held: { client: string; mac: string; ip: string; phase: string }[] = [];

  const status = async (node: string) => JSON.parse((await lab.httpGet(node, 'http://127.0.0.1:8067/status')).body) as { failover: { state: string } };
  const stateOf = async (node: string) => { try { return (await status(node)).failover.state; } catch { return undefined; } };
  const activeLeases = async (node: string): Promise<LeaseJson[]> =>
    (JSON.parse((await lab.httpGet(node, 'http://127.0.0.1:8067/leases')).body) as { leases: LeaseJson[] }).leases
      .filter((l) => l.state === 'active' && Date.parse(l.expiresAt) > Date.now());
  const waitBoth = (state: string, timeoutMs: number) => waitFor(`both servers ${state}`, async () => {
    const states = await Promise.all(SERVERS.map((s) => stateOf(s.node)));
    return states.every((x) => x === state);
  }, { timeoutMs, intervalMs: 250 });

  /** Both stores hold the same, non-empty set of active bindings. */
  const waitStoresConverge = (what: string, timeoutMs: number) => waitFor(what, async () => {
    const [a, b] = await Promise.all(SERVERS.map(async (s) => (await activeLeases(s.node)).map((l) => `${l.ip}=${l.hwAddress}`).sort().join(',')));
    return a === b && a !== '';
  }, { timeoutMs, intervalMs: 500 });

  async function obtain(client: string, phase: string): Promise<string> {
    const mac = await lab.mac(client);
    const previous = held.filter((h) => h.client === client).at(-1)?.ip;
    const res = await lab.udhcpcOnce(client, { timeoutS: 15, ...(previous ? { requestIp: previous } : {}) });
    assert.ok(res.ok && res.ip, `${client} got no lease in ${phase}: ${res.output.slice(-400)}`);
    held.push({ client, mac, ip: res.ip, phase });
    return res.ip;
  }

  /** The invariant: no address is held by two clients, in what clients hold and in either store. */
  async function assertNoDuplicates(when: string, nodes: readonly string[] = SERVERS.map((s) => s.node)): Promise<void> {
    const current = new Map<string, string>();
    for (const h of held) current.set(h.client, h.ip); // a client holds its latest address only
    const owners = new Map<string, string>();
    for (const [client, ip] of current) {
      assert.ok(!owners.has(ip), `${when}: ${ip} held by both ${owners.get(ip)} and ${client}`);
      owners.set(ip, client);
    }
    const byIp = new Map<string, string>();
    for (const node of nodes) {
      for (const l of await activeLeases(node)) {
        const other = byIp.get(l.ip);
        assert.ok(other === undefined || other === l.hwAddress, `${when}: ${l.ip} active for ${other} and ${l.hwAddress} across the two stores`);
        byIp.set(l.ip, l.hwAddress ?? '');
      }
    }
  }

  before(async () => {
    lab = await createLab({ prefix: PREFIX, servers: 2, clients: CLIENTS });
    for (const s of SERVERS) startServer(s);
    await waitBoth('normal', 30_000);
  });

  after(async () => { await lab?.destroy(); });

  const startServer = (s: (typeof SERVERS)[number]) => {
    const conf = join(lab.dir, `${s.node}.yaml`);
    writeFileSync(conf, configFor(s));
    return lab.spawn(s.node, BIN, ['server', '--config', conf], { logFile: join(lab.dir, `${s.node}.log`) });
  };

  it('in NORMAL both servers serve, and every lease reaches both stores', async () => {
    for (let i = 1; i <= CLIENTS / 2; i++) await obtain(`cli${i}`, 'normal');
    const expected = held.map((h) => h.ip).sort();
    for (const s of SERVERS) {
      await waitFor(`${s.node} has every lease`, async () => {
        const ips = (await activeLeases(s.node)).map((l) => l.ip).sort();
        return expected.every((ip) => ips.includes(ip));
      }, { timeoutMs: 10_000, intervalMs: 250 });
    }
    await assertNoDuplicates('normal');
  });

  it('with the link between the servers cut, both keep serving and no address is held twice', async () => {
    await lab.cut();
    await waitBoth('communications-interrupted', 20_000);
    for (let i = CLIENTS / 2 + 1; i <= CLIENTS; i++) await obtain(`cli${i}`, 'cut');
    for (let i = 1; i <= CLIENTS / 2; i++) {
      const before = held.filter((h) => h.client === `cli${i}`).at(-1)?.ip;
      assert.equal(await obtain(`cli${i}`, 'cut'), before, `cli${i} keeps its address during the partition`);
    }
    await assertNoDuplicates('cut');
  });

  it('healed: back to NORMAL and both stores hold the same active bindings', async () => {
    await lab.heal();
    await waitBoth('normal', 30_000);
    await waitStoresConverge('stores converge', 20_000);
    await assertNoDuplicates('healed');
    const everyClientServed = new Set(held.map((h) => h.client));
    assert.equal(everyClientServed.size, CLIENTS);
  });

  it('primary killed: clients keep their addresses through the secondary; forced PARTNER-DOWN serves new clients; the primary recovers to NORMAL', async () => {
    await lab.kill('srv1');
    await waitFor('secondary notices', async () => (await stateOf('srv2')) === 'communications-interrupted', { timeoutMs: 20_000, intervalMs: 250 });
    for (let i = 1; i <= 3; i++) {
      const before = held.filter((h) => h.client === `cli${i}`).at(-1)?.ip;
      assert.equal(await obtain(`cli${i}`, 'primary-dead'), before, `cli${i} keeps its address from the secondary`);
    }
    const forced = await lab.exec('srv2', 'curl', ['-s', '-X', 'POST', 'http://127.0.0.1:8067/failover/partner-down']);
    assert.match(forced.stdout, /"done":true/);
    assert.equal(await stateOf('srv2'), 'partner-down');
    await lab.setMac('cli4', '02:77:00:00:99:01');
    await obtain('cli4', 'partner-down');
    await assertNoDuplicates('partner-down', ['srv2']); // srv1 is dead and its memory store gone
    startServer(SERVERS[0]);
    await waitBoth('normal', 120_000); // empty store = lost database: RECOVER-WAIT lasts MCLT (60 s)
    await waitStoresConverge('stores converge after recovery', 30_000);
    await assertNoDuplicates('recovered');
  });
});
