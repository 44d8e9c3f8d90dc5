// Relationship status from the servers' own /status: the pure summary, the heartbeat rule that keeps
// status writes rare, and the controller against the fake API server with two REAL server processes
// (a failover pair on 127.0.0.61/.62): both NORMAL on the CR (Ready), then one killed → the other reports
// COMMUNICATIONS-INTERRUPTED and the dead one `unreachable` (Degraded ServerUnreachable, the guard's
// "waiting for evidence"); force-partner-down by annotation (once, annotation removed, Event), a bad
// target rejected, restarted → RECOVER-WAIT (Progressing Recovering) → NORMAL (Ready), force-resync.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { systemClock } from '../../src/clock.ts';
import { setLogSink } from '../../src/log.ts';
import { computeRelationshipStatus, STATUS_HEARTBEAT_MS } from '../../src/operator/conditions.ts';
import { Controller } from '../../src/operator/controller.ts';
import { reportFromStatus, ServerStatusPoller, type ServerReport } from '../../src/operator/server-status.ts';
import type { RelationshipToken } from '../../src/operator/secret-value.ts';
import { createAdminApp, listen } from '../../src/admin/http.ts';
import { DhcpEngine } from '../../src/dhcp/engine.ts';
import { createServerMetrics } from '../../src/metrics/registry.ts';
import { makeConfig, makeScope } from '../fakes/dhcp-builders.ts';
import { RecordingStore } from '../fakes/recording-store.ts';
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
  it('outstanding updates are unacked + queued; the partner-down guard is passed on; no switchover interval says so', () => {
    const apd = { switchoverSeconds: 60, safePeriodEndsAt: 'E', unansweredClients: 2, clientsNeeded: 1, waitingForEvidence: false };
    const r = reportFromStatus({ failover: { state: 'communications-interrupted', partner: { state: null }, updates: { unacked: 3, queued: 4 }, autoPartnerDown: apd } }, 'T');
    assert.equal(r?.outstandingUpdates, 7);
    assert.equal(r?.automaticPartnerDown, true);
    assert.deepEqual(r?.autoPartnerDown, { waitingForEvidence: false, unansweredClients: 2, clientsNeeded: 1, safePeriodEndsAt: 'E' });
    const manual = reportFromStatus({ failover: { state: 'communications-interrupted', partner: { state: null }, updates: { unacked: 0, queued: 0 }, autoPartnerDown: null } }, 'T');
    assert.equal(manual?.automaticPartnerDown, false);
    assert.equal(manual?.autoPartnerDown, undefined);
    assert.equal(manual?.outstandingUpdates, 0);
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
  const normal = (at: string): Map<string, ServerReport> => new Map([['a', { state: 'normal', partnerState: 'normal', leases: 4, lastContact: at, outstandingUpdates: 0 }], ['b', { state: 'normal', partnerState: 'normal', leases: 4, lastContact: at, outstandingUpdates: 0 }]]);
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

describe('ServerStatusPoller with the admin token', () => {
  const NORMAL = { failover: { state: 'normal', partner: { state: 'normal' } }, scopes: [] };
  /** A /status that, like a server with a token file read from off-host, wants `Bearer <accepted>`. */
  async function tokenServer() {
    const seen: (string | undefined)[] = [];
    const state = { accepted: 'one' };
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization !== `Bearer ${state.accepted}`) { res.statusCode = 401; res.setHeader('www-authenticate', 'Bearer'); res.end('{"error":"missing or wrong bearer token"}'); return; }
      res.end(JSON.stringify(NORMAL));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { seen, state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`, close: () => new Promise<void>((r) => server.close(() => r())) };
  }
  const settle = () => new Promise((r) => setTimeout(r, 50));

  it('sends the token; a 401 is `unauthorized` (not unreachable), logged once per episode', async () => {
    const srv = await tokenServer();
    const lines: Record<string, unknown>[] = [];
    setLogSink((l) => lines.push(JSON.parse(l) as Record<string, unknown>));
    try {
      const clock = new FakeClock(1_700_000_000_000);
      let token: RelationshipToken | undefined = { token: 'one' };
      const changes: string[] = [];
      const poller = new ServerStatusPoller({ clock, intervalMs: 1000, onChange: (k) => changes.push(k), tokenFor: async () => token });
      poller.watch('ns/r', [{ name: 'a', url: srv.url }, { name: 'gone', url: 'http://127.0.0.1:1/status' }]);
      poller.start();
      await settle();
      assert.equal(poller.reports('ns/r').get('a')?.state, 'normal');
      assert.equal(poller.reports('ns/r').get('gone')?.state, 'unreachable');
      assert.deepEqual(srv.seen, ['Bearer one']);
      const contact = poller.reports('ns/r').get('a')?.lastContact;

      srv.state.accepted = 'other';
      for (let i = 0; i < 3; i++) { clock.advance(1000); await settle(); }
      assert.equal(poller.reports('ns/r').get('a')?.state, 'unauthorized');
      assert.equal(poller.reports('ns/r').get('a')?.lastContact, contact, 'the last contact stays');
      assert.equal(poller.reports('ns/r').get('gone')?.state, 'unreachable');
      const unauthorized = () => lines.filter((l) => l.event === 'operator.server_status.unauthorized');
      assert.equal(unauthorized().length, 1, 'one line for the episode');
      assert.equal(unauthorized()[0]!.tokenSent, true);
      assert.deepEqual(changes, ['ns/r', 'ns/r'], 'signalled when it became unauthorized, not again');

      token = undefined; // no token at all: still unauthorized, still one line
      clock.advance(1000); await settle();
      assert.equal(srv.seen.at(-1), undefined, 'no header without a token');
      assert.equal(unauthorized().length, 1);

      token = { token: 'other' };
      clock.advance(1000); await settle();
      assert.equal(poller.reports('ns/r').get('a')?.state, 'normal');
      srv.state.accepted = 'nobody';
      clock.advance(1000); await settle();
      assert.equal(unauthorized().length, 2, 'a new episode, a new line');
      assert.doesNotMatch(JSON.stringify(lines), /Bearer|"other"|"one"/, 'the token is never logged');
      poller.stop();
    } finally {
      setLogSink(() => {});
      await srv.close();
    }
  });

  it('refused with the new token, tries the previous one (a server whose Secret volume is not swapped yet)', async () => {
    const srv = await tokenServer();
    try {
      const clock = new FakeClock(1_700_000_000_000);
      const poller = new ServerStatusPoller({ clock, intervalMs: 1000, onChange: () => {}, tokenFor: async () => ({ token: 'two', previous: 'one' }) });
      poller.watch('ns/r', [{ name: 'a', url: srv.url }]);
      poller.start();
      await settle();
      assert.equal(poller.reports('ns/r').get('a')?.state, 'normal');
      assert.deepEqual(srv.seen, ['Bearer two', 'Bearer one']);
      srv.state.accepted = 'two'; // swapped: the new token alone
      clock.advance(1000); await settle();
      assert.deepEqual(srv.seen.slice(2), ['Bearer two']);
      poller.stop();
    } finally { await srv.close(); }
  });

  it('a token that cannot be read: polled without one, logged once until it can be read again', async () => {
    const srv = await tokenServer();
    const lines: Record<string, unknown>[] = [];
    setLogSink((l) => lines.push(JSON.parse(l) as Record<string, unknown>));
    try {
      const clock = new FakeClock(1_700_000_000_000);
      let fail = true;
      const poller = new ServerStatusPoller({ clock, intervalMs: 1000, onChange: () => {}, tokenFor: async () => { if (fail) throw new Error('secrets is forbidden'); return { token: 'one' }; } });
      poller.watch('ns/r', [{ name: 'a', url: srv.url }]);
      poller.start();
      await settle();
      clock.advance(1000); await settle();
      assert.equal(poller.reports('ns/r').get('a')?.state, 'unauthorized');
      assert.deepEqual(srv.seen, [undefined, undefined]);
      assert.equal(lines.filter((l) => l.event === 'operator.server_status.token_unreadable').length, 1);
      assert.equal(lines.find((l) => l.event === 'operator.server_status.unauthorized')?.tokenSent, false);
      fail = false;
      clock.advance(1000); await settle();
      assert.equal(poller.reports('ns/r').get('a')?.state, 'normal');
      poller.stop();
    } finally {
      setLogSink(() => {});
      await srv.close();
    }
  });
});

/** A non-loopback IPv4 address of this host: an admin endpoint there sees its callers as remote. */
const OFF_HOST = Object.values(networkInterfaces()).flat().find((a) => a !== undefined && !a.internal && a.family === 'IPv4')?.address;

describe('the controller polls /status with the relationship\'s shared secret', { skip: OFF_HOST === undefined ? 'no non-loopback IPv4 address on this host' : false, timeout: 60_000 }, () => {
  it('reads the Secret by GET once per version, sends it to a real admin endpoint off loopback, survives a rotation', async () => {
    const fake = new FakeKubeApiServer({ historyLimit: 500 });
    await fake.start();
    const engine = new DhcpEngine({ config: makeConfig([makeScope()]), store: new RecordingStore(), interfaceAddresses: () => new Map() });
    let serverToken = 'first-secret'; // what the pods' mounted file holds
    const admin = await listen(createAdminApp({
      engine, metrics: createServerMetrics({ defaultMetrics: false }), ready: () => true,
      status: () => ({ server: 'x', scopes: [], failover: { state: 'normal', partner: { state: 'normal' } } }), adminToken: () => serverToken,
    }), OFF_HOST!, 0);
    const port = (admin.address() as AddressInfo).port;
    const kc = new KubeConfig();
    kc.loadFromOptions(fake.kubeConfigOptions());
    const putSecret = (value: string) => fake.put('', 'secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dhcp-failover-secret', namespace: 'dhcp' }, data: { secret: Buffer.from(`${value}\n`).toString('base64') } });
    putSecret('first-secret');
    const rel = load(readFileSync(fileURLToPath(new URL('../../manifests/examples/20-relationship-loadbalance.yaml', import.meta.url)), 'utf8')) as Json;
    fake.put('dhcp.failover.dev', 'dhcpfailoverrelationships', rel);
    const controller = new Controller({
      kc, namespaces: [], renderOptions: DEFAULT_RENDER_OPTIONS, clock: systemClock, identity: 'op', retryBaseMs: 20, retryMaxMs: 200, startupHoldMs: 0,
      serverStatus: { intervalMs: 100, baseUrlFor: () => `http://${OFF_HOST}:${port}` },
    });
    const states = () => ((fake.getObject('dhcp.failover.dev', 'dhcpfailoverrelationships', 'dhcp', 'site-a')?.status?.servers ?? []) as Json[]).map((s) => `${s.name}:${s.state}`).join(' ');
    const secretGets = () => fake.requests.filter((r) => r.verb === 'get' && r.plural === 'secrets').length;
    const until = async (what: string, probe: () => boolean) => {
      const end = Date.now() + 20_000;
      while (Date.now() < end) { if (probe()) return; await new Promise((r) => setTimeout(r, 50)); }
      assert.fail(`timed out waiting for ${what}; status: ${states()}`);
    };
    try {
      await controller.start();
      await until('both normal', () => states() === 'dhcp-a:normal dhcp-b:normal');
      const gets = secretGets();
      await new Promise((r) => setTimeout(r, 500)); // about five more poll rounds
      assert.equal(secretGets(), gets, 'no GET per poll: the value is kept per resourceVersion');

      putSecret('second-secret'); // the operator sees it at once; the pods' files are swapped later
      await until('the new version read', () => secretGets() > gets);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(states(), 'dhcp-a:normal dhcp-b:normal', 'the previous value still reads a server not swapped yet');
      serverToken = 'second-secret';
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(states(), 'dhcp-a:normal dhcp-b:normal');

      serverToken = 'someone-elses';
      await until('both unauthorized', () => states() === 'dhcp-a:unauthorized dhcp-b:unauthorized');
    } finally {
      await controller.stop();
      await new Promise<void>((r) => admin.close(() => r()));
      await fake.stop();
    }
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
  stateSwitchoverSeconds: 1
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
    // No StatefulSet controller here: play it, both pods ready. Ready needs that AND both NORMAL.
    const cond = (type: string): Json | undefined => (fake.getObject('dhcp.failover.dev', 'dhcpfailoverrelationships', 'dhcp', 'site-a')?.status?.conditions as Json[] | undefined)?.find((c) => c.type === type);
    const conds = () => ['Ready', 'Progressing', 'Degraded'].map((t) => `${t}=${cond(t)?.status}/${cond(t)?.reason}`).join(' ');
    assert.equal(cond('Ready')?.status, 'False', 'NORMAL alone is not Ready while the pods are not');
    for (const n of ['site-a-dhcp-a', 'site-a-dhcp-b']) {
      await until(`StatefulSet ${n}`, () => fake.getObject('apps', 'statefulsets', 'dhcp', n) !== undefined, 10_000);
      fake.setStatus('apps', 'statefulsets', 'dhcp', n, { replicas: 1, readyReplicas: 1, observedGeneration: fake.getObject('apps', 'statefulsets', 'dhcp', n)!.metadata.generation });
    }
    await until('Ready', () => conds() === 'Ready=True/ServersReady Progressing=False/UpToDate Degraded=False/AsExpected', 10_000).catch(() => assert.fail(conds()));
    const synced = fake.getObject('dhcp.failover.dev', 'dhcpfailoverrelationships', 'dhcp', 'site-a')?.status?.lastSuccessfulSync;
    assert.match(String(synced), /^\d{4}-\d\d-\d\dT/);
    assert.ok(servers().every((s) => typeof s.leases === 'number' && typeof s.lastContact === 'string'));

    procs.get('dhcp-b')!.kill('SIGKILL');
    await until('b unreachable, a COMM-INT', () => /dhcp-a:communications-interrupted\/- dhcp-b:unreachable/.test(states()), 20_000).catch(() => assert.fail(`status: ${states()}`));
    // The pod still looks ready (no kubelet here), its /status does not answer: the worst problem is that.
    // No DHCP client asks, so the 1 s safe period passes without evidence and dhcp-a stays COMM-INT.
    await until('Degraded ServerUnreachable, waiting for evidence', () => cond('Degraded')?.reason === 'ServerUnreachable' && /waiting for evidence/.test(cond('Degraded')?.message ?? ''), 20_000)
      .catch(() => assert.fail(`${conds()}: ${cond('Degraded')?.message}`));
    assert.match(cond('Degraded')!.message, /dhcp-a: communications-interrupted \(dhcp-b not connected\); automatic partner-down waiting for evidence: 0 unanswered partner clients \(needs 1\)/);
    assert.match(cond('Degraded')!.message, /dhcp-b: \/status unreachable \(last contact /);
    assert.equal(cond('Degraded')!.status, 'True');
    assert.deepEqual([cond('Ready')?.status, cond('Ready')?.reason], ['False', 'ServerUnreachable']);
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
    // dhcp-b lost its (memory) store and its partner is PARTNER-DOWN: it recovers and waits out the MCLT (10 s).
    await until('Progressing Recovering', () => cond('Progressing')?.reason === 'Recovering' && cond('Degraded')?.reason === 'PartnerDown', 30_000)
      .catch(() => assert.fail(`${conds()}; ${states()}`));
    assert.match(cond('Progressing')!.message, /dhcp-b: recover/);
    assert.equal(cond('Ready')?.status, 'False');
    await until('NORMAL again', () => states() === 'dhcp-a:normal/normal dhcp-b:normal/normal', 30_000).catch(() => assert.fail(`status: ${states()}`));
    await until('Ready again', () => conds() === 'Ready=True/ServersReady Progressing=False/UpToDate Degraded=False/AsExpected', 10_000).catch(() => assert.fail(conds()));
    const resynced = fake.getObject('dhcp.failover.dev', 'dhcpfailoverrelationships', 'dhcp', 'site-a')?.status?.lastSuccessfulSync;
    assert.ok(Date.parse(resynced) > Date.parse(synced), `lastSuccessfulSync moved on: ${synced} → ${resynced}`);
    annotate('dhcp.failover.dev/force-resync', 'dhcp-b');
    await until('resync ran once', () => annotations()['dhcp.failover.dev/force-resync'] === undefined && events('AdminAction').some((m) => /resync on dhcp-b/.test(m)), 10_000)
      .catch(() => assert.fail(`events: ${JSON.stringify([...events('AdminAction'), ...events('AdminActionFailed')])}`));
    assert.match(readFileSync(join(dir, 'dhcp-b.log'), 'utf8'), /UPDREQALL|updates.requested/);
    await until('NORMAL after the resync', () => states() === 'dhcp-a:normal/normal dhcp-b:normal/normal', 30_000).catch(() => assert.fail(`status: ${states()}`));
  });
});
