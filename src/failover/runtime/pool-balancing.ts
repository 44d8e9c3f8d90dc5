// Pool balancing with an ISC partner, which keeps the owner of each FREE address in its binding state
// (draft §7): the secondary asks for its pool on entering NORMAL (POOLREQ); the primary hands FREE
// addresses over as BACKUP then, on a POOLREQ, and every minute while NORMAL. Which addresses is
// backup-share.ts's decision (pure). Our own pairs split each pool by position and skip all this.
import type { Clock } from '../../clock.ts';
import type { Lease } from '../../leases/lease.ts';
import { log } from '../../log.ts';
import type { FailoverConfig } from '../../config/failover.ts';
import type { Link } from '../link/link.ts';
import type { EngineSurface } from './engine-surface.ts';
import { secondaryShareOf } from '../rules/allocation-policy.ts';
import { planBackupTransfers } from '../rules/backup-share.ts';

/** How often the primary re-checks each pool's BACKUP share in NORMAL. */
const POOL_BALANCE_MS = 60_000;
/** At most this many addresses handed over per run (the update window paces them anyway). */
const POOL_BALANCE_MAX_TRANSFERS = 5000;

/** Our own pairs split each pool by position (address-ownership.ts); an ISC partner expects FREE/BACKUP pools (draft §7). */
export function poolOwnershipOf(c: Pick<FailoverConfig, 'partnerDialect'>): 'position' | 'binding-state' {
  return c.partnerDialect === 'isc' ? 'binding-state' : 'position';
}

export interface PoolBalancerDeps {
  readonly engine: EngineSurface;
  readonly clock: Clock;
  config(): FailoverConfig;
  inNormal(): boolean;
  /** The partner's STATE has arrived on the current link. */
  commsOk(): boolean;
  /** The current link, if established. */
  establishedLink(): Link | undefined;
  /** Queues BNDUPDs for leases already stored (binding-sync.ts). */
  send(leases: readonly Lease[]): void;
  /** The peer's serialised work queue. */
  enqueueWork(fn: () => Promise<void> | void): Promise<void>;
}

export class PoolBalancer {
  private readonly deps: PoolBalancerDeps;
  private timer: { cancel(): void } | undefined;
  private stopped = false;

  constructor(deps: PoolBalancerDeps) { this.deps = deps; }

  private get active(): boolean { return poolOwnershipOf(this.deps.config()) === 'binding-state'; }

  /** Draft §7.1: the secondary asks for its pool on entering NORMAL; the primary hands it over. */
  onEnteredNormal(): void {
    if (!this.active) return;
    if (this.deps.config().role === 'secondary') { this.deps.establishedLink()?.send({ type: 'POOLREQ' }); return; }
    void this.deps.enqueueWork(async () => { await this.balance('entered-normal'); });
    this.schedule();
  }

  /**
   * Primary only: marks addresses BACKUP (stored first, like every update we send) and queues the
   * BNDUPDs, so the secondary holds its share of each pool. Returns how many were handed over.
   */
  async balance(reason: string): Promise<number> {
    const { engine, clock } = this.deps;
    const config = this.deps.config();
    if (config.role !== 'primary' || !this.active || !this.deps.inNormal() || !this.deps.commsOk()) return 0;
    const plan = planBackupTransfers({
      plans: engine.scopePlans, leases: engine.leases, secondaryPercent: secondaryShareOf(config),
      isOffered: (ip) => engine.isOffered?.(ip) ?? false, maxTransfers: POOL_BALANCE_MAX_TRANSFERS,
    });
    if (plan.toBackup.length === 0) return 0;
    const now = clock.now();
    const leases: Lease[] = plan.toBackup.map(({ ip, scope }) => ({ ip, scope, state: 'backup', expiresAt: now, cltt: now, pendingAck: true }));
    await engine.applyRemote(leases);
    log.info('failover.pool.balanced', { reason, handedOver: leases.length, pools: plan.counts });
    this.deps.send(leases);
    return leases.length;
  }

  /**
   * POOLREQ from the partner: our own pairs split pools by address (nothing to give); a foreign partner
   * gets a rebalance and the count handed over (ISC answers POOLREQ in either role, digest §7.2).
   */
  async answerPoolRequest(link: Link, xid: number): Promise<void> {
    const handedOver = await this.balance('poolreq');
    link.send({ type: 'POOLRESP', addressesTransferred: handedOver }, xid);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = this.deps.clock.setTimer(POOL_BALANCE_MS, () => {
      this.timer = undefined;
      if (!this.deps.inNormal()) return; // re-armed on the next entry to NORMAL
      void this.deps.enqueueWork(async () => { await this.balance('timer'); });
      this.schedule();
    });
  }
}
