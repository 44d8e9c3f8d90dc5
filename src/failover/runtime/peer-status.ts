// What one failover relationship reports: the /status document and the scrape-time gauges, both
// derived from the same reading of the running peer (pure, apart from setting the gauges it is given).
import type { FailoverMetrics } from '../../metrics/registry.ts';
import type { FailoverConfig } from '../../config/failover.ts';
import { bucketCount, type HbaPolarity } from '../rules/load-balance.ts';
import { unackedClients, type GuardState, type PartnerDownQuery } from '../rules/partner-down-guard.ts';
import { PARTNER_STATES, SERVER_STATES, serviceOf, type Snapshot } from '../protocol/state-machine.ts';

export interface FailoverStatus {
  readonly relationship: string;
  readonly role: 'primary' | 'secondary';
  /** e.g. { kind: 'load-balance', splitPercent: 50 } or { kind: 'hot-standby', reservePercent: 5 }. */
  readonly mode: { readonly kind: string; readonly splitPercent?: number; readonly reservePercent?: number };
  readonly state: string;
  readonly stateSince: string;
  readonly secondsInState: number;
  readonly partner: { readonly state: string | null; readonly since: string | null; readonly startup: boolean };
  readonly connection: { readonly up: boolean; readonly linkEstablished: boolean; readonly remote: string | null; readonly clockSkewSeconds: number | null };
  readonly updates: { readonly unacked: number; readonly queued: number };
  readonly mcltSeconds: number;
  /** The hash-bucket split in force (ours as primary, the primary's from CONNECT as secondary): RFC 3074 buckets of 256. */
  readonly loadBalance: { readonly primaryBuckets: number; readonly primaryPercent: number };
  readonly service: ReturnType<typeof serviceOf>;
  /** The automatic COMMUNICATIONS-INTERRUPTED → PARTNER-DOWN move; null without a state switchover interval. */
  readonly autoPartnerDown: AutoPartnerDownStatus | null;
  /**
   * Free-address ownership (address-ownership.ts): the scheme in force, the earlier ones still honoured
   * until the partner confirms (ownership-handover.ts), null with an ISC partner (binding state).
   */
  readonly poolOwnership: { readonly scheme: string; readonly held: readonly string[]; readonly settled: boolean } | null;
  /**
   * The shared secret (secret-rotation.ts), null without one: `link` = which secret the established link
   * uses ('previous' while either direction still does; null without a link); `previousAcceptedUntil` =
   * end of the grace period of the secret before the last change (null when none is kept). A rotation is
   * complete when both servers say `link: 'current'`.
   */
  readonly secret: { readonly link: 'current' | 'previous' | null; readonly previousAcceptedUntil: string | null } | null;
}

/** Where the automatic partner-down stands, as the switchover timer will judge it (partner-down-guard.ts). */
export interface AutoPartnerDownStatus {
  readonly switchoverSeconds: number;
  /** In COMMUNICATIONS-INTERRUPTED: when the safe period ends (ISO); null in any other state. */
  readonly safePeriodEndsAt: string | null;
  /** The partner's clients seen unanswered since communications were lost (0 outside COMMUNICATIONS-INTERRUPTED). */
  readonly unansweredClients: number;
  /** How many unanswered clients the move needs. */
  readonly clientsNeeded: number;
  /** In COMMUNICATIONS-INTERRUPTED after the safe period, with too few unanswered clients: the move waits for evidence. */
  readonly waitingForEvidence: boolean;
}

/** The guard query the switchover timer asks (peer.ts) and /status reports: one definition for both. */
export function partnerDownQueryOf(config: Pick<FailoverConfig, 'stateSwitchoverSeconds' | 'loadBalanceMaxSeconds'>, commsLostAt: number, now: number): PartnerDownQuery {
  return {
    now, commsLostAt, switchoverMs: (config.stateSwitchoverSeconds ?? 0) * 1000,
    minUnackedClients: 1, maxAckDelayS: Math.max(1, config.loadBalanceMaxSeconds),
  };
}

function autoPartnerDownOf(r: PeerReading): AutoPartnerDownStatus | null {
  const seconds = r.config.stateSwitchoverSeconds;
  if (seconds === undefined) return null;
  const q = partnerDownQueryOf(r.config, r.snapshot.stos, r.now);
  const clientsNeeded = Math.max(1, Math.trunc(q.minUnackedClients));
  if (r.snapshot.state !== 'communications-interrupted') {
    return { switchoverSeconds: seconds, safePeriodEndsAt: null, unansweredClients: 0, clientsNeeded, waitingForEvidence: false };
  }
  const unanswered = unackedClients(r.guard, q).length;
  return {
    switchoverSeconds: seconds, safePeriodEndsAt: new Date(q.commsLostAt + q.switchoverMs).toISOString(),
    unansweredClients: unanswered, clientsNeeded,
    waitingForEvidence: r.now - q.commsLostAt >= q.switchoverMs && unanswered < clientsNeeded,
  };
}

/** The running peer, as status and gauges read it. */
export interface PeerReading {
  readonly config: FailoverConfig;
  readonly snapshot: Snapshot;
  readonly now: number;
  /** The partner's first STATE arrived on the current link. */
  readonly commsOk: boolean;
  /** The current link's remote address, undefined without a link. */
  readonly linkRemote: string | undefined;
  /** Our clock minus the partner's, if ever measured. */
  readonly skewSeconds: number | undefined;
  readonly unackedUpdates: number;
  readonly queuedUpdates: number;
  readonly hba: Uint8Array;
  readonly polarity: HbaPolarity;
  /** Partner-down evidence collected while communications are interrupted (allocation-policy.ts). */
  readonly guard: GuardState;
  readonly ownership?: { readonly scheme: string; readonly held: readonly string[]; readonly settled: boolean } | undefined;
  /** The transport's secret status (connection.ts secretStatus); undefined without a shared secret. */
  readonly secret?: { readonly link: 'current' | 'previous' | undefined; readonly previousUntil: number | undefined } | undefined;
}

export function statusOf(r: PeerReading): FailoverStatus {
  const { config, snapshot: snap } = r;
  const p = snap.partner;
  const primaryBuckets = bucketCount(r.hba, { role: 'primary', polarity: r.polarity });
  return {
    relationship: config.relationship, role: config.role,
    mode: config.mode === 'hot-standby' ? { kind: 'hot-standby', reservePercent: config.reservePercent } : { kind: config.mode, splitPercent: config.splitPercent },
    state: snap.state,
    stateSince: new Date(snap.stos).toISOString(), secondsInState: Math.max(0, Math.floor((r.now - snap.stos) / 1000)),
    partner: { state: snap.connected && p ? p.state : null, since: p ? new Date(p.stos).toISOString() : null, startup: p?.startup ?? false },
    connection: { up: r.commsOk, linkEstablished: r.linkRemote !== undefined, remote: r.linkRemote ?? null, clockSkewSeconds: r.skewSeconds ?? null },
    updates: { unacked: r.unackedUpdates, queued: r.queuedUpdates },
    mcltSeconds: Math.round(snap.config.mcltMs / 1000),
    loadBalance: { primaryBuckets, primaryPercent: Math.round((primaryBuckets / 256) * 100) },
    service: serviceOf(snap),
    autoPartnerDown: autoPartnerDownOf(r),
    poolOwnership: r.ownership ?? null,
    secret: r.secret === undefined ? null : {
      link: r.secret.link ?? null,
      previousAcceptedUntil: r.secret.previousUntil === undefined ? null : new Date(r.secret.previousUntil).toISOString(),
    },
  };
}

/** Sets every gauge of the relationship from one reading. */
export function setGauges(m: FailoverMetrics, labels: { relationship: string; server: string }, r: PeerReading): void {
  const rel = { relationship: labels.relationship };
  const snap = r.snapshot;
  for (const state of SERVER_STATES) m.state.set({ ...labels, state }, state === snap.state ? 1 : 0);
  const partner = snap.connected && snap.partner ? snap.partner.state : 'unknown';
  for (const state of [...PARTNER_STATES, 'unknown']) m.partnerState.set({ ...labels, state }, state === partner ? 1 : 0);
  m.stateSeconds.set(labels, Math.max(0, (r.now - snap.stos) / 1000));
  m.connectionUp.set(rel, r.commsOk ? 1 : 0);
  m.previousSecretInUse.set(rel, r.secret?.link === 'previous' ? 1 : 0);
  if (r.skewSeconds !== undefined) m.clockSkewSeconds.set(rel, r.skewSeconds);
  setQueueGauges(m, labels.relationship, r.unackedUpdates, r.queuedUpdates);
}

/** The update queue's two gauges alone: set after every pump, which runs once per committed lease. */
export function setQueueGauges(m: FailoverMetrics, relationship: string, unacked: number, queued: number): void {
  m.unackedUpdates.set({ relationship }, unacked);
  m.queuedUpdates.set({ relationship }, queued);
}

/** A problem the link reports (connection.ts's `problem` callback). */
export type LinkProblem = 'auth' | 'skew' | 'rejected' | 'protocol' | 'refused';

/** Counts a link problem: auth failures, refused CONNECTs (with the reason), other link errors by kind. */
export function countLinkProblem(m: FailoverMetrics, relationship: string, kind: LinkProblem, detail: Record<string, unknown>): void {
  if (kind === 'auth') m.authFailures.inc({ relationship });
  else if (kind === 'skew' || kind === 'rejected') m.connectRejects.inc({ relationship, reason: String(detail.reason ?? 'unknown') });
  else m.linkErrors.inc({ relationship, kind: kind === 'protocol' ? String(detail.reason ?? 'protocol') : 'refused' });
}
