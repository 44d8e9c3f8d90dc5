// The operator process against a real kube-apiserver (test/fakes/kube-control-plane.ts), as a cluster runs it:
// under the chart's ServiceAccount and RBAC with a TokenRequest token (not admin), leader-elected.
// - start and takeover with 1,500 unrelated DhcpScopes (slow lists): no applied ConfigMap ever has fewer
//   scopes than the final one (every version is watched), no SecretMissing; hand-over by SIGTERM and SIGKILL;
// - API server restarts (graceful and killed): the operator stays up (suspended, then resumed), its
//   informers reconnect with backoff, and later changes are reconciled;
// - a namespace without the privileged Pod Security label: the API server's warning reaches the CR;
// - DhcpScope status: the 1,500 scopes naming no relationship get RelationshipNotFound, and are not rewritten.
// No kubelet or controller-manager exists: pods never run, StatefulSets never become ready, nothing is
// garbage-collected. Server addresses are on loopback so the operator's /status polling stays local.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { load, loadAll } from 'js-yaml';
import { scopesByServer } from '../../src/operator/startup-hold.ts';
import { REPO_ROOT, runHelm } from '../fakes/helm.ts';
import { controlPlaneUnavailable, startControlPlane, type ControlPlane } from '../fakes/kube-control-plane.ts';
import { ProcessTracker, sleep, waitFor, type TrackedProcess } from '../fakes/processes.ts';
import { freePort } from '../fakes/ports.ts';

type Json = Record<string, any>;
const G = 'dhcp.failover.dev', V = 'v1alpha1';
const OP_NS = 'dhcp-system', NS = 'dhcp', BULK_NS = 'bulk', BASELINE_NS = 'dhcp-baseline';
const BULK_SCOPES = 1500;
const LEASE_SECONDS = 4;
const EXAMPLES = join(REPO_ROOT, 'manifests/examples');
const example = (file: string): Json => load(readFileSync(join(EXAMPLES, file), 'utf8')) as Json;

/**
 * The site-a example with its servers on loopback (the operator polls <address>:8067/status). A copy under
 * another name gets nodes of its own (`<name>-1`, `<name>-2`): on site-a's nodes it would be NodeInUse.
 */
function siteA(ns = NS, name = 'site-a'): Json[] {
  const rel = example('20-relationship-loadbalance.yaml');
  rel.metadata = { name, namespace: ns };
  rel.spec.servers[0].address = '127.0.0.61';
  rel.spec.servers[1].address = '127.0.0.62';
  if (name !== 'site-a') rel.spec.servers.forEach((s: Json, i: number) => { s.nodeName = `${name}-${i + 1}`; });
  const scopes = ['30-scope-office.yaml', '31-scope-branch.yaml'].map((f) => {
    const s = example(f);
    s.metadata.namespace = ns;
    s.spec.relationshipRef.name = name;
    return s;
  });
  const secret = example('10-shared-secret.yaml');
  secret.metadata.namespace = ns;
  return [secret, rel, ...scopes];
}

/** JSON log lines of a process's log file. */
function logEvents(file: string): Json[] {
  let text = '';
  try { text = readFileSync(file, 'utf8'); } catch { return []; }
  return text.split('\n').flatMap((l) => { try { return [JSON.parse(l) as Json]; } catch { return []; } });
}

/** A stand-in for a server's admin port answering /status as a NORMAL server with nothing unacked. */
async function normalStatusServer(address: string, port: number): Promise<http.Server> {
  const doc = { failover: { state: 'normal', partner: { state: 'normal' }, updates: { unacked: 0, queued: 0 }, autoPartnerDown: null }, scopes: [] };
  const srv = http.createServer((_req, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(doc)); });
  await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(port, address, resolve); });
  return srv;
}


/** Every version of every ConfigMap in `ns` the API server reports, as scope names per server config. */
class ConfigMapRecorder {
  readonly versions: { name: string; rv: string; scopes: Map<string, readonly string[]> }[] = [];
  private abort: AbortController | undefined;
  private stopped = false;
  private readonly kc: KubeConfig;
  private readonly ns: string;
  constructor(kc: KubeConfig, ns: string) { this.kc = kc; this.ns = ns; }
  async start(): Promise<void> {
    const core = this.kc.makeApiClient(CoreV1Api);
    const list = await core.listNamespacedConfigMap({ namespace: this.ns });
    for (const cm of list.items) this.record(cm as Json);
    await this.watchFrom(list.metadata?.resourceVersion ?? '');
  }
  private record(cm: Json): void {
    this.versions.push({ name: cm.metadata.name, rv: cm.metadata.resourceVersion, scopes: scopesByServer(cm as never) });
  }
  private async watchFrom(rv: string): Promise<void> {
    let last = rv;
    this.abort = await new Watch(this.kc).watch(`/api/v1/namespaces/${this.ns}/configmaps`, { resourceVersion: rv, allowWatchBookmarks: true },
      (type, obj: Json) => {
        if (obj?.metadata?.resourceVersion) last = obj.metadata.resourceVersion;
        if (type === 'ADDED' || type === 'MODIFIED') this.record(obj);
      },
      // Reconnect from the last version seen (API server restarts end the stream); bounded by stop().
      () => { if (!this.stopped) setTimeout(() => { if (!this.stopped) void this.watchFrom(last).catch(() => this.retry(last)); }, 200); });
  }
  private retry(last: string): void { if (!this.stopped) setTimeout(() => { void this.watchFrom(last).catch(() => this.retry(last)); }, 500); }
  stop(): void { this.stopped = true; this.abort?.abort(); }
  /** Versions of `name` where some server config lacks a scope `final` has. */
  smallerThan(name: string, final: Map<string, readonly string[]>): string[] {
    const out: string[] = [];
    for (const v of this.versions.filter((x) => x.name === name)) {
      for (const [key, want] of final) {
        const have = new Set(v.scopes.get(key) ?? []);
        const missing = want.filter((s) => !have.has(s));
        if (missing.length > 0) out.push(`rv ${v.rv} ${key} lacks ${missing.join(',')}`);
      }
    }
    return out;
  }
}

describe('operator against a real kube-apiserver', { skip: controlPlaneUnavailable }, () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let crs: CustomObjectsApi;
  let core: CoreV1Api;
  let opKubeconfig: string;
  let leaseName: string;
  let recorder: ConfigMapRecorder;
  const procs = new ProcessTracker();
  // Operators are detached children: a test process that dies without after() must not leave them running.
  process.once('exit', () => procs.killAllSync());
  const dir = mkdtempSync(join(tmpdir(), 'real-api-operator-'));
  let n = 0;

  /** `dhcp-failover operator` as its pod runs it: the chart's env contract, the ServiceAccount's token. */
  async function startOperator(): Promise<{ proc: TrackedProcess; log: string; id: string }> {
    const id = `op-${++n}`;
    const log = join(dir, `${id}.log`);
    const proc = procs.spawn(join(REPO_ROOT, 'node_modules/.bin/node'), ['--disable-warning=ExperimentalWarning', join(REPO_ROOT, 'src/cli/main.ts'), 'operator'], {
      logFile: log,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin', KUBECONFIG: opKubeconfig, POD_NAME: id, POD_NAMESPACE: OP_NS,
        HTTP_PORT: String(await freePort()), LOG_LEVEL: 'info', LEADER_ELECTION_LEASE_NAME: leaseName,
        LEADER_ELECTION_LEASE_DURATION_SECONDS: String(LEASE_SECONDS), LEADER_ELECTION_RENEW_DEADLINE_SECONDS: '3', LEADER_ELECTION_RETRY_PERIOD_SECONDS: '1',
      },
    });
    return { proc, log, id };
  }
  const leaseHolder = async (): Promise<string | undefined> => {
    try {
      const { CoordinationV1Api } = await import('@kubernetes/client-node');
      return (await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: leaseName, namespace: OP_NS })).spec?.holderIdentity ?? undefined;
    } catch { return undefined; }
  };
  const controllerStarted = (log: string) => logEvents(log).some((e) => e.event === 'operator.controller.started');
  const configMap = async (ns: string, name: string): Promise<Json | undefined> => {
    try { return await core.readNamespacedConfigMap({ name, namespace: ns }) as Json; } catch { return undefined; }
  };
  const relationship = async (ns: string, name: string): Promise<Json> => crs.getNamespacedCustomObject({ group: G, version: V, namespace: ns, plural: 'dhcpfailoverrelationships', name }) as Promise<Json>;
  const events = async (ns: string): Promise<Json[]> => (await core.listNamespacedEvent({ namespace: ns })).items as Json[];

  before(async () => {
    cp = await startControlPlane();
    kc = cp.kubeConfig();
    crs = kc.makeApiClient(CustomObjectsApi);
    core = kc.makeApiClient(CoreV1Api);
    const crdDir = join(REPO_ROOT, 'charts/dhcp-failover/crds'); // what helm installs (a copy of crds/)
    // kubectl, not the typed client: client-node's serializer drops x-kubernetes-* keys of a plain CRD object.
    for (const f of readdirSync(crdDir).filter((x) => x.endsWith('.yaml'))) await cp.kubectl(['apply', '--server-side', '-f', join(crdDir, f)]);
    await cp.waitForCrdsEstablished(['dhcpscopes.dhcp.failover.dev', 'dhcpfailoverrelationships.dhcp.failover.dev']);
    await cp.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OP_NS } },
      example('00-namespace.yaml'),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BULK_NS } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BASELINE_NS, labels: { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/warn': 'baseline' } } },
    ]);
    // The chart's RBAC, as helm would install it (the CRDs are already there).
    const r = runHelm(['template', 'dhcp-failover', join(REPO_ROOT, 'charts/dhcp-failover'), '--namespace', OP_NS, '--skip-crds']);
    assert.equal(r.status, 0, r.stderr);
    const docs = (loadAll(r.stdout) as Json[]).filter(Boolean);
    const rbac = docs.filter((d) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(d.kind));
    assert.ok(rbac.some((d) => d.kind === 'ClusterRole'), 'the chart renders a ClusterRole when every namespace is watched');
    await cp.apply(rbac);
    const deployment = docs.find((d) => d.kind === 'Deployment')!;
    const env = Object.fromEntries((deployment.spec.template.spec.containers[0].env as Json[]).map((e) => [e.name, e.value]));
    leaseName = env['LEADER_ELECTION_LEASE_NAME'];
    const sa = deployment.spec.template.spec.serviceAccountName as string;
    opKubeconfig = cp.kubeconfigForToken(await cp.createServiceAccountToken(OP_NS, sa, 3600));
    // 1,500 unrelated scopes in another namespace: the cluster-wide scope list is slow, as on a big cluster.
    const started = Date.now();
    for (let i = 0; i < BULK_SCOPES; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, BULK_SCOPES - i) }, (_, j) => {
        const k = i + j, a = 100 + Math.floor(k / 250), b = k % 250;
        return crs.createNamespacedCustomObject({
          group: G, version: V, namespace: BULK_NS, plural: 'dhcpscopes',
          body: { apiVersion: `${G}/${V}`, kind: 'DhcpScope', metadata: { name: `bulk-${k}` }, spec: { relationshipRef: { name: 'elsewhere' }, subnet: `10.${a}.${b}.0/24`, ranges: [{ start: `10.${a}.${b}.10`, end: `10.${a}.${b}.200` }], options: { routers: [`10.${a}.${b}.1`] } } },
        });
      }));
    }
    process.stderr.write(`real-api-operator: ${BULK_SCOPES} DhcpScopes created in ${Date.now() - started} ms\n`);
    await cp.apply(siteA());
    recorder = new ConfigMapRecorder(kc, NS);
    await recorder.start();
  });

  after(async () => {
    recorder?.stop();
    await procs.stopAll(5_000);
    for (const p of procs.all) if (p.logFile && p.exit?.code !== 0 && p.exit?.signal !== 'SIGKILL') process.stderr.write(`--- ${p.logFile}\n${readFileSync(p.logFile, 'utf8').split('\n').slice(-15).join('\n')}\n`);
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  let final: Map<string, readonly string[]>;
  let restartHashes: (string | undefined)[];
  const apps = async () => kc.makeApiClient((await import('@kubernetes/client-node')).AppsV1Api);
  const statefulSet = async (name: string): Promise<Json | undefined> => { try { return await (await apps()).readNamespacedStatefulSet({ name, namespace: NS }) as Json; } catch { return undefined; } };
  const restartHashesOf = async (names: string[]) => Promise.all(names.map(async (x) => (await statefulSet(x))?.spec?.template?.metadata?.annotations?.['dhcp.failover.dev/restart-hash'] as string | undefined));
  let leader: { proc: TrackedProcess; log: string; id: string };

  test('under the chart ServiceAccount (TokenRequest token, not admin) it leads, applies site-a with both scopes and reports on the CR', async () => {
    leader = await startOperator();
    await waitFor('the operator leads', async () => (await leaseHolder()) === leader.id, { timeoutMs: 30_000 });
    const cm = await waitFor('site-a-config with both scopes', async () => {
      const c = await configMap(NS, 'site-a-config');
      const s = c && scopesByServer(c as never);
      return s && [...s.values()].every((x) => x.length === 2) && s.size === 2 ? c : undefined;
    }, { timeoutMs: 30_000 });
    final = scopesByServer(cm as never);
    for (const sts of ['site-a-dhcp-a', 'site-a-dhcp-b']) {
      await waitFor(`StatefulSet ${sts}`, async () => { try { return await kc.makeApiClient((await import('@kubernetes/client-node')).AppsV1Api).readNamespacedStatefulSet({ name: sts, namespace: NS }); } catch { return undefined; } }, { timeoutMs: 10_000 });
    }
    restartHashes = await restartHashesOf(['site-a-dhcp-a', 'site-a-dhcp-b']); // after both StatefulSets exist
    const rel = await waitFor('status on the CR', async () => { const r = await relationship(NS, 'site-a'); return r.status?.scopeCount === 2 ? r : undefined; }, { timeoutMs: 20_000 });
    const ready = rel.status.conditions.find((c: Json) => c.type === 'Ready');
    assert.equal(ready.status, 'False', 'no kubelet: the pods never run');
    assert.equal(ready.reason, 'ServersNotReady');
    assert.equal(rel.status.conditions.find((c: Json) => c.type === 'Degraded').status, 'False');
    assert.ok(!(await events(NS)).some((e) => e.reason === 'SecretMissing'), 'no spurious SecretMissing');
    assert.ok(!logEvents(leader.log).some((e) => e.level === 'error'), `no errors: ${JSON.stringify(logEvents(leader.log).filter((e) => e.level === 'error'))}`);
  });

  test('hand-over by SIGTERM and by SIGKILL, each with 1,500 unrelated scopes: no ConfigMap version ever has fewer scopes', async () => {
    // SIGTERM: the leader releases the Lease; the standby takes over at once.
    const standby = await startOperator();
    await sleep(1500);
    assert.equal(await leaseHolder(), leader.id, 'the standby waits');
    const t0 = Date.now();
    const exit = await leader.proc.stop({ signal: 'SIGTERM', graceMs: 10_000 });
    assert.equal(exit.code, 0, 'a clean stop exits 0');
    assert.ok(!logEvents(leader.log).some((e) => e.event === 'operator.leader.lost'), 'a clean stop is not reported as a lost leadership');
    assert.ok(logEvents(leader.log).some((e) => e.event === 'operator.leader.released'));
    await waitFor('the standby leads', async () => (await leaseHolder()) === standby.id, { timeoutMs: 15_000 });
    await waitFor('its controller synced', () => controllerStarted(standby.log), { timeoutMs: 30_000 });
    process.stderr.write(`real-api-operator: SIGTERM hand-over to a synced controller in ${Date.now() - t0} ms\n`);
    await sleep(3000); // its first reconciles of every relationship have run
    // SIGKILL: the Lease is never released; the next standby takes over after the lease duration.
    const next = await startOperator();
    await sleep(1500);
    const t1 = Date.now();
    await standby.proc.stop({ signal: 'SIGKILL' });
    await waitFor('the next standby leads', async () => (await leaseHolder()) === next.id, { timeoutMs: 30_000 });
    const took = Date.now() - t1;
    assert.ok(took >= (LEASE_SECONDS - 1) * 1000, `not before the lease expired (${took} ms)`);
    await waitFor('its controller synced', () => controllerStarted(next.log), { timeoutMs: 30_000 });
    process.stderr.write(`real-api-operator: SIGKILL hand-over to a synced controller in ${Date.now() - t1} ms\n`);
    await sleep(3000);
    leader = next;
    assert.deepEqual(recorder.smallerThan('site-a-config', final), [], 'no applied version lost a scope');
    assert.ok(recorder.versions.filter((v) => v.name === 'site-a-config').length >= 1);
    assert.ok(!(await events(NS)).some((e) => e.reason === 'SecretMissing'), 'no spurious SecretMissing on takeover');
  });

  test('API server restarts (graceful, then killed): the operator stays up, is suspended and resumes, reconnects with backoff, reconciles later changes', async () => {
    for (const graceful of [true, false]) {
      const before = logEvents(leader.log).length;
      const t0 = Date.now();
      await cp.restartApiServer({ graceful });
      const downMs = Date.now() - t0;
      // A change made after the restart is reconciled: the watches are back (from their resourceVersion or relisted).
      const lease = 1000 + (graceful ? 1 : 2);
      const branch = await crs.getNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', name: 'branch' }) as Json;
      branch.spec.leaseSeconds = lease;
      await crs.replaceNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', name: 'branch', body: branch });
      await waitFor(`branch leaseSeconds ${lease} in the config`, async () => {
        const c = await configMap(NS, 'site-a-config');
        const cfg = c?.data?.['dhcp-a.yaml'] ? load(c.data['dhcp-a.yaml']) as Json : undefined;
        return cfg?.scopes?.find((s: Json) => s.name === 'branch')?.leaseSeconds === lease;
      }, { timeoutMs: 60_000, intervalMs: 250 });
      assert.ok(leader.proc.running, 'the operator did not exit');
      const during = logEvents(leader.log).slice(before);
      const restarts = during.filter((e) => e.event === 'operator.informer.restart').length;
      process.stderr.write(`real-api-operator: API server ${graceful ? 'graceful' : 'SIGKILL'} restart took ${downMs} ms; ${restarts} informer restarts logged; suspended: ${during.some((e) => e.event === 'operator.leader.suspended')}\n`);
      // Six informers with a doubling backoff from 100 ms: a handful each, not 10 per second each.
      assert.ok(restarts <= 6 * Math.ceil(Math.log2(Math.max(2, (Date.now() - t0) / 100)) + 2), `informer restarts bounded: ${restarts} in ${Date.now() - t0} ms`);
      assert.ok(!during.some((e) => e.event === 'operator.leader.lost'), 'leadership not lost');
      // The outage is logged as episodes (api-health.ts): an error line when it starts, not one per retry, and
      // each ends with operator.api.recovered once every list, watch and Lease call succeeds again.
      await waitFor('operator.api.recovered', () => {
        const d = logEvents(leader.log).slice(before);
        const n = d.filter((e) => e.event === 'operator.api.error').length;
        return n > 0 && d.filter((e) => e.event === 'operator.api.recovered').length === n;
      }, { timeoutMs: 30_000 });
      const episodes = logEvents(leader.log).slice(before).filter((e) => e.event.startsWith('operator.api.'));
      const apiErrors = episodes.filter((e) => e.event === 'operator.api.error');
      process.stderr.write(`real-api-operator: API server ${graceful ? 'graceful' : 'SIGKILL'} restart: ${episodes.map((e) => `${e.event.slice(13)}${e.reason ? `(${e.operation} ${e.reason}${e.code ? ` ${e.code}` : ''})` : ''}${e.durationMs !== undefined ? `(${e.durationMs} ms)` : ''}`).join(', ')}; ${during.filter((e) => e.event === 'operator.leader.error').length} lease error lines above debug\n`);
      assert.ok(apiErrors.every((e) => e.level === 'error' && e.server === cp.server), JSON.stringify(apiErrors));
      // Measured: one episode per restart (its 403 window, RBAC not loaded yet, is a reason change within it),
      // against 0–18 informer restarts and a Lease retry every second. Two would be a recovery mid-restart.
      assert.ok(apiErrors.length >= 1 && apiErrors.length <= 2, `error lines for one restart: ${apiErrors.length}`);
    }
    assert.deepEqual(recorder.smallerThan('site-a-config', final), [], 'no applied version lost a scope');
  });

  test('a namespace without the privileged Pod Security label: the API server\'s warning reaches the CR; relabelled, it clears', async () => {
    await cp.apply(siteA(BASELINE_NS, 'site-p'));
    const rel = await waitFor('a warning on the CR', async () => { const r = await relationship(BASELINE_NS, 'site-p'); return (r.status?.warnings?.length ?? 0) > 0 ? r : undefined; }, { timeoutMs: 30_000 });
    assert.match(rel.status.warnings.join('\n'), /would violate PodSecurity "baseline:latest".*host/);
    const degraded = rel.status.conditions.find((c: Json) => c.type === 'Degraded');
    assert.equal(degraded.status, 'True');
    assert.equal(degraded.reason, 'ApiWarning');
    assert.equal(rel.status.conditions.find((c: Json) => c.type === 'Ready').reason, 'ApiWarning');
    assert.ok((await events(BASELINE_NS)).some((e) => e.reason === 'ApiWarning' && /PodSecurity/.test(e.message)), 'a Warning Event');
    // The admin fixes the namespace; the next reconcile (any change; here an annotation) finds no warning.
    await cp.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: BASELINE_NS, labels: { 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/warn': 'privileged' } } });
    await crs.patchNamespacedCustomObject({ group: G, version: V, namespace: BASELINE_NS, plural: 'dhcpfailoverrelationships', name: 'site-p', body: { metadata: { annotations: { touched: '1' } } } },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', (await import('@kubernetes/client-node')).PatchStrategy.MergePatch));
    const cleared = await waitFor('the warning cleared', async () => { const r = await relationship(BASELINE_NS, 'site-p'); return r.status?.warnings === undefined && r.status?.conditions?.find((c: Json) => c.type === 'Degraded')?.status === 'False' ? r : undefined; }, { timeoutMs: 30_000 });
    assert.equal(cleared.status.conditions.find((c: Json) => c.type === 'Ready').reason, 'ServersNotReady');
  });

  test('the controller scenarios on the real thing: scope changes never restart pods, Ready from StatefulSet status and the servers\' NORMAL, missing Secret → Degraded and nothing applied, a renamed server is pruned', async () => {
    // Test 3 changed the branch scope's lease time twice: a reload, not a restart.
    assert.deepEqual(await restartHashesOf(['site-a-dhcp-a', 'site-a-dhcp-b']), restartHashes);
    // What the StatefulSet controller would report once the pods run: both ready. Nothing answers their
    // /status (<address>:8067): ready pods that cannot be read are Degraded ServerUnreachable, not Ready.
    for (const name of ['site-a-dhcp-a', 'site-a-dhcp-b']) {
      const sts = (await statefulSet(name))!;
      sts.status = { replicas: 1, readyReplicas: 1, availableReplicas: 1, currentReplicas: 1, updatedReplicas: 1, observedGeneration: sts.metadata.generation };
      await (await apps()).replaceNamespacedStatefulSetStatus({ name, namespace: NS, body: sts as never });
    }
    const condition = async (type: string): Promise<Json | undefined> => (await relationship(NS, 'site-a')).status?.conditions?.find((c: Json) => c.type === type);
    // The two polls land apart: wait until the message names both servers.
    const both = /dhcp-a: \/status unreachable .*dhcp-b: \/status unreachable/;
    const unreachable = await waitFor('Degraded ServerUnreachable for both', async () => { const d = await condition('Degraded'); return d?.reason === 'ServerUnreachable' && both.test(String(d.message)) ? d : undefined; }, { timeoutMs: 30_000 });
    assert.equal(unreachable.status, 'True');
    assert.equal((await condition('Ready'))?.reason, 'ServerUnreachable');
    // Both servers answer NORMAL (the operator polls every 15 s): Ready=True, Degraded cleared.
    const fakes = await Promise.all(['127.0.0.61', '127.0.0.62'].map((a) => normalStatusServer(a, 8067)));
    try {
      await waitFor('Ready=True', async () => (await condition('Ready'))?.status === 'True', { timeoutMs: 45_000 });
      assert.equal((await condition('Degraded'))?.status, 'False');
      assert.match(String((await relationship(NS, 'site-a')).status?.lastSuccessfulSync), /^\d{4}-/);
    } finally {
      await Promise.all(fakes.map((f) => new Promise((r) => { f.close(r); f.closeAllConnections(); })));
    }
    // A relationship whose Secret does not exist: Degraded with the reason, nothing applied.
    const [, orphan] = siteA(NS, 'site-x');
    orphan!.spec.sharedSecretRef = { name: 'no-such-secret', key: 'secret' };
    orphan!.spec.servers[0].address = '127.0.0.63'; orphan!.spec.servers[1].address = '127.0.0.64';
    await cp.apply(orphan!);
    const degraded = await waitFor('site-x Degraded', async () => (await relationship(NS, 'site-x')).status?.conditions?.find((c: Json) => c.type === 'Degraded' && c.status === 'True'), { timeoutMs: 30_000 });
    assert.equal(degraded.reason, 'SecretMissing');
    assert.equal(await configMap(NS, 'site-x-config'), undefined, 'nothing applied');
    assert.ok((await events(NS)).some((e) => e.reason === 'SecretMissing' && e.involvedObject?.name === 'site-x'), 'a Warning Event');
    // A renamed server: its new StatefulSet appears and the old one is deleted (not left to a garbage collector).
    const rel = await relationship(NS, 'site-a');
    rel.spec.servers[1].name = 'dhcp-c';
    await crs.replaceNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpfailoverrelationships', name: 'site-a', body: rel });
    await waitFor('site-a-dhcp-c created, site-a-dhcp-b pruned', async () => (await statefulSet('site-a-dhcp-c')) !== undefined && (await statefulSet('site-a-dhcp-b')) === undefined, { timeoutMs: 30_000 });
    assert.deepEqual(recorder.smallerThan('site-a-config', new Map([['dhcp-a.yaml', final.get('dhcp-a.yaml')!]])), [], 'no applied version lost a scope');
  });

  test('DhcpScope status from the process: the 1,500 scopes naming no relationship say RelationshipNotFound, written once (not again after the takeovers)', async () => {
    const bulk = async () => (await crs.listNamespacedCustomObject({ group: G, version: V, namespace: BULK_NS, plural: 'dhcpscopes' }) as Json).items as Json[];
    const notFound = (o: Json) => o.status?.conditions?.find((c: Json) => c.type === 'RelationshipNotFound')?.status === 'True';
    const items = await waitFor('every bulk scope RelationshipNotFound', async () => { const l = await bulk(); return l.length === BULK_SCOPES && l.every(notFound) ? l : undefined; }, { timeoutMs: 60_000, intervalMs: 1000 });
    assert.ok(items.every((o) => o.status.conditions.find((c: Json) => c.type === 'Ready')?.reason === 'RelationshipNotFound'));
    const rvs = new Map(items.map((o) => [o.metadata.name, o.metadata.resourceVersion]));
    await sleep(3000);
    const changed = (await bulk()).filter((o) => rvs.get(o.metadata.name) !== o.metadata.resourceVersion).map((o) => o.metadata.name);
    assert.deepEqual(changed, [], 'an unchanged status is not rewritten');
    // The site-a scopes: found, valid, and (nothing answers their servers' /status) not served.
    const office = await crs.getNamespacedCustomObject({ group: G, version: V, namespace: NS, plural: 'dhcpscopes', name: 'office' }) as Json;
    assert.deepEqual(['RelationshipNotFound', 'Invalid'].map((t) => office.status?.conditions?.find((c: Json) => c.type === t)?.status), ['False', 'False']);
  });
});
