// Where ISC (= draft-12 values) and Microsoft (MS-DHCPF 3.1.4.2) give binding-status and IP-flags
// different meanings (digest §3.3, §3.4, §9.3). Messages carry the wire numbers; these functions map
// them to and from our canonical BindingState (src/leases/lease.ts).
import type { BindingState } from '../../leases/lease.ts';
import type { Dialect } from '../protocol/states.ts';

/** On the wire the draft and ISC agree, so there are two encodings. */
export type WireDialect = 'isc' | 'ms';

export function wireDialectOf(d: Dialect): WireDialect {
  return d === 'ms' ? 'ms' : 'isc';
}

/** binding-status (option 3), draft-12 / ISC. */
export const ISC_BINDING_STATUS: Readonly<Record<BindingState, number>> = {
  free: 1, active: 2, expired: 3, released: 4, abandoned: 5, reset: 6, backup: 7,
};
const ISC_STATE_BY_CODE: ReadonlyMap<number, BindingState> = new Map(
  Object.entries(ISC_BINDING_STATUS).map(([s, c]) => [c, s as BindingState]),
);
/** IP-flags (option 12), draft-12 / ISC. */
export const ISC_IP_FLAGS = { RESERVED: 0x0001, BOOTP: 0x0002 } as const;

/** IP-flags, Microsoft. */
export const MS_IP_FLAGS = { DELETED: 0x0001, RELEASED: 0x0002, DELETED_COMM_DOWN: 0x0004 } as const;
/** Microsoft lease binding-status: bits 0–1 address state (bits 2–3 DHCID, 4–7 DNS are passed through). */
export const MS_ADDRESS_STATE = { OFFERED: 0, ACTIVE: 1, DECLINED: 2, DOOMED: 3 } as const;
export const MS_ADDRESS_STATE_MASK = 0x03;
/** Microsoft address-redistribution binding-status codes (sent with IP-flags 0 and no client). */
export const MS_REDISTRIBUTION = { FREE: 1, BACKUP: 2, RECONCILE: 4, FREE_UPDATE: 5, BACKUP_UPDATE: 6 } as const;

export interface WireBindingStatus { readonly bindingStatus: number; readonly ipFlags: number }

/**
 * Canonical state → wire values. `ipFlags` (ISC: RESERVED/BOOTP) and `msStatusBits` (MS: DHCID/DNS
 * bits 2–7) are extra bits the caller wants set. MS has no RESET: it is sent as DOOMED with the
 * DELETED flag (an administrator deleted the lease). MS ABANDONED is DECLINED.
 */
export function bindingStateToWire(state: BindingState, dialect: WireDialect, extra: { ipFlags?: number; msStatusBits?: number } = {}): WireBindingStatus {
  if (dialect === 'isc') return { bindingStatus: ISC_BINDING_STATUS[state], ipFlags: extra.ipFlags ?? 0 };
  const bits = (extra.msStatusBits ?? 0) & ~MS_ADDRESS_STATE_MASK & 0xff;
  switch (state) {
    case 'free': return { bindingStatus: MS_REDISTRIBUTION.FREE, ipFlags: 0 };
    case 'backup': return { bindingStatus: MS_REDISTRIBUTION.BACKUP, ipFlags: 0 };
    case 'active': return { bindingStatus: MS_ADDRESS_STATE.ACTIVE | bits, ipFlags: extra.ipFlags ?? 0 };
    case 'released': return { bindingStatus: MS_ADDRESS_STATE.ACTIVE | bits, ipFlags: (extra.ipFlags ?? 0) | MS_IP_FLAGS.RELEASED };
    case 'expired': return { bindingStatus: MS_ADDRESS_STATE.DOOMED | bits, ipFlags: extra.ipFlags ?? 0 };
    case 'abandoned': return { bindingStatus: MS_ADDRESS_STATE.DECLINED | bits, ipFlags: extra.ipFlags ?? 0 };
    case 'reset': return { bindingStatus: MS_ADDRESS_STATE.DOOMED | bits, ipFlags: (extra.ipFlags ?? 0) | MS_IP_FLAGS.DELETED };
  }
}

/**
 * Wire values → canonical state; undefined for an ISC value outside 1..7. `hasClient` (the update
 * carries client-hardware-address or client-identifier) tells MS redistribution updates (never with
 * a client) from lease updates, which is how we read MS-DHCPF's "with no lease record".
 * MS mapping (MS-DHCPF 3.1.5.2, digest §9.3): redistribution FREE/FREE_UPDATE/RECONCILE → free,
 * BACKUP/BACKUP_UPDATE → backup; else RELEASED flag → released; DOOMED → expired; DECLINED →
 * abandoned (MS maps it to EXPIRED; we keep a declined address out of reuse); OFFERED/ACTIVE → active.
 */
export function bindingStateFromWire(w: { bindingStatus: number; ipFlags?: number | undefined }, dialect: WireDialect, ctx: { hasClient: boolean }): BindingState | undefined {
  if (dialect === 'isc') return ISC_STATE_BY_CODE.get(w.bindingStatus);
  const flags = w.ipFlags ?? 0;
  if (!ctx.hasClient) {
    switch (w.bindingStatus) {
      case MS_REDISTRIBUTION.FREE: case MS_REDISTRIBUTION.FREE_UPDATE: case MS_REDISTRIBUTION.RECONCILE: return 'free';
      case MS_REDISTRIBUTION.BACKUP: case MS_REDISTRIBUTION.BACKUP_UPDATE: return 'backup';
    }
  }
  if ((flags & MS_IP_FLAGS.RELEASED) !== 0) return 'released';
  switch (w.bindingStatus & MS_ADDRESS_STATE_MASK) {
    case MS_ADDRESS_STATE.DOOMED: return (flags & MS_IP_FLAGS.DELETED) !== 0 ? 'reset' : 'expired';
    case MS_ADDRESS_STATE.DECLINED: return 'abandoned';
    default: return 'active';
  }
}

/** The canonical state of a decoded binding transaction, or undefined without a (valid) binding-status. */
export function bindingStateOf(b: { bindingStatus?: number | undefined; ipFlags?: number | undefined; clientHardwareAddress?: unknown; clientIdentifier?: unknown }, dialect: WireDialect): BindingState | undefined {
  if (b.bindingStatus === undefined) return undefined;
  return bindingStateFromWire({ bindingStatus: b.bindingStatus, ipFlags: b.ipFlags }, dialect,
    { hasClient: b.clientHardwareAddress !== undefined || b.clientIdentifier !== undefined });
}
