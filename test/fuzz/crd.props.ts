// CR spec validation (src/operator/): renderRelationship is where a DhcpFailoverRelationship and its
// DhcpScopes are judged (spec checks, secret, subnet conflicts, then validateConfig of each rendered
// server config); its "typed error" is the RenderResult with problems (reasons from RenderProblem).
// renderDocuments is the offline `dhcp-failover render -f` path, fed straight from YAML files.
//
// Two input domains:
//  - schema-conformant CRs (what the apiserver admits: mutated corpus CRs that pass the CRD openAPI schema,
//    checked with ajv as test/operator/crds.test.ts does): renderRelationship must never throw;
//  - anything a YAML file can hold (the render command reads files without an apiserver):
//    renderDocuments must never throw.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { Ajv, type ValidateFunction } from 'ajv';
import { renderRelationship } from '../../src/operator/render/relationship.ts';
import { renderDocuments } from '../../src/operator/render-command.ts';
import { DEFAULT_RENDER_OPTIONS, RELATIONSHIP_KIND, SCOPE_KIND, type DhcpFailoverRelationship, type DhcpScope, type RenderResult } from '../../src/operator/render/types.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { CORPUS_DIR, loadTextCorpus, mutatedText, mutatedTree, typedOutcome, type Decoder, prop } from './harness.ts';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const REASONS = new Set(['InvalidScope', 'ScopeConflict', 'SecretMissing', 'InvalidConfig', 'InvalidSpec']);

export const CRD_TEXTS: readonly string[] = loadTextCorpus('crd').map((s) => s.value);
/** Every document of the corpus files (CRs, Secrets, Namespaces). */
export const CRD_DOCS: readonly Json[] = CRD_TEXTS.flatMap((t) => yaml.loadAll(t).filter(isObj));
export const RELATIONSHIPS: readonly Json[] = CRD_DOCS.filter((d) => d.kind === RELATIONSHIP_KIND);
export const SCOPES: readonly Json[] = CRD_DOCS.filter((d) => d.kind === SCOPE_KIND);
export const SECRETS: readonly Json[] = CRD_DOCS.filter((d) => d.kind === 'Secret');

// ---- the CRD schemas, as the apiserver would apply them (structural subset, via ajv) -------------

function crdToJsonSchema(s: Json, inJunctor = false): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-kubernetes-') || k === 'nullable') continue;
    if (k === 'properties' && isObj(v)) out[k] = Object.fromEntries(Object.entries(v).map(([n, sub]) => [n, crdToJsonSchema(sub as Json, inJunctor)]));
    else if ((k === 'items' || k === 'additionalProperties') && isObj(v)) out[k] = crdToJsonSchema(v, inJunctor);
    else if ((k === 'allOf' || k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) out[k] = v.map((sub: Json) => crdToJsonSchema(sub, true));
    else if (k === 'not' && isObj(v)) out[k] = crdToJsonSchema(v, true);
    else out[k] = structuredClone(v);
  }
  if (s.nullable === true && typeof s.type === 'string') out.type = [s.type, 'null'];
  if (!inJunctor && s.type === 'object' && isObj(s.properties) && !('additionalProperties' in s) && s['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  return out;
}

const CRD_DIR = join(CORPUS_DIR, '..', '..', '..', 'crds');
const ajv = new Ajv({ allErrors: false, strict: false, useDefaults: true });
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
const VALIDATORS = new Map<string, ValidateFunction>();
for (const f of readdirSync(CRD_DIR).filter((n) => n.endsWith('.yaml'))) {
  const crd = yaml.load(readFileSync(join(CRD_DIR, f), 'utf8')) as Json;
  const spec = crd.spec as Json;
  const version = (spec.versions as Json[])[0]!;
  const schema = crdToJsonSchema((version.schema as Json).openAPIV3Schema as Json);
  // The CRD names metadata.name only (for its length rule); the apiserver validates the rest of metadata.
  const meta = isObj(schema.properties) ? (schema.properties as Json).metadata : undefined;
  if (isObj(meta)) delete meta.additionalProperties;
  VALIDATORS.set((spec.names as Json).kind as string, ajv.compile(schema));
}

const isDnsLabel = (v: unknown): boolean => typeof v === 'string' && v.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v);

/** The object with the schema's defaults applied, or undefined when the apiserver would refuse it. */
export function admitted(obj: unknown): Json | undefined {
  // The apiserver also checks metadata: a DNS-1123 name, and a namespace of the same form when present.
  if (!isObj(obj) || !isObj(obj.metadata) || !isDnsLabel(obj.metadata.name)) return undefined;
  if (obj.metadata.namespace !== undefined && !isDnsLabel(obj.metadata.namespace)) return undefined;
  const v = VALIDATORS.get(String(obj.kind));
  if (v === undefined) return undefined;
  const copy = structuredClone(obj);
  return v(copy) ? copy : undefined;
}

// ---- checks ---------------------------------------------------------------------------------------

export function checkResult(r: RenderResult): void {
  assert.equal(typeof r.inputHash, 'string');
  if (!r.ok) {
    assert.ok(r.problems.length > 0, 'not ok without problems');
    for (const p of r.problems) assert.ok(REASONS.has(p.reason) && typeof p.message === 'string' && p.message.length > 0, `bad problem ${JSON.stringify(p)}`);
    return;
  }
  assert.ok(r.objects.length > 0, 'ok without objects');
  // What the operator renders must load in the server: every rendered config file validates.
  for (const o of r.objects) {
    if (o.kind !== 'ConfigMap') continue;
    for (const [k, text] of Object.entries((o as { data?: Record<string, string> }).data ?? {})) {
      const c = typedOutcome(`parseConfigText(${k})`, () => parseConfigText(text, k), []);
      assert.ok(c.ok);
    }
  }
}

export function checkRender(rel: Json, scopes: readonly Json[], secret: { exists: boolean; hasKey: boolean } | undefined): void {
  const input = { relationship: rel as unknown as DhcpFailoverRelationship, scopes: scopes as unknown as DhcpScope[], ...(secret !== undefined && { secret }) };
  const r = typedOutcome('renderRelationship', () => renderRelationship(input, DEFAULT_RENDER_OPTIONS), []);
  assert.ok(r.ok);
  checkResult(r.value);
  // Pure: the same input renders the same hash.
  assert.equal(renderRelationship(input, DEFAULT_RENDER_OPTIONS).inputHash, r.value.inputHash);
}

// ---- generators -----------------------------------------------------------------------------------

/** A relationship plus 0..4 scopes, each a (possibly) mutated corpus CR; only what the schema admits is kept. */
const admittedRel = mutatedTree(RELATIONSHIPS, 3).map(admitted);
const admittedScope = mutatedTree(SCOPES, 3).map(admitted);
/** Mostly "the Secret exists with its key", so most inputs get past SecretMissing to the config checks. */
const secretArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ exists: true, hasKey: true }) },
  { weight: 1, arbitrary: fc.option(fc.record({ exists: fc.boolean(), hasKey: fc.boolean() }), { nil: undefined }) },
);

export const crdDecoder: Decoder = {
  name: 'crd',
  properties: [
    prop('renderRelationship: schema-admitted mutated CRs → objects or typed problems, never a throw; rendered configs load', 6, () =>
      fc.property(admittedRel, fc.array(admittedScope, { maxLength: 4 }), secretArb, (rel, scopes, secret) => {
        fc.pre(rel !== undefined);
        checkRender(rel!, scopes.filter((s): s is Json => s !== undefined), secret);
      })),
    prop('renderDocuments (render -f): schema-admitted mutated CRs plus the corpus Secrets → YAML and problems, never a throw', 3, () =>
      fc.property(fc.array(fc.oneof(admittedRel, admittedScope, fc.constantFrom(...SECRETS)), { minLength: 1, maxLength: 6 }), (docs) => {
        const r = typedOutcome('renderDocuments', () => renderDocuments(docs.filter((d) => d !== undefined), DEFAULT_RENDER_OPTIONS), []);
        assert.ok(r.ok && typeof r.value.yaml === 'string' && Array.isArray(r.value.problems));
        for (const p of r.value.problems) assert.match(p, /^[^/]+\/[^:]+: (InvalidScope|ScopeConflict|SecretMissing|InvalidConfig|InvalidSpec): /);
      })),
    prop('renderDocuments (render -f): any YAML documents → YAML and problems, never a throw', 2, () =>
      fc.property(fc.array(mutatedTree(CRD_DOCS, 3), { minLength: 1, maxLength: 5 }), (docs) => {
        const r = typedOutcome('renderDocuments', () => renderDocuments(docs, DEFAULT_RENDER_OPTIONS), []);
        assert.ok(r.ok && typeof r.value.yaml === 'string' && Array.isArray(r.value.problems));
      })),
    prop('renderDocuments (render -f): mutated CR YAML text → YAML and problems (or a js-yaml syntax error), never another throw', 2, () =>
      fc.property(mutatedText(CRD_TEXTS, 4), (text) => {
        let docs: unknown[];
        try { docs = yaml.loadAll(text); } catch (err) { assert.ok(err instanceof yaml.YAMLException, String(err)); return; }
        const r = typedOutcome('renderDocuments', () => renderDocuments(docs, DEFAULT_RENDER_OPTIONS), []);
        assert.ok(r.ok);
      })),
  ],
};
