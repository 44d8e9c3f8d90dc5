import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  boot, EVENT_KINDS, ownReport, findRule, IGNORED, PARTNER_STATES, RECONNECT_MATRIX, recoverWaitUntil, SERVER_STATES, step,
  TRANSITIONS, type Dialect, type Effect, type Event, type EventKind, type MachineConfig, type PartnerReport,
  type PartnerState, type Role, type ServerState, type Snapshot,
} from '../../../src/failover/protocol/state-machine.ts';

const NOW = 1_700_000_000_000;
const MCLT = 3_600_000;

function config(over: Partial<MachineConfig> = {}): MachineConfig {
  return {
    role: 'primary', dialect: 'draft', mcltMs: MCLT, startupMs: 15_000,
    autoPartnerDown: { enabled: true, intervalMs: 600_000, recheckMs: 30_000 }, ...over,
  };
}

function snap(state: ServerState, over: Partial<Snapshot> & { cfg?: Partial<MachineConfig> } = {}): Snapshot {
  const { cfg, ...rest } = over;
  return { state, stos: NOW - 1000, databaseLost: false, connected: true, updateRequested: false, config: config(cfg), ...rest };
}

const report = (state: PartnerState, over: Partial<PartnerReport> = {}): PartnerReport => ({ state, stos: NOW - 500, startup: false, ...over });
const kinds = (effects: Effect[]): string[] => effects.map((e) => e.kind);

describe('table shape', () => {
  it('every (state, event kind) pair is in TRANSITIONS or IGNORED, never both', () => {
    const inTable = new Set(TRANSITIONS.map((r) => `${r.from}|${r.on}`));
    const ignored = new Set(IGNORED.map(([s, k]) => `${s}|${k}`));
    for (const s of SERVER_STATES) {
      for (const k of EVENT_KINDS) {
        const key = `${s}|${k}`;
        assert.ok(inTable.has(key) !== ignored.has(key), `${key}: table=${inTable.has(key)} ignored=${ignored.has(key)}`);
      }
    }
  });
  it('every rule names a spec section and a real state', () => {
    for (const r of TRANSITIONS) {
      assert.match(r.spec, /§|D12/, JSON.stringify(r));
      assert.ok(SERVER_STATES.includes(r.from));
      assert.ok(r.to === 'stay' || r.to === 'previous' || SERVER_STATES.includes(r.to));
    }
  });
  it('no rule is shadowed: each one is the first match for some snapshot and event', () => {
    const hit = new Set<number>();
    for (const e of sampleEvents()) {
      for (const s of sampleSnapshots()) {
        if (s.state === 'startup' && e.kind === 'partner-state') continue;
        const r = findRule(s, e, NOW);
        if (r !== undefined) hit.add(TRANSITIONS.indexOf(r));
      }
    }
    const missed = TRANSITIONS.filter((_r, i) => !hit.has(i)).map((r) => `${r.from} ${r.on} ${r.when?.name ?? ''} → ${r.to}`);
    assert.deepEqual(missed, []);
  });
  it('an ignored pair keeps the state and only logs', () => {
    for (const [s, k] of IGNORED) {
      const e = sampleEvents().find((x) => x.kind === k)!;
      const r = step(snap(s), e, NOW);
      assert.equal(r.next.state, s);
      assert.deepEqual(kinds(r.effects), ['log']);
    }
  });
});

function sampleEvents(): Event[] {
  const out: Event[] = [];
  for (const p of PARTNER_STATES) {
    for (const startup of [false, true]) {
      for (const stos of [NOW - 10 * MCLT, NOW - 500]) {
        out.push({ kind: 'connected', partner: report(p, { startup, stos }) }, { kind: 'partner-state', partner: report(p, { startup, stos }) });
      }
    }
  }
  out.push({ kind: 'switchover-timer', partnerDownEvidence: true }, { kind: 'switchover-timer', partnerDownEvidence: false });
  for (const kind of ['disconnected', 'startup-timer', 'recover-wait-timer', 'update-done', 'admin-partner-down', 'admin-pause', 'admin-shutdown'] as const) out.push({ kind });
  return out;
}

function sampleSnapshots(): Snapshot[] {
  const out: Snapshot[] = [];
  for (const state of SERVER_STATES) {
    for (const role of ['primary', 'secondary'] as Role[]) {
      for (const dialect of ['draft', 'isc', 'ms'] as Dialect[]) {
        for (const stos of [NOW - 10 * MCLT, NOW - 1000]) {
          for (const hist of [{ recoverFrom: 0, lastOperationAt: undefined }, { recoverFrom: NOW - 1000, lastOperationAt: NOW - 2 * MCLT }]) {
            for (const partner of [undefined, report('recover'), report('normal')]) {
              out.push(snap(state, { stos, previous: 'recover', ...hist, partner, cfg: { role, dialect } }));
            }
          }
        }
      }
    }
  }
  return out;
}

describe('reconnect matrix (digest §4.4, draft dialect)', () => {
  // Expected results transcribed from the digest's table; "req" = stay + UPDREQ, "stay" = no change.
  const cols: PartnerState[] = ['normal', 'communications-interrupted', 'partner-down', 'potential-conflict', 'resolution-interrupted',
    'conflict-done', 'recover', 'recover-wait', 'recover-done', 'paused', 'shutdown'];
  const abbrev: Record<string, ServerState | 'stay' | 'req'> = {
    N: 'normal', CI: 'communications-interrupted', PD: 'partner-down', PC: 'potential-conflict', R: 'recover', CD: 'conflict-done',
    RD: 'recover-done', '-': 'stay', req: 'req',
  };
  const expected: Partial<Record<ServerState, string>> = {
    'communications-interrupted': 'N N PC PC PC PC - - N - PD',
    'partner-down': 'PC PC PC PC PC PC - - N - -',
    recover: 'req req req PC PC PC req req req req req',
    'recover-wait': '- - - - - - - - - - -',
    'recover-done': 'N - - - - - - - N - -',
    'resolution-interrupted': 'PC PC PC PC PC PC PC PC PC PC PC',
    'potential-conflict': '- - - - - req R - - - -', // (secondary; NORMAL is illegal → stay + warn; RECOVER: ISC's choice)
    'conflict-done': 'N - - - - - - - - - -',
    normal: '- - PC PC PC PC CI - - CI PD',
  };
  it('covers every row of RECONNECT_MATRIX', () => assert.deepEqual(Object.keys(expected).sort(), Object.keys(RECONNECT_MATRIX).sort()));
  for (const [ours, line] of Object.entries(expected) as [ServerState, string][]) {
    const cells = line.split(' ');
    cols.forEach((p, i) => {
      const want = abbrev[cells[i]!]!;
      it(`${ours} × ${p} → ${want}`, () => {
        for (const kind of ['connected', 'partner-state'] as const) {
          const s = snap(ours, { cfg: { role: 'secondary' } });
          const r = step(s, { kind, partner: report(p) }, NOW);
          if (want === 'req') {
            assert.equal(r.next.state, ours);
            assert.ok(r.effects.some((e) => e.kind === 'request-updates'), kind);
          } else {
            assert.equal(r.next.state, want === 'stay' ? ours : want, kind);
          }
        }
      });
    });
  }
  it('ISC dialect overrides: COMM-INT × RECOVER → PARTNER-DOWN, COMM-INT × RECOVER-WAIT → NORMAL', () => {
    const s = snap('communications-interrupted', { cfg: { dialect: 'isc' } });
    assert.equal(step(s, { kind: 'connected', partner: report('recover') }, NOW).next.state, 'partner-down');
    assert.equal(step(s, { kind: 'connected', partner: report('recover-wait') }, NOW).next.state, 'normal');
  });
  it('a primary in POTENTIAL-CONFLICT does not request on a CONFLICT-DONE partner (only the secondary does)', () => {
    const r = step(snap('potential-conflict', { cfg: { role: 'primary' } }), { kind: 'partner-state', partner: report('conflict-done') }, NOW);
    assert.equal(r.next.state, 'potential-conflict');
    assert.ok(!r.effects.some((e) => e.kind === 'request-updates'));
    assert.ok(r.effects.some((e) => e.kind === 'log' && e.level === 'warn'));
  });
  it('PARTNER-DOWN ignores a STATE carrying the STARTUP flag (invariant 21)', () => {
    for (const p of PARTNER_STATES) {
      const r = step(snap('partner-down'), { kind: 'partner-state', partner: report(p, { startup: true }) }, NOW);
      assert.equal(r.next.state, 'partner-down', p);
    }
  });
});

describe('step effects', () => {
  it('persist-state is always first when the state changes', () => {
    const r = step(snap('normal'), { kind: 'disconnected' }, NOW);
    assert.equal(r.next.state, 'communications-interrupted');
    assert.deepEqual(r.effects[0], { kind: 'persist-state', state: 'communications-interrupted', stos: NOW, previous: undefined });
    assert.ok(kinds(r.effects).includes('set-service'));
    assert.ok(r.effects.some((e) => e.kind === 'start-timer' && e.timer === 'switchover' && e.ms === 600_000));
    assert.ok(!kinds(r.effects).includes('send-state'), 'not connected any more');
  });
  it('sends STATE on every change while connected', () => {
    const r = step(snap('communications-interrupted', { connected: false }), { kind: 'connected', partner: report('normal') }, NOW);
    assert.equal(r.next.state, 'normal');
    assert.deepEqual(kinds(r.effects).slice(0, 3), ['persist-state', 'set-service', 'send-state']);
    assert.ok(r.effects.some((e) => e.kind === 'cancel-timer' && e.timer === 'switchover'));
    assert.ok(kinds(r.effects).includes('send-pending-updates'));
  });
  it('POTENTIAL-CONFLICT entry: the primary sends UPDREQ, the secondary waits', () => {
    const p = step(snap('partner-down', { cfg: { role: 'primary' } }), { kind: 'partner-state', partner: report('normal') }, NOW);
    assert.deepEqual(p.effects.filter((e) => e.kind === 'request-updates'), [{ kind: 'request-updates', message: 'UPDREQ' }]);
    const s = step(snap('partner-down', { cfg: { role: 'secondary' } }), { kind: 'partner-state', partner: report('normal') }, NOW);
    assert.equal(s.next.state, 'potential-conflict');
    assert.ok(!kinds(s.effects).includes('request-updates'));
  });
  it('RECOVER asks once per connection; UPDREQALL when the database is lost or for ISC', () => {
    const s0 = snap('recover', { connected: false, databaseLost: false });
    const r1 = step(s0, { kind: 'connected', partner: report('partner-down') }, NOW);
    assert.deepEqual(r1.effects.filter((e) => e.kind === 'request-updates'), [{ kind: 'request-updates', message: 'UPDREQ' }]);
    const r2 = step(r1.next, { kind: 'partner-state', partner: report('partner-down') }, NOW);
    assert.ok(!kinds(r2.effects).includes('request-updates'), 'not twice on one connection');
    const r3 = step(step(r2.next, { kind: 'disconnected' }, NOW).next, { kind: 'connected', partner: report('partner-down') }, NOW);
    assert.ok(kinds(r3.effects).includes('request-updates'), 'again after reconnect');
    const lost = step(snap('recover', { connected: false, databaseLost: true }), { kind: 'connected', partner: report('normal') }, NOW);
    assert.deepEqual(lost.effects.filter((e) => e.kind === 'request-updates'), [{ kind: 'request-updates', message: 'UPDREQALL' }]);
    const isc = step(snap('recover', { connected: false, cfg: { dialect: 'isc' } }), { kind: 'connected', partner: report('partner-down') }, NOW);
    assert.deepEqual(isc.effects.filter((e) => e.kind === 'request-updates'), [{ kind: 'request-updates', message: 'UPDREQALL' }]);
  });
  it('a stay without side effects persists nothing', () => {
    const r = step(snap('partner-down'), { kind: 'partner-state', partner: report('recover') }, NOW);
    assert.equal(r.next.state, 'partner-down');
    assert.ok(!kinds(r.effects).includes('persist-state'));
  });
  it('SHUTDOWN records RECOVER as previous-state when the partner goes PARTNER-DOWN', () => {
    const r = step(snap('shutdown', { previous: 'normal' }), { kind: 'partner-state', partner: report('partner-down') }, NOW);
    assert.equal(r.next.state, 'shutdown');
    assert.equal(r.next.previous, 'recover');
    assert.equal(r.effects[0]?.kind, 'persist-state');
  });
  it('pause remembers the pre-PAUSED state (and STARTUP keeps its own previous)', () => {
    assert.equal(step(snap('normal'), { kind: 'admin-pause' }, NOW).next.previous, 'normal');
    assert.equal(step(snap('startup', { previous: 'partner-down' }), { kind: 'admin-pause' }, NOW).next.previous, 'partner-down');
  });
});

describe('safe period (COMMUNICATIONS-INTERRUPTED → PARTNER-DOWN)', () => {
  const ci = (over: Parameters<typeof snap>[1] = {}) => snap('communications-interrupted', { stos: NOW - 600_000, connected: false, ...over });
  it('needs the interval AND evidence', () => {
    assert.equal(step(ci(), { kind: 'switchover-timer', partnerDownEvidence: true }, NOW).next.state, 'partner-down');
    const noEvidence = step(ci(), { kind: 'switchover-timer', partnerDownEvidence: false }, NOW);
    assert.equal(noEvidence.next.state, 'communications-interrupted');
    assert.ok(noEvidence.effects.some((e) => e.kind === 'start-timer' && e.timer === 'switchover' && e.ms === 30_000));
    const early = step(ci({ stos: NOW - 599_999 }), { kind: 'switchover-timer', partnerDownEvidence: true }, NOW);
    assert.equal(early.next.state, 'communications-interrupted');
  });
  it('never when disabled', () => {
    const r = step(ci({ cfg: { autoPartnerDown: { enabled: false, intervalMs: 1, recheckMs: 1 } } }), { kind: 'switchover-timer', partnerDownEvidence: true }, NOW);
    assert.equal(r.next.state, 'communications-interrupted');
    assert.ok(!kinds(r.effects).includes('start-timer'));
  });
  it('the operator can force it from COMM-INT, RESOLUTION-INT and NORMAL only', () => {
    for (const s of SERVER_STATES) {
      const r = step(snap(s), { kind: 'admin-partner-down' }, NOW);
      const allowed = s === 'normal' || s === 'communications-interrupted' || s === 'resolution-interrupted';
      assert.equal(r.next.state, allowed ? 'partner-down' : s, s);
    }
  });
});

describe('RECOVER → RECOVER-WAIT → RECOVER-DONE', () => {
  it('waits until recoverFrom + MCLT', () => {
    const s = snap('recover', { recoverFrom: NOW - 1000, partner: report('partner-down') });
    const r = step(s, { kind: 'update-done' }, NOW);
    assert.equal(r.next.state, 'recover-wait');
    assert.ok(r.effects.some((e) => e.kind === 'start-timer' && e.timer === 'recover-wait' && e.ms === MCLT - 1000));
    const early = step(r.next, { kind: 'recover-wait-timer' }, NOW + MCLT - 1001);
    assert.equal(early.next.state, 'recover-wait');
    assert.ok(early.effects.some((e) => e.kind === 'start-timer' && e.timer === 'recover-wait'));
    assert.equal(step(r.next, { kind: 'recover-wait-timer' }, NOW + MCLT - 1000).next.state, 'recover-done');
  });
  it('no record at all (a lost database, failure time unknown): a full MCLT from entering RECOVER-WAIT', () => {
    const r = step(snap('recover', { recoverFrom: 0 }), { kind: 'update-done' }, NOW);
    assert.equal(r.next.state, 'recover-wait');
    const timer = r.effects.find((e) => e.kind === 'start-timer' && e.timer === 'recover-wait') as { ms: number } | undefined;
    assert.equal(timer?.ms, MCLT);
    assert.equal(step(r.next, { kind: 'recover-wait-timer' }, NOW + MCLT - 1000).next.state, 'recover-wait');
    assert.equal(step(r.next, { kind: 'recover-wait-timer' }, NOW + MCLT).next.state, 'recover-done');
  });
  it('the wait is skipped when the partner is recovering too (a fresh pair), in every dialect', () => {
    for (const dialect of ['isc', 'draft', 'ms'] as const) {
      const s = snap('recover', { recoverFrom: 0, partner: report('recover'), cfg: { dialect } });
      assert.equal(step(s, { kind: 'update-done' }, NOW).next.state, 'recover-done', dialect);
      const running = snap('recover', { recoverFrom: 0, partner: report('partner-down'), cfg: { dialect } });
      assert.equal(step(running, { kind: 'update-done' }, NOW).next.state, 'recover-wait', dialect);
    }
  });
});

describe('conflict resolution', () => {
  it('UPDDONE: primary → CONFLICT-DONE, secondary → NORMAL', () => {
    assert.equal(step(snap('potential-conflict', { cfg: { role: 'primary' } }), { kind: 'update-done' }, NOW).next.state, 'conflict-done');
    assert.equal(step(snap('potential-conflict', { cfg: { role: 'secondary' } }), { kind: 'update-done' }, NOW).next.state, 'normal');
  });
  it('comms fail in POTENTIAL-CONFLICT → RESOLUTION-INTERRUPTED; reconnect → POTENTIAL-CONFLICT', () => {
    const r = step(snap('potential-conflict'), { kind: 'disconnected' }, NOW);
    assert.equal(r.next.state, 'resolution-interrupted');
    assert.equal(step(r.next, { kind: 'connected', partner: report('normal') }, NOW).next.state, 'potential-conflict');
  });
});

describe('boot and STARTUP (digest §4.3)', () => {
  const cfg = config();
  it('no record → STARTUP with previous RECOVER, failure time 0', () => {
    const r = boot(undefined, cfg, NOW);
    assert.equal(r.next.state, 'startup');
    assert.equal(r.next.previous, 'recover');
    assert.equal(r.next.recoverFrom, 0);
    assert.equal(r.effects[0]?.kind, 'persist-state');
    assert.ok(r.effects.some((e) => e.kind === 'start-timer' && e.timer === 'startup' && e.ms === 15_000));
  });
  it('previous-state is the comms-failed version of the record', () => {
    const cases: [ServerState, ServerState | undefined, ServerState][] = [
      ['normal', undefined, 'communications-interrupted'], ['potential-conflict', undefined, 'resolution-interrupted'],
      ['partner-down', undefined, 'partner-down'], ['recover-wait', undefined, 'recover-wait'],
      ['paused', 'normal', 'communications-interrupted'], ['shutdown', 'recover', 'recover'], ['shutdown', undefined, 'recover'],
    ];
    for (const [state, previous, want] of cases) assert.equal(boot({ state, stos: NOW - 5000, previous }, cfg, NOW).next.previous, want, `${state}/${previous}`);
  });
  it('startup timer → previous-state (MS: a relationship with no history → COMM-INT)', () => {
    assert.equal(step(boot({ state: 'normal', stos: NOW - 1 }, cfg, NOW).next, { kind: 'startup-timer' }, NOW + 15_000).next.state, 'communications-interrupted');
    assert.equal(step(boot(undefined, cfg, NOW).next, { kind: 'startup-timer' }, NOW).next.state, 'recover');
    assert.equal(step(boot(undefined, config({ dialect: 'ms' }), NOW).next, { kind: 'startup-timer' }, NOW).next.state, 'communications-interrupted');
  });
  it('partner in PARTNER-DOWN since after our last operation → RECOVER, else POTENTIAL-CONFLICT', () => {
    const s = boot({ state: 'normal', stos: NOW - 10_000, lastOperationAt: NOW - 5000 }, cfg, NOW).next;
    const later = step(s, { kind: 'connected', partner: report('partner-down', { stos: NOW - 4000 }) }, NOW);
    assert.equal(later.next.state, 'recover');
    assert.equal(later.next.recoverFrom, NOW - 5000, 'RECOVER-WAIT counts from when we went down');
    const earlier = step(s, { kind: 'connected', partner: report('partner-down', { stos: NOW - 6000 }) }, NOW);
    assert.equal(earlier.next.state, 'potential-conflict');
  });
  it('on contact, the previous state then the reconnect matrix apply in one step', () => {
    const s = boot({ state: 'normal', stos: NOW - 10_000 }, cfg, NOW).next;
    const r = step(s, { kind: 'connected', partner: report('normal') }, NOW);
    assert.equal(r.next.state, 'normal');
    assert.equal(r.effects.filter((e) => e.kind === 'persist-state').length, 1);
    assert.ok(r.effects.some((e) => e.kind === 'cancel-timer' && e.timer === 'startup'));
  });
});

describe('random event sequences (fast-check)', () => {
  const partnerArb = fc.record({
    state: fc.constantFrom(...PARTNER_STATES), stos: fc.integer({ min: NOW - 10 * MCLT, max: NOW + 10 * MCLT }), startup: fc.boolean(),
  });
  const eventArb: fc.Arbitrary<Event> = fc.oneof(
    partnerArb.map((partner): Event => ({ kind: 'connected', partner })),
    partnerArb.map((partner): Event => ({ kind: 'partner-state', partner })),
    fc.boolean().map((partnerDownEvidence): Event => ({ kind: 'switchover-timer', partnerDownEvidence })),
    fc.constantFrom<Event>(...(['disconnected', 'startup-timer', 'recover-wait-timer', 'update-done', 'admin-partner-down', 'admin-pause', 'admin-shutdown'] as const)
      .map((kind) => ({ kind }) as Event)),
  );
  const cfgArb = fc.record({
    role: fc.constantFrom<Role>('primary', 'secondary'), dialect: fc.constantFrom<Dialect>('draft', 'isc', 'ms'),
    mcltMs: fc.integer({ min: 1, max: 2 * MCLT }), startupMs: fc.constant(15_000),
    autoPartnerDown: fc.record({ enabled: fc.boolean(), intervalMs: fc.integer({ min: 0, max: MCLT }), recheckMs: fc.constant(1000) }),
  });
  const recordArb = fc.option(fc.record({
    state: fc.constantFrom(...SERVER_STATES), stos: fc.integer({ min: NOW - 10 * MCLT, max: NOW }),
    previous: fc.option(fc.constantFrom(...SERVER_STATES), { nil: undefined }),
  }), { nil: undefined });

  it('step never throws, every state is a state, persist-state leads every change, invariants 20–22 hold', () => {
    fc.assert(fc.property(cfgArb, recordArb, fc.array(fc.tuple(eventArb, fc.integer({ min: 0, max: MCLT })), { maxLength: 40 }), (cfg, rec, seq) => {
      let s = boot(rec, cfg, NOW).next;
      let now = NOW;
      for (const [e, dt] of seq) {
        now += dt;
        const before = s;
        const r = step(before, e, now);
        s = r.next;
        assert.ok(SERVER_STATES.includes(s.state));
        assert.ok(!r.effects.some((x) => x.kind === 'log' && x.event === 'failover.state.step_failed'));
        if (s.state !== before.state) {
          assert.deepEqual(r.effects[0], { kind: 'persist-state', state: s.state, stos: now, previous: s.previous });
          assert.equal(r.effects.filter((x) => x.kind === 'persist-state').length, 1);
          if (s.state === 'partner-down') {
            // Invariant 20: never because the link dropped or a timer fired without evidence.
            assert.notEqual(e.kind, 'disconnected');
            if (e.kind === 'switchover-timer') assert.ok(e.partnerDownEvidence && cfg.autoPartnerDown.enabled && now - before.stos >= cfg.autoPartnerDown.intervalMs);
            if (e.kind === 'connected' || e.kind === 'partner-state') {
              assert.ok(before.state === 'startup' || e.partner.state === 'shutdown' || (cfg.dialect === 'isc' && e.partner.state === 'recover'));
            }
          }
          if (before.state === 'partner-down' && (e.kind === 'partner-state' || e.kind === 'connected')) assert.equal(e.partner.startup, false); // invariant 21
          if (before.state === 'recover-wait' && s.state === 'recover-done') assert.ok(now >= recoverWaitUntil(before)); // invariant 22
        }
      }
    }), { numRuns: 400 });
  });
});

// ---------------------------------------------------------------- two pure machines wired together
// A tiny in-test harness: STATE messages become partner-state events, a request for updates is
// answered with UPDDONE (bindings abstracted away), timers fire in deadline order when idle.
interface Side { s: Snapshot; timers: Map<string, number> }
type Queued = { to: 0 | 1; e: Event };

const reportOf = (s: Snapshot): PartnerReport => ownReport(s);

function runPair(a: Snapshot, b: Snapshot, opts: { maxMs: number }): [Side, Side] {
  const sides: [Side, Side] = [{ s: a, timers: new Map() }, { s: b, timers: new Map() }];
  let now = NOW;
  const q: Queued[] = [];
  const apply = (i: 0 | 1, e: Event) => {
    const r = step(sides[i].s, e, now);
    sides[i].s = r.next;
    for (const x of r.effects) {
      if (x.kind === 'send-state') q.push({ to: i === 0 ? 1 : 0, e: { kind: 'partner-state', partner: reportOf(r.next) } });
      if (x.kind === 'request-updates') q.push({ to: i, e: { kind: 'update-done' } });
      if (x.kind === 'start-timer') sides[i].timers.set(x.timer, now + x.ms);
      if (x.kind === 'cancel-timer') sides[i].timers.delete(x.timer);
    }
  };
  // connect: each side gets the other's STATE as its first message
  const [ra, rb] = [reportOf(sides[0].s), reportOf(sides[1].s)];
  apply(0, { kind: 'connected', partner: rb });
  apply(1, { kind: 'connected', partner: ra });
  for (let i = 0; i < 500; i++) {
    const m = q.shift();
    if (m !== undefined) { apply(m.to, m.e); continue; }
    let next: { side: 0 | 1; timer: string; at: number } | undefined;
    for (const side of [0, 1] as const) for (const [timer, at] of sides[side].timers) if (next === undefined || at < next.at) next = { side, timer, at };
    if (next === undefined || next.at > NOW + opts.maxMs) break;
    now = Math.max(now, next.at);
    sides[next.side].timers.delete(next.timer);
    const kind = next.timer === 'startup' ? 'startup-timer' : next.timer === 'recover-wait' ? 'recover-wait-timer' : 'switchover-timer';
    apply(next.side, kind === 'switchover-timer' ? { kind, partnerDownEvidence: false } : { kind } as Event);
  }
  return sides;
}

describe('two machines reach NORMAL together', () => {
  const booted = (rec: Parameters<typeof boot>[0], role: Role, dialect: Dialect = 'draft') => boot(rec, config({ role, dialect }), NOW).next;
  const cases: { name: string; dialect: Dialect; p: Parameters<typeof boot>[0]; s: Parameters<typeof boot>[0]; normalNotBefore?: number }[] = [
    { name: 'fresh pair (no records), ISC dialect', dialect: 'isc', p: undefined, s: undefined },
    { name: 'fresh pair (no records), draft dialect', dialect: 'draft', p: undefined, s: undefined },
    { name: 'both restarted from NORMAL', dialect: 'draft', p: { state: 'normal', stos: NOW - 5000 }, s: { state: 'normal', stos: NOW - 5000 } },
    { name: 'split brain: both PARTNER-DOWN', dialect: 'draft',
      p: { state: 'partner-down', stos: NOW - 5000, lastOperationAt: NOW - 100 }, s: { state: 'partner-down', stos: NOW - 4000, lastOperationAt: NOW - 100 } },
    // A lost database (no record) may have granted leases the primary never heard of: a full MCLT wait.
    { name: 'primary PARTNER-DOWN, secondary lost its database (waits MCLT)', dialect: 'isc', p: { state: 'partner-down', stos: NOW - 5000 }, s: undefined, normalNotBefore: NOW + MCLT },
    { name: 'secondary returns after the primary went PARTNER-DOWN (waits MCLT)', dialect: 'draft',
      p: { state: 'partner-down', stos: NOW - 5000 }, s: { state: 'normal', stos: NOW - 9000, lastOperationAt: NOW - 6000 },
      normalNotBefore: NOW - 6000 + MCLT },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const [p, s] = runPair(booted(c.p, 'primary', c.dialect), booted(c.s, 'secondary', c.dialect), { maxMs: 3 * MCLT });
      assert.equal(p.s.state, 'normal', `primary ended in ${p.s.state}`);
      assert.equal(s.s.state, 'normal', `secondary ended in ${s.s.state}`);
      if (c.normalNotBefore !== undefined) assert.ok(s.s.stos >= c.normalNotBefore && p.s.stos >= c.normalNotBefore, 'RECOVER-WAIT waited out the MCLT');
      else assert.ok(p.s.stos < NOW + 1000, 'no wait needed');
    });
  }
});
