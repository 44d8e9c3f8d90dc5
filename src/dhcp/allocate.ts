// Which address a client gets (RFC 2131 §4.3.1). Pure: reads the lease view, the offers held for
// other clients and the failover policy; returns a choice and the pool cursor to resume from.
import { clientKeyOf, type Lease } from '../leases/lease.ts';
import type { LeaseView } from '../leases/lease-index.ts';
import type { Ipv4 } from '../net/ipv4.ts';
import type { DhcpMessage } from './wire/message.ts';
import type { Reservation } from '../config/schema.ts';
import { addressAt, isDynamic, type ScopePlan } from './pool.ts';

/** What the failover layer allows; a standalone server allows everything. */
export interface AllocationPolicy {
  /** May this server give `ip`, whose current record is `lease`, to a client it does not already hold? */
  mayAllocate(ip: Ipv4, lease: Lease | undefined, now: number): boolean;
  /**
   * Should this server answer this message at all (failover service state, load-balance hash
   * bucket, `secs` takeover)? Absent = always. `type` is the DHCP message type; `scope` the scope the
   * request was placed in (a server in several relationships answers by that scope's relationship).
   */
  mayAnswer?(request: { readonly type: number; readonly msg: DhcpMessage; readonly clientKey: string; readonly scope: string }, now: number): boolean;
  /** The lease time to give, at most `desiredSeconds` (the MCLT rule). Absent = desired. */
  leaseSeconds?(ip: Ipv4, desiredSeconds: number, lease: Lease | undefined, now: number): number;
  /**
   * May the client's own earlier binding `lease` be given back to it without `mayAllocate`? Absent = yes.
   * Failover: not once the binding left ACTIVE on an address the partner owns: our EXPIRED/RELEASED may
   * already have made it FREE there (digest §5.1 last row, §5.3).
   */
  mayRebind?(ip: Ipv4, lease: Lease, now: number): boolean;
}

/** The client's own binding (availability 'own') counts as usable without mayAllocate only if the policy agrees. */
export function ownUsable(policy: AllocationPolicy, ip: Ipv4, lease: Lease | undefined, now: number): boolean {
  return lease === undefined || (policy.mayRebind?.(ip, lease, now) ?? true);
}

export const STANDALONE_POLICY: AllocationPolicy = { mayAllocate: () => true };

export interface OfferView {
  /** True when `ip` is offered to a client other than `clientKey` and the offer has not run out. */
  isHeldByOther(ip: Ipv4, clientKey: string, now: number): boolean;
}

export interface ClientIdentity {
  /** clientKeyOf() of the request: "id:<hex>" or "hw:<htype>:<hex>". */
  readonly key: string;
}

export interface AllocationInput {
  readonly plan: ScopePlan;
  readonly leases: LeaseView;
  readonly offers: OfferView;
  readonly policy: AllocationPolicy;
  readonly client: ClientIdentity;
  /** The client's reservation in this scope (pool.ts reservationFor). */
  readonly reservation?: Reservation;
  readonly requested?: Ipv4;
  readonly cursor: number;
  readonly now: number;
}

export type AllocationSource = 'reservation' | 'existing' | 'requested' | 'pool';
export interface Allocation { readonly ip: Ipv4; readonly source: AllocationSource; readonly cursor: number }

export type Availability = 'free' | 'own' | 'reusable' | 'taken';

/** How `lease` stands for `clientKey` at `now`. */
export function availabilityOf(lease: Lease | undefined, clientKey: string, now: number): Availability {
  if (!lease) return 'free';
  const own = clientKeyOf(lease) === clientKey;
  switch (lease.state) {
    case 'free': case 'backup': return 'free';
    case 'active': return own ? 'own' : lease.expiresAt <= now ? 'reusable' : 'taken';
    case 'expired': case 'released': case 'reset': return own ? 'own' : 'reusable';
    case 'abandoned': return lease.expiresAt <= now ? 'reusable' : 'taken';
  }
}

function usableFor(input: AllocationInput, ip: Ipv4, accept: (a: Availability) => boolean): boolean {
  const lease = input.leases.get(ip);
  const availability = availabilityOf(lease, input.client.key, input.now);
  if (!accept(availability)) return false;
  if (input.offers.isHeldByOther(ip, input.client.key, input.now)) return false;
  return (availability === 'own' && ownUsable(input.policy, ip, lease, input.now)) || input.policy.mayAllocate(ip, lease, input.now);
}

/**
 * Order of preference: the client's reservation; its current or previous binding; the address it
 * asked for; then the pool, never-used or free addresses before other clients' expired ones.
 */
export function chooseAddress(input: AllocationInput): Allocation | undefined {
  const { plan, client, cursor, reservation } = input;
  if (reservation) {
    // A reserved address in use by someone else (set before the reservation existed) is not taken from them.
    return usableFor(input, reservation.ip, (a) => a !== 'taken') ? { ip: reservation.ip, source: 'reservation', cursor } : undefined;
  }
  const existing = input.leases.findByClient(plan.scope.name, client.key);
  if (existing && existing.state !== 'abandoned' && isDynamic(plan, existing.ip) && usableFor(input, existing.ip, (a) => a === 'own')) {
    return { ip: existing.ip, source: 'existing', cursor };
  }
  if (input.requested !== undefined && isDynamic(plan, input.requested) && usableFor(input, input.requested, (a) => a !== 'taken')) {
    return { ip: input.requested, source: 'requested', cursor };
  }
  return scanPool(input, (a) => a === 'free') ?? scanPool(input, (a) => a === 'reusable');
}

function scanPool(input: AllocationInput, accept: (a: Availability) => boolean): Allocation | undefined {
  const { plan } = input;
  if (plan.size === 0) return undefined;
  const start = input.cursor % plan.size;
  for (let n = 0; n < plan.size; n++) {
    const i = (start + n) % plan.size;
    const ip = addressAt(plan, i);
    if (plan.reservedIps.has(ip)) continue;
    if (usableFor(input, ip, accept)) return { ip, source: 'pool', cursor: (i + 1) % plan.size };
  }
  return undefined;
}
