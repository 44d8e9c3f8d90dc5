// How a lease is stored in Redis: compact JSON with short keys and a format version. The address
// is the hash field, so it is not repeated in the value.
import { StoreError } from '../errors.ts';
import { BindingState, type Lease } from './lease.ts';
import type { Ipv4 } from '../net/ipv4.ts';

const FORMAT = 1;
const STATES: ReadonlySet<string> = new Set(Object.values(BindingState));

interface Record1 {
  v: 1; s: string; st: string; e: number; c: number;
  hw?: string; id?: string; hn?: string; tp?: number; tf?: number; pe?: number; pa?: 1;
}

export function serializeLease(l: Lease): string {
  const r: Record1 = { v: FORMAT, s: l.scope, st: l.state, e: l.expiresAt, c: l.cltt };
  if (l.hw !== undefined) r.hw = l.hw;
  if (l.clientId !== undefined) r.id = l.clientId;
  if (l.hostname !== undefined) r.hn = l.hostname;
  if (l.tstp !== undefined) r.tp = l.tstp;
  if (l.tsfp !== undefined) r.tf = l.tsfp;
  if (l.partnerExpiresAt !== undefined) r.pe = l.partnerExpiresAt;
  if (l.pendingAck) r.pa = 1;
  return JSON.stringify(r);
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isStr = (x: unknown): x is string => typeof x === 'string';

/** Throws StoreError('bad_record') for anything that is not a well-formed record of a known version. */
export function parseLease(ip: Ipv4, text: string): Lease {
  let r: Partial<Record1> & { v?: unknown };
  try { r = JSON.parse(text) as typeof r; } catch { throw new StoreError('bad_record', 'lease record is not JSON'); }
  if (!r || typeof r !== 'object' || r.v !== FORMAT) throw new StoreError('bad_record', `unknown lease record format ${JSON.stringify(r?.v)}`);
  if (!isStr(r.s) || !isStr(r.st) || !STATES.has(r.st) || !isNum(r.e) || !isNum(r.c)) throw new StoreError('bad_record', 'lease record misses scope, state or times');
  for (const k of ['hw', 'id', 'hn'] as const) if (r[k] !== undefined && !isStr(r[k])) throw new StoreError('bad_record', `lease record field ${k} is not a string`);
  for (const k of ['tp', 'tf', 'pe'] as const) if (r[k] !== undefined && !isNum(r[k])) throw new StoreError('bad_record', `lease record field ${k} is not a number`);
  return {
    ip, scope: r.s, state: r.st as Lease['state'], expiresAt: r.e, cltt: r.c,
    ...(r.hw !== undefined ? { hw: r.hw } : {}), ...(r.id !== undefined ? { clientId: r.id } : {}),
    ...(r.hn !== undefined ? { hostname: r.hn } : {}), ...(r.tp !== undefined ? { tstp: r.tp } : {}),
    ...(r.tf !== undefined ? { tsfp: r.tf } : {}), ...(r.pe !== undefined ? { partnerExpiresAt: r.pe } : {}),
    ...(r.pa ? { pendingAck: true } : {}),
  };
}
