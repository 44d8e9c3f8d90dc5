// DhcpScope status (scope-status.ts, reconcile-scopes.ts): the per-scope summary of a server's /status,
// overlap detection, the four conditions from real renders of the examples, how two servers' views are
// combined, and change detection (an unchanged status is not written; a lagging cache is not rewritten).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { renderRelationship } from '../../src/operator/render/relationship.ts';
import { DEFAULT_RENDER_OPTIONS, type DhcpFailoverRelationship, type DhcpScope, type ScopeStatus } from '../../src/operator/render/types.ts';
import { computeScopeStatus, computeScopeStatuses, findOverlaps, joinCapped, MAX_MESSAGE, type RelationshipView } from '../../src/operator/scope-status.ts';
import { reconcileScopes, type ScopeReconcileDeps } from '../../src/operator/reconcile-scopes.ts';
import { reportFromStatus, sameReport, scopeReportOf, type ScopeReport, type ServerReport } from '../../src/operator/server-status.ts';
import type { Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { systemClock } from '../../src/clock.ts';
import { setLogSink } from '../../src/log.ts';
import { createAdminApp, listen } from '../../src/admin/http.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { DhcpEngine } from '../../src/dhcp/engine.ts';
import { MessageType } from '../../src/dhcp/wire/message.ts';
import { createServerMetrics } from '../../src/metrics/registry.ts';
import { formatIpv4 } from '../../src/net/ipv4.ts';
import { Controller } from '../../src/operator/controller.ts';
import { FakeKubeApiServer } from '../fakes/kube-api-server.ts';
import { freePort } from '../fakes/ports.ts';
import { RecordingStore } from '../fakes/recording-store.ts';
import { ip, makeRequest } from '../fakes/dhcp-builders.ts';

setLogSink(() => {});

const example = <T>(file: string): T => load(readFileSync(fileURLToPath(new URL(`../../manifests/examples/${file}`, import.meta.url)), 'utf8')) as T;
const clone = <T>(x: T): T => structuredClone(x);
const at = (min: number) => new Date(Date.UTC(2026, 10, 30, 10, min)).toISOString().replace(/\.\d+Z$/, 'Z');

const REL = (): DhcpFailoverRelationship => ({ ...example<DhcpFailoverRelationship>('20-relationship-loadbalance.yaml'), metadata: { name: 'site-a', namespace: 'dhcp', generation: 1, uid: 'u1' } });
const scope = (file: string, m: Partial<DhcpScope['metadata']> = {}): DhcpScope => {
  const s = example<DhcpScope>(file);
  s.metadata = { ...s.metadata, generation: 2, creationTimestamp: '2026-11-01T00:00:00Z', ...m };
  return s;
};
const office = () => scope('30-scope-office.yaml');
const branch = () => scope('31-scope-branch.yaml');
const SECRET = { exists: true, hasKey: true };

const leases = (active: number, poolSize: number, m: Partial<ScopeReport['leases']> = {}): ScopeReport['leases'] =>
  ({ active, free: poolSize - active, backup: 0, expired: 0, released: 0, abandoned: 0, reset: 0, ...m });
const scopeReport = (name: string, subnet: string, active: number, poolSize = 100): ScopeReport =>
  ({ scope: name, subnet, poolSize, leases: leases(active, poolSize), utilizationPercent: Math.floor((active * 100) / poolSize) });
const normal = (scopes: ScopeReport[]): ServerReport => ({ state: 'normal', partnerState: 'normal', lastContact: at(0), outstandingUpdates: 0, scopes });

function view(rel: DhcpFailoverRelationship, scopes: DhcpScope[], reports: Record<string, ServerReport> = {}, secret = SECRET): RelationshipView {
  return { relationship: rel, result: renderRelationship({ relationship: rel, scopes, secret }, DEFAULT_RENDER_OPTIONS), reports: new Map(Object.entries(reports)) };
}
const cond = (s: ScopeStatus, type: string) => s.conditions?.find((c) => c.type === type);
const summary = (s: ScopeStatus) => (s.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`).join(' ');

describe('the per-scope summary of a server\'s /status', () => {
  it('takes pool, poolSize and utilizationPercent; an older server\'s byState is read as the pool', () => {
    const doc = {
      failover: { state: 'normal', partner: { state: 'normal' } },
      scopes: [
        { scope: 'office', subnet: '10.20.0.0/22', poolSize: 733, reservations: 2, byState: { active: 3, free: 1 }, pool: { active: 2, free: 730, backup: 1, expired: 0, released: 0, abandoned: 0, reset: 0 }, utilizationPercent: 0 },
        { scope: 'old', poolSize: 10, byState: { active: 4, expired: 1 } },
        { byState: { active: 1 } },
      ],
    };
    const r = reportFromStatus(doc, 'T')!;
    assert.equal(r.leases, 8, 'the relationship\'s total stays the sum of byState.active');
    assert.deepEqual(r.scopes, [
      { scope: 'office', subnet: '10.20.0.0/22', poolSize: 733, leases: { active: 2, free: 730, backup: 1, expired: 0, released: 0, abandoned: 0, reset: 0 }, utilizationPercent: 0 },
      { scope: 'old', poolSize: 10, leases: { active: 4, free: 5, backup: 0, expired: 1, released: 0, abandoned: 0, reset: 0 }, utilizationPercent: 40 },
    ]);
    assert.equal(scopeReportOf({ scope: 'x' }), undefined, 'no pool size, no report');
    assert.equal(reportFromStatus({ failover: { state: 'normal', partner: { state: 'normal' } }, scopes: [{ byState: { active: 1 } }] }, 'T')?.scopes, undefined);
  });

  it('a change in a scope\'s counts is a change of the report (the poller signals it)', () => {
    const a = normal([scopeReport('office', '10.20.0.0/22', 1)]);
    assert.ok(sameReport(a, clone(a)));
    assert.ok(!sameReport(a, normal([scopeReport('office', '10.20.0.0/22', 2)])));
  });
});

describe('findOverlaps', () => {
  it('pairs every overlapping subnet, nested or equal, and nothing else', () => {
    const mk = (name: string, subnet: string, rel = 'r'): DhcpScope => ({ apiVersion: 'v', kind: 'DhcpScope', metadata: { name, namespace: 'n' }, spec: { relationshipRef: { name: rel }, subnet, ranges: [] } });
    const o = findOverlaps([mk('a', '10.0.0.0/24'), mk('big', '10.0.0.0/16', 'other'), mk('c', '10.0.1.0/24'), mk('d', '10.1.0.0/24'), mk('e', '10.0.0.0/24'), mk('bad', 'nope')]);
    assert.deepEqual(o.get('a')?.map((x) => x.name), ['big', 'e']);
    assert.deepEqual(o.get('big')?.map((x) => `${x.name}@${x.relationship}`), ['a@r', 'c@r', 'e@r']);
    assert.deepEqual(o.get('c')?.map((x) => x.name), ['big']);
    assert.equal(o.get('d'), undefined);
    assert.equal(o.get('bad'), undefined);
  });

  it('a /8 over 2,000 scopes: found by the sweep, and the message stays within the cap (the API server would refuse > 32768)', () => {
    const mk = (name: string, subnet: string): DhcpScope => ({ apiVersion: 'v', kind: 'DhcpScope', metadata: { name, namespace: 'n', generation: 1 }, spec: { relationshipRef: { name: 'r' }, subnet, ranges: [] } });
    const small = Array.from({ length: 2000 }, (_, i) => mk(`s-${i}`, `10.${Math.floor(i / 250)}.${i % 250}.0/24`));
    const big = mk('big', '10.0.0.0/8');
    const t0 = Date.now();
    const o = findOverlaps([...small, big]);
    assert.ok(Date.now() - t0 < 500, 'not every pair');
    assert.equal(o.get('big')?.length, 2000);
    assert.deepEqual(o.get('s-7')?.map((x) => x.name), ['big']);
    const st = computeScopeStatus(big, undefined, o.get('big')!, at(0));
    const msg = cond(st, 'Overlapping')!.message;
    assert.ok(msg.length <= MAX_MESSAGE + 40, String(msg.length));
    assert.match(msg, /; … and \d+ more$/);
    assert.equal(joinCapped(['a', 'b']), 'a; b');
    assert.match(joinCapped(['x'.repeat(50), 'y'], 30), /^x{29}…; … and 1 more$/);
  });
});

describe('computeScopeStatus', () => {
  it('served by both in NORMAL: Ready Served; the counts are one view, the larger one, and a tie goes to the primary', () => {
    const rel = REL();
    const scopes = [office(), branch()];
    const reports = { 'dhcp-a': normal([scopeReport('office', '10.20.0.0/22', 5), scopeReport('branch', '10.30.0.0/24', 7)]), 'dhcp-b': normal([scopeReport('office', '10.20.0.0/22', 5), scopeReport('branch', '10.30.0.0/24', 9)]) };
    const out = computeScopeStatuses({ scopes, relationships: new Map([['site-a', view(rel, scopes, reports)]]), now: at(0) });
    const o = out.get('office')!, b = out.get('branch')!;
    assert.equal(summary(o), 'Ready=True/Served RelationshipNotFound=False/Found Invalid=False/Valid Overlapping=False/NoOverlap');
    assert.equal(cond(o, 'Ready')!.message, 'served by dhcp-a and dhcp-b');
    assert.deepEqual([o.reportedBy, o.leases?.active, o.poolSize, o.utilizationPercent, o.observedGeneration], ['dhcp-a', 5, 100, 5, 2], 'tie: the primary');
    assert.deepEqual([b.reportedBy, b.leases?.active, b.utilizationPercent], ['dhcp-b', 9, 9], 'the larger view');
    assert.ok((o.conditions ?? []).every((c) => c.observedGeneration === 2 && c.lastTransitionTime === at(0)));
  });

  it('hot standby: the active server is the primary the tie goes to', () => {
    const rel = { ...example<DhcpFailoverRelationship>('21-relationship-hotstandby.yaml'), metadata: { name: 'site-a', namespace: 'dhcp', generation: 1 } };
    rel.spec.activeServer = rel.spec.servers[1]!.name; // servers[1] answers: it is the failover primary
    const active = rel.spec.activeServer;
    const other = rel.spec.servers.find((s) => s.name !== active)!.name;
    const s = office();
    const st = computeScopeStatus(s, view(rel, [s], { [active]: normal([scopeReport('office', '10.20.0.0/22', 3)]), [other]: normal([scopeReport('office', '10.20.0.0/22', 3)]) }), [], at(0));
    assert.equal(st.reportedBy, active);
  });

  it('one server unreachable: still served, by the other, and the message says so; none: NotServed without counts', () => {
    const rel = REL(); const s = office();
    const one = computeScopeStatus(s, view(rel, [s], { 'dhcp-a': { state: 'unreachable', partnerState: null }, 'dhcp-b': normal([scopeReport('office', '10.20.0.0/22', 4)]) }), [], at(0));
    assert.equal(cond(one, 'Ready')!.message, 'served by dhcp-b; dhcp-a: /status unreachable');
    assert.equal(one.reportedBy, 'dhcp-b');
    const none = computeScopeStatus(s, view(rel, [s], { 'dhcp-a': { state: 'unreachable', partnerState: null } }), [], at(0));
    assert.equal(summary(none).split(' ')[0], 'Ready=False/NotServed');
    assert.match(cond(none, 'Ready')!.message, /dhcp-a: \/status unreachable; dhcp-b: \/status not read yet/);
    assert.equal(none.poolSize, undefined);
    assert.equal(none.leases, undefined);
    // A server still serving an older subnet under this name does not count for the new spec.
    const stale = computeScopeStatus(s, view(rel, [s], { 'dhcp-a': normal([scopeReport('office', '10.99.0.0/22', 4)]) }), [], at(0));
    assert.equal(cond(stale, 'Ready')!.reason, 'NotServed');
    assert.match(cond(stale, 'Ready')!.message, /dhcp-a: does not serve it/);
  });

  it('relationshipRef names nothing: RelationshipNotFound=True, Ready=False, Invalid Unknown', () => {
    const s = office(); s.spec.relationshipRef.name = 'nowhere';
    const st = computeScopeStatuses({ scopes: [s], relationships: new Map([['site-a', view(REL(), [s])]]), now: at(0) }).get('office')!;
    assert.equal(summary(st), 'Ready=False/RelationshipNotFound RelationshipNotFound=True/NotFound Invalid=Unknown/RelationshipNotFound Overlapping=False/NoOverlap');
    assert.match(cond(st, 'RelationshipNotFound')!.message, /DhcpFailoverRelationship nowhere .* does not exist in namespace dhcp/);
  });

  it('a scope the render rejects is Invalid with the validator\'s message; its sibling is not applied either', () => {
    const rel = REL(); const bad = office(); bad.spec.options = { ...bad.spec.options, 'no-such-option': 1 };
    const scopes = [bad, branch()];
    const out = computeScopeStatuses({ scopes, relationships: new Map([['site-a', view(rel, scopes)]]), now: at(0) });
    const o = out.get('office')!;
    assert.equal(summary(o), 'Ready=False/Invalid RelationshipNotFound=False/Found Invalid=True/InvalidScope Overlapping=False/NoOverlap');
    assert.match(cond(o, 'Invalid')!.message, /^scope office: spec\.options.*no-such-option/);
    const b = out.get('branch')!;
    assert.equal(summary(b), 'Ready=False/RelationshipInvalid RelationshipNotFound=False/Found Invalid=False/Valid Overlapping=False/NoOverlap');
    assert.match(cond(b, 'Ready')!.message, /relationship site-a is not applied .*scope office/);
  });

  it('two scopes of one relationship overlapping: both Overlapping; the one the validator names is Invalid', () => {
    const rel = REL(); const a = branch(); const b = branch();
    b.metadata = { ...b.metadata, name: 'branch-2' };
    b.spec.ranges = [{ start: '10.30.0.10', end: '10.30.0.20' }];
    const scopes = [a, b];
    const out = computeScopeStatuses({ scopes, relationships: new Map([['site-a', view(rel, scopes)]]), now: at(0) });
    assert.equal(summary(out.get('branch')!), 'Ready=False/Overlapping RelationshipNotFound=False/Found Invalid=False/Valid Overlapping=True/SubnetOverlap');
    assert.equal(cond(out.get('branch')!, 'Overlapping')!.message, 'subnet 10.30.0.0/24 overlaps scope branch-2 (10.30.0.0/24) of the same relationship site-a');
    assert.equal(summary(out.get('branch-2')!), 'Ready=False/Invalid RelationshipNotFound=False/Found Invalid=True/InvalidScope Overlapping=True/SubnetOverlap');
    assert.match(cond(out.get('branch-2')!, 'Invalid')!.message, /scope branch-2: spec\.subnet: overlaps/);
  });

  it('overlapping a scope of another relationship: the newer is Invalid (ScopeConflict), the older keeps serving and says so', () => {
    const relA = REL(); const relB = { ...REL(), metadata: { name: 'site-b', namespace: 'dhcp', generation: 1, uid: 'u2' } };
    const older = branch(); const newer = branch();
    newer.metadata = { ...newer.metadata, name: 'branch-b', creationTimestamp: '2026-11-02T00:00:00Z' };
    newer.spec.relationshipRef = { name: 'site-b' };
    const scopes = [older, newer];
    const reports = { 'dhcp-a': normal([scopeReport('branch', '10.30.0.0/24', 1)]) };
    const out = computeScopeStatuses({ scopes, relationships: new Map([['site-a', view(relA, scopes, reports)], ['site-b', view(relB, scopes)]]), now: at(0) });
    assert.equal(summary(out.get('branch')!), 'Ready=True/Served RelationshipNotFound=False/Found Invalid=False/Valid Overlapping=True/OtherRelationship');
    assert.equal(summary(out.get('branch-b')!), 'Ready=False/Invalid RelationshipNotFound=False/Found Invalid=True/ScopeConflict Overlapping=True/OtherRelationship');
    assert.match(cond(out.get('branch-b')!, 'Invalid')!.message, /overlaps scope branch .* which claimed it first/);
  });

  it('a missing Secret: RelationshipInvalid; spec.active false: Inactive', () => {
    const rel = REL(); const s = office();
    const missing = computeScopeStatus(s, view(rel, [s], {}, { exists: false, hasKey: false }), [], at(0));
    assert.equal(cond(missing, 'Ready')!.reason, 'RelationshipInvalid');
    assert.match(cond(missing, 'Ready')!.message, /Secret dhcp-failover-secret .* does not exist/);
    const off = office(); off.spec.active = false;
    assert.equal(cond(computeScopeStatus(off, view(rel, [off], { 'dhcp-a': normal([scopeReport('office', '10.20.0.0/22', 1)]) }), [], at(0)), 'Ready')!.reason, 'Inactive');
  });

  it('recomputed with nothing new, the status is identical (no write); a flip moves only that lastTransitionTime', () => {
    const rel = REL(); const s = office();
    const reports = { 'dhcp-a': normal([scopeReport('office', '10.20.0.0/22', 5)]) };
    const first = computeScopeStatus(s, view(rel, [s], reports), [], at(0));
    const stored = { ...s, status: first };
    assert.deepEqual(computeScopeStatus(stored, view(rel, [stored], reports), [], at(5)), first);
    const later = computeScopeStatus(stored, view(rel, [stored], { 'dhcp-a': { state: 'unreachable', partnerState: null } }), [], at(7));
    assert.equal(cond(later, 'Ready')!.lastTransitionTime, at(7));
    assert.equal(cond(later, 'Invalid')!.lastTransitionTime, at(0));
  });
});

describe('reconcileScopes writes only what changed', () => {
  function harness(scopes: DhcpScope[], rels: DhcpFailoverRelationship[], reports: Record<string, ServerReport> = {}) {
    const patches: { name: string; status: Record<string, unknown> }[] = [];
    const deps: ScopeReconcileDeps = {
      observed: {
        relationship: (_ns, name) => rels.find((r) => r.metadata.name === name),
        relationships: () => rels,
        allRelationships: () => rels,
        scopes: () => scopes,
        secret: () => ({ keys: ['secret'] }),
        owned: () => [],
      },
      kube: { patchScopeStatus: async (_ns, name, status) => { patches.push({ name, status: status as Record<string, unknown> }); } },
      renderOptions: DEFAULT_RENDER_OPTIONS,
      now: () => Date.parse(at(0)),
      reports: () => new Map(Object.entries(reports)),
      written: new Map(),
    };
    return { deps, patches };
  }

  it('first pass writes every scope; a second pass over the stored result writes none', async () => {
    const scopes = [office(), branch()];
    const h = harness(scopes, [REL()], { 'dhcp-a': normal([scopeReport('office', '10.20.0.0/22', 5)]) });
    assert.equal(await reconcileScopes('dhcp', h.deps), 'applied');
    assert.deepEqual(h.patches.map((p) => p.name).sort(), ['branch', 'office']);
    for (const p of h.patches) scopes.find((s) => s.metadata.name === p.name)!.status = p.status as ScopeStatus;
    for (const s of scopes) s.metadata.resourceVersion = '2';
    h.patches.length = 0;
    assert.equal(await reconcileScopes('dhcp', h.deps), 'unchanged');
    assert.deepEqual(h.patches, []);
  });

  it('the cache has not seen the write yet: not written again', async () => {
    const scopes = [office()];
    scopes[0]!.metadata.resourceVersion = '1';
    const h = harness(scopes, [REL()]);
    await reconcileScopes('dhcp', h.deps);
    assert.equal(h.patches.length, 1);
    await reconcileScopes('dhcp', h.deps); // the cache still shows resourceVersion 1 without a status
    assert.equal(h.patches.length, 1, 'no second write of the same status');
  });

  it('many new scopes are written in slices (outcome more), and nothing is started once stopped', async () => {
    const many = Array.from({ length: 25 }, (_, i) => { const s = branch(); s.metadata = { ...s.metadata, name: `s-${i}` }; s.spec.relationshipRef = { name: 'nowhere' }; s.spec.subnet = `10.60.${i}.0/24`; return s; });
    const h = harness(many, []);
    let stop = false;
    const deps = { ...h.deps, maxWrites: 10, concurrency: 3, stopped: () => stop };
    assert.equal(await reconcileScopes('dhcp', deps), 'more');
    assert.equal(h.patches.length, 10);
    assert.equal(await reconcileScopes('dhcp', deps), 'more', 'the written ones are not written again (the cache lags)');
    assert.equal(h.patches.length, 20);
    assert.equal(await reconcileScopes('dhcp', deps), 'applied');
    assert.equal(new Set(h.patches.map((p) => p.name)).size, 25);
    const h2 = harness(many.map((s) => ({ ...s, metadata: { ...s.metadata, resourceVersion: 'x' } })), []);
    stop = true;
    await reconcileScopes('dhcp', { ...h2.deps, stopped: () => stop });
    assert.equal(h2.patches.length, 0);
  });

  it('counts that disappear are removed (null in the merge patch)', async () => {
    const s = office();
    const h = harness([s], [REL()], { 'dhcp-a': normal([scopeReport('office', '10.20.0.0/22', 5)]) });
    await reconcileScopes('dhcp', h.deps);
    s.status = h.patches[0]!.status as ScopeStatus;
    s.metadata.resourceVersion = '9';
    const h2 = harness([s], [REL()], { 'dhcp-a': { state: 'unreachable', partnerState: null } });
    await reconcileScopes('dhcp', h2.deps);
    const p = h2.patches[0]!.status;
    assert.deepEqual([p.poolSize, p.leases, p.utilizationPercent, p.reportedBy], [null, null, null, null]);
  });
});

type Json = Record<string, any>;

/** A DHCP server's admin endpoint as src/cli/server-command.ts builds it: /status with engine.counts(). */
async function adminFor(engine: DhcpEngine, name: string, port: number): Promise<Server> {
  const app = createAdminApp({
    engine, metrics: createServerMetrics({ defaultMetrics: false }), ready: () => true,
    status: () => ({ server: name, scopes: engine.counts(), failover: { state: 'normal', partner: { state: 'normal' }, updates: { unacked: 0, queued: 0 }, autoPartnerDown: null } }),
  });
  return listen(app, '127.0.0.1', port);
}

/** DISCOVER + REQUEST relayed through `giaddr`: one active lease. */
async function lease(engine: DhcpEngine, mac: string, giaddr: string): Promise<string> {
  const offer = await engine.handle(makeRequest({ type: MessageType.DISCOVER, mac, giaddr: ip(giaddr) }));
  assert.equal(offer.kind, 'reply');
  if (offer.kind !== 'reply') throw new Error('no offer');
  const ack = await engine.handle(makeRequest({ type: MessageType.REQUEST, mac, giaddr: ip(giaddr), serverId: engine.currentConfig.server.serverId, requested: offer.reply.yiaddr }));
  assert.equal(ack.kind === 'reply' && ack.reply.options.get(53)?.[0], MessageType.ACK);
  return formatIpv4(offer.reply.yiaddr);
}

describe('the controller writes DhcpScope status from real /status endpoints (fake API server)', { timeout: 60_000 }, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => { while (cleanups.length) await cleanups.pop()!(); });

  async function until<T>(what: string, fn: () => T | undefined | false | null, ms = 15_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = fn();
      if (v) return v;
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('counts from the servers\' engines on the operator\'s rendered config, RelationshipNotFound, and no rewrite while nothing changes', async () => {
    const G = 'dhcp.failover.dev', NS = 'dhcp';
    const fake = new FakeKubeApiServer({ historyLimit: 2000 });
    await fake.start();
    cleanups.push(() => fake.stop());
    const kc = new KubeConfig();
    kc.loadFromOptions(fake.kubeConfigOptions());
    fake.put('', 'secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dhcp-failover-secret', namespace: NS }, data: { secret: Buffer.from('s').toString('base64') } });
    fake.put(G, 'dhcpfailoverrelationships', example('20-relationship-loadbalance.yaml'));
    fake.put(G, 'dhcpscopes', example('30-scope-office.yaml'));
    fake.put(G, 'dhcpscopes', example('31-scope-branch.yaml'));
    const orphan = example<DhcpScope>('32-scope-lab.yaml');
    orphan.metadata = { name: 'orphan', namespace: NS };
    orphan.spec.relationshipRef = { name: 'nowhere' };
    fake.put(G, 'dhcpscopes', orphan);
    const ports: Record<string, number> = { 'dhcp-a': await freePort(), 'dhcp-b': await freePort() };
    const controller = new Controller({
      kc, namespaces: [], renderOptions: DEFAULT_RENDER_OPTIONS, clock: systemClock, identity: 'op', retryBaseMs: 20, retryMaxMs: 200, startupHoldMs: 0,
      serverStatus: { intervalMs: 100, baseUrlFor: (_rel, srv) => `http://127.0.0.1:${ports[srv.name]}` },
    });
    cleanups.push(() => controller.stop());
    await controller.start();
    const scopeObj = (name: string): Json | undefined => fake.getObject(G, 'dhcpscopes', NS, name);
    const c = (name: string, type: string) => (scopeObj(name)?.status?.conditions as Json[] | undefined)?.find((x) => x.type === type);

    const lost = await until('orphan RelationshipNotFound', () => c('orphan', 'RelationshipNotFound')?.status === 'True' && c('orphan', 'Ready'));
    assert.equal(lost.status, 'False');
    assert.equal(lost.reason, 'RelationshipNotFound');
    // Not served: first "not read yet", then, once polled, what the poll found.
    const notServed = await until('branch NotServed, polled', () => c('branch', 'Ready')?.reason === 'NotServed' && /dhcp-a: \/status unreachable/.test(c('branch', 'Ready')?.message) && c('branch', 'Ready'));
    assert.match(notServed.message, /dhcp-b: \/status unreachable/);
    assert.equal(scopeObj('branch')?.status?.poolSize, undefined);

    // The servers run what the operator rendered: their engines are built from the ConfigMap.
    const cm = await until('site-a-config', () => fake.getObject('', 'configmaps', NS, 'site-a-config'));
    const engines = Object.fromEntries(['dhcp-a', 'dhcp-b'].map((n) => [n, new DhcpEngine({ config: parseConfigText(cm.data[`${n}.yaml`], n), store: new RecordingStore(), interfaceAddresses: () => new Map() })])) as Record<string, DhcpEngine>;
    for (const [n, e] of Object.entries(engines)) {
      const srv = await adminFor(e, n, ports[n]!);
      cleanups.push(() => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }));
    }
    for (let i = 0; i < 3; i++) await lease(engines['dhcp-a']!, `02:00:00:00:0a:0${i}`, '10.30.0.1');
    for (let i = 0; i < 2; i++) await lease(engines['dhcp-b']!, `02:00:00:00:0b:0${i}`, '10.30.0.1');

    const branch = await until('branch counted', () => scopeObj('branch')?.status?.leases?.active === 3 && c('branch', 'Ready')?.status === 'True' && scopeObj('branch'));
    // 10.30.0.100-199 and .210-250: 141 addresses, no exclusion or reservation.
    assert.deepEqual([branch.status.poolSize, branch.status.utilizationPercent, branch.status.reportedBy, branch.status.leases.free], [141, 2, 'dhcp-a', 138]);
    assert.equal(branch.status.observedGeneration, branch.metadata.generation);
    assert.equal(c('branch', 'Ready')?.message, 'served by dhcp-a and dhcp-b');
    const office = await until('office counted', () => scopeObj('office')?.status?.poolSize !== undefined && scopeObj('office'));
    // 10.20.1.0-10.20.3.254 is 767 addresses, minus the 32 excluded; the two reservations lie outside the range.
    assert.deepEqual([office.status.poolSize, office.status.leases.active, office.status.utilizationPercent], [735, 0, 0]);

    // Nothing changes for ten poll rounds: no status write, the resourceVersions stay.
    const statusWrites = () => fake.requests.filter((q) => q.plural === 'dhcpscopes' && q.subresource === 'status' && q.verb !== 'get').length;
    const rvs = () => ['office', 'branch', 'orphan'].map((n) => scopeObj(n)?.metadata.resourceVersion);
    const writes = statusWrites(), before = rvs();
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(statusWrites(), writes, 'no status write while nothing changed');
    assert.deepEqual(rvs(), before);

    // One more lease on the larger side: one write, to that scope only.
    await lease(engines['dhcp-a']!, '02:00:00:00:0a:09', '10.30.0.1');
    await until('branch at 4', () => scopeObj('branch')?.status?.leases?.active === 4);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(statusWrites(), writes + 1);
    assert.deepEqual(rvs().filter((rv, i) => rv !== before[i]).length, 1);

    // The relationship appears: the orphan finds it (and is not served: its servers do not have it).
    const nowhere = example<DhcpFailoverRelationship>('20-relationship-loadbalance.yaml');
    nowhere.metadata = { name: 'nowhere', namespace: NS };
    nowhere.spec.servers = nowhere.spec.servers.map((x, i) => ({ ...x, address: `10.20.0.${12 + i}` }));
    fake.put(G, 'dhcpfailoverrelationships', nowhere);
    await until('orphan found', () => c('orphan', 'RelationshipNotFound')?.status === 'False');
    assert.equal(c('orphan', 'Invalid')?.status, 'False');
  });
});
