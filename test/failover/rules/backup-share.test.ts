import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planScope } from '../../../src/dhcp/pool.ts';
import { planBackupTransfers } from '../../../src/failover/rules/backup-share.ts';
import type { Lease } from '../../../src/leases/lease.ts';
import { LeaseIndex } from '../../../src/leases/lease-index.ts';
import { formatIpv4, parseIpv4 } from '../../../src/net/ipv4.ts';
import { makeReservation, makeScope } from '../../fakes/dhcp-builders.ts';

const ip = (s: string) => parseIpv4(s);
const scope = (name: string, start: string, end: string, reservations: { ip: string; hw: string }[] = []) => planScope(makeScope({
  name, ranges: [{ start: ip(start), end: ip(end) }], reservations: reservations.map((r) => makeReservation({ ip: ip(r.ip), hw: r.hw })),
}));
const lease = (a: string, state: Lease['state'], cltt = 0): Lease => ({ ip: ip(a), scope: 's', state, expiresAt: 0, cltt, ...(state === 'active' ? { hw: '1:aabbccddeeff' } : {}) });
const plan = (leases: Lease[], opts: { percent?: number; offered?: string[]; max?: number; plans?: ReturnType<typeof scope>[] } = {}) => {
  const index = new LeaseIndex();
  for (const l of leases) index.set(l);
  const offered = new Set((opts.offered ?? []).map(ip));
  return planBackupTransfers({
    plans: opts.plans ?? [scope('s', '10.0.0.10', '10.0.0.19')], leases: index, secondaryPercent: opts.percent ?? 50,
    isOffered: (a) => offered.has(a), maxTransfers: opts.max ?? 1000,
  });
};

describe('pool balancing (primary → foreign secondary)', () => {
  it('hands half of an untouched pool to the secondary, never-used addresses in pool order', () => {
    const p = plan([]);
    assert.deepEqual(p.counts, [{ scope: 's', free: 10, backup: 0 }]);
    assert.deepEqual(p.toBackup.map((t) => formatIpv4(t.ip)), ['10.0.0.10', '10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14']);
  });

  it('counts only free-state addresses: active ones are nobody\'s pool', () => {
    const p = plan([lease('10.0.0.10', 'active'), lease('10.0.0.11', 'active'), lease('10.0.0.12', 'backup'), lease('10.0.0.13', 'expired')]);
    // free-state = 6 FREE + 1 BACKUP = 7 → target round(3.5) = 4 → 3 more
    assert.deepEqual(p.counts, [{ scope: 's', free: 6, backup: 1 }]);
    assert.equal(p.toBackup.length, 3);
    for (const t of p.toBackup) assert.ok(!['10.0.0.10', '10.0.0.11', '10.0.0.12', '10.0.0.13'].includes(formatIpv4(t.ip)));
  });

  it('a pool at or above its share gets nothing (no reclaiming)', () => {
    const backups = ['10.0.0.10', '10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14', '10.0.0.15'].map((a) => lease(a, 'backup'));
    assert.equal(plan(backups).toBackup.length, 0);
  });

  it('leaves offered and reserved addresses alone, and prefers never-used over recently freed', () => {
    const plans = [scope('s', '10.0.0.10', '10.0.0.13', [{ ip: '10.0.0.13', hw: '1:010203040506' }])];
    const p = plan([lease('10.0.0.10', 'free', 5000), lease('10.0.0.11', 'free', 1000)], { plans, offered: ['10.0.0.12'], percent: 100 });
    // free-state: .10 .11 .12 (reserved .13 excluded) → target 3; .12 is offered → the two freed ones, oldest first
    assert.deepEqual(p.toBackup.map((t) => formatIpv4(t.ip)), ['10.0.0.11', '10.0.0.10']);
  });

  it('uses the configured share (hot standby reserve 5 %) and the per-run cap', () => {
    const big = [scope('s', '10.0.0.1', '10.0.0.200')];
    assert.equal(plan([], { plans: big, percent: 5 }).toBackup.length, 10);
    assert.equal(plan([], { plans: big, percent: 50, max: 7 }).toBackup.length, 7);
  });
});
