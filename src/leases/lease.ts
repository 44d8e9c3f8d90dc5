// A lease (binding) as both the DHCP core and the failover protocol see it.
import type { Ipv4 } from '../net/ipv4.ts';

/**
 * Binding states from draft-ietf-dhc-failover-12 §5.3 (ISC's names). `free` and `backup` are
 * pool states; `active` is held by a client; `expired`/`released` wait for the partner's ack
 * before becoming free again; `abandoned` is set aside after a DECLINE or a conflict.
 */
export const BindingState = {
  FREE: 'free', ACTIVE: 'active', EXPIRED: 'expired', RELEASED: 'released',
  ABANDONED: 'abandoned', RESET: 'reset', BACKUP: 'backup',
} as const;
export type BindingState = (typeof BindingState)[keyof typeof BindingState];

export interface Lease {
  readonly ip: Ipv4;
  /** Name of the scope the address belongs to. */
  readonly scope: string;
  readonly state: BindingState;
  /** Hardware address as lowercase "htype:hex" key, e.g. "1:aabbccddeeff"; absent for free leases. */
  readonly hw?: string;
  /** Client identifier (option 61) as lowercase hex, when the client sent one. */
  readonly clientId?: string;
  readonly hostname?: string;
  /** Lease end time, ms since epoch (the draft's lease-expiration-time). */
  readonly expiresAt: number;
  /** Client last transaction time, ms since epoch (the draft's cltt). */
  readonly cltt: number;
  /** Failover: the time this server last sent to / heard from the partner about this lease (tstp/tsfp), ms. */
  readonly tstp?: number;
  readonly tsfp?: number;
  /** Failover: how far past `cltt` the partner has been told this lease may run (potential-expiration-time). */
  readonly partnerExpiresAt?: number;
  /** Failover: true when a BNDUPD for this lease is not yet acknowledged by the partner. */
  readonly pendingAck?: boolean;
}

/** The identity of a client: its client identifier when given, else htype + chaddr (RFC 2131 §4.2). */
export function clientKeyOf(lease: Pick<Lease, 'clientId' | 'hw'>): string | undefined {
  return lease.clientId !== undefined ? `id:${lease.clientId}` : lease.hw !== undefined ? `hw:${lease.hw}` : undefined;
}
