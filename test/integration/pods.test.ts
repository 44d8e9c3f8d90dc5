// The path a user takes, run for real (issue 13): the image built from the Dockerfile by
// scripts/build-image.sh (over local stand-ins of its base images, test/fakes/standin-images.sh), the chart
// rendered by helm and applied to a real kube-apiserver, the operator run from that image as the chart's
// Deployment says (its ServiceAccount token projected as the kubelet would), and the StatefulSets the operator
// writes run by test/pods/ (the StatefulSet controller and the kubelet, with podman): each server pod's
// two containers with their security contexts, volumes, env and probes, host network = the node's network
// namespace. Then: real clients get leases from the pair, the CR shows both NORMAL, a scope edit reaches the
// running servers without a restart, a rotated Secret keeps the pair working, and a deleted pod comes back
// through RECOVER to NORMAL with its leases.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadAll } from 'js-yaml';
import { REPO_ROOT, runHelm } from '../fakes/helm.ts';
import { controlPlaneUnavailable, startControlPlane, type ControlPlane } from '../fakes/kube-control-plane.ts';
import { createLab, labUnavailableReason, LAB_NET, type Lab } from '../fakes/netns-lab.ts';
import { run, sleep, waitFor } from '../fakes/processes.ts';
import { Kubelet, type PodRun } from '../pods/kubelet.ts';
import { Cluster } from '../pods/statefulset-controller.ts';
import { DEFAULT_RENDER_OPTIONS } from '../../src/operator/render/types.ts';

type Json = Record<string, any>;
const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip = controlPlaneUnavailable ?? labUnavailableReason()
  ?? (['podman', 'runc', 'debootstrap'].find((c) => !which(c)) ? 'needs podman, runc and debootstrap (scripts/install.sh installs them)' : undefined);

const OP_NS = 'dhcp-system';
const NS = 'dhcp';
const G = 'dhcp.failover.dev', V = 'v1alpha1';
const IMAGE = spawnSync('bash', [join(REPO_ROOT, 'scripts/image-name.sh')], { encoding: 'utf8' }).stdout.trim();
const ULIMITS = ['nofile=20000:20000', 'nproc=20000:20000'];
/** On every container the harness starts; a run sweeps what an earlier, crashed run left. */
const LABEL = 'dhcp-failover-test-pods';
const HOST_CA = '/etc/ssl/certs/ca-certificates.crt';
const HOST_IP = '10.99.0.254';
const METRICS_PORT = 18080 + (process.pid % 500);

const relationship = (): Json => ({
  apiVersion: `${G}/${V}`, kind: 'DhcpFailoverRelationship', metadata: { name: 'lab', namespace: NS },
  spec: {
    mode: 'loadBalance', loadBalancePercent: 50, mcltSeconds: 60, stateSwitchoverSeconds: 60, port: 647,
    servers: [
      { name: 'dhcp-a', nodeName: 'node-1', address: LAB_NET.serverIp(1), interfaces: ['eth0'] },
      { name: 'dhcp-b', nodeName: 'node-2', address: LAB_NET.serverIp(2), interfaces: ['eth0'] },
    ],
    sharedSecretRef: { name: 'lab-secret', key: 'secret' },
    redis: { appendfsync: 'always', size: '1Gi' },
  },
});
const scope = (domain: string): Json => ({
  apiVersion: `${G}/${V}`, kind: 'DhcpScope', metadata: { name: 'lab-net', namespace: NS },
  spec: {
    relationshipRef: { name: 'lab' }, subnet: LAB_NET.subnet, ranges: [{ start: '10.99.0.100', end: '10.99.0.199' }],
    options: { routers: ['10.99.0.1'], 'domain-name': domain }, leaseSeconds: 300,
  },
});
const secret = (value: string): Json => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'lab-secret', namespace: NS }, type: 'Opaque', stringData: { secret: value } });

describe('the pod as Kubernetes runs it: image, chart, operator, server pods, clients', { skip, timeout: 1_500_000 }, () => {
  let cp: ControlPlane;
  let lab: Lab;
  let cluster: Cluster;
  let operatorKubelet: Kubelet;
  let operator: PodRun | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'pods-'));
  const log: string[] = [];
  const say = (l: string) => { log.push(`${new Date().toISOString()} ${l}`); if (process.env.PODS_VERBOSE === '1') process.stderr.write(`${l}\n`); };
  const hostLink = `p${process.pid % 10000}h`;
  const timings: Record<string, number> = {};
  let firstLease = '';
  /** How many config reloads a server container has logged. */
  const reloads = async (sts: string): Promise<number> => ((await cluster.pod(sts)?.logs('server')) ?? '').split('\n').filter((l) => l.includes('"config.reloaded"')).length;


  const status = async (): Promise<Json> => (await cp.api('GET', `/apis/${G}/${V}/namespaces/${NS}/dhcpfailoverrelationships/lab`)).json.status ?? {};
  const serverStates = async (): Promise<(string | undefined)[]> => {
    const s = await status();
    return ['dhcp-a', 'dhcp-b'].map((n) => (s.servers as Json[] | undefined)?.find((x) => x.name === n)?.state as string | undefined);
  };
  const adminGet = async (node: 'srv1' | 'srv2', path: string) => lab.httpGet(node, `http://127.0.0.1:8067${path}`, 3);
  const failoverState = async (node: 'srv1' | 'srv2') => {
    try { return (JSON.parse((await adminGet(node, '/status')).body) as Json).failover?.state as string | undefined; } catch { return undefined; }
  };

  // after() does not run when the test process dies: its containers and the host end of the veth go with it.
  const sweeper = new Kubelet({ root: dir, label: LABEL, source: undefined as never });
  const onExit = (): void => {
    sweeper.sweepSync();
    spawnSync('ip', ['link', 'del', hostLink], { stdio: 'ignore' });
  };
  process.on('exit', onExit);

  before(async () => {
    await sweeper.sweep();
    let t = Date.now();
    const standins = await run('bash', [join(REPO_ROOT, 'test/fakes/standin-images.sh'), 'docker.io/library/node:22-bookworm-slim', DEFAULT_RENDER_OPTIONS.redisImage], { timeoutMs: 900_000 });
    say(standins.stderr);
    timings.standinImagesS = (Date.now() - t) / 1000;
    t = Date.now();
    // npm inside the build trusts the host's CA bundle (a TLS-inspecting proxy here), as a build secret only.
    const build = await run('bash', [join(REPO_ROOT, 'scripts/build-image.sh'), '--engine', 'podman', ...(existsSync(HOST_CA) ? ['--ca-file', HOST_CA] : []), '--', ...ULIMITS.flatMap((u) => ['--ulimit', u])],
      { timeoutMs: 900_000, env: { ...process.env, PODMAN_RUNTIME: 'runc' }, allowFail: true });
    assert.equal(build.code, 0, `build-image.sh failed:\n${build.stderr.slice(-3000)}`);
    timings.imageBuildS = (Date.now() - t) / 1000;

    cp = await startControlPlane();
    lab = await createLab({ prefix: `t${process.pid % 1000}p`, servers: 2, clients: 2 });
    // The operator runs in the host's network (as a pod network would let it reach the nodes): a link into the lab.
    await run('ip', ['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', 'p-host', 'netns', lab.ns('br')]);
    await run('ip', ['-n', lab.ns('br'), 'link', 'set', 'p-host', 'master', 'br0', 'up']);
    await run('ip', ['addr', 'add', `${HOST_IP}/24`, 'dev', hostLink]);
    await run('ip', ['link', 'set', hostLink, 'up']);

    // helm install, as far as an API server without controllers goes: CRDs, then everything the chart renders.
    const crdDir = join(REPO_ROOT, 'charts/dhcp-failover/crds');
    for (const f of readdirSync(crdDir).filter((x) => x.endsWith('.yaml'))) await cp.kubectl(['apply', '--server-side', '-f', join(crdDir, f)]);
    await cp.waitForCrdsEstablished(['dhcpscopes.dhcp.failover.dev', 'dhcpfailoverrelationships.dhcp.failover.dev']);
    const h = runHelm(['template', 'dhcp-failover', join(REPO_ROOT, 'charts/dhcp-failover'), '--namespace', OP_NS, '--skip-crds',
      '--set', `replicaCount=1,createNamespace=true,metrics.port=${METRICS_PORT}`]);
    assert.equal(h.status, 0, h.stderr);
    const docs = (loadAll(h.stdout) as Json[]).filter(Boolean);
    await cp.apply(docs);
    await cp.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }, secret('first-secret-value-0123456789abcdef')]);
    // What kube-controller-manager's root-ca-cert-publisher would have made.
    await cp.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: OP_NS }, data: { 'ca.crt': readCa(cp) } });

    // The operator: the chart's Deployment pod, with what the ServiceAccount admission plugin adds.
    const deployment = docs.find((d) => d.kind === 'Deployment')!;
    const podSpec = structuredClone(deployment.spec.template.spec) as Json;
    podSpec.volumes = [...(podSpec.volumes ?? []), {
      name: 'kube-api-access', projected: { defaultMode: 0o644, sources: [
        { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
      ] },
    }];
    const port = new URL(cp.server).port;
    for (const c of podSpec.containers as Json[]) {
      c.volumeMounts = [...(c.volumeMounts ?? []), { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }];
      c.env = [{ name: 'KUBERNETES_SERVICE_HOST', value: '127.0.0.1' }, { name: 'KUBERNETES_SERVICE_PORT', value: port }, ...(c.env ?? [])];
    }
    cluster = new Cluster({
      cp, namespace: NS, root: join(dir, 'cluster'), label: LABEL, ulimits: ULIMITS, log: say, syncMs: 2000,
      nodes: [{ name: 'node-1', netns: lab.ns('srv1'), ip: LAB_NET.serverIp(1) }, { name: 'node-2', netns: lab.ns('srv2'), ip: LAB_NET.serverIp(2) }],
    });
    operatorKubelet = cluster.kubelet;
    t = Date.now();
    operator = await operatorKubelet.runPod(OP_NS, 'dhcp-failover-operator-0', { name: 'node-0', ip: '127.0.0.1' }, podSpec);
    cluster.start();
    await cp.apply([relationship(), scope('first.example')]);
    await waitFor('both server pods ready', () => cluster.pod('lab-dhcp-a')?.ready === true && cluster.pod('lab-dhcp-b')?.ready === true, { timeoutMs: 180_000, intervalMs: 500 });
    timings.podsReadyS = (Date.now() - t) / 1000;
  });

  after(async () => {
    if (log.length > 0 && process.env.PODS_VERBOSE !== '1') process.stderr.write(`pods harness log (last 60 lines):\n${log.slice(-60).join('\n')}\n`);
    for (const [sts, c] of [['lab-dhcp-a', 'server'], ['lab-dhcp-b', 'server']] as const) {
      const p = cluster?.pod(sts);
      if (p) process.stderr.write(`--- ${sts}/${c} (last lines)\n${(await p.logs(c)).split('\n').slice(-12).join('\n')}\n`);
    }
    if (operator) process.stderr.write(`--- operator (last lines)\n${(await operator.logs('operator')).split('\n').slice(-12).join('\n')}\n`);
    process.stderr.write(`pods harness timings: ${JSON.stringify(timings)}\n`);
    await operator?.stop();
    await cluster?.stop();
    await run('ip', ['link', 'del', hostLink], { allowFail: true });
    await lab?.destroy();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', onExit);
  });

  test('both servers reach NORMAL and say so on the CR; the operator pod is ready', async () => {
    await waitFor('both NORMAL on the CR', async () => { const s = await serverStates(); return s[0] === 'normal' && s[1] === 'normal'; }, { timeoutMs: 120_000, intervalMs: 1000 });
    assert.equal(operator?.ready, true, 'the operator pod is ready');
    // The image's CLI conventions hold in the image too: --help answers without starting anything.
    const help = await cluster.kubelet.podman(['run', '--rm', ...ULIMITS.flatMap((u) => ['--ulimit', u]), '--network', 'none', IMAGE, 'operator', '--help'], { allowFail: true });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /usage: dhcp-failover operator/);
  });

  test('real clients get leases from the pair (udhcpc, dhclient)', async () => {
    const a = await lab.udhcpcOnce('cli1', { timeoutS: 20 });
    assert.ok(a.ok && a.ip, `udhcpc got no lease: ${a.output.slice(-400)}`);
    assert.match(a.ip!, /^10\.99\.0\.1\d\d$/);
    const d = lab.startDhclient('cli2');
    try {
      const bound = await waitFor('dhclient bound', () => d.events().find((e) => e.event === 'BOUND' || e.event === 'REBOOT'), { timeoutMs: 30_000, intervalMs: 250 });
      assert.match(bound.ip ?? '', /^10\.99\.0\.1\d\d$/);
      assert.notEqual(bound.ip, a.ip);
    } finally { await d.stop(); }
    firstLease = a.ip!;
    // Both sides know it (binding update), and the pods ran as rendered without a restart.
    await waitFor('the lease on both servers', async () => (await adminGet('srv1', `/leases?ip=${firstLease}`)).status === 200 && (await adminGet('srv2', `/leases?ip=${firstLease}`)).status === 200, { timeoutMs: 10_000, intervalMs: 250 });
    for (const sts of ['lab-dhcp-a', 'lab-dhcp-b']) for (const c of ['server', 'redis']) assert.equal(cluster.pod(sts)!.restartsOf(c), 0, `${sts}/${c} restarted`);
  });

  test('the containers run as the pod spec says: uid, groups, capabilities, read-only roots, the 0440 Secret, the Redis socket', async () => {
    const pod = cluster.pod('lab-dhcp-a')!;
    const server = await pod.exec('server', ['sh', '-c', 'id -u; id -G; grep CapEff /proc/1/status; stat -L -c %a:%g /var/run/secrets/dhcp-failover/secret; touch /probe 2>&1; echo rc=$?']);
    const [uid, groups, capEff, secretMode] = server.stdout.trim().split('\n');
    assert.equal(uid, '0');
    assert.ok(groups!.split(' ').includes('999'), `fsGroup 999 among the server's groups: ${groups}`);
    assert.match(capEff!, /CapEff:\s+0000000000000400/, 'only CAP_NET_BIND_SERVICE is effective');
    assert.equal(secretMode, '440:999');
    assert.match(server.stdout, /Read-only file system[\s\S]*rc=1/);
    // Redis: uid 999, no TCP listener, the socket 770 for uid and group 999 (the pod's fsGroup) only.
    const redis = await pod.exec('redis', ['sh', '-c', 'id -u; stat -c %a:%u:%g /var/run/dhcp-redis/redis.sock; redis-cli -s /var/run/dhcp-redis/redis.sock config get port | tail -1']);
    const [ruid, sock, port] = redis.stdout.trim().split('\n');
    assert.equal(ruid, '999');
    assert.equal(sock, '770:999:999');
    assert.equal(port, '0');
    // A process outside group 999 in the server's filesystem view cannot open the socket.
    const outsider = await cluster.kubelet.podman(['exec', '--user', '1234:1234', pod.containerName('server'), 'node', '-e',
      "require('net').connect('/var/run/dhcp-redis/redis.sock').on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(1); })"], { allowFail: true });
    assert.match(outsider.stdout, /EACCES/, `uid 1234 outside the group: ${outsider.stdout}${outsider.stderr}`);
  });

  test('a scope edit reaches both running servers through the ConfigMap swap, without a restart', async () => {
    const startsBefore = cluster.podStarts.length;
    const before = [await reloads('lab-dhcp-a'), await reloads('lab-dhcp-b')];
    await cp.apply(scope('second.example'));
    await waitFor('both servers reloaded', async () => (await reloads('lab-dhcp-a')) > before[0]! && (await reloads('lab-dhcp-b')) > before[1]!, { timeoutMs: 60_000, intervalMs: 1000 });
    const r = await lab.udhcpcOnce('cli1', { timeoutS: 20 });
    assert.ok(r.ok, r.output.slice(-300));
    assert.equal(r.domain, 'second.example');
    assert.equal(cluster.podStarts.length, startsBefore, 'no pod was recreated');
    for (const sts of ['lab-dhcp-a', 'lab-dhcp-b']) assert.equal(cluster.pod(sts)!.restartsOf('server'), 0, `${sts}/server restarted`);
  });

  test('a rotated Secret keeps the pair working: the link is never lost, no COMMUNICATIONS-INTERRUPTED, both end on the new secret', async () => {
    const serverLog = async (sts: string) => (await cluster.pod(sts)?.logs('server')) ?? '';
    const count = (text: string, event: string) => text.split('\n').filter((l) => l.includes(`"event":"${event}"`)).length;
    const lostBefore = await Promise.all(['lab-dhcp-a', 'lab-dhcp-b'].map(async (sts) => count(await serverLog(sts), 'failover.link.lost')));
    const secretOf = async (node: 'srv1' | 'srv2') => {
      try { return ((JSON.parse((await adminGet(node, '/status')).body) as Json).failover?.secret as Json | null | undefined)?.link as string | undefined; } catch { return undefined; }
    };
    const states = new Set<string>();
    await cp.apply(secret('second-secret-value-fedcba9876543210'));
    // The kubelet's sync (2 s here) swaps the Secret volume; each running server applies the new secret in place,
    // keeps the previous one for its grace period, and the link moves to the new one once both have it.
    const applied = async (sts: string) => (await serverLog(sts)).includes('"failover.secret.changed"');
    const observe = async () => { for (const n of ['srv1', 'srv2'] as const) { const st = await failoverState(n); if (st) states.add(st); } };
    await waitFor('both servers applied the new secret', async () => { await observe(); return (await applied('lab-dhcp-a')) && (await applied('lab-dhcp-b')); }, { timeoutMs: 60_000, intervalMs: 500 });
    await waitFor('both links on the new secret', async () => { await observe(); return (await secretOf('srv1')) === 'current' && (await secretOf('srv2')) === 'current'; }, { timeoutMs: 60_000, intervalMs: 500 });
    assert.deepEqual([...states], ['normal'], 'both servers stayed NORMAL through the rotation');
    const lostAfter = await Promise.all(['lab-dhcp-a', 'lab-dhcp-b'].map(async (sts) => count(await serverLog(sts), 'failover.link.lost')));
    assert.deepEqual(lostAfter, lostBefore, 'no failover link was lost during the rotation');
    const r = await lab.udhcpcOnce('cli2', { timeoutS: 20 });
    assert.ok(r.ok && r.ip, `no lease after the rotation: ${r.output.slice(-300)}`);
  });

  test('a server container killed with -9 is restarted by the kubelet and the pair returns to NORMAL with its leases', async () => {
    const pod = cluster.pod('lab-dhcp-a')!;
    const before = pod.restartsOf('server');
    await pod.crash('server');
    await waitFor('the kubelet restarted it', () => pod.restartsOf('server') > before && pod.ready, { timeoutMs: 90_000, intervalMs: 500 });
    await waitFor('both NORMAL', async () => (await failoverState('srv1')) === 'normal' && (await failoverState('srv2')) === 'normal', { timeoutMs: 120_000, intervalMs: 1000 })
      .catch(async (err: Error) => { throw new Error(`${err.message}; states ${await failoverState('srv1')} / ${await failoverState('srv2')}`); });
    assert.equal((await adminGet('srv1', `/leases?ip=${firstLease}`)).status, 200, 'the lease survived in Redis');
  });

  test('a deleted pod is recreated on its node with its lease volume and rejoins NORMAL, leases intact', async () => {
    const startsBefore = cluster.podStarts.length;
    await cluster.deletePod('lab-dhcp-b');
    await waitFor('the pod recreated and ready', () => cluster.podStarts.length > startsBefore && cluster.pod('lab-dhcp-b')?.ready === true, { timeoutMs: 120_000, intervalMs: 500 });
    await waitFor('both NORMAL on the CR', async () => { const s = await serverStates(); return s[0] === 'normal' && s[1] === 'normal'; }, { timeoutMs: 120_000, intervalMs: 1000 });
    assert.equal((await adminGet('srv2', `/leases?ip=${firstLease}`)).status, 200, 'the lease survived on the PVC');
    const states = (await cluster.pod('lab-dhcp-b')!.logs('server')).split('\n').filter((l) => l.includes('failover.state.changed')).map((l) => (JSON.parse(l) as Json).to as string);
    assert.ok(states.length > 0 && states.at(-1) === 'normal', `states of the new pod: ${states.join(' → ')}`);
    say(`recreated dhcp-b went ${states.join(' → ')}`);
  });
});

function readCa(cp: ControlPlane): string {
  return spawnSync('cat', [cp.caFile], { encoding: 'utf8' }).stdout;
}
