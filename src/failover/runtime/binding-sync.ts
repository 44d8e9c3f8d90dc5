// Binding updates with the partner (digest §5, §7): every lease this server commits is marked owed and
// sent as a BNDUPD within the partner's window; BNDACKs clear the mark (and free what left ACTIVE);
// received BNDUPDs are decided by binding-rules.checkUpdate and stored before they are acked; UPDREQ and
// UPDREQALL are answered with UPDDONE once every update they caused was acked. The peer owns the link and
// the state machine and lends them through SyncContext; all work runs on the peer's promise chain.
import type { Clock } from '../../clock.ts';
import { isDynamic, type ScopePlan } from '../../dhcp/pool.ts';
import { clientKeyOf, type BindingState, type Lease } from '../../leases/lease.ts';
import { log } from '../../log.ts';
import type { FailoverMetrics } from '../../metrics/registry.ts';
import { formatIpv4, type Ipv4 } from '../../net/ipv4.ts';
import { bindingOf, proposedOf } from '../wire/binding-message.ts';
import { checkUpdate, type LocalBinding } from '../rules/binding-rules.ts';
import type { FailoverConfig } from '../../config/failover.ts';
import type { Link } from '../link/link.ts';
import type { EngineSurface } from './engine-surface.ts';
import type { ServerState } from '../protocol/states.ts';
import { UpdateQueue } from './update-queue.ts';
import type { WireDialect } from '../wire/dialect.ts';
import type { BindingAck, Bndack, Bndupd, Updreq, Updreqall } from '../wire/message.ts';

/** What the updates need from the peer, read at call time. */
export interface SyncContext {
  readonly engine: EngineSurface;
  readonly clock: Clock;
  readonly metrics?: FailoverMetrics | undefined;
  config(): FailoverConfig;
  state(): ServerState;
  /** The link updates may go out on: established, and the partner's first STATE arrived. */
  readyLink(): Link | undefined;
  /** The current link, whatever its stage (responses go only on the link the request came on). */
  currentLink(): Link | undefined;
  wireDialect(): WireDialect;
  /** |clock skew| to the partner, ms. */
  skewMs(): number;
  /** The PET the policy computed for the last lease time given for `ip`. */
  petFor(ip: Ipv4): number | undefined;
  /** Runs `fn` on the peer's promise chain (after the work queued before it). */
  enqueueWork(fn: () => Promise<void> | void): Promise<void>;
  /** Queue sizes changed (gauges). */
  changed(): void;
}

export class BindingSync {
  readonly queue = new UpdateQueue({ window: 0 });
  private readonly ctx: SyncContext;
  /** The UPDREQ/UPDREQALL being answered: UPDDONE goes back on its link with its xid. */
  private answering: { link: Link; xid: number } | undefined;
  private ackWatch: { cancel(): void } | undefined;

  constructor(ctx: SyncContext) { this.ctx = ctx; }

  /** Updates that were never acked before a restart go out again (digest §1.10). */
  queueOwed(): void {
    for (const lease of this.ctx.engine.leases.values()) if (lease.pendingAck === true) this.queue.enqueue(lease);
  }

  /** A new link: the partner's window applies. */
  linkUp(maxUnacked: number): void { this.queue.setWindow(maxUnacked); }

  /** The link is gone: in-flight updates go back to the front; a pending UPDDONE is void. Returns how many. */
  linkLost(): number {
    this.answering = undefined;
    return this.queue.requeueInflight();
  }

  stop(): void { this.ackWatch?.cancel(); this.ackWatch = undefined; }

  /** Queues these leases (already stored as owed) and sends what the window allows. */
  send(leases: Iterable<Lease>): number {
    let n = 0;
    for (const lease of leases) { this.queue.enqueue(lease); n++; }
    this.pump();
    return n;
  }

  /**
   * Called by the engine before it indexes and stores a lease this server commits: a lease the partner
   * must hear about is stored as owed (`pendingAck`) with the PET it will be told, in the same write as
   * the lease itself and so before the client's ACK (invariant 10). A crash after the ACK then still
   * sends the BNDUPD on restart (start() queues every pendingAck lease).
   */
  prepareCommit(lease: Lease): Lease {
    if (!this.reportsToPartner(lease)) return lease;
    const pet = lease.state === 'active' ? Math.max(this.ctx.petFor(lease.ip) ?? lease.expiresAt, lease.expiresAt) : undefined;
    return { ...lease, pendingAck: true, ...(pet !== undefined ? { tstp: pet, partnerExpiresAt: pet } : {}) };
  }

  /** An ISC primary rejects EXPIRED from its secondary in NORMAL and sends its own (digest §10.1 item 10). */
  private reportsToPartner(lease: Lease): boolean {
    return !(lease.state === 'expired' && this.ctx.config().partnerDialect === 'isc' && this.ctx.config().role === 'secondary' && this.ctx.state() === 'normal');
  }

  /** Called by the engine after every lease this server committed (prepared above): queue the BNDUPD. */
  onCommit(lease: Lease): void {
    void this.ctx.enqueueWork(() => {
      const current = this.ctx.engine.leases.get(lease.ip);
      if (current !== undefined && (current.cltt !== lease.cltt || current.state !== lease.state || current.expiresAt !== lease.expiresAt)) return; // superseded
      if (lease.pendingAck !== true) {
        log.debug('failover.bndupd.not_sent', { ip: formatIpv4(lease.ip), state: lease.state });
        return;
      }
      this.queue.enqueue(lease);
      this.pump();
    });
  }

  /** Sends what the window allows (only while communications are OK). */
  pump(): void {
    const link = this.ctx.readyLink();
    if (link === undefined) { this.ctx.changed(); return; }
    const now = this.ctx.clock.now();
    for (const entry of this.queue.takeSendable()) {
      const xid = link.send({ type: 'BNDUPD', bindings: [this.bindingFor(entry.lease, now)] });
      this.queue.markSent(entry, xid, now);
      this.ctx.metrics?.updatesSent.inc({ relationship: this.ctx.config().relationship });
    }
    this.maybeUpdDone();
    this.watchAcks();
    this.ctx.changed();
  }

  /**
   * A partner that keeps the link alive but stops acking (D12 §4.2 "acks stop coming", optional) would
   * leave us in NORMAL with leases it never learns: after max-response-delay without a BNDACK for the
   * oldest update the link is closed, which moves us to COMMUNICATIONS-INTERRUPTED.
   */
  private watchAcks(): void {
    if (this.ackWatch !== undefined || this.queue.inflightCount === 0) return;
    const limit = this.ctx.config().maxResponseDelaySeconds * 1000;
    const oldest = this.queue.oldestInflightAt() ?? this.ctx.clock.now();
    const wait = Math.max(1, oldest + limit - this.ctx.clock.now());
    this.ackWatch = this.ctx.clock.setTimer(wait, () => {
      this.ackWatch = undefined;
      void this.ctx.enqueueWork(() => {
        const first = this.queue.oldestInflightAt();
        const link = this.ctx.currentLink();
        if (first !== undefined && this.ctx.clock.now() - first >= limit && link !== undefined) {
          log.warn('failover.bndack.overdue', { unacked: this.queue.inflightCount, waitedMs: this.ctx.clock.now() - first });
          link.close('no BNDACK within max-response-delay', { rejectReason: 17 });
          return;
        }
        this.watchAcks();
      });
    });
  }

  /** One binding transaction for the partner, in its dialect (Microsoft also wants the scope's mask). */
  private bindingFor(lease: Lease, now: number): Bndupd['bindings'][number] {
    const plan = this.ctx.engine.scopePlans.find((p) => p.scope.name === lease.scope);
    const prefix = plan?.scope.subnet.prefix;
    const subnetMask = prefix === undefined ? undefined : ((prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0) as Ipv4);
    return bindingOf(lease, { now, dialect: this.ctx.wireDialect(), subnetMask });
  }

  /**
   * Settles one acknowledged update: the lease to store (no longer owed, or FREE for
   * EXPIRED/RELEASED/RESET), or undefined (rejected, unmatched, or the lease changed meanwhile).
   */
  private settleAck(xid: number, ack: BindingAck, leaseAt: (ip: Ipv4) => Lease | undefined): Lease | undefined {
    const f = this.queue.ack(xid, ack.assignedIpAddress);
    if (f === undefined) {
      // A late duplicate after a reconnect, or a confused partner: counted, otherwise harmless.
      this.ctx.metrics?.linkErrors.inc({ relationship: this.ctx.config().relationship, kind: 'unmatched_bndack' });
      log.info('failover.bndack.unmatched', { xid, ip: formatIpv4(ack.assignedIpAddress) });
      return undefined;
    }
    const relationship = this.ctx.config().relationship;
    this.ctx.metrics?.updateAckSeconds.observe({ relationship }, Math.max(0, this.ctx.clock.now() - f.sentAt) / 1000);
    const current = leaseAt(f.ip);
    const same = current !== undefined && current.cltt === f.lease.cltt && current.state === f.lease.state && current.expiresAt === f.lease.expiresAt;
    if (ack.rejectReason !== undefined) {
      this.ctx.metrics?.updatesRejected.inc({ relationship, reason: String(ack.rejectReason) });
      log.warn('failover.bndupd.rejected', { ip: formatIpv4(f.ip), state: f.lease.state, rejectReason: ack.rejectReason, message: ack.message });
      return undefined;
    }
    this.ctx.metrics?.updatesAcked.inc({ relationship });
    if (!same) return undefined;
    // EXPIRED/RELEASED/RESET become FREE once the partner accepted them (digest §5.1, invariant 2).
    const freed = f.lease.state === 'expired' || f.lease.state === 'released' || f.lease.state === 'reset';
    return freed ? freeLease(current) : { ...current, pendingAck: false };
  }

  onUpdateRequest(link: Link, m: Updreq | Updreqall): void {
    const all = m.type === 'UPDREQALL';
    let n = 0;
    for (const lease of this.ctx.engine.leases.values()) {
      if (all || lease.pendingAck === true) { this.queue.enqueue(lease); n++; }
    }
    log.info('failover.updates.answering', { message: m.type, bindings: n });
    this.answering = { link, xid: m.xid };
    this.pump();
  }

  /** UPDDONE only once every update generated for the request was acked (invariant 15). */
  private maybeUpdDone(): void {
    const a = this.answering;
    if (a === undefined || !this.queue.idle) return;
    this.answering = undefined;
    if (a.link === this.ctx.currentLink()) a.link.send({ type: 'UPDDONE' }, a.xid);
  }

  // ------------------------------------------------------------------ binding updates in

  /**
   * BNDUPDs and BNDACKs received while the previous batch was being stored: the next batch. Handling
   * them one by one, each waiting for its own fsync, made the round trip the window (10) times the
   * fsync time; a batch is decided in memory, stored in ONE write, then acknowledged.
   */
  private inbound: { link: Link; m: Bndupd | Bndack }[] = [];

  /** A BNDUPD or BNDACK arrived: batch it; the first of a batch schedules the drain on the peer's work chain. */
  receive(link: Link, m: Bndupd | Bndack): void {
    this.inbound.push({ link, m });
    if (this.inbound.length === 1) void this.ctx.enqueueWork(() => this.drainInbound());
  }

  private async drainInbound(): Promise<void> {
    const batch = this.inbound;
    this.inbound = [];
    // What this batch changes, by address: later transactions see earlier ones; stored (and indexed) once.
    const changed = new Map<Ipv4, Lease>();
    const leaseAt = (ip: Ipv4): Lease | undefined => changed.get(ip) ?? this.ctx.engine.leases.get(ip);
    const decided: { link: Link; xid: number; acks: { ack: BindingAck; stored?: Lease }[] }[] = [];
    let settled = false;
    for (const { link, m } of batch) {
      if (m.type === 'BNDACK') {
        for (const ack of m.acks) { const next = this.settleAck(m.xid, ack, leaseAt); if (next !== undefined) changed.set(next.ip, next); }
        settled = true;
        continue;
      }
      const acks = m.bindings.map((b) => this.decideBinding(b, leaseAt));
      for (const a of acks) if (a.stored !== undefined) changed.set(a.stored.ip, a.stored);
      decided.push({ link, xid: m.xid, acks });
    }
    const toStore = [...changed.values()];
    let stored = true;
    try {
      if (toStore.length > 0) await this.ctx.engine.applyRemote(toStore); // on stable storage before the BNDACK (invariant 12)
    } catch (err) {
      stored = false;
      log.error('failover.bndupd.store_failed', { count: toStore.length, err });
    }
    const relationship = this.ctx.config().relationship;
    for (const d of decided) {
      // Not stored → no ack for it: the partner keeps it owed and resends after reconnecting.
      const acks = d.acks.flatMap((a) => (a.stored === undefined || stored ? [a.ack] : []));
      for (const a of d.acks) if (a.stored !== undefined) this.ctx.metrics?.updatesReceived.inc({ relationship, result: stored ? 'accepted' : 'failed' });
      if (acks.length > 0 && d.link === this.ctx.currentLink() && d.link.state === 'established') d.link.send({ type: 'BNDACK', acks }, d.xid);
    }
    if (settled) this.pump();
  }

  /**
   * Decides one binding transaction (Microsoft batches up to 16 per BNDUPD) against `leaseAt`
   * (memory plus the batch so far): a reject, or the lease to store and the ack to send once stored.
   */
  private decideBinding(b: Bndupd['bindings'][number], leaseAt: (ip: Ipv4) => Lease | undefined): { ack: BindingAck; stored?: Lease } {
    const relationship = this.ctx.config().relationship;
    const p = proposedOf(b, this.ctx.wireDialect());
    const ip = p.ip;
    if (p.hostNameProblem !== undefined) {
      // The name is ignored, the binding is not: counted and logged without the offending bytes.
      this.ctx.metrics?.linkErrors.inc({ relationship, kind: 'bad_client_host_name' });
      log.info('failover.bndupd.host_name_dropped', { ip: formatIpv4(ip), problem: p.hostNameProblem });
    }
    const nack = (reason: number, why: string): { ack: BindingAck } => {
      this.ctx.metrics?.updatesReceived.inc({ relationship, result: 'rejected' });
      log.info('failover.bndupd.refused', { ip: formatIpv4(ip), rejectReason: reason, why });
      return { ack: { assignedIpAddress: ip, rejectReason: reason, message: why.slice(0, 200) } };
    };
    if (b.bindingStatus === undefined) return nack(3, 'binding-status is required');
    const state = p.state;
    if (state === undefined) return nack(3, `unknown binding-status ${b.bindingStatus}`);
    const now = this.ctx.clock.now();
    const plan = this.ctx.engine.scopePlans.find((pl) => isDynamic(pl, ip) || pl.reservedIps.has(ip));
    const client = { ...(p.clientId !== undefined ? { clientId: p.clientId } : {}), ...(p.hw !== undefined ? { hw: p.hw } : {}) };
    const existing = leaseAt(ip);
    const decision = checkUpdate({
      role: this.ctx.config().role,
      local: existing === undefined ? undefined : localBindingOf(existing, plan),
      proposed: {
        state, client: clientKeyOf(client), hasHardwareAddress: p.hw !== undefined,
        cltt: p.cltt, expiresAt: p.expiresAt, pet: p.pet, reservedFlag: p.reservedFlag,
      },
      inPool: plan !== undefined, now, skewMs: this.ctx.skewMs(),
    });
    if (decision.kind === 'reject') return nack(decision.reason, decision.rule);
    const changes = decision.kind === 'accept-with-changes' ? decision.changes : {};
    const finalState: BindingState = changes.state ?? state;
    const base: Lease = {
      ip, scope: plan!.scope.name, state: finalState, expiresAt: changes.expiresAt ?? p.expiresAt ?? existing?.expiresAt ?? now, cltt: p.cltt ?? now,
      ...(p.pet !== undefined ? { tsfp: p.pet } : existing?.tsfp !== undefined ? { tsfp: existing.tsfp } : {}),
    };
    const stored: Lease = finalState === 'free' || finalState === 'backup' || finalState === 'abandoned'
      ? base
      : {
        ...base, ...client,
        // The partner's name for the client; without one (ISC never sends it) the one we knew for the same client.
        ...(p.hostname !== undefined ? { hostname: p.hostname }
          : existing?.hostname !== undefined && clientKeyOf(existing) === clientKeyOf(client) ? { hostname: existing.hostname } : {}),
      };
    log.debug('failover.bndupd.applied', { ip: formatIpv4(ip), state: finalState, rule: decision.rule });
    return { ack: { assignedIpAddress: ip }, stored };
  }
}

function freeLease(l: Lease): Lease {
  return { ip: l.ip, scope: l.scope, state: 'free', expiresAt: l.expiresAt, cltt: l.cltt, ...(l.tsfp !== undefined ? { tsfp: l.tsfp } : {}), pendingAck: false };
}

function localBindingOf(l: Lease, plan: ScopePlan | undefined): LocalBinding {
  return { state: l.state, client: clientKeyOf(l), cltt: l.cltt, expiresAt: l.expiresAt, stos: l.cltt, reserved: plan?.reservedIps.has(l.ip) ?? false };
}
