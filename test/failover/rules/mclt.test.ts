import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  leaseTimeFor, leaseTimeInState, partnerKnowledgeOf, partnerPoolUsableAt, reallocateToOtherClientAt, recoverWaitEndsAt,
  transitionalFreeAt, withinMclt,
} from '../../../src/failover/rules/mclt.ts';
import { SERVER_STATES } from '../../../src/failover/protocol/state-machine.ts';

const NOW = 1_700_000_000_000;
const MIN = 60_000, HOUR = 60 * MIN, DAY = 24 * HOUR;

describe('leaseTimeFor (digest §6.2)', () => {
  it('the draft example: MCLT 1 h, D 3 days', () => {
    const first = leaseTimeFor({ desiredMs: 3 * DAY, now: NOW, mcltMs: HOUR, partner: {} });
    assert.deepEqual(first, { leaseMs: HOUR, expiresAt: NOW + HOUR, pet: NOW + 3 * DAY + 30 * MIN });
    const t = NOW + 30 * MIN; // renewal once the partner acked the first PET
    const renew = leaseTimeFor({ desiredMs: 3 * DAY, now: t, mcltMs: HOUR, partner: { ackedPet: first.pet } });
    assert.deepEqual(renew, { leaseMs: 3 * DAY, expiresAt: t + 3 * DAY, pet: t + 3 * DAY + 36 * HOUR });
  });
  const table: { name: string; d: number; acked?: number; received?: number; skew?: number; lease: number }[] = [
    { name: 'short lease is never shortened', d: 10 * MIN, lease: 10 * MIN },
    { name: 'lease equal to MCLT', d: HOUR, lease: HOUR },
    { name: 'acked PET in the past counts as nothing', d: DAY, acked: NOW - HOUR, lease: HOUR },
    { name: 'received PET extends the cap', d: DAY, received: NOW + 2 * HOUR, lease: 3 * HOUR },
    { name: 'the later of acked and received', d: DAY, acked: NOW + 5 * HOUR, received: NOW + 2 * HOUR, lease: 6 * HOUR },
    { name: 'skew shrinks what the partner knows', d: DAY, acked: NOW + 5 * HOUR, skew: HOUR, lease: 5 * HOUR },
    { name: 'skew never goes below MCLT', d: DAY, acked: NOW + MIN, skew: HOUR, lease: HOUR },
  ];
  for (const c of table) {
    it(c.name, () => {
      const r = leaseTimeFor({ desiredMs: c.d, now: NOW, mcltMs: HOUR, partner: { ackedPet: c.acked, receivedPet: c.received }, skewMs: c.skew });
      assert.equal(r.leaseMs, c.lease);
      assert.equal(r.expiresAt, NOW + c.lease);
    });
  }
  it('properties: cap holds, never more than desired, PET covers the lease (invariants 8, 9)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 30 * DAY }), fc.integer({ min: 0, max: 2 * DAY }),
      fc.option(fc.integer({ min: NOW - 10 * DAY, max: NOW + 10 * DAY }), { nil: undefined }),
      fc.option(fc.integer({ min: NOW - 10 * DAY, max: NOW + 10 * DAY }), { nil: undefined }),
      (d, mclt, ackedPet, receivedPet) => {
        const input = { desiredMs: d, now: NOW, mcltMs: mclt, partner: { ackedPet, receivedPet } };
        const r = leaseTimeFor(input);
        return r.leaseMs <= d && r.leaseMs >= Math.min(d, mclt) && withinMclt(r.expiresAt, input) && r.pet >= r.expiresAt
          && r.expiresAt === NOW + r.leaseMs;
      }));
  });
});

describe('withinMclt', () => {
  it('accepts the boundary, rejects one ms past it', () => {
    const input = { now: NOW, mcltMs: HOUR, partner: { ackedPet: NOW + HOUR } };
    assert.equal(withinMclt(NOW + 2 * HOUR, input), true);
    assert.equal(withinMclt(NOW + 2 * HOUR + 1, input), false);
  });
});

describe('partnerKnowledgeOf', () => {
  it('counts partnerExpiresAt only once acked; tsfp is what the partner sent', () => {
    assert.deepEqual(partnerKnowledgeOf({ partnerExpiresAt: 5, pendingAck: true, tsfp: 3 }), { ackedPet: undefined, receivedPet: 3 });
    assert.deepEqual(partnerKnowledgeOf({ partnerExpiresAt: 5, pendingAck: false }), { ackedPet: 5, receivedPet: undefined });
  });
});

describe('PARTNER-DOWN waits (digest §6.4, invariant 3)', () => {
  const pd = { partnerDownSince: NOW, mcltMs: HOUR };
  it("partner's free pool: max(PD start, tsfp) + MCLT", () => {
    assert.equal(partnerPoolUsableAt(pd), NOW + HOUR);
    assert.equal(partnerPoolUsableAt(pd, NOW + 2 * HOUR), NOW + 3 * HOUR);
    assert.equal(partnerPoolUsableAt({ ...pd, skewMs: 5000 }, NOW - DAY), NOW + HOUR + 5000);
  });
  it('reallocating to another client waits for the latest known time + MCLT, never before PD + MCLT', () => {
    const bound = { expiresAt: NOW - DAY, partner: {}, reportedToPartner: true };
    assert.equal(reallocateToOtherClientAt(pd, bound), NOW + HOUR);
    assert.equal(reallocateToOtherClientAt(pd, { ...bound, expiresAt: NOW + 2 * HOUR, sentPet: NOW + 5 * HOUR }), NOW + 6 * HOUR);
    assert.equal(reallocateToOtherClientAt(pd, { ...bound, partner: { receivedPet: NOW + 7 * HOUR } }), NOW + 8 * HOUR);
  });
  it('a binding created in PARTNER-DOWN and never reported waits only for its own end', () => {
    assert.equal(reallocateToOtherClientAt(pd, { expiresAt: NOW + MIN, partner: {}, reportedToPartner: false }), NOW + MIN);
  });
  it('EXPIRED/RELEASED/RESET go FREE MCLT after entering that status, counted from no earlier than PD start', () => {
    assert.equal(transitionalFreeAt(pd, NOW - DAY), NOW + HOUR);
    assert.equal(transitionalFreeAt(pd, NOW + 10 * MIN), NOW + 70 * MIN);
  });
  it('property: every wait is at least PD start + MCLT for reported bindings', () => {
    fc.assert(fc.property(fc.integer({ min: -10 * DAY, max: 10 * DAY }), fc.integer({ min: -10 * DAY, max: 10 * DAY }), (e, s) => {
      const t = reallocateToOtherClientAt(pd, { expiresAt: NOW + e, sentPet: NOW + s, partner: {}, reportedToPartner: true });
      return t >= NOW + HOUR && t >= NOW + e + HOUR && t >= NOW + s + HOUR;
    }));
  });
});

describe('RECOVER-WAIT and states', () => {
  it('ends at failure time + MCLT', () => assert.equal(recoverWaitEndsAt(NOW, HOUR), NOW + HOUR));
  it('no lease at all in states that give none', () => {
    const input = { desiredMs: DAY, now: NOW, mcltMs: HOUR, partner: {} };
    const leasing = SERVER_STATES.filter((s) => leaseTimeInState(s, input) !== undefined).sort();
    assert.deepEqual(leasing, ['communications-interrupted', 'conflict-done', 'normal', 'partner-down', 'recover-done', 'resolution-interrupted']);
  });
});
