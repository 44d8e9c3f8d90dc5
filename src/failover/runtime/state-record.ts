// The failover state record on stable storage (digest §4.3, D12 §9.2): the state, its start time, the
// state to resume and the last time of operation, plus the MCLT a secondary learned from its primary.
// One meta key per relationship in the lease store. Reading tolerates a damaged record (logged, then
// treated as none); writing is the caller's, because a failed write must keep the old state.
import type { LeaseStore } from '../../leases/store.ts';
import { log } from '../../log.ts';
import type { PersistedState, ServerState } from '../protocol/state-machine.ts';

export interface StateRecord extends PersistedState { readonly mcltSeconds?: number }

export function metaKey(relationship: string): string { return `failover:${relationship}:state`; }

export async function readStateRecord(store: Pick<LeaseStore, 'getMeta'>, relationship: string): Promise<StateRecord | undefined> {
  const raw = await store.getMeta(metaKey(relationship));
  if (raw === undefined) return undefined;
  try { return JSON.parse(raw) as StateRecord; } catch {
    log.error('failover.state.record_unreadable', { raw: raw.slice(0, 200) });
    return undefined;
  }
}

/** The record for a state, stamped with the time of operation `now`. */
export function stateRecordOf(
  s: { readonly state: ServerState; readonly stos: number; readonly previous?: ServerState | undefined; readonly mcltMs: number }, now: number,
): StateRecord {
  return { state: s.state, stos: s.stos, previous: s.previous, lastOperationAt: now, mcltSeconds: Math.round(s.mcltMs / 1000) };
}

export function writeStateRecord(store: Pick<LeaseStore, 'setMeta'>, relationship: string, record: StateRecord): Promise<void> {
  return store.setMeta(metaKey(relationship), JSON.stringify(record));
}
