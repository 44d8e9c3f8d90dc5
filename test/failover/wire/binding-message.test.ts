import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bindingOf, proposedOf } from '../../../src/failover/wire/binding-message.ts';
import { MAX_HOST_NAME_BYTES } from '../../../src/failover/wire/host-name.ts';
import { decodeFailoverMessage, encodeFailoverMessage } from '../../../src/failover/wire/message.ts';
import type { BindingState, Lease } from '../../../src/leases/lease.ts';
import { parseIpv4, type Ipv4 } from '../../../src/net/ipv4.ts';

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

  describe('the client host name', () => {
    const isc = { now: NOW, dialect: 'isc' as const };
    const ms = { now: NOW, dialect: 'ms' as const, subnetMask: MASK as Ipv4 };
    const roundTrip = (l: Lease, ctx: typeof isc | typeof ms) => {
      const wire = encodeFailoverMessage({ type: 'BNDUPD', time: NOW / 1000, xid: 7, bindings: [bindingOf(l, ctx)] }, { dialect: ctx.dialect });
      const m = decodeFailoverMessage(wire);
      assert.ok(m.type === 'BNDUPD');
      return { wire, p: proposedOf(m.bindings[0]!, ctx.dialect) };
    };

    it('ISC/draft: inside client-request-options (8) as DHCP option 12 after the magic cookie, ACTIVE and RELEASED only', () => {
      const b = bindingOf(lease('active', { hostname: 'laptop-7' }), isc);
      assert.equal(b.clientRequestOptions?.toString('hex'), '63825363' + '0c08' + Buffer.from('laptop-7').toString('hex'));
      assert.equal(b.msClientName, undefined, 'no Microsoft option on an ISC link (ISC reads codes above 29 as nothing)');
      assert.ok(bindingOf(lease('released', { hostname: 'laptop-7' }), isc).clientRequestOptions !== undefined);
      for (const state of ['expired', 'reset', 'free', 'backup', 'abandoned'] as const) {
        assert.equal(bindingOf(lease(state, { hostname: 'laptop-7' }), isc).clientRequestOptions, undefined, `${state}: draft Table 7.1-1 says SHOULD NOT`);
      }
    });

    it('Microsoft: as Client Name (31) wherever a client goes, never with FREE/BACKUP', () => {
      assert.equal(bindingOf(lease('active', { hostname: 'laptop-7' }), ms).msClientName, 'laptop-7');
      assert.equal(bindingOf(lease('active', { hostname: 'laptop-7' }), ms).clientRequestOptions, undefined);
      assert.equal(bindingOf(lease('expired', { hostname: 'laptop-7' }), ms).msClientName, 'laptop-7');
      assert.equal(bindingOf(lease('free', { hostname: 'laptop-7' }), ms).msClientName, undefined);
      assert.equal(bindingOf(lease('backup', { hostname: 'laptop-7' }), ms).msClientName, undefined);
    });

    for (const dialect of ['isc', 'ms'] as const) {
      it(`${dialect}: encode → wire → decode gives the name back (ASCII, UTF-8, the longest allowed)`, () => {
        const ctx = dialect === 'isc' ? isc : ms;
        for (const name of ['a', 'laptop-7.example.net', 'Büro-PC', 'x'.repeat(MAX_HOST_NAME_BYTES)]) {
          const { p } = roundTrip(lease('active', { hostname: name }), ctx);
          assert.equal(p.hostname, name);
          assert.equal(p.hostNameProblem, undefined);
        }
      });

      it(`${dialect}: a stored name a receiver would refuse is not sent (too long, control characters)`, () => {
        const ctx = dialect === 'isc' ? isc : ms;
        for (const name of ['x'.repeat(MAX_HOST_NAME_BYTES + 1), 'é'.repeat(128), 'evil\nname', 'nul\u0000', '\ud800lone']) {
          const b = bindingOf(lease('active', { hostname: name }), ctx);
          assert.equal(b.clientRequestOptions, undefined, JSON.stringify(name));
          assert.equal(b.msClientName, undefined, JSON.stringify(name));
          assert.equal(roundTrip(lease('active', { hostname: name }), ctx).p.hostname, undefined);
        }
      });
    }

    it('without a host name the wire bytes are exactly what they were: the name only adds one option at the end', () => {
      for (const state of STATES) {
        const without = roundTrip(lease(state), isc).wire;
        const withName = roundTrip(lease(state, { hostname: 'laptop-7' }), isc).wire;
        if (state !== 'active' && state !== 'released') { assert.deepEqual(withName, without, state); continue; }
        const option = Buffer.concat([Buffer.from('0008000e63825363', 'hex'), Buffer.from([12, 8]), Buffer.from('laptop-7')]);
        assert.deepEqual(withName.subarray(12), Buffer.concat([without.subarray(12), option]), state);
        assert.equal(withName.readUInt16BE(0), without.readUInt16BE(0) + option.length);
      }
      // The binding built for a lease without a name has no host name field at all.
      const b = bindingOf(lease('active'), isc);
      assert.ok(!('clientRequestOptions' in b) && !('msClientName' in b));
    });

    it('a received host name that is not acceptable is reported, never thrown, and the rest of the binding stands', () => {
      const base = bindingOf(lease('active'), isc);
      const cases: [string, Buffer, string][] = [
        ['bad cookie', Buffer.from('000000000c0161', 'hex'), 'bad_cookie'],
        ['option past the end', Buffer.from('638253630c0561', 'hex'), 'truncated'],
        ['invalid UTF-8', Buffer.from('638253630c03ff6162', 'hex'), 'bad_utf8'],
        ['control character', Buffer.from('638253630c03610a62', 'hex'), 'control_character'],
        ['longer than 255 bytes (split option, RFC 3396)', Buffer.concat([Buffer.from('638253630cff', 'hex'), Buffer.alloc(255, 0x61), Buffer.from('0c0161', 'hex')]), 'too_long'],
      ];
      for (const [what, value, problem] of cases) {
        const p = proposedOf({ ...base, clientRequestOptions: value }, 'isc');
        assert.equal(p.hostNameProblem, problem, what);
        assert.equal(p.hostname, undefined, what);
        assert.equal(p.state, 'active', what);
        assert.equal(p.hw, '1:aabbccddeeff', what);
      }
      const msBase = bindingOf(lease('active'), ms);
      assert.equal(proposedOf({ ...msBase, msClientName: 'a\u0007b' }, 'ms').hostNameProblem, 'control_character');
      assert.equal(proposedOf({ ...msBase, msClientName: '\udc00' }, 'ms').hostNameProblem, 'bad_utf8');
      assert.equal(proposedOf({ ...base, msClientName: 'ignored' }, 'isc').hostname, undefined, 'option 31 means nothing on an ISC link');
    });

    it('other DHCP options, pads, an END and a name split in two (RFC 3396) are read as the draft allows', () => {
      const base = bindingOf(lease('active'), isc);
      const value = Buffer.concat([Buffer.from('63825363' + '00' + '3c03616263' + '0c036c6170' + '5103000000' + '0c03746f70' + 'ff' + '0c0178', 'hex')]);
      assert.equal(proposedOf({ ...base, clientRequestOptions: value }, 'isc').hostname, 'laptop');
      assert.equal(proposedOf({ ...base, clientRequestOptions: Buffer.from('63825363' + '3c03616263', 'hex') }, 'isc').hostname, undefined, 'no option 12: no name, no problem');
      assert.equal(proposedOf({ ...base, clientRequestOptions: Buffer.from('63825363' + '3c03616263', 'hex') }, 'isc').hostNameProblem, undefined);
      assert.equal(proposedOf({ ...base, clientRequestOptions: Buffer.from('638253630c0461620000', 'hex') }, 'isc').hostname, 'ab', 'trailing NULs dropped, as from clients');
    });

    it('random client-request-options never throw and give either a clean name or a problem', () => {
      const base = bindingOf(lease('active'), isc);
      fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, cookie) => {
        const value = Buffer.concat([cookie ? Buffer.from('63825363', 'hex') : Buffer.alloc(0), Buffer.from(bytes)]);
        const p = proposedOf({ ...base, clientRequestOptions: value }, 'isc');
        assert.ok(p.hostname === undefined || p.hostNameProblem === undefined);
        if (p.hostname !== undefined) {
          assert.ok(Buffer.byteLength(p.hostname) <= MAX_HOST_NAME_BYTES && p.hostname.length > 0);
          assert.doesNotMatch(p.hostname, /[\u0000-\u001f\u007f-\u009f]/u);
        }
      }));
    });
  });
});
