// Where leases live durably. The server keeps every lease in memory (lease-index.ts) and writes
// through this interface; a write resolves only once the store has it (an ACK waits on it).
import type { Lease } from './lease.ts';
import type { Ipv4 } from '../net/ipv4.ts';

export interface LeaseStore {
  /** Every stored lease; called once at start-up to fill the in-memory index. */
  loadAll(): Promise<Lease[]>;
  /** Writes (upserts) leases, keyed by `ip`. Implementations batch concurrent calls into one round trip. */
  put(leases: readonly Lease[]): Promise<void>;
  /** Removes leases by address (e.g. a scope that was deleted). */
  remove(ips: readonly Ipv4[]): Promise<void>;
  /** Small named values that must survive a restart (failover state, STOS, ...). */
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  /** True when the backend is reachable (for /readyz). */
  healthy(): boolean;
  close(): Promise<void>;
}
