// The control-plane harness itself (test/fakes/kube-control-plane.ts): where binaries come from and what it
// says when there are none; two at once on their own ports; apply; ServiceAccount tokens under RBAC;
// API server restarts (SIGTERM and SIGKILL) against the same etcd; stop() leaves no process or directory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onPath, SHARED_K8S_DIR } from './kube-binaries.ts';
import { controlPlaneUnavailable, KubeApiError, startControlPlane, whyNoControlPlane, type ControlPlane } from './kube-control-plane.ts';

const alive = (pid: number | undefined): boolean => {
  if (pid === undefined) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
};

describe('finding the binaries', () => {
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'kube-assets-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('KUBEBUILDER_ASSETS comes first and must hold both binaries; the reason says which is missing and how to get it', () => {
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', KUBEBUILDER_ASSETS: dir };
    const none = whyNoControlPlane(env);
    assert.match(none ?? '', /KUBEBUILDER_ASSETS=.* has no executable kube-apiserver or etcd/);
    assert.match(none ?? '', /setup-envtest use -p path/);
    writeFileSync(join(dir, 'kube-apiserver'), '#!/bin/sh\n');
    chmodSync(join(dir, 'kube-apiserver'), 0o755);
    assert.match(whyNoControlPlane(env) ?? '', /has no executable etcd;/);
    writeFileSync(join(dir, 'etcd'), '#!/bin/sh\n');
    chmodSync(join(dir, 'etcd'), 0o755);
    if (onPath('openssl')) assert.equal(whyNoControlPlane(env), undefined, 'both there (the harness does not run them to check)');
  });

  test('without KUBEBUILDER_ASSETS: the shared folder, with etcd, openssl (and xz) on PATH', () => {
    const reason = whyNoControlPlane({ PATH: join(dir, 'empty') });
    assert.ok(reason, 'nothing is on an empty PATH');
    assert.match(reason, /openssl is not on PATH/);
    if (existsSync(join(SHARED_K8S_DIR, 'kube-apiserver.xz'))) assert.match(reason, /etcd is not on PATH \(Debian package etcd-server/);
    else assert.match(reason, /KUBEBUILDER_ASSETS is not set and .*kube-apiserver\.xz does not exist/);
  });
});

describe('a control plane', { skip: controlPlaneUnavailable }, () => {
  let cp: ControlPlane;
  let other: ControlPlane | undefined;
  let readerKubeconfig = '';

  before(async () => {
    // Two at once, as two test files would: each finds its own free ports.
    [cp, other] = await Promise.all([startControlPlane(), startControlPlane()]);
  });
  after(async () => { await Promise.all([cp?.stop(), other?.stop()]); });

  test('two control planes run side by side on their own loopback ports, each with its own CA', async () => {
    assert.ok(other);
    const ports = [...Object.values(cp.ports), ...Object.values(other.ports)];
    assert.equal(new Set(ports).size, 6);
    assert.match(cp.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    for (const c of [cp, other]) assert.match((await c.kubectl(['get', 'ns', 'default', '-o', 'name'])).stdout, /^namespace\/default$/m);
    const wrongCa = await cp.kubectl(['--certificate-authority', other.caFile, 'get', 'ns'], { allowFail: true });
    assert.notEqual(wrongCa.code, 0, 'the other CA does not verify this server');
    await other.stop();
    assert.ok(!alive(other.pids.etcd) && !existsSync(other.dir), 'stop() ends both processes and removes the directory');
    other = undefined;
  });

  test('apply takes YAML or objects, sends x-kubernetes-* keys untouched, honours dryRun and reports a refusal as a Status', async () => {
    const [ns] = await cp.apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: harness}\n');
    assert.equal(ns?.metadata?.name, 'harness');
    await cp.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry', namespace: 'harness' }, data: { a: '1' } }, { dryRun: true });
    assert.notEqual((await cp.kubectl(['get', 'cm', 'dry', '-n', 'harness'], { allowFail: true })).code, 0, 'a dry run stores nothing');
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.harness.test' },
      spec: {
        group: 'harness.test', scope: 'Namespaced', names: { kind: 'Widget', plural: 'widgets' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: {
          type: 'object', 'x-kubernetes-validations': [{ rule: 'self.size > 0', message: 'size must be positive', fieldPath: '.size' }],
          properties: { size: { type: 'integer' } },
        } } } } }],
      },
    };
    await cp.apply(crd);
    await cp.waitForCrdsEstablished(['widgets.harness.test']);
    const err = await cp.apply({ apiVersion: 'harness.test/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'harness' }, spec: { size: 0 } })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof KubeApiError, String(err));
    assert.equal(err.status.code, 422);
    assert.deepEqual(err.status.causes.map((c) => c.field), ['spec.size']);
    assert.match(err.status.message, /spec\.size: Invalid value: "object": size must be positive/);
  });

  test('a ServiceAccount token (TokenRequest) authenticates as that account, and RBAC applies to it', async () => {
    const token = await cp.createServiceAccountToken('harness', 'reader', 600);
    const kubeconfig = cp.kubeconfigForToken(token);
    readerKubeconfig = kubeconfig;
    const who = await cp.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig });
    assert.equal(who.stdout, 'system:serviceaccount:harness:reader');
    const denied = await cp.kubectl(['get', 'configmaps', '-n', 'harness'], { kubeconfig, allowFail: true });
    assert.match(denied.stderr, /forbidden/);
    await cp.apply([
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'read-cm', namespace: 'harness' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'read-cm', namespace: 'harness' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-cm' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'harness' }] },
    ]);
    const allowed = await cp.kubectl(['get', 'configmaps', '-n', 'harness'], { kubeconfig, allowFail: true });
    assert.equal(allowed.code, 0, allowed.stderr);
    const again = await cp.createServiceAccountToken('harness', 'reader', 600);
    assert.ok(again.length > 0, 'the account already existing is fine');
  });

  for (const graceful of [true, false]) {
    test(`restartApiServer({ graceful: ${graceful} }) starts a new apiserver on the same port and etcd; data stays`, async () => {
      await cp.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `kept-${graceful}`, namespace: 'harness' }, data: { a: '1' } });
      const before = cp.pids;
      await cp.restartApiServer({ graceful });
      const after = cp.pids;
      assert.ok(!alive(before.apiServer), 'the old apiserver is gone');
      assert.notEqual(after.apiServer, before.apiServer);
      assert.equal(after.etcd, before.etcd, 'etcd kept running');
      assert.match((await cp.kubectl(['get', 'cm', `kept-${graceful}`, '-n', 'harness', '-o', 'name'])).stdout, /configmap\/kept-/);
    });
  }

  test('stopApiServer refuses connections until startApiServer; the token kubeconfig works after it', async () => {
    await cp.stopApiServer();
    assert.equal(cp.pids.apiServer, undefined);
    const down = await cp.kubectl(['get', 'ns', '--request-timeout=3s'], { allowFail: true });
    assert.notEqual(down.code, 0);
    assert.match(down.stderr, /refused/);
    await cp.startApiServer();
    assert.equal((await cp.kubectl(['get', 'ns', 'harness', '-o', 'name'])).stdout.trim(), 'namespace/harness');
    const r = await cp.kubectl(['get', 'configmaps', '-n', 'harness', '-o', 'name'], { kubeconfig: readerKubeconfig });
    assert.match(r.stdout, /configmap\/kept-true/, 'a token issued before the restarts is still accepted (same signing key)');
  });

  test('stop() ends both processes by PID and removes the directory; a second stop() is a no-op', async () => {
    const { apiServer, etcd } = cp.pids;
    assert.ok(alive(apiServer) && alive(etcd));
    await cp.stop();
    assert.ok(!alive(apiServer) && !alive(etcd));
    assert.ok(!existsSync(cp.dir));
    await cp.stop();
  });
});
