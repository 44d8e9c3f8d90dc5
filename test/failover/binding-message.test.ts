import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bindingOf, proposedOf } from '../../src/failover/binding-message.ts';
import { decodeFailoverMessage, encodeFailoverMessage } from '../../src/failover/wire/message.ts';
import type { BindingState, Lease } from '../../src/leases/lease.ts';
import { parseIpv4, type Ipv4 } from '../../src/net/ipv4.ts';

const NOW = Date.UTC(2026, 10, 22, 12);
const MASK = parseIpv4('255.255.255.0');
const lease = (state: BindingState, extra: Partial<Lease> = {}): Lease => ({
  ip: parseIpv4('10.0.0.50'), scope: 's', state, hw: '1:aabbccddeeff', clientId: '01aabbccddeeff',
  expiresAt: NOW + 600_000, cltt: NOW - 5_000, tstp: NOW + 900_000, ...extra,
});
const STATES: BindingState[] = ['free', 'active', 'expired', 'released', 'abandoned', 'reset', 'backup'];

describe('binding transactions in the partner\'s dialect', () => {
  it('ISC: draft binding-status values, client only where ISC wants one, times in seconds, no IP-flags when zero', () => {
    const b = bindingOf(lease('active'), { now: NOW, dialect: 'isc' });
    assert.equal(b.bindingStatus, 2);
    assert.equal(b.ipFlags, undefined);
    assert.equal(b.leaseExpirationTime, (NOW + 600_000) / 1000);
    assert.equal(b.potentialExpirationTime, (NOW + 900_000) / 1000);
    assert.equal(b.clientHardwareAddress?.address.toString('hex'), 'aabbccddeeff');
    assert.equal(b.msClientSubnetMask, undefined);
    assert.equal(bindingOf(lease('abandoned'), { now: NOW, dialect: 'isc' }).clientHardwareAddress, undefined, 'ABANDONED goes without a client (ISC rejects it otherwise)');
    assert.equal(bindingOf(lease('free'), { now: NOW, dialect: 'isc' }).leaseExpirationTime, undefined);
  });

  it('ISC: an ended binding carries its end as PET (ISC credits a kept PET to the next client), never a later one', () => {
    for (const state of ['expired', 'released', 'reset'] as const) {
      assert.equal(bindingOf(lease(state, { expiresAt: NOW - 5_000 }), { now: NOW, dialect: 'isc' }).potentialExpirationTime, (NOW - 5_000) / 1000, state);
      // Released early: the lease end is still ahead, the binding ended now.
      assert.equal(bindingOf(lease(state), { now: NOW, dialect: 'isc' }).potentialExpirationTime, NOW / 1000, state);
    }
    assert.equal(bindingOf(lease('free'), { now: NOW, dialect: 'isc' }).potentialExpirationTime, undefined);
    assert.equal(bindingOf(lease('expired'), { now: NOW, dialect: 'ms', subnetMask: MASK as Ipv4 }).potentialExpirationTime, undefined, 'other dialects unchanged');
  });

  it('Microsoft: redistribution codes, IP-flags always, RELEASED as ACTIVE + flag, the subnet mask in every transaction', () => {
    const ctx = { now: NOW, dialect: 'ms' as const, subnetMask: MASK as Ipv4 };
    const released = bindingOf(lease('released'), ctx);
    assert.equal(released.bindingStatus, 1);
    assert.equal(released.ipFlags, 0x2);
    assert.equal(released.msClientSubnetMask, MASK);
    assert.deepEqual([bindingOf(lease('free'), ctx).bindingStatus, bindingOf(lease('backup'), ctx).bindingStatus], [1, 2]);
  });

  for (const dialect of ['isc', 'ms'] as const) {
    it(`${dialect}: every state survives encode → wire → decode (the codec's dialect checks pass)`, () => {
      fc.assert(fc.property(fc.constantFrom(...STATES), fc.integer({ min: 1, max: 3_000_000 }), (state, offsetS) => {
        const l = lease(state, { expiresAt: NOW + offsetS * 1000, tstp: NOW + offsetS * 1000 + 60_000 });
        const wire = encodeFailoverMessage({ type: 'BNDUPD', time: NOW / 1000, xid: 1, bindings: [bindingOf(l, { now: NOW, dialect, subnetMask: MASK as Ipv4 })] }, { dialect });
        const m = decodeFailoverMessage(wire);
        assert.equal(m.type, 'BNDUPD');
        const p = proposedOf(m.type === 'BNDUPD' ? m.bindings[0]! : (undefined as never), dialect);
        assert.equal(p.ip, l.ip);
        assert.equal(p.state, state);
        if (state === 'active') {
          assert.equal(p.expiresAt, l.expiresAt);
          assert.equal(p.pet, l.tstp);
          assert.equal(p.hw, l.hw);
          assert.equal(p.clientId, l.clientId);
        }
        assert.equal(p.cltt, l.cltt);
      }));
    });
  }

  it('Microsoft: an ABANDONED address with no known client still reads back as abandoned (DECLINED, not BACKUP)', () => {
    const l: Lease = { ip: parseIpv4('10.0.0.51'), scope: 's', state: 'abandoned', expiresAt: NOW, cltt: NOW };
    const b = bindingOf(l, { now: NOW, dialect: 'ms', subnetMask: MASK as Ipv4 });
    assert.equal(proposedOf(b, 'ms').state, 'abandoned');
    assert.equal(bindingOf(l, { now: NOW, dialect: 'isc' }).clientHardwareAddress, undefined);
  });

  it('reads ISC\'s RESERVED flag, and no such flag from Microsoft', () => {
    const b = { ...bindingOf(lease('active'), { now: NOW, dialect: 'isc' }), ipFlags: 0x1 };
    assert.equal(proposedOf(b, 'isc').reservedFlag, true);
    assert.equal(proposedOf(b, 'ms').reservedFlag, false);
  });
});
