import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { availabilityOf, chooseAddress, STANDALONE_POLICY, type AllocationInput } from '../../src/dhcp/allocate.ts';
import { OfferBook } from '../../src/dhcp/offers.ts';
import { planScope, reservationFor } from '../../src/dhcp/pool.ts';
import type { Lease } from '../../src/leases/lease.ts';
import { LeaseIndex } from '../../src/leases/lease-index.ts';
import { ip, makeReservation, makeScope } from '../fakes/dhcp-builders.ts';

const NOW = 1_700_000_000_000;

function active(addr: string, hw: string, expiresAt = NOW + 60_000): Lease {
  return { ip: ip(addr), scope: 'lab', state: 'active', hw, expiresAt, cltt: NOW };
}

function input(overrides: Partial<AllocationInput> & { leases?: LeaseIndex } = {}): AllocationInput {
  const plan = overrides.plan ?? planScope(makeScope());
  return {
    plan, leases: new LeaseIndex(), offers: new OfferBook(), policy: STANDALONE_POLICY,
    client: { key: 'hw:1:020000000001' }, cursor: 0, now: NOW, ...overrides,
  };
}

describe('availabilityOf', () => {
  const table: { name: string; lease: Lease | undefined; expected: string }[] = [
    { name: 'no record', lease: undefined, expected: 'free' },
    { name: 'active, other client', lease: active('10.0.0.10', '1:0a'), expected: 'taken' },
    { name: 'active, same client', lease: active('10.0.0.10', '1:020000000001'), expected: 'own' },
    { name: 'active but run out', lease: active('10.0.0.10', '1:0a', NOW - 1), expected: 'reusable' },
    { name: 'released by other', lease: { ...active('10.0.0.10', '1:0a'), state: 'released' }, expected: 'reusable' },
    { name: 'abandoned, held', lease: { ip: 1, scope: 'lab', state: 'abandoned', expiresAt: NOW + 1, cltt: NOW }, expected: 'taken' },
    { name: 'abandoned, hold over', lease: { ip: 1, scope: 'lab', state: 'abandoned', expiresAt: NOW, cltt: NOW }, expected: 'reusable' },
    { name: 'free', lease: { ip: 1, scope: 'lab', state: 'free', expiresAt: 0, cltt: 0 }, expected: 'free' },
  ];
  for (const c of table) it(c.name, () => assert.equal(availabilityOf(c.lease, 'hw:1:020000000001', NOW), c.expected));
});

describe('chooseAddress', () => {
  it('takes the first free address from the cursor and advances it', () => {
    const got = chooseAddress(input({ cursor: 3 }));
    assert.deepEqual(got, { ip: ip('10.0.0.13'), source: 'pool', cursor: 4 });
  });

  it('gives a client back its current address', () => {
    const leases = new LeaseIndex();
    leases.set(active('10.0.0.17', '1:020000000001'));
    assert.deepEqual(chooseAddress(input({ leases })), { ip: ip('10.0.0.17'), source: 'existing', cursor: 0 });
  });

  it('honours a requested address only when it is free and dynamic', () => {
    const leases = new LeaseIndex();
    leases.set(active('10.0.0.15', '1:0b'));
    assert.equal(chooseAddress(input({ requested: ip('10.0.0.16') }))?.ip, ip('10.0.0.16'));
    assert.equal(chooseAddress(input({ leases, requested: ip('10.0.0.15') }))?.source, 'pool');
    assert.equal(chooseAddress(input({ requested: ip('10.0.0.99') }))?.source, 'pool');
  });

  it('gives a reservation and never hands the reserved address to others', () => {
    const plan = planScope(makeScope({ reservations: [makeReservation({ ip: ip('10.0.0.10'), hw: '1:020000000009' })] }));
    const reserved = input({ plan, client: { key: 'hw:1:020000000009' }, reservation: reservationFor(plan, 'hw:1:020000000009', undefined) });
    assert.deepEqual(chooseAddress(reserved), { ip: ip('10.0.0.10'), source: 'reservation', cursor: 0 });
    assert.equal(chooseAddress(input({ plan }))?.ip, ip('10.0.0.11'));
    assert.equal(chooseAddress(input({ plan, requested: ip('10.0.0.10') }))?.ip, ip('10.0.0.11'));
  });

  it('finds a reservation by hardware address when the client sends a client identifier', () => {
    const plan = planScope(makeScope({ reservations: [makeReservation({ ip: ip('10.0.0.20'), hw: '1:020000000009' })] }));
    assert.equal(reservationFor(plan, 'id:01020000000009', '1:020000000009')?.ip, ip('10.0.0.20'));
  });

  it('skips addresses offered to another client', () => {
    const offers = new OfferBook();
    offers.hold(ip('10.0.0.10'), 'hw:1:0c', NOW + 5000, NOW);
    assert.equal(chooseAddress(input({ offers }))?.ip, ip('10.0.0.11'));
    assert.equal(chooseAddress(input({ offers, now: NOW + 5000 }))?.ip, ip('10.0.0.10'), 'offer ran out');
  });

  it('prefers never-used addresses over other clients\' expired ones, and reuses those when nothing else is left', () => {
    const plan = planScope(makeScope({ ranges: [{ start: ip('10.0.0.10'), end: ip('10.0.0.11') }] }));
    const leases = new LeaseIndex();
    leases.set({ ...active('10.0.0.10', '1:0d'), state: 'expired' });
    assert.equal(chooseAddress(input({ plan, leases }))?.ip, ip('10.0.0.11'));
    leases.set(active('10.0.0.11', '1:0e'));
    assert.equal(chooseAddress(input({ plan, leases }))?.ip, ip('10.0.0.10'));
  });

  it('returns nothing when the pool is exhausted', () => {
    const plan = planScope(makeScope({ ranges: [{ start: ip('10.0.0.10'), end: ip('10.0.0.10') }] }));
    const leases = new LeaseIndex();
    leases.set(active('10.0.0.10', '1:0f'));
    assert.equal(chooseAddress(input({ plan, leases })), undefined);
  });

  it('consults the failover policy for addresses the client does not hold', () => {
    const policy = { mayAllocate: (addr: number) => addr !== ip('10.0.0.10') };
    assert.equal(chooseAddress(input({ policy }))?.ip, ip('10.0.0.11'));
  });

  it('never picks an address held by another client (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ slot: fc.integer({ min: 0, max: 10 }), client: fc.integer({ min: 0, max: 30 }), expired: fc.boolean() }), { maxLength: 30 }),
      fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 20 }), fc.option(fc.integer({ min: 0, max: 12 })),
      (records, me, cursor, requestedSlot) => {
        const leases = new LeaseIndex();
        for (const r of records) leases.set(active(`10.0.0.${10 + r.slot}`, `1:${r.client.toString(16).padStart(2, '0')}`, r.expired ? NOW - 1 : NOW + 1000));
        const key = `hw:1:${me.toString(16).padStart(2, '0')}`;
        const got = chooseAddress(input({ leases, client: { key }, cursor, requested: requestedSlot === null ? undefined : ip(`10.0.0.${10 + requestedSlot}`) }));
        if (got) assert.notEqual(availabilityOf(leases.get(got.ip), key, NOW), 'taken');
        else for (let s = 0; s <= 10; s++) assert.equal(availabilityOf(leases.get(ip(`10.0.0.${10 + s}`)), key, NOW), 'taken');
      },
    ));
  });
});
