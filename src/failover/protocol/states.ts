// The failover vocabulary every room shares (draft-12 §9, digest §0.2): server states, the states a
// partner may report, roles and dialects. No imports: the wire codec, the rules and the state machine
// all sit above it.

export const ServerState = {
  STARTUP: 'startup', NORMAL: 'normal', COMMUNICATIONS_INTERRUPTED: 'communications-interrupted',
  PARTNER_DOWN: 'partner-down', POTENTIAL_CONFLICT: 'potential-conflict',
  RESOLUTION_INTERRUPTED: 'resolution-interrupted', CONFLICT_DONE: 'conflict-done', RECOVER: 'recover',
  RECOVER_WAIT: 'recover-wait', RECOVER_DONE: 'recover-done', PAUSED: 'paused', SHUTDOWN: 'shutdown',
} as const;
export type ServerState = (typeof ServerState)[keyof typeof ServerState];
export const SERVER_STATES: readonly ServerState[] = Object.values(ServerState);

/** States a partner can report in STATE (STARTUP is signalled by a flag, never as a state). */
export type PartnerState = Exclude<ServerState, 'startup'>;
export const PARTNER_STATES: readonly PartnerState[] = SERVER_STATES.filter((s): s is PartnerState => s !== 'startup');

export type Role = 'primary' | 'secondary';
/** Whose reading of the protocol to follow where they differ (digest §0.2). */
export type Dialect = 'draft' | 'isc' | 'ms';
