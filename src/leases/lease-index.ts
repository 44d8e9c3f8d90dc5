// The in-memory view of every lease: the server decides from this index and writes through to
// the LeaseStore. Lookups by address and by client identity are O(1), and so are the per-scope counts
// by binding state (kept up to date on every set/delete, so /status and /metrics never scan the leases).
import { clientKeyOf, type Lease } from './lease.ts';
import type { Ipv4 } from '../net/ipv4.ts';

export interface LeaseView {
  get(ip: Ipv4): Lease | undefined;
  /** The address most recently bound to this client in this scope, if any. */
  findByClient(scope: string, clientKey: string): Lease | undefined;
}

/** True when a lease's address is in its scope's dynamic pool (not a reservation, not outside the ranges). */
export type PoolTest = (lease: Lease) => boolean;

/** A scope's leases by stored binding state: on addresses of its dynamic pool, and on any other address. */
export interface ScopeTally {
  readonly pool: Readonly<Record<string, number>>;
  readonly other: Readonly<Record<string, number>>;
}

interface MutableTally { pool: Record<string, number>; other: Record<string, number> }

export class LeaseIndex implements LeaseView {
  private readonly byIp = new Map<Ipv4, Lease>();
  private readonly byClient = new Map<string, Ipv4>();
  private readonly tallies = new Map<string, MutableTally>();
  private inPool: PoolTest = () => true;

  get size(): number { return this.byIp.size; }

  get(ip: Ipv4): Lease | undefined { return this.byIp.get(ip); }

  findByClient(scope: string, clientKey: string): Lease | undefined {
    const ip = this.byClient.get(`${scope}|${clientKey}`);
    if (ip === undefined) return undefined;
    const lease = this.byIp.get(ip);
    // The address may since have gone to another client; only a lease still naming this client counts.
    return lease && lease.scope === scope && clientKeyOf(lease) === clientKey ? lease : undefined;
  }

  /**
   * Sets what counts as a pool address (a new config: its ranges, exclusions and reservations) and
   * recounts every lease once. Between two calls `test` must give the same answer for the same lease.
   */
  setPoolTest(test: PoolTest): void {
    this.inPool = test;
    this.tallies.clear();
    for (const lease of this.byIp.values()) this.count(lease, 1);
  }

  /** The scope's counts (O(1)); a copy. */
  tally(scope: string): ScopeTally {
    const t = this.tallies.get(scope);
    return { pool: { ...t?.pool }, other: { ...t?.other } };
  }

  private count(lease: Lease, delta: 1 | -1): void {
    let t = this.tallies.get(lease.scope);
    if (t === undefined) { t = { pool: {}, other: {} }; this.tallies.set(lease.scope, t); }
    const bucket = this.inPool(lease) ? t.pool : t.other;
    const n = (bucket[lease.state] ?? 0) + delta;
    if (n > 0) bucket[lease.state] = n; else delete bucket[lease.state];
  }

  set(lease: Lease): void {
    const previous = this.byIp.get(lease.ip);
    if (previous) this.count(previous, -1);
    this.count(lease, 1);
    if (previous) {
      const oldKey = clientKeyOf(previous);
      if (oldKey !== undefined && oldKey !== clientKeyOf(lease)) {
        const k = `${previous.scope}|${oldKey}`;
        if (this.byClient.get(k) === lease.ip) this.byClient.delete(k);
      }
    }
    this.byIp.set(lease.ip, lease);
    const key = clientKeyOf(lease);
    if (key !== undefined) this.byClient.set(`${lease.scope}|${key}`, lease.ip);
  }

  delete(ip: Ipv4): void {
    const lease = this.byIp.get(ip);
    if (!lease) return;
    this.count(lease, -1);
    this.byIp.delete(ip);
    const key = clientKeyOf(lease);
    if (key !== undefined) {
      const k = `${lease.scope}|${key}`;
      if (this.byClient.get(k) === ip) this.byClient.delete(k);
    }
  }

  values(): IterableIterator<Lease> { return this.byIp.values(); }
}
