// What the servers themselves report, for the relationship's status: each managed server's /status is
// polled (its fixed address, the admin port) and boiled down to the fields the CR shows. A change
// enqueues the relationship; the reconcile then writes status only if it differs. Polling is the
// edge; `reportFromStatus` is pure.
import type { Clock } from '../clock.ts';
import { log } from '../log.ts';

export interface ServerReport {
  /** Own failover state ('unreachable' when /status could not be read). */
  readonly state: string;
  /** The partner's state as this server last heard it (null while not connected). */
  readonly partnerState: string | null;
  /** Active leases over every scope. */
  readonly leases?: number;
  /** Last successful read of /status (ISO), kept across failed reads. */
  readonly lastContact?: string;
}

type Json = Record<string, unknown>;

/** The CR-facing summary of one /status document; undefined when it is not a server's status. */
export function reportFromStatus(json: unknown, at: string): ServerReport | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  const doc = json as Json;
  const failover = doc.failover as Json | undefined;
  const state = typeof failover?.state === 'string' ? failover.state : failover === undefined ? 'standalone' : undefined;
  if (state === undefined) return undefined;
  const partner = (failover?.partner as Json | undefined)?.state;
  let leases: number | undefined;
  if (Array.isArray(doc.scopes)) {
    leases = 0;
    for (const s of doc.scopes as Json[]) {
      const active = (s?.byState as Json | undefined)?.active;
      if (typeof active === 'number') leases += active;
    }
  }
  return { state, partnerState: typeof partner === 'string' ? partner : null, ...(leases !== undefined ? { leases } : {}), lastContact: at };
}

/** Two reports differ in what the CR shows (lastContact alone is refreshed by the reconcile's heartbeat rule). */
export function sameReport(a: ServerReport | undefined, b: ServerReport | undefined): boolean {
  return a?.state === b?.state && a?.partnerState === b?.partnerState && a?.leases === b?.leases;
}

export interface StatusTarget { readonly name: string; readonly url: string }

export interface PollerOptions {
  readonly clock: Clock;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  /** Called with the relationship key when a report changed. */
  readonly onChange: (key: string) => void;
  /** For tests: how a document is fetched. */
  readonly fetchJson?: (url: string, timeoutMs: number) => Promise<unknown>;
}

async function defaultFetchJson(url: string, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

/** Polls every watched relationship's servers, one round at a time (bounded: one request per server per interval). */
export class ServerStatusPoller {
  private readonly opts: PollerOptions;
  private readonly targets = new Map<string, readonly StatusTarget[]>();
  private readonly latest = new Map<string, Map<string, ServerReport>>();
  private timer: { cancel(): void } | undefined;
  private running = false;

  constructor(opts: PollerOptions) { this.opts = opts; }

  /** Sets the servers polled for `key` (a relationship); polls them at once if they are new. */
  watch(key: string, targets: readonly StatusTarget[]): void {
    const before = JSON.stringify(this.targets.get(key) ?? []);
    this.targets.set(key, targets);
    if (before !== JSON.stringify(targets) && this.running) void this.pollKey(key);
  }

  forget(key: string): void { this.targets.delete(key); this.latest.delete(key); }

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
    await Promise.all(targets.map(async (t) => {
      const at = new Date(this.opts.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
      try {
        const report = reportFromStatus(await fetchJson(t.url, this.opts.timeoutMs ?? 3000), at);
        if (report === undefined) throw new Error('not a server /status document');
        next.set(t.name, report);
      } catch (err) {
        const last = prev.get(t.name);
        if (last?.state !== 'unreachable') log.info('operator.server_status.unreachable', { key, server: t.name, url: t.url, err: String((err as Error).message ?? err) });
        next.set(t.name, { state: 'unreachable', partnerState: null, ...(last?.lastContact !== undefined ? { lastContact: last.lastContact } : {}) });
      }
    }));
    if (!this.targets.has(key)) return; // forgotten meanwhile
    this.latest.set(key, next);
    const changed = next.size !== prev.size || [...next].some(([name, r]) => !sameReport(r, prev.get(name)));
    if (changed) this.opts.onChange(key);
  }
}
