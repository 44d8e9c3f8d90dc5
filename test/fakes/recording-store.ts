// A LeaseStore that records every write and can be told to fail, for engine tests.
import { StoreError } from '../../src/errors.ts';
import type { Lease } from '../../src/leases/lease.ts';
import type { LeaseStore } from '../../src/leases/store.ts';

export class RecordingStore implements LeaseStore {
  readonly leases = new Map<number, Lease>();
  readonly meta = new Map<string, string>();
  readonly writes: Lease[][] = [];
  failing = false;

  constructor(initial: Lease[] = []) { for (const l of initial) this.leases.set(l.ip, l); }

  async loadAll(): Promise<Lease[]> { return [...this.leases.values()]; }
  async put(leases: readonly Lease[]): Promise<void> {
    if (this.failing) throw new StoreError('store_unavailable', 'store is down (test)');
    this.writes.push([...leases]);
    for (const l of leases) this.leases.set(l.ip, l);
  }
  async remove(ips: readonly number[]): Promise<void> { for (const ip of ips) this.leases.delete(ip); }
  async getMeta(key: string): Promise<string | undefined> { return this.meta.get(key); }
  async setMeta(key: string, value: string): Promise<void> { this.meta.set(key, value); }
  healthy(): boolean { return !this.failing; }
  async close(): Promise<void> {}
}
