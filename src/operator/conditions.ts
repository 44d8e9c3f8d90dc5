// Conditions and the relationship status, computed purely from what was observed and what reconcile did.
// Status is written only when this result differs from the stored one.
import { managedIndices } from './render/relationship.ts';
import { statefulSetName } from './render/names.ts';
import type { Condition, DhcpFailoverRelationship, RelationshipStatus, RenderResult } from './render/types.ts';

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
export interface ObservedServer { readonly readyReplicas: number; readonly observedGeneration: number; readonly generation: number; readonly inputHash?: string | undefined }

export interface StatusInput {
  readonly relationship: DhcpFailoverRelationship;
  readonly result: RenderResult;
  /** By StatefulSet name. */
  readonly statefulSets: ReadonlyMap<string, ObservedServer>;
  /** ISO time, used only for transitions. */
  readonly now: string;
}

export function computeRelationshipStatus(input: StatusInput): RelationshipStatus {
  const { relationship: rel, result, statefulSets, now } = input;
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
      servers.push({ name: s.name, state: 'unknown', ready });
    }
    if (notReady.length === 0) {
      conditions = setCondition(conditions, { type: 'Ready', status: 'True', reason: 'ServersReady', message: 'every managed server pod is ready with the current config' }, now, gen);
      conditions = setCondition(conditions, { type: 'Progressing', status: 'False', reason: 'UpToDate', message: 'all objects applied and rolled out' }, now, gen);
    } else {
      const message = `waiting for ${notReady.join(', ')} to be ready with the current config`;
      conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason: 'ServersNotReady', message }, now, gen);
      conditions = setCondition(conditions, { type: 'Progressing', status: 'True', reason: 'RollingOut', message }, now, gen);
    }
    conditions = setCondition(conditions, { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'the relationship and its scopes are valid' }, now, gen);
  }
  const status: RelationshipStatus = { conditions, servers, scopeCount: result.scopes.length };
  if (gen !== undefined) status.observedGeneration = gen;
  if (prev?.lastSuccessfulSync !== undefined) status.lastSuccessfulSync = prev.lastSuccessfulSync;
  return status;
}
