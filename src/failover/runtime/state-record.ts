// The failover state record on stable storage (digest §4.3, D12 §9.2): the state, its start time, the
// state to resume and the last time of operation, plus the MCLT a secondary learned from its primary.
// One meta key per relationship in the lease store. Reading tolerates a damaged record (unparsable or
// not shaped like one: logged, then treated as none); writing is the caller's, because a failed write must keep the old state.
import type { LeaseStore } from '../../leases/store.ts';
import { log } from '../../log.ts';
import { SERVER_STATES, type PersistedState, type ServerState } from '../protocol/state-machine.ts';

export interface StateRecord extends PersistedState { readonly mcltSeconds?: number }

export function metaKey(relationship: string): string { return `failover:${relationship}:state`; }

export async function readStateRecord(store: Pick<LeaseStore, 'getMeta'>, relationship: string): Promise<StateRecord | undefined> {
  const raw = await store.getMeta(metaKey(relationship));
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try { parsed = JSON.parse(raw); } catch { parsed = undefined; }
  if (isStateRecord(parsed)) return parsed;
  // Treated as no record at all: the safe boot (RECOVER, a full MCLT before serving the partner's pool).
  log.error('failover.state.record_unreadable', { raw: raw.slice(0, 200) });
  return undefined;
}

/** The fields boot() relies on: a known state and numeric times; anything else is a damaged record. */
function isStateRecord(v: unknown): v is StateRecord {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const r = v as Record<string, unknown>;
  const isState = (x: unknown): boolean => typeof x === 'string' && (SERVER_STATES as readonly string[]).includes(x);
  const isTime = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
  return isState(r.state) && isTime(r.stos) && (r.previous === undefined || isState(r.previous))
    && (r.lastOperationAt === undefined || isTime(r.lastOperationAt)) && (r.mcltSeconds === undefined || isTime(r.mcltSeconds));
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
