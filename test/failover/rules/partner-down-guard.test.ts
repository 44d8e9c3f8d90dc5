import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { emptyGuard, observeClient, shouldPartnerDown, unackedClients, type GuardState } from '../../../src/failover/rules/partner-down-guard.ts';
import { bucketMapForSplit, serves } from '../../../src/failover/rules/load-balance.ts';

const T0 = 1_700_000_000_000; // communications lost
const SWITCHOVER = 60_000;
const query = (now: number) => ({ now, commsLostAt: T0, switchoverMs: SWITCHOVER, minUnackedClients: 3, maxAckDelayS: 10 });

/**
 * Simulate DHCP clients over ten minutes after the failover link broke. Each client starts at its
 * own time and broadcasts DISCOVER; we (the primary, 50/50 split) see every broadcast. If the
 * server that owns the client answers, the client is bound after one DISCOVER + REQUEST and falls
 * silent; otherwise it retries with RFC 2131 back-off and a growing secs.
 */
function simulate(opts: { partnerAlive: boolean; clients: number; weServeOurs?: boolean }): { guard: GuardState; decisions: { at: number; down: boolean }[] } {
  const map = bucketMapForSplit(128);
  let guard = emptyGuard();
  type Ev = { at: number; key: string; secs: number };
  const events: Ev[] = [];
  for (let i = 0; i < opts.clients; i++) {
    const mac = Buffer.from([0x52, 0x54, 0, 0, i >> 8, i & 255]);
    const key = mac.toString('hex');
    const start = T0 + 5_000 + i * 7_000;
    const partnerOwns = !serves(map, mac, { role: 'primary', polarity: 'set-is-primary' });
    const answered = partnerOwns ? opts.partnerAlive : opts.weServeOurs !== false;
    if (answered) {
      events.push({ at: start, key, secs: 0 }, { at: start + 200, key, secs: 0 }); // DISCOVER, REQUEST
    } else {
      for (let t = 0, backoff = 4_000; t < 600_000 && events.length < 10_000; t += backoff, backoff = Math.min(64_000, backoff * 2)) {
        events.push({ at: start + t, key, secs: Math.floor(t / 1000) });
      }
    }
  }
  events.sort((a, b) => a.at - b.at);
  const decisions: { at: number; down: boolean }[] = [];
  let nextCheck = T0 + SWITCHOVER;
  for (const ev of events) {
    while (nextCheck <= ev.at) { decisions.push({ at: nextCheck, down: shouldPartnerDown(guard, query(nextCheck)) }); nextCheck += 10_000; }
    const mac = Buffer.from(ev.key, 'hex');
    const ownedByPartner = !serves(map, mac, { role: 'primary', polarity: 'set-is-primary' });
    guard = observeClient(guard, { key: ev.key, secs: ev.secs, now: ev.at, ownedByPartner });
  }
  decisions.push({ at: nextCheck, down: shouldPartnerDown(guard, query(nextCheck)) });
  return { guard, decisions };
}

describe('shouldPartnerDown over simulated client traffic', () => {
  it('partner alive: its clients are answered and do not keep retrying → never partner-down', () => {
    const { decisions } = simulate({ partnerAlive: true, clients: 40 });
    assert.ok(decisions.length > 10);
    assert.ok(decisions.every((d) => !d.down));
  });
  it('partner alive, even if our own clients go unanswered → never partner-down (they are not partner clients)', () => {
    const { decisions } = simulate({ partnerAlive: true, clients: 40, weServeOurs: false });
    assert.ok(decisions.every((d) => !d.down));
  });
  it('partner dead → partner-down once the interval passed and enough partner clients went unanswered', () => {
    const { decisions, guard } = simulate({ partnerAlive: false, clients: 40 });
    const first = decisions.find((d) => d.down);
    assert.ok(first !== undefined, 'eventually partner-down');
    assert.ok(first.at >= T0 + SWITCHOVER);
    const end = decisions[decisions.length - 1]!.at;
    assert.ok(unackedClients(guard, query(end)).length >= 3);
    // and it stays true from then on
    assert.ok(decisions.filter((d) => d.at >= first.at).every((d) => d.down));
  });
});

describe('guard rules', () => {
  const g = (obs: [string, number, number][], ownedByPartner = true): GuardState =>
    obs.reduce((s, [key, secs, now]) => observeClient(s, { key, secs, now, ownedByPartner }), emptyGuard());
  const dead = g([['a', 0, T0 + 1], ['a', 12, T0 + 12_001], ['b', 0, T0 + 2], ['b', 20, T0 + 20_002], ['c', 3, T0 + 3], ['c', 11, T0 + 11_003]]);
  it('the interval alone is not enough', () => {
    assert.equal(shouldPartnerDown(emptyGuard(), query(T0 + 10 * SWITCHOVER)), false);
  });
  it('evidence alone is not enough', () => {
    assert.equal(unackedClients(dead, query(T0 + SWITCHOVER)).length, 3);
    assert.equal(shouldPartnerDown(dead, query(T0 + SWITCHOVER - 1)), false);
    assert.equal(shouldPartnerDown(dead, query(T0 + SWITCHOVER)), true);
  });
  it('needs minUnackedClients distinct clients (at least one even when configured 0)', () => {
    assert.equal(shouldPartnerDown(dead, { ...query(T0 + SWITCHOVER), minUnackedClients: 4 }), false);
    assert.equal(shouldPartnerDown(emptyGuard(), { ...query(T0 + SWITCHOVER), minUnackedClients: 0 }), false);
  });
  it('a single message with a large secs is not a retry; non-growing secs is not evidence', () => {
    const s = g([['a', 50, T0 + 1], ['b', 30, T0 + 2], ['b', 30, T0 + 4002], ['c', 0, T0 + 3], ['c', 5, T0 + 5003]]);
    assert.deepEqual(unackedClients(s, query(T0 + SWITCHOVER)), []);
  });
  it('clients seen before communications were lost do not count', () => {
    const s = g([['a', 0, T0 - 1], ['a', 12, T0 + 12_000]]);
    assert.deepEqual(unackedClients(s, query(T0 + SWITCHOVER)), []);
  });
  it('our own clients are ignored; secs going down starts a new exchange', () => {
    assert.equal(g([['a', 0, T0 + 1], ['a', 20, T0 + 20_000]], false).clients.size, 0);
    const s = g([['a', 0, T0 + 1], ['a', 20, T0 + 20_000], ['a', 0, T0 + 30_000]]);
    assert.deepEqual(unackedClients(s, query(T0 + SWITCHOVER)), []);
  });
  it('memory is bounded; observeClient is pure', () => {
    let s = emptyGuard({ maxTracked: 5 });
    const before = s;
    for (let i = 0; i < 50; i++) s = observeClient(s, { key: `k${i}`, secs: i, now: T0 + i, ownedByPartner: true });
    assert.equal(s.clients.size, 5);
    assert.deepEqual([...s.clients.keys()], ['k45', 'k46', 'k47', 'k48', 'k49']);
    assert.equal(before.clients.size, 0);
  });
  it('never throws and never decides before the interval, whatever the input', () => {
    fc.assert(fc.property(fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), secs: fc.double(), dt: fc.integer({ min: -1000, max: 100_000 }), p: fc.boolean() }), { maxLength: 60 }),
      fc.integer({ min: 0, max: 10 * SWITCHOVER }), (obs, at) => {
        let s = emptyGuard({ maxTracked: 3 });
        let now = T0;
        for (const o of obs) { now += o.dt; s = observeClient(s, { key: o.key, secs: o.secs, now, ownedByPartner: o.p }); }
        const down = shouldPartnerDown(s, query(T0 + at));
        return s.clients.size <= 3 && (at >= SWITCHOVER || !down);
      }));
  });
});
