// `dhcp-failover operator`: reads the chart's env contract (docs/crds.md "The operator pod's contract"),
// serves /healthz /readyz /metrics, campaigns for the Lease and runs the controller while leading.
// Losing leadership to another holder ends the process (exit 1): the Deployment restarts it as a fresh
// standby, simpler and safer than unwinding in-flight reconciles. A leader that merely cannot renew (the API
// server restarting) is suspended: its controller stops, and a new one starts if a renewal succeeds.
import { hostname } from 'node:os';
import { systemClock } from '../clock.ts';
import { log, setLogLevel, type LogLevel } from '../log.ts';
import { ApiHealth, operatorReadiness } from './api-health.ts';
import { Controller, startOperatorHttp } from './controller.ts';
import { loadKubeConfig } from './kube-config.ts';
import { createOperatorMetrics } from './metrics.ts';
import { LeaderElector } from './leader-election.ts';
import { DEFAULT_RENDER_OPTIONS } from './render/types.ts';

export interface OperatorEnv {
  readonly podName: string; readonly podNamespace: string; readonly namespaces: string[]; readonly logLevel: LogLevel; readonly serverLogLevel: LogLevel;
  readonly serverImage: string; readonly redisImage: string; readonly imagePullSecrets: string[]; readonly httpPort: number; readonly leaseName: string;
  readonly leaseDurationMs: number; readonly renewDeadlineMs: number; readonly retryPeriodMs: number;
}

/** Pure: the env contract → settings (defaults as in the chart's values). */
export function parseOperatorEnv(env: Record<string, string | undefined>): OperatorEnv {
  const num = (k: string, d: number): number => { const v = Number(env[k]); return env[k] && Number.isFinite(v) && v > 0 ? v : d; };
  const levelOf = (v: string | undefined): LogLevel => (v && ['debug', 'info', 'warn', 'error'].includes(v) ? v as LogLevel : 'info');
  return {
    podName: env.POD_NAME || hostname(),
    podNamespace: env.POD_NAMESPACE || 'default',
    namespaces: (env.WATCH_NAMESPACES ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    logLevel: levelOf(env.LOG_LEVEL),
    // The servers' own threshold: never the operator's (helm --set logLevel=debug must not touch the servers).
    serverLogLevel: levelOf(env.SERVER_LOG_LEVEL),
    serverImage: env.SERVER_IMAGE || DEFAULT_RENDER_OPTIONS.serverImage,
    redisImage: env.REDIS_IMAGE || DEFAULT_RENDER_OPTIONS.redisImage,
    imagePullSecrets: (env.SERVER_IMAGE_PULL_SECRETS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    httpPort: num('HTTP_PORT', 8080),
    leaseName: env.LEADER_ELECTION_LEASE_NAME || 'dhcp-failover',
    leaseDurationMs: num('LEADER_ELECTION_LEASE_DURATION_SECONDS', 15) * 1000,
    renewDeadlineMs: num('LEADER_ELECTION_RENEW_DEADLINE_SECONDS', 10) * 1000,
    retryPeriodMs: num('LEADER_ELECTION_RETRY_PERIOD_SECONDS', 2) * 1000,
  };
}

export async function runOperator(env: Record<string, string | undefined> = process.env): Promise<number> {
  const cfg = parseOperatorEnv(env);
  setLogLevel(cfg.logLevel);
  // No API configuration at all: exit 1 with one line saying what was looked for, never client-node's
  // fallback to http://localhost:8080 (our own port in the pod: the operator would look alive and do nothing).
  const loaded = loadKubeConfig();
  if ('error' in loaded) { log.error('operator.kubeconfig.error', { err: loaded.error }); return 1; }
  const { kc } = loaded;
  const server = kc.getCurrentCluster()?.server ?? '';
  // One metrics registry for the process; one Controller per leadership term (a suspended leader that
  // resumes starts afresh: its caches are re-listed and synced before anything is applied).
  let controller: Controller | undefined;
  const metrics = createOperatorMetrics({ queueDepth: () => controller?.queue.depth ?? 0 });
  // Every list, watch and Lease call reports here: /readyz, the operator.api.* log lines, the api metrics.
  const health = new ApiHealth({ clock: systemClock, server, metrics });
  const newController = (): Controller => new Controller({
    kc, namespaces: cfg.namespaces, clock: systemClock, identity: cfg.podName, metrics, health,
    renderOptions: { ...DEFAULT_RENDER_OPTIONS, serverImage: cfg.serverImage, redisImage: cfg.redisImage, imagePullSecrets: cfg.imagePullSecrets, logLevel: cfg.serverLogLevel },
  });
  const http = await startOperatorHttp({ port: cfg.httpPort, metrics, ready: () => operatorReadiness(health, controller) });
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => { finish = resolve; });
  const elector = new LeaderElector({
    kc, namespace: cfg.podNamespace, name: cfg.leaseName, identity: cfg.podName, clock: systemClock, health,
    leaseDurationMs: cfg.leaseDurationMs, renewDeadlineMs: cfg.renewDeadlineMs, retryPeriodMs: cfg.retryPeriodMs,
    onStartedLeading: () => {
      metrics.leader.set(1);
      const c = newController();
      controller = c;
      c.start().catch((err: unknown) => { log.error('operator.start_failed', { err }); finish(1); });
    },
    onStoppedLeading: (reason) => {
      metrics.leader.set(0);
      const c = controller;
      controller = undefined;
      void c?.stop();
      // Another holder has the Lease: exit, the Deployment restarts this pod as a fresh standby.
      if (reason === 'lost') finish(1);
    },
  });
  elector.start();
  const onSignal = (): void => finish(0);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  log.info('operator.started', { identity: cfg.podName, namespaces: cfg.namespaces, server, httpPort: http.port, lease: `${cfg.podNamespace}/${cfg.leaseName}` });
  const code = await done;
  log.info('operator.stopping', { identity: cfg.podName, code });
  await controller?.stop();
  await elector.stop();
  await http.close();
  return code;
}
