// A scope's dynamic pool, precomputed once per config: its ranges minus exclusions as sorted,
// disjoint intervals, plus the reserved addresses. Pure data; the allocator walks it.
import type { IpRange, Reservation, Scope } from '../config/schema.ts';
import { cidrContains, type Ipv4 } from '../net/ipv4.ts';

export interface ScopePlan {
  readonly scope: Scope;
  /** Dynamic addresses: ranges minus exclusions, sorted and disjoint. */
  readonly intervals: readonly IpRange[];
  /** Offsets: intervalStart[i] is the pool index of intervals[i].start. */
  readonly intervalStart: readonly number[];
  readonly size: number;
  readonly reservedIps: ReadonlySet<Ipv4>;
  readonly reservationsByClient: ReadonlyMap<string, Reservation>;
}

/** Subtracts `cut` from sorted disjoint `ranges`. */
export function subtractRanges(ranges: readonly IpRange[], cuts: readonly IpRange[]): IpRange[] {
  let current = mergeRanges(ranges);
  for (const cut of cuts) {
    const next: IpRange[] = [];
    for (const r of current) {
      if (cut.end < r.start || cut.start > r.end) { next.push(r); continue; }
      if (cut.start > r.start) next.push({ start: r.start, end: cut.start - 1 });
      if (cut.end < r.end) next.push({ start: cut.end + 1, end: r.end });
    }
    current = next;
  }
  return current;
}

export function mergeRanges(ranges: readonly IpRange[]): IpRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: IpRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1) out[out.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    else out.push({ start: r.start, end: r.end });
  }
  return out;
}

export function planScope(scope: Scope): ScopePlan {
  const intervals = subtractRanges(scope.ranges, scope.exclusions);
  const intervalStart: number[] = [];
  let size = 0;
  for (const r of intervals) { intervalStart.push(size); size += r.end - r.start + 1; }
  const reservedIps = new Set<Ipv4>();
  const reservationsByClient = new Map<string, Reservation>();
  for (const res of scope.reservations) {
    reservedIps.add(res.ip);
    if (res.clientId !== undefined) reservationsByClient.set(`id:${res.clientId}`, res);
    if (res.hw !== undefined) reservationsByClient.set(`hw:${res.hw}`, res);
  }
  return { scope, intervals, intervalStart, size, reservedIps, reservationsByClient };
}

/** The address at pool index i (0 <= i < size). Binary search over the intervals. */
export function addressAt(plan: ScopePlan, i: number): Ipv4 {
  let lo = 0, hi = plan.intervals.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (plan.intervalStart[mid]! <= i) lo = mid; else hi = mid - 1;
  }
  return plan.intervals[lo]!.start + (i - plan.intervalStart[lo]!);
}

/** Addresses of the plan's pool that are not reserved (reserved ones are never handed out dynamically). */
export function dynamicPoolSize(plan: ScopePlan): number {
  let reservedInPool = 0;
  for (const ip of plan.reservedIps) if (plan.intervals.some((r) => ip >= r.start && ip <= r.end)) reservedInPool++;
  return plan.size - reservedInPool;
}

/** True when `ip` may be handed out dynamically (in a range, not excluded, not reserved). */
export function isDynamic(plan: ScopePlan, ip: Ipv4): boolean {
  if (plan.reservedIps.has(ip)) return false;
  for (const r of plan.intervals) if (ip >= r.start && ip <= r.end) return true;
  return false;
}

export function inSubnet(plan: ScopePlan, ip: Ipv4): boolean {
  return cidrContains(plan.scope.subnet, ip);
}

/** The client's reservation: by client identifier first, then by hardware address. */
export function reservationFor(plan: ScopePlan, clientKey: string, hwKey: string | undefined): Reservation | undefined {
  return plan.reservationsByClient.get(clientKey) ?? (hwKey !== undefined ? plan.reservationsByClient.get(`hw:${hwKey}`) : undefined);
}
