// A server in several failover relationships (src/failover/runtime/relationships.ts): which relationship
// sees which scopes and leases, where the engine's policy questions and commits go, admin actions' peer,
// several peers starting and stopping on shared listeners, and a DhcpEngine wired to them. Reloads are in
// relationships-reload.test.ts. Configs come from validateConfig.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { systemClock } from '../../../src/clock.ts';
import type { Config } from '../../../src/config/schema.ts';
import { validateConfig } from '../../../src/config/validate.ts';
import type { AllocationPolicy } from '../../../src/dhcp/allocate.ts';
import { DhcpEngine } from '../../../src/dhcp/engine.ts';
import { planScope } from '../../../src/dhcp/pool.ts';
import { MessageType } from '../../../src/dhcp/wire/message.ts';
import { BindError } from '../../../src/errors.ts';
import type { EngineSurface } from '../../../src/failover/runtime/engine-surface.ts';
import { FailoverRelationships, scopedEngine, scopeRelationshipsOf, type ScopeRelationships } from '../../../src/failover/runtime/relationships.ts';
import { deferredPolicy } from '../../../src/failover/rules/allocation-policy.ts';
import { LeaseIndex } from '../../../src/leases/lease-index.ts';
import type { Lease } from '../../../src/leases/lease.ts';
import { ip, makeRequest } from '../../fakes/dhcp-builders.ts';
import { FakeClock } from '../../fakes/fake-clock.ts';
import { FakeEngine } from '../../fakes/peer-engine.ts';
import { freePort } from '../../fakes/ports.ts';
import { RecordingStore } from '../../fakes/recording-store.ts';
import { blockPort, canBind, commit, discover, firstMessage, hub, hubOf as startHub, lease, NOW as now, queued, relationship, type Raw } from './hub-helpers.ts';

const running: FailoverRelationships[] = [];
after(async () => { for (const r of running) await r.stop(); });
const hubOf = (raw: Raw, opts?: Parameters<typeof startHub>[2]) => startHub(running, raw, opts);

describe('scopeRelationshipsOf', () => {
  it('maps every scope to its relationship, a standalone scope to undefined', async () => {
    const map = scopeRelationshipsOf(validateConfig(hub(await freePort())));
    assert.deepEqual([...map], [['b1', 'b1'], ['b2', 'b2'], ['lab', undefined]]);
    assert.equal(map.has('lab'), true, 'a standalone scope is known, not missing');
  });
});

describe('scopedEngine', () => {
  function twoScopeEngine() {
    const config = validateConfig(hub(647));
    const leases = new LeaseIndex();
    const applied: Lease[][] = [];
    const offered = new Set<number>();
    const engine: EngineSurface = {
      leases, scopePlans: config.scopes.map(planScope),
      applyRemote: async (ls) => { applied.push([...ls]); for (const l of ls) leases.set(l); },
      isOffered: (a) => offered.has(a),
    };
    const l1 = lease('10.1.0.10', 'b1'), l2 = lease('10.2.0.10', 'b2'), l3 = lease('10.3.0.10', 'lab');
    for (const l of [l1, l2, l3]) leases.set(l);
    return { engine, applied, offered, l1, l2, l3, map: scopeRelationshipsOf(config) };
  }

  it('shows a relationship only its scopes\' plans and leases; get reads any address; findByClient only in its scopes', () => {
    const { engine, l1, l2, l3, map } = twoScopeEngine();
    const b1 = scopedEngine(engine, 'b1', () => map);
    assert.deepEqual(b1.scopePlans.map((p) => p.scope.name), ['b1']);
    assert.deepEqual([...b1.leases.values()], [l1]);
    assert.equal(b1.leases.get(l2.ip), l2, 'another relationship\'s address is still readable');
    assert.equal(b1.leases.get(l3.ip), l3);
    assert.equal(b1.leases.findByClient('b1', `hw:${l1.hw}`), l1);
    assert.equal(b1.leases.findByClient('b2', `hw:${l2.hw}`), undefined);
    assert.equal(engine.leases.findByClient('b2', `hw:${l2.hw}`), l2, 'the engine itself finds it');
    assert.equal(b1.leases.findByClient('lab', `hw:${l3.hw}`), undefined);
    const b2 = scopedEngine(engine, 'b2', () => map);
    assert.deepEqual(b2.scopePlans.map((p) => p.scope.name), ['b2']);
    assert.deepEqual([...b2.leases.values()], [l2]);
  });

  it('reads the scope map at each call; passes applyRemote and isOffered through', async () => {
    const { engine, applied, offered, l1, l3, map } = twoScopeEngine();
    let current: ScopeRelationships = map;
    const b1 = scopedEngine(engine, 'b1', () => current);
    current = new Map([...map, ['lab', 'b1']]);
    assert.deepEqual(b1.scopePlans.map((p) => p.scope.name), ['b1', 'lab']);
    assert.deepEqual([...b1.leases.values()], [l1, l3]);
    const remote = lease('10.2.0.11', 'b2');
    await b1.applyRemote([remote]);
    assert.deepEqual(applied, [[remote]]);
    offered.add(l1.ip);
    assert.equal(b1.isOffered?.(l1.ip), true);
    assert.equal(b1.isOffered?.(l3.ip), false);
  });
});

describe('FailoverRelationships: routing (each relationship in STARTUP)', () => {
  it('the standalone scope is allowed everything; a failover scope is not served in STARTUP', async () => {
    const { policy } = await hubOf(hub(await freePort()));
    assert.equal(policy.mayAnswer?.(discover('lab'), now), true);
    assert.equal(policy.mayAllocate(ip('10.3.0.10'), undefined, now), true);
    assert.equal(policy.leaseSeconds?.(ip('10.3.0.10'), 7200, undefined, now), 7200);
    for (const name of ['b1', 'b2']) assert.equal(policy.mayAnswer?.(discover(name), now), false, `${name} answers nobody in STARTUP`);
    assert.equal(policy.mayAllocate(ip('10.1.0.10'), undefined, now), false);
    assert.equal(policy.mayAllocate(ip('10.2.0.10'), undefined, now), false);
    assert.equal(policy.mayAllocate(ip('192.168.0.1'), undefined, now), true, 'an address in no scope: standalone');
  });

  it('a scope naming a relationship that is not running is served by nobody, not as standalone', async () => {
    // By hand: validateConfig never names a relationship the file lacks; a reload whose new relationship
    // fails to start leaves its scopes this way (relationships-reload.test.ts).
    const valid = validateConfig(hub(await freePort()));
    const config: Config = { ...valid, relationships: valid.relationships.filter((r) => r.relationship !== 'b2') };
    const store = new RecordingStore();
    const rels = new FailoverRelationships({ config, serverName: 'hub', engine: new FakeEngine(store), store, clock: new FakeClock(now), secretOf: () => undefined });
    running.push(rels);
    await rels.start();
    const plans = config.scopes.map(planScope);
    const policy = rels.policy(() => plans);
    const b2Lease = lease('10.2.0.10', 'b2');
    assert.equal(policy.mayAnswer?.(discover('b2'), now), false);
    assert.equal(policy.mayAllocate(ip('10.2.0.11'), undefined, now), false);
    assert.equal(policy.mayRebind?.(b2Lease.ip, b2Lease, now), false);
    const labLease = lease('10.3.0.10', 'lab');
    assert.equal(policy.mayRebind?.(labLease.ip, labLease, now), true, 'the standalone scope, for contrast');
    assert.equal(rels.prepareCommit(b2Lease), b2Lease, 'no peer to owe it to');
  });

  it('prepareCommit and onCommit go to the peer of the lease\'s scope, and to none for a standalone scope', async () => {
    const { rels, engine } = await hubOf(hub(await freePort()));
    const b1Lease = await commit(rels, engine, lease('10.1.0.10', 'b1'));
    assert.equal(b1Lease.pendingAck, true, 'b1\'s peer marks it owed to the partner');
    assert.deepEqual([queued(rels, 'b1'), queued(rels, 'b2')], [1, 0]);

    const labLease = lease('10.3.0.10', 'lab');
    assert.equal(rels.prepareCommit(labLease), labLease, 'unchanged: no partner owes anything');
    const owedLooking = { ...labLease, pendingAck: true };
    engine.leases.set(owedLooking);
    rels.onCommit(owedLooking);
    for (const p of rels.peers.values()) await p.idle();
    assert.deepEqual([queued(rels, 'b1'), queued(rels, 'b2')], [1, 0], 'no relationship queues a standalone lease');

    await commit(rels, engine, lease('10.2.0.10', 'b2'));
    assert.deepEqual([queued(rels, 'b1'), queued(rels, 'b2')], [1, 1]);
  });
});

describe('FailoverRelationships: what each peer sees', () => {
  it('each peer is given only its scopes: on start, updates owed from before a restart go to the relationship of each lease\'s scope', async () => {
    const owed = (a: string, s: string): Lease => lease(a, s, { pendingAck: true });
    const { rels } = await hubOf(hub(await freePort()), { leases: [owed('10.1.0.10', 'b1'), owed('10.1.0.11', 'b1'), owed('10.2.0.10', 'b2'), owed('10.3.0.10', 'lab')] });
    assert.deepEqual([queued(rels, 'b1'), queued(rels, 'b2')], [2, 1]);
  });
});

describe('FailoverRelationships.peerFor', () => {
  it('one relationship: the name may be left out', async () => {
    const raw = hub(await freePort());
    raw.failover = [raw.failover[0]];
    raw.scopes = [raw.scopes[0], raw.scopes[2]];
    const { rels } = await hubOf(raw, { start: false });
    assert.equal(rels.peerFor(undefined), rels.peers.get('b1'));
    assert.equal(rels.peerFor('b1'), rels.peers.get('b1'));
  });

  it('two relationships: leaving the name out is an error naming both; an unknown name is an error', async () => {
    const { rels } = await hubOf(hub(await freePort()), { start: false });
    const none = rels.peerFor(undefined);
    assert.ok('error' in none);
    assert.match(none.error, /2 relationships \(b1, b2\)/);
    assert.equal(rels.peerFor('b2'), rels.peers.get('b2'));
    const unknown = rels.peerFor('x');
    assert.ok('error' in unknown);
    assert.match(unknown.error, /no relationship "x"/);
  });
});

describe('FailoverRelationships: start and stop on real sockets', () => {
  // The hub is primary in both, so an inbound connection gets a CONNECT naming the relationship it reached.
  const primaries = (p1: number, p2: number): Raw => {
    const raw = hub(p1);
    raw.failover = [relationship('b1', 2, p1, { role: 'primary' }), relationship('b2', 3, p2, { role: 'primary' })];
    return raw;
  };

  it('each relationship on its own port: each listens for its partner; stop frees both ports', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const { rels } = await hubOf(primaries(p1, p2), { clock: systemClock });
    assert.deepEqual(rels.statuses().map((s) => s.state), ['startup', 'startup']);
    assert.equal(await firstMessage('127.0.0.2', p1), 'CONNECT b1');
    assert.equal(await firstMessage('127.0.0.3', p2), 'CONNECT b2');
    assert.equal(await firstMessage('127.0.0.3', p1), 'closed', 'b1 alone on its listener: its transport refuses b2\'s partner');
    await rels.stop();
    assert.deepEqual([await canBind(p1), await canBind(p2)], [true, true]);
  });

  it('two relationships sharing one port: each partner reaches its own relationship, a stranger is refused; stop frees the port', async () => {
    const port = await freePort();
    const { rels } = await hubOf(primaries(port, port), { clock: systemClock });
    assert.equal(await firstMessage('127.0.0.2', port), 'CONNECT b1');
    assert.equal(await firstMessage('127.0.0.3', port), 'CONNECT b2');
    assert.equal(await firstMessage('127.0.0.4', port), 'closed');
    await rels.stop();
    assert.equal(await canBind(port), true);
  });

  it('a relationship that cannot listen fails the start with a BindError naming it; the one started before is stopped again', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const blocker = await blockPort(p2);
    try {
      const { rels } = await hubOf(primaries(p1, p2), { start: false });
      await assert.rejects(rels.start(), (err: unknown) => err instanceof BindError && err.port === p2 && err.code === 'port_in_use' && /failover\.port \(relationship b2\)/.test(err.message));
      assert.equal(await canBind(p1), true, 'b1 no longer listens');
      await rels.stop();
    } finally {
      await blocker.close();
    }
  });
});

describe('DhcpEngine on a server just started (STARTUP) with a failover scope and a standalone scope', () => {
  it('the standalone scope is served (OFFER, then an ACK owed to nobody); the failover scope is not (failover_not_serving)', async () => {
    const raw = hub(await freePort());
    raw.failover = [raw.failover[0]];
    raw.scopes = [raw.scopes[0], raw.scopes[2]];
    const config = validateConfig(raw);
    const clock = new FakeClock(now);
    const store = new RecordingStore();
    // Wired as src/cli/server-command.ts does: the engine first, its policy deferred to the relationships built after it.
    let failover: FailoverRelationships | undefined;
    let failoverPolicy: AllocationPolicy | undefined;
    const engine = new DhcpEngine({
      config, store, now: () => clock.now(), interfaceAddresses: () => new Map(),
      policy: deferredPolicy(() => failoverPolicy!),
      onCommit: (l) => failover?.onCommit(l),
      prepareCommit: (l) => failover?.prepareCommit(l) ?? l,
    });
    failover = new FailoverRelationships({ config, serverName: 'hub', engine, store, clock, secretOf: () => undefined });
    running.push(failover);
    failoverPolicy = failover.policy(() => engine.scopePlans);
    await failover.start();
    assert.equal(failover.peers.get('b1')!.snapshot.state, 'startup');

    const mac = '02:00:00:00:00:31';
    const offer = await engine.handle(makeRequest({ type: MessageType.DISCOVER, mac, giaddr: ip('10.3.0.1') }));
    assert.equal(offer.kind, 'reply');
    if (offer.kind !== 'reply') return;
    assert.equal(offer.reply.options.get(53)?.[0], MessageType.OFFER);
    assert.equal(offer.scope, 'lab');
    const ack = await engine.handle(makeRequest({ type: MessageType.REQUEST, mac, giaddr: ip('10.3.0.1'), serverId: config.server.serverId, requested: offer.reply.yiaddr }));
    assert.equal(ack.kind === 'reply' && ack.reply.options.get(53)?.[0], MessageType.ACK);
    const stored = store.leases.get(offer.reply.yiaddr);
    assert.equal(stored?.scope, 'lab');
    assert.equal(stored?.pendingAck, undefined, 'a standalone lease is owed to no partner');
    await failover.peers.get('b1')!.idle();
    assert.equal(queued(failover, 'b1'), 0);

    const refused = await engine.handle(makeRequest({ type: MessageType.DISCOVER, mac: '02:00:00:00:00:32', giaddr: ip('10.1.0.1') }));
    assert.deepEqual(refused, { kind: 'drop', reason: 'failover_not_serving', scope: 'b1' });
  });
});
