// The server's state around the pure decision: lease index, offers, pool cursors and the write
// path to the lease store. No sockets here, so tests drive it with decoded messages.
import os from 'node:os';
import type { Config } from '../config/schema.ts';
import { clientKeyOf, type Lease } from '../leases/lease.ts';
import { LeaseIndex } from '../leases/lease-index.ts';
import type { LeaseStore } from '../leases/store.ts';
import { cidrContains, parseIpv4, type Ipv4 } from '../net/ipv4.ts';
import { STANDALONE_POLICY, type AllocationPolicy } from './allocate.ts';
import type { DhcpMessage } from './message.ts';
import { OfferBook } from './offers.ts';
import { planScope, type ScopePlan } from './pool.ts';
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

export interface ScopeCounts { readonly scope: string; readonly poolSize: number; readonly byState: Record<string, number> }

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
    this.directScopes = directScopesOf(this.plans, config, this.interfaceAddresses());
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

  counts(): ScopeCounts[] {
    const now = this.now();
    const byScope = new Map<string, Record<string, number>>();
    for (const plan of this.plans) byScope.set(plan.scope.name, {});
    for (const lease of this.leases.values()) {
      const counts = byScope.get(lease.scope);
      if (!counts) continue;
      const state = lease.state === 'active' && lease.expiresAt <= now ? 'expired' : lease.state;
      counts[state] = (counts[state] ?? 0) + 1;
    }
    return this.plans.map((p) => ({ scope: p.scope.name, poolSize: p.size, byState: byScope.get(p.scope.name) ?? {} }));
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
