// The in-memory view of every lease: the server decides from this index and writes through to
// the LeaseStore. Lookups by address and by client identity are O(1).
import { clientKeyOf, type Lease } from './lease.ts';
import type { Ipv4 } from '../net/ipv4.ts';

export interface LeaseView {
  get(ip: Ipv4): Lease | undefined;
  /** The address most recently bound to this client in this scope, if any. */
  findByClient(scope: string, clientKey: string): Lease | undefined;
}

export class LeaseIndex implements LeaseView {
  private readonly byIp = new Map<Ipv4, Lease>();
  private readonly byClient = new Map<string, Ipv4>();

  get size(): number { return this.byIp.size; }

  get(ip: Ipv4): Lease | undefined { return this.byIp.get(ip); }

  findByClient(scope: string, clientKey: string): Lease | undefined {
    const ip = this.byClient.get(`${scope}|${clientKey}`);
    if (ip === undefined) return undefined;
    const lease = this.byIp.get(ip);
    // The address may since have gone to another client; only a lease still naming this client counts.
    return lease && lease.scope === scope && clientKeyOf(lease) === clientKey ? lease : undefined;
  }

  set(lease: Lease): void {
    const previous = this.byIp.get(lease.ip);
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
    this.byIp.delete(ip);
    const key = clientKeyOf(lease);
    if (key !== undefined) {
      const k = `${lease.scope}|${key}`;
      if (this.byClient.get(k) === ip) this.byClient.delete(k);
    }
  }

  values(): IterableIterator<Lease> { return this.byIp.values(); }
}
