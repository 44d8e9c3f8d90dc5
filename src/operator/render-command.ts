// `dhcp-failover render -f FILE...`: the objects the operator would create for the custom resources in
// the given files, printed as YAML, offline (no cluster). The CRs are first made what the API server would
// store (render/as-stored.ts: CRD defaults, pruning, sorted keys), so the output matches the operator's.
// Secrets the files do not contain are assumed to exist (the cluster cannot be asked); a Secret in the
// files without the referenced key is a problem.
import { readFile } from 'node:fs/promises';
import { dump, loadAll } from 'js-yaml';
import { asStored, loadCrdSchemas, type Schema } from './render/as-stored.ts';
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

let schemaCache: Map<string, Schema> | undefined;
function crdSchemas(): Map<string, Schema> { return (schemaCache ??= loadCrdSchemas()); }

export function objectsToYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => `---\n${dump(o, { lineWidth: -1, noRefs: true, sortKeys: false })}`).join('');
}

/** Renders every relationship in `docs`; returns the YAML and one line per problem. */
export function renderDocuments(docs: readonly unknown[], opts: RenderOptions): { yaml: string; problems: string[] } {
  const problems: string[] = [];
  // What the API server's schema would refuse before the operator ever saw it: reported, not rendered.
  const objs = docs.filter((d): d is Doc => d !== null && typeof d === 'object' && !Array.isArray(d)).filter((d) => {
    if (d.kind !== RELATIONSHIP_KIND && d.kind !== SCOPE_KIND && d.kind !== 'Secret') return true;
    const meta = d.metadata as unknown;
    const name = typeof meta === 'object' && meta !== null ? (meta as { name?: unknown }).name : undefined;
    const spec = (d as { spec?: unknown }).spec;
    const why = typeof name !== 'string' ? 'metadata.name is missing'
      : d.kind !== 'Secret' && (typeof spec !== 'object' || spec === null || Array.isArray(spec)) ? 'spec is missing or not a mapping'
        : d.kind === 'Secret' && [d.data, d.stringData].some((m) => m !== undefined && (typeof m !== 'object' || m === null)) ? 'data/stringData is not a mapping'
          : undefined;
    if (why !== undefined) problems.push(`${d.kind} ${typeof name === 'string' ? name : '(unnamed)'}: InvalidSpec: ${why}`);
    return why === undefined;
  });
  const ns = (d: Doc): string => d.metadata?.namespace ?? 'default';
  // As the API server would store them (CRD defaults, pruning, sorted keys): what the operator renders from.
  const schemas = crdSchemas();
  const stored = (d: Doc): Doc => { const s = schemas.get(d.kind ?? ''); return s ? asStored(d as Record<string, unknown>, s) as Doc : d; };
  const withNs = <T extends { metadata: { namespace?: string } }>(d: T): T => { const x = stored(d as Doc) as unknown as T; return { ...x, metadata: { ...x.metadata, namespace: x.metadata.namespace ?? 'default' } }; };
  const relationships = objs.filter((d) => d.kind === RELATIONSHIP_KIND).map((d) => withNs(d as unknown as DhcpFailoverRelationship));
  const scopes = objs.filter((d) => d.kind === SCOPE_KIND).map((d) => withNs(d as unknown as DhcpScope));
  const secrets = objs.filter((d) => d.kind === 'Secret' && d.apiVersion === 'v1');
  relationships.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));

  const out: KubeObject[] = [];
  for (const rel of relationships) {
    try {
      const ref = rel.spec.sharedSecretRef;
      let secret: SecretPresence | undefined;
      if (ref !== undefined) {
        const found = secrets.find((s) => s.metadata?.name === ref.name && ns(s) === rel.metadata.namespace);
        const key = ref.key ?? 'secret';
        secret = found === undefined ? { exists: true, hasKey: true } : { exists: true, hasKey: key in (found.data ?? {}) || key in (found.stringData ?? {}) };
      }
      const result = renderRelationship(secret === undefined ? { relationship: rel, scopes } : { relationship: rel, scopes, secret }, opts);
      if (result.ok) out.push(...result.objects);
      else for (const p of result.problems) problems.push(`${rel.metadata.namespace}/${rel.metadata.name}: ${p.reason}: ${p.message}`);
    } catch (err) {
      // A field of the wrong type (the CRD schema would have refused it at kubectl apply).
      problems.push(`${rel.metadata.namespace}/${rel.metadata.name}: InvalidSpec: a document does not match the CRD schema (${(err as Error).message}); check it with kubectl apply --dry-run=server`);
    }
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
