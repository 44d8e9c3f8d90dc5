// What a failover server may do for DHCP clients in each state (digest §4.1, §6.3–6.4, §8.4;
// invariants 6, 7, 23). A table per dialect; `serviceFor` adds ISC's "peer demands" rule. Pure.
import type { Dialect, PartnerState, Role, ServerState } from './states.ts';

export interface ServicePolicy {
  /**
   * Which client messages get an answer: none; only RENEW/REBIND of existing bindings; everything
   * (load balancing, if on, may still refuse some DISCOVERs — see `loadBalance`).
   */
  readonly answer: 'none' | 'renew-rebind-only' | 'all';
  /**
   * Where NEW addresses may come from: nowhere; own free state only (primary FREE, secondary BACKUP);
   * own, plus the partner's free state once PARTNER-DOWN start + MCLT has passed (mclt.ts decides when).
   */
  readonly allocateFrom: 'none' | 'own' | 'own-then-partner-after-mclt';
  /** Lease times are capped by the MCLT rule (mclt.ts). */
  readonly mcltApplies: boolean;
  /**
   * Hash-bucket filtering (load-balance.ts): off; every message except RENEW/REBIND (draft); only
   * DISCOVER (ISC: REQUESTs are never refused for balancing reasons).
   */
  readonly loadBalance: 'off' | 'all-but-renewals' | 'discover-only';
}

const NONE: ServicePolicy = { answer: 'none', allocateFrom: 'none', mcltApplies: true, loadBalance: 'off' };
const RENEWALS: ServicePolicy = { answer: 'renew-rebind-only', allocateFrom: 'none', mcltApplies: true, loadBalance: 'off' };
const DISCONNECTED: ServicePolicy = { answer: 'all', allocateFrom: 'own', mcltApplies: true, loadBalance: 'off' };
const PARTNER_DOWN: ServicePolicy = { answer: 'all', allocateFrom: 'own-then-partner-after-mclt', mcltApplies: true, loadBalance: 'off' };
const normal = (loadBalance: ServicePolicy['loadBalance']): ServicePolicy => ({ answer: 'all', allocateFrom: 'own', mcltApplies: true, loadBalance });

type Row = { readonly primary: ServicePolicy; readonly secondary: ServicePolicy };
const both = (p: ServicePolicy): Row => ({ primary: p, secondary: p });

/** draft-12 §9 per state and role (digest §4.1 "draft" column). MS follows the draft. */
export const DRAFT_SERVICE: Readonly<Record<ServerState, Row>> = {
  startup: both(NONE),
  normal: both(normal('all-but-renewals')),
  'communications-interrupted': both(DISCONNECTED),
  'partner-down': both(PARTNER_DOWN),
  'potential-conflict': both(NONE),
  'resolution-interrupted': both(DISCONNECTED),
  'conflict-done': { primary: DISCONNECTED, secondary: NONE },
  recover: both(NONE),
  'recover-wait': both(NONE),
  'recover-done': both(RENEWALS),
  paused: both(NONE),
  shutdown: both(NONE),
};

/** ISC 4.4.3 (digest §4.1 "ISC" column): no service in RECOVER-DONE, RESOLUTION-INT, CONFLICT-DONE; only DISCOVER is balanced. */
export const ISC_SERVICE: Readonly<Record<ServerState, Row>> = {
  ...DRAFT_SERVICE,
  normal: both(normal('discover-only')),
  'resolution-interrupted': both(NONE),
  'conflict-done': both(NONE),
  'recover-done': both(NONE),
};

/** ISC serves nobody while the partner reports one of these ("peer demands", digest §4.1). */
export const ISC_PEER_DEMANDS_SILENCE: ReadonlySet<PartnerState> = new Set<PartnerState>([
  'partner-down', 'potential-conflict', 'conflict-done', 'resolution-interrupted',
]);

export interface ServiceContext {
  readonly role: Role;
  readonly dialect: Dialect;
  readonly partnerState?: PartnerState | undefined;
  /** Automatic switchover is configured (partner-down-guard.ts needs evidence in COMM-INT). */
  readonly autoPartnerDown?: boolean | undefined;
}

export function serviceFor(state: ServerState, ctx: ServiceContext): ServicePolicy {
  const table = ctx.dialect === 'isc' ? ISC_SERVICE : DRAFT_SERVICE;
  const policy = table[state][ctx.role];
  if (ctx.dialect === 'isc' && ctx.partnerState !== undefined && ISC_PEER_DEMANDS_SILENCE.has(ctx.partnerState)) return NONE;
  // Waiting for evidence that the partner stopped serving (Kea's HA does the same while it detects a
  // dead partner): keep balancing DISCOVERs, so the partner's new clients are answered only once their
  // `secs` passes loadBalanceMaxSeconds. An alive partner answers them first and they never retry; a
  // dead one leaves them retrying with a growing `secs`, which is the evidence. Answering every client
  // at once would hide both cases alike, and the switchover could never be automatic.
  if (state === 'communications-interrupted' && ctx.autoPartnerDown === true && policy.loadBalance === 'off') {
    return { ...policy, loadBalance: 'discover-only' };
  }
  return policy;
}

/** True when the server answers no client at all (invariant 6: it must then store nothing from the packet). */
export function isSilent(p: ServicePolicy): boolean { return p.answer === 'none'; }
