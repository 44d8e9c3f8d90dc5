// The BNDUPDs this server owes its partner (digest §1.9, §1.10; invariants 14, 15). Transport state
// lives here, never in the lease record. One binding transaction per BNDUPD (ISC cannot parse
// batches), at most `window` unacked (the partner's max-unacked-bndupd), at most one in flight per
// address (ISC ignores a BNDACK whose xid is not the last one it sent for that address), newer news
// about an address replaces older unsent news. Unacked updates go back to the queue when the link
// drops and are resent with new xids on the next link.
import type { Lease } from '../../leases/lease.ts';
import type { Ipv4 } from '../../net/ipv4.ts';

export interface QueuedUpdate {
  readonly ip: Ipv4;
  readonly lease: Lease;
}

export interface InFlight extends QueuedUpdate {
  readonly xid: number;
  readonly sentAt: number;
}

export class UpdateQueue {
  /** FIFO by first enqueue; re-enqueueing an address replaces its entry in place. */
  private pending = new Map<Ipv4, QueuedUpdate>();
  private readonly inflight = new Map<number, InFlight>();
  private readonly inflightByIp = new Map<Ipv4, number>();
  /** The partner's max-unacked-bndupd (from CONNECT / CONNECTACK). 0 = send nothing. */
  private windowSize: number;

  constructor(opts: { window?: number } = {}) { this.windowSize = Math.max(0, opts.window ?? 1); }

  get window(): number { return this.windowSize; }
  setWindow(n: number): void { this.windowSize = Math.max(0, Math.trunc(n)); }
  get pendingCount(): number { return this.pending.size; }
  get inflightCount(): number { return this.inflight.size; }
  /** Nothing waiting and nothing unacked. */
  get idle(): boolean { return this.pending.size === 0 && this.inflight.size === 0; }

  enqueue(lease: Lease): void { this.pending.set(lease.ip, { ip: lease.ip, lease }); }

  /** Entries that may be sent now, in order; the caller sends each and calls `markSent`. */
  takeSendable(): QueuedUpdate[] {
    const room = this.windowSize - this.inflight.size;
    const out: QueuedUpdate[] = [];
    if (room <= 0) return out;
    for (const [ip, entry] of this.pending) {
      if (out.length >= room) break;
      if (this.inflightByIp.has(ip)) continue;
      out.push(entry);
    }
    for (const e of out) this.pending.delete(e.ip);
    return out;
  }

  markSent(entry: QueuedUpdate, xid: number, now: number): void {
    const f: InFlight = { ...entry, xid, sentAt: now };
    this.inflight.set(xid, f);
    this.inflightByIp.set(entry.ip, xid);
  }

  /** A BNDACK arrived: the matching in-flight update, or undefined for a stray/unknown xid. */
  ack(xid: number, ip?: Ipv4): InFlight | undefined {
    const f = this.inflight.get(xid);
    if (f === undefined || (ip !== undefined && f.ip !== ip)) return undefined;
    this.inflight.delete(xid);
    this.inflightByIp.delete(f.ip);
    return f;
  }

  /** Oldest unacked send time (to detect a partner that stopped acking). */
  oldestInflightAt(): number | undefined {
    let oldest: number | undefined;
    for (const f of this.inflight.values()) if (oldest === undefined || f.sentAt < oldest) oldest = f.sentAt;
    return oldest;
  }

  /** The link dropped: every unacked update goes back to the front (unless newer news for it is queued). */
  requeueInflight(): number {
    const back = [...this.inflight.values()].sort((a, b) => a.xid - b.xid);
    this.inflight.clear();
    this.inflightByIp.clear();
    const next = new Map<Ipv4, QueuedUpdate>();
    for (const f of back) if (!this.pending.has(f.ip)) next.set(f.ip, { ip: f.ip, lease: f.lease });
    for (const [ip, e] of this.pending) next.set(ip, e);
    this.pending = next;
    return back.length;
  }

  /** Forget everything (e.g. the partner asked for a full resync and we rebuild the queue). */
  clear(): void { this.pending.clear(); this.inflight.clear(); this.inflightByIp.clear(); }
}
