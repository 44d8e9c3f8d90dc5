// The DHCP engine's AllocationPolicy while in a failover relationship: who answers (service state,
// load-balance buckets, `secs` takeover), which free addresses this server may hand out (its own
// part of each pool; the partner's only in PARTNER-DOWN after the MCLT waits), and how long a lease
// may run (MCLT rule). Reads the peer's current snapshot through `view`; no I/O.
import { STANDALONE_POLICY, type AllocationPolicy } from '../../dhcp/allocate.ts';
import type { DhcpMessage } from '../../dhcp/wire/message.ts';
import type { Lease } from '../../leases/lease.ts';
import type { Ipv4 } from '../../net/ipv4.ts';
import type { FailoverConfig } from '../../config/failover.ts';
import { requestKeyOf, shouldAnswer, type BucketMap, type HbaPolarity } from './load-balance.ts';
import { leaseTimeFor, partnerKnowledgeForLeaseOn, partnerKnowledgeOf, partnerPoolUsableAt, reallocateToOtherClientAt } from './mclt.ts';
import { emptyGuard, observeClient, type GuardState } from './partner-down-guard.ts';
import type { ServicePolicy } from '../protocol/service-state.ts';
import type { Role, ServerState } from '../protocol/states.ts';

const DHCPDISCOVER = 1;
const DHCPREQUEST = 3;
const OPT_CLIENT_ID = 61;

/** What the policy needs from the peer, read on every call. */
export interface PolicyView {
  readonly state: ServerState;
  /** Start time of the state (PARTNER-DOWN start in PARTNER-DOWN), ms. */
  readonly stos: number;
  readonly service: ServicePolicy;
  readonly mcltMs: number;
  /** The HBA in force: ours as primary, the primary's from CONNECT as secondary. */
  readonly hba: BucketMap;
  readonly skewMs: number;
}

/**
 * Against a foreign partner (ISC, draft §7.1) free addresses are owned by binding state instead: BACKUP
 * is the secondary's, FREE (or never used) the primary's; the primary hands BACKUP over (backup-share.ts).
 */
export function ownerByBindingState(lease: Lease | undefined): Role {
  return lease?.state === 'backup' ? 'secondary' : 'primary';
}

/**
 * How free addresses are divided: by position in each pool for our own pairs (address-ownership.ts,
 * with the handover of ownership-handover.ts: `ownsFree` is this server's answer), by binding state
 * with an ISC partner.
 */
export type PoolOwnership = 'binding-state' | { readonly ownsFree: (ip: Ipv4) => boolean };

export function secondaryShareOf(config: Pick<FailoverConfig, 'mode' | 'splitPercent' | 'reservePercent'>): number {
  return config.mode === 'hot-standby' ? config.reservePercent : 100 - config.splitPercent;
}

export interface FailoverPolicy extends AllocationPolicy {
  /** The PET computed for the last lease time given for `ip` (sent in the BNDUPD; digest §6.2). */
  petFor(ip: Ipv4): number | undefined;
  /** Partner-owned clients seen unanswered while communications are interrupted (partner-down-guard). */
  guard(): GuardState;
}

export function createFailoverPolicy(opts: {
  config: Pick<FailoverConfig, 'role' | 'mode' | 'splitPercent' | 'reservePercent' | 'loadBalanceMaxSeconds'>;
  polarity: HbaPolarity;
  ownership: PoolOwnership;
  /** Evidence carried over from the policy this one replaces (config reload). */
  initialGuard?: GuardState;
  view: () => PolicyView;
}): FailoverPolicy {
  const { config, polarity } = opts;
  const role = config.role;
  const ownership = opts.ownership;
  const ownsAddress = (ip: Ipv4, lease: Lease | undefined): boolean =>
    (ownership === 'binding-state' ? ownerByBindingState(lease) === role : ownership.ownsFree(ip));
  const pets = new Map<Ipv4, number>();
  let guard = opts.initialGuard ?? emptyGuard();

  const isRenewal = (type: number, msg: DhcpMessage): boolean => type === DHCPREQUEST && msg.ciaddr !== 0;
  const keyOf = (msg: DhcpMessage): Uint8Array => requestKeyOf({ clientId: msg.options.get(OPT_CLIENT_ID), chaddr: msg.chaddr.subarray(0, Math.min(msg.hlen, 16)) });

  return {
    mayAnswer({ type, msg, clientKey }, now) {
      const v = opts.view();
      if (v.state === 'communications-interrupted' && (type === DHCPDISCOVER || type === DHCPREQUEST)) {
        const ownedByPartner = !shouldAnswer({ map: v.hba, key: keyOf(msg), role, polarity, loadBalanceActive: true, secs: 0 });
        guard = observeClient(guard, { key: clientKey, secs: msg.secs, now, ownedByPartner });
      }
      const s = v.service;
      if (s.answer === 'none') return false;
      if (s.answer === 'renew-rebind-only') return isRenewal(type, msg);
      const balanced = s.loadBalance === 'discover-only' ? type === DHCPDISCOVER
        : s.loadBalance === 'all-but-renewals' ? type === DHCPDISCOVER || (type === DHCPREQUEST && !isRenewal(type, msg))
          : false;
      if (!balanced) return true;
      return shouldAnswer({ map: v.hba, key: keyOf(msg), role, polarity, loadBalanceActive: true, secs: msg.secs, maxSecs: config.loadBalanceMaxSeconds });
    },

    mayAllocate(ip, lease, now) {
      const v = opts.view();
      const from = v.service.allocateFrom;
      if (from === 'none') return false;
      const own = ownsAddress(ip, lease);
      if (from === 'own-then-partner-after-mclt') {
        const pd = { partnerDownSince: v.stos, mcltMs: v.mcltMs, skewMs: v.skewMs };
        if (lease !== undefined && lease.state !== 'free' && lease.state !== 'backup') {
          // Bound before: wait out every time the partner may believe in (invariant 3).
          return now >= reallocateToOtherClientAt(pd, {
            expiresAt: lease.expiresAt, sentPet: lease.tstp, partner: partnerKnowledgeOf(lease), reportedToPartner: true,
          });
        }
        return own || now >= partnerPoolUsableAt(pd, lease?.tsfp);
      }
      if (!own) return false;
      // Outside PARTNER-DOWN an address that left ACTIVE goes to another client only once the partner
      // acked it (then it is stored FREE) (invariant 2). Active-but-ended leases wait for the sweep + ack.
      if (lease === undefined || lease.state === 'free' || lease.state === 'backup') return true;
      if (lease.state === 'abandoned') return lease.expiresAt <= now;
      return false;
    },

    mayRebind(ip, lease) {
      // A binding that left ACTIVE was (or is about to be) reported to the partner. If the partner owns the
      // address, it sets it FREE while applying that BNDUPD, before we see its BNDACK, and a lost BNDACK
      // (kill -9, link loss) leaves us EXPIRED while it is FREE there (digest §5.1 last row, §5.3). So it
      // goes back to the client only through mayAllocate, like to any other client: refused outside
      // PARTNER-DOWN, the PARTNER-DOWN waits inside it. Our own addresses keep the shortcut: the partner
      // never allocates them outside PARTNER-DOWN, and in it only after PD start + MCLT — which covers the
      // binding because it is a new one (leaseSeconds credits PETs only on an ACTIVE record: MCLT here).
      if (lease.state !== 'expired' && lease.state !== 'released' && lease.state !== 'reset') return true;
      return ownsAddress(ip, lease);
    },

    leaseSeconds(ip: Ipv4, desiredSeconds: number, lease: Lease | undefined, now: number): number {
      const v = opts.view();
      if (!v.service.mcltApplies) return desiredSeconds;
      const r = leaseTimeFor({ desiredMs: desiredSeconds * 1000, now, mcltMs: v.mcltMs, partner: partnerKnowledgeForLeaseOn(lease), skewMs: v.skewMs });
      pets.set(ip, r.pet);
      if (pets.size > 100_000) pets.delete(pets.keys().next().value!);
      return Math.max(1, Math.floor(r.leaseMs / 1000));
    },

    petFor: (ip) => pets.get(ip),
    guard: () => guard,
  };
}

/** A policy whose calls go to `get()` at call time (the engine is built before the peer that owns the policy). */
export function deferredPolicy(get: () => AllocationPolicy): AllocationPolicy {
  return {
    mayAllocate: (ip, lease, now) => get().mayAllocate(ip, lease, now),
    mayAnswer: (request, now) => get().mayAnswer?.(request, now) ?? true,
    leaseSeconds: (ip, desired, lease, now) => get().leaseSeconds?.(ip, desired, lease, now) ?? desired,
    mayRebind: (ip, lease, now) => get().mayRebind?.(ip, lease, now) ?? true,
  };
}

/** Serves nobody: a scope whose relationship is not running yet (added by a reload; it starts on restart). */
export const NOT_SERVING_POLICY: AllocationPolicy = { mayAllocate: () => false, mayAnswer: () => false, mayRebind: () => false };

/**
 * One policy for a server in several relationships: each call goes to the policy of the relationship
 * that serves the address's (or the request's) scope; a standalone scope, or an address in no scope,
 * gets STANDALONE_POLICY (dhcp/allocate.ts: a server without failover). `scopeOf` maps an address to its scope name.
 */
export function routedPolicy(scopeOf: (ip: Ipv4) => string | undefined, policyOf: (scope: string) => AllocationPolicy | undefined): AllocationPolicy {
  const of = (ip: Ipv4): AllocationPolicy => {
    const scope = scopeOf(ip);
    return (scope !== undefined ? policyOf(scope) : undefined) ?? STANDALONE_POLICY;
  };
  return {
    mayAllocate: (ip, lease, now) => of(ip).mayAllocate(ip, lease, now),
    mayAnswer: (request, now) => (policyOf(request.scope) ?? STANDALONE_POLICY).mayAnswer?.(request, now) ?? true,
    leaseSeconds: (ip, desired, lease, now) => of(ip).leaseSeconds?.(ip, desired, lease, now) ?? desired,
    mayRebind: (ip, lease, now) => of(ip).mayRebind?.(ip, lease, now) ?? true,
  };
}
