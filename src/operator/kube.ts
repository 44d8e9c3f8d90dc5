// The client edge: @kubernetes/client-node 2.0.1 calls for the kinds the operator reads and writes, and an
// informer wrapper that does not stop silently. client-node's informer stops for good on any error but a
// 410 or a timeout (a dropped connection included) and only emits 'error' (notes: kubernetes.md §1); this
// wrapper restarts it with backoff, and a periodic restart re-lists as a safety net.
import {
  AppsV1Api, CoreV1Api, CustomObjectsApi, ListWatch, PatchStrategy, PolicyV1Api, Watch, setHeaderOptions,
  type KubeConfig, type KubernetesObject,
} from '@kubernetes/client-node';
import type { Clock } from '../clock.ts';
import { log } from '../log.ts';
import type { ApiHealth } from './api-health.ts';
import { FIELD_MANAGER, GROUP, VERSION, type KubeObject } from './render/types.ts';

export type Obj = KubernetesObject & { metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, any>;

export interface KindSpec {
  readonly kind: string;
  /** Watch path for one namespace, or all namespaces when `ns` is undefined. */
  readonly path: (ns: string | undefined) => string;
  readonly list: (ns: string | undefined, labelSelector: string | undefined) => Promise<{ items: Obj[]; metadata?: { resourceVersion?: string } }>;
  /** The config the watch uses, when it differs from the client's (e.g. metadata-only Accept header). */
  readonly watchKubeConfig?: (kc: KubeConfig) => KubeConfig;
}

export interface Kube {
  readonly kinds: Record<'relationships' | 'scopes' | 'secrets' | 'configmaps' | 'statefulsets' | 'pdbs', KindSpec>;
  /** Server-side apply (or its dry run); resolves to the API server's warnings (Warning headers). */
  apply(obj: KubeObject, opts?: { dryRun?: boolean }): Promise<readonly string[]>;
  remove(kind: string, namespace: string, name: string): Promise<void>;
  patchRelationshipStatus(namespace: string, name: string, status: unknown): Promise<void>;
  /** Merge patch of a DhcpScope's `/status`; a scope deleted meanwhile (404) is not an error. */
  patchScopeStatus(namespace: string, name: string, status: unknown): Promise<void>;
  /** Merge patch of the relationship's annotations (null removes one). */
  patchRelationshipAnnotations(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
  /** One Secret with its data (GET; undefined if it does not exist). Never cached: only read when needed. */
  readSecret(namespace: string, name: string): Promise<{ data?: Record<string, string> | undefined } | undefined>;
  event(regarding: { kind: string; namespace: string; name: string; uid?: string | undefined }, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

const applyHeader = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
// Secrets are listed and watched as metadata only (meta.k8s.io PartialObjectMetadata): the operator needs to
// know that a Secret exists and when it changes, never to hold every Secret's data in memory.
const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const METADATA_WATCH = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
const metadataListHeader = setHeaderOptions('Accept', METADATA_LIST);

/** `kc` whose requests ask for `accept` (client-node's Watch takes its headers from the config). */
function withAccept(kc: KubeConfig, accept: string): KubeConfig {
  const out = Object.create(kc) as KubeConfig;
  out.applySecurityAuthentication = async (ctx) => { await kc.applySecurityAuthentication(ctx); ctx.setHeaderParam('Accept', accept); };
  return out;
}
const mergeHeader = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * The texts of RFC 7234 Warning headers as the API server sends them (`299 - "text"`); fetch joins several
 * headers with ", ", so the header is split at each `299 - "`.
 */
export function parseWarnings(header: string | undefined): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const m of header.matchAll(/\d{3} [^ ]+ "((?:[^"\\]|\\.)*)"/g)) out.push(m[1]!.replace(/\\(.)/g, '$1'));
  return out;
}

/** The HTTP status of a client-node error, if any. */
export function statusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  return typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
}

export function createKube(kc: KubeConfig, component: string, instance: string, clock: Clock): Kube {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const crs = kc.makeApiClient(CustomObjectsApi);
  const cr = (plural: string): KindSpec => ({
    kind: plural,
    path: (ns) => (ns ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${plural}` : `/apis/${GROUP}/${VERSION}/${plural}`),
    list: async (ns, labelSelector) => (ns
      ? crs.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural, labelSelector })
      : crs.listClusterCustomObject({ group: GROUP, version: VERSION, plural, labelSelector })) as Promise<{ items: Obj[] }>,
  });
  const coreKind = (plural: string, nsList: (ns: string, sel?: string) => Promise<unknown>, allList: (sel?: string) => Promise<unknown>, prefix = '/api/v1'): KindSpec => ({
    kind: plural,
    path: (ns) => (ns ? `${prefix}/namespaces/${ns}/${plural}` : `${prefix}/${plural}`),
    list: async (ns, sel) => (ns ? nsList(ns, sel) : allList(sel)) as Promise<{ items: Obj[] }>,
  });
  const kinds: Kube['kinds'] = {
    relationships: cr('dhcpfailoverrelationships'),
    scopes: cr('dhcpscopes'),
    secrets: {
      ...coreKind('secrets', (namespace, labelSelector) => core.listNamespacedSecret({ namespace, labelSelector }, metadataListHeader), (labelSelector) => core.listSecretForAllNamespaces({ labelSelector }, metadataListHeader)),
      watchKubeConfig: (config) => withAccept(config, METADATA_WATCH),
    },
    configmaps: coreKind('configmaps', (namespace, labelSelector) => core.listNamespacedConfigMap({ namespace, labelSelector }), (labelSelector) => core.listConfigMapForAllNamespaces({ labelSelector })),
    statefulsets: coreKind('statefulsets', (namespace, labelSelector) => apps.listNamespacedStatefulSet({ namespace, labelSelector }), (labelSelector) => apps.listStatefulSetForAllNamespaces({ labelSelector }), '/apis/apps/v1'),
    pdbs: coreKind('poddisruptionbudgets', (namespace, labelSelector) => policy.listNamespacedPodDisruptionBudget({ namespace, labelSelector }), (labelSelector) => policy.listPodDisruptionBudgetForAllNamespaces({ labelSelector }), '/apis/policy/v1'),
  };

  return {
    kinds,
    async apply(obj, opts = {}) {
      const name = obj.metadata.name, namespace = obj.metadata.namespace ?? 'default';
      const req = { name, namespace, body: obj, fieldManager: FIELD_MANAGER, force: true, ...(opts.dryRun ? { dryRun: 'All' } : {}) };
      const send = (): Promise<{ headers: Record<string, string> }> => {
        switch (obj.kind) {
          case 'ConfigMap': return core.patchNamespacedConfigMapWithHttpInfo(req, applyHeader);
          case 'StatefulSet': return apps.patchNamespacedStatefulSetWithHttpInfo(req, applyHeader);
          case 'PodDisruptionBudget': return policy.patchNamespacedPodDisruptionBudgetWithHttpInfo(req, applyHeader);
          default: throw new Error(`apply: unsupported kind ${obj.kind}`);
        }
      };
      const res = await send();
      return parseWarnings(res.headers.warning);
    },
    async remove(kind, namespace, name) {
      try {
        switch (kind) {
          case 'ConfigMap': await core.deleteNamespacedConfigMap({ name, namespace }); return;
          case 'StatefulSet': await apps.deleteNamespacedStatefulSet({ name, namespace }); return;
          case 'PodDisruptionBudget': await policy.deleteNamespacedPodDisruptionBudget({ name, namespace }); return;
          default: throw new Error(`remove: unsupported kind ${kind}`);
        }
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    },
    async readSecret(namespace, name) {
      try { return await core.readNamespacedSecret({ name, namespace }); } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async patchRelationshipAnnotations(namespace, name, annotations) {
      await crs.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'dhcpfailoverrelationships', name, body: { metadata: { annotations } } }, mergeHeader);
    },
    async patchRelationshipStatus(namespace, name, status) {
      await crs.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: 'dhcpfailoverrelationships', name, body: { status } }, mergeHeader);
    },
    async patchScopeStatus(namespace, name, status) {
      try {
        await crs.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: 'dhcpscopes', name, body: { status } }, mergeHeader);
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    },
    async event(regarding, type, reason, message) {
      const now = new Date(clock.now());
      await core.createNamespacedEvent({
        namespace: regarding.namespace,
        body: {
          metadata: { generateName: `${regarding.name}.`, namespace: regarding.namespace },
          involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: regarding.kind, namespace: regarding.namespace, name: regarding.name, uid: regarding.uid },
          type, reason, message: message.slice(0, 1024),
          source: { component },
          reportingComponent: component, reportingInstance: instance,
          firstTimestamp: now, lastTimestamp: now, count: 1,
        },
      });
    },
  };
}

export interface ResilientInformerOptions {
  readonly kc: KubeConfig;
  readonly spec: KindSpec;
  readonly namespace: string | undefined;
  readonly labelSelector?: string | undefined;
  readonly clock: Clock;
  readonly onChange: (type: 'add' | 'update' | 'delete', obj: Obj) => void;
  /** Full re-list period (safety net for missed events). */
  readonly resyncMs: number;
  readonly maxBackoffMs: number;
  /** Told the outcome of every list and of every watch request (not of a stream that drops once open). */
  readonly health?: ApiHealth | undefined;
}

/**
 * A Watch that reports whether each watch request was answered 200. client-node's `watch()` calls `done`
 * before it returns when the request fails (no answer, or a status other than 200), and later when an open
 * stream ends. A stream that drops once open says nothing about the API server: the next request will.
 */
class ReportingWatch extends Watch {
  private readonly report: (err: unknown) => void;
  constructor(kc: KubeConfig, report: (err: unknown) => void) {
    super(kc);
    this.report = report;
  }

  override async watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: (phase: string, apiObj: any, watchObj?: any) => void, done: (err: any) => void): Promise<AbortController> {
    let open = false, failed = false;
    const controller = await super.watch(path, queryParams, callback, (err: unknown) => {
      if (!open && err) { failed = true; this.report(err); }
      done(err);
    });
    open = true;
    if (!failed) this.report(undefined);
    return controller;
  }
}

/** No error for this long (and at least twice maxBackoffMs): the informer's backoff starts again from its base. */
const QUIET_RESET_MS = 60_000;

/** client-node's list-watch cache, and when its list last succeeded (undefined: never). */
type Informer = ListWatch<Obj> & { listedAt(): number | undefined };

/**
 * client-node's informer, restarted on every error (with backoff) and re-listed every `resyncMs`.
 * `synced()` resolves once a list has succeeded: before that the cache is empty or partial, and nothing may
 * be decided from it. A periodic re-list keeps serving the old cache until the new list has succeeded.
 */
export class ResilientInformer {
  private readonly options: ResilientInformerOptions;
  private informer: Informer;
  private stopped = false;
  private failures = 0;
  private lastFailureAt: number | undefined;
  private restartTimer: { cancel(): void } | undefined;
  private resyncTimer: { cancel(): void } | undefined;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  restarts = 0;

  constructor(options: ResilientInformerOptions) {
    this.options = options;
    this.informer = this.make();
  }

  get hasSynced(): boolean { return this.synced; }
  get failureCount(): number { return this.failures; }

  /** Resolves when the first list has succeeded (at once if it already has). */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** This informer's key in ApiHealth, and its name for people. */
  private get source(): string { return `${this.options.spec.kind}@${this.options.namespace ?? '*'}`; }
  private describe(operation: 'list' | 'watch'): string {
    const { spec, namespace } = this.options;
    return `${operation} ${spec.kind} ${namespace === undefined ? '(all namespaces)' : `in ${namespace}`}`;
  }

  /** `err` undefined: the call succeeded. A stopped informer's calls (aborts included) are not reported. */
  private report(operation: 'list' | 'watch', err: unknown): void {
    const health = this.options.health;
    if (health === undefined || this.stopped) return;
    if (err === undefined) { health.succeeded(this.source); return; }
    // 410 Gone is the watch protocol (re-list), not a failure; an abort is stop()'s doing.
    if (statusOf(err) === 410 || (err as { name?: string })?.name === 'AbortError') return;
    health.failed(this.source, operation, this.describe(operation), err);
  }

  private make(): Informer {
    const { kc, spec, namespace, labelSelector, onChange } = this.options;
    const listed = { at: undefined as number | undefined };
    // The informer applies the label selector to the watch only: the list function must pass it too.
    const listFn = async (): Promise<never> => {
      let list: Awaited<ReturnType<KindSpec['list']>>;
      try { list = await spec.list(namespace, labelSelector); } catch (err) { this.report('list', err); throw err; }
      listed.at = this.options.clock.now();
      this.report('list', undefined);
      return list as never;
    };
    const watch = new ReportingWatch(spec.watchKubeConfig ? spec.watchKubeConfig(kc) : kc, (err) => this.report('watch', err));
    const inf: Informer = Object.assign(new ListWatch<Obj>(spec.path(namespace), watch, listFn, false, labelSelector), {
      listedAt: () => listed.at,
    });
    inf.on('add', (o) => onChange('add', o));
    inf.on('update', (o) => onChange('update', o));
    inf.on('delete', (o) => onChange('delete', o));
    // No reset on 'connect': client-node emits it before every attempt, failed ones included.
    inf.on('error', (err: unknown) => {
      if (this.stopped || inf !== this.informer || (err as { name?: string })?.name === 'AbortError') return;
      this.scheduleRestart(err);
    });
    return inf;
  }

  private backoffMs(): number {
    return Math.min(this.options.maxBackoffMs, 100 * 2 ** Math.min(this.failures - 1, 16));
  }

  private scheduleRestart(err: unknown): void {
    // Reset only after a quiet spell longer than the longest backoff: a server that stays down (or a lasting
    // 403, a deleted CRD) keeps failing within the backoff and so keeps the full delay.
    const now = this.options.clock.now();
    const quietMs = Math.max(QUIET_RESET_MS, 2 * this.options.maxBackoffMs);
    if (this.lastFailureAt !== undefined && now - this.lastFailureAt >= quietMs) this.failures = 0;
    this.lastFailureAt = now;
    this.failures++;
    const delay = this.backoffMs();
    log.warn('operator.informer.restart', { kind: this.options.spec.kind, namespace: this.options.namespace, failures: this.failures, delayMs: delay, code: statusOf(err), err: String((err as Error)?.message ?? err) });
    this.restartTimer?.cancel();
    this.restartTimer = this.options.clock.setTimer(delay, () => { void this.restart(false); });
  }

  private markSynced(): void {
    if (this.synced || this.informer.listedAt() === undefined) return;
    this.synced = true;
    const waiters = this.syncWaiters; this.syncWaiters = [];
    for (const w of waiters) w();
  }

  /** Starts listing and watching; a failed first list is retried with backoff (see `whenSynced`). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.informer.start();
    this.markSynced();
    this.scheduleResync();
  }

  private scheduleResync(delayMs = this.options.resyncMs): void {
    this.resyncTimer?.cancel();
    this.resyncTimer = this.options.clock.setTimer(delayMs, () => { void this.restart(true); });
  }

  /** `relist`: a fresh informer (new list, deletes and updates computed against the old cache). */
  private async restart(relist: boolean): Promise<void> {
    if (this.stopped) return;
    this.restarts++;
    if (!relist) {
      try { await this.informer.start(); } catch { /* reported through 'error' */ }
      this.markSynced();
      return;
    }
    // Keep serving reads from the old cache until the new informer has listed.
    const old = this.informer;
    const before = new Map(old.list().map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));
    const fresh = this.make();
    let failure: unknown;
    fresh.on('error', (err: unknown) => { failure ??= err; });
    try { await fresh.start(); } catch (err) { failure ??= err; }
    if (this.stopped) { void fresh.stop(); return; }
    if (fresh.listedAt() === undefined) {
      // The re-list failed: never swap in an empty cache; try again later, the old informer keeps watching.
      void fresh.stop();
      log.warn('operator.informer.relist_failed', { kind: this.options.spec.kind, namespace: this.options.namespace, err: String((failure as Error)?.message ?? failure) });
      this.scheduleResync(Math.min(this.options.resyncMs, this.options.maxBackoffMs));
      return;
    }
    this.informer = fresh;
    void old.stop();
    this.markSynced();
    // The fresh cache reports everything as 'add'; objects gone meanwhile must still be seen as deleted.
    const now = new Set(fresh.list().map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`));
    for (const [k, o] of before) if (!now.has(k)) this.options.onChange('delete', o);
    // A watch error after the fresh list succeeded: the fresh informer is current now, restart it.
    if (failure !== undefined && !this.stopped) this.scheduleRestart(failure);
    this.scheduleResync();
  }

  list(): readonly Obj[] { return this.informer.list(); }
  get(name: string, namespace?: string): Obj | undefined { return this.informer.get(name, namespace); }

  /** Stops watching; `whenSynced()` waiters are released (callers check whether they were stopped). */
  stop(): void {
    this.stopped = true;
    this.options.health?.forget(this.source);
    const waiters = this.syncWaiters; this.syncWaiters = [];
    for (const w of waiters) w();
    this.restartTimer?.cancel();
    this.resyncTimer?.cancel();
    void this.informer.stop();
  }
}
