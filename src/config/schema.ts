// The server's config: the contract between operator (which renders it into a ConfigMap) and
// server. `RawConfig` is what the YAML file holds; `Config` is the validated, frozen form the
// server runs on (addresses parsed, defaults applied). docs/config.md documents every field.
import type { Cidr, Ipv4 } from '../net/ipv4.ts';
import type { FailoverConfig } from './failover.ts';

export type { FailoverConfig };

/** Option values as written in YAML, keyed by option name ("routers", "domain-name-servers", ...). */
export type RawOptionValues = Record<string, unknown>;

export interface RawConfig {
  server: {
    name: string;
    /** Address put in option 54 and used as the reply source; defaults to the first listen address. */
    serverId?: string;
    listen?: { address?: string; port?: number; interfaces?: string[] };
    /** tokenFile: bearer token required by the admin actions (POST /failover/…); without it they are loopback-only. */
    admin?: { address?: string; port?: number; tokenFile?: string };
    store?: { type: 'memory' } | { type: 'redis'; url?: string; path?: string; password?: string; passwordFile?: string; keyPrefix?: string };
    /** How long a DECLINEd address is set aside (abandoned) before it may be offered again. */
    declineHoldSeconds?: number;
    /** How long an OFFERed address is held for the client before it may be offered to another. */
    offerHoldSeconds?: number;
    logLevel?: 'debug' | 'info' | 'warn' | 'error';
    /** Rate limits and overload shedding at the UDP edge (src/dhcp/admission.ts). */
    limits?: Record<string, number>;
  };
  scopes?: RawScope[];
  /** A reload that empties `scopes` is refused (reload-guard.ts) unless the new file sets this. */
  allowEmptyScopes?: boolean;
  /**
   * The failover relationships (src/config/relationships.ts): one mapping (one relationship), or a list
   * of them (one server in several relationships); absent or `[]` = no failover.
   */
  failover?: Record<string, unknown> | Record<string, unknown>[];
}

export interface RawScope {
  name: string;
  subnet: string;
  ranges: { start: string; end: string }[];
  exclusions?: { start: string; end: string }[];
  reservations?: { ip: string; hwAddress?: string; clientId?: string; hostname?: string; options?: RawOptionValues }[];
  options?: RawOptionValues;
  leaseSeconds?: number;
  active?: boolean;
  /** Direct (non-relayed) clients arriving on this interface are served from this scope. */
  interface?: string;
  /**
   * The relationship whose failover rules serve this scope, or `none` (this server alone, no failover).
   * Optional with at most one relationship, required with two or more (src/config/relationships.ts).
   */
  relationship?: string;
}

export interface IpRange { readonly start: Ipv4; readonly end: Ipv4 }

export interface Reservation {
  readonly ip: Ipv4;
  /** "htype:hex" as in Lease.hw (hwAddress "aa:bb:cc:dd:ee:ff" becomes "1:aabbccddeeff"). */
  readonly hw?: string;
  /** Lowercase hex of option 61. */
  readonly clientId?: string;
  readonly hostname?: string;
  /** Encoded option payloads by code. */
  readonly options: ReadonlyMap<number, Buffer>;
}

export interface Scope {
  readonly name: string;
  readonly subnet: Cidr;
  readonly ranges: readonly IpRange[];
  readonly exclusions: readonly IpRange[];
  readonly reservations: readonly Reservation[];
  /** Encoded option payloads by code (subnet mask and broadcast address are filled in from `subnet`). */
  readonly options: ReadonlyMap<number, Buffer>;
  readonly leaseSeconds: number;
  readonly active: boolean;
  readonly interface?: string;
  /**
   * The name of the relationship (`Config.relationships[].relationship`) whose failover rules serve this
   * scope; undefined = a standalone scope, served by this server alone with no failover.
   */
  readonly relationship?: string;
}

export type StoreConfig =
  | { readonly type: 'memory' }
  | {
    readonly type: 'redis'; readonly url?: string; readonly path?: string; readonly password?: string;
    /** Read when connecting (a mounted Secret), so validation stays pure and a rotated password is picked up. */
    readonly passwordFile?: string;
    readonly keyPrefix: string;
  };

/** `server.limits`: rate limits and overload shedding at the UDP edge, applied by src/dhcp/admission.ts. */
export interface LimitsConfig {
  /** Messages per second one client (client id or MAC) may send; 0 = unlimited. */
  readonly clientRatePerSecond: number;
  readonly clientBurst: number;
  /** Messages per second one relay (giaddr), or all directly attached clients together, may send; 0 = unlimited. */
  readonly relayRatePerSecond: number;
  readonly relayBurst: number;
  /** Packets handled at once (waiting for the lease store); more wait in the queue. */
  readonly maxInFlight: number;
  /** Waiting packets; when full the oldest is dropped. */
  readonly maxQueue: number;
  /** A packet that waited longer is dropped unanswered (the client retransmits anyway). */
  readonly maxQueueAgeMs: number;
}

export interface ServerConfig {
  readonly name: string;
  readonly serverId: Ipv4;
  readonly listen: { readonly address: string; readonly port: number; readonly interfaces: readonly string[] };
  readonly admin: { readonly address: string; readonly port: number; readonly tokenFile?: string };
  readonly store: StoreConfig;
  readonly declineHoldSeconds: number;
  readonly offerHoldSeconds: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly limits: LimitsConfig;
}

export interface Config {
  readonly server: ServerConfig;
  readonly scopes: readonly Scope[];
  /**
   * This file's scope list may be empty even when the running config serves scopes: without it a
   * reload to an empty list is refused (src/config/reload-guard.ts). Says nothing at first start.
   */
  readonly allowEmptyScopes: boolean;
  /**
   * This server's failover relationships, in file order, each validated by src/config/failover.ts and
   * checked against the others by src/config/relationships.ts; empty = no failover. Names and partner
   * addresses are unique; several may share one listener (the same address and port).
   */
  readonly relationships: readonly FailoverConfig[];
}
