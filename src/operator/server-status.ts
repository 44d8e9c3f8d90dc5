// What the servers themselves report, for the relationship's status: each managed server's /status is
// polled (its fixed address, the admin port) and boiled down to the fields the CR shows. A change
// enqueues the relationship; the reconcile then writes status only if it differs. Polling is the
// edge; `reportFromStatus` is pure. A server with a token file answers /status from off its host only
// with the bearer token (src/admin/http.ts): the poller sends the relationship's shared secret
// (secret-value.ts), and a 401 is its own state, `unauthorized`, not `unreachable`.
import type { Clock } from '../clock.ts';
import { DhcpFailoverError } from '../errors.ts';
import { log } from '../log.ts';
import type { ScopeLeases } from './render/types.ts';
import type { RelationshipToken } from './secret-value.ts';

/** One scope as a server reports it on /status (`scopes[]`, src/dhcp/engine.ts `ScopeCounts`). */
export interface ScopeReport {
  readonly scope: string;
  /** The subnet the server serves under that name (its config may lag the DhcpScope's spec). */
  readonly subnet?: string;
  readonly poolSize: number;
  readonly leases: ScopeLeases;
  readonly utilizationPercent: number;
}

export interface ServerReport {
  /** Own failover state; 'unreachable' when /status could not be read, 'unauthorized' when it answered 401. */
  readonly state: string;
  /** The partner's state as this server last heard it (null while not connected). */
  readonly partnerState: string | null;
  /** Active leases over every scope. */
  readonly leases?: number;
  /** Per-scope pool counts, for the DhcpScopes' status (absent when the document names no scope). */
  readonly scopes?: readonly ScopeReport[];
  /** Last successful read of /status (ISO), kept across failed reads. */
  readonly lastContact?: string;
  /** Binding updates the partner has not acked yet: sent and unacked plus queued (`failover.updates`). */
  readonly outstandingUpdates?: number;
  /** `failover.autoPartnerDown` (peer-status.ts): present in COMMUNICATIONS-INTERRUPTED with a switchover interval. */
  readonly autoPartnerDown?: { readonly waitingForEvidence: boolean; readonly unansweredClients: number; readonly clientsNeeded: number; readonly safePeriodEndsAt: string | null };
  /** The server has automatic partner-down (a state switchover interval); false: only an administrator declares it. */
  readonly automaticPartnerDown?: boolean;
}

type Json = Record<string, unknown>;

const POOL_STATES = ['active', 'free', 'backup', 'expired', 'released', 'abandoned', 'reset'] as const;
const count = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);

/**
 * One `scopes[]` entry, or undefined without a name and a pool size. A server without `pool` (older than
 * the per-scope counts) gives `byState`: its leases are taken as pool leases and `free` is the rest.
 */
export function scopeReportOf(entry: unknown): ScopeReport | undefined {
  if (entry === null || typeof entry !== 'object') return undefined;
  const e = entry as Json;
  if (typeof e.scope !== 'string' || typeof e.poolSize !== 'number') return undefined;
  const poolSize = count(e.poolSize);
  const src = (e.pool !== null && typeof e.pool === 'object' ? e.pool : e.byState ?? {}) as Json;
  const leases = Object.fromEntries(POOL_STATES.map((k) => [k, count(src[k])])) as ScopeLeases;
  if (!(e.pool !== null && typeof e.pool === 'object')) leases.free = Math.max(0, poolSize - POOL_STATES.reduce((n, k) => (k === 'free' ? n : n + leases[k]), 0));
  const percent = typeof e.utilizationPercent === 'number' ? Math.min(100, Math.max(0, Math.floor(e.utilizationPercent)))
    : poolSize > 0 ? Math.min(100, Math.floor((leases.active * 100) / poolSize)) : 0;
  return { scope: e.scope, ...(typeof e.subnet === 'string' ? { subnet: e.subnet } : {}), poolSize, leases, utilizationPercent: percent };
}

/** The CR-facing summary of one /status document; undefined when it is not a server's status. */
export function reportFromStatus(json: unknown, at: string): ServerReport | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  const doc = json as Json;
  const failover = doc.failover as Json | undefined;
  const state = typeof failover?.state === 'string' ? failover.state : failover === undefined ? 'standalone' : undefined;
  if (state === undefined) return undefined;
  const partner = (failover?.partner as Json | undefined)?.state;
  let leases: number | undefined;
  let scopes: ScopeReport[] | undefined;
  if (Array.isArray(doc.scopes)) {
    leases = 0;
    for (const s of doc.scopes as Json[]) {
      const active = (s?.byState as Json | undefined)?.active;
      if (typeof active === 'number') leases += active;
      const r = scopeReportOf(s);
      if (r !== undefined) (scopes ??= []).push(r);
    }
  }
  const updates = failover?.updates as Json | undefined;
  const outstanding = typeof updates?.unacked === 'number' ? updates.unacked + (typeof updates.queued === 'number' ? updates.queued : 0) : undefined;
  const apd = failover !== undefined && 'autoPartnerDown' in failover ? failover.autoPartnerDown as Json | null : undefined;
  const guard = apd !== undefined && apd !== null && typeof apd.unansweredClients === 'number' && typeof apd.safePeriodEndsAt === 'string'
    ? { waitingForEvidence: apd.waitingForEvidence === true, unansweredClients: apd.unansweredClients, clientsNeeded: typeof apd.clientsNeeded === 'number' ? apd.clientsNeeded : 1, safePeriodEndsAt: apd.safePeriodEndsAt }
    : undefined;
  return {
    state, partnerState: typeof partner === 'string' ? partner : null, ...(leases !== undefined ? { leases } : {}), ...(scopes !== undefined ? { scopes } : {}), lastContact: at,
    ...(outstanding !== undefined ? { outstandingUpdates: outstanding } : {}),
    ...(apd !== undefined ? { automaticPartnerDown: apd !== null } : {}),
    ...(guard !== undefined ? { autoPartnerDown: guard } : {}),
  };
}

/** Two reports differ in what the CR shows (lastContact alone is refreshed by the reconcile's heartbeat rule). */
export function sameReport(a: ServerReport | undefined, b: ServerReport | undefined): boolean {
  return a?.state === b?.state && a?.partnerState === b?.partnerState && a?.leases === b?.leases
    && a?.outstandingUpdates === b?.outstandingUpdates && a?.automaticPartnerDown === b?.automaticPartnerDown
    && JSON.stringify(a?.autoPartnerDown) === JSON.stringify(b?.autoPartnerDown)
    && JSON.stringify(a?.scopes) === JSON.stringify(b?.scopes);
}

export interface StatusTarget { readonly name: string; readonly url: string }

/** The report says nothing about the server's failover state: /status could not be read (either reason). */
export function isUnread(report: ServerReport | undefined): boolean {
  return report?.state === 'unreachable' || report?.state === 'unauthorized';
}

/** /status answered with an HTTP error status; code `unauthorized` for a 401 (token missing or refused). */
export class StatusHttpError extends DhcpFailoverError {
  readonly status: number;
  constructor(status: number) {
    super(status === 401 ? 'unauthorized' : 'http_error', `HTTP ${status}`);
    this.status = status;
  }
}

const isUnauthorized = (err: unknown): boolean => err instanceof StatusHttpError && err.code === 'unauthorized';

export interface PollerOptions {
  readonly clock: Clock;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  /** Called with the relationship key when a report changed. */
  readonly onChange: (key: string) => void;
  /** The bearer token for the relationship `key`'s servers; absent, or resolving to undefined: none is sent. */
  readonly tokenFor?: (key: string) => Promise<RelationshipToken | undefined>;
  /** For tests: how a document is fetched (an HTTP error status rejects with a StatusHttpError). */
  readonly fetchJson?: (url: string, timeoutMs: number, token: string | undefined) => Promise<unknown>;
}

async function defaultFetchJson(url: string, timeoutMs: number, token: string | undefined): Promise<unknown> {
  const res = await fetch(url, { headers: token !== undefined ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) { await res.body?.cancel(); throw new StatusHttpError(res.status); }
  return res.json();
}

/** Polls every watched relationship's servers, one round at a time (bounded: one request per server per interval). */
export class ServerStatusPoller {
  private readonly opts: PollerOptions;
  private readonly targets = new Map<string, readonly StatusTarget[]>();
  private readonly latest = new Map<string, Map<string, ServerReport>>();
  private timer: { cancel(): void } | undefined;
  private running = false;
  /** Relationships whose token could not be read: logged once per episode. */
  private readonly tokenUnreadable = new Set<string>();

  constructor(opts: PollerOptions) { this.opts = opts; }

  /** Sets the servers polled for `key` (a relationship); polls them at once if they are new. */
  watch(key: string, targets: readonly StatusTarget[]): void {
    const before = JSON.stringify(this.targets.get(key) ?? []);
    this.targets.set(key, targets);
    if (before !== JSON.stringify(targets) && this.running) void this.pollKey(key);
  }

  forget(key: string): void { this.targets.delete(key); this.latest.delete(key); this.tokenUnreadable.delete(key); }

  reports(key: string): ReadonlyMap<string, ServerReport> { return this.latest.get(key) ?? new Map(); }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = async () => {
      if (!this.running) return;
      await Promise.all([...this.targets.keys()].map((k) => this.pollKey(k)));
      if (this.running) this.timer = this.opts.clock.setTimer(this.opts.intervalMs ?? 15_000, () => void loop());
    };
    void loop();
  }

  stop(): void { this.running = false; this.timer?.cancel(); }

  private async pollKey(key: string): Promise<void> {
    const targets = this.targets.get(key) ?? [];
    const fetchJson = this.opts.fetchJson ?? defaultFetchJson;
    const prev = this.latest.get(key) ?? new Map<string, ServerReport>();
    const next = new Map<string, ServerReport>();
    const token = await this.tokenOf(key);
    const timeoutMs = this.opts.timeoutMs ?? 3000;
    // Refused with the current token: a server whose Secret volume is not swapped yet may hold the previous one.
    const read = (url: string) => fetchJson(url, timeoutMs, token?.token).catch((err: unknown) => {
      if (isUnauthorized(err) && token?.previous !== undefined) return fetchJson(url, timeoutMs, token.previous);
      throw err;
    });
    await Promise.all(targets.map(async (t) => {
      const at = new Date(this.opts.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
      try {
        const report = reportFromStatus(await read(t.url), at);
        if (report === undefined) throw new Error('not a server /status document');
        next.set(t.name, report);
      } catch (err) {
        const last = prev.get(t.name);
        const state = isUnauthorized(err) ? 'unauthorized' : 'unreachable';
        // Once per episode (a change of state starts a new one); never the token itself.
        if (last?.state !== state) {
          if (state === 'unauthorized') log.warn('operator.server_status.unauthorized', { key, server: t.name, url: t.url, tokenSent: token !== undefined, hint: token === undefined ? 'the server has a token file but the relationship has no readable sharedSecretRef' : 'the server refused the shared secret: is its mounted Secret another one, or not yet swapped?' });
          else log.info('operator.server_status.unreachable', { key, server: t.name, url: t.url, err: String((err as Error).message ?? err) });
        }
        next.set(t.name, { state, partnerState: null, ...(last?.lastContact !== undefined ? { lastContact: last.lastContact } : {}) });
      }
    }));
    if (!this.targets.has(key)) return; // forgotten meanwhile
    this.latest.set(key, next);
    const changed = next.size !== prev.size || [...next].some(([name, r]) => !sameReport(r, prev.get(name)));
    if (changed) this.opts.onChange(key);
  }

  /** The token, or undefined (polled without one) when it cannot be read; logged once per episode. */
  private async tokenOf(key: string): Promise<RelationshipToken | undefined> {
    try {
      const token = await this.opts.tokenFor?.(key);
      if (this.tokenUnreadable.delete(key)) log.info('operator.server_status.token_read', { key });
      return token;
    } catch (err) {
      if (!this.tokenUnreadable.has(key)) log.warn('operator.server_status.token_unreadable', { key, err: String((err as Error).message ?? err) });
      this.tokenUnreadable.add(key);
      return undefined;
    }
  }
}
