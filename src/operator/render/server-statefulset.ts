// One managed server: a StatefulSet of one replica (hostNetwork, pinned to its node, a Redis sidecar on a
// unix socket, a lease volume per server). Pure: same input, same output.
import { IDENTITY_FIELDS } from '../../failover/runtime/reconfigure.ts';
import { hashOf } from './hash.ts';
import { configKey, configMapName, ownerReferences, relationshipLabels, serverLabels, serverSelector, statefulSetName } from './names.ts';
import { CRD_DEFAULTS, secretKey } from './server-config.ts';
import { ANNOTATIONS, PATHS, PORTS, type DhcpFailoverRelationship, type KubeObject, type RelationshipServer, type RenderOptions } from './types.ts';
import type { RawConfig } from '../../config/schema.ts';

/** Redis runs as the image's `redis` user (uid/gid 999 in the official image); fsGroup makes the volume writable. */
const REDIS_UID = 999;

function placement(server: RelationshipServer): Record<string, unknown> {
  // nodeName → a required node affinity on the node's name (as DaemonSets do) rather than spec.nodeName:
  // a pod with spec.nodeName skips the scheduler, so a WaitForFirstConsumer (local) volume is never bound.
  if (server.nodeName !== undefined) {
    return {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [server.nodeName] }] }],
        },
      },
    };
  }
  return {};
}

function antiAffinity(rel: DhcpFailoverRelationship, partner: RelationshipServer | undefined): Record<string, unknown> {
  if (partner === undefined || partner.external === true) return {};
  return {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: serverSelector(rel, partner.name) } },
      ],
    },
  };
}

function failoverIdentity(failover: RawConfig['failover']): Record<string, unknown> | undefined {
  if (failover === undefined) return undefined;
  const f = failover as Record<string, unknown>;
  return Object.fromEntries(IDENTITY_FIELDS.map((k) => [k, f[k]]));
}

export function renderServerStatefulSet(
  rel: DhcpFailoverRelationship, index: 0 | 1, config: RawConfig, inputHash: string, opts: RenderOptions,
): KubeObject {
  const { spec } = rel;
  const server = spec.servers[index] as RelationshipServer;
  const partner = spec.servers[index === 0 ? 1 : 0];
  const name = statefulSetName(rel, server.name);
  const failoverPort = spec.port ?? CRD_DEFAULTS.port;
  const hasSecret = spec.sharedSecretRef !== undefined;
  const redis = spec.redis ?? {};
  // Only what a running server cannot apply on reload restarts the pods (server-command.ts restartOnlyChanges,
  // failover/reconfigure.ts): logLevel and the failover section's MCLT, split, reserve, mode, switchover and
  // secret are applied live from the ConfigMap; the relationship's identity is not.
  const { logLevel: _hotReloaded, ...restartRelevant } = config.server;
  const restartHash = hashOf({ server: restartRelevant, failover: failoverIdentity(config.failover), image: spec.image ?? opts.serverImage, redisImage: opts.redisImage });

  const volumes: Record<string, unknown>[] = [
    { name: 'config', configMap: { name: configMapName(rel), items: [{ key: configKey(server.name), path: 'config.yaml' }] } },
    { name: 'redis-socket', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
  ];
  if (hasSecret) {
    volumes.push({ name: 'shared-secret', secret: { secretName: spec.sharedSecretRef!.name, items: [{ key: secretKey(rel), path: secretKey(rel) }], defaultMode: 0o400 } });
  }
  const serverMounts: Record<string, unknown>[] = [
    { name: 'config', mountPath: PATHS.configDir, readOnly: true },
    { name: 'redis-socket', mountPath: PATHS.redisSocketDir },
  ];
  if (hasSecret) serverMounts.push({ name: 'shared-secret', mountPath: PATHS.secretDir, readOnly: true });

  const serverContainer: Record<string, unknown> = {
    name: 'server',
    image: spec.image ?? opts.serverImage,
    args: ['server', '--config', PATHS.configFile],
    ports: [
      { name: 'dhcp', containerPort: PORTS.dhcp, hostPort: PORTS.dhcp, protocol: 'UDP' },
      { name: 'failover', containerPort: failoverPort, hostPort: failoverPort, protocol: 'TCP' },
      { name: 'admin', containerPort: PORTS.admin, hostPort: PORTS.admin, protocol: 'TCP' },
    ],
    readinessProbe: { httpGet: { path: '/readyz', port: 'admin' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'admin' }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    securityContext: {
      // Root inside the container only to use the one added capability: Kubernetes does not raise ambient
      // capabilities for a non-root user, and the image's node binary has no file capabilities.
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      // NET_BIND_SERVICE: UDP 67 and TCP 647. No NET_RAW: the server answers through ordinary UDP sockets
      // (broadcast to clients without an address), never a raw or packet socket.
      capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
    },
    volumeMounts: serverMounts,
  };
  if (spec.resources !== undefined) serverContainer.resources = structuredClone(spec.resources);

  const redisArgs = [
    '--port', '0',
    '--unixsocket', PATHS.redisSocket,
    '--unixsocketperm', '770',
    '--dir', PATHS.redisData,
    '--appendonly', 'yes',
    '--appendfsync', redis.appendfsync ?? CRD_DEFAULTS.appendfsync,
    '--save', '',
  ];
  // Redis has no password: TCP is off (--port 0) and the only way in is the socket, mode 770 for uid 999 and
  // the pod's fsGroup 999, in a memory emptyDir that only this pod's two containers mount. A password taken
  // from the shared secret (as before) added nothing a pod-private socket does not give, and a rotated Secret
  // then locked a restarted server out: Redis keeps the password of its own start, the server reads the new one.
  const redisContainer: Record<string, unknown> = {
    name: 'redis',
    image: opts.redisImage,
    // Explicit, not the image's entrypoint: any Redis image a mirror carries runs the same way.
    command: ['redis-server'],
    args: redisArgs,
    securityContext: {
      runAsUser: REDIS_UID, runAsGroup: REDIS_UID, runAsNonRoot: true,
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] },
    },
    readinessProbe: { exec: { command: ['redis-cli', '-s', PATHS.redisSocket, 'ping'] }, periodSeconds: 10 },
    volumeMounts: [{ name: 'leases', mountPath: PATHS.redisData }, { name: 'redis-socket', mountPath: PATHS.redisSocketDir }],
  };

  const podSpec: Record<string, unknown> = {
    hostNetwork: true,
    dnsPolicy: 'ClusterFirstWithHostNet',
    enableServiceLinks: false,
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: 30,
    securityContext: { fsGroup: REDIS_UID, seccompProfile: { type: 'RuntimeDefault' } },
    affinity: { ...placement(server), ...antiAffinity(rel, partner) },
    containers: [serverContainer, redisContainer],
    volumes,
  };
  if (server.nodeSelector !== undefined) podSpec.nodeSelector = { ...server.nodeSelector };
  if (opts.imagePullSecrets !== undefined && opts.imagePullSecrets.length > 0) podSpec.imagePullSecrets = opts.imagePullSecrets.map((name) => ({ name }));

  const pvcSpec: Record<string, unknown> = {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: String(redis.size ?? CRD_DEFAULTS.redisSize) } },
  };
  if (redis.storageClassName !== undefined) pvcSpec.storageClassName = redis.storageClassName;

  const metadata: KubeObject['metadata'] = {
    name, namespace: rel.metadata.namespace ?? 'default',
    labels: serverLabels(rel, server.name),
    annotations: { [ANNOTATIONS.inputHash]: inputHash },
  };
  const owners = ownerReferences(rel);
  if (owners) metadata.ownerReferences = owners;
  const template = {
    metadata: { labels: serverLabels(rel, server.name), annotations: { [ANNOTATIONS.restartHash]: restartHash } },
    spec: podSpec,
  };
  metadata.annotations = { ...(metadata.annotations ?? {}), [ANNOTATIONS.templateHash]: hashOf(template) };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata,
    spec: {
      replicas: 1,
      serviceName: name,
      // One replica: a rolling update deletes the old pod before creating the new one, which is what a
      // hostNetwork pod holding UDP 67 needs (a surge pod could never bind).
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate' },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      selector: { matchLabels: serverSelector(rel, server.name) },
      template,
      volumeClaimTemplates: [{ metadata: { name: 'leases', labels: relationshipLabels(rel) }, spec: pvcSpec }],
    },
  };
}
