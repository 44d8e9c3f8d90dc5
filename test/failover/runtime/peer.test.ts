import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { systemClock } from '../../../src/clock.ts';
import type { Scope } from '../../../src/config/schema.ts';
import { planScope } from '../../../src/dhcp/pool.ts';
import type { FailoverConfig } from '../../../src/config/failover.ts';
import type { EngineSurface } from '../../../src/failover/runtime/engine-surface.ts';
import { FailoverPeer } from '../../../src/failover/runtime/peer.ts';
import { metaKey } from '../../../src/failover/runtime/state-record.ts';
import { LeaseIndex } from '../../../src/leases/lease-index.ts';
import type { Lease } from '../../../src/leases/lease.ts';
import { createFailoverMetrics } from '../../../src/metrics/registry.ts';
import { parseCidr, parseIpv4 } from '../../../src/net/ipv4.ts';
import client from 'prom-client';
import { RecordingStore } from '../../fakes/recording-store.ts';
import { FakeEngine } from '../../fakes/peer-engine.ts';


let port = 30_000 + (process.pid % 20_000);
function pairConfigs(over: Partial<FailoverConfig> = {}): [FailoverConfig, FailoverConfig] {
  const pp = port++, sp = port++;
  const common = {
    relationship: 'lab', mode: 'load-balance' as const, splitPercent: 50, reservePercent: 0, mcltSeconds: 60, stateSwitchoverSeconds: undefined,
    maxUnackedUpdates: 5, maxResponseDelaySeconds: 5, partnerDialect: 'self' as const, loadBalanceMaxSeconds: 3, startupSeconds: 1,
    sharedSecret: undefined, sharedSecretFile: undefined, ...over,
  };
  return [
    { ...common, role: 'primary', address: '127.0.0.1', port: pp, partner: { address: '127.0.0.1', port: sp } },
    { ...common, role: 'secondary', address: '127.0.0.1', port: sp, partner: { address: '127.0.0.1', port: pp } },
  ];
}

async function until(what: string, test: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const running: FailoverPeer[] = [];
after(async () => { for (const p of running) await p.stop().catch(() => undefined); });

function makePeer(config: FailoverConfig, store = new RecordingStore()) {
  const engine = new FakeEngine(store);
  const metrics = createFailoverMetrics(new client.Registry());
  const peer = new FailoverPeer({ config, serverName: config.role, engine, store, clock: systemClock, metrics, backoffMs: { min: 50, max: 300 } });
  running.push(peer);
  return { peer, engine, store, metrics };
}

describe('FailoverPeer (two peers on loopback)', () => {
  it('fresh pair reaches NORMAL; a committed lease reaches the partner and is acked; link loss → COMMUNICATIONS-INTERRUPTED; reconnect → NORMAL', async () => {
    const [pc, sc] = pairConfigs();
    const a = makePeer(pc), b = makePeer(sc);
    await a.peer.start(); await b.peer.start();
    await until('both NORMAL', () => a.peer.snapshot.state === 'normal' && b.peer.snapshot.state === 'normal');
    assert.equal(b.peer.snapshot.config.mcltMs, 60_000, 'secondary adopted MCLT');
    assert.ok(b.store.meta.get(metaKey('lab'))?.includes('"normal"'), 'state persisted');

    const now = Date.now();
    const lease: Lease = { ip: parseIpv4('10.0.0.150'), scope: 'lab', state: 'active', hw: '1:aabbccddeeff', clientId: '01aabbccddeeff', expiresAt: now + 60_000, cltt: now };
    const writesBefore = a.store.writes.length;
    await a.engine.commit(lease, a.peer);
    // One write, owed to the partner with its PET, before any BNDUPD: a crash after the ACK still resends it.
    const first = a.store.writes[writesBefore]?.[0];
    assert.equal(first?.pendingAck, true);
    assert.ok((first?.partnerExpiresAt ?? 0) >= lease.expiresAt);
    await until('lease on the secondary', () => b.engine.leases.get(lease.ip)?.state === 'active');
    const got = b.engine.leases.get(lease.ip)!;
    assert.equal(got.hw, '1:aabbccddeeff');
    assert.equal(got.clientId, '01aabbccddeeff');
    assert.ok((got.tsfp ?? 0) >= Math.floor(lease.expiresAt / 1000) * 1000, 'received PET stored as tsfp');
    await until('acked', () => a.engine.leases.get(lease.ip)?.pendingAck === false);
    assert.equal(a.peer.status().updates.unacked, 0);

    // a released lease becomes FREE on both once acked
    await a.engine.commit({ ...lease, state: 'released', cltt: now + 1000 }, a.peer);
    await until('freed on both', () => a.engine.leases.get(lease.ip)?.state === 'free' && b.engine.leases.get(lease.ip)?.state === 'free');

    await b.peer.stop();
    await until('primary COMM-INT', () => a.peer.snapshot.state === 'communications-interrupted');
    assert.equal(a.peer.status().connection.up, false);

    // a lease committed while apart is queued and delivered after reconnect
    const l2: Lease = { ...lease, ip: parseIpv4('10.0.0.160'), hw: '1:010203040506', clientId: undefined as unknown as string, cltt: Date.now() };
    delete (l2 as { clientId?: string }).clientId;
    await a.engine.commit(l2, a.peer);
    await a.peer.idle();
    assert.equal(a.peer.status().updates.queued, 1);

    const b2 = makePeer(sc, b.store);
    for (const l of await b.store.loadAll()) b2.engine.leases.set(l);
    await b2.peer.start();
    await until('NORMAL again', () => a.peer.snapshot.state === 'normal' && b2.peer.snapshot.state === 'normal', 10_000);
    await until('queued lease delivered', () => b2.engine.leases.get(l2.ip)?.state === 'active');
  });

  it('a partner that stays connected but never acks is dropped after max-response-delay → COMMUNICATIONS-INTERRUPTED', async () => {
    const [pc, sc] = pairConfigs({ maxResponseDelaySeconds: 1 });
    const a = makePeer(pc), b = makePeer(sc);
    await a.peer.start(); await b.peer.start();
    await until('both NORMAL', () => a.peer.snapshot.state === 'normal' && b.peer.snapshot.state === 'normal');
    b.store.put = () => new Promise<void>(() => undefined); // the secondary's storage hangs: it never BNDACKs
    const now = Date.now();
    await a.engine.commit({ ip: parseIpv4('10.0.0.170'), scope: 'lab', state: 'active', hw: '1:0a0b0c0d0e0f', expiresAt: now + 60_000, cltt: now }, a.peer);
    await until('primary gives up on the link', () => a.peer.snapshot.state === 'communications-interrupted', 5000);
    await a.peer.stop(); await b.peer.stop();
  });

  it('ISC dialect: the pair reaches NORMAL; a secondary leaves expiries to the primary but reports its ACKs', async () => {
    const [pc, sc] = pairConfigs({ partnerDialect: 'isc' });
    const a = makePeer(pc), b = makePeer(sc);
    await a.peer.start(); await b.peer.start();
    await until('both NORMAL', () => a.peer.snapshot.state === 'normal' && b.peer.snapshot.state === 'normal');
    const now = Date.now();
    const expired: Lease = { ip: parseIpv4('10.0.0.180'), scope: 'lab', state: 'expired', hw: '1:0a0b0c0d0e01', expiresAt: now - 1, cltt: now - 1000 };
    const active: Lease = { ip: parseIpv4('10.0.0.181'), scope: 'lab', state: 'active', hw: '1:0a0b0c0d0e02', expiresAt: now + 60_000, cltt: now };
    await b.engine.commit(expired, b.peer);
    await b.engine.commit(active, b.peer);
    await until('active reaches the primary', () => a.engine.leases.get(active.ip)?.state === 'active');
    await b.peer.idle();
    assert.equal(a.engine.leases.get(expired.ip), undefined, 'EXPIRED not sent by an ISC-dialect secondary in NORMAL');
    assert.equal(b.peer.sync.queue.pendingCount + b.peer.sync.queue.inflightCount, 0);
    await a.peer.stop(); await b.peer.stop();
  });

  it('keeps the old state when persisting the new one fails', async () => {
    const [pc] = pairConfigs();
    const store = new RecordingStore();
    const a = makePeer(pc, store);
    await a.peer.start();
    assert.equal(a.peer.snapshot.state, 'startup');
    store.setMeta = async () => { throw new Error('disk full'); };
    await until('startup timer fired', () => false, 1500).catch(() => undefined);
    await a.peer.idle();
    assert.equal(a.peer.snapshot.state, 'startup', 'no transition without stable storage');
    await a.peer.stop();
  });

  it('admin partner-down from COMMUNICATIONS-INTERRUPTED', async () => {
    const [pc] = pairConfigs();
    const store = new RecordingStore();
    await store.setMeta(metaKey('lab'), JSON.stringify({ state: 'normal', stos: Date.now() - 10_000 }));
    const a = makePeer(pc, store);
    await a.peer.start();
    await until('COMM-INT after startup', () => a.peer.snapshot.state === 'communications-interrupted', 4000);
    await a.peer.adminPartnerDown();
    assert.equal(a.peer.snapshot.state, 'partner-down');
    assert.ok(store.meta.get(metaKey('lab'))?.includes('partner-down'));
    await a.peer.stop();
  });
});
