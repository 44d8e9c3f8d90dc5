// A custom resource as the API server stores it, from the CR as written in a file: what `render -f` needs to
// print what the operator applies on a cluster. The API server (apiextensions) applies the schema's
// `default`s to absent fields of objects that are present, prunes fields the schema does not know (unless
// x-kubernetes-preserve-unknown-fields), and, decoding into Go maps, returns every object's keys sorted.
// Pure over a structural schema; the schemas themselves are read from crds/ by `loadCrdSchemas`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';

type Json = Record<string, unknown>;
export interface Schema {
  readonly type?: string;
  readonly properties?: Record<string, Schema>;
  readonly items?: Schema;
  readonly additionalProperties?: Schema | boolean;
  readonly default?: unknown;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every object's keys in sorted order (Go's encoding/json order), recursively. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
}

/** Defaulting and pruning of `value` under `schema` (a structural schema), as apiextensions does them. */
export function defaultAndPrune(value: unknown, schema: Schema | undefined): unknown {
  if (schema === undefined) return value;
  if (Array.isArray(value)) return schema.items ? value.map((v) => defaultAndPrune(v, schema.items)) : value;
  if (!isObject(value)) return value;
  const out: Json = {};
  const props = schema.properties ?? {};
  const extra = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  const keepUnknown = schema['x-kubernetes-preserve-unknown-fields'] === true || schema.additionalProperties === true;
  for (const [k, v] of Object.entries(value)) {
    if (k in props) out[k] = defaultAndPrune(v, props[k]);
    else if (extra !== undefined) out[k] = defaultAndPrune(v, extra);
    else if (keepUnknown) out[k] = v;
    // else: pruned
  }
  for (const [k, sub] of Object.entries(props)) {
    if (!(k in out) && sub.default !== undefined) out[k] = defaultAndPrune(structuredClone(sub.default), sub);
  }
  return out;
}

/**
 * `obj` as stored: apiVersion, kind and metadata kept as written (the API server's ObjectMeta is not
 * this schema's business, and render has no uid or timestamps to invent), the rest defaulted, pruned, sorted.
 */
export function asStored(obj: Json, schema: Schema): Json {
  const { apiVersion, kind, metadata, ...rest } = obj;
  const body = defaultAndPrune(rest, { ...schema, properties: Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([k]) => !['apiVersion', 'kind', 'metadata'].includes(k))) }) as Json;
  return { apiVersion, kind, metadata, ...(sortKeys(body) as Json) };
}

const CRD_DIR = fileURLToPath(new URL('../../../crds/', import.meta.url));

/** openAPIV3Schema of every CRD in crds/ (served version), by kind. */
export function loadCrdSchemas(dir = CRD_DIR): Map<string, Schema> {
  const out = new Map<string, Schema>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const crd = load(readFileSync(join(dir, file), 'utf8')) as { spec?: { names?: { kind?: string }; versions?: { served?: boolean; schema?: { openAPIV3Schema?: Schema } }[] } };
    const version = crd.spec?.versions?.find((v) => v.served !== false);
    const kind = crd.spec?.names?.kind;
    if (kind && version?.schema?.openAPIV3Schema) out.set(kind, version.schema.openAPIV3Schema);
  }
  return out;
}
