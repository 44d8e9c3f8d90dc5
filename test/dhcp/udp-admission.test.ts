// The UDP edge under hostile and excessive traffic (issue 6), in-process on loopback: a starvation
// attempt from many MACs behind one relay, one client flooding, and more requests than a slow lease
// store can take. Each is limited and counted, and other clients are still served. Needs root: the
// test relays bind UDP port 67 on 127.0.9.x, where replies to relayed requests go.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, it } from 'node:test';
import { LIMITS_DEFAULTS } from '../../src/config/defaults.ts';
import type { LimitsConfig } from '../../src/config/schema.ts';
import { DhcpEngine } from '../../src/dhcp/engine.ts';
import { MessageType } from '../../src/dhcp/wire/message.ts';
import { DhcpUdpServer } from '../../src/dhcp/server.ts';
import { encodeMessage } from '../../src/dhcp/wire/packet.ts';
import type { Lease } from '../../src/leases/lease.ts';
import { createServerMetrics } from '../../src/metrics/registry.ts';
import { ip, makeConfig, makeRequest, makeScope } from '../fakes/dhcp-builders.ts';
import { RecordingStore } from '../fakes/recording-store.ts';
import { macOf, RelayClient } from '../fakes/relay-client.ts';

const SERVER = '127.0.0.41';
const PORT = 42_000 + (process.pid % 1000) * 3;
const skip = process.getuid?.() !== 0 ? 'needs root (the test relays bind UDP port 67)' : false;

class SlowStore extends RecordingStore {
  delayMs = 0;
  override async put(leases: readonly Lease[]): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    return super.put(leases);
  }
}

async function startServer(limits: Partial<LimitsConfig>, port: number, store = new SlowStore()) {
  const scope = makeScope({ subnetText: '127.0.9.0/24', ranges: [{ start: ip('127.0.9.10'), end: ip('127.0.9.250') }] });
  const config = makeConfig([scope], { serverId: ip(SERVER), listen: { address: SERVER, port, interfaces: [] } });
  const engine = new DhcpEngine({ config, store, interfaceAddresses: () => new Map() });
  const metrics = createServerMetrics({ defaultMetrics: false });
  const udp = new DhcpUdpServer({ engine, metrics, address: SERVER, port, limits: { ...LIMITS_DEFAULTS, ...limits } });
  await udp.start();
  const count = async (name: string, label: string) => {
    const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
    return (m?.values ?? []).filter((v) => Object.values(v.labels).includes(label)).reduce((a, v) => a + v.value, 0);
  };
  return { udp, store, metrics, count };
}

/** Fire-and-forget DISCOVERs from a relay address (no waiting for replies), as an attacker would. */
async function blast(from: string, port: number, messages: Buffer[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, from, () => r()));
  for (let i = 0; i < messages.length; i++) {
    s.send(messages[i]!, port, SERVER);
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 300));
  s.close();
}

const discover = (mac: string, giaddr: string) => encodeMessage(makeRequest({ type: MessageType.DISCOVER, mac, xid: Math.floor(Math.random() * 2 ** 31), giaddr: ip(giaddr) }));

describe('UDP edge admission: rate limits and overload shedding', { skip }, () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  after(async () => { for (const c of cleanup.reverse()) await c(); });

  it('a starvation attempt from 500 MACs behind one relay is limited per relay; a client behind another relay is served', async () => {
    const s = await startServer({ relayRatePerSecond: 50, relayBurst: 50 }, PORT);
    cleanup.push(() => s.udp.stop());
    const victim = new RelayClient({ relayAddress: '127.0.9.2', targets: [SERVER], serverPort: PORT });
    await victim.open();
    cleanup.push(() => victim.close());
    await blast('127.0.9.1', PORT, Array.from({ length: 500 }, (_, i) => discover(macOf(0x51, i), '127.0.9.1')));
    const limited = await s.count('dhcp_packets_dropped_total', 'rate_limited_relay');
    const offers = await s.count('dhcp_messages_sent_total', 'offer');
    assert.ok(limited >= 400, `${limited} of 500 counted as rate_limited_relay`);
    assert.ok(offers <= 100, `only ${offers} addresses offered to the flood (pool of 241 not exhausted)`);
    const lease = await victim.acquire('02:52:00:00:00:01');
    assert.ok(lease, 'a client behind another relay still gets a lease');
  });

  it('one client flooding is limited per client; another client behind the same relay is served', async () => {
    const s = await startServer({}, PORT + 1);
    cleanup.push(() => s.udp.stop());
    await blast('127.0.9.3', PORT + 1, Array.from({ length: 200 }, () => discover('02:53:00:00:00:01', '127.0.9.3')));
    const limited = await s.count('dhcp_packets_dropped_total', 'rate_limited_client');
    assert.ok(limited >= 150, `${limited} of 200 counted as rate_limited_client`);
    assert.ok((await s.count('dhcp_messages_sent_total', 'offer')) <= LIMITS_DEFAULTS.clientBurst + 10);
    const other = new RelayClient({ relayAddress: '127.0.9.3', targets: [SERVER], serverPort: PORT + 1 });
    await other.open();
    cleanup.push(() => other.close());
    assert.ok(await other.acquire('02:53:00:00:00:02'), 'another client is served');
  });

  it('more requests than a slow store takes: in-flight stays bounded, the oldest waiting are shed and counted, the event loop stays responsive, service resumes', async () => {
    const store = new SlowStore();
    store.delayMs = 30;
    const s = await startServer({ maxInFlight: 4, maxQueue: 20, maxQueueAgeMs: 500, clientRatePerSecond: 0 }, PORT + 2, store);
    cleanup.push(() => s.udp.stop());
    let maxInFlight = 0, maxLagMs = 0, last = Date.now();
    const probe = setInterval(async () => {
      const now = Date.now();
      maxLagMs = Math.max(maxLagMs, now - last - 10);
      last = now;
      maxInFlight = Math.max(maxInFlight, await s.count('dhcp_pending_packets', 'in_flight'));
    }, 10);
    cleanup.push(() => clearInterval(probe));
    // REQUESTs (SELECTING: our server id, a pool address) that each need a store write.
    const requests = Array.from({ length: 400 }, (_, i) => encodeMessage(makeRequest({
      type: MessageType.REQUEST, mac: macOf(0x54, i), xid: i + 1, giaddr: ip('127.0.9.4'), serverId: ip(SERVER), requested: ip(`127.0.9.${10 + (i % 240)}`),
    })));
    await blast('127.0.9.4', PORT + 2, requests);
    await new Promise((r) => setTimeout(r, 1500));
    clearInterval(probe);
    const shed = (await s.count('dhcp_packets_dropped_total', 'overload_shed')) + (await s.count('dhcp_packets_dropped_total', 'overload_stale'));
    assert.ok(shed >= 100, `${shed} requests shed and counted`);
    assert.ok(maxInFlight <= 4, `in flight peaked at ${maxInFlight}`);
    assert.ok(maxLagMs < 500, `event loop lag peaked at ${maxLagMs} ms`);
    assert.equal(await s.count('dhcp_pending_packets', 'queued'), 0, 'the queue drained');
    const after = new RelayClient({ relayAddress: '127.0.9.4', targets: [SERVER], serverPort: PORT + 2 });
    await after.open();
    cleanup.push(() => after.close());
    assert.ok(await after.acquire('02:54:ff:00:00:01'), 'service resumes once the burst is over');
  });
});
