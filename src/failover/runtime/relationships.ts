// Every failover relationship of one server (a hub may be in several, each with its own partner, role and
// rules): one FailoverPeer per relationship, each seeing only the scopes of its relationship, all sharing
// the server's failover listeners (listener.ts) and metrics. Routes what the engine asks or reports to the
// relationship of the scope concerned; a scope no relationship serves is the server's alone.
import type { FailoverConfig } from '../../config/failover.ts';
import type { Config } from '../../config/schema.ts';
import { inSubnet, type ScopePlan } from '../../dhcp/pool.ts';
import type { AllocationPolicy } from '../../dhcp/allocate.ts';
import type { Lease } from '../../leases/lease.ts';
import { log } from '../../log.ts';
import type { Ipv4 } from '../../net/ipv4.ts';
import { FailoverListeners } from '../link/listener.ts';
import { NOT_SERVING_POLICY, routedPolicy } from '../rules/allocation-policy.ts';
import type { EngineSurface } from './engine-surface.ts';
import { FailoverPeer, type PeerOptions } from './peer.ts';
import type { FailoverStatus } from './peer-status.ts';

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
  // Filtered again only when the engine's plans or the scope map change (a reload), not per binding update.
  let cache: { plans: readonly ScopePlan[]; map: ScopeRelationships; mine: readonly ScopePlan[] } | undefined;
  const myPlans = (): readonly ScopePlan[] => {
    const plans = engine.scopePlans, map = scopeRelationship();
    if (cache?.plans !== plans || cache.map !== map) cache = { plans, map, mine: plans.filter((p) => mine(p.scope.name)) };
    return cache.mine;
  };
  return {
    leases: {
      get: (ip) => engine.leases.get(ip),
      findByClient: (scope, key) => (mine(scope) ? engine.leases.findByClient(scope, key) : undefined),
      *values() { for (const l of engine.leases.values()) if (mine(l.scope)) yield l; },
    },
    get scopePlans() { return myPlans(); },
    applyRemote: (leases) => engine.applyRemote(leases),
    ...(engine.isOffered !== undefined && { isOffered: (ip: Ipv4) => engine.isOffered!(ip) }),
  };
}

/**
 * The scope whose subnet holds `ip`; remembers the last hit (the allocator asks about one pool at a time)
 * for as long as the engine keeps the same plans (a reload replaces the array).
 */
function scopeFinder(plans: () => readonly ScopePlan[]): (ip: Ipv4) => string | undefined {
  let last: { plans: readonly ScopePlan[]; plan: ScopePlan } | undefined;
  return (ip) => {
    const current = plans();
    if (last !== undefined && last.plans === current && inSubnet(last.plan, ip)) return last.plan.scope.name;
    const plan = current.find((p) => inSubnet(p, ip));
    last = plan && { plans: current, plan };
    return plan?.scope.name;
  };
}

/** What every peer shares (PeerOptions), the whole config, and how to read a relationship's secret. */
export interface RelationshipsOptions extends Pick<PeerOptions, 'serverName' | 'engine' | 'store' | 'clock' | 'metrics'> {
  readonly config: Config;
  /** The shared secret of a relationship, read from its sharedSecret or file. */
  readonly secretOf: (relationship: FailoverConfig) => Buffer | undefined;
}

export class FailoverRelationships {
  private readonly opts: RelationshipsOptions;
  private readonly running = new Map<string, FailoverPeer>();
  private scopeRelationship: ScopeRelationships;
  private readonly listeners = new FailoverListeners();

  constructor(opts: RelationshipsOptions) {
    this.opts = opts;
    this.scopeRelationship = scopeRelationshipsOf(opts.config);
    for (const rel of opts.config.relationships) this.running.set(rel.relationship, this.create(rel, opts.secretOf(rel)));
  }

  /** Every running relationship's peer, by relationship name. */
  get peers(): ReadonlyMap<string, FailoverPeer> { return this.running; }

  private create(rel: FailoverConfig, secret: Buffer | undefined): FailoverPeer {
    const o = this.opts;
    return new FailoverPeer({
      config: rel, serverName: o.serverName, store: o.store, clock: o.clock, metrics: o.metrics, secret, listeners: this.listeners,
      engine: scopedEngine(o.engine, rel.relationship, () => this.scopeRelationship),
    });
  }

  get size(): number { return this.running.size; }

  /** The engine's policy: each scope's relationship decides; standalone scopes allow everything (an address in no scope too). */
  policy(plans: () => readonly ScopePlan[]): AllocationPolicy {
    return routedPolicy(scopeFinder(plans), (scope) => {
      // A scope this map does not know (the engine still serving a scope a reload just removed) and a
      // scope named for a relationship that is not running are served by nobody, never as standalone.
      if (!this.scopeRelationship.has(scope)) return NOT_SERVING_POLICY;
      const rel = this.scopeRelationship.get(scope);
      return rel === undefined ? undefined : this.running.get(rel)?.policy ?? NOT_SERVING_POLICY;
    });
  }

  private peerOfLease(lease: Lease): FailoverPeer | undefined {
    const rel = this.scopeRelationship.get(lease.scope);
    return rel !== undefined ? this.running.get(rel) : undefined;
  }

  /** The engine's commit hooks, for the relationship of the lease's scope (none for a standalone scope). */
  prepareCommit(lease: Lease): Lease { return this.peerOfLease(lease)?.prepareCommit(lease) ?? lease; }
  onCommit(lease: Lease): void { this.peerOfLease(lease)?.onCommit(lease); }

  /** Starts every relationship; if one cannot listen, the ones started are stopped again. */
  async start(): Promise<void> {
    const started: FailoverPeer[] = [];
    try {
      for (const peer of this.running.values()) { await peer.start(); started.push(peer); }
    } catch (err) {
      for (const peer of started) await peer.stop();
      throw err;
    }
  }

  async stop(): Promise<void> { await Promise.all([...this.running.values()].map((p) => p.stop())); }

  /**
   * A changed config, applied without a restart where that is safe:
   *   - a relationship that stays gets its own section (reconfigure.ts decides what applies);
   *   - a relationship that is gone is stopped (its scopes must be gone too, or moved: see below);
   *   - a new relationship is started; its scopes are served by nobody until it runs, then by its rules;
   *   - a scope that moves from one relationship to another, or to or from none, keeps its running
   *     relationship until a restart (its leases were promised under the old partner's rules), and a
   *     relationship that still holds such a scope is not stopped. Both are listed as restart-required.
   */
  async reconfigure(next: Config, secretOf: (rel: FailoverConfig) => { ok: true; value: Buffer | undefined } | { ok: false }): Promise<string[]> {
    const restart: string[] = [];
    const scopes = new Map<string, string | undefined>();
    for (const scope of next.scopes) {
      const running = this.scopeRelationship.has(scope.name) ? this.scopeRelationship.get(scope.name) : scope.relationship;
      if (running !== scope.relationship) restart.push(`scopes.${scope.name}.relationship (${running ?? 'none'} → ${scope.relationship ?? 'none'})`);
      scopes.set(scope.name, running);
    }
    const names = new Set(next.relationships.map((r) => r.relationship));
    const stillHeld = new Set(scopes.values());
    for (const [name, peer] of [...this.running]) {
      if (names.has(name)) continue;
      if (stillHeld.has(name)) { restart.push(`failover (relationship ${name} removed while a scope still uses it)`); continue; }
      await peer.stop();
      this.running.delete(name);
      log.info('failover.relationship.removed', { relationship: name });
    }
    this.scopeRelationship = scopes;
    for (const rel of next.relationships) {
      const secret = secretOf(rel);
      const peer = this.running.get(rel.relationship);
      if (!secret.ok) { restart.push(`failover ${rel.relationship}: sharedSecretFile unreadable (the running settings stay)`); continue; }
      if (peer !== undefined) {
        // With several relationships, say which: `failover[1].role (b2)` rather than `failover.role`.
        const fields = (await peer.reconfigure(rel, secret.value)).restartRequired;
        const at = next.relationships.indexOf(rel);
        restart.push(...(next.relationships.length === 1 ? fields : fields.map((f) => `${f.replace(/^failover\./, `failover[${at}].`)} (${rel.relationship})`)));
        continue;
      }
      const added = this.create(rel, secret.value);
      try {
        await added.start();
      } catch (err) {
        log.error('failover.relationship.start_failed', { relationship: rel.relationship, err });
        restart.push(`failover (relationship ${rel.relationship} could not start: ${(err as Error).message})`);
        await added.stop();
        continue;
      }
      // Only a started peer has a state: until now its scopes were served by nobody (NOT_SERVING_POLICY).
      this.running.set(rel.relationship, added);
      log.info('failover.relationship.added', { relationship: rel.relationship });
    }
    return restart;
  }

  statuses(): FailoverStatus[] { return [...this.running.values()].map((p) => p.status()); }

  collectMetrics(): void { for (const p of this.running.values()) p.collectMetrics(); }

  /** The peer an admin action names; with one relationship the name may be left out. */
  peerFor(relationship: string | undefined): FailoverPeer | { error: string } {
    if (relationship === undefined) {
      if (this.running.size === 1) return [...this.running.values()][0]!;
      return { error: `this server is in ${this.running.size} relationships (${[...this.running.keys()].join(', ')}): name one with ?relationship=` };
    }
    return this.running.get(relationship) ?? { error: `no relationship ${JSON.stringify(relationship)} (${[...this.running.keys()].join(', ')})` };
  }
}
