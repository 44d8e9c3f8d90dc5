// The parts of Kubernetes the test control plane lacks, for the operator's StatefulSets: the StatefulSet
// controller (one pod per replica, named <sts>-<ordinal>, a PVC per volumeClaimTemplate named
// <claim>-<sts>-<ordinal> that survives the pod, RollingUpdate with OrderedReady: the old pod is deleted
// before the new one starts, `status` written back with readyReplicas, observedGeneration and revisions),
// the scheduler's part for these pods (the node from the required node affinity on metadata.name, or
// the kubernetes.io/hostname nodeSelector), and the kubelet (kubelet.ts) on that node, whose ConfigMap and
// Secret volumes are re-synced every `syncMs` (the kubelet's sync period, shortened).
// Not played: Pod objects in the API (nothing of the operator reads them), replicas > 1, partitions.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ControlPlane } from '../fakes/kube-control-plane.ts';
import { Kubelet, type NodeHost, type ObjectSource, type PodRun } from './kubelet.ts';
import type { Json } from './podman-args.ts';

export interface ClusterOptions {
  readonly cp: ControlPlane;
  readonly namespace: string;
  readonly nodes: readonly NodeHost[];
  readonly root: string;
  readonly label: string;
  readonly ulimits?: readonly string[];
  readonly syncMs?: number;
  readonly log?: (line: string) => void;
}

interface Managed { readonly sts: string; revision: string; pod: PodRun | undefined; starting: boolean }

/** The revision name the StatefulSet controller would give a template (a hash of it). */
export function revisionOf(sts: string, template: unknown): string {
  return `${sts}-${createHash('sha256').update(JSON.stringify(template)).digest('hex').slice(0, 10)}`;
}

/** The node a pod template is bound to: required node affinity on metadata.name, or the hostname nodeSelector. */
export function nodeOf(podSpec: Json): string | undefined {
  const terms = podSpec['affinity']?.['nodeAffinity']?.['requiredDuringSchedulingIgnoredDuringExecution']?.['nodeSelectorTerms'] as Json[] | undefined;
  for (const t of terms ?? []) {
    for (const f of (t['matchFields'] ?? []) as Json[]) if (f['key'] === 'metadata.name' && f['operator'] === 'In') return (f['values'] as string[])[0];
  }
  return podSpec['nodeSelector']?.['kubernetes.io/hostname'] as string | undefined;
}

export class Cluster {
  readonly kubelet: Kubelet;
  private readonly o: ClusterOptions;
  private readonly managed = new Map<string, Managed>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private lastSync = 0;
  private stopped = false;
  /** Pods started, in order, by name (a restart of the StatefulSet's pod appears twice). */
  readonly podStarts: string[] = [];

  constructor(o: ClusterOptions) {
    this.o = o;
    const source: ObjectSource = {
      configMap: async (ns, name) => {
        const r = await o.cp.api('GET', `/api/v1/namespaces/${ns}/configmaps/${name}`);
        if (r.code !== 200) return undefined;
        return new Map([
          ...Object.entries((r.json.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'utf8')] as const),
          ...Object.entries((r.json.binaryData ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64')] as const),
        ]);
      },
      secret: async (ns, name) => {
        const r = await o.cp.api('GET', `/api/v1/namespaces/${ns}/secrets/${name}`);
        if (r.code !== 200) return undefined;
        return new Map(Object.entries((r.json.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64')] as const));
      },
      serviceAccountToken: (ns, sa, seconds) => o.cp.createServiceAccountToken(ns, sa, seconds),
    };
    this.kubelet = new Kubelet({ root: o.root, source, label: o.label, ulimits: o.ulimits ?? [], log: o.log });
  }

  start(): void {
    this.timer = setInterval(() => { if (this.ticking === undefined) this.ticking = this.tick().finally(() => { this.ticking = undefined; }); }, 1000);
  }

  pod(sts: string): PodRun | undefined { return this.managed.get(sts)?.pod; }

  private say(line: string): void { this.o.log?.(`statefulset-controller: ${line}`); }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const list = await this.o.cp.api('GET', `/apis/apps/v1/namespaces/${this.o.namespace}/statefulsets`).catch(() => undefined);
    if (list === undefined || list.code !== 200) return;
    const seen = new Set<string>();
    for (const sts of (list.json.items ?? []) as Json[]) {
      const name = sts['metadata']['name'] as string;
      seen.add(name);
      await this.reconcile(sts).catch((err: unknown) => this.say(`${name}: ${(err as Error).message}`));
    }
    for (const [name, m] of this.managed) {
      if (seen.has(name)) continue;
      this.say(`${name} deleted: stopping its pod`);
      await m.pod?.stop();
      this.managed.delete(name);
    }
    if (Date.now() - this.lastSync >= (this.o.syncMs ?? 2000)) {
      this.lastSync = Date.now();
      for (const m of this.managed.values()) {
        if (m.pod && await m.pod.syncVolumes().catch(() => false)) this.say(`${m.pod.name}: ConfigMap/Secret volumes updated`);
      }
    }
  }

  private async reconcile(sts: Json): Promise<void> {
    const name = sts['metadata']['name'] as string;
    const template = sts['spec']['template'] as Json;
    const revision = revisionOf(name, template);
    let m = this.managed.get(name);
    if (m === undefined) { m = { sts: name, revision, pod: undefined, starting: false }; this.managed.set(name, m); }
    if (m.pod !== undefined && m.revision !== revision) {
      // RollingUpdate, one replica, OrderedReady: the old pod goes first, then the new one starts.
      this.say(`${name}: template changed (${m.revision} → ${revision}): deleting ${m.pod.name}`);
      await m.pod.stop();
      m.pod = undefined;
    }
    if (m.pod === undefined && (sts['spec']['replicas'] ?? 1) >= 1) {
      const nodeName = nodeOf(template['spec'] as Json);
      const node = this.o.nodes.find((n) => n.name === nodeName);
      if (node === undefined) { this.say(`${name}: no node ${nodeName ?? '(none given)'}: the pod stays Pending`); return; }
      const podName = `${name}-0`;
      const claims = new Map(((sts['spec']['volumeClaimTemplates'] ?? []) as Json[]).map((c) => {
        const claim = c['metadata']['name'] as string;
        return [claim, join(this.o.root, 'pvc', `${claim}-${podName}`)] as const;
      }));
      m.revision = revision;
      this.podStarts.push(podName);
      this.say(`${podName} on ${node.name} (${revision})`);
      m.pod = await this.kubelet.runPod(this.o.namespace, podName, node, template['spec'] as Json, claims);
    }
    const ready = m.pod?.ready === true ? 1 : 0;
    const status = {
      observedGeneration: sts['metadata']['generation'], replicas: m.pod ? 1 : 0, readyReplicas: ready, availableReplicas: ready,
      currentReplicas: m.pod ? 1 : 0, updatedReplicas: m.pod ? 1 : 0, currentRevision: m.revision, updateRevision: revision, collisionCount: 0,
    };
    const have = (sts['status'] ?? {}) as Json;
    if (Object.entries(status).some(([k, v]) => have[k] !== v)) {
      await this.o.cp.api('PATCH', `/apis/apps/v1/namespaces/${this.o.namespace}/statefulsets/${name}/status`, { status }, 'application/merge-patch+json');
    }
  }

  /** Deletes a pod as `kubectl delete pod` would: the controller starts a new one (same PVC). */
  async deletePod(sts: string): Promise<void> {
    const m = this.managed.get(sts);
    if (m?.pod === undefined) return;
    await m.pod.stop(); // before the next tick can start a replacement under the same container names
    m.pod = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await Promise.all([...this.managed.values()].map((m) => m.pod?.stop()));
    await this.kubelet.sweep();
  }
}
