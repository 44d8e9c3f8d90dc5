// Failover pair benchmark (issue 3): the same measurements for our pair, an ISC dhcpd failover pair
// and a Kea HA pair, in one network-namespace lab (test/fakes/netns-lab.ts), on the same machine:
//   dora      highest DORA rate with < 1 % loss (perfdhcp relaying to both servers; fresh pair per rate),
//             with, for ours, the BNDUPD → BNDACK latency at each rate;
//   takeover  a stream of new clients (one every 100 ms, each retrying DISCOVER every second with a
//             growing secs, as real clients do) while the primary is killed: how long clients that
//             arrive after the kill wait for a lease from the survivor;
//   resync    N clients leased on the pair; the secondary restarts with an empty lease database: time
//             until it holds its partner's bindings again (ours: NORMAL; ISC: leaves RECOVER; Kea:
//             back in load-balancing after its sync).
// Usage (root; Debian packages perfdhcp/kea-admin, isc-dhcp-server, kea-dhcp4-server, redis-server):
//   node_modules/.bin/node bench/failover.ts [--systems "ours isc kea"] [--phases "dora takeover resync"]
//       [--rates "500 1000 1500 2000 3000"] [--duration 10] [--resync 50000] [--out DIR]
// Prints a markdown summary and writes it, with raw figures (JSON), to OUT (default bench/results/failover-<ts>).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLab, type Lab } from '../test/fakes/netns-lab.ts';
import { sleep } from '../test/fakes/processes.ts';
import { macOf, type Acquired } from '../test/fakes/relay-client.ts';
import { makeSystem, type PairSystem } from './failover-systems.ts';
import { parsePerfdhcp, percentile } from './parse-perfdhcp.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const CLIENT_CLI = join(ROOT, 'test/fakes/relay-client-cli.ts');

const { values } = parseArgs({
  options: {
    systems: { type: 'string', default: 'ours isc kea' }, phases: { type: 'string', default: 'dora takeover resync' },
    rates: { type: 'string', default: '500 1000 1500 2000 3000' }, duration: { type: 'string', default: '10' },
    resync: { type: 'string', default: '50000' }, out: { type: 'string' },
  },
});
const systems = values.systems.split(/\s+/).filter(Boolean);
const phases = new Set(values.phases.split(/\s+/).filter(Boolean));
const rates = values.rates.split(/\s+/).filter(Boolean).map(Number);
const duration = Number(values.duration);
const resyncLeases = Number(values.resync);
const out = values.out ?? join(ROOT, 'bench/results', `failover-${new Date().toISOString().replace(/[:.]/g, '-')}`);
const say = (msg: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  for (let i = 0; Date.now() - start < timeoutMs && i < 100_000; i++) {
    if (await probe().catch(() => false)) return Date.now() - start;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function freshPair(sys: PairSystem): Promise<void> {
  await sys.stopAll();
  sys.start('srv1', true);
  sys.start('srv2', true);
  await until(`${sys.name} pair ready`, () => sys.ready(), 90_000);
}

/** The relay client simulator in the perf namespace (giaddr 10.100.0.1, unicast to both servers). */
async function simulate(lab: Lab, clients: { mac: string }[], o: { timeoutMs: number; concurrency?: number; staggerMs?: number }): Promise<(Acquired | null)[]> {
  const plan = join(lab.dir, `plan-${Date.now()}.json`);
  writeFileSync(plan, JSON.stringify({ clients, retryMs: 1000, ...o }));
  const span = o.staggerMs !== undefined ? clients.length * o.staggerMs + o.timeoutMs : Math.ceil(clients.length / (o.concurrency ?? 20)) * o.timeoutMs;
  const res = await lab.exec('perf', NODE, ['--disable-warning=ExperimentalWarning', CLIENT_CLI, '--relay', '10.100.0.1', '--targets', '10.99.0.2,10.99.0.3', '--plan', plan], { timeoutMs: span + 30_000 });
  return JSON.parse(res.stdout) as (Acquired | null)[];
}

interface DoraRow { rate: number; achieved?: number; lossPct?: number; doP50?: number; doP95?: number; raP50?: number; raP95?: number; pass: boolean; extra?: Record<string, string> }

async function dora(lab: Lab, sys: PairSystem): Promise<{ best?: DoraRow; rows: DoraRow[] }> {
  const rows: DoraRow[] = [];
  let best: DoraRow | undefined;
  for (const rate of rates) {
    await freshPair(sys);
    await sleep(1000);
    const res = await lab.exec('perf', 'perfdhcp', ['-4', '-l', 'eth0', '-r', String(rate), '-R', '10000', '-p', String(duration), '-x', 't'], { timeoutMs: (duration + 30) * 1000, allowFail: true });
    writeFileSync(join(out, `${sys.name}-dora-r${rate}.txt`), res.stdout.split('\n').filter((l) => !l.startsWith('sent / received')).join('\n'));
    const m = parsePerfdhcp(res.stdout);
    const pass = m.lossPct < 1 && (m.rate ?? 0) >= 0.95 * rate;
    const row: DoraRow = { rate, achieved: m.rate, lossPct: m.lossPct, doP50: m.do.p50Ms, doP95: m.do.p95Ms, raP50: m.ra.p50Ms, raP95: m.ra.p95Ms, pass, ...(sys.extra ? { extra: await sys.extra() } : {}) };
    rows.push(row);
    say(`${sys.name} r=${rate}: ${m.rate?.toFixed(0)}/s loss ${m.lossPct.toFixed(2)} % ${pass ? 'PASS' : 'FAIL'} ${Object.values(row.extra ?? {}).join(' ')}`);
    if (!pass) break;
    best = row;
  }
  await sys.stopAll();
  return { ...(best ? { best } : {}), rows };
}

interface Takeover { clientsAfterKill: number; served: number; p50Ms?: number; p95Ms?: number; maxMs?: number; survivorOnly: boolean }

async function takeover(lab: Lab, sys: PairSystem): Promise<Takeover> {
  await freshPair(sys);
  const clients = Array.from({ length: 120 }, (_, i) => ({ mac: macOf(0xe0, i) }));
  const stream = simulate(lab, clients, { timeoutMs: 45_000, staggerMs: 100 });
  await sleep(3000);
  const killedAt = Date.now();
  await sys.kill('srv1');
  say(`${sys.name}: primary killed`);
  const results = (await stream).filter((r, i) => (r?.startedAt ?? 0) >= killedAt || (r === null && i * 100 >= 3000));
  const served = results.filter((r): r is Acquired => r !== null);
  const delays = served.map((r) => r.ms).sort((a, b) => a - b);
  await sys.stopAll();
  return {
    clientsAfterKill: results.length, served: served.length,
    p50Ms: percentile(delays, 50), p95Ms: percentile(delays, 95), maxMs: delays.at(-1),
    survivorOnly: served.every((r) => r.server === '10.99.0.3'),
  };
}

interface Resync { leased: number; seconds?: number; bindingsAfter?: number; error?: string }

async function resync(lab: Lab, sys: PairSystem): Promise<Resync> {
  await freshPair(sys);
  const t0 = Date.now();
  const got = await simulate(lab, Array.from({ length: resyncLeases }, (_, i) => ({ mac: macOf(0xf0, i) })), { timeoutMs: 5000, concurrency: 64 });
  const leased = got.filter((r) => r !== null).length;
  say(`${sys.name}: ${leased} of ${resyncLeases} clients leased in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  await sleep(3000); // the last binding updates
  await sys.kill('srv2');
  await sys.wipe('srv2');
  const start = Date.now();
  sys.start('srv2', false);
  try {
    await until(`${sys.name} secondary resynced`, () => sys.resynced('srv2'), 600_000);
    const seconds = (Date.now() - start) / 1000;
    const bindingsAfter = await sys.bindings('srv2');
    return { leased, seconds, bindingsAfter };
  } catch (err) {
    return { leased, error: String(err) };
  } finally {
    await sys.stopAll();
  }
}

const f = (n: number | undefined, d = 2) => (n === undefined ? '–' : n.toFixed(d));

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const lab = await createLab({ prefix: `b${process.pid % 1000}f`, servers: 2, clients: 0, perf: true });
  const results: Record<string, { label: string; dora?: Awaited<ReturnType<typeof dora>>; takeover?: Takeover; resync?: Resync }> = {};
  const stop = async () => { await lab.destroy(); process.exit(130); };
  process.once('SIGINT', () => void stop());
  try {
    for (const name of systems) {
      const small = makeSystem(name, lab, 'small'), large = makeSystem(name, lab, 'large');
      const r: (typeof results)[string] = { label: small.label };
      results[name] = r;
      const phase = async <T>(what: string, sys: PairSystem, run: () => Promise<T>): Promise<T | undefined> => {
        if (!phases.has(what)) return undefined;
        try { return await run(); } catch (err) { say(`${name} ${what}: ${String(err)}`); return undefined; } finally { await sys.stopAll(); }
      };
      const d = await phase('dora', small, () => dora(lab, small));
      if (d) r.dora = d;
      const t = await phase('takeover', small, () => takeover(lab, small));
      if (t) r.takeover = t;
      const s = await phase('resync', large, () => resync(lab, large));
      if (s) r.resync = s;
    }
  } finally {
    await lab.destroy();
  }
  const lines = [
    `## Failover pair benchmark (${new Date().toISOString()})`, '',
    `Lab: two server namespaces on one bridge, perfdhcp / relay client in a third (giaddr 10.100.0.1; a /18 scope, a /16 for the resync).`,
    `DORA: \`perfdhcp -4 -l eth0 -r RATE -R 10000 -p ${duration} -x t\`, fresh pair per rate; pass = loss < 1 % and ≥ 95 % of the rate.`,
    `Takeover: 120 new clients, one every 100 ms, DISCOVER retried every 1 s (secs grows), primary killed at +3 s; delays of clients that arrived after the kill.`,
    `Resync: ${resyncLeases} clients leased, then the secondary is killed, its lease database emptied and it is restarted.`,
    `Settings on every pair: MCLT ${60} s, automatic partner-down after 10 s, max-response-delay 10 s, load balance max seconds 3 (ISC and ours).`, '',
    '| pair | max DORA/s (< 1 % loss) | at that rate: achieved, loss, DO p50/p95 ms, RA p50/p95 ms | next rate | takeover: new clients served after the kill, delay p50 / p95 / max | resync of the secondary |',
    '|---|---|---|---|---|---|',
  ];
  for (const [name, r] of Object.entries(results)) {
    const b = r.dora?.best, next = r.dora?.rows.find((x) => !x.pass);
    const t = r.takeover, s = r.resync;
    lines.push(`| ${r.label} | ${b ? b.rate : '–'} | ${b ? `${f(b.achieved, 0)}/s, ${f(b.lossPct)} %, ${f(b.doP50)}/${f(b.doP95)}, ${f(b.raP50)}/${f(b.raP95)}${b.extra ? `; ${Object.values(b.extra).join('; ')}` : ''}` : '–'} | ${next ? `${next.rate}: ${f(next.achieved, 0)}/s, ${f(next.lossPct)} %` : 'none failed'} | ${t ? `${t.served}/${t.clientsAfterKill}, ${f((t.p50Ms ?? NaN) / 1000, 1)} / ${f((t.p95Ms ?? NaN) / 1000, 1)} / ${f((t.maxMs ?? NaN) / 1000, 1)} s${t.survivorOnly ? '' : ' (some from the killed server?)'}` : '–'} | ${s ? (s.error ? `${s.leased} leased; ${s.error}` : `${s.leased} leased; ${f(s.seconds, 1)} s; ${s.bindingsAfter} bindings after`) : '–'} |`);
    void name;
  }
  const md = lines.join('\n') + '\n';
  writeFileSync(join(out, 'summary.md'), md);
  writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 1));
  process.stdout.write(md);
  say(`results in ${out}`);
}

await main();
