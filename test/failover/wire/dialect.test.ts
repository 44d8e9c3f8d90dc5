import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BindingState } from '../../../src/leases/lease.ts';
import {
  ISC_BINDING_STATUS, MS_ADDRESS_STATE, MS_IP_FLAGS, MS_REDISTRIBUTION, bindingStateFromWire, bindingStateOf, bindingStateToWire, wireDialectOf,
} from '../../../src/failover/wire/dialect.ts';

const STATES = Object.values(BindingState);
/** MS redistribution updates carry no client; every other MS update does (MS-DHCPF 3.1.5.2 table). */
const msHasClient = (s: string): boolean => s !== 'free' && s !== 'backup';

describe('binding-status dialects', () => {
  it('ISC/draft values are 1..7 (digest §3.3) and map both ways', () => {
    assert.deepEqual(ISC_BINDING_STATUS, { free: 1, active: 2, expired: 3, released: 4, abandoned: 5, reset: 6, backup: 7 });
    for (const s of STATES) {
      const w = bindingStateToWire(s, 'isc');
      assert.equal(w.ipFlags, 0);
      assert.equal(bindingStateFromWire(w, 'isc', { hasClient: false }), s);
      assert.equal(bindingStateFromWire(w, 'isc', { hasClient: true }), s);
    }
    for (const v of [0, 8, 255]) assert.equal(bindingStateFromWire({ bindingStatus: v }, 'isc', { hasClient: true }), undefined);
    assert.deepEqual(bindingStateToWire('active', 'isc', { ipFlags: 2 }), { bindingStatus: 2, ipFlags: 2 });
  });
  it('MS values map both ways for every canonical state', () => {
    for (const s of STATES) {
      const w = bindingStateToWire(s, 'ms');
      assert.equal(bindingStateFromWire(w, 'ms', { hasClient: msHasClient(s) }), s, `${s} → ${JSON.stringify(w)}`);
    }
  });
  it('MS encodings follow MS-DHCPF 3.1.4.2', () => {
    assert.deepEqual(bindingStateToWire('free', 'ms'), { bindingStatus: MS_REDISTRIBUTION.FREE, ipFlags: 0 });
    assert.deepEqual(bindingStateToWire('backup', 'ms'), { bindingStatus: MS_REDISTRIBUTION.BACKUP, ipFlags: 0 });
    assert.deepEqual(bindingStateToWire('active', 'ms', { msStatusBits: 0x24 }), { bindingStatus: 0x25, ipFlags: 0 });
    assert.deepEqual(bindingStateToWire('released', 'ms'), { bindingStatus: MS_ADDRESS_STATE.ACTIVE, ipFlags: MS_IP_FLAGS.RELEASED });
    assert.deepEqual(bindingStateToWire('expired', 'ms'), { bindingStatus: MS_ADDRESS_STATE.DOOMED, ipFlags: 0 });
    assert.deepEqual(bindingStateToWire('abandoned', 'ms'), { bindingStatus: MS_ADDRESS_STATE.DECLINED, ipFlags: 0 });
    assert.deepEqual(bindingStateToWire('reset', 'ms'), { bindingStatus: MS_ADDRESS_STATE.DOOMED, ipFlags: MS_IP_FLAGS.DELETED });
  });
  it('MS receiver mapping: redistribution codes only without a client; RELEASED flag wins; DHCID/DNS bits ignored', () => {
    const cases: [number, number, boolean, string][] = [
      [MS_REDISTRIBUTION.FREE_UPDATE, 0, false, 'free'], [MS_REDISTRIBUTION.RECONCILE, 0, false, 'free'],
      [MS_REDISTRIBUTION.BACKUP_UPDATE, 0, false, 'backup'],
      [1, 0, true, 'active'], [0, 0, true, 'active'], [2, 0, true, 'abandoned'], // 2 with a client is DECLINED, not BACKUP
      [0xf3, 0, true, 'expired'], [0x11, MS_IP_FLAGS.RELEASED, true, 'released'], [3, MS_IP_FLAGS.RELEASED, true, 'released'],
      [3, 0, false, 'expired'],
    ];
    for (const [bindingStatus, ipFlags, hasClient, want] of cases) {
      assert.equal(bindingStateFromWire({ bindingStatus, ipFlags }, 'ms', { hasClient }), want, JSON.stringify({ bindingStatus, ipFlags, hasClient }));
    }
  });
  it('bindingStateOf reads a decoded transaction (client = chaddr or client-id)', () => {
    assert.equal(bindingStateOf({ bindingStatus: 2 }, 'ms'), 'backup');
    assert.equal(bindingStateOf({ bindingStatus: 2, clientIdentifier: Buffer.from('01', 'hex') }, 'ms'), 'abandoned');
    assert.equal(bindingStateOf({ bindingStatus: 2, clientHardwareAddress: { htype: 1, address: Buffer.alloc(6) } }, 'isc'), 'active');
    assert.equal(bindingStateOf({}, 'isc'), undefined);
  });
  it('the draft dialect uses the ISC encoding', () => {
    assert.equal(wireDialectOf('draft'), 'isc');
    assert.equal(wireDialectOf('isc'), 'isc');
    assert.equal(wireDialectOf('ms'), 'ms');
  });
});
