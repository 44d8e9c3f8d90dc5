// The pod harness's pure parts, checked against what the kubelet does, so the end-to-end test
// (test/integration/pods.test.ts) runs pods the way Kubernetes would: the AtomicWriter layout and its
// swap, $(VAR) expansion, the merged security context and the runAsNonRoot check, the node binding.
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ContainerConfigError, expand, podmanRunArgs } from './podman-args.ts';
import { filesOf, writeProjection } from './projected-volume.ts';
import { nodeOf, revisionOf } from './statefulset-controller.ts';

test('projection: ..data points at one timestamped dir, names are symlinks through it, an update swaps it and drops the old', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proj-'));
  try {
    const v1 = filesOf({ items: [{ key: 'a.yaml', path: 'config.yaml' }] }, new Map([['a.yaml', Buffer.from('one')], ['b', Buffer.from('x')]]));
    assert.equal(writeProjection(dir, v1, undefined), true);
    const first = readlinkSync(join(dir, '..data'));
    assert.match(first, /^\.\.\d{4}_\d\d_\d\d_/);
    assert.equal(readlinkSync(join(dir, 'config.yaml')), '..data/config.yaml');
    assert.equal(readFileSync(join(dir, 'config.yaml'), 'utf8'), 'one');
    assert.equal(writeProjection(dir, v1, undefined), false, 'the same content is not swapped again');
    assert.equal(writeProjection(dir, filesOf({ items: [{ key: 'a.yaml', path: 'config.yaml' }] }, new Map([['a.yaml', Buffer.from('two')]])), undefined), true);
    const second = readlinkSync(join(dir, '..data'));
    assert.notEqual(second, first);
    assert.equal(readFileSync(join(dir, 'config.yaml'), 'utf8'), 'two');
    assert.deepEqual(readdirSync(dir).sort(), ['..data', second, 'config.yaml'].sort());
    assert.ok(lstatSync(join(dir, 'config.yaml')).isSymbolicLink());
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('projection: a Secret with defaultMode 0400 and an fsGroup is 0440 root:fsGroup (the kubelet adds group read)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proj-'));
  try {
    writeProjection(dir, filesOf({ defaultMode: 0o400 }, new Map([['secret', Buffer.from('s')]])), 999);
    const st = statSync(join(dir, 'secret'));
    assert.equal(st.mode & 0o777, 0o440);
    assert.equal(st.gid, 999);
    writeProjection(dir, filesOf({ defaultMode: 0o400 }, new Map([['secret', Buffer.from('s')]])), undefined);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('$(VAR) expansion: known names replaced, $$ escapes, unknown and unterminated left as they are', () => {
  const env = new Map([['A', 'x'], ['B', 'y']]);
  assert.equal(expand('--requirepass $(A)', env), '--requirepass x');
  assert.equal(expand('$(A)$(B)', env), 'xy');
  assert.equal(expand('$$(A)', env), '$(A)');
  assert.equal(expand('$(C) $(A', env), '$(C) $(A');
  assert.equal(expand('cost $5', env), 'cost $5');
});

const host = { network: 'ns:/run/netns/n1', volumePath: (v: string) => `/pods/p/${v}`, env: [['K', 'v']] as const, name: 'k8s_c_p_ns' };

test('podman arguments: the container security context wins over the pod\'s; fsGroup as an extra group; caps, read-only root, no escalation', () => {
  const pod = { securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 999 } };
  const c = {
    name: 'server', image: 'img:1', args: ['server', '--config', '/etc/x'], volumeMounts: [{ name: 'config', mountPath: '/etc/x', readOnly: true }],
    securityContext: { runAsUser: 0, runAsNonRoot: false, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
  };
  const args = podmanRunArgs(pod, c, host);
  const after = (flag: string) => args.filter((_, i) => args[i - 1] === flag);
  assert.deepEqual(after('--user'), ['0:1000']);
  assert.deepEqual(after('--group-add'), ['999']);
  assert.deepEqual(after('--cap-drop'), ['all']);
  assert.deepEqual(after('--cap-add'), ['NET_BIND_SERVICE']);
  assert.ok(args.includes('--read-only') && args.includes('--read-only-tmpfs=false'));
  assert.deepEqual(after('--security-opt'), ['no-new-privileges']);
  assert.deepEqual(after('--volume'), ['/pods/p/config:/etc/x:ro']);
  assert.deepEqual(after('--env'), ['K'], 'values travel in the environment, not on the command line');
  assert.deepEqual(args.slice(-4), ['img:1', 'server', '--config', '/etc/x']);
});

test('podman arguments: command replaces the entrypoint; runAsNonRoot refuses uid 0 and an unverifiable user, as the kubelet does', () => {
  const args = podmanRunArgs({}, { name: 'r', image: 'redis', command: ['redis-server'], args: ['--port', '0'] }, host);
  assert.deepEqual(args.slice(args.indexOf('--entrypoint'), args.indexOf('--entrypoint') + 2), ['--entrypoint', '["redis-server"]']);
  assert.deepEqual(args.slice(-3), ['redis', '--port', '0']);
  assert.throws(() => podmanRunArgs({ securityContext: { runAsNonRoot: true } }, { name: 'x', image: 'i' }, host), ContainerConfigError);
  assert.throws(() => podmanRunArgs({}, { name: 'x', image: 'i', securityContext: { runAsNonRoot: true, runAsUser: 0 } }, host), ContainerConfigError);
  assert.doesNotThrow(() => podmanRunArgs({ securityContext: { runAsNonRoot: true, runAsUser: 999 } }, { name: 'x', image: 'i' }, host));
});

test('StatefulSet controller: the node from the required node affinity on metadata.name or the hostname selector; a revision per template', () => {
  const affinity = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] }] } } } };
  assert.equal(nodeOf(affinity), 'node-1');
  assert.equal(nodeOf({ nodeSelector: { 'kubernetes.io/hostname': 'node-2' } }), 'node-2');
  assert.equal(nodeOf({}), undefined);
  assert.equal(revisionOf('s', { a: 1 }), revisionOf('s', { a: 1 }));
  assert.notEqual(revisionOf('s', { a: 1 }), revisionOf('s', { a: 2 }));
});
