// The engine surface FailoverPeer needs, for peer tests without a DHCP engine: one /24 scope, remote
// updates to the index and a RecordingStore, and `commit` doing what DhcpEngine.handle does on an ACK.
import type { Scope } from '../../src/config/schema.ts';
import { planScope } from '../../src/dhcp/pool.ts';
import type { EngineSurface } from '../../src/failover/runtime/engine-surface.ts';
import type { FailoverPeer } from '../../src/failover/runtime/peer.ts';
import { LeaseIndex } from '../../src/leases/lease-index.ts';
import type { Lease } from '../../src/leases/lease.ts';
import { parseCidr, parseIpv4 } from '../../src/net/ipv4.ts';
import type { RecordingStore } from './recording-store.ts';

export const labScope: Scope = {
  name: 'lab', subnet: parseCidr('10.0.0.0/24'), ranges: [{ start: parseIpv4('10.0.0.100'), end: parseIpv4('10.0.0.199') }],
  exclusions: [], reservations: [], options: new Map(), leaseSeconds: 3600, active: true,
};

export class FakeEngine implements EngineSurface {
  readonly leases = new LeaseIndex();
  readonly scopePlans = [planScope(labScope)];
  readonly store: RecordingStore;
  constructor(store: RecordingStore) { this.store = store; }
  async applyRemote(leases: readonly Lease[]): Promise<void> { for (const l of leases) this.leases.set(l); await this.store.put(leases); }
  /** What DhcpEngine.handle does on an ACK: prepare, index, store, then onCommit. */
  async commit(lease: Lease, peer: FailoverPeer): Promise<void> {
    const prepared = peer.prepareCommit(lease);
    this.leases.set(prepared); await this.store.put([prepared]); peer.onCommit(prepared);
  }
}
