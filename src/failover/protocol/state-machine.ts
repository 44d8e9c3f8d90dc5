// The failover endpoint (server) state machine of draft-ietf-dhc-failover-12 §9, as data.
// `TRANSITIONS` (transitions.ts) is the code: `step` finds the first matching rule, computes entry/exit
// effects with `effectsFor`, and never throws. The vocabulary is in machine-types.ts. Effects are run in order by the peer edge (peer.ts), which keeps
// the old state when `persist-state` (always first) fails. Spec refs are sections of the digest
// /work/shared/spec/failover-protocol.md ("§4.4" = digest §4.4) unless prefixed "D12".
import { serviceFor, type ServicePolicy } from './service-state.ts';
import type { Action, Effect, Event, MachineConfig, Rule, Snapshot } from './machine-types.ts';
import { ServerState, type PartnerState } from './states.ts';
import { PC, TRANSITIONS, and, guard, not, partnerOf, recoverWaitUntil } from './transitions.ts';

export * from './states.ts';
export * from './machine-types.ts';
export { IGNORED, IGNORED_BY_EVENT, ISC_MATRIX_OVERRIDES, RECONNECT_MATRIX, TRANSITIONS, isPrimary, isSecondary, mustWaitMclt, recoverWaitUntil, shouldAutoPartnerDown, type MatrixCell } from './transitions.ts';

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
  return serviceFor(s.state, {
    role: s.config.role, dialect: s.config.dialect, partnerState: s.connected ? s.partner?.state : undefined,
    autoPartnerDown: s.config.autoPartnerDown.enabled,
  });
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
