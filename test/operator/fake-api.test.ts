// The fake API server (test/fakes/kube-api-server.ts), driven by the real @kubernetes/client-node 2.0.1:
// what the operator relies on must behave as a real API server does for this client.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApiException, AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, V1MicroTime, Watch,
  makeInformer, setHeaderOptions,
} from '@kubernetes/client-node';
import { FakeKubeApiServer, parseLabelSelector } from '../fakes/kube-api-server.ts';

type Json = Record<string, any>;
const G = 'dhcp.failover.dev', V = 'v1alpha1', NS = 'dhcp';
const fake = new FakeKubeApiServer({ historyLimit: 50, bookmarkMs: 50 });
let kc: KubeConfig;
let crs: CustomObjectsApi;
let core: CoreV1Api;

before(async () => {
  await fake.start();
  kc = new KubeConfig();
  kc.loadFromOptions(fake.kubeConfigOptions());
  crs = kc.makeApiClient(CustomObjectsApi);
  core = kc.makeApiClient(CoreV1Api);
});
after(() => fake.stop());

async function apiError(p: Promise<unknown>): Promise<{ code: number; reason: string }> {
  try { await p; } catch (err) {
    assert.ok(err instanceof ApiException, `expected ApiException, got ${String(err)}`);
    const body = JSON.parse(err.body as string) as Json;
    assert.equal(body.kind, 'Status');
    return { code: err.code, reason: body.reason };
  }
  assert.fail('expected the request to fail');
}

function scope(name: string, subnet = '10.0.0.0/24'): Json {
  return { apiVersion: `${G}/${V}`, kind: 'DhcpScope', metadata: { name, namespace: NS, labels: { tier: 'a' } }, spec: { relationshipRef: { name: 'r' }, subnet, ranges: [] } };
}
const req = (name: string) => ({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', name });

async function until<T>(what: string, fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('create, get, 404, 409 AlreadyExists; server fields set', async () => {
  const created = await crs.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', body: scope('s1') }) as Json;
  assert.equal(created.metadata.generation, 1);
  assert.match(created.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.ok(Number(created.metadata.resourceVersion) > 0);
  const got = await crs.getNamespacedCustomObject(req('s1')) as Json;
  assert.deepEqual(got, created);
  assert.deepEqual(await apiError(crs.getNamespacedCustomObject(req('nope'))), { code: 404, reason: 'NotFound' });
  assert.deepEqual(await apiError(crs.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', body: scope('s1') })), { code: 409, reason: 'AlreadyExists' });
});

test('update: stale resourceVersion → 409 Conflict; custom resource without one → 422; generation bumps on spec only', async () => {
  const cur = await crs.getNamespacedCustomObject(req('s1')) as Json;
  const changed = structuredClone(cur); changed.spec.subnet = '10.0.1.0/24';
  const updated = await crs.replaceNamespacedCustomObject({ ...req('s1'), body: changed }) as Json;
  assert.equal(updated.metadata.generation, 2);
  assert.deepEqual(await apiError(crs.replaceNamespacedCustomObject({ ...req('s1'), body: changed })), { code: 409, reason: 'Conflict' });
  const noRv = structuredClone(updated); delete noRv.metadata.resourceVersion;
  assert.deepEqual(await apiError(crs.replaceNamespacedCustomObject({ ...req('s1'), body: noRv })), { code: 422, reason: 'Invalid' });
  const labelled = structuredClone(updated); labelled.metadata.labels.extra = 'x';
  const relabelled = await crs.replaceNamespacedCustomObject({ ...req('s1'), body: labelled }) as Json;
  assert.equal(relabelled.metadata.generation, 2, 'a metadata change does not bump generation');
});

test('status subresource: merge patch on /status changes only status; status in a main write is ignored', async () => {
  const mergeHeader = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const before = await crs.getNamespacedCustomObject(req('s1')) as Json;
  const patched = await crs.patchNamespacedCustomObjectStatus({ ...req('s1'), body: { status: { poolSize: 5 }, spec: { subnet: '192.168.0.0/24' } } }, mergeHeader) as Json;
  assert.deepEqual(patched.status, { poolSize: 5 });
  assert.equal(patched.spec.subnet, before.spec.subnet);
  assert.equal(patched.metadata.generation, before.metadata.generation);
  const main = await crs.patchNamespacedCustomObject({ ...req('s1'), body: { status: { poolSize: 99 }, spec: { leaseSeconds: 600 } } }, mergeHeader) as Json;
  assert.deepEqual(main.status, { poolSize: 5 });
  assert.equal(main.spec.leaseSeconds, 600);
  assert.equal(main.metadata.generation, before.metadata.generation + 1);
  // The client's default patch type is JSON patch; a failed test op is 422.
  assert.deepEqual(await apiError(crs.patchNamespacedCustomObject({ ...req('s1'), body: [{ op: 'test', path: '/spec/leaseSeconds', value: 1 }] })), { code: 422, reason: 'Invalid' });
  assert.deepEqual(await apiError(crs.patchNamespacedCustomObject({ ...req('s1'), body: { spec: {} } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch))), { code: 415, reason: 'UnsupportedMediaType' });
});

test('server-side apply: creates, updates, removes fields the manager stopped applying; needs fieldManager', async () => {
  const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
  const cm = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: NS }, data });
  const created = await core.patchNamespacedConfigMap({ name: 'cfg', namespace: NS, body: cm({ a: '1', b: '2' }), fieldManager: 'op', force: true }, apply);
  assert.deepEqual(created.data, { a: '1', b: '2' });
  await core.patchNamespacedConfigMap({ name: 'cfg', namespace: NS, body: { metadata: { labels: { owner: 'other' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  const updated = await core.patchNamespacedConfigMap({ name: 'cfg', namespace: NS, body: cm({ a: '3' }), fieldManager: 'op', force: true }, apply);
  assert.deepEqual(updated.data, { a: '3' });
  assert.deepEqual(updated.metadata?.labels, { owner: 'other' }, 'fields of another manager stay');
  const rv = updated.metadata?.resourceVersion;
  const same = await core.patchNamespacedConfigMap({ name: 'cfg', namespace: NS, body: cm({ a: '3' }), fieldManager: 'op', force: true }, apply);
  assert.equal(same.metadata?.resourceVersion, rv, 'an unchanged apply is a no-op');
  assert.deepEqual(await apiError(core.patchNamespacedConfigMap({ name: 'cfg', namespace: NS, body: cm({}) }, apply)), { code: 400, reason: 'BadRequest' });
  // ConfigMaps (built-in) allow an unconditional update.
  const put = await core.replaceNamespacedConfigMap({ name: 'cfg', namespace: NS, body: { metadata: { name: 'cfg' }, data: { z: '1' } } });
  assert.deepEqual(put.data, { z: '1' });
});

test('list: resourceVersion, label and field selectors; cluster-wide list', async () => {
  await crs.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', body: { ...scope('s2'), metadata: { name: 's2', labels: { tier: 'b' } } } });
  await crs.createNamespacedCustomObject({ group: G, version: V, namespace: 'other', plural: 'dhcpscopes', body: { ...scope('s3'), metadata: { name: 's3', namespace: 'other' } } });
  const all = await crs.listClusterCustomObject({ group: G, version: V, plural: 'dhcpscopes' }) as Json;
  assert.equal(all.kind, 'DhcpScopeList');
  assert.equal(all.metadata.resourceVersion, fake.resourceVersion);
  assert.deepEqual(all.items.map((i: Json) => i.metadata.name), ['s1', 's2', 's3']);
  const ns = await crs.listNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', labelSelector: 'tier in (b,c)' }) as Json;
  assert.deepEqual(ns.items.map((i: Json) => i.metadata.name), ['s2']);
  const byName = await crs.listNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', fieldSelector: 'metadata.name=s1' }) as Json;
  assert.deepEqual(byName.items.map((i: Json) => i.metadata.name), ['s1']);
});

test('label selector syntax', () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ['a=1', { a: '1' }, true], ['a==1', { a: '2' }, false], ['a!=1', {}, true], ['a in (1, 2)', { a: '2' }, true],
    ['a notin (1,2)', { a: '3' }, true], ['a', { a: '' }, true], ['!a', { a: 'x' }, false], ['a=1,b', { a: '1' }, false],
  ];
  for (const [sel, labels, expected] of cases) assert.equal(parseLabelSelector(sel)(labels), expected, sel);
});

test('watch: replays from a resourceVersion, streams new events, bookmarks, 410 for an expired resourceVersion', async () => {
  const start = fake.resourceVersion;
  await crs.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', body: scope('w1') });
  const events: string[] = [];
  let bookmarks = 0;
  let ended: unknown = 'open';
  const ctl = await new Watch(kc).watch(`/apis/${G}/${V}/namespaces/${NS}/dhcpscopes`, { resourceVersion: start, allowWatchBookmarks: true },
    (type, obj: Json) => { if (type === 'BOOKMARK') bookmarks++; else events.push(`${type} ${obj.metadata.name}`); }, (err) => { ended = err; });
  await crs.deleteNamespacedCustomObject(req('w1'));
  await until('replay + delete', () => events.length >= 2);
  assert.deepEqual(events, ['ADDED w1', 'DELETED w1']);
  await until('a bookmark', () => bookmarks > 0);
  ctl.abort();

  fake.compact();
  await crs.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', body: scope('w2') });
  const errors: Json[] = [];
  let done = false;
  await new Watch(kc).watch(`/apis/${G}/${V}/namespaces/${NS}/dhcpscopes`, { resourceVersion: start },
    (type, obj: Json) => { if (type === 'ERROR') errors.push(obj); }, () => { done = true; });
  await until('410 and stream end', () => done);
  assert.equal(errors[0]?.code, 410);
  assert.equal(errors[0]?.reason, 'Expired');
  assert.notEqual(ended, 'open');
});

test('informer (real makeInformer): add/update/delete, and a relist after 410 when its watch restarts', async () => {
  const path = `/apis/${G}/${V}/namespaces/${NS}/dhcpscopes`;
  const informer = makeInformer<Json & { metadata: Json }>(kc, path, () => crs.listNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes' }) as never);
  const seen: string[] = [];
  informer.on('add', (o) => seen.push(`add ${o.metadata.name}`));
  informer.on('update', (o) => seen.push(`update ${o.metadata.name}`));
  informer.on('delete', (o) => seen.push(`delete ${o.metadata.name}`));
  informer.on('error', () => { /* stop() reports an AbortError */ });
  await informer.start();
  try {
    await until('initial list', () => informer.list().length >= 2);
    await crs.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', body: scope('i1') });
    await until('add i1', () => seen.includes('add i1'));
    await until('watch open', () => fake.watchCount > 0);
    // History lost while the watch is down: the reconnect gets 410, the informer relists and notices the deletion.
    fake.compact();
    fake.endWatches();
    fake.remove(G, 'dhcpscopes', NS, 'i1');
    fake.compact();
    await until('delete after relist', () => seen.includes('delete i1'));
    assert.equal(informer.get('i1', NS), undefined);
    assert.ok(fake.requests.filter((r) => r.verb === 'list' && r.plural === 'dhcpscopes' && r.namespace === NS).length >= 2, 'relisted');
  } finally {
    informer.stop();
  }
});

test('finalizers: delete sets deletionTimestamp; removing the last finalizer deletes; owner GC removes dependents', async () => {
  const owner = await crs.createNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', body: { ...scope('f1'), metadata: { name: 'f1', finalizers: ['dhcp.failover.dev/cleanup'] } } }) as Json;
  const dep = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'dep', ownerReferences: [{ apiVersion: `${G}/${V}`, kind: 'DhcpScope', name: 'f1', uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }] } } });
  assert.ok(dep.metadata?.uid);
  const deleting = await crs.deleteNamespacedCustomObject(req('f1')) as Json;
  assert.ok(deleting.metadata.deletionTimestamp);
  assert.ok(await crs.getNamespacedCustomObject(req('f1')));
  await crs.patchNamespacedCustomObject({ ...req('f1'), body: { metadata: { finalizers: null } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  assert.deepEqual(await apiError(crs.getNamespacedCustomObject(req('f1'))), { code: 404, reason: 'NotFound' });
  assert.deepEqual(await apiError(core.readNamespacedConfigMap({ name: 'dep', namespace: NS })), { code: 404, reason: 'NotFound' });
});

test('typed APIs: StatefulSet status subresource, Lease with MicroTime, injected faults', async () => {
  const apps = kc.makeApiClient(AppsV1Api);
  const sts = await apps.createNamespacedStatefulSet({ namespace: NS, body: { metadata: { name: 'x' }, spec: { replicas: 1, serviceName: 'x', selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } } } } } });
  assert.equal(sts.metadata?.generation, 1);
  fake.setStatus('apps', 'statefulsets', NS, 'x', { replicas: 1, readyReplicas: 1 });
  assert.equal((await apps.readNamespacedStatefulSet({ name: 'x', namespace: NS })).status?.readyReplicas, 1);
  const coord = kc.makeApiClient(CoordinationV1Api);
  const lease = await coord.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'l' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: new V1MicroTime(Date.UTC(2025, 0, 1, 0, 0, 0, 123)) } } });
  assert.equal((fake.getObject('coordination.k8s.io', 'leases', NS, 'l') as Json).spec.renewTime, '2025-01-01T00:00:00.123000Z');
  assert.equal(lease.spec?.holderIdentity, 'a');
  fake.failNext((r) => r.verb === 'get' && r.plural === 'leases', 500);
  assert.equal((await apiError(coord.readNamespacedLease({ name: 'l', namespace: NS }))).code, 500);
  assert.equal((await coord.readNamespacedLease({ name: 'l', namespace: NS })).spec?.holderIdentity, 'a', 'one failure only');
});
