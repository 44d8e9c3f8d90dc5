// `dhcp-failover ctl`: a server's state as an admin reads it in the Windows DHCP console, lease
// lookup, and the failover admin actions — all through the server's admin HTTP API.
import { readFileSync } from 'node:fs';
import { partnerDownNote, type AutoPartnerDownView } from '../failover/runtime/partner-down-note.ts';
import { isIpv4 } from '../net/ipv4.ts';

export const CTL_COMMANDS = ['status', 'lease', 'partner-down', 'resync'] as const;
export const DEFAULT_CTL_SERVER = 'http://127.0.0.1:8067';
/** The bearer token when no --token-file is given. */
export const CTL_TOKEN_ENV = 'DHCP_FAILOVER_TOKEN';

export interface CtlOptions {
  readonly server: string;
  /** File holding the bearer token (server.admin.tokenFile); wins over the environment's DHCP_FAILOVER_TOKEN. */
  readonly tokenFile?: string | undefined;
  /** Where DHCP_FAILOVER_TOKEN is read; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly json: boolean;
  readonly command: string;
  readonly args: readonly string[];
  readonly out: (text: string) => void;
}

/** A failed call with a message an admin can act on; the CLI prints it and exits 1. */
export class CtlError extends Error {}

/** The command line is wrong (unknown command, missing or malformed argument); the CLI exits 2. */
export class CtlUsageError extends CtlError {}

/** `pool` (active leases on pool addresses, not reservations) is absent from older servers. */
interface ScopeStatus { scope: string; poolSize: number; byState: Record<string, number>; pool?: Record<string, number> }
interface StatusJson {
  server: string;
  scopes: ScopeStatus[];
  restartRequiredFor?: string[];
  /** Every relationship of the server (a hub is in several); absent from older servers, which have `failover` alone. */
  relationships?: RelationshipStatus[];
  /** The relationship of a server in exactly one. */
  failover?: RelationshipStatus;
}

interface RelationshipStatus {
    relationship: string; role: string; state: string; stateSince: string; secondsInState: number;
    mode?: { kind: string; splitPercent?: number; reservePercent?: number };
    partner: { state: string | null }; connection: { up: boolean; clockSkewSeconds: number | null };
    updates: { unacked: number; queued: number }; mcltSeconds: number;
    loadBalance?: { primaryPercent: number };
    /** null: no state switchover interval (partner-down only by an administrator); absent: an older server. */
    autoPartnerDown?: AutoPartnerDownView | null;
    /** Free-address ownership handover (address-ownership.ts); null with an ISC partner. */
    poolOwnership?: { scheme: string; held: string[]; settled: boolean } | null;
    /** Which shared secret the link uses during a rotation (secret-rotation.ts); null without one. */
    secret?: { link: 'current' | 'previous' | null; previousAcceptedUntil: string | null } | null;
}

/** The bearer token from --token-file, else DHCP_FAILOVER_TOKEN; undefined = none (loopback or a lab server). */
export function ctlToken(opts: Pick<CtlOptions, 'tokenFile' | 'env'>): string | undefined {
  if (opts.tokenFile) {
    let text: string;
    try { text = readFileSync(opts.tokenFile, 'utf8'); } catch (err) {
      throw new CtlError(`cannot read --token-file ${opts.tokenFile}: ${(err as Error).message}`);
    }
    const token = text.trim();
    if (token === '') throw new CtlError(`--token-file ${opts.tokenFile} is empty`);
    return token;
  }
  const fromEnv = (opts.env ?? process.env)[CTL_TOKEN_ENV]?.trim();
  return fromEnv ? fromEnv : undefined;
}

async function call(opts: CtlOptions, path: string, init: RequestInit = {}): Promise<unknown> {
  const url = new URL(path, opts.server.endsWith('/') ? opts.server : `${opts.server}/`);
  const headers: Record<string, string> = {};
  // Sent with every call: /status and /leases need it too when read from off the server's host.
  const token = ctlToken(opts);
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new CtlError(`cannot reach the server's admin endpoint at ${url.origin} (${(err as Error).cause ? String((err as { cause: Error }).cause.message) : (err as Error).message}); is the server running, and is --server right?`);
  }
  const body = await res.text();
  let parsed: unknown;
  try { parsed = JSON.parse(body); } catch { throw new CtlError(`${url.href} answered ${res.status} with something that is not JSON: ${body.slice(0, 200)}`); }
  if (!res.ok) {
    const hint = res.status !== 401 ? ''
      : token === undefined ? ` (give the token with --token-file FILE or ${CTL_TOKEN_ENV}: the server's admin.tokenFile, in a pod the mounted shared secret)`
        : ` (the token from ${opts.tokenFile ? `--token-file ${opts.tokenFile}` : CTL_TOKEN_ENV} is not the server's admin.tokenFile)`;
    throw new CtlError(`${url.pathname}: ${res.status} ${(parsed as { error?: string }).error ?? body.slice(0, 200)}${hint}`);
  }
  return parsed;
}

const STATE_NAMES = (s: string | null | undefined) => (s ? s.toUpperCase().replace(/-/g, ' ') : 'UNKNOWN');

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
}

function modeText(mode: RelationshipStatus['mode']): string {
  if (!mode) return 'unknown';
  if (mode.kind === 'hot-standby') return `Hot standby (reserve ${mode.reservePercent ?? '?'}% on the standby)`;
  return `Load balance (${mode.splitPercent ?? '?'}% / ${100 - (mode.splitPercent ?? 0)}%)`;
}

/** Pure: the status page as text. */
export function formatStatus(s: StatusJson, server: string): string {
  const lines = [`Server              ${s.server} (${server})`];
  const relationships = s.relationships ?? (s.failover ? [s.failover] : []);
  for (const f of relationships) {
    if (relationships.length > 1) lines.push('');
    lines.push(
      `Relationship        ${f.relationship} (this server is ${f.role})`,
      `Mode                ${modeText(f.mode)}`,
      `State of server     ${STATE_NAMES(f.state)} for ${duration(f.secondsInState)} (since ${f.stateSince})`,
      `State of partner    ${f.connection.up ? STATE_NAMES(f.partner.state) : 'UNKNOWN (not connected)'}`,
      `Connection          ${f.connection.up ? 'up' : 'down'}${f.connection.clockSkewSeconds !== null ? `, clock skew ${f.connection.clockSkewSeconds} s` : ''}`,
      `MCLT                ${duration(f.mcltSeconds)}`,
      `Unacked updates     ${f.updates.unacked} (queued ${f.updates.queued})`,
    );
    // The secondary answers by the primary's split, which may differ from its own config until it reconnects.
    if (f.loadBalance !== undefined && f.mode?.kind === 'load-balance') {
      lines.push(`Split in force      ${f.loadBalance.primaryPercent}% primary / ${100 - f.loadBalance.primaryPercent}% secondary (hash buckets)`);
    }
    // What COMMUNICATIONS-INTERRUPTED leads to, in the operator's Degraded words (failover/partner-down-note.ts).
    const note = f.state === 'communications-interrupted' ? partnerDownNote(f.autoPartnerDown) : '';
    if (note !== '') lines.push(`Partner-down        ${note}`);
    const po = f.poolOwnership;
    if (po && !po.settled) lines.push(`Pool ownership      handing over: ${po.held.length} earlier layout(s) still honoured until the partner confirms this one (${po.scheme.slice(0, 8)})`);
    if (f.secret?.link === 'previous' || (f.secret?.previousAcceptedUntil ?? null) !== null) {
      lines.push(`Shared secret       rotation in progress: link on the ${f.secret?.link ?? 'no'} secret; previous accepted until ${f.secret?.previousAcceptedUntil ?? '-'}`);
    }
  }
  if (s.restartRequiredFor !== undefined && s.restartRequiredFor.length > 0) {
    lines.push(`Restart required    ${s.restartRequiredFor.join(', ')} changed in the config file; running with the old values`);
  }
  if (relationships.length === 0) {
    lines.push('Relationship        none (standalone server)');
  }
  lines.push('', pad(['Scope', 'Pool', 'Active', 'Expired', 'Released', 'Abandoned', 'In use']));
  for (const sc of s.scopes) {
    const n = (k: string) => sc.byState[k] ?? 0;
    const used = sc.poolSize ? `${(((sc.pool?.active ?? n('active')) / sc.poolSize) * 100).toFixed(1)}%` : '-';
    lines.push(pad([sc.scope, String(sc.poolSize), String(n('active')), String(n('expired')), String(n('released')), String(n('abandoned')), used]));
  }
  return lines.join('\n') + '\n';
}

function pad(cols: string[]): string {
  return cols.map((c, i) => (i === 0 ? c.padEnd(20) : c.padStart(10))).join('');
}

export async function runCtl(opts: CtlOptions): Promise<number> {
  const print = (value: unknown, text: () => string) => opts.out(opts.json ? JSON.stringify(value, null, 2) + '\n' : text());
  switch (opts.command) {
    case 'status': {
      const s = (await call(opts, 'status')) as StatusJson;
      print(s, () => formatStatus(s, opts.server));
      return 0;
    }
    case 'lease': {
      const key = opts.args[0];
      if (!key) throw new CtlUsageError('lease needs an IP address or a MAC address');
      const isMac = /^([0-9a-f]{2}[:-]?){5}[0-9a-f]{2}$/i.test(key);
      if (!isIpv4(key) && !isMac) throw new CtlUsageError(`${JSON.stringify(key)} is neither an IPv4 address nor a MAC address`);
      const found = await call(opts, isMac ? `leases?mac=${encodeURIComponent(key)}` : `leases?ip=${key}`);
      const leases = isMac ? (found as { leases: Record<string, unknown>[] }).leases : [found as Record<string, unknown>];
      if (isMac && leases.length === 0) throw new CtlError(`no lease for ${key}`);
      print(found, () => leases.map((l) => Object.entries(l).map(([k, v]) => `${k.padEnd(12)}${String(v)}`).join('\n')).join('\n\n') + '\n');
      return 0;
    }
    case 'partner-down': case 'resync': {
      // A server in several relationships needs the one to act on: `ctl partner-down RELATIONSHIP`.
      const relationship = opts.args[0];
      const result = await call(opts, `failover/${opts.command}${relationship !== undefined ? `?relationship=${encodeURIComponent(relationship)}` : ''}`, { method: 'POST' });
      print(result, () => `${opts.command}: done; state now ${STATE_NAMES((result as { status?: { state?: string } }).status?.state)}\n`);
      return 0;
    }
    default:
      throw new CtlUsageError(`unknown command ${JSON.stringify(opts.command)} (${CTL_COMMANDS.join(', ')})`);
  }
}
