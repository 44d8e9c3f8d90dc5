// DhcpScope status against a real kube-apiserver (test/fakes/kube-control-plane.ts): the controller, with the
// chart's ServiceAccount and RBAC (a TokenRequest token, not admin), writes each scope's status through the
// status subresource; the counts come from real admin endpoints (src/admin/http.ts) over real DHCP engines
// running the config the operator rendered. Read back with a GET (as kubectl does) and with `kubectl get`
// (the printer columns). A scope naming no relationship gets RelationshipNotFound; two overlapping scopes of
// one relationship get Overlapping (and the one the validator names, Invalid); an unchanged status is not
// written again (no PATCH is sent, and the resourceVersion stays).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { load, loadAll } from 'js-yaml';
import { systemClock } from '../../src/clock.ts';
import { createAdminApp, listen } from '../../src/admin/http.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { DhcpEngine } from '../../src/dhcp/engine.ts';
import { MessageType } from '../../src/dhcp/wire/message.ts';
import { setLogSink } from '../../src/log.ts';
import { createServerMetrics } from '../../src/metrics/registry.ts';
import { Controller } from '../../src/operator/controller.ts';
import { createKube, type Kube } from '../../src/operator/kube.ts';
import { DEFAULT_RENDER_OPTIONS } from '../../src/operator/render/types.ts';
import { ip, makeRequest } from '../fakes/dhcp-builders.ts';
import { REPO_ROOT, runHelm } from '../fakes/helm.ts';
import { controlPlaneUnavailable, startControlPlane, type ControlPlane } from '../fakes/kube-control-plane.ts';
import { freePort } from '../fakes/ports.ts';
import { sleep, waitFor } from '../fakes/processes.ts';
import { RecordingStore } from '../fakes/recording-store.ts';

type Json = Record<string, any>;
const G = 'dhcp.failover.dev', V = 'v1alpha1', OP_NS = 'dhcp-system', NS = 'dhcp';
const EXAMPLES = join(REPO_ROOT, 'manifests/examples');
const example = (file: string): Json => load(readFileSync(join(EXAMPLES, file), 'utf8')) as Json;
setLogSink(() => {});

const scope = (name: string, rel: string, subnet: string, start: string, end: string): Json => ({
  apiVersion: `${G}/${V}`, kind: 'DhcpScope', metadata: { name, namespace: NS },
  spec: { relationshipRef: { name: rel }, subnet, ranges: [{ start, end }], options: { routers: [start.replace(/\.\d+$/, '.1')] } },
});

describe('DhcpScope status against a real kube-apiserver', { skip: controlPlaneUnavailable, timeout: 180_000 }, () => {
  let cp: ControlPlane;
  let crs: CustomObjectsApi;
  let controller: Controller | undefined;
  const servers: Server[] = [];
  const engines: Record<string, DhcpEngine> = {};
  const ports: Record<string, number> = {};
  /** Every status patch the controller sends, by scope name. */
  const patches: string[] = [];

  const get = async (name: string): Promise<Json> => crs.getNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', name }) as Promise<Json>;
  const cond = (o: Json, type: string): Json | undefined => (o.status?.conditions as Json[] | undefined)?.find((c) => c.type === type);

  before(async () => {
    cp = await startControlPlane();
    const admin = cp.kubeConfig();
    crs = admin.makeApiClient(CustomObjectsApi);
    const crdDir = join(REPO_ROOT, 'charts/dhcp-failover/crds');
    for (const f of ['dhcp.failover.dev_dhcpfailoverrelationships.yaml', 'dhcp.failover.dev_dhcpscopes.yaml']) await cp.kubectl(['apply', '--server-side', '-f', join(crdDir, f)]);
    await cp.waitForCrdsEstablished(['dhcpscopes.dhcp.failover.dev', 'dhcpfailoverrelationships.dhcp.failover.dev']);
    await cp.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: OP_NS } }, example('00-namespace.yaml')]);
    const r = runHelm(['template', 'dhcp-failover', join(REPO_ROOT, 'charts/dhcp-failover'), '--namespace', OP_NS, '--skip-crds']);
    assert.equal(r.status, 0, r.stderr);
    const docs = (loadAll(r.stdout) as Json[]).filter(Boolean);
    await cp.apply(docs.filter((d) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(d.kind)));
    const sa = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec.serviceAccountName as string;
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigForToken(await cp.createServiceAccountToken(OP_NS, sa, 3600)));

    const secret = example('10-shared-secret.yaml');
    const rel = example('20-relationship-loadbalance.yaml');
    // A second relationship whose two scopes overlap: nothing of it is applied; both scopes say why.
    const relO = example('20-relationship-loadbalance.yaml');
    relO.metadata = { name: 'site-o', namespace: NS };
    relO.spec.servers = relO.spec.servers.map((s: Json, i: number) => ({ ...s, name: `o-${i}`, address: `10.20.0.${20 + i}`, nodeName: `node-o-${i}` }));
    await cp.apply([
      secret, rel, relO, example('30-scope-office.yaml'), example('31-scope-branch.yaml'),
      scope('orphan', 'nowhere', '10.50.0.0/24', '10.50.0.10', '10.50.0.20'),
      scope('o-wide', 'site-o', '10.40.0.0/24', '10.40.0.10', '10.40.0.20'),
      scope('o-narrow', 'site-o', '10.40.0.0/25', '10.40.0.30', '10.40.0.40'),
    ]);
    for (const n of ['dhcp-a', 'dhcp-b', 'o-0', 'o-1']) ports[n] = await freePort();
    const base = createKube(kc, 'dhcp-failover-operator', 'op', systemClock);
    const kube: Kube = { ...base, patchScopeStatus: async (ns, name, status) => { patches.push(name); await base.patchScopeStatus(ns, name, status); } };
    controller = new Controller({
      kc, kube, namespaces: [], renderOptions: DEFAULT_RENDER_OPTIONS, clock: systemClock, identity: 'op', retryBaseMs: 50, retryMaxMs: 1000, startupHoldMs: 0,
      serverStatus: { intervalMs: 200, baseUrlFor: (_rel, s) => `http://127.0.0.1:${ports[s.name]}` },
    });
    await controller.start();
  });

  after(async () => {
    await controller?.stop();
    await Promise.all(servers.map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
    await cp?.stop();
  });

  test('a scope whose relationshipRef names nothing: RelationshipNotFound=True, Ready=False, no counts', async () => {
    const o = await waitFor('orphan status', async () => { const x = await get('orphan'); return cond(x, 'RelationshipNotFound')?.status === 'True' ? x : undefined; }, { timeoutMs: 30_000 });
    assert.deepEqual([cond(o, 'Ready')?.status, cond(o, 'Ready')?.reason], ['False', 'RelationshipNotFound']);
    assert.match(cond(o, 'RelationshipNotFound')!.message, /DhcpFailoverRelationship nowhere .*does not exist in namespace dhcp/);
    assert.equal(cond(o, 'Invalid')?.status, 'Unknown');
    assert.equal(o.status.observedGeneration, o.metadata.generation);
    assert.equal(o.status.poolSize, undefined);
    assert.ok((o.status.conditions as Json[]).every((c) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(c.lastTransitionTime) && c.observedGeneration === o.metadata.generation));
  });

  test('two overlapping scopes of one relationship: both Overlapping, the later one (by name) Invalid with the validator\'s words, neither Ready', async () => {
    const narrow = await waitFor('o-narrow Overlapping', async () => { const x = await get('o-narrow'); return cond(x, 'Overlapping')?.status === 'True' ? x : undefined; }, { timeoutMs: 30_000 });
    const wide = await waitFor('o-wide Overlapping', async () => { const x = await get('o-wide'); return cond(x, 'Overlapping')?.status === 'True' ? x : undefined; }, { timeoutMs: 30_000 });
    assert.equal(cond(narrow, 'Overlapping')?.reason, 'SubnetOverlap');
    assert.match(cond(narrow, 'Overlapping')!.message, /overlaps scope o-wide \(10\.40\.0\.0\/24\) of the same relationship site-o/);
    // The server's validator reports the second of the pair in config order (scopes sorted by name).
    assert.deepEqual([cond(wide, 'Invalid')?.status, cond(wide, 'Invalid')?.reason], ['True', 'InvalidScope']);
    assert.match(cond(wide, 'Invalid')!.message, /scope o-wide: spec\.subnet: overlaps/);
    assert.deepEqual([cond(narrow, 'Ready')?.reason, cond(wide, 'Ready')?.reason], ['Overlapping', 'Invalid']);
    assert.equal(cond(narrow, 'Invalid')?.status, 'False');
  });

  test('the servers\' /status counts reach the scopes\' status (GET and kubectl get), one view, the larger', async () => {
    // Nothing answers yet: NotServed.
    await waitFor('branch NotServed', async () => cond(await get('branch'), 'Ready')?.reason === 'NotServed', { timeoutMs: 30_000 });
    const core = cp.kubeConfig().makeApiClient(CoreV1Api);
    const cm = await waitFor('site-a-config', async () => { try { return await core.readNamespacedConfigMap({ name: 'site-a-config', namespace: NS }); } catch { return undefined; } }, { timeoutMs: 30_000 });
    for (const n of ['dhcp-a', 'dhcp-b']) {
      const engine = new DhcpEngine({ config: parseConfigText(cm.data![`${n}.yaml`]!, n), store: new RecordingStore(), interfaceAddresses: () => new Map() });
      engines[n] = engine;
      servers.push(await listen(createAdminApp({
        engine, metrics: createServerMetrics({ defaultMetrics: false }), ready: () => true,
        status: () => ({ server: n, scopes: engine.counts(), failover: { state: 'normal', partner: { state: 'normal' }, updates: { unacked: 0, queued: 0 }, autoPartnerDown: null } }),
      }), '127.0.0.1', ports[n]!));
    }
    // dhcp-b has seen one binding less (an update in flight): the status shows dhcp-a's view.
    for (let i = 0; i < 5; i++) await lease(engines['dhcp-a']!, `02:00:00:00:0a:0${i}`);
    for (let i = 0; i < 4; i++) await lease(engines['dhcp-b']!, `02:00:00:00:0a:0${i}`);
    const b = await waitFor('branch counted', async () => { const x = await get('branch'); return x.status?.leases?.active === 5 && cond(x, 'Ready')?.status === 'True' ? x : undefined; }, { timeoutMs: 30_000 });
    assert.deepEqual([b.status.poolSize, b.status.utilizationPercent, b.status.reportedBy], [141, 3, 'dhcp-a']);
    assert.deepEqual(b.status.leases, { active: 5, free: 136, backup: 0, expired: 0, released: 0, abandoned: 0, reset: 0 });
    assert.equal(cond(b, 'Ready')!.reason, 'Served');
    assert.equal(b.status.observedGeneration, b.metadata.generation);
    const office = await waitFor('office counted', async () => { const x = await get('office'); return x.status?.poolSize !== undefined ? x : undefined; }, { timeoutMs: 30_000 });
    assert.equal(office.status.poolSize, 735);
    // The printer columns: Used% and Ready (and Reason) from the status, Pool and Leased with -o wide.
    const out = (await cp.kubectl(['-n', NS, 'get', 'dscope', '-o', 'wide'])).stdout;
    // Columns by the header's offsets: an empty cell (no counts yet) is blank, not `<none>`.
    const [head, ...lines] = out.trimEnd().split('\n');
    const starts = [...head!.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index! }));
    const header = starts.map((c) => c.name);
    const row = (name: string) => {
      const line = lines.find((l) => l.startsWith(`${name} `)) ?? '';
      return Object.fromEntries(starts.map((c, i) => [c.name, line.slice(c.at, starts[i + 1]?.at ?? line.length).trim()]));
    };
    assert.deepEqual(header, ['NAME', 'SUBNET', 'RELATIONSHIP', 'ACTIVE', 'USED%', 'READY', 'REASON', 'POOL', 'LEASED', 'AGE']);
    assert.deepEqual([row('branch')['USED%'], row('branch')['READY'], row('branch')['REASON'], row('branch')['POOL'], row('branch')['LEASED']], ['3', 'True', 'Served', '141', '5']);
    assert.deepEqual([row('orphan')['USED%'], row('orphan')['READY'], row('orphan')['REASON']], ['', 'False', 'RelationshipNotFound']);
  });

  test('an unchanged status is not written again: no PATCH, resourceVersions stable; a new lease writes that scope only', async () => {
    const names = ['office', 'branch', 'orphan', 'o-wide', 'o-narrow'];
    const rvs = async () => Promise.all(names.map(async (n) => (await get(n)).metadata.resourceVersion as string));
    await sleep(1000); // let the last reports settle
    const sent = patches.length;
    const before = await rvs();
    await sleep(2500); // about twelve poll rounds of both servers
    assert.deepEqual(patches.slice(sent), [], 'no status PATCH while nothing changed');
    assert.deepEqual(await rvs(), before, 'resourceVersions unchanged');
    await lease(engines['dhcp-a']!, '02:00:00:00:0a:09');
    await waitFor('branch at 6', async () => (await get('branch')).status?.leases?.active === 6, { timeoutMs: 30_000 });
    await sleep(600);
    assert.deepEqual(patches.slice(sent), ['branch']);
    const after = await rvs();
    assert.deepEqual(names.filter((_, i) => after[i] !== before[i]), ['branch']);
  });
});

/** DISCOVER + REQUEST relayed by the branch relay (giaddr 10.30.0.1): one active lease in branch. */
async function lease(engine: DhcpEngine, mac: string): Promise<void> {
  const giaddr = ip('10.30.0.1');
  const offer = await engine.handle(makeRequest({ type: MessageType.DISCOVER, mac, giaddr }));
  assert.equal(offer.kind, 'reply');
  if (offer.kind !== 'reply') return;
  const ack = await engine.handle(makeRequest({ type: MessageType.REQUEST, mac, giaddr, serverId: engine.currentConfig.server.serverId, requested: offer.reply.yiaddr }));
  assert.equal(ack.kind === 'reply' && ack.reply.options.get(53)?.[0], MessageType.ACK);
}
