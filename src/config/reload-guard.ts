// Whether a valid new config file may replace the running one on reload. A second line of defence
// against the renderer: the operator once applied `scopes: []` for a moment after each of its starts
// (its caches were not filled yet), and both servers of a pair reload the same ConfigMap, so both
// would stop serving at once. What is guarded is "a relationship drops every scope": with one
// relationship (or none) every scope in the file is that relationship's (or standalone), so that is
// "lists no scope"; with several, it is also "lists no scope of a relationship the file still holds"
// (scopes[].relationship, schema.ts). Pure: (running, next) → accept | refuse. First start is not a
// reload and is never judged here.
import type { Config } from './schema.ts';

export type ReloadDecision =
  | { readonly kind: 'accept' }
  | {
    readonly kind: 'refuse';
    readonly reason: 'empty_scopes';
    /** Active scopes of the running config (the ones clients are served from now); of `relationship` when set. */
    readonly runningScopes: number;
    /** Scopes in the new file; of `relationship` when set (so 0). */
    readonly newScopes: number;
    /** Set when the new file keeps scopes, but none of this relationship, which it still holds. */
    readonly relationship?: string;
    readonly message: string;
  };

const ACCEPT: ReloadDecision = { kind: 'accept' };
const ALLOW_WITH = 'keeping the running config (set allowEmptyScopes: true in the file if that is intended)';

/**
 * Refuses a new config, unless the new file says `allowEmptyScopes: true`, that
 * - lists no scope while the running one serves at least one (an active scope), or
 * - lists no scope of a relationship that is in both files and serves at least one active scope now.
 * A file that keeps its scopes but marks them all `active: false` is a choice made per scope and is
 * accepted; so is one that drops a relationship together with its scopes, or moves them to another.
 */
export function decideReload(running: Config, next: Config): ReloadDecision {
  const served = running.scopes.filter((s) => s.active);
  if (served.length === 0 || next.allowEmptyScopes) return ACCEPT;
  if (next.scopes.length === 0) {
    const names = running.relationships.map((r) => JSON.stringify(r.relationship));
    const whose = names.length === 0 ? '' : ` of failover relationship${names.length > 1 ? 's' : ''} ${names.join(', ')}`;
    return {
      kind: 'refuse', reason: 'empty_scopes', runningScopes: served.length, newScopes: 0,
      message: `the new file lists no scope, which would stop serving all ${served.length} scope(s)${whose}; ${ALLOW_WITH}`,
    };
  }
  const kept = new Set(next.relationships.map((r) => r.relationship));
  for (const { relationship } of running.relationships) {
    const servedOfIt = served.filter((s) => s.relationship === relationship).length;
    if (servedOfIt === 0 || !kept.has(relationship) || next.scopes.some((s) => s.relationship === relationship)) continue;
    return {
      kind: 'refuse', reason: 'empty_scopes', runningScopes: servedOfIt, newScopes: 0, relationship,
      message: `the new file lists no scope of failover relationship ${JSON.stringify(relationship)}, which would stop serving all `
        + `${servedOfIt} scope(s) of it; ${ALLOW_WITH}`,
    };
  }
  return ACCEPT;
}
