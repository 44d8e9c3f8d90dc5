// Wiring: informers (restarted on error, periodically re-listed) → work queue (per-key serialisation,
// retry with backoff) → reconcileRelationship; metrics; an HTTP endpoint with /healthz, /readyz, /metrics.
import { BindError } from '../errors.ts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../clock.ts';
import { log } from '../log.ts';
import type { ApiHealth, Readiness } from './api-health.ts';
import { createKube, ResilientInformer, type Kube, type Obj } from './kube.ts';
import { createOperatorMetrics, type OperatorMetrics } from './metrics.ts';
import { claimedNodes } from './node-claims.ts';
import { reconcileRelationship, type Observed } from './reconcile-relationship.ts';
import { reconcileScopes, scopesKey, SCOPES_KEY_PREFIX } from './reconcile-scopes.ts';
import { LABELS, LABEL_VALUES, PORTS, RELATIONSHIP_KIND, SCOPE_KIND, type DhcpFailoverRelationship, type DhcpScope, type KubeObject, type RenderOptions, type ScopeStatus } from './render/types.ts';
import { SecretValueCache } from './secret-value.ts';
import { ServerStatusPoller } from './server-status.ts';
import { WorkQueue } from './work-queue.ts';

export interface ControllerOptions {
  readonly kc: KubeConfig;
  /** Empty: all namespaces. */
  readonly namespaces: readonly string[];
  readonly renderOptions: RenderOptions;
  readonly clock: Clock;
  readonly identity: string;
  readonly workers?: number;
  readonly resyncMs?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** For tests: a Kube whose calls can be observed; default createKube(kc). */
  readonly kube?: Kube;
  readonly metrics?: OperatorMetrics;
  /** Polling of the servers' /status for the relationship status; default every 15 s at <address>:<admin port>. */
  /** false: no polling and no admin actions (tests whose servers do not exist). */
  readonly serverStatus?: false | { readonly intervalMs?: number; readonly baseUrlFor?: (rel: DhcpFailoverRelationship, server: { name: string; address: string }) => string };
  /**
   * For this long after the caches have synced, a reconcile that would serve fewer scopes than the applied
   * ConfigMap, or finds its Secret missing, waits instead of applying (startup-hold.ts). Default 10 s.
   */
  readonly startupHoldMs?: number;
  /** Told the outcome of every informer list and watch (readiness, `operator.api.*` logs, metrics). */
  readonly health?: ApiHealth;
}

const OWNED_SELECTOR = `${LABELS.managedBy}=${LABEL_VALUES.managedBy}`;
const OWNED_KINDS = { configmaps: 'ConfigMap', statefulsets: 'StatefulSet', pdbs: 'PodDisruptionBudget' } as const;

export class Controller {
  readonly metrics: OperatorMetrics;
  readonly queue: WorkQueue;
  private readonly options: ControllerOptions;
  private readonly kube: Kube;
  private readonly informers = new Map<string, ResilientInformer[]>();
  private running = false;
  private synced = false;
  private syncedAt = 0;
  private readonly poller: ServerStatusPoller;
  private readonly secretValues: SecretValueCache;
  private readonly statusOptions: Exclude<ControllerOptions['serverStatus'], false>;

  constructor(options: ControllerOptions) {
    this.options = options;
    this.kube = options.kube ?? createKube(options.kc, 'dhcp-failover-operator', options.identity, options.clock);
    this.queue = new WorkQueue({
      clock: options.clock,
      workers: options.workers ?? 2,
      baseDelayMs: options.retryBaseMs ?? 200,
      maxDelayMs: options.retryMaxMs ?? 60_000,
      process: (key) => (key.startsWith(SCOPES_KEY_PREFIX) ? this.reconcileScopes(key.slice(SCOPES_KEY_PREFIX.length)) : this.reconcile(key)),
      onResult: (key, ok, ms, err) => {
        const kind = key.startsWith(SCOPES_KEY_PREFIX) ? SCOPE_KIND : RELATIONSHIP_KIND;
        this.metrics.duration.observe({ kind }, ms / 1000);
        if (!ok) {
          this.metrics.errors.inc({ kind });
          this.metrics.reconciles.inc({ kind, result: 'error' });
          log.warn('operator.reconcile.failed', { key, retry: this.queue.failureCount(key) + 1, err: String((err as Error)?.message ?? err), code: (err as { code?: unknown })?.code });
        }
      },
    });
    this.metrics = options.metrics ?? createOperatorMetrics({ queueDepth: () => this.queue.depth });
    this.statusOptions = options.serverStatus === false ? undefined : options.serverStatus;
    // The shared secret is also the servers' admin token (render/server-config.ts): /status wants it from off-host.
    this.secretValues = new SecretValueCache({ metadata: (ns, name) => this.find('secrets', ns, name)?.metadata, read: (ns, name) => this.kube.readSecret(ns, name) });
    this.poller = new ServerStatusPoller({
      clock: options.clock, intervalMs: this.statusOptions?.intervalMs ?? 15_000,
      tokenFor: async (key) => {
        const [ns, name] = key.split('/') as [string, string];
        const rel = this.observed.relationship(ns, name);
        return rel === undefined ? undefined : this.secretValues.tokenFor(rel);
      },
      // A report change may change the relationship's status and its scopes' counts and Ready.
      onChange: (key) => { if (this.running) { this.queue.add(key); this.queue.add(scopesKey(key.split('/')[0]!)); } },
    });
  }

  private readonly servers = {
    watch: (key: string, targets: readonly { name: string; url: string }[]) => this.poller.watch(key, targets),
    forget: (key: string) => this.poller.forget(key),
    reports: (key: string) => this.poller.reports(key),
    baseUrlFor: (rel: DhcpFailoverRelationship, server: { name: string; address: string }) =>
      this.statusOptions?.baseUrlFor?.(rel, server) ?? `http://${server.address}:${PORTS.admin}`,
  };

  get isSynced(): boolean { return this.synced; }

  private namespaces(): (string | undefined)[] { return this.options.namespaces.length === 0 ? [undefined] : [...this.options.namespaces]; }

  private items(kind: string): Obj[] { return (this.informers.get(kind) ?? []).flatMap((i) => [...i.list()]); }

  private find(kind: string, namespace: string, name: string): Obj | undefined {
    for (const i of this.informers.get(kind) ?? []) { const o = i.get(name, namespace); if (o) return o; }
    return undefined;
  }

  readonly observed: Observed & { relationships(ns: string): DhcpFailoverRelationship[] } = {
    relationship: (ns, name) => this.find('relationships', ns, name) as unknown as DhcpFailoverRelationship | undefined,
    relationships: (ns) => this.items('relationships').filter((r) => r.metadata.namespace === ns) as unknown as DhcpFailoverRelationship[],
    allRelationships: () => this.items('relationships') as unknown as DhcpFailoverRelationship[],
    scopes: (ns) => this.items('scopes').filter((s) => s.metadata.namespace === ns) as unknown as DhcpScope[],
    // The informer holds Secrets' metadata only; key names are read on demand (refreshSecretKeys).
    secret: (ns, name) => {
      const meta = this.find('secrets', ns, name);
      if (meta === undefined) return undefined;
      const known = this.secretKeys.get(`${ns}/${name}`);
      const current = known !== undefined && known.resourceVersion === meta.metadata.resourceVersion;
      return { keys: current ? known.keys : [], emptyKeys: current ? known.emptyKeys : [] };
    },
    owned: (ns, rel) => (Object.keys(OWNED_KINDS) as (keyof typeof OWNED_KINDS)[]).flatMap((k) => this.items(k)
      .filter((o) => o.metadata.namespace === ns && o.metadata.labels?.[LABELS.relationship] === rel)
      // Items of a list carry no kind: set it from the informer they came from.
      .map((o) => ({ ...o, kind: OWNED_KINDS[k] }) as unknown as KubeObject)),
  };

  /** Key names of each referenced Secret by its resourceVersion, and which of them hold nothing but white space (values are never kept). */
  private readonly secretKeys = new Map<string, { resourceVersion: string | undefined; keys: readonly string[]; emptyKeys: readonly string[] }>();

  private async refreshSecretKeys(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const ref = this.observed.relationship(ns, name)?.spec?.sharedSecretRef;
    if (ref === undefined) return;
    const id = `${ns}/${ref.name}`;
    const meta = this.find('secrets', ns, ref.name);
    if (meta === undefined) { this.secretKeys.delete(id); return; }
    if (this.secretKeys.get(id)?.resourceVersion === meta.metadata.resourceVersion) return;
    const full = await this.kube.readSecret(ns, ref.name);
    // Keyed by the version the cache shows: a newer one arriving later is read again.
    const data = full?.data ?? {};
    const emptyKeys = Object.keys(data).filter((k) => Buffer.from(data[k] ?? '', 'base64').toString('utf8').trim() === '');
    this.secretKeys.set(id, { resourceVersion: meta.metadata.resourceVersion, keys: Object.keys(data), emptyKeys });
  }

  private async reconcile(key: string): Promise<void> {
    await this.refreshSecretKeys(key);
    const holdUntil = this.syncedAt + (this.options.startupHoldMs ?? 10_000);
    const now = this.options.clock.now();
    const outcome = await reconcileRelationship(key, {
      observed: this.observed, kube: this.kube, renderOptions: this.options.renderOptions, now: () => this.options.clock.now(),
      ...(now < holdUntil ? { startupHold: true } : {}),
      ...(this.options.serverStatus === false ? {} : { servers: this.servers }),
    });
    this.metrics.reconciles.inc({ kind: RELATIONSHIP_KIND, result: outcome });
    log.debug('operator.reconciled', { key, outcome });
    if (outcome === 'held') this.queue.addAfter(key, holdUntil - now);
  }

  /** What this controller last wrote to each scope's status (reconcile-scopes.ts: no double write while the cache lags). */
  private readonly scopeStatusWritten = new Map<string, { readonly onResourceVersion: string | undefined; readonly status: ScopeStatus }>();

  /** The status of every DhcpScope in `ns`; written only where it changed. */
  private async reconcileScopes(ns: string): Promise<void> {
    // Rendering needs the Secrets' key names, read when their version changes (as a relationship reconcile does).
    for (const r of this.observed.relationships(ns)) await this.refreshSecretKeys(`${ns}/${r.metadata.name}`);
    const outcome = await reconcileScopes(ns, {
      observed: this.observed, kube: this.kube, renderOptions: this.options.renderOptions, now: () => this.options.clock.now(),
      written: this.scopeStatusWritten, stopped: () => !this.running,
      ...(this.options.serverStatus === false ? {} : { reports: (key: string) => this.poller.reports(key) }),
    });
    this.metrics.reconciles.inc({ kind: SCOPE_KIND, result: outcome === 'more' ? 'applied' : outcome });
    log.debug('operator.reconciled', { key: scopesKey(ns), outcome });
    // A slice written, more to go: behind the keys already waiting, so relationships are not held up.
    if (outcome === 'more') this.queue.add(scopesKey(ns));
  }

  private enqueueRelationshipsIn(ns: string | undefined, filter: (r: Obj) => boolean = () => true): void {
    for (const r of this.items('relationships')) if (r.metadata.namespace === ns && filter(r)) this.queue.add(`${ns}/${r.metadata.name}`);
  }

  /** Each scope's metadata.generation as last seen: a status-only update (ours) leaves it, and the relationships alone. */
  private readonly scopeGenerations = new Map<string, number | undefined>();

  /** True when a scope event may change what a relationship renders (not a status-only update). */
  private scopeSpecChanged(obj: Obj, type: 'add' | 'update' | 'delete'): boolean {
    const id = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const gen = (obj.metadata as { generation?: number }).generation;
    if (type === 'delete') { this.scopeGenerations.delete(id); return true; }
    const known = this.scopeGenerations.has(id);
    const same = known && this.scopeGenerations.get(id) === gen && gen !== undefined;
    this.scopeGenerations.set(id, gen);
    return !(type === 'update' && same);
  }

  /** The nodes each relationship claimed when last seen (node-claims.ts), by `ns/name`. */
  private readonly nodeClaims = new Map<string, readonly string[]>();

  /**
   * The nodes whose claims a relationship event changes (the ones it claimed before and those it claims
   * now), or none when they are the same (a status update, a scope count…).
   */
  private claimsChanged(obj: Obj, type: 'add' | 'update' | 'delete'): string[] {
    const id = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const before = this.nodeClaims.get(id) ?? [];
    const now = type === 'delete' ? [] : claimedNodes(obj as unknown as DhcpFailoverRelationship);
    if (now.length === 0) this.nodeClaims.delete(id); else this.nodeClaims.set(id, now);
    return before.join('\n') === now.join('\n') ? [] : [...new Set([...before, ...now])];
  }

  /** Another relationship claiming one of `nodes` may win or lose it now: reconcile it (and its scopes' status). */
  private enqueueClaimants(nodes: readonly string[], except: Obj): void {
    if (nodes.length === 0) return;
    const wanted = new Set(nodes);
    for (const r of this.items('relationships')) {
      if (r.metadata.namespace === except.metadata.namespace && r.metadata.name === except.metadata.name) continue;
      if (!claimedNodes(r as unknown as DhcpFailoverRelationship).some((n) => wanted.has(n))) continue;
      this.queue.add(`${r.metadata.namespace}/${r.metadata.name}`);
      if (r.metadata.namespace) this.queue.add(scopesKey(r.metadata.namespace));
    }
  }

  private onChange(kind: string, obj: Obj, type: 'add' | 'update' | 'delete' = 'update'): void {
    const scopeSpecChanged = kind === 'scopes' ? this.scopeSpecChanged(obj, type) : false;
    const nodesChanged = kind === 'relationships' ? this.claimsChanged(obj, type) : [];
    // Before every cache has synced nothing is reconciled: start() enqueues every relationship once they have.
    if (!this.synced) return;
    const ns = obj.metadata.namespace;
    switch (kind) {
      // The scopes of the namespace too: whether their relationship exists, and its render, decide their status.
      // And every other relationship on a node it moved onto or off (in any watched namespace): NodeInUse.
      case 'relationships': this.queue.add(`${ns}/${obj.metadata.name}`); if (ns) this.queue.add(scopesKey(ns)); this.enqueueClaimants(nodesChanged, obj); break;
      // A scope may move between relationships or conflict with another's: every relationship in the namespace.
      // A status-only update (the scope status this controller writes) changes no relationship's render.
      case 'scopes': if (scopeSpecChanged) this.enqueueRelationshipsIn(ns); if (ns) this.queue.add(scopesKey(ns)); break;
      case 'secrets': {
        const refers = (r: Obj) => (r as unknown as DhcpFailoverRelationship).spec?.sharedSecretRef?.name === obj.metadata.name;
        this.enqueueRelationshipsIn(ns, refers);
        if (ns && this.items('relationships').some((r) => r.metadata.namespace === ns && refers(r))) this.queue.add(scopesKey(ns));
        break;
      }
      default: {
        const rel = obj.metadata.labels?.[LABELS.relationship];
        if (rel) this.queue.add(`${ns}/${rel}`);
      }
    }
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const kinds = this.kube.kinds;
    const plan: [string, keyof Kube['kinds'], string | undefined][] = [
      ['relationships', 'relationships', undefined], ['scopes', 'scopes', undefined], ['secrets', 'secrets', undefined],
      ['configmaps', 'configmaps', OWNED_SELECTOR], ['statefulsets', 'statefulsets', OWNED_SELECTOR], ['pdbs', 'pdbs', OWNED_SELECTOR],
    ];
    for (const [name, kind, labelSelector] of plan) {
      this.informers.set(name, this.namespaces().map((namespace) => new ResilientInformer({
        kc: this.options.kc, spec: kinds[kind], namespace, labelSelector, clock: this.options.clock,
        resyncMs: this.options.resyncMs ?? 300_000, maxBackoffMs: 30_000, health: this.options.health,
        onChange: (type, obj) => this.onChange(name, obj, type),
      })));
    }
    const all = [...this.informers.values()].flat();
    for (const i of all) void i.start();
    // A half-read world is never applied: a relationship reconciled against an empty scope or Secret cache
    // would render ConfigMaps without scopes. Failed lists are retried by the informers (with backoff).
    await Promise.all(all.map((i) => i.whenSynced()));
    if (!this.running) return;
    this.synced = true;
    this.syncedAt = this.options.clock.now();
    this.poller.start();
    for (const r of this.items('relationships')) this.queue.add(`${r.metadata.namespace}/${r.metadata.name}`);
    for (const ns of new Set(this.items('scopes').map((s) => s.metadata.namespace))) if (ns) this.queue.add(scopesKey(ns));
    log.info('operator.controller.started', { namespaces: this.options.namespaces, identity: this.options.identity });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.synced = false;
    this.poller.stop();
    this.queue.stop();
    for (const i of [...this.informers.values()].flat()) i.stop();
    this.informers.clear();
  }
}

/**
 * /healthz (liveness: the process answers), /readyz (`ready()`, 503 with its reason), /metrics (Prometheus text).
 * Liveness deliberately ignores the API server: a restart makes neither the API server reachable nor the
 * token valid, it only hides the reason behind CrashLoopBackOff and resets the metrics. A wedged event
 * loop does not answer, and that fails the probe.
 */
export async function startOperatorHttp(opts: { port: number; host?: string; metrics: OperatorMetrics; ready: () => boolean | Readiness }): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') { res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'); return; }
    if (path === '/readyz') {
      const r = opts.ready();
      const { ready, reason } = typeof r === 'boolean' ? { ready: r, reason: '' } : r;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok\n' : `not ready${reason ? `: ${reason}` : ''}\n`);
      return;
    }
    if (path === '/metrics') {
      opts.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': opts.metrics.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  const host = opts.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    // A port in use is a BindError naming the setting that moves it, not an unhandled 'error' event.
    const onError = (err: Error) => reject(new BindError({ what: 'operator HTTP', address: host, port: opts.port, setting: 'HTTP_PORT' }, err));
    server.once('error', onError);
    server.listen(opts.port, host, () => { server.off('error', onError); resolve(); });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
