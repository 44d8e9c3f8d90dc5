// Relationship status from the servers' own /status: the pure summary, the heartbeat rule that keeps
// status writes rare, and the controller against the fake API server with two REAL server processes
// (a failover pair on 127.0.0.61/.62): both NORMAL on the CR, then one killed → the other reports
// COMMUNICATIONS-INTERRUPTED and the dead one `unreachable`; force-partner-down by annotation (once,
// annotation removed, Event), a bad target rejected, restarted → NORMAL, force-resync by annotation.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { systemClock } from '../../src/clock.ts';
import { setLogSink } from '../../src/log.ts';
import { computeRelationshipStatus, STATUS_HEARTBEAT_MS } from '../../src/operator/conditions.ts';
import { Controller } from '../../src/operator/controller.ts';
import { reportFromStatus, ServerStatusPoller, type ServerReport } from '../../src/operator/server-status.ts';
import { DEFAULT_RENDER_OPTIONS, type DhcpFailoverRelationship, type RenderResult } from '../../src/operator/render/types.ts';
import { FakeKubeApiServer } from '../fakes/kube-api-server.ts';
import { FakeClock } from '../fakes/fake-clock.ts';

type Json = Record<string, any>;
setLogSink(() => {});

describe('reportFromStatus', () => {
  it('takes the own and partner state and sums active leases over scopes', () => {
    const doc = { failover: { state: 'normal', partner: { state: 'normal' } }, scopes: [{ byState: { active: 3, free: 10 } }, { byState: { active: 2 } }] };
    assert.deepEqual(reportFromStatus(doc, 'T'), { state: 'normal', partnerState: 'normal', leases: 5, lastContact: 'T' });
  });
  it('a disconnected partner is null; a standalone server says so; junk is not a report', () => {
    assert.equal(reportFromStatus({ failover: { state: 'communications-interrupted', partner: { state: null } } }, 'T')?.partnerState, null);
    assert.equal(reportFromStatus({ scopes: [] }, 'T')?.state, 'standalone');
    assert.equal(reportFromStatus('nope', 'T'), undefined);
    assert.equal(reportFromStatus({ failover: { state: 7 } }, 'T'), undefined);
  });
});

describe('computeRelationshipStatus with reports', () => {
  const rel: DhcpFailoverRelationship = {
    apiVersion: 'dhcp.failover.dev/v1alpha1', kind: 'DhcpFailoverRelationship', metadata: { name: 'r', namespace: 'n', generation: 1 },
    spec: { mode: 'loadBalance', servers: [{ name: 'a', address: '10.0.0.2' }, { name: 'b', address: '10.0.0.3' }] } as DhcpFailoverRelationship['spec'],
  };
  const result = { ok: true, objects: [], inputHash: 'h', scopes: ['s'] } as unknown as RenderResult;
  const normal = (at: string): Map<string, ServerReport> => new Map([['a', { state: 'normal', partnerState: 'normal', leases: 4, lastContact: at }], ['b', { state: 'normal', partnerState: 'normal', leases: 4, lastContact: at }]]);
  const at = (min: number) => new Date(Date.UTC(2026, 10, 30, 10, min)).toISOString().replace(/\.\d+Z$/, 'Z');

  it('shows each server\'s state, partner state and leases; both NORMAL stamps lastSuccessfulSync', () => {
    const s = computeRelationshipStatus({ relationship: rel, result, statefulSets: new Map(), now: at(0), reports: normal(at(0)) });
    assert.deepEqual(s.servers?.map((x) => [x.name, x.state, x.partnerState, x.leases, x.lastContact]), [['a', 'normal', 'normal', 4, at(0)], ['b', 'normal', 'normal', 4, at(0)]]);
    assert.equal(s.lastSuccessfulSync, at(0));
  });

  it('nothing changed within the heartbeat: the status is identical (no write); after it, the times move', () => {
    const first = computeRelationshipStatus({ relationship: rel, result, statefulSets: new Map(), now: at(0), reports: normal(at(0)) });
    const again = computeRelationshipStatus({ relationship: { ...rel, status: first }, result, statefulSets: new Map(), now: at(1), reports: normal(at(1)) });
    assert.deepEqual(again, first);
    const later = computeRelationshipStatus({ relationship: { ...rel, status: first }, result, statefulSets: new Map(), now: at(6), reports: normal(at(6)) });
    assert.equal(later.lastSuccessfulSync, at(6));
    assert.equal(later.servers?.[0]?.lastContact, at(6));
    assert.ok(STATUS_HEARTBEAT_MS <= 6 * 60_000);
  });

  it('a state change is written at once; a server out of NORMAL keeps the last successful sync', () => {
    const first = computeRelationshipStatus({ relationship: rel, result, statefulSets: new Map(), now: at(0), reports: normal(at(0)) });
    const reports = new Map<string, ServerReport>([['a', { state: 'communications-interrupted', partnerState: null, leases: 4, lastContact: at(1) }], ['b', { state: 'unreachable', partnerState: null, lastContact: at(0) }]]);
    const s = computeRelationshipStatus({ relationship: { ...rel, status: first }, result, statefulSets: new Map(), now: at(1), reports });
    assert.deepEqual(s.servers?.map((x) => x.state), ['communications-interrupted', 'unreachable']);
    assert.equal(s.lastSuccessfulSync, at(0));
  });
});

describe('ServerStatusPoller', () => {
  it('polls each target, reports unreachable servers, and signals only changes', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    const docs = new Map<string, unknown>([['http://a/status', { failover: { state: 'normal', partner: { state: 'normal' } }, scopes: [] }]]);
    const changes: string[] = [];
    const poller = new ServerStatusPoller({
      clock, intervalMs: 1000, onChange: (k) => changes.push(k),
      fetchJson: async (url) => { if (!docs.has(url)) throw new Error('connect ECONNREFUSED'); return docs.get(url); },
    });
    poller.watch('ns/r', [{ name: 'a', url: 'http://a/status' }, { name: 'b', url: 'http://b/status' }]);
    poller.start();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(changes, ['ns/r']);
    assert.equal(poller.reports('ns/r').get('a')?.state, 'normal');
    assert.equal(poller.reports('ns/r').get('b')?.state, 'unreachable');
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(changes, ['ns/r'], 'no change, no signal');
    docs.set('http://b/status', { failover: { state: 'normal', partner: { state: 'normal' } }, scopes: [] });
    clock.advance(1000);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(changes, ['ns/r', 'ns/r']);
    poller.forget('ns/r');
    assert.equal(poller.reports('ns/r').size, 0);
    poller.stop();
  });
});

const BIN = fileURLToPath(new URL('../../bin/dhcp-failover', import.meta.url));
const HOSTS = { 'dhcp-a': '127.0.0.61', 'dhcp-b': '127.0.0.62' } as const;
const BASE = 43_000 + (process.pid % 1000) * 3;
const DHCP_PORT = BASE, FO_PORT = BASE + 1, ADMIN_PORT = BASE + 2;

describe('relationship status from two real server processes', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'op-status-'));
  const procs = new Map<string, ChildProcess>();
  const cleanups: (() => Promise<void> | void)[] = [];
  // If the file's process ends without after() (runner cancelled it), its servers must not outlive it.
  process.once('exit', () => { for (const p of procs.values()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); });
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    for (const p of procs.values()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    if (!process.env.KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
  });

  writeFileSync(join(dir, 'token'), 's\n'); // the Secret's value: the operator's bearer token
  const start = (name: keyof typeof HOSTS) => {
    const role = name === 'dhcp-a' ? 'primary' : 'secondary';
    const partner = HOSTS[name === 'dhcp-a' ? 'dhcp-b' : 'dhcp-a'];
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, `server:
  name: ${name}
  listen: { address: ${HOSTS[name]}, port: ${DHCP_PORT}, interfaces: [] }
  admin: { address: ${HOSTS[name]}, port: ${ADMIN_PORT}, tokenFile: ${join(dir, 'token')} }
  store: { type: memory }
scopes:
  - { name: relayed, subnet: 127.0.10.0/24, ranges: [{ start: 127.0.10.10, end: 127.0.10.200 }] }
failover:
  relationship: site-a
  role: ${role}
  address: ${HOSTS[name]}
  port: ${FO_PORT}
  partner: { address: ${partner}, port: ${FO_PORT} }
  mode: load-balance
  mcltSeconds: 10
  maxResponseDelaySeconds: 3
  startupSeconds: 1
  sharedSecret: status-test
`);
    procs.set(name, spawn(BIN, ['server', '--config', file], { stdio: ['ignore', openSync(join(dir, `${name}.log`), 'a'), openSync(join(dir, `${name}.log`), 'a')] }));
  };

  async function until(what: string, probe: () => boolean, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) { if (probe()) return; await new Promise((r) => setTimeout(r, 100)); }
    assert.fail(`timed out after ${ms} ms waiting for ${what}`);
  }

  it('both NORMAL on the CR, then a killed server shows as unreachable and its partner COMM-INT, then NORMAL again', async () => {
    const fake = new FakeKubeApiServer({ historyLimit: 500 });
    await fake.start();
    cleanups.push(() => fake.stop());
    const kc = new KubeConfig();
    kc.loadFromOptions(fake.kubeConfigOptions());
    fake.put('', 'secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dhcp-failover-secret', namespace: 'dhcp' }, data: { secret: Buffer.from('s').toString('base64') } });
    const rel = load(readFileSync(fileURLToPath(new URL('../../manifests/examples/20-relationship-loadbalance.yaml', import.meta.url)), 'utf8')) as Json;
    rel.spec.servers[0].address = HOSTS['dhcp-a'];
    rel.spec.servers[1].address = HOSTS['dhcp-b'];
    fake.put('dhcp.failover.dev', 'dhcpfailoverrelationships', rel);
    start('dhcp-a');
    start('dhcp-b');
    const controller = new Controller({
      kc, namespaces: [], renderOptions: DEFAULT_RENDER_OPTIONS, clock: systemClock, identity: 'op', retryBaseMs: 20, retryMaxMs: 200,
      serverStatus: { intervalMs: 300, baseUrlFor: (_rel, s) => `http://${s.address}:${ADMIN_PORT}` },
    });
    cleanups.push(() => controller.stop());
    await controller.start();
    const servers = () => (fake.getObject('dhcp.failover.dev', 'dhcpfailoverrelationships', 'dhcp', 'site-a')?.status?.servers ?? []) as Json[];
    const states = () => servers().map((s) => `${s.name}:${s.state}/${s.partnerState ?? '-'}`).join(' ');
    await until('both NORMAL on the CR', () => states() === 'dhcp-a:normal/normal dhcp-b:normal/normal', 30_000).catch(() => assert.fail(`status: ${states()}`));
    const synced = fake.getObject('dhcp.failover.dev', 'dhcpfailoverrelationships', 'dhcp', 'site-a')?.status?.lastSuccessfulSync;
    assert.match(String(synced), /^\d{4}-\d\d-\d\dT/);
    assert.ok(servers().every((s) => typeof s.leases === 'number' && typeof s.lastContact === 'string'));

    procs.get('dhcp-b')!.kill('SIGKILL');
    await until('b unreachable, a COMM-INT', () => /dhcp-a:communications-interrupted\/- dhcp-b:unreachable/.test(states()), 20_000).catch(() => assert.fail(`status: ${states()}`));
    assert.equal(fake.getObject('dhcp.failover.dev', 'dhcpfailoverrelationships', 'dhcp', 'site-a')?.status?.lastSuccessfulSync, synced, 'the last sync stays');

    // Admin actions by annotation, once each: the annotation is removed and an Event says what happened.
    const G = 'dhcp.failover.dev';
    const annotate = (key: string, value: string) => {
      const cur = fake.getObject(G, 'dhcpfailoverrelationships', 'dhcp', 'site-a')!;
      fake.put(G, 'dhcpfailoverrelationships', { ...cur, metadata: { ...cur.metadata, annotations: { ...(cur.metadata.annotations ?? {}), [key]: value } } });
    };
    const annotations = () => fake.getObject(G, 'dhcpfailoverrelationships', 'dhcp', 'site-a')?.metadata.annotations ?? {};
    const events = (reason: string) => [...fake.listObjects('', 'events', 'dhcp'), ...fake.listObjects('events.k8s.io', 'events', 'dhcp')]
      .filter((e) => e.reason === reason).map((e) => String(e.message ?? e.note));
    annotate('dhcp.failover.dev/force-partner-down', 'dhcp-a');
    await until('dhcp-a PARTNER-DOWN on the CR', () => /dhcp-a:partner-down/.test(states()), 20_000).catch(() => assert.fail(`status: ${states()}`));
    await until('annotation removed', () => annotations()['dhcp.failover.dev/force-partner-down'] === undefined, 10_000);
    assert.ok(events('AdminAction').some((m) => /partner-down on dhcp-a/.test(m)), JSON.stringify(events('AdminAction')));
    annotate('dhcp.failover.dev/force-resync', 'no-such-server');
    await until('rejected and removed', () => annotations()['dhcp.failover.dev/force-resync'] === undefined && events('AdminActionRejected').length > 0, 10_000);

    start('dhcp-b');
    await until('NORMAL again', () => states() === 'dhcp-a:normal/normal dhcp-b:normal/normal', 30_000).catch(() => assert.fail(`status: ${states()}`));
    annotate('dhcp.failover.dev/force-resync', 'dhcp-b');
    await until('resync ran once', () => annotations()['dhcp.failover.dev/force-resync'] === undefined && events('AdminAction').some((m) => /resync on dhcp-b/.test(m)), 10_000)
      .catch(() => assert.fail(`events: ${JSON.stringify([...events('AdminAction'), ...events('AdminActionFailed')])}`));
    assert.match(readFileSync(join(dir, 'dhcp-b.log'), 'utf8'), /UPDREQALL|updates.requested/);
    await until('NORMAL after the resync', () => states() === 'dhcp-a:normal/normal dhcp-b:normal/normal', 30_000).catch(() => assert.fail(`status: ${states()}`));
  });
});
