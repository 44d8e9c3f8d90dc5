// Interoperability with ISC dhcpd 4.4 (Debian isc-dhcp-server) as the failover partner, in both roles,
// without a shared secret: the pair reaches NORMAL, bindings flow both ways (ISC's leases land in our
// store, ours in ISC's lease file), ISC's pool balancing gives the secondary its BACKUP addresses, a
// killed partner is survived (clients keep their addresses from the survivor) and the pair recovers
// to NORMAL. This is how a user migrates an existing ISC pair one server at a time.
// Client host names: every client sends one (option 12). ISC dhcpd 4.4.3 never puts a host name in a
// BNDUPD and ignores ours (client-request-options: its send_bind_update skips "XXX request options",
// process_bind_update never reads them), so each side keeps only the names its own clients sent; the test
// checks that, and that ISC accepts our BNDUPDs carrying the name.
// Needs root, iproute2, iptables, udhcpc, curl, dhcpd. Every wait is bounded; the lab is torn down in after().
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { bucketOf } from '../../src/failover/rules/load-balance.ts';
import { createLab, labUnavailableReason, type Lab } from '../fakes/netns-lab.ts';
import { waitFor, type TrackedProcess } from '../fakes/processes.ts';

const BIN = fileURLToPath(new URL('../../bin/dhcp-failover', import.meta.url));
const skip = labUnavailableReason(['ip', 'iptables', 'udhcpc', 'curl', 'dhcpd']);
const RELATIONSHIP = 'isc-lab';
const RANGE = { start: '10.99.0.100', end: '10.99.0.139' };
const MCLT = 30;
const CLIENTS = 6;

type Role = 'primary' | 'secondary';
interface Side { readonly node: 'srv1' | 'srv2'; readonly self: string; readonly partner: string }
const NODES: Readonly<Record<Role, Side>> = {
  primary: { node: 'srv1', self: '10.99.0.2', partner: '10.99.0.3' },
  secondary: { node: 'srv2', self: '10.99.0.3', partner: '10.99.0.2' },
};

function iscConfig(role: Role): string {
  const s = NODES[role];
  const primaryOnly = role === 'primary' ? `mclt ${MCLT}; split 128;` : '';
  return `failover peer "${RELATIONSHIP}" {
  ${role}; address ${s.self}; port 647; peer address ${s.partner}; peer port 647;
  max-response-delay 6; max-unacked-updates 10; load balance max seconds 3; ${primaryOnly}
}
authoritative;
ddns-update-style none;
default-lease-time 120;
max-lease-time 120;
min-lease-time 60;
subnet 10.99.0.0 netmask 255.255.255.0 {
  option routers 10.99.0.1;
  pool { failover peer "${RELATIONSHIP}"; range ${RANGE.start} ${RANGE.end}; }
}
`;
}

function ourConfig(role: Role): string {
  const s = NODES[role];
  return `server:
  name: ours-${role}
  serverId: ${s.self}
  listen: { address: 0.0.0.0, port: 67, interfaces: [eth0] }
  admin: { address: 127.0.0.1, port: 8067 }
  store: { type: memory }
scopes:
  - name: lab
    subnet: 10.99.0.0/24
    ranges: [{ start: ${RANGE.start}, end: ${RANGE.end} }]
    leaseSeconds: 120
    options: { routers: [10.99.0.1] }
failover:
  relationship: ${RELATIONSHIP}
  role: ${role}
  address: ${s.self}
  port: 647
  partner: { address: ${s.partner}, port: 647 }
  partnerDialect: isc
  mode: load-balance
  splitPercent: 50
  mcltSeconds: ${MCLT}
  maxResponseDelaySeconds: 6
  startupSeconds: 2
`;
}

/**
 * Client MACs chosen so that half hash (RFC 3074) to each server under ISC's `split 128`, whether the
 * client hashes by chaddr or by a client-id of 01 + chaddr: both servers must serve someone.
 */
function balancedMacs(n: number): string[] {
  const ownerOf = (key: number[]): Role => (bucketOf(Uint8Array.from(key)) < 128 ? 'primary' : 'secondary');
  const picked: Record<Role, string[]> = { primary: [], secondary: [] };
  for (let i = 1; i < 256 && picked.primary.length + picked.secondary.length < n; i++) {
    const mac = [0x02, 0x15, 0, 0, 0, i];
    const owner = ownerOf(mac);
    if (owner !== ownerOf([1, ...mac]) || picked[owner].length >= n / 2) continue;
    picked[owner].push(mac.map((b) => b.toString(16).padStart(2, '0')).join(':'));
  }
  return [...picked.primary, ...picked.secondary];
}

interface LeaseJson { ip: string; state: string; hwAddress?: string; hostname?: string; expiresAt: string }
const hostnameOf = (client: string): string => `${client}-host`;

/** The client-hostname of the last record per address in a dhcpd.leases file (undefined: none). */
function iscHostnames(text: string): Map<string, string | undefined> {
  const last = new Map<string, string | undefined>();
  for (const m of text.matchAll(/lease (\d+\.\d+\.\d+\.\d+) \{([^}]*)\}/g)) last.set(m[1]!, /client-hostname "([^"]*)";/.exec(m[2] ?? '')?.[1]);
  return last;
}

/** Active leases in a dhcpd.leases file, last record per address wins (the file is a journal). */
function iscActiveLeases(text: string): Map<string, string> {
  const last = new Map<string, { state: string; mac: string }>();
  for (const m of text.matchAll(/lease (\d+\.\d+\.\d+\.\d+) \{([^}]*)\}/g)) {
    const body = m[2] ?? '';
    last.set(m[1]!, { state: /binding state (\w+);/.exec(body)?.[1] ?? '', mac: /hardware ethernet ([0-9a-f:]+);/.exec(body)?.[1] ?? '' });
  }
  return new Map([...last].filter(([, v]) => v.state === 'active').map(([ip, v]) => [ip, v.mac]));
}

for (const iscRole of ['primary', 'secondary'] as const) {
  const ourRole: Role = iscRole === 'primary' ? 'secondary' : 'primary';
  const isc = NODES[iscRole];
  const ours = NODES[ourRole];

  describe(`ISC dhcpd as ${iscRole}, ours as ${ourRole}`, { skip, timeout: 240_000 }, () => {
    let lab: Lab;
    let dhcpd: TrackedProcess | undefined;
    const held = new Map<string, { ip: string; serverId: string }>();
    const iscLog = () => join(lab.dir, 'dhcpd.log');
    const iscLeases = () => join(lab.dir, 'dhcpd.leases');

    const ourStatus = async () => {
      try { return JSON.parse((await lab.httpGet(ours.node, 'http://127.0.0.1:8067/status')).body) as { failover: { state: string; partner: { state: string | null } } }; } catch { return undefined; }
    };
    const ourLeases = async (): Promise<LeaseJson[]> =>
      (JSON.parse((await lab.httpGet(ours.node, 'http://127.0.0.1:8067/leases')).body) as { leases: LeaseJson[] }).leases;
    const iscMoves = () => [...readFileSync(iscLog(), 'utf8').matchAll(/I move from ([\w-]+) to ([\w-]+)/g)].map((m) => m[2]);
    const waitNormal = (what: string, timeoutMs: number) => waitFor(what, async () => {
      const st = await ourStatus();
      return st?.failover.state === 'normal' && st.failover.partner.state === 'normal' && iscMoves().at(-1) === 'normal';
    }, { timeoutMs, intervalMs: 500 });

    const startOurs = () => lab.spawn(ours.node, BIN, ['server', '--config', join(lab.dir, 'ours.yaml')], { logFile: join(lab.dir, 'ours.log') });
    const startIsc = () => {
      dhcpd = lab.spawn(isc.node, 'dhcpd', ['-4', '-f', '-d', '--no-pid', '-cf', join(lab.dir, 'dhcpd.conf'), '-lf', iscLeases(), 'eth0'], { logFile: iscLog() });
    };

    async function obtain(client: string): Promise<{ ip: string; serverId: string }> {
      const previous = held.get(client)?.ip;
      const res = await lab.udhcpcOnce(client, { timeoutS: 20, hostname: hostnameOf(client), ...(previous ? { requestIp: previous } : {}) });
      assert.ok(res.ok && res.ip && res.serverId, `${client} got no lease: ${res.output.slice(-400)}`);
      const got = { ip: res.ip, serverId: res.serverId };
      held.set(client, got);
      return got;
    }

    function assertNoDuplicates(when: string): void {
      const owners = new Map<string, string>();
      for (const [client, h] of held) {
        assert.ok(!owners.has(h.ip), `${when}: ${h.ip} held by ${owners.get(h.ip)} and ${client}`);
        owners.set(h.ip, client);
      }
    }

    before(async () => {
      lab = await createLab({ prefix: `t${process.pid % 1000}${iscRole[0]}i`, servers: 2, clients: CLIENTS });
      const macs = balancedMacs(CLIENTS);
      for (let i = 1; i <= CLIENTS; i++) await lab.setMac(`cli${i}`, macs[i - 1]!);
      writeFileSync(join(lab.dir, 'dhcpd.conf'), iscConfig(iscRole));
      writeFileSync(iscLeases(), '');
      writeFileSync(join(lab.dir, 'ours.yaml'), ourConfig(ourRole));
      startOurs();
      startIsc();
      await waitNormal('both NORMAL', 90_000);
    });

    after(async () => { await lab?.destroy(); });

    it('reaches NORMAL, and the secondary holds BACKUP addresses from pool balancing', async () => {
      if (ourRole === 'secondary') {
        await waitFor('ISC primary sends BACKUP addresses', async () => (await ourLeases()).some((l) => l.state === 'backup'), { timeoutMs: 30_000, intervalMs: 500 });
      } else {
        await waitFor('ISC secondary acked BACKUP addresses', async () => /backup/.test(readFileSync(iscLeases(), 'utf8')), { timeoutMs: 30_000, intervalMs: 500 });
      }
    });

    it('both servers hand out leases, and each lease reaches the other server', async () => {
      for (let i = 1; i <= CLIENTS; i++) await obtain(`cli${i}`);
      assertNoDuplicates('normal');
      const servers = new Set([...held.values()].map((h) => h.serverId));
      assert.deepEqual([...servers].sort(), [isc.self, ours.self].sort(), `both servers answered (${JSON.stringify([...held])})`);
      const expected = [...held.values()].map((h) => h.ip).sort();
      await waitFor('our store holds every lease', async () => {
        const active = (await ourLeases()).filter((l) => l.state === 'active').map((l) => l.ip);
        return expected.every((ip) => active.includes(ip));
      }, { timeoutMs: 15_000, intervalMs: 500 });
      await waitFor('ISC lease file holds every lease', async () => {
        const active = iscActiveLeases(readFileSync(iscLeases(), 'utf8'));
        return expected.every((ip) => active.has(ip));
      }, { timeoutMs: 15_000, intervalMs: 500 });
      // Same client on both sides for every address either side holds active.
      const theirs = iscActiveLeases(readFileSync(iscLeases(), 'utf8'));
      for (const l of (await ourLeases()).filter((x) => x.state === 'active')) {
        const mac = theirs.get(l.ip);
        if (mac !== undefined) assert.equal(l.hwAddress?.toLowerCase(), mac, `${l.ip}: ours says ${l.hwAddress}, ISC says ${mac}`);
      }
      // The secondary handed out only addresses it owned: every lease it granted was BACKUP before.
      const secondaryIp = NODES.secondary.self;
      const bySecondary = [...held.values()].filter((h) => h.serverId === secondaryIp).map((h) => h.ip);
      assert.ok(bySecondary.length > 0, 'the secondary served some clients');
      const journal = readFileSync(iscLeases(), 'utf8');
      for (const ip of bySecondary) {
        const records = [...journal.matchAll(/lease (\d+\.\d+\.\d+\.\d+) \{([^}]*)\}/g)].filter((m) => m[1] === ip).map((m) => /binding state (\w+);/.exec(m[2] ?? '')?.[1]);
        const firstActive = records.indexOf('active');
        assert.ok(records.slice(0, firstActive).includes('backup'), `${ip} was BACKUP before the secondary leased it (ISC journal: ${records.join(' → ')})`);
      }
    });

    it('host names: each server keeps those its own clients sent; ISC accepts our BNDUPDs carrying one but neither sends nor stores names', async () => {
      const byIp = new Map([...held].map(([client, h]) => [h.ip, { client, ...h }]));
      const ourActive = new Map((await ourLeases()).filter((l) => l.state === 'active').map((l) => [l.ip, l]));
      const iscNames = iscHostnames(readFileSync(iscLeases(), 'utf8'));
      const iscActive = iscActiveLeases(readFileSync(iscLeases(), 'utf8'));
      let ourGrants = 0, iscGrants = 0;
      for (const [ip, h] of byIp) {
        assert.ok(iscActive.has(ip) && ourActive.has(ip), `${ip} active on both sides`);
        if (h.serverId === ours.self) {
          ourGrants++;
          assert.equal(ourActive.get(ip)?.hostname, hostnameOf(h.client), `${ip}: our store has the name ${h.client} sent us`);
          assert.equal(iscNames.get(ip), undefined, `${ip}: ISC 4.4.3 does not store a name from a BNDUPD (its record: ${iscNames.get(ip)})`);
        } else {
          iscGrants++;
          assert.equal(iscNames.get(ip), hostnameOf(h.client), `${ip}: ISC's own lease file has client-hostname`);
          assert.equal(ourActive.get(ip)?.hostname, undefined, `${ip}: ISC 4.4.3 sends no name in its BNDUPD`);
        }
      }
      assert.ok(ourGrants > 0 && iscGrants > 0, `both servers granted leases (ours ${ourGrants}, ISC ${iscGrants})`);
      // ISC accepted our BNDUPDs with a name (active in its file above, none refused) and the pair stayed NORMAL.
      const iscLogText = readFileSync(iscLog(), 'utf8');
      for (const [ip, h] of byIp) if (h.serverId === ours.self) assert.doesNotMatch(iscLogText, new RegExp(`bind update on ${ip.replace(/\./g, '\\.')} from \\S+ rejected`));
      const st = await ourStatus();
      assert.equal(st?.failover.state, 'normal');
      assert.equal(st?.failover.partner.state, 'normal');
    });

    it('ISC killed: clients keep their addresses from us; ISC restarted: back to NORMAL', async () => {
      dhcpd?.signal('SIGKILL');
      await waitFor('we notice', async () => (await ourStatus())?.failover.state === 'communications-interrupted', { timeoutMs: 30_000, intervalMs: 500 });
      for (let i = 1; i <= CLIENTS; i++) {
        const before = held.get(`cli${i}`)!.ip;
        const got = await obtain(`cli${i}`);
        assert.equal(got.ip, before, `cli${i} keeps its address while ISC is down`);
        assert.equal(got.serverId, ours.self);
      }
      startIsc();
      await waitNormal('NORMAL again after ISC restart', 120_000);
      assertNoDuplicates('recovered');
    });

    it('ours killed and restarted with an empty store (a migrated server joining): RECOVER, then NORMAL holding every lease', async () => {
      await lab.kill(ours.node);
      startOurs();
      await waitNormal('NORMAL after our restart', 150_000);
      const expected = [...held.values()].map((h) => h.ip).sort();
      await waitFor('our store relearnt every lease', async () => {
        const active = (await ourLeases()).filter((l) => l.state === 'active').map((l) => l.ip);
        return expected.every((ip) => active.includes(ip));
      }, { timeoutMs: 15_000, intervalMs: 500 });
      for (let i = 1; i <= CLIENTS; i++) assert.equal((await obtain(`cli${i}`)).ip, expected.find((ip) => ip === held.get(`cli${i}`)!.ip));
      assertNoDuplicates('after our restart');
    });
  });
}
