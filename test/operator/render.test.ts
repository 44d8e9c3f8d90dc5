// Renderers: golden YAML for the example manifests, plus the properties that matter for a DHCP pair
// (pure, nothing partial, placement, capabilities, ports, validation reasons).
// Regenerate the goldens with UPDATE_GOLDEN=1 after an intended change, and review the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { validateConfig } from '../../src/config/validate.ts';
import { objectsToYaml, renderDocuments, runRender } from '../../src/operator/render-command.ts';
import { renderRelationship } from '../../src/operator/render/relationship.ts';
import { DEFAULT_RENDER_OPTIONS, type DhcpFailoverRelationship, type DhcpScope, type KubeObject } from '../../src/operator/render/types.ts';

const ROOT = join(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'manifests/examples');
const GOLDEN = join(ROOT, 'test/fixtures/operator');
const exampleFiles = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(EXAMPLES, f));
const exampleDocs = exampleFiles.flatMap((f) => loadAll(readFileSync(f, 'utf8')));
type Json = Record<string, any>;

function example<T>(kind: string, name: string): T {
  return structuredClone(exampleDocs.find((d: any) => d?.kind === kind && d?.metadata?.name === name)) as T;
}
const rel = (name: string): DhcpFailoverRelationship => example('DhcpFailoverRelationship', name);
const allScopes = (): DhcpScope[] => exampleDocs.filter((d: any) => d?.kind === 'DhcpScope').map((d) => structuredClone(d) as DhcpScope);
const ok = { exists: true, hasKey: true };

function render(r: DhcpFailoverRelationship, scopes = allScopes(), secret: { exists: boolean; hasKey: boolean } | undefined = ok) {
  return renderRelationship(secret === undefined ? { relationship: r, scopes } : { relationship: r, scopes, secret }, DEFAULT_RENDER_OPTIONS);
}
function objects(r: DhcpFailoverRelationship, scopes = allScopes()): Json[] {
  const res = render(r, scopes);
  assert.ok(res.ok, `render failed: ${JSON.stringify(!res.ok && res.problems)}`);
  return res.objects as unknown as Json[];
}
const byKind = (objs: Json[], kind: string): Json[] => objs.filter((o) => o.kind === kind);

test('golden YAML: each example relationship renders to its committed fixture', () => {
  const { yaml, problems } = renderDocuments(exampleDocs, DEFAULT_RENDER_OPTIONS);
  assert.deepEqual(problems, []);
  const docs = loadAll(yaml) as Json[];
  const names = [...new Set(docs.map((d) => d.metadata.labels['dhcp.failover.dev/relationship'] as string))];
  assert.deepEqual(names, ['site-a', 'site-b', 'site-c']);
  for (const name of names) {
    const text = docs.filter((d) => d.metadata.labels['dhcp.failover.dev/relationship'] === name)
      .map((d) => `---\n${dumpOne(d)}`).join('');
    const file = join(GOLDEN, `${name}.yaml`);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
    assert.equal(text, readFileSync(file, 'utf8'), `${file} differs (UPDATE_GOLDEN=1 to regenerate, then review)`);
  }
});

function dumpOne(d: Json): string { return objectsToYaml([d as KubeObject]).replace(/^---\n/, ''); }

test('pure: the same input gives identical objects and hash; scope order does not matter', () => {
  const a = render(rel('site-a'));
  const b = render(rel('site-a'), allScopes().reverse());
  assert.ok(a.ok && b.ok);
  assert.equal(a.inputHash, b.inputHash);
  assert.deepEqual(a.objects, b.objects);
  const changed = allScopes();
  changed.find((s) => s.metadata.name === 'branch')!.spec.leaseSeconds = 7200;
  const c = render(rel('site-a'), changed);
  assert.ok(c.ok);
  assert.notEqual(c.inputHash, a.inputHash, 'a scope change changes the input hash');
  // A scope change is reloaded by the server: it must not restart the pods.
  const restart = (objs: readonly KubeObject[]) => byKind(objs as unknown as Json[], 'StatefulSet').map((s) => s.spec.template.metadata.annotations['dhcp.failover.dev/restart-hash']);
  assert.deepEqual(restart(c.objects), restart(a.objects));
  const d = rel('site-a'); d.spec.port = 6470;
  const dr = render(d);
  assert.ok(dr.ok);
  assert.notDeepEqual(restart(dr.objects), restart(a.objects), 'a failover port change restarts the pods');
  // What the servers apply live (failover/reconfigure.ts) does not restart them: MCLT, split, switchover.
  const template = (objs: readonly KubeObject[]) => byKind(objs as unknown as Json[], 'StatefulSet').map((s) => JSON.stringify(s.spec.template));
  const live = rel('site-a'); live.spec.mcltSeconds = 1800; live.spec.loadBalancePercent = 70; live.spec.stateSwitchoverSeconds = 600;
  const lr = render(live);
  assert.ok(lr.ok);
  assert.notEqual(lr.inputHash, a.inputHash, 'the ConfigMap changes');
  assert.deepEqual(template(lr.objects), template(a.objects), 'MCLT, split and switchover reach the servers without a pod restart');
  // A role change is identity: hot standby with the other server active restarts both.
  const roles = rel('site-a'); roles.spec.mode = 'hotStandby'; (roles.spec as Json).activeServer = roles.spec.servers[1]!.name; delete (roles.spec as Json).loadBalancePercent;
  const rr = render(roles);
  assert.ok(rr.ok, JSON.stringify(!rr.ok && rr.problems));
  assert.notDeepEqual(restart(rr.objects), restart(a.objects), 'a role change restarts the pods');
});

test('every rendered server config passes the server validator (including the failover section)', () => {
  for (const name of ['site-a', 'site-b', 'site-c']) {
    for (const cm of byKind(objects(rel(name)), 'ConfigMap')) {
      for (const [key, text] of Object.entries(cm.data as Record<string, string>)) {
        const config = validateConfig(load(text), key);
        assert.equal(config.relationships.length, 1, `${name}/${key} has a failover section`);
        assert.equal(config.server.store.type, 'redis');
      }
    }
  }
});

test('server pods carry the operator\'s server pull secrets (SERVER_IMAGE_PULL_SECRETS), none by default', () => {
  const podsOf = (opts: typeof DEFAULT_RENDER_OPTIONS) => {
    const res = renderRelationship({ relationship: rel('site-a'), scopes: allScopes(), secret: ok }, opts);
    assert.ok(res.ok);
    return byKind(res.objects as unknown as Json[], 'StatefulSet').map((s) => s.spec.template.spec);
  };
  for (const pod of podsOf(DEFAULT_RENDER_OPTIONS)) assert.equal(pod.imagePullSecrets, undefined);
  for (const pod of podsOf({ ...DEFAULT_RENDER_OPTIONS, imagePullSecrets: ['regcred', 'mirror'] })) assert.deepEqual(pod.imagePullSecrets, [{ name: 'regcred' }, { name: 'mirror' }]);
});

test('site-a: two pinned hostNetwork servers, anti-affinity, ports, capabilities, probes, PDB', () => {
  const objs = objects(rel('site-a'));
  assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`), ['ConfigMap/site-a-config', 'StatefulSet/site-a-dhcp-a', 'StatefulSet/site-a-dhcp-b', 'PodDisruptionBudget/site-a-servers']);
  for (const [i, sts] of byKind(objs, 'StatefulSet').entries()) {
    const pod = sts.spec.template.spec;
    assert.equal(sts.spec.replicas, 1);
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet');
    assert.deepEqual(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values, [i === 0 ? 'node-1' : 'node-2']);
    assert.equal(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels['dhcp.failover.dev/server'], i === 0 ? 'dhcp-b' : 'dhcp-a');
    const server = pod.containers.find((c: Json) => c.name === 'server');
    assert.deepEqual(server.securityContext.capabilities, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
    assert.deepEqual(server.ports.map((p: Json) => `${p.name}:${p.hostPort}/${p.protocol}`), ['dhcp:67/UDP', 'failover:647/TCP', 'admin:8067/TCP']);
    assert.equal(server.readinessProbe.httpGet.port, 'admin');
    assert.equal(server.livenessProbe.httpGet.port, 'admin');
    const labels = sts.spec.template.metadata.labels;
    assert.equal(labels['app.kubernetes.io/part-of'], 'dhcp-failover');
    assert.equal(labels['app.kubernetes.io/component'], 'dhcp-server');
    const redis = pod.containers.find((c: Json) => c.name === 'redis');
    assert.ok(redis.args.join(' ').includes('--appendonly yes --appendfsync always'));
    assert.ok(redis.args.includes('--unixsocket') && redis.args[redis.args.indexOf('--port') + 1] === '0', 'redis only on the unix socket');
    // No password: the pod-private socket is the access control, so a rotated Secret cannot lock the server out.
    assert.equal(redis.env, undefined);
    assert.ok(!redis.args.includes('--requirepass'));
    assert.deepEqual(redis.command, ['redis-server']);
    assert.ok(redis.args[redis.args.indexOf('--unixsocketperm') + 1] === '770');
    assert.equal(sts.spec.volumeClaimTemplates[0].spec.storageClassName, 'local-path');
  }
  const pdb = byKind(objs, 'PodDisruptionBudget')[0]!;
  assert.equal(pdb.spec.maxUnavailable, 1);
  assert.deepEqual(pdb.spec.selector.matchLabels, { 'dhcp.failover.dev/relationship': 'site-a', 'app.kubernetes.io/component': 'dhcp-server' });
});

test('owner references and the input hash annotation on every object when the relationship has a uid', () => {
  const r = rel('site-a'); r.metadata.uid = '3f1c2d5e-0000-4000-8000-000000000001';
  const res = render(r);
  assert.ok(res.ok);
  for (const o of res.objects) {
    assert.deepEqual(o.metadata.ownerReferences, [{ apiVersion: 'dhcp.failover.dev/v1alpha1', kind: 'DhcpFailoverRelationship', name: 'site-a', uid: r.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(o.metadata.annotations?.['dhcp.failover.dev/input-hash'], res.inputHash);
  }
  assert.equal(objects(rel('site-a'))[0]!.metadata.ownerReferences, undefined, 'offline input without a uid: no owner references');
});

test('hot standby: the active server is the failover primary, even when listed second', () => {
  const r = rel('site-b');
  r.spec.activeServer = 'standby';
  const cm = byKind(objects(r), 'ConfigMap')[0]!;
  const roles = Object.fromEntries(Object.entries(cm.data as Record<string, string>).map(([k, v]) => [k, (load(v) as Json).failover.role]));
  assert.deepEqual(roles, { 'primary.yaml': 'secondary', 'standby.yaml': 'primary' });
  const sts = byKind(objects(rel('site-b')), 'StatefulSet')[0]!;
  assert.deepEqual(sts.spec.template.spec.nodeSelector, { 'dhcp.failover.dev/site-b': 'primary' });
  assert.equal(sts.spec.template.spec.affinity.nodeAffinity, undefined);
});

test('external partner (ms): one StatefulSet, no anti-affinity, no PDB; config points at the Windows partner', () => {
  const objs = objects(rel('site-c'));
  assert.deepEqual(objs.map((o) => o.kind), ['ConfigMap', 'StatefulSet']);
  assert.equal(objs[1]!.spec.template.spec.affinity.podAntiAffinity, undefined);
  const cfg = load(Object.values(objs[0]!.data as Record<string, string>)[0]!) as Json;
  assert.deepEqual(cfg.failover.partner, { address: '172.16.0.10', port: 647 });
  assert.equal(cfg.failover.partnerDialect, 'ms');
  assert.deepEqual(cfg.scopes, [], 'no DhcpScope refers to site-c');
});

const invalidCases: { name: string; mutate: (r: DhcpFailoverRelationship, scopes: DhcpScope[]) => { exists: boolean; hasKey: boolean } | undefined; reason: string; message: RegExp }[] = [
  { name: 'missing Secret', mutate: () => ({ exists: false, hasKey: false }), reason: 'SecretMissing', message: /dhcp-failover-secret.*does not exist/ },
  { name: 'Secret without the key', mutate: () => ({ exists: true, hasKey: false }), reason: 'SecretMissing', message: /no key "secret"/ },
  {
    name: 'unknown option in a scope',
    mutate: (_r, s) => { s.find((x) => x.metadata.name === 'branch')!.spec.options = { 'no-such-option': 1 }; return ok; },
    reason: 'InvalidScope', message: /^scope branch: spec\.options/,
  },
  {
    name: 'overlapping scopes of the same relationship',
    mutate: (_r, s) => { s.find((x) => x.metadata.name === 'branch')!.spec.subnet = '10.20.0.0/24'; s.find((x) => x.metadata.name === 'branch')!.spec.ranges = []; return ok; },
    reason: 'InvalidScope', message: /overlaps/,
  },
  {
    name: 'subnet already claimed by an older scope of another relationship',
    mutate: (_r, s) => {
      s.push({ apiVersion: 'dhcp.failover.dev/v1alpha1', kind: 'DhcpScope', metadata: { name: 'aaa-old', namespace: 'dhcp' }, spec: { relationshipRef: { name: 'site-b' }, subnet: '10.30.0.0/25', ranges: [] } });
      return ok;
    },
    reason: 'ScopeConflict', message: /scope branch .* overlaps scope aaa-old .* site-b/,
  },
];

for (const c of invalidCases) {
  test(`invalid input → no objects at all, problem ${c.reason}: ${c.name}`, () => {
    const r = rel('site-a');
    const scopes = allScopes();
    const secret = c.mutate(r, scopes);
    const res = render(r, scopes, secret);
    assert.equal(res.ok, false);
    assert.ok(!res.ok && res.problems.some((p) => p.reason === c.reason && c.message.test(p.message)), JSON.stringify(!res.ok && res.problems));
    assert.ok(!('objects' in res));
  });
}

test('the newer of two conflicting scopes loses; the older relationship still renders', () => {
  const scopes = allScopes();
  scopes.push({ apiVersion: 'dhcp.failover.dev/v1alpha1', kind: 'DhcpScope', metadata: { name: 'zzz-new', namespace: 'dhcp', creationTimestamp: '2030-01-01T00:00:00Z' }, spec: { relationshipRef: { name: 'site-b' }, subnet: '10.30.0.0/25', ranges: [] } });
  for (const s of scopes) s.metadata.creationTimestamp ??= '2025-01-01T00:00:00Z';
  assert.equal(render(rel('site-a'), scopes).ok, true);
  const b = render(rel('site-b'), scopes);
  assert.ok(!b.ok && b.problems.every((p) => p.reason === 'ScopeConflict'));
});

test('render CLI: prints the objects for the files, exit 0; a Secret in the files lacking the key → exit 1', async () => {
  let out = '', err = '';
  const code = await runRender({ files: exampleFiles, out: (t) => { out += t; }, err: (t) => { err += t; } });
  assert.equal(code, 0, err);
  assert.deepEqual((loadAll(out) as Json[]).map((o) => o.kind).filter((k) => k === 'StatefulSet').length, 5);
  const dir = mkdtempSync(join(tmpdir(), 'render-')); const bad = join(dir, 'secret.yaml');
  writeFileSync(bad, readFileSync(join(EXAMPLES, '10-shared-secret.yaml'), 'utf8').replace('  secret:', '  other:'));
  try {
    const r = spawnSync(join(ROOT, 'node_modules/.bin/node'), [join(ROOT, 'src/cli/main.ts'), 'render', '-f', bad, '-f', join(EXAMPLES, '20-relationship-loadbalance.yaml')], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /dhcp\/site-a: SecretMissing: Secret dhcp-failover-secret has no key "secret"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
