// `dhcp-failover server`: load config, open the lease store, serve DHCP and the admin endpoint,
// reload the config file on change, stop cleanly on SIGTERM.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createAdminApp, listen, type AdminAction } from '../admin/http.ts';
import { embeddedDefaultConfig } from '../config/embedded-default.ts';
import { loadConfigFile } from '../config/load.ts';
import { decideReload } from '../config/reload-guard.ts';
import type { Config } from '../config/schema.ts';
import { watchConfig, watchFile, type ConfigWatcher } from '../config/watch.ts';
import { DhcpEngine } from '../dhcp/engine.ts';
import { DhcpUdpServer } from '../dhcp/server.ts';
import { systemClock } from '../clock.ts';
import type { FailoverConfig } from '../config/failover.ts';
import type { AllocationPolicy } from '../dhcp/allocate.ts';
import { FailoverRelationships } from '../failover/runtime/relationships.ts';
import { deferredPolicy } from '../failover/rules/allocation-policy.ts';
import { instrumentStore } from '../leases/instrumented-store.ts';
import { openStore } from '../leases/open-store.ts';
import type { LeaseStore } from '../leases/store.ts';
import { DhcpFailoverError, StoreError } from '../errors.ts';
import { log, setLogLevel, type LogLevel } from '../log.ts';
import { createFailoverMetrics, createServerMetrics, type ServerMetrics } from '../metrics/registry.ts';

const SWEEP_INTERVAL_MS = 5_000;

export interface ServerCommandOptions { readonly configPath?: string; readonly logLevel?: string }

function configHash(config: Config): string {
  return createHash('sha256').update(JSON.stringify(config, (_k, v: unknown) => (v instanceof Map ? [...v] : v))).digest('hex').slice(0, 12);
}

/** Settings that only take effect on restart: reported, never half-applied. */
function restartOnlyChanges(running: Config, next: Config): string[] {
  const changed: string[] = [];
  const a = running.server, b = next.server;
  if (a.listen.address !== b.listen.address || a.listen.port !== b.listen.port) changed.push('server.listen');
  if (a.admin.address !== b.admin.address || a.admin.port !== b.admin.port) changed.push('server.admin');
  if (JSON.stringify(a.store) !== JSON.stringify(b.store)) changed.push('server.store');
  // Adding or removing the failover section changes what the server is; changes inside it are the peers' (relationships.ts).
  if ((running.relationships.length === 0) !== (next.relationships.length === 0)) changed.push('failover');
  return changed;
}

/** A Secret being rotated can be briefly unreadable: the running failover settings then stay. */
function readSecretSafely(fo: FailoverConfig): { ok: true; value: Buffer | undefined } | { ok: false } {
  try { return { ok: true, value: readSecret(fo) }; } catch (err) {
    log.error('config.failover.secret_unreadable', { file: fo.sharedSecretFile, err });
    return { ok: false };
  }
}

function readSecret(fo: FailoverConfig): Buffer | undefined {
  if (fo.sharedSecret !== undefined) return Buffer.from(fo.sharedSecret, 'utf8');
  if (fo.sharedSecretFile === undefined) return undefined;
  const text = readFileSync(fo.sharedSecretFile, 'utf8').trim();
  // An empty key would sign every message with nothing a peer has to know: refused, like a missing file.
  if (text === '') throw new DhcpFailoverError('secret_empty', `failover.sharedSecretFile: ${fo.sharedSecretFile} is empty (relationship ${fo.relationship}): put the shared secret in it`);
  return Buffer.from(text, 'utf8');
}

/**
 * In a pod the Redis sidecar starts beside the server, not before it: its socket may not exist yet.
 * Waiting a while (logged once) beats exiting and being restarted with the kubelet's back-off.
 */
const STORE_STARTUP_WAIT_MS = 30_000;

async function openStoreWaiting(options: Config['server']['store'], waitMs: number): Promise<LeaseStore> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const store = await openStore(options);
      if (attempt > 1) log.info('store.connected', { afterAttempts: attempt });
      return store;
    } catch (err) {
      if (!(err instanceof StoreError) || err.code !== 'store_unavailable' || Date.now() >= deadline) throw err;
      if (attempt === 1) log.warn('store.waiting', { reason: err.message, waitSeconds: waitMs / 1000 });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function collectLeaseGauges(engine: DhcpEngine, metrics: ServerMetrics): void {
  metrics.leases.reset();
  metrics.scopeSize.reset();
  metrics.scopeUtilization.reset();
  for (const { scope, poolSize, byState, pool } of engine.counts()) {
    for (const [state, n] of Object.entries(byState)) metrics.leases.set({ scope, state }, n);
    metrics.scopeSize.set({ scope }, poolSize);
    // Active leases on pool addresses (not reservations) over the pool: the same ratio /status reports.
    metrics.scopeUtilization.set({ scope }, poolSize ? pool.active / poolSize : 0);
  }
}

export async function runServer(options: ServerCommandOptions): Promise<number> {
  let config = options.configPath ? await loadConfigFile(options.configPath) : embeddedDefaultConfig();
  setLogLevel((options.logLevel as LogLevel | undefined) ?? config.server.logLevel);
  if (!options.configPath) log.warn('config.embedded_default', { reason: 'no --config given; serving the embedded default on loopback only' });

  const store = await openStoreWaiting(config.server.store, STORE_STARTUP_WAIT_MS);
  // The gauge callback runs only at scrape time, after `engine` exists.
  const metrics = createServerMetrics({ collectLeases: (m) => collectLeaseGauges(engine, m) });
  const leaseStore = instrumentStore(store, metrics);
  // Failover: the engine asks the policy of each scope's relationship (built after the engine, hence
  // deferred) and reports every commit to that relationship.
  let failover: FailoverRelationships | undefined;
  let failoverPolicy: AllocationPolicy | undefined;
  const engine = new DhcpEngine({
    config, store: leaseStore,
    ...(config.relationships.length > 0 && {
      policy: deferredPolicy(() => failoverPolicy!),
      onCommit: (lease) => failover?.onCommit(lease),
      prepareCommit: (lease) => failover?.prepareCommit(lease) ?? lease,
    }),
  });
  let hash = configHash(config);
  metrics.configInfo.set({ hash }, 1);
  const startedAt = Date.now();
  let pendingRestart: string[] = [];

  const loaded = await engine.loadLeases();
  log.info('leases.loaded', { count: loaded, store: config.server.store.type });

  if (config.relationships.length > 0) {
    const foMetrics = createFailoverMetrics(metrics.registry, () => failover?.collectMetrics());
    failover = new FailoverRelationships({ config, serverName: config.server.name, engine, store: leaseStore, clock: systemClock, metrics: foMetrics, secretOf: readSecret });
    failoverPolicy = failover.policy(() => engine.scopePlans);
  }
  const udp = new DhcpUdpServer({ engine, metrics, address: config.server.listen.address, port: config.server.listen.port, limits: config.server.limits });
  const app = createAdminApp({
    engine, metrics,
    ready: () => udp.listening && store.healthy(),
    status: () => ({
      server: config.server.name, startedAt: new Date(startedAt).toISOString(), configHash: hash,
      restartRequiredFor: pendingRestart, store: { type: config.server.store.type, healthy: store.healthy() },
      scopes: engine.counts(),
      // `failover`: the relationship of a server in one (the shape the operator and ctl read); `relationships`: all of them.
      ...(failover !== undefined && failover.size === 1 && { failover: failover.statuses()[0] }),
      ...(failover !== undefined && { relationships: failover.statuses() }),
    }),
    ...(failover !== undefined && {
      actions: async (action: AdminAction, relationship: string | undefined) => {
        const peer = failover!.peerFor(relationship);
        if ('error' in peer) return peer;
        await (action === 'partner-down' ? peer.adminPartnerDown() : peer.adminResync());
        return { status: peer.status() };
      },
    }),
    // Guards /status, /leases (from off-host) and the actions; read per request (a rotated Secret applies at once).
    adminToken: () => (config.server.admin.tokenFile ? readFileSync(config.server.admin.tokenFile, 'utf8').trim() : undefined),
  });
  // Failover listener, DHCP socket, admin endpoint. If one cannot bind (BindError), what was started is
  // stopped again, so the process exits with the error instead of running half a server.
  let admin: Server;
  try {
    await failover?.start();
    await udp.start();
    admin = await listen(app, config.server.admin.address, config.server.admin.port);
  } catch (err) {
    await udp.stop();
    await failover?.stop();
    await store.close();
    throw err;
  }
  log.info('admin.listening', { address: config.server.admin.address, port: config.server.admin.port });

  const sweeper = setInterval(() => {
    engine.sweepExpired().catch((err: unknown) => { metrics.storeErrors.inc({ operation: 'sweep' }); log.warn('leases.sweep.failed', { err }); });
  }, SWEEP_INTERVAL_MS);

  /** Applies a validated new config: scopes and options at once, the failover section through the peer. */
  let reloading: Promise<void> = Promise.resolve();
  const applyReload = async (next: Config): Promise<void> => {
    // Judged before anything is applied. The watcher delivers each file content once, so a refused
    // file is logged once however often it is re-read; the next different file is judged afresh.
    const decision = decideReload(config, next);
    if (decision.kind === 'refuse') {
      metrics.configReloads.inc({ result: 'refused_empty' });
      log.warn('config.refused', {
        reason: decision.reason, runningScopes: decision.runningScopes, newScopes: decision.newScopes,
        allowWith: 'allowEmptyScopes: true', hash: configHash(next), runningHash: hash, message: decision.message,
      });
      return;
    }
    const restart = restartOnlyChanges(config, next);
    if (failover !== undefined) restart.push(...(await failover.reconfigure(next, readSecretSafely)));
    pendingRestart = restart;
    if (pendingRestart.length) log.warn('config.restart_required', { fields: pendingRestart });
    config = next;
    engine.applyConfig(next);
    udp.setLimits(next.server.limits);
    if (!options.logLevel) setLogLevel(next.server.logLevel); // --log-level wins over the file
    metrics.configInfo.reset();
    hash = configHash(next);
    metrics.configInfo.set({ hash }, 1);
    metrics.configReloads.inc({ result: 'applied' });
    log.info('config.reloaded', { hash, scopes: next.scopes.length });
    watchSecret();
  };

  // A rotated Secret changes a shared secret file, not the config: watch each relationship's too, and apply
  // the new secret in place (reconfigure.ts). Re-armed when a reload names other files.
  const secretWatchers = new Map<string, ConfigWatcher>();
  const watchSecret = (): void => {
    const files = new Set(failover === undefined ? [] : config.relationships.flatMap((r) => (r.sharedSecretFile !== undefined ? [r.sharedSecretFile] : [])));
    for (const [file, w] of secretWatchers) if (!files.has(file)) { w.close(); secretWatchers.delete(file); }
    for (const file of files) {
      if (secretWatchers.has(file)) continue;
      secretWatchers.set(file, watchFile(file, {
        onChange() {
          reloading = reloading.then(async () => {
            for (const fo of config.relationships.filter((r) => r.sharedSecretFile === file)) {
              const peer = failover?.peers.get(fo.relationship);
              const secret = readSecretSafely(fo);
              if (peer === undefined || !secret.ok) continue;
              const plan = await peer.reconfigure(fo, secret.value);
              log.info('failover.secret.changed', { relationship: fo.relationship, file, applied: plan.restartRequired.length === 0, relink: plan.relink, rotatedInPlace: plan.rotateSecret });
            }
          }).catch((err: unknown) => log.error('failover.secret.reload_failed', { err }));
        },
      }));
    }
  };
  watchSecret();

  const watcher = options.configPath
    ? watchConfig(options.configPath, {
      onChange(next) {
        // Reloads run one at a time: the peer's reconfigure is asynchronous.
        reloading = reloading.then(() => applyReload(next)).catch((err: unknown) => {
          metrics.configReloads.inc({ result: 'failed' });
          log.error('config.reload_failed', { err });
        });
      },
      onInvalid(err) {
        metrics.configReloads.inc({ result: 'rejected' });
        log.error('config.rejected', { problems: err.problems });
      },
    })
    : undefined;

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => { log.info('server.stopping', { signal }); resolve(); };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  clearInterval(sweeper);
  watcher?.close();
  for (const w of secretWatchers.values()) w.close();
  await udp.stop();
  await failover?.stop();
  await new Promise<void>((resolve) => admin.close(() => resolve()));
  await store.close();
  log.info('server.stopped', {});
  return 0;
}
