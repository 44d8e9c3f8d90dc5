// Leases in process memory: for local runs and tests without Redis. Lost on exit.
import type { Ipv4 } from '../net/ipv4.ts';
import type { Lease } from './lease.ts';
import type { LeaseStore } from './store.ts';

export class MemoryStore implements LeaseStore {
  private readonly leases = new Map<Ipv4, Lease>();
  private readonly meta = new Map<string, string>();

  async loadAll(): Promise<Lease[]> { return [...this.leases.values()]; }
  async put(leases: readonly Lease[]): Promise<void> { for (const l of leases) this.leases.set(l.ip, { ...l }); }
  async remove(ips: readonly Ipv4[]): Promise<void> { for (const ip of ips) this.leases.delete(ip); }
  async getMeta(key: string): Promise<string | undefined> { return this.meta.get(key); }
  async setMeta(key: string, value: string): Promise<void> { this.meta.set(key, value); }
  healthy(): boolean { return true; }
  async close(): Promise<void> {}
}
