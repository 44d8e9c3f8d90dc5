// Right after the operator starts (or takes over leadership) its caches are complete as of their lists, but
// a world that looks smaller than what the servers already run is more likely a read that is not finished
// than a change an admin made in the last seconds. For a short hold after the caches synced, a reconcile
// that would take scopes away from a server, or finds the shared Secret missing, waits instead of applying.
// Pure: (what is applied, what would be applied) → the reason to wait, or undefined.
import { load } from 'js-yaml';
import type { KubeObject, RenderResult } from './render/types.ts';

/** Scope names per server config key of a rendered ConfigMap (undefined: not parseable or no scopes list). */
export function scopesByServer(cm: KubeObject | undefined): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  const data = (cm as { data?: Record<string, string> } | undefined)?.data ?? {};
  for (const [key, text] of Object.entries(data)) {
    try {
      const scopes = (load(text) as { scopes?: { name?: unknown }[] } | undefined)?.scopes;
      if (Array.isArray(scopes)) out.set(key, scopes.map((s) => String(s?.name ?? '')));
    } catch { /* not ours to judge: the server validates its own file */ }
  }
  return out;
}

const configMapOf = (objects: readonly KubeObject[]): KubeObject | undefined => objects.find((o) => o.kind === 'ConfigMap');

/** Why this reconcile should wait for the caches rather than apply, during the startup hold. */
export function startupHoldReason(applied: readonly KubeObject[], result: RenderResult): string | undefined {
  if (!result.ok) {
    const missing = result.problems.find((p) => p.reason === 'SecretMissing');
    return missing ? `${missing.message} (right after start: waiting for the cache)` : undefined;
  }
  const have = scopesByServer(configMapOf(applied));
  const want = scopesByServer(configMapOf(result.objects));
  for (const [key, before] of have) {
    const after = new Set(want.get(key) ?? []);
    const dropped = before.filter((name) => !after.has(name));
    if (dropped.length > 0) return `${key} would lose scope(s) ${dropped.join(', ')} right after start: waiting for the cache`;
  }
  return undefined;
}
