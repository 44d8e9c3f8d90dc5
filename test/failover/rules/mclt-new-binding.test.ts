// MCLT for a NEW binding on an address whose record still carries PETs about an earlier binding
// (digest §6.2, invariants 1, 3 and 8; D12 §5.2.1, §7.1.5, §9.4.2).
//
// The partner waits for an address only as long as it believes what the PETs were about. Once it knows
// the address as FREE (it applied our EXPIRED/RELEASED, or sent its own), it may, in PARTNER-DOWN, give
// it to anyone after max(PD start, its tsfp) + MCLT (mclt.partnerPoolUsableAt) — ignoring the PET it sent
// itself for the old client (freeLease and decideBinding keep only tsfp, the PET received from us).
// So a lease given on that address before the partner went PARTNER-DOWN must end by "then + MCLT":
// the draft's "a first binding gets exactly MCLT".
//
// The record we keep for the address still has `tsfp` = the partner's last PET for the OLD binding
// (binding-sync.ts decideBinding stores the received PET; freeLease keeps it on the FREE record) and
// mclt.partnerKnowledgeOf reads it as received-PET. Before the fix, policy.leaseSeconds credited it:
// with the chaos settings (lease 60 s, MCLT 15 s) the secondary renewing client X sends PET
// t+7+60+30 = t+97 s; the primary stores it as tsfp, keeps it when the address goes FREE, and at t+73 a
// brand-new client Y got 37 s (to t+110) instead of 15 s. The primary dies before its BNDUPD(Y) reaches
// the secondary; the operator puts the secondary in PARTNER-DOWN at t+76; at t+91 the address is usable
// there and client Z gets it: Z and Y both hold it until t+106. The same happens to X itself when the
// primary gives X back its own EXPIRED binding (the stranded-expiry shortcut kept for own addresses)
// after the secondary applied the EXPIRED but its BNDACK was lost.
//
// Fix (mclt.partnerKnowledgeForLeaseOn, used by policy.leaseSeconds): PETs count only for an ACTIVE
// record, i.e. a renewal of that binding; every other record starts a first binding (MCLT).
//
// The sim tests drive the real DhcpEngine + FailoverPeer pair (test/failover/sim/) on a fake clock with
// the chaos settings. They FAIL without the fix: the assertion is the chaos checker's invariant.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { MessageType } from '../../../src/dhcp/wire/message.ts';
import type { Decision } from '../../../src/dhcp/reply.ts';
import { bucketMapForPercent } from '../../../src/failover/rules/load-balance.ts';
import { createFailoverPolicy, type PolicyView } from '../../../src/failover/rules/allocation-policy.ts';
import { ownerByPosition, settledOwnership } from '../../fakes/ownership.ts';
import { serviceFor } from '../../../src/failover/protocol/service-state.ts';
import type { Role, ServerState } from '../../../src/failover/protocol/state-machine.ts';
import type { BindingState, Lease } from '../../../src/leases/lease.ts';
import { setLogLevel } from '../../../src/log.ts';
import { formatIpv4, parseIpv4, type Ipv4 } from '../../../src/net/ipv4.ts';
import { makeRequest } from '../../fakes/dhcp-builders.ts';
import type { Sim, SimServer } from '../sim/sim-pair.ts';
import { clientOf, endOf, GIADDR, holds, normalPair, typeOf, type Bound } from '../sim/sim-clients.ts';

setLogLevel('error');

// ------------------------------------------------------------------ the policy alone

const NOW = Date.UTC(2026, 0, 1);
const MCLT_MS = 3600_000;
const DAY_S = 86_400;

function policyFor(role: Role, state: ServerState) {
  const view: PolicyView = {
    state, stos: NOW - 1000, mcltMs: MCLT_MS, skewMs: 0,
    service: serviceFor(state, { role, dialect: 'draft' }),
    hba: bucketMapForPercent(50, 'set-is-primary'),
  };
  return createFailoverPolicy({
    config: { role, mode: 'load-balance', splitPercent: 50, reservePercent: 0, loadBalanceMaxSeconds: 3 },
    polarity: 'set-is-primary', ownership: settledOwnership(role, 50, { start: parseIpv4('10.0.0.0'), end: parseIpv4('10.0.0.255') }), view: () => view,
  });
}

const ADDR = parseIpv4('10.0.0.150');
/** A record for ADDR in `state` whose PETs (received and acked) lie 30 h ahead: they would allow a full day. */
function recordIn(state: BindingState): Lease {
  const client = state === 'free' || state === 'backup' || state === 'abandoned' ? {} : { hw: '1:aabbccddeeff' };
  return {
    ip: ADDR, scope: 'lab', state, ...client, expiresAt: NOW - 1000, cltt: NOW - 3_600_000,
    tsfp: NOW + 30 * 3_600_000, tstp: NOW + 30 * 3_600_000, partnerExpiresAt: NOW + 30 * 3_600_000, pendingAck: false,
  };
}

describe('policy.leaseSeconds: a PET counts only for the binding it was about (invariant 8)', () => {
  const cases: { state: BindingState; expected: number; why: string }[] = [
    { state: 'active', expected: DAY_S, why: 'a renewal of the binding the PETs are about gets the full lease' },
    { state: 'free', expected: 3600, why: 'FREE: the PETs were about the previous client; the partner knows the address as free' },
    { state: 'backup', expected: 3600, why: 'BACKUP: no binding' },
    { state: 'abandoned', expected: 3600, why: 'ABANDONED: no binding' },
    { state: 'expired', expected: 3600, why: 'EXPIRED: the partner frees it when it applies our BNDUPD, before we see the BNDACK' },
    { state: 'released', expected: 3600, why: 'RELEASED: likewise' },
    { state: 'reset', expected: 3600, why: 'RESET: likewise' },
  ];
  for (const c of cases) {
    for (const state of ['normal', 'communications-interrupted', 'partner-down'] as const) {
      it(`${c.state} record, ${state}: ${c.expected} s (${c.why})`, () => {
        const p = policyFor('primary', state);
        assert.equal(p.leaseSeconds!(ADDR, DAY_S, recordIn(c.state), NOW), c.expected);
        // PET sent for it = now + D + lease/2 (digest §6.2), so the next renewal can get D.
        assert.equal(p.petFor(ADDR), NOW + DAY_S * 1000 + (c.expected * 1000) / 2);
      });
    }
  }
  it('an ACTIVE record whose PET is unacked (pendingAck) still counts what the partner sent (tsfp)', () => {
    const p = policyFor('secondary', 'normal');
    const l: Lease = { ...recordIn('active'), pendingAck: true, tsfp: NOW + 2 * 3_600_000 };
    assert.equal(p.leaseSeconds!(ADDR, DAY_S, l, NOW), 3 * 3600);
  });
});

// ------------------------------------------------------------------ the pair

const MCLT_S = 15;

let xid = 1;

/** DISCOVER → the first OFFER → REQUEST → ACK, through the relay, to `only` or to both servers. */
async function dora(sim: Sim, mac: string, o: { requested?: Ipv4; only?: SimServer } = {}): Promise<Bound | undefined> {
  const id = xid++;
  const servers = o.only !== undefined ? [o.only] : sim.servers;
  let offer: Decision | undefined;
  for (const s of servers) {
    const p = s.handle(makeRequest({ type: MessageType.DISCOVER, mac, xid: id, giaddr: GIADDR, ...(o.requested !== undefined ? { requested: o.requested } : {}) }));
    if (p === undefined) continue;
    const d = await sim.run(p);
    if (offer === undefined && typeOf(d) === MessageType.OFFER) offer = d;
  }
  if (offer === undefined || offer.kind !== 'reply') return undefined;
  const serverId = offer.reply.options.get(54)!.readUInt32BE(0);
  let bound: Bound | undefined;
  for (const s of servers) {
    const p = s.handle(makeRequest({ type: MessageType.REQUEST, mac, xid: id, giaddr: GIADDR, requested: offer.reply.yiaddr, serverId }));
    if (p === undefined) continue;
    const d = await sim.run(p);
    if (d.kind === 'reply' && typeOf(d) === MessageType.ACK) {
      bound = { ip: formatIpv4(d.reply.yiaddr), server: s.name, leaseSeconds: d.reply.options.get(51)!.readUInt32BE(0), at: sim.clock.now() };
    }
  }
  return bound;
}

/** A renewal (REQUEST with ciaddr, unicast) to one server. */
async function renew(sim: Sim, s: SimServer, mac: string, addr: Ipv4): Promise<Bound | undefined> {
  const d = await sim.run(s.handle(makeRequest({ type: MessageType.REQUEST, mac, xid: xid++, giaddr: GIADDR, ciaddr: addr }))!);
  if (d.kind !== 'reply' || typeOf(d) !== MessageType.ACK) return undefined;
  return { ip: formatIpv4(addr), server: s.name, leaseSeconds: d.reply.options.get(51)!.readUInt32BE(0), at: sim.clock.now() };
}


let sim: Sim | undefined;
afterEach(async () => { await sim?.close(); sim = undefined; });

/**
 * X gets a primary-owned address from the primary (first binding: MCLT), then renews it at the
 * secondary, which has the primary's PET: a full 60 s lease and PET = now + 60 + 30 s, which the
 * primary stores as tsfp. Returns X's address.
 */
async function boundThenRenewedBySecondary(s: Sim, x: string): Promise<Ipv4> {
  const { srv1, srv2 } = s;
  const first = await dora(s, x);
  assert.ok(first !== undefined && first.server === 'srv1', 'X bound by the primary');
  assert.equal(first.leaseSeconds, MCLT_S, 'a first binding gets MCLT');
  const a = parseIpv4(first.ip);
  assert.equal(ownerByPosition(srv1.engine!.scopePlans, 50, a), 'primary');
  await s.until('secondary has it', () => srv2.engine!.leases.get(a)?.state === 'active' && srv1.engine!.leases.get(a)?.pendingAck === false);
  await s.advance(7000);
  const renewed = await renew(s, srv2, x, a);
  assert.ok(renewed !== undefined, 'the secondary renews X');
  assert.equal(renewed.leaseSeconds, 60, 'a renewal with the partner\'s PET gets the full lease');
  await s.until('primary has the renewal', () => srv2.engine!.leases.get(a)?.pendingAck === false);
  const onPrimary = srv1.engine!.leases.get(a)!;
  assert.ok(onPrimary.tsfp !== undefined && onPrimary.tsfp > onPrimary.expiresAt, 'the primary holds the secondary\'s PET, past the lease end');
  return a;
}

/** The primary is gone (kill -9 with the link cut); the operator puts the secondary in PARTNER-DOWN. */
async function primaryDiesSecondaryPartnerDown(s: Sim): Promise<number> {
  s.srv1.kill();
  await s.until('secondary COMM-INT', () => s.srv2.state === 'communications-interrupted', 20_000);
  await s.run(s.srv2.peer!.adminPartnerDown());
  assert.equal(s.srv2.state, 'partner-down');
  return s.clock.now();
}

describe('a new binding on an address whose record keeps an older binding\'s PET (invariant 8)', () => {
  it('a brand-new client on a freshly freed address gets MCLT, so the partner in PARTNER-DOWN cannot hand it out twice', async () => {
    sim = await normalPair();
    const { srv1, srv2 } = sim;
    const x = clientOf('primary'), y = clientOf('primary', 1), z = clientOf('secondary');
    const a = await boundThenRenewedBySecondary(sim, x);

    // X goes quiet; the primary sweeps and reports EXPIRED; the secondary applies it, the BNDACK frees it.
    await sim.advance(62_000);
    await sim.run(srv1.engine!.sweepExpired());
    await sim.until('FREE on both', () => srv1.engine!.leases.get(a)?.state === 'free' && srv2.engine!.leases.get(a)?.state === 'free');
    const freed = srv1.engine!.leases.get(a)!;
    assert.ok(freed.tsfp !== undefined && freed.tsfp > sim.clock.now(), 'the FREE record still carries the old PET (kept for the PARTNER-DOWN waits)');

    // Y, a new client, gets the address from the primary; the BNDUPD never reaches the secondary.
    sim.wire.cut();
    const yb = await dora(sim, y, { requested: a });
    assert.ok(yb !== undefined && yb.server === 'srv1' && yb.ip === formatIpv4(a), 'Y bound by the primary');

    const pdAt = await primaryDiesSecondaryPartnerDown(sim);
    // The secondary knows the address as FREE (the primary's): usable after PD start + MCLT.
    await sim.advance(pdAt + MCLT_S * 1000 + 100 - sim.clock.now());
    const zb = await dora(sim, z, { requested: a, only: srv2 });
    assert.ok(zb !== undefined && zb.ip === formatIpv4(a), 'Z gets the address from the secondary in PARTNER-DOWN');
    const now = sim.clock.now();
    assert.ok(!(holds(yb, now) && holds(zb, now)),
      `two clients hold ${zb.ip}: Y ${y} (ACK from ${yb.server}, ${yb.leaseSeconds} s, until +${(endOf(yb) - now) / 1000} s) and Z ${z} (ACK from ${zb.server})`);
    assert.equal(yb.leaseSeconds, MCLT_S, 'a new client\'s first binding gets exactly MCLT (desired 60 s)');
  });

  it('the same client back on its own EXPIRED binding after the partner applied the expiry (BNDACK lost) gets MCLT', async () => {
    sim = await normalPair();
    const { srv1, srv2 } = sim;
    const x = clientOf('primary'), z = clientOf('secondary');
    const a = await boundThenRenewedBySecondary(sim, x);

    // The primary reports EXPIRED; the secondary stores it FREE and acks, but the link dies with the BNDACK in flight.
    await sim.advance(61_000);
    srv2.store.onPut = (leases) => { if (leases.some((l) => l.ip === a && l.state === 'free')) sim!.wire.cut(); return 'ok'; };
    await sim.run(srv1.engine!.sweepExpired());
    await sim.until('secondary stored it FREE', () => srv2.engine!.leases.get(a)?.state === 'free', 5000);
    srv2.store.onPut = undefined;
    assert.equal(srv1.engine!.leases.get(a)?.state, 'expired', 'the primary still has X EXPIRED (unacked)');

    // X comes back to the primary, which owns the address and gives X its own binding back (the shortcut).
    const again = await dora(sim, x, { only: srv1 });
    assert.ok(again !== undefined && again.ip === formatIpv4(a), 'X gets its address back from the primary');

    const pdAt = await primaryDiesSecondaryPartnerDown(sim);
    await sim.advance(pdAt + MCLT_S * 1000 + 100 - sim.clock.now());
    const zb = await dora(sim, z, { requested: a, only: srv2 });
    assert.ok(zb !== undefined && zb.ip === formatIpv4(a), 'Z gets the address from the secondary in PARTNER-DOWN');
    const now = sim.clock.now();
    assert.ok(!(holds(again, now) && holds(zb, now)),
      `two clients hold ${zb.ip}: X ${x} (ACK from ${again.server}, ${again.leaseSeconds} s, until +${(endOf(again) - now) / 1000} s) and Z ${z} (ACK from ${zb.server})`);
    assert.equal(again.leaseSeconds, MCLT_S, 'the partner may already know the address as FREE: a first binding, MCLT');
  });
});
