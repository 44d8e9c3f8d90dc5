// How a change of pool ownership (a new split, reserve, range, exclusion or reservation) moves free
// addresses from one server to the other without a moment at which both own one (DESIGN.md "Pool
// ownership"). The two servers get the new config at different moments (each kubelet syncs its
// ConfigMap on its own), possibly while the link is down. Pure state machine; ownership-sync.ts runs it.
//
// Each server allocates a free address only if it owns it under its current scheme AND under every
// scheme it still holds (an earlier one its partner may still act on). Held schemes are dropped only
// by a handshake the primary leads: when the secondary reports the primary's current scheme, the
// primary sends COMMIT(fingerprint, nonce); the secondary, if that is still its current scheme, stores
// "held = none" and answers COMMITTED(nonce); the primary, if its scheme is unchanged since the COMMIT
// and this is its latest COMMIT on this link, stores "held = none" too. Why that is safe: the two
// servers' sets of schemes always share one (a scheme is a partition, so no address is in both
// servers' parts of it): a secondary that settles on COMMIT(X) holds X, and the primary keeps X until
// a COMMITTED for a later scheme of its own, which the secondary sends only after settling on that one.
// Lost messages, a dropped link and restarts only keep schemes held longer (every record stored keeps
// all that is held, or is a settle the COMMIT justified), so they cannot break it;
// test/failover/rules/ownership-handover.test.ts explores the interleavings.
import { ownerIn, schemeOf, type OwnershipScheme } from './address-ownership.ts';
import type { Role } from '../protocol/states.ts';
import type { HandoverMessage } from '../wire/ownership-option.ts';

export interface StoredHandover { readonly current: OwnershipScheme; readonly held: readonly OwnershipScheme[] }

export interface HandoverState {
  readonly role: Role;
  readonly current: OwnershipScheme;
  readonly held: readonly OwnershipScheme[];
  /** Fingerprints of the last record the store confirmed (reports are sent only about stored schemes). */
  readonly durable: { readonly current: string; readonly held: readonly string[] } | undefined;
  readonly linkUp: boolean;
  readonly partner: { readonly fp: string; readonly settled: boolean } | undefined;
  /** Primary: the COMMIT sent on this link and not answered yet. */
  readonly outstanding: { readonly nonce: number; readonly fp: string } | undefined;
  /** A "held = none" record being stored; `reply` = the secondary's COMMITTED to send once it is. */
  readonly settling: { readonly fp: string; readonly reply?: number | undefined } | undefined;
  readonly nextNonce: number;
}

export type HandoverEvent =
  | { readonly kind: 'scheme'; readonly scheme: OwnershipScheme }
  | { readonly kind: 'stored'; readonly current: string; readonly held: readonly string[] }
  /** The store refused a record: a settle in progress is abandoned (held schemes stay: safe). */
  | { readonly kind: 'store-failed' }
  | { readonly kind: 'link-up' }
  | { readonly kind: 'link-down' }
  | { readonly kind: 'message'; readonly message: HandoverMessage };

export type HandoverEffect =
  | { readonly kind: 'store'; readonly record: StoredHandover }
  | { readonly kind: 'send'; readonly message: HandoverMessage };

export interface HandoverStep { readonly state: HandoverState; readonly effects: readonly HandoverEffect[] }

/**
 * The scheme that gives nobody anything. A server with no stored record (a new pair, a lost store, an
 * upgrade from a version without handover) holds it, so it owns no free address until the handshake
 * with its partner: it cannot know which scheme the partner acts on.
 */
export const NOTHING_OWNED: OwnershipScheme = schemeOf([], 0);

/** A server that starts: the stored record (if any) is in force, then its config is applied as a `scheme` event. */
export function initialHandover(role: Role, stored: StoredHandover | undefined, configured: OwnershipScheme, nonceSeed: number): HandoverStep {
  const base: HandoverState = {
    role, current: stored?.current ?? configured, held: stored?.held ?? [NOTHING_OWNED],
    durable: stored === undefined ? undefined : { current: stored.current.fingerprint, held: stored.held.map((s) => s.fingerprint) },
    linkUp: false, partner: undefined, outstanding: undefined, settling: undefined, nextNonce: nonceSeed >>> 0,
  };
  if (stored === undefined) return { state: base, effects: [{ kind: 'store', record: { current: configured, held: base.held } }] };
  return stepHandover(base, { kind: 'scheme', scheme: configured });
}

/** True when this server may hand out free address `ip` of a pool (subject to the lease-state rules). */
export function ownsFree(s: Pick<HandoverState, 'role' | 'current' | 'held'>, ip: number): boolean {
  const owners = [s.current, ...s.held].map((scheme) => ownerIn(scheme, ip));
  // Reserved in every scheme in force: it goes only to its one client, from either server. Reserved in
  // some and dynamic in others: the dynamic owner must own it in all of those and nobody else may.
  if (owners.every((o) => o === 'either')) return true;
  return owners.every((o) => o === s.role);
}

const isDurable = (s: HandoverState): boolean =>
  s.durable !== undefined && s.durable.current === s.current.fingerprint
  && s.durable.held.length === s.held.length && s.held.every((h, i) => s.durable!.held[i] === h.fingerprint);

const report = (s: HandoverState): HandoverEffect => ({ kind: 'send', message: { kind: 'report', fp: s.current.fingerprint, settled: s.held.length === 0 } });

export function stepHandover(s: HandoverState, e: HandoverEvent): HandoverStep {
  switch (e.kind) {
    case 'scheme': {
      if (e.scheme.fingerprint === s.current.fingerprint) return { state: s, effects: [] };
      const held = [...s.held, s.current].filter((h, i, all) => h.fingerprint !== e.scheme.fingerprint && all.findIndex((x) => x.fingerprint === h.fingerprint) === i);
      const next: HandoverState = { ...s, current: e.scheme, held, outstanding: undefined, settling: undefined };
      return { state: next, effects: [...abandon(s), { kind: 'store', record: { current: next.current, held: next.held } }] };
    }
    case 'stored': {
      let next: HandoverState = { ...s, durable: { current: e.current, held: e.held } };
      const effects: HandoverEffect[] = [];
      if (e.held.length === 0 && next.settling !== undefined && next.settling.fp === e.current && s.current.fingerprint === e.current) {
        const reply = next.settling.reply;
        next = { ...next, held: [], settling: undefined };
        if (reply !== undefined && next.linkUp) effects.push({ kind: 'send', message: { kind: 'committed', nonce: reply } });
      }
      if (!isDurable(next)) return { state: next, effects };
      if (next.linkUp) effects.push(report(next));
      return withCommit(next, effects);
    }
    case 'store-failed': return { state: { ...s, settling: undefined }, effects: abandon(s) };
    case 'link-up': {
      const next: HandoverState = { ...s, linkUp: true, partner: undefined, outstanding: undefined, settling: s.settling && { fp: s.settling.fp } };
      return { state: next, effects: isDurable(next) ? [report(next)] : [] };
    }
    case 'link-down':
      return { state: { ...s, linkUp: false, partner: undefined, outstanding: undefined, settling: s.settling && { fp: s.settling.fp } }, effects: [] };
    case 'message': return onMessage(s, e.message);
  }
}

function onMessage(s: HandoverState, m: HandoverMessage): HandoverStep {
  if (!s.linkUp) return { state: s, effects: [] };
  switch (m.kind) {
    case 'report': return withCommit({ ...s, partner: { fp: m.fp, settled: m.settled } }, []);
    case 'commit': {
      if (s.role !== 'secondary') return { state: s, effects: [] };
      if (m.fp !== s.current.fingerprint || !isDurable(s) || s.settling !== undefined) return { state: s, effects: [{ kind: 'send', message: { kind: 'refused', nonce: m.nonce } }] };
      if (s.held.length === 0) return { state: s, effects: [{ kind: 'send', message: { kind: 'committed', nonce: m.nonce } }] };
      return { state: { ...s, settling: { fp: m.fp, reply: m.nonce } }, effects: [{ kind: 'store', record: { current: s.current, held: [] } }] };
    }
    case 'committed': {
      if (s.role !== 'primary' || s.outstanding?.nonce !== m.nonce) return { state: s, effects: [] };
      const next: HandoverState = { ...s, outstanding: undefined };
      if (s.outstanding.fp !== s.current.fingerprint || s.held.length === 0 || s.settling !== undefined) return { state: next, effects: [] };
      return { state: { ...next, settling: { fp: s.current.fingerprint } }, effects: [{ kind: 'store', record: { current: s.current, held: [] } }] };
    }
    case 'refused':
      return { state: s.outstanding?.nonce === m.nonce ? { ...s, outstanding: undefined } : s, effects: [] };
  }
}

/** A settle given up before it was stored: the primary's COMMIT gets its answer, so it may try again. */
function abandon(s: HandoverState): HandoverEffect[] {
  const nonce = s.settling?.reply;
  return nonce !== undefined && s.linkUp ? [{ kind: 'send', message: { kind: 'refused', nonce } }] : [];
}

/** Primary: start the handshake when the secondary runs our stored scheme and either side still holds others. */
function withCommit(s: HandoverState, effects: HandoverEffect[]): HandoverStep {
  const p = s.partner;
  if (s.role !== 'primary' || !s.linkUp || p === undefined || p.fp !== s.current.fingerprint || s.outstanding !== undefined
    || s.settling !== undefined || !isDurable(s) || (s.held.length === 0 && p.settled)) return { state: s, effects };
  const nonce = s.nextNonce;
  return {
    state: { ...s, outstanding: { nonce, fp: s.current.fingerprint }, nextNonce: (nonce + 1) >>> 0 },
    effects: [...effects, { kind: 'send', message: { kind: 'commit', fp: s.current.fingerprint, nonce } }],
  };
}
