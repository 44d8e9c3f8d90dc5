import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bucketMapForPercent, bucketMapForSplit } from '../../../src/failover/rules/load-balance.ts';
import { createFailoverPolicy, secondaryShareOf, type PolicyView, type PoolOwnership } from '../../../src/failover/rules/allocation-policy.ts';
import { settledOwnership } from '../../fakes/ownership.ts';
import { ownerIn, schemeOf } from '../../../src/failover/rules/address-ownership.ts';
import { serviceFor } from '../../../src/failover/protocol/service-state.ts';
import type { Dialect, Role, ServerState } from '../../../src/failover/protocol/state-machine.ts';
import type { Lease } from '../../../src/leases/lease.ts';
import { ip, makeRequest } from '../../fakes/dhcp-builders.ts';

const NOW = Date.UTC(2026, 0, 1);
const MCLT = 3600_000;
/** The pool the ownership tests split (a /24's worth, starting off a multiple of 100). */
const POOL = { start: ip('10.0.0.0'), end: ip('10.0.0.255') };

function policyFor(opts: { role: Role; state: ServerState; dialect?: Dialect; mode?: 'load-balance' | 'hot-standby'; stos?: number; split?: number; ownership?: PoolOwnership }) {
  const mode = opts.mode ?? 'load-balance';
  const config = { role: opts.role, mode, splitPercent: mode === 'hot-standby' ? 100 : opts.split ?? 50, reservePercent: mode === 'hot-standby' ? 5 : 0, loadBalanceMaxSeconds: 3 };
  const view: PolicyView = {
    state: opts.state, stos: opts.stos ?? NOW - 1000, mcltMs: MCLT, skewMs: 0,
    service: serviceFor(opts.state, { role: opts.role, dialect: opts.dialect ?? 'draft' }),
    hba: bucketMapForPercent(config.splitPercent, 'set-is-primary'),
  };
  const share = secondaryShareOf(config);
  return createFailoverPolicy({ config, polarity: 'set-is-primary', ownership: opts.ownership ?? settledOwnership(opts.role, share, POOL), view: () => view });
}

// MAC 00:11:22:33:44:55 hashes to bucket 135 (digest §8.2): secondary's under split 128; ff:ff:… → 79: primary's.
const SECONDARY_CLIENT = '00:11:22:33:44:55';
const PRIMARY_CLIENT = 'ff:ff:ff:ff:ff:ff';
const DISCOVER = 1, REQUEST = 3;
const ask = (p: ReturnType<typeof policyFor>, type: number, mac: string, extra: { secs?: number; ciaddr?: number } = {}) => {
  const msg = makeRequest({ type: type as 1, mac, ...(extra.ciaddr !== undefined ? { ciaddr: extra.ciaddr } : {}) });
  msg.secs = extra.secs ?? 0;
  return p.mayAnswer!({ type, msg, clientKey: `hw:1:${mac.replace(/:/g, '')}`, scope: 'lab' }, NOW);
};

describe('failover policy: mayAnswer', () => {
  const cases: { name: string; role: Role; state: ServerState; mode?: 'load-balance' | 'hot-standby'; type: number; mac: string; secs?: number; ciaddr?: number; expected: boolean }[] = [
    { name: 'NORMAL primary answers its bucket', role: 'primary', state: 'normal', type: DISCOVER, mac: PRIMARY_CLIENT, expected: true },
    { name: 'NORMAL primary ignores the secondary bucket', role: 'primary', state: 'normal', type: DISCOVER, mac: SECONDARY_CLIENT, expected: false },
    { name: 'NORMAL secondary answers its bucket', role: 'secondary', state: 'normal', type: DISCOVER, mac: SECONDARY_CLIENT, expected: true },
    { name: 'secs > loadBalanceMaxSeconds: takeover', role: 'primary', state: 'normal', type: DISCOVER, mac: SECONDARY_CLIENT, secs: 4, expected: true },
    { name: 'secs = max: no takeover yet', role: 'primary', state: 'normal', type: DISCOVER, mac: SECONDARY_CLIENT, secs: 3, expected: false },
    { name: 'NORMAL renewals are answered whatever the bucket', role: 'primary', state: 'normal', type: REQUEST, mac: SECONDARY_CLIENT, ciaddr: ip('10.0.0.5'), expected: true },
    { name: 'COMM-INT answers everyone', role: 'primary', state: 'communications-interrupted', type: DISCOVER, mac: SECONDARY_CLIENT, expected: true },
    { name: 'STARTUP answers nobody', role: 'primary', state: 'startup', type: DISCOVER, mac: PRIMARY_CLIENT, expected: false },
    { name: 'RECOVER answers nobody', role: 'secondary', state: 'recover', type: REQUEST, mac: SECONDARY_CLIENT, ciaddr: ip('10.0.0.5'), expected: false },
    { name: 'RECOVER-DONE: renewals only (draft)', role: 'secondary', state: 'recover-done', type: REQUEST, mac: SECONDARY_CLIENT, ciaddr: ip('10.0.0.5'), expected: true },
    { name: 'RECOVER-DONE: no DISCOVER', role: 'secondary', state: 'recover-done', type: DISCOVER, mac: SECONDARY_CLIENT, expected: false },
    { name: 'hot standby: standby ignores DISCOVER in NORMAL', role: 'secondary', state: 'normal', mode: 'hot-standby', type: DISCOVER, mac: SECONDARY_CLIENT, expected: false },
    { name: 'hot standby: standby answers renewals in NORMAL', role: 'secondary', state: 'normal', mode: 'hot-standby', type: REQUEST, mac: SECONDARY_CLIENT, ciaddr: ip('10.0.0.5'), expected: true },
    { name: 'hot standby: active answers every DISCOVER', role: 'primary', state: 'normal', mode: 'hot-standby', type: DISCOVER, mac: SECONDARY_CLIENT, expected: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = policyFor({ role: c.role, state: c.state, ...(c.mode ? { mode: c.mode } : {}) });
      assert.equal(ask(p, c.type, c.mac, { ...(c.secs !== undefined ? { secs: c.secs } : {}), ...(c.ciaddr !== undefined ? { ciaddr: c.ciaddr } : {}) }), c.expected);
    });
  }
  it('uses bucketMapForSplit consistently (sanity: split 128 gives the primary bucket 79, not 135)', () => {
    const map = bucketMapForSplit(128);
    assert.equal(((map[79 >> 3] ?? 0) >> (79 & 7)) & 1, 1);
    assert.equal(((map[135 >> 3] ?? 0) >> (135 & 7)) & 1, 0);
  });
});

describe('failover policy: pool ownership (mayAllocate)', () => {
  it('property: in NORMAL the two servers never may allocate the same never-used address', () => {
    fc.assert(fc.property(fc.integer({ min: ip('10.0.0.0'), max: ip('10.0.0.255') }), fc.integer({ min: 0, max: 100 }), (addr, split) => {
      const p = policyFor({ role: 'primary', state: 'normal', split });
      const s = policyFor({ role: 'secondary', state: 'normal', split });
      assert.notEqual(p.mayAllocate(addr, undefined, NOW), s.mayAllocate(addr, undefined, NOW));
    }), { numRuns: 500 });
  });

  it('splits the pool by the share, and secondaryShareOf reads the mode', () => {
    for (const share of [0, 5, 50, 70, 100]) {
      const scheme = schemeOf([{ intervals: [POOL], reserved: [] }], share);
      let secondary = 0;
      for (let a = POOL.start; a <= POOL.end; a++) if (ownerIn(scheme, a) === 'secondary') secondary++;
      assert.ok(Math.abs(secondary - 256 * share / 100) <= 1, `${secondary} at ${share} %`);
    }
    assert.equal(secondaryShareOf({ mode: 'hot-standby', splitPercent: 100, reservePercent: 5 }), 5);
    assert.equal(secondaryShareOf({ mode: 'load-balance', splitPercent: 70, reservePercent: 0 }), 30);
  });

  // Ownership is by position in the pool: pick one address of each side.
  const half = schemeOf([{ intervals: [POOL], reserved: [] }], 50);
  const own = [...Array(256).keys()].map((i) => POOL.start + i).find((a) => ownerIn(half, a) === 'primary')!;
  const theirs = [...Array(256).keys()].map((i) => POOL.start + i).find((a) => ownerIn(half, a) === 'secondary')!;
  const lease = (state: Lease['state'], extra: Partial<Lease> = {}): Lease => ({ ip: own, scope: 'lab', state, hw: '1:aa', expiresAt: NOW - 1, cltt: NOW - 10_000, ...extra });
  const table: { name: string; state: ServerState; addr: number; lease?: Lease; now?: number; stos?: number; expected: boolean }[] = [
    { name: 'NORMAL: own free address', state: 'normal', addr: own, expected: true },
    { name: 'NORMAL: partner free address', state: 'normal', addr: theirs, expected: false },
    { name: 'COMM-INT: own only', state: 'communications-interrupted', addr: theirs, expected: false },
    { name: 'NORMAL: expired, not yet acked → not to another client', state: 'normal', addr: own, lease: lease('expired'), expected: false },
    { name: 'NORMAL: FREE after the ack', state: 'normal', addr: own, lease: lease('free'), expected: true },
    { name: 'RECOVER: nothing', state: 'recover', addr: own, expected: false },
    { name: 'PARTNER-DOWN: own at once', state: 'partner-down', addr: own, stos: NOW, expected: true },
    { name: 'PARTNER-DOWN: partner pool not before MCLT', state: 'partner-down', addr: theirs, stos: NOW - MCLT + 1000, expected: false },
    { name: 'PARTNER-DOWN: partner pool after MCLT', state: 'partner-down', addr: theirs, stos: NOW - MCLT - 1, expected: true },
    { name: 'PARTNER-DOWN: bound address waits lease end + MCLT', state: 'partner-down', addr: own, lease: lease('expired', { expiresAt: NOW - 1000 }), stos: NOW - 2 * MCLT, expected: false },
    { name: 'PARTNER-DOWN: bound address after lease end + MCLT', state: 'partner-down', addr: own, lease: lease('expired', { expiresAt: NOW - MCLT - 1 }), stos: NOW - 2 * MCLT, expected: true },
  ];
  for (const c of table) {
    it(c.name, () => {
      const p = policyFor({ role: 'primary', state: c.state, ...(c.stos !== undefined ? { stos: c.stos } : {}) });
      assert.equal(p.mayAllocate(c.addr, c.lease ? { ...c.lease, ip: c.addr } : undefined, c.now ?? NOW), c.expected);
    });
  }
});

describe('failover policy: leaseSeconds (MCLT)', () => {
  it('a first binding gets MCLT and remembers PET = now + D + MCLT/2', () => {
    const p = policyFor({ role: 'primary', state: 'normal' });
    assert.equal(p.leaseSeconds!(own(), 86_400, undefined, NOW), 3600);
    assert.equal(p.petFor(own()), NOW + 86_400_000 + 1_800_000);
  });
  it('a renewal with an acked PET gets the desired time', () => {
    const p = policyFor({ role: 'primary', state: 'normal' });
    const l: Lease = { ip: own(), scope: 'lab', state: 'active', hw: '1:aa', expiresAt: NOW + 1000, cltt: NOW, partnerExpiresAt: NOW + 90_000_000, pendingAck: false };
    assert.equal(p.leaseSeconds!(own(), 86_400, l, NOW), 86_400);
  });
  it('leases shorter than MCLT are never shortened', () => {
    const p = policyFor({ role: 'secondary', state: 'communications-interrupted' });
    assert.equal(p.leaseSeconds!(own(), 600, undefined, NOW), 600);
  });
});
function own(): number { return ip('10.0.0.150'); } // any address: lease time does not depend on ownership

describe('failover policy: pool ownership by binding state (foreign partner, draft §7.1)', () => {
  const at = (state: Lease['state']): Lease => ({ ip: ip('10.0.0.7'), scope: 's', state, expiresAt: NOW - 1, cltt: NOW - 10_000 });
  const cases: { role: Role; state: ServerState; lease?: Lease['state']; expected: boolean; name: string }[] = [
    { name: 'primary owns never-used addresses', role: 'primary', state: 'normal', expected: true },
    { name: 'primary owns FREE', role: 'primary', state: 'normal', lease: 'free', expected: true },
    { name: 'primary does not own BACKUP', role: 'primary', state: 'normal', lease: 'backup', expected: false },
    { name: 'secondary owns BACKUP', role: 'secondary', state: 'normal', lease: 'backup', expected: true },
    { name: 'secondary does not own never-used addresses', role: 'secondary', state: 'normal', expected: false },
    { name: 'secondary does not own FREE', role: 'secondary', state: 'communications-interrupted', lease: 'free', expected: false },
    { name: 'secondary in COMM-INT uses its BACKUP', role: 'secondary', state: 'communications-interrupted', lease: 'backup', expected: true },
    { name: 'secondary in PARTNER-DOWN waits MCLT for FREE', role: 'secondary', state: 'partner-down', lease: 'free', expected: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = policyFor({ role: c.role, state: c.state, ownership: 'binding-state', stos: NOW - 1000 });
      assert.equal(p.mayAllocate(ip('10.0.0.7'), c.lease === undefined ? undefined : at(c.lease), NOW), c.expected);
    });
  }
  it('secondary in PARTNER-DOWN takes FREE addresses once MCLT has passed', () => {
    const p = policyFor({ role: 'secondary', state: 'partner-down', ownership: 'binding-state', stos: NOW - MCLT - 1000 });
    assert.equal(p.mayAllocate(ip('10.0.0.7'), at('free'), NOW), true);
  });
  it('the two sides never both own one free address (any state, any lease)', () => {
    fc.assert(fc.property(fc.constantFrom<Lease['state'] | undefined>(undefined, 'free', 'backup'), fc.constantFrom<ServerState>('normal', 'communications-interrupted'), (state, server) => {
      const lease = state === undefined ? undefined : at(state);
      const a = policyFor({ role: 'primary', state: server, ownership: 'binding-state' }).mayAllocate(ip('10.0.0.7'), lease, NOW);
      const b = policyFor({ role: 'secondary', state: server, ownership: 'binding-state' }).mayAllocate(ip('10.0.0.7'), lease, NOW);
      return !(a && b) && (a || b);
    }));
  });
});
