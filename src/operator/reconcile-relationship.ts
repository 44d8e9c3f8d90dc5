// reconcile(key): observe (informer caches) → render → skip the apply when every desired object already
// carries the input hash → server-side apply (one fieldManager) → delete what is no longer desired →
// status (pure) → patch status only if it changed. Invalid input applies nothing and sets Degraded; so does
// a server placed on a node another relationship's server claimed first (NodeInUse, node-claims.ts).
import { canonicalJson } from './render/hash.ts';
import { renderRelationship } from './render/relationship.ts';
import { ANNOTATIONS, RELATIONSHIP_KIND, type DhcpFailoverRelationship, type DhcpScope, type KubeObject, type RenderOptions, type RenderResult, type SecretPresence } from './render/types.ts';
import { findNodeConflicts, withNodeConflicts } from './node-claims.ts';
import { computeRelationshipStatus, findCondition, type ObservedServer } from './conditions.ts';
import type { Kube } from './kube.ts';
import { managedIndices } from './render/relationship.ts';
import type { ServerReport, StatusTarget } from './server-status.ts';
import { ADMIN_ACTIONS, runAdminActions, type PostAction } from './admin-actions.ts';
import { planRollout } from './rollout.ts';
import { statefulSetName } from './render/names.ts';
import { log } from '../log.ts';
import { startupHoldReason } from './startup-hold.ts';

export interface Observed {
  relationship(namespace: string, name: string): DhcpFailoverRelationship | undefined;
  /** Every relationship in every watched namespace (which nodes are claimed: node-claims.ts). */
  allRelationships(): DhcpFailoverRelationship[];
  scopes(namespace: string): DhcpScope[];
  /** The shared-secret Secret's key names (never its values), and which of them are empty, if it exists. */
  secret(namespace: string, name: string): { readonly keys: readonly string[]; readonly emptyKeys?: readonly string[] } | undefined;
  /** ConfigMaps, StatefulSets and PDBs labelled as belonging to the relationship. */
  owned(namespace: string, relationship: string): KubeObject[];
}

export interface ReconcileDeps {
  readonly observed: Observed;
  readonly kube: Pick<Kube, 'apply' | 'remove' | 'patchRelationshipStatus' | 'patchRelationshipAnnotations' | 'event' | 'readSecret'>;
  readonly renderOptions: RenderOptions;
  readonly now: () => number;
  /** Within the hold after the caches synced: a smaller world waits instead of being applied (startup-hold.ts). */
  readonly startupHold?: boolean;
  /** For tests: how an admin action is POSTed (admin-actions.ts). */
  readonly postAction?: PostAction;
  /** Server /status polling (server-status.ts): told which servers to poll, asked what they reported. */
  readonly servers?: {
    watch(key: string, targets: readonly StatusTarget[]): void;
    forget(key: string): void;
    reports(key: string): ReadonlyMap<string, ServerReport>;
    /** `http://<address>:<admin port>` of a server (its /status, its admin actions). */
    baseUrlFor(rel: DhcpFailoverRelationship, server: { name: string; address: string }): string;
  };
}

export type ReconcileOutcome = 'gone' | 'invalid' | 'applied' | 'unchanged' | 'held';

const idOf = (o: { kind: string; metadata: { name: string } }): string => `${o.kind}/${o.metadata.name}`;

/** Applies (or dry-runs) `objects` in order; the API server's distinct warnings for them. */
async function applyAll(kube: ReconcileDeps['kube'], objects: readonly KubeObject[], dryRun = false): Promise<string[]> {
  const warnings: string[] = [];
  for (const obj of objects) warnings.push(...await kube.apply(obj, dryRun ? { dryRun } : undefined));
  return [...new Set(warnings)];
}

/** The merge patch turning `prev` into `next`: a top-level field `next` no longer has is sent as null. */
export function statusPatch(prev: object | undefined, next: object): Record<string, unknown> {
  const removed = Object.keys(prev ?? {}).filter((k) => !(k in next));
  return { ...Object.fromEntries(removed.map((k) => [k, null])), ...next };
}

export function secretPresence(observed: Observed, rel: DhcpFailoverRelationship): SecretPresence | undefined {
  const ref = rel.spec.sharedSecretRef;
  if (ref === undefined) return undefined;
  const s = observed.secret(rel.metadata.namespace!, ref.name);
  if (s === undefined) return { exists: false, hasKey: false };
  const key = ref.key ?? 'secret';
  return { exists: true, hasKey: s.keys.includes(key), ...(s.emptyKeys?.includes(key) && { empty: true }) };
}

/**
 * What a reconcile acts on: the render over the caches, refused (`NodeInUse`) when another server claimed
 * one of its nodes first. `conflicts`: findNodeConflicts over observed.allRelationships(), when a caller
 * renders several relationships at once (reconcile-scopes.ts), so the verdict is the same everywhere.
 */
export function renderObserved(rel: DhcpFailoverRelationship, observed: Observed, opts: RenderOptions, conflicts = findNodeConflicts(observed.allRelationships())): RenderResult {
  const namespace = rel.metadata.namespace!;
  const secret = secretPresence(observed, rel);
  const scopes = observed.scopes(namespace);
  const result = renderRelationship(secret === undefined ? { relationship: rel, scopes } : { relationship: rel, scopes, secret }, opts);
  return withNodeConflicts(result, conflicts.get(`${namespace}/${rel.metadata.name}`));
}

/** What the controller saw of each owned StatefulSet (readiness, input and template hashes), by name. */
function observedStatefulSets(owned: readonly KubeObject[]): Map<string, ObservedServer> {
  const out = new Map<string, ObservedServer>();
  for (const o of owned) {
    if (o.kind !== 'StatefulSet') continue;
    const status = (o as { status?: { readyReplicas?: number; observedGeneration?: number; currentRevision?: string; updateRevision?: string } }).status;
    out.set(o.metadata.name, {
      readyReplicas: status?.readyReplicas ?? 0,
      observedGeneration: status?.observedGeneration ?? 0,
      generation: o.metadata.generation ?? 1,
      inputHash: o.metadata.annotations?.[ANNOTATIONS.inputHash],
      templateHash: o.metadata.annotations?.[ANNOTATIONS.templateHash],
      currentRevision: status?.currentRevision,
      updateRevision: status?.updateRevision,
    });
  }
  return out;
}

/** Restart order: the secondary (load balance) or the standby (hot standby) first, the serving primary last. */
function rolloutOrder(rel: DhcpFailoverRelationship): { sts: string; server: string }[] {
  const managed = managedIndices(rel).map((i) => rel.spec.servers[i]!);
  const last = rel.spec.mode === 'hotStandby' ? (rel.spec.activeServer ?? managed[0]?.name) : rel.spec.servers[0]?.name;
  return [...managed.filter((s) => s.name !== last), ...managed.filter((s) => s.name === last)].map((s) => ({ sts: statefulSetName(rel, s.name), server: s.name }));
}

export async function reconcileRelationship(key: string, deps: ReconcileDeps): Promise<ReconcileOutcome> {
  const [namespace, name] = key.split('/') as [string, string];
  const { observed, kube } = deps;
  const rel = observed.relationship(namespace, name);
  // Deleted: its objects carry owner references and are garbage-collected.
  if (rel === undefined || (rel.metadata as { deletionTimestamp?: string }).deletionTimestamp) { deps.servers?.forget(key); return 'gone'; }
  if (deps.servers !== undefined) {
    const managed = new Set(managedIndices(rel));
    deps.servers.watch(key, (rel.spec.servers ?? []).flatMap((s, i) => (managed.has(i as 0 | 1) && s.address ? [{ name: s.name, url: `${deps.servers!.baseUrlFor(rel, s)}/status` }] : [])));
  }

  const result = renderObserved(rel, observed, deps.renderOptions);
  let owned = observed.owned(namespace, name);
  let outcome: ReconcileOutcome = 'unchanged';
  /** The API server's warnings for the owned objects; undefined: not asked this time (keep the last ones). */
  let warnings: string[] | undefined;
  /** Server restarts the rollout plan holds back this time, for Progressing. */
  let rolloutHeld: { server: string; waitingFor: string }[] = [];
  if (deps.startupHold) {
    const why = startupHoldReason(owned, result);
    if (why !== undefined) { log.info('operator.startup.hold', { relationship: key, why }); return 'held'; }
  }

  if (!result.ok) {
    outcome = 'invalid';
    const prev = findCondition(rel.status, 'Degraded');
    const message = result.problems.map((p) => p.message).join('; ');
    if (prev?.status !== 'True' || prev.message !== message) {
      await kube.event({ kind: RELATIONSHIP_KIND, namespace, name, uid: rel.metadata.uid }, 'Warning', result.problems[0]!.reason, message);
    }
  } else {
    const have = new Map(owned.map((o) => [idOf(o), o]));
    // One server restart at a time (rollout.ts); only objects whose input changed are written.
    const plan = planRollout({ desired: result.objects, observed: observedStatefulSets(owned), reports: deps.servers?.reports(key) ?? new Map(), servers: rolloutOrder(rel) });
    const changed = plan.apply.filter((d) => have.get(idOf(d))?.metadata.annotations?.[ANNOTATIONS.inputHash] !== result.inputHash);
    if (changed.length > 0) {
      warnings = await applyAll(kube, changed);
      outcome = 'applied';
      await kube.event({ kind: RELATIONSHIP_KIND, namespace, name, uid: rel.metadata.uid }, 'Normal', 'Applied', `applied ${changed.map(idOf).join(', ')} (input ${result.inputHash})`);
    }
    else if ((rel.status?.warnings?.length ?? 0) > 0) {
      // Warnings stand until a dry run of the same objects no longer gets them (e.g. the namespace's Pod
      // Security level was raised to privileged): nothing else would tell that they are gone.
      warnings = await applyAll(kube, plan.apply, true);
    }
    if (warnings !== undefined && warnings.length > 0 && canonicalJson(warnings) !== canonicalJson(rel.status?.warnings ?? [])) {
      log.warn('operator.apply.warnings', { relationship: key, warnings });
      await kube.event({ kind: RELATIONSHIP_KIND, namespace, name, uid: rel.metadata.uid }, 'Warning', 'ApiWarning', `the API server warned when applying: ${warnings.join('; ')}`);
    }
    for (const h of plan.held) log.info('operator.rollout.waiting', { relationship: key, held: idOf(h.object), waitingFor: h.waitingFor });
    const serverOfSts = new Map(rolloutOrder(rel).map((x) => [x.sts, x.server]));
    rolloutHeld = plan.held.flatMap((h) => { const server = serverOfSts.get(h.object.metadata.name); return server !== undefined ? [{ server, waitingFor: h.waitingFor }] : []; });
    const desired = new Set(result.objects.map(idOf));
    for (const o of owned) {
      if (desired.has(idOf(o))) continue;
      await kube.remove(o.kind, namespace, o.metadata.name);
      outcome = 'applied';
    }
    if (outcome === 'applied') {
      // Status reflects what was just written; readiness follows from the StatefulSets' own status later.
      const byId = new Map(owned.map((o) => [idOf(o), o]));
      owned = result.objects.map((d) => byId.get(idOf(d)) ?? d);
    }
  }

  const status = computeRelationshipStatus({
    relationship: rel, result, statefulSets: observedStatefulSets(owned),
    now: new Date(deps.now()).toISOString().replace(/\.\d+Z$/, 'Z'),
    warnings: result.ok ? warnings ?? rel.status?.warnings ?? [] : [],
    rolloutHeld,
    ...(deps.servers !== undefined ? { reports: deps.servers.reports(key) } : {}),
  });
  // A merge patch keeps fields it does not name: statusPatch sends a field that is gone (e.g. warnings) as null.
  if (canonicalJson(status) !== canonicalJson(rel.status ?? {})) await kube.patchRelationshipStatus(namespace, name, statusPatch(rel.status, status));
  if (deps.servers !== undefined && ADMIN_ACTIONS.some((a) => rel.metadata.annotations?.[a.annotation] !== undefined)) {
    const ref = rel.spec.sharedSecretRef;
    // The token is read from the API when an action runs, not kept in a cache.
    const secret = async () => (ref ? kube.readSecret(namespace, ref.name) : undefined);
    await runAdminActions(rel, { kube, secret, baseUrlFor: deps.servers.baseUrlFor, ...(deps.postAction ? { post: deps.postAction } : {}) });
  }
  return outcome;
}
