// The CRDs in crds/: structural-schema lint, their OpenAPI schemas run through ajv (with
// x-kubernetes-* keywords dropped and unknown fields rejected, as kubectl's strict field validation
// does), every manifests/examples/ object accepted, a table of broken objects rejected at the right
// path, the CEL-only rules (ajv ignores CEL) re-checked in JS on the examples, and the CEL rules linted for
// what adds noise next to the real error on a real API server (real-api-crds.test.ts checks the messages there).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { validateConfig } from '../../src/config/validate.ts';
import { cidrContains, parseCidr, parseIpv4 } from '../../src/net/ipv4.ts';
import { REPO_ROOT } from '../fakes/helm.ts';

type Json = Record<string, unknown>;
type Schema = Json;

const GROUP = 'dhcp.failover.dev';
const CRD_DIR = join(REPO_ROOT, 'crds');
const EXAMPLES_DIR = join(REPO_ROOT, 'manifests/examples');

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function loadCrds(): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const f of readdirSync(CRD_DIR).filter((n) => n.endsWith('.yaml')).sort()) {
    const doc = load(readFileSync(join(CRD_DIR, f), 'utf8'));
    assert.ok(isObj(doc), f);
    out.set(f, doc);
  }
  return out;
}

interface Example { file: string; obj: Json }
function loadExamples(): Example[] {
  const out: Example[] = [];
  for (const f of readdirSync(EXAMPLES_DIR).filter((n) => n.endsWith('.yaml')).sort()) {
    for (const doc of loadAll(readFileSync(join(EXAMPLES_DIR, f), 'utf8'))) {
      if (doc == null) continue;
      assert.ok(isObj(doc), f);
      out.push({ file: f, obj: doc });
    }
  }
  return out;
}

function versionOf(crd: Json): Json {
  const versions = (crd['spec'] as Json)['versions'] as Json[];
  assert.equal(versions.length, 1, 'one served version');
  return versions[0]!;
}
function openApiOf(crd: Json): Schema {
  return ((versionOf(crd)['schema'] as Json)['openAPIV3Schema']) as Schema;
}
function kindOf(crd: Json): string {
  return ((crd['spec'] as Json)['names'] as Json)['kind'] as string;
}

// ---------------------------------------------------------------------------------------------
// Structural-schema lint (apiextensions v1): what the apiserver would refuse that ajv would not.

/** JSONSchemaProps fields allowed in apiextensions.k8s.io/v1 (uniqueItems: true and $ref are not). */
const ALLOWED_KEYWORDS = new Set([
  'description', 'type', 'format', 'title', 'default', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum',
  'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'multipleOf', 'enum', 'maxProperties',
  'minProperties', 'required', 'items', 'allOf', 'oneOf', 'anyOf', 'not', 'properties', 'additionalProperties',
  'nullable', 'example', 'externalDocs', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string', 'x-kubernetes-list-map-keys', 'x-kubernetes-list-type', 'x-kubernetes-map-type',
  'x-kubernetes-validations',
]);
const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);
const JUNCTORS = ['allOf', 'anyOf', 'oneOf'] as const;
/** Inside allOf/anyOf/oneOf/not only value validations are allowed. */
const FORBIDDEN_IN_JUNCTOR = ['type', 'description', 'default', 'additionalProperties', 'nullable', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-validations'];

function isIntOrStringAnyOf(v: unknown): boolean {
  return Array.isArray(v) && v.length === 2 && isObj(v[0]) && isObj(v[1])
    && v[0]['type'] === 'integer' && v[1]['type'] === 'string' && Object.keys(v[0]).length === 1 && Object.keys(v[1]).length === 1;
}

/** Every problem with `schema` as a structural schema, each prefixed by its path. */
function lintStructural(schema: Schema): string[] {
  const problems: string[] = [];
  const walk = (s: Schema, path: string, inJunctor: boolean, outer: Schema | undefined): void => {
    for (const k of Object.keys(s)) {
      if (!ALLOWED_KEYWORDS.has(k)) problems.push(`${path}: keyword ${k} is not allowed in a CRD schema`);
    }
    const intOrString = s['x-kubernetes-int-or-string'] === true;
    const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
    if (inJunctor) {
      for (const k of FORBIDDEN_IN_JUNCTOR) if (k in s) problems.push(`${path}: ${k} is not allowed inside a junctor`);
      // Fields named in a junctor must exist in the schema around it.
      if (isObj(s['properties'])) {
        const outerProps = isObj(outer?.['properties']) ? outer['properties'] : {};
        for (const p of Object.keys(s['properties'])) {
          if (!(p in outerProps)) problems.push(`${path}.properties.${p}: not specified outside the junctor`);
        }
      }
    } else {
      if (!('type' in s) && !intOrString && !preserve) problems.push(`${path}: no type`);
      if ('type' in s && (typeof s['type'] !== 'string' || !TYPES.has(s['type']))) problems.push(`${path}: bad type ${String(s['type'])}`);
      if (intOrString && 'type' in s) problems.push(`${path}: x-kubernetes-int-or-string must not have a type`);
    }
    if ('properties' in s && 'additionalProperties' in s) problems.push(`${path}: properties and additionalProperties together`);
    if (Array.isArray(s['items'])) problems.push(`${path}: items must be one schema`);
    if (s['x-kubernetes-list-type'] === 'map') {
      const keys = s['x-kubernetes-list-map-keys'];
      const item = s['items'];
      if (!Array.isArray(keys) || keys.length === 0) problems.push(`${path}: list-type map without list-map-keys`);
      else if (isObj(item)) {
        const req = Array.isArray(item['required']) ? item['required'] : [];
        const props = isObj(item['properties']) ? item['properties'] : {};
        for (const key of keys as string[]) {
          const prop = props[key];
          if (!req.includes(key) && !(isObj(prop) && 'default' in prop)) problems.push(`${path}: map key ${key} neither required nor defaulted`);
        }
      }
    }
    if (isObj(s['properties'])) {
      for (const [name, sub] of Object.entries(s['properties'])) {
        if (isObj(sub)) walk(sub, `${path}.${name}`, inJunctor, undefined);
      }
    }
    if (isObj(s['items'])) walk(s['items'], `${path}[]`, inJunctor, undefined);
    if (isObj(s['additionalProperties'])) walk(s['additionalProperties'], `${path}{}`, inJunctor, undefined);
    for (const j of JUNCTORS) {
      const list = s[j];
      if (list === undefined) continue;
      if (intOrString && j === 'anyOf' && isIntOrStringAnyOf(list)) continue;
      if (!Array.isArray(list)) { problems.push(`${path}.${j}: not a list`); continue; }
      list.forEach((sub, i) => { if (isObj(sub)) walk(sub, `${path}.${j}[${i}]`, true, inJunctor ? outer : s); });
    }
    if (isObj(s['not'])) walk(s['not'], `${path}.not`, true, inJunctor ? outer : s);
  };
  walk(schema, '', false, undefined);
  const meta = isObj(schema['properties']) ? schema['properties']['metadata'] : undefined;
  if (isObj(meta) && Object.keys(meta).some((k) => k !== 'type' && k !== 'properties')) {
    problems.push('.metadata: only type (and name/generateName) may be specified');
  }
  if (isObj(meta) && isObj(meta['properties']) && Object.keys(meta['properties']).some((k) => k !== 'name' && k !== 'generateName')) {
    problems.push('.metadata.properties: only name and generateName may be restricted');
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// CRD schema → JSON schema for ajv.

/**
 * Drops x-kubernetes-* keywords; objects with `properties` (and no preserve-unknown-fields) get
 * `additionalProperties: false`, so unknown fields fail as they do under kubectl's default strict
 * field validation (the apiserver itself would prune them); `nullable` becomes a null type.
 */
function crdToJsonSchema(s: Schema, inJunctor = false): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-kubernetes-') || k === 'nullable') continue;
    if (k === 'properties' && isObj(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([n, sub]) => [n, crdToJsonSchema(sub as Schema, inJunctor)]));
    } else if ((k === 'items' || k === 'additionalProperties') && isObj(v)) {
      out[k] = crdToJsonSchema(v, inJunctor);
    } else if ((k === 'allOf' || k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) {
      out[k] = v.map((sub: Schema) => crdToJsonSchema(sub, true));
    } else if (k === 'not' && isObj(v)) {
      out[k] = crdToJsonSchema(v, true);
    } else {
      out[k] = structuredClone(v);
    }
  }
  if (s['nullable'] === true && typeof s['type'] === 'string') out['type'] = [s['type'], 'null'];
  if (!inJunctor && s['type'] === 'object' && isObj(s['properties']) && !('additionalProperties' in s)
    && s['x-kubernetes-preserve-unknown-fields'] !== true) {
    out['additionalProperties'] = false;
  }
  return out;
}

function makeAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, useDefaults: true });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
  return ajv;
}

const crds = loadCrds();
const examples = loadExamples();
const ajv = makeAjv();
const validators = new Map<string, ValidateFunction>();
/** The CRD's schema for ajv; `metadata` stays open (the apiserver validates ObjectMeta; a CRD may only restrict name). */
function ajvSchemaOf(crd: Json): Schema {
  const out = crdToJsonSchema(openApiOf(crd));
  const meta = (out['properties'] as Json)['metadata'];
  if (isObj(meta)) delete meta['additionalProperties'];
  return out;
}
for (const crd of crds.values()) validators.set(kindOf(crd), ajv.compile(ajvSchemaOf(crd)));

function validate(obj: Json): { ok: boolean; errors: ErrorObject[]; defaulted: Json } {
  const v = validators.get(obj['kind'] as string);
  assert.ok(v, `no CRD for kind ${String(obj['kind'])}`);
  const copy = structuredClone(obj);
  const ok = v(copy) as boolean;
  return { ok, errors: v.errors ?? [], defaulted: copy };
}

function exampleOf(file: string): Json {
  const e = examples.find((x) => x.file === file);
  assert.ok(e, file);
  return structuredClone(e.obj);
}

// ---------------------------------------------------------------------------------------------
// The CEL rules ajv cannot run, restated in JS so the examples are checked against them too.

function celProblems(obj: Json): string[] {
  const spec = obj['spec'] as Json;
  const out: string[] = [];
  if (obj['kind'] === 'DhcpScope') {
    const subnetText = spec['subnet'] as string;
    let subnet;
    try { subnet = parseCidr(subnetText); } catch { return ['subnet host bits']; }
    const inside = (ip: string): boolean => cidrContains(subnet, parseIpv4(ip));
    for (const r of (spec['ranges'] ?? []) as Json[]) if (!inside(r['start'] as string) || !inside(r['end'] as string)) out.push('range outside subnet');
    for (const r of (spec['exclusions'] ?? []) as Json[]) if (!inside(r['start'] as string) || !inside(r['end'] as string)) out.push('exclusion outside subnet');
    for (const r of (spec['reservations'] ?? []) as Json[]) {
      if (!inside(r['ip'] as string)) out.push('reservation outside subnet');
      if (!('hwAddress' in r) && !('clientId' in r)) out.push('reservation without id');
    }
  } else if (obj['kind'] === 'DhcpFailoverRelationship') {
    if (((obj['metadata'] as Json)['name'] as string).length > 30) out.push('name length');
    const servers = spec['servers'] as Json[];
    const external = (s: Json): boolean => s['external'] === true;
    if (servers[0]!['name'] === servers[1]!['name']) out.push('server names'); // the list-map key, not CEL
    if (servers[0]!['address'] === servers[1]!['address']) out.push('server addresses');
    if (spec['mode'] === 'hotStandby' && !('activeServer' in spec)) out.push('activeServer required');
    if (spec['mode'] === 'hotStandby' && 'loadBalancePercent' in spec) out.push('loadBalancePercent forbidden');
    if (spec['mode'] === 'loadBalance' && 'activeServer' in spec) out.push('activeServer forbidden');
    if (spec['mode'] === 'loadBalance' && 'reservePercent' in spec) out.push('reservePercent forbidden');
    if (spec['mode'] === 'hotStandby' && 'activeServer' in spec && !servers.some((s) => s['name'] === spec['activeServer'])) out.push('activeServer');
    if (!('sharedSecretRef' in spec) && !('partnerDialect' in spec)) out.push('sharedSecretRef required');
    if (servers.filter(external).length !== ('partnerDialect' in spec ? 1 : 0)) out.push('external count');
    for (const s of servers) {
      if (!external(s) && !('nodeName' in s) && !('nodeSelector' in s)) out.push('placement required');
      if ('nodeName' in s && 'nodeSelector' in s) out.push('placement twice');
      if (external(s) && ('nodeName' in s || 'nodeSelector' in s)) out.push('external placement');
    }
  }
  return out;
}

interface CelRule { rule: string; message?: string; messageExpression?: string; fieldPath?: string; reason?: string }

/**
 * What would make a rule add noise next to the real error on a real API server (measured there, see
 * real-api-crds.test.ts): indexing servers[1] without a size() guard ("index out of bounds" when minItems
 * fails, which does not stop CEL), cidr()/ip()/containsIP() on a string not first checked by isCIDR()/isIP()
 * (a parse error or "no such overload" when the pattern fails), and a reason the API server does not know.
 */
function celNoiseProblems(r: CelRule): string[] {
  const out: string[] = [];
  if (/\[[1-9]\]/.test(r.rule) && !/size\(self(\.\w+)?\) != 2 \|\|/.test(r.rule)) out.push(`${r.rule}: indexes a list without a size() guard`);
  for (const [fn, guard] of [['cidr', 'isCIDR'], ['ip', 'isIP'], ['containsIP', 'isIP'], ['containsCIDR', 'isCIDR']] as const) {
    for (const m of r.rule.matchAll(new RegExp(`(?<![A-Za-z])${fn}\\(([^()]+)\\)`, 'g'))) {
      if (!r.rule.includes(`${guard}(${m[1]!})`)) out.push(`${r.rule}: ${fn}(${m[1]!}) without ${guard}(${m[1]!})`);
    }
  }
  if (r.reason && !['FieldValueInvalid', 'FieldValueForbidden', 'FieldValueRequired', 'FieldValueDuplicate'].includes(r.reason)) out.push(`${r.rule}: reason ${r.reason}`);
  return out;
}

/** oneOf/anyOf/not anywhere but the int-or-string anyOf: a failed junctor names the wrong field and stops every CEL rule. */
function junctorsIn(schema: Schema): string[] {
  const out: string[] = [];
  const walk = (s: unknown, path: string): void => {
    if (!isObj(s)) return;
    for (const j of [...JUNCTORS, 'not'] as const) {
      if (j in s && !(j === 'anyOf' && s['x-kubernetes-int-or-string'] === true && isIntOrStringAnyOf(s[j]))) out.push(`${path}.${j}`);
    }
    if (isObj(s['properties'])) for (const [n, sub] of Object.entries(s['properties'])) walk(sub, `${path}.${n}`);
    if (isObj(s['items'])) walk(s['items'], `${path}[]`);
    if (isObj(s['additionalProperties'])) walk(s['additionalProperties'], `${path}{}`);
  };
  walk(schema, '');
  return out;
}
function celRulesOf(crd: Json): CelRule[] {
  const out: CelRule[] = [];
  const walk = (s: unknown): void => {
    if (Array.isArray(s)) { s.forEach(walk); return; }
    if (!isObj(s)) return;
    if (Array.isArray(s['x-kubernetes-validations'])) out.push(...(s['x-kubernetes-validations'] as CelRule[]));
    for (const v of Object.values(s)) walk(v);
  };
  walk(openApiOf(crd));
  return out;
}

// ---------------------------------------------------------------------------------------------

describe('CRD definitions', () => {
  test('two CRDs in group dhcp.failover.dev, named <plural>.<group>, with short names, category, status subresource', () => {
    const byKind = new Map([...crds.values()].map((c) => [kindOf(c), c]));
    assert.deepEqual([...byKind.keys()].sort(), ['DhcpFailoverRelationship', 'DhcpScope']);
    const expectShort: Record<string, string> = { DhcpScope: 'dscope', DhcpFailoverRelationship: 'dfr' };
    for (const [file, crd] of crds) {
      const spec = crd['spec'] as Json;
      const names = spec['names'] as Json;
      assert.equal(crd['apiVersion'], 'apiextensions.k8s.io/v1');
      assert.equal(spec['group'], GROUP);
      assert.equal(spec['scope'], 'Namespaced');
      assert.equal((crd['metadata'] as Json)['name'], `${names['plural'] as string}.${GROUP}`);
      assert.equal(file, `${GROUP}_${names['plural'] as string}.yaml`);
      assert.equal(names['plural'], (names['kind'] as string).toLowerCase() + 's');
      assert.deepEqual(names['shortNames'], [expectShort[names['kind'] as string]]);
      assert.ok((names['categories'] as string[]).includes('dhcp'));
      const v = versionOf(crd);
      assert.equal(v['name'], 'v1alpha1');
      assert.equal(v['served'], true);
      assert.equal(v['storage'], true);
      assert.deepEqual(v['subresources'], { status: {} });
    }
  });

  test('schemas are structural (the lint also catches the mistakes it is meant to)', () => {
    for (const [file, crd] of crds) assert.deepEqual(lintStructural(openApiOf(crd)), [], file);
    const bad: Schema = {
      type: 'object',
      properties: {
        metadata: { type: 'object', properties: { labels: { type: 'object' } } },
        a: { properties: { x: { type: 'string' } } },
        b: { type: 'object', propertyNames: { pattern: 'x' } },
        c: { type: 'object', properties: { y: { type: 'string' } }, additionalProperties: { type: 'string' } },
        d: { type: 'object', properties: { m: { type: 'string' } }, oneOf: [{ type: 'object' }, { properties: { zz: { enum: ['q'] } } }] },
        e: { type: 'array', x_: 1, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k'], items: { type: 'object', properties: { k: { type: 'string' } } } },
      },
    };
    const problems = lintStructural(bad);
    for (const expected of [
      '.metadata.properties: only name and generateName may be restricted',
      '.a: no type',
      '.b: keyword propertyNames is not allowed in a CRD schema',
      '.c: properties and additionalProperties together',
      '.d.oneOf[0]: type is not allowed inside a junctor',
      '.d.oneOf[1].properties.zz: not specified outside the junctor',
      '.e: keyword x_ is not allowed in a CRD schema',
      '.e: map key k neither required nor defaulted',
    ]) assert.ok(problems.includes(expected), `lint should report ${expected}; got ${JSON.stringify(problems)}`);
  });

  test('printer columns point at fields the schema defines', () => {
    const resolve = (schema: Schema, jsonPath: string): boolean => {
      const tokens = jsonPath.match(/\.[A-Za-z0-9_]+|\[[^\]]*\]/g) ?? [];
      assert.equal(tokens.join(''), jsonPath, `unparsed jsonPath ${jsonPath}`);
      let s: Schema | undefined = schema;
      for (const t of tokens) {
        if (!s) return false;
        if (t.startsWith('[')) { s = isObj(s['items']) ? s['items'] : undefined; continue; }
        const name = t.slice(1);
        if (s === (schema['properties'] as Json)['metadata']) return ['creationTimestamp', 'name', 'namespace', 'labels'].includes(name);
        s = isObj(s['properties']) ? (s['properties'][name] as Schema | undefined) : undefined;
      }
      return s !== undefined;
    };
    for (const [file, crd] of crds) {
      const cols = versionOf(crd)['additionalPrinterColumns'] as Json[];
      const names = cols.map((c) => c['name']);
      assert.ok(names.includes('Ready') && names.includes('Age'), file);
      for (const c of cols) assert.ok(resolve(openApiOf(crd), c['jsonPath'] as string), `${file}: ${String(c['name'])} → ${String(c['jsonPath'])}`);
    }
    const dfr = [...crds.values()].find((c) => kindOf(c) === 'DhcpFailoverRelationship')!;
    const cols = (versionOf(dfr)['additionalPrinterColumns'] as Json[]).map((c) => c['jsonPath']);
    assert.ok(cols.includes('.spec.mode') && cols.includes('.status.servers[0].state') && cols.includes('.status.servers[1].state') && cols.includes('.status.scopeCount'));
  });

  test('status carries observedGeneration, metav1.Condition-shaped conditions (list-map by type) and the counters', () => {
    for (const [file, crd] of crds) {
      const status = (openApiOf(crd)['properties'] as Json)['status'] as Json;
      const props = status['properties'] as Json;
      assert.ok('observedGeneration' in props, file);
      const cond = props['conditions'] as Json;
      assert.equal(cond['x-kubernetes-list-type'], 'map');
      assert.deepEqual(cond['x-kubernetes-list-map-keys'], ['type']);
      assert.deepEqual((cond['items'] as Json)['required'], ['type', 'status', 'lastTransitionTime', 'reason', 'message']);
    }
    const scope = [...crds.values()].find((c) => kindOf(c) === 'DhcpScope')!;
    const sp = ((openApiOf(scope)['properties'] as Json)['status'] as Json)['properties'] as Json;
    assert.deepEqual(Object.keys((sp['leases'] as Json)['properties'] as Json).sort(), ['abandoned', 'active', 'backup', 'expired', 'free', 'released', 'reset']);
    assert.ok('utilizationPercent' in sp);
    const dfr = [...crds.values()].find((c) => kindOf(c) === 'DhcpFailoverRelationship')!;
    const dp = ((openApiOf(dfr)['properties'] as Json)['status'] as Json)['properties'] as Json;
    assert.deepEqual(Object.keys(((dp['servers'] as Json)['items'] as Json)['properties'] as Json).sort(),
      ['lastContact', 'leases', 'name', 'partnerState', 'ready', 'state']);
    assert.ok('lastSuccessfulSync' in dp);
  });

  test('every CEL rule has a message, and every fieldPath names a field of the object the rule sits on', () => {
    let count = 0;
    const walk = (s: unknown): void => {
      if (Array.isArray(s)) { s.forEach(walk); return; }
      if (!isObj(s)) return;
      for (const r of (s['x-kubernetes-validations'] ?? []) as CelRule[]) {
        count++;
        assert.ok(r.rule && r.message, JSON.stringify(r));
        if (r.fieldPath) {
          const field = r.fieldPath.replace(/^\./, '');
          assert.ok(isObj(s['properties']) && field in s['properties'], `fieldPath ${r.fieldPath} of ${r.rule}`);
        }
      }
      for (const v of Object.values(s)) walk(v);
    };
    for (const crd of crds.values()) walk(openApiOf(crd));
    assert.ok(count >= 9, `found ${count} CEL rules`);
  });
});

describe('CEL rules without noise (what a real API server showed; checked there by real-api-crds.test.ts)', () => {
  test('list indexes are guarded by size(), cidr()/ip() by isCIDR()/isIP(), reasons are known (and the lint catches each)', () => {
    for (const crd of crds.values()) for (const r of celRulesOf(crd)) assert.deepEqual(celNoiseProblems(r), [], kindOf(crd));
    assert.equal(celNoiseProblems({ rule: 'self.servers[0].name != self.servers[1].name' }).length, 1);
    assert.equal(celNoiseProblems({ rule: 'size(self.servers) != 2 || self.servers[0].name != self.servers[1].name' }).length, 0);
    assert.equal(celNoiseProblems({ rule: 'string(cidr(self.subnet).masked()) == self.subnet' }).length, 1);
    assert.equal(celNoiseProblems({ rule: '!isCIDR(self.subnet) || cidr(self.subnet).containsIP(r.ip)' }).length, 1, 'containsIP parses its string');
    assert.equal(celNoiseProblems({ rule: '!isCIDR(self.subnet) || self.all(r, !isIP(r.ip) || cidr(self.subnet).containsIP(r.ip))' }).length, 0);
    assert.equal(celNoiseProblems({ rule: '!isIP(self.a) || ip(self.a).family() == 4' }).length, 0);
    assert.equal(celNoiseProblems({ rule: 'true', reason: 'FieldValueTooLong' }).length, 1);
  });

  test('no oneOf/anyOf/not in the schemas (cross-field rules are CEL with a fieldPath)', () => {
    for (const [file, crd] of crds) assert.deepEqual(junctorsIn(openApiOf(crd)), [], file);
    assert.deepEqual(junctorsIn({ type: 'object', properties: { a: { type: 'object', oneOf: [{ required: ['x'] }] }, q: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] } } }), ['.a.oneOf']);
  });

  test('every cross-field rule names its field: fieldPath, or sits on the field itself', () => {
    const dfr = [...crds.values()].find((x) => kindOf(x) === 'DhcpFailoverRelationship')!;
    const spec = (openApiOf(dfr)['properties'] as Json)['spec'] as Json;
    for (const r of (spec['x-kubernetes-validations'] ?? []) as CelRule[]) assert.ok(r.fieldPath, `spec rule without fieldPath: ${r.rule}`);
    const scope = [...crds.values()].find((x) => kindOf(x) === 'DhcpScope')!;
    const sspec = (openApiOf(scope)['properties'] as Json)['spec'] as Json;
    for (const r of (sspec['x-kubernetes-validations'] ?? []) as CelRule[]) assert.ok(r.fieldPath, `spec rule without fieldPath: ${r.rule}`);
  });
});

describe('examples (manifests/examples)', () => {
  test('every custom resource example validates against its CRD schema', () => {
    const crs = examples.filter((e) => (e.obj['apiVersion'] as string).startsWith(`${GROUP}/`));
    assert.ok(crs.filter((e) => e.obj['kind'] === 'DhcpScope').length >= 2);
    assert.ok(crs.filter((e) => e.obj['kind'] === 'DhcpFailoverRelationship').length >= 2);
    for (const e of crs) {
      assert.equal(e.obj['apiVersion'], `${GROUP}/v1alpha1`, e.file);
      const r = validate(e.obj);
      assert.ok(r.ok, `${e.file}: ${ajv.errorsText(r.errors)}`);
      assert.deepEqual(celProblems(e.obj), [], e.file);
    }
  });

  test('one load-balance and one hot-standby relationship; both modes use their mode fields', () => {
    const modes = examples.filter((e) => e.obj['kind'] === 'DhcpFailoverRelationship').map((e) => (e.obj['spec'] as Json)['mode']);
    assert.ok(modes.includes('loadBalance') && modes.includes('hotStandby'));
  });

  test('schema defaults are applied (mcltSeconds, port, secret key, redis, leaseSeconds, active)', () => {
    const rel = validate(exampleOf('21-relationship-hotstandby.yaml'));
    assert.ok(rel.ok, ajv.errorsText(rel.errors));
    const spec = rel.defaulted['spec'] as Json;
    assert.equal(spec['port'], 647);
    assert.equal((spec['sharedSecretRef'] as Json)['key'], 'secret');
    assert.deepEqual(spec['redis'], { size: '1Gi', appendfsync: 'always' });
    assert.equal((spec['servers'] as Json[])[0]!['external'], false);
    assert.equal(spec['mcltSeconds'], 1800, 'a given value is kept');
    const minimal = validate({
      apiVersion: `${GROUP}/v1alpha1`, kind: 'DhcpFailoverRelationship', metadata: { name: 'x' },
      spec: { mode: 'loadBalance', sharedSecretRef: { name: 's' }, servers: [{ name: 'a', nodeName: 'n1', address: '10.0.0.1' }, { name: 'b', nodeName: 'n2', address: '10.0.0.2' }] },
    });
    assert.ok(minimal.ok, ajv.errorsText(minimal.errors));
    assert.equal((minimal.defaulted['spec'] as Json)['mcltSeconds'], 3600);
    const scope = validate(exampleOf('31-scope-branch.yaml'));
    assert.equal((scope.defaulted['spec'] as Json)['active'], true);
    const lab = validate(exampleOf('32-scope-lab.yaml'));
    assert.equal((lab.defaulted['spec'] as Json)['leaseSeconds'], 3600);
  });

  test('references resolve: scopes → relationships, relationships → Secret key, all in a privileged namespace', () => {
    const find = (kind: string, name: string): Json | undefined =>
      examples.map((e) => e.obj).find((o) => o['kind'] === kind && (o['metadata'] as Json)['name'] === name);
    const ns = find('Namespace', 'dhcp');
    assert.ok(ns);
    assert.equal(((ns['metadata'] as Json)['labels'] as Json)['pod-security.kubernetes.io/enforce'], 'privileged');
    for (const { file, obj } of examples) {
      if (obj['kind'] === 'Namespace') continue;
      assert.equal((obj['metadata'] as Json)['namespace'], 'dhcp', file);
      const spec = obj['spec'] as Json;
      if (obj['kind'] === 'DhcpScope') {
        assert.ok(find('DhcpFailoverRelationship', (spec['relationshipRef'] as Json)['name'] as string), file);
      }
      if (obj['kind'] === 'DhcpFailoverRelationship' && spec['sharedSecretRef']) {
        const ref = validate(obj).defaulted['spec'] as Json;
        const { name, key } = ref['sharedSecretRef'] as { name: string; key: string };
        const secret = find('Secret', name);
        assert.ok(secret, `${file}: Secret ${name}`);
        assert.ok(key in (secret['stringData'] as Json ?? secret['data'] as Json), `${file}: key ${key}`);
      }
    }
  });

  test('every example scope is also a valid server scope (src/config/validate.ts: option names and values encode)', () => {
    const scopes = examples.filter((e) => e.obj['kind'] === 'DhcpScope');
    for (const { file, obj } of scopes) {
      const { relationshipRef: _ref, ...rest } = obj['spec'] as Json;
      const raw = { server: { name: 'check', serverId: '192.0.2.1' }, scopes: [{ name: (obj['metadata'] as Json)['name'], ...rest }] };
      assert.doesNotThrow(() => validateConfig(raw, file), file);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Broken objects: each must fail, with an error at `path` (instancePath prefix) and `keyword`.

interface BadCase { name: string; file: string; mutate: (o: Json) => void; path: string; keyword: string }
const spec = (o: Json): Json => o['spec'] as Json;
const server = (o: Json, i: number): Json => (spec(o)['servers'] as Json[])[i]!;

const BAD: BadCase[] = [
  // DhcpScope
  { name: 'subnet prefix /33', file: '31-scope-branch.yaml', mutate: (o) => { spec(o)['subnet'] = '10.30.0.0/33'; }, path: '/spec/subnet', keyword: 'pattern' },
  { name: 'subnet prefix /31 (server allows /8–/30)', file: '31-scope-branch.yaml', mutate: (o) => { spec(o)['subnet'] = '10.30.0.0/31'; }, path: '/spec/subnet', keyword: 'pattern' },
  { name: 'subnet octet 256', file: '31-scope-branch.yaml', mutate: (o) => { spec(o)['subnet'] = '10.256.0.0/24'; }, path: '/spec/subnet', keyword: 'pattern' },
  { name: 'subnet without prefix', file: '31-scope-branch.yaml', mutate: (o) => { spec(o)['subnet'] = '10.30.0.0'; }, path: '/spec/subnet', keyword: 'pattern' },
  { name: 'range start not IPv4', file: '31-scope-branch.yaml', mutate: (o) => { (spec(o)['ranges'] as Json[])[0]!['start'] = '10.30.0.1.5'; }, path: '/spec/ranges/0/start', keyword: 'pattern' },
  { name: 'range without end', file: '31-scope-branch.yaml', mutate: (o) => { delete (spec(o)['ranges'] as Json[])[0]!['end']; }, path: '/spec/ranges/0', keyword: 'required' },
  { name: 'leaseSeconds 59', file: '31-scope-branch.yaml', mutate: (o) => { spec(o)['leaseSeconds'] = 59; }, path: '/spec/leaseSeconds', keyword: 'minimum' },
  { name: 'leaseSeconds as a string', file: '31-scope-branch.yaml', mutate: (o) => { spec(o)['leaseSeconds'] = '3600'; }, path: '/spec/leaseSeconds', keyword: 'type' },
  { name: 'active "yes"', file: '31-scope-branch.yaml', mutate: (o) => { spec(o)['active'] = 'yes'; }, path: '/spec/active', keyword: 'type' },
  { name: 'no relationshipRef', file: '31-scope-branch.yaml', mutate: (o) => { delete spec(o)['relationshipRef']; }, path: '/spec', keyword: 'required' },
  { name: 'unknown spec field (typo)', file: '31-scope-branch.yaml', mutate: (o) => { spec(o)['leaseTime'] = 3600; }, path: '/spec', keyword: 'additionalProperties' },
  { name: 'hwAddress with 5 bytes', file: '30-scope-office.yaml', mutate: (o) => { (spec(o)['reservations'] as Json[])[0]!['hwAddress'] = '00:1b:44:11:3a'; }, path: '/spec/reservations/0/hwAddress', keyword: 'pattern' },
  { name: 'clientId one byte', file: '30-scope-office.yaml', mutate: (o) => { (spec(o)['reservations'] as Json[])[1]!['clientId'] = '01'; }, path: '/spec/reservations/1/clientId', keyword: 'pattern' },
  { name: 'hostname with underscore', file: '30-scope-office.yaml', mutate: (o) => { (spec(o)['reservations'] as Json[])[0]!['hostname'] = 'build_server'; }, path: '/spec/reservations/0/hostname', keyword: 'pattern' },
  { name: 'options not a map', file: '30-scope-office.yaml', mutate: (o) => { spec(o)['options'] = ['routers']; }, path: '/spec/options', keyword: 'type' },
  // DhcpFailoverRelationship
  { name: 'three servers', file: '20-relationship-loadbalance.yaml', mutate: (o) => { (spec(o)['servers'] as Json[]).push({ name: 'dhcp-c', nodeName: 'node-3', address: '10.20.0.4' }); }, path: '/spec/servers', keyword: 'maxItems' },
  { name: 'one server', file: '20-relationship-loadbalance.yaml', mutate: (o) => { (spec(o)['servers'] as Json[]).pop(); }, path: '/spec/servers', keyword: 'minItems' },
  { name: 'unknown mode', file: '20-relationship-loadbalance.yaml', mutate: (o) => { spec(o)['mode'] = 'activeActive'; }, path: '/spec/mode', keyword: 'enum' },
  { name: 'no mode', file: '20-relationship-loadbalance.yaml', mutate: (o) => { delete spec(o)['mode']; }, path: '/spec', keyword: 'required' },
  { name: 'loadBalancePercent 101', file: '20-relationship-loadbalance.yaml', mutate: (o) => { spec(o)['loadBalancePercent'] = 101; }, path: '/spec/loadBalancePercent', keyword: 'maximum' },
  { name: 'loadBalancePercent 50.5', file: '20-relationship-loadbalance.yaml', mutate: (o) => { spec(o)['loadBalancePercent'] = 50.5; }, path: '/spec/loadBalancePercent', keyword: 'type' },
  { name: 'reservePercent -1', file: '21-relationship-hotstandby.yaml', mutate: (o) => { spec(o)['reservePercent'] = -1; }, path: '/spec/reservePercent', keyword: 'minimum' },
  { name: 'reservePercent 101', file: '21-relationship-hotstandby.yaml', mutate: (o) => { spec(o)['reservePercent'] = 101; }, path: '/spec/reservePercent', keyword: 'maximum' },
  { name: 'server address octet 300', file: '20-relationship-loadbalance.yaml', mutate: (o) => { server(o, 1)['address'] = '10.20.0.300'; }, path: '/spec/servers/1/address', keyword: 'pattern' },
  { name: 'server without address', file: '20-relationship-loadbalance.yaml', mutate: (o) => { delete server(o, 0)['address']; }, path: '/spec/servers/0', keyword: 'required' },
  { name: 'server name not a DNS label', file: '20-relationship-loadbalance.yaml', mutate: (o) => { server(o, 0)['name'] = 'Dhcp_A'; }, path: '/spec/servers/0/name', keyword: 'pattern' },
  { name: 'interface name too long', file: '20-relationship-loadbalance.yaml', mutate: (o) => { server(o, 0)['interfaces'] = ['a-very-long-interface0']; }, path: '/spec/servers/0/interfaces/0', keyword: 'maxLength' },
  { name: 'mcltSeconds 30', file: '20-relationship-loadbalance.yaml', mutate: (o) => { spec(o)['mcltSeconds'] = 30; }, path: '/spec/mcltSeconds', keyword: 'minimum' },
  { name: 'mcltSeconds over 30 days', file: '20-relationship-loadbalance.yaml', mutate: (o) => { spec(o)['mcltSeconds'] = 2592001; }, path: '/spec/mcltSeconds', keyword: 'maximum' },
  { name: 'stateSwitchoverSeconds 5', file: '20-relationship-loadbalance.yaml', mutate: (o) => { spec(o)['stateSwitchoverSeconds'] = 5; }, path: '/spec/stateSwitchoverSeconds', keyword: 'minimum' },
  { name: 'port 0', file: '20-relationship-loadbalance.yaml', mutate: (o) => { spec(o)['port'] = 0; }, path: '/spec/port', keyword: 'minimum' },
  { name: 'port 70000', file: '20-relationship-loadbalance.yaml', mutate: (o) => { spec(o)['port'] = 70000; }, path: '/spec/port', keyword: 'maximum' },
  { name: 'appendfsync "sometimes"', file: '20-relationship-loadbalance.yaml', mutate: (o) => { (spec(o)['redis'] as Json)['appendfsync'] = 'sometimes'; }, path: '/spec/redis/appendfsync', keyword: 'enum' },
  { name: 'redis size not a quantity', file: '20-relationship-loadbalance.yaml', mutate: (o) => { (spec(o)['redis'] as Json)['size'] = 'big'; }, path: '/spec/redis/size', keyword: 'pattern' },
  { name: 'resources.requests.cpu not a quantity', file: '20-relationship-loadbalance.yaml', mutate: (o) => { ((spec(o)['resources'] as Json)['requests'] as Json)['cpu'] = 'lots'; }, path: '/spec/resources/requests/cpu', keyword: 'pattern' },
  { name: 'partnerDialect "cisco"', file: '22-relationship-ms-partner.yaml', mutate: (o) => { spec(o)['partnerDialect'] = 'cisco'; }, path: '/spec/partnerDialect', keyword: 'enum' },
  { name: 'sharedSecretRef without name', file: '20-relationship-loadbalance.yaml', mutate: (o) => { spec(o)['sharedSecretRef'] = { key: 'secret' }; }, path: '/spec/sharedSecretRef', keyword: 'required' },
  { name: 'unknown server field (typo)', file: '20-relationship-loadbalance.yaml', mutate: (o) => { server(o, 0)['adress'] = '10.20.0.2'; }, path: '/spec/servers/0', keyword: 'additionalProperties' },
];

describe('invalid objects are rejected by the schema', () => {
  for (const c of BAD) {
    test(c.name, () => {
      const obj = exampleOf(c.file);
      assert.ok(validate(obj).ok, 'the base example is valid');
      c.mutate(obj);
      const r = validate(obj);
      assert.equal(r.ok, false, 'rejected');
      const hit = r.errors.some((e) => e.instancePath === c.path && e.keyword === c.keyword)
        || r.errors.some((e) => e.instancePath.startsWith(c.path) && e.keyword === c.keyword);
      assert.ok(hit, `expected ${c.keyword} at ${c.path}; got ${ajv.errorsText(r.errors)}`);
    });
  }
});

// What only CEL rejects (ajv ignores x-kubernetes-validations): the schema alone accepts these,
// the CRD has a rule for each, and celProblems (the JS restatement run on the examples) flags it.
// The same objects go to a real API server in real-api-crds.test.ts (test/fixtures/operator/invalid-crs.yaml).
interface CelCase { name: string; file: string; mutate: (o: Json) => void; ruleIncludes: string; problem: string }
const CEL_ONLY: CelCase[] = [
  { name: 'subnet with host bits set', file: '31-scope-branch.yaml', mutate: (o) => { spec(o)['subnet'] = '10.30.0.1/24'; }, ruleIncludes: 'masked()', problem: 'subnet host bits' },
  { name: 'range outside the subnet', file: '31-scope-branch.yaml', mutate: (o) => { (spec(o)['ranges'] as Json[])[0]!['end'] = '10.31.0.1'; }, ruleIncludes: 'self.ranges.all', problem: 'range outside subnet' },
  { name: 'reservation outside the subnet', file: '30-scope-office.yaml', mutate: (o) => { (spec(o)['reservations'] as Json[])[0]!['ip'] = '10.99.0.5'; }, ruleIncludes: 'self.reservations.all', problem: 'reservation outside subnet' },
  { name: 'reservation without hwAddress or clientId', file: '30-scope-office.yaml', mutate: (o) => { delete (spec(o)['reservations'] as Json[])[0]!['hwAddress']; }, ruleIncludes: 'has(self.hwAddress) || has(self.clientId)', problem: 'reservation without id' },
  { name: 'hotStandby without activeServer', file: '21-relationship-hotstandby.yaml', mutate: (o) => { delete spec(o)['activeServer']; }, ruleIncludes: "self.mode != 'hotStandby' || has(self.activeServer)", problem: 'activeServer required' },
  { name: 'hotStandby with loadBalancePercent', file: '21-relationship-hotstandby.yaml', mutate: (o) => { spec(o)['loadBalancePercent'] = 50; }, ruleIncludes: '!has(self.loadBalancePercent)', problem: 'loadBalancePercent forbidden' },
  { name: 'loadBalance with activeServer', file: '20-relationship-loadbalance.yaml', mutate: (o) => { spec(o)['activeServer'] = 'dhcp-a'; }, ruleIncludes: "self.mode != 'loadBalance' || !has(self.activeServer)", problem: 'activeServer forbidden' },
  { name: 'loadBalance with reservePercent', file: '20-relationship-loadbalance.yaml', mutate: (o) => { spec(o)['reservePercent'] = 5; }, ruleIncludes: '!has(self.reservePercent)', problem: 'reservePercent forbidden' },
  { name: 'activeServer not one of the servers', file: '21-relationship-hotstandby.yaml', mutate: (o) => { spec(o)['activeServer'] = 'nobody'; }, ruleIncludes: 's.name == self.activeServer', problem: 'activeServer' },
  { name: 'no sharedSecretRef and no partnerDialect', file: '20-relationship-loadbalance.yaml', mutate: (o) => { delete spec(o)['sharedSecretRef']; }, ruleIncludes: 'has(self.sharedSecretRef) || has(self.partnerDialect)', problem: 'sharedSecretRef required' },
  { name: 'two servers with one address', file: '20-relationship-loadbalance.yaml', mutate: (o) => { server(o, 1)['address'] = '10.20.0.2'; }, ruleIncludes: 'self[0].address != self[1].address', problem: 'server addresses' },
  { name: 'managed server with no placement', file: '21-relationship-hotstandby.yaml', mutate: (o) => { delete server(o, 0)['nodeSelector']; }, ruleIncludes: 'has(self.nodeName) || has(self.nodeSelector)', problem: 'placement required' },
  { name: 'server with nodeName and nodeSelector', file: '20-relationship-loadbalance.yaml', mutate: (o) => { server(o, 0)['nodeSelector'] = { a: 'b' }; }, ruleIncludes: '!has(self.nodeName) || !has(self.nodeSelector)', problem: 'placement twice' },
  { name: 'external server with nodeName', file: '22-relationship-ms-partner.yaml', mutate: (o) => { server(o, 1)['nodeName'] = 'node-9'; }, ruleIncludes: '!(has(self.external) && self.external) || !has(self.nodeName)', problem: 'external placement' },
  { name: 'external server without partnerDialect', file: '22-relationship-ms-partner.yaml', mutate: (o) => { delete spec(o)['partnerDialect']; }, ruleIncludes: 'has(self.partnerDialect) ||', problem: 'external count' },
  { name: 'partnerDialect without an external server', file: '20-relationship-loadbalance.yaml', mutate: (o) => { spec(o)['partnerDialect'] = 'isc'; }, ruleIncludes: '.size() == 1', problem: 'external count' },
  { name: 'relationship name over 30 characters', file: '20-relationship-loadbalance.yaml', mutate: (o) => { (o['metadata'] as Json)['name'] = 'a'.repeat(31); }, ruleIncludes: 'size(self) <= 30', problem: 'name length' },
];

describe('rules only CEL enforces (documented gap of offline validation)', () => {
  test('two servers with one name: refused by the list-map key (no CEL rule repeats it)', () => {
    const obj = exampleOf('20-relationship-loadbalance.yaml');
    server(obj, 1)['name'] = 'dhcp-a';
    assert.ok(validate(obj).ok, 'the schema without list-map semantics accepts it');
    const dfr = [...crds.values()].find((x) => kindOf(x) === 'DhcpFailoverRelationship')!;
    const servers = (((openApiOf(dfr)['properties'] as Json)['spec'] as Json)['properties'] as Json)['servers'] as Json;
    assert.equal(servers['x-kubernetes-list-type'], 'map');
    assert.deepEqual(servers['x-kubernetes-list-map-keys'], ['name']);
    assert.ok(!celRulesOf(dfr).some((r) => /\.name != .*\.name/.test(r.rule)), 'no CEL rule for distinct names');
    assert.ok(celProblems(obj).includes('server names'));
  });

  for (const c of CEL_ONLY) {
    test(c.name, () => {
      const obj = exampleOf(c.file);
      c.mutate(obj);
      assert.ok(validate(obj).ok, 'the schema without CEL accepts it');
      const crd = [...crds.values()].find((x) => kindOf(x) === obj['kind'])!;
      assert.ok(celRulesOf(crd).some((r) => r.rule.includes(c.ruleIncludes)), `a CEL rule containing ${c.ruleIncludes}`);
      assert.ok(celProblems(obj).includes(c.problem), `JS restatement flags ${c.problem}: ${JSON.stringify(celProblems(obj))}`);
    });
  }
});
