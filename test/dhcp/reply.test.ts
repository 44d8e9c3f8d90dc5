import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STANDALONE_POLICY } from '../../src/dhcp/allocate.ts';
import { BROADCAST_FLAG, MessageType } from '../../src/dhcp/wire/message.ts';
import { OfferBook } from '../../src/dhcp/offers.ts';
import { planScope } from '../../src/dhcp/pool.ts';
import { decide, type Decision, type ServeContext } from '../../src/dhcp/reply.ts';
import type { Lease } from '../../src/leases/lease.ts';
import { LeaseIndex } from '../../src/leases/lease-index.ts';
import { ip, makeRequest, makeReservation, makeScope } from '../fakes/dhcp-builders.ts';

const NOW = 1_700_000_000_000;
const SERVER_ID = ip('10.0.0.2');
const MAC = '02:00:00:00:00:01';
const HW = '1:020000000001';

function context(overrides: Partial<ServeContext> = {}): ServeContext {
  const plans = overrides.plans ?? [planScope(makeScope()), planScope(makeScope({ name: 'relayed', subnetText: '10.100.0.0/24', ranges: [{ start: ip('10.100.0.10'), end: ip('10.100.0.50') }] }))];
  return {
    serverId: SERVER_ID, plans, directScopes: [plans[0]!], leases: new LeaseIndex(), offers: new OfferBook(),
    policy: STANDALONE_POLICY, cursors: new Map(), offerHoldSeconds: 10, declineHoldSeconds: 600, ...overrides,
  };
}

function reply(d: Decision) {
  assert.equal(d.kind, 'reply', `expected a reply, got ${JSON.stringify(d)}`);
  if (d.kind !== 'reply') throw new Error('unreachable');
  return d;
}

const typeOf = (d: Decision) => (d.kind === 'reply' ? d.reply.options.get(53)?.[0] : undefined);
const u32 = (b: Buffer | undefined) => b?.readUInt32BE(0);

function activeLease(addr: string, hw = HW, expiresAt = NOW + 3_600_000): Lease {
  return { ip: ip(addr), scope: 'lab', state: 'active', hw, expiresAt, cltt: NOW };
}

describe('decide: DISCOVER', () => {
  it('offers a pool address with server id, lease time, T1/T2 and the mask, broadcast on the subnet', () => {
    const d = reply(decide(context(), makeRequest({ type: MessageType.DISCOVER, mac: MAC }), NOW));
    assert.equal(typeOf(d), MessageType.OFFER);
    assert.equal(d.reply.yiaddr, ip('10.0.0.10'));
    assert.equal(u32(d.reply.options.get(54)), SERVER_ID);
    assert.deepEqual([u32(d.reply.options.get(51)), u32(d.reply.options.get(58)), u32(d.reply.options.get(59))], [3600, 1800, 3150]);
    assert.deepEqual([...d.reply.options.get(1)!], [255, 255, 255, 0]);
    assert.deepEqual(d.to, { address: ip('10.0.0.255'), port: 68 });
    assert.deepEqual(d.offer, { ip: ip('10.0.0.10'), clientKey: `hw:${HW}`, until: NOW + 10_000 });
    assert.equal(d.commit, undefined, 'an offer is not a binding');
  });

  it('orders options by the parameter request list and leaves out what was not asked for', () => {
    const d = reply(decide(context(), makeRequest({ type: MessageType.DISCOVER, prl: [6, 3, 1] }), NOW));
    const codes = [...d.reply.options.keys()];
    assert.ok(codes.indexOf(6) < codes.indexOf(3), `6 before 3 in ${codes}`);
    assert.equal(codes[0], 53);
    const noPrl = reply(decide(context(), makeRequest({ type: MessageType.DISCOVER }), NOW));
    assert.ok(noPrl.reply.options.has(3) && noPrl.reply.options.has(6));
    const onlyRouter = reply(decide(context(), makeRequest({ type: MessageType.DISCOVER, prl: [3] }), NOW));
    assert.equal(onlyRouter.reply.options.has(6), false);
  });

  it('gives a shorter lease when the client asks for one', () => {
    const d = reply(decide(context(), makeRequest({ type: MessageType.DISCOVER, leaseTime: 600 }), NOW));
    assert.equal(u32(d.reply.options.get(51)), 600);
  });

  it('replies to the relay for relayed clients and echoes option 82', () => {
    const agent = Buffer.from([1, 3, 0x61, 0x62, 0x63]);
    const d = reply(decide(context(), makeRequest({ type: MessageType.DISCOVER, giaddr: ip('10.100.0.1'), extra: [[82, agent]] }), NOW));
    assert.equal(d.reply.yiaddr, ip('10.100.0.10'));
    assert.deepEqual(d.to, { address: ip('10.100.0.1'), port: 67 });
    assert.deepEqual(d.reply.options.get(82), agent);
    assert.equal([...d.reply.options.keys()].at(-1), 82, 'relay agent information goes last');
  });

  it('malformed relay agent information (a sub-option overrunning the option, an empty one) is echoed unchanged and never used to pick a scope', () => {
    for (const agent of [Buffer.from('0105aabb', 'hex'), Buffer.from('01', 'hex'), Buffer.from('050a0a0a', 'hex'), Buffer.alloc(0)]) {
      const d = reply(decide(context(), makeRequest({ type: MessageType.DISCOVER, giaddr: ip('10.100.0.1'), extra: [[82, agent]] }), NOW));
      assert.equal(d.reply.yiaddr, ip('10.100.0.10'), `scope still chosen by giaddr for 82 = ${agent.toString('hex')}`);
      assert.deepEqual(d.reply.options.get(82), agent, 'echoed byte for byte (RFC 3046 §2.2)');
    }
  });

  it('drops what it cannot serve, with a reason', () => {
    assert.deepEqual(decide(context(), makeRequest({ type: MessageType.DISCOVER, giaddr: ip('192.168.50.1') }), NOW), { kind: 'drop', reason: 'no_scope' });
    const inactive = [planScope(makeScope({ active: false }))];
    assert.equal((decide(context({ plans: inactive, directScopes: inactive }), makeRequest({ type: MessageType.DISCOVER }), NOW) as { reason: string }).reason, 'scope_inactive');
    const tiny = [planScope(makeScope({ ranges: [{ start: ip('10.0.0.10'), end: ip('10.0.0.10') }] }))];
    const leases = new LeaseIndex();
    leases.set(activeLease('10.0.0.10', '1:0a'));
    assert.equal((decide(context({ plans: tiny, directScopes: tiny, leases }), makeRequest({ type: MessageType.DISCOVER }), NOW) as { reason: string }).reason, 'pool_exhausted');
  });

  it('serves a reservation with its own options', () => {
    const plans = [planScope(makeScope({ reservations: [makeReservation({ ip: ip('10.0.0.5'), hw: HW, hostname: 'printer', options: new Map([[3, Buffer.from([10, 0, 0, 254])]]) })] }))];
    const d = reply(decide(context({ plans, directScopes: plans }), makeRequest({ type: MessageType.DISCOVER, prl: [3, 12] }), NOW));
    assert.equal(d.reply.yiaddr, ip('10.0.0.5'));
    assert.deepEqual([...d.reply.options.get(3)!], [10, 0, 0, 254]);
    assert.equal(d.reply.options.get(12)?.toString(), 'printer');
  });
});

describe('decide: REQUEST', () => {
  it('SELECTING: ACKs the offered address and commits an active lease', () => {
    const d = reply(decide(context(), makeRequest({ type: MessageType.REQUEST, serverId: SERVER_ID, requested: ip('10.0.0.12') }), NOW));
    assert.equal(typeOf(d), MessageType.ACK);
    assert.equal(d.reply.yiaddr, ip('10.0.0.12'));
    assert.deepEqual(d.commit, { ip: ip('10.0.0.12'), scope: 'lab', state: 'active', hw: HW, expiresAt: NOW + 3_600_000, cltt: NOW });
  });

  it('SELECTING another server: silent', () => {
    const d = decide(context(), makeRequest({ type: MessageType.REQUEST, serverId: ip('10.0.0.3'), requested: ip('10.0.0.12') }), NOW);
    assert.deepEqual(d, { kind: 'drop', reason: 'other_server', scope: 'lab' });
  });

  it('SELECTING an address another client holds: NAK, broadcast', () => {
    const leases = new LeaseIndex();
    leases.set(activeLease('10.0.0.12', '1:0a'));
    const d = reply(decide(context({ leases }), makeRequest({ type: MessageType.REQUEST, serverId: SERVER_ID, requested: ip('10.0.0.12') }), NOW));
    assert.equal(typeOf(d), MessageType.NAK);
    assert.equal(d.reply.yiaddr, 0);
    assert.equal(d.commit, undefined);
    assert.deepEqual(d.to, { address: ip('10.0.0.255'), port: 68 }, 'broadcast on the client\'s subnet');
  });

  it('SELECTING an address offered to another client: NAK', () => {
    const offers = new OfferBook();
    offers.hold(ip('10.0.0.12'), 'hw:1:0a', NOW + 5000, NOW);
    assert.equal(typeOf(decide(context({ offers }), makeRequest({ type: MessageType.REQUEST, serverId: SERVER_ID, requested: ip('10.0.0.12') }), NOW)), MessageType.NAK);
  });

  it('INIT-REBOOT: NAK for a foreign network, ACK for its own lease, silent for an unknown client', () => {
    const leases = new LeaseIndex();
    leases.set(activeLease('10.0.0.14'));
    const ctx = context({ leases });
    assert.equal(typeOf(decide(ctx, makeRequest({ type: MessageType.REQUEST, requested: ip('192.168.1.50') }), NOW)), MessageType.NAK);
    assert.equal(typeOf(decide(ctx, makeRequest({ type: MessageType.REQUEST, requested: ip('10.0.0.14') }), NOW)), MessageType.ACK);
    assert.equal(typeOf(decide(ctx, makeRequest({ type: MessageType.REQUEST, requested: ip('10.0.0.15') }), NOW)), MessageType.NAK, 'client holds another address');
    assert.deepEqual(decide(ctx, makeRequest({ type: MessageType.REQUEST, mac: '02:00:00:00:00:77', requested: ip('10.0.0.15') }), NOW), { kind: 'drop', reason: 'unknown_client', scope: 'lab' });
    assert.equal(typeOf(decide(ctx, makeRequest({ type: MessageType.REQUEST, mac: '02:00:00:00:00:77', requested: ip('10.0.0.14') }), NOW)), MessageType.NAK, 'another client holds it');
  });

  it('RENEWING: ACK unicast to ciaddr, extending the lease; NAK when another client holds the address', () => {
    const leases = new LeaseIndex();
    leases.set(activeLease('10.0.0.14', HW, NOW + 1000));
    const d = reply(decide(context({ leases }), makeRequest({ type: MessageType.REQUEST, ciaddr: ip('10.0.0.14') }), NOW));
    assert.equal(typeOf(d), MessageType.ACK);
    assert.deepEqual(d.to, { address: ip('10.0.0.14'), port: 68 });
    assert.equal(d.reply.ciaddr, ip('10.0.0.14'));
    assert.equal(d.commit?.expiresAt, NOW + 3_600_000);
    const other = reply(decide(context({ leases }), makeRequest({ type: MessageType.REQUEST, mac: '02:00:00:00:00:09', ciaddr: ip('10.0.0.14') }), NOW));
    assert.equal(typeOf(other), MessageType.NAK);
  });

  it('RENEWING with no record (lost store): ACK when the address is free', () => {
    assert.equal(typeOf(decide(context(), makeRequest({ type: MessageType.REQUEST, ciaddr: ip('10.0.0.18') }), NOW)), MessageType.ACK);
    assert.equal(typeOf(decide(context(), makeRequest({ type: MessageType.REQUEST, ciaddr: ip('10.0.0.99') }), NOW)), MessageType.NAK, 'outside the ranges');
  });

  it('NAK through a relay sets the broadcast bit', () => {
    const d = reply(decide(context(), makeRequest({ type: MessageType.REQUEST, giaddr: ip('10.100.0.1'), requested: ip('10.0.0.5') }), NOW));
    assert.equal(typeOf(d), MessageType.NAK);
    assert.equal(d.reply.flags & BROADCAST_FLAG, BROADCAST_FLAG);
    assert.deepEqual(d.to, { address: ip('10.100.0.1'), port: 67 });
  });
});

describe('decide: RELEASE, DECLINE, INFORM', () => {
  it('RELEASE frees the client\'s own lease and keeps who had it', () => {
    const leases = new LeaseIndex();
    leases.set(activeLease('10.0.0.14'));
    const d = decide(context({ leases }), makeRequest({ type: MessageType.RELEASE, ciaddr: ip('10.0.0.14'), serverId: SERVER_ID }), NOW);
    assert.deepEqual(d, { kind: 'commit', scope: 'lab', commit: { ...activeLease('10.0.0.14'), state: 'released', expiresAt: NOW, cltt: NOW } });
    const notHis = decide(context({ leases }), makeRequest({ type: MessageType.RELEASE, mac: '02:00:00:00:00:09', ciaddr: ip('10.0.0.14') }), NOW);
    assert.equal(notHis.kind, 'drop');
  });

  it('DECLINE sets the address aside as abandoned for the hold time', () => {
    const leases = new LeaseIndex();
    leases.set(activeLease('10.0.0.14'));
    const d = decide(context({ leases }), makeRequest({ type: MessageType.DECLINE, requested: ip('10.0.0.14'), serverId: SERVER_ID }), NOW);
    assert.deepEqual(d, { kind: 'commit', scope: 'lab', commit: { ip: ip('10.0.0.14'), scope: 'lab', state: 'abandoned', expiresAt: NOW + 600_000, cltt: NOW } });
  });

  it('INFORM gets options but no lease time, unicast to ciaddr', () => {
    const d = reply(decide(context(), makeRequest({ type: MessageType.INFORM, ciaddr: ip('10.0.0.200'), prl: [3, 6] }), NOW));
    assert.equal(typeOf(d), MessageType.ACK);
    assert.equal(d.reply.yiaddr, 0);
    assert.equal(d.reply.options.has(51), false);
    assert.ok(d.reply.options.has(3));
    assert.deepEqual(d.to, { address: ip('10.0.0.200'), port: 68 });
  });
});

describe('decide: malformed requests', () => {
  it('drops replies and messages without a type', () => {
    const bootreply = { ...makeRequest({ type: MessageType.DISCOVER }), op: 2 };
    assert.deepEqual(decide(context(), bootreply, NOW), { kind: 'drop', reason: 'not_request' });
    const untyped = makeRequest({ type: MessageType.DISCOVER });
    untyped.options.delete(53);
    assert.deepEqual(decide(context(), untyped, NOW), { kind: 'drop', reason: 'no_message_type' });
  });
});
