// Two relationships on one node, against a real kube-apiserver (test/fakes/kube-control-plane.ts), the
// controller under the chart's ServiceAccount and RBAC (a TokenRequest token, not admin). One node runs one
// server pod (hostNetwork, host ports 67/UDP, 8067/TCP): the relationship that claimed the node later (by
// creationTimestamp, here the one whose name sorts first, in another namespace) gets Degraded=True and
// Ready=False `NodeInUse` naming the node, the other relationship and its server, a Warning Event, and no
// ConfigMap or StatefulSet of its own; its scope says why it is not served. Deleting the first one lets the
// next reconcile apply it. A relationship whose own two servers share a node (the CRD admits it) is refused
// the same way until one moves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { load, loadAll } from 'js-yaml';
import { systemClock } from '../../src/clock.ts';
import { setLogSink } from '../../src/log.ts';
import { Controller } from '../../src/operator/controller.ts';
import { DEFAULT_RENDER_OPTIONS } from '../../src/operator/render/types.ts';
import { REPO_ROOT, runHelm } from '../fakes/helm.ts';
import { controlPlaneUnavailable, startControlPlane, type ControlPlane } from '../fakes/kube-control-plane.ts';
import { sleep, waitFor } from '../fakes/processes.ts';

type Json = Record<string, any>;
const G = 'dhcp.failover.dev', V = 'v1alpha1', OP_NS = 'dhcp-system', NS = 'dhcp', NS2 = 'dhcp-hub';
const EXAMPLES = join(REPO_ROOT, 'manifests/examples');
const example = (file: string): Json => load(readFileSync(join(EXAMPLES, file), 'utf8')) as Json;
setLogSink(() => {});

describe('two relationships on one node, against a real kube-apiserver', { skip: controlPlaneUnavailable, timeout: 180_000 }, () => {
  let cp: ControlPlane;
  let crs: CustomObjectsApi, core: CoreV1Api, apps: AppsV1Api;
  let controller: Controller | undefined;

  const relationship = async (ns: string, name: string): Promise<Json | undefined> => {
    try { return await crs.getNamespacedCustomObject({ group: G, version: V, namespace: ns, plural: 'dhcpfailoverrelationships', name }) as Json; } catch { return undefined; }
  };
  const cond = (o: Json | undefined, type: string): Json | undefined => (o?.status?.conditions as Json[] | undefined)?.find((c) => c.type === type);
  const configMap = async (ns: string, name: string): Promise<Json | undefined> => { try { return await core.readNamespacedConfigMap({ name, namespace: ns }) as Json; } catch { return undefined; } };
  /** The StatefulSets and ConfigMaps a relationship's label selects (what the operator created for it). */
  const ownedBy = async (ns: string, rel: string): Promise<string[]> => {
    const labelSelector = `${G}/relationship=${rel}`;
    const cms = (await core.listNamespacedConfigMap({ namespace: ns, labelSelector })).items.map((o) => `ConfigMap/${o.metadata!.name}`);
    const stss = (await apps.listNamespacedStatefulSet({ namespace: ns, labelSelector })).items.map((o) => `StatefulSet/${o.metadata!.name}`);
    return [...cms, ...stss].sort();
  };

  /** site-a (the example) in `dhcp` on node-1 and node-2. */
  const siteA = (): Json => example('20-relationship-loadbalance.yaml');
  /** `hub` in another namespace: hub-1 on site-a's node-2, hub-2 on node-9. */
  const hub = (): Json => {
    const r = example('20-relationship-loadbalance.yaml');
    r.metadata = { name: 'hub', namespace: NS2 };
    r.spec.servers = [
      { name: 'hub-1', nodeName: 'node-2', address: '10.60.0.2', interfaces: ['eth0'] },
      { name: 'hub-2', nodeName: 'node-9', address: '10.60.0.3', interfaces: ['eth0'] },
    ];
    return r;
  };

  before(async () => {
    cp = await startControlPlane();
    const admin = cp.kubeConfig();
    crs = admin.makeApiClient(CustomObjectsApi);
    core = admin.makeApiClient(CoreV1Api);
    apps = admin.makeApiClient(AppsV1Api);
    const crdDir = join(REPO_ROOT, 'charts/dhcp-failover/crds');
    for (const f of ['dhcp.failover.dev_dhcpfailoverrelationships.yaml', 'dhcp.failover.dev_dhcpscopes.yaml']) await cp.kubectl(['apply', '--server-side', '-f', join(crdDir, f)]);
    await cp.waitForCrdsEstablished(['dhcpscopes.dhcp.failover.dev', 'dhcpfailoverrelationships.dhcp.failover.dev']);
    const ns1 = example('00-namespace.yaml');
    const ns2 = { ...ns1, metadata: { ...ns1.metadata, name: NS2 } };
    await cp.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OP_NS } }, ns1, ns2]);
    const r = runHelm(['template', 'dhcp-failover', join(REPO_ROOT, 'charts/dhcp-failover'), '--namespace', OP_NS, '--skip-crds']);
    assert.equal(r.status, 0, r.stderr);
    const docs = (loadAll(r.stdout) as Json[]).filter(Boolean);
    await cp.apply(docs.filter((d) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(d.kind)));
    const sa = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec.serviceAccountName as string;
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigForToken(await cp.createServiceAccountToken(OP_NS, sa, 3600)));
    const secret = example('10-shared-secret.yaml');
    await cp.apply([secret, { ...secret, metadata: { ...secret.metadata, namespace: NS2 } }, siteA(), example('30-scope-office.yaml')]);
    // serverStatus false: the servers' addresses (10.20.0.x, 10.60.0.x) must not be contacted from a test.
    controller = new Controller({ kc, namespaces: [], renderOptions: DEFAULT_RENDER_OPTIONS, clock: systemClock, identity: 'op', retryBaseMs: 50, retryMaxMs: 1000, startupHoldMs: 0, serverStatus: false });
    await controller.start();
  });

  after(async () => {
    await controller?.stop();
    await cp?.stop();
  });

  test('the later relationship gets NodeInUse and nothing of its own; the first one runs on; deleting it applies the second', async () => {
    await waitFor('site-a applied', async () => (await ownedBy(NS, 'site-a')).length === 3 || undefined, { timeoutMs: 30_000 });
    // creationTimestamp has one-second resolution: hub is created in a later second, so the timestamp
    // decides and not the name (hub sorts before site-a, and would win a tie).
    const created = Date.parse((await relationship(NS, 'site-a'))!.metadata.creationTimestamp);
    await sleep(Math.max(0, created + 1100 - Date.now()));
    const scope = example('31-scope-branch.yaml');
    scope.metadata = { name: 'branch', namespace: NS2 };
    scope.spec.relationshipRef = { name: 'hub' };
    await cp.apply([hub(), scope]);

    const refused = await waitFor('hub NodeInUse', async () => { const r = await relationship(NS2, 'hub'); return cond(r, 'Degraded')?.reason === 'NodeInUse' ? r : undefined; }, { timeoutMs: 30_000 });
    assert.deepEqual([cond(refused, 'Degraded')!.status, cond(refused, 'Ready')!.status, cond(refused, 'Ready')!.reason, cond(refused, 'Progressing')!.reason], ['True', 'False', 'NodeInUse', 'Blocked']);
    assert.equal(cond(refused, 'Degraded')!.message,
      'server hub-1 is placed on node node-2 (nodeName node-2), which server dhcp-b of relationship dhcp/site-a claimed first: '
      + 'one node runs one server pod today (hostNetwork, host ports 67/UDP, 8067/TCP and the failover port); '
      + 'place hub-1 on another node (spec.servers[0]), or move or delete dhcp/site-a');
    assert.deepEqual(refused.status.servers.map((s: Json) => s.state), ['unknown', 'unknown']);
    const events = (await core.listNamespacedEvent({ namespace: NS2 })).items;
    assert.ok(events.some((e) => e.reason === 'NodeInUse' && e.type === 'Warning' && e.involvedObject.name === 'hub'), 'a Warning Event on hub');
    // Its scope says why it is not served.
    const s = await waitFor('branch RelationshipInvalid', async () => {
      const x = await crs.getNamespacedCustomObject({ group: G, version: V, namespace: NS2, plural: 'dhcpscopes', name: 'branch' }) as Json;
      return cond(x, 'Ready')?.reason === 'RelationshipInvalid' ? x : undefined;
    }, { timeoutMs: 30_000 });
    assert.match(cond(s, 'Ready')!.message, /relationship hub is not applied .*node node-2/);
    // Nothing of hub, and site-a untouched.
    await controller!.queue.idle();
    assert.deepEqual(await ownedBy(NS2, 'hub'), [], 'no ConfigMap or StatefulSet of hub');
    assert.deepEqual(await ownedBy(NS, 'site-a'), ['ConfigMap/site-a-config', 'StatefulSet/site-a-dhcp-a', 'StatefulSet/site-a-dhcp-b']);
    assert.equal(cond(await relationship(NS, 'site-a'), 'Degraded')?.status, 'False', 'the first one keeps running');

    // The first relationship goes (the API server has no garbage collector: its objects stay, which does
    // not matter to the claims): the next reconcile of hub applies it.
    await crs.deleteNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpfailoverrelationships', name: 'site-a' });
    await waitFor('hub applied', async () => (await ownedBy(NS2, 'hub')).length === 3 || undefined, { timeoutMs: 30_000 });
    assert.deepEqual(await ownedBy(NS2, 'hub'), ['ConfigMap/hub-config', 'StatefulSet/hub-hub-1', 'StatefulSet/hub-hub-2']);
    assert.match((await configMap(NS2, 'hub-config'))!.data['hub-1.yaml'], /name: branch/);
    const applied = await waitFor('hub no longer NodeInUse', async () => { const r = await relationship(NS2, 'hub'); return cond(r, 'Degraded')?.status === 'False' ? r : undefined; }, { timeoutMs: 30_000 });
    assert.deepEqual([cond(applied, 'Degraded')!.reason, cond(applied, 'Ready')!.reason], ['AsExpected', 'ServersNotReady']);
  });

  test('both servers of one relationship on one node: admitted by the API server, refused by the operator until one moves', async () => {
    const pair = example('20-relationship-loadbalance.yaml');
    pair.metadata = { name: 'pair', namespace: NS };
    pair.spec.servers = [
      { name: 'p-1', nodeName: 'node-5', address: '10.70.0.2' },
      { name: 'p-2', nodeName: 'node-5', address: '10.70.0.3' },
    ];
    await cp.apply([pair]);
    const refused = await waitFor('pair NodeInUse', async () => { const r = await relationship(NS, 'pair'); return cond(r, 'Degraded')?.reason === 'NodeInUse' ? r : undefined; }, { timeoutMs: 30_000 });
    assert.match(cond(refused, 'Degraded')!.message, /^servers p-1 and p-2 are both placed on node node-5 \(nodeName node-5\): one node runs one server pod today .*; place p-2 on another node \(spec\.servers\[1\]\)$/);
    await controller!.queue.idle();
    assert.deepEqual(await ownedBy(NS, 'pair'), []);
    await crs.patchNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpfailoverrelationships', name: 'pair', body: [{ op: 'replace', path: '/spec/servers/1/nodeName', value: 'node-6' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await waitFor('pair applied', async () => (await ownedBy(NS, 'pair')).length === 3 || undefined, { timeoutMs: 30_000 });
    assert.equal(cond(await relationship(NS, 'pair'), 'Degraded')?.reason, 'AsExpected');
  });
});
