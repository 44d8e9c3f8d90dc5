// What the failover runtime needs from the DHCP engine (dhcp/engine.ts's DhcpEngine satisfies it):
// the lease view, the pools, and a way to store what the partner sent. Its own file so that the
// peer and the parts it wires (binding-sync.ts, pool-balancing.ts) all import it from below.
import type { ScopePlan } from '../../dhcp/pool.ts';
import type { Lease } from '../../leases/lease.ts';
import type { LeaseView } from '../../leases/lease-index.ts';
import type { Ipv4 } from '../../net/ipv4.ts';

export interface EngineSurface {
  readonly leases: LeaseView & { values(): IterableIterator<Lease> };
  readonly scopePlans: readonly ScopePlan[];
  applyRemote(leases: readonly Lease[]): Promise<void>;
  /** True while `ip` is offered to some client (pool balancing leaves it alone). */
  isOffered?(ip: Ipv4): boolean;
}
