import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createAdminApp, decideAction, decideRead, isLoopback, listen, REFUSAL_LOG_INTERVAL_MS, tokenMatches, type AccessDecision, type Caller, type TokenState } from '../../src/admin/http.ts';
import { DhcpEngine } from '../../src/dhcp/engine.ts';
import { MessageType } from '../../src/dhcp/wire/message.ts';
import { createServerMetrics } from '../../src/metrics/registry.ts';
import { ip, makeConfig, makeRequest, makeScope } from '../fakes/dhcp-builders.ts';
import { setLogSink } from '../../src/log.ts';
import { FakeClock } from '../fakes/fake-clock.ts';
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
  // A server in one relationship, `a` (a test below adds `b`: then a request must name one).
  const relationships = ['a'];
  const actions = async (action: string, relationship: string | undefined): Promise<{ status: unknown } | { error: string }> => {
    const rel = relationship ?? (relationships.length === 1 ? relationships[0] : undefined);
    if (rel === undefined || !relationships.includes(rel)) return { error: `name one of ${relationships.join(', ')} with ?relationship=` };
    calls.push(relationships.length === 1 ? action : `${action}:${rel}`);
    return { status: { state: 'partner-down' } };
  };

  before(async () => {
    server = await listen(createAdminApp({ engine, metrics, ready: () => true, status: () => ({ failover: { state: 'partner-down' } }), actions, adminToken: () => token }), '127.0.0.1', 0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('runs an action from loopback when no token is configured', async () => {
    const res = await fetch(`${base}/failover/partner-down`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { action: 'partner-down', done: true, status: { state: 'partner-down' } });
    assert.deepEqual(calls, ['partner-down']);
  });

  it('requires the bearer token when one is configured, from loopback too (401 + WWW-Authenticate)', async () => {
    token = 'let-me-in';
    const bare = await fetch(`${base}/failover/resync`, { method: 'POST' });
    assert.equal(bare.status, 401);
    assert.match(bare.headers.get('www-authenticate') ?? '', /^Bearer\b/);
    assert.equal((await fetch(`${base}/failover/resync`, { method: 'POST', headers: { authorization: 'Bearer wrong-one' } })).status, 401);
    assert.deepEqual(calls, ['partner-down'], 'nothing ran without the token');
    assert.equal((await fetch(`${base}/failover/resync`, { method: 'POST', headers: { authorization: 'Bearer let-me-in' } })).status, 200);
    assert.deepEqual(calls, ['partner-down', 'resync']);
    token = undefined;
  });

  it('an empty or unreadable token file refuses the actions (503), never accepts anyone', async () => {
    token = '';
    assert.equal((await fetch(`${base}/failover/resync`, { method: 'POST', headers: { authorization: 'Bearer ' } })).status, 503);
    assert.equal((await fetch(`${base}/failover/resync`, { method: 'POST' })).status, 503);
    token = undefined;
    assert.deepEqual(calls, ['partner-down', 'resync']);
  });

  it('a server in several relationships runs an action on the one named by ?relationship=, and refuses (400) a request that names none or an unknown one', async () => {
    relationships.push('b');
    try {
      const res = await fetch(`${base}/failover/resync?relationship=b`, { method: 'POST' });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { action: 'resync', done: true, relationship: 'b', status: { state: 'partner-down' } });
      const unnamed = await fetch(`${base}/failover/resync`, { method: 'POST' });
      assert.equal(unnamed.status, 400);
      assert.match(((await unnamed.json()) as { error: string }).error, /relationship=/);
      assert.equal((await fetch(`${base}/failover/resync?relationship=c`, { method: 'POST' })).status, 400);
      assert.deepEqual(calls.slice(-1), ['resync:b'], 'only the named relationship ran');
    } finally {
      relationships.pop();
      calls.pop();
    }
  });

  it('answers unknown actions with 404 and a list of the known ones', async () => {
    const res = await fetch(`${base}/failover/reboot`, { method: 'POST' });
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: string }).error, /partner-down, resync/);
    assert.equal((await fetch(`${base}/failover/constructor`, { method: 'POST' })).status, 404, 'not an action: an Object.prototype name');
  });

  it('tells loopback from remote callers', () => {
    assert.deepEqual(['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.0.0.5', '::ffff:10.0.0.5', undefined].map((a) => isLoopback(a)), [true, true, true, false, false, false]);
  });
});

describe('who may read what (pure rules)', () => {
  const local: Caller = { remoteAddress: '127.0.0.1', authorization: undefined };
  const remote = (authorization?: string): Caller => ({ remoteAddress: '10.1.2.3', authorization });
  const set: TokenState = { kind: 'set', value: 's3cret' };
  const none: TokenState = { kind: 'none' };
  const unavailable: TokenState = { kind: 'unavailable' };
  const cases: { name: string; rule: (c: Caller, t: TokenState) => AccessDecision; caller: Caller; token: TokenState; expected: string }[] = [
    { name: 'read, loopback, token set', rule: decideRead, caller: local, token: set, expected: 'ok' },
    { name: 'read, ::ffff:127.0.0.1, token set', rule: decideRead, caller: { remoteAddress: '::ffff:127.0.0.1', authorization: undefined }, token: set, expected: 'ok' },
    { name: 'read, loopback, token file unreadable', rule: decideRead, caller: local, token: unavailable, expected: 'ok' },
    { name: 'read, remote, no token configured (lab)', rule: decideRead, caller: remote(), token: none, expected: 'ok' },
    { name: 'read, remote, no header', rule: decideRead, caller: remote(), token: set, expected: '401 missing_token' },
    { name: 'read, remote, other scheme', rule: decideRead, caller: remote('Basic czNjcmV0'), token: set, expected: '401 missing_token' },
    { name: 'read, remote, empty bearer', rule: decideRead, caller: remote('Bearer '), token: set, expected: '401 missing_token' },
    { name: 'read, remote, wrong token', rule: decideRead, caller: remote('Bearer s3cret2'), token: set, expected: '401 wrong_token' },
    { name: 'read, remote, prefix of the token', rule: decideRead, caller: remote('Bearer s3cre'), token: set, expected: '401 wrong_token' },
    { name: 'read, remote, right token', rule: decideRead, caller: remote('Bearer s3cret'), token: set, expected: 'ok' },
    { name: 'read, remote, right token, lower-case scheme', rule: decideRead, caller: remote('bearer  s3cret '), token: set, expected: 'ok' },
    { name: 'read, remote, token file unreadable', rule: decideRead, caller: remote('Bearer s3cret'), token: unavailable, expected: '503 token_unavailable' },
    { name: 'read, unknown address', rule: decideRead, caller: { remoteAddress: undefined, authorization: undefined }, token: set, expected: '401 missing_token' },
    { name: 'action, loopback, no token configured', rule: decideAction, caller: local, token: none, expected: 'ok' },
    { name: 'action, remote, no token configured', rule: decideAction, caller: remote('Bearer s3cret'), token: none, expected: '403 not_loopback' },
    { name: 'action, loopback, token set, none sent', rule: decideAction, caller: local, token: set, expected: '401 missing_token' },
    { name: 'action, loopback, token set and sent', rule: decideAction, caller: { ...local, authorization: 'Bearer s3cret' }, token: set, expected: 'ok' },
    { name: 'action, remote, right token', rule: decideAction, caller: remote('Bearer s3cret'), token: set, expected: 'ok' },
    { name: 'action, loopback, token file unreadable', rule: decideAction, caller: local, token: unavailable, expected: '503 token_unavailable' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = c.rule(c.caller, c.token);
      assert.equal(d.ok ? 'ok' : `${d.status} ${d.reason}`, c.expected);
    });
  }
  it('compares tokens whatever their lengths', () => {
    assert.equal(tokenMatches('abc', 'abc'), true);
    assert.equal(tokenMatches('abc', 'abcd'), false);
    assert.equal(tokenMatches('', 'abc'), false);
    assert.equal(tokenMatches('ab\u00e9', 'ab\u00e9'), true);
  });
});

/** A non-loopback IPv4 address of this host: requests to it come from it, so the server sees a remote caller. */
const OFF_HOST = Object.values(networkInterfaces()).flat().find((a) => a !== undefined && !a.internal && a.family === 'IPv4')?.address;

describe('/status and /leases over real sockets: loopback and a non-loopback address', { skip: OFF_HOST === undefined ? 'this host has no non-loopback IPv4 address (the pure rules above still run)' : false }, () => {
  const engine = new DhcpEngine({ config: makeConfig([makeScope()]), store: new RecordingStore(), interfaceAddresses: () => new Map([['eth0', ['10.0.0.2']]]) });
  const metrics = createServerMetrics({ defaultMetrics: false });
  const clock = new FakeClock();
  const logs: Record<string, unknown>[] = [];
  let token: string | undefined | (() => never);
  const servers: Server[] = [];
  let local = '', remote = '';

  before(async () => {
    setLogSink((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    await engine.handle(makeRequest({ type: MessageType.REQUEST, mac: '02:00:00:00:00:bb', serverId: ip('10.0.0.2'), requested: ip('10.0.0.20') }));
    const app = createAdminApp({
      engine, metrics, clock, ready: () => true, status: () => ({ server: 'test', scopes: [] }),
      adminToken: () => (typeof token === 'function' ? token() : token),
    });
    for (const address of ['127.0.0.1', OFF_HOST!]) servers.push(await listen(app, address, 0));
    local = `http://127.0.0.1:${(servers[0]!.address() as AddressInfo).port}`;
    remote = `http://${OFF_HOST}:${(servers[1]!.address() as AddressInfo).port}`;
  });
  after(async () => {
    setLogSink((line) => process.stderr.write(line + '\n'));
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  });

  const get = (base: string, path: string, auth?: string) => fetch(`${base}${path}`, auth === undefined ? {} : { headers: { authorization: auth } });
  const refused = async (path: string, reason: string) => {
    const m = (await metrics.registry.getSingleMetric('dhcp_admin_requests_refused_total')!.get()).values.find((v) => v.labels.path === path && v.labels.reason === reason);
    return m?.value ?? 0;
  };

  it('with a token configured: loopback reads without it; a remote caller gets 401 without it or with a wrong one, 200 with it', async () => {
    token = 'right-token';
    assert.equal((await get(local, '/status')).status, 200);
    assert.equal((await get(local, '/leases?ip=10.0.0.20')).status, 200);
    for (const path of ['/status', '/leases', '/leases?ip=10.0.0.20', '/Status', '/leases/']) {
      const res = await get(remote, path);
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="dhcp-failover"$/);
      const body = await res.json() as { error: string };
      assert.match(body.error, /missing bearer token/);
      assert.doesNotMatch(JSON.stringify(body), /02:00:00:00:00:bb|10\.0\.0\.20/, 'no lease data in a refusal');
    }
    const wrong = await get(remote, '/leases', 'Bearer wrong-token');
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const ok = await get(remote, '/leases?ip=10.0.0.20', 'Bearer right-token');
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { hwAddress: string }).hwAddress, '02:00:00:00:00:bb');
    assert.equal((await get(remote, '/status', 'Bearer right-token')).status, 200);
    assert.equal(await refused('/status', 'missing_token'), 2, '/status and /Status');
    assert.equal(await refused('/leases', 'missing_token'), 3);
    assert.equal(await refused('/leases', 'wrong_token'), 1);
  });

  it('/healthz, /readyz and /metrics answer anyone', async () => {
    token = 'right-token';
    for (const path of ['/healthz', '/readyz', '/metrics']) assert.equal((await get(remote, path)).status, 200, path);
    assert.match(await (await get(remote, '/metrics')).text(), /dhcp_admin_requests_refused_total\{path="\/leases",reason="wrong_token"\} 1/);
  });

  it('without a token configured (a lab server) everything reads from anywhere', async () => {
    token = undefined;
    assert.equal((await get(remote, '/status')).status, 200);
    assert.equal((await get(remote, '/leases')).status, 200);
  });

  it('an unreadable token file: remote reads refused with 503, loopback still reads', async () => {
    token = () => { throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }); };
    assert.equal((await get(remote, '/status', 'Bearer right-token')).status, 503);
    assert.equal((await get(local, '/status')).status, 200);
    token = '';
    assert.equal((await get(remote, '/status')).status, 503, 'an empty token file is no token anyone can send');
  });

  it('logs refusals once a minute per path, and counts every one', async () => {
    token = 'right-token';
    clock.advance(REFUSAL_LOG_INTERVAL_MS);
    logs.length = 0;
    const before = await refused('/status', 'missing_token');
    for (let i = 0; i < 5; i++) await get(remote, '/status');
    await get(remote, '/leases');
    const lines = () => logs.filter((l) => l.event === 'admin.request.refused');
    assert.deepEqual(lines().map((l) => [l.path, l.reason]), [['/status', 'missing_token'], ['/leases', 'missing_token']]);
    assert.equal(await refused('/status', 'missing_token'), before + 5);
    clock.advance(REFUSAL_LOG_INTERVAL_MS);
    await get(remote, '/status', 'Bearer nope');
    assert.equal(lines().length, 3);
    assert.equal(lines()[2]!.refusedSinceLastLog, 4);
    assert.doesNotMatch(JSON.stringify(logs), /right-token|nope/, 'no token in the log');
  });
});
