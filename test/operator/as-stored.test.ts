// as-stored: the apiextensions defaulting, pruning and key order render -f applies (the live comparison with
// a real API server is in real-api-crds.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asStored, defaultAndPrune, loadCrdSchemas, sortKeys, type Schema } from '../../src/operator/render/as-stored.ts';

const schema: Schema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        port: { type: 'integer', default: 647 },
        redis: { type: 'object', default: {}, properties: { size: { type: 'string', default: '1Gi' }, fsync: { type: 'string' } } },
        servers: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, external: { type: 'boolean', default: false } } } },
        options: { type: 'object', additionalProperties: { 'x-kubernetes-preserve-unknown-fields': true } },
      },
    },
  },
};

test('defaults fill absent fields at every level (inside a defaulted object, in list items), never present ones', () => {
  const out = defaultAndPrune({ spec: { port: 6470, servers: [{ name: 'a' }, { name: 'b', external: true }] } }, schema) as any;
  assert.equal(out.spec.port, 6470);
  assert.deepEqual(out.spec.redis, { size: '1Gi' });
  assert.deepEqual(out.spec.servers, [{ name: 'a', external: false }, { name: 'b', external: true }]);
});

test('unknown fields are pruned unless the schema preserves them; keys come back sorted', () => {
  const obj = { apiVersion: 'x/v1', kind: 'K', metadata: { name: 'n', labels: { z: '1' } }, spec: { typo: 1, options: { routers: ['1'], 'domain-name': { any: { deep: 1 } } } }, extra: true };
  const out = asStored(obj, schema) as any;
  assert.equal('typo' in out.spec, false);
  assert.equal('extra' in out, false);
  assert.deepEqual(out.spec.options['domain-name'], { any: { deep: 1 } });
  assert.deepEqual(Object.keys(out.spec.options), ['domain-name', 'routers']);
  assert.deepEqual(out.metadata, obj.metadata, 'metadata as written');
  assert.deepEqual(Object.keys(sortKeys({ b: 1, a: { d: 1, c: 2 } }) as object), ['a', 'b']);
});

test('the CRD schemas in crds/ load by kind', () => {
  const schemas = loadCrdSchemas();
  assert.deepEqual([...schemas.keys()].sort(), ['DhcpFailoverRelationship', 'DhcpScope']);
  const scope = asStored({ apiVersion: 'dhcp.failover.dev/v1alpha1', kind: 'DhcpScope', metadata: { name: 's' }, spec: { relationshipRef: { name: 'r' }, subnet: '10.0.0.0/24', ranges: [] } }, schemas.get('DhcpScope')!) as any;
  assert.equal(scope.spec.leaseSeconds, 3600);
  assert.equal(scope.spec.active, true);
});
