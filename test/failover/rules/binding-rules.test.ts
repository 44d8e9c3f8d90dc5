import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ACCEPTANCE, checkUpdate, LOCAL_TRANSITIONS, mayTransition, RejectReason, type LocalBinding, type LocalTransitionContext,
  type ProposedBinding, type UpdateInput,
} from '../../../src/failover/rules/binding-rules.ts';
import type { BindingState } from '../../../src/leases/lease.ts';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;
const STATES: BindingState[] = ['free', 'active', 'expired', 'released', 'abandoned', 'reset', 'backup'];

function proposed(state: BindingState, over: Partial<ProposedBinding> = {}): ProposedBinding {
  const withClient = state !== 'abandoned' && state !== 'free' && state !== 'backup';
  return {
    state, client: withClient ? 'hw:1:aa' : undefined, hasHardwareAddress: withClient,
    cltt: NOW - 10, expiresAt: state === 'active' ? NOW + HOUR : undefined, ...over,
  };
}
function local(state: BindingState, over: Partial<LocalBinding> = {}): LocalBinding {
  return { state, client: 'hw:1:aa', cltt: NOW - 100, expiresAt: NOW + HOUR, stos: NOW - 100, ...over };
}
const input = (over: Partial<UpdateInput>): UpdateInput => ({
  role: 'primary', local: undefined, proposed: proposed('active'), inPool: true, now: NOW, ...over,
});
const verdict = (d: ReturnType<typeof checkUpdate>): string => (d.kind === 'reject' ? `reject ${d.reason}` : 'accept');

describe('Figure 7.1.3-1 (digest §5.2), every cell', () => {
  // [ours, received, with newer CLTT / lease ended, with older CLTT / lease running]
  const cases: [BindingState, BindingState, string, string][] = [];
  const expectations: Record<string, [string, string]> = {
    accept: ['accept', 'accept'], time1: ['accept', 'reject 15'], time2: ['accept', 'reject 15'], time3: ['accept', 'reject 15'],
    reject4: ['reject 16', 'reject 16'], client: ['accept', 'accept'],
  };
  for (const ours of STATES) for (const got of STATES) {
    const col = got === 'free' || got === 'backup' ? 'free-backup' : got === 'reset' || got === 'abandoned' ? 'reset-abandoned' : got;
    const check = ACCEPTANCE[ours][col as keyof (typeof ACCEPTANCE)['active']];
    cases.push([ours, got, ...expectations[check]!]);
  }
  it('the table has the draft\'s shape', () => {
    assert.equal(ACCEPTANCE.active.active, 'client');
    assert.equal(ACCEPTANCE.active.expired, 'time2');
    assert.equal(ACCEPTANCE.active.released, 'time1');
    assert.equal(ACCEPTANCE.active['free-backup'], 'time2');
    assert.equal(ACCEPTANCE.expired.active, 'time1');
    assert.equal(ACCEPTANCE.released.expired, 'time1');
    assert.equal(ACCEPTANCE.reset.active, 'time3');
    assert.ok(Object.values(ACCEPTANCE.abandoned).slice(0, 4).every((c) => c === 'reject4'));
    assert.ok(Object.values(ACCEPTANCE.free).every((c) => c === 'accept'));
  });
  for (const [ours, got, favourable, unfavourable] of cases) {
    it(`${ours} × ${got}: ${favourable} / ${unfavourable}`, () => {
      // favourable: the update is newer (CLTT later than ours and our stos) and our lease has ended
      const fav = checkUpdate(input({ local: local(ours, { expiresAt: NOW - 1 }), proposed: proposed(got, { cltt: NOW }) }));
      assert.equal(verdict(fav), favourable);
      const unfav = checkUpdate(input({ local: local(ours, { expiresAt: NOW + 1 }), proposed: proposed(got, { cltt: NOW - 1000 }) }));
      assert.equal(verdict(unfav), unfavourable);
    });
  }
});

describe('checkUpdate details', () => {
  it('(5) ACTIVE for a different client: the primary rejects with 2, the secondary accepts', () => {
    const i = input({ local: local('active', { client: 'hw:1:bb' }), proposed: proposed('active') });
    assert.deepEqual(verdict(checkUpdate(i)), 'reject 2');
    assert.deepEqual(verdict(checkUpdate({ ...i, role: 'secondary' })), 'accept');
  });
  it('a missing CLTT never counts as later; a CLTT against none of ours does', () => {
    assert.equal(verdict(checkUpdate(input({ local: local('expired'), proposed: proposed('active', { cltt: undefined }) }))), 'reject 15');
    assert.equal(verdict(checkUpdate(input({ local: local('expired', { cltt: undefined }), proposed: proposed('active', { cltt: 1 }) }))), 'accept');
  });
  it('skew widens time(2)', () => {
    const i = input({ local: local('active', { expiresAt: NOW - 500 }), proposed: proposed('expired') });
    assert.equal(verdict(checkUpdate(i)), 'accept');
    assert.equal(verdict(checkUpdate({ ...i, skewMs: 1000 })), 'reject 15');
  });
  it('secondary rejects the primary reclaiming (FREE) an address it has ACTIVE (invariant 5)', () => {
    const d = checkUpdate(input({ role: 'secondary', local: local('active', { expiresAt: NOW + HOUR }), proposed: proposed('free') }));
    assert.deepEqual(d, { kind: 'reject', rule: 'active×free:time2', reason: RejectReason.OUTDATED_BINDING_INFO });
  });
  it('validation: pool, missing info, abandoned with client, BACKUP with R flag', () => {
    assert.equal(verdict(checkUpdate(input({ inPool: false }))), 'reject 1');
    assert.equal(verdict(checkUpdate(input({ proposed: proposed('active', { hasHardwareAddress: false }) }))), 'reject 3');
    assert.equal(verdict(checkUpdate(input({ proposed: proposed('active', { expiresAt: undefined }) }))), 'reject 3');
    assert.equal(verdict(checkUpdate(input({ proposed: proposed('abandoned', { client: 'hw:1:aa' }) }))), 'reject 6');
    assert.equal(verdict(checkUpdate(input({ proposed: proposed('backup', { reservedFlag: true }) }))), 'reject 19');
    assert.equal(verdict(checkUpdate(input({ local: local('free', { reserved: true }), proposed: proposed('backup', { reservedFlag: true }) }))), 'accept');
  });
  it('EXPIRED/RELEASED/RESET are stored as FREE (the sender frees on our ack)', () => {
    for (const s of ['expired', 'released', 'reset'] as const) {
      const d = checkUpdate(input({ local: local('free'), proposed: proposed(s) }));
      assert.deepEqual(d.kind === 'accept-with-changes' ? d.changes : undefined, { state: 'free' }, s);
    }
  });
  it('keeps the later lease-expiration-time for the same client', () => {
    const d = checkUpdate(input({ local: local('active', { expiresAt: NOW + 2 * HOUR }), proposed: proposed('active', { expiresAt: NOW + HOUR }) }));
    assert.deepEqual(d.kind === 'accept-with-changes' ? d.changes : undefined, { expiresAt: NOW + 2 * HOUR });
  });
  it('no record = FREE: everything valid is accepted; never throws on anything', () => {
    fc.assert(fc.property(
      fc.constantFrom(...STATES), fc.option(fc.constantFrom(...STATES), { nil: undefined }), fc.constantFrom('primary' as const, 'secondary' as const),
      fc.option(fc.integer(), { nil: undefined }), fc.option(fc.integer(), { nil: undefined }), fc.boolean(), fc.boolean(),
      (p, l, role, cltt, exp, hw, inPool) => {
        const d = checkUpdate({ role, now: NOW, inPool, local: l === undefined ? undefined : { state: l, cltt: exp, expiresAt: exp },
          proposed: { state: p, cltt, expiresAt: exp, hasHardwareAddress: hw, client: hw ? 'x' : undefined } });
        return ['accept', 'reject', 'accept-with-changes'].includes(d.kind);
      }));
  });
});

describe('local transitions (digest §5.1)', () => {
  const ctx = (over: Partial<LocalTransitionContext> = {}): LocalTransitionContext => ({
    role: 'primary', dialect: 'draft', serverState: 'normal', stos: NOW - 1000, now: NOW, mcltMs: HOUR, ...over,
  });
  it('FREE belongs to the primary, BACKUP to the secondary (invariant 1)', () => {
    assert.equal(mayTransition('free', 'active', ctx()).allowed, true);
    assert.equal(mayTransition('free', 'active', ctx({ role: 'secondary' })).allowed, false);
    assert.equal(mayTransition('backup', 'active', ctx({ role: 'secondary' })).allowed, true);
    assert.equal(mayTransition('backup', 'active', ctx()).allowed, false);
  });
  it("the partner's pool only in PARTNER-DOWN after max(stos, tsfp) + MCLT", () => {
    const pd = ctx({ role: 'secondary', serverState: 'partner-down', stos: NOW - HOUR });
    assert.equal(mayTransition('free', 'active', pd).allowed, true);
    assert.equal(mayTransition('free', 'active', { ...pd, now: NOW - 1 }).allowed, false);
    assert.equal(mayTransition('free', 'active', { ...pd, tsfp: NOW }).allowed, false);
    assert.equal(mayTransition('free', 'active', { ...pd, serverState: 'communications-interrupted' }).allowed, false);
  });
  it('EXPIRED → FREE needs the partner ack, or PARTNER-DOWN + MCLT since the status began (invariant 2)', () => {
    assert.equal(mayTransition('expired', 'free', ctx()).allowed, false);
    assert.equal(mayTransition('expired', 'free', ctx({ partnerAcked: true })).allowed, true);
    const pd = ctx({ serverState: 'partner-down', stos: NOW - 2 * HOUR, enteredStatusAt: NOW - HOUR });
    assert.equal(mayTransition('expired', 'free', pd).allowed, true);
    assert.equal(mayTransition('expired', 'free', { ...pd, enteredStatusAt: NOW - HOUR + 1 }).allowed, false);
    assert.equal(mayTransition('expired', 'free', { ...pd, enteredStatusAt: undefined }).allowed, false);
  });
  it('same client may get its EXPIRED address back only before the expiry was reported', () => {
    assert.equal(mayTransition('expired', 'active', ctx({ sameClient: true })).allowed, true);
    assert.equal(mayTransition('expired', 'active', ctx({ sameClient: true, reported: true })).allowed, false);
    assert.equal(mayTransition('expired', 'active', ctx({ sameClient: false })).allowed, false);
  });
  it('ISC NORMAL: only the primary expires leases', () => {
    const c = ctx({ dialect: 'isc', role: 'secondary', expiresAt: NOW - 1 });
    assert.equal(mayTransition('active', 'expired', c).allowed, false);
    assert.equal(mayTransition('active', 'expired', { ...c, role: 'primary' }).allowed, true);
    assert.equal(mayTransition('active', 'expired', { ...c, dialect: 'draft' }).allowed, true);
    assert.equal(mayTransition('active', 'expired', { ...c, role: 'primary', expiresAt: NOW + 1 }).allowed, false);
  });
  it('operator-only and unlisted transitions', () => {
    assert.equal(mayTransition('active', 'reset', ctx()).allowed, false);
    assert.equal(mayTransition('active', 'reset', ctx({ byOperator: true })).allowed, true);
    assert.equal(mayTransition('free', 'expired', ctx({ byOperator: true })).allowed, false);
    assert.equal(mayTransition('backup', 'free', ctx()).allowed, false);
    assert.equal(mayTransition('backup', 'free', ctx({ partnerAcked: true })).allowed, true);
  });
  it('every rule names a spec section; no (from, to) pair appears twice', () => {
    const seen = new Set<string>();
    for (const r of LOCAL_TRANSITIONS) {
      assert.match(r.spec, /§/);
      for (const f of r.from) { const k = `${f}>${r.to}`; assert.ok(!seen.has(k), k); seen.add(k); }
    }
  });
});
