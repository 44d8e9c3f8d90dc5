// "An operator that knows when it is blind": readiness, logs and metrics follow whether the operator can use
// the Kubernetes API (src/operator/api-health.ts), and a pod with no API configuration exits instead of
// falling back to http://localhost:8080 (src/operator/kube-config.ts).
// - unit: classifyApiError on the errors the real client-node 2.0.1 throws (closed port, 401, 403, 5xx, 404,
//   a self-signed certificate, http without skipTLSVerify; lists and watches), the episode rules with a fake
//   clock, operatorReadiness, the localhost fallback detection;
// - the operator *process* (`dhcp-failover operator`) against a closed port that later becomes the fake API
//   server, against a fake answering 401 (then only its list/watch), 403 on one list, a slow first list,
//   asserting /readyz, the one `operator.api.error` line per episode, `operator.api.recovered` and the metrics;
//   and with no kubeconfig at all: exit 1 and one line.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { setLogSink } from '../../src/log.ts';
import { ApiHealth, classifyApiError, operatorReadiness, type ApiErrorReason } from '../../src/operator/api-health.ts';
import { isLocalhostFallback, kubeConfigProblem, SERVICE_ACCOUNT_TOKEN } from '../../src/operator/kube-config.ts';
import { createOperatorMetrics } from '../../src/operator/metrics.ts';
import { FakeClock } from '../fakes/fake-clock.ts';
import { REPO_ROOT } from '../fakes/helm.ts';
import { FakeKubeApiServer } from '../fakes/kube-api-server.ts';
import { ProcessTracker, run, type TrackedProcess } from '../fakes/processes.ts';
import { freePort } from '../fakes/ports.ts';

type Json = Record<string, any>;
const CLI_ARGS = ['--disable-warning=ExperimentalWarning', join(REPO_ROOT, 'src/cli/main.ts'), 'operator'];

const dir = mkdtempSync(join(tmpdir(), 'api-health-'));
const procs = new ProcessTracker();
// Operators are detached children: a test process that dies without after() must not leave them running.
process.once('exit', () => procs.killAllSync());
const servers: { close(): Promise<void> | void }[] = [];
after(async () => {
  await procs.stopAll();
  for (const s of servers) await s.close();
  rmSync(dir, { recursive: true, force: true });
});


async function until<T>(what: string, fn: () => Promise<T | undefined | false | null> | T | undefined | false | null, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value of one series in Prometheus text, or undefined. */
function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[3] ?? '').split(',').filter(Boolean);
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[4]);
  }
  return undefined;
}

/** A kubeconfig file for `server` (http needs insecure-skip-tls-verify with client-node 2.x). */
function kubeconfigFile(name: string, server: string): string {
  const file = join(dir, `${name}.kubeconfig`);
  writeFileSync(file, [
    'apiVersion: v1', 'kind: Config',
    `clusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
    'users: [{name: u, user: {token: test-token}}]',
    'contexts: [{name: c, context: {cluster: c, user: u}}]',
    'current-context: c', '',
  ].join('\n'));
  return file;
}

// ---- unit: classification of client-node's real errors ------------------------------------------------

/** A server answering every request with `code` and a Status body. */
async function statusServer(code: number): Promise<string> {
  const s = createHttpServer((_req, res) => {
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `status ${code} from the test`, code }));
  });
  return listen(s, 'http');
}
async function listen(s: Server, scheme: 'http' | 'https'): Promise<string> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push({ close: () => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); }) });
  return `${scheme}://127.0.0.1:${(s.address() as net.AddressInfo).port}`;
}
function kubeConfigFor(server: string, opts: { skipTLSVerify?: boolean } = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: opts.skipTLSVerify ?? server.startsWith('http:') }],
    users: [{ name: 'u', token: 't' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c',
  });
  return kc;
}
async function listError(kc: KubeConfig): Promise<unknown> {
  try { await kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: 'x' }); } catch (err) { return err; }
  assert.fail('the list succeeded');
}
function watchError(kc: KubeConfig): Promise<unknown> {
  return new Promise((resolve) => { void new Watch(kc).watch('/api/v1/configmaps', {}, () => {}, resolve); });
}
/** A self-signed serving certificate (openssl CLI), or undefined without openssl. */
async function selfSigned(): Promise<{ key: Buffer; cert: Buffer } | undefined> {
  const key = join(dir, 'tls.key'), cert = join(dir, 'tls.crt');
  const r = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=test', '-days', '1', '-addext', 'subjectAltName=IP:127.0.0.1'], { allowFail: true }).catch(() => undefined);
  return r?.code === 0 ? { key: readFileSync(key), cert: readFileSync(cert) } : undefined;
}

describe('classifyApiError on client-node 2.0.1 errors', () => {
  const cases: { name: string; error: () => Promise<unknown>; reason: ApiErrorReason; code?: number; err: RegExp }[] = [
    { name: 'list, closed port', error: async () => listError(kubeConfigFor(`http://127.0.0.1:${await freePort()}`)), reason: 'unreachable', err: /^connect ECONNREFUSED 127\.0\.0\.1:\d+$/ },
    { name: 'watch, closed port', error: async () => watchError(kubeConfigFor(`http://127.0.0.1:${await freePort()}`)), reason: 'unreachable', err: /^connect ECONNREFUSED/ },
    { name: 'list, 401', error: async () => listError(kubeConfigFor(await statusServer(401))), reason: 'unauthorized', code: 401, err: /^401 Unauthorized/ },
    { name: 'watch, 401', error: async () => watchError(kubeConfigFor(await statusServer(401))), reason: 'unauthorized', code: 401, err: /^401 Unauthorized$/ },
    { name: 'list, 403', error: async () => listError(kubeConfigFor(await statusServer(403))), reason: 'forbidden', code: 403, err: /^403 Forbidden/ },
    { name: 'list, 500', error: async () => listError(kubeConfigFor(await statusServer(500))), reason: 'server_error', code: 500, err: /^500 / },
    { name: 'watch, 503', error: async () => watchError(kubeConfigFor(await statusServer(503))), reason: 'server_error', code: 503, err: /^503 Service Unavailable$/ },
    { name: 'list, 404 (CRD not installed)', error: async () => listError(kubeConfigFor(await statusServer(404))), reason: 'other', code: 404, err: /^404 Not Found/ },
    { name: 'http:// without skipTLSVerify (client-node refuses)', error: async () => listError(kubeConfigFor(`http://127.0.0.1:${await freePort()}`, { skipTLSVerify: false })), reason: 'other', err: /HTTP protocol is not allowed/ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const f = classifyApiError(await c.error());
      assert.equal(f.reason, c.reason, JSON.stringify(f));
      assert.equal(f.code, c.code);
      assert.match(f.err, c.err);
      assert.ok(!f.err.includes('\n'), 'one line');
    });
  }

  test('TLS: a self-signed certificate the kubeconfig does not trust is unreachable, and says so', async (t) => {
    const pair = await selfSigned();
    if (!pair) { t.skip('no openssl'); return; }
    const url = await listen(createHttpsServer(pair, (_q, r) => r.end('{}')), 'https');
    for (const err of [await listError(kubeConfigFor(url)), await watchError(kubeConfigFor(url))]) {
      const f = classifyApiError(err);
      assert.equal(f.reason, 'unreachable');
      assert.match(f.err, /self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
    }
  });
});

// ---- unit: episodes, metrics, readiness ---------------------------------------------------------------

function capture(): { lines: Json[]; restore(): void } {
  const lines: Json[] = [];
  setLogSink((line) => { try { lines.push(JSON.parse(line) as Json); } catch { /* not JSON */ } });
  return { lines, restore: () => setLogSink(() => {}) };
}
const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 10.96.0.1:443'), { code: 'ECONNREFUSED' }) });
const unauthorized = Object.assign(new Error('HTTP-Code: 401\nMessage: Unauthorized'), { code: 401 });

describe('ApiHealth', () => {
  test('one error line per episode, a warn when the reason changes, recovered with the duration; metrics follow', async () => {
    const log = capture();
    try {
      const clock = new FakeClock();
      const metrics = createOperatorMetrics();
      const h = new ApiHealth({ clock, server: 'https://10.96.0.1:443', metrics });
      const value = async (name: string, labels?: Record<string, string>) => metricValue(await metrics.registry.metrics(), name, labels);
      assert.equal(h.reachable, false, 'not reachable before any call succeeded');
      assert.match(h.describe(), /no call has succeeded yet/);
      assert.equal(await value('dhcp_operator_api_reachable'), 0);
      assert.equal(await value('dhcp_operator_api_errors_total', { operation: 'watch', reason: 'forbidden' }), 0, 'every series exists from the start');

      h.succeeded('lease');
      h.succeeded('dhcpscopes@*');
      assert.equal(h.reachable, true);
      assert.equal(await value('dhcp_operator_api_reachable'), 1);

      clock.advance(1000);
      for (let i = 0; i < 5; i++) { h.failed('lease', 'lease', 'lease dhcp-system/l', refused); clock.advance(250); }
      h.failed('dhcpscopes@*', 'list', 'list dhcpscopes (all namespaces)', refused);
      h.succeeded('dhcpscopes@*'); // one source back, the other still failing: the episode goes on
      assert.equal(h.reachable, false);
      assert.match(h.describe(), /^kubernetes API https:\/\/10\.96\.0\.1:443: unreachable \(connect ECONNREFUSED 10\.96\.0\.1:443\) on lease dhcp-system\/l, for 1 s$/);
      h.failed('lease', 'lease', 'lease dhcp-system/l', unauthorized);
      h.failed('lease', 'lease', 'lease dhcp-system/l', unauthorized);
      clock.advance(750);
      h.succeeded('lease');
      assert.equal(h.reachable, true);

      const errors = log.lines.filter((l) => l.event === 'operator.api.error');
      assert.equal(errors.length, 1, JSON.stringify(log.lines));
      assert.equal(errors[0]!.level, 'error');
      assert.equal(errors[0]!.server, 'https://10.96.0.1:443');
      assert.equal(errors[0]!.reason, 'unreachable');
      assert.equal(errors[0]!.operation, 'lease');
      assert.equal(errors[0]!.err, 'connect ECONNREFUSED 10.96.0.1:443');
      const changed = log.lines.filter((l) => l.event === 'operator.api.reason_changed');
      assert.deepEqual(changed.map((l) => [l.level, l.reason, l.code]), [['warn', 'unauthorized', 401]]);
      const recovered = log.lines.filter((l) => l.event === 'operator.api.recovered');
      assert.equal(recovered.length, 1);
      assert.equal(recovered[0]!.level, 'info');
      assert.equal(recovered[0]!.durationMs, 2000);
      assert.equal(recovered[0]!.failures, 8);
      assert.equal(await value('dhcp_operator_api_errors_total', { operation: 'lease', reason: 'unreachable' }), 5);
      assert.equal(await value('dhcp_operator_api_errors_total', { operation: 'lease', reason: 'unauthorized' }), 2);
      assert.equal(await value('dhcp_operator_api_errors_total', { operation: 'list', reason: 'unreachable' }), 1);
      assert.equal(await value('dhcp_operator_api_reachable'), 1);

      // A second outage is a second episode: a second error line.
      h.failed('lease', 'lease', 'lease dhcp-system/l', refused);
      assert.equal(log.lines.filter((l) => l.event === 'operator.api.error').length, 2);
      assert.equal(await value('dhcp_operator_api_reachable'), 0);
    } finally { log.restore(); }
  });

  test('a forgotten source (stopped informer) no longer blocks, but only a success ends the episode', () => {
    const log = capture();
    try {
      const clock = new FakeClock();
      const h = new ApiHealth({ clock, server: 'https://k' });
      h.succeeded('lease');
      h.failed('secrets@*', 'watch', 'watch secrets (all namespaces)', unauthorized);
      h.forget('secrets@*');
      assert.equal(h.reachable, false);
      assert.match(h.describe(), /unauthorized for 0 s, waiting for a call to succeed/);
      h.succeeded('lease');
      assert.equal(h.reachable, true);
      assert.equal(log.lines.filter((l) => l.event === 'operator.api.recovered').length, 1);
    } finally { log.restore(); }
  });

  test('operatorReadiness: API first, then the leader\'s caches', () => {
    const api = (reachable: boolean) => ({ reachable, describe: () => 'kubernetes API x: unreachable' });
    const table: { name: string; reachable: boolean; controller: { isSynced: boolean } | undefined; ready: boolean; reason: RegExp }[] = [
      { name: 'standby, API fine', reachable: true, controller: undefined, ready: true, reason: /^ok$/ },
      { name: 'standby, API down', reachable: false, controller: undefined, ready: false, reason: /unreachable/ },
      { name: 'leader before the first sync', reachable: true, controller: { isSynced: false }, ready: false, reason: /informer caches not synced/ },
      { name: 'leader synced', reachable: true, controller: { isSynced: true }, ready: true, reason: /^ok$/ },
      { name: 'leader synced, API down', reachable: false, controller: { isSynced: true }, ready: false, reason: /unreachable/ },
    ];
    for (const c of table) {
      const r = operatorReadiness(api(c.reachable), c.controller);
      assert.equal(r.ready, c.ready, c.name);
      assert.match(r.reason, c.reason, c.name);
    }
  });
});

describe('kubeconfig: no silent fallback to http://localhost:8080', () => {
  test('client-node\'s fallback is recognised; an explicit localhost:8080 kubeconfig is not', () => {
    const fallback = new KubeConfig();
    fallback.loadFromClusterAndUser({ name: 'cluster', server: 'http://localhost:8080' } as never, { name: 'user' } as never);
    assert.equal(isLocalhostFallback(fallback), true);
    assert.match(kubeConfigProblem(fallback, { HOME: '/home/op' })!, /looked for \$KUBECONFIG \(not set\), \/home\/op\/\.kube\/config \(not found\), in-cluster service account token \/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/token \(not found\)/);
    const explicit = new KubeConfig();
    explicit.loadFromString(readFileSync(kubeconfigFile('explicit', 'http://localhost:8080'), 'utf8'));
    assert.equal(isLocalhostFallback(explicit), false);
    assert.equal(kubeConfigProblem(explicit, {}), undefined);
  });

  test('an in-cluster token without KUBERNETES_SERVICE_HOST/PORT, and a kubeconfig without a current context, are refused', () => {
    const saved = { host: process.env['KUBERNETES_SERVICE_HOST'], port: process.env['KUBERNETES_SERVICE_PORT'] };
    delete process.env['KUBERNETES_SERVICE_HOST']; delete process.env['KUBERNETES_SERVICE_PORT'];
    try {
      const kc = new KubeConfig();
      kc.loadFromCluster('/nonexistent');
      assert.match(kubeConfigProblem(kc, {})!, /KUBERNETES_SERVICE_HOST\/KUBERNETES_SERVICE_PORT are not set/);
    } finally {
      if (saved.host !== undefined) process.env['KUBERNETES_SERVICE_HOST'] = saved.host;
      if (saved.port !== undefined) process.env['KUBERNETES_SERVICE_PORT'] = saved.port;
    }
    const none = new KubeConfig();
    none.loadFromString('apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
    assert.match(kubeConfigProblem(none, { KUBECONFIG: '/x' })!, /KUBECONFIG=\/x has no current context/);
  });

  const inCluster = existsSync(SERVICE_ACCOUNT_TOKEN) ? `${SERVICE_ACCOUNT_TOKEN} exists here (client-node would use it)` : false;
  test('no in-cluster service account, no KUBECONFIG, no ~/.kube/config: exit 1 with one line saying what was looked for', { skip: inCluster }, async () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const port = await freePort();
    const r = await run(join(REPO_ROOT, 'node_modules/.bin/node'), CLI_ARGS, { allowFail: true, timeoutMs: 20_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, HTTP_PORT: String(port) } });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    const j = JSON.parse(lines[0]!) as Json;
    assert.equal(j.level, 'error');
    assert.equal(j.event, 'operator.kubeconfig.error');
    assert.match(j.err, /\$KUBECONFIG \(not set\)/);
    assert.ok(j.err.includes(join(home, '.kube/config')), j.err);
    assert.ok(j.err.includes(SERVICE_ACCOUNT_TOKEN), j.err);
    assert.match(j.err, /localhost:8080/);
  });

  test('KUBECONFIG naming a missing file: exit 1 with one line', async () => {
    const r = await run(join(REPO_ROOT, 'node_modules/.bin/node'), CLI_ARGS, { allowFail: true, timeoutMs: 20_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, KUBECONFIG: join(dir, 'missing.kubeconfig'), HTTP_PORT: String(await freePort()) } });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /"event":"operator\.kubeconfig\.error".*missing\.kubeconfig.*ENOENT/);
  });
});

// ---- the operator process -----------------------------------------------------------------------------

interface Operator {
  readonly proc: TrackedProcess;
  readonly port: number;
  /** Its JSON log lines with this event (all of them without one). */
  events(event?: string): Json[];
  get(path: string): Promise<{ status: number; text: string }>;
  metric(name: string, labels?: Record<string, string>): Promise<number | undefined>;
}

let n = 0;
/** `dhcp-failover operator` with a kubeconfig for `server`, short leader-election timings (retry 250 ms). */
async function startOperator(server: string): Promise<Operator> {
  const id = `op-${++n}`;
  const logFile = join(dir, `${id}.log`);
  const port = await freePort();
  const proc = procs.spawn(join(REPO_ROOT, 'node_modules/.bin/node'), CLI_ARGS, {
    logFile,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, KUBECONFIG: kubeconfigFile(id, server), POD_NAME: id, POD_NAMESPACE: 'dhcp-system',
      HTTP_PORT: String(port), LOG_LEVEL: 'info', LEADER_ELECTION_LEASE_DURATION_SECONDS: '2', LEADER_ELECTION_RENEW_DEADLINE_SECONDS: '1',
      LEADER_ELECTION_RETRY_PERIOD_SECONDS: '0.25',
    },
  });
  const get = async (path: string) => {
    try {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
      return { status: r.status, text: await r.text() };
    } catch { return { status: 0, text: '' }; }
  };
  const op: Operator = {
    proc, port, get,
    events(event) {
      let text = '';
      try { text = readFileSync(logFile, 'utf8'); } catch { return []; }
      const all = text.split('\n').flatMap((l) => { try { return [JSON.parse(l) as Json]; } catch { return []; } });
      return event === undefined ? all : all.filter((e) => e.event === event);
    },
    metric: async (name, labels) => metricValue((await get('/metrics')).text, name, labels),
  };
  await until(`${id} serving HTTP`, async () => proc.running && (await get('/healthz')).status === 200);
  return op;
}
async function fakeApi(port?: number): Promise<FakeKubeApiServer> {
  const fake = new FakeKubeApiServer();
  await fake.start(port);
  servers.push({ close: () => fake.stop() });
  return fake;
}

describe('the operator process knows when it is blind', () => {
  test('(a) unreachable API server: 503 with the reason, one error line, metrics; (c) ready when it comes back; a second outage is a second episode', async () => {
    const apiPort = await freePort();
    const op = await startOperator(`http://127.0.0.1:${apiPort}`);
    try {
      await until('operator.api.error', () => op.events('operator.api.error').length > 0);
      const r = await op.get('/readyz');
      assert.equal(r.status, 503);
      assert.match(r.text, new RegExp(`^not ready: kubernetes API http://127\\.0\\.0\\.1:${apiPort}: unreachable \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${apiPort}\\) on lease dhcp-system/dhcp-failover`));
      // Retried every 250 ms: counted every time, logged once.
      await until('several lease errors counted', async () => (await op.metric('dhcp_operator_api_errors_total', { operation: 'lease', reason: 'unreachable' }) ?? 0) >= 5);
      const errors = op.events('operator.api.error');
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.equal(errors[0]!.level, 'error');
      assert.equal(errors[0]!.server, `http://127.0.0.1:${apiPort}`);
      assert.equal(errors[0]!.reason, 'unreachable');
      assert.equal(errors[0]!.err, `connect ECONNREFUSED 127.0.0.1:${apiPort}`);
      assert.equal(await op.metric('dhcp_operator_api_reachable'), 0);
      assert.equal((await op.get('/healthz')).status, 200, 'liveness does not depend on the API server');

      // The API server comes up where the kubeconfig points.
      const downSince = Date.now();
      const fake = await fakeApi(apiPort);
      await until('/readyz 200 once leading and synced', async () => (await op.get('/readyz')).status === 200, 15_000);
      const recovered = op.events('operator.api.recovered');
      assert.equal(recovered.length, 1);
      assert.equal(recovered[0]!.level, 'info');
      assert.ok(recovered[0]!.durationMs >= 1000, `episode duration ${recovered[0]!.durationMs} ms`);
      assert.ok(op.events('operator.controller.started').length === 1);
      assert.equal(await op.metric('dhcp_operator_api_reachable'), 1);
      assert.equal(op.events('operator.api.error').length, 1);
      assert.ok(Date.now() - downSince < 15_000);

      // A second outage (the leader's watches drop, its lists and renewals fail): a second episode.
      await fake.stop();
      await until('/readyz 503 again', async () => (await op.get('/readyz')).status === 503, 10_000);
      await until('the second error line', () => op.events('operator.api.error').length >= 2);
      await sleep(1500);
      assert.equal(op.events('operator.api.error').length, 2, 'one line per episode');
      assert.equal(await op.metric('dhcp_operator_api_reachable'), 0);
      assert.equal((await op.get('/healthz')).status, 200);
      assert.ok(op.proc.running, 'a suspended leader stays up');
    } finally { await op.proc.stop(); }
  });

  test('(b) API server answering 401: 503 unauthorized, one error line; ready once it accepts the token; then 401 on list/watch only', async () => {
    const fake = await fakeApi();
    fake.failNext(() => true, 401, Infinity, 'Unauthorized');
    const op = await startOperator(fake.url);
    try {
      await until('operator.api.error', () => op.events('operator.api.error').length > 0);
      const r = await op.get('/readyz');
      assert.equal(r.status, 503);
      assert.match(r.text, /: unauthorized \(401 Unauthorized\) on lease dhcp-system\/dhcp-failover, for \d+ s$/m);
      await until('several 401s counted', async () => (await op.metric('dhcp_operator_api_errors_total', { operation: 'lease', reason: 'unauthorized' }) ?? 0) >= 3);
      const [e] = op.events('operator.api.error');
      assert.equal(op.events('operator.api.error').length, 1);
      assert.deepEqual([e!.level, e!.reason, e!.code, e!.operation, e!.server], ['error', 'unauthorized', 401, 'lease', fake.url]);
      assert.match(e!.hint, /rejected the credentials/);
      assert.equal(await op.metric('dhcp_operator_api_reachable'), 0);

      fake.clearFaults();
      await until('/readyz 200', async () => (await op.get('/readyz')).status === 200, 15_000);
      assert.equal(op.events('operator.api.recovered').length, 1);
      assert.equal(await op.metric('dhcp_operator_api_reachable'), 1);

      // The token is revoked while the leader watches: the watch requests that follow a dropped stream get 401.
      fake.failNext((q) => q.verb === 'list' || q.verb === 'watch', 401, Infinity, 'Unauthorized');
      fake.dropWatches();
      await until('/readyz 503', async () => (await op.get('/readyz')).status === 503, 10_000);
      await until('the second error line', () => op.events('operator.api.error').length >= 2);
      const second = op.events('operator.api.error')[1]!;
      assert.equal(second.reason, 'unauthorized');
      assert.ok(['watch', 'list'].includes(second.operation), second.operation);
      assert.match(second.resource, /^(watch|list) \S+ \(all namespaces\)$/);
      assert.ok((await op.metric('dhcp_operator_api_errors_total', { operation: 'watch', reason: 'unauthorized' }) ?? 0) >= 1);
      assert.match((await op.get('/readyz')).text, /unauthorized/);
      fake.clearFaults();
      await until('/readyz 200 again', async () => (await op.get('/readyz')).status === 200, 15_000);
      assert.equal(op.events('operator.api.error').length, 2);
      assert.equal(op.events('operator.api.recovered').length, 2);
    } finally { await op.proc.stop(); }
  });

  test('403 on one list (RBAC): never ready and never reconciling until it is allowed', async () => {
    const fake = await fakeApi();
    fake.failNext((q) => q.verb === 'list' && q.plural === 'secrets', 403, Infinity, 'Forbidden');
    const op = await startOperator(fake.url);
    try {
      await until('operator.api.error', () => op.events('operator.api.error').length > 0);
      const [e] = op.events('operator.api.error');
      assert.deepEqual([e!.reason, e!.code, e!.operation, e!.resource], ['forbidden', 403, 'list', 'list secrets (all namespaces)']);
      assert.match(e!.hint, /RBAC/);
      assert.equal(await op.metric('dhcp_operator_leader'), 1, 'the Lease works: it leads');
      const r = await op.get('/readyz');
      assert.equal(r.status, 503);
      assert.match(r.text, /forbidden \(403 Forbidden: injected fault 403\) on list secrets \(all namespaces\)/);
      assert.equal(op.events('operator.controller.started').length, 0);
      fake.clearFaults();
      await until('/readyz 200', async () => (await op.get('/readyz')).status === 200, 15_000);
      assert.equal(op.events('operator.controller.started').length, 1);
      assert.equal(op.events('operator.api.error').length, 1);
      assert.equal(op.events('operator.api.recovered').length, 1);
      assert.ok((await op.metric('dhcp_operator_api_errors_total', { operation: 'list', reason: 'forbidden' }) ?? 0) >= 1);
    } finally { await op.proc.stop(); }
  });

  test('a slow first list: 503 "not synced" while the API is fine, then 200; no error line', async () => {
    const fake = await fakeApi();
    fake.delayNext((q) => q.verb === 'list' && q.plural === 'dhcpscopes', 2500);
    const op = await startOperator(fake.url);
    try {
      await until('leading', async () => (await op.metric('dhcp_operator_leader')) === 1);
      const r = await op.get('/readyz');
      assert.equal(r.status, 503);
      assert.match(r.text, /informer caches not synced/);
      assert.equal(await op.metric('dhcp_operator_api_reachable'), 1);
      await until('/readyz 200', async () => (await op.get('/readyz')).status === 200, 15_000);
      assert.equal(op.events('operator.api.error').length, 0);
      assert.equal(op.events('operator.api.recovered').length, 0);
    } finally { await op.proc.stop(); }
  });
});
