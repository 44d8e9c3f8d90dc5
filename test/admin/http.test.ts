import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminApp, isLoopback, listen } from '../../src/admin/http.ts';
import { DhcpEngine } from '../../src/dhcp/engine.ts';
import { MessageType } from '../../src/dhcp/message.ts';
import { createServerMetrics } from '../../src/metrics/registry.ts';
import { ip, makeConfig, makeRequest, makeScope } from '../fakes/dhcp-builders.ts';
import { RecordingStore } from '../fakes/recording-store.ts';

describe('admin HTTP endpoint', () => {
  let server: Server, base: string, ready = false;
  const engine = new DhcpEngine({ config: makeConfig([makeScope()]), store: new RecordingStore(), interfaceAddresses: () => new Map([['eth0', ['10.0.0.2']]]) });
  const metrics = createServerMetrics({ defaultMetrics: false, collectLeases: (m) => {
    for (const c of engine.counts()) for (const [state, n] of Object.entries(c.byState)) m.leases.set({ scope: c.scope, state }, n);
  } });

  before(async () => {
    await engine.handle(makeRequest({ type: MessageType.REQUEST, mac: '02:00:00:00:00:aa', serverId: ip('10.0.0.2'), requested: ip('10.0.0.15') }));
    server = await listen(createAdminApp({ engine, metrics, ready: () => ready, status: () => ({ server: 'test' }) }), '127.0.0.1', 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('answers health always and readiness only when ready', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 503);
    ready = true;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
  });

  it('exports lease gauges at scrape time', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /dhcp_leases\{scope="lab",state="active"\} 1/);
  });

  it('looks leases up by address and by MAC, with clear errors', async () => {
    const byIp = await (await fetch(`${base}/leases?ip=10.0.0.15`)).json() as Record<string, unknown>;
    assert.equal(byIp.hwAddress, '02:00:00:00:00:aa');
    assert.equal(byIp.state, 'active');
    const byMac = await (await fetch(`${base}/leases?mac=02-00-00-00-00-AA`)).json() as { leases: { ip: string }[] };
    assert.deepEqual(byMac.leases.map((l) => l.ip), ['10.0.0.15']);
    assert.equal((await fetch(`${base}/leases?ip=10.0.0.16`)).status, 404);
    assert.equal((await fetch(`${base}/leases?ip=nonsense`)).status, 400);
  });
});

describe('admin actions (POST /failover/…)', () => {
  const engine = new DhcpEngine({ config: makeConfig([makeScope()]), store: new RecordingStore(), interfaceAddresses: () => new Map() });
  const metrics = createServerMetrics({ defaultMetrics: false });
  const calls: string[] = [];
  let token: string | undefined;
  let server: Server, base: string;
  const actions = {
    'partner-down': async () => { calls.push('partner-down'); },
    resync: async () => { calls.push('resync'); },
  };

  before(async () => {
    server = await listen(createAdminApp({ engine, metrics, ready: () => true, status: () => ({ failover: { state: 'partner-down' } }), actions, actionToken: () => token }), '127.0.0.1', 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('runs an action from loopback when no token is configured', async () => {
    const res = await fetch(`${base}/failover/partner-down`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { action: 'partner-down', done: true, status: { state: 'partner-down' } });
    assert.deepEqual(calls, ['partner-down']);
  });

  it('requires the bearer token when one is configured', async () => {
    token = 'let-me-in';
    assert.equal((await fetch(`${base}/failover/resync`, { method: 'POST' })).status, 403);
    assert.equal((await fetch(`${base}/failover/resync`, { method: 'POST', headers: { authorization: 'Bearer wrong-one' } })).status, 403);
    assert.equal((await fetch(`${base}/failover/resync`, { method: 'POST', headers: { authorization: 'Bearer let-me-in' } })).status, 200);
    assert.deepEqual(calls, ['partner-down', 'resync']);
    token = undefined;
  });

  it('answers unknown actions with 404 and a list of the known ones', async () => {
    const res = await fetch(`${base}/failover/reboot`, { method: 'POST' });
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: string }).error, /partner-down, resync/);
  });

  it('tells loopback from remote callers', () => {
    assert.deepEqual(['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.0.0.5', '::ffff:10.0.0.5', undefined].map((a) => isLoopback(a)), [true, true, true, false, false, false]);
  });
});
