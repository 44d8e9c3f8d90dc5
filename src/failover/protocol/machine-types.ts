// The vocabulary of the failover state machine (state-machine.ts): states, events, effects, rules.
import type { ServicePolicy } from './service-state.ts';
import type { Dialect, PartnerState, Role, ServerState } from './states.ts';

/** What the partner last told us in STATE. */
export interface PartnerReport {
  readonly state: PartnerState;
  /** start-time-of-state, ms since epoch. */
  readonly stos: number;
  /** server-flags STARTUP bit: the partner is itself in STARTUP and reports its previous state. */
  readonly startup: boolean;
}

export interface MachineConfig {
  readonly role: Role;
  readonly dialect: Dialect;
  /** Maximum client lead time, ms (the secondary uses the primary's). */
  readonly mcltMs: number;
  readonly startupMs: number;
  /** The safe period (ISC auto-partner-down, MS state switchover interval); recheckMs = retry when evidence is lacking. */
  readonly autoPartnerDown: { readonly enabled: boolean; readonly intervalMs: number; readonly recheckMs: number };
}

export interface Snapshot {
  readonly state: ServerState;
  /** Start time of state (STOS), ms. */
  readonly stos: number;
  /** In STARTUP: the state to resume (already comms-failed). In PAUSED/SHUTDOWN: the state to resume after restart. */
  readonly previous?: ServerState | undefined;
  /** In STARTUP: the recorded start time of `previous`, reported in STATE with the STARTUP flag. */
  readonly previousStos?: number | undefined;
  /** Our last recorded time of operation before this boot (digest §4.3 step 5), ms. */
  readonly lastOperationAt?: number | undefined;
  /** RECOVER-WAIT lasts until recoverFrom + MCLT: failure time, 0 when there was no record at all (§6.5). */
  readonly recoverFrom?: number | undefined;
  /** Our database is lost or was never synchronised: RECOVER asks UPDREQALL. */
  readonly databaseLost: boolean;
  readonly connected: boolean;
  readonly partner?: PartnerReport | undefined;
  /** An UPDREQ/UPDREQALL is outstanding on the current connection. */
  readonly updateRequested: boolean;
  readonly config: MachineConfig;
}

export type EventKind =
  | 'connected' | 'partner-state' | 'disconnected' | 'startup-timer' | 'switchover-timer' | 'recover-wait-timer'
  | 'update-done' | 'admin-partner-down' | 'admin-pause' | 'admin-shutdown';
export const EVENT_KINDS: readonly EventKind[] = [
  'connected', 'partner-state', 'disconnected', 'startup-timer', 'switchover-timer', 'recover-wait-timer',
  'update-done', 'admin-partner-down', 'admin-pause', 'admin-shutdown',
];

export type Event =
  /** Communications OK: the first STATE from the partner on a new connection. */
  | { readonly kind: 'connected'; readonly partner: PartnerReport }
  /** A later STATE on the same connection. */
  | { readonly kind: 'partner-state'; readonly partner: PartnerReport }
  | { readonly kind: 'disconnected' }
  | { readonly kind: 'startup-timer' }
  /** Safe-period timer; evidence comes from partner-down-guard `shouldPartnerDown`. */
  | { readonly kind: 'switchover-timer'; readonly partnerDownEvidence: boolean }
  | { readonly kind: 'recover-wait-timer' }
  /** UPDDONE received for our UPDREQ/UPDREQALL (all the partner's updates sent and acked). */
  | { readonly kind: 'update-done' }
  | { readonly kind: 'admin-partner-down' }
  | { readonly kind: 'admin-pause' }
  | { readonly kind: 'admin-shutdown' };

export type TimerName = 'startup' | 'switchover' | 'recover-wait';

export type Effect =
  | { readonly kind: 'persist-state'; readonly state: ServerState; readonly stos: number; readonly previous: ServerState | undefined }
  | { readonly kind: 'send-state' }
  | { readonly kind: 'start-timer'; readonly timer: TimerName; readonly ms: number }
  | { readonly kind: 'cancel-timer'; readonly timer: TimerName }
  | { readonly kind: 'request-updates'; readonly message: 'UPDREQ' | 'UPDREQALL' }
  /** Entering NORMAL: send every binding update the partner has not acked (D12 §9.8.1). */
  | { readonly kind: 'send-pending-updates' }
  | { readonly kind: 'set-service'; readonly service: ServicePolicy }
  | { readonly kind: 'log'; readonly level: 'debug' | 'info' | 'warn'; readonly event: string; readonly fields: Readonly<Record<string, unknown>> };

/** Extra work a rule asks for beyond entry/exit effects. */
export type Action = 'request-updates' | 'record-recover-previous' | 'recheck-switchover' | 'rearm-recover-wait' | 'warn-unexpected';

export interface Guard { readonly name: string; test(s: Snapshot, e: Event, now: number): boolean }
/** `previous` = the state remembered in the snapshot (STARTUP exit); `stay` = no state change. */
export type Target = ServerState | 'stay' | 'previous';

export interface Rule {
  readonly from: ServerState;
  readonly on: EventKind;
  readonly when?: Guard;
  readonly to: Target;
  readonly actions?: readonly Action[];
  /** After leaving STARTUP on `connected`, apply the comms-OK rule of the new state too (§4.3 step 5). */
  readonly chain?: boolean;
  readonly spec: string;
}
