// Every failover relationship of one server (a hub may be in several, each with its own partner, role and
// rules): one FailoverPeer per relationship, each seeing only the scopes of its relationship, all sharing
// the server's failover listeners (listener.ts) and metrics. Routes what the engine asks or reports to the
// relationship of the scope concerned; a scope no relationship serves is the server's alone.
import type { Clock } from '../../clock.ts';
import type { FailoverConfig } from '../../config/failover.ts';
import type { Config } from '../../config/schema.ts';
import { inSubnet, type ScopePlan } from '../../dhcp/pool.ts';
import type { AllocationPolicy } from '../../dhcp/allocate.ts';
import type { Lease } from '../../leases/lease.ts';
import type { LeaseStore } from '../../leases/store.ts';
import type { FailoverMetrics } from '../../metrics/registry.ts';
import type { Ipv4 } from '../../net/ipv4.ts';
import { FailoverListeners } from '../link/listener.ts';
import { NOT_SERVING_POLICY, routedPolicy } from '../rules/allocation-policy.ts';
import type { EngineSurface } from './engine-surface.ts';
import { FailoverPeer } from './peer.ts';
import type { FailoverStatus } from './peer-status.ts';
import type { ReconfigurePlan } from './reconfigure.ts';

/** Every scope → the relationship that serves it (undefined: standalone, served by this server alone). */
export type ScopeRelationships = ReadonlyMap<string, string | undefined>;

export function scopeRelationshipsOf(config: Pick<Config, 'scopes'>): ScopeRelationships {
  return new Map(config.scopes.map((s) => [s.name, s.relationship]));
}

/**
 * The engine as one relationship sees it: only the scopes that relationship serves, and only their leases
 * (a resync or an owed-update scan never carries another relationship's bindings; a binding update for an
 * address outside them is not "in pool" and is refused by the binding rules).
 */
export function scopedEngine(engine: EngineSurface, relationship: string, scopeRelationship: () => ScopeRelationships): EngineSurface {
  const mine = (scope: string): boolean => scopeRelationship().get(scope) === relationship;
  return {
    leases: {
      get: (ip) => engine.leases.get(ip),
      findByClient: (scope, key) => (mine(scope) ? engine.leases.findByClient(scope, key) : undefined),
      *values() { for (const l of engine.leases.values()) if (mine(l.scope)) yield l; },
    },
    get scopePlans() { return engine.scopePlans.filter((p) => mine(p.scope.name)); },
    applyRemote: (leases) => engine.applyRemote(leases),
    ...(engine.isOffered !== undefined && { isOffered: (ip: Ipv4) => engine.isOffered!(ip) }),
  };
}

/** The scope whose subnet holds `ip`; remembers the last hit (the allocator asks about one pool at a time). */
function scopeFinder(plans: () => readonly ScopePlan[]): (ip: Ipv4) => string | undefined {
  let last: ScopePlan | undefined;
  return (ip) => {
    if (last !== undefined && inSubnet(last, ip) && plans().includes(last)) return last.scope.name;
    last = plans().find((p) => inSubnet(p, ip));
    return last?.scope.name;
  };
}

export interface RelationshipsOptions {
  readonly config: Config;
  readonly serverName: string;
  readonly engine: EngineSurface;
  readonly store: Pick<LeaseStore, 'getMeta' | 'setMeta'>;
  readonly clock: Clock;
  readonly metrics?: FailoverMetrics | undefined;
  /** The shared secret of a relationship, read from its sharedSecret or file. */
  readonly secretOf: (relationship: FailoverConfig) => Buffer | undefined;
}

export class FailoverRelationships {
  readonly peers: ReadonlyMap<string, FailoverPeer>;
  private scopeRelationship: ScopeRelationships;
  private readonly listeners = new FailoverListeners();

  constructor(opts: RelationshipsOptions) {
    this.scopeRelationship = scopeRelationshipsOf(opts.config);
    const peers = new Map<string, FailoverPeer>();
    for (const rel of opts.config.relationships) {
      peers.set(rel.relationship, new FailoverPeer({
        config: rel, serverName: opts.serverName, store: opts.store, clock: opts.clock, metrics: opts.metrics,
        engine: scopedEngine(opts.engine, rel.relationship, () => this.scopeRelationship), secret: opts.secretOf(rel),
        listeners: this.listeners,
      }));
    }
    this.peers = peers;
  }

  get size(): number { return this.peers.size; }

  /** The engine's policy: each scope's relationship decides; standalone scopes allow everything. */
  policy(plans: () => readonly ScopePlan[]): AllocationPolicy {
    return routedPolicy(scopeFinder(plans), (scope) => {
      const rel = this.scopeRelationship.get(scope);
      // A scope named for a relationship that is not running must not be served as if it were standalone.
      return rel === undefined ? undefined : this.peers.get(rel)?.policy ?? NOT_SERVING_POLICY;
    });
  }

  private peerOfLease(lease: Lease): FailoverPeer | undefined {
    const rel = this.scopeRelationship.get(lease.scope);
    return rel !== undefined ? this.peers.get(rel) : undefined;
  }

  /** The engine's commit hooks, for the relationship of the lease's scope (none for a standalone scope). */
  prepareCommit(lease: Lease): Lease { return this.peerOfLease(lease)?.prepareCommit(lease) ?? lease; }
  onCommit(lease: Lease): void { this.peerOfLease(lease)?.onCommit(lease); }

  /** Starts every relationship; if one cannot listen, the ones started are stopped again. */
  async start(): Promise<void> {
    const started: FailoverPeer[] = [];
    try {
      for (const peer of this.peers.values()) { await peer.start(); started.push(peer); }
    } catch (err) {
      for (const peer of started) await peer.stop();
      throw err;
    }
  }

  async stop(): Promise<void> { await Promise.all([...this.peers.values()].map((p) => p.stop())); }

  /**
   * A changed config: each relationship that stays gets its own section (reconfigure.ts decides what
   * applies); adding or removing a relationship, or moving a scope from one relationship to another (or
   * to or from none), needs a restart and applies nothing of that change.
   */
  async reconfigure(next: Config, secretOf: (rel: FailoverConfig) => { ok: true; value: Buffer | undefined } | { ok: false }): Promise<string[]> {
    const restart: string[] = [];
    const names = new Set(next.relationships.map((r) => r.relationship));
    for (const name of this.peers.keys()) if (!names.has(name)) restart.push(`failover (relationship ${name} removed)`);
    for (const name of names) if (!this.peers.has(name)) restart.push(`failover (relationship ${name} added)`);
    // A scope that moves keeps its running relationship until the restart; new scopes take theirs at once.
    const scopes = new Map<string, string | undefined>();
    for (const scope of next.scopes) {
      const running = this.scopeRelationship.has(scope.name) ? this.scopeRelationship.get(scope.name) : scope.relationship;
      if (running !== scope.relationship) restart.push(`scopes.${scope.name}.relationship (${running ?? 'none'} → ${scope.relationship ?? 'none'})`);
      scopes.set(scope.name, running);
    }
    for (const rel of next.relationships) {
      const peer = this.peers.get(rel.relationship);
      if (peer === undefined) continue;
      const secret = secretOf(rel);
      if (!secret.ok) { restart.push(`failover ${rel.relationship}: sharedSecretFile unreadable (the running settings stay)`); continue; }
      const plan: ReconfigurePlan = await peer.reconfigure(rel, secret.value);
      restart.push(...plan.restartRequired);
    }
    this.scopeRelationship = scopes;
    return restart;
  }

  statuses(): FailoverStatus[] { return [...this.peers.values()].map((p) => p.status()); }

  collectMetrics(): void { for (const p of this.peers.values()) p.collectMetrics(); }

  /** The peer an admin action names; with one relationship the name may be left out. */
  peerFor(relationship: string | undefined): FailoverPeer | { error: string } {
    if (relationship === undefined) {
      if (this.peers.size === 1) return [...this.peers.values()][0]!;
      return { error: `this server is in ${this.peers.size} relationships (${[...this.peers.keys()].join(', ')}): name one with ?relationship=` };
    }
    return this.peers.get(relationship) ?? { error: `no relationship ${JSON.stringify(relationship)} (${[...this.peers.keys()].join(', ')})` };
  }
}
