// Reproduction for the chaos failure "two clients hold one address" (seed 1915884571: 10.100.0.116 and
// 10.100.1.235, both primary-owned, second holders ACKed around srv1's second kill -9).
//
// Mechanism: the SECONDARY (not the owner of a primary-owned address) sends BNDUPD(EXPIRED) for it; the
// primary applies it (stores the address FREE, binding-sync.ts decideBinding + applyRemote) but its BNDACK
// never reaches the secondary (kill -9 of the primary between the store write and the BNDACK, or the link
// dying with the BNDACK in flight). The secondary keeps the lease EXPIRED for the old client X, and when X
// comes back the secondary gives the address back to X through the engine's "existing binding" shortcut:
// allocate.ts usableFor() / reply.ts mayBind() return true for availability 'own' (an expired lease of the
// same client, allocate.ts availabilityOf) WITHOUT asking the failover policy. Digest §5.1 (last row) and
// §5.3 allow EXPIRED → ACTIVE for the same client only if no BNDUPD about the expiry was sent yet — here
// it was sent and applied. The primary meanwhile serves the address from its FREE record to client Y (its
// own pool, allowed in NORMAL / COMM-INT / CONFLICT-DONE; a restarted primary's pool cursor starts at 0, so
// the lowest FREE addresses go first). Two holders. On reconnect the primary rejects the secondary's
// ACTIVE(X) (reason 2) and the secondary accepts the primary's ACTIVE(Y) (secondary accepts a conflicting
// ACTIVE): X keeps the address until its next renewal is NAKed.
//
// Both tests drive the real DhcpEngine + FailoverPeer pair with the chaos settings (lease 60 s, MCLT 15 s,
// switchover 5 s, startup 1 s, max-response-delay 3 s, 50/50) on a fake clock (test/failover/sim/).
// They FAIL on the code this was written against: the assertion is the chaos checker's invariant.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { MessageType } from '../../../src/dhcp/wire/message.ts';
import type { Decision } from '../../../src/dhcp/reply.ts';
import { ownerByPosition } from '../../fakes/ownership.ts';
import { setLogLevel } from '../../../src/log.ts';
import { formatIpv4, parseIpv4 } from '../../../src/net/ipv4.ts';
import { makeRequest } from '../../fakes/dhcp-builders.ts';
import type { Sim, SimServer } from '../sim/sim-pair.ts';
import { clientOf, GIADDR, holds, normalPair, typeOf, type Bound } from '../sim/sim-clients.ts';

setLogLevel('error');


let xid = 1;

/** DISCOVER (with `secs`) → an OFFER (the preferred server's, else the first) → REQUEST to both → ACK, through the relay. */
async function dora(sim: Sim, mac: string, o: { secs?: number; prefer?: SimServer; requested?: number } = {}): Promise<Bound | undefined> {
  const id = xid++;
  const secs = o.secs ?? 0;
  const offers: { s: SimServer; d: Decision }[] = [];
  for (const s of sim.servers) {
    const p = s.handle({ ...makeRequest({ type: MessageType.DISCOVER, mac, xid: id, giaddr: GIADDR, ...(o.requested !== undefined ? { requested: o.requested } : {}) }), secs });
    if (p === undefined) continue;
    const d = await sim.run(p);
    if (typeOf(d) === MessageType.OFFER) offers.push({ s, d });
  }
  const offer = offers.find((x) => x.s === o.prefer) ?? offers[0];
  if (offer === undefined || offer.d.kind !== 'reply') return undefined;
  const serverId = offer.d.reply.options.get(54)!.readUInt32BE(0);
  let bound: Bound | undefined;
  for (const s of sim.servers) {
    const p = s.handle({ ...makeRequest({ type: MessageType.REQUEST, mac, xid: id, giaddr: GIADDR, requested: offer.d.reply.yiaddr, serverId }), secs });
    if (p === undefined) continue;
    const d = await sim.run(p);
    if (d.kind === 'reply' && typeOf(d) === MessageType.ACK) {
      bound = { ip: formatIpv4(d.reply.yiaddr), server: s.name, leaseSeconds: d.reply.options.get(51)!.readUInt32BE(0), at: sim.clock.now() };
    }
  }
  return bound;
}


let sim: Sim | undefined;
afterEach(async () => { await sim?.close(); sim = undefined; });

describe('an EXPIRED the primary applied but never acked (chaos seed 1915884571)', () => {
  it('kill -9 of the primary between storing and acking the secondary\'s EXPIRED: two clients end up holding one address', async () => {
    sim = await normalPair();
    const { srv1, srv2 } = sim;
    const x = clientOf('primary'), y = clientOf('primary', 1); // like 02:c8:..:72 and 02:c8:..:1f: the primary's hash buckets

    // X gets a primary-owned address from the primary (a new binding: MCLT, 15 s), the secondary learns it.
    const first = await dora(sim, x);
    assert.ok(first !== undefined && first.server === 'srv1', 'X bound by the primary');
    const a = parseIpv4(first.ip);
    assert.equal(ownerByPosition(srv1.engine!.scopePlans, 50, a), 'primary');
    await sim.until('secondary has it', () => srv2.engine!.leases.get(a)?.state === 'active' && srv1.engine!.leases.get(a)?.pendingAck === false);

    // X goes quiet; its lease runs out. The secondary's sweep runs first and reports EXPIRED.
    await sim.advance(first.leaseSeconds * 1000 + 1000);
    let stranded = false;
    srv1.store.onPut = (leases) => {
      // Redis applies the HSET that frees the address; srv1 dies before it reads the reply: no BNDACK.
      if (leases.some((l) => l.ip === a && l.state === 'free')) { stranded = true; return 'hang'; }
      return 'ok';
    };
    await sim.run(srv2.engine!.sweepExpired());
    await sim.until('primary stored the address FREE', () => stranded, 2000);
    srv1.kill(); // kill -9
    srv1.store.onPut = undefined;
    assert.equal(srv1.store.leases.get(a)?.state, 'free', 'the primary\'s store has the address FREE');
    assert.equal(srv2.engine!.leases.get(a)?.state, 'expired', 'the secondary still has it EXPIRED for X (its BNDUPD is unacked)');
    await sim.until('secondary COMM-INT', () => srv2.state === 'communications-interrupted', 5000);

    // X comes back while the primary is down; its DISCOVERs go unanswered until secs > 3, then the
    // secondary takes over (COMM-INT keeps balancing DISCOVERs) and gives X its old address back.
    const again = await dora(sim, x, { secs: 4 });
    assert.ok(again !== undefined, 'X served by the secondary');
    assert.equal(again.server, 'srv2');

    // The primary restarts (kill faults restart it) before the failover link is back within
    // startupSeconds (1 s): STARTUP → previous state COMMUNICATIONS-INTERRUPTED, serving its own pool
    // from its store, in which the address is FREE.
    sim.wire.cut();
    await sim.run(srv1.start());
    await sim.until('primary serving', () => srv1.state === 'communications-interrupted', 5000);
    const other = await dora(sim, y);
    assert.ok(other !== undefined, 'Y served');

    const now = sim.clock.now();
    assert.ok(!(holds(again, now) && holds(other, now) && again.ip === other.ip),
      `two clients hold ${again.ip}: X ${x} (ACK from ${again.server}, ${again.leaseSeconds} s) and Y ${y} (ACK from ${other.server}, ${other.leaseSeconds} s)`);
  });

  it('the link dying with the primary\'s BNDACK in flight is enough (no restart): both serve in COMMUNICATIONS-INTERRUPTED', async () => {
    sim = await normalPair();
    const { srv1, srv2 } = sim;
    const x = clientOf('secondary'), y = clientOf('primary');

    // X (the secondary's bucket) waited > loadBalanceMaxSeconds, took the primary's offer: a primary-owned address.
    const first = await dora(sim, x, { secs: 4, prefer: srv1 });
    assert.ok(first !== undefined && first.server === 'srv1');
    const a = parseIpv4(first.ip);
    assert.equal(ownerByPosition(srv1.engine!.scopePlans, 50, a), 'primary');
    await sim.until('secondary has it', () => srv2.engine!.leases.get(a)?.state === 'active' && srv1.engine!.leases.get(a)?.pendingAck === false);

    await sim.advance(first.leaseSeconds * 1000 + 1000);
    // The secondary reports EXPIRED; the primary stores FREE and answers, but the link is cut right
    // then (the 30 % drop / cut faults): the BNDACK never arrives and the link dies of max-response-delay.
    srv1.store.onPut = (leases) => { if (leases.some((l) => l.ip === a && l.state === 'free')) sim!.wire.cut(); return 'ok'; };
    await sim.run(srv2.engine!.sweepExpired());
    await sim.until('both COMM-INT', () => srv1.state === 'communications-interrupted' && srv2.state === 'communications-interrupted', 10_000);
    srv1.store.onPut = undefined;
    assert.equal(srv1.engine!.leases.get(a)?.state, 'free');
    assert.equal(srv2.engine!.leases.get(a)?.state, 'expired');

    const again = await dora(sim, x);   // the secondary's client: the secondary answers, with its old (primary-owned) address
    // The primary's client: the primary answers from its FREE record. (Its pool cursor has moved past the
    // address, so Y asks for it by option 50 here; the scan reaches it the same way once it wraps.)
    const other = await dora(sim, y, { requested: a });
    assert.ok(again !== undefined && other !== undefined);
    const now = sim.clock.now();
    assert.ok(!(holds(again, now) && holds(other, now) && again.ip === other.ip),
      `two clients hold ${again.ip}: X ${x} (ACK from ${again.server}) and Y ${y} (ACK from ${other.server})`);
  });
});
