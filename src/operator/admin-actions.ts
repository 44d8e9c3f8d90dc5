// Admin actions through annotations on the relationship, run once each:
//   kubectl annotate dhcpfailoverrelationship site-a dhcp.failover.dev/force-partner-down=dhcp-a
//   kubectl annotate dhcpfailoverrelationship site-a dhcp.failover.dev/force-resync=dhcp-b
// The operator POSTs the action to that server's admin API (bearer token = the shared secret, which the
// rendered config names as admin.tokenFile), reports the outcome as an Event, and removes the
// annotation, so each request runs exactly once; to repeat it, annotate again.
import { log } from '../log.ts';
import { managedIndices } from './render/relationship.ts';
import { ANNOTATIONS, RELATIONSHIP_KIND, type DhcpFailoverRelationship } from './render/types.ts';
import type { Kube } from './kube.ts';
import { tokenFromSecret } from './secret-value.ts';

export const ADMIN_ACTIONS = [
  { annotation: ANNOTATIONS.forcePartnerDown, action: 'partner-down' },
  { annotation: ANNOTATIONS.forceResync, action: 'resync' },
] as const;

export type PostAction = (url: string, token: string | undefined) => Promise<{ status: number; body: string }>;

async function defaultPost(url: string, token: string | undefined): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.text()).slice(0, 300) };
}

export interface AdminActionDeps {
  readonly kube: Pick<Kube, 'patchRelationshipAnnotations' | 'event'>;
  /** Reads the shared-secret Secret (data base64) when an action runs: a fresh GET, actions are rare. */
  readonly secret: () => Promise<{ data?: Record<string, string> | undefined } | undefined>;
  readonly baseUrlFor: (rel: DhcpFailoverRelationship, server: { name: string; address: string }) => string;
  readonly post?: PostAction;
}

/** Which server an annotation names, or why it cannot run (pure). */
export function resolveTarget(rel: DhcpFailoverRelationship, serverName: string): { ok: true; server: { name: string; address: string } } | { ok: false; why: string } {
  const managed = new Set(managedIndices(rel));
  const i = (rel.spec.servers ?? []).findIndex((s) => s.name === serverName.trim());
  if (i < 0) return { ok: false, why: `no server named ${JSON.stringify(serverName)} in this relationship` };
  const s = rel.spec.servers[i]!;
  if (!managed.has(i as 0 | 1)) return { ok: false, why: `${s.name} is not managed by the operator (external partner)` };
  if (!s.address) return { ok: false, why: `${s.name} has no address` };
  return { ok: true, server: { name: s.name, address: s.address } };
}

/** Runs every requested action once and removes its annotation; returns what was done (for tests and logs). */
export async function runAdminActions(rel: DhcpFailoverRelationship, deps: AdminActionDeps): Promise<string[]> {
  const { namespace, name, uid } = rel.metadata;
  const regarding = { kind: RELATIONSHIP_KIND, namespace: namespace!, name, uid };
  const done: string[] = [];
  for (const { annotation, action } of ADMIN_ACTIONS) {
    const requested = rel.metadata.annotations?.[annotation];
    if (requested === undefined) continue;
    const target = resolveTarget(rel, requested);
    let outcome: { type: 'Normal' | 'Warning'; reason: string; message: string };
    if (!target.ok) {
      outcome = { type: 'Warning', reason: 'AdminActionRejected', message: `${action}: ${target.why}` };
    } else {
      const url = `${deps.baseUrlFor(rel, target.server)}/failover/${action}`;
      try {
        const res = await (deps.post ?? defaultPost)(url, tokenFromSecret(rel, await deps.secret()));
        outcome = res.status >= 200 && res.status < 300
          ? { type: 'Normal', reason: 'AdminAction', message: `${action} on ${target.server.name}: ${res.body}` }
          : { type: 'Warning', reason: 'AdminActionFailed', message: `${action} on ${target.server.name}: HTTP ${res.status} ${res.body}` };
      } catch (err) {
        outcome = { type: 'Warning', reason: 'AdminActionFailed', message: `${action} on ${target.server.name}: ${String((err as Error).message ?? err)} (${url})` };
      }
    }
    // Removed whatever the outcome: the request ran (or could not run) once; annotate again to retry.
    await deps.kube.patchRelationshipAnnotations(namespace!, name, { [annotation]: null });
    await deps.kube.event(regarding, outcome.type, outcome.reason, outcome.message);
    log[outcome.type === 'Normal' ? 'info' : 'warn']('operator.admin_action', { relationship: `${namespace}/${name}`, action, server: requested, reason: outcome.reason, message: outcome.message });
    done.push(`${action}:${requested}:${outcome.reason}`);
  }
  return done;
}
