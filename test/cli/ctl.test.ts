import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CtlError, formatStatus, runCtl, type CtlOptions } from '../../src/cli/ctl-command.ts';

const STATUS = {
  server: 'dhcp-a', scopes: [{ scope: 'office', poolSize: 200, byState: { active: 50, expired: 3 } }],
  failover: {
    relationship: 'hq', role: 'primary', mode: { kind: 'hot-standby', reservePercent: 5 }, state: 'communications-interrupted',
    stateSince: '2026-11-22T10:00:00.000Z', secondsInState: 3725, partner: { state: 'normal' },
    connection: { up: false, clockSkewSeconds: null }, updates: { unacked: 4, queued: 10 }, mcltSeconds: 3600,
    autoPartnerDown: { switchoverSeconds: 600, safePeriodEndsAt: '2026-11-22T10:10:00.000Z', unansweredClients: 0, clientsNeeded: 1, waitingForEvidence: true },
  },
};

describe('dhcp-failover ctl', () => {
  const requests: { method?: string; url?: string; auth?: string }[] = [];
  let server: http.Server, base: string;
  before(async () => {
    server = http.createServer((req, res) => {
      requests.push({ method: req.method, url: req.url, auth: req.headers.authorization });
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization === 'Bearer refused-token') { res.statusCode = 401; res.setHeader('www-authenticate', 'Bearer'); res.end(JSON.stringify({ error: 'wrong bearer token' })); }
      else if (req.url === '/status') res.end(JSON.stringify(STATUS));
      else if (req.url === '/leases?ip=10.0.0.7') res.end(JSON.stringify({ ip: '10.0.0.7', state: 'active', hwAddress: 'aa:bb:cc:dd:ee:ff' }));
      else if (req.url?.startsWith('/failover/')) { res.statusCode = 403; res.end(JSON.stringify({ error: 'missing or wrong bearer token' })); }
      else { res.statusCode = 404; res.end(JSON.stringify({ error: 'no lease for 10.0.0.8' })); }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const run = async (command: string, args: string[] = [], json = false, token: Pick<CtlOptions, 'tokenFile' | 'env'> = { env: {} }) => {
    let out = '';
    const code = await runCtl({ server: base, json, command, args, out: (t) => { out += t; }, ...token });
    return { code, out };
  };

  it('prints the relationship as the Windows console shows it', () => {
    const text = formatStatus(STATUS, 'http://x:8067');
    assert.match(text, /Mode\s+Hot standby \(reserve 5% on the standby\)/);
    assert.match(text, /State of server\s+COMMUNICATIONS INTERRUPTED for 1h 2m/);
    assert.match(text, /State of partner\s+UNKNOWN \(not connected\)/);
    assert.match(text, /MCLT\s+1h 0m/);
    assert.match(text, /office\s+200\s+50\s+3\s+0\s+0\s+25\.0%/);
  });

  it('a server in several relationships: one block per relationship, in the order the server lists them', () => {
    const branch = { ...STATUS.failover, relationship: 'branch2', role: 'secondary', state: 'normal' };
    const text = formatStatus({ ...STATUS, failover: undefined, relationships: [STATUS.failover, branch] } as Parameters<typeof formatStatus>[0], 'http://x:8067');
    const blocks = [...text.matchAll(/^Relationship\s+(\S+) \(this server is (\w+)\)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(blocks, ['hq primary', 'branch2 secondary']);
    assert.match(text, /State of server\s+NORMAL/);
    assert.doesNotMatch(text, /standalone/);
  });

  it('shows the split in force (load balance) and settings waiting for a restart', () => {
    const lb = { ...STATUS, restartRequiredFor: ['failover.partner'], failover: { ...STATUS.failover, mode: { kind: 'load-balance', splitPercent: 50 }, loadBalance: { primaryPercent: 80 } } };
    const text = formatStatus(lb, 'http://x:8067');
    assert.match(text, /Split in force\s+80% primary \/ 20% secondary/);
    assert.match(text, /Restart required\s+failover\.partner changed/);
    assert.doesNotMatch(formatStatus(STATUS, 'http://x:8067'), /Split in force|Restart required/);
  });

  it('says what COMMUNICATIONS-INTERRUPTED leads to, in the words of the operator\'s Degraded condition', () => {
    const withApd = (state: string, autoPartnerDown: unknown) => formatStatus({ ...STATUS, failover: { ...STATUS.failover, state, autoPartnerDown } } as Parameters<typeof formatStatus>[0], 'http://x:8067');
    assert.match(formatStatus(STATUS, 'http://x:8067'), /^Partner-down\s+automatic partner-down waiting for evidence: 0 unanswered partner clients \(needs 1\)$/m);
    assert.match(withApd('communications-interrupted', { ...STATUS.failover.autoPartnerDown, waitingForEvidence: false }),
      /^Partner-down\s+automatic partner-down possible after 2026-11-22T10:10:00\.000Z once 1 partner client goes unanswered \(0 so far\)$/m);
    assert.match(withApd('communications-interrupted', null), /^Partner-down\s+partner-down only by an administrator \(no stateSwitchoverSeconds\)$/m);
    // Not reported (an older server), or another state: no line.
    assert.doesNotMatch(withApd('communications-interrupted', undefined), /Partner-down/);
    assert.doesNotMatch(withApd('normal', { ...STATUS.failover.autoPartnerDown, safePeriodEndsAt: null, waitingForEvidence: false }), /Partner-down/);
    assert.doesNotMatch(withApd('partner-down', null), /^Partner-down/m);
  });

  it('shows a pool ownership handover and a secret rotation only while they are in progress', () => {
    const withF = (extra: object) => formatStatus({ ...STATUS, failover: { ...STATUS.failover, ...extra } } as Parameters<typeof formatStatus>[0], 'http://x:8067');
    assert.match(withF({ poolOwnership: { scheme: 'abcdef0123456789', held: ['0011'], settled: false } }), /^Pool ownership\s+handing over: 1 earlier layout\(s\) still honoured until the partner confirms this one \(abcdef01\)$/m);
    assert.doesNotMatch(withF({ poolOwnership: { scheme: 'abcdef0123456789', held: [], settled: true } }), /Pool ownership/);
    assert.match(withF({ secret: { link: 'previous', previousAcceptedUntil: '2026-12-04T01:00:00.000Z' } }), /^Shared secret\s+rotation in progress: link on the previous secret; previous accepted until 2026-12-04T01:00:00\.000Z$/m);
    assert.doesNotMatch(withF({ secret: { link: 'current', previousAcceptedUntil: null } }), /Shared secret/);
  });

  it('reads status and leases from the admin API', async () => {
    const status = (await run('status')).out;
    assert.match(status, /Relationship\s+hq \(this server is primary\)/);
    assert.match(status, /Partner-down\s+automatic partner-down waiting for evidence: 0 unanswered partner clients/);
    assert.deepEqual(JSON.parse((await run('status', [], true)).out), STATUS);
    assert.match((await run('lease', ['10.0.0.7'])).out, /hwAddress\s+aa:bb:cc:dd:ee:ff/);
  });

  it('turns API errors and bad arguments into clear messages', async () => {
    await assert.rejects(run('lease', ['10.0.0.8']), (e: unknown) => e instanceof CtlError && /404 no lease for 10\.0\.0\.8/.test(e.message));
    await assert.rejects(run('lease', ['not-an-address']), CtlError);
    await assert.rejects(run('partner-down'), (e: unknown) => e instanceof CtlError && /403 missing or wrong bearer token/.test(e.message));
    assert.equal(requests.at(-1)?.method, 'POST');
    await assert.rejects(run('reboot'), CtlError);
    await assert.rejects(runCtl({ server: 'http://127.0.0.1:1', json: false, command: 'status', args: [], out: () => {} }), (e: unknown) => e instanceof CtlError && /cannot reach/.test(e.message));
  });

  describe('the bearer token', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-token-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, text: string) => { const f = join(dir, name); writeFileSync(f, text); return f; };
    const authOfLast = (n: number) => requests.slice(-n).map((r) => `${r.url} ${r.auth ?? '-'}`);

    it('comes from DHCP_FAILOVER_TOKEN for status and lease, not only for the actions', async () => {
      await run('status', [], false, { env: { DHCP_FAILOVER_TOKEN: ' from-env\n' } });
      await run('lease', ['10.0.0.7'], false, { env: { DHCP_FAILOVER_TOKEN: 'from-env' } });
      await assert.rejects(run('resync', [], false, { env: { DHCP_FAILOVER_TOKEN: 'from-env' } }), CtlError);
      assert.deepEqual(authOfLast(3), ['/status Bearer from-env', '/leases?ip=10.0.0.7 Bearer from-env', '/failover/resync Bearer from-env']);
    });

    it('--token-file wins over the environment; without either no header is sent', async () => {
      await run('status', [], false, { tokenFile: file('tok', 'from-file\n'), env: { DHCP_FAILOVER_TOKEN: 'from-env' } });
      await run('status', [], false, { env: { DHCP_FAILOVER_TOKEN: '' } });
      assert.deepEqual(authOfLast(2), ['/status Bearer from-file', '/status -']);
    });

    it('an unreadable or empty token file, and a 401, are clear errors', async () => {
      const n = requests.length;
      await assert.rejects(run('status', [], false, { tokenFile: join(dir, 'missing') }), (e: unknown) => e instanceof CtlError && /cannot read --token-file .*missing/.test(e.message));
      await assert.rejects(run('status', [], false, { tokenFile: file('empty', ' \n') }), (e: unknown) => e instanceof CtlError && /is empty/.test(e.message));
      assert.equal(requests.length, n, 'nothing sent without the token asked for');
      await assert.rejects(run('lease', ['10.0.0.7'], false, { env: { DHCP_FAILOVER_TOKEN: 'refused-token' } }),
        (e: unknown) => e instanceof CtlError && /401 wrong bearer token \(the token from DHCP_FAILOVER_TOKEN is not the server's admin\.tokenFile\)/.test(e.message));
    });
  });
});
