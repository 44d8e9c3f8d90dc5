// One node runs one server pod today: a server pod uses hostNetwork and the host ports 67/UDP, <port>/TCP
// and 8067/TCP, so a second server pod on a node that already runs one can never be scheduled (it stays
// Pending and nothing says why). Pure: every watched relationship in, the placements each one loses out.
//
// The rule, per node: the relationship that claimed the node first keeps it (oldest creationTimestamp, then
// namespace/name), so the one already running stays running; every later claimant is refused with
// `NodeInUse` and nothing of it is applied. Two servers of one relationship on one node: the second
// (servers[1]) is refused the same way. A claim does not depend on the claimant being valid or applied
// (a relationship refused for another reason keeps its servers where they run), so a verdict never
// flips because of a third relationship.
import type { DhcpFailoverRelationship, RenderProblem, RenderResult } from './render/types.ts';

/** The node label the kubelet sets to the node's hostname (by default its name). */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** One managed server's claim on a node. */
export interface NodeClaim {
  /** `namespace/name` of the relationship. */
  readonly relationship: string;
  readonly server: string;
  /** Index in spec.servers. */
  readonly index: number;
  /** Identity of the node: `nodeName`, a selector's `kubernetes.io/hostname` value, or the selector itself (`{k=v,…}`). */
  readonly node: string;
  /** How the spec places the server, for messages (`nodeName node-1`, `nodeSelector kubernetes.io/hostname=node-1`). */
  readonly placement: string;
  readonly createdAt: string;
}

/** A claim that lost its node to `holder`. */
export interface NodeConflict {
  readonly claim: NodeClaim;
  readonly holder: NodeClaim;
}

const keyOf = (rel: DhcpFailoverRelationship): string => `${rel.metadata.namespace ?? 'default'}/${rel.metadata.name}`;

/**
 * How a node is told apart: its name, a selector's `kubernetes.io/hostname` value (taken to be the node's
 * name, as the kubelet sets it by default), or else the selector itself (identical selectors pick the same
 * node: a server's selector should match exactly one). Selectors that merely overlap are not detected.
 */
function nodeOf(server: { nodeName?: unknown; nodeSelector?: unknown }): { node: string; placement: string } | undefined {
  if (typeof server.nodeName === 'string' && server.nodeName !== '') return { node: server.nodeName, placement: `nodeName ${server.nodeName}` };
  const sel = server.nodeSelector;
  if (typeof sel !== 'object' || sel === null || Array.isArray(sel)) return undefined;
  const pairs = Object.entries(sel as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).sort();
  if (pairs.length === 0) return undefined;
  const text = `nodeSelector ${pairs.join(',')}`;
  const host = (sel as Record<string, unknown>)[HOSTNAME_LABEL];
  // The hostname label pins the pod to that one node, whatever else the selector asks for.
  if (typeof host === 'string' && host !== '') return { node: host, placement: text };
  return { node: `{${pairs.join(',')}}`, placement: text };
}

/** The nodes a relationship's managed servers claim (none while it is being deleted: it counts as gone). */
export function claimsOf(rel: DhcpFailoverRelationship): NodeClaim[] {
  if ((rel.metadata as { deletionTimestamp?: string }).deletionTimestamp) return [];
  const servers = Array.isArray(rel.spec?.servers) ? rel.spec.servers : [];
  return servers.flatMap((s, index) => {
    if (s === null || typeof s !== 'object' || s.external === true) return [];
    const at = nodeOf(s);
    return at === undefined ? [] : [{ relationship: keyOf(rel), server: String(s.name), index, ...at, createdAt: rel.metadata.creationTimestamp ?? '' }];
  });
}

/** The node identities a relationship claims, sorted (the controller compares them across events). */
export function claimedNodes(rel: DhcpFailoverRelationship): string[] {
  return [...new Set(claimsOf(rel).map((c) => c.node))].sort();
}

/** Claim order on one node: older relationship first, then namespace/name, then spec order. */
function earlier(a: NodeClaim, b: NodeClaim): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  if (a.relationship !== b.relationship) return a.relationship < b.relationship ? -1 : 1;
  return a.index - b.index;
}

/** For each relationship (`namespace/name`) that loses a node, the claims it loses; the others are absent. */
export function findNodeConflicts(relationships: readonly DhcpFailoverRelationship[]): ReadonlyMap<string, readonly NodeConflict[]> {
  const byNode = new Map<string, NodeClaim[]>();
  for (const rel of relationships) for (const c of claimsOf(rel)) byNode.set(c.node, [...(byNode.get(c.node) ?? []), c]);
  const out = new Map<string, NodeConflict[]>();
  for (const claims of byNode.values()) {
    if (claims.length < 2) continue;
    const [holder, ...later] = [...claims].sort(earlier);
    for (const claim of later) out.set(claim.relationship, [...(out.get(claim.relationship) ?? []), { claim, holder: holder! }]);
  }
  for (const list of out.values()) list.sort((a, b) => a.claim.index - b.claim.index);
  return out;
}

const ONE_POD = 'one node runs one server pod today (hostNetwork, host ports 67/UDP, 8067/TCP and the failover port)';

/** The problems a relationship's lost claims give (reason NodeInUse), one per claim. */
export function nodeInUseProblems(conflicts: readonly NodeConflict[]): RenderProblem[] {
  return conflicts.map(({ claim, holder }) => {
    const field = `spec.servers[${claim.index}]`;
    const where = `node ${claim.node} (${claim.placement})`;
    const message = holder.relationship === claim.relationship
      ? `servers ${holder.server} and ${claim.server} are both placed on ${where}: ${ONE_POD}; place ${claim.server} on another node (${field})`
      : `server ${claim.server} is placed on ${where}, which server ${holder.server} of relationship ${holder.relationship} claimed first: ${ONE_POD}; place ${claim.server} on another node (${field}), or move or delete ${holder.relationship}`;
    return { reason: 'NodeInUse', message };
  });
}

/** `result` refused for the lost claims: their problems after the render's own, and no objects. */
export function withNodeConflicts(result: RenderResult, conflicts: readonly NodeConflict[] | undefined): RenderResult {
  if (conflicts === undefined || conflicts.length === 0) return result;
  const problems = [...(result.ok ? [] : result.problems), ...nodeInUseProblems(conflicts)];
  return { ok: false, problems, inputHash: result.inputHash, scopes: result.scopes };
}
