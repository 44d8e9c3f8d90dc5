// Addresses offered but not yet requested. Held in memory only: an offer is a promise for a few
// seconds, not a binding, so it is neither persisted nor sent to the failover partner.
import type { Ipv4 } from '../net/ipv4.ts';
import type { OfferView } from './allocate.ts';

interface Offer { readonly clientKey: string; readonly until: number }

export class OfferBook implements OfferView {
  private readonly byIp = new Map<Ipv4, Offer>();
  private readonly limit: number;

  constructor(options: { limit?: number } = {}) { this.limit = options.limit ?? 200_000; }

  get size(): number { return this.byIp.size; }

  hold(ip: Ipv4, clientKey: string, until: number, now: number): void {
    if (this.byIp.size >= this.limit) this.prune(now);
    this.byIp.delete(ip); // re-insert so Map order stays roughly by expiry
    this.byIp.set(ip, { clientKey, until });
  }

  release(ip: Ipv4, clientKey: string): void {
    const offer = this.byIp.get(ip);
    if (offer && offer.clientKey === clientKey) this.byIp.delete(ip);
  }

  isHeldByOther(ip: Ipv4, clientKey: string, now: number): boolean {
    const offer = this.byIp.get(ip);
    return offer !== undefined && offer.until > now && offer.clientKey !== clientKey;
  }

  /** Drops run-out offers; bounded by the map size. */
  prune(now: number): void {
    for (const [ip, offer] of this.byIp) if (offer.until <= now) this.byIp.delete(ip);
  }
}
