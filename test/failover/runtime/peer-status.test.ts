// The /status document's autoPartnerDown block (peer-status.ts): where the automatic
// COMMUNICATIONS-INTERRUPTED → PARTNER-DOWN move stands, from the same guard query the switchover
// timer asks (partnerDownQueryOf), so the operator can say "waiting for evidence: N unanswered clients".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateFailover } from '../../../src/config/failover.ts';
import { bucketMapForPercent } from '../../../src/failover/rules/load-balance.ts';
import { emptyGuard, observeClient, shouldPartnerDown, type GuardState } from '../../../src/failover/rules/partner-down-guard.ts';
import { partnerDownQueryOf, statusOf, type PeerReading } from '../../../src/failover/runtime/peer-status.ts';
import type { Snapshot } from '../../../src/failover/protocol/state-machine.ts';

const T0 = Date.UTC(2026, 10, 30, 10, 0, 0);

function config(extra: Record<string, unknown> = {}) {
  const { config: c, problems } = validateFailover({
    relationship: 'r', role: 'primary', address: '10.0.0.2', partner: { address: '10.0.0.3' }, mode: 'load-balance', sharedSecret: 'x', ...extra,
  });
  assert.deepEqual(problems, []);
  return c!;
}

function reading(o: { state: Snapshot['state']; stos: number; now: number; guard?: GuardState; switchover?: number }): PeerReading {
  const cfg = config(o.switchover !== undefined ? { stateSwitchoverSeconds: o.switchover } : {});
  const snapshot = {
    state: o.state, stos: o.stos, databaseLost: false, connected: false, updateRequested: false,
    config: { role: 'primary', dialect: 'self', mcltMs: 3_600_000, startupMs: 5000, autoPartnerDown: { enabled: o.switchover !== undefined, intervalMs: (o.switchover ?? 0) * 1000, recheckMs: 5000 } },
  } as unknown as Snapshot;
  return {
    config: cfg, snapshot, now: o.now, commsOk: false, linkRemote: undefined, skewSeconds: undefined, unackedUpdates: 2, queuedUpdates: 5,
    hba: bucketMapForPercent(50, 'set-is-primary'), polarity: 'set-is-primary', guard: o.guard ?? emptyGuard(),
  };
}

/** A partner client retrying with a growing secs after communications were lost. */
function unanswered(g: GuardState, key: string, from: number): GuardState {
  const once = observeClient(g, { key, secs: 1, now: from, ownedByPartner: true });
  return observeClient(once, { key, secs: 10, now: from + 9000, ownedByPartner: true });
}

describe('statusOf: autoPartnerDown', () => {
  it('is null without a state switchover interval (only an administrator declares partner-down)', () => {
    assert.equal(statusOf(reading({ state: 'communications-interrupted', stos: T0, now: T0 + 60_000 })).autoPartnerDown, null);
  });

  it('outside COMMUNICATIONS-INTERRUPTED: configured, nothing pending', () => {
    assert.deepEqual(statusOf(reading({ state: 'normal', stos: T0, now: T0 + 60_000, switchover: 30 })).autoPartnerDown,
      { switchoverSeconds: 30, safePeriodEndsAt: null, unansweredClients: 0, clientsNeeded: 1, waitingForEvidence: false });
  });

  it('within the safe period: when it ends, not waiting for evidence yet', () => {
    const s = statusOf(reading({ state: 'communications-interrupted', stos: T0, now: T0 + 10_000, switchover: 30 }));
    assert.deepEqual(s.autoPartnerDown, { switchoverSeconds: 30, safePeriodEndsAt: new Date(T0 + 30_000).toISOString(), unansweredClients: 0, clientsNeeded: 1, waitingForEvidence: false });
    assert.deepEqual(s.updates, { unacked: 2, queued: 5 });
  });

  it('after the safe period without evidence: waiting for evidence; with evidence: not waiting, and the timer agrees', () => {
    const now = T0 + 60_000;
    const idle = reading({ state: 'communications-interrupted', stos: T0, now, switchover: 30 });
    assert.equal(statusOf(idle).autoPartnerDown?.waitingForEvidence, true);
    assert.equal(shouldPartnerDown(idle.guard, partnerDownQueryOf(idle.config, T0, now)), false);
    // A client seen before communications were lost is no evidence.
    const early = reading({ state: 'communications-interrupted', stos: T0, now, switchover: 30, guard: unanswered(emptyGuard(), 'c0', T0 - 20_000) });
    assert.equal(statusOf(early).autoPartnerDown?.unansweredClients, 0);
    const g = unanswered(unanswered(emptyGuard(), 'c1', T0 + 1000), 'c2', T0 + 2000);
    const proven = reading({ state: 'communications-interrupted', stos: T0, now, switchover: 30, guard: g });
    assert.deepEqual(statusOf(proven).autoPartnerDown, { switchoverSeconds: 30, safePeriodEndsAt: new Date(T0 + 30_000).toISOString(), unansweredClients: 2, clientsNeeded: 1, waitingForEvidence: false });
    assert.equal(shouldPartnerDown(proven.guard, partnerDownQueryOf(proven.config, T0, now)), true);
  });
});
