// The server's state around the pure decision: lease index, offers, pool cursors and the write
// path to the lease store. No sockets here, so tests drive it with decoded messages.
import os from 'node:os';
import type { Config } from '../config/schema.ts';
import { clientKeyOf, type Lease } from '../leases/lease.ts';
import { LeaseIndex } from '../leases/lease-index.ts';
import type { LeaseStore } from '../leases/store.ts';
import { cidrContains, formatCidr, parseIpv4, type Ipv4 } from '../net/ipv4.ts';
import { STANDALONE_POLICY, type AllocationPolicy } from './allocate.ts';
import type { DhcpMessage } from './wire/message.ts';
import { OfferBook } from './offers.ts';
import { dynamicPoolSize, isDynamic, planScope, type ScopePlan } from './pool.ts';
import { decide, type Decision } from './reply.ts';

export interface EngineOptions {
  readonly config: Config;
  readonly store: LeaseStore;
  readonly now?: () => number;
  readonly policy?: AllocationPolicy;
  /** Called with every lease this server committed (after the store has it): the failover layer sends BNDUPDs. */
  readonly onCommit?: (lease: Lease) => void;
  /**
   * Adjusts a lease before it is indexed and stored (the failover layer marks it as owed to the
   * partner in the same write, so a crash right after the ACK still sends the update on restart).
   */
  readonly prepareCommit?: (lease: Lease) => Lease;
  /** Addresses of the listening interfaces, by interface name (defaults to os.networkInterfaces()). */
  readonly interfaceAddresses?: () => ReadonlyMap<string, readonly string[]>;
}

/** The pool states /status reports per scope; `free` also covers pool addresses no lease names yet. */
export const POOL_STATES = ['active', 'free', 'backup', 'expired', 'released', 'abandoned', 'reset'] as const;
export type PoolCounts = Record<(typeof POOL_STATES)[number], number>;

/** One scope on /status (`scopes[]`), from the lease index's counters: no lease is scanned. */
export interface ScopeCounts {
  readonly scope: string;
  readonly subnet: string;
  /** Addresses handed out dynamically: the ranges minus the exclusions minus reserved addresses inside them. */
  readonly poolSize: number;
  /** Reservations configured (their addresses are not in poolSize; their leases are not in `pool`). */
  readonly reservations: number;
  /** Every lease of the scope by stored binding state: reservations and addresses outside the pool included. */
  readonly byState: Record<string, number>;
  /** The pool's addresses by state; they add up to poolSize. */
  readonly pool: PoolCounts;
  /** pool.active as a percentage of poolSize, rounded down (0 for an empty pool). */
  readonly utilizationPercent: number;
}


export class DhcpEngine {
  readonly leases = new LeaseIndex();
  private readonly offers = new OfferBook();
  private readonly cursors = new Map<string, number>();
  private readonly store: LeaseStore;
  private readonly now: () => number;
  private readonly policy: AllocationPolicy;
  private readonly onCommit: ((lease: Lease) => void) | undefined;
  private readonly prepareCommit: (lease: Lease) => Lease;
  private readonly interfaceAddresses: () => ReadonlyMap<string, readonly string[]>;
  private config!: Config;
  private plans: ScopePlan[] = [];
  private poolSizes = new Map<string, number>();
  private directScopes: ScopePlan[] = [];

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.policy = options.policy ?? STANDALONE_POLICY;
    this.onCommit = options.onCommit;
    this.prepareCommit = options.prepareCommit ?? ((lease) => lease);
    this.interfaceAddresses = options.interfaceAddresses ?? systemInterfaceAddresses;
    this.applyConfig(options.config);
  }

  get currentConfig(): Config { return this.config; }
  get scopePlans(): readonly ScopePlan[] { return this.plans; }

  /** True while `ip` is offered to a client and the offer has not run out. */
  isOffered(ip: Ipv4): boolean { return this.offers.isHeldByOther(ip, '', this.now()); }

  /** Fills the index from the store; run once before serving. */
  async loadLeases(): Promise<number> {
    const all = await this.store.loadAll();
    for (const lease of all) this.leases.set(lease);
    return all.length;
  }

  /** Swaps scopes in place: leases stay, pools and options change for the next message. */
  applyConfig(config: Config): void {
    this.config = config;
    this.plans = config.scopes.map(planScope);
    this.poolSizes = new Map(this.plans.map((p) => [p.scope.name, dynamicPoolSize(p)]));
    this.directScopes = directScopesOf(this.plans, config, this.interfaceAddresses());
    // The index counts leases per scope as pool or not; a new config may move addresses in or out (one recount).
    const byName = new Map(this.plans.map((p) => [p.scope.name, p]));
    this.leases.setPoolTest((lease) => { const p = byName.get(lease.scope); return p !== undefined && isDynamic(p, lease.ip); });
  }

  /** Decides, then applies the decision's effects; an ACK resolves only after its lease is stored. `clientKey` as for decide(). */
  async handle(msg: DhcpMessage, clientKey?: string): Promise<Decision> {
    const now = this.now();
    const decision = decide({
      serverId: this.config.server.serverId, plans: this.plans, directScopes: this.directScopes,
      leases: this.leases, offers: this.offers, policy: this.policy, cursors: this.cursors,
      offerHoldSeconds: this.config.server.offerHoldSeconds, declineHoldSeconds: this.config.server.declineHoldSeconds,
    }, msg, now, clientKey);
    if (decision.kind === 'reply') {
      if (decision.offer) this.offers.hold(decision.offer.ip, decision.offer.clientKey, decision.offer.until, now);
      if (decision.cursor) this.cursors.set(decision.cursor.scope, decision.cursor.value);
    }
    if (decision.kind !== 'drop' && decision.commit) {
      const lease = this.prepareCommit(decision.commit);
      // The index changes first so a concurrent request already sees the address as taken.
      this.leases.set(lease);
      this.offers.release(lease.ip, clientKeyOf(lease) ?? '');
      await this.store.put([lease]);
      this.onCommit?.(lease);
    }
    return decision;
  }

  /** Leases learned from elsewhere (the failover partner): indexed and stored, not reported back. */
  async applyRemote(leases: readonly Lease[]): Promise<void> {
    for (const lease of leases) this.leases.set(lease);
    if (leases.length) await this.store.put(leases);
  }

  /** Active leases whose time ran out become `expired` (bounded per call); returns how many. */
  async sweepExpired(limit = 10_000): Promise<number> {
    const now = this.now();
    const changed: Lease[] = [];
    for (const lease of this.leases.values()) {
      if (lease.state === 'active' && lease.expiresAt <= now) changed.push(this.prepareCommit({ ...lease, state: 'expired' }));
      if (changed.length >= limit) break;
    }
    for (const lease of changed) this.leases.set(lease);
    if (changed.length) await this.store.put(changed);
    for (const lease of changed) this.onCommit?.(lease);
    this.offers.prune(now);
    return changed.length;
  }

  /**
   * Per-scope counts from the lease index's counters: O(scopes), whatever the number of leases. States are
   * as stored: an active lease whose time ran out counts as active until the sweep (every few seconds)
   * marks it expired.
   */
  counts(): ScopeCounts[] {
    return this.plans.map((p) => {
      const t = this.leases.tally(p.scope.name);
      const byState: Record<string, number> = { ...t.pool };
      for (const [state, n] of Object.entries(t.other)) byState[state] = (byState[state] ?? 0) + n;
      const poolSize = this.poolSizes.get(p.scope.name) ?? p.size;
      const pool = Object.fromEntries(POOL_STATES.map((s) => [s, t.pool[s] ?? 0])) as PoolCounts;
      const held = Object.entries(t.pool).reduce((sum, [s, n]) => (s === 'free' ? sum : sum + n), 0);
      pool.free = Math.max(0, poolSize - held);
      return {
        scope: p.scope.name, subnet: formatCidr(p.scope.subnet), poolSize, reservations: p.scope.reservations.length,
        byState, pool, utilizationPercent: poolSize > 0 ? Math.floor((pool.active * 100) / poolSize) : 0,
      };
    });
  }
}

function systemInterfaceAddresses(): ReadonlyMap<string, readonly string[]> {
  const out = new Map<string, string[]>();
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    out.set(name, (addrs ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address));
  }
  return out;
}

/** Scopes for non-relayed clients: named for a listening interface, or holding one of its addresses. */
export function directScopesOf(plans: readonly ScopePlan[], config: Config, addresses: ReadonlyMap<string, readonly string[]>): ScopePlan[] {
  const interfaces = config.server.listen.interfaces;
  const named = plans.filter((p) => p.scope.interface !== undefined && interfaces.includes(p.scope.interface));
  if (named.length) return named;
  const local = interfaces.flatMap((name) => addresses.get(name) ?? []).map(parseIpv4);
  return plans.filter((p) => local.some((ip) => cidrContains(p.scope.subnet, ip)));
}
