// Durability of acknowledged leases (issue 6): a failover pair of real server processes on loopback
// (127.0.0.6 primary, 127.0.0.7 secondary), each with its own redis-server (appendonly, appendfsync
// always, as the operator renders it). A relay socket gets a few hundred leases from both; right
// after the last ACK the primary AND its Redis are killed with SIGKILL at once. Then:
//   - the partner, alive, holds every lease either server acknowledged that it was told about, and
//     keeps serving: every client renews its SAME address from it;
//   - the primary's Redis, restarted, holds every lease the primary acknowledged (the ACK is sent
//     only after the store has the lease; appendfsync always makes that a disk write);
//   - the restarted primary recovers to NORMAL and both stores hold every acknowledged lease.
// Needs root (UDP port 67 on the relay address) and redis-server. Every wait and loop is bounded.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { StoreConfig } from '../../src/config/schema.ts';
import { openStore } from '../../src/leases/open-store.ts';
import { formatIpv4 } from '../../src/net/ipv4.ts';
import { startRedis, type RunningRedis } from '../fakes/redis-server.ts';
import { macOf, RelayClient, type Acquired } from '../fakes/relay-client.ts';

const BIN = fileURLToPath(new URL('../../bin/dhcp-failover', import.meta.url));
const BASE = 41_000 + (process.pid % 2000) * 4;
const DHCP_PORT = BASE, FO_PORT = BASE + 1, ADMIN_PORT = BASE + 2;
const HOSTS = { primary: '127.0.0.6', secondary: '127.0.0.7' } as const;
const RELAY = '127.0.8.1';
const CLIENTS = 300;
type Role = keyof typeof HOSTS;
const skip = typeof process.getuid === 'function' && process.getuid() !== 0 ? 'needs root (UDP port 67 for the test relay)'
  : !existsSync('/usr/bin/redis-server') ? 'needs redis-server' : false;

const dir = mkdtempSync(join(tmpdir(), 'durability-'));
const procs = new Map<Role, ChildProcess>();
const redis = new Map<Role, RunningRedis>();
const storeConfig = (role: Role): StoreConfig => ({ type: 'redis', url: redis.get(role)!.url, keyPrefix: 'dhcp:' } as StoreConfig);

function configText(role: Role): string {
  const partner: Role = role === 'primary' ? 'secondary' : 'primary';
  return `server:
  name: dur-${role}
  listen: { address: ${HOSTS[role]}, port: ${DHCP_PORT}, interfaces: [] }
  admin: { address: ${HOSTS[role]}, port: ${ADMIN_PORT} }
  store: { type: redis, url: "${redis.get(role)!.url}" }
scopes:
  - name: relayed
    subnet: 127.0.8.0/23
    ranges: [{ start: 127.0.8.10, end: 127.0.9.250 }]
    leaseSeconds: 600
failover:
  relationship: durability
  role: ${role}
  address: ${HOSTS[role]}
  port: ${FO_PORT}
  partner: { address: ${HOSTS[partner]}, port: ${FO_PORT} }
  mode: load-balance
  mcltSeconds: 600
  maxResponseDelaySeconds: 3
  startupSeconds: 1
  sharedSecret: durable
`;
}

function startServer(role: Role): void {
  const file = join(dir, `${role}.yaml`);
  writeFileSync(file, configText(role));
  const log = openSync(join(dir, `${role}.log`), 'a');
  const child = spawn(BIN, ['server', '--config', file], { stdio: ['ignore', log, log] });
  procs.set(role, child);
}
async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

async function stateOf(role: Role): Promise<string | undefined> {
  try {
    const res = await fetch(`http://${HOSTS[role]}:${ADMIN_PORT}/status`, { signal: AbortSignal.timeout(1000) });
    return ((await res.json()) as { failover?: { state: string } }).failover?.state;
  } catch { return undefined; }
}
async function until(what: string, probe: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (let n = 0; n < 1000 && Date.now() < end; n++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; logs in ${dir}`);
}
/** Active bindings in a store, address → hardware key, read straight from Redis (not through a server). */
async function activeIn(role: Role): Promise<Map<string, string>> {
  const store = await openStore(storeConfig(role));
  try {
    const leases = await store.loadAll();
    return new Map(leases.filter((l) => l.state === 'active').map((l) => [formatIpv4(l.ip), l.hw ?? '']));
  } finally { await store.close(); }
}


describe('durability: acknowledged leases survive kill -9 of a server and its Redis', { skip, timeout: 180_000 }, () => {
  const relay = new RelayClient({ relayAddress: RELAY, targets: Object.values(HOSTS), serverPort: DHCP_PORT });
  const acked: Acquired[] = [];

  before(async () => {
    for (const role of ['primary', 'secondary'] as const) redis.set(role, await startRedis({ appendonly: true, appendfsync: 'always' }));
    await relay.open();
    startServer('primary');
    startServer('secondary');
    await until('both NORMAL', async () => (await stateOf('primary')) === 'normal' && (await stateOf('secondary')) === 'normal', 30_000);
  });

  after(async () => {
    relay.close();
    for (const child of procs.values()) await kill9(child);
    for (const r of redis.values()) await r.stop();
    if (!process.env.KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
  });

  it(`${CLIENTS} clients get leases from both servers; then the primary and its Redis die together`, async () => {
    for (let i = 0; i < CLIENTS; i += 20) {
      const batch = await Promise.all(Array.from({ length: Math.min(20, CLIENTS - i) }, (_, k) => relay.acquire(macOf(0xd0, i + k))));
      for (const a of batch) if (a !== undefined) acked.push(a);
    }
    await Promise.all([kill9(procs.get('primary')!), redis.get('primary')!.kill9()]);
    assert.ok(acked.length >= CLIENTS * 0.95, `${acked.length} of ${CLIENTS} clients got a lease`);
    const byServer = new Set(acked.map((a) => a.server));
    assert.deepEqual([...byServer].sort(), [HOSTS.primary, HOSTS.secondary], 'both servers acknowledged leases');
    assert.equal(new Set(acked.map((a) => a.ip)).size, acked.length, 'no address acknowledged to two clients');
  });

  it('the partner holds every lease it acknowledged, and every client renews its SAME address from it', async () => {
    await until('the secondary notices', async () => (await stateOf('secondary')) === 'communications-interrupted', 15_000);
    const theirs = await activeIn('secondary');
    for (const a of acked.filter((x) => x.server === HOSTS.secondary)) assert.equal(theirs.get(a.ip), a.hw, `${a.ip} (acked by the secondary)`);
    const renewals = await Promise.all(acked.slice(0, 40).map((a) => relay.acquire(a.mac, { requested: a.ip })));
    renewals.forEach((r, k) => {
      assert.equal(r?.ip, acked[k]!.ip, `${acked[k]!.mac} keeps its address`);
      assert.equal(r?.server, HOSTS.secondary);
    });
  });

  it('the primary\'s Redis, restarted from its append-only file, holds every lease the primary acknowledged', async () => {
    await redis.get('primary')!.restart();
    const ours = await activeIn('primary');
    const missing = acked.filter((a) => a.server === HOSTS.primary && ours.get(a.ip) !== a.hw);
    assert.deepEqual(missing, [], `${missing.length} acknowledged leases lost by the primary's Redis`);
  });

  it('the restarted primary recovers to NORMAL, and both stores hold every acknowledged lease', async () => {
    startServer('primary');
    await until('both NORMAL', async () => (await stateOf('primary')) === 'normal' && (await stateOf('secondary')) === 'normal', 60_000);
    let missing: string[] = [];
    await until('both stores hold every acknowledged lease', async () => {
      const [p, s] = await Promise.all([activeIn('primary'), activeIn('secondary')]);
      missing = acked.flatMap((a) => [
        ...(p.get(a.ip) === a.hw ? [] : [`primary lacks ${a.ip} (acked by ${a.server}, has ${p.get(a.ip)})`]),
        ...(s.get(a.ip) === a.hw ? [] : [`secondary lacks ${a.ip} (acked by ${a.server}, has ${s.get(a.ip)})`]),
      ]);
      return missing.length === 0;
    }, 30_000).catch((err: Error) => { throw new Error(`${err.message}: ${missing.length} missing, e.g. ${missing.slice(0, 5).join('; ')}`); });
  });
});
