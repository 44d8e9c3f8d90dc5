// DhcpScope status, computed purely from what was observed: the scope, the relationship it names (and
// that relationship's render result), the other scopes of the namespace and what the relationship's
// servers report on /status. Written only when this result differs from the stored one
// (reconcile-scopes.ts). Conditions: Ready, RelationshipNotFound, Invalid, Overlapping.
//
// Two servers, one scope: in failover both hold every binding of the pool (each BNDUPD is replicated),
// so in NORMAL their counts agree but for updates in flight. The status shows ONE server's view, whole
// (its numbers add up to its poolSize): the one with the most active leases, the primary on a tie.
// Summing would count every lease twice; the larger view is never an under-estimate of what is in use
// (in COMMUNICATIONS-INTERRUPTED each side grants leases the other does not know, and the true figure is
// at least the larger of the two), and an exhaustion alarm should err on the high side.
import { broadcastOf, parseCidr, type Cidr } from '../net/ipv4.ts';
import { setCondition } from './conditions.ts';
import { managedIndices } from './render/relationship.ts';
import { primaryIndex } from './render/server-config.ts';
import type { Condition, DhcpFailoverRelationship, DhcpScope, RenderResult, ScopeStatus } from './render/types.ts';
import type { ScopeReport, ServerReport } from './server-status.ts';

export const SCOPE_CONDITION_TYPES = ['Ready', 'RelationshipNotFound', 'Invalid', 'Overlapping'] as const;

/** What the scope computation knows of one relationship in the namespace. */
export interface RelationshipView {
  readonly relationship: DhcpFailoverRelationship;
  readonly result: RenderResult;
  /** What each managed server last reported on /status, by server name (absent: not polled). */
  readonly reports: ReadonlyMap<string, ServerReport>;
}

export interface ScopeStatusInput {
  /** Every DhcpScope of one namespace. */
  readonly scopes: readonly DhcpScope[];
  /** The namespace's relationships (not being deleted), by name. */
  readonly relationships: ReadonlyMap<string, RelationshipView>;
  /** ISO time, used only for transitions. */
  readonly now: string;
}

/** Another scope whose subnet overlaps this one's. */
export interface Overlap { readonly name: string; readonly subnet: string; readonly relationship: string }

function tryCidr(text: unknown): Cidr | undefined {
  if (typeof text !== 'string') return undefined;
  try { return parseCidr(text); } catch { return undefined; }
}

/**
 * For each scope, the other scopes of the namespace whose subnets overlap it (ranges lie inside their
 * subnet, so overlapping ranges always show as overlapping subnets). Sorted by network and swept:
 * O(n log n + overlaps), not every pair.
 */
export function findOverlaps(scopes: readonly DhcpScope[]): Map<string, Overlap[]> {
  const items = scopes.flatMap((s) => {
    const c = tryCidr(s.spec?.subnet);
    return c === undefined ? [] : [{ s, start: c.network, end: broadcastOf(c) }];
  }).sort((a, b) => a.start - b.start || b.end - a.end);
  const out = new Map<string, Overlap[]>();
  const add = (a: DhcpScope, b: DhcpScope) => {
    const list = out.get(a.metadata.name) ?? [];
    list.push({ name: b.metadata.name, subnet: b.spec.subnet, relationship: b.spec.relationshipRef?.name ?? '' });
    out.set(a.metadata.name, list);
  };
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length && items[j]!.start <= items[i]!.end; j++) {
      add(items[i]!.s, items[j]!.s);
      add(items[j]!.s, items[i]!.s);
    }
  }
  for (const list of out.values()) list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/** One server's view of a scope, if it serves it under the scope's name and with its subnet. */
function viewOf(report: ServerReport | undefined, scope: DhcpScope): ScopeReport | undefined {
  return report?.scopes?.find((r) => r.scope === scope.metadata.name && (r.subnet === undefined || r.subnet === scope.spec.subnet));
}

/** The managed servers in preference order: the failover primary first (the tie-breaker). */
function managedByPreference(rel: DhcpFailoverRelationship): string[] {
  const managed = new Set<number>(managedIndices(rel));
  const p = primaryIndex(rel);
  return [p, 1 - p].filter((i) => managed.has(i)).map((i) => rel.spec.servers[i]!.name);
}

/** Why a managed server does not report the scope, for Ready's message. */
function notServingWhy(report: ServerReport | undefined): string {
  if (report === undefined) return '/status not read yet';
  if (report.state === 'unreachable') return '/status unreachable';
  if (report.state === 'unauthorized') return "/status refused the operator's token (401)";
  return 'does not serve it (yet): config not reloaded, or another subnet under this name';
}

type Cond = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/** Longest condition message written (the CRD allows 32768; a /8 overlapping hundreds of scopes must still fit). */
export const MAX_MESSAGE = 4000;

/** `parts` joined with '; ', as many as fit in MAX_MESSAGE, then how many were left out. */
export function joinCapped(parts: readonly string[], max = MAX_MESSAGE): string {
  let out = '';
  for (const [i, p] of parts.entries()) {
    const next = out === '' ? p : `${out}; ${p}`;
    const rest = parts.length - i;
    if (next.length > max - 24 && rest > 0 && i > 0) return `${out}; … and ${rest} more`;
    out = next.length > max ? `${next.slice(0, max - 1)}…` : next;
  }
  return out;
}

/** The four conditions and the counts of one scope. */
export function computeScopeStatus(scope: DhcpScope, view: RelationshipView | undefined, overlaps: readonly Overlap[], now: string): ScopeStatus {
  const gen = scope.metadata.generation;
  const relName = scope.spec?.relationshipRef?.name ?? '';
  const ns = scope.metadata.namespace ?? 'default';
  const mine = overlaps.filter((o) => o.relationship === relName);
  const others = overlaps.filter((o) => o.relationship !== relName);
  const overlapText = joinCapped([
    ...mine.map((o) => `subnet ${scope.spec.subnet} overlaps scope ${o.name} (${o.subnet}) of the same relationship ${relName}`),
    ...others.map((o) => `subnet ${scope.spec.subnet} overlaps scope ${o.name} (${o.subnet}) of relationship ${o.relationship}`),
  ]);
  const overlapping: Cond = mine.length > 0 ? { type: 'Overlapping', status: 'True', reason: 'SubnetOverlap', message: overlapText }
    : others.length > 0 ? { type: 'Overlapping', status: 'True', reason: 'OtherRelationship', message: overlapText }
      : { type: 'Overlapping', status: 'False', reason: 'NoOverlap', message: 'no other scope in the namespace overlaps this subnet' };

  const conds: Cond[] = [];
  let counts: { server: string; report: ScopeReport } | undefined;
  if (view === undefined) {
    const message = `DhcpFailoverRelationship ${relName} (spec.relationshipRef) does not exist in namespace ${ns}: no server serves this scope`;
    conds.push(
      { type: 'Ready', status: 'False', reason: 'RelationshipNotFound', message },
      { type: 'RelationshipNotFound', status: 'True', reason: 'NotFound', message },
      { type: 'Invalid', status: 'Unknown', reason: 'RelationshipNotFound', message: 'not validated: the scope is checked when its relationship renders the servers\' config' },
    );
  } else {
    const { result, reports, relationship: rel } = view;
    const own = result.ok ? [] : result.problems.filter((p) => p.scope === scope.metadata.name);
    const invalid: Cond = own.length > 0
      ? { type: 'Invalid', status: 'True', reason: own[0]!.reason, message: joinCapped(own.map((p) => p.message)) }
      : { type: 'Invalid', status: 'False', reason: 'Valid', message: `relationship ${relName} found no problem in this scope` };
    const servers = managedByPreference(rel);
    const serving = servers.flatMap((name) => { const r = viewOf(reports.get(name), scope); return r === undefined ? [] : [{ server: name, report: r }]; });
    // The largest view; the primary (first) on a tie.
    for (const v of serving) if (counts === undefined || v.report.leases.active > counts.report.leases.active) counts = v;
    const missing = servers.filter((name) => !serving.some((v) => v.server === name)).map((name) => `${name}: ${notServingWhy(reports.get(name))}`);
    let ready: Cond;
    if (own.length > 0) ready = { type: 'Ready', status: 'False', reason: 'Invalid', message: `relationship ${relName} refuses this scope and applies nothing until it is fixed (condition Invalid)` };
    else if (mine.length > 0) ready = { type: 'Ready', status: 'False', reason: 'Overlapping', message: `its subnet overlaps another scope of relationship ${relName}, which applies nothing until it is fixed (condition Overlapping)` };
    else if (!result.ok) ready = { type: 'Ready', status: 'False', reason: 'RelationshipInvalid', message: `relationship ${relName} is not applied (the servers keep their last valid config): ${joinCapped(result.problems.map((p) => p.message))}` };
    else if (scope.spec.active === false) ready = { type: 'Ready', status: 'False', reason: 'Inactive', message: 'spec.active is false: the servers do not answer requests in this scope (its leases are kept)' };
    else if (serving.length === 0) ready = { type: 'Ready', status: 'False', reason: 'NotServed', message: `no server of relationship ${relName} reports this scope yet: ${missing.join('; ') || 'no managed server'}` };
    else ready = { type: 'Ready', status: 'True', reason: 'Served', message: `served by ${serving.map((v) => v.server).join(' and ')}${missing.length > 0 ? `; ${missing.join('; ')}` : ''}` };
    conds.push(ready, { type: 'RelationshipNotFound', status: 'False', reason: 'Found', message: `served by DhcpFailoverRelationship ${relName}` }, invalid);
  }
  conds.push(overlapping);

  let conditions = scope.status?.conditions;
  for (const c of conds) conditions = setCondition(conditions, c, now, gen);
  // Keep the conditions in one order (and drop any type this operator does not write).
  const ordered = SCOPE_CONDITION_TYPES.map((t) => conditions!.find((c) => c.type === t)!);
  const status: ScopeStatus = { conditions: ordered };
  if (gen !== undefined) status.observedGeneration = gen;
  if (counts !== undefined) {
    status.poolSize = counts.report.poolSize;
    status.leases = { ...counts.report.leases };
    status.utilizationPercent = counts.report.utilizationPercent;
    status.reportedBy = counts.server;
  }
  return status;
}

/** The status of every scope of one namespace, by name. */
export function computeScopeStatuses(input: ScopeStatusInput): Map<string, ScopeStatus> {
  const overlaps = findOverlaps(input.scopes);
  const out = new Map<string, ScopeStatus>();
  for (const s of input.scopes) {
    out.set(s.metadata.name, computeScopeStatus(s, input.relationships.get(s.spec?.relationshipRef?.name ?? ''), overlaps.get(s.metadata.name) ?? [], input.now));
  }
  return out;
}
