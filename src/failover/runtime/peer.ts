// The failover runtime for one relationship: owns the state-machine snapshot, runs its effects in
// order (persist first; keep the old snapshot if persisting fails), keeps timers on an injected
// Clock, talks to the partner through connection.ts, hands binding updates to binding-sync.ts and
// pool balancing with an ISC partner to pool-balancing.ts, applies config changes, and exposes status
// (peer-status.ts) and admin actions.
// Events are processed one at a time (a promise chain), so effects never interleave.
import type { Clock } from '../../clock.ts';
import type { FailoverConfig } from '../../config/failover.ts';
import type { Lease } from '../../leases/lease.ts';
import type { LeaseStore } from '../../leases/store.ts';
import { log } from '../../log.ts';
import type { FailoverMetrics } from '../../metrics/registry.ts';
import { FailoverTransport } from '../link/connection.ts';
import type { FailoverListeners } from '../link/listener.ts';
import type { LinkSettings, PartnerParams } from '../link/link-params.ts';
import type { Link } from '../link/link.ts';
import { boot, serviceOf, step, type Effect, type Event, type Snapshot, type TimerName } from '../protocol/state-machine.ts';
import { createFailoverPolicy, secondaryShareOf, type FailoverPolicy } from '../rules/allocation-policy.ts';
import { bucketMapForPercent } from '../rules/load-balance.ts';
import { shouldPartnerDown } from '../rules/partner-down-guard.ts';
import { wireDialectOf } from '../wire/dialect.ts';
import type { FailoverMessage, State } from '../wire/message.ts';
import { BindingSync } from './binding-sync.ts';
import type { EngineSurface } from './engine-surface.ts';
import { OwnershipSync } from './ownership-sync.ts';
import { dialectOf, linkSettingsOf, machineConfigOf, polarityOf } from './peer-settings.ts';
import { countLinkProblem, partnerDownQueryOf, setGauges, setQueueGauges, statusOf, type FailoverStatus, type LinkProblem, type PeerReading } from './peer-status.ts';
import { PoolBalancer, poolOwnershipOf } from './pool-balancing.ts';
import { planReconfigure, type ReconfigurePlan } from './reconfigure.ts';
import { partnerReportOf, stateMessageOf } from './state-exchange.ts';
import { readStateRecord, stateRecordOf, writeStateRecord } from './state-record.ts';
import { NamedTimers, waitAtMost } from './timers.ts';

/** How often the persisted record's lastOperationAt is refreshed (digest §4.3 step 5). */
const OPERATION_REFRESH_MS = 60_000;

export interface PeerOptions {
  readonly config: FailoverConfig;
  /** This server's name (metric label). */
  readonly serverName: string;
  readonly engine: EngineSurface;
  readonly store: Pick<LeaseStore, 'getMeta' | 'setMeta'>;
  readonly clock: Clock;
  readonly metrics?: FailoverMetrics | undefined;
  /** The shared secret's bytes (sharedSecret or the file's contents), if any. */
  readonly secret?: Buffer | undefined;
  readonly backoffMs?: { min: number; max: number } | undefined;
  /** How long a replaced shared secret stays accepted (default SECRET_GRACE_MS, secret-rotation.ts; tests shorten it). */
  readonly secretGraceMs?: number | undefined;
  /** The server's failover listeners, shared with its other relationships (absent: this peer listens alone). */
  readonly listeners?: FailoverListeners | undefined;
}

export class FailoverPeer {
  /** BNDUPD/BNDACK, UPDREQ(ALL)/UPDDONE and the update queue (binding-sync.ts). */
  readonly sync: BindingSync;
  /** Rebuilt when the config changes (the engine reads it through deferredPolicy). */
  policy: FailoverPolicy;
  private readonly opts: PeerOptions;
  private cfg: FailoverConfig;
  private secret: Buffer | undefined;
  private readonly labels: { relationship: string; server: string };
  private snap!: Snapshot;
  private chain: Promise<void> = Promise.resolve();
  private readonly timers: NamedTimers<TimerName | 'operation'>;
  private transport: FailoverTransport | undefined;
  private link: Link | undefined;
  /** The partner's first STATE arrived on `link` (communications OK). */
  private commsOk = false;
  private params: PartnerParams | undefined;
  private hba: Uint8Array;
  private ourRequestXid: number | undefined;
  private stopped = false;
  /** FREE/BACKUP pools with an ISC partner (pool-balancing.ts). */
  private readonly pools: PoolBalancer;
  /** Position split of every pool and its handover between our own servers (ownership-sync.ts). */
  private readonly ownership: OwnershipSync;

  constructor(opts: PeerOptions) {
    this.opts = opts;
    this.cfg = opts.config;
    this.secret = opts.secret;
    this.labels = { relationship: opts.config.relationship, server: opts.serverName };
    this.timers = new NamedTimers(opts.clock);
    this.sync = new BindingSync({
      engine: opts.engine, clock: opts.clock, metrics: opts.metrics,
      config: () => this.cfg, state: () => this.snap.state,
      readyLink: () => (this.link !== undefined && this.commsOk && this.link.state === 'established' ? this.link : undefined),
      currentLink: () => this.link, wireDialect: () => wireDialectOf(dialectOf(this.cfg)), // ISC (= draft-12, also between our own servers) or Microsoft
      skewMs: () => Math.abs(this.skewSeconds() ?? 0) * 1000, petFor: (ip) => this.policy.petFor(ip),
      enqueueWork: (fn) => this.enqueueWork(fn),
      changed: () => { if (this.opts.metrics) setQueueGauges(this.opts.metrics, this.cfg.relationship, this.sync.queue.inflightCount, this.sync.queue.pendingCount); },
    });
    this.pools = new PoolBalancer({
      engine: opts.engine, clock: opts.clock, config: () => this.cfg,
      inNormal: () => this.snap.state === 'normal', commsOk: () => this.commsOk,
      establishedLink: () => (this.link?.state === 'established' ? this.link : undefined),
      send: (leases) => { this.sync.send(leases); }, enqueueWork: (fn) => this.enqueueWork(fn),
    });
    this.ownership = new OwnershipSync({
      relationship: opts.config.relationship, role: opts.config.role, handshake: opts.config.partnerDialect === 'self',
      store: opts.store, clock: opts.clock, scopePlans: () => opts.engine.scopePlans, secondaryPercent: () => secondaryShareOf(this.cfg),
    });
    this.hba = bucketMapForPercent(opts.config.splitPercent, polarityOf(opts.config));
    this.policy = this.buildPolicy();
  }

  get config(): FailoverConfig { return this.cfg; }
  get snapshot(): Snapshot { return this.snap; }

  private buildPolicy(): FailoverPolicy {
    return createFailoverPolicy({
      config: this.cfg, polarity: polarityOf(this.cfg),
      ownership: poolOwnershipOf(this.cfg) === 'binding-state' ? 'binding-state' : { ownsFree: (ip) => this.ownership.owns(ip) },
      // Partner-down evidence gathered so far survives a config change.
      ...(this.policy !== undefined ? { initialGuard: this.policy.guard() } : {}),
      view: () => ({
        state: this.snap.state, stos: this.snap.stos, service: serviceOf(this.snap), mcltMs: this.snap.config.mcltMs,
        hba: this.hba, skewMs: Math.abs(this.skewSeconds() ?? 0) * 1000,
      }),
    });
  }

  private linkSettings(): LinkSettings {
    return linkSettingsOf(this.cfg, { secret: this.secret, hba: this.hba, backoffMs: this.opts.backoffMs, secretGraceMs: this.opts.secretGraceMs });
  }

  /**
   * Applies a changed `failover` section without a restart (reconfigure.ts): identity changes are
   * refused as a whole; link changes re-establish the link; the rest applies in place.
   */
  async reconfigure(next: FailoverConfig, nextSecret: Buffer | undefined): Promise<ReconfigurePlan> {
    const plan = planReconfigure(this.cfg, this.secret, next, nextSecret);
    if (plan.restartRequired.length > 0 || plan.changed.length === 0) return plan;
    await this.enqueueWork(() => {
      const switchoverWas = this.cfg.stateSwitchoverSeconds;
      this.cfg = next;
      this.secret = nextSecret;
      // The secondary keeps the primary's HBA from CONNECT; the primary's own follows the split.
      if (next.role === 'primary' || this.params?.hba === undefined) this.hba = bucketMapForPercent(next.splitPercent, polarityOf(next));
      this.policy = this.buildPolicy();
      const machine = machineConfigOf(next, undefined);
      const mcltMs = next.role === 'secondary' ? this.snap.config.mcltMs : machine.mcltMs;
      this.snap = { ...this.snap, config: { ...machine, mcltMs } };
      if (switchoverWas === undefined && next.stateSwitchoverSeconds !== undefined && this.snap.state === 'communications-interrupted') {
        const elapsed = this.opts.clock.now() - this.snap.stos;
        this.runEffect({ kind: 'start-timer', timer: 'switchover', ms: Math.max(1, next.stateSwitchoverSeconds * 1000 - elapsed) });
      }
      if (plan.relink) this.transport?.relink(this.linkSettings());
      else if (plan.rotateSecret) this.transport?.rotateSecret(this.linkSettings());
      log.info('failover.config.applied', { relationship: next.relationship, changed: plan.changed, relink: plan.relink, rotateSecret: plan.rotateSecret });
    });
    return plan;
  }

  /** Boots into STARTUP from the persisted record, then listens and dials. */
  async start(): Promise<void> {
    const now = this.opts.clock.now();
    const record = await readStateRecord(this.opts.store, this.config.relationship);
    await this.ownership.start();
    const booted = boot(record, machineConfigOf(this.cfg, record), now);
    await this.runStep(booted.next, booted.effects, undefined);
    // Updates that were never acked before the restart go out again (digest §1.10).
    this.sync.queueOwed();
    this.refreshOperation();
    this.transport = new FailoverTransport(this.linkSettings(), this.opts.clock, {
      established: (link, params) => this.enqueueWork(() => this.onEstablished(link, params)),
      // Binding updates and acks are batched (one store write per batch); every other message runs on its own.
      message: (link, m) => ((m.type === 'BNDUPD' || m.type === 'BNDACK') && link === this.link ? this.sync.receive(link, m) : void this.enqueueWork(() => this.onMessage(link, m))),
      closed: (link, reason, wasCurrent) => this.enqueueWork(() => this.onClosed(link, reason, wasCurrent)),
      problem: (kind, detail) => this.onProblem(kind, detail),
    }, this.opts.listeners);
    await this.transport.start();
    this.updateGauges();
  }

  /**
   * Clean stop (SIGTERM, e.g. a pod restart): announce PAUSED first (D12 §4.2 "going down for a short
   * while"), so the partner moves to COMMUNICATIONS-INTERRUPTED at once instead of waiting out
   * max-response-delay, and our restart resumes the pre-PAUSED state. The STATE goes out before the
   * DISCONNECT that closing the link sends.
   */
  async stop(): Promise<void> {
    if (!this.stopped && this.commsOk && this.link?.state === 'established') {
      await waitAtMost(this.opts.clock, 1000, this.dispatch({ kind: 'admin-pause' }));
    }
    this.stopped = true;
    this.timers.cancelAll();
    this.pools.stop();
    this.ownership.stop();
    this.sync.stop();
    await this.transport?.stop();
    // Work stuck on a hung store must not hold the shutdown forever.
    await waitAtMost(this.opts.clock, 2000, this.chain);
  }

  // ------------------------------------------------------------------ events and effects

  /** Serialises work: one event or message at a time, in arrival order. */
  private enqueueWork(fn: () => Promise<void> | void): Promise<void> {
    const next = this.chain.then(fn).catch((err: unknown) => { log.error('failover.peer.work_failed', { err }); });
    this.chain = next;
    return next;
  }

  /** Feeds an event to the state machine (serialised). */
  dispatch(event: Event): Promise<void> {
    return this.enqueueWork(async () => {
      const r = step(this.snap, event, this.opts.clock.now());
      await this.runStep(r.next, r.effects, event);
    });
  }

  private async runStep(next: Snapshot, effects: readonly Effect[], event: Event | undefined): Promise<void> {
    const persist = effects.find((e) => e.kind === 'persist-state');
    if (persist !== undefined && persist.kind === 'persist-state') {
      const rec = stateRecordOf({ ...persist, mcltMs: next.config.mcltMs }, this.opts.clock.now());
      try {
        await writeStateRecord(this.opts.store, this.config.relationship, rec);
      } catch (err) {
        // D12 §9.2 / ISC dhcp_failover_set_state: no state change that is not on stable storage.
        log.error('failover.state.persist_failed', { state: persist.state, event: event?.kind, err });
        return;
      }
    }
    const before = this.snap as Snapshot | undefined;
    this.snap = next;
    for (const e of effects) this.runEffect(e);
    if (before?.state !== next.state) this.updateGauges();
    if (before !== undefined && before.state !== 'normal' && next.state === 'normal') this.pools.onEnteredNormal();
  }

  private runEffect(e: Effect): void {
    switch (e.kind) {
      case 'persist-state': return;
      case 'send-state': this.sendState(); return;
      case 'start-timer': this.timers.start(e.timer, e.ms, () => { void this.dispatch(this.timerEvent(e.timer)); }); return;
      case 'cancel-timer': this.timers.cancel(e.timer); return;
      case 'request-updates': {
        if (this.link === undefined) return;
        this.ourRequestXid = this.link.send({ type: e.message });
        log.info('failover.updates.requested', { message: e.message, xid: this.ourRequestXid });
        return;
      }
      case 'send-pending-updates': this.sync.pump(); return;
      case 'set-service': log.info('failover.service.changed', { ...e.service, state: this.snap.state }); return;
      case 'log': {
        // The core's `event` field (what triggered the step) must not overwrite the log line's event name.
        const { event: trigger, ...rest } = e.fields as Record<string, unknown>;
        log[e.level](e.event, { relationship: this.config.relationship, ...rest, ...(trigger !== undefined ? { trigger } : {}) });
        return;
      }
    }
  }

  private timerEvent(t: TimerName): Event {
    if (t === 'startup') return { kind: 'startup-timer' };
    if (t === 'recover-wait') return { kind: 'recover-wait-timer' };
    const now = this.opts.clock.now();
    const evidence = shouldPartnerDown(this.policy.guard(), partnerDownQueryOf(this.config, this.snap.stos, now));
    return { kind: 'switchover-timer', partnerDownEvidence: evidence };
  }

  private refreshOperation(): void {
    if (this.stopped) return;
    this.timers.start('operation', OPERATION_REFRESH_MS, () => {
      void this.enqueueWork(async () => {
        const rec = stateRecordOf({ ...this.snap, mcltMs: this.snap.config.mcltMs }, this.opts.clock.now());
        if (this.snap.state !== 'startup') await writeStateRecord(this.opts.store, this.config.relationship, rec).catch((err: unknown) => log.warn('failover.state.refresh_failed', { err }));
      });
      this.refreshOperation();
    });
  }

  // ------------------------------------------------------------------ link events

  private onEstablished(link: Link, params: PartnerParams): void {
    this.link = link;
    this.params = params;
    this.commsOk = false;
    this.sync.linkUp(params.maxUnacked);
    this.ownership.linkUp(link);
    this.opts.metrics?.clockSkewSeconds.set({ relationship: this.config.relationship }, params.skewSeconds);
    if (this.config.role === 'secondary') {
      if (params.hba !== undefined) this.hba = params.hba;
      if (params.mcltSeconds !== undefined && params.mcltSeconds * 1000 !== this.snap.config.mcltMs) {
        log.info('failover.mclt.adopted', { mcltSeconds: params.mcltSeconds, was: this.snap.config.mcltMs / 1000 });
        this.snap = { ...this.snap, config: { ...this.snap.config, mcltMs: params.mcltSeconds * 1000 } };
      }
    }
    this.sendState();
  }

  private async onClosed(link: Link, reason: string, wasCurrent: boolean): Promise<void> {
    if (!wasCurrent || this.link !== link) return;
    const hadComms = this.commsOk;
    this.link = undefined;
    this.commsOk = false;
    this.ourRequestXid = undefined;
    const back = this.sync.linkLost();
    this.ownership.linkDown();
    log.warn('failover.link.lost', { reason, requeued: back });
    this.updateGauges();
    if (hadComms) {
      const r = step(this.snap, { kind: 'disconnected' }, this.opts.clock.now());
      await this.runStep(r.next, r.effects, { kind: 'disconnected' });
    }
  }

  private onProblem(kind: LinkProblem, detail: Record<string, unknown>): void {
    if (this.opts.metrics) countLinkProblem(this.opts.metrics, this.config.relationship, kind, detail);
    if (kind === 'skew') log.error('failover.clock_skew', { ...detail, hint: 'clocks differ by more than 60 s: the partner refuses the connection; synchronise with NTP' });
  }

  private async onMessage(link: Link, m: FailoverMessage): Promise<void> {
    if (link !== this.link) return; // a message from a link that is no longer ours is void (§1.10)
    // BNDUPD and BNDACK never come here: the transport callback hands them to sync.receive (batched).
    switch (m.type) {
      case 'STATE': await this.onState(m); return;
      case 'UPDREQ': case 'UPDREQALL': this.sync.onUpdateRequest(link, m); return;
      case 'UPDDONE':
        if (m.xid === this.ourRequestXid) {
          this.ourRequestXid = undefined;
          const r = step(this.snap, { kind: 'update-done' }, this.opts.clock.now());
          await this.runStep(r.next, r.effects, { kind: 'update-done' });
        } else {
          this.onProblem('protocol', { reason: 'unsolicited_upddone' });
          log.warn('failover.upddone.unsolicited', { xid: m.xid, expected: this.ourRequestXid ?? null });
        }
        return;
      case 'POOLREQ': await this.pools.answerPoolRequest(link, m.xid); return;
      case 'POOLRESP': log.info('failover.pool.response', { addresses: m.addressesTransferred }); return;
      case 'CONTACT': if (m.vendorOptions !== undefined) this.ownership.receive(link, m.vendorOptions); return;
      default:
        log.debug('failover.message.ignored', { type: m.type });
    }
  }

  private async onState(m: State): Promise<void> {
    const partner = partnerReportOf(m);
    if (partner === undefined) {
      log.warn('failover.state.bad_partner_state', { code: m.serverState });
      return;
    }
    const event: Event = this.commsOk ? { kind: 'partner-state', partner } : { kind: 'connected', partner };
    this.commsOk = true;
    const r = step(this.snap, event, this.opts.clock.now());
    await this.runStep(r.next, r.effects, event);
    this.updateGauges();
    this.sync.pump();
  }

  private sendState(): void {
    if (this.link === undefined || this.link.state !== 'established') return;
    this.link.send(stateMessageOf(this.snap));
  }

  /** The engine's hooks (server-command.ts): mark a lease owed before it is stored; queue it after. */
  prepareCommit(lease: Lease): Lease { return this.sync.prepareCommit(lease); }
  onCommit(lease: Lease): void { this.sync.onCommit(lease); }

  // ------------------------------------------------------------------ admin, status

  /** Operator: the partner is really down (digest §6.4). */
  adminPartnerDown(): Promise<void> { return this.dispatch({ kind: 'admin-partner-down' }); }

  /** Operator: resend every binding to the partner (full resync from our side). */
  adminResync(): Promise<void> {
    return this.enqueueWork(() => {
      const n = this.sync.send(this.opts.engine.leases.values());
      log.info('failover.resync.queued', { bindings: n });
    });
  }

  /** Resolves once all work queued so far has run (tests, shutdown). */
  idle(): Promise<void> { return this.chain; }

  status(): FailoverStatus { return statusOf(this.reading()); }

  private reading(): PeerReading {
    return {
      config: this.cfg, snapshot: this.snap, now: this.opts.clock.now(), commsOk: this.commsOk, linkRemote: this.link?.remote,
      skewSeconds: this.skewSeconds(), unackedUpdates: this.sync.queue.inflightCount, queuedUpdates: this.sync.queue.pendingCount,
      hba: this.hba, polarity: polarityOf(this.cfg), guard: this.policy.guard(),
      ownership: poolOwnershipOf(this.cfg) === 'binding-state' ? undefined : this.ownership.status(),
      secret: this.transport?.secretStatus(),
    };
  }

  /** Our clock minus the partner's: the latest message's on the current link, else the handshake's. */
  private skewSeconds(): number | undefined { return this.link?.skewSeconds ?? this.params?.skewSeconds; }

  /** Scrape-time gauges. */
  collectMetrics(): void { this.updateGauges(); }

  private updateGauges(): void {
    if (this.opts.metrics === undefined || this.snap === undefined) return;
    setGauges(this.opts.metrics, this.labels, this.reading());
  }
}
