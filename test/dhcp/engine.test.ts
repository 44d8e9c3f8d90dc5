import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DhcpEngine, directScopesOf } from '../../src/dhcp/engine.ts';
import { MessageType } from '../../src/dhcp/wire/message.ts';
import { planScope } from '../../src/dhcp/pool.ts';
import { ip, makeConfig, makeRequest, makeReservation, makeScope } from '../fakes/dhcp-builders.ts';
import { LeaseIndex } from '../../src/leases/lease-index.ts';
import type { Lease } from '../../src/leases/lease.ts';
import { RecordingStore } from '../fakes/recording-store.ts';

const SERVER_ID = ip('10.0.0.2');

function engine(store = new RecordingStore(), now = () => 1_700_000_000_000, scopes = [makeScope()]) {
  return new DhcpEngine({ config: makeConfig(scopes), store, now, interfaceAddresses: () => new Map([['eth0', ['10.0.0.2']]]) });
}

async function dora(e: DhcpEngine, mac: string): Promise<number> {
  const offer = await e.handle(makeRequest({ type: MessageType.DISCOVER, mac }));
  assert.equal(offer.kind, 'reply');
  if (offer.kind !== 'reply') throw new Error('unreachable');
  const ack = await e.handle(makeRequest({ type: MessageType.REQUEST, mac, serverId: SERVER_ID, requested: offer.reply.yiaddr }));
  assert.equal(ack.kind === 'reply' && ack.reply.options.get(53)?.[0], MessageType.ACK);
  return offer.reply.yiaddr;
}

describe('DhcpEngine', () => {
  it('runs DORA for many clients without giving one address twice, writing each ACK to the store', async () => {
    const store = new RecordingStore();
    const e = engine(store);
    const got = [];
    for (let i = 0; i < 11; i++) got.push(await dora(e, `02:00:00:00:01:${i.toString(16).padStart(2, '0')}`));
    assert.equal(new Set(got).size, 11);
    assert.equal(store.leases.size, 11);
    const full = await e.handle(makeRequest({ type: MessageType.DISCOVER, mac: '02:00:00:00:02:00' }));
    assert.deepEqual(full, { kind: 'drop', reason: 'pool_exhausted', scope: 'lab' });
  });

  it('holds an offered address so a second client is offered another one', async () => {
    const e = engine();
    const a = await e.handle(makeRequest({ type: MessageType.DISCOVER, mac: '02:00:00:00:00:0a' }));
    const b = await e.handle(makeRequest({ type: MessageType.DISCOVER, mac: '02:00:00:00:00:0b' }));
    assert.ok(a.kind === 'reply' && b.kind === 'reply');
    if (a.kind === 'reply' && b.kind === 'reply') assert.notEqual(a.reply.yiaddr, b.reply.yiaddr);
  });

  it('keeps every lease across a restart with the same store', async () => {
    const store = new RecordingStore();
    const first = engine(store);
    const addr = await dora(first, '02:00:00:00:00:0c');
    const second = engine(store);
    assert.equal(await second.loadLeases(), 1);
    assert.equal(await dora(second, '02:00:00:00:00:0c'), addr, 'same client, same address');
    assert.notEqual(await dora(second, '02:00:00:00:00:0d'), addr);
  });

  it('sends no ACK when the store write fails', async () => {
    const store = new RecordingStore();
    const e = engine(store);
    store.failing = true;
    await assert.rejects(e.handle(makeRequest({ type: MessageType.REQUEST, serverId: SERVER_ID, requested: ip('10.0.0.10') })), { code: 'store_unavailable' });
  });

  it('applies a new config without losing leases; a removed range is no longer offered', async () => {
    const e = engine();
    const addr = await dora(e, '02:00:00:00:00:0e');
    e.applyConfig(makeConfig([makeScope({ ranges: [{ start: ip('10.0.0.30'), end: ip('10.0.0.40') }] })]));
    assert.equal(e.leases.get(addr)?.state, 'active');
    const offer = await e.handle(makeRequest({ type: MessageType.DISCOVER, mac: '02:00:00:00:00:0f' }));
    assert.ok(offer.kind === 'reply' && offer.reply.yiaddr >= ip('10.0.0.30'));
  });

  it('sweeps run-out leases to expired and counts them per scope', async () => {
    let now = 1_700_000_000_000;
    const store = new RecordingStore();
    const e = engine(store, () => now);
    await dora(e, '02:00:00:00:00:10');
    const pool = (p: Partial<Record<string, number>>) => ({ active: 0, free: 11, backup: 0, expired: 0, released: 0, abandoned: 0, reset: 0, ...p });
    assert.deepEqual(e.counts(), [{ scope: 'lab', subnet: '10.0.0.0/24', poolSize: 11, reservations: 0, byState: { active: 1 }, pool: pool({ active: 1, free: 10 }), utilizationPercent: 9 }]);
    now += 3_600_001;
    assert.equal(e.counts()[0]!.pool.active, 1, 'as stored: active until the sweep marks it expired');
    assert.equal(await e.sweepExpired(), 1);
    assert.deepEqual(e.counts(), [{ scope: 'lab', subnet: '10.0.0.0/24', poolSize: 11, reservations: 0, byState: { expired: 1 }, pool: pool({ expired: 1, free: 10 }), utilizationPercent: 0 }]);
    assert.equal([...store.leases.values()][0]?.state, 'expired');
  });

  it('counts per scope from the index: reservations are outside the pool, a reload recounts, the pool adds up to poolSize', async () => {
    const reserved = makeReservation({ ip: ip('10.0.0.12'), hw: '1:02000000aa01' });
    const outside = makeReservation({ ip: ip('10.0.0.50'), hw: '1:02000000aa02' });
    const e = engine(new RecordingStore(), () => 1_700_000_000_000, [makeScope({ reservations: [reserved, outside] })]);
    const lease = (addr: string, state: Lease['state']): Lease => ({ ip: ip(addr), scope: 'lab', state, expiresAt: 1_800_000_000_000, cltt: 1_700_000_000_000 });
    await e.applyRemote([lease('10.0.0.10', 'active'), lease('10.0.0.11', 'backup'), lease('10.0.0.12', 'active'), lease('10.0.0.13', 'free'), lease('10.0.0.14', 'released')]);
    const [c] = e.counts();
    assert.equal(c!.poolSize, 10, '11 addresses in the range, one of them reserved (the other reservation lies outside it)');
    assert.equal(c!.reservations, 2);
    assert.deepEqual(c!.byState, { active: 2, backup: 1, free: 1, released: 1 }, 'byState: every lease of the scope');
    assert.deepEqual(c!.pool, { active: 1, free: 7, backup: 1, expired: 0, released: 1, abandoned: 0, reset: 0 }, 'the reserved address\'s lease is not a pool lease');
    assert.equal(Object.values(c!.pool).reduce((a, b) => a + b, 0), c!.poolSize);
    assert.equal(c!.utilizationPercent, 10);
    // A reload that excludes 10.0.0.10: its lease leaves the pool, and so does the address.
    e.applyConfig(makeConfig([makeScope({ reservations: [reserved, outside], exclusions: [{ start: ip('10.0.0.10'), end: ip('10.0.0.10') }] })]));
    const [d] = e.counts();
    assert.deepEqual([d!.poolSize, d!.pool.active, d!.pool.free, d!.byState.active], [9, 0, 7, 2]);
    // A lease changing state moves between the counters; one changing scope leaves the old one.
    await e.applyRemote([{ ...lease('10.0.0.11', 'active') }]);
    assert.deepEqual([e.counts()[0]!.pool.active, e.counts()[0]!.pool.backup], [1, 0]);
  });

  it('LeaseIndex keeps its tallies through set, replace and delete', () => {
    const idx = new LeaseIndex();
    const l = (addr: string, scope: string, state: Lease['state']): Lease => ({ ip: ip(addr), scope, state, expiresAt: 0, cltt: 0 });
    idx.set(l('10.0.0.1', 'a', 'active'));
    idx.set(l('10.0.0.2', 'a', 'active'));
    idx.set(l('10.0.0.2', 'b', 'expired'));
    assert.deepEqual(idx.tally('a'), { pool: { active: 1 }, other: {} });
    assert.deepEqual(idx.tally('b'), { pool: { expired: 1 }, other: {} });
    idx.setPoolTest((x) => x.ip !== ip('10.0.0.1'));
    assert.deepEqual(idx.tally('a'), { pool: {}, other: { active: 1 } });
    idx.delete(ip('10.0.0.1'));
    idx.delete(ip('10.0.0.9'));
    assert.deepEqual(idx.tally('a'), { pool: {}, other: {} });
    assert.deepEqual(idx.tally('nope'), { pool: {}, other: {} });
  });

  it('serves direct clients from the scope holding the listening interface address, or the one named for it', () => {
    const plans = [planScope(makeScope({ name: 'a', subnetText: '10.1.0.0/24' })), planScope(makeScope({ name: 'b' }))];
    const config = makeConfig([]);
    assert.deepEqual(directScopesOf(plans, config, new Map([['eth0', ['10.0.0.2']]])).map((p) => p.scope.name), ['b']);
    const named = [planScope(makeScope({ name: 'c', subnetText: '10.2.0.0/24', interface: 'eth0' })), ...plans];
    assert.deepEqual(directScopesOf(named, config, new Map([['eth0', ['10.0.0.2']]])).map((p) => p.scope.name), ['c']);
  });
});
