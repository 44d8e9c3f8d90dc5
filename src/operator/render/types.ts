// The custom resources as the operator reads them (crds/, docs/crds.md) and the names, labels and
// paths shared by every renderer. Types only plus constants: no logic.

export const GROUP = 'dhcp.failover.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const RELATIONSHIP_KIND = 'DhcpFailoverRelationship';
export const RELATIONSHIP_PLURAL = 'dhcpfailoverrelationships';
export const SCOPE_KIND = 'DhcpScope';
export const SCOPE_PLURAL = 'dhcpscopes';

export const FIELD_MANAGER = 'dhcp-failover-operator';

export const LABELS = {
  partOf: 'app.kubernetes.io/part-of',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  instance: 'app.kubernetes.io/instance',
  relationship: `${GROUP}/relationship`,
  server: `${GROUP}/server`,
} as const;

export const LABEL_VALUES = { partOf: 'dhcp-failover', component: 'dhcp-server', managedBy: FIELD_MANAGER } as const;

export const ANNOTATIONS = {
  /** Hash of everything the rendered objects depend on; reconcile skips the apply when it is unchanged. */
  inputHash: `${GROUP}/input-hash`,
  /** On the pod template: hash of the restart-only part of the server config (server + failover sections). */
  restartHash: `${GROUP}/restart-hash`,
  /** On a StatefulSet: hash of its pod template; a different one means applying it restarts the pod (rollout.ts). */
  templateHash: `${GROUP}/template-hash`,
  /** On the relationship, set by an admin to the name of a server: force it to PARTNER-DOWN, once (admin-actions.ts). */
  forcePartnerDown: `${GROUP}/force-partner-down`,
  /** On the relationship, set to a server name: that server asks its partner for every binding again, once. */
  forceResync: `${GROUP}/force-resync`,
  /**
   * On the relationship, "true": the servers may really be left with no scope (their configs say
   * allowEmptyScopes). Without it a server refuses a config that drops its last scope and keeps serving.
   */
  allowEmptyScopes: `${GROUP}/allow-empty-scopes`,
} as const;

/** Paths inside the server pod. */
export const PATHS = {
  configDir: '/etc/dhcp-failover',
  configFile: '/etc/dhcp-failover/config.yaml',
  secretDir: '/var/run/secrets/dhcp-failover',
  redisSocketDir: '/var/run/dhcp-redis',
  redisSocket: '/var/run/dhcp-redis/redis.sock',
  redisData: '/data',
} as const;

export const PORTS = { dhcp: 67, admin: 8067 } as const;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RelationshipServer {
  name: string;
  address: string;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  interfaces?: string[];
  external?: boolean;
}

export interface RelationshipSpec {
  mode: 'loadBalance' | 'hotStandby';
  servers: RelationshipServer[];
  loadBalancePercent?: number;
  activeServer?: string;
  reservePercent?: number;
  mcltSeconds?: number;
  stateSwitchoverSeconds?: number;
  port?: number;
  sharedSecretRef?: { name: string; key?: string };
  partnerDialect?: 'isc' | 'ms';
  redis?: { storageClassName?: string; size?: string | number; appendfsync?: 'always' | 'everysec' | 'no' };
  image?: string;
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface RelationshipStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  servers?: { name: string; state?: string; partnerState?: string; ready?: boolean; leases?: number; lastContact?: string }[];
  scopeCount?: number;
  lastSuccessfulSync?: string;
  /** Warnings the API server returned when the owned objects were last applied (e.g. Pod Security). */
  warnings?: string[];
}

export interface DhcpFailoverRelationship {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: RelationshipSpec;
  status?: RelationshipStatus;
}

export interface ScopeSpec {
  relationshipRef: { name: string };
  subnet: string;
  ranges: { start: string; end: string }[];
  exclusions?: { start: string; end: string }[];
  reservations?: { ip: string; hwAddress?: string; clientId?: string; hostname?: string; options?: Record<string, unknown> }[];
  options?: Record<string, unknown>;
  leaseSeconds?: number;
  active?: boolean;
}

/** The pool states a scope's status counts (`leases`); `free` includes pool addresses no lease names yet. */
export type ScopeLeases = Record<'active' | 'free' | 'backup' | 'expired' | 'released' | 'abandoned' | 'reset', number>;

export interface ScopeStatus {
  observedGeneration?: number;
  /** Ready, RelationshipNotFound, Invalid, Overlapping (scope-status.ts). */
  conditions?: Condition[];
  /** From one server's /status (`reportedBy`): addresses of the dynamic pool (ranges − exclusions − reservations). */
  poolSize?: number;
  leases?: ScopeLeases;
  /** leases.active as a percentage of poolSize, rounded down. */
  utilizationPercent?: number;
  /** The server whose view poolSize, leases and utilizationPercent are. */
  reportedBy?: string;
}

export interface DhcpScope {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: ScopeSpec;
  status?: ScopeStatus;
}

/** What the renderer knows about the shared-secret Secret (observed by the controller, or assumed offline). */
/** `empty`: the key holds nothing but white space (the servers refuse such a secret). */
export interface SecretPresence { readonly exists: boolean; readonly hasKey: boolean; readonly empty?: boolean }

export interface RenderInput {
  readonly relationship: DhcpFailoverRelationship;
  /** Every DhcpScope in the relationship's namespace (the renderer picks the ones referring to it). */
  readonly scopes: readonly DhcpScope[];
  /** Undefined when the relationship names no sharedSecretRef. */
  readonly secret?: SecretPresence;
}

export interface RenderOptions {
  readonly serverImage: string;
  readonly redisImage: string;
  /** Pull secrets of the server pods (names of Secrets in each relationship's namespace); chart serverImagePullSecrets. */
  readonly imagePullSecrets?: readonly string[];
  /** The servers' logLevel (operator env SERVER_LOG_LEVEL), applied by the servers on reload without a restart. */
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export const DEFAULT_RENDER_OPTIONS: RenderOptions = {
  // scripts/image-name.sh and the chart's defaults name the same two images (test/operator/chart.test.ts).
  serverImage: 'localhost/dhcp-failover:0.1.0',
  redisImage: 'docker.io/library/redis:7.4.2-alpine',
  logLevel: 'info',
};

/** A Kubernetes object as plain JSON (what is applied and printed). */
export type KubeObject = { apiVersion: string; kind: string; metadata: ObjectMeta & { ownerReferences?: OwnerReference[] } } & Record<string, unknown>;

export interface OwnerReference {
  apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean;
}

/**
 * Why a relationship cannot be rendered; `reason` becomes the Degraded condition's reason. `NodeInUse`
 * (a server placed on a node another server claimed first) is added by node-claims.ts, never by the renderer.
 */
export interface RenderProblem {
  readonly reason: 'InvalidScope' | 'ScopeConflict' | 'SecretMissing' | 'InvalidConfig' | 'InvalidSpec' | 'NodeInUse';
  readonly message: string;
  /** The DhcpScope (metadata.name) the problem is in, for InvalidScope and ScopeConflict: its `Invalid` condition. */
  readonly scope?: string;
}

export type RenderResult =
  | { readonly ok: true; readonly objects: readonly KubeObject[]; readonly inputHash: string; readonly scopes: readonly string[] }
  | { readonly ok: false; readonly problems: readonly RenderProblem[]; readonly inputHash: string; readonly scopes: readonly string[] };
