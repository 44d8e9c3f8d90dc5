// The client's host name (DHCP option 12) carried by binding updates (src/failover/wire/host-name.ts):
// (1) a real FailoverPeer endpoint fed by a raw partner stores an accepted BNDUPD's host name, and drops
// an unacceptable one (counted as link error kind bad_client_host_name, logged) while still accepting
// the binding; (2) two of our servers (the in-process sim pair on real TCP, test/failover/sim/) replicate
// the names both ways, also to a server that restarts with a wiped store (UPDREQALL).
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { MessageType } from '../../../src/dhcp/wire/message.ts';
import { bindingOf } from '../../../src/failover/wire/binding-message.ts';
import type { Lease } from '../../../src/leases/lease.ts';
import { parseIpv4, type Ipv4 } from '../../../src/net/ipv4.ts';
import { makeRequest } from '../../fakes/dhcp-builders.ts';
import {
  build, captureLogs, linkErrors, logMark, logsSince, openSession, RELATIONSHIP, startEndpoint, until,
  type Body, type Endpoint, type Session,
} from '../../fakes/hostile-peer.ts';
import { clientOf, GIADDR, normalPair, typeOf } from '../sim/sim-clients.ts';
import type { Sim, SimServer } from '../sim/sim-pair.ts';

describe('a received host name at a real endpoint', () => {
  captureLogs();
  const running: Endpoint[] = [];
  after(async () => { for (const e of running) await e.peer.stop().catch(() => undefined); });

  // Each update is a later transaction: CLTT one second (the wire's unit) after the previous one.
  let cltt = Date.now() - 60_000;
  const leaseFor = (ip: string, over: Partial<Lease> = {}): Lease => {
    cltt += 1000;
    return { ip: parseIpv4(ip), scope: RELATIONSHIP, state: 'active', hw: '1:0a0b0c0d0e21', clientId: '010a0b0c0d0e21', expiresAt: Date.now() + 3_600_000, cltt, ...over };
  };
  let s: Session;
  const update = async (lease: Lease, requestOptions?: Buffer): Promise<void> => {
    const b = bindingOf(lease, { now: Date.now(), dialect: 'isc' });
    const acks = s.p.messages().filter((m) => m.type === 'BNDACK').length;
    s.p.write(build({ type: 'BNDUPD', bindings: [requestOptions === undefined ? b : { ...b, clientRequestOptions: requestOptions }] } as Body, s.xid++, { secret: s.key }));
    await until('BNDACK', () => s.p.messages().filter((m) => m.type === 'BNDACK').length === acks + 1);
    const ack = s.p.messages().filter((m) => m.type === 'BNDACK').at(-1);
    assert.ok(ack?.type === 'BNDACK' && ack.acks[0]?.rejectReason === undefined, `accepted: ${JSON.stringify(ack)}`);
  };

  it('stores the name; an unacceptable one is dropped, counted and logged, the binding still accepted and the link kept', async () => {
    const e = await startEndpoint();
    running.push(e);
    s = await openSession(e, { confirm: true });
    await until('endpoint link established', () => e.peer.status().connection.linkEstablished);
    const ip = parseIpv4('10.9.0.170');

    await update(leaseFor('10.9.0.170', { hostname: 'printer-3' }));
    await e.peer.idle();
    assert.equal(e.engine.leases.get(ip)?.hostname, 'printer-3');
    assert.equal(e.store.writes.flat().filter((l) => l.ip === ip).at(-1)?.hostname, 'printer-3', 'on the store before the BNDACK');

    const mark = logMark();
    const bad: [Buffer, string][] = [
      [Buffer.from('638253630c05707269', 'hex'), 'truncated'], // option 12 runs past the end
      [Buffer.from('638253630c04ff707269', 'hex'), 'bad_utf8'],
      [Buffer.from('638253630c047072691b', 'hex'), 'control_character'], // ESC: terminal/log injection
      [Buffer.from('12345678', 'hex'), 'bad_cookie'],
    ];
    for (const [value] of bad) await update(leaseFor('10.9.0.170'), value);
    await e.peer.idle();
    assert.equal((await linkErrors(e)).bad_client_host_name, bad.length);
    const dropped = logsSince(mark).filter((l) => l.event === 'failover.bndupd.host_name_dropped');
    assert.deepEqual(dropped.map((l) => l.problem), bad.map(([, problem]) => problem));
    assert.ok(dropped.every((l) => l.ip === '10.9.0.170' && !JSON.stringify(l).includes('\u001b')), 'the bytes themselves are not logged');
    const stored = e.engine.leases.get(ip);
    assert.equal(stored?.state, 'active');
    assert.equal(stored?.hostname, 'printer-3', 'a dropped name leaves the one known for the same client');

    // An update without a name (ISC never sends one) keeps what we knew for the same client, not for another.
    await update(leaseFor('10.9.0.170'));
    assert.equal(e.engine.leases.get(ip)?.hostname, 'printer-3');
    await update(leaseFor('10.9.0.170', { hostname: 'printer-3b' }));
    assert.equal(e.engine.leases.get(ip)?.hostname, 'printer-3b', 'a new name replaces the old');
    await update(leaseFor('10.9.0.170', { state: 'released', hostname: 'printer-3b' }));
    await update(leaseFor('10.9.0.170', { hw: '1:0a0b0c0d0e22', clientId: '010a0b0c0d0e22' }));
    assert.equal(e.engine.leases.get(ip)?.hostname, undefined, 'another client does not inherit the name');
    assert.ok(e.peer.status().connection.linkEstablished, 'the link stays up');
    s.p.destroy();
  });
});

describe('two of our servers replicate host names both ways', () => {
  let sim: Sim | undefined;
  afterEach(async () => { await sim?.close(); sim = undefined; });
  let xid = 0x4e00;

  /** DISCOVER → OFFER → REQUEST → ACK through the relay, with option 12; the ACKing server and the address. */
  async function bind(sim: Sim, mac: string, hostname: string): Promise<{ server: SimServer; ip: Ipv4 }> {
    const id = xid++;
    const extra: [number, Buffer][] = [[12, Buffer.from(hostname)]];
    for (const s of sim.servers) {
      const p = s.handle(makeRequest({ type: MessageType.DISCOVER, mac, xid: id, giaddr: GIADDR, extra }));
      const offer = p === undefined ? undefined : await sim.run(p);
      if (offer === undefined || typeOf(offer) !== MessageType.OFFER || offer.kind !== 'reply') continue;
      const serverId = offer.reply.options.get(54)!.readUInt32BE(0);
      const ack = await sim.run(s.handle(makeRequest({ type: MessageType.REQUEST, mac, xid: id, giaddr: GIADDR, requested: offer.reply.yiaddr, serverId, extra }))!);
      assert.ok(ack.kind === 'reply' && typeOf(ack) === MessageType.ACK, `${s.name} ACKs ${mac}`);
      return { server: s, ip: ack.reply.yiaddr };
    }
    throw new Error(`nobody offered ${mac}`);
  }

  it('a name given to either server reaches the partner\'s store; a wiped partner relearns it', async () => {
    sim = await normalPair();
    const { srv1, srv2 } = sim;
    const a = await bind(sim, clientOf('primary'), 'alpha-laptop');
    const b = await bind(sim, clientOf('secondary'), 'beta-phone');
    assert.equal(a.server, srv1);
    assert.equal(b.server, srv2);
    const partnerHas = (s: SimServer, ip: Ipv4, name: string): boolean => s.engine?.leases.get(ip)?.hostname === name && s.store.leases.get(ip)?.hostname === name;
    await sim.until('the secondary stores alpha-laptop', () => partnerHas(srv2, a.ip, 'alpha-laptop'));
    await sim.until('the primary stores beta-phone', () => partnerHas(srv1, b.ip, 'beta-phone'));
    assert.equal(srv1.engine!.leases.get(a.ip)?.hostname, 'alpha-laptop', 'and each still has its own');
    assert.equal(srv2.engine!.leases.get(b.ip)?.hostname, 'beta-phone');

    // A lost database: the secondary restarts empty, asks for everything (UPDREQALL) and gets both names back.
    srv2.kill();
    srv2.store.leases.clear();
    srv2.store.meta.clear();
    await sim.run(srv2.start());
    await sim.until('the wiped secondary relearns both names', () => partnerHas(srv2, a.ip, 'alpha-laptop') && partnerHas(srv2, b.ip, 'beta-phone'), 60_000);
  });
});
