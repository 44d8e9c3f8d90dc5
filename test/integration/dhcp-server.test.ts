// End to end: our DHCP server in a network namespace, real clients (udhcpc, dhclient) on the lab bridge
// and behind a real relay (dhcrelay). Needs root, iproute2, udhcpc, dhclient, dhcrelay, curl, redis-server.
//
// DHCP_SUT=isc runs the same scenarios against ISC dhcpd (same scopes) to check the test logic itself;
// the Redis case and the admin-endpoint checks are specific to our server and are skipped there.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createLab, labUnavailableReason, type Dhclient, type Lab } from '../fakes/netns-lab.ts';
import { sleep, waitFor, type TrackedProcess } from '../fakes/processes.ts';

const SUT = process.env.DHCP_SUT === 'isc' ? 'isc' : 'ours';
const BIN = fileURLToPath(new URL('../../bin/dhcp-failover', import.meta.url));
const skip = labUnavailableReason(['ip', 'udhcpc', 'dhclient', 'dhcrelay', 'curl', 'ss', ...(SUT === 'isc' ? ['dhcpd'] : [])]);
const PREFIX = `t${process.pid % 1000}s`;

// Lab scope: 20 addresses of which 14 are excluded, so only .64-.69 may ever be handed out.
const USABLE = ['10.99.0.64', '10.99.0.65', '10.99.0.66', '10.99.0.67', '10.99.0.68', '10.99.0.69'];
const RESERVED = { ip: '10.99.0.20', mac: '02:aa:bb:00:00:01' };
const LEASE_S = 60;

function oursConfig(store: string): string {
  return `server:
  name: srv1
  serverId: 10.99.0.2
  listen: { address: 0.0.0.0, port: 67, interfaces: [eth0] }
  admin: { address: 127.0.0.1, port: 8067 }
  store: ${store}
scopes:
  - name: lab
    subnet: 10.99.0.0/24
    ranges: [{ start: 10.99.0.50, end: 10.99.0.69 }]
    exclusions: [{ start: 10.99.0.50, end: 10.99.0.63 }]
    reservations: [{ ip: ${RESERVED.ip}, hwAddress: "${RESERVED.mac}" }]
    options: { routers: [10.99.0.1], domain-name-servers: [10.99.0.1], domain-name: lab.test }
    leaseSeconds: ${LEASE_S}
  - name: relayed
    subnet: 10.98.0.0/24
    ranges: [{ start: 10.98.0.10, end: 10.98.0.40 }]
    options: { routers: [10.98.0.1] }
    leaseSeconds: ${LEASE_S}
`;
}

const ISC_CONF = `authoritative;
ddns-update-style none;
default-lease-time ${LEASE_S};
max-lease-time ${LEASE_S};
ping-check false;
subnet 10.99.0.0 netmask 255.255.255.0 {
  option routers 10.99.0.1; option domain-name-servers 10.99.0.1; option domain-name "lab.test";
  range 10.99.0.64 10.99.0.69;
}
host reserved { hardware ethernet ${RESERVED.mac}; fixed-address ${RESERVED.ip}; }
subnet 10.98.0.0 netmask 255.255.255.0 { option routers 10.98.0.1; range 10.98.0.10 10.98.0.40; }
`;

/** The server under test, running in srv1. */
interface Sut {
  proc?: TrackedProcess;
  start(lab: Lab, store?: string): Promise<void>;
  stop(): Promise<void>;
  /** Binding state of an address as the server records it (undefined: no record). */
  leaseState(lab: Lab, ip: string): Promise<string | undefined>;
  logTail(): string;
}

function makeSut(): Sut {
  let logFile = '';
  let leaseFile = '';
  const sut: Sut = {
    async start(lab, store = '{ type: memory }') {
      logFile = join(lab.dir, `server-${Date.now()}.log`);
      if (SUT === 'isc') {
        const conf = join(lab.dir, 'dhcpd.conf');
        leaseFile = join(lab.dir, 'dhcpd.leases');
        writeFileSync(conf, ISC_CONF);
        if (!existsSync(leaseFile)) writeFileSync(leaseFile, '');
        sut.proc = lab.spawn('srv1', 'dhcpd', ['-4', '-f', '-d', '--no-pid', '-cf', conf, '-lf', leaseFile, 'eth0'], { logFile });
      } else {
        const conf = join(lab.dir, 'server.yaml');
        writeFileSync(conf, oursConfig(store));
        sut.proc = lab.spawn('srv1', BIN, ['server', '--config', conf], { logFile });
      }
      const proc = sut.proc;
      await waitFor('server listening on UDP 67', async () => {
        if (!proc.running) throw new Error(`server exited ${JSON.stringify(proc.exit)}:\n${sut.logTail()}`);
        return (await lab.exec('srv1', 'ss', ['-H', '-uln', 'sport = :67'])).stdout.trim() !== '';
      }, { timeoutMs: 15_000, intervalMs: 200 });
      if (SUT === 'ours') {
        await waitFor('/readyz', async () => (await lab.httpGet('srv1', 'http://127.0.0.1:8067/readyz')).status === 200,
          { timeoutMs: 10_000, intervalMs: 200 });
      }
    },
    async stop() { await sut.proc?.stop({ graceMs: 3_000 }); },
    async leaseState(lab, ip) {
      if (SUT === 'isc') {
        // dhcpd appends lease blocks; the last one for an address is current.
        const blocks = [...readFileSync(leaseFile, 'utf8').matchAll(/lease ([\d.]+) \{([^}]*)\}/g)].filter((m) => m[1] === ip);
        return blocks.at(-1)?.[2]?.match(/^\s*binding state (\w+);/m)?.[1];
      }
      const res = await lab.httpGet('srv1', `http://127.0.0.1:8067/leases?ip=${ip}`);
      if (res.status === 404) return undefined;
      assert.equal(res.status, 200, res.body);
      return (JSON.parse(res.body) as { state?: string }).state;
    },
    logTail: () => (logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-3000) : ''),
  };
  return sut;
}

let macSeq = 0x10;
const freshMac = (): string => `02:77:${(process.pid & 0xff).toString(16).padStart(2, '0')}:00:00:${(macSeq++ & 0xff).toString(16).padStart(2, '0')}`;

describe(`DHCP server end to end (${SUT}, memory store)`, { skip, timeout: 150_000 }, () => {
  let lab: Lab;
  const sut = makeSut();
  let direct: Dhclient; // cli2: obtains early, renews at T1 = 30 s, checked near the end
  let relayed: Dhclient; // rcli1: the same, through dhcrelay

  before(async () => {
    lab = await createLab({ prefix: PREFIX, servers: 1, clients: 4, relay: true, relayClients: 2 });
    await sut.start(lab);
    direct = lab.startDhclient('cli2');
    relayed = lab.startDhclient('rcli1');
  });

  after(async () => {
    if (process.exitCode) console.error(`server log tail:\n${sut.logTail()}`);
    await lab?.destroy();
  });

  it('udhcpc obtains a lease from the usable part of the pool with the scope options', async () => {
    const r = await lab.udhcpcOnce('cli1', { timeoutS: 10 });
    assert.ok(r.ok, `${r.output}\n${sut.logTail()}`);
    assert.ok(USABLE.includes(r.ip ?? ''), `${r.ip} not in ${USABLE.join(',')}`);
    assert.equal(r.serverId, '10.99.0.2');
    assert.equal(r.leaseSeconds, LEASE_S);
    assert.equal(r.router, '10.99.0.1');
    assert.equal(r.dns, '10.99.0.1');
    assert.equal(r.domain, 'lab.test');
    assert.equal(r.subnetMask, '255.255.255.0');
    assert.deepEqual(await lab.addresses('cli1'), [`${r.ip}/24`]);
    assert.equal(await sut.leaseState(lab, r.ip as string), 'active');
  });

  it('dhclient obtains a lease (BOUND)', async () => {
    const bound = await direct.waitEvent((e) => e.event === 'BOUND', 20_000);
    assert.ok(USABLE.includes(bound.ip ?? ''), `${bound.ip}`);
    assert.equal(bound.serverId, '10.99.0.2');
    assert.equal(bound.leaseSeconds, LEASE_S);
  });

  it('a client behind dhcrelay gets an address of the relayed subnet (dhclient)', async () => {
    const bound = await relayed.waitEvent((e) => e.event === 'BOUND', 20_000);
    assert.match(bound.ip ?? '', /^10\.98\.0\.(1\d|2\d|3\d|40)$/);
    assert.equal(bound.serverId, '10.99.0.2');
    assert.equal(bound.router, '10.98.0.1');
    assert.equal(await sut.leaseState(lab, bound.ip as string), 'active');
  });

  it('udhcpc behind dhcrelay obtains and releases a relayed lease', async () => {
    const r = await lab.udhcpcOnce('rcli2', { timeoutS: 10, release: true });
    assert.ok(r.ok, `${r.output}\n${sut.logTail()}`);
    assert.match(r.ip ?? '', /^10\.98\.0\.\d+$/);
    // The RELEASE is unicast from the client to the server through the relay's forwarding.
    const state = await waitFor('relayed lease released', async () => {
      const s = await sut.leaseState(lab, r.ip as string);
      return s !== 'active' ? s ?? 'none' : undefined;
    }, { timeoutMs: 5_000, intervalMs: 200 });
    assert.ok(['released', 'free', 'none'].includes(state), state);
  });

  it('a reservation is honoured: the reserved MAC gets the reserved address', async () => {
    await lab.setMac('cli3', RESERVED.mac);
    const r = await lab.udhcpcOnce('cli3', { timeoutS: 10 });
    assert.ok(r.ok, r.output);
    assert.equal(r.ip, RESERVED.ip);
    await lab.resetClient('cli3');
  });

  it('release frees the address', async () => {
    await lab.setMac('cli3', freshMac());
    const r = await lab.udhcpcOnce('cli3', { timeoutS: 10, release: true });
    assert.ok(r.ok, r.output);
    assert.ok(USABLE.includes(r.ip ?? ''));
    const state = await waitFor('lease released', async () => {
      const s = await sut.leaseState(lab, r.ip as string);
      return s !== 'active' ? s ?? 'none' : undefined;
    }, { timeoutMs: 5_000, intervalMs: 200 });
    assert.ok(['released', 'free', 'none'].includes(state), state);
    await lab.resetClient('cli3');
  });

  it('a REQUEST for a foreign address (INIT-REBOOT) is NAKed, then the client gets a valid lease', async () => {
    const c = lab.startDhclient('cli4', { leaseFileContent: foreignLease('10.55.0.7') });
    const bound = await c.waitEvent((e) => e.event === 'BOUND', 30_000);
    assert.match(c.log(), /DHCPREQUEST for 10\.55\.0\.7/);
    assert.match(c.log(), /DHCPNAK from 10\.99\.0\.2/);
    assert.ok(USABLE.includes(bound.ip ?? ''), `${bound.ip}`);
    await c.stop();
  });

  it('dhclient renews (T1) and keeps its address, directly and through the relay', async () => {
    const first = direct.events().find((e) => e.event === 'BOUND');
    const firstRelayed = relayed.events().find((e) => e.event === 'BOUND');
    assert.ok(first && firstRelayed);
    const renew = await direct.waitEvent((e) => e.event === 'RENEW', 45_000);
    assert.equal(renew.ip, first.ip);
    assert.equal(renew.serverId, '10.99.0.2');
    const renewRelayed = await relayed.waitEvent((e) => e.event === 'RENEW', 15_000);
    assert.equal(renewRelayed.ip, firstRelayed.ip);
    // Release through dhclient -r (direct): the address is no longer active.
    const res = await direct.release();
    assert.ok(direct.events().some((e) => e.event === 'RELEASE'), res.stderr);
    const state = await waitFor('dhclient lease released', async () => {
      const s = await sut.leaseState(lab, first.ip as string);
      return s !== 'active' ? s ?? 'none' : undefined;
    }, { timeoutMs: 5_000, intervalMs: 200 });
    assert.ok(['released', 'free', 'none'].includes(state), state);
    await relayed.release();
  });

  it('excluded addresses are never handed out, even when the pool runs out', async () => {
    const got: string[] = [];
    let exhausted = false;
    for (let i = 0; i < USABLE.length + 2 && !exhausted; i++) {
      await lab.setMac('cli3', freshMac());
      await lab.resetClient('cli3');
      const r = await lab.udhcpcOnce('cli3', { timeoutS: 3 });
      if (r.ok && r.ip) got.push(r.ip); else exhausted = true;
    }
    for (const ip of got) assert.ok(USABLE.includes(ip), `${ip} handed out, not in ${USABLE.join(',')}`);
    assert.ok(exhausted, `pool not exhausted after ${got.length} fresh clients: ${got.join(',')}`);
  });
});

describe('DHCP server end to end (ours, Redis store in the server namespace)', {
  skip: skip ?? (SUT === 'isc' ? 'Redis store is specific to our server' : labUnavailableReason(['redis-server', 'redis-cli'])),
  timeout: 90_000,
}, () => {
  let lab: Lab;
  const sut = makeSut();
  let sock = '';

  before(async () => {
    lab = await createLab({ prefix: `${PREFIX}r`, servers: 1, clients: 2 });
    sock = join(lab.dir, 'redis.sock');
    lab.spawn('srv1', 'redis-server', ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700', '--dir', lab.dir,
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''], { logFile: join(lab.dir, 'redis.log') });
    await waitFor('redis ping', async () => (await lab.exec('srv1', 'redis-cli', ['-s', sock, 'ping'], { allowFail: true })).stdout.trim() === 'PONG',
      { timeoutMs: 10_000, intervalMs: 100 });
    await sut.start(lab, `{ type: redis, path: ${sock} }`);
  });

  after(async () => {
    if (process.exitCode) console.error(`server log tail:\n${sut.logTail()}`);
    await lab?.destroy();
  });

  it('stores the lease in Redis and still knows it after a restart', async () => {
    const macA = freshMac();
    await lab.setMac('cli1', macA);
    const a = await lab.udhcpcOnce('cli1', { timeoutS: 10 });
    assert.ok(a.ok, `${a.output}\n${sut.logTail()}`);
    assert.ok(USABLE.includes(a.ip ?? ''));
    const keys = (await lab.exec('srv1', 'redis-cli', ['-s', sock, '--scan'])).stdout;
    assert.ok(keys.trim().length > 0, 'no keys written to Redis');

    await sut.stop();
    await sut.start(lab, `{ type: redis, path: ${sock} }`);
    assert.equal(await sut.leaseState(lab, a.ip as string), 'active');
    // Another client must not get A's address; A itself gets it back.
    await lab.setMac('cli2', freshMac());
    const b = await lab.udhcpcOnce('cli2', { timeoutS: 10 });
    assert.ok(b.ok, b.output);
    assert.notEqual(b.ip, a.ip);
    await lab.resetClient('cli1');
    await sleep(100);
    const again = await lab.udhcpcOnce('cli1', { timeoutS: 10 });
    assert.ok(again.ok, again.output);
    assert.equal(again.ip, a.ip);
  });
});

/** A dhclient lease-file entry for an address outside every lab subnet, valid for another hour. */
function foreignLease(ip: string): string {
  const fmt = (d: Date) => `${d.getUTCDay()} ${d.toISOString().slice(0, 19).replace('T', ' ').replaceAll('-', '/')}`;
  const later = new Date(Date.now() + 3_600_000);
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
