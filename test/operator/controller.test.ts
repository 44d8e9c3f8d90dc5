// The controller against the fake API server with the real client-node: create → objects appear, scope
// update → ConfigMap changes, deletion → owned objects gone, pruning, 409 retried, watch expiry (410) and a
// dropped watch recovered, invalid input → Degraded and nothing applied, leader hand-over, HTTP endpoints.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { systemClock } from '../../src/clock.ts';
import { setLogSink } from '../../src/log.ts';
import { Controller, startOperatorHttp } from '../../src/operator/controller.ts';
import { LeaderElector } from '../../src/operator/leader-election.ts';
import { DEFAULT_RENDER_OPTIONS } from '../../src/operator/render/types.ts';
import { FakeKubeApiServer } from '../fakes/kube-api-server.ts';

type Json = Record<string, any>;
const G = 'dhcp.failover.dev', NS = 'dhcp';
const EXAMPLES = join(import.meta.dirname, '../../manifests/examples');
const example = (file: string): Json => load(readFileSync(join(EXAMPLES, file), 'utf8')) as Json;
setLogSink(() => {});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()!(); });

async function until<T>(what: string, fn: () => T | undefined | false | null, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

async function setup(opts: { secret?: boolean; controller?: boolean } = {}) {
  const fake = new FakeKubeApiServer({ historyLimit: 500 });
  await fake.start();
  cleanups.push(() => fake.stop());
  const kc = new KubeConfig();
  kc.loadFromOptions(fake.kubeConfigOptions());
  if (opts.secret ?? true) fake.put('', 'secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dhcp-failover-secret', namespace: NS }, data: { secret: Buffer.from('s3cret').toString('base64') } });
  const newController = (identity = 'op-1') => {
    // serverStatus false: the example servers' addresses (10.20.0.x) must not be contacted from a test.
    const c = new Controller({ kc, namespaces: [], renderOptions: DEFAULT_RENDER_OPTIONS, clock: systemClock, identity, retryBaseMs: 20, retryMaxMs: 200, resyncMs: 60_000, serverStatus: false, startupHoldMs: 300 });
    cleanups.push(() => c.stop());
    return c;
  };
  let controller: Controller | undefined;
  if (opts.controller ?? true) { controller = newController(); await controller.start(); }
  return { fake, kc, controller, newController };
}

const rel = (fake: FakeKubeApiServer, name = 'site-a') => fake.getObject(G, 'dhcpfailoverrelationships', NS, name);
const cm = (fake: FakeKubeApiServer, name = 'site-a-config') => fake.getObject('', 'configmaps', NS, name);
const sts = (fake: FakeKubeApiServer, name: string) => fake.getObject('apps', 'statefulsets', NS, name);
/** The scope `name` in server `server`'s rendered config, if the ConfigMap has it yet. */
const scopeIn = (fake: FakeKubeApiServer, server: string, name: string): Json | undefined => {
  const text = cm(fake)?.data?.[`${server}.yaml`];
  return text ? (load(text) as Json).scopes.find((s: Json) => s.name === name) : undefined;
};
const cond = (r: Json | undefined, type: string) => r?.status?.conditions?.find((c: Json) => c.type === type);

function createSiteA(fake: FakeKubeApiServer): Json {
  const r = fake.put(G, 'dhcpfailoverrelationships', example('20-relationship-loadbalance.yaml'));
  fake.put(G, 'dhcpscopes', example('30-scope-office.yaml'));
  fake.put(G, 'dhcpscopes', example('31-scope-branch.yaml'));
  return r;
}

test('create → ConfigMap, two StatefulSets and a PDB appear, owned by the relationship; status follows readiness', async () => {
  const { fake } = await setup();
  const r = createSiteA(fake);
  await until('objects with both scopes', () => fake.getObject('policy', 'poddisruptionbudgets', NS, 'site-a-servers') && scopeIn(fake, 'dhcp-a', 'branch') && scopeIn(fake, 'dhcp-a', 'office'));
  for (const o of [cm(fake), sts(fake, 'site-a-dhcp-a'), sts(fake, 'site-a-dhcp-b')]) {
    assert.ok(o);
    assert.equal(o.metadata.ownerReferences[0].uid, r.metadata.uid);
  }
  const servers = Object.keys(cm(fake)!.data).sort();
  assert.deepEqual(servers, ['dhcp-a.yaml', 'dhcp-b.yaml']);
  assert.deepEqual((load(cm(fake)!.data['dhcp-a.yaml']) as Json).scopes.map((s: Json) => s.name), ['branch', 'office']);
  await until('Progressing status', () => cond(rel(fake), 'Progressing')?.status === 'True' && rel(fake)?.status?.scopeCount === 2);
  const s1 = rel(fake)!;
  assert.equal(cond(s1, 'Ready').reason, 'ServersNotReady');
  assert.equal(cond(s1, 'Degraded').status, 'False');
  assert.equal(s1.status.observedGeneration, 1);
  assert.equal(s1.status.scopeCount, 2);
  // The StatefulSet controller reports both pods ready. Ready also needs both servers NORMAL on their
  // /status, which this controller does not poll (serverStatus false): Ready=False StateUnknown, not Degraded.
  for (const n of ['site-a-dhcp-a', 'site-a-dhcp-b']) fake.setStatus('apps', 'statefulsets', NS, n, { replicas: 1, readyReplicas: 1, observedGeneration: sts(fake, n)!.metadata.generation });
  await until('pods ready, state unknown', () => cond(rel(fake), 'Ready')?.reason === 'StateUnknown');
  assert.equal(cond(rel(fake), 'Ready').status, 'False');
  assert.equal(cond(rel(fake), 'Degraded').status, 'False');
  assert.equal(cond(rel(fake), 'Progressing').status, 'False');
  assert.deepEqual(rel(fake)!.status.servers.map((s: Json) => [s.name, s.ready]), [['dhcp-a', true], ['dhcp-b', true]]);
  assert.equal(rel(fake)!.spec.mode, 'loadBalance', 'the status write did not touch spec');
  assert.ok(fake.listObjects('', 'events', NS).some((e) => e.reason === 'Applied' && e.involvedObject.name === 'site-a'));
});

test('scope update → ConfigMap changes without restarting the pods; unchanged input → no writes', async () => {
  const { fake, controller } = await setup();
  createSiteA(fake);
  await until('config and StatefulSets', () => cm(fake) && sts(fake, 'site-a-dhcp-a'));
  const restartHash = sts(fake, 'site-a-dhcp-a')!.spec.template.metadata.annotations['dhcp.failover.dev/restart-hash'];
  const branch = fake.getObject(G, 'dhcpscopes', NS, 'branch')!;
  branch.spec.leaseSeconds = 7200;
  fake.put(G, 'dhcpscopes', branch);
  await until('lease time in config', () => scopeIn(fake, 'dhcp-b', 'branch')?.leaseSeconds === 7200);
  assert.equal(sts(fake, 'site-a-dhcp-a')!.spec.template.metadata.annotations['dhcp.failover.dev/restart-hash'], restartHash);
  await controller!.queue.idle();
  const writes = fake.requests.filter((q) => q.verb === 'patch' && q.subresource === undefined).length;
  // An unrelated change to the relationship's metadata triggers a reconcile that finds nothing to apply.
  const r = rel(fake)!; r.metadata.labels = { touched: 'yes' };
  fake.put(G, 'dhcpfailoverrelationships', r);
  await new Promise((res) => setTimeout(res, 100));
  await controller!.queue.idle();
  assert.equal(fake.requests.filter((q) => q.verb === 'patch' && q.subresource === undefined).length, writes, 'input hash unchanged: no apply');
});

test('delete the relationship → owned objects removed (owner references); a renamed server is pruned', async () => {
  const { fake } = await setup();
  createSiteA(fake);
  await until('sts', () => sts(fake, 'site-a-dhcp-b'));
  const r = rel(fake)!;
  r.spec.servers[1].name = 'dhcp-c';
  fake.put(G, 'dhcpfailoverrelationships', r);
  await until('new server', () => sts(fake, 'site-a-dhcp-c'));
  await until('old server pruned', () => !sts(fake, 'site-a-dhcp-b'));
  assert.ok(fake.requests.some((q) => q.verb === 'delete' && q.plural === 'statefulsets' && q.name === 'site-a-dhcp-b'));
  fake.remove(G, 'dhcpfailoverrelationships', NS, 'site-a');
  await until('all gone', () => fake.listObjects('apps', 'statefulsets', NS).length === 0 && !cm(fake) && fake.listObjects('policy', 'poddisruptionbudgets', NS).length === 0);
});

test('a 409 Conflict on apply is retried with backoff', async () => {
  const { fake, controller } = await setup();
  fake.failNext((q) => q.verb === 'patch' && q.plural === 'configmaps', 409, 2);
  createSiteA(fake);
  await until('objects after retries', () => sts(fake, 'site-a-dhcp-b'));
  assert.equal(fake.requests.filter((q) => q.verb === 'patch' && q.plural === 'configmaps').length >= 3, true);
  const metrics = await controller!.metrics.registry.metrics();
  assert.match(metrics, /dhcp_operator_reconcile_errors_total\{kind="DhcpFailoverRelationship"\} 2/);
});

test('watch expiry (410) and a dropped watch connection are recovered: later changes still reconcile', async () => {
  const { fake } = await setup();
  createSiteA(fake);
  await until('config', () => cm(fake));
  // History lost while the watches reconnect: 410 → relist.
  await until('watches open', () => fake.watchCount >= 6);
  fake.compact();
  fake.endWatches();
  const office = fake.getObject(G, 'dhcpscopes', NS, 'office')!;
  office.spec.leaseSeconds = 1234;
  fake.put(G, 'dhcpscopes', office);
  fake.compact();
  await until('change seen after 410', () => scopeIn(fake, 'dhcp-a', 'office')?.leaseSeconds === 1234);
  // A dropped TCP connection stops client-node's informer silently; the wrapper restarts it.
  await until('watches open again', () => fake.watchCount >= 6);
  fake.dropWatches();
  await new Promise((r) => setTimeout(r, 50));
  const office2 = fake.getObject(G, 'dhcpscopes', NS, 'office')!;
  office2.spec.leaseSeconds = 4321;
  fake.put(G, 'dhcpscopes', office2);
  await until('change seen after a dropped watch', () => scopeIn(fake, 'dhcp-a', 'office')?.leaseSeconds === 4321);
});

test('a Secret whose key is empty → Degraded SecretMissing saying so, nothing applied; a value in it → applied', async () => {
  const { fake } = await setup({ secret: false });
  fake.put('', 'secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dhcp-failover-secret', namespace: NS }, data: { secret: Buffer.from('  \n').toString('base64') } });
  createSiteA(fake);
  await until('Degraded', () => cond(rel(fake), 'Degraded')?.status === 'True');
  assert.equal(cond(rel(fake), 'Degraded').reason, 'SecretMissing');
  assert.match(cond(rel(fake), 'Degraded').message, /key "secret" is empty/);
  assert.deepEqual(fake.requests.filter((q) => q.verb === 'patch' && q.subresource === undefined), [], 'nothing applied');
  fake.put('', 'secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dhcp-failover-secret', namespace: NS }, data: { secret: Buffer.from('s3cret').toString('base64') } });
  await until('applied once the key holds a secret', () => cm(fake));
  await until('Degraded cleared', () => cond(rel(fake), 'Degraded')?.status === 'False');
});

test('invalid input (missing Secret, bad scope, scope conflict) → Degraded with a reason and an Event, nothing applied', async () => {
  const { fake } = await setup({ secret: false });
  createSiteA(fake);
  await until('Degraded', () => cond(rel(fake), 'Degraded')?.status === 'True');
  assert.equal(cond(rel(fake), 'Degraded').reason, 'SecretMissing');
  assert.equal(cond(rel(fake), 'Ready').status, 'False');
  assert.deepEqual(fake.requests.filter((q) => q.verb === 'patch' && q.subresource === undefined), [], 'nothing applied');
  await until('warning event', () => fake.listObjects('', 'events', NS).some((e) => e.type === 'Warning' && e.reason === 'SecretMissing'));
  fake.put('', 'secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dhcp-failover-secret', namespace: NS }, data: { secret: 'eA==' } });
  await until('applied once the Secret exists', () => cm(fake));
  await until('Degraded cleared', () => cond(rel(fake), 'Degraded')?.status === 'False');
  const before = cm(fake)!.metadata.resourceVersion;
  // A bad option in a scope: Degraded InvalidScope, the running config stays as it was.
  const branch = fake.getObject(G, 'dhcpscopes', NS, 'branch')!;
  branch.spec.options = { routers: ['not-an-ip'] };
  fake.put(G, 'dhcpscopes', branch);
  await until('InvalidScope', () => cond(rel(fake), 'Degraded')?.reason === 'InvalidScope');
  assert.match(cond(rel(fake), 'Degraded').message, /scope branch/);
  assert.equal(cm(fake)!.metadata.resourceVersion, before, 'config not touched');
  // Another relationship's older scope claims the same subnet.
  branch.spec.options = { routers: ['10.30.0.1'] };
  fake.put(G, 'dhcpscopes', branch);
  await until('valid again', () => cond(rel(fake), 'Degraded')?.status === 'False');
  fake.put(G, 'dhcpfailoverrelationships', example('21-relationship-hotstandby.yaml'));
  fake.put(G, 'dhcpscopes', { apiVersion: `${G}/v1alpha1`, kind: 'DhcpScope', metadata: { name: 'late', namespace: NS }, spec: { relationshipRef: { name: 'site-b' }, subnet: '10.30.0.0/24', ranges: [] } });
  await until('site-b conflict', () => cond(rel(fake, 'site-b'), 'Degraded')?.reason === 'ScopeConflict');
  // site-b was applied while it had no scope; the conflicting scope never reaches its config.
  assert.doesNotMatch(JSON.stringify(fake.getObject('', 'configmaps', NS, 'site-b-config')?.data ?? {}), /late/);
  assert.equal(cond(rel(fake), 'Degraded').status, 'False', 'the older claim stands');
});

test('leader election: one of two instances reconciles; on release the other takes over', async () => {
  const { fake, kc, newController } = await setup({ controller: false });
  const mk = (id: string) => {
    const controller = newController(id);
    const elector = new LeaderElector({
      kc, namespace: 'dhcp-system', name: 'dhcp-failover', identity: id, clock: systemClock,
      leaseDurationMs: 1000, renewDeadlineMs: 800, retryPeriodMs: 100,
      onStartedLeading: () => { void controller.start(); },
      onStoppedLeading: () => { void controller.stop(); },
    });
    cleanups.push(() => elector.stop());
    return { controller, elector };
  };
  const a = mk('op-a');
  a.elector.start();
  await until('a leads', () => a.elector.isLeader);
  const b = mk('op-b');
  b.elector.start();
  createSiteA(fake);
  await until('a reconciled', () => cm(fake));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(b.elector.isLeader, false);
  const lease = fake.getObject('coordination.k8s.io', 'leases', 'dhcp-system', 'dhcp-failover')!;
  assert.equal(lease.spec.holderIdentity, 'op-a');
  assert.match(lease.spec.renewTime, /\.\d{6}Z$/, 'MicroTime with 6 digits');
  await a.elector.stop();
  await until('b leads', () => b.elector.isLeader, 3000);
  assert.equal(fake.getObject('coordination.k8s.io', 'leases', 'dhcp-system', 'dhcp-failover')!.spec.holderIdentity, 'op-b');
  assert.equal(fake.getObject('coordination.k8s.io', 'leases', 'dhcp-system', 'dhcp-failover')!.spec.leaseTransitions, 1);
  const branch = fake.getObject(G, 'dhcpscopes', NS, 'branch')!;
  branch.spec.leaseSeconds = 999;
  fake.put(G, 'dhcpscopes', branch);
  await until('b reconciles', () => scopeIn(fake, 'dhcp-a', 'branch')?.leaseSeconds === 999);
});

test('a crashed leader (lease never renewed, never released) is replaced after the lease duration', async () => {
  const { fake, kc } = await setup({ controller: false });
  fake.put('coordination.k8s.io', 'leases', {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'dhcp-system' },
    spec: { holderIdentity: 'ghost', leaseDurationSeconds: 1, renewTime: new Date().toISOString().replace('Z', '000Z'), leaseTransitions: 3 },
  });
  const events: string[] = [];
  const b = new LeaderElector({
    kc, namespace: 'dhcp-system', name: 'l', identity: 'b', clock: systemClock, leaseDurationMs: 1000, renewDeadlineMs: 800, retryPeriodMs: 100,
    onStartedLeading: () => events.push('b start'), onStoppedLeading: () => events.push('b stop'),
  });
  cleanups.push(() => b.stop());
  const started = Date.now();
  b.start();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(b.isLeader, false, 'the holder is still within its lease');
  await until('b leads', () => b.isLeader, 3000);
  assert.ok(Date.now() - started >= 1000, 'not before the lease duration elapsed (by local observation)');
  const lease = fake.getObject('coordination.k8s.io', 'leases', 'dhcp-system', 'l')!;
  assert.equal(lease.spec.holderIdentity, 'b');
  assert.equal(lease.spec.leaseTransitions, 4);
  // Renewing fails for longer than the renew deadline → b stops leading.
  fake.failNext((q) => q.plural === 'leases', 500, 1_000_000);
  await until('b steps down', () => !b.isLeader, 3000);
  assert.deepEqual(events, ['b start', 'b stop']);
});

test('HTTP: /healthz, /readyz follows readiness, /metrics lists reconciles, durations and queue depth', async () => {
  const { fake, controller } = await setup();
  createSiteA(fake);
  await until('config', () => cm(fake));
  let ready = false;
  const http = await startOperatorHttp({ port: 0, host: '127.0.0.1', metrics: controller!.metrics, ready: () => ready });
  cleanups.push(() => http.close());
  const get = async (p: string) => { const r = await fetch(`http://127.0.0.1:${http.port}${p}`); return { status: r.status, text: await r.text() }; };
  assert.equal((await get('/healthz')).status, 200);
  assert.equal((await get('/readyz')).status, 503);
  ready = controller!.isSynced;
  assert.equal((await get('/readyz')).status, 200);
  // The ConfigMap appears during the reconcile; its outcome is counted when the reconcile returns.
  let m = '';
  for (let i = 0; i < 100 && !/kind="DhcpFailoverRelationship",result="applied"\} [1-9]/.test(m); i++) { m = (await get('/metrics')).text; await new Promise((r) => setTimeout(r, 20)); }
  assert.match(m, /dhcp_operator_reconciles_total\{kind="DhcpFailoverRelationship",result="applied"\} [1-9]/);
  assert.match(m, /dhcp_operator_reconcile_duration_seconds_count\{kind="DhcpFailoverRelationship"\} [1-9]/);
  assert.match(m, /dhcp_operator_queue_depth \d/);
  // The scopes' statuses are their own kind (reconcile-scopes.ts).
  assert.match(m, /dhcp_operator_reconciles_total\{kind="DhcpScope",result="(applied|unchanged)"\} [1-9]/);
  assert.equal((await get('/nope')).status, 404);
});

test('a restart-relevant change rolls one server at a time: the secondary first, the primary once it is ready again', async () => {
  const { fake, controller } = await setup();
  createSiteA(fake);
  await until('both StatefulSets', () => sts(fake, 'site-a-dhcp-a') && sts(fake, 'site-a-dhcp-b'));
  const ready = (n: string) => fake.setStatus('apps', 'statefulsets', NS, n, { replicas: 1, readyReplicas: 1, observedGeneration: sts(fake, n)!.metadata.generation });
  const notReady = (n: string) => fake.setStatus('apps', 'statefulsets', NS, n, { replicas: 1, readyReplicas: 0, observedGeneration: sts(fake, n)!.metadata.generation });
  ready('site-a-dhcp-a'); ready('site-a-dhcp-b');
  await until('both pods ready', () => cond(rel(fake), 'Progressing')?.status === 'False' && rel(fake)?.status?.servers?.every((x: Json) => x.ready));
  const image = (n: string) => sts(fake, n)!.spec.template.spec.containers[0].image as string;
  const r = rel(fake)!;
  r.spec.image = 'registry.example/dhcp-failover:9.9.9';
  fake.put(G, 'dhcpfailoverrelationships', r);
  await until('secondary restarted with the new image', () => image('site-a-dhcp-b') === 'registry.example/dhcp-failover:9.9.9');
  notReady('site-a-dhcp-b'); // its pod is being replaced
  await new Promise((res) => setTimeout(res, 300));
  await controller!.queue.idle();
  assert.notEqual(image('site-a-dhcp-a'), 'registry.example/dhcp-failover:9.9.9', 'the primary waits while the secondary restarts');
  assert.equal(cond(rel(fake), 'Progressing')?.status, 'True');
  ready('site-a-dhcp-b');
  await until('primary restarted once the secondary is ready', () => image('site-a-dhcp-a') === 'registry.example/dhcp-failover:9.9.9');
});

test('start with slow and failing lists: nothing is applied from a half-read world (no ConfigMap with fewer scopes, no SecretMissing)', async () => {
  const { fake, newController } = await setup({ controller: false });
  createSiteA(fake);
  const first = newController('op-1');
  await first.start();
  await until('config with both scopes', () => scopeIn(fake, 'dhcp-a', 'branch') && scopeIn(fake, 'dhcp-b', 'office'));
  await first.queue.idle();
  await first.stop();
  const writesBefore = fake.requests.length;
  // The next leader lists scopes and Secrets slowly, and its first scope list fails outright.
  fake.delayNext((q) => q.verb === 'list' && (q.plural === 'dhcpscopes' || q.plural === 'secrets'), 700, 2);
  fake.failNext((q) => q.verb === 'list' && q.plural === 'dhcpscopes', 500, 1);
  const second = newController('op-2');
  const started = second.start();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(second.isSynced, false, 'not synced while the scope list is outstanding');
  await started;
  assert.equal(second.isSynced, true);
  await second.queue.idle();
  const later = fake.requests.slice(writesBefore);
  assert.ok(later.filter((q) => q.verb === 'list' && q.plural === 'dhcpscopes').length >= 2, 'the failed list was retried');
  assert.deepEqual(later.filter((q) => q.verb === 'patch' && q.subresource === undefined).map((q) => `${q.plural}/${q.name}`), [], 'nothing re-applied: the world did not change');
  assert.ok(!fake.listObjects('', 'events', NS).some((e) => e.reason === 'SecretMissing'), 'no spurious SecretMissing');
  assert.deepEqual((load(cm(fake)!.data['dhcp-a.yaml']) as Json).scopes.map((s: Json) => s.name), ['branch', 'office']);
});

test('right after a start, a scope that is really gone is removed only after the startup hold', async () => {
  const { fake, newController } = await setup({ controller: false });
  createSiteA(fake);
  const first = newController('op-1');
  await first.start();
  await until('config with both scopes', () => scopeIn(fake, 'dhcp-a', 'branch'));
  await first.queue.idle();
  await first.stop();
  fake.remove(G, 'dhcpscopes', NS, 'branch');
  const second = newController('op-2');
  const t0 = Date.now();
  await second.start();
  await until('branch removed from the config', () => cm(fake) && !scopeIn(fake, 'dhcp-a', 'branch') && scopeIn(fake, 'dhcp-a', 'office'), 5000);
  assert.ok(Date.now() - t0 >= 250, `held for the startup hold (300 ms in this test), took ${Date.now() - t0} ms`);
});

test('informer backoff grows while a list keeps failing (a lasting 403), instead of retrying at a fixed fast rate', async () => {
  const { fake, newController } = await setup({ controller: false });
  const lines: { event: string; fields: Json }[] = [];
  setLogSink((line) => { try { const j = JSON.parse(line); lines.push({ event: j.event, fields: j }); } catch { /* not JSON */ } });
  cleanups.push(() => setLogSink(() => {}));
  fake.failNext((q) => q.verb === 'list' && q.plural === 'dhcpscopes', 403, 1000, 'Forbidden');
  const c = newController('op-1');
  void c.start();
  await new Promise((r) => setTimeout(r, 2500));
  const lists = fake.requests.filter((q) => q.verb === 'list' && q.plural === 'dhcpscopes').length;
  // 100, 200, 400, 800 ms...: about 5 attempts in 2.5 s (a fixed 100 ms would be 25).
  assert.ok(lists >= 3 && lists <= 7, `list attempts in 2.5 s: ${lists}`);
  assert.equal(c.isSynced, false, 'never synced while the scope list is refused');
  const restarts = lines.filter((l) => l.event === 'operator.informer.restart' && l.fields.kind === 'dhcpscopes');
  assert.ok(restarts.length >= 2);
  const delays = restarts.map((l) => l.fields.delayMs as number);
  assert.deepEqual(delays, [...delays].sort((a, b) => a - b), `delays grow: ${delays}`);
  assert.ok(delays.at(-1)! > delays[0]!, `delays grow: ${delays}`);
});

test('a leader that cannot renew (API server away) is suspended, then resumes if no one else took the Lease; another holder means lost', async () => {
  const { fake, kc } = await setup({ controller: false });
  const events: string[] = [];
  const mk = (id: string) => {
    const e = new LeaderElector({
      kc, namespace: 'dhcp-system', name: 'l', identity: id, clock: systemClock, leaseDurationMs: 1000, renewDeadlineMs: 500, retryPeriodMs: 100,
      onStartedLeading: () => events.push(`${id} start`), onStoppedLeading: (why) => events.push(`${id} stop ${why}`),
    });
    cleanups.push(() => e.stop());
    return e;
  };
  const a = mk('a');
  a.start();
  await until('a leads', () => a.isLeader);
  // Every Lease request fails for ~0.8 s (longer than the 0.5 s renew deadline, shorter than the 1 s lease).
  fake.failNext((q) => q.plural === 'leases', 503, 8);
  await until('a suspended', () => events.includes('a stop suspended'), 3000);
  await until('a resumes', () => a.isLeader, 3000);
  assert.deepEqual(events, ['a start', 'a stop suspended', 'a start']);
  assert.equal(fake.getObject('coordination.k8s.io', 'leases', 'dhcp-system', 'l')!.spec.leaseTransitions, 0, 'the same term continued');
  // Suspended again, and meanwhile another replica takes the Lease: a's next read sees it and a has lost.
  events.length = 0;
  fake.failNext((q) => q.plural === 'leases', 503, 8);
  await until('a suspended again', () => events.includes('a stop suspended'), 3000);
  const lease = fake.getObject('coordination.k8s.io', 'leases', 'dhcp-system', 'l')!;
  lease.spec = { ...lease.spec, holderIdentity: 'b', renewTime: new Date().toISOString().replace('Z', '000Z'), leaseDurationSeconds: 30 };
  fake.put('coordination.k8s.io', 'leases', lease);
  await until('a sees b and has lost', () => events.includes('a stop lost'), 3000);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(a.isLeader, false);
  assert.deepEqual(events, ['a stop suspended', 'a stop lost']);
  assert.equal(fake.getObject('coordination.k8s.io', 'leases', 'dhcp-system', 'l')!.spec.holderIdentity, 'b');
});
