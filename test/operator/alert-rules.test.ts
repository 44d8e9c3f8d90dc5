// The chart's alert rules checked with the real promtool (Debian package `prometheus`): the
// PrometheusRule is rendered with the real helm, its spec.groups written to a plain Prometheus
// rules file, `promtool check rules` validates it and `promtool test rules` runs the unit tests in
// test/fixtures/alerts/rules-test.yaml, which fire every alert from sample series (and show the
// main ones stay quiet on a healthy pair). Every metric an alert reads must be one the code
// exports (src/metrics/registry.ts, src/operator/metrics.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, load, loadAll } from 'js-yaml';
import { kubeTools, REPO_ROOT, runHelm } from '../fakes/helm.ts';

type Json = Record<string, any>;

const CHART = join(REPO_ROOT, 'charts/dhcp-failover');
const NS = 'dhcp-system';
// Release "rel" in dhcp-system: the job labels in the fixture (DhcpServerDown, DhcpFailoverOperatorDown) depend on it.
const MONITORING = ['--api-versions', 'monitoring.coreos.com/v1',
  '--set', 'metrics.serviceMonitor.enabled=true,metrics.podMonitor.enabled=true,metrics.prometheusRule.enabled=true'];
const FIXTURE = join(REPO_ROOT, 'test/fixtures/alerts/rules-test.yaml');
/** Files that declare every metric the project exports. */
const METRIC_SOURCES = ['src/metrics/registry.ts', 'src/operator/metrics.ts'];
/** Series Prometheus makes itself for every scrape target. */
const PROMETHEUS_BUILTIN = new Set(['up']);

function hasPromtool(): boolean {
  const r = spawnSync('promtool', ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}
const skipNoPromtool = hasPromtool() ? false : 'promtool not on PATH (Debian package prometheus; scripts/install.sh installs it)';

function template(args: readonly string[]): Json[] {
  const r = runHelm(['template', 'rel', CHART, '--namespace', NS, ...args]);
  assert.equal(r.status, 0, `helm template ${args.join(' ')} failed: ${r.stderr}`);
  return (loadAll(r.stdout) as unknown[]).filter((d): d is Json => d != null && typeof d === 'object');
}

function promtool(args: readonly string[], cwd: string): { status: number; out: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/**
 * Names of every metric declared with `new client.Counter|Gauge|Histogram|Summary({ name: '…' })`
 * in the given sources, with the series prom-client adds for histograms and summaries.
 */
export function exportedMetricNames(sources: readonly string[] = METRIC_SOURCES): Set<string> {
  const names = new Set<string>();
  const decl = /new\s+client\.(Counter|Gauge|Histogram|Summary)\s*(?:<[^>]*>)?\s*\(\s*\{\s*name:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/g;
  for (const file of sources) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    for (const m of text.matchAll(decl)) {
      const [, kind, name] = m as unknown as [string, string, string];
      names.add(name);
      if (kind === 'Histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
      if (kind === 'Summary') for (const s of ['_sum', '_count']) names.add(name + s);
    }
  }
  return names;
}

/** Identifiers in a PromQL expression that look like metric names (string literals removed first). */
export function metricsIn(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  return [...new Set([...bare.matchAll(/\b(dhcp_[a-z0-9_]+|up)\b/g)].map((m) => m[1]!))];
}

/** Expressions that use a metric neither the code exports nor Prometheus makes. */
export function unknownMetrics(exprs: readonly string[], known: ReadonlySet<string>): string[] {
  return exprs.flatMap((e) => metricsIn(e).filter((n) => !known.has(n) && !PROMETHEUS_BUILTIN.has(n)).map((n) => `${n} in: ${e}`));
}

let scratch = '';
let rules: Json[] = [];
let rulesFile = '';
let testFile = '';

before(() => {
  kubeTools();
  scratch = mkdtempSync(join(tmpdir(), 'alert-rules-'));
  const docs = template(MONITORING);
  const pr = docs.filter((d) => d['kind'] === 'PrometheusRule');
  assert.equal(pr.length, 1, 'one PrometheusRule');
  const groups = pr[0]!['spec']['groups'] as Json[];
  rules = groups.flatMap((g) => g['rules'] as Json[]);
  rulesFile = join(scratch, 'dhcp-failover.rules.yaml');
  writeFileSync(rulesFile, dump({ groups }, { lineWidth: -1 }));
  const fixture = load(readFileSync(FIXTURE, 'utf8')) as Json;
  fixture['rule_files'] = [rulesFile];
  testFile = join(scratch, 'rules-test.yaml');
  writeFileSync(testFile, dump(fixture, { lineWidth: -1 }));
});
after(() => { if (scratch) rmSync(scratch, { recursive: true, force: true }); });

describe('alert rules (promtool)', () => {
  test('the rendered rules include every alert, PodMonitor/ServiceMonitor ones too', () => {
    const names = rules.map((r) => r['alert'] as string);
    assert.ok(names.includes('DhcpFailoverPartnerDown'), names.join(', '));
    assert.ok(names.includes('DhcpServerDown'), names.join(', '));
    assert.ok(names.includes('DhcpFailoverOperatorDown'), names.join(', '));
    assert.ok(names.includes('DhcpFailoverOperatorBlind'), names.join(', '));
    assert.equal(new Set(names).size, names.length, 'alert names are unique');
  });

  test('promtool check rules passes', { skip: skipNoPromtool }, () => {
    const r = promtool(['check', 'rules', rulesFile], scratch);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  test('promtool test rules passes the unit tests in test/fixtures/alerts/rules-test.yaml', { skip: skipNoPromtool }, () => {
    const r = promtool(['test', 'rules', testFile], scratch);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });

  test('promtool test rules fails when an expected alert does not match (the harness can fail)', { skip: skipNoPromtool }, () => {
    const fixture = load(readFileSync(testFile, 'utf8')) as Json;
    const first = (fixture['tests'] as Json[])[0]!;
    const firing = (first['alert_rule_test'] as Json[]).find((t) => (t['exp_alerts'] as Json[]).length > 0)!;
    firing['exp_alerts'] = [];
    const broken = join(scratch, 'broken-test.yaml');
    writeFileSync(broken, dump(fixture, { lineWidth: -1 }));
    const r = promtool(['test', 'rules', broken], scratch);
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /FAILED/);
  });

  test('the unit tests fire every alert, and check partner-down and not-normal stay quiet on healthy series', () => {
    const fixture = load(readFileSync(FIXTURE, 'utf8')) as Json;
    const cases = (fixture['tests'] as Json[]).flatMap((t) => t['alert_rule_test'] as Json[]);
    const fired = new Set(cases.filter((c) => (c['exp_alerts'] as Json[]).length > 0).map((c) => c['alertname'] as string));
    const quiet = new Set(cases.filter((c) => (c['exp_alerts'] as Json[]).length === 0).map((c) => c['alertname'] as string));
    for (const r of rules) assert.ok(fired.has(r['alert']), `no unit test fires ${r['alert'] as string}`);
    for (const a of ['DhcpFailoverPartnerDown', 'DhcpFailoverNotNormal', 'DhcpFailoverPartnerReportsPartnerDown',
      'DhcpFailoverClockSkew', 'DhcpFailoverUpdatesBacklog', 'DhcpFailoverAuthFailures', 'DhcpScopeUtilizationHigh',
      'DhcpStoreErrors', 'DhcpServerDown', 'DhcpFailoverOperatorDown', 'DhcpFailoverOperatorBlind']) {
      assert.ok(quiet.has(a), `no exp_alerts: [] case for ${a}`);
    }
    const known = new Set(rules.map((r) => r['alert'] as string));
    for (const c of cases) assert.ok(known.has(c['alertname']), `fixture tests an alert the chart does not have: ${c['alertname'] as string}`);
  });
});

describe('alert expressions use exported metrics', () => {
  test('the metric declarations are found (including histogram series)', () => {
    const known = exportedMetricNames();
    for (const n of ['dhcp_failover_state', 'dhcp_failover_partner_state', 'dhcp_failover_clock_skew_seconds',
      'dhcp_scope_utilization_ratio', 'dhcp_store_errors_total', 'dhcp_processing_seconds_bucket', 'dhcp_operator_leader']) {
      assert.ok(known.has(n), `${n} not found in ${METRIC_SOURCES.join(', ')}`);
    }
    assert.ok(known.size >= 30, `only ${known.size} metric names found`);
  });

  test('the checker flags a metric the code does not export', () => {
    const known = exportedMetricNames();
    assert.deepEqual(metricsIn('max by (server) (dhcp_failover_state{state="dhcp_not_a_metric"}) == 1 and up == 0'), ['dhcp_failover_state', 'up']);
    assert.equal(unknownMetrics(['rate(dhcp_failover_bogus_total[5m]) > 0'], known).length, 1);
    assert.equal(unknownMetrics(['rate(dhcp_failover_updates_sent_total[5m]) > 0'], known).length, 0);
  });

  test('every metric in every alert expression is exported by the code (or is Prometheus\' own up)', () => {
    const known = exportedMetricNames();
    const exprs = rules.map((r) => String(r['expr']));
    for (const e of exprs) assert.ok(metricsIn(e).length > 0, `no metric recognised in ${e}`);
    assert.deepEqual(unknownMetrics(exprs, known), []);
  });
});

// ---- Grafana dashboard (charts/dhcp-failover/dashboards/dhcp-failover.json) -------------------

const DASHBOARD_FILE = join(CHART, 'dashboards/dhcp-failover.json');

/** Every panel, rows' nested panels included. */
function allPanels(dashboard: Json): Json[] {
  return (dashboard['panels'] as Json[]).flatMap((p) => [p, ...((p['panels'] as Json[] | undefined) ?? [])]);
}
/** PromQL of every panel target and every query variable. */
function dashboardExprs(dashboard: Json): string[] {
  const fromPanels = allPanels(dashboard).flatMap((p) => ((p['targets'] as Json[] | undefined) ?? []).map((t) => String(t['expr'])));
  const fromVars = (dashboard['templating']['list'] as Json[]).filter((v) => v['type'] === 'query')
    .map((v) => String(typeof v['query'] === 'string' ? v['query'] : v['query']['query']));
  return [...fromPanels, ...fromVars];
}
/** Grafana's variables replaced by values Prometheus accepts, label_values() turned into its selector. */
function asPromQL(expr: string): string {
  const lv = /^label_values\((.*),\s*[a-zA-Z_]+\)$/.exec(expr);
  const e = lv ? lv[1]! : expr;
  return e.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$[a-z_]+/g, '.*');
}
function configMapOf(docs: Json[]): Json {
  const cms = docs.filter((d) => d['kind'] === 'ConfigMap' && String(d['metadata']['name']).endsWith('-dashboard'));
  assert.equal(cms.length, 1, 'one dashboard ConfigMap');
  return cms[0]!;
}

describe('Grafana dashboard ConfigMap', () => {
  test('off by default', () => {
    const docs = template([]);
    assert.equal(docs.filter((d) => d['kind'] === 'ConfigMap' && String(d['metadata']['name']).endsWith('-dashboard')).length, 0);
    assert.ok(docs.some((d) => d['kind'] === 'Deployment'), 'the default render has the operator');
  });

  test('grafanaDashboard.enabled renders a ConfigMap labelled grafana_dashboard: "1" holding the dashboard file unchanged', () => {
    const cm = configMapOf(template(['--set', 'grafanaDashboard.enabled=true']));
    assert.equal(cm['metadata']['namespace'], NS);
    assert.equal(cm['metadata']['labels']['grafana_dashboard'], '1');
    assert.equal(cm['metadata']['labels']['app.kubernetes.io/part-of'], 'dhcp-failover');
    assert.deepEqual(Object.keys(cm['data']), ['dhcp-failover.json']);
    const text = String(cm['data']['dhcp-failover.json']);
    assert.equal(text, readFileSync(DASHBOARD_FILE, 'utf8').trimEnd());
    const dashboard = JSON.parse(text) as Json;
    assert.equal(dashboard['uid'], 'dhcp-failover');
  });

  test('label key and value, namespace, extra labels and annotations are configurable', () => {
    const cm = configMapOf(template(['--set', 'grafanaDashboard.enabled=true,grafanaDashboard.labelKey=example.com/dashboard,grafanaDashboard.labelValue=dhcp',
      '--set', 'grafanaDashboard.namespace=monitoring,grafanaDashboard.labels.team=net,grafanaDashboard.annotations.grafana_folder=DHCP']));
    assert.equal(cm['metadata']['labels']['example.com/dashboard'], 'dhcp');
    assert.equal(cm['metadata']['labels']['grafana_dashboard'], undefined);
    assert.equal(cm['metadata']['labels']['team'], 'net');
    assert.equal(cm['metadata']['annotations']['grafana_folder'], 'DHCP');
    assert.equal(cm['metadata']['namespace'], 'monitoring');
  });

  test('helm lint --strict passes with the dashboard enabled', () => {
    const r = runHelm(['lint', '--strict', CHART, '--set', 'grafanaDashboard.enabled=true']);
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  for (const bad of [['--set', 'grafanaDashboard.labelKey=Bad Key'], ['--set', 'grafanaDashboard.folder=x'], ['--set', 'grafanaDashboard.enabled=yes'],
    ['--set', 'grafanaDashboard.namespace=Not_A_Namespace']]) {
    test(`values.schema.json rejects ${bad[1]!}`, () => {
      const r = runHelm(['template', 'rel', CHART, '--namespace', NS, ...bad]);
      assert.notEqual(r.status, 0, r.stdout.slice(0, 300));
      assert.match(r.stderr, /values don't meet the specifications of the schema/);
      assert.match(r.stderr, /grafanaDashboard/);
    });
  }
});

describe('Grafana dashboard content', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Json;

  test('is a Grafana dashboard: title, uid, schemaVersion, unique panel ids, grid positions, a Prometheus datasource variable', () => {
    assert.equal(typeof dashboard['title'], 'string');
    assert.equal(typeof dashboard['schemaVersion'], 'number');
    const panels = allPanels(dashboard);
    const ids = panels.map((p) => p['id'] as number);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const vars = dashboard['templating']['list'] as Json[];
    assert.ok(vars.some((v) => v['type'] === 'datasource' && v['query'] === 'prometheus' && v['name'] === 'datasource'));
    for (const p of panels) {
      const g = p['gridPos'] as Json;
      assert.ok(g['w'] > 0 && g['x'] + g['w'] <= 24 && g['h'] > 0 && g['y'] >= 0, `${p['title'] as string}: gridPos`);
      if (p['type'] === 'row') continue;
      const targets = p['targets'] as Json[];
      assert.ok(targets.length > 0, `${p['title'] as string}: no queries`);
      for (const t of targets) {
        assert.equal(t['datasource']['uid'], '${datasource}', `${p['title'] as string}: datasource`);
        assert.ok(String(t['expr']).length > 0 && typeof t['refId'] === 'string');
      }
      assert.equal(new Set(targets.map((t) => t['refId'])).size, targets.length, `${p['title'] as string}: refIds unique`);
    }
  });

  test('every panel and variable query uses only metrics the code exports', () => {
    const exprs = dashboardExprs(dashboard);
    for (const e of exprs) assert.ok(metricsIn(e).length > 0, `no metric recognised in ${e}`);
    assert.deepEqual(unknownMetrics(exprs, exportedMetricNames()), []);
  });

  test('shows what the brief asks for: states, link, skew, updates, auth, packets, drops, utilisation, store errors', () => {
    const used = new Set(dashboardExprs(dashboard).flatMap(metricsIn));
    for (const m of ['dhcp_failover_state', 'dhcp_failover_partner_state', 'dhcp_failover_connection_up', 'dhcp_failover_clock_skew_seconds',
      'dhcp_failover_unacked_updates', 'dhcp_failover_updates_sent_total', 'dhcp_failover_updates_acked_total', 'dhcp_failover_updates_rejected_total',
      'dhcp_failover_auth_failures_total', 'dhcp_messages_received_total', 'dhcp_messages_sent_total', 'dhcp_packets_dropped_total',
      'dhcp_scope_utilization_ratio', 'dhcp_store_errors_total']) {
      assert.ok(used.has(m), `no panel shows ${m}`);
    }
  });

  test('every query is valid PromQL (promtool check rules on them as recording rules)', { skip: skipNoPromtool }, () => {
    const exprs = dashboardExprs(dashboard).map(asPromQL);
    const file = join(scratch, 'dashboard-queries.rules.yaml');
    writeFileSync(file, dump({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }] }, { lineWidth: -1 }));
    const r = promtool(['check', 'rules', file], scratch);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${exprs.length} rules found`));
    // The same check rejects a broken query.
    writeFileSync(file, dump({ groups: [{ name: 'dashboard', rules: [{ record: 'dashboard:bad', expr: 'sum by (pod (rate(dhcp_messages_sent_total[5m]))' }] }] }));
    assert.notEqual(promtool(['check', 'rules', file], scratch).status, 0);
  });
});
