// Whether a valid new config file may replace the running one on reload. A second line of defence
// against the renderer: the operator once applied `scopes: []` for a moment after each of its starts
// (its caches were not filled yet), and both servers of a pair reload the same ConfigMap, so both
// would stop serving at once. The file holds one relationship and every scope in it is that
// relationship's (schema.ts), so "drops every scope of the relationship" is "lists no scope".
// Pure: (running, next) → accept | refuse. First start is not a reload and is never judged here.
import type { Config } from './schema.ts';

export type ReloadDecision =
  | { readonly kind: 'accept' }
  | {
    readonly kind: 'refuse';
    readonly reason: 'empty_scopes';
    /** Active scopes of the running config (the ones clients are served from now). */
    readonly runningScopes: number;
    /** Scopes in the new file. */
    readonly newScopes: number;
    readonly message: string;
  };

const ACCEPT: ReloadDecision = { kind: 'accept' };

/**
 * Refuses a new config that lists no scope while the running one serves at least one (an active
 * scope), unless the new file says `allowEmptyScopes: true`. A file that keeps its scopes but marks
 * them all `active: false` is a choice made per scope and is accepted.
 */
export function decideReload(running: Config, next: Config): ReloadDecision {
  const served = running.scopes.filter((s) => s.active).length;
  if (served === 0 || next.scopes.length > 0 || next.allowEmptyScopes) return ACCEPT;
  const whose = running.failover ? ` of failover relationship ${JSON.stringify(running.failover.relationship)}` : '';
  return {
    kind: 'refuse', reason: 'empty_scopes', runningScopes: served, newScopes: next.scopes.length,
    message: `the new file lists no scope, which would stop serving all ${served} scope(s)${whose}; `
      + 'keeping the running config (set allowEmptyScopes: true in the file if that is intended)',
  };
}
