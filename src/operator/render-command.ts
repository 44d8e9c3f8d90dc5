// `dhcp-failover render -f FILE...`: the objects the operator would create for the custom resources in
// the given files, printed as YAML, offline (no cluster). Secrets the files do not contain are assumed
// to exist (the cluster cannot be asked); a Secret in the files without the referenced key is a problem.
import { readFile } from 'node:fs/promises';
import { dump, loadAll } from 'js-yaml';
import { renderRelationship } from './render/relationship.ts';
import {
  RELATIONSHIP_KIND, SCOPE_KIND, DEFAULT_RENDER_OPTIONS,
  type DhcpFailoverRelationship, type DhcpScope, type KubeObject, type RenderOptions, type SecretPresence,
} from './render/types.ts';

export interface RenderCommandOptions {
  readonly files: readonly string[];
  readonly serverImage?: string | undefined;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

type Doc = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; data?: Record<string, string>; stringData?: Record<string, string> };

export function objectsToYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => `---\n${dump(o, { lineWidth: -1, noRefs: true, sortKeys: false })}`).join('');
}

/** Renders every relationship in `docs`; returns the YAML and one line per problem. */
export function renderDocuments(docs: readonly unknown[], opts: RenderOptions): { yaml: string; problems: string[] } {
  const objs = docs.filter((d): d is Doc => d !== null && typeof d === 'object');
  const ns = (d: Doc): string => d.metadata?.namespace ?? 'default';
  const withNs = <T extends { metadata: { namespace?: string } }>(d: T): T => ({ ...d, metadata: { ...d.metadata, namespace: d.metadata.namespace ?? 'default' } });
  const relationships = objs.filter((d) => d.kind === RELATIONSHIP_KIND).map((d) => withNs(d as unknown as DhcpFailoverRelationship));
  const scopes = objs.filter((d) => d.kind === SCOPE_KIND).map((d) => withNs(d as unknown as DhcpScope));
  const secrets = objs.filter((d) => d.kind === 'Secret' && d.apiVersion === 'v1');
  relationships.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));

  const out: KubeObject[] = [];
  const problems: string[] = [];
  for (const rel of relationships) {
    const ref = rel.spec?.sharedSecretRef;
    let secret: SecretPresence | undefined;
    if (ref !== undefined) {
      const found = secrets.find((s) => s.metadata?.name === ref.name && ns(s) === rel.metadata.namespace);
      const key = ref.key ?? 'secret';
      secret = found === undefined ? { exists: true, hasKey: true } : { exists: true, hasKey: key in (found.data ?? {}) || key in (found.stringData ?? {}) };
    }
    const result = renderRelationship(secret === undefined ? { relationship: rel, scopes } : { relationship: rel, scopes, secret }, opts);
    if (result.ok) out.push(...result.objects);
    else for (const p of result.problems) problems.push(`${rel.metadata.namespace}/${rel.metadata.name}: ${p.reason}: ${p.message}`);
  }
  return { yaml: objectsToYaml(out), problems };
}

export async function runRender(options: RenderCommandOptions): Promise<number> {
  if (options.files.length === 0) { options.err('dhcp-failover render: give at least one -f FILE\n'); return 2; }
  const docs: unknown[] = [];
  for (const file of options.files) docs.push(...loadAll(await readFile(file, 'utf8')));
  const opts: RenderOptions = { ...DEFAULT_RENDER_OPTIONS, ...(options.serverImage ? { serverImage: options.serverImage } : {}) };
  const { yaml, problems } = renderDocuments(docs, opts);
  options.out(yaml);
  for (const p of problems) options.err(`dhcp-failover render: ${p}\n`);
  return problems.length > 0 ? 1 : 0;
}
