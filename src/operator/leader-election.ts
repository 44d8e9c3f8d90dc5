// Leader election with a coordination.k8s.io/v1 Lease, as client-go's leaderelection: acquire when the
// lease is free or its holder has not renewed within leaseDuration (by local observation, so clock skew
// between pods does not matter), renew every retryPeriod, give up leadership when renewing has failed for
// renewDeadline, release the lease on a clean stop. Times go out as V1MicroTime (6 fractional digits).
// Unlike client-go, a leader whose renewals fail (the API server restarting, unreachable) is only
// *suspended*: it stops reconciling at the renew deadline, as client-go does, but keeps campaigning, and
// leads again if its next renewal succeeds; that renewal is a compare-and-swap on the Lease's
// resourceVersion, so it succeeds only if no one else took the Lease meanwhile. Only seeing another holder
// is a loss. A graceful API server restart (11.5 s measured, longer than the 10 s deadline) then pauses the
// operator instead of restarting it.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Clock } from '../clock.ts';
import { log } from '../log.ts';
import type { ApiHealth } from './api-health.ts';
import { statusOf } from './kube.ts';

export interface LeaderElectionOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly clock: Clock;
  readonly onStartedLeading: () => void;
  /**
   * `suspended`: renewals failed for renewDeadline (stop writing; onStartedLeading follows if a renewal
   * succeeds again). `lost`: another holder has the Lease. `released`: stop() gave it up.
   */
  readonly onStoppedLeading: (reason: StopReason) => void;
  /**
   * Told the outcome of every acquire/renew attempt. With it, errors are logged there (once per outage,
   * api-health.ts) and here only at debug.
   */
  readonly health?: ApiHealth;
}

export type StopReason = 'suspended' | 'lost' | 'released';
const RBAC_HINT = 'check the operator\'s RBAC for coordination.k8s.io leases (get, create, update) in its namespace';
type Attempt = 'held' | 'taken' | 'conflict';

export class LeaderElector {
  private readonly options: LeaderElectionOptions;
  private readonly api: CoordinationV1Api;
  private timer: { cancel(): void } | undefined;
  private running = false;
  /** suspended: led, could not renew, and no other holder seen since (a successful renewal resumes). */
  private state: 'follower' | 'leading' | 'suspended' = 'follower';
  private lastRenew = 0;
  /** The last error class logged, so an outage is logged once, not every retry period. */
  private lastErrorKey: string | undefined;
  /** The holder/renewTime last seen and when we saw it (local clock). */
  private observed: { record: string; at: number } | undefined;

  constructor(options: LeaderElectionOptions) {
    this.options = options;
    this.api = options.kc.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean { return this.state === 'leading'; }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.tick();
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    const wasLeading = this.state === 'leading';
    this.state = 'follower';
    if (!wasLeading) return;
    log.info('operator.leader.released', this.logFields());
    this.options.onStoppedLeading('released');
    try {
      const lease = await this.api.readNamespacedLease({ name: this.options.name, namespace: this.options.namespace });
      if (lease.spec?.holderIdentity === this.options.identity) {
        lease.spec.holderIdentity = '';
        lease.spec.leaseDurationSeconds = 1;
        lease.spec.renewTime = new V1MicroTime(this.options.clock.now());
        await this.api.replaceNamespacedLease({ name: this.options.name, namespace: this.options.namespace, body: lease });
      }
    } catch (err) {
      log.warn('operator.leader.release_failed', { err: String((err as Error)?.message ?? err) });
    }
  }

  private logFields(): Record<string, string> {
    return { identity: this.options.identity, lease: `${this.options.namespace}/${this.options.name}` };
  }

  /** The outcome of one attempt → the next state; callbacks and logs on each change of state. */
  private advance(outcome: Attempt | 'error', now: number): void {
    const from = this.state;
    if (outcome === 'held') {
      this.lastRenew = now;
      if (from === 'leading') return;
      this.state = 'leading';
      log.info(from === 'suspended' ? 'operator.leader.resumed' : 'operator.leader.started', this.logFields());
      this.options.onStartedLeading();
    } else if (outcome === 'taken' && from !== 'follower') {
      this.state = 'follower';
      log.warn('operator.leader.lost', this.logFields());
      // A suspended leader already stopped writing; it still learns that it lost.
      this.options.onStoppedLeading('lost');
    } else if (outcome !== 'taken' && from === 'leading' && now - this.lastRenew >= this.options.renewDeadlineMs) {
      this.state = 'suspended';
      log.warn('operator.leader.suspended', { ...this.logFields(), renewDeadlineMs: this.options.renewDeadlineMs, why: 'the Lease could not be renewed; reconciling stops until a renewal succeeds' });
      this.options.onStoppedLeading('suspended');
    }
  }

  /** Once per kind of error, until a call succeeds: RBAC and validation errors at error level (they do not heal). */
  private logError(err: unknown): void {
    const code = statusOf(err);
    const message = String((err as Error)?.message ?? err).split('\n')[0]!.slice(0, 300);
    const lease = `${this.options.namespace}/${this.options.name}`;
    const key = `${code ?? 'network'}`;
    if (this.options.health) {
      // 401 keeps ApiHealth's own hint (credentials, not RBAC).
      this.options.health.failed('lease', 'lease', `lease ${lease}`, err, code === 403 || code === 404 || code === 422 ? RBAC_HINT : undefined);
      log.debug('operator.leader.error', { code, err: message });
      return;
    }
    if (key === this.lastErrorKey) { log.debug('operator.leader.error', { code, err: message }); return; }
    this.lastErrorKey = key;
    const fields = { lease, code, err: message };
    if (code === 401 || code === 403 || code === 404 || code === 422) log.error('operator.leader.error', { ...fields, hint: RBAC_HINT });
    else log.warn('operator.leader.error', fields);
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    let outcome: Attempt | 'error' = 'error';
    try { outcome = await this.tryAcquireOrRenew(); this.lastErrorKey = undefined; this.options.health?.succeeded('lease'); } catch (err) {
      this.logError(err);
    }
    if (!this.running) return;
    this.advance(outcome, this.options.clock.now());
    this.timer = this.options.clock.setTimer(this.options.retryPeriodMs, () => { void this.tick(); });
  }

  /** held: we hold the Lease now; taken: another holder's Lease has not expired; conflict: a write raced (retry). */
  private async tryAcquireOrRenew(): Promise<Attempt> {
    const { namespace, name, identity, clock } = this.options;
    const now = clock.now();
    const durationSeconds = Math.max(1, Math.round(this.options.leaseDurationMs / 1000));
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: new V1MicroTime(now), renewTime: new V1MicroTime(now), leaseTransitions: 0 } },
        });
        return 'held';
      } catch (e) {
        if (statusOf(e) === 409) return 'conflict'; // another candidate created it first
        throw e;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = `${holder}|${spec.renewTime ? new Date(spec.renewTime).getTime() : ''}|${spec.leaseDurationSeconds ?? ''}`;
    if (this.observed?.record !== record) this.observed = { record, at: now };
    const durationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    const expired = holder === '' || now >= this.observed.at + durationMs;
    if (holder !== identity && !expired) return 'taken';
    const next: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: new V1MicroTime(now),
        acquireTime: holder === identity && spec.acquireTime ? new V1MicroTime(new Date(spec.acquireTime).getTime()) : new V1MicroTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
      },
    };
    try {
      await this.api.replaceNamespacedLease({ name, namespace, body: next }); // carries resourceVersion: a 409 means we lost the race
      return 'held';
    } catch (err) {
      if (statusOf(err) === 409) return 'conflict';
      throw err;
    }
  }
}
