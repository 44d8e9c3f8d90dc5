// Conditions and the relationship status, computed purely from what was observed and what reconcile did.
// Status is written only when this result differs from the stored one. `Ready` means clients get
// everything they should: every managed pod ready with the current config AND serving in NORMAL.
// `Degraded` names the worst failover problem the servers report (SERVER_REASONS; docs/crds.md "Conditions").
import { partnerDownNote } from '../failover/runtime/partner-down-note.ts';
import { managedIndices } from './render/relationship.ts';
import { statefulSetName } from './render/names.ts';
import { ANNOTATIONS, type Condition, type DhcpFailoverRelationship, type RelationshipStatus, type RenderResult } from './render/types.ts';
import type { ServerReport } from './server-status.ts';

/** lastContact and lastSuccessfulSync are refreshed at most this often when nothing else changed (fewer status writes). */
export const STATUS_HEARTBEAT_MS = 5 * 60_000;

export const CONDITION_TYPES = ['Ready', 'Progressing', 'Degraded'] as const;

/**
 * Binding updates a server in NORMAL may have outstanding (unacked + queued) before the relationship is
 * Degraded `UnackedUpdates`; the chart's DhcpFailoverUpdatesBacklog alert uses the same default (100).
 */
export const UNACKED_UPDATES_THRESHOLD = 100;

/**
 * Reasons a server's report gives, worst first: the first one present is Degraded's reason (and Ready's,
 * but for UnackedUpdates: clients are still served in full). Render problems and ApiWarning rank above.
 */
export const SERVER_REASONS = [
  'ServerUnreachable', 'PartnerDown', 'CommunicationsInterrupted', 'ServerStopping', 'UnexpectedState', 'Recovering', 'UnackedUpdates',
] as const;
export type ServerReason = typeof SERVER_REASONS[number];

/** States in which a server is rebuilding or checking its bindings with its partner (Progressing and Degraded `Recovering`). */
export const RECOVERY_STATES: ReadonlySet<string> = new Set(['startup', 'recover', 'recover-wait', 'recover-done', 'potential-conflict', 'conflict-done', 'resolution-interrupted']);
const STOPPING_STATES: ReadonlySet<string> = new Set(['paused', 'shutdown']);

/**
 * Sets `cond` in `list` (by type), keeping `lastTransitionTime` when the status did not change, and
 * stamping `observedGeneration`. Returns a new list; the input is not modified.
 */
export function setCondition(list: readonly Condition[] | undefined, cond: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>, now: string, generation: number | undefined): Condition[] {
  const out = [...(list ?? [])];
  const i = out.findIndex((c) => c.type === cond.type);
  const prev = i >= 0 ? out[i] : undefined;
  const next: Condition = {
    type: cond.type, status: cond.status, reason: cond.reason, message: cond.message,
    lastTransitionTime: prev !== undefined && prev.status === cond.status ? prev.lastTransitionTime : now,
  };
  if (generation !== undefined) next.observedGeneration = generation;
  if (i >= 0) out[i] = next; else out.push(next);
  return out;
}

export function findCondition(status: RelationshipStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** What the controller saw of one managed server's StatefulSet. */
export interface ObservedServer {
  readonly readyReplicas: number; readonly observedGeneration: number; readonly generation: number;
  readonly inputHash?: string | undefined;
  /** Hash of the pod template (rollout.ts: a different one restarts the pod). */
  readonly templateHash?: string | undefined;
  /** The StatefulSet controller's revisions: they differ while its pod is being replaced by a new template. */
  readonly currentRevision?: string | undefined;
  readonly updateRevision?: string | undefined;
}

export interface StatusInput {
  readonly relationship: DhcpFailoverRelationship;
  readonly result: RenderResult;
  /** By StatefulSet name. */
  readonly statefulSets: ReadonlyMap<string, ObservedServer>;
  /** ISO time, used only for transitions. */
  readonly now: string;
  /** What each server reported on /status, by server name (server-status.ts); absent: not polled. */
  readonly reports?: ReadonlyMap<string, ServerReport>;
  /** The API server's warnings for the applied objects (e.g. Pod Security "would violate"). */
  readonly warnings?: readonly string[];
  /** Server restarts the rollout plan holds back (rollout.ts), by server name. */
  readonly rolloutHeld?: readonly { readonly server: string; readonly waitingFor: string }[];
}

type ServerEntry = NonNullable<RelationshipStatus['servers']>[number];

/** A server's status entry from its report; lastContact moves only with a change or a heartbeat. */
function withReport(entry: ServerEntry, report: ServerReport | undefined, prev: ServerEntry | undefined, now: string): ServerEntry {
  if (report === undefined) return entry;
  const out: ServerEntry = { ...entry, state: report.state };
  if (report.partnerState !== null) out.partnerState = report.partnerState;
  if (report.leases !== undefined) out.leases = report.leases;
  const changed = prev === undefined || prev.state !== out.state || prev.partnerState !== out.partnerState || prev.leases !== out.leases;
  const stale = prev?.lastContact === undefined || Date.parse(now) - Date.parse(prev.lastContact) >= STATUS_HEARTBEAT_MS;
  const contact = changed || stale ? report.lastContact : prev?.lastContact;
  if (contact !== undefined) out.lastContact = contact;
  return out;
}

/** One managed server, as the conditions judge it. */
export interface ServerView {
  readonly name: string;
  /** The partner's name (spec order), for messages. */
  readonly partner: string;
  /** Its pod is ready with the current config and generation. */
  readonly ready: boolean;
  /** Its StatefulSet is being replaced or updated (template, generation, input or revision not current). */
  readonly rolling: boolean;
  readonly report: ServerReport | undefined;
  /** The last successful /status read known (the poller's, else the stored status'). */
  readonly lastContact: string | undefined;
}

export interface Finding { readonly reason: ServerReason; readonly server: string; readonly message: string }

export interface ServerAssessment {
  /** Failover problems, worst first (SERVER_REASONS order, then spec order). */
  readonly findings: readonly Finding[];
  /** Servers whose pod is not ready with the current config. */
  readonly notReady: readonly string[];
  /** Ready servers that have not reported a failover state yet (or are not polled). */
  readonly unknown: readonly string[];
  /** Servers being rolled out (rolling, or not ready). */
  readonly rolling: readonly string[];
}

const partnerOf = (r: ServerReport, partner: string): string => `${partner} ${r.partnerState ?? 'not connected'}`;

/** What COMMUNICATIONS-INTERRUPTED will lead to: the partner-down guard's evidence, or the administrator (same words as `ctl status`). */
function noteOf(r: ServerReport): string {
  return partnerDownNote(r.autoPartnerDown ?? (r.automaticPartnerDown === false ? null : undefined));
}

/** The failover finding of one reachable report, if any. */
function findingOf(v: ServerView, r: ServerReport, unackedThreshold: number): Finding | undefined {
  const at = (reason: ServerReason, message: string): Finding => ({ reason, server: v.name, message });
  if (r.state === 'normal') {
    const n = r.outstandingUpdates ?? 0;
    return n > unackedThreshold ? at('UnackedUpdates', `${v.name}: normal with ${n} binding updates not acked by ${v.partner} (threshold ${unackedThreshold})`) : undefined;
  }
  if (r.state === 'partner-down') return at('PartnerDown', `${v.name}: partner-down, serving ${v.partner}'s clients alone (${partnerOf(r, v.partner)})`);
  if (r.state === 'communications-interrupted') {
    const note = noteOf(r);
    return at('CommunicationsInterrupted', `${v.name}: communications-interrupted (${partnerOf(r, v.partner)})${note ? `; ${note}` : ''}`);
  }
  if (STOPPING_STATES.has(r.state)) return at('ServerStopping', `${v.name}: ${r.state}`);
  if (RECOVERY_STATES.has(r.state)) return at('Recovering', `${v.name}: ${r.state} (${partnerOf(r, v.partner)})`);
  return at('UnexpectedState', `${v.name}: ${r.state}`);
}

/**
 * Judges each managed server. A server whose pod is not ready and that cannot be read is "not ready"
 * (being rolled out, or never reached yet), not "unreachable": unreachable is a pod that runs (or ran
 * with the current config and revision) whose /status cannot be read, or that refuses the token (401).
 */
export function assessServers(views: readonly ServerView[], opts: { unackedThreshold?: number } = {}): ServerAssessment {
  const threshold = opts.unackedThreshold ?? UNACKED_UPDATES_THRESHOLD;
  const findings: Finding[] = [];
  const notReady: string[] = [], unknown: string[] = [], rolling: string[] = [];
  for (const v of views) {
    if (!v.ready) notReady.push(v.name);
    if (v.rolling || !v.ready) rolling.push(v.name);
    const r = v.report;
    if (r === undefined) { if (v.ready) unknown.push(v.name); continue; }
    if (r.state === 'unauthorized') {
      // It answered, so it runs: the operator's token is missing or refused (server-status.ts).
      findings.push({ reason: 'ServerUnreachable', server: v.name, message: `${v.name}: /status refused the operator's token (401)` });
      continue;
    }
    if (r.state === 'unreachable') {
      const explained = !v.ready && (v.rolling || v.lastContact === undefined);
      if (!explained) findings.push({ reason: 'ServerUnreachable', server: v.name, message: `${v.name}: /status unreachable${v.lastContact !== undefined ? ` (last contact ${v.lastContact})` : ' (never reached)'}` });
      continue;
    }
    const f = findingOf(v, r, threshold);
    if (f !== undefined) findings.push(f);
  }
  const rank = (f: Finding) => SERVER_REASONS.indexOf(f.reason);
  return { findings: findings.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((x) => x.f), notReady, unknown, rolling };
}

/** The three conditions for a relationship whose input is valid. */
export function conditionsFor(a: ServerAssessment, opts: { warnings: readonly string[]; held: readonly { server: string; waitingFor: string }[] }): Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>[] {
  const { warnings, held } = opts;
  const warned = warnings.length > 0 ? `the API server warned when the server objects were applied: ${warnings.join('; ')}` : undefined;
  const blocking = a.findings.filter((f) => f.reason !== 'UnackedUpdates');
  const waiting = [
    ...(a.notReady.length > 0 ? [`waiting for ${a.notReady.join(', ')} to be ready with the current config`] : []),
    ...(a.unknown.length > 0 ? [`${a.unknown.join(', ')}: failover state not reported yet`] : []),
  ];
  let ready: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;
  if (blocking.length === 0 && a.notReady.length === 0 && a.unknown.length === 0) {
    ready = { type: 'Ready', status: 'True', reason: 'ServersReady', message: 'every managed server pod is ready with the current config and serves in NORMAL' };
  } else {
    const reason = warned !== undefined ? 'ApiWarning' : blocking[0]?.reason ?? (a.notReady.length > 0 ? 'ServersNotReady' : 'StateUnknown');
    ready = { type: 'Ready', status: 'False', reason, message: [...blocking.map((f) => f.message), ...waiting, ...(warned !== undefined ? [warned] : [])].join('; ') };
  }
  const degraded = warned !== undefined || a.findings.length > 0
    ? { type: 'Degraded', status: 'True' as const, reason: warned !== undefined ? 'ApiWarning' : a.findings[0]!.reason, message: [...(warned !== undefined ? [warned] : []), ...a.findings.map((f) => f.message)].join('; ') }
    : { type: 'Degraded', status: 'False' as const, reason: 'AsExpected', message: 'the relationship and its scopes are valid and no server reports a failover problem' };
  const recovering = a.findings.filter((f) => f.reason === 'Recovering');
  const progress = [
    ...held.map((h) => `the restart of ${h.server} waits for ${h.waitingFor}`),
    ...(a.rolling.length > 0 ? [`rolling out ${a.rolling.join(', ')}`] : []),
    ...recovering.map((f) => f.message),
  ];
  const progressing = progress.length > 0
    ? { type: 'Progressing', status: 'True' as const, reason: held.length > 0 ? 'RolloutHeld' : a.rolling.length > 0 ? 'RollingOut' : 'Recovering', message: progress.join('; ') }
    : { type: 'Progressing', status: 'False' as const, reason: 'UpToDate', message: 'all objects applied and rolled out; no server is recovering' };
  return [ready, progressing, degraded];
}

const templateHashOf = (result: RenderResult, sts: string): string | undefined =>
  result.ok ? result.objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === sts)?.metadata.annotations?.[ANNOTATIONS.templateHash] : undefined;

export function computeRelationshipStatus(input: StatusInput): RelationshipStatus {
  const { relationship: rel, result, statefulSets, now } = input;
  const warnings = input.warnings ?? [];
  const gen = rel.metadata.generation;
  const prev = rel.status;
  let conditions = prev?.conditions;
  const servers: NonNullable<RelationshipStatus['servers']> = [];
  let synced = false;
  if (!result.ok) {
    const reason = result.problems[0]!.reason;
    const message = result.problems.map((p) => p.message).join('; ');
    conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason, message }, now, gen);
    conditions = setCondition(conditions, { type: 'Progressing', status: 'False', reason: 'Blocked', message: 'nothing is applied until the problems are fixed; the running servers keep their last valid config' }, now, gen);
    conditions = setCondition(conditions, { type: 'Degraded', status: 'True', reason, message }, now, gen);
    for (const s of rel.spec.servers ?? []) servers.push({ name: s.name, state: 'unknown' });
  } else {
    const managed = new Set(managedIndices(rel));
    const views: ServerView[] = [];
    const specServers = rel.spec.servers ?? [];
    for (const [i, s] of specServers.entries()) {
      if (!managed.has(i as 0 | 1)) { servers.push({ name: s.name, state: 'unknown' }); continue; }
      const sts = statefulSetName(rel, s.name);
      const o = statefulSets.get(sts);
      const ready = o !== undefined && o.readyReplicas >= 1 && o.observedGeneration >= o.generation && o.inputHash === result.inputHash;
      const desiredTemplate = templateHashOf(result, sts);
      const rolling = o === undefined || o.observedGeneration < o.generation || o.inputHash !== result.inputHash
        || (desiredTemplate !== undefined && o.templateHash !== desiredTemplate)
        || (o.currentRevision !== undefined && o.updateRevision !== undefined && o.currentRevision !== o.updateRevision);
      const prevEntry = prev?.servers?.find((x) => x.name === s.name);
      const report = input.reports?.get(s.name);
      servers.push(withReport({ name: s.name, state: 'unknown', ready }, report, prevEntry, now));
      views.push({ name: s.name, partner: specServers[1 - i]?.name ?? 'the partner', ready, rolling, report, lastContact: report?.lastContact ?? prevEntry?.lastContact });
    }
    const held = (input.rolloutHeld ?? []).filter((h) => views.some((v) => v.name === h.server));
    for (const c of conditionsFor(assessServers(views), { warnings, held })) conditions = setCondition(conditions, c, now, gen);
    // In sync: every managed server reports NORMAL with its partner NORMAL and nothing unacked (bindings flow both ways).
    synced = views.length > 0 && views.every((v) => v.report?.state === 'normal' && v.report.partnerState === 'normal' && v.report.outstandingUpdates === 0);
  }
  const status: RelationshipStatus = { conditions, servers, scopeCount: result.scopes.length };
  if (warnings.length > 0) status.warnings = [...warnings];
  if (gen !== undefined) status.observedGeneration = gen;
  if (prev?.lastSuccessfulSync !== undefined) status.lastSuccessfulSync = prev.lastSuccessfulSync;
  if (synced) {
    // Moved when the pair is newly in sync, else at most once per heartbeat (fewer status writes).
    const wasInSync = (prev?.servers ?? []).filter((x) => x.ready !== undefined).every((x) => x.state === 'normal' && x.partnerState === 'normal')
      && findCondition(prev, 'Degraded')?.reason !== 'UnackedUpdates';
    const last = status.lastSuccessfulSync;
    if (last === undefined || !wasInSync || Date.parse(now) - Date.parse(last) >= STATUS_HEARTBEAT_MS) status.lastSuccessfulSync = now;
  }
  return status;
}
