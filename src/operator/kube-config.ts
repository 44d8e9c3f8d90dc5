// Where the operator's API server and credentials come from: client-node's `loadFromDefault()` ($KUBECONFIG,
// ~/.kube/config, the in-cluster service account), minus its last resort. With none of them it quietly
// configures `http://localhost:8080`, which in the operator's pod is the operator's own HTTP port: the
// process would look alive, never reconcile, and say so only in a debug line. This refuses that instead.
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

/** client-node's in-cluster token file (config.js SERVICEACCOUNT_TOKEN_PATH). */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The config `loadFromDefault()` builds when it found nothing (config.js `loadFromClusterAndUser`). */
export function isLocalhostFallback(kc: KubeConfig): boolean {
  const [cluster, ...moreClusters] = kc.clusters;
  const [user, ...moreUsers] = kc.users;
  return moreClusters.length === 0 && moreUsers.length === 0 && kc.currentContext === 'loaded-context'
    && cluster?.name === 'cluster' && cluster.server === 'http://localhost:8080' && user?.name === 'user'
    && Object.keys(user).length === 1;
}

/** What `loadFromDefault()` looks at (on Linux), for the error. */
export function lookedAt(env: Record<string, string | undefined>): string {
  const home = env['HOME'] ? join(env['HOME'], '.kube', 'config') : '~/.kube/config ($HOME not set)';
  return `$KUBECONFIG (not set), ${home} (not found), in-cluster service account token ${SERVICE_ACCOUNT_TOKEN} (not found)`;
}

/** Why `kc`, as loaded, cannot be used (one line), or undefined. */
export function kubeConfigProblem(kc: KubeConfig, env: Record<string, string | undefined>): string | undefined {
  if (isLocalhostFallback(kc)) return `no Kubernetes API configuration found; looked for ${lookedAt(env)} (client-node would fall back to http://localhost:8080)`;
  const cluster = kc.getCurrentCluster();
  const from = env['KUBECONFIG'] ? `KUBECONFIG=${env['KUBECONFIG']}` : 'the kubeconfig';
  if (cluster === null) return `${from} has no current context naming a cluster (current-context: ${JSON.stringify(kc.currentContext ?? '')})`;
  if (/^https?:\/\/undefined(:|\/|$)/.test(cluster.server) || cluster.server.endsWith(':undefined')) {
    return `in-cluster service account token found (${SERVICE_ACCOUNT_TOKEN}), but KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set`;
  }
  return undefined;
}

/** `loadFromDefault()` (which reads process.env), checked; `error` is one line saying what was looked for. */
export function loadKubeConfig(env: Record<string, string | undefined> = process.env): { kc: KubeConfig } | { error: string } {
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (err) {
    return { error: `cannot load the kubeconfig (${env['KUBECONFIG'] ? `KUBECONFIG=${env['KUBECONFIG']}` : '~/.kube/config'}): ${String((err as Error)?.message ?? err).split('\n')[0]}` };
  }
  const problem = kubeConfigProblem(kc, env);
  return problem === undefined ? { kc } : { error: problem };
}
