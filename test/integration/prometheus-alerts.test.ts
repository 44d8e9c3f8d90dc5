// The chart's alerts against a real Prometheus (Debian package `prometheus`) scraping two real server
// processes that form a failover pair on loopback (127.0.0.21 primary, 127.0.0.22 secondary, memory
// stores; addresses no other test uses). The rules are the chart's PrometheusRule (rendered with the
// real helm, release "rel" in "dhcp-system", PodMonitor on) with one documented rewrite so the test is
// quick: every `for:` becomes 2s (FOR_REWRITE). The scrape job is named like the PodMonitor's job
// ("dhcp-system/rel-dhcp-failover-servers") so DhcpServerDown's selector matches it.
// Steps: both NORMAL and scraped, no alert → kill the secondary by PID → DhcpServerDown fires for it and
// the primary goes COMMUNICATIONS-INTERRUPTED → `ctl partner-down` on the primary → DhcpFailoverPartnerDown
// fires → restart the secondary (empty memory store: RECOVER with UPDREQALL, no RECOVER-WAIT) → both
// NORMAL and the alerts resolve. Every wait is bounded; every process is stopped by PID in after().
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { dump, loadAll } from 'js-yaml';
import { REPO_ROOT, runHelm } from '../fakes/helm.ts';
import { loopbackMemberConfig } from '../fakes/loopback-pair.ts';

type Json = Record<string, any>;

const BIN = fileURLToPath(new URL('../../bin/dhcp-failover', import.meta.url));
const PRIMARY = '127.0.0.21', SECONDARY = '127.0.0.22';
const BASE = 40_000 + (process.pid % 1000) * 4;
const DHCP_PORT = BASE, FO_PORT = BASE + 1, ADMIN_PORT = BASE + 2;
const RELATIONSHIP = 'prom-pair';
const JOB = 'dhcp-system/rel-dhcp-failover-servers';
/** The documented rewrite of the chart's rules: every `for:` duration becomes this. */
const FOR_REWRITE = '2s';

function hasBinary(name: string): boolean {
  const r = spawnSync(name, ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}
const skip = !hasBinary('prometheus') ? 'prometheus not on PATH (Debian package prometheus; scripts/install.sh installs it)' : false;

const dir = mkdtempSync(join(tmpdir(), 'prom-alerts-'));
const procs = new Set<ChildProcess>();

function serverConfig(role: 'primary' | 'secondary'): string {
  return loopbackMemberConfig({
    name: `prom-${role}`, role, self: role === 'primary' ? PRIMARY : SECONDARY, partner: role === 'primary' ? SECONDARY : PRIMARY,
    ports: { dhcp: DHCP_PORT, failover: FO_PORT, admin: ADMIN_PORT }, relationship: RELATIONSHIP, net: '127.0.19', mcltSeconds: 15, sharedSecret: 'prom-pair-secret',
  });
}

function startProcess(name: string, cmd: string, args: readonly string[]): ChildProcess {
  const log = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', log, log] });
  procs.add(child);
  child.once('exit', () => procs.delete(child));
  return child;
}

function startServer(role: 'primary' | 'secondary'): ChildProcess {
  const file = join(dir, `${role}.yaml`);
  writeFileSync(file, serverConfig(role));
  return startProcess(role, BIN, ['server', '--config', file]);
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid!, signal);
  const t = setTimeout(() => { try { process.kill(child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
  await exited;
  clearTimeout(t);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function getJson(url: string, init: RequestInit = {}): Promise<Json | undefined> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
    return res.ok ? (await res.json()) as Json : undefined;
  } catch { return undefined; }
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (let n = 0; n < 2000; n++) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; logs in ${dir}`);
}

const stateOf = async (host: string): Promise<string | undefined> =>
  ((await getJson(`http://${host}:${ADMIN_PORT}/status`))?.['failover'] as Json | undefined)?.['state'] as string | undefined;

/** The chart's rules, `for:` rewritten; returns the alert names. */
function writeRules(file: string): string[] {
  const r = runHelm(['template', 'rel', join(REPO_ROOT, 'charts/dhcp-failover'), '--namespace', 'dhcp-system',
    '--api-versions', 'monitoring.coreos.com/v1', '--set', 'metrics.podMonitor.enabled=true,metrics.prometheusRule.enabled=true',
    '--show-only', 'templates/prometheusrule.yaml']);
  assert.equal(r.status, 0, r.stderr);
  const pr = (loadAll(r.stdout) as Json[]).find((d) => d?.['kind'] === 'PrometheusRule');
  assert.ok(pr, 'PrometheusRule rendered');
  const groups = (pr['spec']['groups'] as Json[]).map((g) => ({
    ...g, rules: (g['rules'] as Json[]).map((rule) => (rule['for'] !== undefined ? { ...rule, for: FOR_REWRITE } : rule)),
  }));
  writeFileSync(file, dump({ groups }, { lineWidth: -1 }));
  return groups.flatMap((g) => g.rules.map((rule) => String(rule['alert'])));
}

describe('chart alerts in a real Prometheus scraping a failover pair', { skip }, () => {
  let prom = '';
  let primary: ChildProcess;
  let secondary: ChildProcess;
  let alertNames: string[] = [];

  const alerts = async (): Promise<Json[] | undefined> => (await getJson(`${prom}/api/v1/alerts`))?.['data']?.['alerts'] as Json[] | undefined;
  const firing = async (name: string): Promise<Json[]> => ((await alerts()) ?? []).filter((a) => a['labels']['alertname'] === name && a['state'] === 'firing');

  before(async () => {
    const rulesFile = join(dir, 'rules.yaml');
    alertNames = writeRules(rulesFile);
    const promPort = await freePort();
    prom = `http://127.0.0.1:${promPort}`;
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: [rulesFile],
      scrape_configs: [{ job_name: JOB, metrics_path: '/metrics', static_configs: [{ targets: [`${PRIMARY}:${ADMIN_PORT}`, `${SECONDARY}:${ADMIN_PORT}`] }] }],
    };
    writeFileSync(join(dir, 'prometheus.yml'), dump(config));
    primary = startServer('primary');
    secondary = startServer('secondary');
    startProcess('prometheus', 'prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`, '--storage.tsdb.retention.time=1h', '--log.level=warn']);
    await until('Prometheus ready', async () => (await fetch(`${prom}/-/ready`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false)), 30_000);
  });

  after(async () => {
    for (const p of [...procs]) await stop(p, 'SIGKILL');
    if (!process.env.KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
  });

  it('Prometheus loaded every chart rule, rewritten to for: 2s', async () => {
    const rules = await until('rules loaded', async () => {
      const groups = (await getJson(`${prom}/api/v1/rules`))?.['data']?.['groups'] as Json[] | undefined;
      const rs = groups?.flatMap((g) => g['rules'] as Json[]) ?? [];
      return rs.length > 0 ? rs : undefined;
    }, 10_000);
    assert.deepEqual(rules.map((r) => r['name']).sort(), [...alertNames].sort());
    for (const r of rules) if (r['name'] !== 'DhcpFailoverAuthFailures') assert.equal(r['duration'], 2, `${r['name'] as string}: duration`);
    assert.ok(alertNames.includes('DhcpFailoverPartnerDown') && alertNames.includes('DhcpServerDown'));
  });

  it('a healthy pair: both NORMAL, both scraped, no failover or server-down alert', async () => {
    await until('both servers NORMAL', async () => (await stateOf(PRIMARY)) === 'normal' && (await stateOf(SECONDARY)) === 'normal', 30_000);
    await until('both targets up in Prometheus', async () => {
      const q = await getJson(`${prom}/api/v1/query?query=${encodeURIComponent(`up{job="${JOB}"} == 1`)}`);
      return ((q?.['data']?.['result'] as Json[] | undefined)?.length ?? 0) === 2;
    }, 20_000);
    await until('dhcp_failover_state normal scraped for both', async () => {
      const q = await getJson(`${prom}/api/v1/query?query=${encodeURIComponent(`dhcp_failover_state{relationship="${RELATIONSHIP}",state="normal"} == 1`)}`);
      return ((q?.['data']?.['result'] as Json[] | undefined)?.length ?? 0) === 2;
    }, 20_000);
    // Several evaluations with `for: 2s` later, nothing is pending or firing.
    await new Promise((r) => setTimeout(r, 4000));
    const now = (await alerts()) ?? [];
    assert.deepEqual(now.map((a) => `${a['labels']['alertname'] as string} ${a['state'] as string}`), []);
  });

  it('secondary killed: DhcpServerDown fires for it, the primary goes COMMUNICATIONS-INTERRUPTED', async () => {
    const pid = secondary.pid!;
    await stop(secondary, 'SIGKILL');
    assert.throws(() => process.kill(pid, 0), 'the secondary is gone');
    await until('primary COMMUNICATIONS-INTERRUPTED', async () => (await stateOf(PRIMARY)) === 'communications-interrupted', 30_000);
    const down = await until('DhcpServerDown firing', async () => { const a = await firing('DhcpServerDown'); return a.length > 0 ? a : undefined; }, 30_000);
    assert.deepEqual(down.map((a) => a['labels']['instance']), [`${SECONDARY}:${ADMIN_PORT}`]);
    assert.equal(down[0]!['labels']['severity'], 'critical');
    assert.deepEqual(await firing('DhcpFailoverPartnerDown'), [], 'not partner-down yet');
  });

  it('ctl partner-down on the primary: DhcpFailoverPartnerDown fires for the primary', async () => {
    const r = await getJson(`http://${PRIMARY}:${ADMIN_PORT}/failover/partner-down`, { method: 'POST' });
    assert.equal(r?.['done'], true, `partner-down answered ${JSON.stringify(r)}`);
    await until('primary PARTNER-DOWN', async () => (await stateOf(PRIMARY)) === 'partner-down', 10_000);
    const pd = await until('DhcpFailoverPartnerDown firing', async () => { const a = await firing('DhcpFailoverPartnerDown'); return a.length > 0 ? a : undefined; }, 30_000);
    assert.equal(pd.length, 1);
    assert.equal(pd[0]!['labels']['relationship'], RELATIONSHIP);
    assert.equal(pd[0]!['labels']['server'], 'prom-primary');
    assert.equal(pd[0]!['labels']['severity'], 'critical');
    assert.match(String(pd[0]!['annotations']['summary']), /prom-primary of prom-pair is serving alone/);
  });

  it('secondary restarted: it recovers (UPDREQALL: its memory store is empty), both NORMAL, and the alerts resolve', async () => {
    const primaryLogBefore = readFileSync(join(dir, 'primary.log'), 'utf8').length;
    secondary = startServer('secondary');
    await until('both servers NORMAL again', async () => (await stateOf(PRIMARY)) === 'normal' && (await stateOf(SECONDARY)) === 'normal', 60_000);
    // The restarted secondary waits MCLT (15 s) in RECOVER-WAIT first (an empty store is a lost database),
    // long enough for DhcpFailoverNotNormal and DhcpFailoverPartnerReportsPartnerDown to fire too: wait for all.
    await until('every alert resolved', async () => {
      const a = await alerts();
      return a !== undefined && !a.some((x) => x['state'] === 'firing');
    }, 30_000);
    const left = ((await alerts()) ?? []).filter((a) => a['state'] === 'firing').map((a) => a['labels']['alertname'] as string);
    assert.deepEqual(left, [], 'no alert left firing');
    // docs/operations.md: a server that lost its store asks the partner for everything.
    const since = readFileSync(join(dir, 'primary.log'), 'utf8').slice(primaryLogBefore);
    assert.match(since, /"event":"failover\.updates\.answering","message":"UPDREQALL"/, 'the primary answered an UPDREQALL from the restarted secondary');
  });
});
