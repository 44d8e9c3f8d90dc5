// Parses one `perfdhcp -4 ... -x t` output file into metrics (KEY=VALUE lines, or JSON with --json).
//
//   node bench/parse-perfdhcp.ts FILE [--json]
//
// perfdhcp prints min/avg/max/std-dev per exchange type only; with `-x t` it also dumps the send and
// receive timestamps of every exchange ("sent / received: <t1> / <t2>") per exchange type, from which
// the percentiles here are computed. The dump does not say which DISCOVER-OFFER belongs to which
// REQUEST-ACK, so DO and RA are reported separately (a whole-DORA percentile is not derivable).
// Loss = 1 - ACKs received / DISCOVERs sent (a reply later than perfdhcp's drop time counts as lost).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface PhaseStats {
  sent?: number; recv?: number; drops?: number; dropPct?: number; orphans?: number;
  minMs?: number; avgMs?: number; maxMs?: number; stdMs?: number;
  p50Ms?: number; p95Ms?: number; p99Ms?: number; samples: number;
}

export interface PerfdhcpMetrics {
  /** Achieved 4-way exchanges per second, as perfdhcp reports it. */
  rate?: number;
  rateExpected?: number;
  lossPct: number;
  do: PhaseStats;
  ra: PhaseStats;
}

/** Linear-interpolation percentile (the same definition as numpy's default). `sorted` ascending. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const k = (sorted.length - 1) * (p / 100);
  const lo = Math.floor(k);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const a = sorted[lo] as number, b = sorted[hi] as number;
  return a + (b - a) * (k - lo);
}

const STAT_KEYS: Record<string, keyof PhaseStats> = {
  'sent packets': 'sent', 'received packets': 'recv', drops: 'drops', 'drops ratio': 'dropPct', orphans: 'orphans',
  'min delay': 'minMs', 'avg delay': 'avgMs', 'max delay': 'maxMs', 'std deviation': 'stdMs',
};

export function parsePerfdhcp(text: string): PerfdhcpMetrics {
  const phases = { do: { samples: 0 } as PhaseStats, ra: { samples: 0 } as PhaseStats };
  const latencies: Record<'do' | 'ra', number[]> = { do: [], ra: [] };
  let statsOf: 'do' | 'ra' | undefined;
  let stampsOf: 'do' | 'ra' | undefined;
  let rate: number | undefined, rateExpected: number | undefined;
  for (const line of text.split('\n')) {
    const r = /^Rate: ([\d.]+) 4-way exchanges\/second, expected rate: ([\d.]+)/.exec(line);
    if (r) { rate = Number(r[1]); rateExpected = Number(r[2]); continue; }
    if (line.startsWith('***Statistics for: DISCOVER-OFFER')) { statsOf = 'do'; stampsOf = undefined; continue; }
    if (line.startsWith('***Statistics for: REQUEST-ACK')) { statsOf = 'ra'; stampsOf = undefined; continue; }
    if (line.startsWith('***Timestamps for packets: DISCOVER-OFFER')) { stampsOf = 'do'; statsOf = undefined; continue; }
    if (line.startsWith('***Timestamps for packets: REQUEST-ACK')) { stampsOf = 'ra'; statsOf = undefined; continue; }
    if (line.startsWith('***')) { statsOf = undefined; stampsOf = undefined; continue; }
    if (stampsOf && line.startsWith('sent / received:')) {
      const [a, b] = line.slice(line.indexOf(':') + 1).split('/').map((s) => Number(s.trim()));
      if (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b)) latencies[stampsOf].push((b - a) * 1000);
      continue;
    }
    const m = /^(sent packets|received packets|drops ratio|drops|orphans|min delay|avg delay|max delay|std deviation):\s*([-\d.eE+]+)/.exec(line);
    if (m && statsOf) {
      const key = STAT_KEYS[m[1] as string];
      if (key && key !== 'samples') phases[statsOf][key] = Number(m[2]);
    }
  }
  for (const ph of ['do', 'ra'] as const) {
    const sorted = latencies[ph].sort((x, y) => x - y);
    Object.assign(phases[ph], { samples: sorted.length, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95), p99Ms: percentile(sorted, 99) });
  }
  const doSent = phases.do.sent ?? 0;
  const raRecv = phases.ra.recv ?? 0;
  return { rate, rateExpected, lossPct: doSent > 0 ? (100 * (doSent - raRecv)) / doSent : 100, do: phases.do, ra: phases.ra };
}

/** Flat KEY=VALUE form for shell scripts (unknown values are omitted). */
export function toKeyValues(m: PerfdhcpMetrics): string {
  const out: [string, number | undefined][] = [['rate', m.rate], ['rate_expected', m.rateExpected], ['loss_pct', m.lossPct]];
  for (const ph of ['do', 'ra'] as const) {
    const s = m[ph];
    out.push([`${ph}_sent`, s.sent], [`${ph}_recv`, s.recv], [`${ph}_drop_pct`, s.dropPct], [`${ph}_avg`, s.avgMs],
      [`${ph}_p50`, s.p50Ms], [`${ph}_p95`, s.p95Ms], [`${ph}_p99`, s.p99Ms], [`${ph}_samples`, s.samples]);
  }
  return out.filter(([, v]) => v !== undefined && Number.isFinite(v)).map(([k, v]) => `${k}=${Number((v as number).toFixed(3))}`).join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, flag] = process.argv.slice(2);
  if (!file) { process.stderr.write('usage: node bench/parse-perfdhcp.ts FILE [--json]\n'); process.exit(2); }
  const metrics = parsePerfdhcp(readFileSync(file, 'utf8'));
  process.stdout.write(flag === '--json' ? `${JSON.stringify(metrics, null, 2)}\n` : `${toKeyValues(metrics)}\n`);
}
