// The failover endpoint (server) state machine of draft-ietf-dhc-failover-12 §9, as data.
// `TRANSITIONS` is the code: `step` finds the first matching rule, computes entry/exit effects with
// `effectsFor`, and never throws. Effects are run in order by the peer edge (peer.ts), which keeps
// the old state when `persist-state` (always first) fails. Spec refs are sections of the digest
// /work/shared/spec/failover-protocol.md ("§4.4" = digest §4.4) unless prefixed "D12".
import { serviceFor, type ServicePolicy } from './service-state.ts';

export const ServerState = {
  STARTUP: 'startup', NORMAL: 'normal', COMMUNICATIONS_INTERRUPTED: 'communications-interrupted',
  PARTNER_DOWN: 'partner-down', POTENTIAL_CONFLICT: 'potential-conflict',
  RESOLUTION_INTERRUPTED: 'resolution-interrupted', CONFLICT_DONE: 'conflict-done', RECOVER: 'recover',
  RECOVER_WAIT: 'recover-wait', RECOVER_DONE: 'recover-done', PAUSED: 'paused', SHUTDOWN: 'shutdown',
} as const;
export type ServerState = (typeof ServerState)[keyof typeof ServerState];
export const SERVER_STATES: readonly ServerState[] = Object.values(ServerState);

/** States a partner can report in STATE (STARTUP is signalled by a flag, never as a state). */
export type PartnerState = Exclude<ServerState, 'startup'>;
export const PARTNER_STATES: readonly PartnerState[] = SERVER_STATES.filter((s): s is PartnerState => s !== 'startup');

export type Role = 'primary' | 'secondary';
/** Whose reading of the protocol to follow where they differ (digest §0.2). */
export type Dialect = 'draft' | 'isc' | 'ms';

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

// ---------------------------------------------------------------- guards (named predicates)

function guard(name: string, test: Guard['test']): Guard { return { name, test }; }
const partnerOf = (e: Event): PartnerReport | undefined => (e.kind === 'connected' || e.kind === 'partner-state' ? e.partner : undefined);
const partnerIs = (p: PartnerState): Guard => guard(`partner-is-${p}`, (_s, e) => partnerOf(e)?.state === p);
const and = (a: Guard, b: Guard): Guard => guard(`${a.name}&${b.name}`, (s, e, n) => a.test(s, e, n) && b.test(s, e, n));
const not = (a: Guard): Guard => guard(`!${a.name}`, (s, e, n) => !a.test(s, e, n));

export const isPrimary = guard('is-primary', (s) => s.config.role === 'primary');
export const isSecondary = guard('is-secondary', (s) => s.config.role === 'secondary');
const iscDialect = guard('isc-dialect', (s) => s.config.dialect === 'isc');
const msDialect = guard('ms-dialect', (s) => s.config.dialect === 'ms');
const partnerStartupFlag = guard('partner-startup-flag', (_s, e) => partnerOf(e)?.startup === true);
/** §4.3 step 5: the partner went PARTNER-DOWN after we last operated → we must RECOVER. */
const partnerDownSinceOurLastOperation = guard('partner-down-after-our-last-operation',
  (s, e) => { const p = partnerOf(e); return p !== undefined && p.stos > (s.lastOperationAt ?? 0); });
/** MS §4.6: a relationship with no history goes to COMM-INT when the startup timer fires. */
const noHistory = guard('no-history', (s) => s.previous === 'recover' && s.recoverFrom === 0 && s.lastOperationAt === undefined);

/** The safe period has run AND the partner-down guard saw evidence (digest §6.4; invariant 20). */
export const shouldAutoPartnerDown = guard('should-auto-partner-down', (s, e, now) =>
  e.kind === 'switchover-timer' && e.partnerDownEvidence && s.config.autoPartnerDown.enabled
  && now - s.stos >= s.config.autoPartnerDown.intervalMs);

export function recoverWaitUntil(s: Snapshot): number { return (s.recoverFrom ?? s.stos) + s.config.mcltMs; }
/** ISC skips the wait when the partner is itself recovering (fresh pair) (digest §4.5). */
const iscPartnerRecovering = and(iscDialect, guard('partner-recovering', (s) => s.partner?.state === 'recover' || s.partner?.state === 'recover-done'));
export const mustWaitMclt = guard('must-wait-mclt', (s, e, now) => recoverWaitUntil(s) > now && !iscPartnerRecovering.test(s, e, now));
const mcltWaitOver = guard('mclt-wait-over', (s, _e, now) => now >= recoverWaitUntil(s));

// ---------------------------------------------------------------- the reconnect matrix (digest §4.4)

/** Outcome of a comms-OK / partner-state change: a state, stay, or stay and (re)request updates. */
export type MatrixCell = ServerState | 'stay' | 'request-updates' | 'secondary-request-updates' | 'unexpected';
type Row = Readonly<Record<PartnerState, MatrixCell>>;
const row = (dflt: MatrixCell, cells: Partial<Record<PartnerState, MatrixCell>>): Row =>
  Object.fromEntries(PARTNER_STATES.map((p) => [p, cells[p] ?? dflt])) as Row;

const PC = 'potential-conflict';
/**
 * Draft-12 result for (our state, partner's reported state). Rows not listed (STARTUP, PAUSED,
 * SHUTDOWN) have their own rules. Two deliberate choices, see DESIGN.md "State machine":
 * POTENTIAL-CONFLICT + partner RECOVER → RECOVER (ISC; the draft's "stay" deadlocks the pair), and
 * POTENTIAL-CONFLICT + partner NORMAL (illegal in the draft) → stay with a warning.
 */
export const RECONNECT_MATRIX: Readonly<Partial<Record<ServerState, Row>>> = {
  'communications-interrupted': row('stay', {
    normal: 'normal', 'communications-interrupted': 'normal', 'partner-down': PC, 'potential-conflict': PC,
    'resolution-interrupted': PC, 'conflict-done': PC, 'recover-done': 'normal', shutdown: 'partner-down',
  }),
  'partner-down': row(PC, { recover: 'stay', 'recover-wait': 'stay', 'recover-done': 'normal', paused: 'stay', shutdown: 'stay' }),
  recover: row('request-updates', { 'potential-conflict': PC, 'resolution-interrupted': PC, 'conflict-done': PC }),
  'recover-wait': row('stay', {}),
  'recover-done': row('stay', { normal: 'normal', 'recover-done': 'normal' }),
  'resolution-interrupted': row(PC, {}),
  'potential-conflict': row('stay', { normal: 'unexpected', 'conflict-done': 'secondary-request-updates', recover: 'recover' }),
  'conflict-done': row('stay', { normal: 'normal' }),
  normal: row('stay', {
    'partner-down': PC, 'potential-conflict': PC, 'resolution-interrupted': PC, 'conflict-done': PC,
    recover: 'communications-interrupted', paused: 'communications-interrupted', shutdown: 'partner-down',
  }),
};

/** ISC 4.4.3 results adopted for the ISC dialect where they are safe and help the pair converge (§4.4 bold). */
export const ISC_MATRIX_OVERRIDES: Readonly<Partial<Record<ServerState, Partial<Record<PartnerState, MatrixCell>>>>> = {
  'communications-interrupted': { recover: 'partner-down', 'recover-wait': 'normal' },
  'recover-done': { shutdown: 'partner-down' },
  'resolution-interrupted': { paused: 'stay', shutdown: 'partner-down' },
  'potential-conflict': { shutdown: 'partner-down' },
  normal: { recover: 'partner-down' },
};

function matrixRules(on: 'connected' | 'partner-state'): Rule[] {
  const rules: Rule[] = [];
  for (const [from, cells] of Object.entries(RECONNECT_MATRIX) as [ServerState, Row][]) {
    if (from === 'partner-down') {
      rules.push({ from, on, when: partnerStartupFlag, to: 'stay', spec: '§4.2 PARTNER-DOWN ignores a STARTUP-flagged STATE; invariant 21' });
    }
    for (const p of PARTNER_STATES) {
      const isc = ISC_MATRIX_OVERRIDES[from]?.[p];
      if (isc !== undefined) rules.push(...cellRules(from, on, and(iscDialect, partnerIs(p)), isc, `§4.4 ISC (${from} × ${p})`));
      rules.push(...cellRules(from, on, partnerIs(p), cells[p], `§4.4 (${from} × ${p})`));
    }
  }
  return rules;
}

function cellRules(from: ServerState, on: EventKind, when: Guard, cell: MatrixCell, spec: string): Rule[] {
  switch (cell) {
    case 'stay': return [{ from, on, when, to: 'stay', spec }];
    case 'request-updates': return [{ from, on, when, to: 'stay', actions: ['request-updates'], spec }];
    case 'secondary-request-updates': return [
      { from, on, when: and(when, isSecondary), to: 'stay', actions: ['request-updates'], spec },
      { from, on, when, to: 'stay', actions: ['warn-unexpected'], spec: `${spec}: primary with a CONFLICT-DONE partner` },
    ];
    case 'unexpected': return [{ from, on, when, to: 'stay', actions: ['warn-unexpected'], spec: `${spec}: illegal in D12` }];
    default: return [{ from, on, when, to: cell, spec }];
  }
}

// ---------------------------------------------------------------- the table

const ADMIN_PARTNER_DOWN_FROM: readonly ServerState[] = ['normal', 'communications-interrupted', 'resolution-interrupted'];
const PAUSABLE: readonly ServerState[] = SERVER_STATES.filter((s) => s !== 'paused' && s !== 'shutdown');
const STAY_ON_DISCONNECT: readonly ServerState[] = [
  'communications-interrupted', 'partner-down', 'resolution-interrupted', 'conflict-done', 'recover', 'recover-wait', 'recover-done', 'startup',
];

export const TRANSITIONS: readonly Rule[] = [
  // STARTUP (digest §4.3)
  { from: 'startup', on: 'connected', when: and(partnerIs('partner-down'), partnerDownSinceOurLastOperation), to: 'recover', chain: true, spec: '§4.3 step 5' },
  { from: 'startup', on: 'connected', when: partnerIs('partner-down'), to: PC, chain: true, spec: '§4.3 step 5' },
  { from: 'startup', on: 'connected', to: 'previous', chain: true, spec: '§4.3 step 5' },
  { from: 'startup', on: 'startup-timer', when: and(msDialect, noHistory), to: 'communications-interrupted', spec: '§4.6 MS new relationship' },
  { from: 'startup', on: 'startup-timer', to: 'previous', spec: '§4.3 step 6; §4.5 ISC' },

  // comms OK / partner state changed (the reconnect matrix; D12 §9.2: a partner change while connected = fail + OK)
  ...matrixRules('connected'),
  ...matrixRules('partner-state'),
  { from: 'shutdown', on: 'partner-state', when: partnerIs('partner-down'), to: 'stay', actions: ['record-recover-previous'], spec: '§4.2 going down for long' },

  // communications fail
  { from: 'normal', on: 'disconnected', to: 'communications-interrupted', spec: '§4.2 NORMAL comms fail' },
  { from: PC, on: 'disconnected', to: 'resolution-interrupted', spec: '§4.2 POTENTIAL-CONFLICT comms fail' },
  ...STAY_ON_DISCONNECT.map((from): Rule => ({ from, on: 'disconnected', to: 'stay', spec: '§4.2 comms fail: stay; re-request after reconnect' })),

  // the safe period
  { from: 'communications-interrupted', on: 'switchover-timer', when: shouldAutoPartnerDown, to: 'partner-down', spec: '§6.4 safe period; D12 §10' },
  { from: 'communications-interrupted', on: 'switchover-timer', to: 'stay', actions: ['recheck-switchover'], spec: '§6.4: interval alone is not enough' },

  // RECOVER → RECOVER-WAIT → RECOVER-DONE
  { from: 'recover', on: 'update-done', when: mustWaitMclt, to: 'recover-wait', spec: '§4.2 RECOVER UPDDONE; §4.5 ISC' },
  { from: 'recover', on: 'update-done', to: 'recover-done', spec: '§4.5 wait already over / fresh pair' },
  { from: 'recover-wait', on: 'recover-wait-timer', when: mcltWaitOver, to: 'recover-done', spec: '§6.5; invariant 22' },
  { from: 'recover-wait', on: 'recover-wait-timer', to: 'stay', actions: ['rearm-recover-wait'], spec: '§6.5: early timer' },

  // conflict resolution
  { from: PC, on: 'update-done', when: isPrimary, to: 'conflict-done', spec: '§4.2 POTENTIAL-CONFLICT UPDDONE (primary)' },
  { from: PC, on: 'update-done', to: 'normal', spec: '§4.2 POTENTIAL-CONFLICT UPDDONE (secondary)' },

  // operator
  ...ADMIN_PARTNER_DOWN_FROM.map((from): Rule => ({ from, on: 'admin-partner-down', to: 'partner-down', spec: '§4.2 operator "partner down"' })),
  ...PAUSABLE.map((from): Rule => ({ from, on: 'admin-pause', to: 'paused', spec: '§4.2 going down for a short while' })),
  ...PAUSABLE.map((from): Rule => ({ from, on: 'admin-shutdown', to: 'shutdown', spec: '§4.2 going down for long' })),
  { from: 'paused', on: 'admin-shutdown', to: 'shutdown', spec: '§4.2 going down for long' },
];

const ALL_BUT = (...except: ServerState[]): ServerState[] => SERVER_STATES.filter((x) => !except.includes(x));

/**
 * (state, event kind) pairs with no rule, each with the reason: the event means nothing there, so
 * `step` keeps the state and logs at debug. Written out (not derived) so a test can check that
 * TRANSITIONS and IGNORED together cover every pair exactly once.
 */
export const IGNORED_BY_EVENT: Readonly<Record<EventKind, { readonly states: readonly ServerState[]; readonly why: string }>> = {
  connected: { states: ['paused', 'shutdown'], why: 'on their way down; no transition on contact' },
  'partner-state': { states: ['startup', 'paused'], why: 'STARTUP leaves on the first STATE (connected); PAUSED only announces itself' },
  disconnected: { states: ['paused', 'shutdown'], why: 'already going down' },
  'startup-timer': { states: ALL_BUT('startup'), why: 'stale timer' },
  'switchover-timer': { states: ALL_BUT('communications-interrupted'), why: 'stale timer: the safe period runs only in COMMUNICATIONS-INTERRUPTED' },
  'recover-wait-timer': { states: ALL_BUT('recover-wait'), why: 'stale timer' },
  'update-done': { states: ALL_BUT('recover', 'potential-conflict'), why: 'UPDDONE advances only RECOVER and POTENTIAL-CONFLICT; elsewhere it is stray' },
  'admin-partner-down': {
    states: ALL_BUT('normal', 'communications-interrupted', 'resolution-interrupted'),
    why: 'D12 offers the operator command only in NORMAL, COMMUNICATIONS-INTERRUPTED, RESOLUTION-INTERRUPTED',
  },
  'admin-pause': { states: ['paused', 'shutdown'], why: 'already going down' },
  'admin-shutdown': { states: ['shutdown'], why: 'already SHUTDOWN' },
};

export const IGNORED: readonly (readonly [ServerState, EventKind])[] =
  EVENT_KINDS.flatMap((k) => IGNORED_BY_EVENT[k].states.map((st) => [st, k] as const));

// ---------------------------------------------------------------- step

/** D12 §9.3.2 step 2 / ISC: the state a server falls back to when communications fail. */
export function commsFailedStateOf(s: ServerState): ServerState {
  return s === 'normal' ? 'communications-interrupted' : s === PC ? 'resolution-interrupted' : s;
}

export function findRule(s: Snapshot, e: Event, now: number): Rule | undefined {
  for (const r of TRANSITIONS) if (r.from === s.state && r.on === e.kind && (r.when === undefined || r.when.test(s, e, now))) return r;
  return undefined;
}

export interface StepResult { readonly next: Snapshot; readonly effects: Effect[] }

/** One event → the next snapshot and the effects to run, in order. Pure; never throws. */
export function step(s: Snapshot, e: Event, now: number): StepResult {
  try {
    return stepUnsafe(s, e, now);
  } catch (err) {
    // A bug in a guard must not take the server down: keep the state, report loudly.
    return { next: s, effects: [logEffect('warn', 'failover.state.step_failed', { state: s.state, event: e.kind, error: String(err) })] };
  }
}

function stepUnsafe(s0: Snapshot, e: Event, now: number): StepResult {
  const s = bookkeeping(s0, e);
  let rule = findRule(s, e, now);
  if (rule === undefined) {
    return { next: s, effects: [logEffect('debug', 'failover.state.event_ignored', { state: s.state, event: e.kind, partner: partnerOf(e)?.state })] };
  }
  const rules: Rule[] = [rule];
  let to = resolveTarget(s, rule);
  let working: Snapshot = to === s.state ? s : enter(s, to, now);
  if (rule.chain === true && e.kind === 'connected') {
    rule = findRule(working, e, now);
    if (rule !== undefined) {
      rules.push(rule);
      to = resolveTarget(working, rule);
      if (to !== working.state) working = enter(working, to, now);
    }
  }
  const actions = rules.flatMap((r) => r.actions ?? []);
  return finish(s, working, actions, e, rules, now);
}

/** Connectivity and partner bookkeeping that happens whatever the rule. */
function bookkeeping(s: Snapshot, e: Event): Snapshot {
  switch (e.kind) {
    case 'connected': return { ...s, connected: true, partner: e.partner, updateRequested: false };
    case 'partner-state': return { ...s, connected: true, partner: e.partner };
    case 'disconnected': return { ...s, connected: false, updateRequested: false };
    case 'update-done': return { ...s, updateRequested: false };
    default: return s;
  }
}

function resolveTarget(s: Snapshot, r: Rule): ServerState {
  if (r.to === 'stay') return s.state;
  if (r.to === 'previous') return s.previous ?? 'recover';
  return r.to;
}

/** The snapshot fields that change on entering `to` from `s.state`. */
function enter(s: Snapshot, to: ServerState, now: number): Snapshot {
  let previous = s.previous;
  if (to === 'paused' || to === 'shutdown') previous = s.state === 'startup' || s.state === 'paused' ? s.previous : s.state;
  else if (s.state === 'startup') previous = undefined;
  const previousStos = to === 'startup' ? s.previousStos : undefined;
  // RECOVER-WAIT counts from the time we went down (known at boot), else from now (D12 §9.6.2).
  const recoverFrom = to !== 'recover' ? s.recoverFrom : s.state === 'startup' ? s.recoverFrom ?? s.lastOperationAt ?? now : now;
  return { ...s, state: to, stos: now, previous, previousStos, recoverFrom };
}

function finish(before: Snapshot, after0: Snapshot, actions: readonly Action[], e: Event, rules: readonly Rule[], now: number): StepResult {
  let after = after0;
  const from = before.state;
  const changed = after.state !== from;
  if (actions.includes('record-recover-previous')) after = { ...after, previous: 'recover' };
  const persist = changed || after.previous !== before.previous;
  const effects: Effect[] = [];
  if (persist) effects.push({ kind: 'persist-state', state: after.state, stos: after.stos, previous: after.previous });
  const service = serviceOf(after);
  if (!sameService(serviceOf(before), service)) effects.push({ kind: 'set-service', service });
  if (changed) {
    const r = effectsFor(from, after.state, after, now);
    effects.push(...r.effects);
    after = r.next;
  }
  for (const a of actions) {
    const r = actionEffects(a, after, e, now);
    effects.push(...r.effects);
    after = r.next;
  }
  if (changed) {
    effects.push(logEffect('info', 'failover.state.changed', { from, to: after.state, event: e.kind, partner: after.partner?.state, spec: rules.map((r) => r.spec) }));
  }
  return { next: after, effects };
}

/** Entry/exit work for a state change (persist-state is added by the caller, before these). */
export function effectsFor(from: ServerState, to: ServerState, s: Snapshot, now: number): { next: Snapshot; effects: Effect[] } {
  let next = s;
  const effects: Effect[] = [];
  if (s.connected) effects.push({ kind: 'send-state' });
  if (from === 'startup') effects.push({ kind: 'cancel-timer', timer: 'startup' });
  if (from === 'communications-interrupted') effects.push({ kind: 'cancel-timer', timer: 'switchover' });
  if (from === 'recover-wait') effects.push({ kind: 'cancel-timer', timer: 'recover-wait' });
  switch (to) {
    case 'startup':
      effects.push({ kind: 'start-timer', timer: 'startup', ms: s.config.startupMs });
      break;
    case 'communications-interrupted':
      effects.push(logEffect('warn', 'failover.communications_interrupted', { from }));
      if (s.config.autoPartnerDown.enabled) effects.push({ kind: 'start-timer', timer: 'switchover', ms: s.config.autoPartnerDown.intervalMs });
      break;
    case 'recover-wait':
      effects.push({ kind: 'start-timer', timer: 'recover-wait', ms: Math.max(0, recoverWaitUntil(s) - now) });
      break;
    case 'recover': {
      const r = requestUpdates(next);
      next = r.next; effects.push(...r.effects);
      break;
    }
    case 'potential-conflict':
      if (s.config.role === 'primary') { const r = requestUpdates(next); next = r.next; effects.push(...r.effects); }
      break;
    case 'normal':
      effects.push({ kind: 'send-pending-updates' });
      break;
    default:
      break;
  }
  return { next, effects };
}

function actionEffects(a: Action, s: Snapshot, e: Event, now: number): { next: Snapshot; effects: Effect[] } {
  switch (a) {
    case 'request-updates': return requestUpdates(s);
    case 'recheck-switchover':
      return { next: s, effects: s.config.autoPartnerDown.enabled ? [{ kind: 'start-timer', timer: 'switchover', ms: s.config.autoPartnerDown.recheckMs }] : [] };
    case 'rearm-recover-wait':
      return { next: s, effects: [{ kind: 'start-timer', timer: 'recover-wait', ms: Math.max(1, recoverWaitUntil(s) - now) }] };
    case 'warn-unexpected':
      return { next: s, effects: [logEffect('warn', 'failover.state.unexpected_partner_state', { state: s.state, partner: partnerOf(e)?.state, role: s.config.role })] };
    case 'record-recover-previous':
      return { next: s, effects: [] };
  }
}

/** Ask the partner for updates once per connection: UPDREQALL when our database cannot be trusted or for ISC (§4.5). */
function requestUpdates(s: Snapshot): { next: Snapshot; effects: Effect[] } {
  if (!s.connected || s.updateRequested) return { next: s, effects: [] };
  const all = s.state === 'recover' && (s.databaseLost || s.config.dialect === 'isc');
  return { next: { ...s, updateRequested: true }, effects: [{ kind: 'request-updates', message: all ? 'UPDREQALL' : 'UPDREQ' }] };
}

/** What clients get from this snapshot: own state, role, dialect and the partner's last state (ISC "peer demands"). */
export function serviceOf(s: Snapshot): ServicePolicy {
  return serviceFor(s.state, { role: s.config.role, dialect: s.config.dialect, partnerState: s.connected ? s.partner?.state : undefined });
}

function sameService(a: ServicePolicy, b: ServicePolicy): boolean {
  return a.answer === b.answer && a.allocateFrom === b.allocateFrom && a.mcltApplies === b.mcltApplies && a.loadBalance === b.loadBalance;
}

function logEffect(level: 'debug' | 'info' | 'warn', event: string, fields: Record<string, unknown>): Effect {
  return { kind: 'log', level, event, fields };
}

/**
 * What our STATE message says (server-state, start-time-of-state, STARTUP flag): in STARTUP, the
 * previous state and its recorded start time with the flag set (digest §4.3 step 4).
 */
export function ownReport(s: Snapshot): { state: PartnerState; stos: number; startup: boolean } {
  if (s.state !== 'startup') return { state: s.state, stos: s.stos, startup: false };
  const prev = s.previous === undefined || s.previous === 'startup' ? 'recover' : s.previous;
  return { state: prev, stos: s.previousStos ?? s.stos, startup: true };
}

// ---------------------------------------------------------------- boot

/** What the edge stored with the last persist-state. */
export interface PersistedState {
  readonly state: ServerState;
  readonly stos: number;
  readonly previous?: ServerState | undefined;
  /** When this record was last known to be current (the edge refreshes it while running). */
  readonly lastOperationAt?: number | undefined;
}

/**
 * Boot into STARTUP with previous-state per digest §4.3 steps 1–2. `record` undefined = no record at
 * all (RECOVER, failure time 0); `databaseLostAt` = the operator says storage was lost at that time.
 */
export function boot(record: PersistedState | undefined, config: MachineConfig, now: number, opts: { databaseLostAt?: number } = {}): StepResult {
  let previous: ServerState;
  let recoverFrom: number | undefined;
  let databaseLost = false;
  if (opts.databaseLostAt !== undefined) {
    previous = 'recover'; recoverFrom = opts.databaseLostAt; databaseLost = true;
  } else if (record === undefined) {
    previous = 'recover'; recoverFrom = 0; databaseLost = true;
  } else {
    const last = record.state === 'startup' || record.state === 'paused' || record.state === 'shutdown' ? record.previous ?? 'recover' : record.state;
    previous = commsFailedStateOf(last === 'startup' ? 'recover' : last);
    // ISC measures the wait from the RECOVER stos; after a restart in RECOVER-WAIT its own stos is later (conservative).
    recoverFrom = previous === 'recover' || previous === 'recover-wait' ? record.stos : undefined;
    // A RECOVER that never finished left the database unsynchronised: ask for everything.
    databaseLost = previous === 'recover';
  }
  const next: Snapshot = {
    state: 'startup', stos: now, previous, previousStos: record?.stos, lastOperationAt: record?.lastOperationAt ?? record?.stos,
    recoverFrom, databaseLost, connected: false, updateRequested: false, config,
  };
  return {
    next,
    effects: [
      { kind: 'persist-state', state: 'startup', stos: now, previous },
      { kind: 'set-service', service: serviceOf(next) },
      { kind: 'start-timer', timer: 'startup', ms: config.startupMs },
      logEffect('info', 'failover.state.boot', { previous, recorded: record?.state }),
    ],
  };
}
