// Evidence that the partner has stopped serving, for the automatic COMMUNICATIONS-INTERRUPTED →
// PARTNER-DOWN move (digest §6.4 safe period; invariant 20). A lost TCP link proves nothing: the
// partner may be alive and serving behind a broken failover link. Clients prove more: a client
// whose server answers stops retrying; a client nobody answers retries with a growing `secs`
// (RFC 2131 secs = seconds since it began acquiring). In the style of Kea's HA
// `max-unacked-clients` / `max-ack-delay` (kea src/hooks/dhcp/high_availability/communication_state.h).
// Pure: every function returns a new state.

export interface ClientObservation {
  readonly firstAt: number;
  readonly firstSecs: number;
  readonly lastAt: number;
  readonly lastSecs: number;
  /** Messages seen after the first one in this exchange. */
  readonly retries: number;
}

export interface GuardState {
  /** Only clients that belong to the partner (its hash buckets, or everyone for a hot-standby standby). */
  readonly clients: ReadonlyMap<string, ClientObservation>;
  /** Bound on memory: the least recently seen client is forgotten first. */
  readonly maxTracked: number;
}

export function emptyGuard(opts: { maxTracked?: number } = {}): GuardState {
  return { clients: new Map(), maxTracked: Math.max(1, opts.maxTracked ?? 1024) };
}

export interface Observation {
  /** Client key (client identifier or hardware address). */
  readonly key: string;
  /** The `secs` field of the DISCOVER/REQUEST. */
  readonly secs: number;
  readonly now: number;
  /** Load balancing says the partner should answer this client (always true on a hot-standby standby). */
  readonly ownedByPartner: boolean;
}

/** Record one client message seen while communications are interrupted. */
export function observeClient(state: GuardState, o: Observation): GuardState {
  if (!o.ownedByPartner || !Number.isFinite(o.secs) || o.secs < 0) return state;
  const prev = state.clients.get(o.key);
  // secs going down means a new exchange: the previous one ended (answered, or the client restarted).
  const rec: ClientObservation = prev === undefined || o.secs < prev.lastSecs || o.now < prev.lastAt
    ? { firstAt: o.now, firstSecs: o.secs, lastAt: o.now, lastSecs: o.secs, retries: 0 }
    : { ...prev, lastAt: o.now, lastSecs: o.secs, retries: prev.retries + 1 };
  const clients = new Map(state.clients);
  clients.delete(o.key);
  clients.set(o.key, rec);
  while (clients.size > state.maxTracked) {
    const oldest = clients.keys().next().value; // Map keeps insertion order; every touch re-inserts
    if (oldest === undefined) break;
    clients.delete(oldest);
  }
  return { ...state, clients };
}

export interface PartnerDownQuery {
  readonly now: number;
  /** When communications were lost (start of COMMUNICATIONS-INTERRUPTED). */
  readonly commsLostAt: number;
  /** The state switchover interval (safe period). */
  readonly switchoverMs: number;
  /** How many distinct unanswered partner clients are needed; values below 1 count as 1. */
  readonly minUnackedClients: number;
  /** A client is unanswered once its secs exceed this many seconds while still retrying. */
  readonly maxAckDelayS: number;
}

/**
 * The partner's clients that look unanswered: seen only since communications were lost, retried at
 * least once with a growing secs, and now past maxAckDelayS.
 */
export function unackedClients(state: GuardState, q: Pick<PartnerDownQuery, 'now' | 'commsLostAt' | 'maxAckDelayS'>): string[] {
  const out: string[] = [];
  for (const [key, c] of state.clients) {
    if (c.firstAt < q.commsLostAt || c.lastAt > q.now) continue;
    if (c.retries >= 1 && c.lastSecs > c.firstSecs && c.lastSecs > q.maxAckDelayS) out.push(key);
  }
  return out;
}

/** The safe period has passed AND enough of the partner's clients went unanswered. */
export function shouldPartnerDown(state: GuardState, q: PartnerDownQuery): boolean {
  if (q.now - q.commsLostAt < q.switchoverMs) return false;
  return unackedClients(state, q).length >= Math.max(1, Math.trunc(q.minUnackedClients));
}
