// Conditions and the relationship status, computed purely from what was observed and what reconcile did.
// Status is written only when this result differs from the stored one.
import { managedIndices } from './render/relationship.ts';
import { statefulSetName } from './render/names.ts';
import type { Condition, DhcpFailoverRelationship, RelationshipStatus, RenderResult } from './render/types.ts';
import type { ServerReport } from './server-status.ts';

/** lastContact and lastSuccessfulSync are refreshed at most this often when nothing else changed (fewer status writes). */
export const STATUS_HEARTBEAT_MS = 5 * 60_000;

export const CONDITION_TYPES = ['Ready', 'Progressing', 'Degraded'] as const;

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
}

export interface StatusInput {
  readonly relationship: DhcpFailoverRelationship;
  readonly result: RenderResult;
  /** By StatefulSet name. */
  readonly statefulSets: ReadonlyMap<string, ObservedServer>;
  /** ISO time, used only for transitions. */
  readonly now: string;
  /** What each server reported on /status, by server name (server-status.ts). */
  readonly reports?: ReadonlyMap<string, ServerReport>;
  /** The API server's warnings for the applied objects (e.g. Pod Security "would violate"). */
  readonly warnings?: readonly string[];
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

export function computeRelationshipStatus(input: StatusInput): RelationshipStatus {
  const { relationship: rel, result, statefulSets, now } = input;
  const warnings = input.warnings ?? [];
  const gen = rel.metadata.generation;
  const prev = rel.status;
  let conditions = prev?.conditions;
  const servers: NonNullable<RelationshipStatus['servers']> = [];
  if (!result.ok) {
    const reason = result.problems[0]!.reason;
    const message = result.problems.map((p) => p.message).join('; ');
    conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason, message }, now, gen);
    conditions = setCondition(conditions, { type: 'Progressing', status: 'False', reason: 'Blocked', message: 'nothing is applied until the problems are fixed; the running servers keep their last valid config' }, now, gen);
    conditions = setCondition(conditions, { type: 'Degraded', status: 'True', reason, message }, now, gen);
    for (const s of rel.spec.servers ?? []) servers.push({ name: s.name, state: 'unknown' });
  } else {
    const managed = new Set(managedIndices(rel));
    const notReady: string[] = [];
    for (const [i, s] of (rel.spec.servers ?? []).entries()) {
      if (!managed.has(i as 0 | 1)) { servers.push({ name: s.name, state: 'unknown' }); continue; }
      const o = statefulSets.get(statefulSetName(rel, s.name));
      const ready = o !== undefined && o.readyReplicas >= 1 && o.observedGeneration >= o.generation && o.inputHash === result.inputHash;
      if (!ready) notReady.push(s.name);
      const prevEntry = prev?.servers?.find((x) => x.name === s.name);
      servers.push(withReport({ name: s.name, state: 'unknown', ready }, input.reports?.get(s.name), prevEntry, now));
    }
    if (notReady.length === 0) {
      conditions = setCondition(conditions, { type: 'Ready', status: 'True', reason: 'ServersReady', message: 'every managed server pod is ready with the current config' }, now, gen);
      conditions = setCondition(conditions, { type: 'Progressing', status: 'False', reason: 'UpToDate', message: 'all objects applied and rolled out' }, now, gen);
    } else {
      const message = `waiting for ${notReady.join(', ')} to be ready with the current config`;
      const warned = warnings.length > 0 ? `${message}; the API server warned: ${warnings.join('; ')}` : message;
      conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason: warnings.length > 0 ? 'ApiWarning' : 'ServersNotReady', message: warned }, now, gen);
      conditions = setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'RollingOut', message }, now, gen);
    }
    conditions = warnings.length > 0
      ? setCondition(conditions, { type: 'Degraded', status: 'True', reason: 'ApiWarning', message: `the API server warned when the server objects were applied: ${warnings.join('; ')}` }, now, gen)
      : setCondition(conditions, { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'the relationship and its scopes are valid' }, now, gen);
  }
  const status: RelationshipStatus = { conditions, servers, scopeCount: result.scopes.length };
  if (warnings.length > 0) status.warnings = [...warnings];
  if (gen !== undefined) status.observedGeneration = gen;
  if (prev?.lastSuccessfulSync !== undefined) status.lastSuccessfulSync = prev.lastSuccessfulSync;
  // In sync: every managed server reports NORMAL with its partner NORMAL (bindings flow both ways).
  const managedEntries = servers.filter((x) => x.ready !== undefined);
  const inSync = result.ok && managedEntries.length > 0 && managedEntries.every((x) => x.state === 'normal' && x.partnerState === 'normal');
  if (inSync) {
    const wasInSync = (prev?.servers ?? []).filter((x) => x.ready !== undefined).every((x) => x.state === 'normal' && x.partnerState === 'normal');
    const last = status.lastSuccessfulSync;
    if (last === undefined || !wasInSync || Date.parse(now) - Date.parse(last) >= STATUS_HEARTBEAT_MS) status.lastSuccessfulSync = now;
  }
  return status;
}
