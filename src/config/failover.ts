// The `failover` section of the server config: one relationship per server. Pure validation that
// reports every problem with its path (`failover.partner.address: not an IPv4 address`), defaults
// from one table. validate.ts calls `validateFailover`; the runtime reads `FailoverConfig`.
import type { ConfigProblem } from '../errors.ts';
import { parseIpv4 } from '../net/ipv4.ts';

export const FAILOVER_DEFAULTS = {
  /** IANA failover port (digest §1.1), on both sides. */
  port: 647,
  splitPercent: 50,
  /** MS-ADM hot-standby reserve default (digest §7.3). */
  reservePercent: 5,
  /** ISC's suggestion and the Windows default (digest §6.8). */
  mcltSeconds: 3600,
  /** D12 says ≥1, SHOULD be 10..100; matches the ISC lab example (digest §10.4). */
  maxUnackedUpdates: 10,
  /** Seconds of silence before the link is declared dead (ISC max-response-delay; lab example 30). */
  maxResponseDelaySeconds: 30,
  partnerDialect: 'self',
  /** ISC man page recommends 3 or 5 (digest §8.4). */
  loadBalanceMaxSeconds: 3,
  /** ISC's STARTUP lasts 15 s (digest §4.5). */
  startupSeconds: 15,
} as const;

export const FAILOVER_BOUNDS = {
  port: { min: 1, max: 65_535 },
  percent: { min: 0, max: 100 },
  /** The server's bounds (the CRD is stricter: MCLT >= 60, switchover >= 10); MS: MCLT cannot be 0. Short values are for labs and tests. */
  mcltSeconds: { min: 1, max: 2_592_000 },
  stateSwitchoverSeconds: { min: 1, max: 2_592_000 },
  maxUnackedUpdates: { min: 1, max: 1000 },
  maxResponseDelaySeconds: { min: 1, max: 3600 },
  loadBalanceMaxSeconds: { min: 0, max: 65_535 },
  startupSeconds: { min: 0, max: 3600 },
  /** MS: relationship name ≤ 126 characters (digest §9.4). */
  relationshipChars: { min: 1, max: 126 },
} as const;

export type FailoverMode = 'load-balance' | 'hot-standby';
/** `self` = our own server on both ends (draft reading); `isc` / `ms` = a foreign partner. */
export type PartnerDialect = 'isc' | 'ms' | 'self';

export interface FailoverConfig {
  readonly relationship: string;
  readonly role: 'primary' | 'secondary';
  /** Own failover address: we listen here and connect from here. */
  readonly address: string;
  readonly port: number;
  readonly partner: { readonly address: string; readonly port: number };
  readonly mode: FailoverMode;
  /** load-balance: percent of clients (hash buckets) the primary serves. hot-standby: 100. */
  readonly splitPercent: number;
  /** hot-standby: percent of each pool's free addresses the standby (secondary) owns. */
  readonly reservePercent: number;
  readonly mcltSeconds: number;
  /** Automatic COMM-INT → PARTNER-DOWN after this long; undefined = manual only (invariant 20). */
  readonly stateSwitchoverSeconds?: number | undefined;
  readonly maxUnackedUpdates: number;
  readonly maxResponseDelaySeconds: number;
  readonly sharedSecret?: string | undefined;
  /** Read at start and watched while running (a mounted Secret; server-command.ts), so validation stays pure. */
  readonly sharedSecretFile?: string | undefined;
  readonly partnerDialect: PartnerDialect;
  readonly loadBalanceMaxSeconds: number;
  readonly startupSeconds: number;
}

const KEYS = [
  'relationship', 'role', 'address', 'port', 'partner', 'mode', 'splitPercent', 'reservePercent', 'mcltSeconds',
  'stateSwitchoverSeconds', 'maxUnackedUpdates', 'maxResponseDelaySeconds', 'sharedSecret', 'sharedSecretFile',
  'partnerDialect', 'loadBalanceMaxSeconds', 'startupSeconds',
] as const;
const PARTNER_KEYS = ['address', 'port'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`);

/** Validates `raw` (the YAML value of `failover`); problems carry paths under `path`. */
export function validateFailover(raw: unknown, path = 'failover'): { config?: FailoverConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const add = (key: string, message: string): void => { problems.push({ path: key ? `${path}.${key}` : path, message }); };
  if (!isObj(raw)) { add('', `expected a mapping, got ${describe(raw)}`); return { problems }; }
  for (const k of Object.keys(raw)) if (!(KEYS as readonly string[]).includes(k)) add(k, `unknown key; allowed: ${KEYS.join(', ')}`);

  const str = (obj: Obj, key: string, label: string, required: boolean): string | undefined => {
    const v = obj[key];
    if (v === undefined || v === null) { if (required) add(label, 'required'); return undefined; }
    if (typeof v !== 'string') { add(label, `expected a string, got ${describe(v)}`); return undefined; }
    if (v.trim() === '') { add(label, 'must not be empty'); return undefined; }
    return v;
  };
  const int = (obj: Obj, key: string, label: string, b: { min: number; max: number }, fallback: number | undefined): number | undefined => {
    const v = obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v)) { add(label, `expected an integer, got ${describe(v)}`); return fallback; }
    if (v < b.min || v > b.max) { add(label, `${v} is out of range ${b.min}..${b.max}`); return fallback; }
    return v;
  };
  const ip = (obj: Obj, key: string, label: string): string | undefined => {
    const t = str(obj, key, label, true);
    if (t === undefined) return undefined;
    try { parseIpv4(t.trim()); return t.trim(); } catch { add(label, `not an IPv4 address: ${JSON.stringify(t)}`); return undefined; }
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[], fallback: T | undefined): T | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) { if (fallback === undefined) add(key, 'required'); return fallback; }
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) { add(key, `must be one of ${allowed.join(', ')}, got ${describe(v)}`); return undefined; }
    return v as T;
  };

  const relationship = str(raw, 'relationship', 'relationship', true);
  if (relationship !== undefined && relationship.length > FAILOVER_BOUNDS.relationshipChars.max) add('relationship', `at most ${FAILOVER_BOUNDS.relationshipChars.max} characters`);
  const role = oneOf('role', ['primary', 'secondary'] as const, undefined);
  const address = ip(raw, 'address', 'address');
  const port = int(raw, 'port', 'port', FAILOVER_BOUNDS.port, FAILOVER_DEFAULTS.port)!;
  let partner: FailoverConfig['partner'] | undefined;
  if (raw.partner === undefined || raw.partner === null) add('partner', 'required');
  else if (!isObj(raw.partner)) add('partner', `expected a mapping, got ${describe(raw.partner)}`);
  else {
    const po = raw.partner;
    for (const k of Object.keys(po)) if (!(PARTNER_KEYS as readonly string[]).includes(k)) add(`partner.${k}`, `unknown key; allowed: ${PARTNER_KEYS.join(', ')}`);
    const pa = ip(po, 'address', 'partner.address');
    const pp = int(po, 'port', 'partner.port', FAILOVER_BOUNDS.port, FAILOVER_DEFAULTS.port)!;
    if (pa !== undefined) partner = { address: pa, port: pp };
  }
  if (address !== undefined && partner !== undefined && address === partner.address && port === partner.port) {
    add('partner', 'the partner cannot be this server (same address and port)');
  }
  const mode = oneOf('mode', ['load-balance', 'hot-standby'] as const, undefined);
  if (mode === 'hot-standby' && raw.splitPercent !== undefined) add('splitPercent', 'load-balance only (hot-standby: the primary is active and serves every client)');
  if (mode === 'load-balance' && raw.reservePercent !== undefined) add('reservePercent', 'hot-standby only (load-balance splits each pool by splitPercent)');
  const split = int(raw, 'splitPercent', 'splitPercent', FAILOVER_BOUNDS.percent, FAILOVER_DEFAULTS.splitPercent)!;
  const reservePercent = int(raw, 'reservePercent', 'reservePercent', FAILOVER_BOUNDS.percent, FAILOVER_DEFAULTS.reservePercent)!;
  const mcltSeconds = int(raw, 'mcltSeconds', 'mcltSeconds', FAILOVER_BOUNDS.mcltSeconds, FAILOVER_DEFAULTS.mcltSeconds)!;
  const stateSwitchoverSeconds = int(raw, 'stateSwitchoverSeconds', 'stateSwitchoverSeconds', FAILOVER_BOUNDS.stateSwitchoverSeconds, undefined);
  const maxUnackedUpdates = int(raw, 'maxUnackedUpdates', 'maxUnackedUpdates', FAILOVER_BOUNDS.maxUnackedUpdates, FAILOVER_DEFAULTS.maxUnackedUpdates)!;
  const maxResponseDelaySeconds = int(raw, 'maxResponseDelaySeconds', 'maxResponseDelaySeconds', FAILOVER_BOUNDS.maxResponseDelaySeconds, FAILOVER_DEFAULTS.maxResponseDelaySeconds)!;
  const loadBalanceMaxSeconds = int(raw, 'loadBalanceMaxSeconds', 'loadBalanceMaxSeconds', FAILOVER_BOUNDS.loadBalanceMaxSeconds, FAILOVER_DEFAULTS.loadBalanceMaxSeconds)!;
  const startupSeconds = int(raw, 'startupSeconds', 'startupSeconds', FAILOVER_BOUNDS.startupSeconds, FAILOVER_DEFAULTS.startupSeconds)!;
  const sharedSecret = str(raw, 'sharedSecret', 'sharedSecret', false);
  const sharedSecretFile = str(raw, 'sharedSecretFile', 'sharedSecretFile', false);
  if (sharedSecret !== undefined && sharedSecretFile !== undefined) add('sharedSecretFile', 'give sharedSecret or sharedSecretFile, not both');
  const partnerDialect = oneOf('partnerDialect', ['isc', 'ms', 'self'] as const, FAILOVER_DEFAULTS.partnerDialect);
  if (partnerDialect === 'isc' && (sharedSecret !== undefined || sharedSecretFile !== undefined)) {
    add('sharedSecret', 'ISC dhcpd never sends or checks a message digest (digest §9.1): a secret would make every ISC message fail authentication');
  }
  if (partnerDialect === 'isc' && role === 'secondary' && raw.mcltSeconds !== undefined) {
    // Not an error: the secondary adopts the primary's MCLT from CONNECT (invariant 11); the value is only the start-up default.
  }

  if (problems.length > 0 || relationship === undefined || role === undefined || address === undefined || partner === undefined
      || mode === undefined || partnerDialect === undefined) {
    return { problems };
  }
  return {
    problems,
    config: {
      relationship, role, address, port, partner, mode,
      splitPercent: mode === 'hot-standby' ? 100 : split,
      reservePercent: mode === 'hot-standby' ? reservePercent : 0,
      mcltSeconds, stateSwitchoverSeconds, maxUnackedUpdates, maxResponseDelaySeconds,
      sharedSecret, sharedSecretFile, partnerDialect, loadBalanceMaxSeconds, startupSeconds,
    },
  };
}
