// reconcileScopes(namespace): observe (informer caches) → render each relationship of the namespace
// (pure, as reconcile-relationship does) → the status of every DhcpScope there (scope-status.ts, pure) →
// merge-patch `/status` of the scopes whose status changed, and of no other. One key per namespace: a
// scope's Overlapping depends on its neighbours, and a scope naming no relationship has no other key.
import { canonicalJson } from './render/hash.ts';
import type { DhcpFailoverRelationship, RenderOptions, ScopeStatus } from './render/types.ts';
import { findNodeConflicts } from './node-claims.ts';
import { renderObserved, statusPatch, type Observed } from './reconcile-relationship.ts';
import { computeScopeStatuses, type RelationshipView } from './scope-status.ts';
import type { ServerReport } from './server-status.ts';
import type { Kube } from './kube.ts';

/** Queue key of a namespace's scope statuses (a namespace name has no ':', a relationship key is ns/name). */
export const SCOPES_KEY_PREFIX = 'scopes:';
export const scopesKey = (namespace: string): string => `${SCOPES_KEY_PREFIX}${namespace}`;

export interface ScopeReconcileDeps {
  readonly observed: Observed & { relationships(namespace: string): DhcpFailoverRelationship[] };
  readonly kube: Pick<Kube, 'patchScopeStatus'>;
  readonly renderOptions: RenderOptions;
  readonly now: () => number;
  /** What the relationship `ns/name`'s servers reported on /status; absent: not polled (no counts, Ready NotServed). */
  readonly reports?: (key: string) => ReadonlyMap<string, ServerReport>;
  /** Status patches in flight at once (a namespace with many scopes written for the first time). */
  readonly concurrency?: number;
  /**
   * Patches sent by one pass at most (default 100): a namespace with thousands of new scopes is written in
   * slices (outcome `more`: queue the key again), so it does not hold a worker for long.
   */
  readonly maxWrites?: number;
  /** True once the controller stops: no further patch is started. */
  readonly stopped?: () => boolean;
  /**
   * What this controller last wrote per scope (`ns/name`), on top of which resourceVersion. While the cache
   * still shows that version (the watch event of the write has not arrived), the written status stands in
   * for the cached one, so the same status is not patched twice.
   */
  readonly written?: Map<string, { readonly onResourceVersion: string | undefined; readonly status: ScopeStatus }>;
}

/** `more`: written up to maxWrites, and more scopes differ: reconcile the namespace again. */
export type ScopeReconcileOutcome = 'applied' | 'unchanged' | 'more';

export async function reconcileScopes(namespace: string, deps: ScopeReconcileDeps): Promise<ScopeReconcileOutcome> {
  const { observed } = deps;
  const written = deps.written;
  const all = observed.scopes(namespace);
  const scopes = all.filter((s) => !(s.metadata as { deletionTimestamp?: string }).deletionTimestamp).map((s) => {
    const key = `${namespace}/${s.metadata.name}`;
    const w = written?.get(key);
    if (w === undefined) return s;
    if (w.onResourceVersion === s.metadata.resourceVersion) return { ...s, status: w.status };
    written!.delete(key); // the cache has moved on (our write, or someone else's)
    return s;
  });
  if (written !== undefined) {
    const names = new Set(scopes.map((s) => `${namespace}/${s.metadata.name}`));
    for (const k of written.keys()) if (k.startsWith(`${namespace}/`) && !names.has(k)) written.delete(k);
  }
  if (scopes.length === 0) return 'unchanged';
  const relationships = new Map<string, RelationshipView>();
  const conflicts = findNodeConflicts(observed.allRelationships());
  for (const rel of observed.relationships(namespace)) {
    if ((rel.metadata as { deletionTimestamp?: string }).deletionTimestamp) continue;
    // The same render as the relationship's own reconcile (reconcile-relationship.ts), so the same verdict.
    const result = renderObserved(rel, observed, deps.renderOptions, conflicts);
    relationships.set(rel.metadata.name, { relationship: rel, result, reports: deps.reports?.(`${namespace}/${rel.metadata.name}`) ?? new Map() });
  }
  const now = new Date(deps.now()).toISOString().replace(/\.\d+Z$/, 'Z');
  const next = computeScopeStatuses({ scopes, relationships, now });
  // Compared before patching: an unchanged status is never written (no write, no new resourceVersion).
  const writes: { name: string; rv: string | undefined; status: ScopeStatus; patch: Record<string, unknown> }[] = [];
  for (const s of scopes) {
    const status = next.get(s.metadata.name) as ScopeStatus;
    if (canonicalJson(status) !== canonicalJson(s.status ?? {})) writes.push({ name: s.metadata.name, rv: s.metadata.resourceVersion, status, patch: statusPatch(s.status, status) });
  }
  const limit = Math.max(1, deps.concurrency ?? 8);
  const batch = writes.slice(0, Math.max(1, deps.maxWrites ?? 100));
  let i = 0;
  const worker = async () => {
    while (i < batch.length && deps.stopped?.() !== true) {
      const w = batch[i++]!;
      await deps.kube.patchScopeStatus(namespace, w.name, w.patch);
      written?.set(`${namespace}/${w.name}`, { onResourceVersion: w.rv, status: w.status });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, batch.length) }, worker));
  return writes.length > batch.length ? 'more' : writes.length > 0 ? 'applied' : 'unchanged';
}
