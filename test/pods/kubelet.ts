// The kubelet's part for one pod, with podman as the container runtime: volumes (ConfigMap and Secret
// projections with the `..data` swap, emptyDir, a PVC as a host directory that outlives the pod), env
// resolved from secretKeyRef/configMapKeyRef/fieldRef, each container started as podman-args.ts says,
// readiness and liveness probes run as the kubelet runs them (httpGet to the pod's address, exec in the
// container; periodSeconds, initialDelaySeconds, timeoutSeconds, failureThreshold), a container that exits
// or fails its liveness probe restarted (restartPolicy Always, back-off 0 s then 10 s doubling), and the
// referenced ConfigMaps and Secrets re-read and re-projected on `syncVolumes()` (the kubelet's sync).
// Containers are podman objects, removed by name; no host process is signalled by name.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from '../fakes/processes.ts';
import { filesOf, writeProjection, type ProjectedFile } from './projected-volume.ts';
import { ContainerConfigError, expand, podmanRunArgs, type Json } from './podman-args.ts';

export interface ObjectSource {
  configMap(namespace: string, name: string): Promise<ReadonlyMap<string, Buffer> | undefined>;
  secret(namespace: string, name: string): Promise<ReadonlyMap<string, Buffer> | undefined>;
  /** A bound token for a projected serviceAccountToken source (TokenRequest). */
  serviceAccountToken(namespace: string, serviceAccount: string, seconds: number): Promise<string>;
}

export interface NodeHost {
  readonly name: string;
  /** Network namespace of the node (hostNetwork pods join it); undefined: the host's own network. */
  readonly netns?: string;
  /** The node's address: a hostNetwork pod's IP, where httpGet probes go. */
  readonly ip: string;
}

export interface KubeletOptions {
  /** Where pod volumes live: <root>/pods/<pod>/volumes/<name>; PVCs under <root>/pvc/<claim>. */
  readonly root: string;
  readonly source: ObjectSource;
  readonly runtime?: string;
  readonly ulimits?: readonly string[];
  /** Label on every container, for a sweep after a crash of the test. */
  readonly label: string;
  readonly log?: (line: string) => void;
}

interface ContainerRun {
  readonly spec: Json;
  readonly name: string;
  ready: boolean;
  restarts: number;
  startedAt: number;
  nextRestartAt: number;
  backoffMs: number;
  failures: { readiness: number; liveness: number };
  lastProbe: { readiness: number; liveness: number };
  state: 'running' | 'waiting';
}

export class PodRun {
  readonly namespace: string;
  readonly name: string;
  readonly node: NodeHost;
  readonly spec: Json;
  readonly dir: string;
  readonly containers: ContainerRun[] = [];
  private readonly kubelet: Kubelet;
  private readonly claims: ReadonlyMap<string, string>;
  private timer: NodeJS.Timeout | undefined;
  private token: string | undefined;
  private ticking = false;
  private stopped = false;
  /** Why a container could not be started (CreateContainerConfigError and the like). */
  lastError: string | undefined;

  constructor(kubelet: Kubelet, namespace: string, name: string, node: NodeHost, spec: Json, claims: ReadonlyMap<string, string>) {
    this.kubelet = kubelet; this.namespace = namespace; this.name = name; this.node = node; this.spec = spec; this.claims = claims;
    this.dir = join(kubelet.options.root, 'pods', `${namespace}_${name}`);
  }

  get ready(): boolean { return this.containers.length > 0 && this.containers.every((c) => c.ready); }
  restartsOf(container: string): number { return this.containers.find((c) => c.spec['name'] === container)?.restarts ?? 0; }
  containerName(container: string): string { return `k8s_${container}_${this.name}_${this.namespace}`; }

  async start(): Promise<void> {
    await this.syncVolumes();
    for (const c of (this.spec['containers'] ?? []) as Json[]) {
      const run: ContainerRun = {
        spec: c, name: this.containerName(c['name'] as string), ready: false, restarts: 0, startedAt: 0, nextRestartAt: 0, backoffMs: 0,
        failures: { readiness: 0, liveness: 0 }, lastProbe: { readiness: 0, liveness: 0 }, state: 'waiting',
      };
      this.containers.push(run);
      await this.kubelet.podman(['rm', '-f', '--ignore', run.name], { allowFail: true });
      await this.startContainer(run);
    }
    this.timer = setInterval(() => { void this.tick(); }, 500);
  }

  /** Re-reads the ConfigMaps and Secrets the pod mounts and swaps in what changed. True if anything changed. */
  async syncVolumes(): Promise<boolean> {
    const fsGroup = this.spec['securityContext']?.['fsGroup'] as number | undefined;
    let changed = false;
    for (const v of (this.spec['volumes'] ?? []) as Json[]) {
      const path = this.volumePath(v['name'] as string);
      if (v['configMap'] || v['secret']) {
        const src = (v['configMap'] ?? v['secret']) as Json;
        const name = (src['name'] ?? src['secretName']) as string;
        const data = v['configMap'] ? await this.kubelet.options.source.configMap(this.namespace, name) : await this.kubelet.options.source.secret(this.namespace, name);
        if (data === undefined) { if (src['optional'] !== true) this.lastError = `${v['configMap'] ? 'configmap' : 'secret'} "${name}" not found`; continue; }
        changed = writeProjection(path, filesOf(src, data), fsGroup) || changed;
      } else if (v['projected']) {
        changed = writeProjection(path, await this.projectedFiles(v['projected'] as Json), fsGroup) || changed;
      } else if (v['emptyDir']) {
        makeDir(path, 0o777, fsGroup);
      } else if (v['persistentVolumeClaim']) {
        // Bound already (claims map): nothing to project.
      } else {
        throw new Error(`pod ${this.name}: volume ${v['name']} of an unsupported type`);
      }
    }
    return changed;
  }

  /** serviceAccountToken, configMap and downwardAPI sources (what the ServiceAccount admission plugin injects). */
  private async projectedFiles(p: Json): Promise<ProjectedFile[]> {
    const mode = (p['defaultMode'] as number | undefined) ?? 0o644;
    const out: ProjectedFile[] = [];
    for (const src of (p['sources'] ?? []) as Json[]) {
      if (src['serviceAccountToken']) {
        const t = src['serviceAccountToken'] as Json;
        const sa = (this.spec['serviceAccountName'] as string | undefined) ?? 'default';
        if (this.token === undefined) this.token = await this.kubelet.options.source.serviceAccountToken(this.namespace, sa, (t['expirationSeconds'] as number | undefined) ?? 3607);
        out.push({ path: t['path'] as string, data: Buffer.from(this.token), mode });
      } else if (src['configMap']) {
        const data = await this.kubelet.options.source.configMap(this.namespace, src['configMap']['name'] as string);
        if (data !== undefined) out.push(...filesOf({ ...(src['configMap'] as Json), defaultMode: mode }, data));
      } else if (src['downwardAPI']) {
        for (const i of (src['downwardAPI']['items'] ?? []) as Json[]) {
          const field = i['fieldRef']?.['fieldPath'] as string;
          const value = ({ 'metadata.name': this.name, 'metadata.namespace': this.namespace } as Record<string, string>)[field];
          if (value === undefined) throw new Error(`downwardAPI ${field} is not supported by this harness`);
          out.push({ path: i['path'] as string, data: Buffer.from(value), mode });
        }
      }
    }
    return out;
  }

  volumePath(volume: string): string {
    return this.claims.get(volume) ?? join(this.dir, 'volumes', volume);
  }

  private async envOf(c: Json): Promise<[string, string][]> {
    const out: [string, string][] = [];
    const known = new Map<string, string>();
    for (const e of (c['env'] ?? []) as Json[]) {
      let value: string | undefined;
      if (e['value'] !== undefined) value = expand(e['value'] as string, known);
      else if (e['valueFrom']?.['secretKeyRef']) {
        const r = e['valueFrom']['secretKeyRef'] as Json;
        value = (await this.kubelet.options.source.secret(this.namespace, r['name'] as string))?.get(r['key'] as string)?.toString('utf8');
        if (value === undefined && r['optional'] !== true) throw new ContainerConfigError(`secret "${r['name']}" key "${r['key']}" not found`);
      } else if (e['valueFrom']?.['configMapKeyRef']) {
        const r = e['valueFrom']['configMapKeyRef'] as Json;
        value = (await this.kubelet.options.source.configMap(this.namespace, r['name'] as string))?.get(r['key'] as string)?.toString('utf8');
        if (value === undefined && r['optional'] !== true) throw new ContainerConfigError(`configmap "${r['name']}" key "${r['key']}" not found`);
      } else if (e['valueFrom']?.['fieldRef']) {
        const field = e['valueFrom']['fieldRef']['fieldPath'] as string;
        value = ({ 'metadata.name': this.name, 'metadata.namespace': this.namespace, 'spec.nodeName': this.node.name, 'status.podIP': this.node.ip, 'status.hostIP': this.node.ip } as Record<string, string>)[field];
        if (value === undefined) throw new ContainerConfigError(`fieldRef ${field} is not supported by this harness`);
      }
      if (value === undefined) continue;
      known.set(e['name'] as string, value);
      out.push([e['name'] as string, value]);
    }
    return out;
  }

  private async startContainer(c: ContainerRun): Promise<void> {
    let args: string[];
    let env: [string, string][];
    try {
      env = await this.envOf(c.spec);
      args = podmanRunArgs(this.spec, c.spec, {
        network: this.spec['hostNetwork'] === true && this.node.netns !== undefined ? `ns:/run/netns/${this.node.netns}` : 'host',
        volumePath: (v) => this.volumePath(v), env, name: c.name,
        labels: { [this.kubelet.options.label]: 'true', 'io.kubernetes.pod.name': this.name },
        ulimits: this.kubelet.options.ulimits ?? [],
      });
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      this.lastError = err.message;
      this.kubelet.say(`${this.name}/${c.spec['name']}: CreateContainerConfigError: ${err.message}`);
      c.state = 'waiting';
      c.nextRestartAt = Date.now() + 2000;
      return;
    }
    await this.kubelet.podman(['rm', '-f', '--ignore', c.name], { allowFail: true });
    const r = await this.kubelet.podman(['run', ...args], { allowFail: true, env: { ...process.env, ...Object.fromEntries(env) } });
    if (r.code !== 0) {
      const why = r.stderr.trim().split('\n').pop();
      if (why !== this.lastError) this.kubelet.say(`${this.name}/${c.spec['name']}: podman run failed: ${why}`);
      this.lastError = why;
      c.state = 'waiting';
      c.nextRestartAt = Date.now() + 2000;
      return;
    }
    c.state = 'running';
    c.ready = false;
    c.startedAt = Date.now();
    c.failures = { readiness: 0, liveness: 0 };
    c.lastProbe = { readiness: 0, liveness: 0 };
  }

  /** Restart a container as the kubelet does after a crash or a failed liveness probe (the count goes up). */
  private async restartContainer(c: ContainerRun, why: string): Promise<void> {
    c.restarts++;
    c.ready = false;
    // What the previous instance said (kubectl logs --previous), kept beside the pod's volumes.
    const previous = await this.kubelet.podman(['logs', c.name], { allowFail: true });
    mkdirSync(this.dir, { recursive: true });
    appendFileSync(join(this.dir, `${c.spec['name']}.previous.log`), `--- before restart ${c.restarts} (${why})\n${previous.stdout}${previous.stderr}`);
    const last = `${previous.stdout}${previous.stderr}`.trim().split('\n').slice(-3).join(' | ');
    this.kubelet.say(`${this.name}/${c.spec['name']}: restart ${c.restarts} (${why}); last lines: ${last}`);
    const grace = String(this.spec['terminationGracePeriodSeconds'] ?? 30);
    await this.kubelet.podman(['stop', '-t', grace, c.name], { allowFail: true, timeoutMs: 60_000 });
    await this.startContainer(c);
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const now = Date.now();
      for (const c of this.containers) {
        if (this.stopped) return;
        if (c.state === 'waiting') { if (now >= c.nextRestartAt) await this.startContainer(c); continue; }
        const status = (await this.kubelet.podman(['inspect', '--format', '{{.State.Status}}', c.name], { allowFail: true })).stdout.trim();
        if (status !== 'running') {
          c.ready = false;
          // restartPolicy Always with the kubelet's back-off: at once, then 10 s doubling (capped at 5 min).
          if (c.nextRestartAt === 0 || now - c.startedAt > 10 * 60_000) { c.backoffMs = 0; }
          if (c.nextRestartAt <= now) {
            c.nextRestartAt = now + c.backoffMs;
            c.backoffMs = c.backoffMs === 0 ? 10_000 : Math.min(2 * c.backoffMs, 300_000);
            await this.restartContainer(c, `container ${status || 'gone'}`);
          }
          continue;
        }
        await this.probe(c, 'readiness', now);
        await this.probe(c, 'liveness', now);
      }
    } finally { this.ticking = false; }
  }

  private async probe(c: ContainerRun, kind: 'readiness' | 'liveness', now: number): Promise<void> {
    const p = c.spec[`${kind}Probe`] as Json | undefined;
    if (p === undefined) { if (kind === 'readiness') c.ready = true; return; }
    const period = ((p['periodSeconds'] as number | undefined) ?? 10) * 1000;
    if (now - c.startedAt < ((p['initialDelaySeconds'] as number | undefined) ?? 0) * 1000 || now - c.lastProbe[kind] < period) return;
    c.lastProbe[kind] = now;
    const ok = await this.runProbe(c, p);
    if (ok) { c.failures[kind] = 0; if (kind === 'readiness') c.ready = true; return; }
    c.failures[kind]++;
    const threshold = (p['failureThreshold'] as number | undefined) ?? 3;
    if (c.failures[kind] < threshold) return;
    if (kind === 'readiness') c.ready = false;
    else await this.restartContainer(c, `liveness probe failed ${c.failures[kind]} times`);
  }

  private async runProbe(c: ContainerRun, p: Json): Promise<boolean> {
    const timeoutS = (p['timeoutSeconds'] as number | undefined) ?? 1;
    if (p['exec']) {
      const r = await this.kubelet.podman(['exec', c.name, ...(p['exec']['command'] as string[])], { allowFail: true, timeoutMs: timeoutS * 1000 + 2000 });
      return r.code === 0;
    }
    if (p['httpGet']) {
      const g = p['httpGet'] as Json;
      const port = typeof g['port'] === 'number' ? g['port'] as number
        : ((c.spec['ports'] ?? []) as Json[]).find((x) => x['name'] === g['port'])?.['containerPort'] as number | undefined;
      if (port === undefined) return false;
      const url = `http://${this.spec['hostNetwork'] === true ? this.node.ip : '127.0.0.1'}:${port}${(g['path'] as string | undefined) ?? '/'}`;
      const curl = ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', String(timeoutS), url];
      const r = this.spec['hostNetwork'] === true && this.node.netns !== undefined
        ? await run('ip', ['netns', 'exec', this.node.netns, ...curl], { allowFail: true, timeoutMs: timeoutS * 1000 + 3000 })
        : await run(curl[0]!, curl.slice(1), { allowFail: true, timeoutMs: timeoutS * 1000 + 3000 });
      const code = Number(r.stdout.trim());
      return code >= 200 && code < 400;
    }
    throw new Error(`probe of ${c.name}: only exec and httpGet are supported`);
  }

  /** Deletes the pod: every container stopped with the grace period, then removed. Volumes but PVCs go. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (let i = 0; this.ticking && i < 200; i++) await new Promise((r) => setTimeout(r, 50));
    const grace = String(this.spec['terminationGracePeriodSeconds'] ?? 30);
    await Promise.all(this.containers.map((c) => this.kubelet.podman(['stop', '-t', grace, c.name], { allowFail: true, timeoutMs: 60_000 })));
    await Promise.all(this.containers.map((c) => this.kubelet.podman(['rm', '-f', '--ignore', c.name], { allowFail: true })));
  }

  /** kill -9 of every container's main process, as when a node loses power: the kubelet restarts them. */
  async crash(container: string): Promise<void> {
    await this.kubelet.podman(['kill', '--signal', 'KILL', this.containerName(container)], { allowFail: true });
  }

  async logs(container: string): Promise<string> {
    const r = await this.kubelet.podman(['logs', this.containerName(container)], { allowFail: true });
    return r.stdout + r.stderr;
  }

  async exec(container: string, cmd: readonly string[]): Promise<RunResult> {
    return this.kubelet.podman(['exec', this.containerName(container), ...cmd], { allowFail: true, timeoutMs: 20_000 });
  }
}

function makeDir(path: string, mode: number, fsGroup: number | undefined): void {
  mkdirSync(path, { recursive: true });
  if (fsGroup !== undefined) { chownSync(path, 0, fsGroup); chmodSync(path, mode | 0o2000); } else chmodSync(path, mode);
}

export class Kubelet {
  readonly options: KubeletOptions;
  constructor(options: KubeletOptions) { this.options = options; }

  say(line: string): void { this.options.log?.(`kubelet: ${line}`); }

  podman(args: readonly string[], opts: { allowFail?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
    return run('podman', ['--runtime', this.options.runtime ?? 'runc', ...args], { timeoutMs: 60_000, ...opts });
  }

  /**
   * Runs a pod on `node`. `claims` maps a volume name to its PVC's host directory (kept across pods);
   * with an fsGroup the kubelet gives the volume to that group (setgid, group-writable).
   */
  async runPod(namespace: string, name: string, node: NodeHost, spec: Json, claims: ReadonlyMap<string, string> = new Map()): Promise<PodRun> {
    const fsGroup = spec['securityContext']?.['fsGroup'] as number | undefined;
    for (const dir of claims.values()) makeDir(dir, 0o775, fsGroup);
    const pod = new PodRun(this, namespace, name, node, spec, claims);
    await pod.start();
    return pod;
  }

  /** Synchronous sweep for a process 'exit' hook: a test run that dies skips after(), its containers must not outlive it. */
  sweepSync(): void {
    const podman = ['--runtime', this.options.runtime ?? 'runc'];
    try {
      const ids = execFileSync('podman', [...podman, 'ps', '-a', '-q', '--filter', `label=${this.options.label}=true`], { encoding: 'utf8', timeout: 30_000 }).split('\n').filter(Boolean);
      if (ids.length > 0) execFileSync('podman', [...podman, 'rm', '-f', '-t', '0', ...ids], { stdio: 'ignore', timeout: 60_000 });
    } catch { /* best effort at exit */ }
  }

  /** Removes every container this kubelet's label marks (after a test run that died). */
  async sweep(): Promise<void> {
    const ids = (await this.podman(['ps', '-a', '-q', '--filter', `label=${this.options.label}=true`], { allowFail: true })).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await this.podman(['rm', '-f', '-t', '2', ...ids], { allowFail: true, timeoutMs: 60_000 });
  }
}
