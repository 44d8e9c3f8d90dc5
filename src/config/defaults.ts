// Every default and every bound of the server config in one table (docs/config.md repeats it).
// validate.ts reads only from here, so a default is changed in exactly one place.
import type { LimitsConfig } from './schema.ts';

export const DEFAULTS = {
  /** All IPv4 interfaces: a DHCP server usually serves the host's LAN(s). */
  listenAddress: '0.0.0.0',
  /** RFC 2131 server port; needs CAP_NET_BIND_SERVICE (or root). */
  listenPort: 67,
  /**
   * All interfaces, because kubelet probes and Prometheus reach the pod on its pod IP. The admin
   * endpoint is read-only (/healthz /readyz /metrics /status). 8067 echoes 67 and is unprivileged.
   */
  adminAddress: '0.0.0.0',
  adminPort: 8067,
  storeType: 'memory',
  /** Prefix of every Redis key this server writes; lets two relationships share one Redis. */
  redisKeyPrefix: 'dhcp:',
  /**
   * 24 h, as ISC dhcpd's `abandon-lease-time`: a DECLINE means another host uses the address,
   * so it is set aside long enough for an operator to notice, not forever.
   */
  declineHoldSeconds: 86_400,
  /**
   * 30 s. A client that took our OFFER sends its REQUEST within a second or two; a client that
   * lost it retransmits DISCOVER after 4, 8, 16 s (RFC 2131 4.1), so 30 s covers the slowest
   * normal exchange while an unanswered OFFER does not hold a small pool for long.
   */
  offerHoldSeconds: 30,
  /**
   * 1 h. Shorter than ISC's 12 h or Windows' 8 days on purpose: with failover, a lease granted
   * during partner-down is bounded by MCLT anyway, and short leases let a renumbered or shrunk
   * scope converge within an hour.
   */
  leaseSeconds: 3_600,
  scopeActive: true,
  /**
   * false: a reload to an empty scope list is refused while scopes are served. A renderer that writes
   * `scopes: []` before it has read its inputs would otherwise stop both servers of a pair at once.
   */
  allowEmptyScopes: false,
  logLevel: 'info',
} as const;

/** Inclusive bounds checked by validate.ts. */
export const BOUNDS = {
  port: { min: 1, max: 65_535 },
  /** Below 60 s clients renew (T1 = lease/2) more often than every 30 s. 1 year at most. */
  leaseSeconds: { min: 60, max: 31_536_000 },
  declineHoldSeconds: { min: 1, max: 31_536_000 },
  offerHoldSeconds: { min: 1, max: 300 },
  /** /8 is the largest sane broadcast domain; /31 and /32 have no room for a pool with a broadcast address. */
  subnetPrefix: { min: 8, max: 30 },
  /** RFC 2132 9.14: a client identifier is at least 2 bytes (type + 1). */
  clientIdBytes: { min: 2, max: 255 },
} as const;

/** `server.limits` (applied by src/dhcp/admission.ts). */
export const LIMITS_DEFAULTS: LimitsConfig = {
  // A real client sends a handful of messages per exchange; 10/s with a burst of 20 never limits one.
  clientRatePerSecond: 10, clientBurst: 20,
  // Off by default: one relay may front thousands of clients. Set it per site (see docs/config.md).
  relayRatePerSecond: 0, relayBurst: 0,
  maxInFlight: 1024, maxQueue: 4096, maxQueueAgeMs: 2000,
};

export const LIMITS_BOUNDS: Record<keyof LimitsConfig, { readonly min: number; readonly max: number }> = {
  clientRatePerSecond: { min: 0, max: 100_000 }, clientBurst: { min: 0, max: 1_000_000 },
  relayRatePerSecond: { min: 0, max: 1_000_000 }, relayBurst: { min: 0, max: 10_000_000 },
  maxInFlight: { min: 1, max: 100_000 }, maxQueue: { min: 1, max: 1_000_000 }, maxQueueAgeMs: { min: 10, max: 60_000 },
};

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const STORE_TYPES = ['memory', 'redis'] as const;

/** Names of servers and scopes end up in metric labels, Redis keys and Kubernetes object names. */
export const NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
