// The chaos run's verdict, from what the clients held (fleet.ts events) and what both lease stores hold
// at the end. Pure.
//   duplicates   two clients holding one address at the same time (the invariant; must be 0)
//   lostLeases   a client still holding an unexpired lease that a converged store does not have for it
//   conflicts    one address active for two clients across the two stores
//   converged    both stores hold the same active bindings
//   unserved     failed attempts that started while some server was in a serving state for the whole attempt
import type { FleetEvent } from './fleet.ts';

export interface Interval { readonly mac: string; readonly from: number; readonly to: number }
export interface Duplicate { readonly ip: string; readonly a: Interval; readonly b: Interval }

/** Who held each address when: an ACK starts (or extends) a hold; expiry, NAK or a move ends it early. */
export function holdings(events: readonly FleetEvent[]): Map<string, Interval[]> {
  const byIp = new Map<string, Interval[]>();
  const open = new Map<string, { ip: string; from: number; to: number }>(); // by mac
  const close = (mac: string, at: number) => {
    const h = open.get(mac);
    if (h === undefined) return;
    open.delete(mac);
    const list = byIp.get(h.ip) ?? [];
    list.push({ mac, from: h.from, to: Math.min(h.to, at) });
    byIp.set(h.ip, list);
  };
  for (const e of [...events].sort((x, y) => x.t - y.t)) {
    if (e.type === 'ack') {
      const h = open.get(e.mac);
      if (h !== undefined && h.ip === e.ip) { h.to = Math.max(h.to, e.until); continue; }
      close(e.mac, e.t);
      open.set(e.mac, { ip: e.ip, from: e.t, to: e.until });
    } else if (e.type === 'expired' || e.type === 'nak') {
      close(e.mac, e.t);
    }
  }
  for (const mac of [...open.keys()]) close(mac, Number.POSITIVE_INFINITY);
  return byIp;
}

/** Overlapping holds of one address by different clients, beyond `toleranceMs` (clock and network slack). */
export function findDuplicates(byIp: ReadonlyMap<string, readonly Interval[]>, toleranceMs: number): Duplicate[] {
  const out: Duplicate[] = [];
  for (const [ip, list] of byIp) {
    const sorted = [...list].sort((a, b) => a.from - b.from);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length && sorted[j]!.from < sorted[i]!.to - toleranceMs; j++) {
        if (sorted[j]!.mac !== sorted[i]!.mac) out.push({ ip, a: sorted[i]!, b: sorted[j]! });
      }
    }
  }
  return out;
}

export interface StoreBinding { readonly ip: string; readonly mac: string; readonly expiresAt: number }

export function storeConflicts(a: readonly StoreBinding[], b: readonly StoreBinding[], now: number): string[] {
  const owner = new Map<string, string>();
  const out: string[] = [];
  for (const s of [...a, ...b]) {
    if (s.expiresAt <= now) continue;
    const o = owner.get(s.ip);
    if (o !== undefined && o !== s.mac) out.push(`${s.ip}: ${o} and ${s.mac}`);
    owner.set(s.ip, s.mac);
  }
  return out;
}

export function converged(a: readonly StoreBinding[], b: readonly StoreBinding[], now: number): { ok: boolean; onlyA: string[]; onlyB: string[] } {
  const key = (s: StoreBinding) => `${s.ip}=${s.mac}`;
  const ka = new Set(a.filter((s) => s.expiresAt > now).map(key)), kb = new Set(b.filter((s) => s.expiresAt > now).map(key));
  const onlyA = [...ka].filter((k) => !kb.has(k)), onlyB = [...kb].filter((k) => !ka.has(k));
  return { ok: onlyA.length === 0 && onlyB.length === 0, onlyA, onlyB };
}

/** Clients holding an unexpired lease (the fleet's final `holding` lines) that a store does not have for them. */
export function lostLeases(events: readonly FleetEvent[], store: readonly StoreBinding[], slackMs: number): string[] {
  const have = new Map(store.map((s) => [s.ip, s.mac]));
  const out: string[] = [];
  for (const e of events) {
    if (e.type !== 'holding' || e.expiresAt <= e.t + slackMs) continue;
    if (have.get(e.ip) !== e.mac) out.push(`${e.mac} holds ${e.ip} until ${new Date(e.expiresAt).toISOString()}; store has ${have.get(e.ip) ?? 'nothing'}`);
  }
  return out;
}

/** A server's state over time: [from, state] samples in time order. */
export type Timeline = readonly { readonly t: number; readonly states: readonly (string | undefined)[] }[];
const SERVING = new Set(['normal', 'communications-interrupted', 'partner-down']);

/** Failed attempts during which at least one server was serving at every sample (documented bound: one attempt). */
export function unservedAttempts(events: readonly FleetEvent[], timeline: Timeline): FleetEvent[] {
  const servingThroughout = (from: number, to: number): boolean => {
    const samples = timeline.filter((s) => s.t >= from - 1000 && s.t <= to + 1000);
    if (samples.length === 0) return false;
    // Some one server serving at every sample of the window.
    const n = samples[0]!.states.length;
    for (let i = 0; i < n; i++) if (samples.every((s) => SERVING.has(s.states[i] ?? ''))) return true;
    return false;
  };
  return events.filter((e) => e.type === 'attempt' && !e.ok && servingThroughout(e.t - e.ms, e.t));
}
