// The maximum client lead time (MCLT) rules as pure functions (digest §6; D12 §5.2.1, §7.1.5,
// §9.4.2, §9.6.2). All times are ms since the epoch; durations are ms.
import type { Lease } from '../../leases/lease.ts';
import type { ServerState } from '../protocol/states.ts';

/** What the partner is known to know about one binding (digest §6.1). */
export interface PartnerKnowledge {
  /** acked-PET: the last potential-expiration-time we sent and the partner acknowledged. */
  readonly ackedPet?: number | undefined;
  /** received-PET: the last potential-expiration-time the partner sent us and we acked. */
  readonly receivedPet?: number | undefined;
}

/**
 * Read PartnerKnowledge from a stored lease: `tsfp` is ISC's "time sent from partner" (the last PET
 * acked by or received from the partner); `partnerExpiresAt` counts only once its BNDUPD is acked.
 */
export function partnerKnowledgeOf(lease: Pick<Lease, 'tsfp' | 'partnerExpiresAt' | 'pendingAck'>): PartnerKnowledge {
  return { ackedPet: lease.pendingAck === true ? undefined : lease.partnerExpiresAt, receivedPet: lease.tsfp };
}

/**
 * What the partner knows about the binding a lease given on this record continues (invariant 8;
 * policy.leaseSeconds). A record's PETs are about the client binding it holds, and the partner keeps
 * waiting for them only while it still believes that binding, so they count only for an ACTIVE record:
 * a renewal. Any other record starts a new binding, and a first binding gets MCLT:
 * - FREE / BACKUP / ABANDONED: no binding. A `tsfp` kept there is a PET about the previous client (kept
 *   for the PARTNER-DOWN waits); the partner, which knows the address as free, waits only
 *   max(PD start, its tsfp) + MCLT before reusing it (partnerPoolUsableAt) and ignores its own sent PET.
 * - EXPIRED / RELEASED / RESET: the end of the binding is reported (or owed), and the partner frees the
 *   address while applying that BNDUPD, before we see its BNDACK (digest §5.1, §5.3).
 * Another client's ACTIVE record is reused only in PARTNER-DOWN after reallocateToOtherClientAt, more
 * than MCLT after every PET on it, so its PETs give nothing there anyway.
 */
export function partnerKnowledgeForLeaseOn(
  lease: Pick<Lease, 'state' | 'tsfp' | 'partnerExpiresAt' | 'pendingAck'> | undefined,
): PartnerKnowledge {
  return lease?.state === 'active' ? partnerKnowledgeOf(lease) : {};
}

export interface LeaseTimeInput {
  /** The lease time the server would give without failover (D). */
  readonly desiredMs: number;
  readonly now: number;
  readonly mcltMs: number;
  readonly partner: PartnerKnowledge;
  /** Measured |clock skew| to the partner; shrinks what the partner's times are worth (§6.7). */
  readonly skewMs?: number | undefined;
}

export interface LeaseTimeResult {
  /** Lease time to give the client. */
  readonly leaseMs: number;
  /** lease-expiration-time for the BNDUPD = now + leaseMs. */
  readonly expiresAt: number;
  /** potential-expiration-time for the BNDUPD = now + D + leaseMs/2 (≥ expiresAt). */
  readonly pet: number;
}

/**
 * The lease we may give (digest §6.2, invariant 8): lease end ≤ max(now, acked-PET, received-PET) + MCLT.
 * A first binding with D > MCLT gets exactly MCLT; leases ≤ MCLT are never shortened. The same cap
 * applies in every serving state (COMM-INT, RESOLUTION-INT, PARTNER-DOWN as ISC does), so leases
 * shrink toward now + MCLT while the partner cannot be told.
 */
export function leaseTimeFor(input: LeaseTimeInput): LeaseTimeResult {
  const d = Math.max(0, input.desiredMs);
  const mclt = Math.max(0, input.mcltMs);
  const known = maxDefined(input.partner.ackedPet, input.partner.receivedPet);
  const remaining = known === undefined ? 0 : Math.max(0, known - input.now - Math.max(0, input.skewMs ?? 0));
  const leaseMs = remaining + mclt >= d ? d : remaining + mclt;
  return { leaseMs, expiresAt: input.now + leaseMs, pet: input.now + d + Math.floor(leaseMs / 2) };
}

/** True if `expiresAt` respects the MCLT guarantee for what the partner knows (invariant 8). */
export function withinMclt(expiresAt: number, input: Omit<LeaseTimeInput, 'desiredMs'>): boolean {
  const known = maxDefined(input.partner.ackedPet, input.partner.receivedPet) ?? input.now;
  return expiresAt <= Math.max(input.now, known) + input.mcltMs;
}

/** When the PARTNER-DOWN waits are measured from (digest §6.4). */
export interface PartnerDownClock {
  /** Start time of the PARTNER-DOWN state. */
  readonly partnerDownSince: number;
  readonly mcltMs: number;
  readonly skewMs?: number | undefined;
}

/**
 * Earliest time an address in the partner's free state (BACKUP for a primary, FREE for a secondary)
 * may be given to a new client in PARTNER-DOWN: max(PD start, tsfp) + MCLT (ISC `lease_mine_to_reallocate`).
 */
export function partnerPoolUsableAt(pd: PartnerDownClock, tsfp?: number): number {
  return Math.max(pd.partnerDownSince, tsfp ?? 0) + pd.mcltMs + skew(pd);
}

export interface BoundAddressTimes {
  readonly expiresAt: number;
  readonly sentPet?: number | undefined;
  readonly partner: PartnerKnowledge;
  /** False for a binding created in PARTNER-DOWN and never reported: it is exempt from the wait (D12 §5.2.1). */
  readonly reportedToPartner: boolean;
}

/**
 * Earliest time an address bound to a client may go to a DIFFERENT client in PARTNER-DOWN
 * (invariant 3): max(PD start + MCLT, max(lease end, sent-PET, acked-PET, received-PET) + MCLT).
 * Unreported bindings only wait for their own lease end.
 */
export function reallocateToOtherClientAt(pd: PartnerDownClock, b: BoundAddressTimes): number {
  if (!b.reportedToPartner) return b.expiresAt;
  const latest = Math.max(b.expiresAt, b.sentPet ?? 0, b.partner.ackedPet ?? 0, b.partner.receivedPet ?? 0);
  return Math.max(pd.partnerDownSince + pd.mcltMs, latest + pd.mcltMs) + skew(pd);
}

/**
 * EXPIRED / RELEASED / RESET → FREE without the partner's ack, in PARTNER-DOWN only: MCLT after the
 * binding entered that status, counted from no earlier than PD start (D12 figure 5.11-1 note 1).
 */
export function transitionalFreeAt(pd: PartnerDownClock, enteredStatusAt: number): number {
  return Math.max(enteredStatusAt, pd.partnerDownSince) + pd.mcltMs + skew(pd);
}

/** RECOVER-WAIT ends at (failure time, or start time if unknown) + MCLT (digest §6.5). */
export function recoverWaitEndsAt(failedAt: number, mcltMs: number): number {
  return failedAt + mcltMs;
}

/**
 * May this server give a lease to a client right now, and for how long? Combines the service state
 * with the MCLT cap: undefined where the state gives no leases at all.
 */
export function leaseTimeInState(state: ServerState, input: LeaseTimeInput): LeaseTimeResult | undefined {
  return LEASING_STATES.has(state) ? leaseTimeFor(input) : undefined;
}

/** States in which some server may give or extend a lease (the draft's list; service-state.ts narrows per dialect). */
export const LEASING_STATES: ReadonlySet<ServerState> = new Set<ServerState>([
  'normal', 'communications-interrupted', 'partner-down', 'resolution-interrupted', 'conflict-done', 'recover-done',
]);

function skew(pd: PartnerDownClock): number { return Math.max(0, pd.skewMs ?? 0); }

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}
