// One sentence on what COMMUNICATIONS-INTERRUPTED will lead to, from the /status `failover.autoPartnerDown`
// block (peer-status.ts): the partner-down guard's evidence, or the administrator. Shared by the operator's
// Degraded condition (operator/conditions.ts) and `dhcp-failover ctl status` (cli/ctl-command.ts), so both
// say it in the same words. Pure; no imports.

/** The fields of `failover.autoPartnerDown` (AutoPartnerDownStatus) the note reads. */
export interface AutoPartnerDownView {
  readonly waitingForEvidence: boolean;
  readonly unansweredClients: number;
  readonly clientsNeeded: number;
  readonly safePeriodEndsAt: string | null;
}

const plural = (n: number, word: string): string => `${word}${n === 1 ? '' : 's'}`;

/**
 * The note for a server in COMMUNICATIONS-INTERRUPTED. `g`: the block as reported; `null` = the server has
 * no state switchover interval (partner-down only by an administrator); `undefined` = not known (the
 * server reports no such block): no note (empty string).
 */
export function partnerDownNote(g: AutoPartnerDownView | null | undefined): string {
  if (g === undefined) return '';
  if (g === null) return 'partner-down only by an administrator (no stateSwitchoverSeconds)';
  if (g.waitingForEvidence) return `automatic partner-down waiting for evidence: ${g.unansweredClients} unanswered partner ${plural(g.unansweredClients, 'client')} (needs ${g.clientsNeeded})`;
  return `automatic partner-down possible after ${g.safePeriodEndsAt ?? 'the safe period'} once ${g.clientsNeeded} partner ${plural(g.clientsNeeded, 'client')} go${g.clientsNeeded === 1 ? 'es' : ''} unanswered (${g.unansweredClients} so far)`;
}
