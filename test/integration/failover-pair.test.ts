// Two real server processes (`bin/dhcp-failover server --config …`) forming a failover relationship
// over TCP on loopback (127.0.0.2 primary, 127.0.0.3 secondary), memory stores. A DHCP "relay" on
// 127.0.9.1 (a UDP socket on port 67, giaddr 127.0.9.1) gets a lease from the primary; the lease must
// appear in the secondary's /leases, with the client's host name. Then: kill the secondary → primary
// COMMUNICATIONS-INTERRUPTED; restart → NORMAL; a secondary with the wrong shared secret is refused and counted, never NORMAL.
// Needs root only for UDP port 67 on the relay address. Every wait is bounded; every process is
// stopped by PID in after().
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { MessageType } from '../../src/dhcp/wire/message.ts';
import { getMessageType } from '../../src/dhcp/wire/message-options.ts';
import { decodeMessage, encodeMessage } from '../../src/dhcp/wire/packet.ts';
import { formatIpv4 } from '../../src/net/ipv4.ts';
import { ip, makeRequest } from '../fakes/dhcp-builders.ts';
import { loopbackMemberConfig } from '../fakes/loopback-pair.ts';

const BIN = fileURLToPath(new URL('../../bin/dhcp-failover', import.meta.url));
const BASE = 21_000 + (process.pid % 2000) * 4;
const DHCP_PORT = BASE, FO_PORT = BASE + 1, ADMIN_PORT = BASE + 2;
const PRIMARY = '127.0.0.2', SECONDARY = '127.0.0.3', RELAY = '127.0.9.1';
const skip = typeof process.getuid === 'function' && process.getuid() !== 0 ? 'needs root (UDP port 67 for the test relay)' : false;

const dir = mkdtempSync(join(tmpdir(), 'fo-pair-'));
const procs = new Set<ChildProcess>();

function configFor(role: 'primary' | 'secondary', secret: string): string {
  return loopbackMemberConfig({
    name: `fo-${role}`, role, self: role === 'primary' ? PRIMARY : SECONDARY, partner: role === 'primary' ? SECONDARY : PRIMARY,
    ports: { dhcp: DHCP_PORT, failover: FO_PORT, admin: ADMIN_PORT }, relationship: 'it-pair', net: '127.0.9', mcltSeconds: 60, sharedSecret: secret,
  });
}

function startServer(role: 'primary' | 'secondary', secret = 'pair-secret'): ChildProcess {
  const file = join(dir, `${role}-${Date.now()}.yaml`);
  writeFileSync(file, configFor(role, secret));
  const log = openSync(join(dir, `${role}.log`), 'a');
  const child = spawn(BIN, ['server', '--config', file], { stdio: ['ignore', log, log] });
  procs.add(child);
  child.once('exit', () => procs.delete(child));
  return child;
}

async function stopServer(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

async function getJson(host: string, path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(`http://${host}:${ADMIN_PORT}${path}`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? (await res.json()) as Record<string, unknown> : undefined;
  } catch { return undefined; }
}
async function getText(host: string, path: string): Promise<string> {
  try { return await (await fetch(`http://${host}:${ADMIN_PORT}${path}`, { signal: AbortSignal.timeout(1000) })).text(); } catch { return ''; }
}
async function stateOf(host: string): Promise<string | undefined> {
  const s = await getJson(host, '/status');
  return (s?.failover as { state?: string } | undefined)?.state;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (let n = 0; n < 1000; n++) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; logs in ${dir}`);
}

/** One relayed DISCOVER/REQUEST exchange through our UDP "relay" socket. */
async function acquire(relay: dgram.Socket, server: string, mac: string, hostname?: string): Promise<string> {
  const xid = Math.floor(Math.random() * 0xffffffff);
  const exchange = async (msg: ReturnType<typeof makeRequest>, expect: number): Promise<ReturnType<typeof decodeMessage>> => {
    const packet = encodeMessage(msg);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { relay.off('message', onMsg); reject(new Error(`no ${expect} from ${server}`)); }, 3000);
      const onMsg = (buf: Buffer): void => {
        const reply = decodeMessage(buf);
        if (reply.xid !== xid || getMessageType(reply) !== expect) return;
        clearTimeout(t); relay.off('message', onMsg); resolve(reply);
      };
      relay.on('message', onMsg);
      relay.send(packet, DHCP_PORT, server);
    });
  };
  const extra: [number, Buffer][] = hostname === undefined ? [] : [[12, Buffer.from(hostname)]];
  const offer = await exchange(makeRequest({ type: MessageType.DISCOVER, mac, xid, giaddr: ip(RELAY), extra }), MessageType.OFFER);
  const serverId = offer.options.get(54)!.readUInt32BE(0);
  const ack = await exchange(makeRequest({ type: MessageType.REQUEST, mac, xid, giaddr: ip(RELAY), requested: offer.yiaddr, serverId, extra }), MessageType.ACK);
  return formatIpv4(ack.yiaddr);
}

describe('failover pair: two server processes on loopback', { skip }, () => {
  let relay: dgram.Socket;
  let primary: ChildProcess;
  let secondary: ChildProcess;

  before(async () => {
    relay = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => { relay.once('error', reject); relay.bind(67, RELAY, () => resolve()); });
  });
  after(async () => {
    relay?.close();
    for (const p of [...procs]) await stopServer(p, 'SIGKILL');
    if (!process.env.KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
  });

  it('both reach NORMAL', async () => {
    primary = startServer('primary');
    secondary = startServer('secondary');
    await until('both NORMAL', async () => (await stateOf(PRIMARY)) === 'normal' && (await stateOf(SECONDARY)) === 'normal', 20_000);
    const status = await getJson(PRIMARY, '/status');
    const fo = status?.failover as { partner: { state: string }; connection: { up: boolean } };
    assert.equal(fo.partner.state, 'normal');
    assert.equal(fo.connection.up, true);
    assert.match(await getText(PRIMARY, '/metrics'), /dhcp_failover_state\{relationship="it-pair",server="fo-primary",state="normal"\} 1/);
  });

  it('a lease ACKed by the primary appears in the secondary /leases, with the client\'s host name', async () => {
    // ff:ff:ff:ff:ff:ff hashes to bucket 79: the primary's half under the 50 % split.
    const leased = await acquire(relay, PRIMARY, 'ff:ff:ff:ff:ff:ff', 'pair-host-1');
    const seen = await until('lease on the secondary', async () => {
      const l = await getJson(SECONDARY, `/leases?ip=${leased}`);
      return l?.state === 'active' ? l : undefined;
    }, 10_000);
    assert.equal(seen.hwAddress, 'ff:ff:ff:ff:ff:ff');
    assert.equal(seen.hostname, 'pair-host-1', 'the host name crossed in the BNDUPD (client-request-options)');
    await until('update acked', async () => ((await getJson(PRIMARY, '/status'))?.failover as { updates: { unacked: number; queued: number } }).updates.unacked === 0 || undefined, 5000);
    // The BNDUPD → BNDACK round trip is timed.
    const acked = /dhcp_failover_update_ack_seconds_count\{relationship="it-pair"\} (\d+)/.exec(await getText(PRIMARY, '/metrics'));
    assert.ok(acked && Number(acked[1]) >= 1, 'ack latency observed');
  });

  it('killing the secondary → primary COMMUNICATIONS-INTERRUPTED; restart → NORMAL again (with the lease resent)', async () => {
    await stopServer(secondary, 'SIGKILL');
    await until('primary COMM-INT', async () => (await stateOf(PRIMARY)) === 'communications-interrupted', 10_000);
    secondary = startServer('secondary');
    // A restarted memory store is a lost database: it learns every binding (UPDREQALL), then waits MCLT in RECOVER-WAIT.
    await until('secondary has the bindings', async () => ['recover-wait', 'recover-done', 'normal'].includes((await stateOf(SECONDARY)) ?? ''), 30_000);
    const leases = await getJson(SECONDARY, '/leases');
    assert.ok(((leases?.leases as { hwAddress?: string; hostname?: string }[]) ?? []).some((l) => l.hwAddress === 'ff:ff:ff:ff:ff:ff' && l.hostname === 'pair-host-1'));
    assert.equal(await stateOf(SECONDARY), 'recover-wait', 'and serves nobody until MCLT has passed');
    await until('NORMAL again', async () => (await stateOf(PRIMARY)) === 'normal' && (await stateOf(SECONDARY)) === 'normal', 90_000);
  });

  it('a clean stop (SIGTERM) announces PAUSED to the partner; restarted → NORMAL', async () => {
    await stopServer(secondary, 'SIGTERM');
    await until('primary COMM-INT', async () => (await stateOf(PRIMARY)) === 'communications-interrupted', 10_000);
    const primaryLog = readFileSync(join(dir, 'primary.log'), 'utf8');
    assert.match(primaryLog, /"to":"communications-interrupted","partner":"paused"/, 'the primary heard STATE(PAUSED) before the link closed');
    assert.match(readFileSync(join(dir, 'secondary.log'), 'utf8'), /"to":"paused"/);
    secondary = startServer('secondary');
    await until('NORMAL again', async () => (await stateOf(PRIMARY)) === 'normal' && (await stateOf(SECONDARY)) === 'normal', 90_000); // a restarted memory store is a lost database: RECOVER-WAIT = MCLT
  });

  it('a secondary with the wrong shared secret is refused and counted, and never reaches NORMAL', async () => {
    await stopServer(secondary, 'SIGKILL');
    await until('primary COMM-INT', async () => (await stateOf(PRIMARY)) === 'communications-interrupted', 10_000);
    secondary = startServer('secondary', 'not-the-secret');
    const failures = await until('auth failures counted', async () => {
      const m = /dhcp_failover_auth_failures_total\{relationship="it-pair"\} (\d+)/.exec(await getText(SECONDARY, '/metrics'));
      return m && Number(m[1]) > 0 ? Number(m[1]) : undefined;
    }, 15_000);
    assert.ok(failures > 0);
    await new Promise((r) => setTimeout(r, 3000));
    assert.notEqual(await stateOf(SECONDARY), 'normal');
    assert.equal(await stateOf(PRIMARY), 'communications-interrupted');
    const fo = (await getJson(PRIMARY, '/status'))?.failover as { connection: { up: boolean } };
    assert.equal(fo.connection.up, false);
    // The log says why.
    assert.match(readFileSync(join(dir, 'secondary.log'), 'utf8'), /failover\.link\.auth_failed/);
  });
});
