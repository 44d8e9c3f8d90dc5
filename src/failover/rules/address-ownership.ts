// Which server owns each free address of our own pairs (DESIGN.md "Pool ownership"): every scope's
// dynamic addresses (ranges minus exclusions, minus reservations) are ranked in address order, and the
// secondary owns the top `secondaryCountOf(n, share)` of them, the primary the rest. Exact to within
// one address on every pool, whatever its size or where it starts, and each side owns at least one
// address whenever its share is above 0 and the pool has two or more. Reserved addresses belong to
// one client only, so either server may give them to it. Pure: built from the scope plans.
import { createHash } from 'node:crypto';
import type { ScopePlan } from '../../dhcp/pool.ts';
import type { IpRange } from '../../config/schema.ts';
import type { Ipv4 } from '../../net/ipv4.ts';
import type { Role } from '../protocol/states.ts';

export type Owner = Role | 'either';

/** What ownership depends on: per pool, its dynamic intervals and its reserved addresses. */
export interface PoolLayout {
  readonly intervals: readonly IpRange[];
  readonly reserved: readonly Ipv4[];
}

interface PoolSplit {
  readonly intervals: readonly IpRange[];
  readonly intervalStart: readonly number[];
  /** Sorted pool indexes of the reserved addresses inside the intervals. */
  readonly reservedIndexes: readonly number[];
  readonly dynamic: number;
  readonly secondaryCount: number;
}

export interface OwnershipScheme {
  /** Same layout and share ⇔ same fingerprint (scope names do not matter). */
  readonly fingerprint: string;
  readonly secondaryPercent: number;
  readonly layout: readonly PoolLayout[];
  readonly pools: readonly PoolSplit[];
  /** Every interval of every pool, sorted by start, for the address → pool lookup. */
  readonly index: readonly { readonly start: Ipv4; readonly end: Ipv4; readonly pool: number; readonly interval: number }[];
  readonly reserved: ReadonlySet<Ipv4>;
}

/** How many of `n` dynamic addresses the secondary owns for a share of `percent`. */
export function secondaryCountOf(n: number, percent: number): number {
  if (n <= 0) return 0;
  let k = Math.floor((n * percent + 50) / 100);
  if (n >= 2 && percent > 0 && k === 0) k = 1;
  if (n >= 2 && percent < 100 && k === n) k = n - 1;
  return k;
}

export function layoutOf(plans: readonly ScopePlan[]): PoolLayout[] {
  return plans.map((p) => ({
    intervals: p.intervals,
    // Every reservation, in a range or not: either server may give it to its client.
    reserved: [...p.reservedIps].sort((a, b) => a - b),
  }));
}

export function schemeOf(layout: readonly PoolLayout[], secondaryPercent: number): OwnershipScheme {
  const sorted = [...layout].sort((a, b) => (a.intervals[0]?.start ?? 0) - (b.intervals[0]?.start ?? 0));
  const pools: PoolSplit[] = [];
  const index: { start: Ipv4; end: Ipv4; pool: number; interval: number }[] = [];
  const reserved = new Set<Ipv4>();
  const canon: string[] = [`v1;p=${secondaryPercent}`];
  for (const l of sorted) {
    const intervalStart: number[] = [];
    let size = 0;
    l.intervals.forEach((r, i) => { intervalStart.push(size); index.push({ start: r.start, end: r.end, pool: pools.length, interval: i }); size += r.end - r.start + 1; });
    const reservedIndexes = l.reserved.map((ip) => indexIn(l.intervals, intervalStart, ip)).filter((i) => i >= 0).sort((a, b) => a - b);
    for (const ip of l.reserved) reserved.add(ip);
    const dynamic = size - reservedIndexes.length;
    pools.push({ intervals: l.intervals, intervalStart, reservedIndexes, dynamic, secondaryCount: secondaryCountOf(dynamic, secondaryPercent) });
    canon.push(`${l.intervals.map((r) => `${r.start}-${r.end}`).join(',')}|${l.reserved.join(',')}`);
  }
  index.sort((a, b) => a.start - b.start);
  const fingerprint = createHash('sha256').update(canon.join(';')).digest('hex').slice(0, 32);
  return { fingerprint, secondaryPercent, layout: sorted, pools, index, reserved };
}

function indexIn(intervals: readonly IpRange[], intervalStart: readonly number[], ip: Ipv4): number {
  for (let i = 0; i < intervals.length; i++) {
    const r = intervals[i]!;
    if (ip >= r.start && ip <= r.end) return intervalStart[i]! + (ip - r.start);
  }
  return -1;
}

/** Number of sorted values below `x` (binary search). */
function countBelow(sorted: readonly number[], x: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid]! < x) lo = mid + 1; else hi = mid; }
  return lo;
}

/** The owner of `ip` under `scheme`; undefined when it is in no pool (never handed out dynamically). */
export function ownerIn(scheme: OwnershipScheme, ip: Ipv4): Owner | undefined {
  if (scheme.reserved.has(ip)) return 'either';
  const idx = scheme.index;
  let lo = 0, hi = idx.length - 1, hit = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (idx[mid]!.start <= ip) { hit = mid; lo = mid + 1; } else hi = mid - 1;
  }
  if (hit < 0 || ip > idx[hit]!.end) return undefined;
  const { pool: p, interval, start } = idx[hit]!;
  const pool = scheme.pools[p]!;
  const poolIndex = pool.intervalStart[interval]! + (ip - start);
  const rank = poolIndex - countBelow(pool.reservedIndexes, poolIndex);
  return rank >= pool.dynamic - pool.secondaryCount ? 'secondary' : 'primary';
}

/** Persisted form (the store's meta record): the layout and the share; the rest is derived. */
export interface StoredScheme { readonly p: number; readonly pools: readonly { readonly iv: readonly (readonly [number, number])[]; readonly r: readonly number[] }[] }

export function storeScheme(s: OwnershipScheme): StoredScheme {
  return { p: s.secondaryPercent, pools: s.layout.map((l) => ({ iv: l.intervals.map((r) => [r.start, r.end] as const), r: l.reserved })) };
}

export function loadScheme(s: StoredScheme): OwnershipScheme {
  return schemeOf(s.pools.map((l) => ({ intervals: l.iv.map(([start, end]) => ({ start, end })), reserved: l.r })), s.p);
}
