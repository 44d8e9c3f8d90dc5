// Binding (lease) rules as tables: which local binding-state transitions each server may make
// (digest §5.1) and whether to accept a BNDUPD from the partner (D12 Figure 7.1.3-1, digest §5.2).
// Pure: time, role and state come in as arguments. Times are ms since the epoch.
import type { BindingState } from '../../leases/lease.ts';
import type { Dialect, Role, ServerState } from '../protocol/states.ts';

/** Reject reasons (failover option 21) used by BNDACK (digest §3.2). */
export const RejectReason = {
  ILLEGAL_ADDRESS: 1, FATAL_CONFLICT: 2, MISSING_BINDING_INFO: 3, UNKNOWN: 6,
  OUTDATED_BINDING_INFO: 15, LESS_CRITICAL_BINDING_INFO: 16, NOT_RESERVED: 19,
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

// ---------------------------------------------------------------- receiving a BNDUPD

/** Our record for the address, as far as the acceptance rules need it. */
export interface LocalBinding {
  readonly state: BindingState;
  /** Client key (see leases/lease.ts `clientKeyOf`); absent for free addresses. */
  readonly client?: string | undefined;
  /** client-last-transaction-time. */
  readonly cltt?: number | undefined;
  /** lease-expiration-time. */
  readonly expiresAt?: number | undefined;
  /** start-time-of-state of the binding status. */
  readonly stos?: number | undefined;
  /** The address is reserved (fixed) on this server. */
  readonly reserved?: boolean | undefined;
}

/** The binding transaction carried by the BNDUPD. */
export interface ProposedBinding {
  readonly state: BindingState;
  readonly client?: string | undefined;
  /** client-hardware-address present in the update. */
  readonly hasHardwareAddress: boolean;
  readonly cltt?: number | undefined;
  readonly expiresAt?: number | undefined;
  readonly pet?: number | undefined;
  /** IP-flags R (reserved). */
  readonly reservedFlag?: boolean | undefined;
}

export interface UpdateInput {
  readonly role: Role;
  /** undefined = no record yet: treated as FREE (the draft's pool model). */
  readonly local: LocalBinding | undefined;
  readonly proposed: ProposedBinding;
  /** The address is in a pool of this relationship. */
  readonly inPool: boolean;
  readonly now: number;
  /** Measured |skew|: "now is later than our lease end" needs that much margin (digest §6.7). */
  readonly skewMs?: number | undefined;
}

export type UpdateDecision =
  | { readonly kind: 'accept'; readonly rule: string }
  /** Accept, but store these fields instead of the proposed ones. */
  | { readonly kind: 'accept-with-changes'; readonly rule: string; readonly changes: { readonly state?: BindingState; readonly expiresAt?: number } }
  | { readonly kind: 'reject'; readonly rule: string; readonly reason: RejectReason };

/**
 * The check for (our status, received status), D12 Figure 7.1.3-1:
 * accept; client (5): same client accepts, different client: secondary accepts, primary rejects 2;
 * time1: update's CLTT later than ours; time2: now later than our lease end; time3: update's CLTT
 * later than our stos; reject4: 16.
 */
export type Check = 'accept' | 'client' | 'time1' | 'time2' | 'time3' | 'reject4';
type Column = 'active' | 'expired' | 'released' | 'free-backup' | 'reset-abandoned';
const columnOf = (s: BindingState): Column =>
  s === 'free' || s === 'backup' ? 'free-backup' : s === 'reset' || s === 'abandoned' ? 'reset-abandoned' : s;

export const ACCEPTANCE: Readonly<Record<BindingState, Readonly<Record<Column, Check>>>> = {
  active: { active: 'client', expired: 'time2', released: 'time1', 'free-backup': 'time2', 'reset-abandoned': 'accept' },
  expired: { active: 'time1', expired: 'accept', released: 'accept', 'free-backup': 'accept', 'reset-abandoned': 'accept' },
  released: { active: 'time1', expired: 'time1', released: 'accept', 'free-backup': 'accept', 'reset-abandoned': 'accept' },
  free: { active: 'accept', expired: 'accept', released: 'accept', 'free-backup': 'accept', 'reset-abandoned': 'accept' },
  backup: { active: 'accept', expired: 'accept', released: 'accept', 'free-backup': 'accept', 'reset-abandoned': 'accept' },
  reset: { active: 'time3', expired: 'accept', released: 'accept', 'free-backup': 'accept', 'reset-abandoned': 'accept' },
  abandoned: { active: 'reject4', expired: 'reject4', released: 'reject4', 'free-backup': 'reject4', 'reset-abandoned': 'accept' },
};

const NEEDS_HW: ReadonlySet<BindingState> = new Set<BindingState>(['active', 'expired', 'released']);
/** Statuses the receiver turns into FREE at once: the sender frees them when our BNDACK arrives (digest §5.1). */
const FREED_ON_RECEIPT: ReadonlySet<BindingState> = new Set<BindingState>(['expired', 'released', 'reset']);

/** "The update's time is later than ours": a missing update time never is; an update time against none of ours is. */
function later(update: number | undefined, ours: number | undefined): boolean {
  if (update === undefined) return false;
  return ours === undefined || update > ours;
}

export function checkUpdate(input: UpdateInput): UpdateDecision {
  const p = input.proposed;
  if (!input.inPool) return reject('not-in-pool', RejectReason.ILLEGAL_ADDRESS);
  if (NEEDS_HW.has(p.state) && !p.hasHardwareAddress) return reject('missing-chaddr', RejectReason.MISSING_BINDING_INFO);
  if (p.state === 'active' && p.expiresAt === undefined) return reject('active-without-lease-end', RejectReason.MISSING_BINDING_INFO);
  if (p.state === 'abandoned' && (p.client !== undefined || p.hasHardwareAddress)) return reject('abandoned-with-client', RejectReason.UNKNOWN);
  if (p.state === 'backup' && p.reservedFlag === true && input.local?.reserved !== true) return reject('backup-reserved-not-here', RejectReason.NOT_RESERVED);

  const local: LocalBinding = input.local ?? { state: 'free' };
  const check = ACCEPTANCE[local.state][columnOf(p.state)];
  const rule = `${local.state}×${p.state}:${check}`;
  switch (check) {
    case 'reject4': return reject(rule, RejectReason.LESS_CRITICAL_BINDING_INFO);
    case 'time1': if (!later(p.cltt, local.cltt)) return reject(rule, RejectReason.OUTDATED_BINDING_INFO); break;
    case 'time2': if (!(input.now > (local.expiresAt ?? 0) + Math.max(0, input.skewMs ?? 0))) return reject(rule, RejectReason.OUTDATED_BINDING_INFO); break;
    case 'time3': if (!later(p.cltt, local.stos)) return reject(rule, RejectReason.OUTDATED_BINDING_INFO); break;
    case 'client':
      if (local.client !== undefined && p.client !== undefined && local.client !== p.client && input.role === 'primary') {
        return reject(rule, RejectReason.FATAL_CONFLICT);
      }
      break;
    case 'accept': break;
  }
  return accepted(rule, local, p);
}

/** Accepted: what to store (digest §5.1, §6.1). */
function accepted(rule: string, local: LocalBinding, p: ProposedBinding): UpdateDecision {
  if (FREED_ON_RECEIPT.has(p.state)) return { kind: 'accept-with-changes', rule, changes: { state: 'free' } };
  // Keep the later lease-expiration-time for the same client (D12 §7.1.5).
  if (p.state === 'active' && local.state === 'active' && local.client === p.client && local.expiresAt !== undefined
      && p.expiresAt !== undefined && local.expiresAt > p.expiresAt) {
    return { kind: 'accept-with-changes', rule, changes: { expiresAt: local.expiresAt } };
  }
  return { kind: 'accept', rule };
}

function reject(rule: string, reason: RejectReason): UpdateDecision { return { kind: 'reject', rule, reason }; }

// ---------------------------------------------------------------- local transitions (digest §5.1)

export interface LocalTransitionContext {
  readonly role: Role;
  readonly dialect: Dialect;
  readonly serverState: ServerState;
  /** Start time of the server state (PARTNER-DOWN start when in PARTNER-DOWN). */
  readonly stos: number;
  readonly now: number;
  readonly mcltMs: number;
  /** The binding's tsfp (last PET from/acked by the partner). */
  readonly tsfp?: number | undefined;
  readonly expiresAt?: number | undefined;
  /** When the binding entered its current status. */
  readonly enteredStatusAt?: number | undefined;
  /** The partner accepted (BNDACK) our BNDUPD announcing the current status. */
  readonly partnerAcked?: boolean | undefined;
  /** A BNDUPD announcing the current status has been sent. */
  readonly reported?: boolean | undefined;
  /** The new client is the binding's previous client. */
  readonly sameClient?: boolean | undefined;
  /** The change is an operator action. */
  readonly byOperator?: boolean | undefined;
}

export interface LocalRule {
  readonly from: readonly BindingState[];
  readonly to: BindingState;
  readonly who: string;
  readonly allowed: (c: LocalTransitionContext) => boolean;
  readonly spec: string;
}

const ALL: readonly BindingState[] = ['free', 'active', 'expired', 'released', 'abandoned', 'reset', 'backup'];
const inPartnerDownAfterMclt = (c: LocalTransitionContext): boolean =>
  c.serverState === 'partner-down' && c.now >= Math.max(c.stos, c.tsfp ?? 0) + c.mcltMs;
/** The owner of a free state allocates from it; the other server only in PARTNER-DOWN after MCLT. */
const ownerOr = (owner: Role) => (c: LocalTransitionContext): boolean => c.role === owner || inPartnerDownAfterMclt(c);

export const LOCAL_TRANSITIONS: readonly LocalRule[] = [
  { from: ['free'], to: 'active', who: 'primary; secondary in PARTNER-DOWN after max(stos, tsfp) + MCLT', allowed: ownerOr('primary'), spec: '§5.1; invariant 1' },
  { from: ['backup'], to: 'active', who: 'secondary; primary in PARTNER-DOWN after max(stos, tsfp) + MCLT', allowed: ownerOr('secondary'), spec: '§5.1; invariant 1' },
  { from: ['free'], to: 'backup', who: 'primary (pool balancing)', allowed: (c) => c.role === 'primary', spec: '§5.1, §7' },
  {
    from: ['backup'], to: 'free', who: 'primary reclaiming, once the secondary accepts; ISC secondary giving surplus back',
    allowed: (c) => c.partnerAcked === true || (c.role === 'secondary' && c.dialect === 'isc'), spec: '§5.1, §5.3, §7.2',
  },
  { from: ['active'], to: 'active', who: 'either (renewal within the MCLT rules)', allowed: () => true, spec: '§5.1, §6' },
  {
    from: ['active'], to: 'expired', who: 'the server that sees the lease end; in ISC NORMAL only the primary',
    allowed: (c) => c.now >= (c.expiresAt ?? Infinity) && !(c.dialect === 'isc' && c.serverState === 'normal' && c.role === 'secondary'),
    spec: '§5.1; §10.1 item 10',
  },
  { from: ['active'], to: 'released', who: 'either (DHCPRELEASE)', allowed: () => true, spec: '§5.1' },
  { from: ALL.filter((s) => s !== 'abandoned'), to: 'abandoned', who: 'either (DECLINE, ping answer)', allowed: () => true, spec: '§5.1' },
  { from: ALL.filter((s) => s !== 'reset'), to: 'reset', who: 'operator', allowed: (c) => c.byOperator === true, spec: '§5.1' },
  {
    from: ['expired', 'released', 'reset'], to: 'free', who: 'on the partner\'s accepting BNDACK; or PARTNER-DOWN + MCLT since the status began',
    allowed: (c) => c.partnerAcked === true
      || (c.serverState === 'partner-down' && c.now >= Math.max(c.enteredStatusAt ?? Infinity, c.stos) + c.mcltMs),
    spec: '§5.1, §6.4, §6.6; invariant 2',
  },
  { from: ['abandoned'], to: 'free', who: 'operator', allowed: (c) => c.byOperator === true, spec: '§5.1' },
  {
    from: ['expired', 'released'], to: 'active', who: 'either, same client, only before the expiry/release was reported',
    allowed: (c) => c.sameClient === true && c.reported !== true, spec: '§5.1, §5.3',
  },
];

/** May this server move a binding from `from` to `to` now? Unlisted pairs are never allowed. */
export function mayTransition(from: BindingState, to: BindingState, c: LocalTransitionContext): { allowed: boolean; rule?: LocalRule } {
  const rule = LOCAL_TRANSITIONS.find((r) => r.to === to && r.from.includes(from));
  if (rule === undefined) return { allowed: false };
  return { allowed: rule.allowed(c), rule };
}
