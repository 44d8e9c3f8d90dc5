// One managed server's config file (the server contract: src/config/schema.ts, docs/config.md) from
// the relationship and its scopes. Pure.
import type { RawConfig, RawScope } from '../../config/schema.ts';
import { FAILOVER_DEFAULTS } from '../../config/failover.ts';
import { ANNOTATIONS, PATHS, PORTS, type DhcpFailoverRelationship, type DhcpScope, type RelationshipServer, type RenderOptions } from './types.ts';

/** CRD defaults the API server applies; repeated here so offline rendering (no API server) agrees. */
export const CRD_DEFAULTS = { mcltSeconds: 3600, port: 647, secretKey: 'secret', redisSize: '1Gi', appendfsync: 'always' } as const;
/** Defaults the CRD leaves to the operator (docs/crds.md). */
export const OPERATOR_DEFAULTS = { loadBalancePercent: 50, reservePercent: 5 } as const;

/**
 * The failover primary. loadBalance: servers[0] (docs/crds.md). hotStandby: the active server, because the
 * server's failover config makes the primary the one answering clients (src/config/failover.ts).
 */
export function primaryIndex(rel: DhcpFailoverRelationship): 0 | 1 {
  const { spec } = rel;
  if (spec.mode === 'hotStandby' && spec.activeServer !== undefined && spec.servers[1]?.name === spec.activeServer) return 1;
  return 0;
}

export function secretKey(rel: DhcpFailoverRelationship): string {
  return rel.spec.sharedSecretRef?.key ?? CRD_DEFAULTS.secretKey;
}

export function secretFilePath(rel: DhcpFailoverRelationship): string | undefined {
  return rel.spec.sharedSecretRef ? `${PATHS.secretDir}/${secretKey(rel)}` : undefined;
}

/** The scopes served by this relationship, sorted by name (stable output). */
export function scopesOf(rel: DhcpFailoverRelationship, scopes: readonly DhcpScope[]): DhcpScope[] {
  return scopes
    .filter((s) => s.metadata.namespace === rel.metadata.namespace && s.spec?.relationshipRef?.name === rel.metadata.name)
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}

export function renderScope(scope: DhcpScope): RawScope {
  const { spec } = scope;
  const out: RawScope = { name: scope.metadata.name, subnet: spec.subnet, ranges: spec.ranges.map((r) => ({ start: r.start, end: r.end })) };
  if (spec.exclusions !== undefined) out.exclusions = spec.exclusions.map((r) => ({ start: r.start, end: r.end }));
  if (spec.reservations !== undefined) out.reservations = structuredClone(spec.reservations);
  if (spec.options !== undefined) out.options = structuredClone(spec.options);
  if (spec.leaseSeconds !== undefined) out.leaseSeconds = spec.leaseSeconds;
  if (spec.active !== undefined) out.active = spec.active;
  return out;
}

function failoverSection(rel: DhcpFailoverRelationship, index: 0 | 1): Record<string, unknown> {
  const { spec } = rel;
  const self = spec.servers[index] as RelationshipServer;
  const partner = spec.servers[index === 0 ? 1 : 0] as RelationshipServer;
  const port = spec.port ?? CRD_DEFAULTS.port;
  const out: Record<string, unknown> = {
    relationship: rel.metadata.name,
    role: index === primaryIndex(rel) ? 'primary' : 'secondary',
    address: self.address,
    port,
    partner: { address: partner.address, port },
    mode: spec.mode === 'hotStandby' ? 'hot-standby' : 'load-balance',
  };
  if (spec.mode === 'loadBalance') out.splitPercent = spec.loadBalancePercent ?? OPERATOR_DEFAULTS.loadBalancePercent;
  else out.reservePercent = spec.reservePercent ?? OPERATOR_DEFAULTS.reservePercent;
  out.mcltSeconds = spec.mcltSeconds ?? CRD_DEFAULTS.mcltSeconds;
  if (spec.stateSwitchoverSeconds !== undefined) out.stateSwitchoverSeconds = spec.stateSwitchoverSeconds;
  const file = secretFilePath(rel);
  // ISC dhcpd never sends or checks a digest (src/config/failover.ts rejects a secret with isc).
  if (file !== undefined && spec.partnerDialect !== 'isc') out.sharedSecretFile = file;
  out.partnerDialect = spec.partnerDialect ?? FAILOVER_DEFAULTS.partnerDialect;
  return out;
}

/** The relationship carries the allow-empty-scopes annotation set to "true". */
export function allowsEmptyScopes(rel: DhcpFailoverRelationship): boolean {
  return rel.metadata.annotations?.[ANNOTATIONS.allowEmptyScopes] === 'true';
}

/** The config file of `spec.servers[index]` (a managed server). */
export function renderServerConfig(rel: DhcpFailoverRelationship, index: 0 | 1, scopes: readonly DhcpScope[], opts: RenderOptions): RawConfig {
  const server = rel.spec.servers[index] as RelationshipServer;
  const file = secretFilePath(rel);
  // No Redis password: the socket is the access control (server-statefulset.ts). A password taken from the
  // shared secret made a rotated Secret lock a restarted server out of its own Redis.
  const store: NonNullable<RawConfig['server']['store']> = { type: 'redis', path: PATHS.redisSocket, keyPrefix: `dhcp:${rel.metadata.name}:` };
  return {
    server: {
      name: server.name,
      serverId: server.address,
      listen: { address: '0.0.0.0', port: PORTS.dhcp, interfaces: [...(server.interfaces ?? [])] },
      // The shared secret is also the bearer token of the admin actions the operator triggers (admin-actions.ts).
      admin: { address: '0.0.0.0', port: PORTS.admin, ...(file !== undefined ? { tokenFile: file } : {}) },
      store,
      logLevel: opts.logLevel,
    },
    scopes: scopesOf(rel, scopes).map(renderScope),
    // Only an admin's explicit word lets a server drop its last scope (docs/operator.md): never the operator's.
    ...(allowsEmptyScopes(rel) ? { allowEmptyScopes: true } : {}),
    failover: failoverSection(rel, index),
  };
}
