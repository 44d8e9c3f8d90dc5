// A bare Kubernetes control plane for one test file: etcd + kube-apiserver on 127.0.0.1 with free ports, PKI
// and state in a private temp dir. The same thing controller-runtime's envtest gives Go operators: real
// storage, schemas and CEL, defaulting, pruning, RBAC, server-side apply, watches, admission; no scheduler,
// controller-manager or kubelet (so no pods run, nothing garbage-collects, no "default" ServiceAccounts).
//
//   describe('…', { skip: controlPlaneUnavailable }, () => {
//     let cp: ControlPlane;
//     before(async () => { cp = await startControlPlane(); });
//     after(() => cp?.stop());
//   });
//
// Binaries: test/fakes/kube-binaries.ts ($KUBEBUILDER_ASSETS, then ../shared/k8s/). kube-apiserver flags as in
// ../shared/k8s/start.sh. Processes are stopped by PID only; every wait is bounded; logs go to <dir>/log/ and
// their last lines are printed when something fails.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException, ApiextensionsV1Api, CoreV1Api, KubeConfig, type KubernetesObject,
} from '@kubernetes/client-node';
import { dump, loadAll } from 'js-yaml';
import { kubeTools } from './helm.ts';
import { controlPlaneBinaries, whyNoControlPlane, type ControlPlaneBinaries } from './kube-binaries.ts';
import { makeControlPlanePki, type ControlPlanePki } from './kube-pki.ts';
import { ProcessTracker, run, sleep, waitFor, type RunResult, type TrackedProcess } from './processes.ts';

export { whyNoControlPlane, type ControlPlaneBinaries } from './kube-binaries.ts';

/** Why no control plane can start on this machine (what is missing, how to get it), or undefined. Read once at import. */
export const controlPlaneUnavailable: string | undefined = whyNoControlPlane();

export interface ControlPlaneOptions {
  /** Appended to the kube-apiserver flags. */
  readonly apiServerArgs?: readonly string[];
  /** Bound on each wait for the apiserver's /readyz; default 90 s. */
  readonly readyTimeoutMs?: number;
}

export interface ApplyOptions {
  /** Server-side dry run (`dryRun=All`): validated and defaulted, not stored. */
  readonly dryRun?: boolean;
  readonly fieldManager?: string;
}

/** A Kubernetes `Status` returned for a failed request. */
export interface KubeStatus {
  readonly code: number;
  readonly reason: string;
  readonly message: string;
  readonly causes: readonly { readonly reason?: string; readonly message?: string; readonly field?: string }[];
}

/** A request the API server refused, with its `Status`. */
export class KubeApiError extends Error {
  readonly status: KubeStatus;
  constructor(what: string, status: KubeStatus) {
    super(`${what}: ${status.code} ${status.reason}: ${status.message}`);
    this.status = status;
  }
}

export interface ControlPlane {
  /** The private temp dir: pki/, etcd/, log/, kubeconfigs. Removed by stop(). */
  readonly dir: string;
  /** Admin kubeconfig (client certificate in system:masters). */
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly caFile: string;
  readonly ports: { readonly apiServer: number; readonly etcdClient: number; readonly etcdPeer: number };
  readonly binaries: ControlPlaneBinaries;
  /** PIDs of the running processes (the apiserver's is undefined while it is stopped). */
  readonly pids: { readonly apiServer: number | undefined; readonly etcd: number };
  /** A fresh admin client config. */
  kubeConfig(): KubeConfig;
  /**
   * Server-side apply (force) of every object in `input`, in order: YAML or JSON text (multi-document) or objects,
   * sent as they are. Returns what the server stored (or would, with dryRun); throws KubeApiError on a refusal.
   */
  apply(input: string | object | readonly object[], opts?: ApplyOptions): Promise<KubernetesObject[]>;
  /** kubectl (from the kubectl layer, test/fakes/helm.ts) with the admin kubeconfig, or `kubeconfig`. */
  kubectl(args: readonly string[], opts?: { input?: string; allowFail?: boolean; kubeconfig?: string; timeoutMs?: number }): Promise<RunResult>;
  /** Waits until every named CRD has condition Established=True. */
  waitForCrdsEstablished(names: readonly string[], timeoutMs?: number): Promise<void>;
  /** A token for ServiceAccount namespace/name (created if absent) from the TokenRequest API; seconds ≥ 600. */
  createServiceAccountToken(namespace: string, name: string, seconds: number): Promise<string>;
  /** Writes a kubeconfig using `token` (and this cluster's CA) into dir; returns its path. */
  kubeconfigForToken(token: string): string;
  /** Stops only the apiserver (SIGTERM if graceful, else SIGKILL) and starts it again on the same port and etcd. */
  restartApiServer(opts: { graceful: boolean }): Promise<void>;
  /** Stops the apiserver by PID; graceful (SIGTERM, the default) or SIGKILL. */
  stopApiServer(opts?: { graceful?: boolean }): Promise<void>;
  /** Starts the apiserver again (after stopApiServer) and waits for /readyz. */
  startApiServer(): Promise<void>;
  /** The last `lines` lines of a process log. */
  logTail(which: 'etcd' | 'kube-apiserver', lines?: number): string;
  /** One raw request as admin (`path` from /api or /apis); the parsed JSON answer and the status code. */
  api(method: string, path: string, body?: unknown, contentType?: string): Promise<{ code: number; json: any }>;
  /** Stops both processes by PID, waits for their exit, removes dir. Idempotent. */
  stop(): Promise<void>;
}

const TAIL_LINES = 40;
const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** `count` distinct free loopback ports, found by binding port 0 (all held open until each is known). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

function tailOf(file: string, lines: number): string {
  try { return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n'); } catch { return `(no ${file})`; }
}

/** GET url; true on a 2xx answer within `timeoutMs`. */
function probe(url: string, tls: { ca: Buffer; cert: Buffer; key: Buffer } | undefined, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = tls
      ? httpsRequest(url, { ...tls, agent: false, timeout: timeoutMs })
      : httpRequest(url, { agent: false, timeout: timeoutMs });
    req.on('response', (res) => { res.resume(); resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300); });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** The Status in a client-node ApiException, or undefined for any other error. */
export function kubeStatusOf(err: unknown): KubeStatus | undefined {
  if (!(err instanceof ApiException)) return undefined;
  let body: Record<string, any> = {};
  try { body = typeof err.body === 'string' ? JSON.parse(err.body) : (err.body ?? {}); } catch { body = { message: String(err.body) }; }
  return { code: err.code, reason: String(body['reason'] ?? ''), message: String(body['message'] ?? ''), causes: (body['details']?.['causes'] ?? []) as KubeStatus['causes'] };
}

class KubeControlPlane implements ControlPlane {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly caFile: string;
  readonly ports: ControlPlane['ports'];
  readonly binaries: ControlPlaneBinaries;
  private readonly pki: ControlPlanePki;
  private readonly opts: ControlPlaneOptions;
  private readonly tracker = new ProcessTracker();
  private readonly onExit = (): void => this.tracker.killAllSync();
  private etcd: TrackedProcess | undefined;
  private apiServer: TrackedProcess | undefined;
  private readonly tls: { ca: Buffer; cert: Buffer; key: Buffer };
  private readonly discovery = new Map<string, { name: string; kind: string; namespaced: boolean }[]>();
  private tokenConfigs = 0;
  private stopped = false;
  /** Logs already printed by failure(), not printed again by stop(). */
  private readonly reported = new Set<string>();
  /** Processes this harness asked to stop (a graceful apiserver exits with code 0, not by the signal). */
  private readonly stopping = new Set<TrackedProcess>();

  constructor(dir: string, pki: ControlPlanePki, binaries: ControlPlaneBinaries, ports: ControlPlane['ports'], opts: ControlPlaneOptions) {
    this.dir = dir;
    this.pki = pki;
    this.binaries = binaries;
    this.ports = ports;
    this.opts = opts;
    this.server = `https://127.0.0.1:${ports.apiServer}`;
    this.caFile = pki.caCert;
    this.kubeconfigPath = join(dir, 'kubeconfig');
    this.tls = { ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) };
    this.writeKubeconfig(this.kubeconfigPath, { 'client-certificate': pki.adminCert, 'client-key': pki.adminKey });
    process.on('exit', this.onExit);
  }

  get pids(): ControlPlane['pids'] {
    return { apiServer: this.apiServer?.running ? this.apiServer.pid : undefined, etcd: this.etcd?.pid ?? -1 };
  }

  private log(which: 'etcd' | 'kube-apiserver'): string { return join(this.dir, 'log', `${which}.log`); }

  logTail(which: 'etcd' | 'kube-apiserver', lines = TAIL_LINES): string { return tailOf(this.log(which), lines); }

  private failure(which: 'etcd' | 'kube-apiserver', what: string): Error {
    const tail = this.logTail(which);
    this.reported.add(which);
    process.stderr.write(`kube-control-plane: ${what}; last lines of ${this.log(which)}:\n${tail}\n`);
    return new Error(`${what} (${this.binaries.source}); last lines of ${which}.log:\n${tail}`);
  }

  private writeKubeconfig(path: string, user: Record<string, string>): void {
    writeFileSync(path, dump({
      apiVersion: 'v1', kind: 'Config',
      clusters: [{ name: 'test', cluster: { server: this.server, 'certificate-authority': this.caFile } }],
      users: [{ name: 'user', user }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'user' } }],
      'current-context': 'test',
    }), { mode: 0o600 });
  }

  async startEtcd(): Promise<void> {
    const { etcdClient: c, etcdPeer: p } = this.ports;
    const client = `http://127.0.0.1:${c}`, peer = `http://127.0.0.1:${p}`;
    mkdirSync(join(this.dir, 'etcd'), { mode: 0o700 });
    this.etcd = this.tracker.spawn(this.binaries.etcd, [
      '--name', 'test', '--data-dir', join(this.dir, 'etcd'),
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `test=${peer}`, '--initial-cluster-state', 'new',
      '--quota-backend-bytes', String(2 * 1024 ** 3),
    ], { logFile: this.log('etcd') });
    const etcd = this.etcd;
    try {
      await waitFor('etcd /health', async () => {
        if (!etcd.running) throw new Error(`etcd exited (${JSON.stringify(etcd.exit)})`);
        return probe(`${client}/health`, undefined);
      }, { timeoutMs: 30_000, intervalMs: 100 });
    } catch (err) {
      throw this.failure('etcd', `etcd did not become healthy on ${client}: ${(err as Error).message}`);
    }
  }

  async startApiServer(): Promise<void> {
    if (this.apiServer?.running) throw new Error(`kube-apiserver already running (pid ${this.apiServer.pid})`);
    const p = this.pki;
    this.apiServer = this.tracker.spawn(this.binaries.kubeApiServer, [
      '--etcd-servers', `http://127.0.0.1:${this.ports.etcdClient}`,
      '--bind-address', '127.0.0.1', '--advertise-address', '127.0.0.1', '--secure-port', String(this.ports.apiServer),
      '--tls-cert-file', p.servingCert, '--tls-private-key-file', p.servingKey,
      '--client-ca-file', p.caCert,
      '--service-account-issuer', SA_ISSUER,
      '--service-account-key-file', p.saPub, '--service-account-signing-key-file', p.saKey,
      '--api-audiences', SA_ISSUER,
      '--service-cluster-ip-range', '10.96.0.0/12',
      '--authorization-mode', 'RBAC',
      '--allow-privileged=true',
      // The "kubernetes" Endpoints may not hold a loopback address.
      '--endpoint-reconciler-type', 'none',
      '--cert-dir', join(this.dir, 'pki/generated'),
      '--profiling=false',
      ...(this.opts.apiServerArgs ?? []),
    ], { logFile: this.log('kube-apiserver') });
    const api = this.apiServer;
    const timeoutMs = this.opts.readyTimeoutMs ?? 90_000;
    try {
      await waitFor('kube-apiserver /readyz', async () => {
        if (!api.running) throw new Error(`kube-apiserver exited (${JSON.stringify(api.exit)})`);
        return probe(`${this.server}/readyz`, this.tls);
      }, { timeoutMs, intervalMs: 200 });
    } catch (err) {
      this.stopping.add(api);
      await api.stop({ signal: 'SIGKILL' });
      throw this.failure('kube-apiserver', `kube-apiserver not ready on ${this.server}: ${(err as Error).message}`);
    }
  }

  async stopApiServer(opts: { graceful?: boolean } = {}): Promise<void> {
    const api = this.apiServer;
    if (!api?.running) return;
    const graceful = opts.graceful ?? true;
    this.stopping.add(api);
    const exit = await api.stop(graceful ? { signal: 'SIGTERM', graceMs: 30_000 } : { signal: 'SIGKILL' });
    if (api.running) throw this.failure('kube-apiserver', `kube-apiserver pid ${api.pid} did not exit`);
    if (graceful && exit.signal === 'SIGKILL') process.stderr.write(`kube-control-plane: kube-apiserver ignored SIGTERM for 30 s and was killed\n`);
  }

  async restartApiServer(opts: { graceful: boolean }): Promise<void> {
    await this.stopApiServer(opts);
    await this.startApiServer();
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    return kc;
  }

  api(method: string, path: string, body?: unknown, contentType?: string): Promise<{ code: number; json: any }> {
    return this.request(method, path, body, contentType);
  }

  /** One request as admin, the body sent as it is (client-node's typed serializer drops x-kubernetes-* keys). */
  private request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ code: number; json: any }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(`${this.server}${path}`, {
        ...this.tls, method, agent: false, timeout: 30_000,
        headers: { Accept: 'application/json', ...(payload !== undefined ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) } : {}) },
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => { text += d; });
        res.on('end', () => {
          let json: any;
          try { json = JSON.parse(text); } catch { json = { message: text }; }
          resolve({ code: res.statusCode ?? 0, json });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** The resource (plural, namespaced) serving apiVersion/kind, from discovery; asked again on a miss (new CRDs). */
  private async resourceFor(apiVersion: string, kind: string): Promise<{ plural: string; namespaced: boolean }> {
    const find = (): { plural: string; namespaced: boolean } | undefined => {
      const r = this.discovery.get(apiVersion)?.find((x) => x.kind === kind && !x.name.includes('/'));
      return r && { plural: r.name, namespaced: r.namespaced };
    };
    const cached = find();
    if (cached) return cached;
    // A group/version of a CRD that has just become Established may take a moment to appear: ask for up to 5 s.
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    let last = '';
    for (const deadline = Date.now() + 5_000; ;) {
      const res = await this.request('GET', path);
      if (res.code === 200) {
        this.discovery.set(apiVersion, res.json.resources);
        const found = find();
        if (found) return found;
        last = `the API server serves no kind ${kind} in ${apiVersion}`;
      } else {
        last = `discovery of ${apiVersion}: ${res.code} ${String(res.json?.message ?? '')}`;
      }
      if (Date.now() >= deadline) throw new Error(last);
      await sleep(200);
    }
  }

  async apply(input: string | object | readonly object[], opts: ApplyOptions = {}): Promise<KubernetesObject[]> {
    const docs = typeof input === 'string' ? loadAll(input) : Array.isArray(input) ? input : [input];
    const out: KubernetesObject[] = [];
    for (const doc of docs) {
      if (doc == null) continue;
      const obj = doc as KubernetesObject;
      const what = `apply ${obj.kind ?? '?'}/${obj.metadata?.name ?? '?'}`;
      if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) throw new Error(`${what}: apiVersion, kind and metadata.name are required`);
      const { plural, namespaced } = await this.resourceFor(obj.apiVersion, obj.kind);
      const base = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
      const ns = namespaced ? `/namespaces/${encodeURIComponent(obj.metadata.namespace ?? 'default')}` : '';
      const query = new URLSearchParams({ fieldManager: opts.fieldManager ?? 'kube-control-plane-test', force: 'true', ...(opts.dryRun ? { dryRun: 'All' } : {}) });
      const res = await this.request('PATCH', `${base}${ns}/${plural}/${encodeURIComponent(obj.metadata.name)}?${query}`, obj, 'application/apply-patch+yaml');
      if (res.code < 200 || res.code > 299) {
        const j = res.json ?? {};
        throw new KubeApiError(what, { code: res.code, reason: String(j.reason ?? ''), message: String(j.message ?? ''), causes: j.details?.causes ?? [] });
      }
      out.push(res.json as KubernetesObject);
    }
    return out;
  }

  async kubectl(args: readonly string[], opts: { input?: string; allowFail?: boolean; kubeconfig?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return run(kubeTools().kubectl, ['--kubeconfig', opts.kubeconfig ?? this.kubeconfigPath, ...args], {
      timeoutMs: opts.timeoutMs ?? 30_000,
      ...(opts.allowFail !== undefined ? { allowFail: opts.allowFail } : {}),
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: this.dir },
    });
  }

  async waitForCrdsEstablished(names: readonly string[], timeoutMs = 30_000): Promise<void> {
    const ext = this.kubeConfig().makeApiClient(ApiextensionsV1Api);
    await waitFor(`CRDs Established: ${names.join(', ')}`, async () => {
      for (const name of names) {
        const crd = await ext.readCustomResourceDefinition({ name });
        if (!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return false;
      }
      return true;
    }, { timeoutMs, intervalMs: 100 });
  }

  async createServiceAccountToken(namespace: string, name: string, seconds: number): Promise<string> {
    const core = this.kubeConfig().makeApiClient(CoreV1Api);
    try {
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace } } });
    } catch (err) {
      if (kubeStatusOf(err)?.code !== 409) throw err;
    }
    const tr = await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [SA_ISSUER], expirationSeconds: seconds } } });
    const token = tr.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
    return token;
  }

  kubeconfigForToken(token: string): string {
    const path = join(this.dir, `kubeconfig-token-${++this.tokenConfigs}`);
    this.writeKubeconfig(path, { token });
    return path;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      for (const [which, proc] of [['kube-apiserver', this.apiServer], ['etcd', this.etcd]] as const) {
        if (!proc) continue;
        if (!proc.running && !this.stopping.has(proc) && !this.reported.has(which)) {
          process.stderr.write(`kube-control-plane: ${which} had exited by itself (${JSON.stringify(proc.exit)}); last lines:\n${this.logTail(which)}\n`);
        }
        this.stopping.add(proc);
        await proc.stop({ signal: 'SIGTERM', graceMs: 5_000 });
        if (proc.running) throw new Error(`${which} pid ${proc.pid} did not exit after SIGKILL`);
      }
    } finally {
      process.off('exit', this.onExit);
      if (!this.tracker.all.some((p) => p.running)) rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/**
 * Starts etcd and kube-apiserver on free loopback ports and waits for /readyz. Throws (with the log tail)
 * if either fails; throws `controlPlaneUnavailable`'s reason when there are no binaries.
 */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binaries = await controlPlaneBinaries();
  // A port found free may be taken before etcd or the apiserver binds it: then try again with new ports.
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'kube-control-plane-'));
    mkdirSync(join(dir, 'log'));
    mkdirSync(join(dir, 'pki'), { mode: 0o700 });
    const [apiServer, etcdClient, etcdPeer] = await freePorts(3) as [number, number, number];
    const cp = new KubeControlPlane(dir, await makeControlPlanePki(join(dir, 'pki')), binaries, { apiServer, etcdClient, etcdPeer }, opts);
    try {
      await cp.startEtcd();
      await cp.startApiServer();
      return cp;
    } catch (err) {
      const clash = /address already in use/.test(cp.logTail('etcd') + cp.logTail('kube-apiserver'));
      await cp.stop();
      if (!clash || attempt >= 3) throw err;
    }
  }
}
