// STATE messages between the state machine and the wire (state-exchange.ts, digest §3.5, §4.3 step 4):
// ours carries our state and its start time in seconds, or, while we are in STARTUP, the previous state
// with the STARTUP flag; the partner's must name a state a partner may be in (STARTUP is a flag, never a
// state), and every such report survives the trip through a STATE message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boot, PARTNER_STATES, type MachineConfig, type PartnerState, type Snapshot } from '../../../src/failover/protocol/state-machine.ts';
import { partnerReportOf, stateMessageOf } from '../../../src/failover/runtime/state-exchange.ts';
import type { State } from '../../../src/failover/wire/message.ts';
import { SERVER_FLAGS, SERVER_STATE_CODES } from '../../../src/failover/wire/options.ts';

const NOW = Date.UTC(2026, 3, 1, 8, 0, 0);
const CONFIG: MachineConfig = {
  role: 'primary', dialect: 'draft', mcltMs: 3_600_000, startupMs: 15_000, autoPartnerDown: { enabled: false, intervalMs: 0, recheckMs: 2_000 },
};

/** A snapshot in `state` since `stos`, built from a fresh boot. */
function inState(state: PartnerState, stos: number): Snapshot {
  return { ...boot({ state: 'normal', stos: NOW - 100_000 }, CONFIG, NOW).next, state, stos, previous: undefined, previousStos: undefined };
}

function stateMessage(over: Partial<State> = {}): State {
  return { type: 'STATE', xid: 1, time: NOW / 1000, serverState: SERVER_STATE_CODES.normal, serverFlags: 0, startTimeOfState: NOW / 1000 - 60, ...over };
}

describe('stateMessageOf', () => {
  it('outside STARTUP: our state, its start time in seconds, no flag', () => {
    const m = stateMessageOf(inState('partner-down', NOW - 30_000));
    assert.deepEqual(m, { type: 'STATE', serverState: SERVER_STATE_CODES['partner-down'], serverFlags: 0, startTimeOfState: NOW / 1000 - 30 });
  });

  it('the start time is the second it falls in', () => {
    assert.equal(stateMessageOf(inState('normal', NOW + 999)).startTimeOfState, NOW / 1000);
    assert.equal(stateMessageOf(inState('normal', NOW + 1_000)).startTimeOfState, NOW / 1000 + 1);
  });

  it('in STARTUP: the previous state (comms-failed) and its recorded start, with the STARTUP flag (§4.3 steps 2 and 4)', () => {
    const booted = boot({ state: 'normal', stos: NOW - 100_000 }, CONFIG, NOW).next;
    assert.equal(booted.state, 'startup');
    const m = stateMessageOf(booted);
    assert.equal(m.serverState, SERVER_STATE_CODES['communications-interrupted'], 'NORMAL resumes as COMMUNICATIONS-INTERRUPTED');
    assert.notEqual(m.serverState, SERVER_STATE_CODES.startup, 'STARTUP is never sent as a state');
    assert.equal(m.serverFlags, SERVER_FLAGS.STARTUP);
    assert.equal(m.startTimeOfState, (NOW - 100_000) / 1000, 'the recorded start time, not the boot time');
  });

  it('in STARTUP with no record: RECOVER, with the flag', () => {
    const m = stateMessageOf(boot(undefined, CONFIG, NOW).next);
    assert.equal(m.serverState, SERVER_STATE_CODES.recover);
    assert.equal((m.serverFlags ?? 0) & SERVER_FLAGS.STARTUP, SERVER_FLAGS.STARTUP);
  });

  it('the flag goes once STARTUP is left', () => {
    const booted = boot({ state: 'normal', stos: NOW - 100_000 }, CONFIG, NOW).next;
    assert.equal(stateMessageOf({ ...booted, state: 'communications-interrupted', stos: NOW + 15_000 }).serverFlags, 0);
  });
});

describe('partnerReportOf', () => {
  it('reads state, start time in ms and the STARTUP flag', () => {
    assert.deepEqual(partnerReportOf(stateMessage()), { state: 'normal', stos: NOW - 60_000, startup: false });
    assert.deepEqual(partnerReportOf(stateMessage({ serverState: SERVER_STATE_CODES['recover-wait'], serverFlags: SERVER_FLAGS.STARTUP })),
      { state: 'recover-wait', stos: NOW - 60_000, startup: true });
  });

  it('the STARTUP bit alone decides, whatever other flag bits are set; no flags means not starting', () => {
    assert.equal(partnerReportOf(stateMessage({ serverFlags: 0xff }))?.startup, true);
    assert.equal(partnerReportOf(stateMessage({ serverFlags: 0xfe }))?.startup, false);
    assert.equal(partnerReportOf(stateMessage({ serverFlags: undefined }))?.startup, false);
  });

  it('an unknown state code, or STARTUP sent as a state, is no report', () => {
    for (const code of [0, 12, 13, 100, 253, 255, SERVER_STATE_CODES.startup]) {
      assert.equal(partnerReportOf(stateMessage({ serverState: code })), undefined, `code ${code}`);
      assert.equal(partnerReportOf(stateMessage({ serverState: code, serverFlags: SERVER_FLAGS.STARTUP })), undefined, `code ${code} with the flag`);
    }
  });

  it('every state a partner may report survives a STATE message, with and without STARTUP', () => {
    assert.equal(PARTNER_STATES.length, 11);
    for (const state of PARTNER_STATES) {
      const stos = NOW - 42_000;
      assert.deepEqual(partnerReportOf({ ...stateMessageOf(inState(state, stos)), xid: 1, time: NOW / 1000 }), { state, stos, startup: false }, state);
      const starting = { ...boot({ state: 'normal', stos: NOW - 100_000 }, CONFIG, NOW).next, previous: state, previousStos: stos };
      assert.deepEqual(partnerReportOf({ ...stateMessageOf(starting), xid: 1, time: NOW / 1000 }), { state, stos, startup: true }, `${state} in STARTUP`);
    }
  });
});
