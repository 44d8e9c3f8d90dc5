// The lab itself, checked against ISC dhcpd (a known-good server): if these fail, the lab is broken,
// not the server under test. Needs root, iproute2, iptables, udhcpc, dhclient, dhcrelay, isc-dhcp-server.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLab, labUnavailableReason, LAB_NET, type Lab } from '../fakes/netns-lab.ts';
import { run } from '../fakes/processes.ts';

const skip = labUnavailableReason(['ip', 'iptables', 'udhcpc', 'dhclient', 'dhcrelay', 'curl', 'ss', 'dhcpd']);
const PREFIX = `t${process.pid % 1000}l`;

const DHCPD_CONF = `authoritative;
ddns-update-style none;
default-lease-time 60;
max-lease-time 60;
ping-check false;
subnet 10.99.0.0 netmask 255.255.255.0 {
  option routers 10.99.0.1;
  range 10.99.0.50 10.99.0.250;
}
subnet 10.98.0.0 netmask 255.255.255.0 {
  option routers 10.98.0.1;
  range 10.98.0.10 10.98.0.20;
}
`;

describe('netns lab (against ISC dhcpd)', { skip, timeout: 120_000 }, () => {
  let lab: Lab;

  before(async () => {
    lab = await createLab({ prefix: PREFIX, servers: 2, clients: 2, relay: true });
    const conf = join(lab.dir, 'dhcpd.conf');
    const leases = join(lab.dir, 'dhcpd.leases');
    writeFileSync(conf, DHCPD_CONF);
    writeFileSync(leases, '');
    const dhcpd = lab.spawn('srv1', 'dhcpd', ['-4', '-f', '-d', '--no-pid', '-cf', conf, '-lf', leases, 'eth0'], { logFile: join(lab.dir, 'dhcpd.log') });
    await lab.waitUdpListening('srv1', 67, 10_000);
    assert.ok(dhcpd.running);
  });

  after(async () => { await lab?.destroy(); });

  it('creates the namespaces with the documented addresses', async () => {
    assert.deepEqual(await lab.addresses('srv1'), ['10.99.0.2/24']);
    assert.deepEqual(await lab.addresses('srv2'), ['10.99.0.3/24']);
    assert.deepEqual(await lab.addresses('cli1'), []);
    assert.deepEqual(await lab.addresses('relay'), [`${LAB_NET.relayIp}/24`]);
    const names = (await run('ip', ['netns', 'list'])).stdout;
    for (const n of ['br', 'srv1', 'srv2', 'cli1', 'cli2', 'relay', 'rcli1']) assert.match(names, new RegExp(`^${lab.ns(n)}\\b`, 'm'));
  });

  it('udhcpcOnce obtains a parsed lease and applies it only inside the client namespace', async () => {
    const r = await lab.udhcpcOnce('cli1', { timeoutS: 10 });
    assert.ok(r.ok, r.output);
    assert.match(r.ip ?? '', /^10\.99\.0\.\d+$/);
    assert.equal(r.serverId, '10.99.0.2');
    assert.equal(r.leaseSeconds, 60);
    assert.equal(r.router, '10.99.0.1');
    assert.deepEqual(await lab.addresses('cli1'), [`${r.ip}/24`]);
    await lab.resetClient('cli1');
  });

  it('dhclient obtains a lease and reports it through the hook', async () => {
    const c = lab.startDhclient('cli2');
    const bound = await c.waitEvent((e) => e.event === 'BOUND', 20_000);
    assert.match(bound.ip ?? '', /^10\.99\.0\.\d+$/);
    assert.equal(bound.serverId, '10.99.0.2');
    await c.release();
    assert.ok(c.events().some((e) => e.event === 'RELEASE'), c.log());
  });

  it('dhclient starting from a foreign lease gets a NAK (INIT-REBOOT), then a valid lease', async () => {
    const c = lab.startDhclient('cli2', { leaseFileContent: foreignLease('10.55.0.7') });
    const bound = await c.waitEvent((e) => e.event === 'BOUND', 30_000);
    assert.match(bound.ip ?? '', /^10\.99\.0\.\d+$/);
    assert.match(c.log(), /DHCPNAK from 10\.99\.0\.2/);
    await c.stop();
  });

  it('a client behind dhcrelay gets an address of the relayed subnet', async () => {
    const r = await lab.udhcpcOnce('rcli1', { timeoutS: 10 });
    assert.ok(r.ok, r.output);
    assert.match(r.ip ?? '', /^10\.98\.0\.(1\d|20)$/);
    assert.equal(r.serverId, '10.99.0.2');
  });

  it('cut() drops srv1<->srv2 only, heal() restores it', async () => {
    // curl to a closed port: refused (exit 7) when reachable, timeout (exit 28) when dropped.
    const probe = async (node: string, to: string) => (await lab.exec(node, 'curl', ['-s', '-m', '1', `http://${to}:9/`], { allowFail: true })).code;
    assert.equal(await probe('srv1', '10.99.0.3'), 7);
    await lab.cut();
    assert.equal(await probe('srv1', '10.99.0.3'), 28);
    assert.equal(await probe('srv2', '10.99.0.2'), 28);
    assert.equal(await probe('relay', '10.99.0.2'), 7);
    await lab.heal();
    assert.equal(await probe('srv1', '10.99.0.3'), 7);
  });

  it('destroy() stops tracked and untracked processes and deletes every namespace', async () => {
    const small = await createLab({ prefix: `${PREFIX}x`, servers: 1, clients: 0 });
    const tracked = small.spawn('srv1', 'sleep', ['300']);
    // Untracked: started by a short-lived shell, so only `ip netns pids` can find it.
    await small.exec('srv1', 'sh', ['-c', 'sleep 300 >/dev/null 2>&1 &']);
    assert.ok((await run('ip', ['netns', 'pids', small.ns('srv1')])).stdout.trim().split('\n').length >= 2);
    await small.destroy();
    assert.equal(tracked.running, false);
    const names = (await run('ip', ['netns', 'list'])).stdout;
    assert.doesNotMatch(names, new RegExp(`^${PREFIX}x-`, 'm'));
  });
});

/** A dhclient lease-file entry for an address no lab server owns, still valid for an hour. */
function foreignLease(ip: string): string {
  const fmt = (d: Date) => `${d.getUTCDay()} ${d.toISOString().slice(0, 19).replace('T', ' ').replaceAll('-', '/')}`;
  const now = new Date();
  const later = new Date(now.getTime() + 3_600_000);
  return `lease {
  interface "eth0";
  fixed-address ${ip};
  option subnet-mask 255.255.255.0;
  option dhcp-lease-time 7200;
  option dhcp-server-identifier 10.55.0.1;
  renew ${fmt(later)};
  rebind ${fmt(later)};
  expire ${fmt(new Date(later.getTime() + 3_600_000))};
}
`;
}
