// The one sentence on what COMMUNICATIONS-INTERRUPTED leads to (partner-down-note.ts), shared by the
// operator's Degraded condition and `ctl status`: from the /status `failover.autoPartnerDown` block.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { partnerDownNote, type AutoPartnerDownView } from '../../../src/failover/runtime/partner-down-note.ts';
import type { AutoPartnerDownStatus } from '../../../src/failover/runtime/peer-status.ts';

const ENDS = '2026-11-30T10:00:30.000Z';
const block = (o: Partial<AutoPartnerDownView> = {}): AutoPartnerDownView => ({ waitingForEvidence: false, unansweredClients: 0, clientsNeeded: 1, safePeriodEndsAt: ENDS, ...o });

describe('partnerDownNote', () => {
  it('after the safe period without enough unanswered clients: waiting for evidence (the issue\'s words)', () => {
    assert.equal(partnerDownNote(block({ waitingForEvidence: true })), 'automatic partner-down waiting for evidence: 0 unanswered partner clients (needs 1)');
    assert.equal(partnerDownNote(block({ waitingForEvidence: true, unansweredClients: 1, clientsNeeded: 2 })), 'automatic partner-down waiting for evidence: 1 unanswered partner client (needs 2)');
  });

  it('within the safe period: when the move becomes possible and what it needs', () => {
    assert.equal(partnerDownNote(block()), `automatic partner-down possible after ${ENDS} once 1 partner client goes unanswered (0 so far)`);
    assert.equal(partnerDownNote(block({ clientsNeeded: 3, unansweredClients: 2 })), `automatic partner-down possible after ${ENDS} once 3 partner clients go unanswered (2 so far)`);
    assert.equal(partnerDownNote(block({ safePeriodEndsAt: null })), 'automatic partner-down possible after the safe period once 1 partner client goes unanswered (0 so far)');
  });

  it('null (no stateSwitchoverSeconds): only an administrator; undefined (not reported): nothing', () => {
    assert.equal(partnerDownNote(null), 'partner-down only by an administrator (no stateSwitchoverSeconds)');
    assert.equal(partnerDownNote(undefined), '');
  });

  it('reads the server\'s own /status block as it is', () => {
    const status: AutoPartnerDownStatus = { switchoverSeconds: 30, safePeriodEndsAt: ENDS, unansweredClients: 2, clientsNeeded: 1, waitingForEvidence: false };
    assert.match(partnerDownNote(status), /once 1 partner client goes unanswered \(2 so far\)$/);
  });
});
