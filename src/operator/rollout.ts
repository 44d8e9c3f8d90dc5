// One server at a time: which rendered objects may be applied now. A StatefulSet whose pod template
// changed restarts its server when applied; two healthy servers are never restarted together. A
// healthy server is restarted only while its partner is ready and NORMAL (as it reports on /status)
// and no other restart is still in progress; a server that is not healthy anyway (not ready, or not
// NORMAL) may be restarted at once, first, since that is often the fix. Everything else (ConfigMap,
// PDB, StatefulSets whose template did not change) is applied as rendered. Pure.
import { ANNOTATIONS, type KubeObject } from './render/types.ts';
import type { ObservedServer } from './conditions.ts';
import { isUnread, type ServerReport } from './server-status.ts';

export type ObservedSts = Pick<ObservedServer, 'templateHash' | 'readyReplicas' | 'observedGeneration' | 'generation'>;

export interface RolloutInput {
  readonly desired: readonly KubeObject[];
  /** Observed StatefulSets by name. */
  readonly observed: ReadonlyMap<string, ObservedSts>;
  /** Server reports by server name (server-status.ts); missing, `unreachable` or `unauthorized` = judge by readiness only. */
  readonly reports: ReadonlyMap<string, ServerReport>;
  /** StatefulSet name → server name, in restart order preference (the first listed restarts first). */
  readonly servers: readonly { readonly sts: string; readonly server: string }[];
}

export interface RolloutPlan {
  readonly apply: readonly KubeObject[];
  readonly held: readonly { readonly object: KubeObject; readonly waitingFor: string }[];
}

const templateHashOf = (o: KubeObject): string | undefined => o.metadata.annotations?.[ANNOTATIONS.templateHash];

function healthy(sts: ObservedSts | undefined, report: ServerReport | undefined): boolean {
  const ready = sts !== undefined && sts.readyReplicas >= 1 && sts.observedGeneration >= sts.generation;
  if (!ready) return false;
  if (report === undefined || isUnread(report)) return true; // no report (unreachable, unauthorized): readiness is all we know
  return report.state === 'normal';
}

export function planRollout(input: RolloutInput): RolloutPlan {
  const apply: KubeObject[] = [];
  const held: { object: KubeObject; waitingFor: string }[] = [];
  const byName = new Map(input.desired.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
  const order = input.servers.filter((s) => byName.has(`StatefulSet/${s.sts}`));
  const restarting = (s: { sts: string }) => {
    const seen = input.observed.get(s.sts);
    return seen !== undefined && seen.templateHash !== templateHashOf(byName.get(`StatefulSet/${s.sts}`)!);
  };
  const isHealthy = (s: { sts: string; server: string }) => healthy(input.observed.get(s.sts), input.reports.get(s.server));
  // A restart applied earlier that has not finished: its StatefulSet already has the new template but is not healthy yet.
  const inProgress = order.filter((s) => !restarting(s) && input.observed.has(s.sts) && !isHealthy(s));

  for (const o of input.desired) if (o.kind !== 'StatefulSet' || !order.some((s) => s.sts === o.metadata.name && restarting(s))) apply.push(o);
  const pending = order.filter(restarting);
  // Unhealthy servers first, all of them: restarting them cannot make service worse.
  for (const s of pending.filter((x) => !isHealthy(x))) apply.push(byName.get(`StatefulSet/${s.sts}`)!);
  let busy = inProgress.length > 0 || pending.some((x) => !isHealthy(x));
  for (const s of pending.filter(isHealthy)) {
    const partnersOk = order.filter((x) => x !== s).every(isHealthy);
    if (!busy && partnersOk) { apply.push(byName.get(`StatefulSet/${s.sts}`)!); busy = true; continue; }
    const others = order.filter((x) => x !== s).map((x) => x.server).join(', ');
    held.push({ object: byName.get(`StatefulSet/${s.sts}`)!, waitingFor: `${others || 'the partner'} to be ready and NORMAL after its restart` });
  }
  return { apply, held };
}
