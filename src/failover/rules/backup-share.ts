// Pool balancing against a foreign partner (draft §7.1; ISC dhcpd, digest §7.2): free addresses are
// owned by binding state, FREE by the primary and BACKUP by the secondary. The primary keeps the
// secondary's BACKUP share of each pool's free-state addresses (FREE + BACKUP) at the configured
// percentage by sending BNDUPD(BACKUP). Pure: reads the lease view and the pool plans, returns the
// addresses to hand over. (Our own pairs split by address instead and never transfer: allocation-policy.ts.)
import { addressAt, type ScopePlan } from '../../dhcp/pool.ts';
import type { Lease } from '../../leases/lease.ts';
import type { LeaseView } from '../../leases/lease-index.ts';
import type { Ipv4 } from '../../net/ipv4.ts';

export interface PoolCount {
  readonly scope: string;
  /** FREE (or never used) addresses: the primary's. */
  readonly free: number;
  /** BACKUP addresses: the secondary's. */
  readonly backup: number;
}

export interface BalanceInput {
  readonly plans: readonly ScopePlan[];
  readonly leases: LeaseView;
  /** Percent of each pool's free-state addresses the secondary should hold as BACKUP. */
  readonly secondaryPercent: number;
  /** Addresses offered to a client right now are not handed over (the REQUEST would be NAKed). */
  readonly isOffered: (ip: Ipv4) => boolean;
  /** Upper bound on addresses handed over per run, so one run cannot flood the update queue. */
  readonly maxTransfers: number;
}

export interface BalancePlan {
  readonly counts: readonly PoolCount[];
  /** Addresses to move FREE → BACKUP, never-used ones first, then the longest-free. */
  readonly toBackup: readonly { readonly ip: Ipv4; readonly scope: string }[];
}

type Slot = 'free' | 'backup' | 'other';
function slotOf(lease: Lease | undefined): Slot {
  if (lease === undefined || lease.state === 'free') return 'free';
  return lease.state === 'backup' ? 'backup' : 'other';
}

/** What the primary should hand over now. A pool at or above its share gets nothing (no reclaiming). */
export function planBackupTransfers(input: BalanceInput): BalancePlan {
  const counts: PoolCount[] = [];
  const toBackup: { ip: Ipv4; scope: string }[] = [];
  for (const plan of input.plans) {
    const scope = plan.scope.name;
    const neverUsed: Ipv4[] = [];
    const freed: { ip: Ipv4; since: number }[] = [];
    let free = 0;
    let backup = 0;
    for (let i = 0; i < plan.size; i++) {
      const ip = addressAt(plan, i);
      if (plan.reservedIps.has(ip)) continue;
      const lease = input.leases.get(ip);
      const slot = slotOf(lease);
      if (slot === 'backup') backup++;
      if (slot !== 'free') continue;
      free++;
      if (input.isOffered(ip)) continue;
      if (lease === undefined) neverUsed.push(ip);
      else freed.push({ ip, since: lease.cltt });
    }
    counts.push({ scope, free, backup });
    const target = Math.round(((free + backup) * input.secondaryPercent) / 100);
    let deficit = Math.min(target - backup, input.maxTransfers - toBackup.length);
    if (deficit <= 0) continue;
    freed.sort((a, b) => a.since - b.since);
    for (const ip of [...neverUsed, ...freed.map((f) => f.ip)]) {
      if (deficit <= 0) break;
      toBackup.push({ ip, scope });
      deficit--;
    }
  }
  return { counts, toBackup };
}
