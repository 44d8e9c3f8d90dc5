// Which relationship keeps a node when several place servers on it (node-claims.ts, pure): a table of
// { name, input, expected } over findNodeConflicts (none, the older kept, the tie rule, three on one
// node, a conflict that goes away, a pair on one node, how a node is told apart), then the messages and
// how a refused render looks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { claimedNodes, findNodeConflicts, nodeInUseProblems, withNodeConflicts } from '../../src/operator/node-claims.ts';
import type { DhcpFailoverRelationship, KubeObject, RelationshipServer, RenderResult } from '../../src/operator/render/types.ts';

const T0 = '2026-11-30T10:00:00Z', T1 = '2026-11-30T11:00:00Z', T2 = '2026-11-30T12:00:00Z';

/** A relationship `ns/name` created at `created`, its two servers on `nodes` (a string: nodeName; an object: nodeSelector; null: external). */
function rel(id: string, created: string, nodes: [string | Record<string, string> | null, string | Record<string, string> | null], mod: (r: DhcpFailoverRelationship) => void = () => {}): DhcpFailoverRelationship {
  const [namespace, name] = id.split('/') as [string, string];
  const server = (n: string | Record<string, string> | null, i: number): RelationshipServer => ({
    name: `${name}-s${i}`, address: `10.0.0.${i + 1}`,
    ...(n === null ? { external: true } : typeof n === 'string' ? { nodeName: n } : { nodeSelector: n }),
  });
  const r: DhcpFailoverRelationship = {
    apiVersion: 'dhcp.failover.dev/v1alpha1', kind: 'DhcpFailoverRelationship',
    metadata: { name, namespace, creationTimestamp: created },
    spec: { mode: 'loadBalance', servers: nodes.map(server) },
  };
  mod(r);
  return r;
}

/** The verdict as `refused relationship: server@node ← holder relationship:server`, sorted. */
function verdicts(rels: DhcpFailoverRelationship[]): string[] {
  return [...findNodeConflicts(rels)].flatMap(([key, list]) => list.map((c) => `${key}: ${c.claim.server}@${c.claim.node} ← ${c.holder.relationship}:${c.holder.server}`)).sort();
}

const A = () => rel('dhcp/site-a', T0, ['node-1', 'node-2']);
const B = () => rel('dhcp/site-b', T1, ['node-3', 'node-1']);

describe('findNodeConflicts', () => {
  const cases: { name: string; input: DhcpFailoverRelationship[]; expected: string[] }[] = [
    { name: 'no conflict: every server on a node of its own', input: [A(), rel('dhcp/site-b', T1, ['node-3', 'node-4'])], expected: [] },
    { name: 'no conflict: an external partner claims no node', input: [A(), rel('dhcp/site-b', T1, ['node-3', null]), rel('dhcp/site-c', T2, ['node-4', null])], expected: [] },
    { name: 'one relationship alone', input: [A()], expected: [] },
    { name: 'a conflict: the older relationship keeps the node, the later one is refused', input: [B(), A()], expected: ['dhcp/site-b: site-b-s1@node-1 ← dhcp/site-a:site-a-s0'] },
    { name: 'a conflict across namespaces', input: [A(), rel('other/site-b', T1, ['node-2', 'node-9'])], expected: ['other/site-b: site-b-s0@node-2 ← dhcp/site-a:site-a-s1'] },
    {
      name: 'tie on creationTimestamp: namespace/name decides (namespace first)',
      input: [rel('b/site-a', T0, ['node-1', 'node-2']), rel('a/site-z', T0, ['node-1', 'node-3'])],
      expected: ['b/site-a: site-a-s0@node-1 ← a/site-z:site-z-s0'],
    },
    {
      name: 'tie on creationTimestamp in one namespace: the name decides',
      input: [rel('dhcp/site-b', T0, ['node-1', 'node-2']), rel('dhcp/site-a', T0, ['node-1', 'node-3'])],
      expected: ['dhcp/site-b: site-b-s0@node-1 ← dhcp/site-a:site-a-s0'],
    },
    {
      name: 'three relationships on one node: the oldest keeps it, both others are refused naming it',
      input: [rel('dhcp/site-c', T2, ['node-5', 'node-1']), B(), A()],
      expected: ['dhcp/site-b: site-b-s1@node-1 ← dhcp/site-a:site-a-s0', 'dhcp/site-c: site-c-s1@node-1 ← dhcp/site-a:site-a-s0'],
    },
    {
      name: 'a refused relationship still holds its other node against a later one (the verdict never depends on a third)',
      input: [A(), B(), rel('dhcp/site-c', T2, ['node-3', 'node-6'])],
      expected: ['dhcp/site-b: site-b-s1@node-1 ← dhcp/site-a:site-a-s0', 'dhcp/site-c: site-c-s0@node-3 ← dhcp/site-b:site-b-s0'],
    },
    { name: 'the conflict goes away: the first relationship is deleted', input: [B()], expected: [] },
    { name: 'the conflict goes away: the first relationship is being deleted', input: [rel('dhcp/site-a', T0, ['node-1', 'node-2'], (r) => { (r.metadata as { deletionTimestamp?: string }).deletionTimestamp = T2; }), B()], expected: [] },
    { name: 'the conflict goes away: the first relationship moves its server', input: [rel('dhcp/site-a', T0, ['node-7', 'node-2']), B()], expected: [] },
    { name: 'the conflict goes away: the later relationship moves its server', input: [A(), rel('dhcp/site-b', T1, ['node-3', 'node-8'])], expected: [] },
    { name: 'both servers of one relationship on one node: the second is refused', input: [rel('dhcp/site-a', T0, ['node-1', 'node-1'])], expected: ['dhcp/site-a: site-a-s1@node-1 ← dhcp/site-a:site-a-s0'] },
    {
      name: 'a kubernetes.io/hostname selector is that node',
      input: [A(), rel('dhcp/site-b', T1, [{ 'kubernetes.io/hostname': 'node-2', disk: 'ssd' }, 'node-3'])],
      expected: ['dhcp/site-b: site-b-s0@node-2 ← dhcp/site-a:site-a-s1'],
    },
    {
      name: 'identical selectors pick the same node; different ones do not conflict',
      input: [rel('dhcp/site-a', T0, [{ rack: 'r1', role: 'dhcp' }, { rack: 'r2' }]), rel('dhcp/site-b', T1, [{ role: 'dhcp', rack: 'r1' }, { rack: 'r3' }])],
      expected: ['dhcp/site-b: site-b-s0@{rack=r1,role=dhcp} ← dhcp/site-a:site-a-s0'],
    },
    {
      name: 'a relationship without a creationTimestamp (render offline) counts as older than any stamped one',
      input: [A(), rel('dhcp/site-z', '', ['node-1', 'node-9'])],
      expected: ['dhcp/site-a: site-a-s0@node-1 ← dhcp/site-z:site-z-s0'],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(verdicts(c.input), c.expected));

  it('the input order does not matter', () => {
    const rels = [A(), B(), rel('dhcp/site-c', T2, ['node-2', 'node-3'])];
    const want = verdicts(rels);
    assert.deepEqual(verdicts([...rels].reverse()), want);
    assert.deepEqual(verdicts([rels[1]!, rels[2]!, rels[0]!]), want);
  });

  it('a spec the schema would refuse (no servers, a server without placement) claims nothing and does not throw', () => {
    const broken = rel('dhcp/site-x', T1, ['node-1', 'node-2'], (r) => { (r.spec as { servers?: unknown }).servers = undefined; });
    const unplaced = rel('dhcp/site-y', T1, ['node-1', 'node-2'], (r) => { delete r.spec.servers[0]!.nodeName; r.spec.servers[1]!.nodeSelector = {}; delete r.spec.servers[1]!.nodeName; });
    assert.deepEqual(verdicts([A(), broken, unplaced]), []);
    assert.deepEqual(claimedNodes(unplaced), []);
  });

  it('claimedNodes: the node identities, sorted, once each', () => {
    assert.deepEqual(claimedNodes(rel('dhcp/x', T0, ['node-2', { 'kubernetes.io/hostname': 'node-1' }])), ['node-1', 'node-2']);
    assert.deepEqual(claimedNodes(rel('dhcp/x', T0, ['node-2', 'node-2'])), ['node-2']);
    assert.deepEqual(claimedNodes(rel('dhcp/x', T0, ['node-2', null])), ['node-2']);
  });
});

describe('NodeInUse problems', () => {
  it('the message names the node, the other relationship and its server, and what to do', () => {
    const [p] = nodeInUseProblems(findNodeConflicts([A(), B()]).get('dhcp/site-b')!);
    assert.equal(p!.reason, 'NodeInUse');
    assert.equal(p!.message, 'server site-b-s1 is placed on node node-1 (nodeName node-1), which server site-a-s0 of relationship dhcp/site-a claimed first: '
      + 'one node runs one server pod today (hostNetwork, host ports 67/UDP, 8067/TCP and the failover port); '
      + 'place site-b-s1 on another node (spec.servers[1]), or move or delete dhcp/site-a');
  });

  it('a pair on one node: the message names both servers', () => {
    const [p] = nodeInUseProblems(findNodeConflicts([rel('dhcp/site-a', T0, ['node-1', { 'kubernetes.io/hostname': 'node-1' }])]).get('dhcp/site-a')!);
    assert.match(p!.message, /^servers site-a-s0 and site-a-s1 are both placed on node node-1 \(nodeSelector kubernetes\.io\/hostname=node-1\): one node runs one server pod today .*; place site-a-s1 on another node \(spec\.servers\[1\]\)$/);
  });

  it('two lost nodes: one problem each, in spec order', () => {
    const c = rel('dhcp/site-c', T2, ['node-2', 'node-1']);
    assert.deepEqual(nodeInUseProblems(findNodeConflicts([A(), c]).get('dhcp/site-c')!).map((p) => p.message.split(',')[0]), [
      'server site-c-s0 is placed on node node-2 (nodeName node-2)', 'server site-c-s1 is placed on node node-1 (nodeName node-1)',
    ]);
  });

  const sts = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'site-b-site-b-s0' } } as KubeObject;
  const ok: RenderResult = { ok: true, objects: [sts], inputHash: 'h', scopes: ['office'] };
  const conflicts = () => findNodeConflicts([A(), B()]).get('dhcp/site-b');

  it('withNodeConflicts: a valid render is refused: no objects, NodeInUse, the same hash and scopes', () => {
    const r = withNodeConflicts(ok, conflicts());
    assert.equal(r.ok, false);
    assert.ok(!r.ok && !('objects' in r));
    assert.deepEqual(!r.ok && r.problems.map((p) => p.reason), ['NodeInUse']);
    assert.deepEqual([r.inputHash, r.scopes], ['h', ['office']]);
  });

  it('withNodeConflicts: an invalid render keeps its own problems first; no conflict leaves the result as it is', () => {
    const bad: RenderResult = { ok: false, problems: [{ reason: 'SecretMissing', message: 'Secret s (spec.sharedSecretRef) does not exist' }], inputHash: 'h', scopes: [] };
    const r = withNodeConflicts(bad, conflicts());
    assert.deepEqual(!r.ok && r.problems.map((p) => p.reason), ['SecretMissing', 'NodeInUse']);
    assert.equal(withNodeConflicts(ok, undefined), ok);
    assert.equal(withNodeConflicts(ok, []), ok);
  });
});
