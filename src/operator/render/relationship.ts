// Everything one DhcpFailoverRelationship needs, or the reasons it cannot be rendered. Pure: the same
// (relationship, scopes, secret presence, options) gives the same objects and hash; no clock, env or client.
// Nothing partial: any problem yields no objects at all.
import { dump } from 'js-yaml';
import { ConfigError } from '../../errors.ts';
import { validateConfig } from '../../config/validate.ts';
import { cidrContains, parseCidr, broadcastOf, type Cidr } from '../../net/ipv4.ts';
import { hashOf } from './hash.ts';
import { configKey, configMapName, ownerReferences, pdbName, relationshipLabels } from './names.ts';
import { allowsEmptyScopes, renderServerConfig, scopesOf } from './server-config.ts';
import { renderServerStatefulSet } from './server-statefulset.ts';
import {
  ANNOTATIONS, LABELS, LABEL_VALUES,
  type DhcpFailoverRelationship, type DhcpScope, type KubeObject, type RenderInput, type RenderOptions, type RenderProblem, type RenderResult,
} from './types.ts';
import type { RawConfig } from '../../config/schema.ts';

/** Indices of the servers the operator runs (not `external`). */
export function managedIndices(rel: DhcpFailoverRelationship): (0 | 1)[] {
  return ([0, 1] as const).filter((i) => rel.spec.servers[i] !== undefined && rel.spec.servers[i]!.external !== true);
}

function tryCidr(text: string): Cidr | undefined { try { return parseCidr(text); } catch { return undefined; } }

function overlaps(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b.network) || cidrContains(b, a.network) || cidrContains(a, broadcastOf(b)) || cidrContains(b, broadcastOf(a));
}

/** (creationTimestamp, name) order: the older scope keeps its subnet. */
function olderThan(a: DhcpScope, b: DhcpScope): boolean {
  const ta = a.metadata.creationTimestamp ?? '', tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb;
  return a.metadata.name < b.metadata.name;
}

function specProblems(rel: DhcpFailoverRelationship): RenderProblem[] {
  const out: RenderProblem[] = [];
  const { spec } = rel;
  if (!Array.isArray(spec?.servers) || spec.servers.length !== 2) return [{ reason: 'InvalidSpec', message: 'spec.servers must list exactly two servers' }];
  if (managedIndices(rel).length === 0) out.push({ reason: 'InvalidSpec', message: 'both servers are external: nothing to run' });
  if (spec.mode === 'hotStandby' && !spec.servers.some((s) => s.name === spec.activeServer)) {
    out.push({ reason: 'InvalidSpec', message: `activeServer ${JSON.stringify(spec.activeServer)} is not one of the servers` });
  }
  return out;
}

function secretProblems(input: RenderInput): RenderProblem[] {
  const ref = input.relationship.spec.sharedSecretRef;
  if (ref === undefined) return [];
  const key = ref.key ?? 'secret';
  if (input.secret === undefined || !input.secret.exists) return [{ reason: 'SecretMissing', message: `Secret ${ref.name} (spec.sharedSecretRef) does not exist` }];
  if (!input.secret.hasKey) return [{ reason: 'SecretMissing', message: `Secret ${ref.name} has no key ${JSON.stringify(key)}` }];
  if (input.secret.empty === true) return [{ reason: 'SecretMissing', message: `Secret ${ref.name} key ${JSON.stringify(key)} is empty: the servers refuse an empty shared secret` }];
  return [];
}

/** A scope of this relationship whose subnet overlaps an older scope of another relationship in the namespace. */
function conflictProblems(rel: DhcpFailoverRelationship, own: readonly DhcpScope[], all: readonly DhcpScope[]): RenderProblem[] {
  const out: RenderProblem[] = [];
  const others = all.filter((s) => s.metadata.namespace === rel.metadata.namespace && s.spec?.relationshipRef?.name !== rel.metadata.name);
  for (const mine of own) {
    const a = tryCidr(mine.spec.subnet);
    if (a === undefined) continue; // reported by the config validator
    for (const other of others) {
      const b = tryCidr(other.spec?.subnet ?? '');
      if (b === undefined || !overlaps(a, b) || !olderThan(other, mine)) continue;
      out.push({
        reason: 'ScopeConflict', scope: mine.metadata.name,
        message: `scope ${mine.metadata.name} (${mine.spec.subnet}) overlaps scope ${other.metadata.name} (${other.spec.subnet}) of relationship ${other.spec.relationshipRef.name}, which claimed it first`,
      });
    }
  }
  return out;
}

function configProblems(config: RawConfig, scopes: readonly DhcpScope[], server: string): RenderProblem[] {
  try {
    validateConfig(config, `server ${server}`);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => {
      const m = /^scopes\[(\d+)\](.*)$/.exec(p.path);
      const scope = m ? scopes[Number(m[1])] : undefined;
      if (m && scope) return { reason: 'InvalidScope' as const, message: `scope ${scope.metadata.name}: spec${m[2]}: ${p.message}`, scope: scope.metadata.name };
      return { reason: 'InvalidConfig' as const, message: `server ${server}: ${p.path}: ${p.message}` };
    });
  }
}

function unique(problems: RenderProblem[]): RenderProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => { const k = `${p.reason}\n${p.message}`; if (seen.has(k)) return false; seen.add(k); return true; });
}

export function renderConfigYaml(config: RawConfig, rel: DhcpFailoverRelationship): string {
  const header = `# Rendered by the dhcp-failover operator from DhcpFailoverRelationship ${rel.metadata.namespace ?? 'default'}/${rel.metadata.name}; do not edit.\n`;
  return header + dump(config, { lineWidth: -1, noRefs: true, sortKeys: false });
}

export function renderRelationship(input: RenderInput, opts: RenderOptions): RenderResult {
  const rel = input.relationship;
  const own = scopesOf(rel, input.scopes);
  const scopeNames = own.map((s) => s.metadata.name);
  const inputHash = hashOf({
    relationship: { name: rel.metadata.name, namespace: rel.metadata.namespace, uid: rel.metadata.uid, spec: rel.spec, ...(allowsEmptyScopes(rel) ? { allowEmptyScopes: true } : {}) },
    scopes: own.map((s) => ({ name: s.metadata.name, spec: s.spec })),
    secret: input.secret,
    options: opts,
  });
  const early = [...specProblems(rel), ...secretProblems(input)];
  if (specProblems(rel).some((p) => p.message.startsWith('spec.servers'))) return { ok: false, problems: early, inputHash, scopes: scopeNames };

  const configs = new Map<0 | 1, RawConfig>();
  const problems = [...early, ...conflictProblems(rel, own, input.scopes)];
  for (const i of managedIndices(rel)) {
    const config = renderServerConfig(rel, i, input.scopes, opts);
    configs.set(i, config);
    problems.push(...configProblems(config, own, rel.spec.servers[i]!.name));
  }
  if (problems.length > 0) return { ok: false, problems: unique(problems), inputHash, scopes: scopeNames };

  const namespace = rel.metadata.namespace ?? 'default';
  const owners = ownerReferences(rel);
  const meta = (name: string): KubeObject['metadata'] => {
    const m: KubeObject['metadata'] = { name, namespace, labels: relationshipLabels(rel), annotations: { [ANNOTATIONS.inputHash]: inputHash } };
    if (owners) m.ownerReferences = owners;
    return m;
  };
  const data: Record<string, string> = {};
  for (const [i, config] of configs) data[configKey(rel.spec.servers[i]!.name)] = renderConfigYaml(config, rel);
  const objects: KubeObject[] = [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(configMapName(rel)), data }];
  for (const [i, config] of configs) objects.push(renderServerStatefulSet(rel, i, config, inputHash, opts));
  if (configs.size === 2) {
    // Both servers of the pair in one budget: a drain may take down one at a time, never both.
    objects.push({
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta(pdbName(rel)),
      spec: {
        maxUnavailable: 1,
        selector: { matchLabels: { [LABELS.relationship]: rel.metadata.name, [LABELS.component]: LABEL_VALUES.component } },
      },
    });
  }
  return { ok: true, objects, inputHash, scopes: scopeNames };
}
