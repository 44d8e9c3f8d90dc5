// The state machine's transition table as data (digest §4.2, §4.4): named guards, the reconnect matrix,
// the rules in order (first match wins) and the (state, event) pairs that are ignored, each with its reason.
import { EVENT_KINDS, type Event, type EventKind, type Guard, type PartnerReport, type Rule, type Snapshot } from './machine-types.ts';
import { PARTNER_STATES, SERVER_STATES, ServerState, type PartnerState } from './states.ts';

// ---------------------------------------------------------------- guards (named predicates)

export function guard(name: string, test: Guard['test']): Guard { return { name, test }; }
export const partnerOf = (e: Event): PartnerReport | undefined => (e.kind === 'connected' || e.kind === 'partner-state' ? e.partner : undefined);
const partnerIs = (p: PartnerState): Guard => guard(`partner-is-${p}`, (_s, e) => partnerOf(e)?.state === p);
export const and = (a: Guard, b: Guard): Guard => guard(`${a.name}&${b.name}`, (s, e, n) => a.test(s, e, n) && b.test(s, e, n));
export const not = (a: Guard): Guard => guard(`!${a.name}`, (s, e, n) => !a.test(s, e, n));

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

/**
 * No record at all (recoverFrom 0) is a lost database whose failure time is unknown: leases this server
 * granted that never reached the partner may be held for up to MCLT, so the wait is a full MCLT from
 * entering the state (ISC does the same with an empty lease file). Found by bench/failover.ts: a wiped
 * secondary that skipped the wait could hand out addresses its lost leases still covered.
 */
export function recoverWaitUntil(s: Snapshot): number {
  return (s.recoverFrom || s.stos) + s.config.mcltMs; // 0 (no record) and undefined both mean "from entering the state"
}
/** Skip the wait when the partner is itself recovering: a fresh pair, nobody served anything (ISC, digest §4.5; every dialect). */
const partnerRecovering = guard('partner-recovering', (s) => s.partner?.state === 'recover' || s.partner?.state === 'recover-done');
export const mustWaitMclt = guard('must-wait-mclt', (s, e, now) => recoverWaitUntil(s) > now && !partnerRecovering.test(s, e, now));
const mcltWaitOver = guard('mclt-wait-over', (s, _e, now) => now >= recoverWaitUntil(s));

// ---------------------------------------------------------------- the reconnect matrix (digest §4.4)

/** Outcome of a comms-OK / partner-state change: a state, stay, or stay and (re)request updates. */
export type MatrixCell = ServerState | 'stay' | 'request-updates' | 'secondary-request-updates' | 'unexpected';
type Row = Readonly<Record<PartnerState, MatrixCell>>;
const row = (dflt: MatrixCell, cells: Partial<Record<PartnerState, MatrixCell>>): Row =>
  Object.fromEntries(PARTNER_STATES.map((p) => [p, cells[p] ?? dflt])) as Row;

export const PC = 'potential-conflict';
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
