// The chaos harness (issue 6): a failover pair in network namespaces, each server with its own
// redis-server (AOF, fsync always), a fleet of simulated clients (fleet.ts) behind a relay, and a
// fault schedule drawn from a seed: cut/heal the link between the servers, kill -9 and restart a server,
// freeze one (SIGSTOP/SIGCONT), restart a Redis (kill -9, AOF reload), wipe a server's store (lost
// volume), skew a server's clock (libfaketime), drop a share of the failover traffic (iptables), slow
// the failover traffic down (htb rate limit: queueing delay and drops; the kernel here has no netem, see
// slow-link.ts). Then everything is healed and checker.ts gives the verdict.
// The seed and the fault log are in the report, so a failure can be replayed with the same seed.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/leases/open-store.ts';
import { formatIpv4 } from '../../src/net/ipv4.ts';
import { createLab, type Lab } from '../fakes/netns-lab.ts';
import { sleep, within, type TrackedProcess } from '../fakes/processes.ts';
import { startLabRedis } from '../fakes/redis-server.ts';
import { histogramBuckets, quantileBetween, restoreFailoverLink, slowFailoverLink } from './slow-link.ts';
import { converged, findDuplicates, holdings, lostLeases, storeConflicts, unservedAttempts, type StoreBinding, type Timeline } from './checker.ts';
import type { FleetEvent } from './fleet.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/dhcp-failover');
const NODE = join(ROOT, 'node_modules/.bin/node');
const FLEET = join(ROOT, 'test/chaos/fleet.ts');
export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const NODES = ['srv1', 'srv2'] as const;
type Node = (typeof NODES)[number];
const IP: Record<Node, string> = { srv1: '10.99.0.2', srv2: '10.99.0.3' };
const SETTINGS = { leaseS: 60, mcltS: 15, switchoverS: 5 } as const;

export const FAULT_KINDS = ['cut', 'kill', 'freeze', 'redis-restart', 'wipe', 'skew', 'drop', 'slow'] as const;
/** Rates a 'slow' fault draws from: at 1,000 clients the failover stream needs roughly 40–60 kbit/s. */
const SLOW_KBITS = [8, 16, 32, 64] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  readonly seed: number;
  /** Length of the fault phase. */
  readonly faultMs: number;
  readonly clients: number;
  readonly prefix: string;
  readonly kinds?: readonly FaultKind[];
  readonly log?: (line: string) => void;
  /** Checker self-test: two servers WITHOUT failover serving one pool; the checker must report duplicates. */
  readonly brokenPair?: boolean;
  /** Calm after the last fault while clients keep renewing (default 45 s). */
  readonly settleMs?: number;
}

export interface ChaosReport {
  readonly seed: number;
  readonly clients: number;
  readonly minutes: number;
  readonly faults: readonly string[];
  readonly acks: number;
  readonly attempts: number;
  readonly failedAttempts: number;
  readonly duplicates: readonly string[];
  readonly storeConflicts: readonly string[];
  readonly lostLeases: readonly string[];
  readonly converged: boolean;
  readonly convergenceDiff: string;
  readonly unserved: number;
  readonly bothNormalAtEnd: boolean;
  readonly labDir: string;
}

/** mulberry32: a small seeded PRNG, so a seed replays the same schedule. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PlannedFault { readonly at: number; readonly kind: FaultKind; readonly node: Node; readonly holdMs: number; readonly kbit?: number }

/** The schedule for a seed (pure): faults of 4–12 s separated by 4–8 s of calm, within `faultMs`. */
export function schedule(seed: number, faultMs: number, kinds: readonly FaultKind[] = FAULT_KINDS): PlannedFault[] {
  const rnd = prng(seed);
  const out: PlannedFault[] = [];
  for (let at = 5000; at < faultMs && out.length < 1000;) {
    const kind = kinds[Math.floor(rnd() * kinds.length)]!;
    const holdMs = 4000 + Math.floor(rnd() * 8000);
    const node = rnd() < 0.5 ? 'srv1' : 'srv2';
    out.push(kind === 'slow' ? { at, kind, node, holdMs, kbit: SLOW_KBITS[Math.floor(rnd() * SLOW_KBITS.length)]! } : { at, kind, node, holdMs });
    at += holdMs + 4000 + Math.floor(rnd() * 4000);
  }
  return out;
}

function config(node: Node, socket: string, broken = false): string {
  const partner = node === 'srv1' ? 'srv2' : 'srv1';
  const failover = `failover:
  relationship: chaos
  role: ${node === 'srv1' ? 'primary' : 'secondary'}
  address: ${IP[node]}
  partner: { address: ${IP[partner]} }
  mode: load-balance
  mcltSeconds: ${SETTINGS.mcltS}
  stateSwitchoverSeconds: ${SETTINGS.switchoverS}
  maxResponseDelaySeconds: 3
  loadBalanceMaxSeconds: 3
  startupSeconds: 1
  sharedSecret: chaos-secret
`;
  return `server:
  name: ${node}
  serverId: ${IP[node]}
  listen: { address: 0.0.0.0, port: 67, interfaces: [eth0] }
  admin: { address: 127.0.0.1, port: 8067 }
  store: { type: redis, path: ${socket} }
  logLevel: info
scopes:
  - { name: perf, subnet: 10.100.0.0/20, ranges: [{ start: 10.100.0.10, end: 10.100.7.250 }], leaseSeconds: ${SETTINGS.leaseS} }
${broken ? '' : failover}`;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const say = o.log ?? (() => {});
  const lab: Lab = await createLab({ prefix: o.prefix, servers: 2, clients: 0, perf: true, keepDir: true });
  const t0 = Date.now();
  const rel = () => `+${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const faultLog: string[] = [];
  const note = (line: string) => { const l = `${rel()} ${line}`; faultLog.push(l); say(l); };
  const servers = new Map<Node, TrackedProcess>();
  const redis = new Map<Node, TrackedProcess>();
  // Every child here is detached and unref'd, and the harness spends minutes awaiting their exits: a ref'd
  // interval keeps this process's event loop alive meanwhile (without it, a moment with only unref'd
  // children pending ends the test run with "Promise resolution is still pending").
  const keepAlive = setInterval(() => undefined, 1000);
  const sock = (n: Node) => join(lab.dir, `redis-${n}`, 'redis.sock');
  try {
    const startRedis = async (n: Node) => { redis.set(n, (await startLabRedis(lab, n, join(lab.dir, `redis-${n}`))).proc); };
    const startServer = (n: Node, skewed = false) => {
      const file = join(lab.dir, `${n}.yaml`);
      writeFileSync(file, config(n, sock(n), o.brokenPair === true));
      const env = skewed ? { ...process.env, LD_PRELOAD: LIBFAKETIME, FAKETIME: '+20s' } : process.env;
      servers.set(n, lab.spawn(n, BIN, ['server', '--config', file], { logFile: join(lab.dir, `${n}.log`), env }));
    };
    const stopServer = async (n: Node, signal: NodeJS.Signals) => { await servers.get(n)?.stop({ signal, graceMs: 3000 }); servers.delete(n); };
    const state = async (n: Node) => {
      try {
        const s = JSON.parse((await lab.httpGet(n, 'http://127.0.0.1:8067/status', 1)).body) as { failover?: { state: string } };
        return s.failover?.state ?? 'normal'; // a standalone server (brokenPair) serves as if NORMAL
      } catch { return undefined; }
    };

    /** Both servers' BNDUPD→BNDACK histograms, summed (a server that does not answer counts as empty). */
    const ackLatency = async (): Promise<Map<number, number>> => {
      const sum = new Map<number, number>();
      for (const n of NODES) {
        const text = await lab.httpGet(n, 'http://127.0.0.1:8067/metrics', 2).then((r) => r.body, () => '');
        for (const [le, c] of histogramBuckets(text, 'dhcp_failover_update_ack_seconds')) sum.set(le, (sum.get(le) ?? 0) + c);
      }
      return sum;
    };

    for (const n of NODES) await startRedis(n);
    for (const n of NODES) startServer(n);
    for (let i = 0; i < 150; i++) { if ((await state('srv1')) === 'normal' && (await state('srv2')) === 'normal') break; await sleep(200); }

    const settleMs = o.settleMs ?? 45_000;
    // The self-test sends half of the clients to each server only, so two unsynchronised servers must collide.
    const fleetPlan = o.brokenPair === true
      ? [{ relay: '10.100.0.1', targets: IP.srv1, clients: Math.ceil(o.clients / 2), tag: 201 }, { relay: '10.100.8.1', targets: IP.srv2, clients: Math.floor(o.clients / 2), tag: 202 }]
      : [{ relay: '10.100.0.1', targets: `${IP.srv1},${IP.srv2}`, clients: o.clients, tag: 200 }];
    if (o.brokenPair === true) await lab.exec('perf', 'ip', ['addr', 'add', '10.100.8.1/32', 'dev', 'eth0']);
    const eventFiles = fleetPlan.map((_, i) => join(lab.dir, `fleet-${i}.jsonl`));
    const fleets = fleetPlan.map((f, i) => lab.spawn('perf', NODE, ['--disable-warning=ExperimentalWarning', FLEET, '--relay', f.relay, '--targets', f.targets,
      '--clients', String(f.clients), '--tag', String(f.tag), '--seconds', String(Math.ceil((o.faultMs + settleMs) / 1000)), '--out', eventFiles[i]!], { logFile: join(lab.dir, `fleet-${i}.log`) }));
    const timeline: { t: number; states: (string | undefined)[] }[] = [];
    let sampling = true;
    const sampler = (async () => { for (let i = 0; sampling && i < 100_000; i++) { timeline.push({ t: Date.now(), states: await Promise.all(NODES.map(state)) }); await sleep(1000); } })();

    const start = Date.now();
    for (const f of schedule(o.seed, o.faultMs, o.kinds)) {
      const wait = start + f.at - Date.now();
      if (wait > 0) await sleep(wait);
      let detail = '';
      note(`${f.kind} ${f.node}${f.kbit !== undefined ? ` to ${f.kbit} kbit/s` : ''} for ${(f.holdMs / 1000).toFixed(1)} s`);
      switch (f.kind) {
        case 'cut': await lab.cut(); await sleep(f.holdMs); await lab.heal(); break;
        case 'kill': await stopServer(f.node, 'SIGKILL'); await sleep(f.holdMs); startServer(f.node); break;
        case 'freeze': servers.get(f.node)?.signal('SIGSTOP'); await sleep(f.holdMs); servers.get(f.node)?.signal('SIGCONT'); break;
        case 'redis-restart': await redis.get(f.node)?.stop({ signal: 'SIGKILL' }); await sleep(Math.min(f.holdMs, 5000)); await startRedis(f.node); break;
        case 'wipe':
          await stopServer(f.node, 'SIGKILL');
          await lab.exec(f.node, 'redis-cli', ['-s', sock(f.node), 'flushall']);
          await sleep(Math.min(f.holdMs, 3000));
          startServer(f.node);
          break;
        case 'skew': await stopServer(f.node, 'SIGTERM'); startServer(f.node, true); await sleep(f.holdMs); await stopServer(f.node, 'SIGTERM'); startServer(f.node); break;
        case 'slow': {
          const before = await ackLatency();
          await slowFailoverLink(lab, f.node, f.kbit ?? 16);
          await sleep(f.holdMs);
          const { packets, dropped } = await restoreFailoverLink(lab, f.node);
          const after = await ackLatency();
          const p50 = quantileBetween(before, after, 0.5), p95 = quantileBetween(before, after, 0.95);
          detail = `: ${packets} packets through the queue, ${dropped} dropped; BNDUPD→BNDACK in the window: ${p95.count} acks, p50 ≤ ${p50.atMost} s, p95 ≤ ${p95.atMost} s`;
          break;
        }
        case 'drop': {
          const rules = [['OUTPUT', '--dport'], ['OUTPUT', '--sport']] as const;
          for (const [chain, port] of rules) await lab.exec(f.node, 'iptables', ['-A', chain, '-p', 'tcp', port, '647', '-m', 'statistic', '--mode', 'random', '--probability', '0.3', '-j', 'DROP']);
          await sleep(f.holdMs);
          for (const [chain, port] of rules) await lab.exec(f.node, 'iptables', ['-D', chain, '-p', 'tcp', port, '647', '-m', 'statistic', '--mode', 'random', '--probability', '0.3', '-j', 'DROP'], { allowFail: true });
          break;
        }
      }
      note(`healed ${f.kind} ${f.node}${detail}`);
    }
    // Everything healthy again: both running, both NORMAL.
    for (const n of NODES) if (!servers.get(n)?.running) startServer(n);
    let bothNormal = false;
    for (let i = 0; i < 450 && !bothNormal; i++) { bothNormal = (await state('srv1')) === 'normal' && (await state('srv2')) === 'normal'; if (!bothNormal) await sleep(200); }
    note(bothNormal ? 'both NORMAL' : 'NOT both NORMAL after 90 s');
    const fleetDeadline = start + o.faultMs + settleMs + 60_000;
    for (const f of fleets) await within(f.exited, Math.max(0, fleetDeadline - Date.now()));
    for (const f of fleets) if (f.running) { say(`${rel()} fleet still running a minute past its end: stopped`); await f.stop(); }
    sampling = false;
    await sampler;
    say(`${rel()} fleet finished; reading both stores`);

    const fleetEvents = eventFiles.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FleetEvent));
    const readStore = async (n: Node): Promise<StoreBinding[]> => {
      const store = await openStore({ type: 'redis', path: sock(n), keyPrefix: 'dhcp:' } as Parameters<typeof openStore>[0]);
      try {
        return (await store.loadAll()).filter((l) => l.state === 'active' && l.hw !== undefined)
          .map((l) => ({ ip: formatIpv4(l.ip), mac: l.hw!.replace(/^1:/, '').replace(/(..)(?=.)/g, '$1:'), expiresAt: l.expiresAt }));
      } finally { await store.close(); }
    };
    let stores: StoreBinding[][] = [];
    let conv = { ok: false, onlyA: [] as string[], onlyB: [] as string[] };
    for (let i = 0; i < 60 && !conv.ok; i++) {
      stores = [await readStore('srv1'), await readStore('srv2')];
      conv = converged(stores[0]!, stores[1]!, Date.now());
      if (!conv.ok) await sleep(500);
    }
    const now = Date.now();
    const dups = findDuplicates(holdings(fleetEvents), 2000).map((d) => `${d.ip}: ${d.a.mac} [${new Date(d.a.from).toISOString()}–${new Date(d.a.to).toISOString()}] and ${d.b.mac} from ${new Date(d.b.from).toISOString()}`);
    const attempts = fleetEvents.filter((e) => e.type === 'attempt');
    return {
      seed: o.seed, clients: o.clients, minutes: (Date.now() - t0) / 60_000, faults: faultLog,
      acks: fleetEvents.filter((e) => e.type === 'ack').length,
      attempts: attempts.length, failedAttempts: attempts.filter((e) => e.type === 'attempt' && !e.ok).length,
      duplicates: dups,
      storeConflicts: storeConflicts(stores[0] ?? [], stores[1] ?? [], now),
      lostLeases: [...lostLeases(fleetEvents, stores[0] ?? [], 5000).map((x) => `srv1: ${x}`), ...lostLeases(fleetEvents, stores[1] ?? [], 5000).map((x) => `srv2: ${x}`)],
      converged: conv.ok, convergenceDiff: `srv1 only ${conv.onlyA.length} (${conv.onlyA.slice(0, 3).join(' ')}), srv2 only ${conv.onlyB.length} (${conv.onlyB.slice(0, 3).join(' ')})`,
      unserved: unservedAttempts(fleetEvents, timeline as Timeline).length,
      bothNormalAtEnd: bothNormal,
      labDir: lab.dir,
    };
  } finally {
    await lab.destroy();
    clearInterval(keepAlive);
  }
}
