import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DRAFT_SERVICE, ISC_PEER_DEMANDS_SILENCE, isSilent, serviceFor, type ServicePolicy } from '../../../src/failover/protocol/service-state.ts';
import { PARTNER_STATES, SERVER_STATES, type Dialect, type Role, type ServerState } from '../../../src/failover/protocol/state-machine.ts';

// Digest §4.1, written as [answer, allocateFrom, loadBalance] per state for a primary / secondary.
type Want = [ServicePolicy['answer'], ServicePolicy['allocateFrom'], ServicePolicy['loadBalance']];
const none: Want = ['none', 'none', 'off'];
const expected: Record<Dialect, Record<ServerState, { primary: Want; secondary: Want }>> = (() => {
  const both = (w: Want) => ({ primary: w, secondary: w });
  const draft: Record<ServerState, { primary: Want; secondary: Want }> = {
    startup: both(none),
    normal: both(['all', 'own', 'all-but-renewals']),
    'communications-interrupted': both(['all', 'own', 'off']),
    'partner-down': both(['all', 'own-then-partner-after-mclt', 'off']),
    'potential-conflict': both(none),
    'resolution-interrupted': both(['all', 'own', 'off']),
    'conflict-done': { primary: ['all', 'own', 'off'], secondary: none },
    recover: both(none),
    'recover-wait': both(none),
    'recover-done': both(['renew-rebind-only', 'none', 'off']),
    paused: both(none),
    shutdown: both(none),
  };
  const isc = { ...draft, normal: both(['all', 'own', 'discover-only'] as Want), 'resolution-interrupted': both(none), 'conflict-done': both(none), 'recover-done': both(none) };
  return { draft, ms: draft, isc };
})();

describe('serviceFor, every state × role × dialect (digest §4.1)', () => {
  for (const dialect of ['draft', 'isc', 'ms'] as Dialect[]) {
    for (const state of SERVER_STATES) {
      for (const role of ['primary', 'secondary'] as Role[]) {
        it(`${dialect} ${state} ${role}`, () => {
          const p = serviceFor(state, { role, dialect });
          assert.deepEqual([p.answer, p.allocateFrom, p.loadBalance], expected[dialect][state][role]);
          assert.equal(p.mcltApplies, true);
        });
      }
    }
  }
});

describe('invariants', () => {
  it('6: no service in STARTUP, RECOVER, RECOVER-WAIT, POTENTIAL-CONFLICT, PAUSED, SHUTDOWN', () => {
    for (const s of ['startup', 'recover', 'recover-wait', 'potential-conflict', 'paused', 'shutdown'] as const) {
      for (const dialect of ['draft', 'isc', 'ms'] as Dialect[]) assert.ok(isSilent(serviceFor(s, { role: 'primary', dialect })), s);
    }
  });
  it('7: only own pool while disconnected', () => {
    for (const s of ['communications-interrupted', 'resolution-interrupted'] as const) {
      assert.equal(DRAFT_SERVICE[s].primary.allocateFrom, 'own');
      assert.equal(DRAFT_SERVICE[s].secondary.allocateFrom, 'own');
    }
  });
  it('23: load balancing only in NORMAL', () => {
    for (const s of SERVER_STATES) for (const dialect of ['draft', 'isc'] as Dialect[]) {
      const lb = serviceFor(s, { role: 'secondary', dialect }).loadBalance;
      assert.equal(lb !== 'off', s === 'normal', `${dialect} ${s}`);
    }
  });
  it('ISC "peer demands": silent while the partner reports PD, PC, CONFLICT-DONE or RESOLUTION-INT', () => {
    for (const p of PARTNER_STATES) {
      const isc = serviceFor('communications-interrupted', { role: 'primary', dialect: 'isc', partnerState: p });
      assert.equal(isSilent(isc), ISC_PEER_DEMANDS_SILENCE.has(p), p);
      assert.equal(isSilent(serviceFor('communications-interrupted', { role: 'primary', dialect: 'draft', partnerState: p })), false);
    }
  });
});

describe('automatic switchover configured: COMMUNICATIONS-INTERRUPTED keeps balancing DISCOVERs (evidence)', () => {
  for (const dialect of ['draft', 'isc', 'ms'] as Dialect[]) {
    for (const role of ['primary', 'secondary'] as Role[]) {
      it(`${dialect} ${role}`, () => {
        const off = serviceFor('communications-interrupted', { role, dialect });
        const on = serviceFor('communications-interrupted', { role, dialect, autoPartnerDown: true });
        assert.equal(off.loadBalance, 'off');
        assert.deepEqual(on, { ...off, loadBalance: 'discover-only' });
        // Only COMM-INT changes; PARTNER-DOWN serves everyone at once either way.
        assert.deepEqual(serviceFor('partner-down', { role, dialect, autoPartnerDown: true }), serviceFor('partner-down', { role, dialect }));
        assert.deepEqual(serviceFor('normal', { role, dialect, autoPartnerDown: true }), serviceFor('normal', { role, dialect }));
      });
    }
  }
});
