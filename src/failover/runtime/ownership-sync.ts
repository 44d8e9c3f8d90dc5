// Runs the pool ownership handover (ownership-handover.ts) for one relationship: builds the scheme
// from the engine's scope plans and the share, stores every record before acting on it, and sends
// and receives the handover in CONTACT messages on the current link. Only our own pairs (`self`) run
// the handshake; an MS partner is split by the current scheme alone (it speaks no handover), and an
// ISC partner by binding state (pool-balancing.ts), so neither uses this class's `owns`.
import type { Clock } from '../../clock.ts';
import type { ScopePlan } from '../../dhcp/pool.ts';
import type { LeaseStore } from '../../leases/store.ts';
import { log } from '../../log.ts';
import type { Ipv4 } from '../../net/ipv4.ts';
import { layoutOf, loadScheme, schemeOf, storeScheme, type OwnershipScheme, type StoredScheme } from '../rules/address-ownership.ts';
import type { Link } from '../link/link.ts';
import {
  initialHandover, ownsFree, stepHandover, type HandoverEffect, type HandoverEvent, type HandoverState, type StoredHandover,
} from '../rules/ownership-handover.ts';
import { decodeHandover, encodeHandover, OWNERSHIP_VENDOR_CODE } from '../wire/ownership-option.ts';
import type { Role } from '../protocol/states.ts';
import type { VendorOption } from '../wire/options.ts';

const STORE_RETRY_MS = 5_000;

export function ownershipKey(relationship: string): string { return `failover:${relationship}:ownership`; }

export interface OwnershipSyncDeps {
  readonly relationship: string;
  readonly role: Role;
  /** False for a foreign partner: no handshake, the current scheme alone. */
  readonly handshake: boolean;
  readonly store: Pick<LeaseStore, 'getMeta' | 'setMeta'>;
  readonly clock: Clock;
  scopePlans(): readonly ScopePlan[];
  secondaryPercent(): number;
}

export interface OwnershipStatus {
  readonly scheme: string;
  readonly held: readonly string[];
  readonly settled: boolean;
}

export class OwnershipSync {
  private readonly deps: OwnershipSyncDeps;
  private state: HandoverState | undefined;
  private builtFrom: { plans: readonly ScopePlan[]; percent: number } | undefined;
  private link: Link | undefined;
  private writes: Promise<void> = Promise.resolve();
  private retry: { cancel(): void } | undefined;
  private stopped = false;

  constructor(deps: OwnershipSyncDeps) { this.deps = deps; }

  async start(): Promise<void> {
    let stored: StoredHandover | undefined;
    const raw = await this.deps.store.getMeta(ownershipKey(this.deps.relationship));
    if (raw !== undefined) {
      try {
        const r = JSON.parse(raw) as { current: StoredScheme; held: StoredScheme[] };
        stored = { current: loadScheme(r.current), held: r.held.map(loadScheme) };
      } catch (err) {
        // Unreadable = as if new: own nothing until the handshake (never guess a partition).
        log.error('failover.ownership.record_unreadable', { err, raw: raw.slice(0, 200) });
      }
    }
    const r = initialHandover(this.deps.role, stored, this.configured(), Math.floor(Math.random() * 2 ** 32));
    this.state = r.state;
    this.run(r.effects);
  }

  /** May this server hand out free pool address `ip` (before the lease-state rules)? */
  owns(ip: Ipv4): boolean {
    this.refresh();
    const s = this.state;
    if (s === undefined) return false;
    // Without a handshake nothing earlier is ever confirmed: the current scheme alone.
    return ownsFree(this.deps.handshake ? s : { role: s.role, current: s.current, held: [] }, ip);
  }

  /** Picks up a new scope layout or share (config reload); cheap when nothing changed. */
  refresh(): void {
    const plans = this.deps.scopePlans();
    const percent = this.deps.secondaryPercent();
    if (this.state === undefined || (this.builtFrom?.plans === plans && this.builtFrom.percent === percent)) return;
    const scheme = this.configured();
    if (scheme.fingerprint !== this.state.current.fingerprint) log.info('failover.ownership.scheme_changed', { scheme: scheme.fingerprint, was: this.state.current.fingerprint });
    this.dispatch({ kind: 'scheme', scheme });
  }

  linkUp(link: Link): void { this.link = link; this.refresh(); this.dispatch({ kind: 'link-up' }); }
  linkDown(): void { this.link = undefined; this.dispatch({ kind: 'link-down' }); }

  /** A CONTACT with vendor options from the partner. */
  receive(link: Link, options: readonly VendorOption[]): void {
    if (link !== this.link || !this.deps.handshake) return;
    if (!options.some((o) => o.code === OWNERSHIP_VENDOR_CODE)) return; // another vendor option (e.g. the secret proof)
    const m = decodeHandover(options);
    if (m === undefined) { log.warn('failover.ownership.bad_message', { codes: options.map((o) => o.code) }); return; }
    this.dispatch({ kind: 'message', message: m });
  }

  status(): OwnershipStatus | undefined {
    const s = this.state;
    return s && { scheme: s.current.fingerprint, held: s.held.map((h) => h.fingerprint), settled: s.held.length === 0 };
  }

  stop(): void { this.stopped = true; this.retry?.cancel(); }

  private configured(): OwnershipScheme {
    const plans = this.deps.scopePlans();
    const percent = this.deps.secondaryPercent();
    this.builtFrom = { plans, percent };
    return schemeOf(layoutOf(plans), percent);
  }

  private dispatch(e: HandoverEvent): void {
    if (this.state === undefined) return;
    const r = stepHandover(this.state, e);
    const settledBefore = this.state.held.length === 0;
    this.state = r.state;
    if (!settledBefore && r.state.held.length === 0) log.info('failover.ownership.settled', { scheme: r.state.current.fingerprint });
    this.run(r.effects);
  }

  private run(effects: readonly HandoverEffect[]): void {
    for (const e of effects) {
      if (e.kind === 'send') {
        if (this.deps.handshake && this.link?.state === 'established') this.link.send({ type: 'CONTACT', vendorOptions: [encodeHandover(e.message)] });
        continue;
      }
      const record = e.record;
      const json = JSON.stringify({ current: storeScheme(record.current), held: record.held.map(storeScheme) });
      // One write at a time, in order: the handover acts on a record only once it is stored.
      this.writes = this.writes.then(async () => {
        if (this.stopped) return;
        try {
          await this.deps.store.setMeta(ownershipKey(this.deps.relationship), json);
          this.dispatch({ kind: 'stored', current: record.current.fingerprint, held: record.held.map((h) => h.fingerprint) });
        } catch (err) {
          log.warn('failover.ownership.store_failed', { err });
          this.dispatch({ kind: 'store-failed' });
          this.retry?.cancel();
          this.retry = this.deps.clock.setTimer(STORE_RETRY_MS, () => {
            const s = this.state;
            if (s !== undefined) this.run([{ kind: 'store', record: { current: s.current, held: s.held } }]);
          });
        }
      });
    }
  }
}
