// Leader election with a coordination.k8s.io/v1 Lease, as client-go's leaderelection: acquire when the
// lease is free or its holder has not renewed within leaseDuration (by local observation, so clock skew
// between pods does not matter), renew every retryPeriod, give up leadership when renewing has failed for
// renewDeadline, release the lease on a clean stop. Times go out as V1MicroTime (6 fractional digits).
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Clock } from '../clock.ts';
import { log } from '../log.ts';
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
  readonly onStoppedLeading: () => void;
}

export class LeaderElector {
  private readonly options: LeaderElectionOptions;
  private readonly api: CoordinationV1Api;
  private timer: { cancel(): void } | undefined;
  private running = false;
  private leading = false;
  private lastRenew = 0;
  /** The holder/renewTime last seen and when we saw it (local clock). */
  private observed: { record: string; at: number } | undefined;

  constructor(options: LeaderElectionOptions) {
    this.options = options;
    this.api = options.kc.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean { return this.leading; }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.tick();
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    if (!this.leading) return;
    this.setLeading(false);
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

  private setLeading(v: boolean): void {
    if (v === this.leading) return;
    this.leading = v;
    log.info(v ? 'operator.leader.started' : 'operator.leader.stopped', { identity: this.options.identity, lease: this.options.name });
    if (v) this.options.onStartedLeading(); else this.options.onStoppedLeading();
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    let ok = false;
    try { ok = await this.tryAcquireOrRenew(); } catch (err) {
      log.debug('operator.leader.error', { err: String((err as Error)?.message ?? err) });
    }
    if (!this.running) return;
    const now = this.options.clock.now();
    if (ok) { this.lastRenew = now; this.setLeading(true); }
    else if (this.leading && now - this.lastRenew >= this.options.renewDeadlineMs) this.setLeading(false);
    this.timer = this.options.clock.setTimer(this.options.retryPeriodMs, () => { void this.tick(); });
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
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
        return true;
      } catch (e) {
        if (statusOf(e) === 409) return false; // another candidate created it first
        throw e;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = `${holder}|${spec.renewTime ? new Date(spec.renewTime).getTime() : ''}|${spec.leaseDurationSeconds ?? ''}`;
    if (this.observed?.record !== record) this.observed = { record, at: now };
    const durationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    const expired = holder === '' || now >= this.observed.at + durationMs;
    if (holder !== identity && !expired) return false;
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
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false;
      throw err;
    }
  }
}
