// The CRDs against a real kube-apiserver (test/fakes/kube-control-plane.ts): what the offline checks in
// crds.test.ts cannot see. Both CRDs are accepted (their CEL rules compile within the cost budget) and become
// Established; every manifests/examples/ file goes in with `kubectl apply` (namespace first) and comes back
// defaulted; the rendered chart passes a server-side dry run; and every object in
// test/fixtures/operator/invalid-crs.yaml is refused with one error, at the right field, with the right
// words and none of the noise (CEL runtime errors, junctor messages naming the wrong field).
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiextensionsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { load, loadAll } from 'js-yaml';
import { asStored, loadCrdSchemas } from '../../src/operator/render/as-stored.ts';
import { renderDocuments } from '../../src/operator/render-command.ts';
import { DEFAULT_RENDER_OPTIONS } from '../../src/operator/render/types.ts';
import { REPO_ROOT, runHelm } from '../fakes/helm.ts';
import { controlPlaneUnavailable, kubeStatusOf, startControlPlane, type ControlPlane, type KubeStatus } from '../fakes/kube-control-plane.ts';

type Json = Record<string, any>;

const GROUP = 'dhcp.failover.dev';
const CRD_DIR = join(REPO_ROOT, 'crds');
const EXAMPLES_DIR = join(REPO_ROOT, 'manifests/examples');
const CHART = join(REPO_ROOT, 'charts/dhcp-failover');
const CRD_NAMES = ['dhcpfailoverrelationships.dhcp.failover.dev', 'dhcpscopes.dhcp.failover.dev'];
/** Kubernetes' own note when a required/enum/length/type error stops the CEL rules (at field <nil>). */
const CEL_SKIPPED_NOTE = 'some validation rules were not checked because the object was invalid';

interface InvalidCase {
  readonly description: string;
  readonly field: string;
  readonly contains: readonly string[];
  readonly notContains?: readonly string[];
  readonly object: Json;
}
const table = load(readFileSync(join(REPO_ROOT, 'test/fixtures/operator/invalid-crs.yaml'), 'utf8')) as { noise: string[]; cases: InvalidCase[] };

const exampleFiles = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml')).sort();
const examples = exampleFiles.flatMap((file) => (loadAll(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as Json[])
  .filter((d) => d != null).map((obj) => ({ file, obj })));

describe('CRDs on a real API server', { skip: controlPlaneUnavailable }, () => {
  let cp: ControlPlane;
  let crs: CustomObjectsApi;

  before(async () => {
    cp = await startControlPlane();
    crs = cp.kubeConfig().makeApiClient(CustomObjectsApi);
  });
  after(async () => { await cp?.stop(); });

  /** What the server answers a dry-run create with strict field validation (kubectl's default): a Status, or undefined if accepted. */
  async function refusal(obj: Json): Promise<KubeStatus | undefined> {
    const [group, version] = (obj['apiVersion'] as string).split('/') as [string, string];
    try {
      await crs.createNamespacedCustomObject({
        group, version, namespace: obj['metadata']['namespace'], plural: `${(obj['kind'] as string).toLowerCase()}s`,
        body: obj, dryRun: 'All', fieldValidation: 'Strict',
      });
      return undefined;
    } catch (err) {
      const status = kubeStatusOf(err);
      if (!status) throw err;
      return status;
    }
  }

  test('both CRDs are accepted (CEL compiles within its cost budget) and become Established, names accepted', async () => {
    const r = await cp.kubectl(['apply', '--server-side', '-f', CRD_DIR]);
    for (const name of CRD_NAMES) assert.match(r.stdout, new RegExp(`${name.replace(/\./g, '\\.')} serverside-applied`));
    await cp.waitForCrdsEstablished(CRD_NAMES);
    const ext = cp.kubeConfig().makeApiClient(ApiextensionsV1Api);
    for (const name of CRD_NAMES) {
      const crd = await ext.readCustomResourceDefinition({ name });
      const conditions = Object.fromEntries((crd.status?.conditions ?? []).map((c) => [c.type, c.status]));
      assert.equal(conditions['Established'], 'True', name);
      assert.equal(conditions['NamesAccepted'], 'True', name);
    }
    const resources = await cp.kubectl(['api-resources', '--api-group', GROUP, '--no-headers']);
    assert.match(resources.stdout, /^dhcpfailoverrelationships\s+dfr\s+dhcp\.failover\.dev\/v1alpha1\s+true\s+DhcpFailoverRelationship$/m);
    assert.match(resources.stdout, /^dhcpscopes\s+dscope\s+dhcp\.failover\.dev\/v1alpha1\s+true\s+DhcpScope$/m);
  });

  test('every manifests/examples/ file is accepted by kubectl apply (00-namespace first), and the server applies the schema defaults', async () => {
    assert.equal(exampleFiles[0], '00-namespace.yaml');
    await cp.kubectl(['apply', '-f', join(EXAMPLES_DIR, '00-namespace.yaml')]);
    const r = await cp.kubectl(['apply', '-f', EXAMPLES_DIR], { allowFail: true });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Warning/, 'no warnings (e.g. unknown fields)');
    for (const { file, obj } of examples) {
      const kind = (obj['kind'] as string).toLowerCase();
      const ns = obj['metadata']['namespace'] as string | undefined;
      const got = await cp.kubectl(['get', `${kind}${kind.includes('.') || obj['apiVersion'] === 'v1' ? '' : `.${GROUP}`}`, obj['metadata']['name'], ...(ns ? ['-n', ns] : []), '-o', 'json']);
      assert.equal((JSON.parse(got.stdout) as Json)['metadata']['name'], obj['metadata']['name'], file);
    }
    const siteB = JSON.parse((await cp.kubectl(['get', 'dfr', 'site-b', '-n', 'dhcp', '-o', 'json'])).stdout) as Json;
    assert.equal(siteB['spec']['port'], 647);
    assert.equal(siteB['spec']['sharedSecretRef']['key'], 'secret');
    assert.deepEqual(siteB['spec']['redis'], { size: '1Gi', appendfsync: 'always' });
    assert.deepEqual(siteB['spec']['servers'].map((s: Json) => s['external']), [false, false]);
    assert.equal('loadBalancePercent' in siteB['spec'], false, 'no schema default for the other mode\'s field');
    const lab = JSON.parse((await cp.kubectl(['get', 'dscope', 'lab', '-n', 'dhcp', '-o', 'json'])).stdout) as Json;
    assert.equal(lab['spec']['leaseSeconds'], 3600);
    const printed = await cp.kubectl(['get', 'dhcp', '-n', 'dhcp']);
    assert.match(printed.stdout, /site-a\s+loadBalance/, 'category dhcp and the Mode printer column');
  });

  test('render -f matches what the operator renders from the stored objects: as-stored (defaults, pruning, key order) equals the API server, byte for byte', async () => {
    const schemas = loadCrdSchemas();
    const crs = examples.filter(({ obj }) => obj['apiVersion'] === `${GROUP}/v1alpha1`);
    assert.ok(crs.length >= 6);
    const stored: Json[] = [];
    for (const { file, obj } of crs) {
      const kind = (obj['kind'] as string).toLowerCase();
      const got = JSON.parse((await cp.kubectl(['get', `${kind}.${GROUP}`, obj['metadata']['name'], '-n', obj['metadata']['namespace'], '-o', 'json'])).stdout) as Json;
      const mine = asStored(obj, schemas.get(obj['kind'])!);
      // Key order included: JSON text, not deepEqual.
      assert.equal(JSON.stringify(mine['spec']), JSON.stringify(got['spec']), `${file}: spec as stored`);
      stored.push({ ...got, metadata: { name: got['metadata']['name'], namespace: got['metadata']['namespace'] } });
    }
    // The operator's render from the stored objects (without uid: render -f has none) is render -f's output.
    const offline = renderDocuments(crs.map(({ obj }) => obj), DEFAULT_RENDER_OPTIONS);
    const fromCluster = renderDocuments(stored, DEFAULT_RENDER_OPTIONS);
    assert.deepEqual(offline.problems, []);
    assert.equal(offline.yaml, fromCluster.yaml);
  });

  for (const values of [[], ['--set-json', 'watchNamespaces=["dhcp"]']] as const) {
    test(`the rendered chart passes a server-side dry run (${values.length ? values.join(' ') : 'default values'})`, async () => {
      const ns = 'dhcp-failover';
      await cp.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const r = runHelm(['template', 'dhcp-failover', CHART, '--namespace', ns, '--include-crds', ...values]);
      assert.equal(r.status, 0, r.stderr);
      const docs = (loadAll(r.stdout) as Json[]).filter((d) => d != null);
      assert.ok(docs.some((d) => d['kind'] === 'Deployment') && docs.some((d) => d['kind'] === 'CustomResourceDefinition'));
      const out = await cp.kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: r.stdout, allowFail: true });
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout.trim().split('\n').filter((l) => l.endsWith('(server dry run)')).length, docs.length, out.stdout);
    });
  }

  describe('invalid objects are refused with one clear error (test/fixtures/operator/invalid-crs.yaml)', () => {
    before(async () => {
      await cp.waitForCrdsEstablished(CRD_NAMES, 5_000);
      await cp.apply(readFileSync(join(EXAMPLES_DIR, '00-namespace.yaml'), 'utf8'));
    });

    test('the table covers both kinds and every field a CEL rule names', () => {
      const kinds = new Set(table.cases.map((c) => c.object['kind']));
      assert.deepEqual([...kinds].sort(), ['DhcpFailoverRelationship', 'DhcpScope']);
      const fields = new Set(table.cases.map((c) => c.field.replace(/\[\d+\]/g, '[]')));
      for (const f of ['metadata.name', 'spec.activeServer', 'spec.loadBalancePercent', 'spec.reservePercent', 'spec.sharedSecretRef',
        'spec.partnerDialect', 'spec.servers', 'spec.servers[].nodeName', 'spec.servers[].nodeSelector', 'spec.subnet', 'spec.ranges',
        'spec.exclusions', 'spec.reservations', 'spec.reservations[].hwAddress']) {
        assert.ok(fields.has(f), `a case for ${f}`);
      }
      assert.equal(new Set(table.cases.map((c) => c.description)).size, table.cases.length, 'descriptions are unique');
    });

    for (const c of table.cases) {
      test(c.description, async () => {
        const status = await refusal(c.object);
        assert.ok(status, 'refused');
        assert.ok(status.code === 422 || status.code === 400, `422 Invalid or 400 BadRequest; got ${status.code} ${status.reason}: ${status.message}`);
        const message = status.message;
        for (const s of c.contains) assert.ok(message.includes(s), `message contains ${JSON.stringify(s)}:\n${message}`);
        for (const s of [...table.noise, ...(c.notContains ?? [])]) assert.ok(!message.includes(s), `message without ${JSON.stringify(s)}:\n${message}`);
        const causes = status.causes.filter((x) => !(x.message ?? '').includes(CEL_SKIPPED_NOTE));
        if (causes.length === 0) {
          // A strict-decoding refusal (400) has no causes: the field is in the message.
          assert.ok(message.includes(`"${c.field}"`), `message names ${c.field}:\n${message}`);
        } else {
          assert.deepEqual(causes.map((x) => x.field), [c.field], `one cause, at ${c.field}:\n${message}`);
        }
      });
    }
  });
});
